/* The browser formats on small fixed models: the flame graph SVG is well-formed XML
 * with the expected frames, widths and levels; the HTML report carries JSON that
 * parses back to the model's totals; hostile names stay text in both. */
#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/write/sg_flame.h"
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

/* Sampled, 10 ms a sample. Main thread: main -> work 60, main -> fib -> fib -> fib 30
 * (three lines of main, so three trie roots that merge into one "main" frame),
 * main -> Condition.wait (standard library, idle) 10. Worker: loop -> work 50. */
static sg_profile *sampled_model(void)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->rate_hz = 100;
    m->interval_ns = 10000000;
    m->duration_ns = 1000000000;
    sg_profile_set_attr(p, "command", "python app.py");
    sg_profile_set_attr(p, "python", "3.12.1");
    const char *app = "/src/app.py";
    uint32_t pr = sg_profile_process(p, 100);
    uint32_t t1 = sg_profile_track(p, pr, 11), t2 = sg_profile_track(p, pr, 12);
    sg_profile_tracks(p)[t1].name = S(p, "MainThread");
    sg_profile_tracks(p)[t1].is_main = true;
    sg_profile_tracks(p)[t2].name = S(p, "worker");
    uint32_t mn2 = sg_profile_child(p, SG_ROOT, L(p, "main", app, 1, 2));
    uint32_t mn3 = sg_profile_child(p, SG_ROOT, L(p, "main", app, 1, 3));
    uint32_t mn4 = sg_profile_child(p, SG_ROOT, L(p, "main", app, 1, 4));
    uint32_t work = sg_profile_child(p, mn2, L(p, "work", app, 6, 9));
    uint32_t fib = sg_profile_child(p, mn3, L(p, "fib", app, 12, 15));
    fib = sg_profile_child(p, fib, L(p, "fib", app, 12, 15));
    fib = sg_profile_child(p, fib, L(p, "fib", app, 12, 14));
    uint32_t wait = sg_profile_child(
        p, mn4, L(p, "Condition.wait", "/usr/lib/python3.12/threading.py", 300, 320));
    add(p, t1, work, SG_F_ONCPU | SG_F_GIL, 60, 0);
    add(p, t1, fib, SG_F_ONCPU | SG_F_GIL, 30, 0);
    add(p, t1, wait, 0, 10, 0);
    uint32_t w = sg_profile_child(p, SG_ROOT, L(p, "loop", app, 20, 21));
    w = sg_profile_child(p, w, L(p, "work", app, 6, 9));
    add(p, t2, w, SG_F_ONCPU | SG_F_GIL, 30, 0);
    add(p, t2, w, SG_F_ONCPU | SG_F_GILWAIT, 20, 0);
    return p;
}

/* Traced (function level): calls and self time. main (self 1 s) calls work 4 times
 * (2 s) and helper 6 times (0.5 s); a second process runs job once (1.5 s). */
static sg_profile *traced_model(void)
{
    sg_profile *p = sg_profile_new();
    sg_profile_meta_of(p)->mode = SG_MODE_TRACE;
    const char *types[] = {"calls", "time"}, *units[] = {"count", "nanoseconds"};
    sg_profile_set_value_types(p, 2, types, units);
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 7), 70);
    uint32_t t2 = sg_profile_track(p, sg_profile_process(p, 8), 80);
    uint32_t mn = sg_profile_child(p, SG_ROOT, L(p, "main", "/t.py", 1, 1));
    uint32_t wk = sg_profile_child(p, mn, L(p, "work", "/t.py", 5, 5));
    uint32_t hp = sg_profile_child(p, mn, L(p, "helper", "/t.py", 9, 9));
    uint32_t jb = sg_profile_child(p, SG_ROOT, L(p, "job", "/j.py", 1, 1));
    add(p, t, mn, 0, 1, 1000000000);
    add(p, t, wk, 0, 4, 2000000000);
    add(p, t, hp, 0, 6, 500000000);
    add(p, t2, jb, 0, 1, 1500000000);
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

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *at = s; at && (at = strstr(at, needle)); at += strlen(needle))
        n++;
    return n;
}

/* ---- a small XML well-formedness check (elements nest, attributes are quoted, every
 * '&' starts a known reference, no '<' in text or attribute values, CDATA closes) ---- */

static bool xml_ref(const char **s)
{
    static const char *const refs[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    for (size_t i = 0; i < 5; i++)
        if (!strncmp(*s, refs[i], strlen(refs[i]))) {
            *s += strlen(refs[i]);
            return true;
        }
    if ((*s)[1] == '#') {
        const char *q = *s + 2;
        while (*q >= '0' && *q <= '9')
            q++;
        if (*q == ';' && q > *s + 2) {
            *s = q + 1;
            return true;
        }
    }
    return false;
}

static bool xml_well_formed(const char *s)
{
    const char *stack[256];
    size_t len[256], depth = 0;
    bool root_seen = false;
    if (!strncmp(s, "<?xml", 5)) {
        s = strstr(s, "?>");
        if (!s)
            return false;
        s += 2;
    }
    while (*s) {
        if (!strncmp(s, "<![CDATA[", 9)) {
            s = strstr(s + 9, "]]>");
            if (!s || !depth)
                return false;
            s += 3;
        } else if (!strncmp(s, "</", 2)) {
            const char *n = s + 2, *e = n;
            while (*e && *e != '>' && *e != ' ')
                e++;
            if (!depth || (size_t)(e - n) != len[depth - 1] || strncmp(n, stack[depth - 1], len[depth - 1]))
                return false;
            depth--;
            s = strchr(e, '>');
            if (!s)
                return false;
            s++;
        } else if (*s == '<') {
            const char *n = s + 1, *e = n;
            while (*e && *e != '>' && *e != ' ' && *e != '/' && *e != '\n')
                e++;
            if (e == n)
                return false;
            if (!depth && root_seen)
                return false;
            root_seen = true;
            const char *q = e;
            for (;;) { /* attributes */
                while (*q == ' ' || *q == '\n')
                    q++;
                if (*q == '>' || (*q == '/' && q[1] == '>'))
                    break;
                while (*q && *q != '=' && *q != '>')
                    q++;
                if (*q != '=' || (q[1] != '"' && q[1] != '\''))
                    return false;
                char quote = q[1];
                q += 2;
                while (*q && *q != quote) {
                    if (*q == '<' || (*q == '&' && !xml_ref(&q)))
                        return false;
                    if (*q != quote && *q != '&')
                        q++;
                }
                if (!*q)
                    return false;
                q++;
            }
            if (*q == '/') {
                s = q + 2;
            } else {
                if (depth == 256)
                    return false;
                stack[depth] = n;
                len[depth++] = (size_t)(e - n);
                s = q + 1;
            }
        } else if (*s == '&') {
            if (!depth || !xml_ref(&s))
                return false;
        } else if (*s == '>' && s > (const char *)0) {
            s++; /* allowed in text (we never write it, but XML permits it) */
        } else {
            if (!depth && *s != '\n' && *s != ' ')
                return false;
            s++;
        }
    }
    return depth == 0 && root_seen;
}

/* The <g> of the frame whose title starts with "label\n"; NULL when absent. */
static const char *frame_of(const char *svg, const char *label)
{
    char needle[512];
    snprintf(needle, sizeof needle, "<g><title>%s\n", label);
    return strstr(svg, needle);
}

static double attr_num(const char *g, const char *attr)
{
    char needle[64];
    snprintf(needle, sizeof needle, " %s=\"", attr);
    const char *a = strstr(g, needle);
    return a ? atof(a + strlen(needle)) : -1;
}

static void test_flamegraph_svg(void)
{
    sg_profile *p = sampled_model();
    sg_write_opts o;
    sg_write_opts_init(&o);
    char *s = render(p, "flamegraph", &o);
    SG_CHECK(s && xml_well_formed(s));
    SG_CHECK(s && strstr(s, "<svg ") && strstr(s, "xmlns=\"http://www.w3.org/2000/svg\""));
    /* frames, their values (data-w) and widths: 1180 px for the 150 samples */
    const char *all = frame_of(s, "all");
    const char *t1 = frame_of(s, "thread MainThread (11)");
    const char *t2 = frame_of(s, "thread worker (12)");
    SG_CHECK(all && t1 && t2);
    SG_CHECK_EQ_INT(attr_num(all, "data-w"), 150);
    SG_CHECK_EQ_INT(attr_num(t1, "data-w"), 100);
    SG_CHECK_EQ_INT(attr_num(t2, "data-w"), 50);
    SG_CHECK(all && strstr(all, "\n\n150 samples (1.500 s), 100.00%</title>") == strchr(all, '\n'));
    /* the three lines of main merge into one frame; the recursion is three frames deep */
    SG_CHECK_EQ_INT(count(s, "<g><title>main\n/src/app.py:1\n"), 1);
    const char *mn = frame_of(s, "main");
    SG_CHECK_EQ_INT(attr_num(mn, "data-w"), 100);
    SG_CHECK(mn && strstr(mn, "width=\"786.67\"") && strstr(mn, "x=\"10.00\""));
    SG_CHECK_EQ_INT(count(s, "<g><title>fib\n/src/app.py:12\n30 samples (0.300 s), 20.00%"), 3);
    SG_CHECK_EQ_INT(count(s, "<g><title>work\n/src/app.py:6\n"), 2);
    /* widest first: work (60) left of fib (30) left of wait (10), under main */
    const char *work = frame_of(s, "work"), *fib = frame_of(s, "fib");
    const char *wait = frame_of(s, "Condition.wait");
    SG_CHECK(work && fib && wait);
    SG_CHECK_EQ_INT(attr_num(work, "data-x"), 0);
    SG_CHECK_EQ_INT(attr_num(fib, "data-x"), 60);
    SG_CHECK_EQ_INT(attr_num(wait, "data-x"), 90);
    SG_CHECK_EQ_INT(attr_num(t2, "data-x"), 100);
    /* depth: the root at the bottom; an icicle puts it at the top */
    double y_root = attr_num(all, "y"), y_main = attr_num(mn, "y");
    SG_CHECK(y_root > y_main && y_root - y_main == 32);
    /* colours: the standard library is not in the warm palette of the program's code */
    SG_CHECK(wait && strstr(wait, "fill=\"rgb(") && attr_num(wait, "data-w") == 10);
    int r = -1, g = -1;
    const char *fillw = wait ? strstr(wait, "fill=\"rgb(") : NULL;
    if (fillw)
        sscanf(fillw, "fill=\"rgb(%d,%d", &r, &g);
    SG_CHECK(r >= 0 && r < 120 && g >= 165);
    const char *fillm = mn ? strstr(mn, "fill=\"rgb(") : NULL;
    if (fillm)
        sscanf(fillm, "fill=\"rgb(%d", &r);
    SG_CHECK(r >= 205);
    /* the label fits: "Condition.wait" at 78.67 px shows 10 characters */
    SG_CHECK(wait && strstr(wait, ">Conditio..</text>"));
    /* the interactive parts are there, once */
    SG_CHECK_EQ_INT(count(s, "<script"), 1);
    SG_CHECK_EQ_INT(count(s, "]]>"), 2);
    SG_CHECK(strstr(s, "id=\"details\"") && strstr(s, "id=\"unzoom\"") && strstr(s, "id=\"search\""));
    SG_CHECK(strstr(s, "python app.py — 150 samples (1.500 s), view wall, Python 3.12.1"));
    free(s);

    o.icicle = true;
    s = render(p, "flamegraph", &o);
    SG_CHECK(s && xml_well_formed(s));
    all = s ? frame_of(s, "all") : NULL;
    mn = s ? frame_of(s, "main") : NULL;
    SG_CHECK(all && mn && attr_num(all, "y") == 66 && attr_num(mn, "y") == 98);
    SG_CHECK(s && strstr(s, ">Icicle Graph<"));
    free(s);

    /* the cpu view leaves out the idle wait */
    sg_write_opts_init(&o);
    o.view = SG_VIEW_CPU;
    s = render(p, "flamegraph", &o);
    SG_CHECK(s && !frame_of(s, "Condition.wait"));
    SG_CHECK_EQ_INT(attr_num(frame_of(s, "all"), "data-w"), 140);
    free(s);
    sg_profile_free(p);
}

static void test_flamegraph_levels(void)
{
    /* several processes: a process level above the threads; partial stacks under
     * "[partial]"; "[filtered]" is grey */
    sg_profile *p = sg_profile_new();
    sg_profile_meta_of(p)->interval_ns = 1000000;
    uint32_t a = sg_profile_track(p, sg_profile_process(p, 1), 1);
    uint32_t b = sg_profile_track(p, sg_profile_process(p, 2), 2);
    uint32_t f = sg_profile_child(p, SG_ROOT, L(p, "f", "/a.py", 1, 1));
    uint32_t filt = sg_profile_child(p, SG_ROOT, L(p, "[filtered]", "", 0, 0));
    add(p, a, f, 0, 5, 0);
    add(p, a, f, SG_F_PARTIAL, 2, 0);
    add(p, b, filt, 0, 3, 0);
    char *s = render(p, "flamegraph", NULL);
    SG_CHECK(s && xml_well_formed(s));
    const char *p1 = frame_of(s, "process 1"), *p2 = frame_of(s, "process 2");
    SG_CHECK(p1 && p2 && attr_num(p1, "data-w") == 7 && attr_num(p2, "data-w") == 3);
    const char *part = frame_of(s, "[partial]");
    SG_CHECK(part && attr_num(part, "data-w") == 2);
    SG_CHECK_EQ_INT(count(s, "<g><title>f\n"), 2);
    SG_CHECK(frame_of(s, "thread (1)") && frame_of(s, "thread (2)"));
    const char *fl = frame_of(s, "[filtered]");
    int r = 0, g = 1, bl = 2;
    if (fl)
        sscanf(strstr(fl, "fill=\"rgb("), "fill=\"rgb(%d,%d,%d", &r, &g, &bl);
    SG_CHECK(fl && r == g && g == bl);
    free(s);
    sg_profile_free(p);
}

static void test_flamegraph_traced(void)
{
    sg_profile *p = traced_model();
    char *s = render(p, "flamegraph", NULL);
    SG_CHECK(s && xml_well_formed(s));
    /* widths are time (ns); the tooltip has calls, time and self time */
    SG_CHECK_EQ_INT(attr_num(frame_of(s, "all"), "data-w"), 5000000000LL);
    SG_CHECK(strstr(s, "<g><title>work\n/t.py:5\n4 calls, 2.000000 s (self 2.000000 s), 40.00%</title>"));
    SG_CHECK(strstr(s, "<g><title>main\n/t.py:1\n1 call, 3.500000 s (self 1.000000 s), 70.00%</title>"));
    SG_CHECK(frame_of(s, "process 7") && frame_of(s, "process 8"));
    SG_CHECK(strstr(s, "5.000 s traced"));
    free(s);
    sg_profile_free(p);
}

static void test_flamegraph_prunes_narrow_frames(void)
{
    /* 2000 leaves of 1 sample beside one of 1,000,000: each would be 0.001 px wide */
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    uint32_t top = sg_profile_child(p, SG_ROOT, L(p, "top", "/a.py", 1, 1));
    add(p, t, sg_profile_child(p, top, L(p, "big", "/a.py", 5, 5)), 0, 1000000, 0);
    char name[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "tiny%d", i);
        add(p, t, sg_profile_child(p, top, L(p, name, "/a.py", 10 + i, 10 + i)), 0, 1, 0);
    }
    char *s = render(p, "flamegraph", NULL);
    SG_CHECK(s && xml_well_formed(s));
    SG_CHECK(s && !strstr(s, "tiny1"));
    /* 2000 samples of 1,002,000 are 2.4 px: merged into one frame */
    const char *o = s ? frame_of(s, "[2000 narrow frames]") : NULL;
    SG_CHECK(o && attr_num(o, "data-w") == 2000);
    SG_CHECK(s && strlen(s) < 20000);
    free(s);

    /* the layout itself: min_value 0 keeps everything, in order */
    sg_wc_ctx c;
    sg_wc_init(&c, p, NULL);
    sg_flame f;
    sg_flame_opts fo = {.track = SG_NONE, .per_thread = false};
    SG_CHECK_EQ_INT(sg_flame_build(&f, &c, &fo), 0);
    SG_CHECK_EQ_INT(sg_flame_layout(&f, p, 0), 0);
    SG_CHECK_EQ_INT(f.n, 2003);
    SG_CHECK_EQ_INT(f.max_depth, 2);
    uint32_t k = f.nodes[f.nodes[0].first_child].first_child;
    SG_CHECK_EQ_INT(f.nodes[k].total, 1000000);
    uint32_t next = f.nodes[k].next_sibling;
    SG_CHECK(next != SG_NONE && f.nodes[next].start == 1000000);
    sg_flame_free(&f);
    sg_profile_free(p);
}

/* ---- a small JSON parser, enough to read the report's data back ---- */

typedef struct jv {
    char type; /* 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null */
    double num;
    char *str; /* decoded, UTF-8 */
    struct jv *items; /* arrays and objects (values) */
    char **keys;      /* objects */
    size_t n;
} jv;

static void jv_free(jv *v)
{
    for (size_t i = 0; i < v->n; i++) {
        jv_free(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
}

static const char *ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

static void put_utf8(char *o, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        o[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        o[(*n)++] = (char)(0xc0 | cp >> 6);
        o[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        o[(*n)++] = (char)(0xe0 | cp >> 12);
        o[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        o[(*n)++] = (char)(0xf0 | cp >> 18);
        o[(*n)++] = (char)(0x80 | (cp >> 12 & 0x3f));
        o[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        o[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static const char *jparse(const char *s, jv *v);

static const char *jstring(const char *s, char **out)
{
    size_t cap = strlen(s) + 1, n = 0;
    char *o = malloc(cap);
    s++;
    while (*s && *s != '"') {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20) {
            free(o);
            return NULL; /* raw control characters are not JSON */
        }
        if (*s != '\\') {
            o[n++] = *s++;
            continue;
        }
        s++;
        char e = *s++;
        if (e == 'u') {
            unsigned cp = 0;
            sscanf(s, "%4x", &cp);
            s += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && s[0] == '\\' && s[1] == 'u') {
                unsigned lo = 0;
                sscanf(s + 2, "%4x", &lo);
                s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            put_utf8(o, &n, cp);
        } else {
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *k = strchr(from, e);
            if (!k || !e) {
                free(o);
                return NULL;
            }
            o[n++] = to[k - from];
        }
    }
    if (*s != '"') {
        free(o);
        return NULL;
    }
    o[n] = '\0';
    *out = o;
    return s + 1;
}

static const char *jparse(const char *s, jv *v)
{
    memset(v, 0, sizeof *v);
    s = ws(s);
    if (*s == '{' || *s == '[') {
        char close = *s == '{' ? '}' : ']';
        v->type = *s == '{' ? 'o' : 'a';
        s = ws(s + 1);
        size_t cap = 0;
        while (*s != close) {
            if (v->n == cap) {
                cap = cap ? cap * 2 : 8;
                v->items = realloc(v->items, cap * sizeof *v->items);
                if (v->type == 'o')
                    v->keys = realloc(v->keys, cap * sizeof *v->keys);
            }
            if (v->type == 'o') {
                if (*s != '"' || !(s = jstring(s, &v->keys[v->n])))
                    return NULL;
                s = ws(s);
                if (*s++ != ':')
                    return NULL;
            }
            if (!(s = jparse(s, &v->items[v->n])))
                return NULL;
            v->n++;
            s = ws(s);
            if (*s == ',')
                s = ws(s + 1);
            else if (*s != close)
                return NULL;
        }
        return s + 1;
    }
    if (*s == '"') {
        v->type = 's';
        return jstring(s, &v->str);
    }
    if (!strncmp(s, "true", 4) || !strncmp(s, "false", 5)) {
        v->type = 'b';
        v->num = *s == 't';
        return s + (*s == 't' ? 4 : 5);
    }
    if (!strncmp(s, "null", 4)) {
        v->type = 'z';
        return s + 4;
    }
    char *end;
    v->type = 'n';
    v->num = strtod(s, &end);
    return end == s ? NULL : end;
}

static const jv *jget(const jv *o, const char *key)
{
    for (size_t i = 0; o && o->type == 'o' && i < o->n; i++)
        if (!strcmp(o->keys[i], key))
            return &o->items[i];
    return NULL;
}

/* Parses the report's data element. */
static bool report_data(const char *html, jv *out)
{
    const char *open = "<script type=\"application/json\" id=\"sg-data\">";
    const char *a = strstr(html, open);
    if (!a)
        return false;
    a += strlen(open);
    const char *b = strstr(a, "</script>");
    if (!b)
        return false;
    char *text = strndup(a, (size_t)(b - a));
    const char *end = jparse(text, out);
    bool ok = end && *ws(end) == '\0';
    free(text);
    return ok;
}

/* The trie of the report's "nodes" stream: parent[] and loc[] (index 0 the root). */
typedef struct trie {
    size_t n;
    size_t parent[256], loc[256];
    size_t direct; /* nodes written without a parent distance */
} trie;

static void decode_nodes(const jv *d, trie *t)
{
    const jv *nodes = jget(d, "nodes");
    memset(t, 0, sizeof *t);
    t->n = 1;
    for (size_t k = 0; nodes && k < nodes->n && t->n < 256; t->n++) {
        size_t up = 1;
        if (nodes->items[k].num < 0)
            up = (size_t)-nodes->items[k++].num;
        else
            t->direct++;
        t->parent[t->n] = t->n - up;
        t->loc[t->n] = (size_t)nodes->items[k++].num;
    }
}

/* The stack of a record's node as "f;g;h" (function names, root first). */
static void stack_of(const jv *d, const trie *t, size_t node, char *out, size_t size)
{
    const jv *locs = jget(d, "locations");
    const jv *funcs = jget(d, "functions"), *strs = jget(d, "strings");
    size_t path[64], depth = 0;
    while (node > 0 && node < t->n && depth < 64) {
        path[depth++] = node;
        node = t->parent[node];
    }
    out[0] = '\0';
    while (depth--) {
        size_t loc = t->loc[path[depth]];
        size_t fn = (size_t)locs->items[loc * 2].num;
        const char *name = strs->items[(size_t)funcs->items[fn * 3].num].str;
        if (out[0])
            strncat(out, ";", size - strlen(out) - 1);
        strncat(out, name, size - strlen(out) - 1);
    }
}

static void test_html_data(void)
{
    sg_profile *p = sampled_model();
    char *s = render(p, "html", NULL);
    SG_CHECK(s && !strncmp(s, "<!DOCTYPE html>", 15));
    SG_CHECK(s && strstr(s, "<title>spyglass: python app.py</title>"));
    /* one self-contained file: nothing loaded from elsewhere */
    SG_CHECK(s && !strstr(s, "src=\"http") && !strstr(s, "href=\"http") && !strstr(s, "@import"));
    jv d;
    SG_CHECK(s && report_data(s, &d));
    const jv *meta = jget(&d, "meta"), *recs = jget(&d, "records"), *tracks = jget(&d, "tracks");
    SG_CHECK(meta && !strcmp(jget(meta, "mode")->str, "sample"));
    SG_CHECK(jget(meta, "interval_ns")->num == 10000000);
    SG_CHECK(!strcmp(jget(meta, "view")->str, "wall"));
    SG_CHECK(jget(meta, "aux")->type == 'z');
    SG_CHECK(tracks && tracks->n == 2 && recs && recs->n == 2);
    /* per track, records are [node, flags, value]: the totals come back */
    double sum[2] = {0, 0};
    char stack[512];
    trie tr;
    decode_nodes(&d, &tr);
    bool saw_fib = false;
    for (size_t t = 0; t < 2 && recs && recs->n == 2; t++) {
        const jv *r = &recs->items[t];
        SG_CHECK(r->n % 3 == 0);
        for (size_t i = 0; i + 2 < r->n; i += 3) {
            sum[t] += r->items[i + 2].num;
            stack_of(&d, &tr, (size_t)r->items[i].num, stack, sizeof stack);
            if (!strcmp(stack, "main;fib;fib;fib")) {
                saw_fib = true;
                SG_CHECK(r->items[i + 2].num == 30 && r->items[i + 1].num == 3);
            }
        }
    }
    SG_CHECK(sum[0] == 100 && sum[1] == 50);
    SG_CHECK(saw_fib);
    /* depth first numbering: most nodes follow their parent directly */
    SG_CHECK_EQ_INT(tr.n, 11);
    SG_CHECK(tr.direct >= 6);
    const jv *attrs = jget(&d, "attrs");
    SG_CHECK(attrs && attrs->n == 2 && !strcmp(attrs->items[0].items[1].str, "python app.py"));
    const jv *pr = jget(&d, "processes");
    SG_CHECK(pr && pr->n == 1 && pr->items[0].items[0].num == 100);
    jv_free(&d);
    free(s);
    sg_profile_free(p);

    /* traced: value = time, aux = calls */
    p = traced_model();
    s = render(p, "html", NULL);
    SG_CHECK(s && report_data(s, &d));
    meta = jget(&d, "meta");
    SG_CHECK(meta && !strcmp(jget(meta, "mode")->str, "trace"));
    SG_CHECK(!strcmp(jget(meta, "value")->str, "time") && !strcmp(jget(meta, "aux")->str, "calls"));
    SG_CHECK(jget(meta, "sec_per_unit")->num == 1e-9);
    recs = jget(&d, "records");
    double time = 0, calls = 0;
    for (size_t t = 0; recs && t < recs->n; t++)
        for (size_t i = 0; i + 3 < recs->items[t].n; i += 4) {
            time += recs->items[t].items[i + 2].num;
            calls += recs->items[t].items[i + 3].num;
        }
    SG_CHECK(time == 5e9 && calls == 12);
    jv_free(&d);
    free(s);
    sg_profile_free(p);

    /* an empty profile still makes a valid page */
    p = sg_profile_new();
    s = render(p, "html", NULL);
    SG_CHECK(s && report_data(s, &d));
    jv_free(&d);
    free(s);
    s = render(p, "flamegraph", NULL);
    SG_CHECK(s && xml_well_formed(s));
    free(s);
    sg_profile_free(p);
}

static void test_html_sources(void)
{
    char dir[] = "/tmp/sg_visual_XXXXXX";
    SG_CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/hot.py", dir);
    FILE *fp = fopen(path, "w");
    fputs("def hot():\n\tx = '</script><script>alert(1)</script>'\n    return x\n", fp);
    fclose(fp);
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    add(p, t, sg_profile_child(p, SG_ROOT, L(p, "hot", path, 1, 2)), 0, 9, 0);
    char *s = render(p, "html", NULL);
    jv d;
    SG_CHECK(s && report_data(s, &d));
    const jv *src = jget(&d, "sources");
    SG_CHECK(src && src->n == 1);
    if (src && src->n == 1) {
        const jv *lines = &src->items[0].items[1];
        SG_CHECK(lines->n == 3);
        SG_CHECK_EQ_STR(lines->items[1].str, "\tx = '</script><script>alert(1)</script>'");
        SG_CHECK(!strcmp(jget(&d, "strings")->items[(size_t)src->items[0].items[0].num].str, path));
    }
    SG_CHECK(s && count(s, "</script>") == 2);
    jv_free(&d);
    free(s);
    sg_profile_free(p);
    remove(path);
    remove(dir);
}

static void test_hostile_names(void)
{
    /* names and files from the profiled program can be anything */
    const char *names[] = {
        "<script>alert(1)</script>", "]]><script>alert(2)</script>", "a\xe2\x80\xa8" "b",
        "x\"y'z&amp;<!--", "bad\xff\xfe" "utf8\x01\x1b[31m", "\xe2\x80\xae" "evil", "ok&<>",
    };
    sg_profile *p = sg_profile_new();
    uint32_t t = sg_profile_track(p, sg_profile_process(p, 1), 1);
    sg_profile_tracks(p)[t].name = S(p, "</script><b>thread");
    sg_profile_set_attr(p, "command", "<script>alert(3)</script>");
    sg_profile_set_attr(p, "python", "3.12\"><img src=x onerror=alert(4)>");
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        add(p, t, sg_profile_child(p, SG_ROOT, L(p, names[i], "/q\"u'o<t>e&.py", 1, 1)), 0,
            (int64_t)(10 + i), 0);
    char *s = render(p, "flamegraph", NULL);
    SG_CHECK(s && xml_well_formed(s));
    SG_CHECK_EQ_INT(count(s, "<script"), 1);
    SG_CHECK_EQ_INT(count(s, "]]>"), 2);
    SG_CHECK_EQ_INT(count(s, "<img"), 0);
    SG_CHECK(s && strstr(s, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    SG_CHECK(s && strstr(s, "a\\u2028b") && strstr(s, "bad\\xff\\xfeutf8\\x01\\x1b[31m"));
    SG_CHECK(s && strstr(s, "\\u202eevil") && !strstr(s, "\xe2\x80\xae"));
    SG_CHECK(s && strstr(s, "/q&quot;u&#39;o&lt;t&gt;e&amp;.py:1"));
    free(s);

    s = render(p, "html", NULL);
    SG_CHECK(s != NULL);
    SG_CHECK_EQ_INT(count(s, "<script"), 2);
    SG_CHECK_EQ_INT(count(s, "</script>"), 2);
    SG_CHECK_EQ_INT(count(s, "<img"), 0);
    SG_CHECK_EQ_INT(count(s, "<!--"), 0);
    SG_CHECK(s && !strstr(s, "\xe2\x80\xa8") && !strstr(s, "\xe2\x80\xae"));
    SG_CHECK(s && strstr(s, "<title>spyglass: &lt;script&gt;alert(3)&lt;/script&gt;</title>"));
    jv d;
    SG_CHECK(s && report_data(s, &d));
    const jv *strs = jget(&d, "strings");
    bool saw[7] = {false};
    for (size_t i = 0; strs && i < strs->n; i++) {
        const char *v = strs->items[i].str;
        saw[0] |= !strcmp(v, "<script>alert(1)</script>");
        saw[1] |= !strcmp(v, "]]><script>alert(2)</script>");
        saw[2] |= !strcmp(v, "a\\u2028b");
        saw[3] |= !strcmp(v, "x\"y'z&amp;<!--");
        saw[4] |= !strcmp(v, "bad\\xff\\xfeutf8\\x01\\x1b[31m");
        saw[5] |= !strcmp(v, "\\u202eevil");
        saw[6] |= !strcmp(v, "</script><b>thread");
    }
    for (size_t i = 0; i < 7; i++)
        SG_CHECK(saw[i]);
    jv_free(&d);
    free(s);
    sg_profile_free(p);
}

static void test_markup_helpers(void)
{
    sg_buf b;
    sg_buf_init(&b);
    SG_CHECK_EQ_INT(sg_wc_markup(&b, "a<b>&\"'", 7, 0), 7);
    SG_CHECK_EQ_STR(sg_buf_cstr(&b), "a&lt;b&gt;&amp;&quot;&#39;");
    sg_buf_reset(&b);
    /* cut by shown code points, never inside an escape or a character */
    SG_CHECK_EQ_INT(sg_wc_markup(&b, "\xc3\xa9t\xc3\xa9\x01z", 7, 3), 3);
    SG_CHECK_EQ_STR(sg_buf_cstr(&b), "\xc3\xa9t\xc3\xa9");
    SG_CHECK_EQ_INT(sg_wc_markup_cps("\xc3\xa9t\xc3\xa9\x01z", 7), 8);
    sg_buf_reset(&b);
    sg_wc_json_str(&b, "q\"\\\n\t</x>&\xe2\x80\xa8\xe2\x80\xa9\x7f\xff", 18, false);
    SG_CHECK_EQ_STR(sg_buf_cstr(&b),
                    "\"q\\\"\\\\\\n\\t\\u003c/x\\u003e\\u0026\\u2028\\u2029\\u007f\\ufffd\"");
    sg_buf_reset(&b);
    sg_wc_json_str(&b, "n\n\xff", 3, true);
    SG_CHECK_EQ_STR(sg_buf_cstr(&b), "\"n\\\\x0a\\\\xff\"");
    sg_buf_free(&b);
}

int main(void)
{
    SG_RUN(test_markup_helpers);
    SG_RUN(test_flamegraph_svg);
    SG_RUN(test_flamegraph_levels);
    SG_RUN(test_flamegraph_traced);
    SG_RUN(test_flamegraph_prunes_narrow_frames);
    SG_RUN(test_html_data);
    SG_RUN(test_html_sources);
    SG_RUN(test_hostile_names);
    SG_TEST_MAIN_END();
}
