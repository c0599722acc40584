/* The callgrind format of Valgrind, read by KCachegrind/QCachegrind and
 * callgrind_annotate (valgrind.org/docs/manual/cl-format.html).
 *
 * Positions are source lines. A function's cost lines give its self cost per line
 * (samples, or nanoseconds for traced profiles); a call is written at the caller's
 * line as "calls=N TARGETLINE" followed by the call's inclusive cost. That cost counts
 * only the callee's primitive (non-recursive) frames, so a function's incoming calls
 * add up to its total and recursion never inflates it (see write_calls.c). For
 * sampled profiles N is the number of samples with that call on the stack: sampling
 * cannot count calls.
 *
 * Every part has a synthetic function "[root]" that calls the stacks' outermost
 * frames. callgrind_annotate takes a called function's inclusive cost from its
 * incoming calls only, so without it a function that is sometimes the outermost frame
 * (an import run by the interpreter's start-up, a thread's entry) and sometimes called
 * would lose its outermost stacks; "[root]" also gives KCachegrind one entry point.
 *
 * Threads: callgrind_annotate reads one part per file (its manual says so), so by
 * default every thread goes into one part; with per_thread each thread is a part of
 * its own ("part:", "thread:" headers), which KCachegrind offers to select.
 * Names use callgrind's compression ("fn=(ID) name" once, then "fn=(ID)"), which also
 * keeps a name that looks like "(3)" from being read as a reference. Names are data:
 * control characters (newlines included) are escaped, so they cannot start a line. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

typedef struct cg_entry {
    uint32_t func;   /* the function whose cost this is */
    uint32_t kind;   /* 0 self cost, 1 a call */
    int32_t line;    /* where in func */
    uint32_t callee; /* function called (kind 1) */
    int64_t calls, cost;
} cg_entry;

typedef struct cg {
    const sg_profile *p;
    const sg_write_opts *o;
    sg_wc_ctx c;
    sg_buf *out;
    sg_buf names;
    size_t *name_off;
    uint32_t *fl_id; /* string id -> compressed file id (0 = not yet) */
    uint32_t *fn_id; /* function id -> compressed name id */
    uint32_t nfl, nfn;
    uint32_t root; /* the synthetic "[root]": one past the last function id */
    uint32_t root_fl; /* its compressed file id, 0 until written */
    cg_entry *e;
    size_t ne, cape;
} cg;

static int cmp_entry(const void *a, const void *b)
{
    const cg_entry *x = a, *y = b;
    if (x->func != y->func)
        return x->func < y->func ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->callee < y->callee ? -1 : x->callee > y->callee;
}

static void put_name(cg *g, const char *s, size_t len)
{
    sg_wc_escape(g->out, s, len);
}

static void put_file(cg *g, const char *spec, uint32_t file)
{
    const char *s = sg_profile_str(g->p, file);
    size_t len = sg_profile_str_len(g->p, file);
    if (g->fl_id[file]) {
        sg_buf_printf(g->out, "%s=(%" PRIu32 ")\n", spec, g->fl_id[file]);
        return;
    }
    g->fl_id[file] = ++g->nfl;
    sg_buf_printf(g->out, "%s=(%" PRIu32 ") ", spec, g->fl_id[file]);
    if (g->o->relative_paths)
        while (len && *s == '/')
            s++, len--;
    if (!len)
        s = "<unknown>", len = 9;
    put_name(g, s, len);
    sg_buf_putc(g->out, '\n');
}

static void put_root(cg *g)
{
    if (g->root_fl) {
        sg_buf_printf(g->out, "fl=(%" PRIu32 ")\n", g->root_fl);
    } else {
        g->root_fl = ++g->nfl;
        sg_buf_printf(g->out, "fl=(%" PRIu32 ") [spyglass]\n", g->root_fl);
    }
    if (g->fn_id[g->root]) {
        sg_buf_printf(g->out, "fn=(%" PRIu32 ")\n", g->fn_id[g->root]);
    } else {
        g->fn_id[g->root] = ++g->nfn;
        sg_buf_printf(g->out, "fn=(%" PRIu32 ") [root]\n", g->fn_id[g->root]);
    }
}

static void put_fn(cg *g, const char *spec, uint32_t f)
{
    if (g->fn_id[f]) {
        sg_buf_printf(g->out, "%s=(%" PRIu32 ")\n", spec, g->fn_id[f]);
        return;
    }
    g->fn_id[f] = ++g->nfn;
    sg_buf_printf(g->out, "%s=(%" PRIu32 ") ", spec, g->fn_id[f]);
    const char *name = g->names.data + g->name_off[f];
    put_name(g, name, strlen(name));
    sg_buf_putc(g->out, '\n');
}

static bool push(cg *g, cg_entry e)
{
    if (g->ne == g->cape) {
        size_t cap = g->cape ? g->cape * 2 : 256;
        cg_entry *q = realloc(g->e, cap * sizeof *q);
        if (!q)
            return false;
        g->e = q;
        g->cape = cap;
    }
    g->e[g->ne++] = e;
    return true;
}

/* Self costs and calls of one part, merged per (function, line, callee). */
static int collect(cg *g, uint32_t track, int64_t *grand, int64_t *lines)
{
    const sg_profile *p = g->p;
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_location *loc = sg_profile_locations(p);
    sg_wc_calls k;
    if (sg_wc_calls_build(&g->c, track, &k))
        return -1;
    g->ne = 0;
    *grand = k.total[SG_ROOT];
    *lines = k.total[SG_ROOT] - k.self[SG_ROOT]; /* an empty stack has no line */
    int rc = -1;
    for (size_t n = 1; n < k.n; n++) {
        const sg_location *l = &loc[nodes[n].location];
        if (k.self[n] && !push(g, (cg_entry){k.func[n], 0, l->line, 0, 0, k.self[n]}))
            goto out;
        uint32_t parent = nodes[n].parent;
        if (!k.total[n] && !k.calls[n])
            continue;
        int64_t cost = k.primitive[n] ? k.total[n] : 0;
        uint32_t caller = parent == SG_ROOT ? g->root : k.func[parent];
        int32_t at = parent == SG_ROOT ? 0 : loc[nodes[parent].location].line;
        if (!push(g, (cg_entry){caller, 1, at, k.func[n], k.calls[n], cost}))
            goto out;
    }
    if (g->ne)
        qsort(g->e, g->ne, sizeof *g->e, cmp_entry);
    size_t w = 0;
    for (size_t i = 0; i < g->ne; i++) {
        if (w && cmp_entry(&g->e[w - 1], &g->e[i]) == 0) {
            g->e[w - 1].calls += g->e[i].calls;
            g->e[w - 1].cost += g->e[i].cost;
        } else {
            g->e[w++] = g->e[i];
        }
    }
    g->ne = w;
    rc = 0;
out:
    sg_wc_calls_free(&k);
    return rc;
}

static const char *event_name(const cg *g) { return g->c.sampled ? "samples" : "ns"; }

static void part_header(cg *g, uint32_t track, unsigned part, int64_t grand)
{
    const sg_profile *p = g->p;
    const char *cmd = sg_profile_get_attr(p, "command");
    const sg_process *pr = sg_profile_processes_c(p);
    if (track != SG_NONE) {
        const sg_track *t = &sg_profile_tracks_c(p)[track];
        sg_buf_printf(g->out, "pid: %" PRIu32 "\n", pr[t->process].pid);
    } else if (sg_profile_nprocesses(p) == 1) {
        sg_buf_printf(g->out, "pid: %" PRIu32 "\n", pr[0].pid);
    }
    if (cmd) {
        sg_buf_puts(g->out, "cmd: ");
        put_name(g, cmd, strlen(cmd));
        sg_buf_putc(g->out, '\n');
    }
    if (track != SG_NONE) {
        const sg_track *t = &sg_profile_tracks_c(p)[track];
        sg_buf_printf(g->out, "part: %u\nthread: %" PRIu64 "\ndesc: Thread: ", part, t->tid);
        sg_buf tmp;
        sg_buf_init(&tmp);
        sg_wc_track_label(&tmp, p, track);
        put_name(g, tmp.data ? tmp.data : "", tmp.len);
        sg_buf_free(&tmp);
        sg_buf_putc(g->out, '\n');
    }
    sg_buf_printf(g->out, "desc: View: %s\n", sg_wc_view_name(g->c.view));
    sg_buf_puts(g->out, "positions: line\n");
    if (g->c.sampled && g->c.sec_per_unit > 0)
        sg_buf_printf(g->out, "event: samples : Samples (one every %.3f ms)\n",
                      g->c.sec_per_unit * 1e3);
    else if (g->c.sampled)
        sg_buf_puts(g->out, "event: samples : Samples\n");
    else
        sg_buf_puts(g->out, "event: ns : Time (nanoseconds)\n");
    sg_buf_printf(g->out, "events: %s\nsummary: %" PRId64 "\n\n", event_name(g), grand);
}

static void part_body(cg *g)
{
    const sg_function *fn = sg_profile_functions(g->p);
    uint32_t cur = SG_NONE, file = SG_NONE;
    for (size_t i = 0; i < g->ne; i++) {
        const cg_entry *e = &g->e[i];
        if (e->func != cur) {
            if (cur != SG_NONE)
                sg_buf_putc(g->out, '\n');
            cur = e->func;
            if (cur == g->root) {
                put_root(g);
                file = SG_NONE;
            } else {
                if (fn[cur].filename != file) {
                    file = fn[cur].filename;
                    put_file(g, "fl", file);
                }
                put_fn(g, "fn", cur);
            }
        }
        int line = e->line > 0 ? e->line : 0;
        if (e->kind == 0) {
            sg_buf_printf(g->out, "%d %" PRId64 "\n", line, e->cost);
            continue;
        }
        if (fn[e->callee].filename != file)
            put_file(g, "cfi", fn[e->callee].filename);
        put_fn(g, "cfn", e->callee);
        /* a count of 0 would make the next line a self cost for callgrind_annotate */
        sg_buf_printf(g->out, "calls=%" PRId64 " %d\n%d %" PRId64 "\n",
                      e->calls > 0 ? e->calls : 1,
                      fn[e->callee].first_line > 0 ? fn[e->callee].first_line : 0, line,
                      e->cost);
    }
}

int sg_write_callgrind(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    cg g;
    memset(&g, 0, sizeof g);
    g.p = p;
    g.o = o;
    g.out = out;
    sg_wc_init(&g.c, p, o);
    sg_buf_init(&g.names);
    size_t ns = sg_profile_nstrings(p), nf = sg_profile_nfunctions(p);
    uint32_t *tracks = NULL;
    int rc = -1;
    g.fl_id = calloc(ns ? ns : 1, sizeof *g.fl_id);
    g.root = (uint32_t)nf;
    g.fn_id = calloc(nf + 1, sizeof *g.fn_id);
    if (!g.fl_id || !g.fn_id || sg_wc_unique_names(p, &g.names, &g.name_off))
        goto out;
    sg_buf_puts(out, "# callgrind format\nversion: 1\ncreator: spyglass\n");
    size_t nparts = 1;
    if (o->per_thread && sg_profile_ntracks(p) > 0) {
        nparts = sg_profile_ntracks(p);
        if (!(tracks = sg_wc_tracks_sorted(p)))
            goto out;
    }
    for (size_t i = 0; i < nparts; i++) {
        uint32_t track = tracks ? tracks[i] : SG_NONE;
        int64_t grand, lines;
        if (collect(&g, track, &grand, &lines))
            goto out;
        part_header(&g, track, (unsigned)i + 1, grand);
        part_body(&g);
        sg_buf_printf(out, "\ntotals: %" PRId64 "\n", lines);
    }
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing callgrind");
    free(tracks);
    free(g.fl_id);
    free(g.fn_id);
    free(g.name_off);
    free(g.e);
    sg_buf_free(&g.names);
    return rc;
}
