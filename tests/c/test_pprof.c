#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "../../src/core/base/sg_buf.h"
#include "../../src/core/base/sg_error.h"
#include "../../src/core/base/sg_file.h"
#include "../../src/core/profile/sg_gzip.h"
#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/profile/sg_protobuf.h"
#include "sg_test.h"

static uint32_t S(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static uint32_t stack_of(sg_profile *p, const uint32_t *locs, size_t n)
{
    uint32_t node = SG_ROOT;
    for (size_t i = 0; i < n; i++)
        node = sg_profile_child(p, node, locs[i]);
    return node;
}

/* Several processes and threads, every flag combination the encoder has to spell out,
 * recursion, a deep stack, an empty stack, odd strings and attributes. */
static sg_profile *build_model(void)
{
    sg_profile *p = sg_profile_new();
    static const char *const types[] = {"samples", "cpu", "gil"};
    static const char *const units[] = {"count", "nanoseconds", "count"};
    SG_CHECK_EQ_INT(sg_profile_set_value_types(p, 3, types, units), 0);
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->mode = SG_MODE_SAMPLE;
    m->clock = SG_CLOCK_CPU;
    m->rate_hz = 99.5;
    m->start_wall_ns = 1700000000123456789LL;
    m->duration_ns = 5000000007LL;
    m->interval_ns = 10101010;
    m->ticks_requested = 500;
    m->ticks_taken = 498;
    sg_profile_set_attr(p, "command", "python app.py --x");
    sg_profile_set_attr(p, "we=ird%key", "value with\nnewline = and %");
    sg_profile_set_attr(p, "empty", "");
    S(p, "a string nothing uses");

    uint32_t p1 = sg_profile_process(p, 100);
    uint32_t p2 = sg_profile_process(p, 200);
    uint32_t p3 = sg_profile_process(p, 300); /* no samples at all */
    sg_process *pr = sg_profile_processes(p);
    pr[p1].cmdline = S(p, "python app.py --x");
    pr[p1].python_version = S(p, "3.12.1");
    pr[p1].samples_ok = 1000;
    pr[p1].samples_failed = 3;
    pr[p2].cmdline = sg_profile_intern(p, "a\0b", 3);
    pr[p2].python_version = S(p, "3.9.18");
    pr[p2].samples_ok = UINT64_MAX;
    pr[p3].python_version = S(p, "3.13.0");

    uint32_t t1 = sg_profile_track(p, p1, 100);
    uint32_t t2 = sg_profile_track(p, p1, 101);
    uint32_t t3 = sg_profile_track(p, p2, 0xFFFFFFFFFFFF1234ull);
    uint32_t t4 = sg_profile_track(p, p3, 5);
    sg_track *tr = sg_profile_tracks(p);
    tr[t1].name = S(p, "MainThread");
    tr[t1].is_main = true;
    tr[t2].name = S(p, "worker");
    tr[t4].is_main = true;

    uint32_t fa = sg_profile_function(p, S(p, "main"), S(p, "/app/app.py"), 1);
    uint32_t fb = sg_profile_function(p, S(p, "Worker.run"), S(p, "/app/work.py"), 10);
    uint32_t fc = sg_profile_function(p, S(p, "fib"), S(p, "/app/app.py"), 40);
    uint32_t fd = sg_profile_function(p, S(p, "<module>"), S(p, "<frozen x>"), 0);
    uint32_t la = sg_profile_location(p, fa, 3), lb = sg_profile_location(p, fb, 12);
    uint32_t lc = sg_profile_location(p, fc, 41), lc2 = sg_profile_location(p, fc, 43);
    uint32_t ld = sg_profile_location(p, fd, 0);

    uint32_t s1[] = {ld, la, lb};
    uint32_t s2[] = {ld, la, lc, lc, lc2, lc, lc2}; /* recursion */
    uint32_t deep[300];
    deep[0] = ld;
    for (int i = 1; i < 300; i++)
        deep[i] = i % 2 ? lc : lc2;
    uint32_t n1 = stack_of(p, s1, 3), n2 = stack_of(p, s2, 7), n3 = stack_of(p, deep, 300);
    uint32_t n4 = stack_of(p, s1, 2);

    int64_t v1[] = {1, 10000000, 1}, v2[] = {5, 0, 0}, v3[] = {-7, INT64_MAX, INT64_MIN};
    sg_profile_add(p, t1, n1, SG_F_ONCPU | SG_F_GIL, v1);
    sg_profile_add(p, t1, n1, 0, v2);
    sg_profile_add(p, t1, n2, SG_F_GILWAIT, v1);
    sg_profile_add(p, t2, n2, SG_F_ONCPU | SG_F_PARTIAL, v2);
    sg_profile_add(p, t2, n3, SG_F_ONCPU | SG_F_GIL | SG_F_GILWAIT, v3);
    sg_profile_add(p, t3, n4, 1u << 7 | SG_F_ONCPU, v1);
    sg_profile_add(p, t3, SG_ROOT, SG_F_PARTIAL, v2);
    sg_profile_add(p, t1, n1, SG_F_ONCPU | SG_F_GIL, v1); /* sums into the first */
    SG_CHECK(!sg_profile_oom(p));
    return p;
}

/* The location ids from node up to the root. */
static size_t path_of(const sg_profile *p, uint32_t node, uint32_t *out, size_t max)
{
    const sg_node *nodes = sg_profile_nodes(p);
    size_t n = 0;
    while (node != SG_ROOT && node < sg_profile_nnodes(p) && n < max) {
        out[n++] = nodes[node].location;
        node = nodes[node].parent;
    }
    return n;
}

static bool same_str(const sg_profile *a, uint32_t ia, const sg_profile *b, uint32_t ib)
{
    size_t la = sg_profile_str_len(a, ia);
    return la == sg_profile_str_len(b, ib) &&
           memcmp(sg_profile_str(a, ia), sg_profile_str(b, ib), la) == 0;
}

static void check_same(const sg_profile *a, const sg_profile *b)
{
    SG_CHECK_EQ_INT(sg_profile_nstrings(a), sg_profile_nstrings(b));
    for (uint32_t i = 0; i < sg_profile_nstrings(a) && i < sg_profile_nstrings(b); i++)
        SG_CHECK(same_str(a, i, b, i));

    const sg_profile_meta *ma = sg_profile_meta_get(a), *mb = sg_profile_meta_get(b);
    SG_CHECK_EQ_INT(ma->mode, mb->mode);
    SG_CHECK_EQ_INT(ma->clock, mb->clock);
    SG_CHECK(ma->rate_hz == mb->rate_hz);
    SG_CHECK_EQ_INT(ma->start_wall_ns, mb->start_wall_ns);
    SG_CHECK_EQ_INT(ma->duration_ns, mb->duration_ns);
    SG_CHECK_EQ_INT(ma->interval_ns, mb->interval_ns);
    SG_CHECK(ma->ticks_requested == mb->ticks_requested);
    SG_CHECK(ma->ticks_taken == mb->ticks_taken);
    SG_CHECK_EQ_INT(ma->n_values, mb->n_values);
    for (int i = 0; i < SG_MAX_VALUES; i++) {
        SG_CHECK_EQ_INT(ma->value_type[i], mb->value_type[i]);
        SG_CHECK_EQ_INT(ma->value_unit[i], mb->value_unit[i]);
    }

    SG_CHECK_EQ_INT(sg_profile_nattrs(a), sg_profile_nattrs(b));
    for (size_t i = 0; i < sg_profile_nattrs(a) && i < sg_profile_nattrs(b); i++) {
        const char *ka, *va, *kb, *vb;
        sg_profile_attr_at(a, i, &ka, &va);
        sg_profile_attr_at(b, i, &kb, &vb);
        SG_CHECK_EQ_STR(ka, kb);
        SG_CHECK_EQ_STR(va, vb);
    }

    SG_CHECK_EQ_INT(sg_profile_nfunctions(a), sg_profile_nfunctions(b));
    for (size_t i = 0; i < sg_profile_nfunctions(a) && i < sg_profile_nfunctions(b); i++) {
        const sg_function *fa = &sg_profile_functions(a)[i], *fb = &sg_profile_functions(b)[i];
        SG_CHECK(fa->name == fb->name && fa->filename == fb->filename &&
                 fa->first_line == fb->first_line);
    }
    SG_CHECK_EQ_INT(sg_profile_nlocations(a), sg_profile_nlocations(b));
    for (size_t i = 0; i < sg_profile_nlocations(a) && i < sg_profile_nlocations(b); i++) {
        const sg_location *la = &sg_profile_locations(a)[i], *lb = &sg_profile_locations(b)[i];
        SG_CHECK(la->function == lb->function && la->line == lb->line);
    }

    SG_CHECK_EQ_INT(sg_profile_nprocesses(a), sg_profile_nprocesses(b));
    for (size_t i = 0; i < sg_profile_nprocesses(a) && i < sg_profile_nprocesses(b); i++) {
        const sg_process *pa = &sg_profile_processes_c(a)[i];
        const sg_process *pb = &sg_profile_processes_c(b)[i];
        SG_CHECK_EQ_INT(pa->pid, pb->pid);
        SG_CHECK(same_str(a, pa->cmdline, b, pb->cmdline));
        SG_CHECK(same_str(a, pa->python_version, b, pb->python_version));
        SG_CHECK(pa->samples_ok == pb->samples_ok);
        SG_CHECK(pa->samples_failed == pb->samples_failed);
    }
    SG_CHECK_EQ_INT(sg_profile_ntracks(a), sg_profile_ntracks(b));
    for (size_t i = 0; i < sg_profile_ntracks(a) && i < sg_profile_ntracks(b); i++) {
        const sg_track *ta = &sg_profile_tracks_c(a)[i], *tb = &sg_profile_tracks_c(b)[i];
        SG_CHECK_EQ_INT(ta->process, tb->process);
        SG_CHECK(ta->tid == tb->tid);
        SG_CHECK(same_str(a, ta->name, b, tb->name));
        SG_CHECK_EQ_INT(ta->is_main, tb->is_main);
    }

    SG_CHECK_EQ_INT(sg_profile_nrecords(a), sg_profile_nrecords(b));
    static uint32_t pa[1024], pb[1024];
    for (size_t i = 0; i < sg_profile_nrecords(a) && i < sg_profile_nrecords(b); i++) {
        const sg_record *ra = &sg_profile_records(a)[i], *rb = &sg_profile_records(b)[i];
        SG_CHECK_EQ_INT(ra->track, rb->track);
        SG_CHECK_EQ_INT(ra->flags, rb->flags);
        for (uint32_t v = 0; v < ma->n_values; v++)
            SG_CHECK_EQ_INT(ra->values[v], rb->values[v]);
        size_t na = path_of(a, ra->node, pa, 1024), nb = path_of(b, rb->node, pb, 1024);
        SG_CHECK_EQ_INT(na, nb);
        SG_CHECK(na == nb && memcmp(pa, pb, na * sizeof *pa) == 0);
    }
}

/* Whatever a decode accepts must be a well-formed model: every id in range, every
 * stack reaching the root, and it must survive another encode/decode. */
static void check_consistent(const sg_profile *p)
{
    size_t nstr = sg_profile_nstrings(p), nfn = sg_profile_nfunctions(p);
    size_t nloc = sg_profile_nlocations(p), nnode = sg_profile_nnodes(p);
    const sg_profile_meta *m = sg_profile_meta_get(p);
    SG_CHECK(m->n_values <= SG_MAX_VALUES);
    for (uint32_t i = 0; i < m->n_values; i++)
        SG_CHECK(m->value_type[i] < nstr && m->value_unit[i] < nstr);
    for (size_t i = 0; i < nfn; i++) {
        const sg_function *f = &sg_profile_functions(p)[i];
        SG_CHECK(f->name < nstr && f->filename < nstr);
    }
    for (size_t i = 0; i < nloc; i++)
        SG_CHECK(sg_profile_locations(p)[i].function < nfn);
    const sg_node *nodes = sg_profile_nodes(p);
    for (size_t i = 1; i < nnode; i++) {
        SG_CHECK(nodes[i].parent < i && nodes[i].location < nloc);
        SG_CHECK(nodes[i].depth == nodes[nodes[i].parent].depth + 1);
    }
    for (size_t i = 0; i < sg_profile_nprocesses(p); i++) {
        const sg_process *pr = &sg_profile_processes_c(p)[i];
        SG_CHECK(pr->cmdline < nstr && pr->python_version < nstr);
    }
    for (size_t i = 0; i < sg_profile_ntracks(p); i++) {
        const sg_track *t = &sg_profile_tracks_c(p)[i];
        SG_CHECK(t->process < sg_profile_nprocesses(p) && t->name < nstr);
    }
    for (size_t i = 0; i < sg_profile_nrecords(p); i++) {
        const sg_record *r = &sg_profile_records(p)[i];
        SG_CHECK(r->track < sg_profile_ntracks(p) && r->node < nnode);
    }
    void *data;
    size_t len;
    sg_error e;
    SG_CHECK_EQ_INT(sg_profile_encode(p, false, &data, &len, &e), 0);
    sg_profile *q = sg_profile_decode(data, len, &e);
    SG_CHECK(q != NULL);
    if (q)
        check_same(p, q);
    sg_profile_free(q);
    free(data);
}

static void test_round_trip(void)
{
    sg_profile *p = build_model();
    for (int gz = 0; gz < 2; gz++) {
        void *data = NULL;
        size_t len = 0;
        sg_error e;
        SG_CHECK_EQ_INT(sg_profile_encode(p, gz, &data, &len, &e), 0);
        SG_CHECK_EQ_INT(sg_gzip_is(data, len), gz);
        sg_profile *q = sg_profile_decode(data, len, &e);
        SG_CHECK(q != NULL);
        if (!q) {
            fprintf(stderr, "decode: %s\n", e.msg);
            free(data);
            continue;
        }
        check_same(p, q);
        /* and the re-encoding is byte for byte the same */
        void *again;
        size_t again_len;
        SG_CHECK_EQ_INT(sg_profile_encode(q, gz, &again, &again_len, &e), 0);
        SG_CHECK(again_len == len && memcmp(again, data, len) == 0);
        free(again);
        sg_profile_free(q);
        free(data);
    }
    sg_profile_free(p);

    /* a fresh, empty profile and a traced one */
    p = sg_profile_new();
    check_consistent(p);
    sg_profile_meta_of(p)->mode = SG_MODE_LINES;
    sg_profile_set_value_types(p, 0, NULL, NULL);
    check_consistent(p);
    sg_profile_free(p);
}

static void test_save_load(void)
{
    char path[] = "/tmp/sg_test_pprof.XXXXXX";
    int fd = mkstemp(path);
    SG_CHECK(fd >= 0);
    close(fd);
    sg_profile *p = build_model();
    sg_error e;
    SG_CHECK_EQ_INT(sg_profile_save(p, path, &e), 0);
    sg_profile *q = sg_profile_load(path, &e);
    SG_CHECK(q != NULL);
    if (q)
        check_same(p, q);
    sg_profile_free(q);
    sg_profile_free(p);

    SG_CHECK_EQ_INT(sg_file_write_atomic(path, "\x1f\x8b garbage", 10, &e), 0);
    SG_CHECK(sg_profile_load(path, &e) == NULL);
    SG_CHECK(e.code == SG_E_CORRUPT && strstr(e.msg, path) != NULL);
    unlink(path);
    SG_CHECK(sg_profile_load(path, &e) == NULL);
    SG_CHECK(e.code == SG_E_IO && strstr(e.msg, path) != NULL);
}

static void decode_hostile(const void *data, size_t len, int *ok, int *bad)
{
    sg_error e;
    sg_error_clear(&e);
    sg_profile *q = sg_profile_decode(data, len, &e);
    if (q) {
        (*ok)++;
        check_consistent(q);
        sg_profile_free(q);
    } else {
        (*bad)++;
        SG_CHECK(e.code == SG_E_CORRUPT);
        SG_CHECK(e.msg[0] != '\0' && strchr(e.msg, '\n') == NULL);
        if (e.code != SG_E_CORRUPT)
            fprintf(stderr, "unexpected error: %s %s\n", sg_code_name(e.code), e.msg);
    }
}

static void test_truncated_and_flipped(void)
{
    sg_profile *p = build_model();
    sg_error e;
    for (int gz = 0; gz < 2; gz++) {
        void *data;
        size_t len;
        SG_CHECK_EQ_INT(sg_profile_encode(p, gz, &data, &len, &e), 0);
        int ok = 0, bad = 0;
        for (size_t cut = 0; cut < len; cut++)
            decode_hostile(data, cut, &ok, &bad);
        SG_CHECK(bad > 0);
        if (gz)
            SG_CHECK_EQ_INT(bad, (int)len); /* every prefix, the empty one included, fails */
        uint8_t *copy = malloc(len);
        for (size_t i = 0; i < len; i++) {
            for (int bit = 0; bit < 8; bit++) {
                memcpy(copy, data, len);
                copy[i] ^= (uint8_t)(1u << bit);
                decode_hostile(copy, len, &ok, &bad);
            }
        }
        SG_CHECK(ok > 0 && bad > 0);
        free(copy);
        free(data);
    }
    sg_profile_free(p);
}

/* A profile as another producer (Go's runtime/pprof) writes it: unpacked ids, inlined
 * frames, an address-only location, no spyglass comments. */
static void test_foreign_profile(void)
{
    sg_buf out, msg, sub;
    sg_buf_init(&out);
    sg_buf_init(&msg);
    sg_buf_init(&sub);
    /* strings: 0 "", 1 samples, 2 count, 3 cpu, 4 nanoseconds, 5 main.f, 6 main.go,
     * 7 runtime.g, 8 hello, 9 goroutine, 10 7 */
    static const char *const strs[] = {"",       "samples", "count",    "cpu",
                                       "nanoseconds", "main.f", "main.go", "runtime.g",
                                       "hello",  "goroutine", "7"};
#define VT(field, t, u)                                                                 \
    do {                                                                               \
        sg_buf_reset(&sub);                                                            \
        sg_pb_put_uint(&sub, 1, t);                                                    \
        sg_pb_put_uint(&sub, 2, u);                                                    \
        sg_pb_put_bytes(&out, field, sub.data, sub.len);                               \
    } while (0)
    VT(1, 1, 2);
    VT(1, 3, 4);
    /* sample: locations 20 (leaf, two lines: inlined) then 30 (no lines), unpacked */
    sg_buf_reset(&msg);
    sg_pb_put_uint(&msg, 1, 20);
    sg_pb_put_uint(&msg, 1, 30);
    sg_pb_put_uint(&msg, 2, 4);
    sg_pb_put_uint(&msg, 2, 40000000);
    sg_buf_reset(&sub);
    sg_pb_put_uint(&sub, 1, 9);
    sg_pb_put_uint(&sub, 2, 10);
    sg_pb_put_bytes(&msg, 3, sub.data, sub.len);
    sg_pb_put_bytes(&out, 2, msg.data, msg.len);
    /* location 20: lines (fn 2 line 7), (fn 1 line 12); location 30: address only */
    sg_buf_reset(&msg);
    sg_pb_put_uint(&msg, 1, 20);
    sg_pb_put_uint(&msg, 3, 0x401000);
    sg_buf_reset(&sub);
    sg_pb_put_uint(&sub, 1, 2);
    sg_pb_put_uint(&sub, 2, 7);
    sg_pb_put_bytes(&msg, 4, sub.data, sub.len);
    sg_buf_reset(&sub);
    sg_pb_put_uint(&sub, 1, 1);
    sg_pb_put_uint(&sub, 2, 12);
    sg_pb_put_bytes(&msg, 4, sub.data, sub.len);
    sg_pb_put_bytes(&out, 4, msg.data, msg.len);
    sg_buf_reset(&msg);
    sg_pb_put_uint(&msg, 1, 30);
    sg_pb_put_uint(&msg, 3, 0xdead);
    sg_pb_put_bytes(&out, 4, msg.data, msg.len);
    /* functions: 1 main.f in main.go; 2 with only a system name */
    sg_buf_reset(&msg);
    sg_pb_put_uint(&msg, 1, 1);
    sg_pb_put_uint(&msg, 2, 5);
    sg_pb_put_uint(&msg, 4, 6);
    sg_pb_put_uint(&msg, 5, 10);
    sg_pb_put_bytes(&out, 5, msg.data, msg.len);
    sg_buf_reset(&msg);
    sg_pb_put_uint(&msg, 1, 2);
    sg_pb_put_uint(&msg, 3, 7);
    sg_pb_put_bytes(&out, 5, msg.data, msg.len);
    sg_pb_put_uint(&out, 99, 12345); /* an unknown field */
    sg_pb_put_bytes(&out, 98, "xyz", 3);
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        sg_pb_put_bytes(&out, 6, strs[i], strlen(strs[i]));
    sg_pb_put_uint(&out, 9, 1600000000000000000ull);
    sg_pb_put_uint(&out, 10, 3000000000ull);
    VT(11, 3, 4);
    sg_pb_put_uint(&out, 12, 10000000);
    sg_pb_put_uint(&out, 13, 8);
    SG_CHECK(!sg_buf_failed(&out));

    sg_error e;
    sg_profile *p = sg_profile_decode(out.data, out.len, &e);
    SG_CHECK(p != NULL);
    if (!p)
        fprintf(stderr, "decode: %s\n", e.msg);
    if (p) {
        const sg_profile_meta *m = sg_profile_meta_get(p);
        SG_CHECK_EQ_INT(m->n_values, 2);
        SG_CHECK_EQ_STR(sg_profile_str(p, m->value_type[1]), "cpu");
        SG_CHECK_EQ_STR(sg_profile_str(p, m->value_unit[1]), "nanoseconds");
        SG_CHECK_EQ_INT(m->clock, SG_CLOCK_CPU);
        SG_CHECK_EQ_INT(m->interval_ns, 10000000);
        SG_CHECK_EQ_INT(m->duration_ns, 3000000000LL);
        SG_CHECK_EQ_INT(sg_profile_nrecords(p), 1);
        SG_CHECK_EQ_INT(sg_profile_nprocesses(p), 1);
        SG_CHECK_EQ_INT(sg_profile_processes_c(p)[0].pid, 0);
        const sg_record *r = sg_profile_records(p);
        SG_CHECK_EQ_INT(r->flags, 0);
        SG_CHECK_EQ_INT(r->values[1], 40000000);
        uint32_t path[8];
        size_t n = path_of(p, r->node, path, 8);
        SG_CHECK_EQ_INT(n, 3);
        const char *want[] = {"runtime.g", "main.f", "0xdead"};
        const int lines[] = {7, 12, 0};
        for (size_t i = 0; i < n && i < 3; i++) {
            const sg_location *l = &sg_profile_locations(p)[path[i]];
            const sg_function *f = &sg_profile_functions(p)[l->function];
            SG_CHECK_EQ_STR(sg_profile_str(p, f->name), want[i]);
            SG_CHECK_EQ_INT(l->line, lines[i]);
        }
        SG_CHECK_EQ_STR(sg_profile_str(p, sg_profile_functions(p)[0].filename), "main.go");
        SG_CHECK_EQ_INT(sg_profile_functions(p)[0].first_line, 10);
        check_consistent(p);
        sg_profile_free(p);
    }
    sg_buf_free(&out);
    sg_buf_free(&msg);
    sg_buf_free(&sub);
#undef VT
}

/* Specific hostile inputs and the one-line reason each gives. */
static void expect_corrupt(const sg_buf *b, const char *needle)
{
    sg_error e;
    sg_profile *p = sg_profile_decode(b->data, b->len, &e);
    SG_CHECK(p == NULL);
    sg_profile_free(p);
    SG_CHECK(e.code == SG_E_CORRUPT);
    if (!strstr(e.msg, needle)) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", e.msg, needle);
        SG_CHECK(0);
    }
}

static void test_corrupt_cases(void)
{
    sg_buf b, m;
    sg_buf_init(&b);
    sg_buf_init(&m);

    sg_pb_put_bytes(&b, 6, "x", 1);
    expect_corrupt(&b, "empty string");

    sg_buf_reset(&b);
    sg_pb_put_bytes(&b, 6, "", 0);
    sg_pb_put_uint(&m, 1, 1);
    sg_pb_put_uint(&m, 2, 5); /* name index out of range */
    sg_pb_put_bytes(&b, 5, m.data, m.len);
    expect_corrupt(&b, "string index 5");

    sg_buf_reset(&b);
    sg_buf_reset(&m);
    sg_pb_put_bytes(&b, 6, "", 0);
    sg_pb_put_uint(&m, 1, 1);
    sg_pb_put_bytes(&b, 5, m.data, m.len);
    sg_pb_put_bytes(&b, 5, m.data, m.len);
    expect_corrupt(&b, "function id 1 appears twice");

    sg_buf_reset(&b);
    sg_buf_reset(&m);
    sg_pb_put_bytes(&b, 6, "", 0);
    sg_pb_put_bytes(&b, 4, "\x08\x01\x22\x02\x08\x09", 6); /* location 1, line fn 9 */
    expect_corrupt(&b, "function 9");

    sg_buf_reset(&b);
    sg_pb_put_bytes(&b, 6, "", 0);
    sg_pb_put_bytes(&b, 2, "\x08\x04", 2); /* sample at location 4 */
    expect_corrupt(&b, "location 4");

    sg_buf_reset(&b);
    sg_pb_put_bytes(&b, 6, "", 0);
    sg_pb_put_bytes(&b, 1, "", 0);        /* one sample type */
    sg_pb_put_bytes(&b, 2, "\x10\x01\x10\x02", 4); /* two values */
    expect_corrupt(&b, "2 values");

    sg_buf_reset(&b);
    sg_pb_put_uint(&b, 6, 1); /* string_table as a varint */
    expect_corrupt(&b, "wire type");

    sg_buf_reset(&b);
    sg_buf_append(&b, "\x32\x05" "ab", 4); /* length past the end */
    expect_corrupt(&b, "past the end");

    sg_buf_reset(&b);
    sg_buf_append(&b, "\x0b", 1); /* a group start */
    expect_corrupt(&b, "wire type");

    sg_buf_reset(&b);
    sg_pb_put_bytes(&b, 6, "", 0);
    sg_pb_put_bytes(&b, 6, "pid", 3);
    sg_pb_put_bytes(&b, 2, "\x1a\x0d\x08\x01\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 15);
    expect_corrupt(&b, "pid=-1");

    /* a gzip bomb is stopped at the limit */
    size_t big = 1 << 20;
    char *zeros = calloc(1, big);
    void *gz, *outp;
    size_t gzlen, outlen;
    sg_error e;
    SG_CHECK_EQ_INT(sg_gzip_compress(zeros, big, &gz, &gzlen, &e), 0);
    SG_CHECK(gzlen < 10000);
    SG_CHECK_EQ_INT(sg_gzip_decompress(gz, gzlen, 1000, &outp, &outlen, &e), -1);
    SG_CHECK(e.code == SG_E_CORRUPT && strstr(e.msg, "more than 1000"));
    SG_CHECK_EQ_INT(sg_gzip_decompress(gz, gzlen, big, &outp, &outlen, &e), 0);
    SG_CHECK(outlen == big && memcmp(outp, zeros, big) == 0);
    free(outp);
    free(gz);
    free(zeros);

    /* a few bytes of samples cannot expand into a huge number of frames */
    sg_buf_reset(&b);
    sg_buf_reset(&m);
    sg_pb_put_bytes(&b, 6, "", 0);
    sg_pb_put_bytes(&b, 5, "\x08\x01", 2);
    sg_pb_put_uint(&m, 1, 1);
    for (int i = 0; i < 10000; i++)
        sg_pb_put_bytes(&m, 4, "\x08\x01\x10\x02", 4);
    sg_pb_put_bytes(&b, 4, m.data, m.len);
    for (int i = 0; i < 5000; i++)
        sg_pb_put_bytes(&b, 2, "\x08\x01\x08\x01\x08\x01\x08\x01", 8);
    expect_corrupt(&b, "frames");

    /* nor can a packed comment list name one big string over and over */
    sg_buf_reset(&b);
    sg_pb_put_bytes(&b, 6, "", 0);
    char *text = malloc(100000);
    memset(text, 'c', 100000);
    sg_pb_put_bytes(&b, 6, text, 100000);
    free(text);
    uint64_t *idx = malloc(50000 * sizeof *idx);
    for (int i = 0; i < 50000; i++)
        idx[i] = 1;
    sg_pb_put_packed(&b, 13, idx, 50000);
    free(idx);
    expect_corrupt(&b, "comments");

    sg_buf_free(&b);
    sg_buf_free(&m);
}

int main(void)
{
    SG_RUN(test_round_trip);
    SG_RUN(test_save_load);
    SG_RUN(test_foreign_profile);
    SG_RUN(test_corrupt_cases);
    SG_RUN(test_truncated_and_flipped);
    SG_TEST_MAIN_END();
}
