/* The diff as JSON, for scripts and CI dashboards. The schema is documented in
 * README.md ("spyglass diff": JSON); "version" changes when a field changes meaning.
 * Shares are fractions (0..1) of each profile's own total, changes are NEW - BASE, and
 * seconds are null when a profile does not know its time. Every row that passes
 * --min-change is listed, in the text report's order. */
#include <string.h>

#include "sg_diff_write_common.h"

static const char *mode_name(sg_mode m)
{
    return m == SG_MODE_TRACE ? "trace" : m == SG_MODE_LINES ? "lines" : "sample";
}

static void key(sg_buf *b, const char *k)
{
    sg_buf_putc(b, '"');
    sg_buf_puts(b, k);
    sg_buf_puts(b, "\":");
}

static void seconds(sg_buf *b, const sg_diff *d, int side, int64_t v)
{
    double s = sg_diff_seconds(d, side, v);
    if (s < 0)
        sg_buf_puts(b, "null");
    else
        sg_dw_json_num(b, s);
}

static void profile_info(sg_buf *b, const sg_diff *d, int side, const char *label)
{
    const sg_diff_input *in = &d->in[side];
    const sg_profile_meta *m = sg_profile_meta_get(in->p);
    sg_buf_putc(b, '{');
    key(b, "label");
    sg_dw_json_str(b, label, strlen(label));
    sg_buf_puts(b, ",\"mode\":\"");
    sg_buf_puts(b, mode_name(m->mode));
    sg_buf_puts(b, "\",\"clock\":\"");
    sg_buf_puts(b, m->clock == SG_CLOCK_CPU ? "cpu" : "wall");
    sg_buf_puts(b, "\",\"rate_hz\":");
    sg_dw_json_num(b, m->rate_hz);
    sg_buf_puts(b, ",\"interval_ns\":");
    sg_dw_json_num(b, (double)m->interval_ns);
    sg_buf_puts(b, ",\"unit\":\"");
    sg_buf_puts(b, in->sampled ? "samples" : "nanoseconds");
    sg_buf_puts(b, "\",\"total\":");
    sg_dw_json_num(b, (double)in->grand);
    sg_buf_puts(b, ",\"seconds\":");
    seconds(b, d, side, in->grand);
    sg_buf_putc(b, '}');
}

static void side(sg_buf *b, const sg_diff *d, const sg_diff_row *r, int s)
{
    if (r->fn[s] == SG_NONE) {
        sg_buf_puts(b, "null");
        return;
    }
    const sg_diff_side *v = &r->side[s];
    sg_buf_printf(b, "{\"line\":%d,\"self\":%lld,\"total\":%lld,\"self_share\":", (int)r->line[s],
                  (long long)v->self, (long long)v->total);
    sg_dw_json_num(b, v->self_share);
    sg_buf_puts(b, ",\"total_share\":");
    sg_dw_json_num(b, v->total_share);
    sg_buf_puts(b, ",\"self_seconds\":");
    seconds(b, d, s, v->self);
    sg_buf_puts(b, ",\"total_seconds\":");
    seconds(b, d, s, v->total);
    sg_buf_putc(b, '}');
}

static void seconds_change(sg_buf *b, const sg_diff *d, int64_t before, int64_t after)
{
    double x = sg_diff_seconds(d, 0, before), y = sg_diff_seconds(d, 1, after);
    if (x < 0 || y < 0)
        sg_buf_puts(b, "null");
    else
        sg_dw_json_num(b, y - x);
}

static void row(sg_buf *b, const sg_diff *d, const sg_diff_row *r)
{
    const char *name, *file;
    size_t nl, fl;
    sg_dw_names(d, r, &name, &nl, &file, &fl);
    sg_buf_puts(b, "{\"name\":");
    sg_dw_json_str(b, name, nl);
    sg_buf_puts(b, ",\"file\":");
    sg_dw_json_str(b, file, fl);
    sg_buf_printf(b, ",\"line\":%d,\"status\":\"%s\",\"base\":", (int)sg_dw_line(r),
                  sg_dw_verdict(d, r));
    side(b, d, r, 0);
    sg_buf_puts(b, ",\"new\":");
    side(b, d, r, 1);
    sg_buf_puts(b, ",\"change\":{\"self_share\":");
    sg_dw_json_num(b, r->d_self);
    sg_buf_puts(b, ",\"total_share\":");
    sg_dw_json_num(b, r->d_total);
    sg_buf_puts(b, ",\"self_seconds\":");
    seconds_change(b, d, r->side[0].self, r->side[1].self);
    sg_buf_puts(b, ",\"total_seconds\":");
    seconds_change(b, d, r->side[0].total, r->side[1].total);
    sg_buf_puts(b, "},\"noise\":{\"self_share\":");
    sg_dw_json_num(b, r->noise_self);
    sg_buf_puts(b, ",\"total_share\":");
    sg_dw_json_num(b, r->noise_total);
    sg_buf_printf(b, "},\"within_noise\":%s,\"impact\":",
                  sg_diff_within_noise(r, d->opts.metric) ? "true" : "false");
    sg_dw_json_num(b, r->impact);
    sg_buf_putc(b, '}');
}

static void rows(sg_buf *b, const sg_diff *d, const sg_diff_write_opts *o,
                 const sg_diff_row *r, size_t n)
{
    sg_buf_putc(b, '[');
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!sg_dw_visible(d, &r[i], o))
            continue;
        sg_buf_puts(b, first ? "\n" : ",\n");
        first = false;
        row(b, d, &r[i]);
    }
    sg_buf_puts(b, first ? "]" : "\n]");
}

int sg_dw_json(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *out, sg_error *err)
{
    size_t count[6] = {0};
    static const char *const verdicts[6] = {"slower", "faster", "noise", "same", "added",
                                            "removed"};
    for (size_t i = 0; i < d->nfuncs; i++)
        for (int k = 0; k < 6; k++)
            count[k] += !strcmp(sg_dw_verdict(d, &d->funcs[i]), verdicts[k]);
    sg_buf_printf(out, "{\"format\":\"spyglass-diff\",\"version\":1,\"metric\":\"%s\","
                       "\"noise_sigmas\":",
                  sg_dw_metric_name(d->opts.metric));
    sg_dw_json_num(out, SG_DIFF_SIGMAS);
    sg_buf_puts(out, ",\"min_change\":");
    sg_dw_json_num(out, o->min_change > 0 ? o->min_change : 0);
    sg_buf_puts(out, ",\n\"base\":");
    profile_info(out, d, 0, o->base_label ? o->base_label : "BASE");
    sg_buf_puts(out, ",\n\"new\":");
    profile_info(out, d, 1, o->new_label ? o->new_label : "NEW");
    sg_buf_puts(out, ",\n\"summary\":{");
    for (int k = 0; k < 6; k++)
        sg_buf_printf(out, "%s\"%s\":%zu", k ? "," : "", verdicts[k], count[k]);
    sg_buf_puts(out, "},\n\"functions\":");
    rows(out, d, o, d->funcs, d->nfuncs);
    if (d->opts.lines) {
        sg_buf_printf(out, ",\n\"line_match\":\"%s\",\n\"lines\":",
                      d->opts.line_match == SG_DIFF_LINE_OFFSET ? "offset" : "place");
        rows(out, d, o, d->lines, d->nlines);
    }
    sg_buf_puts(out, "}\n");
    return 0;
}
