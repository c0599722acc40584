/* The default report, modelled on py-spy top and pyinstrument's console output: a
 * header, the hottest functions and lines over all threads, then one short section per
 * thread (its share of the run, how often it was idle, waiting for the GIL or holding
 * it, and its own hottest functions and lines), and a footer with the sample count, the
 * sampler's error rate and its tick accounting, so a reader can judge how far to trust
 * the numbers.
 *
 * Percentages in a table are of that table's total (all threads, or the one thread).
 * Names are escaped (sg_wc_cell) and cut to fixed widths so one odd name cannot break
 * the alignment or the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

#define SG_NAME_MAX 48   /* function column, columns */
#define SG_PLACE_MAX 60  /* file:line column */
#define SG_SOURCE_COLS 60

typedef struct text_ctx {
    const sg_profile *p;
    const sg_write_opts *o;
    sg_wc_ctx c;
    sg_buf *out;
    sg_wc_sources src;
} text_ctx;

static void title(text_ctx *t, const char *s)
{
    sg_wc_color(t->out, t->o->color, "1");
    sg_buf_puts(t->out, s);
    sg_wc_color(t->out, t->o->color, "0");
}

/* A share, coloured by heat when colour is on. */
static void heat_pct(text_ctx *t, int64_t part, int64_t whole)
{
    double share = whole ? (double)part / (double)whole : 0;
    const char *sgr = share >= 0.10 ? "31" : share >= 0.03 ? "33" : "";
    if (*sgr)
        sg_wc_color(t->out, t->o->color, sgr);
    sg_wc_pct(t->out, part, whole, 8);
    if (*sgr)
        sg_wc_color(t->out, t->o->color, "0");
}

static size_t clamp_cols(size_t cols, size_t lo, size_t hi)
{
    return cols < lo ? lo : cols > hi ? hi : cols;
}

static void table_functions(text_ctx *t, const sg_wc_stats *s, size_t rows)
{
    const sg_profile *p = t->p;
    sg_buf *b = t->out;
    size_t n;
    uint32_t *ids = sg_wc_funcs_by_self(&t->c, s, &n);
    if (!ids) {
        b->failed = true;
        return;
    }
    if (n > rows)
        n = rows;
    size_t w = 8;
    for (size_t i = 0; i < n; i++)
        w = clamp_cols(sg_wc_cols(sg_wc_func_name(p, ids[i])), w, SG_NAME_MAX);
    sg_buf_puts(b, "    self%   self s   total%  total s  ");
    sg_wc_cell(b, "function", w, SG_FIT_LEFT);
    sg_buf_puts(b, "  defined at");
    sg_wc_newline(b);
    for (size_t i = 0; i < n; i++) {
        const sg_wc_stat *st = &s->func[ids[i]];
        const sg_function *f = &sg_profile_functions(p)[ids[i]];
        sg_buf_puts(b, " ");
        heat_pct(t, st->self, s->grand);
        sg_wc_secs(b, &t->c, st->self, 9);
        sg_wc_pct(b, st->total, s->grand, 9);
        sg_wc_secs(b, &t->c, st->total, 9);
        sg_buf_puts(b, "  ");
        sg_wc_cell(b, sg_wc_func_name(p, ids[i]), w, SG_FIT_LEFT);
        sg_buf_puts(b, "  ");
        sg_wc_place(b, p, f->filename, f->first_line, SG_PLACE_MAX, SG_FIT_NONE);
        sg_wc_newline(b);
    }
    if (!n)
        sg_buf_puts(b, "  (no samples)\n");
    free(ids);
}

static void source_text(text_ctx *t, uint32_t file, int32_t line)
{
    const sg_wc_source *src = sg_wc_source_get(&t->src, t->p, file);
    const char *text;
    size_t len;
    if (!sg_wc_source_line(src, line, &text, &len))
        return;
    while (len && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    sg_buf_puts(t->out, "  ");
    sg_wc_source_text(t->out, text, len, SG_SOURCE_COLS);
}

static void table_lines(text_ctx *t, const sg_wc_stats *s, size_t rows)
{
    const sg_profile *p = t->p;
    sg_buf *b = t->out;
    size_t n;
    uint32_t *ids = sg_wc_lines_by_self(&t->c, s, &n);
    if (!ids) {
        b->failed = true;
        return;
    }
    if (n > rows)
        n = rows;
    size_t wl = 4, wf = 8;
    bool any_source = false;
    for (size_t i = 0; i < n; i++) {
        const sg_wc_line *l = &s->line[ids[i]];
        const char *text;
        size_t len;
        any_source = any_source ||
                     sg_wc_source_line(sg_wc_source_get(&t->src, p, l->filename), l->line,
                                       &text, &len);
        char num[16];
        size_t cols = sg_wc_cols(sg_profile_str(p, l->filename)) + 1 +
                      (size_t)snprintf(num, sizeof num, "%d", (int)l->line);
        wl = clamp_cols(cols, wl, SG_PLACE_MAX);
        wf = clamp_cols(sg_wc_cols(sg_wc_func_name(p, l->function)), wf, SG_NAME_MAX);
    }
    sg_buf_puts(b, "    self%   self s   total%  ");
    sg_wc_cell(b, "line", wl, SG_FIT_LEFT);
    sg_buf_puts(b, "  ");
    sg_wc_cell(b, "function", wf, SG_FIT_LEFT);
    if (any_source)
        sg_buf_puts(b, "  source");
    sg_wc_newline(b);
    for (size_t i = 0; i < n; i++) {
        const sg_wc_line *l = &s->line[ids[i]];
        const sg_wc_stat *st = &s->line_stat[ids[i]];
        sg_buf_puts(b, " ");
        heat_pct(t, st->self, s->grand);
        sg_wc_secs(b, &t->c, st->self, 9);
        sg_wc_pct(b, st->total, s->grand, 9);
        sg_buf_puts(b, "  ");
        sg_wc_place(b, p, l->filename, l->line, wl, SG_FIT_LEFT_TAIL);
        sg_buf_puts(b, "  ");
        sg_wc_cell(b, sg_wc_func_name(p, l->function), wf, SG_FIT_LEFT);
        source_text(t, l->filename, l->line);
        sg_wc_newline(b);
    }
    free(ids);
}

static const char *attr_or(const sg_profile *p, const char *key, uint32_t fallback)
{
    const char *v = sg_profile_get_attr(p, key);
    return v ? v : sg_profile_str(p, fallback);
}

static void kv(text_ctx *t, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    sg_buf_printf(t->out, "  %-9s ", key);
    sg_wc_cell(t->out, value, 200, SG_FIT_NONE);
    sg_wc_newline(t->out);
}

static void header(text_ctx *t, int64_t all_values)
{
    const sg_profile *p = t->p;
    const sg_profile_meta *m = sg_profile_meta_get(p);
    const sg_process *pr = sg_profile_nprocesses(p) ? sg_profile_processes_c(p) : NULL;
    static const char *const modes[] = {"sampling", "traced, functions", "traced, lines"};
    char line[160];
    title(t, "spyglass profile");
    sg_buf_printf(t->out, " (%s)\n", (unsigned)m->mode <= 2 ? modes[m->mode] : "unknown");
    kv(t, "command", attr_or(p, "command", pr ? pr->cmdline : 0));
    kv(t, "python", attr_or(p, "python", pr ? pr->python_version : 0));
    snprintf(line, sizeof line, "%.2f s", (double)m->duration_ns / 1e9);
    kv(t, "duration", line);
    if (t->c.sampled) {
        snprintf(line, sizeof line, "%g Hz, clock %s, view %s", m->rate_hz,
                 m->clock == SG_CLOCK_CPU ? "cpu" : "wall", sg_wc_view_name(t->c.view));
        kv(t, "rate", line);
        snprintf(line, sizeof line, "%lld", (long long)all_values);
        kv(t, "samples", line);
    }
}

typedef struct thread_state {
    int64_t all, idle, gilwait, gil;
} thread_state;

static thread_state state_of(const text_ctx *t, uint32_t track)
{
    thread_state s = {0, 0, 0, 0};
    size_t nr = sg_profile_nrecords(t->p);
    const sg_record *r = sg_profile_records(t->p);
    for (size_t i = 0; i < nr; i++) {
        if (track != SG_NONE && r[i].track != track)
            continue;
        int64_t v = r[i].values[t->c.col];
        s.all += v;
        s.idle += r[i].flags & SG_F_ONCPU ? 0 : v;
        s.gilwait += r[i].flags & SG_F_GILWAIT ? v : 0;
        s.gil += r[i].flags & SG_F_GIL ? v : 0;
    }
    return s;
}

static void thread_title(text_ctx *t, uint32_t track, const thread_state *ts, int64_t all)
{
    const sg_profile *p = t->p;
    const sg_track *tr = &sg_profile_tracks_c(p)[track];
    sg_buf *b = t->out;
    sg_wc_color(b, t->o->color, "1");
    sg_buf_puts(b, "thread ");
    if (tr->name) {
        sg_wc_cell(b, sg_profile_str(p, tr->name), SG_NAME_MAX, SG_FIT_NONE);
        sg_buf_putc(b, ' ');
    }
    sg_buf_printf(b, "(TID %llu", (unsigned long long)tr->tid);
    if (sg_profile_nprocesses(p) > 1)
        sg_buf_printf(b, ", PID %u", (unsigned)sg_profile_processes_c(p)[tr->process].pid);
    sg_buf_puts(b, tr->is_main ? ", main)" : ")");
    sg_wc_color(b, t->o->color, "0");
    sg_buf_puts(b, ": ");
    sg_wc_pct(b, ts->all, all, 0);
    sg_buf_puts(b, " of samples");
    if (t->c.sampled) {
        sg_buf_puts(b, "; idle ");
        sg_wc_pct(b, ts->idle, ts->all, 0);
        if (sg_wc_no_gil(p)) {
            sg_buf_puts(b, ", GIL n/a (free-threaded)");
        } else {
            sg_buf_puts(b, ", waiting for the GIL ");
            sg_wc_pct(b, ts->gilwait, ts->all, 0);
            sg_buf_puts(b, ", holding the GIL ");
            sg_wc_pct(b, ts->gil, ts->all, 0);
        }
    }
    sg_wc_newline(b);
}

/* The heading of one process's threads: PID, command line and its share of samples.
 * tracks[0..n) are in display order, this process's first. */
static void process_title(text_ctx *t, uint32_t proc, const uint32_t *tracks, size_t n,
                          int64_t all)
{
    const sg_profile *p = t->p;
    const sg_process *pr = &sg_profile_processes_c(p)[proc];
    int64_t mine = 0;
    size_t threads = 0;
    for (size_t i = 0; i < n && sg_profile_tracks_c(p)[tracks[i]].process == proc; i++) {
        int64_t v = state_of(t, tracks[i]).all;
        mine += v;
        threads += v != 0;
    }
    sg_buf *b = t->out;
    sg_wc_color(b, t->o->color, "1");
    sg_buf_printf(b, "process %u", (unsigned)pr->pid);
    sg_wc_color(b, t->o->color, "0");
    sg_buf_puts(b, ": ");
    sg_wc_pct(b, mine, all, 0);
    sg_buf_printf(b, " of samples, %zu thread%s", threads, threads == 1 ? "" : "s");
    if (pr->python_version) {
        sg_buf_puts(b, ", Python ");
        sg_wc_cell(b, sg_profile_str(p, pr->python_version), 32, SG_FIT_NONE);
    }
    sg_wc_newline(b);
    if (pr->cmdline) {
        sg_buf_puts(b, "  ");
        sg_wc_cell(b, sg_profile_str(p, pr->cmdline), 200, SG_FIT_NONE);
        sg_wc_newline(b);
    }
}

static void footer(text_ctx *t, int64_t all_values, size_t nthreads)
{
    const sg_profile *p = t->p;
    const sg_profile_meta *m = sg_profile_meta_get(p);
    sg_buf *b = t->out;
    uint64_t ok = 0, failed = 0;
    for (size_t i = 0; i < sg_profile_nprocesses(p); i++) {
        ok += sg_profile_processes_c(p)[i].samples_ok;
        failed += sg_profile_processes_c(p)[i].samples_failed;
    }
    sg_buf_printf(b, "%lld %s in %zu thread%s", (long long)all_values,
                  t->c.sampled ? "samples" : "units", nthreads, nthreads == 1 ? "" : "s");
    if (t->c.sampled) {
        if (ok + failed)
            sg_buf_printf(b, "; errors %.2f%% (%llu of %llu stack reads failed)",
                          100.0 * (double)failed / (double)(ok + failed),
                          (unsigned long long)failed, (unsigned long long)(ok + failed));
        else
            sg_buf_puts(b, "; errors n/a");
        if (m->ticks_requested)
            sg_buf_printf(b, "; ticks %llu of %llu requested (%.1f%%)",
                          (unsigned long long)m->ticks_taken,
                          (unsigned long long)m->ticks_requested,
                          100.0 * (double)m->ticks_taken / (double)m->ticks_requested);
    }
    sg_wc_newline(b);
    if (sg_profile_oom(p))
        sg_buf_puts(b, "warning: the profiler ran out of memory; some samples were lost\n");
}

/* Tables for one track (SG_NONE: all). -1 when out of memory. */
static int tables(text_ctx *t, uint32_t track, size_t rows, const char *suffix)
{
    sg_wc_stats s;
    if (sg_wc_stats_build(&t->c, track, &s)) {
        sg_wc_stats_free(&s);
        return -1;
    }
    sg_buf_puts(t->out, "  ");
    title(t, "hottest functions");
    sg_buf_puts(t->out, suffix);
    sg_wc_newline(t->out);
    table_functions(t, &s, rows);
    if (s.grand) {
        sg_buf_puts(t->out, "\n  ");
        title(t, "hottest lines");
        sg_buf_puts(t->out, suffix);
        sg_wc_newline(t->out);
        table_lines(t, &s, rows);
    }
    sg_wc_stats_free(&s);
    return 0;
}

int sg_write_text(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    if (sg_profile_meta_get(p)->mode == SG_MODE_TRACE)
        return sg_write_trace_table(p, o, out, err);
    if (sg_profile_meta_get(p)->mode == SG_MODE_LINES)
        return sg_write_lines_text(p, o, out, err);
    text_ctx t = {.p = p, .o = o, .out = out};
    sg_wc_init(&t.c, p, o);
    sg_wc_sources_init(&t.src);
    size_t rows = o->max_rows > 0 ? (size_t)o->max_rows : 15;
    size_t thread_rows = rows / 3 > 5 ? rows / 3 : rows < 5 ? rows : 5;
    uint32_t *tracks = sg_wc_tracks_sorted(p);
    int rc = -1;
    if (!tracks)
        goto out;
    thread_state all = state_of(&t, SG_NONE);
    size_t nt = sg_profile_ntracks(p), active = 0;
    for (size_t i = 0; i < nt; i++)
        active += state_of(&t, tracks[i]).all != 0;
    header(&t, all.all);
    sg_buf_putc(out, '\n');
    if (tables(&t, SG_NONE, rows, active > 1 ? " (all threads)" : ""))
        goto out;
    uint32_t shown_process = SG_NONE;
    for (size_t i = 0; i < nt; i++) {
        thread_state ts = state_of(&t, tracks[i]);
        if (!ts.all)
            continue;
        uint32_t proc = sg_profile_tracks_c(p)[tracks[i]].process;
        if (sg_profile_nprocesses(p) > 1 && proc != shown_process) {
            shown_process = proc;
            sg_buf_putc(out, '\n');
            process_title(&t, proc, tracks + i, nt - i, all.all);
        }
        sg_buf_putc(out, '\n');
        thread_title(&t, tracks[i], &ts, all.all);
        if (active > 1 && tables(&t, tracks[i], thread_rows, ""))
            goto out;
    }
    sg_buf_putc(out, '\n');
    footer(&t, all.all, active);
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing the text report");
    free(tracks);
    sg_wc_sources_free(&t.src);
    return rc;
}
