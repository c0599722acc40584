/* Interval profiles for live views: a fresh profile like another keeps every id, adding
 * intervals sums their samples and time, and the rows/thread tables of spyglass top. */
#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/write/sg_rows.h"
#include "sg_test.h"

static uint32_t S(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static uint32_t L(sg_profile *p, const char *name, const char *file, int first, int line)
{
    return sg_profile_location(p, sg_profile_function(p, S(p, name), S(p, file), first), line);
}

static void add(sg_profile *p, uint32_t track, uint32_t node, uint32_t flags, int64_t v)
{
    int64_t vals[SG_MAX_VALUES] = {v, v * 1000};
    SG_CHECK_EQ_INT(sg_profile_add(p, track, node, flags, vals), 0);
}

static sg_profile *sampled(void)
{
    sg_profile *p = sg_profile_new();
    const char *types[2] = {"samples", "wall"}, *units[2] = {"count", "nanoseconds"};
    sg_profile_set_value_types(p, 2, types, units);
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->rate_hz = 100;
    m->duration_ns = 1000000000;
    m->ticks_taken = 100;
    m->ticks_requested = 100;
    m->interval_ns = 10000000;
    m->start_wall_ns = 5000;
    sg_profile_set_attr(p, "python", "3.12.1");
    return p;
}

/* main -> fib -> fib (recursion) 30 on cpu; main -> work 60 on cpu with the GIL; a second
 * thread "bad\x1bname" waiting for the GIL in work 10. */
static void fill(sg_profile *p)
{
    uint32_t pr = sg_profile_process(p, 42);
    uint32_t t1 = sg_profile_track(p, pr, 42), t2 = sg_profile_track(p, pr, 43);
    sg_profile_tracks(p)[t1].name = S(p, "MainThread");
    sg_profile_tracks(p)[t1].is_main = true;
    sg_profile_tracks(p)[t2].name = S(p, "bad\x1b[2Jname");
    sg_profile_processes(p)[pr].samples_ok = 99;
    sg_profile_processes(p)[pr].samples_failed = 1;
    uint32_t mn = sg_profile_child(p, SG_ROOT, L(p, "main", "app.py", 1, 3));
    uint32_t fib = sg_profile_child(p, mn, L(p, "fib", "app.py", 10, 12));
    fib = sg_profile_child(p, fib, L(p, "fib", "app.py", 10, 11));
    uint32_t work = sg_profile_child(p, mn, L(p, "w\x07ork", "app.py", 20, 21));
    add(p, t1, fib, SG_F_ONCPU, 30);
    add(p, t1, work, SG_F_ONCPU | SG_F_GIL, 60);
    add(p, t2, work, SG_F_GILWAIT, 10);
}

static void test_new_like_keeps_ids(void)
{
    sg_profile *p = sampled();
    fill(p);
    sg_error e;
    sg_profile *q = sg_profile_new_like(p, &e);
    SG_CHECK(q != NULL);
    if (!q) {
        sg_profile_free(p);
        return;
    }
    SG_CHECK_EQ_INT(sg_profile_nrecords(q), 0);
    SG_CHECK_EQ_INT(sg_profile_nnodes(q), 1);
    SG_CHECK_EQ_INT(sg_profile_nstrings(q), sg_profile_nstrings(p));
    SG_CHECK_EQ_INT(sg_profile_nfunctions(q), sg_profile_nfunctions(p));
    SG_CHECK_EQ_INT(sg_profile_nlocations(q), sg_profile_nlocations(p));
    SG_CHECK_EQ_INT(sg_profile_ntracks(q), 2);
    /* cached ids resolve to the same things */
    SG_CHECK_EQ_INT(S(q, "fib"), S(p, "fib"));
    SG_CHECK_EQ_INT(L(q, "work", "app.py", 20, 21), L(p, "work", "app.py", 20, 21));
    SG_CHECK_EQ_INT(sg_profile_track(q, 0, 43), 1);
    SG_CHECK_EQ_STR(sg_profile_str(q, sg_profile_tracks_c(q)[1].name), "bad\x1b[2Jname");
    SG_CHECK(sg_profile_tracks_c(q)[0].is_main);
    SG_CHECK_EQ_INT(sg_profile_processes_c(q)[0].samples_ok, 0);
    SG_CHECK_EQ_INT(sg_profile_processes_c(q)[0].samples_failed, 0);
    SG_CHECK_EQ_INT(sg_profile_meta_get(q)->n_values, 2);
    SG_CHECK_EQ_STR(sg_profile_str(q, sg_profile_meta_get(q)->value_type[1]), "wall");
    SG_CHECK_EQ_INT(sg_profile_meta_get(q)->rate_hz, 100);
    SG_CHECK_EQ_INT(sg_profile_meta_get(q)->ticks_taken, 0);
    SG_CHECK_EQ_STR(sg_profile_get_attr(q, "python"), "3.12.1");
    sg_profile_free(q);
    sg_profile_free(p);
}

static void test_append_sums(void)
{
    sg_profile *a = sampled(), *b = sampled();
    fill(a);
    fill(b);
    sg_profile_meta_of(b)->start_wall_ns = 2000;
    sg_profile_meta_of(b)->ticks_taken = 50;
    sg_profile *w = sg_profile_new();
    sg_error e;
    SG_CHECK_EQ_INT(sg_profile_append(w, a, &e), 0);
    SG_CHECK_EQ_INT(sg_profile_append(w, b, &e), 0);
    const sg_profile_meta *m = sg_profile_meta_get(w);
    SG_CHECK_EQ_INT(m->n_values, 2);
    SG_CHECK_EQ_INT(m->rate_hz, 100);
    SG_CHECK_EQ_INT(m->duration_ns, 2000000000);
    SG_CHECK_EQ_INT(m->ticks_taken, 150);
    SG_CHECK_EQ_INT(m->ticks_requested, 200);
    SG_CHECK_EQ_INT(m->interval_ns, 2000000000 / 150);
    SG_CHECK_EQ_INT(m->start_wall_ns, 2000);
    SG_CHECK_EQ_INT(sg_profile_processes_c(w)[0].samples_ok, 198);
    int64_t total = 0;
    for (size_t i = 0; i < sg_profile_nrecords(w); i++)
        total += sg_profile_records(w)[i].values[0];
    SG_CHECK_EQ_INT(total, 200);
    sg_profile_free(w);
    sg_profile_free(a);
    sg_profile_free(b);
}

static const char *txt(const sg_rows *r, size_t off) { return r->text.data + off; }

static void test_rows(void)
{
    sg_profile *p = sampled();
    fill(p);
    sg_rows r;
    sg_error e;
    sg_rows_query q = {.view = SG_VIEW_AUTO, .kind = SG_ROWS_FUNCTIONS, .sort = SG_ROWS_BY_SELF};
    SG_CHECK_EQ_INT(sg_rows_build(p, &q, &r, &e), 0);
    SG_CHECK_EQ_INT(r.grand, 100);
    SG_CHECK_EQ_INT(r.n, 3);
    if (r.n == 3) {
        /* escaped: no control character reaches the terminal */
        SG_CHECK_EQ_STR(txt(&r, r.rows[0].name), "w\\x07ork");
        SG_CHECK_EQ_INT(r.rows[0].self, 70);
        SG_CHECK_EQ_INT(r.rows[0].line, 20);
        SG_CHECK_EQ_STR(txt(&r, r.rows[0].file), "app.py");
        SG_CHECK_EQ_STR(txt(&r, r.rows[1].name), "fib");
        SG_CHECK_EQ_INT(r.rows[1].self, 30);
        SG_CHECK_EQ_INT(r.rows[1].total, 30); /* recursion counted once */
        SG_CHECK_EQ_STR(txt(&r, r.rows[2].name), "main");
        SG_CHECK_EQ_INT(r.rows[2].self, 0);
        SG_CHECK_EQ_INT(r.rows[2].total, 100);
    }
    sg_rows_free(&r);

    q.sort = SG_ROWS_BY_TOTAL;
    q.limit = 2;
    SG_CHECK_EQ_INT(sg_rows_build(p, &q, &r, &e), 0);
    SG_CHECK_EQ_INT(r.n, 2);
    if (r.n == 2) {
        SG_CHECK_EQ_STR(txt(&r, r.rows[0].name), "main");
        SG_CHECK_EQ_STR(txt(&r, r.rows[1].name), "w\\x07ork");
    }
    sg_rows_free(&r);

    q.sort = SG_ROWS_BY_NAME;
    q.limit = 0;
    SG_CHECK_EQ_INT(sg_rows_build(p, &q, &r, &e), 0);
    SG_CHECK_EQ_INT(r.n, 3);
    if (r.n == 3) {
        SG_CHECK_EQ_STR(txt(&r, r.rows[0].name), "fib");
        SG_CHECK_EQ_STR(txt(&r, r.rows[1].name), "main");
    }
    sg_rows_free(&r);

    /* lines, one thread, the cpu view */
    q = (sg_rows_query){.view = SG_VIEW_CPU, .kind = SG_ROWS_LINES, .sort = SG_ROWS_BY_SELF,
                        .one_thread = true, .pid = 42, .tid = 42};
    SG_CHECK_EQ_INT(sg_rows_build(p, &q, &r, &e), 0);
    SG_CHECK_EQ_INT(r.grand, 90);
    SG_CHECK(r.n >= 3);
    if (r.n >= 3) {
        SG_CHECK_EQ_INT(r.rows[0].line, 21);
        SG_CHECK_EQ_INT(r.rows[0].self, 60);
        SG_CHECK_EQ_INT(r.rows[1].line, 11);
        SG_CHECK_EQ_STR(txt(&r, r.rows[1].name), "fib");
        SG_CHECK_EQ_INT(r.rows[1].self, 30);
    }
    sg_rows_free(&r);

    /* a thread that is not there: nothing */
    q.tid = 999;
    q.pid = 0;
    SG_CHECK_EQ_INT(sg_rows_build(p, &q, &r, &e), 0);
    SG_CHECK_EQ_INT(r.n, 0);
    SG_CHECK_EQ_INT(r.grand, 0);
    sg_rows_free(&r);
    sg_profile_free(p);
}

static void test_thread_rows(void)
{
    sg_profile *p = sampled();
    fill(p);
    /* a track without samples (a thread that ended before this interval) is not listed */
    sg_profile_track(p, 0, 7);
    sg_thread_row *t = NULL;
    size_t n = 0;
    sg_buf text;
    sg_buf_init(&text);
    sg_error e;
    SG_CHECK_EQ_INT(sg_rows_threads(p, &t, &n, &text, &e), 0);
    SG_CHECK_EQ_INT(n, 2);
    if (n == 2) {
        SG_CHECK_EQ_INT(t[0].tid, 42);
        SG_CHECK_EQ_INT(t[0].pid, 42);
        SG_CHECK(t[0].is_main);
        SG_CHECK_EQ_STR(text.data + t[0].name, "MainThread");
        SG_CHECK_EQ_INT(t[0].samples, 90);
        SG_CHECK_EQ_INT(t[0].oncpu, 90);
        SG_CHECK_EQ_INT(t[0].gil, 60);
        SG_CHECK_EQ_INT(t[0].gilwait, 0);
        SG_CHECK_EQ_INT(t[1].tid, 43);
        SG_CHECK_EQ_STR(text.data + t[1].name, "bad\\x1b[2Jname");
        SG_CHECK_EQ_INT(t[1].samples, 10);
        SG_CHECK_EQ_INT(t[1].oncpu, 0);
        SG_CHECK_EQ_INT(t[1].gilwait, 10);
    }
    free(t);
    sg_buf_free(&text);

    /* an empty profile: no rows */
    sg_profile *z = sg_profile_new();
    sg_buf_init(&text);
    SG_CHECK_EQ_INT(sg_rows_threads(z, &t, &n, &text, &e), 0);
    SG_CHECK_EQ_INT(n, 0);
    free(t);
    sg_buf_free(&text);
    sg_rows r;
    sg_rows_query q = {.kind = SG_ROWS_LINES};
    SG_CHECK_EQ_INT(sg_rows_build(z, &q, &r, &e), 0);
    SG_CHECK_EQ_INT(r.n, 0);
    sg_rows_free(&r);
    sg_profile_free(z);
    sg_profile_free(p);
}

int main(void)
{
    SG_RUN(test_new_like_keeps_ids);
    SG_RUN(test_append_sums);
    SG_RUN(test_rows);
    SG_RUN(test_thread_rows);
    SG_TEST_MAIN_END();
}
