/* The diff as one self-contained HTML page: how each profile was measured, the
 * differential flame graph (inline SVG, with its script), and the tables of functions
 * (and lines) that got slower or faster. No external resources, so the file can be
 * attached to a CI run or mailed as is. Every name is escaped (sg_dw_markup). */
#include <math.h>
#include <string.h>

#include "sg_diff_write_common.h"

#define SG_DH_ROWS 500

static void cell_pct(sg_buf *b, double share)
{
    sg_buf_printf(b, "<td>%.1f%%</td>", 100.0 * share);
}

static void cell_change(sg_buf *b, double share)
{
    double v = 100.0 * share;
    sg_buf_printf(b, "<td>%+.1f</td>", fabs(v) < 0.05 ? 0.0 : v);
}

static void table(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *b,
                  const sg_diff_row *rows, size_t n, bool lines)
{
    bool timed = d->in[0].sec_per_unit > 0 && d->in[1].sec_per_unit > 0;
    bool total = d->opts.metric == SG_DIFF_TOTAL;
    size_t max = o->max_rows > 0 ? (size_t)o->max_rows : SG_DH_ROWS, shown = 0, hidden = 0;
    sg_buf_puts(b, "<table><thead><tr><th>change</th><th>self base</th><th>self new</th>"
                   "<th>self &#916; (points)</th><th>noise &#177;</th><th>total base</th>"
                   "<th>total new</th><th>total &#916;</th>");
    if (timed)
        sg_buf_printf(b, "<th>&#916; %s s</th>", sg_dw_metric_name(d->opts.metric));
    sg_buf_puts(b, lines ? "<th class=\"place\">line</th><th class=\"name\">function</th>"
                         : "<th class=\"name\">function</th><th class=\"place\">defined at</th>");
    sg_buf_puts(b, "</tr></thead>\n<tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const sg_diff_row *r = &rows[i];
        if (!sg_dw_visible(d, r, o) || shown >= max) {
            hidden++;
            continue;
        }
        shown++;
        const char *v = sg_dw_verdict(d, r), *name, *file;
        size_t nl, fl;
        sg_dw_names(d, r, &name, &nl, &file, &fl);
        sg_buf_printf(b, "<tr class=\"%s\"><td class=\"verdict\">%s</td>", v, v);
        cell_pct(b, r->side[0].self_share);
        cell_pct(b, r->side[1].self_share);
        cell_change(b, r->d_self);
        sg_buf_printf(b, "<td>%.1f</td>", 100.0 * r->noise_self);
        cell_pct(b, r->side[0].total_share);
        cell_pct(b, r->side[1].total_share);
        cell_change(b, r->d_total);
        if (timed) {
            double x = sg_diff_seconds(d, 0, total ? r->side[0].total : r->side[0].self);
            double y = sg_diff_seconds(d, 1, total ? r->side[1].total : r->side[1].self);
            sg_buf_printf(b, "<td>%+.3f</td>", y - x);
        }
        if (lines) {
            sg_buf_puts(b, "<td class=\"place\">");
            sg_dw_markup(b, file, fl);
            sg_buf_printf(b, ":%d", (int)sg_dw_line(r));
            if (r->status == SG_DIFF_CHANGED && r->line[0] != r->line[1])
                sg_buf_printf(b, " (was %d)", (int)r->line[0]);
            sg_buf_puts(b, "</td><td class=\"name\">");
            sg_dw_markup(b, name, nl);
            sg_buf_puts(b, "</td>");
        } else {
            sg_buf_puts(b, "<td class=\"name\">");
            sg_dw_markup(b, name, nl);
            sg_buf_puts(b, "</td><td class=\"place\">");
            sg_dw_markup(b, file, fl);
            sg_buf_printf(b, ":%d</td>", (int)sg_dw_line(r));
        }
        sg_buf_puts(b, "</tr>\n");
    }
    sg_buf_puts(b, "</tbody></table>\n");
    if (hidden)
        sg_buf_printf(b, "<p class=\"meta\">%zu more below the cut (--min-change, rows).</p>\n",
                      hidden);
}

static void side(const sg_diff *d, sg_buf *b, int s, const char *what, const char *label)
{
    sg_buf_printf(b, "%s: <b>", what);
    sg_dw_markup_cstr(b, label);
    sg_buf_puts(b, "</b> (");
    sg_dw_side_summary(b, d, s);
    sg_buf_puts(b, ")");
}

int sg_dw_html(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *out, sg_error *err)
{
    const char *bl = o->base_label ? o->base_label : "BASE";
    const char *nl = o->new_label ? o->new_label : "NEW";
    sg_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                     "<title>spyglass diff: ");
    sg_dw_markup_cstr(out, bl);
    sg_buf_puts(out, " &#8594; ");
    sg_dw_markup_cstr(out, nl);
    sg_buf_puts(out, "</title>\n<style>\n");
    sg_buf_puts(out, sg_dw_page_css);
    sg_buf_puts(out, "</style></head>\n<body>\n<h1>spyglass diff</h1>\n<p class=\"meta\">");
    side(d, out, 0, "base", bl);
    sg_buf_puts(out, "<br>");
    side(d, out, 1, "new", nl);
    size_t count[4] = {0};
    for (size_t i = 0; i < d->nfuncs; i++) {
        const char *v = sg_dw_verdict(d, &d->funcs[i]);
        count[0] += !strcmp(v, "slower");
        count[1] += !strcmp(v, "faster");
        count[2] += !strcmp(v, "added");
        count[3] += !strcmp(v, "removed");
    }
    sg_buf_printf(out, "<br>%zu functions slower, %zu faster beyond noise; %zu added, %zu "
                       "removed. Changes are in percentage points of each profile's total; "
                       "the noise bound is %.0f standard errors.</p>\n",
                  count[0], count[1], count[2], count[3], SG_DIFF_SIGMAS);
    sg_buf_puts(out, "<div class=\"flame\">\n");
    if (sg_dw_flame(d, o, false, out, err))
        return -1;
    sg_buf_printf(out, "</div>\n<h2>Functions, by change of their %s share</h2>\n",
                  sg_dw_metric_name(d->opts.metric));
    table(d, o, out, d->funcs, d->nfuncs, false);
    if (d->opts.lines) {
        sg_buf_printf(out, "<h2>Lines, by change of their %s share</h2>\n",
                      sg_dw_metric_name(d->opts.metric));
        table(d, o, out, d->lines, d->nlines, true);
    }
    sg_buf_puts(out, "<script>\n");
    sg_buf_puts(out, sg_dw_flame_js);
    sg_buf_puts(out, "</script>\n</body></html>\n");
    return 0;
}
