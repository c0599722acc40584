/* The text report of a function-level traced profile, in cProfile's (pstats') layout:
 * "N function calls (M primitive calls) in S seconds", then ncalls (total/primitive
 * when they differ), tottime, percall, cumtime, percall and filename:lineno(function),
 * builtins as {built-in method time.sleep}; sorted by --sort (default cumulative).
 * Then who calls the hottest functions and what they call, one section per thread
 * when there are several, and a footer.
 *
 * Everything comes from the stack trie (see the conventions in sg_profile.h): calls
 * and self time sit on the node of each call path, cumulative time counts each stack
 * once per function, and a call is primitive when its function does not occur among
 * the node's ancestors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sg_write_common.h"

#define SG_TT_PLACE_COLS 100
#define SG_TT_EDGE_FUNCS 8  /* functions with a callers/callees section */
#define SG_TT_EDGES 6       /* callers or callees listed per function */

typedef struct tt_fn {
    int64_t calls, prim, tot, cum;
} tt_fn;

typedef struct tt_edge {
    uint32_t caller, callee; /* function ids; caller SG_NONE: called from the root */
    int64_t calls, tot, cum;
} tt_edge;

typedef struct tt_ctx {
    const sg_profile *p;
    const sg_write_opts *o;
    sg_wc_ctx c;
    sg_buf *out;
    size_t nf, nn;
    uint32_t *fn_of;   /* node -> function (SG_NONE for the root) */
    bool *recursive;   /* node: its function occurs among its ancestors */
    uint32_t *edge_of; /* node -> edge */
    size_t nedge;
    tt_edge *edges;
    /* per view (a track or all) */
    tt_fn *fn;
    int64_t grand_time, grand_calls, grand_prim;
} tt_ctx;

typedef enum {
    K_CUM, K_TOT, K_CALLS, K_PRIM, K_PERCALL, K_CUMPERCALL, K_NAME, K_FILE, K_LINE, K_NFL
} sort_key;

static const struct {
    const char *name;
    sort_key key;
} sort_names[] = {
    {"cumulative", K_CUM}, {"cumtime", K_CUM},     {"cum", K_CUM},
    {"tottime", K_TOT},    {"time", K_TOT},        {"self", K_TOT},
    {"ncalls", K_CALLS},   {"calls", K_CALLS},     {"pcalls", K_PRIM},
    {"percall", K_PERCALL}, {"cumpercall", K_CUMPERCALL}, {"name", K_NAME},
    {"filename", K_FILE},  {"file", K_FILE},       {"module", K_FILE},
    {"line", K_LINE},      {"nfl", K_NFL},         {"stdname", K_NFL},
};

/* The sort keys, comma-separated, for error messages. */
const char *sg_write_trace_sort_keys(void)
{
    return "cumulative, cumtime, tottime, time, ncalls, calls, pcalls, percall, "
           "cumpercall, name, filename, file, module, line, nfl, stdname";
}

int sg_write_trace_sort_key(const char *name)
{
    if (!name || !*name)
        return K_CUM;
    for (size_t i = 0; i < sizeof sort_names / sizeof sort_names[0]; i++)
        if (strcasecmp(name, sort_names[i].name) == 0)
            return (int)sort_names[i].key;
    return -1;
}

/* ---- aggregation ---- */

static int tt_structure(tt_ctx *t)
{
    const sg_profile *p = t->p;
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_location *loc = sg_profile_locations(p);
    t->fn_of = malloc(t->nn * sizeof *t->fn_of);
    t->recursive = calloc(t->nn, sizeof *t->recursive);
    t->edge_of = malloc(t->nn * sizeof *t->edge_of);
    if (!t->fn_of || !t->recursive || !t->edge_of)
        return -1;
    sg_map idx;
    sg_map_init(&idx);
    size_t cap = 0;
    int rc = 0;
    t->fn_of[0] = SG_NONE;
    t->edge_of[0] = SG_NONE;
    for (size_t n = 1; n < t->nn && !rc; n++) {
        uint32_t f = loc[nodes[n].location].function;
        t->fn_of[n] = f;
        for (uint32_t m = nodes[n].parent; m != SG_ROOT && m != SG_NONE; m = nodes[m].parent)
            if (t->fn_of[m] == f) {
                t->recursive[n] = true;
                break;
            }
        uint32_t caller = t->fn_of[nodes[n].parent];
        uint64_t key = (uint64_t)caller << 32 | f;
        const uint64_t *v = sg_map_get(&idx, key);
        if (v) {
            t->edge_of[n] = (uint32_t)*v;
            continue;
        }
        if (t->nedge == cap) {
            cap = cap ? cap * 2 : 256;
            tt_edge *e = realloc(t->edges, cap * sizeof *e);
            if (!e) {
                rc = -1;
                break;
            }
            t->edges = e;
        }
        if (!sg_map_put(&idx, key, t->nedge)) {
            rc = -1;
            break;
        }
        t->edges[t->nedge] = (tt_edge){.caller = caller, .callee = f};
        t->edge_of[n] = (uint32_t)t->nedge++;
    }
    sg_map_free(&idx);
    return rc;
}

/* Per-function and per-edge numbers of one track, or of one process's tracks, or of
 * everything (SG_NONE for both). */
static int tt_numbers(tt_ctx *t, uint32_t track, uint32_t process)
{
    const sg_profile *p = t->p;
    const sg_node *nodes = sg_profile_nodes(p);
    memset(t->fn, 0, (t->nf ? t->nf : 1) * sizeof *t->fn);
    for (size_t e = 0; e < t->nedge; e++)
        t->edges[e].calls = t->edges[e].tot = t->edges[e].cum = 0;
    t->grand_time = t->grand_calls = t->grand_prim = 0;
    int64_t *self = calloc(t->nn, sizeof *self), *calls = calloc(t->nn, sizeof *calls);
    uint32_t *fstamp = malloc((t->nf ? t->nf : 1) * sizeof *fstamp);
    uint32_t *estamp = malloc((t->nedge ? t->nedge : 1) * sizeof *estamp);
    int rc = -1;
    if (!self || !calls || !fstamp || !estamp)
        goto out;
    size_t nr = sg_profile_nrecords(p), ntr = sg_profile_ntracks(p);
    const sg_record *r = sg_profile_records(p);
    const sg_track *tracks = sg_profile_tracks_c(p);
    for (size_t i = 0; i < nr; i++) {
        if (r[i].node >= t->nn || (track != SG_NONE && r[i].track != track) ||
            (process != SG_NONE && (r[i].track >= ntr || tracks[r[i].track].process != process)))
            continue;
        calls[r[i].node] += r[i].values[0];
        self[r[i].node] += sg_wc_value(&t->c, &r[i]);
    }
    memset(fstamp, 0xff, (t->nf ? t->nf : 1) * sizeof *fstamp);
    memset(estamp, 0xff, (t->nedge ? t->nedge : 1) * sizeof *estamp);
    for (uint32_t n = 1; n < t->nn; n++) {
        uint32_t f = t->fn_of[n], e = t->edge_of[n];
        int64_t v = self[n];
        t->fn[f].calls += calls[n];
        t->fn[f].prim += t->recursive[n] ? 0 : calls[n];
        t->fn[f].tot += v;
        t->edges[e].calls += calls[n];
        t->edges[e].tot += v;
        t->grand_calls += calls[n];
        t->grand_prim += t->recursive[n] ? 0 : calls[n];
        if (!v)
            continue;
        t->grand_time += v;
        for (uint32_t m = n; m != SG_ROOT && m != SG_NONE; m = nodes[m].parent) {
            uint32_t fm = t->fn_of[m], em = t->edge_of[m];
            if (fstamp[fm] != n) {
                fstamp[fm] = n;
                t->fn[fm].cum += v;
            }
            if (estamp[em] != n) {
                estamp[em] = n;
                t->edges[em].cum += v;
            }
        }
    }
    rc = 0;
out:
    free(self);
    free(calls);
    free(fstamp);
    free(estamp);
    return rc;
}

/* ---- ordering ---- */

typedef struct tt_sort {
    const tt_ctx *t;
    sort_key key;
} tt_sort;

static double ratio(int64_t a, int64_t b) { return b ? (double)a / (double)b : 0.0; }

static int cmp_str(const char *a, const char *b) { return strcmp(a, b); }

static int cmp_fn(const void *pa, const void *pb, void *arg)
{
    const tt_sort *sort_state = arg;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const tt_ctx *t = sort_state->t;
    const tt_fn *x = &t->fn[a], *y = &t->fn[b];
    const sg_function *fa = &sg_profile_functions(t->p)[a], *fb = &sg_profile_functions(t->p)[b];
    const char *na = sg_profile_str(t->p, fa->name), *nb = sg_profile_str(t->p, fb->name);
    const char *la = sg_profile_str(t->p, fa->filename), *lb = sg_profile_str(t->p, fb->filename);
    double dx = 0, dy = 0;
    int c = 0;
    switch (sort_state->key) {
    case K_CUM: dx = (double)x->cum, dy = (double)y->cum; break;
    case K_TOT: dx = (double)x->tot, dy = (double)y->tot; break;
    case K_CALLS: dx = (double)x->calls, dy = (double)y->calls; break;
    case K_PRIM: dx = (double)x->prim, dy = (double)y->prim; break;
    case K_PERCALL: dx = ratio(x->tot, x->calls), dy = ratio(y->tot, y->calls); break;
    case K_CUMPERCALL: dx = ratio(x->cum, x->prim), dy = ratio(y->cum, y->prim); break;
    case K_NAME: c = cmp_str(na, nb); break;
    case K_FILE: c = cmp_str(la, lb); break;
    case K_LINE: c = fa->first_line < fb->first_line ? -1 : fa->first_line > fb->first_line; break;
    case K_NFL:
        if (!(c = cmp_str(na, nb)) && !(c = cmp_str(la, lb)))
            c = fa->first_line < fb->first_line ? -1 : fa->first_line > fb->first_line;
        break;
    }
    if (dx != dy)
        return dx > dy ? -1 : 1; /* numbers: largest first */
    if (c)
        return c;
    if (x->cum != y->cum)
        return x->cum > y->cum ? -1 : 1;
    if ((c = cmp_str(la, lb)) || (c = cmp_str(na, nb)))
        return c;
    if (fa->first_line != fb->first_line)
        return fa->first_line < fb->first_line ? -1 : 1;
    return a < b ? -1 : a > b;
}

static uint32_t *tt_order(const tt_ctx *t, sort_key key, size_t *n)
{
    uint32_t *ids = malloc((t->nf ? t->nf : 1) * sizeof *ids);
    *n = 0;
    if (!ids)
        return NULL;
    for (size_t f = 0; f < t->nf; f++)
        if (t->fn[f].calls || t->fn[f].tot || t->fn[f].cum)
            ids[(*n)++] = (uint32_t)f;
    tt_sort how = {t, key};
    qsort_r(ids, *n, sizeof *ids, cmp_fn, &how); /* glibc's, with a context argument */
    return ids;
}

/* ---- output ---- */

/* pstats' function label: "file:line(name)", builtins "{built-in method x}". */
static void label(sg_buf *b, const sg_profile *p, uint32_t f, size_t width)
{
    const sg_function *fn = &sg_profile_functions(p)[f];
    const char *name = sg_wc_func_name(p, f), *file = sg_profile_str(p, fn->filename);
    sg_buf s;
    sg_buf_init(&s);
    size_t len = strlen(name);
    if (strcmp(file, "~") == 0 && fn->first_line == 0) {
        if (len >= 2 && name[0] == '<' && name[len - 1] == '>') {
            sg_buf_putc(&s, '{');
            sg_buf_append(&s, name + 1, len - 2);
            sg_buf_putc(&s, '}');
        } else {
            sg_buf_puts(&s, name);
        }
    } else {
        sg_buf_printf(&s, "%s:%d(%s)", file, (int)fn->first_line, name);
    }
    sg_wc_cell(b, sg_buf_cstr(&s), width, SG_FIT_LEFT_TAIL);
    if (sg_buf_failed(&s))
        b->failed = true;
    sg_buf_free(&s);
}

static void secs(sg_buf *b, double ns) { sg_buf_printf(b, " %8.3f", ns / 1e9); }

static void ncalls(sg_buf *b, int64_t calls, int64_t prim)
{
    char tmp[48];
    if (calls != prim)
        snprintf(tmp, sizeof tmp, "%lld/%lld", (long long)calls, (long long)prim);
    else
        snprintf(tmp, sizeof tmp, "%lld", (long long)calls);
    sg_buf_printf(b, "%9s", tmp);
}

static void table(tt_ctx *t, const uint32_t *ids, size_t n, size_t rows)
{
    sg_buf *b = t->out;
    double spu = t->c.sec_per_unit * 1e9; /* ns per unit of the time column */
    sg_buf_puts(b, "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n");
    for (size_t i = 0; i < n && i < rows; i++) {
        const tt_fn *x = &t->fn[ids[i]];
        ncalls(b, x->calls, x->prim);
        secs(b, (double)x->tot * spu);
        secs(b, ratio(x->tot, x->calls) * spu);
        secs(b, (double)x->cum * spu);
        secs(b, ratio(x->cum, x->prim) * spu);
        sg_buf_putc(b, ' ');
        label(b, t->p, ids[i], SG_TT_PLACE_COLS);
        sg_wc_newline(b);
    }
    if (n > rows)
        sg_buf_printf(b, "   ... %zu more functions\n", n - rows);
}

static int cmp_edge_cum(const void *pa, const void *pb)
{
    const tt_edge *x = *(const tt_edge *const *)pa, *y = *(const tt_edge *const *)pb;
    if (x->cum != y->cum)
        return x->cum > y->cum ? -1 : 1;
    if (x->calls != y->calls)
        return x->calls > y->calls ? -1 : 1;
    return x->caller != y->caller ? (x->caller < y->caller ? -1 : 1)
                                  : (x->callee < y->callee ? -1 : x->callee > y->callee);
}

/* The callers (callers = true) or callees of function f. -1 when out of memory. */
static int edge_list(tt_ctx *t, uint32_t f, bool callers)
{
    sg_buf *b = t->out;
    double spu = t->c.sec_per_unit * 1e9;
    const tt_edge **list = malloc((t->nedge ? t->nedge : 1) * sizeof *list);
    if (!list)
        return -1;
    size_t k = 0;
    for (size_t e = 0; e < t->nedge; e++) {
        const tt_edge *ed = &t->edges[e];
        if ((callers ? ed->callee : ed->caller) == f && ed->calls + ed->cum + ed->tot > 0)
            list[k++] = ed;
    }
    qsort(list, k, sizeof *list, cmp_edge_cum);
    sg_buf_puts(b, callers ? "    called by" : "    calls");
    if (!k)
        sg_buf_puts(b, callers ? ": (nothing traced)" : ": (nothing traced)");
    sg_wc_newline(b);
    for (size_t i = 0; i < k && i < SG_TT_EDGES; i++) {
        const tt_edge *ed = list[i];
        sg_buf_printf(b, "      %9lld", (long long)ed->calls);
        secs(b, (double)ed->tot * spu);
        secs(b, (double)ed->cum * spu);
        sg_buf_puts(b, "  ");
        uint32_t other = callers ? ed->caller : ed->callee;
        if (other == SG_NONE)
            sg_buf_puts(b, "(start of tracing)");
        else
            label(b, t->p, other, SG_TT_PLACE_COLS);
        sg_wc_newline(b);
    }
    if (k > SG_TT_EDGES)
        sg_buf_printf(b, "      ... %zu more\n", k - SG_TT_EDGES);
    free(list);
    return 0;
}

static int callers_callees(tt_ctx *t, const uint32_t *ids, size_t n)
{
    sg_buf *b = t->out;
    sg_buf_puts(b, "\n  callers and callees of the first functions above"
                   " (ncalls, tottime, cumtime)\n");
    for (size_t i = 0; i < n && i < SG_TT_EDGE_FUNCS; i++) {
        sg_buf_puts(b, "\n  ");
        label(b, t->p, ids[i], SG_TT_PLACE_COLS);
        sg_wc_newline(b);
        if (edge_list(t, ids[i], true) || edge_list(t, ids[i], false))
            return -1;
    }
    return 0;
}

static void header(tt_ctx *t)
{
    const sg_profile *p = t->p;
    const sg_profile_meta *m = sg_profile_meta_get(p);
    sg_buf *b = t->out;
    sg_wc_color(b, t->o->color, "1");
    sg_buf_puts(b, "spyglass profile");
    sg_wc_color(b, t->o->color, "0");
    sg_buf_printf(b, " (traced, functions, %s clock)\n",
                  m->clock == SG_CLOCK_CPU ? "cpu" : "wall");
    static const char *const keys[] = {"command", "python"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = sg_profile_get_attr(p, keys[i]);
        if (!v && i == 1 && sg_profile_nprocesses(p))
            v = sg_profile_str(p, sg_profile_processes_c(p)[0].python_version);
        if (v && *v) {
            sg_buf_printf(b, "  %-9s ", keys[i]);
            sg_wc_cell(b, v, 200, SG_FIT_NONE);
            sg_wc_newline(b);
        }
    }
    sg_buf_printf(b, "  %-9s %.3f s\n", "duration", (double)m->duration_ns / 1e9);
}

static void summary(tt_ctx *t, const char *indent)
{
    sg_buf_printf(t->out, "%s%lld function calls", indent, (long long)t->grand_calls);
    if (t->grand_prim != t->grand_calls)
        sg_buf_printf(t->out, " (%lld primitive calls)", (long long)t->grand_prim);
    sg_buf_printf(t->out, " in %.3f seconds\n",
                  (double)t->grand_time * t->c.sec_per_unit);
}

static const char *sort_title(sort_key k)
{
    switch (k) {
    case K_TOT: return "internal time";
    case K_CALLS: return "call count";
    case K_PRIM: return "primitive call count";
    case K_PERCALL: return "internal time per call";
    case K_CUMPERCALL: return "cumulative time per call";
    case K_NAME: return "function name";
    case K_FILE: return "file name";
    case K_LINE: return "line number";
    case K_NFL: return "name/file/line";
    default: return "cumulative time";
    }
}

static void process_title(tt_ctx *t, uint32_t process)
{
    const sg_process *pr = &sg_profile_processes_c(t->p)[process];
    sg_buf *b = t->out;
    sg_wc_color(b, t->o->color, "1");
    sg_buf_printf(b, "process %u", (unsigned)pr->pid);
    sg_wc_color(b, t->o->color, "0");
    if (pr->cmdline) {
        sg_buf_puts(b, ": ");
        sg_wc_cell(b, sg_profile_str(t->p, pr->cmdline), 100, SG_FIT_NONE);
    }
    sg_wc_newline(b);
}

static void thread_title(tt_ctx *t, uint32_t track)
{
    const sg_profile *p = t->p;
    const sg_track *tr = &sg_profile_tracks_c(p)[track];
    sg_buf *b = t->out;
    sg_wc_color(b, t->o->color, "1");
    sg_buf_puts(b, "thread ");
    if (tr->name) {
        sg_wc_cell(b, sg_profile_str(p, tr->name), 48, SG_FIT_NONE);
        sg_buf_putc(b, ' ');
    }
    sg_buf_printf(b, "(TID %llu", (unsigned long long)tr->tid);
    if (sg_profile_nprocesses(p) > 1)
        sg_buf_printf(b, ", PID %u", (unsigned)sg_profile_processes_c(p)[tr->process].pid);
    sg_buf_puts(b, tr->is_main ? ", main)" : ")");
    sg_wc_color(b, t->o->color, "0");
    sg_wc_newline(b);
}

int sg_write_trace_table(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                         sg_error *err)
{
    tt_ctx t = {.p = p, .o = o, .out = out};
    sg_wc_init(&t.c, p, o);
    int key = sg_write_trace_sort_key(o->sort);
    if (key < 0)
        return sg_fail(err, SG_E_ARG, 0, "unknown sort key \"%.64s\" (known: %s)", o->sort,
                       sg_write_trace_sort_keys());
    t.nf = sg_profile_nfunctions(p);
    t.nn = sg_profile_nnodes(p);
    t.fn = malloc((t.nf ? t.nf : 1) * sizeof *t.fn);
    uint32_t *tracks = sg_wc_tracks_sorted(p), *ids = NULL;
    size_t rows = o->max_rows > 0 ? (size_t)o->max_rows * 2 : 30, n = 0, nt = 0, active = 0;
    int rc = -1;
    if (!t.fn || !tracks || tt_structure(&t))
        goto out;
    /* threads with anything recorded */
    nt = sg_profile_ntracks(p);
    const sg_record *rec = sg_profile_records(p);
    bool *used = calloc(nt ? nt : 1, sizeof *used);
    if (!used)
        goto out;
    for (size_t i = 0; i < sg_profile_nrecords(p); i++)
        if (rec[i].track < nt && !used[rec[i].track]) {
            used[rec[i].track] = true;
            active++;
        }
    header(&t);
    if (tt_numbers(&t, SG_NONE, SG_NONE) || !(ids = tt_order(&t, (sort_key)key, &n))) {
        free(used);
        goto out;
    }
    sg_buf_putc(out, '\n');
    summary(&t, "  ");
    sg_buf_printf(out, "  ordered by %s%s\n\n", sort_title((sort_key)key),
                  active > 1 ? ", all threads" : "");
    table(&t, ids, n, rows);
    if (callers_callees(&t, ids, n < rows ? n : rows)) {
        free(used);
        goto out;
    }
    /* one section per process when there are several, one per thread within a
     * process that ran several (tracks are sorted by pid, then tid) */
    const sg_track *trk = sg_profile_tracks_c(p);
    size_t nprocs = sg_profile_nprocesses(p), procs_active = 0;
    uint32_t *threads_of = calloc(nprocs ? nprocs : 1, sizeof *threads_of);
    if (!threads_of) {
        free(used);
        goto out;
    }
    for (size_t i = 0; i < nt; i++)
        if (used[i] && trk[i].process < nprocs && !threads_of[trk[i].process]++)
            procs_active++;
    uint32_t last_proc = SG_NONE;
    for (size_t i = 0; i < nt && active > 1; i++) {
        uint32_t tr = tracks[i], proc = trk[tr].process;
        if (!used[tr])
            continue;
        if (procs_active > 1 && proc != last_proc) {
            last_proc = proc;
            free(ids);
            ids = NULL;
            if (tt_numbers(&t, SG_NONE, proc) || !(ids = tt_order(&t, (sort_key)key, &n)))
                goto sections_out;
            sg_buf_putc(out, '\n');
            process_title(&t, proc);
            summary(&t, "  ");
            table(&t, ids, n, rows / 2 > 5 ? rows / 2 : 5);
        }
        if (procs_active > 1 && threads_of[proc] < 2)
            continue;
        free(ids);
        ids = NULL;
        if (tt_numbers(&t, tr, SG_NONE) || !(ids = tt_order(&t, (sort_key)key, &n)))
            goto sections_out;
        sg_buf_putc(out, '\n');
        thread_title(&t, tr);
        summary(&t, "  ");
        table(&t, ids, n, rows / 3 > 5 ? rows / 3 : 5);
    }
    free(threads_of);
    free(used);
    if (procs_active > 1)
        sg_buf_printf(out, "\n%zu processes traced; ", procs_active);
    else
        sg_buf_putc(out, '\n');
    sg_buf_printf(out, "%zu thread%s traced", active, active == 1 ? "" : "s");
    const char *ev = sg_profile_get_attr(p, "trace_events");
    if (ev)
        sg_buf_printf(out, "; %s events", ev);
    sg_buf_puts(out, "; times exclude the tracer's own measured cost per event\n");
    if (sg_profile_get_attr(p, "trace_incomplete") || sg_profile_oom(p))
        sg_buf_puts(out, "warning: the tracer ran out of memory; some calls were lost\n");
    rc = 0;
    goto out;
sections_out:
    free(threads_of);
    free(used);
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing the call table");
    free(ids);
    free(tracks);
    free(t.fn);
    free(t.fn_of);
    free(t.recursive);
    free(t.edge_of);
    free(t.edges);
    return rc;
}
