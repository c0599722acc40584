#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/write/sg_write.h"
#include "sg_test.h"

static uint32_t S(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static uint32_t L(sg_profile *p, const char *name, const char *file, int first, int line)
{
    return sg_profile_location(p, sg_profile_function(p, S(p, name), S(p, file), first), line);
}

static void add(sg_profile *p, uint32_t track, uint32_t node, uint32_t flags, int64_t v)
{
    int64_t vals[SG_MAX_VALUES] = {v};
    sg_profile_add(p, track, node, flags, vals);
}

/* One process, main thread: main -> work 60, main -> fib -> fib -> fib 30 (recursion),
 * main -> wait (idle, in the standard library) 10. With two_threads, a worker thread
 * adds 50 samples in work, 20 of them waiting for the GIL. 10 ms per sample. */
static sg_profile *model(const char *dir, bool two_threads)
{
    sg_profile *p = sg_profile_new();
    if (!p)
        return NULL;
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->rate_hz = 100;
    m->interval_ns = 10000000;
    m->duration_ns = 1000000000;
    m->ticks_requested = 100;
    m->ticks_taken = 99;
    sg_profile_set_attr(p, "command", "python app.py");
    sg_profile_set_attr(p, "python", "3.12.1");
    char app[512];
    snprintf(app, sizeof app, "%s/app.py", dir);
    uint32_t pr = sg_profile_process(p, 100);
    uint32_t t1 = sg_profile_track(p, pr, 11);
    if (t1 == SG_NONE)
        return p; /* out of memory (the allocation-failure harness) */
    sg_profile_processes(p)[pr].samples_ok = 199;
    sg_profile_processes(p)[pr].samples_failed = 1;
    sg_profile_tracks(p)[t1].name = S(p, "MainThread");
    sg_profile_tracks(p)[t1].is_main = true;
    uint32_t mn2 = sg_profile_child(p, SG_ROOT, L(p, "main", app, 1, 2));
    uint32_t mn3 = sg_profile_child(p, SG_ROOT, L(p, "main", app, 1, 3));
    uint32_t mn4 = sg_profile_child(p, SG_ROOT, L(p, "main", app, 1, 4));
    uint32_t work = sg_profile_child(p, mn2, L(p, "work", app, 6, 9));
    uint32_t fib = sg_profile_child(p, mn3, L(p, "fib", app, 12, 15));
    fib = sg_profile_child(p, fib, L(p, "fib", app, 12, 15));
    fib = sg_profile_child(p, fib, L(p, "fib", app, 12, 14));
    uint32_t wait = sg_profile_child(
        p, mn4, L(p, "Condition.wait", "/usr/lib/python3.12/threading.py", 300, 320));
    add(p, t1, work, SG_F_ONCPU | SG_F_GIL, 60);
    add(p, t1, fib, SG_F_ONCPU | SG_F_GIL, 30);
    add(p, t1, wait, 0, 10);
    if (two_threads) {
        uint32_t t2 = sg_profile_track(p, pr, 12);
        if (t2 == SG_NONE)
            return p;
        sg_profile_tracks(p)[t2].name = S(p, "worker");
        uint32_t w = sg_profile_child(p, SG_ROOT, L(p, "loop", app, 20, 21));
        w = sg_profile_child(p, w, L(p, "work", app, 6, 9));
        add(p, t2, w, SG_F_ONCPU | SG_F_GIL, 30);
        add(p, t2, w, SG_F_ONCPU | SG_F_GILWAIT, 20);
    }
    return p;
}

static char *render(const sg_profile *p, const char *format, const sg_write_opts *o)
{
    sg_buf b;
    sg_buf_init(&b);
    sg_error err;
    if (sg_write(p, format, o, &b, &err)) {
        fprintf(stderr, "sg_write %s: %s\n", format, err.msg);
        sg_buf_free(&b);
        return NULL;
    }
    return sg_buf_steal(&b, NULL);
}

static sg_write_opts defaults(void)
{
    sg_write_opts o;
    sg_write_opts_init(&o);
    return o;
}

/* The sum of the counts ending each line of collapsed output. */
static long long collapsed_sum(const char *s, int *lines)
{
    long long sum = 0;
    *lines = 0;
    for (const char *l = s; *l;) {
        const char *nl = strchr(l, '\n');
        if (!nl)
            return -1;
        const char *sp = nl;
        while (sp > l && sp[-1] != ' ')
            sp--;
        sum += atoll(sp);
        (*lines)++;
        l = nl + 1;
    }
    return sum;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *l = text; l && *l;) {
        const char *nl = strchr(l, '\n');
        size_t len = nl ? (size_t)(nl - l) : strlen(l);
        if (len == n && memcmp(l, line, n) == 0)
            return true;
        l = nl ? nl + 1 : NULL;
    }
    fprintf(stderr, "missing line: [%s]\n", line);
    return false;
}

static void test_collapsed(void)
{
    sg_profile *p = model("/src", false);
    sg_write_opts o = defaults();
    char *s = render(p, "collapsed", &o);
    SG_CHECK_EQ_STR(s, "main (/src/app.py:2);work (/src/app.py:9) 60\n"
                       "main (/src/app.py:3);fib (/src/app.py:15);fib (/src/app.py:15);"
                       "fib (/src/app.py:14) 30\n"
                       "main (/src/app.py:4);Condition.wait "
                       "(/usr/lib/python3.12/threading.py:320) 10\n");
    free(s);
    /* the cpu view drops the idle wait */
    o.view = SG_VIEW_CPU;
    s = render(p, "collapsed", &o);
    int lines;
    SG_CHECK_EQ_INT(collapsed_sum(s, &lines), 90);
    SG_CHECK_EQ_INT(lines, 2);
    SG_CHECK(strstr(s, "Condition.wait") == NULL);
    free(s);
    sg_profile_free(p);

    p = model("/src", true);
    o = defaults();
    o.per_thread = true;
    s = render(p, "collapsed", &o);
    SG_CHECK_EQ_STR(s, "thread MainThread (11);main (/src/app.py:2);work (/src/app.py:9) 60\n"
                       "thread MainThread (11);main (/src/app.py:3);fib (/src/app.py:15);"
                       "fib (/src/app.py:15);fib (/src/app.py:14) 30\n"
                       "thread MainThread (11);main (/src/app.py:4);Condition.wait "
                       "(/usr/lib/python3.12/threading.py:320) 10\n"
                       "thread worker (12);loop (/src/app.py:21);work (/src/app.py:9) 50\n");
    SG_CHECK_EQ_INT(collapsed_sum(s, &lines), 150);
    free(s);
    /* without per_thread the worker's stack is its own line; the GIL view keeps 90 of
     * the main thread and 30 of the worker */
    o.per_thread = false;
    o.view = SG_VIEW_GIL;
    s = render(p, "collapsed", &o);
    SG_CHECK_EQ_INT(collapsed_sum(s, &lines), 120);
    SG_CHECK(has_line(s, "loop (/src/app.py:21);work (/src/app.py:9) 30"));
    free(s);
    sg_profile_free(p);
}

static void test_collapsed_hostile_names(void)
{
    sg_profile *p = sg_profile_new();
    uint32_t t1 = sg_profile_track(p, sg_profile_process(p, 1), 1);
    uint32_t t2 = sg_profile_track(p, sg_profile_process(p, 2), 1);
    uint32_t n = sg_profile_child(p, SG_ROOT, L(p, "a;b\nc\x1b[2J", "x;y.py", 1, 2));
    add(p, t1, n, 0, 3);
    add(p, t2, n, 0, 4);
    add(p, t2, SG_ROOT, 0, 5); /* an empty stack */
    sg_write_opts o = defaults();
    char *s = render(p, "collapsed", &o);
    SG_CHECK_EQ_STR(s, "process 1;a:b\\x0ac\\x1b[2J (x:y.py:2) 3\n"
                       "process 2;[no frames] 5\n"
                       "process 2;a:b\\x0ac\\x1b[2J (x:y.py:2) 4\n");
    free(s);
    /* identical text from different processes would aggregate without the prefix */
    sg_profile_free(p);
}

static void test_tree(void)
{
    sg_profile *p = model("/src", false);
    sg_write_opts o = defaults();
    char *s = render(p, "tree", &o);
    SG_CHECK_EQ_STR(s, "call tree, view wall: 100 samples (1.000 s); branches under 0.5% folded\n"
                       " total%    self%\n"
                       " 100.0%     0.0%  main  /src/app.py:1\n"
                       "  60.0%    60.0%  ├─ work  /src/app.py:6\n"
                       "  30.0%     0.0%  ├─ fib  /src/app.py:12\n"
                       "  30.0%     0.0%  │  └─ fib  /src/app.py:12\n"
                       "  30.0%    30.0%  │     └─ fib  /src/app.py:12\n"
                       "  10.0%    10.0%  └─ Condition.wait  /usr/lib/python3.12/threading.py:300\n");
    free(s);
    /* folding: under 15% the fib and wait branches become one line */
    o.min_share = 0.15;
    s = render(p, "tree", &o);
    SG_CHECK(has_line(s, "  60.0%    60.0%  ├─ work  /src/app.py:6"));
    SG_CHECK(has_line(s, "  30.0%     0.0%  ├─ fib  /src/app.py:12"));
    SG_CHECK(has_line(s, "  10.0%    10.0%  └─ Condition.wait  /usr/lib/python3.12/threading.py:300"));
    free(s);
    o.min_share = 0.5;
    s = render(p, "tree", &o);
    SG_CHECK(has_line(s, "  60.0%    60.0%  ├─ work  /src/app.py:6"));
    SG_CHECK(has_line(s, "  40.0%           └─ … 2 more"));
    free(s);
    sg_profile_free(p);

    p = model("/src", true);
    o = defaults();
    s = render(p, "tree", &o);
    SG_CHECK_EQ_STR(s, "call tree, view wall: 150 samples (1.500 s); branches under 0.5% folded\n"
                       " total%    self%\n"
                       "  66.7%     0.0%  thread MainThread (TID 11)\n"
                       "  66.7%     0.0%  └─ main  /src/app.py:1\n"
                       "  40.0%    40.0%     ├─ work  /src/app.py:6\n"
                       "  20.0%     0.0%     ├─ fib  /src/app.py:12\n"
                       "  20.0%     0.0%     │  └─ fib  /src/app.py:12\n"
                       "  20.0%    20.0%     │     └─ fib  /src/app.py:12\n"
                       "   6.7%     6.7%     └─ Condition.wait  /usr/lib/python3.12/threading.py:300\n"
                       "  33.3%     0.0%  thread worker (TID 12)\n"
                       "  33.3%     0.0%  └─ loop  /src/app.py:20\n"
                       "  33.3%    33.3%     └─ work  /src/app.py:6\n");
    free(s);
    sg_profile_free(p);
}

static void test_text(void)
{
    sg_profile *p = model("/src", false);
    sg_write_opts o = defaults();
    char *s = render(p, "text", &o);
    SG_CHECK(has_line(s, "spyglass profile (sampling)"));
    SG_CHECK(has_line(s, "  command   python app.py"));
    SG_CHECK(has_line(s, "  python    3.12.1"));
    SG_CHECK(has_line(s, "  samples   100"));
    SG_CHECK(has_line(s, "    self%   self s   total%  total s  function        defined at"));
    SG_CHECK(has_line(s, "    60.0%    0.600    60.0%    0.600  work            /src/app.py:6"));
    /* recursion: fib is in 30 samples' stacks three times, its total is 30% */
    SG_CHECK(has_line(s, "    30.0%    0.300    30.0%    0.300  fib             /src/app.py:12"));
    SG_CHECK(has_line(s, "     0.0%    0.000   100.0%    1.000  main            /src/app.py:1"));
    SG_CHECK(has_line(s, "     0.0%    0.000    30.0%  /src/app.py:15                        fib"));
    SG_CHECK(has_line(s, "thread MainThread (TID 11, main): 100.0% of samples; idle 10.0%, "
                         "waiting for the GIL 0.0%, holding the GIL 90.0%"));
    SG_CHECK(has_line(s, "100 samples in 1 thread; errors 0.50% (1 of 200 stack reads failed); "
                         "ticks 99 of 100 requested (99.0%)"));
    SG_CHECK(strchr(s, '\x1b') == NULL);
    free(s);
    o.color = true;
    s = render(p, "text", &o);
    SG_CHECK(strstr(s, "\x1b[1mhottest functions\x1b[0m") != NULL);
    free(s);
    sg_profile_free(p);

    p = model("/src", true);
    o = defaults();
    o.max_rows = 2;
    s = render(p, "text", &o);
    SG_CHECK(has_line(s, "  hottest functions (all threads)"));
    SG_CHECK(has_line(s, "    73.3%    1.100    73.3%    1.100  work      /src/app.py:6"));
    SG_CHECK(has_line(s, "thread worker (TID 12): 33.3% of samples; idle 0.0%, "
                         "waiting for the GIL 40.0%, holding the GIL 60.0%"));
    SG_CHECK(has_line(s, "   100.0%    0.500   100.0%    0.500  work      /src/app.py:6"));
    SG_CHECK(strstr(s, "Condition.wait") == NULL); /* beyond 2 rows */
    SG_CHECK(has_line(s, "150 samples in 2 threads; errors 0.50% (1 of 200 stack reads "
                         "failed); ticks 99 of 100 requested (99.0%)"));
    free(s);
    /* a free-threaded target without a GIL: not applicable, not 0% */
    sg_profile_set_attr(p, "gil", "none");
    s = render(p, "text", &o);
    SG_CHECK(has_line(s, "thread worker (TID 12): 33.3% of samples; idle 0.0%, "
                         "GIL n/a (free-threaded)"));
    SG_CHECK(strstr(s, "holding the GIL") == NULL);
    free(s);
    sg_profile_free(p);
}

static void test_text_hostile_names(void)
{
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    sg_profile_tracks(p)[t].name = S(p, "th\x1b]0;pwned\x07");
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    uint32_t a = sg_profile_child(p, SG_ROOT, L(p, "evil\x1b[2J\r\n\xe2\x80\xae\xff", "f.py", 1, 1));
    uint32_t b = sg_profile_child(p, a, L(p, longname, "g.py", 1, 1));
    add(p, t, b, SG_F_ONCPU, 1);
    sg_write_opts o = defaults();
    const char *formats[] = {"text", "tree", "annotate", "collapsed"};
    for (size_t i = 0; i < 4; i++) {
        char *s = render(p, formats[i], &o);
        SG_CHECK(s != NULL);
        SG_CHECK(s && strchr(s, '\x1b') == NULL && strchr(s, '\r') == NULL &&
                 strchr(s, '\x07') == NULL && strstr(s, "\xe2\x80\xae") == NULL);
        if (i == 0) {
            SG_CHECK(strstr(s, "evil\\x1b[2J\\x0d\\x0a\\u202e\\xff") != NULL);
            size_t maxlen = 0;
            for (const char *l = s; *l;) {
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t)(nl - l) : strlen(l);
                maxlen = len > maxlen ? len : maxlen;
                l += len + (nl != NULL);
            }
            SG_CHECK(maxlen < 200);
        }
        free(s);
    }
    sg_profile_free(p);
}

static void test_annotate(void)
{
    char dir[] = "/tmp/sg_test_write_XXXXXX";
    SG_CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/app.py", dir);
    FILE *f = fopen(path, "w");
    SG_CHECK(f != NULL);
    fputs("def main():\n    work()\n    fib(3)\n    wait()\n\ndef work():\n    total = 0\n"
          "    for i in range(10):\n\ttotal += i\n",
          f);
    fclose(f);
    sg_profile *p = model(dir, false);
    sg_write_opts o = defaults();
    char *s = render(p, "annotate", &o);
    SG_CHECK(has_line(s, "annotated source, view wall: 100 samples (1.000 s); "
                         "the 2 hottest of 2 files"));
    SG_CHECK(has_line(s, "Function: work at line 6: total 60.0% (0.600 s), self 60.0%"));
    SG_CHECK(has_line(s, "Line #   Samples   Time (s)   % Time   Self %  Line Contents"));
    SG_CHECK(has_line(s, "     6                                         def work():"));
    SG_CHECK(has_line(s, "     9        60      0.600    60.0%    60.0%          total += i"));
    SG_CHECK(has_line(s, "     3        30      0.300    30.0%     0.0%      fib(3)"));
    /* fib's lines are past the end of the file: listed without contents */
    SG_CHECK(has_line(s, "    15        30      0.300    30.0%     0.0%"));
    SG_CHECK(strstr(s, "source not available") != NULL); /* threading.py */
    free(s);
    o.context = 1;
    s = render(p, "annotate", &o);
    SG_CHECK(strstr(s, "threading.py") == NULL);
    free(s);
    remove(path);
    remove(dir);
    sg_profile_free(p);
}

static void test_recursion_share(void)
{
    /* f recursing 50 deep in every sample: its total is the whole, never more */
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    uint32_t n = SG_ROOT;
    for (int i = 0; i < 50; i++) {
        n = sg_profile_child(p, n, L(p, "f", "/r.py", 1, 2 + i % 2));
        add(p, t, n, 0, 1);
    }
    sg_write_opts o = defaults();
    char *s = render(p, "text", &o);
    SG_CHECK(has_line(s, "   100.0%        -   100.0%        -  f         /r.py:1"));
    SG_CHECK(strstr(s, "200.0%") == NULL && strstr(s, "5000.0%") == NULL);
    free(s);
    s = render(p, "tree", &o);
    SG_CHECK(strstr(s, " 100.0%     2.0%  f  /r.py:1\n") != NULL);
    /* depth beyond the drawn indent */
    SG_CHECK(strstr(s, "   2.0%     2.0%  [+40]                         └─ f  /r.py:1\n") != NULL);
    free(s);
    int lines;
    s = render(p, "collapsed", &o);
    SG_CHECK_EQ_INT(collapsed_sum(s, &lines), 50);
    SG_CHECK_EQ_INT(lines, 50);
    free(s);
    sg_profile_free(p);
}

static void test_traced_and_misc(void)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta_of(p)->mode = SG_MODE_TRACE;
    const char *types[] = {"calls", "time"}, *units[] = {"count", "nanoseconds"};
    sg_profile_set_value_types(p, 2, types, units);
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    uint32_t n = sg_profile_child(p, SG_ROOT, L(p, "g", "/t.py", 1, 1));
    int64_t v[SG_MAX_VALUES] = {3, 2000000000};
    sg_profile_add(p, t, n, 0, v);
    sg_write_opts o = defaults();
    char *s = render(p, "text", &o);
    /* traced profiles get cProfile's table (write_trace_table.c) */
    SG_CHECK(has_line(s, "spyglass profile (traced, functions, wall clock)"));
    SG_CHECK(has_line(s, "        3    2.000    0.667    2.000    0.667 /t.py:1(g)"));
    free(s);
    s = render(p, "collapsed", &o);
    SG_CHECK_EQ_STR(s, "g (/t.py:1) 2000000000\n");
    free(s);

    sg_buf b;
    sg_buf_init(&b);
    sg_error err;
    SG_CHECK_EQ_INT(sg_write(p, "nope", &o, &b, &err), -1);
    SG_CHECK_EQ_INT(err.code, SG_E_FORMAT);
    SG_CHECK(strstr(sg_write_formats(), "collapsed") != NULL);
    sg_buf_free(&b);
    sg_profile_free(p);

    /* an empty profile renders in every format */
    p = sg_profile_new();
    const char *formats[] = {"text", "tree", "annotate", "collapsed"};
    for (size_t i = 0; i < 4; i++) {
        s = render(p, formats[i], NULL);
        SG_CHECK(s != NULL);
        free(s);
    }
    sg_profile_free(p);
}

int main(void)
{
    SG_RUN(test_collapsed);
    SG_RUN(test_collapsed_hostile_names);
    SG_RUN(test_tree);
    SG_RUN(test_text);
    SG_RUN(test_text_hostile_names);
    SG_RUN(test_annotate);
    SG_RUN(test_recursion_share);
    SG_RUN(test_traced_and_misc);
    SG_TEST_MAIN_END();
}
