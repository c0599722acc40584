/* The text diff: a header saying how each profile was measured, then what got slower
 * or faster, one table of functions (and one of lines when the diff has them), ordered
 * by the change of the metric's share; and the regression guard's verdict.
 *
 * Changes are in percentage points of each profile's own total, so runs of different
 * length or rate compare; "noise" marks a change inside its noise bound. Names are
 * escaped and cut (sg_wc_cell) like in every text writer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_diff_write_common.h"

#define SG_DT_NAME_MAX 48
#define SG_DT_PLACE_MAX 60
#define SG_DT_ROWS 30

static void pct(sg_buf *b, double share, int width)
{
    sg_buf_printf(b, "%*.1f%%", width - 1, 100.0 * share);
}

static void change(sg_buf *b, double share, int width)
{
    double v = 100.0 * share;
    if (fabs(v) < 0.05)
        v = 0; /* no "-0.0%" */
    sg_buf_printf(b, "%+*.1f%%", width - 1, v);
}

static void colored(sg_buf *b, bool on, const char *verdict)
{
    if (!strcmp(verdict, "slower") || !strcmp(verdict, "added"))
        sg_wc_color(b, on, "31");
    else if (!strcmp(verdict, "faster") || !strcmp(verdict, "removed"))
        sg_wc_color(b, on, "34");
    else
        sg_wc_color(b, on, "2");
}

static void name_cell(sg_buf *b, const char *s, size_t len, size_t width)
{
    sg_buf t;
    sg_buf_init(&t);
    sg_buf_append(&t, s, len);
    sg_wc_cell(b, sg_buf_cstr(&t), width, SG_FIT_LEFT);
    if (sg_buf_failed(&t))
        b->failed = true;
    sg_buf_free(&t);
}

static size_t name_cols(const sg_diff *d, const sg_diff_row *r)
{
    const char *name, *file;
    size_t nl, fl;
    sg_dw_names(d, r, &name, &nl, &file, &fl);
    sg_buf t;
    sg_buf_init(&t);
    size_t cols = sg_wc_escape(&t, name, nl);
    sg_buf_free(&t);
    return cols;
}

/* "file:line", or "file:line (was N)" when the line moved; "-" for a place-less frame
 * such as "[filtered]". */
static void place_text(sg_buf *t, const char *file, size_t file_len, const sg_diff_row *r,
                       bool was)
{
    int32_t line = sg_dw_line(r);
    if (!file_len && !line) {
        sg_buf_putc(t, '-');
        return;
    }
    sg_buf_append(t, file, file_len);
    sg_buf_printf(t, ":%d", (int)line);
    if (was && r->status == SG_DIFF_CHANGED && r->line[0] != r->line[1])
        sg_buf_printf(t, " (was %d)", (int)r->line[0]);
}

static void place(sg_buf *b, const char *file, size_t file_len, const sg_diff_row *r, bool was,
                  size_t width, sg_fit fit)
{
    sg_buf t;
    sg_buf_init(&t);
    place_text(&t, file, file_len, r, was);
    sg_wc_cell(b, sg_buf_cstr(&t), width, fit);
    if (sg_buf_failed(&t))
        b->failed = true;
    sg_buf_free(&t);
}

static size_t place_cols(const sg_diff *d, const sg_diff_row *r)
{
    const char *name, *file;
    size_t nl, fl;
    sg_dw_names(d, r, &name, &nl, &file, &fl);
    sg_buf t;
    sg_buf_init(&t);
    place_text(&t, file, fl, r, true);
    size_t cols = sg_wc_cols(sg_buf_cstr(&t));
    sg_buf_free(&t);
    return cols;
}

/* The rows of a table that pass the cut, at most max. */
static size_t shown_rows(const sg_diff *d, const sg_diff_row *rows, size_t n,
                         const sg_diff_write_opts *o, size_t max, size_t *cut)
{
    size_t k = 0, visible = 0;
    for (size_t i = 0; i < n; i++)
        if (sg_dw_visible(d, &rows[i], o))
            visible++;
    k = visible < max ? visible : max;
    *cut = n - k;
    return k;
}

static bool both_timed(const sg_diff *d)
{
    return d->in[0].sec_per_unit > 0 && d->in[1].sec_per_unit > 0;
}

static void row_numbers(sg_buf *b, const sg_diff *d, const sg_diff_row *r, bool color)
{
    const char *v = sg_dw_verdict(d, r);
    sg_buf_puts(b, "  ");
    colored(b, color, v);
    sg_wc_cell(b, v, 7, SG_FIT_LEFT);
    sg_wc_color(b, color, "0");
    pct(b, r->side[0].self_share, 8);
    pct(b, r->side[1].self_share, 8);
    change(b, r->d_self, 8);
    sg_buf_printf(b, " ±%5.1f%%", 100.0 * r->noise_self);
    pct(b, r->side[0].total_share, 9);
    pct(b, r->side[1].total_share, 8);
    change(b, r->d_total, 8);
    if (both_timed(d)) {
        bool total = d->opts.metric == SG_DIFF_TOTAL;
        double before = sg_diff_seconds(d, 0, total ? r->side[0].total : r->side[0].self);
        double after = sg_diff_seconds(d, 1, total ? r->side[1].total : r->side[1].self);
        sg_buf_printf(b, " %+9.3f", after - before);
    }
    sg_buf_puts(b, "  ");
}

static void header_numbers(sg_buf *b, const sg_diff *d)
{
    sg_buf_puts(b, "         ------------- self -------------  -------- total ---------");
    sg_wc_newline(b);
    sg_buf_puts(b, "  change     base     new  change   noise     base     new  change");
    if (both_timed(d))
        sg_buf_puts(b, d->opts.metric == SG_DIFF_TOTAL ? "  Δtotal s" : "   Δself s");
    sg_buf_puts(b, "  ");
}

static void table_functions(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *b,
                            size_t max)
{
    size_t cut, n = shown_rows(d, d->funcs, d->nfuncs, o, max, &cut);
    size_t w = 8;
    for (size_t i = 0, k = 0; k < n && i < d->nfuncs; i++)
        if (sg_dw_visible(d, &d->funcs[i], o)) {
            size_t c = name_cols(d, &d->funcs[i]);
            w = c > w ? (c < SG_DT_NAME_MAX ? c : SG_DT_NAME_MAX) : w;
            k++;
        }
    sg_buf_puts(b, "Functions, by change of their ");
    sg_buf_puts(b, sg_dw_metric_name(d->opts.metric));
    sg_buf_puts(b, " share (percentage points):\n");
    header_numbers(b, d);
    sg_wc_cell(b, "function", w, SG_FIT_LEFT);
    sg_buf_puts(b, "  defined at");
    sg_wc_newline(b);
    for (size_t i = 0, k = 0; k < n && i < d->nfuncs; i++) {
        const sg_diff_row *r = &d->funcs[i];
        if (!sg_dw_visible(d, r, o))
            continue;
        k++;
        const char *name, *file;
        size_t nl, fl;
        sg_dw_names(d, r, &name, &nl, &file, &fl);
        row_numbers(b, d, r, o->color);
        name_cell(b, name, nl, w);
        sg_buf_puts(b, "  ");
        place(b, file, fl, r, false, SG_DT_PLACE_MAX, SG_FIT_NONE);
        sg_wc_newline(b);
    }
    if (!d->nfuncs)
        sg_buf_puts(b, "  (no samples in either profile)\n");
    if (cut)
        sg_buf_printf(b, "  ... %zu more below the cut (--min-change, rows)\n", cut);
}

static void table_lines(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *b, size_t max)
{
    size_t cut, n = shown_rows(d, d->lines, d->nlines, o, max, &cut);
    sg_buf_puts(b, "\nLines, by change of their ");
    sg_buf_puts(b, sg_dw_metric_name(d->opts.metric));
    sg_buf_puts(b, d->opts.line_match == SG_DIFF_LINE_OFFSET
                       ? " share (matched by offset in their function):\n"
                       : " share (matched by file and line):\n");
    size_t w = 4;
    for (size_t i = 0, k = 0; k < n && i < d->nlines; i++)
        if (sg_dw_visible(d, &d->lines[i], o)) {
            size_t c = place_cols(d, &d->lines[i]);
            w = c > w ? (c < SG_DT_PLACE_MAX ? c : SG_DT_PLACE_MAX) : w;
            k++;
        }
    header_numbers(b, d);
    sg_wc_cell(b, "line", w, SG_FIT_LEFT);
    sg_buf_puts(b, "  (function)");
    sg_wc_newline(b);
    for (size_t i = 0, k = 0; k < n && i < d->nlines; i++) {
        const sg_diff_row *r = &d->lines[i];
        if (!sg_dw_visible(d, r, o))
            continue;
        k++;
        const char *name, *file;
        size_t nl, fl;
        sg_dw_names(d, r, &name, &nl, &file, &fl);
        row_numbers(b, d, r, o->color);
        place(b, file, fl, r, true, w, SG_FIT_LEFT_TAIL);
        sg_buf_puts(b, "  (");
        name_cell(b, name, nl, 0);
        sg_buf_putc(b, ')');
        sg_wc_newline(b);
    }
    if (!d->nlines)
        sg_buf_puts(b, "  (no lines)\n");
    if (cut)
        sg_buf_printf(b, "  ... %zu more below the cut (--min-change, rows)\n", cut);
}

static void header(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *b)
{
    sg_buf_puts(b, "spyglass diff\n  base: ");
    sg_wc_cell(b, o->base_label ? o->base_label : "BASE", 0, SG_FIT_NONE);
    sg_buf_puts(b, "  (");
    sg_dw_side_summary(b, d, 0);
    sg_buf_puts(b, ")\n  new:  ");
    sg_wc_cell(b, o->new_label ? o->new_label : "NEW", 0, SG_FIT_NONE);
    sg_buf_puts(b, "  (");
    sg_dw_side_summary(b, d, 1);
    sg_buf_puts(b, ")\n");
    size_t slower = 0, faster = 0, added = 0, removed = 0;
    for (size_t i = 0; i < d->nfuncs; i++) {
        const char *v = sg_dw_verdict(d, &d->funcs[i]);
        slower += !strcmp(v, "slower");
        faster += !strcmp(v, "faster");
        added += !strcmp(v, "added");
        removed += !strcmp(v, "removed");
    }
    sg_buf_printf(b,
                  "  functions: %zu slower, %zu faster (beyond noise), %zu added, %zu removed; "
                  "noise bound: %.0f standard errors\n\n",
                  slower, faster, added, removed, SG_DIFF_SIGMAS);
}

int sg_dw_text(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *out, sg_error *err)
{
    size_t max = o->max_rows > 0 ? (size_t)o->max_rows : SG_DT_ROWS;
    header(d, o, out);
    table_functions(d, o, out, max);
    if (d->opts.lines)
        table_lines(d, o, out, max);
    return 0;
}

/* ---- the regression guard ---- */

static void amount(sg_buf *b, const sg_check_opts *co, double v)
{
    if (co->time)
        sg_buf_printf(b, "%.3f s", v);
    else
        sg_buf_printf(b, "%.1f%%", 100.0 * v);
}

void sg_diff_check_write(const sg_diff *d, const sg_check_opts *co, const sg_check_result *r,
                         const sg_diff_write_opts *o, sg_buf *out)
{
    const char *what = co->metric == SG_DIFF_TOTAL ? "total" : "self";
    const char *unit = co->time ? "time" : "share";
    if (!r->n) {
        sg_buf_printf(out, "spyglass check: ok: %zu functions compared, none's %s %s grew more "
                           "than %.1f%% beyond noise",
                      r->compared, what, unit, 100.0 * co->max_regression);
        if (r->noisy)
            sg_buf_printf(out, " (%zu grew within noise)", r->noisy);
        if (r->added)
            sg_buf_printf(out, " (%zu new functions not judged)", r->added);
        sg_buf_putc(out, '\n');
        return;
    }
    sg_buf_printf(out, "spyglass check: FAILED: %zu function%s regressed beyond %.1f%% of %s %s "
                       "and beyond noise\n",
                  r->n, r->n == 1 ? "" : "s", 100.0 * co->max_regression, what, unit);
    sg_buf_puts(out, "  baseline: ");
    sg_wc_cell(out, o->base_label ? o->base_label : "BASE", 0, SG_FIT_NONE);
    sg_buf_puts(out, " (");
    sg_dw_side_summary(out, d, 0);
    sg_buf_puts(out, ")\n  new:      ");
    sg_wc_cell(out, o->new_label ? o->new_label : "NEW", 0, SG_FIT_NONE);
    sg_buf_puts(out, " (");
    sg_dw_side_summary(out, d, 1);
    sg_buf_puts(out, ")\n");
    for (size_t i = 0; i < r->n; i++) {
        const sg_check_finding *f = &r->items[i];
        const char *name, *file;
        size_t nl, fl;
        sg_dw_names(d, f->row, &name, &nl, &file, &fl);
        sg_buf_puts(out, "  ");
        name_cell(out, name, nl, 0);
        sg_buf_puts(out, " (");
        place(out, file, fl, f->row, false, 0, SG_FIT_NONE);
        sg_buf_printf(out, "): %s %s ", what, unit);
        amount(out, co, f->before);
        sg_buf_puts(out, " -> ");
        amount(out, co, f->after);
        if (isfinite(f->growth))
            sg_buf_printf(out, " (+%.0f%%", 100.0 * f->growth);
        else
            sg_buf_puts(out, " (from nothing");
        sg_buf_printf(out, " > %.1f%% allowed; the rise of ", 100.0 * co->max_regression);
        if (co->time)
            sg_buf_printf(out, "%.3f s exceeds the noise bound of %.3f s)\n",
                          f->after - f->before, f->bound);
        else
            sg_buf_printf(out, "%.1f points exceeds the noise bound of %.1f points)\n",
                          100.0 * (f->after - f->before), 100.0 * f->bound);
    }
    if (r->noisy)
        sg_buf_printf(out, "  (%zu more grew beyond the threshold but within noise)\n",
                      r->noisy);
}
