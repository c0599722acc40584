/* sg_diff_write: picks the diff renderer for a format name; and what the renderers
 * share: row visibility, names, verdicts, profile summaries and escaping for markup and
 * JSON. Names come from the profiled program, so every one is escaped on the way out. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sg_diff_write_common.h"

typedef struct diff_writer {
    const char *name;
    int (*fn)(const sg_diff *, const sg_diff_write_opts *, sg_buf *, sg_error *);
    bool flame; /* needs the merged call tree */
} diff_writer;

static const diff_writer writers[] = {
    {"text", sg_dw_text, false},
    {"json", sg_dw_json, false},
    {"html", sg_dw_html, true},
    {"svg", sg_dw_svg, true},
};

#define SG_NDIFF_WRITERS (sizeof writers / sizeof writers[0])

void sg_diff_write_opts_init(sg_diff_write_opts *o)
{
    memset(o, 0, sizeof *o);
    o->base_label = "BASE";
    o->new_label = "NEW";
}

const char *sg_diff_formats(void) { return "text,json,html,svg"; }

int sg_diff_write(const sg_diff *d, const char *format, const sg_diff_write_opts *o,
                  sg_buf *out, sg_error *err)
{
    sg_diff_write_opts defaults;
    if (!o) {
        sg_diff_write_opts_init(&defaults);
        o = &defaults;
    }
    if (!d || !format || !out)
        return sg_fail(err, SG_E_ARG, 0, "sg_diff_write: missing diff, format or buffer");
    for (size_t i = 0; i < SG_NDIFF_WRITERS; i++) {
        if (strcmp(writers[i].name, format) != 0)
            continue;
        if (writers[i].flame && !d->opts.flame)
            return sg_fail(err, SG_E_ARG, 0, "the %s diff needs the merged call tree", format);
        if (writers[i].fn(d, o, out, err))
            return -1;
        if (sg_buf_failed(out))
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing the %s diff",
                           format);
        return 0;
    }
    return sg_fail(err, SG_E_FORMAT, 0, "unknown diff format \"%.64s\" (known: %s)", format,
                   sg_diff_formats());
}

bool sg_dw_visible(const sg_diff *d, const sg_diff_row *r, const sg_diff_write_opts *o)
{
    return o->min_change <= 0 || r->impact >= o->min_change;
}

void sg_dw_names(const sg_diff *d, const sg_diff_row *r, const char **name, size_t *name_len,
                 const char **file, size_t *file_len)
{
    uint32_t fn;
    const sg_profile *p = sg_diff_row_profile(d, r, &fn);
    *name = "<unknown>";
    *name_len = 9;
    *file = "";
    *file_len = 0;
    if (fn >= sg_profile_nfunctions(p))
        return;
    const sg_function *f = &sg_profile_functions(p)[fn];
    if (sg_profile_str_len(p, f->name)) {
        *name = sg_profile_str(p, f->name);
        *name_len = sg_profile_str_len(p, f->name);
    }
    *file = sg_profile_str(p, f->filename);
    *file_len = sg_profile_str_len(p, f->filename);
}

int32_t sg_dw_line(const sg_diff_row *r)
{
    return r->fn[SG_DIFF_NEW] != SG_NONE ? r->line[SG_DIFF_NEW] : r->line[SG_DIFF_BASE];
}

const char *sg_dw_verdict(const sg_diff *d, const sg_diff_row *r)
{
    if (r->status == SG_DIFF_ADDED)
        return "added";
    if (r->status == SG_DIFF_REMOVED)
        return "removed";
    double c = sg_diff_change(r, d->opts.metric);
    if (c == 0)
        return "same";
    if (sg_diff_within_noise(r, d->opts.metric))
        return "noise";
    return c > 0 ? "slower" : "faster";
}

const char *sg_dw_metric_name(sg_diff_metric m) { return m == SG_DIFF_TOTAL ? "total" : "self"; }

void sg_dw_side_summary(sg_buf *b, const sg_diff *d, int side)
{
    const sg_diff_input *in = &d->in[side];
    const sg_profile_meta *m = sg_profile_meta_get(in->p);
    double secs = sg_diff_seconds(d, side, in->grand);
    if (in->sampled) {
        sg_buf_puts(b, "sampled");
        if (m->rate_hz > 0)
            sg_buf_printf(b, " at %.0f Hz", m->rate_hz);
        if (in->cpu_only)
            sg_buf_puts(b, " (cpu clock)");
        sg_buf_printf(b, ": %lld samples", (long long)in->grand);
    } else {
        sg_buf_puts(b, m->mode == SG_MODE_LINES ? "traced (lines)" : "traced (functions)");
    }
    if (secs >= 0)
        sg_buf_printf(b, "%s%.3f s", in->sampled ? ", " : ": ", secs);
}

/* Appends text that sg_wc_escape already made printable, with markup characters as
 * references. */
static void markup_chars(sg_buf *b, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *ref = NULL;
        switch (s[i]) {
        case '&':
            ref = "&amp;";
            break;
        case '<':
            ref = "&lt;";
            break;
        case '>':
            ref = "&gt;";
            break;
        case '"':
            ref = "&quot;";
            break;
        case '\'':
            ref = "&#39;";
            break;
        default:
            continue;
        }
        sg_buf_append(b, s + start, i - start);
        sg_buf_puts(b, ref);
        start = i + 1;
    }
    sg_buf_append(b, s + start, len - start);
}

void sg_dw_markup(sg_buf *b, const char *s, size_t len)
{
    sg_buf t;
    sg_buf_init(&t);
    sg_wc_escape(&t, s, len);
    if (sg_buf_failed(&t))
        b->failed = true;
    else
        markup_chars(b, t.data ? t.data : "", t.len);
    sg_buf_free(&t);
}

void sg_dw_markup_cstr(sg_buf *b, const char *s) { sg_dw_markup(b, s, strlen(s)); }

void sg_dw_json_str(sg_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    sg_buf_putc(b, '"');
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = sg_wc_utf8_decode(u + i, len - i, &cp);
        if (n == 0) {
            sg_buf_puts(b, "\\ufffd");
            i++;
            continue;
        }
        if (cp == '"' || cp == '\\') {
            sg_buf_putc(b, '\\');
            sg_buf_putc(b, (char)cp);
        } else if (cp < 0x20 || cp == 0x7f || cp == '<' || cp == '>' || cp == '&' ||
                   cp == 0x2028 || cp == 0x2029) {
            sg_buf_printf(b, "\\u%04x", (unsigned)cp);
        } else {
            sg_buf_append(b, s + i, n);
        }
        i += n;
    }
    sg_buf_putc(b, '"');
}

void sg_dw_json_num(sg_buf *b, double v)
{
    if (!isfinite(v))
        sg_buf_puts(b, "null");
    else if (v == floor(v) && fabs(v) < 9e15)
        sg_buf_printf(b, "%.0f", v);
    else
        sg_buf_printf(b, "%.9g", v);
}
