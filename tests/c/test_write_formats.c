/* Golden tests of the interchange writers (callgrind, pstats, speedscope, chrome,
 * pprof) on small fixed models, sampled and traced, and their escaping of hostile
 * names. Round trips through the real readers (callgrind_annotate, pstats.Stats,
 * go tool pprof, the speedscope schema) are in tests/py/test_formats.py. */
#include <stdint.h>

#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/write/sg_write.h"
#include "sg_test.h"

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

/* Sampled, 10 ms per sample. Main thread: main:2 -> work:9 60, main:3 -> fib:15 ->
 * fib:15 -> fib:14 30 (recursion), main:4 -> Condition.wait 10 (idle). Worker thread
 * (with two_threads): loop:21 -> work:9 50. */
static sg_profile *sampled(bool two_threads)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->rate_hz = 100;
    m->interval_ns = 10000000;
    sg_profile_set_attr(p, "command", "python app.py");
    uint32_t pr = sg_profile_process(p, 100);
    uint32_t t1 = sg_profile_track(p, pr, 11);
    sg_profile_tracks(p)[t1].name = S(p, "MainThread");
    sg_profile_tracks(p)[t1].is_main = true;
    uint32_t mn2 = sg_profile_child(p, SG_ROOT, L(p, "main", "/src/app.py", 1, 2));
    uint32_t mn3 = sg_profile_child(p, SG_ROOT, L(p, "main", "/src/app.py", 1, 3));
    uint32_t mn4 = sg_profile_child(p, SG_ROOT, L(p, "main", "/src/app.py", 1, 4));
    uint32_t work = sg_profile_child(p, mn2, L(p, "work", "/src/app.py", 6, 9));
    uint32_t fib = sg_profile_child(p, mn3, L(p, "fib", "/src/app.py", 12, 15));
    fib = sg_profile_child(p, fib, L(p, "fib", "/src/app.py", 12, 15));
    fib = sg_profile_child(p, fib, L(p, "fib", "/src/app.py", 12, 14));
    uint32_t wait = sg_profile_child(
        p, mn4, L(p, "Condition.wait", "/usr/lib/python3.12/threading.py", 300, 320));
    add(p, t1, work, SG_F_ONCPU | SG_F_GIL, 60, 0);
    add(p, t1, fib, SG_F_ONCPU | SG_F_GIL, 30, 0);
    add(p, t1, wait, 0, 10, 0);
    if (two_threads) {
        uint32_t t2 = sg_profile_track(p, pr, 12);
        sg_profile_tracks(p)[t2].name = S(p, "worker");
        uint32_t w = sg_profile_child(p, SG_ROOT, L(p, "loop", "/src/app.py", 20, 21));
        w = sg_profile_child(p, w, L(p, "work", "/src/app.py", 6, 9));
        add(p, t2, w, SG_F_ONCPU | SG_F_GIL, 50, 0);
    }
    return p;
}

/* Traced (function level): main calls f twice and len (a builtin) once; f calls g
 * (which recurses once: g -> g). Values: calls, self ns. */
static sg_profile *traced(void)
{
    sg_profile *p = sg_profile_new();
    static const char *const types[] = {"calls", "time"}, *const units[] = {"count",
                                                                            "nanoseconds"};
    sg_profile_set_value_types(p, 2, types, units);
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->mode = SG_MODE_TRACE;
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 5), 5);
    uint32_t mn = sg_profile_child(p, SG_ROOT, L(p, "main", "/t.py", 1, 1));
    uint32_t f = sg_profile_child(p, mn, L(p, "f", "/t.py", 10, 10));
    uint32_t g = sg_profile_child(p, f, L(p, "g", "/t.py", 20, 20));
    uint32_t gg = sg_profile_child(p, g, L(p, "g", "/t.py", 20, 20));
    uint32_t ln = sg_profile_child(p, mn, L(p, "len", "~", 0, 0));
    add(p, t, mn, 0, 1, 1000);
    add(p, t, f, 0, 2, 2000);
    add(p, t, g, 0, 2, 3000);
    add(p, t, gg, 0, 2, 4000);
    add(p, t, ln, 0, 1, 500);
    return p;
}

static char *render(const sg_profile *p, const char *format, const sg_write_opts *o,
                    size_t *len)
{
    sg_buf b;
    sg_buf_init(&b);
    sg_error err;
    if (sg_write(p, format, o, &b, &err)) {
        fprintf(stderr, "sg_write %s: %s\n", format, err.msg);
        sg_buf_free(&b);
        return NULL;
    }
    sg_buf_cstr(&b);
    return sg_buf_steal(&b, len);
}

static sg_write_opts defaults(void)
{
    sg_write_opts o;
    sg_write_opts_init(&o);
    return o;
}

static void test_callgrind_sampled(void)
{
    sg_profile *p = sampled(true);
    sg_write_opts o = defaults();
    char *s = render(p, "callgrind", &o, NULL);
    SG_CHECK_EQ_STR(s, "# callgrind format\n"
                       "version: 1\n"
                       "creator: spyglass\n"
                       "pid: 100\n"
                       "cmd: python app.py\n"
                       "desc: View: wall\n"
                       "positions: line\n"
                       "event: samples : Samples (one every 10.000 ms)\n"
                       "events: samples\n"
                       "summary: 150\n"
                       "\n"
                       "fl=(1) /src/app.py\n"
                       "fn=(1) main\n"
                       "cfn=(2) work\n"
                       "calls=60 6\n"
                       "2 60\n"
                       "cfn=(3) fib\n"
                       "calls=30 12\n"
                       "3 30\n"
                       "cfi=(2) /usr/lib/python3.12/threading.py\n"
                       "cfn=(4) Condition.wait\n"
                       "calls=10 300\n"
                       "4 10\n"
                       "\n"
                       "fn=(2)\n"
                       "9 110\n"
                       "\n"
                       "fn=(3)\n"
                       "14 30\n"
                       "cfn=(3)\n"
                       "calls=60 12\n"
                       "15 0\n"
                       "\n"
                       "fl=(2)\n"
                       "fn=(4)\n"
                       "320 10\n"
                       "\n"
                       "fl=(1)\n"
                       "fn=(5) loop\n"
                       "cfn=(2)\n"
                       "calls=50 6\n"
                       "21 50\n"
                       "\n"
                       "fl=(3) [spyglass]\n"
                       "fn=(6) [root]\n"
                       "cfi=(1)\n"
                       "cfn=(1)\n"
                       "calls=100 1\n"
                       "0 100\n"
                       "cfi=(1)\n"
                       "cfn=(5)\n"
                       "calls=50 20\n"
                       "0 50\n"
                       "\n"
                       "totals: 150\n");
    free(s);
    /* one part per thread */
    o.per_thread = true;
    o.relative_paths = true;
    s = render(p, "callgrind", &o, NULL);
    SG_CHECK(s && strstr(s, "part: 1\nthread: 11\ndesc: Thread: MainThread (11)\n"));
    SG_CHECK(s && strstr(s, "part: 2\nthread: 12\ndesc: Thread: worker (12)\n"));
    SG_CHECK(s && strstr(s, "summary: 100\n") && strstr(s, "summary: 50\n"));
    SG_CHECK(s && strstr(s, "fl=(1) src/app.py\n") && !strstr(s, "=(1) /src"));
    free(s);
    sg_profile_free(p);
}

static void test_callgrind_traced(void)
{
    sg_profile *p = traced();
    sg_write_opts o = defaults();
    char *s = render(p, "callgrind", &o, NULL);
    /* g's inclusive cost from f is 7000 (its own 3000 + the recursive call's 4000),
     * and the recursive call g -> g costs 0: the recursion is not counted twice */
    SG_CHECK_EQ_STR(s, "# callgrind format\n"
                       "version: 1\n"
                       "creator: spyglass\n"
                       "pid: 5\n"
                       "desc: View: wall\n"
                       "positions: line\n"
                       "event: ns : Time (nanoseconds)\n"
                       "events: ns\n"
                       "summary: 10500\n"
                       "\n"
                       "fl=(1) /t.py\n"
                       "fn=(1) main\n"
                       "1 1000\n"
                       "cfn=(2) f\n"
                       "calls=2 10\n"
                       "1 9000\n"
                       "cfi=(2) ~\n"
                       "cfn=(3) len\n"
                       "calls=1 0\n"
                       "1 500\n"
                       "\n"
                       "fn=(2)\n"
                       "10 2000\n"
                       "cfn=(4) g\n"
                       "calls=2 20\n"
                       "10 7000\n"
                       "\n"
                       "fn=(4)\n"
                       "20 7000\n"
                       "cfn=(4)\n"
                       "calls=2 20\n"
                       "20 0\n"
                       "\n"
                       "fl=(2)\n"
                       "fn=(3)\n"
                       "0 500\n"
                       "\n"
                       "fl=(3) [spyglass]\n"
                       "fn=(5) [root]\n"
                       "cfi=(1)\n"
                       "cfn=(1)\n"
                       "calls=1 1\n"
                       "0 10500\n"
                       "\n"
                       "totals: 10500\n");
    free(s);
    sg_profile_free(p);
}

/* ---- a minimal marshal reader for the pstats checks ---- */

typedef struct mr {
    const unsigned char *p, *end;
} mr;

static int64_t rd_i32(mr *r)
{
    if (r->end - r->p < 4)
        return INT64_MIN;
    int32_t v = (int32_t)((uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                          (uint32_t)r->p[3] << 24);
    r->p += 4;
    return v;
}

/* Returns the integer of an 'i' or 'l', INT64_MIN for anything else. */
static int64_t rd_int(mr *r)
{
    if (r->p >= r->end)
        return INT64_MIN;
    char t = (char)*r->p++;
    if (t == 'i')
        return rd_i32(r);
    if (t != 'l')
        return INT64_MIN;
    int64_t n = rd_i32(r), v = 0;
    int64_t k = n < 0 ? -n : n;
    for (int64_t i = 0; i < k; i++, r->p += 2)
        v |= (int64_t)(r->p[0] | r->p[1] << 8) << (15 * i);
    return n < 0 ? -v : v;
}

static double rd_float(mr *r)
{
    if (r->p >= r->end || *r->p++ != 'g' || r->end - r->p < 8)
        return -1;
    double d;
    memcpy(&d, r->p, 8);
    r->p += 8;
    return d;
}

/* Copies a 'u' string into out (NUL-terminated, cut to cap). */
static bool rd_str(mr *r, char *out, size_t cap)
{
    if (r->p >= r->end || *r->p++ != 'u')
        return false;
    int64_t n = rd_i32(r);
    if (n < 0 || r->end - r->p < n)
        return false;
    size_t c = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
    memcpy(out, r->p, c);
    out[c] = '\0';
    r->p += n;
    return true;
}

static bool near(double a, double b) { return a - b < 1e-15 && b - a < 1e-15; }

static bool rd_key(mr *r, char *file, int64_t *line, char *name)
{
    return r->p < r->end && *r->p++ == '(' && rd_i32(r) == 3 && rd_str(r, file, 256) &&
           (*line = rd_int(r)) != INT64_MIN && rd_str(r, name, 256);
}

static void test_pstats_traced(void)
{
    sg_profile *p = traced();
    sg_write_opts o = defaults();
    size_t len;
    char *s = render(p, "pstats", &o, &len);
    mr r = {(const unsigned char *)s, (const unsigned char *)s + len};
    SG_CHECK(s && *r.p++ == '{');
    int seen = 0;
    while (r.p < r.end && *r.p != '0') {
        char file[256], name[256], cfile[256], cname[256];
        int64_t line, cline;
        SG_CHECK(rd_key(&r, file, &line, name));
        SG_CHECK(*r.p++ == '(' && rd_i32(&r) == 5);
        int64_t cc = rd_int(&r), nc = rd_int(&r);
        double tt = rd_float(&r), ct = rd_float(&r);
        SG_CHECK(*r.p++ == '{');
        int ncallers = 0;
        while (r.p < r.end && *r.p != '0') {
            SG_CHECK(rd_key(&r, cfile, &cline, cname));
            SG_CHECK(*r.p++ == '(' && rd_i32(&r) == 4);
            int64_t enc = rd_int(&r), ecc = rd_int(&r);
            double ett = rd_float(&r), ect = rd_float(&r);
            ncallers++;
            if (!strcmp(name, "g") && !strcmp(cname, "f")) {
                SG_CHECK_EQ_INT(enc, 2);
                SG_CHECK_EQ_INT(ecc, 2);
                SG_CHECK(near(ett, 3e-6) && near(ect, 7e-6));
            } else if (!strcmp(name, "g") && !strcmp(cname, "g")) {
                SG_CHECK_EQ_INT(enc, 2);
                SG_CHECK_EQ_INT(ecc, 2); /* the pair g -> g is not open above itself */
                SG_CHECK(near(ett, 4e-6) && near(ect, 4e-6));
            }
        }
        r.p++;
        seen++;
        if (!strcmp(name, "g")) {
            SG_CHECK_EQ_STR(file, "/t.py");
            SG_CHECK_EQ_INT(line, 20);
            SG_CHECK_EQ_INT(cc, 2); /* the recursive calls are not primitive */
            SG_CHECK_EQ_INT(nc, 4);
            SG_CHECK(near(tt, 7e-6) && near(ct, 7e-6));
            SG_CHECK_EQ_INT(ncallers, 2);
        } else if (!strcmp(name, "main")) {
            SG_CHECK(cc == 1 && nc == 1 && near(tt, 1e-6) && near(ct, 10.5e-6) && ncallers == 0);
        } else if (!strcmp(file, "~")) {
            SG_CHECK_EQ_STR(name, "<built-in method len>");
            SG_CHECK_EQ_INT(line, 0);
            SG_CHECK(cc == 1 && nc == 1 && near(tt, 0.5e-6) && ncallers == 1);
        }
    }
    SG_CHECK_EQ_INT(seen, 4);
    SG_CHECK(r.p + 1 == r.end && *r.p == '0');
    free(s);
    sg_profile_free(p);
}

static void test_pstats_big_numbers(void)
{
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    uint32_t n = sg_profile_child(p, SG_ROOT, L(p, "x", "/x.py", 1, 1));
    add(p, t, n, 0, (int64_t)1 << 40, 0);
    sg_write_opts o = defaults();
    size_t len;
    char *s = render(p, "pstats", &o, &len);
    mr r = {(const unsigned char *)s + 1, (const unsigned char *)s + len};
    char file[256], name[256];
    int64_t line;
    SG_CHECK(rd_key(&r, file, &line, name));
    SG_CHECK(*r.p++ == '(' && rd_i32(&r) == 5);
    SG_CHECK_EQ_INT(rd_int(&r), (int64_t)1 << 40);
    SG_CHECK_EQ_INT(rd_int(&r), (int64_t)1 << 40);
    free(s);
    sg_profile_free(p);
}

static void test_speedscope(void)
{
    sg_profile *p = sampled(false);
    sg_write_opts o = defaults();
    char *s = render(p, "speedscope", &o, NULL);
    SG_CHECK_EQ_STR(
        s, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
           "\"exporter\":\"spyglass\",\"name\":\"python app.py\",\"activeProfileIndex\":0,"
           "\"shared\":{\"frames\":["
           "{\"name\":\"main\",\"file\":\"/src/app.py\",\"line\":1},"
           "{\"name\":\"work\",\"file\":\"/src/app.py\",\"line\":6},"
           "{\"name\":\"fib\",\"file\":\"/src/app.py\",\"line\":12},"
           "{\"name\":\"Condition.wait\",\"file\":\"/usr/lib/python3.12/threading.py\","
           "\"line\":300}]},"
           "\"profiles\":[{\"type\":\"sampled\",\"name\":\"thread MainThread (11)\","
           "\"unit\":\"nanoseconds\",\"startValue\":0,"
           "\"samples\":[[0,1],[0,2,2,2],[0,3]],"
           "\"weights\":[600000000,300000000,100000000],\"endValue\":1000000000}]}\n");
    free(s);
    /* with a timeline: samples in time order, runs merged */
    uint32_t t1 = 0;
    const sg_record *rec = sg_profile_records(p);
    uint32_t work = rec[0].node, fib = rec[1].node;
    int64_t at = 1000;
    for (int i = 0; i < 3; i++)
        sg_profile_timeline_add(p, t1, work, SG_F_ONCPU | SG_F_GIL, at += 10000000);
    sg_profile_timeline_add(p, t1, fib, SG_F_ONCPU | SG_F_GIL, at += 10000000);
    sg_profile_timeline_add(p, t1, work, SG_F_ONCPU | SG_F_GIL, at += 10000000);
    s = render(p, "speedscope", &o, NULL);
    SG_CHECK(s && strstr(s, "\"samples\":[[0,1],[0,2,2,2],[0,1]],"
                            "\"weights\":[30000000,10000000,10000000],\"endValue\":50000000}"));
    free(s);
    sg_profile_free(p);

    /* a stack that differs from main -> work only in lines is the same stack of frames:
     * one entry, weights summed; in a timeline its samples extend work's run */
    p = sampled(false);
    uint32_t mn5 = sg_profile_child(p, SG_ROOT, L(p, "main", "/src/app.py", 1, 5));
    uint32_t work7 = sg_profile_child(p, mn5, L(p, "work", "/src/app.py", 6, 7));
    add(p, t1, work7, SG_F_ONCPU | SG_F_GIL, 5, 0);
    s = render(p, "speedscope", &o, NULL);
    SG_CHECK(s && strstr(s, "\"samples\":[[0,1],[0,2,2,2],[0,3]],"
                            "\"weights\":[650000000,300000000,100000000],"
                            "\"endValue\":1050000000}"));
    SG_CHECK(s && !strstr(s, "\"line\":5") && !strstr(s, "\"line\":7"));
    free(s);
    rec = sg_profile_records(p);
    work = rec[0].node;
    sg_profile_timeline_add(p, t1, work, SG_F_ONCPU | SG_F_GIL, at += 10000000);
    sg_profile_timeline_add(p, t1, work7, SG_F_ONCPU | SG_F_GIL, at += 10000000);
    sg_profile_timeline_add(p, t1, work, SG_F_ONCPU | SG_F_GIL, at += 10000000);
    s = render(p, "speedscope", &o, NULL);
    SG_CHECK(s && strstr(s, "\"samples\":[[0,1]],\"weights\":[30000000],"
                            "\"endValue\":30000000}"));
    free(s);
    sg_profile_free(p);
}

static void test_chrome(void)
{
    sg_profile *p = sampled(false);
    sg_write_opts o = defaults();
    o.view = SG_VIEW_CPU;
    char *s = render(p, "chrome", &o, NULL);
    SG_CHECK_EQ_STR(
        s, "{\"traceEvents\":[\n"
           "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":100,\"tid\":0,\"args\":{\"name\":\"python app.py (100)\"}},\n"
           "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":100,\"tid\":11,\"args\":{\"name\":\"MainThread\"}},\n"
           "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":100,\"tid\":11,\"args\":{\"sort_index\":0}},\n"
           "{\"ph\":\"X\",\"cat\":\"python\",\"name\":\"main\",\"pid\":100,\"tid\":11,\"ts\":0.000,\"dur\":600000.000,\"args\":{\"file\":\"/src/app.py\",\"line\":2}},\n"
           "{\"ph\":\"X\",\"cat\":\"python\",\"name\":\"work\",\"pid\":100,\"tid\":11,\"ts\":0.000,\"dur\":600000.000,\"args\":{\"file\":\"/src/app.py\",\"line\":9}},\n"
           "{\"ph\":\"X\",\"cat\":\"python\",\"name\":\"main\",\"pid\":100,\"tid\":11,\"ts\":600000.000,\"dur\":300000.000,\"args\":{\"file\":\"/src/app.py\",\"line\":3}},\n"
           "{\"ph\":\"X\",\"cat\":\"python\",\"name\":\"fib\",\"pid\":100,\"tid\":11,\"ts\":600000.000,\"dur\":300000.000,\"args\":{\"file\":\"/src/app.py\",\"line\":15}},\n"
           "{\"ph\":\"X\",\"cat\":\"python\",\"name\":\"fib\",\"pid\":100,\"tid\":11,\"ts\":600000.000,\"dur\":300000.000,\"args\":{\"file\":\"/src/app.py\",\"line\":15}},\n"
           "{\"ph\":\"X\",\"cat\":\"python\",\"name\":\"fib\",\"pid\":100,\"tid\":11,\"ts\":600000.000,\"dur\":300000.000,\"args\":{\"file\":\"/src/app.py\",\"line\":14}}\n"
           "],\"displayTimeUnit\":\"ms\",\"otherData\":{\"exporter\":\"spyglass\",\"mode\":\"sample\",\"view\":\"cpu\",\"layout\":\"aggregated\"}}\n");
    free(s);
    sg_profile_free(p);
}

static void test_hostile_names(void)
{
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    sg_profile_tracks(p)[t].name = S(p, "th\"\n");
    const char bad[] = "<script>\"\\\n\x01\xff(1) x";
    uint32_t n = sg_profile_child(p, SG_ROOT, L(p, bad, "a\"b\nc.py", 1, 1));
    n = sg_profile_child(p, n, L(p, "(2)", "~", 0, 0));
    add(p, t, n, SG_F_ONCPU, 3, 0);
    sg_profile_timeline_add(p, t, n, SG_F_ONCPU, 5);
    sg_write_opts o = defaults();
    char *s = render(p, "callgrind", &o, NULL);
    SG_CHECK(s && strstr(s, "fn=(1) <script>\"\\\\x0a\\x01\\xff(1) x\n"));
    SG_CHECK(s && strstr(s, "fl=(1) a\"b\\x0ac.py\n"));
    SG_CHECK(s && strstr(s, "fn=(2) (2)\n"));
    free(s);
    s = render(p, "speedscope", &o, NULL);
    SG_CHECK(s && strstr(s, "\"name\":\"\\u003cscript\\u003e\\\"\\\\\\n\\u0001\\ufffd(1) x\""));
    SG_CHECK(s && strstr(s, "\"file\":\"a\\\"b\\nc.py\""));
    SG_CHECK(s && strstr(s, "\"name\":\"thread th\\\"\\n (1)\""));
    free(s);
    s = render(p, "chrome", &o, NULL);
    SG_CHECK(s && strstr(s, "\"name\":\"\\u003cscript\\u003e\\\"\\\\\\n\\u0001\\ufffd(1) x\""));
    free(s);
    size_t len;
    s = render(p, "pstats", &o, &len);
    SG_CHECK(s && memmem(s, len, "<script>\"\\\n\x01\xef\xbf\xbd(1) x", 17));
    SG_CHECK(s && memmem(s, len, "<built-in method (2)>", 21));
    free(s);
    sg_profile_free(p);
}

static void test_callgrind_same_names(void)
{
    /* two functions "wait" of one file (Python 3.9 has no qualified names) stay apart */
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    add(p, t, sg_profile_child(p, SG_ROOT, L(p, "wait", "/th.py", 10, 11)), 0, 1, 0);
    add(p, t, sg_profile_child(p, SG_ROOT, L(p, "wait", "/th.py", 20, 21)), 0, 2, 0);
    sg_write_opts o = defaults();
    char *s = render(p, "callgrind", &o, NULL);
    SG_CHECK(s && strstr(s, "fn=(1) wait:10\n11 1\n") && strstr(s, "fn=(2) wait:20\n21 2\n"));
    free(s);
    sg_profile_free(p);
}

static void test_pprof_and_table(void)
{
    sg_profile *p = sampled(true);
    sg_write_opts o = defaults();
    size_t len;
    char *s = render(p, "pprof", &o, &len);
    sg_error err;
    sg_profile *q = s ? sg_profile_decode(s, len, &err) : NULL;
    SG_CHECK(q && sg_profile_nrecords(q) == sg_profile_nrecords(p));
    sg_profile_free(q);
    free(s);
    const char *names = sg_write_formats();
    SG_CHECK(strstr(names, "callgrind") && strstr(names, "pstats") &&
             strstr(names, "speedscope") && strstr(names, "chrome") && strstr(names, "pprof"));
    sg_profile_free(p);
}

int main(void)
{
    SG_RUN(test_callgrind_sampled);
    SG_RUN(test_callgrind_traced);
    SG_RUN(test_pstats_traced);
    SG_RUN(test_pstats_big_numbers);
    SG_RUN(test_speedscope);
    SG_RUN(test_chrome);
    SG_RUN(test_hostile_names);
    SG_RUN(test_callgrind_same_names);
    SG_RUN(test_pprof_and_table);
    SG_TEST_MAIN_END();
}
