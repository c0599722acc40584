/* The model as a pprof Profile message. The model's string ids are used as string
 * table indexes unchanged (both start with ""), followed by the label words and the
 * "spyglass:" comments; function and location ids are the model's ids plus one
 * (pprof reserves 0). Each record becomes one Sample. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/sg_buf.h"
#include "../base/sg_grow.h"
#include "../base/sg_file.h"
#include "sg_gzip.h"
#include "sg_pprof.h"
#include "sg_profile.h"
#include "sg_protobuf.h"

/* Strings the encoder adds after the model's: their table index is nmodel + the enum. */
enum {
    W_PID,
    W_TID,
    W_THREAD_NAME,
    W_MAIN,
    W_STATE,
    W_GIL,
    W_PARTIAL,
    W_FLAGS,
    W_TRUE,
    W_RUNNING,
    W_IDLE,
    W_HELD,
    W_WAITING,
    W_RELEASED,
    W_WALL,
    W_CPU,
    W_NANOSECONDS,
    W__COUNT
};

static const char *const words[W__COUNT] = {
    [W_PID] = SG_PP_LABEL_PID,
    [W_TID] = SG_PP_LABEL_TID,
    [W_THREAD_NAME] = SG_PP_LABEL_THREAD_NAME,
    [W_MAIN] = SG_PP_LABEL_MAIN,
    [W_STATE] = SG_PP_LABEL_STATE,
    [W_GIL] = SG_PP_LABEL_GIL,
    [W_PARTIAL] = SG_PP_LABEL_PARTIAL,
    [W_FLAGS] = SG_PP_LABEL_FLAGS,
    [W_TRUE] = "true",
    [W_RUNNING] = "running",
    [W_IDLE] = "idle",
    [W_HELD] = "held",
    [W_WAITING] = "waiting",
    [W_RELEASED] = "released",
    [W_WALL] = "wall",
    [W_CPU] = "cpu",
    [W_NANOSECONDS] = "nanoseconds",
};

static const char *const mode_names[] = {"sample", "trace", "lines"};

typedef struct enc {
    const sg_profile *p;
    size_t nmodel;  /* model strings, table indexes 0..nmodel-1 */
    sg_buf out;     /* the Profile message */
    sg_buf msg;     /* one Sample/Location/Function being built */
    sg_buf sub;     /* one Label/Line/ValueType being built */
    sg_buf ctext;   /* comment texts, back to back */
    sg_buf tltext;  /* the timeline string, if any */
    size_t *coff;   /* start of comment i in ctext; coff[i+1] its end */
    size_t ncom, capcom;
    uint64_t *ids;  /* scratch for packed fields */
    size_t capids;
    uint32_t *rec_sample; /* record -> Sample index in the file (with a timeline) */
    uint32_t nsamples;
    bool oom;
} enc;

static uint64_t word(const enc *e, int w) { return (uint64_t)(e->nmodel + (size_t)w); }

static bool ids_room(enc *e, size_t n)
{
    if (!sg_grow((void **)&e->ids, &e->capids, n, sizeof *e->ids, 64)) {
        e->oom = true;
        return false;
    }
    return true;
}

/* Closes the comment whose text was just appended to e->ctext. */
static void end_comment(enc *e)
{
    if (!sg_grow((void **)&e->coff, &e->capcom, e->ncom + 2, sizeof *e->coff, 64)) {
        e->oom = true;
        return;
    }
    if (e->ncom == 0)
        e->coff[0] = 0;
    e->coff[++e->ncom] = e->ctext.len;
}

static void comment_bytes(enc *e, const char *prefix, const char *value, size_t len)
{
    sg_buf_printf(&e->ctext, "%s%s", SG_PP_COMMENT_PREFIX, prefix);
    sg_buf_append(&e->ctext, value, len);
    end_comment(e);
}

static void comment_u64(enc *e, const char *prefix, uint64_t v)
{
    sg_buf_printf(&e->ctext, "%s%s%" PRIu64, SG_PP_COMMENT_PREFIX, prefix, v);
    end_comment(e);
}

static void comment_str(enc *e, const char *prefix, uint32_t id)
{
    comment_bytes(e, prefix, sg_profile_str(e->p, id), sg_profile_str_len(e->p, id));
}

static void add_comments(enc *e)
{
    const sg_profile *p = e->p;
    const sg_profile_meta *m = sg_profile_meta_get(p);
    char key[64];
    comment_u64(e, "version=", SG_PP_FORMAT_VERSION);
    comment_u64(e, "strings=", e->nmodel);
    unsigned mode = (unsigned)m->mode;
    if (mode < sizeof mode_names / sizeof *mode_names)
        comment_bytes(e, "mode=", mode_names[mode], strlen(mode_names[mode]));
    sg_buf_printf(&e->ctext, "%srate_hz=%.17g", SG_PP_COMMENT_PREFIX, m->rate_hz);
    end_comment(e);
    comment_u64(e, "ticks_requested=", m->ticks_requested);
    comment_u64(e, "ticks_taken=", m->ticks_taken);
    for (size_t i = 0; i < sg_profile_nattrs(p); i++) {
        const char *k, *v;
        sg_profile_attr_at(p, i, &k, &v);
        sg_buf_printf(&e->ctext, "%sattr:", SG_PP_COMMENT_PREFIX);
        for (const char *c = k; *c; c++) {
            if (*c == '%' || *c == '=')
                sg_buf_printf(&e->ctext, "%%%02X", (unsigned char)*c);
            else
                sg_buf_putc(&e->ctext, *c);
        }
        sg_buf_printf(&e->ctext, "=%s", v);
        end_comment(e);
    }
    const sg_process *procs = sg_profile_processes_c(p);
    for (size_t i = 0; i < sg_profile_nprocesses(p); i++) {
        const sg_process *pr = &procs[i];
        snprintf(key, sizeof key, "process:%" PRIu32 ":cmdline=", pr->pid);
        comment_str(e, key, pr->cmdline);
        snprintf(key, sizeof key, "process:%" PRIu32 ":python=", pr->pid);
        comment_str(e, key, pr->python_version);
        snprintf(key, sizeof key, "process:%" PRIu32 ":samples_ok=", pr->pid);
        comment_u64(e, key, pr->samples_ok);
        snprintf(key, sizeof key, "process:%" PRIu32 ":samples_failed=", pr->pid);
        comment_u64(e, key, pr->samples_failed);
    }
    const sg_track *trk = sg_profile_tracks_c(p);
    for (size_t i = 0; i < sg_profile_ntracks(p); i++) {
        if (trk[i].process >= sg_profile_nprocesses(p))
            continue;
        uint32_t pid = procs[trk[i].process].pid;
        snprintf(key, sizeof key, "thread:%" PRIu32 ":%" PRIu64 ":name=", pid, trk[i].tid);
        comment_str(e, key, trk[i].name);
        snprintf(key, sizeof key, "thread:%" PRIu32 ":%" PRIu64 ":main=", pid, trk[i].tid);
        comment_u64(e, key, trk[i].is_main ? 1 : 0);
    }
}

static void put_value_type(enc *e, uint32_t field, uint64_t type, uint64_t unit)
{
    sg_buf_reset(&e->sub);
    sg_pb_put_uint(&e->sub, SG_PP_VT_TYPE, type);
    sg_pb_put_uint(&e->sub, SG_PP_VT_UNIT, unit);
    sg_pb_put_bytes(&e->out, field, e->sub.data, e->sub.len);
}

static void put_label(enc *e, int key, uint64_t str, bool has_num, int64_t num)
{
    sg_buf_reset(&e->sub);
    sg_pb_put_uint(&e->sub, SG_PP_LB_KEY, word(e, key));
    if (str)
        sg_pb_put_uint(&e->sub, SG_PP_LB_STR, str);
    if (has_num)
        sg_pb_put_int(&e->sub, SG_PP_LB_NUM, num);
    sg_pb_put_bytes(&e->msg, SG_PP_S_LABEL, e->sub.data, e->sub.len);
}

static bool put_sample_msg(enc *e, const sg_record *r);

static void put_sample(enc *e, const sg_record *r, size_t i)
{
    bool put = put_sample_msg(e, r);
    if (e->rec_sample)
        e->rec_sample[i] = put ? e->nsamples : SG_NONE;
    if (put)
        e->nsamples++;
}

static void b64_put(sg_buf *b, const uint8_t *in, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        char q[4] = {tab[v >> 18 & 63], tab[v >> 12 & 63], tab[v >> 6 & 63], tab[v & 63]};
        sg_buf_append(b, q, n - i >= 3 ? 4 : n - i + 1);
    }
}

static size_t varint_to(uint8_t *o, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        o[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    o[n++] = (uint8_t)v;
    return n;
}

/* The timeline string (format in sg_pprof.h), base64 written in chunks of 3 bytes. */
static void add_timeline(enc *e)
{
    size_t n = sg_profile_timeline_len(e->p);
    if (!n || !e->rec_sample)
        return;
    const sg_tl_event *ev = sg_profile_timeline(e->p);
    sg_buf_printf(&e->tltext, "%s%s=", SG_PP_COMMENT_PREFIX, SG_PP_TIMELINE_KEY);
    uint8_t pend[3 + 20 + 10];
    size_t np = 0;
    int64_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t s = ev[i].record < sg_profile_nrecords(e->p) ? e->rec_sample[ev[i].record]
                                                              : SG_NONE;
        if (s == SG_NONE)
            continue;
        uint64_t d = (uint64_t)ev[i].t_ns - (uint64_t)prev; /* wraps, never overflows */
        prev = ev[i].t_ns;
        np += varint_to(pend + np, s);
        np += varint_to(pend + np, (d << 1) ^ (uint64_t)((int64_t)d >> 63));
        size_t whole = np / 3 * 3;
        b64_put(&e->tltext, pend, whole);
        memmove(pend, pend + whole, np - whole);
        np -= whole;
    }
    b64_put(&e->tltext, pend, np);
}

static bool put_sample_msg(enc *e, const sg_record *r)
{
    const sg_profile *p = e->p;
    const sg_profile_meta *m = sg_profile_meta_get(p);
    const sg_node *nodes = sg_profile_nodes(p);
    size_t nnodes = sg_profile_nnodes(p);
    if (r->track >= sg_profile_ntracks(p) || r->node >= nnodes)
        return false;
    const sg_track *t = &sg_profile_tracks_c(p)[r->track];
    if (t->process >= sg_profile_nprocesses(p))
        return false;
    const sg_process *pr = &sg_profile_processes_c(p)[t->process];
    sg_buf_reset(&e->msg);

    /* leaf first; depth bounds the walk even if the trie were damaged */
    size_t depth = 0;
    for (uint32_t n = r->node; n != SG_ROOT && n < nnodes && depth < nnodes;
         n = nodes[n].parent) {
        if (!ids_room(e, depth + 1))
            return false;
        e->ids[depth++] = (uint64_t)nodes[n].location + 1;
    }
    sg_pb_put_packed(&e->msg, SG_PP_S_LOCATION_ID, e->ids, depth);
    uint32_t nv = m->n_values <= SG_MAX_VALUES ? m->n_values : SG_MAX_VALUES;
    uint64_t vals[SG_MAX_VALUES];
    for (uint32_t i = 0; i < nv; i++)
        vals[i] = (uint64_t)r->values[i];
    sg_pb_put_packed(&e->msg, SG_PP_S_VALUE, vals, nv);

    put_label(e, W_PID, 0, true, (int64_t)pr->pid);
    put_label(e, W_TID, 0, true, (int64_t)t->tid);
    if (t->name)
        put_label(e, W_THREAD_NAME, t->name, false, 0);
    if (t->is_main)
        put_label(e, W_MAIN, word(e, W_TRUE), false, 0);
    uint32_t f = r->flags;
    if (m->mode == SG_MODE_SAMPLE || f != 0) {
        put_label(e, W_STATE, word(e, (f & SG_F_ONCPU) ? W_RUNNING : W_IDLE), false, 0);
        int gil = (f & SG_F_GIL) ? W_HELD : (f & SG_F_GILWAIT) ? W_WAITING : W_RELEASED;
        put_label(e, W_GIL, word(e, gil), false, 0);
    }
    if (f & SG_F_PARTIAL)
        put_label(e, W_PARTIAL, word(e, W_TRUE), false, 0);
    const uint32_t known = SG_F_ONCPU | SG_F_GIL | SG_F_GILWAIT | SG_F_PARTIAL;
    if ((f & ~known) || ((f & SG_F_GIL) && (f & SG_F_GILWAIT)))
        put_label(e, W_FLAGS, 0, true, (int64_t)f);
    sg_pb_put_bytes(&e->out, SG_PP_SAMPLE, e->msg.data, e->msg.len);
    return true;
}

static void put_tables(enc *e)
{
    const sg_profile *p = e->p;
    const sg_location *locs = sg_profile_locations(p);
    for (size_t i = 0; i < sg_profile_nlocations(p); i++) {
        sg_buf_reset(&e->msg);
        sg_buf_reset(&e->sub);
        sg_pb_put_uint(&e->msg, SG_PP_L_ID, i + 1);
        sg_pb_put_uint(&e->sub, SG_PP_LN_FUNCTION_ID, (uint64_t)locs[i].function + 1);
        if (locs[i].line)
            sg_pb_put_int(&e->sub, SG_PP_LN_LINE, locs[i].line);
        sg_pb_put_bytes(&e->msg, SG_PP_L_LINE, e->sub.data, e->sub.len);
        sg_pb_put_bytes(&e->out, SG_PP_LOCATION, e->msg.data, e->msg.len);
    }
    const sg_function *fns = sg_profile_functions(p);
    for (size_t i = 0; i < sg_profile_nfunctions(p); i++) {
        sg_buf_reset(&e->msg);
        sg_pb_put_uint(&e->msg, SG_PP_F_ID, i + 1);
        sg_pb_put_uint(&e->msg, SG_PP_F_NAME, fns[i].name);
        sg_pb_put_uint(&e->msg, SG_PP_F_SYSTEM_NAME, fns[i].name);
        sg_pb_put_uint(&e->msg, SG_PP_F_FILENAME, fns[i].filename);
        if (fns[i].first_line)
            sg_pb_put_int(&e->msg, SG_PP_F_START_LINE, fns[i].first_line);
        sg_pb_put_bytes(&e->out, SG_PP_FUNCTION, e->msg.data, e->msg.len);
    }
    for (size_t i = 0; i < e->nmodel; i++)
        sg_pb_put_bytes(&e->out, SG_PP_STRING_TABLE, sg_profile_str(p, (uint32_t)i),
                        sg_profile_str_len(p, (uint32_t)i));
    for (int w = 0; w < W__COUNT; w++)
        sg_pb_put_bytes(&e->out, SG_PP_STRING_TABLE, words[w], strlen(words[w]));
    for (size_t i = 0; i < e->ncom; i++)
        sg_pb_put_bytes(&e->out, SG_PP_STRING_TABLE, e->ctext.data + e->coff[i],
                        e->coff[i + 1] - e->coff[i]);
    if (e->tltext.len) /* the last entry, referenced by nothing (see sg_pprof.h) */
        sg_pb_put_bytes(&e->out, SG_PP_STRING_TABLE, e->tltext.data, e->tltext.len);
}

static void enc_free(enc *e)
{
    sg_buf_free(&e->out);
    sg_buf_free(&e->msg);
    sg_buf_free(&e->sub);
    sg_buf_free(&e->ctext);
    sg_buf_free(&e->tltext);
    free(e->coff);
    free(e->ids);
    free(e->rec_sample);
}

int sg_profile_encode(const sg_profile *p, bool gzip, void **out, size_t *out_len,
                      sg_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!p)
        return sg_fail(err, SG_E_ARG, 0, "no profile to encode");
    enc e;
    memset(&e, 0, sizeof e);
    e.p = p;
    e.nmodel = sg_profile_nstrings(p);
    sg_buf_init(&e.out);
    sg_buf_init(&e.msg);
    sg_buf_init(&e.sub);
    sg_buf_init(&e.ctext);
    sg_buf_init(&e.tltext);
    const sg_profile_meta *m = sg_profile_meta_get(p);

    uint32_t nv = m->n_values <= SG_MAX_VALUES ? m->n_values : SG_MAX_VALUES;
    for (uint32_t i = 0; i < nv; i++)
        put_value_type(&e, SG_PP_SAMPLE_TYPE, m->value_type[i], m->value_unit[i]);
    const sg_record *recs = sg_profile_records(p);
    size_t nrec = sg_profile_nrecords(p);
    if (sg_profile_timeline_len(p) &&
        !(e.rec_sample = malloc((nrec ? nrec : 1) * sizeof *e.rec_sample)))
        e.oom = true;
    for (size_t i = 0; i < nrec && !e.oom; i++)
        put_sample(&e, &recs[i], i);
    add_comments(&e);
    add_timeline(&e);
    put_tables(&e);
    if (m->start_wall_ns)
        sg_pb_put_int(&e.out, SG_PP_TIME_NANOS, m->start_wall_ns);
    if (m->duration_ns)
        sg_pb_put_int(&e.out, SG_PP_DURATION_NANOS, m->duration_ns);
    put_value_type(&e, SG_PP_PERIOD_TYPE,
                   word(&e, m->clock == SG_CLOCK_CPU ? W_CPU : W_WALL), word(&e, W_NANOSECONDS));
    if (m->interval_ns)
        sg_pb_put_int(&e.out, SG_PP_PERIOD, m->interval_ns);
    if (ids_room(&e, e.ncom)) {
        size_t first = e.nmodel + W__COUNT;
        for (size_t i = 0; i < e.ncom; i++)
            e.ids[i] = first + i;
        sg_pb_put_packed(&e.out, SG_PP_COMMENT, e.ids, e.ncom);
    }
    if (nv > 0)
        sg_pb_put_uint(&e.out, SG_PP_DEFAULT_SAMPLE_TYPE, m->value_type[0]);

    if (e.oom || sg_buf_failed(&e.out) || sg_buf_failed(&e.msg) || sg_buf_failed(&e.sub) ||
        sg_buf_failed(&e.ctext) || sg_buf_failed(&e.tltext)) {
        enc_free(&e);
        return sg_fail(err, SG_E_NOMEM, 0, "encoding the profile");
    }
    int rc = 0;
    if (gzip) {
        rc = sg_gzip_compress(e.out.data, e.out.len, out, out_len, err);
    } else {
        *out = sg_buf_steal(&e.out, out_len);
        if (!*out)
            rc = sg_fail(err, SG_E_NOMEM, 0, "encoding the profile");
    }
    enc_free(&e);
    return rc;
}

int sg_profile_save(const sg_profile *p, const char *path, sg_error *err)
{
    void *data;
    size_t len;
    if (sg_profile_encode(p, true, &data, &len, err) != 0)
        return -1;
    int rc = sg_file_write_atomic(path, data, len, err);
    free(data);
    return rc;
}
