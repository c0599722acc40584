/* The differential flame graph, after Brendan Gregg's: the merged call tree of the two
 * profiles drawn with NEW's widths (root at the bottom, callees above their callers,
 * siblings in name order), each frame coloured by the change of its self share: red
 * when NEW spends a larger share there, blue when smaller, intensity relative to the
 * largest change, grey when the change is within noise. Code that only BASE ran has no
 * width in NEW and is not drawn; the tables list it as removed.
 *
 * The layout is computed here, so the SVG reads without scripts; a small script
 * (diff_assets.c) adds the details line on hover, click to zoom and search. Frames
 * narrower than SG_DF_MIN_PX are left out, which bounds the file by the width, not by
 * the size of the profiles. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_diff_write_common.h"

#define SG_DF_WIDTH 1200.0
#define SG_DF_FRAME_H 16
#define SG_DF_TOP 44
#define SG_DF_BOTTOM 26
#define SG_DF_MIN_PX 0.3
#define SG_DF_CHAR_PX 7.3 /* 12px monospace */

typedef struct flame {
    const sg_diff *d;
    const sg_diff_write_opts *o;
    sg_buf *out;
    double *x;       /* by frame: left edge as a fraction of the root */
    bool *shown;
    uint32_t *kids;  /* children of frame f: kids[first[f] .. first[f + 1]) */
    uint32_t *first;
    double max_change;
    uint32_t depth; /* deepest shown frame */
} flame;

static int cmp_kids(const void *a, const void *b, void *ctx)
{
    const sg_diff *sort_d = ctx;
    const sg_diff_frame *x = &sort_d->frames[*(const uint32_t *)a];
    const sg_diff_frame *y = &sort_d->frames[*(const uint32_t *)b];
    const char *nx, *ny, *fx, *fy;
    size_t lnx, lny, lfx, lfy;
    sg_dw_names(sort_d, &sort_d->funcs[x->row], &nx, &lnx, &fx, &lfx);
    sg_dw_names(sort_d, &sort_d->funcs[y->row], &ny, &lny, &fy, &lfy);
    int c = strcmp(nx, ny);
    if (!c)
        c = strcmp(fx, fy);
    if (!c)
        c = *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
    return c;
}

static double self_change(const sg_diff *d, const sg_diff_frame *f)
{
    double gb = (double)d->in[0].grand, gn = (double)d->in[1].grand;
    return (gn > 0 ? (double)f->self[1] / gn : 0) - (gb > 0 ? (double)f->self[0] / gb : 0);
}

static int layout(flame *fl)
{
    const sg_diff *d = fl->d;
    size_t n = d->nframes;
    fl->x = calloc(n, sizeof *fl->x);
    fl->shown = calloc(n, sizeof *fl->shown);
    fl->kids = malloc(n * sizeof *fl->kids);
    fl->first = calloc(n + 1, sizeof *fl->first);
    if (!fl->x || !fl->shown || !fl->kids || !fl->first)
        return -1;
    for (size_t f = 1; f < n; f++)
        fl->first[d->frames[f].parent + 1]++;
    for (size_t f = 0; f < n; f++)
        fl->first[f + 1] += fl->first[f];
    uint32_t *fill = malloc(n * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, fl->first, n * sizeof *fill);
    for (size_t f = 1; f < n; f++)
        fl->kids[fill[d->frames[f].parent]++] = (uint32_t)f;
    free(fill);
    for (size_t f = 0; f < n; f++)
        qsort_r(fl->kids + fl->first[f], fl->first[f + 1] - fl->first[f], sizeof *fl->kids,
                cmp_kids, (void *)d);
    double root = (double)d->frames[0].total[1];
    if (root <= 0)
        return 0;
    fl->shown[0] = true;
    /* parents come before their children in id order */
    for (size_t f = 0; f < n; f++) {
        if (!fl->shown[f])
            continue;
        double at = fl->x[f];
        for (uint32_t k = fl->first[f]; k < fl->first[f + 1]; k++) {
            const sg_diff_frame *c = &d->frames[fl->kids[k]];
            double w = (double)c->total[1] / root;
            fl->x[fl->kids[k]] = at;
            at += w;
            if (w * SG_DF_WIDTH < SG_DF_MIN_PX)
                continue;
            fl->shown[fl->kids[k]] = true;
            if (c->depth > fl->depth)
                fl->depth = c->depth;
            double ch = fabs(self_change(d, c));
            if (ch > fl->max_change && ch > sg_diff_share_noise(d, c->self[0], c->self[1]))
                fl->max_change = ch;
        }
    }
    return 0;
}

static void fill_color(flame *fl, const sg_diff_frame *f)
{
    const sg_diff *d = fl->d;
    double ch = self_change(d, f);
    if (f->row == SG_NONE || fl->max_change <= 0 ||
        fabs(ch) <= sg_diff_share_noise(d, f->self[0], f->self[1])) {
        sg_buf_puts(fl->out, "rgb(221,221,221)");
        return;
    }
    double k = fabs(ch) / fl->max_change;
    int hi = 235 - (int)lround(200 * (k > 1 ? 1 : k));
    if (ch > 0)
        sg_buf_printf(fl->out, "rgb(255,%d,%d)", hi, hi);
    else
        sg_buf_printf(fl->out, "rgb(%d,%d,255)", hi, hi);
}

static void side_line(flame *fl, const sg_diff_frame *f, int s)
{
    const sg_diff *d = fl->d;
    double g = (double)d->in[s].grand;
    sg_buf_printf(fl->out, "\n%s: self %.1f%%", s ? "new" : "base",
                  g > 0 ? 100.0 * (double)f->self[s] / g : 0.0);
    double secs = sg_diff_seconds(d, s, f->self[s]);
    if (secs >= 0)
        sg_buf_printf(fl->out, " (%.3f s)", secs);
    sg_buf_printf(fl->out, ", total %.1f%%", g > 0 ? 100.0 * (double)f->total[s] / g : 0.0);
    secs = sg_diff_seconds(d, s, f->total[s]);
    if (secs >= 0)
        sg_buf_printf(fl->out, " (%.3f s)", secs);
}

/* The frame's label: its escaped name cut to the width, "" when nothing fits. */
static void label(sg_buf *b, const char *name, size_t len, double px)
{
    long fit = (long)((px - 6) / SG_DF_CHAR_PX);
    if (fit < 3)
        return;
    sg_buf t;
    sg_buf_init(&t);
    sg_wc_escape(&t, name, len);
    size_t cps = 0, cut = t.len;
    for (size_t i = 0; i < t.len; i++)
        if (((unsigned char)t.data[i] & 0xc0) != 0x80 && ++cps == (size_t)fit - 1)
            cut = i;
    if (cps > (size_t)fit) {
        sg_dw_markup(b, t.data, cut);
        sg_buf_puts(b, "..");
    } else {
        sg_dw_markup(b, t.data ? t.data : "", t.len);
    }
    if (sg_buf_failed(&t))
        b->failed = true;
    sg_buf_free(&t);
}

static void frame(flame *fl, uint32_t id, double height)
{
    const sg_diff *d = fl->d;
    const sg_diff_frame *f = &d->frames[id];
    sg_buf *b = fl->out;
    const char *name = "all", *file = "";
    size_t nl = 3, flen = 0;
    int32_t line = 0;
    if (f->row != SG_NONE) {
        sg_dw_names(d, &d->funcs[f->row], &name, &nl, &file, &flen);
        line = sg_dw_line(&d->funcs[f->row]);
    }
    double root = (double)d->frames[0].total[1];
    double w = (double)f->total[1] / root, px = w * SG_DF_WIDTH;
    double x = fl->x[id] * SG_DF_WIDTH;
    double y = height - SG_DF_BOTTOM - (double)(f->depth + 1) * SG_DF_FRAME_H;
    sg_buf_printf(b, "<g class=\"f\" data-x=\"%.9g\" data-w=\"%.9g\" data-d=\"%u\" data-n=\"",
                  fl->x[id], w, f->depth);
    sg_dw_markup(b, name, nl);
    sg_buf_puts(b, "\"><title>");
    sg_dw_markup(b, name, nl);
    if (flen) {
        sg_buf_putc(b, '\n');
        sg_dw_markup(b, file, flen);
        sg_buf_printf(b, ":%d", (int)line);
    }
    side_line(fl, f, 0);
    side_line(fl, f, 1);
    double ch = self_change(d, f);
    double gb = (double)d->in[0].grand, gn = (double)d->in[1].grand;
    double tch = (gn > 0 ? (double)f->total[1] / gn : 0) - (gb > 0 ? (double)f->total[0] / gb : 0);
    sg_buf_printf(b, "\nchange: self %+.1f, total %+.1f points%s", 100.0 * ch, 100.0 * tch,
                  fabs(ch) <= sg_diff_share_noise(d, f->self[0], f->self[1]) ? " (within noise)"
                                                                           : "");
    sg_buf_printf(b, "</title><rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"", x,
                  y, px > 0.5 ? px - 0.5 : px, SG_DF_FRAME_H - 1);
    fill_color(fl, f);
    sg_buf_printf(b, "\"/><text x=\"%.2f\" y=\"%.0f\">", x + 3, y + SG_DF_FRAME_H - 4.5);
    label(b, name, nl, px);
    sg_buf_puts(b, "</text></g>\n");
}

int sg_dw_flame(const sg_diff *d, const sg_diff_write_opts *o, bool standalone, sg_buf *out,
                sg_error *err)
{
    flame fl = {.d = d, .o = o, .out = out};
    int rc = -1;
    if (!d->nframes || layout(&fl))
        goto out;
    double height = SG_DF_TOP + SG_DF_BOTTOM + (double)(fl.depth + 1) * SG_DF_FRAME_H;
    if (standalone)
        sg_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n");
    sg_buf_printf(out,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" id=\"sgf\" "
                  "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                  "data-width=\"%.0f\">\n<style>",
                  SG_DF_WIDTH, height, SG_DF_WIDTH, height, SG_DF_WIDTH);
    sg_buf_puts(out, sg_dw_flame_css);
    sg_buf_printf(out, "</style>\n<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%.0f\" "
                       "height=\"%.0f\"/>\n<text class=\"title\" x=\"%.0f\" y=\"18\">",
                  SG_DF_WIDTH, height, SG_DF_WIDTH / 2);
    sg_buf_puts(out, "Differential flame graph: ");
    sg_dw_markup_cstr(out, o->base_label ? o->base_label : "BASE");
    sg_buf_puts(out, " \xe2\x86\x92 ");
    sg_dw_markup_cstr(out, o->new_label ? o->new_label : "NEW");
    sg_buf_printf(out, "</text>\n<text class=\"legend\" x=\"%.0f\" y=\"34\">width: time in NEW; "
                       "red: larger self share in NEW, blue: smaller; grey: within noise; "
                       "click to zoom</text>\n",
                  SG_DF_WIDTH / 2);
    sg_buf_printf(out, "<text id=\"sgf-reset\" class=\"btn\" x=\"10\" y=\"18\" "
                       "style=\"display:none\">Reset zoom</text>\n<text id=\"sgf-search\" "
                       "class=\"btn\" x=\"%.0f\" y=\"18\" text-anchor=\"end\">Search</text>\n",
                  SG_DF_WIDTH - 10);
    sg_buf_printf(out, "<text id=\"sgf-details\" x=\"10\" y=\"%.0f\"> </text>\n<text "
                       "id=\"sgf-matched\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\"> </text>\n",
                  height - 8, SG_DF_WIDTH - 10, height - 8);
    if (d->frames[0].total[1] <= 0)
        sg_buf_printf(out, "<text x=\"%.0f\" y=\"%.0f\" class=\"legend\">NEW holds no "
                           "samples</text>\n",
                      SG_DF_WIDTH / 2, height / 2);
    sg_buf_puts(out, "<g id=\"sgf-frames\">\n");
    for (uint32_t f = 0; f < d->nframes; f++)
        if (fl.shown[f])
            frame(&fl, f, height);
    sg_buf_puts(out, "</g>\n");
    if (standalone) {
        sg_buf_puts(out, "<script type=\"text/ecmascript\"><![CDATA[\n");
        sg_buf_puts(out, sg_dw_flame_js);
        sg_buf_puts(out, "]]></script>\n");
    }
    sg_buf_puts(out, "</svg>\n");
    rc = 0;
out:
    free(fl.x);
    free(fl.shown);
    free(fl.kids);
    free(fl.first);
    if (rc)
        return sg_fail(err, SG_E_NOMEM, 0, "out of memory while drawing the flame graph");
    return 0;
}

int sg_dw_svg(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *out, sg_error *err)
{
    return sg_dw_flame(d, o, true, out, err);
}
