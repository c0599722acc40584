/* The diff engine and the regression guard on hand-built profiles: matching of moved
 * functions and lines, shares and times across rates and modes, noise bounds, the
 * merged call tree, and the check's decisions. */
#include <math.h>
#include <stdarg.h>

#include "../../src/core/profile/sg_diff.h"
#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/write/sg_diff_write.h"
#include "sg_test.h"

#define NEAR(a, b, eps) (fabs((double)(a) - (double)(b)) <= (eps))

static uint32_t S(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static uint32_t L(sg_profile *p, const char *name, const char *file, int first, int line)
{
    return sg_profile_location(p, sg_profile_function(p, S(p, name), S(p, file), first), line);
}

static sg_profile *sampled(int64_t interval_ns)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->mode = SG_MODE_SAMPLE;
    m->interval_ns = interval_ns;
    m->rate_hz = 1e9 / (double)interval_ns;
    const char *t[] = {"samples"}, *u[] = {"count"};
    sg_profile_set_value_types(p, 1, t, u);
    return p;
}

static sg_profile *traced(void)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->mode = SG_MODE_TRACE;
    const char *t[] = {"calls", "time"}, *u[] = {"count", "nanoseconds"};
    sg_profile_set_value_types(p, 2, t, u);
    return p;
}

static uint32_t track(sg_profile *p) { return sg_profile_track(p, sg_profile_process(p, 1), 1); }

/* Adds v to the stack given as locations, root first. */
static void stack(sg_profile *p, int64_t v0, int64_t v1, uint32_t flags, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    uint32_t node = SG_ROOT;
    for (int i = 0; i < n; i++)
        node = sg_profile_child(p, node, va_arg(ap, uint32_t));
    va_end(ap);
    int64_t vals[SG_MAX_VALUES] = {v0, v1};
    sg_profile_add(p, track(p), node, flags, vals);
}

static const sg_diff_row *find(const sg_diff *d, const char *name, bool lines, int32_t line)
{
    const sg_diff_row *rows = lines ? d->lines : d->funcs;
    size_t n = lines ? d->nlines : d->nfuncs;
    for (size_t i = 0; i < n; i++) {
        uint32_t fn;
        const sg_profile *p = sg_diff_row_profile(d, &rows[i], &fn);
        const char *s = sg_profile_str(p, sg_profile_functions(p)[fn].name);
        int side = rows[i].fn[SG_DIFF_NEW] != SG_NONE ? SG_DIFF_NEW : SG_DIFF_BASE;
        if (strcmp(s, name) == 0 && (!lines || rows[i].line[side] == line))
            return &rows[i];
    }
    return NULL;
}

/* BASE: main -> a 30, main -> b 30, main -> c 40 (1 ms a sample).
 * NEW: b got 3x slower and moved down two lines (an import added above it); c got a
 * new helper d; 2 ms a sample, so the NEW run has half as many samples per second. */
static void pair_abc(sg_profile **base, sg_profile **nw)
{
    sg_profile *b = sampled(1000000), *n = sampled(2000000);
    const char *f = "/app/app.py";
    uint32_t m = L(b, "main", f, 1, 3);
    stack(b, 30, 0, 0, 2, m, L(b, "a", f, 10, 11));
    stack(b, 30, 0, 0, 2, m, L(b, "b", f, 20, 21));
    stack(b, 40, 0, 0, 2, m, L(b, "c", f, 30, 31));
    m = L(n, "main", f, 1, 3);
    stack(n, 30, 0, 0, 2, m, L(n, "a", f, 10, 11));
    stack(n, 90, 0, 0, 2, m, L(n, "b", f, 22, 23));
    stack(n, 30, 0, 0, 2, m, L(n, "c", f, 32, 33));
    stack(n, 10, 0, 0, 3, m, L(n, "c", f, 32, 34), L(n, "d", f, 40, 41));
    *base = b;
    *nw = n;
}

static void test_functions_match_and_order(void)
{
    sg_profile *b, *n;
    pair_abc(&b, &n);
    sg_error err;
    sg_diff *d = sg_diff_new(b, n, NULL, &err);
    SG_CHECK(d != NULL);
    if (!d)
        return;
    SG_CHECK_EQ_INT(d->in[0].grand, 100);
    SG_CHECK_EQ_INT(d->in[1].grand, 160);
    SG_CHECK_EQ_INT(d->nfuncs, 5); /* main a b c d: b matched despite its new first line */
    const sg_diff_row *rb = find(d, "b", false, 0);
    SG_CHECK(rb == &d->funcs[0]); /* the biggest change comes first */
    SG_CHECK(rb && rb->status == SG_DIFF_CHANGED);
    SG_CHECK(rb && rb->line[0] == 20 && rb->line[1] == 22);
    SG_CHECK(rb && NEAR(rb->d_self, 90.0 / 160 - 0.30, 1e-12));
    SG_CHECK(rb && !sg_diff_within_noise(rb, SG_DIFF_SELF));
    /* seconds: 30 x 1 ms before, 90 x 2 ms after */
    SG_CHECK(rb && NEAR(sg_diff_seconds(d, 0, rb->side[0].self), 0.030, 1e-12));
    SG_CHECK(rb && NEAR(sg_diff_seconds(d, 1, rb->side[1].self), 0.180, 1e-12));
    const sg_diff_row *rd = find(d, "d", false, 0), *rc = find(d, "c", false, 0);
    SG_CHECK(rd && rd->status == SG_DIFF_ADDED && rd->side[0].total == 0);
    SG_CHECK(rc && rc->side[1].total == 40 && rc->side[1].self == 30);
    SG_CHECK(rc && rc->d_total < 0);
    const sg_diff_row *rm = find(d, "main", false, 0);
    SG_CHECK(rm && rm->d_total == 0 && rm->d_self == 0 && rm->impact == 0);
    SG_CHECK(rm == &d->funcs[d->nfuncs - 1]);
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

/* Namesakes (lambdas) in one file pair with the nearest first line; a function that
 * exists only in BASE is removed. */
static void test_namesakes_pair_by_nearest_line(void)
{
    sg_profile *b = sampled(1000000), *n = sampled(1000000);
    const char *f = "/app/l.py";
    stack(b, 10, 0, 0, 1, L(b, "<lambda>", f, 5, 5));
    stack(b, 20, 0, 0, 1, L(b, "<lambda>", f, 9, 9));
    stack(b, 5, 0, 0, 1, L(b, "gone", f, 50, 50));
    stack(n, 11, 0, 0, 1, L(n, "<lambda>", f, 7, 7));
    stack(n, 19, 0, 0, 1, L(n, "<lambda>", f, 11, 11));
    stack(n, 5, 0, 0, 1, L(n, "<lambda>", "/app/other.py", 9, 9));
    sg_error err;
    sg_diff *d = sg_diff_new(b, n, NULL, &err);
    SG_CHECK(d && d->nfuncs == 4);
    for (size_t i = 0; d && i < d->nfuncs; i++) {
        const sg_diff_row *r = &d->funcs[i];
        if (r->line[0] == 5)
            SG_CHECK(r->line[1] == 7 && r->side[1].self == 11);
        if (r->line[0] == 9)
            SG_CHECK(r->line[1] == 11 && r->side[1].self == 19);
        if (r->fn[0] == SG_NONE)
            SG_CHECK(r->status == SG_DIFF_ADDED && r->side[1].self == 5);
        if (r->fn[1] == SG_NONE)
            SG_CHECK(r->status == SG_DIFF_REMOVED && r->side[0].self == 5);
    }
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

/* Recursion counts each stack once in a total; names with the same text in different
 * string tables match. */
static void test_recursion_total_once(void)
{
    sg_profile *b = sampled(1000000), *n = sampled(1000000);
    sg_profile_intern(n, "padding so ids differ", 21);
    const char *f = "/app/r.py";
    uint32_t fb = L(b, "fib", f, 1, 2);
    stack(b, 50, 0, 0, 3, fb, fb, fb);
    stack(b, 50, 0, 0, 1, L(b, "other", f, 9, 9));
    uint32_t fn = L(n, "fib", f, 1, 2);
    stack(n, 50, 0, 0, 2, fn, fn);
    stack(n, 50, 0, 0, 1, L(n, "other", f, 9, 9));
    sg_error err;
    sg_diff_opts o = {.flame = true};
    sg_diff *d = sg_diff_new(b, n, &o, &err);
    const sg_diff_row *r = d ? find(d, "fib", false, 0) : NULL;
    SG_CHECK(r && r->side[0].total == 50 && r->side[1].total == 50);
    SG_CHECK(r && r->d_total == 0 && r->d_self == 0);
    /* the merged tree: root, fib, fib, fib, other; width of NEW, values of both */
    SG_CHECK(d && d->nframes == 5);
    if (d && d->nframes == 5) {
        SG_CHECK_EQ_INT(d->frames[0].total[0], 100);
        SG_CHECK_EQ_INT(d->frames[0].total[1], 100);
        size_t deep = 0;
        for (size_t i = 1; i < d->nframes; i++) {
            SG_CHECK(d->frames[i].parent < i);
            SG_CHECK(d->frames[i].depth == d->frames[d->frames[i].parent].depth + 1);
            if (d->frames[i].depth == 3) {
                deep = i;
                SG_CHECK(&d->funcs[d->frames[i].row] == r);
            }
        }
        SG_CHECK(deep && d->frames[deep].self[0] == 50 && d->frames[deep].total[1] == 0);
        SG_CHECK(deep && d->frames[d->frames[deep].parent].self[1] == 50);
    }
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

/* Binomial noise: 10% -> 11% of 1000 samples is noise, 10% -> 20% is not; the bound is
 * three standard errors of the share difference. */
static void test_sampling_noise(void)
{
    sg_profile *b = sampled(1000000), *n1 = sampled(1000000), *n2 = sampled(1000000);
    const char *f = "/app/n.py";
    stack(b, 100, 0, 0, 1, L(b, "f", f, 1, 1));
    stack(b, 900, 0, 0, 1, L(b, "g", f, 5, 5));
    stack(n1, 110, 0, 0, 1, L(n1, "f", f, 1, 1));
    stack(n1, 890, 0, 0, 1, L(n1, "g", f, 5, 5));
    stack(n2, 200, 0, 0, 1, L(n2, "f", f, 1, 1));
    stack(n2, 800, 0, 0, 1, L(n2, "g", f, 5, 5));
    sg_error err;
    sg_diff *d1 = sg_diff_new(b, n1, NULL, &err), *d2 = sg_diff_new(b, n2, NULL, &err);
    const sg_diff_row *r1 = d1 ? find(d1, "f", false, 0) : NULL;
    const sg_diff_row *r2 = d2 ? find(d2, "f", false, 0) : NULL;
    SG_CHECK(r1 && sg_diff_within_noise(r1, SG_DIFF_SELF));
    SG_CHECK(r2 && !sg_diff_within_noise(r2, SG_DIFF_SELF));
    double q1 = 101.0 / 1002, q2 = 111.0 / 1002;
    double want = 3 * sqrt(q1 * (1 - q1) / 1000 + q2 * (1 - q2) / 1000);
    SG_CHECK(r1 && NEAR(r1->noise_self, want, 1e-12));
    /* a function never seen still has an uncertainty (Laplace estimate) */
    SG_CHECK(r1 && r1->noise_total > 0);
    sg_diff_free(d1);
    sg_diff_free(d2);
    sg_profile_free(b);
    sg_profile_free(n1);
    sg_profile_free(n2);
}

/* Same shares at different rates: no change, and the same seconds. */
static void test_different_rates_normalize(void)
{
    sg_profile *b = sampled(1000000), *n = sampled(10000000);
    const char *f = "/app/x.py";
    stack(b, 600, 0, 0, 1, L(b, "f", f, 1, 1));
    stack(b, 400, 0, 0, 1, L(b, "g", f, 5, 5));
    stack(n, 60, 0, 0, 1, L(n, "f", f, 1, 1));
    stack(n, 40, 0, 0, 1, L(n, "g", f, 5, 5));
    sg_error err;
    sg_diff *d = sg_diff_new(b, n, NULL, &err);
    const sg_diff_row *r = d ? find(d, "f", false, 0) : NULL;
    SG_CHECK(r && NEAR(r->d_self, 0, 1e-12) && sg_diff_within_noise(r, SG_DIFF_SELF));
    SG_CHECK(r && NEAR(sg_diff_seconds(d, 0, r->side[0].self),
                       sg_diff_seconds(d, 1, r->side[1].self), 1e-9));
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

/* Traced profiles compare nanoseconds (column 1), with a relative noise floor; a traced
 * profile also compares with a sampled one. */
static void test_traced(void)
{
    sg_profile *b = traced(), *n = traced(), *s = sampled(1000000);
    const char *f = "/app/t.py";
    uint32_t m = L(b, "main", f, 1, 1);
    stack(b, 1, 1000000, 0, 1, m);
    stack(b, 10, 3000000, 0, 2, m, L(b, "f", f, 5, 5));
    stack(b, 10, 6000000, 0, 2, m, L(b, "g", f, 9, 9));
    m = L(n, "main", f, 1, 1);
    stack(n, 1, 1000000, 0, 1, m);
    stack(n, 10, 3030000, 0, 2, m, L(n, "f", f, 5, 5)); /* +1%: noise */
    stack(n, 10, 12000000, 0, 2, m, L(n, "g", f, 9, 9)); /* 2x */
    stack(s, 100, 0, 0, 1, L(s, "f", f, 5, 5));
    sg_error err;
    sg_diff *d = sg_diff_new(b, n, NULL, &err);
    SG_CHECK(d && d->in[0].col == 1 && d->in[0].grand == 10000000 && !d->in[0].sampled);
    const sg_diff_row *rf = d ? find(d, "f", false, 0) : NULL;
    const sg_diff_row *rg = d ? find(d, "g", false, 0) : NULL;
    SG_CHECK(rg == &d->funcs[0]);
    SG_CHECK(rg && !sg_diff_within_noise(rg, SG_DIFF_SELF));
    SG_CHECK(rg && NEAR(sg_diff_seconds(d, 1, rg->side[1].self), 0.012, 1e-12));
    /* f's time barely moved; its share fell because g grew, far beyond noise */
    SG_CHECK(rf && rf->d_self < 0);
    SG_CHECK(rf && NEAR(sg_diff_time_noise(d, rf, SG_DIFF_SELF),
                        3 * sqrt(pow(0.01 * 0.003, 2) + pow(0.01 * 0.00303, 2)), 1e-12));
    sg_diff_free(d);
    d = sg_diff_new(b, s, NULL, &err);
    rf = d ? find(d, "f", false, 0) : NULL;
    SG_CHECK(rf && NEAR(rf->side[0].self_share, 0.3, 1e-12) &&
             NEAR(rf->side[1].self_share, 1.0, 1e-12));
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
    sg_profile_free(s);
}

/* Lines: by place, a function moved two lines down has all-new lines; by offset from
 * the function's first line, its lines match. */
static void test_lines_place_and_offset(void)
{
    sg_profile *b = sampled(1000000), *n = sampled(1000000);
    const char *f = "/app/lines.py";
    stack(b, 70, 0, 0, 1, L(b, "h", f, 10, 12));
    stack(b, 30, 0, 0, 1, L(b, "h", f, 10, 13));
    stack(n, 40, 0, 0, 1, L(n, "h", f, 12, 14));
    stack(n, 60, 0, 0, 1, L(n, "h", f, 12, 15));
    sg_error err;
    sg_diff_opts o = {.lines = true, .line_match = SG_DIFF_LINE_PLACE};
    sg_diff *d = sg_diff_new(b, n, &o, &err);
    SG_CHECK(d && d->nlines == 4); /* 12 and 13 removed, 14 and 15 added */
    const sg_diff_row *r = d ? find(d, "h", true, 12) : NULL;
    SG_CHECK(r && r->status == SG_DIFF_REMOVED);
    sg_diff_free(d);
    o.line_match = SG_DIFF_LINE_OFFSET;
    d = sg_diff_new(b, n, &o, &err);
    SG_CHECK(d && d->nlines == 2);
    r = d ? find(d, "h", true, 15) : NULL;
    SG_CHECK(r && r->status == SG_DIFF_CHANGED && r->line[0] == 13 && r->line[1] == 15);
    SG_CHECK(r && NEAR(r->d_self, 0.30, 1e-12));
    SG_CHECK(r == &d->lines[0] || NEAR(d->lines[0].impact, 0.30, 1e-12));
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

/* A --clock cpu profile counts only its on-CPU samples. */
static void test_cpu_clock(void)
{
    sg_profile *b = sampled(1000000), *n = sampled(1000000);
    sg_profile_meta_of(b)->clock = SG_CLOCK_CPU;
    const char *f = "/app/c.py";
    stack(b, 50, 0, SG_F_ONCPU, 1, L(b, "f", f, 1, 1));
    stack(b, 50, 0, 0, 1, L(b, "f", f, 1, 1));
    stack(n, 50, 0, 0, 1, L(n, "f", f, 1, 1));
    sg_error err;
    sg_diff *d = sg_diff_new(b, n, NULL, &err);
    SG_CHECK(d && d->in[0].grand == 50 && d->in[1].grand == 50);
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

static void test_check(void)
{
    sg_profile *b, *n;
    pair_abc(&b, &n);
    sg_error err;
    sg_diff_opts o = {.metric = SG_DIFF_SELF};
    sg_diff *d = sg_diff_new(b, n, &o, &err);
    sg_check_opts co = {.max_regression = 0.10, .metric = SG_DIFF_SELF, .min_share = 0.01};
    sg_check_result r;
    /* b: 30% -> 56%: flagged; d is new: counted, not judged */
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 1);
    SG_CHECK(r.n == 1 && r.items[0].row == find(d, "b", false, 0));
    SG_CHECK(r.n == 1 && NEAR(r.items[0].growth, (90.0 / 160) / 0.30 - 1, 1e-12));
    SG_CHECK_EQ_INT(r.added, 1);
    SG_CHECK_EQ_INT(r.compared, 3); /* a, b, c (main has no self) */
    sg_check_result_free(&r);
    /* a threshold above the growth passes */
    co.max_regression = 1.0;
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 0);
    sg_check_result_free(&r);
    /* restricted to a and c: passes; a glob that matches nothing is reported */
    const char *globs[] = {"a", "/app/*:c", "nothing*"};
    co.max_regression = 0.10;
    co.globs = globs;
    co.nglobs = 3;
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 0);
    SG_CHECK_EQ_INT(r.compared, 2);
    SG_CHECK_EQ_INT(r.unmatched_glob, 3);
    sg_check_result_free(&r);
    /* by time: a took 30 ms in both runs; b 30 -> 180 ms */
    co.globs = NULL;
    co.nglobs = 0;
    co.time = true;
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 1);
    SG_CHECK(r.n == 1 && NEAR(r.items[0].before, 0.030, 1e-12) &&
             NEAR(r.items[0].after, 0.180, 1e-12));
    sg_check_result_free(&r);
    /* min_share above everything: nothing compared */
    co.time = false;
    co.min_share = 0.9;
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 0);
    SG_CHECK_EQ_INT(r.compared, 0);
    sg_check_result_free(&r);
    sg_diff_free(d);
    /* the same profile against itself never fails */
    d = sg_diff_new(b, b, &o, &err);
    co.min_share = 0;
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 0);
    SG_CHECK_EQ_INT(r.compared, 3);
    sg_check_result_free(&r);
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

/* Within noise: a 2x growth of a function seen 2 times in 100 samples is not flagged. */
static void test_check_noise(void)
{
    sg_profile *b = sampled(1000000), *n = sampled(1000000);
    const char *f = "/app/z.py";
    stack(b, 2, 0, 0, 1, L(b, "rare", f, 1, 1));
    stack(b, 98, 0, 0, 1, L(b, "main", f, 5, 5));
    stack(n, 4, 0, 0, 1, L(n, "rare", f, 1, 1));
    stack(n, 96, 0, 0, 1, L(n, "main", f, 5, 5));
    sg_error err;
    sg_diff *d = sg_diff_new(b, n, NULL, &err);
    sg_check_opts co = {.max_regression = 0.10, .min_share = 0.01};
    sg_check_result r;
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 0);
    SG_CHECK_EQ_INT(r.noisy, 1);
    sg_check_result_free(&r);
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

static void test_glob_match(void)
{
    SG_CHECK(sg_diff_glob_match("Foo.*", "/a/b.py", "Foo.bar"));
    SG_CHECK(!sg_diff_glob_match("Foo.*", "/a/b.py", "Baz.bar"));
    SG_CHECK(sg_diff_glob_match("*/b.py:Foo.*", "/a/b.py", "Foo.bar"));
    SG_CHECK(!sg_diff_glob_match("*/c.py:*", "/a/b.py", "Foo.bar"));
}

/* Empty profiles and a profile against an empty one. */
static void test_empty(void)
{
    sg_profile *e = sampled(1000000), *b = sampled(1000000);
    stack(b, 10, 0, 0, 1, L(b, "f", "/f.py", 1, 1));
    sg_error err;
    sg_diff_opts o = {.lines = true, .flame = true};
    sg_diff *d = sg_diff_new(e, e, &o, &err);
    SG_CHECK(d && d->nfuncs == 0 && d->nlines == 0 && d->nframes == 1);
    sg_diff_free(d);
    d = sg_diff_new(e, b, &o, &err);
    SG_CHECK(d && d->nfuncs == 1 && d->funcs[0].status == SG_DIFF_ADDED);
    sg_diff_free(d);
    SG_CHECK(sg_diff_new(NULL, b, &o, &err) == NULL && err.code == SG_E_ARG);
    sg_profile_free(e);
    sg_profile_free(b);
}


/* Two checkouts in different directories, each with a function f in app/x.py and in
 * lib/x.py: each pairs with the one sharing the most trailing directories, and lines
 * matched by place follow NEW's path. */
static void test_other_checkout(void)
{
    sg_profile *b = sampled(1000000), *n = sampled(1000000);
    stack(b, 10, 0, 0, 1, L(b, "f", "/ci/1/app/x.py", 3, 4));
    stack(b, 20, 0, 0, 1, L(b, "f", "/ci/1/lib/x.py", 3, 4));
    stack(n, 11, 0, 0, 1, L(n, "f", "/home/me/lib/x.py", 3, 4));
    stack(n, 19, 0, 0, 1, L(n, "f", "/home/me/app/x.py", 3, 4));
    sg_error err;
    sg_diff_opts o = {.lines = true};
    sg_diff *d = sg_diff_new(b, n, &o, &err);
    SG_CHECK(d && d->nfuncs == 2 && d->nlines == 2);
    for (size_t i = 0; d && i < d->nfuncs; i++) {
        const sg_diff_row *r = &d->funcs[i];
        SG_CHECK(r->status == SG_DIFF_CHANGED);
        SG_CHECK(r->side[0].self == 10 ? r->side[1].self == 19 : r->side[1].self == 11);
    }
    for (size_t i = 0; d && i < d->nlines; i++)
        SG_CHECK(d->lines[i].status == SG_DIFF_CHANGED);
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

static char *render(const sg_diff *d, const char *format, const sg_diff_write_opts *o)
{
    sg_buf b;
    sg_buf_init(&b);
    sg_error err;
    if (sg_diff_write(d, format, o, &b, &err)) {
        fprintf(stderr, "sg_diff_write %s: %s\n", format, err.msg);
        sg_buf_free(&b);
        return NULL;
    }
    return sg_buf_steal(&b, NULL);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Names from the profiled program reach every format escaped: markup in a function
 * name, terminal escapes and quotes in a file name, invalid UTF-8, an embedded NUL. */
static void test_writers_escape_names(void)
{
    sg_profile *b = sampled(1000000), *n = sampled(1000000);
    const char *evil = "<script>alert(\"x\")</script>";
    const char *file = "/tmp/a&b\x1b[31m'q'.py";
    uint32_t nul = sg_profile_intern(n, "nul\0byte\xff", 9);
    stack(b, 10, 0, 0, 1, L(b, evil, file, 1, 2));
    stack(b, 10, 0, 0, 1, L(b, "ok", "/tmp/ok.py", 1, 2));
    stack(n, 30, 0, 0, 1, L(n, evil, file, 1, 2));
    stack(n, 10, 0, 0, 1, L(n, "ok", "/tmp/ok.py", 1, 2));
    uint32_t fz = sg_profile_function(n, nul, S(n, "/tmp/ok.py"), 9);
    stack(n, 5, 0, 0, 1, sg_profile_location(n, fz, 9));
    sg_error err;
    sg_diff_opts o = {.lines = true, .flame = true};
    sg_diff *d = sg_diff_new(b, n, &o, &err);
    sg_diff_write_opts wo;
    sg_diff_write_opts_init(&wo);
    wo.base_label = "<b>base";
    wo.new_label = "new\x1b]0;x\x07";
    char *html = render(d, "html", &wo), *svg = render(d, "svg", &wo);
    char *json = render(d, "json", &wo), *text = render(d, "text", &wo);
    SG_CHECK(html && svg && json && text);
    if (html && svg && json && text) {
        SG_CHECK_EQ_INT(count(html, "<script"), 1);
        SG_CHECK_EQ_INT(count(svg, "<script"), 1);
        SG_CHECK(strstr(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        SG_CHECK(strstr(svg, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        SG_CHECK(strstr(html, "/tmp/a&amp;b\\x1b[31m&#39;q&#39;.py:1"));
        SG_CHECK(strstr(html, "&lt;b&gt;base") && !strstr(html, "<b>base"));
        SG_CHECK(strstr(html, "nul\\x00byte\\xff"));
        SG_CHECK(!strchr(html, '\x1b') && !strchr(svg, '\x1b') && !strchr(json, '\x1b'));
        SG_CHECK(!strchr(html, '\x07') && !strchr(svg, '\x07'));
        SG_CHECK(strstr(json, "\"name\":\"\\u003cscript\\u003ealert(\\\"x\\\")"
                              "\\u003c/script\\u003e\""));
        SG_CHECK(strstr(json, "\"file\":\"/tmp/a\\u0026b\\u001b[31m'q'.py\""));
        SG_CHECK(strstr(json, "\"name\":\"nul\\u0000byte\\ufffd\""));
        SG_CHECK(strstr(json, "\"label\":\"new\\u001b]0;x\\u0007\""));
        for (const char *c = text; *c; c++)
            SG_CHECK((unsigned char)*c >= 0x20 || *c == '\n');
        SG_CHECK(strstr(text, evil) && strstr(text, "\\x1b[31m"));
    }
    free(html);
    free(svg);
    free(json);
    free(text);
    sg_diff_free(d);
    sg_profile_free(b);
    sg_profile_free(n);
}

/* Formats, and what each needs: the flame graph formats refuse a diff without the
 * merged tree; an unknown format says which exist. */
static void test_writers_formats(void)
{
    sg_profile *b, *n;
    pair_abc(&b, &n);
    sg_error err;
    sg_diff *d = sg_diff_new(b, n, NULL, &err);
    sg_buf out;
    sg_buf_init(&out);
    SG_CHECK(sg_diff_write(d, "svg", NULL, &out, &err) == -1 && err.code == SG_E_ARG);
    SG_CHECK(sg_diff_write(d, "pdf", NULL, &out, &err) == -1 && err.code == SG_E_FORMAT);
    SG_CHECK(strstr(err.msg, "text,json,html,svg") != NULL);
    SG_CHECK(sg_diff_write(d, "text", NULL, &out, &err) == 0);
    const char *t = sg_buf_cstr(&out);
    /* the first table row names b, slower, with its time change: 30 ms -> 180 ms */
    const char *row = strstr(t, "defined at\n");
    SG_CHECK(row && strncmp(row + 11, "  slower", 8) == 0);
    SG_CHECK(row && strstr(row, "+0.150  b ") != NULL);
    SG_CHECK(strstr(t, "1 slower, 1 faster (beyond noise), 1 added, 0 removed") != NULL);
    sg_buf_free(&out);
    sg_diff_free(d);
    /* the flame graph: b is red, a and c blue (their self shares fell), main grey */
    sg_diff_opts o = {.flame = true};
    d = sg_diff_new(b, n, &o, &err);
    sg_buf_init(&out);
    SG_CHECK(sg_diff_write(d, "svg", NULL, &out, &err) == 0);
    t = sg_buf_cstr(&out);
    const char *fb = strstr(t, "data-n=\"b\"");
    const char *fm = strstr(t, "data-n=\"main\"");
    SG_CHECK(fb && strstr(fb, "fill=\"rgb(255,35,35)\"") == strstr(fb, "fill="));
    SG_CHECK(fm && strstr(fm, "fill=\"rgb(221,221,221)\"") == strstr(fm, "fill="));
    SG_CHECK(count(t, "<g class=\"f\"") == 6); /* all main a b c d */
    sg_buf_free(&out);
    sg_diff_free(d);
    /* an empty NEW still renders */
    sg_profile *e = sampled(1000000);
    d = sg_diff_new(b, e, &o, &err);
    sg_buf_init(&out);
    SG_CHECK(sg_diff_write(d, "html", NULL, &out, &err) == 0);
    SG_CHECK(strstr(sg_buf_cstr(&out), "NEW holds no samples") != NULL);
    sg_buf_free(&out);
    sg_diff_free(d);
    sg_profile_free(e);
    sg_profile_free(b);
    sg_profile_free(n);
}

static void test_check_text(void)
{
    sg_profile *b, *n;
    pair_abc(&b, &n);
    sg_error err;
    sg_diff *d = sg_diff_new(b, n, NULL, &err);
    sg_check_opts co = {.max_regression = 0.10, .min_share = 0.01};
    sg_check_result r;
    sg_diff_write_opts wo;
    sg_diff_write_opts_init(&wo);
    sg_buf out;
    sg_buf_init(&out);
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 1);
    sg_diff_check_write(d, &co, &r, &wo, &out);
    const char *t = sg_buf_cstr(&out);
    SG_CHECK(strncmp(t, "spyglass check: FAILED: 1 function regressed", 44) == 0);
    SG_CHECK(strstr(t, "  b (/app/app.py:22): self share 30.0% -> 56.2% (+88% > 10.0% allowed; "
                       "the rise of 26.2 points exceeds the noise bound of ") != NULL);
    sg_check_result_free(&r);
    co.max_regression = 1.0;
    sg_buf_reset(&out);
    SG_CHECK_EQ_INT(sg_diff_check(d, &co, &r, &err), 0);
    sg_diff_check_write(d, &co, &r, &wo, &out);
    t = sg_buf_cstr(&out);
    SG_CHECK(strchr(t, '\n') == t + strlen(t) - 1); /* one line */
    SG_CHECK(strstr(t, "ok: 3 functions compared") && strstr(t, "1 new functions not judged"));
    sg_check_result_free(&r);
    sg_buf_free(&out);
    sg_diff_free(d);
    /* an empty profile is bad input */
    sg_profile *e = sampled(1000000);
    d = sg_diff_new(e, n, NULL, &err);
    SG_CHECK(sg_diff_check(d, &co, &r, &err) == -1 && err.code == SG_E_ARG);
    SG_CHECK(strstr(err.msg, "baseline profile holds no samples") != NULL);
    sg_diff_free(d);
    sg_profile_free(e);
    sg_profile_free(b);
    sg_profile_free(n);
}

int main(void)
{
    SG_RUN(test_functions_match_and_order);
    SG_RUN(test_namesakes_pair_by_nearest_line);
    SG_RUN(test_recursion_total_once);
    SG_RUN(test_sampling_noise);
    SG_RUN(test_different_rates_normalize);
    SG_RUN(test_traced);
    SG_RUN(test_lines_place_and_offset);
    SG_RUN(test_cpu_clock);
    SG_RUN(test_check);
    SG_RUN(test_check_noise);
    SG_RUN(test_glob_match);
    SG_RUN(test_empty);
    SG_RUN(test_other_checkout);
    SG_RUN(test_writers_escape_names);
    SG_RUN(test_writers_formats);
    SG_RUN(test_check_text);
    SG_TEST_MAIN_END();
}
