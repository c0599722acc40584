/* Line-level traced profiles in line_profiler's layout: per function, its source from
 * the def line to the last line that ran, each line with Hits, Time (microseconds),
 * Per Hit and % Time of the function. A line's time includes the traced functions it
 * called (a callee's lines are below it in the stack trie) and the untraced code it ran,
 * as line_profiler's does; recursion counts each stack once.
 *
 * annotate: that layout for all threads together. text: the same, then each thread's
 * hottest lines when more than one thread ran traced code.
 *
 * Functions are listed hottest first. A file that cannot be read (deleted, another
 * machine, "<string>") shows only the lines that ran. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

#define SG_LN_SPAN_MAX 400   /* a longer function shows only the lines that ran */
#define SG_LN_FUNCS_ALL 30   /* up to this many functions are all shown */
#define SG_LN_CONTENT_COLS 120

typedef struct ln_span {
    int32_t lo, hi; /* first line and last line that ran; hi 0: nothing ran */
} ln_span;

typedef struct ln_ctx {
    const sg_profile *p;
    const sg_write_opts *o;
    sg_wc_ctx c;
    sg_buf *out;
    sg_wc_stats s;
    int64_t *hits;      /* per location */
    ln_span *span;      /* per function */
    sg_wc_sources src;
} ln_ctx;

static int ln_hits(ln_ctx *l, uint32_t track)
{
    const sg_profile *p = l->p;
    size_t nl = sg_profile_nlocations(p), nn = sg_profile_nnodes(p);
    free(l->hits);
    l->hits = calloc(nl ? nl : 1, sizeof *l->hits);
    if (!l->hits)
        return -1;
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_record *r = sg_profile_records(p);
    for (size_t i = 0; i < sg_profile_nrecords(p); i++) {
        if ((track != SG_NONE && r[i].track != track) || r[i].node == SG_ROOT || r[i].node >= nn)
            continue;
        uint32_t loc = nodes[r[i].node].location;
        if (loc < nl)
            l->hits[loc] += r[i].values[0];
    }
    return 0;
}

/* Each function's span: from its first line to the last line that ran. */
static int ln_spans(ln_ctx *l)
{
    const sg_profile *p = l->p;
    size_t nf = sg_profile_nfunctions(p), nl = sg_profile_nlocations(p);
    const sg_location *loc = sg_profile_locations(p);
    free(l->span);
    l->span = malloc((nf ? nf : 1) * sizeof *l->span);
    if (!l->span)
        return -1;
    for (size_t f = 0; f < nf; f++) {
        int32_t first = sg_profile_functions(p)[f].first_line;
        l->span[f] = (ln_span){first > 0 ? first : INT32_MAX, 0};
    }
    for (size_t i = 0; i < nl; i++) {
        ln_span *sp = &l->span[loc[i].function];
        if (loc[i].line <= 0 || (!l->hits[i] && !l->s.loc[i].total))
            continue;
        sp->lo = loc[i].line < sp->lo ? loc[i].line : sp->lo;
        sp->hi = loc[i].line > sp->hi ? loc[i].line : sp->hi;
    }
    return 0;
}

static int ln_build(ln_ctx *l, uint32_t track)
{
    sg_wc_stats_free(&l->s);
    return sg_wc_stats_build(&l->c, track, &l->s) || ln_hits(l, track) || ln_spans(l) ? -1 : 0;
}

/* True when line belongs to another function that starts inside f's span (a nested
 * def, a method of a class body, any function of a module): it is shown there. */
static bool owned_elsewhere(const ln_ctx *l, uint32_t f, int32_t line)
{
    const sg_profile *p = l->p;
    const sg_function *fn = sg_profile_functions(p);
    for (size_t g = 0; g < sg_profile_nfunctions(p); g++) {
        if (g == f || fn[g].filename != fn[f].filename || !l->span[g].hi)
            continue;
        if (fn[g].first_line > fn[f].first_line && line >= fn[g].first_line &&
            line <= l->span[g].hi)
            return true;
    }
    return false;
}

typedef struct fn_rank {
    uint32_t id;
    int64_t total;
    const char *file;
    int32_t line;
} fn_rank;

static int cmp_rank(const void *pa, const void *pb)
{
    const fn_rank *a = pa, *b = pb;
    if (a->total != b->total)
        return a->total > b->total ? -1 : 1;
    int c = strcmp(a->file, b->file);
    if (c)
        return c;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static void row(ln_ctx *l, int32_t line, int64_t hits, int64_t total, int64_t fn_total,
                const sg_wc_source *src, bool data)
{
    sg_buf *b = l->out;
    double us = (double)total * l->c.sec_per_unit * 1e6;
    if (data)
        sg_buf_printf(b, "%6d %9lld %12.1f %8.1f %8.1f", (int)line, (long long)hits, us,
                      hits ? us / (double)hits : 0.0,
                      fn_total ? 100.0 * (double)total / (double)fn_total : 0.0);
    else
        sg_buf_printf(b, "%6d %9s %12s %8s %8s", (int)line, "", "", "", "");
    const char *text;
    size_t len;
    sg_buf_puts(b, "  ");
    if (sg_wc_source_line(src, line, &text, &len))
        sg_wc_source_text(b, text, len, SG_LN_CONTENT_COLS);
    sg_wc_newline(b);
}

/* One function in line_profiler's layout. -1 when out of memory. */
static int function_block(ln_ctx *l, uint32_t f)
{
    const sg_profile *p = l->p;
    const sg_function *fn = &sg_profile_functions(p)[f];
    const sg_location *loc = sg_profile_locations(p);
    size_t nl = sg_profile_nlocations(p);
    int64_t fn_total = l->s.func[f].total;
    int32_t lo = l->span[f].lo, hi = l->span[f].hi;
    sg_buf *b = l->out;
    const sg_wc_source *src = sg_wc_source_get(&l->src, p, fn->filename);
    sg_buf_printf(b, "\nTotal time: %g s\nFile: ", sg_wc_seconds(&l->c, fn_total));
    sg_wc_cell(b, sg_profile_str(p, fn->filename), 0, SG_FIT_NONE);
    sg_buf_puts(b, "\nFunction: ");
    sg_wc_cell(b, sg_wc_func_name(p, f), 120, SG_FIT_NONE);
    sg_buf_printf(b, " at line %d\n\n", (int)fn->first_line);
    sg_buf_printf(b, "%6s %9s %12s %8s %8s  %s\n", "Line #", "Hits", "Time", "Per Hit",
                  "% Time", "Line Contents");
    sg_buf_puts(b, "==============================================================\n");
    if (hi == 0)
        return 0;
    size_t span = (size_t)(hi - lo) + 1;
    int64_t *hits = calloc(span, sizeof *hits), *tot = calloc(span, sizeof *tot);
    bool *has = calloc(span, sizeof *has);
    if (!hits || !tot || !has) {
        free(hits);
        free(tot);
        free(has);
        return -1;
    }
    for (size_t i = 0; i < nl; i++) {
        if (loc[i].function != f || loc[i].line < lo || loc[i].line > hi)
            continue;
        size_t k = (size_t)(loc[i].line - lo);
        hits[k] += l->hits[i];
        tot[k] += l->s.loc[i].total;
        has[k] = has[k] || l->hits[i] || l->s.loc[i].total;
    }
    bool dense = src && span <= SG_LN_SPAN_MAX, skipping = false;
    for (int32_t line = lo; line <= hi; line++) {
        size_t k = (size_t)(line - lo);
        if (!has[k] && (!dense || owned_elsewhere(l, f, line))) {
            if (dense && !skipping)
                sg_buf_printf(b, "%6s\n", "...");
            skipping = true;
            continue;
        }
        skipping = false;
        row(l, line, hits[k], tot[k], fn_total, src, has[k]);
    }
    free(hits);
    free(tot);
    free(has);
    return 0;
}

static int functions(ln_ctx *l, size_t *shown_out, size_t *all_out)
{
    const sg_profile *p = l->p;
    size_t nf = sg_profile_nfunctions(p), n = 0;
    fn_rank *r = malloc((nf ? nf : 1) * sizeof *r);
    if (!r)
        return -1;
    for (size_t f = 0; f < nf; f++)
        if (l->s.func[f].total || l->s.func[f].self)
            r[n++] = (fn_rank){(uint32_t)f, l->s.func[f].total,
                               sg_profile_str(p, sg_profile_functions(p)[f].filename),
                               sg_profile_functions(p)[f].first_line};
    qsort(r, n, sizeof *r, cmp_rank);
    size_t show = n <= SG_LN_FUNCS_ALL ? n : SG_LN_FUNCS_ALL;
    int rc = 0;
    for (size_t i = 0; i < show && !rc; i++)
        rc = function_block(l, r[i].id);
    free(r);
    *shown_out = show;
    *all_out = n;
    return rc;
}

static int lines_report(ln_ctx *l)
{
    sg_buf *b = l->out;
    const sg_profile_meta *m = sg_profile_meta_get(l->p);
    size_t shown, all;
    sg_buf_printf(b, "Timer unit: 1e-06 s (%s clock)\n", m->clock == SG_CLOCK_CPU ? "cpu" : "wall");
    if (ln_build(l, SG_NONE) || functions(l, &shown, &all))
        return -1;
    if (!all)
        sg_buf_puts(b, "\n(no traced line ran)\n");
    else if (shown < all)
        sg_buf_printf(b, "\n... %zu more functions (the %zu hottest are shown)\n", all - shown,
                      shown);
    return 0;
}

static void thread_lines(ln_ctx *l, uint32_t track, size_t rows)
{
    const sg_profile *p = l->p;
    sg_buf *b = l->out;
    const sg_track *tr = &sg_profile_tracks_c(p)[track];
    size_t n;
    uint32_t *ids = sg_wc_lines_by_self(&l->c, &l->s, &n);
    if (!ids) {
        b->failed = n != 0 || b->failed;
        return;
    }
    int64_t hits_total = 0;
    for (size_t i = 0; i < sg_profile_nlocations(p); i++)
        hits_total += l->hits[i];
    sg_buf_puts(b, "\nthread ");
    if (tr->name) {
        sg_wc_cell(b, sg_profile_str(p, tr->name), 48, SG_FIT_NONE);
        sg_buf_putc(b, ' ');
    }
    sg_buf_printf(b, "(TID %llu%s): %lld hits in %.3f s\n", (unsigned long long)tr->tid,
                  tr->is_main ? ", main" : "", (long long)hits_total,
                  sg_wc_seconds(&l->c, l->s.grand));
    sg_buf_printf(b, "  %9s %12s %8s  %s\n", "Hits", "Self (s)", "% Self", "line");
    for (size_t i = 0; i < n && i < rows; i++) {
        const sg_wc_line *ln = &l->s.line[ids[i]];
        int64_t h = 0;
        const sg_location *loc = sg_profile_locations(p);
        const sg_function *fn = sg_profile_functions(p);
        for (size_t k = 0; k < sg_profile_nlocations(p); k++)
            if (loc[k].line == ln->line && fn[loc[k].function].filename == ln->filename)
                h += l->hits[k];
        sg_buf_printf(b, "  %9lld %12.6f", (long long)h,
                      sg_wc_seconds(&l->c, l->s.line_stat[ids[i]].self));
        sg_wc_pct(b, l->s.line_stat[ids[i]].self, l->s.grand, 9);
        sg_buf_puts(b, "  ");
        sg_wc_place(b, p, ln->filename, ln->line, 50, SG_FIT_LEFT_TAIL);
        const char *text;
        size_t len;
        if (sg_wc_source_line(sg_wc_source_get(&l->src, p, ln->filename), ln->line, &text,
                              &len)) {
            while (len && (*text == ' ' || *text == '\t')) {
                text++;
                len--;
            }
            sg_buf_puts(b, "  ");
            sg_wc_source_text(b, text, len, 60);
        }
        sg_wc_newline(b);
    }
    free(ids);
}

static int run(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err,
               bool per_thread)
{
    ln_ctx l = {.p = p, .o = o, .out = out};
    sg_wc_init(&l.c, p, o);
    sg_wc_sources_init(&l.src);
    uint32_t *tracks = NULL;
    bool *used = NULL;
    int rc = -1;
    if (lines_report(&l))
        goto out;
    size_t nt = sg_profile_ntracks(p), active = 0;
    tracks = sg_wc_tracks_sorted(p);
    used = calloc(nt ? nt : 1, sizeof *used);
    if (!tracks || !used)
        goto out;
    const sg_record *rec = sg_profile_records(p);
    for (size_t i = 0; i < sg_profile_nrecords(p); i++)
        if (rec[i].track < nt && !used[rec[i].track]) {
            used[rec[i].track] = true;
            active++;
        }
    if (per_thread && active > 1) {
        size_t rows = o->max_rows > 0 ? (size_t)o->max_rows / 2 : 7;
        for (size_t i = 0; i < nt; i++) {
            if (!used[tracks[i]])
                continue;
            if (ln_build(&l, tracks[i]))
                goto out;
            thread_lines(&l, tracks[i], rows < 5 ? 5 : rows);
        }
    }
    if (per_thread) {
        sg_buf_printf(out, "\n%zu thread%s traced", active, active == 1 ? "" : "s");
        const char *ev = sg_profile_get_attr(p, "trace_events");
        if (ev)
            sg_buf_printf(out, "; %s events", ev);
        sg_buf_puts(out, "; times exclude the tracer's own measured cost per event\n");
    }
    if (sg_profile_get_attr(p, "trace_incomplete") || sg_profile_oom(p))
        sg_buf_puts(out, "warning: the tracer ran out of memory; some lines were lost\n");
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing line timings");
    free(tracks);
    free(used);
    free(l.hits);
    free(l.span);
    sg_wc_stats_free(&l.s);
    sg_wc_sources_free(&l.src);
    return rc;
}

int sg_write_lines(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    return run(p, o, out, err, false);
}

int sg_write_lines_text(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                        sg_error *err)
{
    return run(p, o, out, err, true);
}
