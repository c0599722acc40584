/* The call tree, in the manner of pyinstrument's console tree: each function with its
 * total and self share, children hottest first, and the small branches of each node
 * folded into one "… N more" line so the tree stays readable.
 *
 * The stack trie holds locations (a function at a line), so a function calling two
 * others from different lines appears as two trie nodes. The tree a reader wants is one
 * of functions: each trie node maps to the first node with the same functions
 * (sg_wc_same_functions) and values are summed there. With several threads (or
 * per_thread) each thread gets a root line and its own subtree. Shares are of the
 * whole profile in the view.
 *
 * Profiles can hold millions of trie nodes while the tree prints a few hundred lines,
 * so nothing is built per node beyond flat arrays: the function tree's child lists
 * once, the sums once per thread, and only the children of a printed line are sorted. */
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

#define SG_TREE_MAX_INDENT 24 /* levels drawn in full */
#define SG_TREE_KEEP_INDENT 8 /* levels drawn beyond that, after "[+N] " */

typedef struct ftree {
    const sg_wc_ctx *c;
    sg_wc_ftree f;         /* the tree of functions over the trie */
    int64_t *self, *total; /* by function-tree node, for the thread being printed */
} ftree;

static void ftree_free(ftree *t)
{
    sg_wc_ftree_free(&t->f);
    free(t->self);
    free(t->total);
}

static int ftree_init(ftree *t, const sg_wc_ctx *c)
{
    size_t nn = sg_profile_nnodes(c->p);
    memset(t, 0, sizeof *t);
    t->c = c;
    t->self = malloc((nn ? nn : 1) * sizeof *t->self);
    t->total = malloc((nn ? nn : 1) * sizeof *t->total);
    return sg_wc_ftree_init(&t->f, c->p) || !t->self || !t->total ? -1 : 0;
}

/* self and total of every function-tree node for one track's records (SG_NONE: all).
 * Returns the track's sum. */
static int64_t ftree_sum(ftree *t, uint32_t track)
{
    const sg_profile *p = t->c->p;
    const sg_record *r = sg_profile_records(p);
    size_t nr = sg_profile_nrecords(p), nn = t->f.n;
    memset(t->self, 0, (nn ? nn : 1) * sizeof *t->self);
    for (size_t i = 0; i < nr; i++)
        if ((track == SG_NONE || r[i].track == track) && r[i].node < nn)
            t->self[t->f.same[r[i].node]] += sg_wc_value(t->c, &r[i]);
    memcpy(t->total, t->self, (nn ? nn : 1) * sizeof *t->total);
    /* a child's id is larger than its parent's: totals are final when passed up */
    for (size_t n = nn; n-- > 1;)
        if (t->f.same[n] == n)
            t->total[sg_wc_ftree_parent(&t->f, p, (uint32_t)n)] += t->total[n];
    return nn ? t->total[SG_ROOT] : 0;
}

typedef struct kid_key {
    int64_t total;
    const char *name, *file;
    int32_t line;
    uint32_t id;
} kid_key;

static int cmp_kid(const void *a, const void *b)
{
    const kid_key *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if ((c = strcmp(x->file, y->file)))
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

typedef enum { LINE_FUNCTION, LINE_THREAD, LINE_MORE } line_kind;

typedef struct frame {
    line_kind kind;
    uint32_t id; /* function-tree node, or track for a thread line */
    uint32_t depth;
    bool last;
    size_t more; /* folded line: how many */
    int64_t more_total;
} frame;

typedef struct printer {
    const sg_profile *p;
    ftree *t;
    sg_buf *out;
    int64_t grand, min_total;
    bool *last_at;  /* by depth: the line drawn there was its parent's last child */
    frame *stack;   /* lines still to print, the next on top */
    size_t len, cap;
    kid_key *keys;  /* scratch: the children of one line */
    size_t keys_cap;
} printer;

static bool grow(void **a, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *x = realloc(*a, n * size);
    if (!x)
        return false;
    *a = x;
    *cap = n;
    return true;
}

static void prefix(printer *pr, const frame *f)
{
    if (f->depth == 0)
        return;
    uint32_t from = 1;
    if (f->depth > SG_TREE_MAX_INDENT) {
        /* deep recursion: say how many levels are not drawn, draw the last few */
        from = f->depth - SG_TREE_KEEP_INDENT;
        sg_buf_printf(pr->out, "[+%u] ", (unsigned)(from - 1));
    }
    for (uint32_t d = from; d < f->depth; d++)
        sg_buf_puts(pr->out, pr->last_at[d] ? "   " : "│  ");
    sg_buf_puts(pr->out, f->last ? "└─ " : "├─ ");
}

static uint32_t function_of(const sg_profile *p, uint32_t node)
{
    return sg_profile_locations(p)[sg_profile_nodes(p)[node].location].function;
}

static void print_line(printer *pr, const frame *f)
{
    sg_buf *b = pr->out;
    if (f->depth > 0)
        pr->last_at[f->depth] = f->last;
    if (f->kind == LINE_MORE) {
        sg_wc_pct(b, f->more_total, pr->grand, 7);
        sg_buf_puts(b, "           ");
        prefix(pr, f);
        sg_buf_printf(b, "… %zu more", f->more);
        sg_wc_newline(b);
        return;
    }
    uint32_t id = f->kind == LINE_THREAD ? SG_ROOT : f->id;
    sg_wc_pct(b, pr->t->total[id], pr->grand, 7);
    sg_wc_pct(b, pr->t->self[id], pr->grand, 9);
    sg_buf_puts(b, "  ");
    prefix(pr, f);
    if (f->kind == LINE_THREAD) {
        const sg_track *tr = &sg_profile_tracks_c(pr->p)[f->id];
        sg_buf_puts(b, "thread ");
        if (tr->name) {
            sg_wc_cell(b, sg_profile_str(pr->p, tr->name), 60, SG_FIT_NONE);
            sg_buf_putc(b, ' ');
        }
        sg_buf_printf(b, "(TID %llu", (unsigned long long)tr->tid);
        if (sg_profile_nprocesses(pr->p) > 1)
            sg_buf_printf(b, ", PID %u",
                          (unsigned)sg_profile_processes_c(pr->p)[tr->process].pid);
        sg_buf_putc(b, ')');
    } else {
        uint32_t fid = function_of(pr->p, f->id);
        const sg_function *fn = &sg_profile_functions(pr->p)[fid];
        sg_wc_cell(b, sg_wc_func_name(pr->p, fid), 80, SG_FIT_NONE);
        sg_buf_puts(b, "  ");
        sg_wc_place(b, pr->p, fn->filename, fn->first_line, 80, SG_FIT_NONE);
    }
    sg_wc_newline(b);
}

static kid_key key_of(const printer *pr, uint32_t node)
{
    uint32_t fid = function_of(pr->p, node);
    const sg_function *fn = &sg_profile_functions(pr->p)[fid];
    return (kid_key){.total = pr->t->total[node],
                     .name = sg_wc_func_name(pr->p, fid),
                     .file = sg_profile_str(pr->p, fn->filename),
                     .line = fn->first_line,
                     .id = node};
}

/* Pushes the lines under node: its children at or above the threshold, hottest first,
 * then one "… N more" line for the rest (a single small child is shown instead: one
 * line either way). Children with nothing in this view have no line. */
static int push_children(printer *pr, uint32_t node, uint32_t depth)
{
    const ftree *t = pr->t;
    size_t m = 0, more = 0;
    int64_t more_total = 0;
    uint32_t small = SG_NONE;
    for (uint32_t i = t->f.first[node]; i < t->f.first[node + 1]; i++) {
        uint32_t k = t->f.kids[i];
        int64_t v = t->total[k];
        if (!v)
            continue;
        if (v < pr->min_total) {
            more++;
            more_total += v;
            small = k;
            continue;
        }
        if (!grow((void **)&pr->keys, &pr->keys_cap, m + 1, sizeof *pr->keys))
            return -1;
        pr->keys[m++] = key_of(pr, k);
    }
    if (more == 1) {
        if (!grow((void **)&pr->keys, &pr->keys_cap, m + 1, sizeof *pr->keys))
            return -1;
        pr->keys[m++] = key_of(pr, small);
        more = 0;
    }
    if (m > 1)
        qsort(pr->keys, m, sizeof *pr->keys, cmp_kid);
    if (!grow((void **)&pr->stack, &pr->cap, pr->len + m + 1, sizeof *pr->stack))
        return -1;
    if (more)
        pr->stack[pr->len++] = (frame){LINE_MORE, SG_NONE, depth, true, more, more_total};
    for (size_t i = m; i-- > 0;)
        pr->stack[pr->len++] =
            (frame){LINE_FUNCTION, pr->keys[i].id, depth, !more && i == m - 1, 0, 0};
    return 0;
}

/* Depth-first with an explicit stack: Python recursion can make trees thousands of
 * levels deep. */
static int print_subtree(printer *pr, uint32_t depth)
{
    if (push_children(pr, SG_ROOT, depth))
        return -1;
    while (pr->len) {
        frame f = pr->stack[--pr->len];
        print_line(pr, &f);
        if (f.kind == LINE_FUNCTION && push_children(pr, f.id, f.depth + 1))
            return -1;
    }
    return 0;
}

int sg_write_tree(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    sg_wc_ctx c;
    sg_wc_init(&c, p, o);
    ftree t;
    printer pr = {.p = p, .t = &t, .out = out};
    uint32_t *tracks = sg_wc_tracks_sorted(p);
    size_t nt = sg_profile_ntracks(p), active = 0;
    int64_t *tot = calloc(nt ? nt : 1, sizeof *tot);
    int rc = -1;
    if (ftree_init(&t, &c) || !tracks || !tot)
        goto out;
    /* which tracks have anything in this view */
    for (size_t i = 0; i < sg_profile_nrecords(p); i++) {
        const sg_record *r = &sg_profile_records(p)[i];
        tot[r->track] += sg_wc_value(&c, r);
    }
    int64_t grand = 0;
    for (size_t i = 0; i < nt; i++) {
        active += tot[i] != 0;
        grand += tot[i];
    }
    bool per_thread = active > 1 || (o->per_thread && active);
    uint32_t maxdepth = 0;
    for (size_t i = 0; i < sg_profile_nnodes(p); i++)
        if (sg_profile_nodes(p)[i].depth > maxdepth)
            maxdepth = sg_profile_nodes(p)[i].depth;
    pr.last_at = calloc((size_t)maxdepth + 3, sizeof *pr.last_at);
    if (!pr.last_at)
        goto out;
    double min_share = o->min_share > 0 ? o->min_share : 0.005;
    sg_buf_printf(out, "call tree, view %s: %lld %s", sg_wc_view_name(c.view),
                  (long long)grand, c.sampled ? "samples" : "units");
    if (c.sec_per_unit > 0)
        sg_buf_printf(out, " (%.3f s)", sg_wc_seconds(&c, grand));
    sg_buf_printf(out, "; branches under %.1f%% folded\n", 100.0 * min_share);
    sg_buf_puts(out, " total%    self%\n");
    pr.grand = grand;
    /* a branch is folded when below the share; the exact threshold rounds up so
     * "0.5%" never folds a branch that prints as 0.5% */
    pr.min_total = (int64_t)(min_share * (double)grand);
    if ((double)pr.min_total < min_share * (double)grand)
        pr.min_total++;
    if (grand && per_thread) {
        for (size_t i = 0; i < nt; i++) {
            if (!tot[tracks[i]])
                continue;
            ftree_sum(&t, tracks[i]);
            frame f = {LINE_THREAD, tracks[i], 0, false, 0, 0};
            print_line(&pr, &f);
            if (print_subtree(&pr, 1))
                goto out;
        }
    } else if (grand) {
        ftree_sum(&t, SG_NONE);
        if (print_subtree(&pr, 0))
            goto out;
    }
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing the call tree");
    free(pr.last_at);
    free(pr.stack);
    free(pr.keys);
    free(tracks);
    free(tot);
    ftree_free(&t);
    return rc;
}
