/* The opt-in timeline: events follow their records through encode/decode, merge and
 * filter, never change totals, and a hostile timeline comment is rejected. */
#include "../../src/core/profile/sg_profile.h"
#include "sg_test.h"

static uint32_t S(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static uint32_t L(sg_profile *p, const char *name, const char *file, int line)
{
    return sg_profile_location(p, sg_profile_function(p, S(p, name), S(p, file), 1), line);
}

/* Two threads; main: a, a, b, a (times 100..400), worker: c at 150 and 350. */
static sg_profile *model(void)
{
    sg_profile *p = sg_profile_new();
    uint32_t pr = sg_profile_process(p, 7);
    uint32_t t1 = sg_profile_track(p, pr, 7), t2 = sg_profile_track(p, pr, 8);
    sg_profile_tracks(p)[t1].is_main = true;
    uint32_t m = sg_profile_child(p, SG_ROOT, L(p, "main", "/app.py", 2));
    uint32_t a = sg_profile_child(p, m, L(p, "a", "/app.py", 10));
    uint32_t b = sg_profile_child(p, m, L(p, "b", "/lib/python3.12/x.py", 20));
    uint32_t c = sg_profile_child(p, SG_ROOT, L(p, "c", "/app.py", 30));
    int64_t one[SG_MAX_VALUES] = {1};
    struct {
        uint32_t t, n;
        int64_t at;
    } ev[] = {{t1, a, 100}, {t2, c, 150}, {t1, a, 200}, {t1, b, 300}, {t2, c, 350}, {t1, a, 400}};
    for (size_t i = 0; i < sizeof ev / sizeof *ev; i++) {
        sg_profile_add(p, ev[i].t, ev[i].n, SG_F_ONCPU, one);
        SG_CHECK_EQ_INT(sg_profile_timeline_add(p, ev[i].t, ev[i].n, SG_F_ONCPU, ev[i].at), 0);
    }
    return p;
}

static const char *leaf_name(const sg_profile *p, uint32_t rec)
{
    const sg_record *r = &sg_profile_records(p)[rec];
    uint32_t loc = sg_profile_nodes(p)[r->node].location;
    uint32_t fn = sg_profile_locations(p)[loc].function;
    return sg_profile_str(p, sg_profile_functions(p)[fn].name);
}

static void check_order(const sg_profile *p, const char *expect, const int64_t *times)
{
    size_t n = sg_profile_timeline_len(p);
    SG_CHECK_EQ_INT(n, strlen(expect));
    const sg_tl_event *ev = sg_profile_timeline(p);
    for (size_t i = 0; i < n && i < strlen(expect); i++) {
        SG_CHECK(leaf_name(p, ev[i].record)[0] == expect[i]);
        if (times)
            SG_CHECK_EQ_INT(ev[i].t_ns, times[i]);
    }
}

static void test_roundtrip(void)
{
    sg_profile *p = model();
    static const int64_t times[] = {100, 150, 200, 300, 350, 400};
    check_order(p, "acabca", times);
    SG_CHECK_EQ_INT(sg_profile_record_find(p, 0, 0, 0), SG_NONE);
    SG_CHECK(sg_profile_timeline_add(p, 0, 0, 0, 5) == -1); /* no such record */
    SG_CHECK(!sg_profile_oom(p));
    void *data;
    size_t len;
    sg_error err;
    SG_CHECK_EQ_INT(sg_profile_encode(p, true, &data, &len, &err), 0);
    sg_profile *q = sg_profile_decode(data, len, &err);
    SG_CHECK(q != NULL);
    if (q) {
        check_order(q, "acabca", times);
        SG_CHECK_EQ_INT(sg_profile_nrecords(q), sg_profile_nrecords(p));
        int64_t total = 0;
        for (size_t i = 0; i < sg_profile_nrecords(q); i++)
            total += sg_profile_records(q)[i].values[0];
        SG_CHECK_EQ_INT(total, 6); /* events never add to the totals */
    }
    free(data);
    sg_profile_free(q);

    /* merge keeps the events (of both) and filter keeps those of kept records */
    sg_profile *m = sg_profile_new();
    SG_CHECK_EQ_INT(sg_profile_merge(m, p, &err), 0);
    SG_CHECK_EQ_INT(sg_profile_merge(m, p, &err), 0);
    check_order(m, "acabcaacabca", NULL);
    sg_profile_free(m);
    sg_filter f = {0};
    f.main_thread_only = true;
    sg_profile *fp = sg_profile_filter(p, &f, &err);
    static const int64_t main_times[] = {100, 200, 300, 400};
    check_order(fp, "aaba", main_times);
    sg_profile_free(fp);
    f.main_thread_only = false;
    f.exclude_syspath = true; /* b goes to its caller main */
    fp = sg_profile_filter(p, &f, &err);
    check_order(fp, "acamca", NULL);
    sg_profile_free(fp);
    sg_profile_free(p);
}

static void test_hostile(void)
{
    /* An out-of-range sample index and non-base64 text are corrupt, not crashes. */
    sg_profile *p = model();
    void *data;
    size_t len;
    sg_error err;
    SG_CHECK_EQ_INT(sg_profile_encode(p, false, &data, &len, &err), 0);
    char *s = data;
    const char key[] = "spyglass:timeline=";
    char *at = memmem(s, len, key, sizeof key - 1);
    SG_CHECK(at != NULL);
    if (at) {
        char *v = at + sizeof key - 1;
        char save = v[0];
        v[0] = '/'; /* first varint becomes 63 with continuation bits: out of range */
        sg_profile *q = sg_profile_decode(data, len, &err);
        SG_CHECK(q == NULL && err.code == SG_E_CORRUPT);
        sg_profile_free(q);
        v[0] = '*';
        q = sg_profile_decode(data, len, &err);
        SG_CHECK(q == NULL && err.code == SG_E_CORRUPT);
        sg_profile_free(q);
        v[0] = save;
        q = sg_profile_decode(data, len, &err);
        SG_CHECK(q != NULL);
        sg_profile_free(q);
    }
    free(data);
    sg_profile_free(p);
}

static void test_name_like_timeline(void)
{
    /* a function of the profiled program named like the timeline string */
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    uint32_t n = sg_profile_child(p, SG_ROOT, L(p, "spyglass:timeline=*", "/a.py", 1));
    int64_t one[SG_MAX_VALUES] = {1};
    sg_profile_add(p, t, n, 0, one);
    void *data;
    size_t len;
    sg_error err;
    SG_CHECK_EQ_INT(sg_profile_encode(p, true, &data, &len, &err), 0);
    sg_profile *q = sg_profile_decode(data, len, &err);
    SG_CHECK(q != NULL && sg_profile_timeline_len(q) == 0);
    sg_profile_free(q);
    free(data);
    sg_profile_free(p);
}

int main(void)
{
    SG_RUN(test_name_like_timeline);
    SG_RUN(test_roundtrip);
    SG_RUN(test_hostile);
    SG_TEST_MAIN_END();
}
