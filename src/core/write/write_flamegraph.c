/* The flame graph as one self-contained interactive SVG, in the manner of flamegraph.pl
 * and inferno: frames merged by function and laid out by total value (widest first),
 * coloured by kind (warm for the program's own code, aqua for the standard library and
 * site-packages, purple for thread and process levels, grey for "[filtered]",
 * "[partial]" and merged narrow frames), every thread under its own "thread NAME (TID)"
 * level. The script embedded in the file (assets/flamegraph.js) adds the details line
 * on hover, click to zoom, reset, and search with the matched share.
 *
 * Frames narrower than half a pixel are merged into one "[N narrow frames]" frame, or
 * left out when even that is too narrow (flamegraph.pl's --minwidth, whose default of
 * a tenth of a pixel leaves 42,000 frames of a 100,000-stack profile: 8.7 MB that
 * Chromium takes seconds to load and to zoom; half a pixel leaves 9,000), so the
 * file's size follows what can be seen, not the number of distinct stacks.
 *
 * Every frame carries its start and width in value units (data-x, data-w) so the
 * script can zoom exactly; its <title> holds three lines: the label, file:line, and the
 * values. Names are data: they go through sg_wc_markup, never into the script. */
#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "assets_gen.h"
#include "sg_flame.h"
#include "sg_write_common.h"

#define SG_SVG_WIDTH 1200
#define SG_SVG_PAD 10
#define SG_SVG_FRAME 16
#define SG_SVG_TOP 66     /* title, subtitle, buttons */
#define SG_SVG_BOTTOM 34  /* the details line */
#define SG_SVG_FONT 12
#define SG_SVG_CHAR 0.59  /* average glyph width / font size (Verdana, as flamegraph.pl) */
#define SG_SVG_MIN_PX 0.5 /* narrower frames are merged or left out */

typedef struct svg {
    const sg_profile *p;
    const sg_wc_ctx *c;
    const sg_flame *f;
    sg_buf *out;
    sg_buf label; /* scratch */
    bool icicle;
    double scale; /* pixels per value unit */
    int height;
    const char *unit_one, *unit_many; /* "sample"/"samples", "call"/"calls", "hit"/"hits" */
} svg;

/* A stable pseudo-random value in [0, 1) from a name, so colours do not change between
 * runs (flamegraph.pl draws them at random; inferno hashes too). */
static double name_hash(const char *s, int salt)
{
    uint64_t h = sg_hash64(sg_hash_bytes(s, strlen(s)) + (uint64_t)salt);
    return (double)(h >> 11) / 9007199254740992.0;
}

static void fill(svg *s, uint32_t i, const char *name)
{
    const sg_flame_node *n = &s->f->nodes[i];
    double v1 = name_hash(name, 1), v2 = name_hash(name, 2), v3 = name_hash(name, 3);
    int r, g, b;
    switch (n->kind) {
    case SG_FLAME_ROOT:
        r = 200, g = 200, b = 205;
        break;
    case SG_FLAME_PROCESS:
    case SG_FLAME_THREAD:
        r = 150 + (int)(50 * v1), g = 120 + (int)(40 * v2), b = 200 + (int)(55 * v1);
        break;
    case SG_FLAME_FUNCTION: {
        const sg_function *fn = &sg_profile_functions(s->p)[n->id];
        const char *file = sg_profile_str(s->p, fn->filename);
        if (strcmp(name, "[filtered]") == 0 || strcmp(name, "<unknown>") == 0) {
            int grey = 170 + (int)(30 * v1);
            r = g = b = grey;
        } else if (sg_path_is_syspath(file)) {
            r = 50 + (int)(60 * v1), g = 165 + (int)(55 * v2), b = 165 + (int)(55 * v2);
        } else {
            r = 205 + (int)(50 * v3), g = (int)(230 * v1), b = (int)(55 * v2);
        }
        break;
    }
    default: /* [partial], merged narrow frames */
        r = g = b = 175 + (int)(30 * v1);
    }
    sg_buf_printf(s->out, "rgb(%d,%d,%d)", r, g, b);
}

/* "60 samples (0.600 s), 60.00%" or, traced, "12 calls, 1.234 s, 40.00%". */
static void values_text(svg *s, const sg_flame_node *n)
{
    sg_buf *b = s->out;
    int64_t grand = s->f->nodes[0].total;
    double pct = grand > 0 ? 100.0 * (double)n->total / (double)grand : 0;
    if (s->c->sampled) {
        sg_buf_printf(b, "%lld %s", (long long)n->total, n->total == 1 ? s->unit_one : s->unit_many);
        if (s->c->sec_per_unit > 0)
            sg_buf_printf(b, " (%.3f s)", sg_wc_seconds(s->c, n->total));
    } else {
        if (s->f->has_aux && n->kind == SG_FLAME_FUNCTION)
            sg_buf_printf(b, "%lld %s, ", (long long)n->aux,
                          n->aux == 1 ? s->unit_one : s->unit_many);
        sg_buf_printf(b, "%.6f s", sg_wc_seconds(s->c, n->total));
        if (n->self)
            sg_buf_printf(b, " (self %.6f s)", sg_wc_seconds(s->c, n->self));
    }
    sg_buf_printf(b, ", %.2f%%", pct);
}

static void frame(svg *s, uint32_t i)
{
    const sg_flame_node *n = &s->f->nodes[i];
    sg_buf *b = s->out;
    sg_buf_reset(&s->label);
    sg_flame_label(s->f, s->p, i, &s->label);
    const char *name = sg_buf_cstr(&s->label);
    size_t name_len = s->label.len;
    double x = SG_SVG_PAD + (double)n->start * s->scale;
    double w = (double)n->total * s->scale;
    int y = s->icicle ? SG_SVG_TOP + (int)n->depth * SG_SVG_FRAME
                      : s->height - SG_SVG_BOTTOM - ((int)n->depth + 1) * SG_SVG_FRAME;
    sg_buf_puts(b, "<g><title>");
    sg_wc_markup(b, name, name_len, 0);
    sg_buf_putc(b, '\n');
    if (n->kind == SG_FLAME_FUNCTION) {
        const sg_function *fn = &sg_profile_functions(s->p)[n->id];
        sg_wc_markup(b, sg_profile_str(s->p, fn->filename), sg_profile_str_len(s->p, fn->filename), 0);
        sg_buf_printf(b, ":%d", (int)fn->first_line);
    }
    sg_buf_putc(b, '\n');
    values_text(s, n);
    sg_buf_printf(b, "</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"", x, y,
                  w, SG_SVG_FRAME - 1);
    fill(s, i, name);
    sg_buf_printf(b, "\" data-x=\"%lld\" data-w=\"%lld\"/>", (long long)n->start,
                  (long long)n->total);
    /* the label as it fits; the script refits it after a zoom, and makes the <text> of
     * a frame too narrow for one (most of them: a third of the file's size saved) */
    size_t fits = w > 6 ? (size_t)((w - 6) / (SG_SVG_FONT * SG_SVG_CHAR)) : 0;
    if (fits >= 3) {
        sg_buf_printf(b, "<text x=\"%.2f\" y=\"%.1f\">", x + 3, y + SG_SVG_FRAME - 4.5);
        if (sg_wc_markup_cps(name, name_len) <= fits) {
            sg_wc_markup(b, name, name_len, 0);
        } else {
            sg_wc_markup(b, name, name_len, fits - 2);
            sg_buf_puts(b, "..");
        }
        sg_buf_puts(b, "</text>");
    }
    sg_buf_puts(b, "</g>\n");
}

static void header(svg *s, const sg_write_opts *o)
{
    sg_buf *b = s->out;
    const sg_profile *p = s->p;
    const sg_flame_node *root = &s->f->nodes[0];
    sg_buf_printf(b,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
                  "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                  "xmlns=\"http://www.w3.org/2000/svg\" data-pad=\"%d\" data-fh=\"%d\" "
                  "data-char=\"%.2f\" data-total=\"%lld\">\n",
                  SG_SVG_WIDTH, s->height, SG_SVG_WIDTH, s->height, SG_SVG_PAD, SG_SVG_FRAME,
                  SG_SVG_FONT * SG_SVG_CHAR, (long long)root->total);
    sg_buf_puts(b, "<style type=\"text/css\"><![CDATA[\n");
    sg_buf_append(b, sg_asset_flamegraph_css, sizeof sg_asset_flamegraph_css - 1);
    sg_buf_puts(b, "]]></style>\n<script type=\"text/ecmascript\"><![CDATA[\n");
    sg_buf_append(b, sg_asset_flamegraph_js, sizeof sg_asset_flamegraph_js - 1);
    sg_buf_puts(b, "]]></script>\n");
    sg_buf_printf(b, "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%d\" height=\"%d\"/>\n",
                  SG_SVG_WIDTH, s->height);
    sg_buf_printf(b, "<text id=\"title\" x=\"%d\" y=\"24\">%s</text>\n", SG_SVG_WIDTH / 2,
                  o->icicle ? "Icicle Graph" : "Flame Graph");
    /* subtitle: command, amount, view, Python version */
    sg_buf_printf(b, "<text id=\"subtitle\" x=\"%d\" y=\"44\">", SG_SVG_WIDTH / 2);
    const char *cmd = sg_profile_get_attr(p, "command");
    if (cmd && *cmd) {
        sg_wc_markup(b, cmd, strlen(cmd), 100);
        sg_buf_puts(b, " — ");
    }
    if (s->c->sampled)
        sg_buf_printf(b, "%lld samples", (long long)root->total);
    if (s->c->sec_per_unit > 0)
        sg_buf_printf(b, s->c->sampled ? " (%.3f s)" : "%.3f s traced",
                      sg_wc_seconds(s->c, root->total));
    if (s->c->sampled)
        sg_buf_printf(b, ", view %s", sg_wc_view_name(s->c->view));
    const char *py = sg_profile_get_attr(p, "python");
    if (py && *py) {
        sg_buf_puts(b, ", Python ");
        sg_wc_markup(b, py, strlen(py), 20);
    }
    sg_buf_puts(b, "</text>\n");
    sg_buf_printf(b,
                  "<text id=\"unzoom\" class=\"button hide\" x=\"%d\" y=\"24\">Reset Zoom</text>\n"
                  "<text id=\"search\" class=\"button\" x=\"%d\" y=\"24\">Search</text>\n"
                  "<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n"
                  "<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n",
                  SG_SVG_PAD, SG_SVG_WIDTH - SG_SVG_PAD, SG_SVG_WIDTH - SG_SVG_PAD,
                  s->height - 14, SG_SVG_PAD, s->height - 14);
    sg_buf_printf(b, "<g id=\"frames\" data-icicle=\"%d\" data-top=\"%d\" data-base=\"%d\">\n",
                  s->icicle ? 1 : 0, SG_SVG_TOP, s->height - SG_SVG_BOTTOM);
}

int sg_write_flamegraph(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    sg_wc_ctx c;
    sg_wc_init(&c, p, o);
    sg_flame f;
    sg_flame_opts fo = {.track = SG_NONE, .per_thread = true};
    svg s = {.p = p, .c = &c, .f = &f, .out = out, .icicle = o->icicle};
    sg_buf_init(&s.label);
    uint32_t *stack = NULL;
    size_t cap = 0, sp = 0;
    int rc = -1;
    int64_t grand = sg_flame_grand(&c, &fo);
    double px = SG_SVG_WIDTH - 2 * SG_SVG_PAD;
    int64_t min_value = (int64_t)((double)grand * SG_SVG_MIN_PX / px) + 1;
    fo.min_value = min_value > 0 ? min_value : 1;
    if (sg_flame_build(&f, &c, &fo) || sg_flame_layout(&f, p, fo.min_value))
        goto out;
    s.scale = grand > 0 ? px / (double)grand : 0;
    s.height = SG_SVG_TOP + ((int)f.max_depth + 1) * SG_SVG_FRAME + SG_SVG_BOTTOM;
    const sg_profile_meta *m = sg_profile_meta_get(p);
    s.unit_one = "sample", s.unit_many = "samples";
    if (!c.sampled)
        s.unit_one = m->mode == SG_MODE_LINES ? "hit" : "call",
        s.unit_many = m->mode == SG_MODE_LINES ? "hits" : "calls";
    header(&s, o);
    if (!sg_grow((void **)&stack, &cap, 1, sizeof *stack, 256))
        goto out;
    stack[sp++] = SG_ROOT;
    while (sp) {
        uint32_t i = stack[--sp];
        frame(&s, i);
        size_t nk = 0;
        for (uint32_t k = f.nodes[i].first_child; k != SG_NONE; k = f.nodes[k].next_sibling)
            nk++;
        if (!sg_grow((void **)&stack, &cap, sp + nk, sizeof *stack, 256))
            goto out;
        size_t at = sp + nk;
        for (uint32_t k = f.nodes[i].first_child; k != SG_NONE; k = f.nodes[k].next_sibling)
            stack[--at] = k; /* leftmost child popped first */
        sp += nk;
    }
    sg_buf_puts(out, "</g>\n</svg>\n");
    rc = sg_buf_failed(&s.label) ? -1 : 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing the flame graph");
    free(stack);
    sg_buf_free(&s.label);
    sg_flame_free(&f);
    return rc;
}
