#include "../../src/core/profile/sg_profile.h"
#include "sg_test.h"

#include <stdio.h>

static uint32_t S(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static uint32_t loc_of(sg_profile *p, const char *name, const char *file, int first, int line)
{
    uint32_t f = sg_profile_function(p, S(p, name), S(p, file), first);
    return sg_profile_location(p, f, line);
}

/* Builds a stack from frames given root first as "name@file:first:line". */
static uint32_t stack_of(sg_profile *p, int n, const char *const *frames)
{
    uint32_t node = SG_ROOT;
    for (int i = 0; i < n; i++) {
        char name[64], file[128];
        int first, line;
        if (sscanf(frames[i], "%63[^@]@%127[^:]:%d:%d", name, file, &first, &line) != 4)
            return SG_NONE;
        node = sg_profile_child(p, node, loc_of(p, name, file, first, line));
    }
    return node;
}

static void add1(sg_profile *p, uint32_t track, uint32_t node, uint32_t flags, int64_t v)
{
    int64_t vals[SG_MAX_VALUES] = {v};
    SG_CHECK_EQ_INT(sg_profile_add(p, track, node, flags, vals), 0);
}

static void test_strings(void)
{
    sg_profile *p = sg_profile_new();
    SG_CHECK(p != NULL);
    SG_CHECK_EQ_INT(sg_profile_intern(p, "", 0), 0);
    SG_CHECK_EQ_STR(sg_profile_str(p, 0), "");
    uint32_t a = S(p, "alpha"), b = S(p, "beta");
    SG_CHECK(a != b);
    SG_CHECK_EQ_INT(S(p, "alpha"), a);
    SG_CHECK_EQ_INT(sg_profile_intern(p, "alphabet", 5), a);
    SG_CHECK_EQ_STR(sg_profile_str(p, b), "beta");
    SG_CHECK_EQ_INT(sg_profile_str_len(p, b), 4);
    SG_CHECK_EQ_STR(sg_profile_str(p, 999999), "");
    /* embedded NUL: distinct from the prefix */
    uint32_t z = sg_profile_intern(p, "a\0b", 3);
    SG_CHECK(z != S(p, "a"));
    SG_CHECK_EQ_INT(sg_profile_str_len(p, z), 3);
    /* many strings: ids dense, stable, pointers stable */
    const char *first = sg_profile_str(p, a);
    size_t before = sg_profile_nstrings(p);
    char buf[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(buf, sizeof buf, "s%d", i);
        SG_CHECK_EQ_INT(S(p, buf), before + (size_t)i);
    }
    for (int i = 0; i < 20000; i += 997) {
        snprintf(buf, sizeof buf, "s%d", i);
        SG_CHECK_EQ_STR(sg_profile_str(p, (uint32_t)(before + (size_t)i)), buf);
    }
    SG_CHECK(first == sg_profile_str(p, a));
    /* a big string */
    static char big[100000];
    memset(big, 'q', sizeof big - 1);
    uint32_t bid = S(p, big);
    SG_CHECK_EQ_INT(sg_profile_str_len(p, bid), sizeof big - 1);
    SG_CHECK_EQ_INT(S(p, big), bid);
    SG_CHECK(!sg_profile_oom(p));
    sg_profile_free(p);
    sg_profile_free(NULL);
}

static void test_dedup(void)
{
    sg_profile *p = sg_profile_new();
    uint32_t f1 = sg_profile_function(p, S(p, "f"), S(p, "a.py"), 1);
    uint32_t f2 = sg_profile_function(p, S(p, "f"), S(p, "a.py"), 2);
    uint32_t f3 = sg_profile_function(p, S(p, "f"), S(p, "b.py"), 1);
    SG_CHECK(f1 != f2 && f1 != f3 && f2 != f3);
    SG_CHECK_EQ_INT(sg_profile_function(p, S(p, "f"), S(p, "a.py"), 1), f1);
    SG_CHECK_EQ_INT(sg_profile_function(p, 12345, 0, 1), SG_NONE);
    uint32_t l1 = sg_profile_location(p, f1, 10), l2 = sg_profile_location(p, f1, 11);
    SG_CHECK(l1 != l2);
    SG_CHECK_EQ_INT(sg_profile_location(p, f1, 10), l1);
    SG_CHECK_EQ_INT(sg_profile_location(p, f2, 10), l2 + 1);
    SG_CHECK_EQ_INT(sg_profile_location(p, 999, 10), SG_NONE);
    SG_CHECK_EQ_INT(sg_profile_nlocations(p), 3);
    uint32_t pr = sg_profile_process(p, 42), pr2 = sg_profile_process(p, 43);
    SG_CHECK(pr != pr2);
    SG_CHECK_EQ_INT(sg_profile_process(p, 42), pr);
    SG_CHECK_EQ_INT(sg_profile_processes(p)[pr].pid, 42);
    uint32_t t1 = sg_profile_track(p, pr, 7), t2 = sg_profile_track(p, pr2, 7);
    SG_CHECK(t1 != t2);
    SG_CHECK_EQ_INT(sg_profile_track(p, pr, 7), t1);
    SG_CHECK_EQ_INT(sg_profile_track(p, 99, 7), SG_NONE);
    SG_CHECK_EQ_INT(sg_profile_tracks_c(p)[t2].process, pr2);
    SG_CHECK_EQ_INT(sg_profile_ntracks(p), 2);
    sg_profile_free(p);
}

static void test_attrs_meta(void)
{
    sg_profile *p = sg_profile_new();
    const sg_profile_meta *m = sg_profile_meta_get(p);
    SG_CHECK_EQ_INT(m->n_values, 1);
    SG_CHECK_EQ_STR(sg_profile_str(p, m->value_type[0]), "samples");
    SG_CHECK_EQ_STR(sg_profile_str(p, m->value_unit[0]), "count");
    const char *types[] = {"calls", "self", "total"}, *units[] = {"count", "ns", "ns"};
    SG_CHECK_EQ_INT(sg_profile_set_value_types(p, 3, types, units), 0);
    SG_CHECK_EQ_INT(m->n_values, 3);
    SG_CHECK_EQ_STR(sg_profile_str(p, m->value_type[2]), "total");
    SG_CHECK_EQ_INT(sg_profile_set_value_types(p, 5, types, units), -1);
    sg_profile_meta_of(p)->rate_hz = 100;
    SG_CHECK(m->rate_hz == 100);

    SG_CHECK(sg_profile_get_attr(p, "command") == NULL);
    SG_CHECK_EQ_INT(sg_profile_set_attr(p, "command", "python a.py"), 0);
    SG_CHECK_EQ_INT(sg_profile_set_attr(p, "python", "3.12.1"), 0);
    SG_CHECK_EQ_INT(sg_profile_set_attr(p, "command", "python b.py"), 0);
    SG_CHECK_EQ_INT(sg_profile_nattrs(p), 2);
    SG_CHECK_EQ_STR(sg_profile_get_attr(p, "command"), "python b.py");
    const char *k, *v;
    sg_profile_attr_at(p, 1, &k, &v);
    SG_CHECK_EQ_STR(k, "python");
    SG_CHECK_EQ_STR(v, "3.12.1");
    sg_profile_attr_at(p, 2, &k, &v);
    SG_CHECK(k == NULL && v == NULL);
    sg_profile_free(p);
}

static void test_trie_and_records(void)
{
    sg_profile *p = sg_profile_new();
    SG_CHECK_EQ_INT(sg_profile_nnodes(p), 1);
    SG_CHECK_EQ_INT(sg_profile_nodes(p)[0].parent, SG_NONE);
    uint32_t la = loc_of(p, "a", "m.py", 1, 2), lb = loc_of(p, "b", "m.py", 5, 6);
    uint32_t na = sg_profile_child(p, SG_ROOT, la);
    uint32_t nab = sg_profile_child(p, na, lb);
    uint32_t nb = sg_profile_child(p, SG_ROOT, lb);
    SG_CHECK(na != nab && nab != nb);
    SG_CHECK_EQ_INT(sg_profile_child(p, na, lb), nab);
    SG_CHECK_EQ_INT(sg_profile_child(p, SG_ROOT, la), na);
    SG_CHECK_EQ_INT(sg_profile_nodes(p)[nab].parent, na);
    SG_CHECK_EQ_INT(sg_profile_nodes(p)[nab].depth, 2);
    SG_CHECK_EQ_INT(sg_profile_nodes(p)[nab].location, lb);
    SG_CHECK_EQ_INT(sg_profile_child(p, SG_NONE, lb), SG_NONE);
    SG_CHECK_EQ_INT(sg_profile_child(p, na, SG_NONE), SG_NONE);
    SG_CHECK_EQ_INT(sg_profile_nnodes(p), 4);

    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    for (int i = 0; i < 1000; i++)
        add1(p, t, nab, SG_F_ONCPU, 1);
    add1(p, t, nab, 0, 1);
    add1(p, t, nb, SG_F_ONCPU, 2);
    SG_CHECK_EQ_INT(sg_profile_nrecords(p), 3);
    const sg_record *r = sg_profile_records(p);
    SG_CHECK_EQ_INT(r[0].node, nab);
    SG_CHECK_EQ_INT(r[0].values[0], 1000);
    SG_CHECK_EQ_INT(r[1].flags, 0);
    SG_CHECK_EQ_INT(r[2].values[0], 2);
    int64_t one[SG_MAX_VALUES] = {1};
    SG_CHECK_EQ_INT(sg_profile_add(p, t, SG_NONE, 0, one), -1);
    SG_CHECK_EQ_INT(sg_profile_add(p, 77, na, 0, one), -1);
    SG_CHECK(!sg_profile_oom(p));

    /* a deep recursive stack: memory grows with distinct nodes only */
    uint32_t n = SG_ROOT;
    for (int i = 0; i < 5000; i++)
        n = sg_profile_child(p, n, la);
    SG_CHECK_EQ_INT(sg_profile_nodes(p)[n].depth, 5000);
    size_t nodes = sg_profile_nnodes(p);
    n = SG_ROOT;
    for (int i = 0; i < 5000; i++)
        n = sg_profile_child(p, n, la);
    SG_CHECK_EQ_INT(sg_profile_nnodes(p), nodes);
    sg_profile_free(p);
}

static void test_merge(void)
{
    sg_profile *a = sg_profile_new(), *b = sg_profile_new();
    static const char *const s1[] = {"main@m.py:1:3", "work@m.py:10:12"};
    static const char *const s2[] = {"main@m.py:1:4", "other@o.py:1:2"};
    uint32_t ta = sg_profile_track(a, sg_profile_process(a, 100), 1);
    add1(a, ta, stack_of(a, 2, s1), SG_F_ONCPU, 5);
    S(b, "padding so that ids differ");
    uint32_t pb = sg_profile_process(b, 100);
    sg_profile_processes(b)[pb].samples_ok = 9;
    sg_profile_processes(b)[pb].cmdline = S(b, "python m.py");
    uint32_t tb = sg_profile_track(b, pb, 1), tb2 = sg_profile_track(b, pb, 2);
    sg_profile_tracks(b)[tb2].name = S(b, "worker");
    add1(b, tb, stack_of(b, 2, s1), SG_F_ONCPU, 3);
    add1(b, tb2, stack_of(b, 2, s2), 0, 7);
    sg_error err;
    SG_CHECK_EQ_INT(sg_profile_merge(a, b, &err), 0);
    SG_CHECK_EQ_INT(sg_profile_nrecords(a), 2);
    SG_CHECK_EQ_INT(sg_profile_records(a)[0].values[0], 8);
    SG_CHECK_EQ_INT(sg_profile_records(a)[1].values[0], 7);
    SG_CHECK_EQ_INT(sg_profile_ntracks(a), 2);
    SG_CHECK_EQ_INT(sg_profile_nprocesses(a), 1);
    SG_CHECK_EQ_INT(sg_profile_processes(a)[0].samples_ok, 9);
    SG_CHECK_EQ_STR(sg_profile_str(a, sg_profile_processes(a)[0].cmdline), "python m.py");
    SG_CHECK_EQ_STR(sg_profile_str(a, sg_profile_tracks(a)[1].name), "worker");
    SG_CHECK_EQ_INT(sg_profile_nnodes(a), 5); /* root, main@3, work, main@4, other */
    SG_CHECK_EQ_INT(sg_profile_nfunctions(a), 3);

    /* mismatched columns fail, an empty destination adopts the source's */
    sg_profile *c = sg_profile_new();
    const char *types[] = {"calls", "time"}, *units[] = {"count", "nanoseconds"};
    sg_profile_set_value_types(c, 2, types, units);
    SG_CHECK_EQ_INT(sg_profile_merge(a, c, &err), -1);
    SG_CHECK_EQ_INT(err.code, SG_E_ARG);
    sg_profile *d = sg_profile_new();
    SG_CHECK_EQ_INT(sg_profile_merge(d, c, &err), 0);
    SG_CHECK_EQ_INT(sg_profile_meta_get(d)->n_values, 2);
    sg_profile_free(a);
    sg_profile_free(b);
    sg_profile_free(c);
    sg_profile_free(d);
}

/* Sum of values at each leaf, as "frame;frame=value" lines sorted by node id: enough to
 * see where time went after filtering. */
static void dump(const sg_profile *p, char *out, size_t cap)
{
    out[0] = 0;
    const sg_record *r = sg_profile_records(p);
    for (size_t i = 0; i < sg_profile_nrecords(p); i++) {
        char line[512] = "";
        uint32_t path[64];
        size_t depth = 0;
        for (uint32_t n = r[i].node; n != SG_ROOT && depth < 64; n = sg_profile_nodes(p)[n].parent)
            path[depth++] = sg_profile_nodes(p)[n].location;
        while (depth--) {
            const sg_location *l = &sg_profile_locations(p)[path[depth]];
            const sg_function *f = &sg_profile_functions(p)[l->function];
            snprintf(line + strlen(line), sizeof line - strlen(line), "%s:%d%s",
                     sg_profile_str(p, f->name), (int)l->line, depth ? ";" : "");
        }
        snprintf(out + strlen(out), cap - strlen(out), "t%u %s=%lld\n", (unsigned)r[i].track,
                 line, (long long)r[i].values[0]);
    }
}

static sg_profile *filter_model(void)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta_of(p)->rate_hz = 250;
    sg_profile_set_attr(p, "command", "python app.py");
    uint32_t pr = sg_profile_process(p, 7);
    sg_profile_processes(p)[pr].samples_failed = 3;
    uint32_t main_t = sg_profile_track(p, pr, 1), other = sg_profile_track(p, pr, 2);
    sg_profile_tracks(p)[main_t].is_main = true;
    sg_profile_tracks(p)[main_t].name = S(p, "MainThread");
    static const char *const json[] = {
        "main@/home/u/app.py:1:3", "loads@/usr/lib/python3.12/json/__init__.py:299:346",
        "decode@/usr/lib/python3.12/json/decoder.py:332:337"};
    static const char *const req[] = {
        "main@/home/u/app.py:1:4", "get@/v/lib/python3.12/site-packages/requests/api.py:62:73",
        "cb@/home/u/app.py:20:21", "sleep@<frozen time>:1:1"};
    static const char *const boot[] = {"_bootstrap@<frozen importlib._bootstrap>:1:5",
                                       "exec@/usr/lib64/python3.11/runpy.py:1:2"};
    static const char *const test[] = {"main@/home/u/app.py:1:5",
                                       "test_x@/home/u/tests/test_a.py:1:2"};
    add1(p, main_t, stack_of(p, 3, json), SG_F_ONCPU, 10);
    add1(p, main_t, stack_of(p, 4, req), 0, 20);
    add1(p, main_t, stack_of(p, 2, boot), SG_F_ONCPU, 5);
    add1(p, other, stack_of(p, 2, test), SG_F_ONCPU, 7);
    return p;
}

static void test_syspath(void)
{
    SG_CHECK(sg_path_is_syspath("/root/.pyenv/versions/3.12.1/lib/python3.12/json/decoder.py"));
    SG_CHECK(sg_path_is_syspath("/usr/lib64/python3.11/os.py"));
    SG_CHECK(sg_path_is_syspath("/home/u/.venv/lib/python3.12/site-packages/x/y.py"));
    SG_CHECK(sg_path_is_syspath("/usr/lib/python3/dist-packages/apt/cache.py"));
    SG_CHECK(sg_path_is_syspath("<frozen importlib._bootstrap>"));
    SG_CHECK(!sg_path_is_syspath("/home/u/app.py"));
    SG_CHECK(!sg_path_is_syspath("<string>"));
    SG_CHECK(!sg_path_is_syspath("/home/u/python3.12/lib.py"));
    SG_CHECK(!sg_path_is_syspath(""));
    SG_CHECK(!sg_path_is_syspath(NULL));
}

static void test_filter(void)
{
    sg_profile *p = filter_model();
    sg_error err;
    char got[4096];

    /* no filter: an identical copy */
    sg_profile *q = sg_profile_filter(p, NULL, &err);
    SG_CHECK(q != NULL);
    char want[4096];
    dump(p, want, sizeof want);
    dump(q, got, sizeof got);
    SG_CHECK_EQ_STR(got, want);
    SG_CHECK_EQ_STR(sg_profile_get_attr(q, "command"), "python app.py");
    SG_CHECK(sg_profile_meta_get(q)->rate_hz == 250);
    SG_CHECK_EQ_STR(sg_profile_str(q, sg_profile_meta_get(q)->value_type[0]), "samples");
    SG_CHECK_EQ_INT(sg_profile_processes(q)[0].samples_failed, 3);
    SG_CHECK_EQ_INT(sg_profile_ntracks(q), 2);
    SG_CHECK_EQ_STR(sg_profile_str(q, sg_profile_tracks(q)[0].name), "MainThread");
    sg_profile_free(q);

    /* syspath frames give their time to the nearest kept caller; cb stays below main
     * although requests sits between them; an all-syspath stack becomes [filtered] */
    sg_filter f = {.exclude_syspath = true};
    q = sg_profile_filter(p, &f, &err);
    dump(q, got, sizeof got);
    SG_CHECK_EQ_STR(got, "t0 main:3=10\n"
                         "t0 main:4;cb:21=20\n"
                         "t0 [filtered]:0=5\n"
                         "t1 main:5;test_x:2=7\n");
    sg_profile_free(q);

    f = (sg_filter){.main_thread_only = true};
    q = sg_profile_filter(p, &f, &err);
    dump(q, got, sizeof got);
    SG_CHECK(strstr(got, "test_x") == NULL);
    SG_CHECK(strstr(got, "decode:337=10") != NULL);
    sg_profile_free(q);

    /* globs: a pattern without '/' matches the base name, one with '/' the full path
     * ('*' crosses directories) */
    const char *inc[] = {"app.py", "*/tests/*"};
    f = (sg_filter){.include = inc, .n_include = 2};
    q = sg_profile_filter(p, &f, &err);
    dump(q, got, sizeof got);
    SG_CHECK_EQ_STR(got, "t0 main:3=10\n"
                         "t0 main:4;cb:21=20\n"
                         "t0 [filtered]:0=5\n"
                         "t1 main:5;test_x:2=7\n");
    sg_profile_free(q);
    const char *exc[] = {"test_*.py", "/usr/*"};
    f = (sg_filter){.exclude = exc, .n_exclude = 2};
    q = sg_profile_filter(p, &f, &err);
    dump(q, got, sizeof got);
    SG_CHECK_EQ_STR(got, "t0 main:3=10\n"
                         "t0 main:4;get:73;cb:21;sleep:1=20\n"
                         "t0 _bootstrap:5=5\n"
                         "t1 main:5=7\n");
    sg_profile_free(q);
    sg_profile_free(p);
}

int main(void)
{
    SG_RUN(test_strings);
    SG_RUN(test_dedup);
    SG_RUN(test_attrs_meta);
    SG_RUN(test_trie_and_records);
    SG_RUN(test_merge);
    SG_RUN(test_syspath);
    SG_RUN(test_filter);
    SG_TEST_MAIN_END();
}
