/* Annotated source in line_profiler's layout: for the hottest files, each function that
 * has samples is printed from its def line to its last sampled line, every line with
 * its samples, time and share. A line's numbers include the callees it was running
 * (as line_profiler's "Time" does); the Self column is the share spent on the line
 * itself. When a file cannot be read (deleted, another machine, "<string>") only the
 * sampled lines are listed.
 *
 * Files are ranked by the time spent in their own lines (self), then by the largest
 * total of one of their functions, then by name. */
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

#define SG_SPAN_MAX 400 /* a function longer than this shows only its sampled lines */
#define SG_CONTENT_COLS 120

typedef struct file_rank {
    uint32_t filename;
    int64_t self, best_total;
    const char *name;
} file_rank;

static int cmp_file(const void *a, const void *b)
{
    const file_rank *x = a, *y = b;
    if (x->self != y->self)
        return x->self > y->self ? -1 : 1;
    if (x->best_total != y->best_total)
        return x->best_total > y->best_total ? -1 : 1;
    return strcmp(x->name, y->name);
}

typedef struct fn_order {
    int32_t first_line;
    const char *name;
    uint32_t id;
} fn_order;

static int cmp_fn(const void *a, const void *b)
{
    const fn_order *x = a, *y = b;
    if (x->first_line != y->first_line)
        return x->first_line < y->first_line ? -1 : 1;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->id < y->id ? -1 : x->id > y->id);
}

/* Files with samples, hottest first; *n gets the count. NULL when out of memory. */
static file_rank *rank_files(const sg_wc_ctx *c, const sg_wc_stats *s, size_t *n)
{
    const sg_profile *p = c->p;
    size_t nf = sg_profile_nfunctions(p);
    const sg_function *fn = sg_profile_functions(p);
    sg_map idx;
    sg_map_init(&idx);
    file_rank *r = malloc((nf ? nf : 1) * sizeof *r);
    *n = 0;
    if (!r)
        return NULL;
    for (size_t i = 0; i < nf; i++) {
        if (!s->func[i].total)
            continue;
        const uint64_t *v = sg_map_get(&idx, fn[i].filename);
        file_rank *f;
        if (v) {
            f = &r[*v];
        } else {
            if (!sg_map_put(&idx, fn[i].filename, *n)) {
                free(r);
                sg_map_free(&idx);
                return NULL;
            }
            f = &r[(*n)++];
            *f = (file_rank){fn[i].filename, 0, 0, sg_profile_str(p, fn[i].filename)};
        }
        f->self += s->func[i].self;
        if (s->func[i].total > f->best_total)
            f->best_total = s->func[i].total;
    }
    sg_map_free(&idx);
    qsort(r, *n, sizeof *r, cmp_file);
    return r;
}

typedef struct annot {
    const sg_profile *p;
    const sg_wc_ctx *c;
    const sg_wc_stats *s;
    sg_buf *out;
    int64_t *line_total, *line_self; /* scratch, indexed by line - first */
    size_t scratch;
} annot;

static void row(annot *a, int32_t line, int64_t total, int64_t self, const sg_wc_source *src)
{
    sg_buf *b = a->out;
    sg_buf_printf(b, "%6d", (int)line);
    if (total || self) {
        sg_buf_printf(b, " %9lld", (long long)total);
        sg_wc_secs(b, a->c, total, 11);
        sg_wc_pct(b, total, a->s->grand, 9);
        sg_wc_pct(b, self, a->s->grand, 9);
    } else {
        sg_wc_spaces(b, 10 + 11 + 9 + 9);
    }
    const char *text;
    size_t len;
    if (sg_wc_source_line(src, line, &text, &len)) {
        sg_buf_puts(b, "  ");
        sg_wc_source_text(b, text, len, SG_CONTENT_COLS);
    }
    sg_wc_newline(b);
}

/* One function: the header, then its lines. -1 when out of memory. */
static int function_block(annot *a, uint32_t f, const sg_wc_source *src)
{
    const sg_profile *p = a->p;
    const sg_function *fn = &sg_profile_functions(p)[f];
    const sg_location *loc = sg_profile_locations(p);
    size_t nl = sg_profile_nlocations(p);
    int32_t lo = fn->first_line > 0 ? fn->first_line : INT32_MAX, hi = 0;
    for (size_t i = 0; i < nl; i++) {
        if (loc[i].function != f || !a->s->loc[i].total || loc[i].line <= 0)
            continue;
        lo = loc[i].line < lo ? loc[i].line : lo;
        hi = loc[i].line > hi ? loc[i].line : hi;
    }
    const sg_wc_stat *st = &a->s->func[f];
    sg_buf *b = a->out;
    sg_buf_puts(b, "\nFunction: ");
    sg_wc_cell(b, sg_wc_func_name(p, f), 120, SG_FIT_NONE);
    sg_buf_printf(b, " at line %d: total ", (int)fn->first_line);
    sg_wc_pct(b, st->total, a->s->grand, 0);
    if (a->c->sec_per_unit > 0)
        sg_buf_printf(b, " (%.3f s)", sg_wc_seconds(a->c, st->total));
    sg_buf_puts(b, ", self ");
    sg_wc_pct(b, st->self, a->s->grand, 0);
    sg_buf_printf(b, "\n\n%6s %9s %10s %8s %8s  %s\n", "Line #",
                  a->c->sampled ? "Samples" : "Value", "Time (s)", "% Time", "Self %",
                  "Line Contents");
    sg_buf_puts(b, "========================================================"
                   "==============\n");
    if (hi == 0)
        return 0; /* sampled only at unknown lines */
    size_t span = (size_t)(hi - lo) + 1;
    bool dense = src && span <= SG_SPAN_MAX;
    if (span > a->scratch) {
        size_t cap = span > 64 ? span : 64;
        int64_t *t = realloc(a->line_total, cap * sizeof *t);
        if (!t)
            return -1;
        a->line_total = t;
        int64_t *sf = realloc(a->line_self, cap * sizeof *sf);
        if (!sf)
            return -1;
        a->line_self = sf;
        a->scratch = cap;
    }
    memset(a->line_total, 0, span * sizeof *a->line_total);
    memset(a->line_self, 0, span * sizeof *a->line_self);
    for (size_t i = 0; i < nl; i++) {
        if (loc[i].function != f || loc[i].line < lo || loc[i].line > hi)
            continue;
        a->line_total[loc[i].line - lo] += a->s->loc[i].total;
        a->line_self[loc[i].line - lo] += a->s->loc[i].self;
    }
    for (int32_t line = lo; line <= hi; line++) {
        int64_t tot = a->line_total[line - lo], self = a->line_self[line - lo];
        if (dense || tot || self)
            row(a, line, tot, self, src);
    }
    return 0;
}

static int file_block(annot *a, const file_rank *fr, sg_wc_sources *cache)
{
    const sg_profile *p = a->p;
    const sg_wc_source *src = sg_wc_source_get(cache, p, fr->filename);
    sg_buf *b = a->out;
    sg_buf_puts(b, "File: ");
    sg_wc_cell(b, fr->name, 0, SG_FIT_NONE);
    sg_buf_puts(b, "\nSelf: ");
    sg_wc_pct(b, fr->self, a->s->grand, 0);
    if (a->c->sec_per_unit > 0)
        sg_buf_printf(b, " (%.3f s)", sg_wc_seconds(a->c, fr->self));
    sg_buf_puts(b, " spent on this file's own lines");
    if (!src)
        sg_buf_puts(b, "; source not available, sampled lines only");
    sg_buf_putc(b, '\n');
    size_t nf = sg_profile_nfunctions(p), k = 0;
    const sg_function *fn = sg_profile_functions(p);
    fn_order *order = malloc((nf ? nf : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < nf; i++)
        if (fn[i].filename == fr->filename && a->s->func[i].total)
            order[k++] = (fn_order){fn[i].first_line, sg_wc_func_name(p, (uint32_t)i),
                                    (uint32_t)i};
    qsort(order, k, sizeof *order, cmp_fn);
    int rc = 0;
    for (size_t i = 0; i < k && !rc; i++)
        rc = function_block(a, order[i].id, src);
    free(order);
    return rc;
}

int sg_write_annotate(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    if (sg_profile_meta_get(p)->mode == SG_MODE_LINES)
        return sg_write_lines(p, o, out, err);
    sg_wc_ctx c;
    sg_wc_init(&c, p, o);
    sg_wc_stats s;
    sg_wc_sources cache;
    sg_wc_sources_init(&cache);
    annot a = {.p = p, .c = &c, .s = &s, .out = out};
    file_rank *files = NULL;
    size_t nfiles = 0;
    int rc = -1;
    if (sg_wc_stats_build(&c, SG_NONE, &s))
        goto out;
    files = rank_files(&c, &s, &nfiles);
    if (!files)
        goto out;
    size_t show = o->context > 0 ? (size_t)o->context : 5;
    sg_buf_printf(out, "annotated source, view %s: %lld %s", sg_wc_view_name(c.view),
                  (long long)s.grand, c.sampled ? "samples" : "units");
    if (c.sec_per_unit > 0)
        sg_buf_printf(out, " (%.3f s)", sg_wc_seconds(&c, s.grand));
    sg_buf_printf(out, "; the %zu hottest of %zu files\n", show < nfiles ? show : nfiles,
                  nfiles);
    for (size_t i = 0; i < nfiles && i < show; i++) {
        sg_buf_putc(out, '\n');
        if (file_block(&a, &files[i], &cache))
            goto out;
    }
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing annotated source");
    free(files);
    free(a.line_total);
    free(a.line_self);
    sg_wc_sources_free(&cache);
    sg_wc_stats_free(&s);
    return rc;
}
