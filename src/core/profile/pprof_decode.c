/* A pprof Profile message into the model. The bytes are hostile: every length, index
 * and id is checked before use, unknown fields are skipped, and the work done is
 * bounded by the input size (a stack budget stops a few bytes of sample from
 * expanding into billions of frames through many-line locations).
 *
 * The top-level message is walked once to check its framing and collect the string
 * table, then once per kind of item in dependency order (comments, sample types,
 * functions, locations, samples), since producers may write fields in any order. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/sg_file.h"
#include "../base/sg_grow.h"
#include "../base/sg_map.h"
#include "sg_gzip.h"
#include "sg_pprof.h"
#include "sg_profile.h"
#include "sg_protobuf.h"

#define SG_PP_MAX_DECOMPRESSED ((size_t)1 << 30)
#define SG_PP_MAX_FILE ((size_t)1 << 30)
#define SG_PP_MAX_DEPTH ((size_t)1 << 16) /* frames in one sample */

typedef struct span {
    const uint8_t *p;
    size_t len;
} span;

/* One pprof location: its lines, as model locations, are lines[first .. first+count). */
typedef struct dloc {
    size_t first, count;
} dloc;

typedef struct dec {
    sg_profile *p;
    sg_error *err;
    const uint8_t *data;
    size_t len;

    span *str; /* the string table */
    uint32_t *sid; /* model id of table entry i, SG_NONE until interned */
    size_t nstr, capstr;

    sg_map fn;   /* pprof function id -> model function id */
    sg_map loc;  /* pprof location id -> index into locs */
    dloc *locs;
    size_t nlocs, caplocs;
    uint32_t *lines;
    size_t nlines, caplines;

    size_t ntypes;   /* sample types declared (values per sample) */
    uint32_t *stack; /* one sample's model locations, leaf first */
    size_t capstack;
    uint64_t frame_budget;
    uint64_t comment_budget; /* bytes of comment text still allowed to be parsed */
    bool strings_seen;       /* "spyglass:strings=" was honoured (only the first is) */

    span timeline;    /* the base64 text of the timeline comment (the first one) */
    bool has_timeline;
    uint32_t *srec;   /* Sample index -> model record */
    size_t nsrec, capsrec;
} dec;

static int corrupt(dec *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int corrupt(dec *d, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sg_fail(d->err, SG_E_CORRUPT, 0, "not a valid profile: %s", msg);
}

static int nomem(dec *d) { return sg_fail(d->err, SG_E_NOMEM, 0, "loading the profile"); }


static bool span_is(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

/* The model id of string table entry idx, interning it on first use. */
static int str_id(dec *d, uint64_t idx, uint32_t *out)
{
    if (idx >= d->nstr)
        return corrupt(d, "string index %" PRIu64 " is outside the string table (%zu entries)",
                       idx, d->nstr);
    if (d->sid[idx] == SG_NONE) {
        uint32_t id = sg_profile_intern(d->p, (const char *)d->str[idx].p, d->str[idx].len);
        if (id == SG_NONE)
            return nomem(d);
        d->sid[idx] = id;
    }
    *out = d->sid[idx];
    return 0;
}

static int check_index(dec *d, uint64_t idx)
{
    if (idx >= d->nstr)
        return corrupt(d, "string index %" PRIu64 " is outside the string table (%zu entries)",
                       idx, d->nstr);
    return 0;
}

static int str_span(dec *d, uint64_t idx, span *out)
{
    if (check_index(d, idx) != 0)
        return -1;
    *out = d->str[idx];
    return 0;
}

static int32_t clamp_line(int64_t v)
{
    return v >= 0 && v <= INT32_MAX ? (int32_t)v : 0;
}

static int want_wire(dec *d, const sg_pb_field *f, int wire, const char *what)
{
    if (f->wire == wire)
        return 0;
    return corrupt(d, "%s (field %" PRIu32 ") has wire type %d, expected %d", what, f->num,
                   f->wire, wire);
}

/* ---- pass 0: framing and the string table ---- */

static const struct {
    uint32_t num;
    int wire;
    const char *what;
} top_fields[] = {
    {SG_PP_SAMPLE_TYPE, SG_PB_LEN, "sample_type"},
    {SG_PP_SAMPLE, SG_PB_LEN, "sample"},
    {SG_PP_MAPPING, SG_PB_LEN, "mapping"},
    {SG_PP_LOCATION, SG_PB_LEN, "location"},
    {SG_PP_FUNCTION, SG_PB_LEN, "function"},
    {SG_PP_STRING_TABLE, SG_PB_LEN, "string_table"},
    {SG_PP_DROP_FRAMES, SG_PB_VARINT, "drop_frames"},
    {SG_PP_KEEP_FRAMES, SG_PB_VARINT, "keep_frames"},
    {SG_PP_TIME_NANOS, SG_PB_VARINT, "time_nanos"},
    {SG_PP_DURATION_NANOS, SG_PB_VARINT, "duration_nanos"},
    {SG_PP_PERIOD_TYPE, SG_PB_LEN, "period_type"},
    {SG_PP_PERIOD, SG_PB_VARINT, "period"},
    {SG_PP_DEFAULT_SAMPLE_TYPE, SG_PB_VARINT, "default_sample_type"},
};

static int scan_top(dec *d)
{
    sg_pb_reader r;
    sg_pb_reader_init(&r, d->data, d->len);
    sg_pb_field f;
    const char *why;
    int rc;
    while ((rc = sg_pb_next(&r, &f, &why)) == 1) {
        for (size_t i = 0; i < sizeof top_fields / sizeof *top_fields; i++)
            if (top_fields[i].num == f.num &&
                want_wire(d, &f, top_fields[i].wire, top_fields[i].what) != 0)
                return -1;
        if (f.num == SG_PP_COMMENT && f.wire != SG_PB_VARINT && f.wire != SG_PB_LEN)
            return want_wire(d, &f, SG_PB_LEN, "comment");
        if (f.num != SG_PP_STRING_TABLE)
            continue;
        if (!sg_grow((void **)&d->str, &d->capstr, d->nstr + 1, sizeof *d->str, 16))
            return nomem(d);
        d->str[d->nstr++] = (span){f.data, f.len};
    }
    if (rc < 0)
        return corrupt(d, "%s at byte %td of %zu", why, r.p - d->data, d->len);
    if (d->nstr == 0) {
        /* a table-less message (e.g. an empty one) behaves as if it held just "" */
        static const uint8_t empty[1];
        if (!sg_grow((void **)&d->str, &d->capstr, 1, sizeof *d->str, 16))
            return nomem(d);
        d->str[d->nstr++] = (span){empty, 0};
    }
    if (d->str[0].len != 0)
        return corrupt(d, "the string table does not start with the empty string");
    static const char tl[] = SG_PP_COMMENT_PREFIX SG_PP_TIMELINE_KEY "=";
    /* Only the last entry can be the timeline: in our files the entries before it are
     * the model's strings, the label words and the comments, none of which may be
     * taken for it (a function of the profiled program could have such a name). */
    span last = d->str[d->nstr - 1];
    if (d->nstr > 1 && last.len >= sizeof tl - 1 && memcmp(last.p, tl, sizeof tl - 1) == 0) {
        d->has_timeline = true;
        d->timeline = (span){last.p + sizeof tl - 1, last.len - (sizeof tl - 1)};
    }
    d->sid = malloc(d->nstr * sizeof *d->sid);
    if (!d->sid)
        return nomem(d);
    for (size_t i = 0; i < d->nstr; i++)
        d->sid[i] = SG_NONE;
    d->sid[0] = 0;
    return 0;
}

/* Calls fn for every top-level field num (framing was checked by scan_top). */
static int each_top(dec *d, uint32_t num, int (*fn)(dec *, const sg_pb_field *))
{
    sg_pb_reader r;
    sg_pb_reader_init(&r, d->data, d->len);
    sg_pb_field f;
    const char *why;
    while (sg_pb_next(&r, &f, &why) == 1)
        if (f.num == num && fn(d, &f) != 0)
            return -1;
    return 0;
}

/* ---- comments and scalar metadata ---- */

/* Strict decimal parsers: comments are untrusted too, and a value that does not parse
 * is ignored rather than half-used. */
static bool parse_u64(const uint8_t *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t digit = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

/* Consumes "DIGITS:" from the front of *s. */
static bool take_u64(const uint8_t **s, size_t *n, uint64_t *out)
{
    const uint8_t *colon = memchr(*s, ':', *n);
    if (!colon || !parse_u64(*s, (size_t)(colon - *s), out))
        return false;
    *n -= (size_t)(colon - *s) + 1;
    *s = colon + 1;
    return true;
}

static char *cstr(const uint8_t *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

static int intern_span(dec *d, const uint8_t *s, size_t n, uint32_t *out)
{
    *out = sg_profile_intern(d->p, (const char *)s, n);
    return *out == SG_NONE ? nomem(d) : 0;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int attr_comment(dec *d, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
    char *key = malloc(kn + 1), *val = cstr(v, vn);
    if (!key || !val) {
        free(key);
        free(val);
        return nomem(d);
    }
    size_t o = 0;
    for (size_t i = 0; i < kn; i++) {
        int hi = i + 2 < kn && k[i] == '%' ? hexval(k[i + 1]) : -1;
        int lo = hi >= 0 ? hexval(k[i + 2]) : -1;
        if (lo >= 0) {
            key[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            key[o++] = (char)k[i];
        }
    }
    key[o] = '\0';
    int rc = sg_profile_set_attr(d->p, key, val) == 0 ? 0 : nomem(d);
    free(key);
    free(val);
    return rc;
}

static int process_comment(dec *d, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
    uint64_t pid, num = 0;
    if (!take_u64(&k, &kn, &pid) || pid > UINT32_MAX)
        return 0;
    uint32_t proc = sg_profile_process(d->p, (uint32_t)pid);
    if (proc == SG_NONE)
        return nomem(d);
    sg_process *pr = &sg_profile_processes(d->p)[proc];
    span key = {k, kn};
    uint32_t id;
    if (span_is(key, "cmdline") || span_is(key, "python")) {
        if (intern_span(d, v, vn, &id) != 0)
            return -1;
        pr = &sg_profile_processes(d->p)[proc];
        if (span_is(key, "cmdline"))
            pr->cmdline = id;
        else
            pr->python_version = id;
    } else if (span_is(key, "samples_ok") && parse_u64(v, vn, &num)) {
        pr->samples_ok = num;
    } else if (span_is(key, "samples_failed") && parse_u64(v, vn, &num)) {
        pr->samples_failed = num;
    }
    return 0;
}

static int thread_comment(dec *d, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
    uint64_t pid, tid;
    if (!take_u64(&k, &kn, &pid) || pid > UINT32_MAX || !take_u64(&k, &kn, &tid))
        return 0;
    uint32_t proc = sg_profile_process(d->p, (uint32_t)pid);
    uint32_t trk = proc == SG_NONE ? SG_NONE : sg_profile_track(d->p, proc, tid);
    if (trk == SG_NONE)
        return nomem(d);
    span key = {k, kn};
    if (span_is(key, "name")) {
        uint32_t id;
        if (intern_span(d, v, vn, &id) != 0)
            return -1;
        sg_profile_tracks(d->p)[trk].name = id;
    } else if (span_is(key, "main")) {
        sg_profile_tracks(d->p)[trk].is_main = vn == 1 && v[0] == '1';
    }
    return 0;
}

static int meta_comment(dec *d, span key, const uint8_t *v, size_t vn)
{
    sg_profile_meta *m = sg_profile_meta_of(d->p);
    uint64_t num;
    if (span_is(key, "strings") && !d->strings_seen && parse_u64(v, vn, &num)) {
        d->strings_seen = true;
        /* Our own files: intern the model's strings first, in order, so string ids
         * come back as they were. */
        for (uint64_t i = 0; i < num && i < d->nstr; i++) {
            uint32_t id;
            if (str_id(d, i, &id) != 0)
                return -1;
        }
    } else if (span_is(key, "mode")) {
        span val = {v, vn};
        if (span_is(val, "sample"))
            m->mode = SG_MODE_SAMPLE;
        else if (span_is(val, "trace"))
            m->mode = SG_MODE_TRACE;
        else if (span_is(val, "lines"))
            m->mode = SG_MODE_LINES;
    } else if (span_is(key, "rate_hz")) {
        char *s = cstr(v, vn);
        if (!s)
            return nomem(d);
        char *end;
        errno = 0;
        double r = strtod(s, &end);
        if (vn > 0 && *end == '\0' && errno == 0 && isfinite(r) && r >= 0)
            m->rate_hz = r;
        free(s);
    } else if (span_is(key, "ticks_requested") && parse_u64(v, vn, &num)) {
        m->ticks_requested = num;
    } else if (span_is(key, "ticks_taken") && parse_u64(v, vn, &num)) {
        m->ticks_taken = num;
    }
    return 0;
}

static int one_comment(dec *d, uint64_t idx)
{
    span s;
    if (str_span(d, idx, &s) != 0)
        return -1;
    /* Comments are indexes: a packed list could name one huge string a million times. */
    if (s.len > d->comment_budget)
        return corrupt(d, "the comments hold more text than the file size allows");
    d->comment_budget -= s.len;
    static const char prefix[] = SG_PP_COMMENT_PREFIX;
    size_t pn = sizeof prefix - 1;
    if (s.len < pn || memcmp(s.p, prefix, pn) != 0)
        return 0; /* someone else's comment */
    const uint8_t *k = s.p + pn;
    const uint8_t *eq = memchr(k, '=', s.len - pn);
    if (!eq)
        return 0;
    size_t kn = (size_t)(eq - k);
    const uint8_t *v = eq + 1;
    size_t vn = s.len - pn - kn - 1;
    static const char attr[] = "attr:", proc[] = "process:", thr[] = "thread:";
    if (kn >= sizeof attr - 1 && memcmp(k, attr, sizeof attr - 1) == 0)
        return attr_comment(d, k + sizeof attr - 1, kn - (sizeof attr - 1), v, vn);
    if (kn >= sizeof proc - 1 && memcmp(k, proc, sizeof proc - 1) == 0)
        return process_comment(d, k + sizeof proc - 1, kn - (sizeof proc - 1), v, vn);
    if (kn >= sizeof thr - 1 && memcmp(k, thr, sizeof thr - 1) == 0)
        return thread_comment(d, k + sizeof thr - 1, kn - (sizeof thr - 1), v, vn);
    return meta_comment(d, (span){k, kn}, v, vn);
}

static int on_comment(dec *d, const sg_pb_field *f)
{
    sg_pb_values it;
    uint64_t idx;
    int rc;
    sg_pb_values_init(&it, f);
    while ((rc = sg_pb_values_next(&it, &idx)) == 1)
        if (one_comment(d, idx) != 0)
            return -1;
    return rc < 0 ? corrupt(d, "truncated comment list") : 0;
}

/* Reads a ValueType's (type, unit) string indexes. */
static int value_type(dec *d, const sg_pb_field *f, uint64_t *type, uint64_t *unit)
{
    sg_pb_reader r;
    sg_pb_reader_init(&r, f->data, f->len);
    sg_pb_field g;
    const char *why;
    int rc;
    *type = *unit = 0;
    while ((rc = sg_pb_next(&r, &g, &why)) == 1) {
        if (g.num == SG_PP_VT_TYPE || g.num == SG_PP_VT_UNIT) {
            if (want_wire(d, &g, SG_PB_VARINT, "value type field") != 0)
                return -1;
            if (check_index(d, g.v) != 0)
                return -1;
            *(g.num == SG_PP_VT_TYPE ? type : unit) = g.v;
        }
    }
    return rc < 0 ? corrupt(d, "value type: %s", why) : 0;
}

static int on_period_type(dec *d, const sg_pb_field *f)
{
    uint64_t type, unit;
    if (value_type(d, f, &type, &unit) != 0)
        return -1;
    if (span_is(d->str[type], "cpu"))
        sg_profile_meta_of(d->p)->clock = SG_CLOCK_CPU;
    return 0;
}

static int on_sample_type(dec *d, const sg_pb_field *f)
{
    uint64_t type, unit;
    if (value_type(d, f, &type, &unit) != 0)
        return -1;
    sg_profile_meta *m = sg_profile_meta_of(d->p);
    if (d->ntypes < SG_MAX_VALUES) {
        uint32_t t, u;
        if (str_id(d, type, &t) != 0 || str_id(d, unit, &u) != 0)
            return -1;
        m->value_type[d->ntypes] = t;
        m->value_unit[d->ntypes] = u;
        m->n_values = (uint32_t)d->ntypes + 1;
    }
    d->ntypes++;
    return 0;
}

static int scalars(dec *d)
{
    sg_profile_meta *m = sg_profile_meta_of(d->p);
    sg_pb_reader r;
    sg_pb_reader_init(&r, d->data, d->len);
    sg_pb_field f;
    const char *why;
    while (sg_pb_next(&r, &f, &why) == 1) {
        if (f.num == SG_PP_TIME_NANOS)
            m->start_wall_ns = (int64_t)f.v;
        else if (f.num == SG_PP_DURATION_NANOS)
            m->duration_ns = (int64_t)f.v;
        else if (f.num == SG_PP_PERIOD)
            m->interval_ns = (int64_t)f.v;
        else if (f.num == SG_PP_DEFAULT_SAMPLE_TYPE && check_index(d, f.v) != 0)
            return -1;
    }
    return 0;
}

/* ---- functions and locations ---- */

static int on_function(dec *d, const sg_pb_field *f)
{
    sg_pb_reader r;
    sg_pb_reader_init(&r, f->data, f->len);
    sg_pb_field g;
    const char *why;
    int rc;
    uint64_t id = 0, name = 0, system_name = 0, filename = 0;
    int64_t start = 0;
    while ((rc = sg_pb_next(&r, &g, &why)) == 1) {
        if (g.num < SG_PP_F_ID || g.num > SG_PP_F_START_LINE)
            continue;
        if (want_wire(d, &g, SG_PB_VARINT, "function field") != 0)
            return -1;
        switch (g.num) {
        case SG_PP_F_ID: id = g.v; break;
        case SG_PP_F_NAME: name = g.v; break;
        case SG_PP_F_SYSTEM_NAME: system_name = g.v; break;
        case SG_PP_F_FILENAME: filename = g.v; break;
        default: start = (int64_t)g.v; break;
        }
    }
    if (rc < 0)
        return corrupt(d, "function: %s", why);
    if (id == 0)
        return corrupt(d, "a function has id 0");
    if (sg_map_get(&d->fn, id))
        return corrupt(d, "function id %" PRIu64 " appears twice", id);
    if (check_index(d, system_name) != 0)
        return -1;
    uint32_t n, fname;
    if (str_id(d, name ? name : system_name, &n) != 0 || str_id(d, filename, &fname) != 0)
        return -1;
    uint32_t fn = sg_profile_function(d->p, n, fname, clamp_line(start));
    if (fn == SG_NONE || !sg_map_put(&d->fn, id, fn))
        return nomem(d);
    return 0;
}

static int push_line(dec *d, uint32_t loc)
{
    if (!sg_grow((void **)&d->lines, &d->caplines, d->nlines + 1, sizeof *d->lines, 16))
        return nomem(d);
    d->lines[d->nlines++] = loc;
    return 0;
}

static int location_line(dec *d, uint64_t loc_id, const sg_pb_field *f)
{
    sg_pb_reader r;
    sg_pb_reader_init(&r, f->data, f->len);
    sg_pb_field g;
    const char *why;
    int rc;
    uint64_t fid = 0;
    int64_t line = 0;
    while ((rc = sg_pb_next(&r, &g, &why)) == 1) {
        if (g.num != SG_PP_LN_FUNCTION_ID && g.num != SG_PP_LN_LINE)
            continue;
        if (want_wire(d, &g, SG_PB_VARINT, "line field") != 0)
            return -1;
        if (g.num == SG_PP_LN_FUNCTION_ID)
            fid = g.v;
        else
            line = (int64_t)g.v;
    }
    if (rc < 0)
        return corrupt(d, "line: %s", why);
    const uint64_t *fn = sg_map_get(&d->fn, fid);
    if (!fn)
        return corrupt(d, "location %" PRIu64 " refers to function %" PRIu64
                          ", which does not exist", loc_id, fid);
    uint32_t loc = sg_profile_location(d->p, (uint32_t)*fn, clamp_line(line));
    return loc == SG_NONE ? nomem(d) : push_line(d, loc);
}

/* A location without lines (native code in other producers' profiles) becomes a
 * function named after its address. */
static int address_only(dec *d, uint64_t address)
{
    char name[32];
    snprintf(name, sizeof name, "0x%" PRIx64, address);
    uint32_t n = sg_profile_intern(d->p, name, strlen(name));
    uint32_t fn = n == SG_NONE ? SG_NONE : sg_profile_function(d->p, n, 0, 0);
    uint32_t loc = fn == SG_NONE ? SG_NONE : sg_profile_location(d->p, fn, 0);
    return loc == SG_NONE ? nomem(d) : push_line(d, loc);
}

static int on_location(dec *d, const sg_pb_field *f)
{
    sg_pb_reader r;
    sg_pb_reader_init(&r, f->data, f->len);
    sg_pb_field g;
    const char *why;
    int rc;
    uint64_t id = 0, address = 0;
    /* the id may come after the lines: find it first, for messages and the map */
    while ((rc = sg_pb_next(&r, &g, &why)) == 1) {
        if (g.num == SG_PP_L_ID || g.num == 3 /* address */) {
            if (want_wire(d, &g, SG_PB_VARINT, "location field") != 0)
                return -1;
            *(g.num == SG_PP_L_ID ? &id : &address) = g.v;
        } else if (g.num == SG_PP_L_LINE && want_wire(d, &g, SG_PB_LEN, "line") != 0) {
            return -1;
        }
    }
    if (rc < 0)
        return corrupt(d, "location: %s", why);
    if (id == 0)
        return corrupt(d, "a location has id 0");
    if (sg_map_get(&d->loc, id))
        return corrupt(d, "location id %" PRIu64 " appears twice", id);
    size_t first = d->nlines;
    sg_pb_reader_init(&r, f->data, f->len);
    while (sg_pb_next(&r, &g, &why) == 1)
        if (g.num == SG_PP_L_LINE && location_line(d, id, &g) != 0)
            return -1;
    if (d->nlines == first && address_only(d, address) != 0)
        return -1;
    if (!sg_grow((void **)&d->locs, &d->caplocs, d->nlocs + 1, sizeof *d->locs, 16) ||
        !sg_map_put(&d->loc, id, d->nlocs))
        return nomem(d);
    d->locs[d->nlocs++] = (dloc){first, d->nlines - first};
    return 0;
}

/* ---- samples ---- */

typedef struct slabels {
    uint64_t pid, tid;
    bool has_name, main, has_flags;
    uint32_t name;
    uint32_t flags, raw_flags;
} slabels;

static int sample_label(dec *d, const sg_pb_field *f, slabels *l)
{
    sg_pb_reader r;
    sg_pb_reader_init(&r, f->data, f->len);
    sg_pb_field g;
    const char *why;
    int rc;
    uint64_t key = 0, str = 0;
    int64_t num = 0;
    while ((rc = sg_pb_next(&r, &g, &why)) == 1) {
        if (g.num < SG_PP_LB_KEY || g.num > 4 /* num_unit */)
            continue;
        if (want_wire(d, &g, SG_PB_VARINT, "label field") != 0)
            return -1;
        if (g.num == SG_PP_LB_KEY)
            key = g.v;
        else if (g.num == SG_PP_LB_STR)
            str = g.v;
        else if (g.num == SG_PP_LB_NUM)
            num = (int64_t)g.v;
        else if (check_index(d, g.v) != 0)
            return -1;
    }
    if (rc < 0)
        return corrupt(d, "label: %s", why);
    span k, s;
    if (str_span(d, key, &k) != 0 || str_span(d, str, &s) != 0)
        return -1;
    if (span_is(k, SG_PP_LABEL_PID)) {
        if (num < 0 || num > (int64_t)UINT32_MAX)
            return corrupt(d, "label pid=%" PRId64 " is not a process id", num);
        l->pid = (uint64_t)num;
    } else if (span_is(k, SG_PP_LABEL_TID)) {
        l->tid = (uint64_t)num;
    } else if (span_is(k, SG_PP_LABEL_THREAD_NAME)) {
        l->has_name = true;
        if (str_id(d, str, &l->name) != 0)
            return -1;
    } else if (span_is(k, SG_PP_LABEL_MAIN)) {
        l->main = span_is(s, "true");
    } else if (span_is(k, SG_PP_LABEL_STATE)) {
        if (span_is(s, "running"))
            l->flags |= SG_F_ONCPU;
    } else if (span_is(k, SG_PP_LABEL_GIL)) {
        if (span_is(s, "held"))
            l->flags |= SG_F_GIL;
        else if (span_is(s, "waiting"))
            l->flags |= SG_F_GILWAIT;
    } else if (span_is(k, SG_PP_LABEL_PARTIAL)) {
        if (span_is(s, "true"))
            l->flags |= SG_F_PARTIAL;
    } else if (span_is(k, SG_PP_LABEL_FLAGS)) {
        l->has_flags = true;
        l->raw_flags = (uint32_t)num;
    }
    return 0;
}

/* Appends the lines of pprof location id to the sample's stack. */
static int push_location(dec *d, uint64_t id, size_t *depth)
{
    const uint64_t *i = sg_map_get(&d->loc, id);
    if (!i)
        return corrupt(d, "a sample refers to location %" PRIu64 ", which does not exist", id);
    const dloc *l = &d->locs[*i];
    if (l->count > SG_PP_MAX_DEPTH - *depth)
        return corrupt(d, "a sample's stack is deeper than %zu frames", SG_PP_MAX_DEPTH);
    if (l->count > d->frame_budget)
        return corrupt(d, "the samples' stacks hold more frames than the file size allows");
    d->frame_budget -= l->count;
    if (!sg_grow((void **)&d->stack, &d->capstack, *depth + l->count, sizeof *d->stack, 16))
        return nomem(d);
    memcpy(d->stack + *depth, d->lines + l->first, l->count * sizeof *d->stack);
    *depth += l->count;
    return 0;
}

static int on_sample(dec *d, const sg_pb_field *f)
{
    sg_pb_reader r;
    sg_pb_reader_init(&r, f->data, f->len);
    sg_pb_field g;
    const char *why;
    int rc;
    size_t depth = 0, nvals = 0;
    int64_t vals[SG_MAX_VALUES] = {0};
    slabels l;
    memset(&l, 0, sizeof l);
    while ((rc = sg_pb_next(&r, &g, &why)) == 1) {
        if (g.num == SG_PP_S_LOCATION_ID || g.num == SG_PP_S_VALUE) {
            sg_pb_values it;
            uint64_t v;
            int vr;
            if (!sg_pb_values_init(&it, &g))
                return want_wire(d, &g, SG_PB_LEN, "sample field");
            while ((vr = sg_pb_values_next(&it, &v)) == 1) {
                if (g.num == SG_PP_S_LOCATION_ID) {
                    if (push_location(d, v, &depth) != 0)
                        return -1;
                } else {
                    if (nvals < SG_MAX_VALUES)
                        vals[nvals] = (int64_t)v;
                    nvals++;
                }
            }
            if (vr < 0)
                return corrupt(d, "sample: truncated packed values");
        } else if (g.num == SG_PP_S_LABEL) {
            if (want_wire(d, &g, SG_PB_LEN, "label") != 0 || sample_label(d, &g, &l) != 0)
                return -1;
        }
    }
    if (rc < 0)
        return corrupt(d, "sample: %s", why);
    if (nvals != d->ntypes)
        return corrupt(d, "a sample has %zu values but the profile declares %zu sample types",
                       nvals, d->ntypes);
    uint32_t node = SG_ROOT;
    for (size_t i = depth; i-- > 0 && node != SG_NONE;)
        node = sg_profile_child(d->p, node, d->stack[i]);
    uint32_t proc = sg_profile_process(d->p, (uint32_t)l.pid);
    uint32_t trk = proc == SG_NONE ? SG_NONE : sg_profile_track(d->p, proc, l.tid);
    if (node == SG_NONE || trk == SG_NONE)
        return nomem(d);
    sg_track *t = &sg_profile_tracks(d->p)[trk];
    if (l.has_name)
        t->name = l.name;
    if (l.main)
        t->is_main = true;
    uint32_t flags = l.has_flags ? l.raw_flags : l.flags;
    if (sg_profile_add(d->p, trk, node, flags, vals) != 0)
        return nomem(d);
    if (d->has_timeline) {
        if (!sg_grow((void **)&d->srec, &d->capsrec, d->nsrec + 1, sizeof *d->srec, 64))
            return nomem(d);
        d->srec[d->nsrec++] = sg_profile_record_find(d->p, trk, node, flags);
    }
    return 0;
}

/* ---- the timeline comment (format in sg_pprof.h) ---- */

static int b64_val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int decode_timeline(dec *d)
{
    const uint8_t *s = d->timeline.p;
    size_t n = d->timeline.len;
    uint8_t *raw = malloc(n / 4 * 3 + 3);
    if (!raw)
        return nomem(d);
    size_t nraw = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(s[i]);
        if (v < 0) {
            free(raw);
            return corrupt(d, "the timeline holds a byte that is not base64");
        }
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            raw[nraw++] = (uint8_t)(acc >> bits);
        }
    }
    sg_pb_reader r;
    sg_pb_reader_init(&r, raw, nraw);
    int64_t t = 0;
    int rc = 0;
    while (r.p < r.end) {
        uint64_t idx, zz;
        if (!sg_pb_read_varint(&r, &idx) || !sg_pb_read_varint(&r, &zz)) {
            rc = corrupt(d, "the timeline is truncated");
            break;
        }
        if (idx >= d->nsrec || d->srec[idx] == SG_NONE) {
            rc = corrupt(d, "the timeline refers to sample %" PRIu64 " of %zu", idx, d->nsrec);
            break;
        }
        uint64_t delta = (zz >> 1) ^ (uint64_t)-(int64_t)(zz & 1);
        t = (int64_t)((uint64_t)t + delta); /* wraps like the encoder, no overflow */
        if (sg_profile_timeline_add_record(d->p, d->srec[idx], t) != 0) {
            rc = nomem(d);
            break;
        }
    }
    free(raw);
    return rc;
}

/* ---- entry points ---- */

static void dec_free(dec *d)
{
    free(d->str);
    free(d->sid);
    sg_map_free(&d->fn);
    sg_map_free(&d->loc);
    free(d->locs);
    free(d->lines);
    free(d->stack);
    free(d->srec);
}

static int decode_message(dec *d)
{
    sg_profile_meta *m = sg_profile_meta_of(d->p);
    if (scan_top(d) != 0)
        return -1;
    /* A foreign profile without sample types has no values; ours always declares them. */
    m->n_values = 0;
    if (each_top(d, SG_PP_COMMENT, on_comment) != 0 ||
        each_top(d, SG_PP_SAMPLE_TYPE, on_sample_type) != 0 ||
        each_top(d, SG_PP_PERIOD_TYPE, on_period_type) != 0 || scalars(d) != 0 ||
        each_top(d, SG_PP_FUNCTION, on_function) != 0 ||
        each_top(d, SG_PP_LOCATION, on_location) != 0 ||
        each_top(d, SG_PP_SAMPLE, on_sample) != 0)
        return -1;
    if (d->has_timeline && decode_timeline(d) != 0)
        return -1;
    for (size_t i = m->n_values; i < SG_MAX_VALUES; i++)
        m->value_type[i] = m->value_unit[i] = 0;
    return sg_profile_oom(d->p) ? nomem(d) : 0;
}

sg_profile *sg_profile_decode(const void *data, size_t len, sg_error *err)
{
    if (!data || !len)
        return sg_fail(err, SG_E_CORRUPT, 0, "the profile is empty"), NULL;
    void *raw = NULL;
    size_t raw_len = len;
    if (sg_gzip_is(data, len)) {
        if (sg_gzip_decompress(data, len, SG_PP_MAX_DECOMPRESSED, &raw, &raw_len, err) != 0)
            return NULL;
        data = raw;
    }
    if (raw_len == 0) {
        free(raw);
        return sg_fail(err, SG_E_CORRUPT, 0, "the profile is empty"), NULL;
    }
    dec d;
    memset(&d, 0, sizeof d);
    d.err = err;
    d.data = data;
    d.len = raw_len;
    /* Frames a file may expand to: generous for real profiles (each frame of a sample
     * costs at least a byte of location id), small enough to bound the work. */
    d.frame_budget = (uint64_t)raw_len * 64 + ((uint64_t)1 << 20);
    d.comment_budget = (uint64_t)raw_len * 4 + ((uint64_t)1 << 20);
    sg_map_init(&d.fn);
    sg_map_init(&d.loc);
    d.p = sg_profile_new();
    int rc = d.p ? decode_message(&d) : nomem(&d);
    dec_free(&d);
    free(raw);
    if (rc != 0) {
        sg_profile_free(d.p);
        return NULL;
    }
    return d.p;
}

sg_profile *sg_profile_load(const char *path, sg_error *err)
{
    void *data;
    size_t len;
    if (sg_file_read_all(path, SG_PP_MAX_FILE, &data, &len, err) != 0)
        return NULL;
    sg_profile *p = sg_profile_decode(data, len, err);
    free(data);
    if (!p && err && err->code == SG_E_CORRUPT) {
        /* name the file: "x.pb.gz: not a valid profile: ..." */
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%.200s: %.300s", path, err->msg);
        memcpy(err->msg, msg, sizeof msg);
    }
    return p;
}
