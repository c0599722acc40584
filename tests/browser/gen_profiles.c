/* Writes the profiles the browser tests and the visual benchmark open, built by hand
 * through the model's API (so traced profiles exist before the tracer does, and every
 * number is known):
 *
 *   gen_profiles models DIR              traced.pb.gz, lines.pb.gz, multi.pb.gz,
 *                                        hostile.pb.gz, deep.pb.gz
 *   gen_profiles big FILE STACKS SAMPLES a sampled profile of SAMPLES samples over
 *                                        STACKS distinct stacks (8 threads, skewed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/profile/sg_profile.h"

static uint32_t S(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static uint32_t L(sg_profile *p, const char *name, const char *file, int first, int line)
{
    return sg_profile_location(p, sg_profile_function(p, S(p, name), S(p, file), first), line);
}

static void add(sg_profile *p, uint32_t track, uint32_t node, uint32_t flags, int64_t v0,
                int64_t v1)
{
    int64_t vals[SG_MAX_VALUES] = {v0, v1};
    sg_profile_add(p, track, node, flags, vals);
}

static uint32_t thread(sg_profile *p, uint32_t pid, uint64_t tid, const char *name, bool main)
{
    uint32_t t = sg_profile_track(p, sg_profile_process(p, pid), tid);
    sg_profile_tracks(p)[t].name = S(p, name);
    sg_profile_tracks(p)[t].is_main = main;
    return t;
}

static int save(sg_profile *p, const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    sg_error err;
    int rc = sg_profile_save(p, path, &err);
    if (rc)
        fprintf(stderr, "gen_profiles: %s: %s\n", path, err.msg);
    sg_profile_free(p);
    return rc;
}

static void sampled_meta(sg_profile *p, const char *command)
{
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->rate_hz = 1000;
    m->interval_ns = 1000000;
    m->duration_ns = 2000000000;
    m->ticks_requested = 2000;
    m->ticks_taken = 1990;
    sg_profile_set_attr(p, "command", command);
    sg_profile_set_attr(p, "python", "3.12.1");
}

/* Two processes. pid 100: MainThread (main -> compute 600 on CPU, main -> sleep 200
 * idle) and worker-1 (run -> crunch 300, 50 of them partial). pid 200: MainThread
 * (serve -> handle 400). Total 1500. */
static sg_profile *multi(void)
{
    sg_profile *p = sg_profile_new();
    sampled_meta(p, "python server.py --workers 2");
    uint32_t pr = sg_profile_process(p, 100);
    sg_profile_processes(p)[pr].samples_ok = 1000;
    sg_profile_processes(p)[pr].samples_failed = 10;
    uint32_t a = thread(p, 100, 1001, "MainThread", true);
    uint32_t b = thread(p, 100, 1002, "worker-1", false);
    uint32_t c = thread(p, 200, 2001, "MainThread", true);
    uint32_t mn = sg_profile_child(p, SG_ROOT, L(p, "main", "/srv/app.py", 1, 3));
    add(p, a, sg_profile_child(p, mn, L(p, "compute", "/srv/app.py", 10, 12)),
        SG_F_ONCPU | SG_F_GIL, 600, 0);
    uint32_t mn2 = sg_profile_child(p, SG_ROOT, L(p, "main", "/srv/app.py", 1, 4));
    add(p, a, sg_profile_child(p, mn2, L(p, "sleep", "/usr/lib/python3.12/time.py", 1, 1)), 0,
        200, 0);
    uint32_t run = sg_profile_child(p, SG_ROOT, L(p, "run", "/srv/worker.py", 1, 2));
    uint32_t cr = sg_profile_child(p, run, L(p, "crunch", "/srv/worker.py", 5, 6));
    add(p, b, cr, SG_F_ONCPU | SG_F_GIL, 250, 0);
    add(p, b, cr, SG_F_ONCPU | SG_F_PARTIAL, 50, 0);
    uint32_t sv = sg_profile_child(p, SG_ROOT, L(p, "serve", "/srv/app.py", 30, 31));
    add(p, c, sg_profile_child(p, sv, L(p, "handle", "/srv/app.py", 40, 41)), SG_F_ONCPU, 400, 0);
    return p;
}

/* Traced, function level: calls and self time in nanoseconds. main (1 call, self
 * 0.5 s) -> parse (10 calls, 1.5 s) and main -> fib -> fib (recursion: 1 + 20 calls,
 * 0.2 + 0.8 s); a worker thread: loop -> parse (5 calls, 1.0 s). Total 4.0 s. */
static sg_profile *traced(sg_mode mode)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->mode = mode;
    m->duration_ns = 4500000000;
    const char *types[] = {mode == SG_MODE_LINES ? "hits" : "calls", "time"};
    const char *units[] = {"count", "nanoseconds"};
    sg_profile_set_value_types(p, 2, types, units);
    sg_profile_set_attr(p, "command", "python job.py");
    sg_profile_set_attr(p, "python", "3.13.0");
    uint32_t t = thread(p, 300, 3001, "MainThread", true);
    uint32_t w = thread(p, 300, 3002, "worker", false);
    bool lines = mode == SG_MODE_LINES;
    uint32_t mn = sg_profile_child(p, SG_ROOT, L(p, "main", "/job/job.py", 1, lines ? 3 : 1));
    add(p, t, mn, 0, 1, 500000000);
    add(p, t, sg_profile_child(p, mn, L(p, "parse", "/job/job.py", 10, lines ? 12 : 10)), 0, 10,
        1500000000);
    uint32_t f1 = sg_profile_child(p, mn, L(p, "fib", "/job/job.py", 20, lines ? 22 : 20));
    add(p, t, f1, 0, 1, 200000000);
    add(p, t, sg_profile_child(p, f1, L(p, "fib", "/job/job.py", 20, lines ? 23 : 20)), 0, 20,
        800000000);
    uint32_t lp = sg_profile_child(p, SG_ROOT, L(p, "loop", "/job/job.py", 30, lines ? 31 : 30));
    add(p, w, sg_profile_child(p, lp, L(p, "parse", "/job/job.py", 10, lines ? 12 : 10)), 0, 5,
        1000000000);
    return p;
}

/* Names a profiled program could choose. If any of them ran as code, the page would
 * show a dialog or a console error; the tests check that neither happens. */
static sg_profile *hostile(void)
{
    sg_profile *p = sg_profile_new();
    sampled_meta(p, "<script>alert('command')</script>");
    sg_profile_set_attr(p, "python", "3.12\"><img src=x onerror=alert('py')>");
    uint32_t t = thread(p, 1, 1, "</script><script>alert('thread')</script>", true);
    const char *file = "/tmp/q\"u'o<t>e&</script>.py";
    const char *names[] = {
        "<script>alert('name')</script>",
        "<img src=x onerror=alert('img')>",
        "]]><script>alert('cdata')</script>",
        "line\xe2\x80\xa8separator\xe2\x80\xa9para",
        "\xe2\x80\xae" "reversed",
        "bad\xff\xfe" "utf8\x01\x1b[31m",
        "x\" onmouseover=\"alert('attr')",
        "</textarea><!--",
    };
    uint32_t root = sg_profile_child(p, SG_ROOT, L(p, "<module>", file, 1, 1));
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        add(p, t, sg_profile_child(p, root, L(p, names[i], file, (int)i + 2, (int)i + 2)),
            SG_F_ONCPU, (int64_t)(100 + 10 * i), 0);
    return p;
}

/* A recursion 2500 frames deep (deeper than a canvas can be tall) beside a shallow
 * stack: 70 samples at the bottom of the recursion, 30 in shallow. */
static sg_profile *deep(void)
{
    sg_profile *p = sg_profile_new();
    sampled_meta(p, "python deep.py");
    uint32_t t = thread(p, 9, 9, "MainThread", true);
    uint32_t n = sg_profile_child(p, SG_ROOT, L(p, "main", "/d/deep.py", 1, 2));
    add(p, t, sg_profile_child(p, n, L(p, "shallow", "/d/deep.py", 10, 11)), SG_F_ONCPU, 30, 0);
    for (int i = 0; i < 2500; i++)
        n = sg_profile_child(p, n, L(p, "recurse", "/d/deep.py", 5, 6));
    add(p, t, n, SG_F_ONCPU, 70, 0);
    return p;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

/* STACKS distinct stacks as random walks over a call graph of 6000 functions in 600
 * files (a tenth of them in the standard library), 8 threads, depth 6 to 45, the first
 * ten levels shared by many stacks; sample
 * counts follow a Zipf-like law so that a few stacks are hot, every stack has one. */
static sg_profile *big(long stacks, long samples)
{
    enum { NFUNC = 6000, NFILE = 600, FANOUT = 6, MAXD = 45 };
    sg_profile *p = sg_profile_new();
    sampled_meta(p, "python big_service.py");
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->duration_ns = samples / 8 * 1000000;
    m->ticks_requested = (uint64_t)(samples / 8);
    m->ticks_taken = m->ticks_requested;
    uint32_t tracks[8];
    char name[128], file[128];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, i ? "worker-%d" : "MainThread", i);
        tracks[i] = thread(p, 4242, 5000 + (uint64_t)i, name, i == 0);
    }
    static uint32_t fn[NFUNC], callees[NFUNC][FANOUT];
    static int first_line[NFUNC];
    for (int i = 0; i < NFUNC; i++) {
        int f = i % NFILE;
        if (f < NFILE / 10)
            snprintf(file, sizeof file, "/usr/lib/python3.12/pkg%d/mod%d.py", f % 7, f);
        else
            snprintf(file, sizeof file, "/srv/big/app/module_%d.py", f);
        snprintf(name, sizeof name, "Class%d.method_%d", i % 97, i);
        first_line[i] = 1 + (i / NFILE) * 40;
        fn[i] = sg_profile_function(p, S(p, name), S(p, file), first_line[i]);
        for (int k = 0; k < FANOUT; k++)
            callees[i][k] = (uint32_t)(rnd() % NFUNC);
    }
    /* weights 1/(rank+20), scaled so that their sum is SAMPLES less one per stack */
    double hsum = 0;
    for (long i = 0; i < stacks; i++)
        hsum += 1.0 / (double)(i + 20);
    long left = samples - stacks, made = 0;
    long distinct = 0;
    while (distinct < stacks) {
        uint32_t f = (uint32_t)(rnd() % 50); /* entry points */
        uint32_t node = SG_ROOT;
        int depth = 6 + (int)(rnd() % (MAXD - 5));
        for (int d = 0; d < depth; d++) {
            /* the line is the call site of the callee taken (a leaf: any of 3 lines) */
            int k = (int)(rnd() % (d < 10 ? 2 : FANOUT));
            int line = first_line[f] + 1 + (d + 1 < depth ? k : (int)(rnd() % 3));
            node = sg_profile_child(p, node, sg_profile_location(p, fn[f], line));
            f = callees[f][k];
        }
        size_t before = sg_profile_nrecords(p);
        int64_t v = 1 + (int64_t)((double)left / hsum / (double)(distinct + 20));
        add(p, tracks[rnd() % 8], node, (rnd() % 4) ? SG_F_ONCPU | SG_F_GIL : 0, v, 0);
        if (sg_profile_nrecords(p) > before) {
            distinct++;
            made += v;
        }
        if (sg_profile_oom(p))
            return p;
    }
    /* rounding: the remainder goes to the hottest stack */
    if (made < samples)
        add(p, sg_profile_records(p)[0].track, sg_profile_records(p)[0].node,
            sg_profile_records(p)[0].flags, samples - made, 0);
    return p;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "models")) {
        return save(multi(), argv[2], "multi.pb.gz") || save(traced(SG_MODE_TRACE), argv[2], "traced.pb.gz") ||
               save(traced(SG_MODE_LINES), argv[2], "lines.pb.gz") ||
               save(hostile(), argv[2], "hostile.pb.gz") || save(deep(), argv[2], "deep.pb.gz");
    }
    if (argc == 5 && !strcmp(argv[1], "big")) {
        sg_profile *p = big(atol(argv[3]), atol(argv[4]));
        if (sg_profile_oom(p)) {
            fprintf(stderr, "gen_profiles: out of memory\n");
            return 1;
        }
        fprintf(stderr, "gen_profiles: %zu records, %zu trie nodes, %zu functions\n",
                sg_profile_nrecords(p), sg_profile_nnodes(p), sg_profile_nfunctions(p));
        char path[4096];
        snprintf(path, sizeof path, "%s", argv[2]);
        sg_error err;
        int rc = sg_profile_save(p, path, &err);
        if (rc)
            fprintf(stderr, "gen_profiles: %s: %s\n", path, err.msg);
        sg_profile_free(p);
        return rc ? 1 : 0;
    }
    fprintf(stderr, "usage: gen_profiles models DIR | big FILE STACKS SAMPLES\n");
    return 2;
}
