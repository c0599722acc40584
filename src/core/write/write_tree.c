/* The call tree, in the manner of pyinstrument's console tree: each function with its
 * total and self share, children hottest first, and the small branches of each node
 * folded into one "… N more" line so the tree stays readable.
 *
 * The stack trie holds locations (a function at a line), so a function calling two
 * others from different lines appears as two trie nodes. The tree a reader wants is one
 * of functions, so trie paths are re-keyed by (parent, function) into a second tree
 * first. With several threads (or per_thread) each thread gets a root line and its own
 * subtree. Shares are of the whole profile in the view. */
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

#define SG_TREE_MAX_INDENT 24 /* levels drawn in full */
#define SG_TREE_KEEP_INDENT 8 /* levels drawn beyond that, after "[+N] " */

typedef struct fnode {
    uint32_t parent;
    uint32_t function; /* SG_NONE: the root or a thread root */
    uint32_t track;    /* thread roots only */
    int64_t self, total;
} fnode;

typedef struct ftree {
    fnode *n;
    size_t len, cap;
    sg_map index;    /* (parent, function) -> node */
    uint32_t *kids;  /* children, grouped by parent, hottest first */
    size_t *first;   /* kids[first[i] .. first[i+1]) are i's children */
} ftree;

static uint32_t fnode_add(ftree *t, uint32_t parent, uint32_t function, uint32_t track)
{
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        fnode *n = realloc(t->n, cap * sizeof *n);
        if (!n)
            return SG_NONE;
        t->n = n;
        t->cap = cap;
    }
    t->n[t->len] = (fnode){parent, function, track, 0, 0};
    return (uint32_t)t->len++;
}

static uint32_t fchild(ftree *t, uint32_t parent, uint32_t function)
{
    uint64_t key = (uint64_t)parent << 32 | function;
    const uint64_t *v = sg_map_get(&t->index, key);
    if (v)
        return (uint32_t)*v;
    uint32_t id = fnode_add(t, parent, function, SG_NONE);
    if (id == SG_NONE || !sg_map_put(&t->index, key, id))
        return SG_NONE;
    return id;
}

/* Adds one track's records (SG_NONE: all) below the tree node top. */
static int add_track(ftree *t, const sg_wc_ctx *c, uint32_t track, uint32_t top)
{
    const sg_profile *p = c->p;
    size_t nn = sg_profile_nnodes(p);
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_location *loc = sg_profile_locations(p);
    int64_t *self, *total;
    if (sg_wc_node_values(c, track, &self, &total))
        return -1;
    uint32_t *map = malloc(nn * sizeof *map);
    int rc = -1;
    if (!map)
        goto out;
    map[SG_ROOT] = top;
    t->n[top].self += self[SG_ROOT];
    for (size_t i = 1; i < nn; i++) {
        if (!total[i])
            continue; /* a zero subtree has no nonzero node below it: parents come first */
        map[i] = fchild(t, map[nodes[i].parent], loc[nodes[i].location].function);
        if (map[i] == SG_NONE)
            goto out;
        t->n[map[i]].self += self[i];
    }
    rc = 0;
out:
    free(map);
    free(self);
    free(total);
    return rc;
}

typedef struct kid_key {
    uint32_t parent;
    int64_t total;
    const char *name, *file;
    int32_t line;
    uint32_t id;
} kid_key;

static int cmp_kid(const void *a, const void *b)
{
    const kid_key *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
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

/* Totals bottom-up, then children grouped by parent and ordered. Thread roots keep
 * their creation order (by pid, tid). */
static int finish(ftree *t, const sg_profile *p)
{
    for (size_t i = 0; i < t->len; i++)
        t->n[i].total = t->n[i].self;
    for (size_t i = t->len; i-- > 1;)
        t->n[t->n[i].parent].total += t->n[i].total;
    kid_key *k = malloc(t->len * sizeof *k);
    t->kids = malloc(t->len * sizeof *t->kids);
    t->first = calloc(t->len + 1, sizeof *t->first);
    if (!k || !t->kids || !t->first) {
        free(k);
        return -1;
    }
    const sg_function *fn = sg_profile_functions(p);
    size_t m = 0;
    for (size_t i = 1; i < t->len; i++) {
        const fnode *n = &t->n[i];
        bool thread = n->function == SG_NONE;
        k[m++] = (kid_key){.parent = n->parent,
                           .total = thread ? 0 : n->total,
                           .name = thread ? "" : sg_wc_func_name(p, n->function),
                           .file = thread ? "" : sg_profile_str(p, fn[n->function].filename),
                           .line = thread ? 0 : fn[n->function].first_line,
                           .id = (uint32_t)i};
    }
    qsort(k, m, sizeof *k, cmp_kid);
    for (size_t i = 0; i < m; i++) {
        t->kids[i] = k[i].id;
        t->first[k[i].parent + 1]++;
    }
    for (size_t i = 0; i < t->len; i++)
        t->first[i + 1] += t->first[i];
    free(k);
    return 0;
}

typedef struct frame {
    uint32_t id;  /* SG_NONE: a folded line */
    uint32_t depth;
    bool last;
    size_t more;  /* folded line: how many */
    int64_t more_total;
} frame;

typedef struct printer {
    const sg_profile *p;
    const sg_wc_ctx *c;
    sg_buf *out;
    int64_t grand;
    bool *last_at; /* by depth: the line drawn there was its parent's last child */
} printer;

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

static void print_line(printer *pr, const ftree *t, const frame *f)
{
    sg_buf *b = pr->out;
    if (f->id == SG_NONE) {
        sg_wc_pct(b, f->more_total, pr->grand, 7);
        sg_buf_puts(b, "           ");
        prefix(pr, f);
        sg_buf_printf(b, "… %zu more", f->more);
        sg_wc_newline(b);
        return;
    }
    const fnode *n = &t->n[f->id];
    sg_wc_pct(b, n->total, pr->grand, 7);
    sg_wc_pct(b, n->self, pr->grand, 9);
    sg_buf_puts(b, "  ");
    prefix(pr, f);
    if (n->function == SG_NONE) {
        const sg_track *tr = &sg_profile_tracks_c(pr->p)[n->track];
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
        const sg_function *fn = &sg_profile_functions(pr->p)[n->function];
        sg_wc_cell(b, sg_wc_func_name(pr->p, n->function), 80, SG_FIT_NONE);
        sg_buf_puts(b, "  ");
        sg_wc_place(b, pr->p, fn->filename, fn->first_line, 80, SG_FIT_NONE);
    }
    sg_wc_newline(b);
}

/* Depth-first with an explicit stack: Python recursion can make trees thousands of
 * levels deep. */
static int print_tree(printer *pr, const ftree *t, int64_t min_total)
{
    size_t cap = 64, len = 0;
    frame *st = malloc(cap * sizeof *st);
    if (!st)
        return -1;
    /* the invisible root's children are the top lines */
    uint32_t top = 0;
    uint32_t depth_of_kids = 0;
    for (;;) {
        /* push the children of top (reversed, so the hottest pops first) */
        size_t a = t->first[top], z = t->first[top + 1], shown = z, more = 0;
        int64_t more_total = 0;
        for (size_t i = a; i < z; i++) {
            if (t->n[t->kids[i]].total < min_total && t->n[t->kids[i]].function != SG_NONE) {
                shown = shown < i ? shown : i;
                more++;
                more_total += t->n[t->kids[i]].total;
            }
        }
        if (more == 1 && shown == z - 1)
            shown = z, more = 0; /* one line either way: show the real one */
        if (len + (z - a) + 1 > cap) {
            while (len + (z - a) + 1 > cap)
                cap *= 2;
            frame *ns = realloc(st, cap * sizeof *st);
            if (!ns) {
                free(st);
                return -1;
            }
            st = ns;
        }
        if (more)
            st[len++] = (frame){SG_NONE, depth_of_kids, true, more, more_total};
        for (size_t i = shown; i-- > a;)
            st[len++] = (frame){t->kids[i], depth_of_kids, !more && i == shown - 1, 0, 0};
        if (!len)
            break;
        frame f = st[--len];
        if (f.depth > 0)
            pr->last_at[f.depth] = f.last;
        print_line(pr, t, &f);
        /* descend into f, or keep popping folded lines (no children) */
        while (f.id == SG_NONE) {
            if (!len) {
                free(st);
                return 0;
            }
            f = st[--len];
            if (f.depth > 0)
                pr->last_at[f.depth] = f.last;
            print_line(pr, t, &f);
        }
        top = f.id;
        depth_of_kids = f.depth + 1;
    }
    free(st);
    return 0;
}

int sg_write_tree(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    sg_wc_ctx c;
    sg_wc_init(&c, p, o);
    ftree t;
    memset(&t, 0, sizeof t);
    sg_map_init(&t.index);
    uint32_t *tracks = sg_wc_tracks_sorted(p);
    size_t nt = sg_profile_ntracks(p), active = 0;
    int rc = -1;
    bool *last_at = NULL;
    if (!tracks || fnode_add(&t, SG_NONE, SG_NONE, SG_NONE) == SG_NONE)
        goto out;
    t.n[0].parent = 0;
    /* which tracks have anything in this view */
    int64_t *tot = calloc(nt ? nt : 1, sizeof *tot);
    if (!tot)
        goto out;
    for (size_t i = 0; i < sg_profile_nrecords(p); i++) {
        const sg_record *r = &sg_profile_records(p)[i];
        tot[r->track] += sg_wc_value(&c, r);
    }
    for (size_t i = 0; i < nt; i++)
        active += tot[i] != 0;
    bool per_thread = active > 1 || (o->per_thread && active);
    int bad = 0;
    if (per_thread) {
        for (size_t i = 0; i < nt && !bad; i++) {
            if (!tot[tracks[i]])
                continue;
            uint32_t root = fnode_add(&t, 0, SG_NONE, tracks[i]);
            bad = root == SG_NONE || add_track(&t, &c, tracks[i], root);
        }
    } else {
        bad = add_track(&t, &c, SG_NONE, 0);
    }
    free(tot);
    if (bad || finish(&t, p))
        goto out;
    uint32_t maxdepth = 0;
    for (size_t i = 0; i < sg_profile_nnodes(p); i++)
        if (sg_profile_nodes(p)[i].depth > maxdepth)
            maxdepth = sg_profile_nodes(p)[i].depth;
    last_at = calloc((size_t)maxdepth + 3, sizeof *last_at);
    if (!last_at)
        goto out;
    double min_share = o->min_share > 0 ? o->min_share : 0.005;
    int64_t grand = t.n[0].total;
    sg_buf_printf(out, "call tree, view %s: %lld %s", sg_wc_view_name(c.view),
                  (long long)grand, c.sampled ? "samples" : "units");
    if (c.sec_per_unit > 0)
        sg_buf_printf(out, " (%.3f s)", sg_wc_seconds(&c, grand));
    sg_buf_printf(out, "; branches under %.1f%% folded\n", 100.0 * min_share);
    sg_buf_puts(out, " total%    self%\n");
    printer pr = {p, &c, out, grand, last_at};
    /* a branch is folded when below the share; the exact threshold rounds up so
     * "0.5%" never folds a branch that prints as 0.5% */
    int64_t min_total = (int64_t)(min_share * (double)grand);
    if ((double)min_total < min_share * (double)grand)
        min_total++;
    if (grand && print_tree(&pr, &t, min_total))
        goto out;
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing the call tree");
    free(last_at);
    free(tracks);
    free(t.n);
    free(t.kids);
    free(t.first);
    sg_map_free(&t.index);
    return rc;
}
