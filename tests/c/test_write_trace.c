/* Golden tests of the traced-profile writers: the cProfile-like call table (ncalls
 * total/primitive, self and cumulative time with recursion counted once, builtins in
 * braces, callers and callees, sections per thread and per process, --sort) and
 * line_profiler's layout for line-level profiles. */
#include <stdlib.h>
#include <unistd.h>

#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/write/sg_write.h"
#include "sg_test.h"

static uint32_t S(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static uint32_t F(sg_profile *p, const char *name, const char *file, int first)
{
    return sg_profile_location(p, sg_profile_function(p, S(p, name), S(p, file), first), first);
}

static void add(sg_profile *p, uint32_t track, uint32_t node, int64_t calls, int64_t ns)
{
    int64_t v[SG_MAX_VALUES] = {calls, ns};
    SG_CHECK_EQ_INT(sg_profile_add(p, track, node, 0, v), 0);
}

static sg_profile *traced(sg_mode mode)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta_of(p)->mode = mode;
    sg_profile_meta_of(p)->duration_ns = 3000000000;
    const char *types[] = {mode == SG_MODE_LINES ? "hits" : "calls", "time"};
    const char *units[] = {"count", "nanoseconds"};
    sg_profile_set_value_types(p, 2, types, units);
    return p;
}

static char *render(const sg_profile *p, const char *format, const char *sort)
{
    sg_write_opts o;
    sg_write_opts_init(&o);
    o.sort = sort;
    sg_buf b;
    sg_buf_init(&b);
    sg_error err;
    if (sg_write(p, format, &o, &b, &err) != 0) {
        sg_buf_free(&b);
        return NULL;
    }
    size_t len;
    sg_buf_cstr(&b);
    return sg_buf_steal(&b, &len);
}

static bool has(const char *s, const char *needle)
{
    if (s && strstr(s, needle))
        return true;
    fprintf(stderr, "missing: [%s]\n", needle);
    return false;
}

/* main -> fib -> fib -> fib -> fib (4 calls, 1 primitive), main -> sleep (a builtin),
 * in thread 1; thread 2 runs fib once. Seconds: fib 0.5 per level self, sleep 1. */
static sg_profile *calls_model(void)
{
    sg_profile *p = traced(SG_MODE_TRACE);
    uint32_t pr = sg_profile_process(p, 7);
    uint32_t t1 = sg_profile_track(p, pr, 70), t2 = sg_profile_track(p, pr, 71);
    sg_profile_tracks(p)[t1].name = S(p, "MainThread");
    sg_profile_tracks(p)[t1].is_main = true;
    sg_profile_tracks(p)[t2].name = S(p, "worker\x1b[31m");
    uint32_t lm = F(p, "main", "/app.py", 1), lf = F(p, "fib", "/app.py", 5);
    uint32_t ls = F(p, "<built-in method time.sleep>", "~", 0);
    uint32_t m = sg_profile_child(p, SG_ROOT, lm), f = m;
    add(p, t1, m, 1, 0);
    for (int i = 0; i < 4; i++) {
        f = sg_profile_child(p, f, lf);
        add(p, t1, f, 1, 500000000);
    }
    add(p, t1, sg_profile_child(p, m, ls), 1, 1000000000);
    add(p, t2, sg_profile_child(p, SG_ROOT, lf), 1, 250000000);
    return p;
}

static void test_call_table(void)
{
    sg_profile *p = calls_model();
    char *s = render(p, "text", NULL);
    SG_CHECK(has(s, "spyglass profile (traced, functions, wall clock)"));
    SG_CHECK(has(s, "  7 function calls (4 primitive calls) in 3.250 seconds"));
    SG_CHECK(has(s, "ordered by cumulative time, all threads"));
    SG_CHECK(has(s, "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)"));
    /* cumulative time of the recursion counts the stack once: 2 s, not 5 */
    SG_CHECK(has(s, "        1    0.000    0.000    3.000    3.000 /app.py:1(main)"));
    SG_CHECK(has(s, "      5/2    2.250    0.450    2.250    1.125 /app.py:5(fib)"));
    SG_CHECK(has(s, "        1    1.000    1.000    1.000    1.000 {built-in method time.sleep}"));
    SG_CHECK(has(s, "    called by"));
    SG_CHECK(has(s, "              3    1.500    1.500  /app.py:5(fib)"));
    SG_CHECK(has(s, "thread worker\\x1b[31m (TID 71)"));
    SG_CHECK(!strstr(s ? s : "", "\x1b"));
    free(s);
    s = render(p, "text", "tottime");
    SG_CHECK(has(s, "ordered by internal time"));
    const char *fib = s ? strstr(s, "(fib)") : NULL, *sleep = s ? strstr(s, "time.sleep}") : NULL;
    SG_CHECK(fib && sleep && fib < sleep);
    free(s);
    SG_CHECK(render(p, "text", "bogus") == NULL);
    sg_profile_free(p);
}

static void test_processes(void)
{
    sg_profile *p = traced(SG_MODE_TRACE);
    uint32_t la = F(p, "a", "/a.py", 1);
    for (uint32_t pid = 10; pid <= 11; pid++) {
        uint32_t pr = sg_profile_process(p, pid);
        sg_profile_processes(p)[pr].cmdline = S(p, pid == 10 ? "python a.py" : "python -c x");
        add(p, sg_profile_track(p, pr, pid), sg_profile_child(p, SG_ROOT, la), pid - 9,
            1000000);
    }
    char *s = render(p, "text", NULL);
    SG_CHECK(has(s, "process 10: python a.py"));
    SG_CHECK(has(s, "process 11: python -c x"));
    SG_CHECK(has(s, "  2 function calls in 0.001 seconds"));
    SG_CHECK(has(s, "2 processes traced; 2 threads traced"));
    free(s);
    sg_profile_free(p);
}

static void test_lines_layout(void)
{
    char dir[] = "/tmp/sg_test_lines_XXXXXX";
    SG_CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/app.py", dir);
    FILE *f = fopen(path, "w");
    SG_CHECK(f != NULL);
    if (!f)
        return;
    fputs("def work(n):\n    total = 0\n    for i in range(n):\n        total += i\n"
          "    return total\n",
          f);
    fclose(f);
    sg_profile *p = traced(SG_MODE_LINES);
    uint32_t pr = sg_profile_process(p, 1);
    uint32_t t = sg_profile_track(p, pr, 1);
    uint32_t fn = sg_profile_function(p, S(p, "work"), S(p, path), 1);
    int lines[] = {2, 3, 4, 5};
    int64_t hits[] = {1, 11, 10, 1}, ns[] = {1000, 30000, 60000, 9000};
    for (int i = 0; i < 4; i++)
        add(p, t, sg_profile_child(p, SG_ROOT, sg_profile_location(p, fn, lines[i])), hits[i],
            ns[i]);
    char *s = render(p, "annotate", NULL);
    SG_CHECK(has(s, "Timer unit: 1e-06 s"));
    SG_CHECK(has(s, "Total time: 0.0001 s"));
    SG_CHECK(has(s, "Function: work at line 1"));
    SG_CHECK(has(s, "Line #      Hits         Time  Per Hit   % Time  Line Contents"));
    SG_CHECK(has(s, "     1                                           def work(n):"));
    SG_CHECK(has(s, "     3        11         30.0      2.7     30.0      for i in range(n):"));
    SG_CHECK(has(s, "     4        10         60.0      6.0     60.0          total += i"));
    free(s);
    s = render(p, "text", NULL);
    SG_CHECK(has(s, "Function: work at line 1"));
    SG_CHECK(has(s, "1 thread traced"));
    free(s);
    sg_profile_free(p);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    SG_RUN(test_call_table);
    SG_RUN(test_processes);
    SG_RUN(test_lines_layout);
    SG_TEST_MAIN_END();
}
