/* sg_flame: the records' stacks merged by function into one tree, then ordered, pruned
 * and laid out for drawing (see sg_flame.h).
 *
 * A trie node of the profile maps to one node of the tree of functions (sg_wc_ftree),
 * and that to one frame per context (the synthetic levels a record hangs under:
 * process, thread, "[partial]"). The records are taken one context at a time: their
 * values are summed along the function-tree path (only the nodes they touch), then
 * frames are made from the top down, and only the children of a frame wide enough to
 * be drawn are made at all (each with its total, so the layout can merge the narrow
 * ones), never the subtrees below. So a profile of millions of trie nodes and many
 * threads costs its stacks' lengths and the frames drawn, not a frame per node and
 * thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "sg_flame.h"

void sg_flame_free(sg_flame *f)
{
    free(f->nodes);
    sg_map_free(&f->index);
    memset(f, 0, sizeof *f);
}

static uint64_t frame_key(uint32_t parent, uint32_t kind, uint32_t id)
{
    return sg_hash64((uint64_t)parent * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)kind << 32 | id));
}

/* A new frame under parent; SG_NONE when out of memory. */
static uint32_t add_frame(sg_flame *f, uint32_t parent, uint32_t kind, uint32_t id)
{
    if (f->n >= UINT32_MAX - 1 || !sg_grow((void **)&f->nodes, &f->cap, f->n + 1, sizeof *f->nodes, 256))
        return SG_NONE;
    uint32_t id_new = (uint32_t)f->n++;
    sg_flame_node *pn = &f->nodes[parent];
    f->nodes[id_new] = (sg_flame_node){.parent = parent,
                                       .first_child = SG_NONE,
                                       .next_sibling = pn->first_child,
                                       .depth = pn->depth + 1,
                                       .kind = kind,
                                       .id = id};
    pn->first_child = id_new;
    return id_new;
}

/* The synthetic child (kind, id) of parent, created when missing; SG_NONE when out of
 * memory. */
static uint32_t child(sg_flame *f, uint32_t parent, uint32_t kind, uint32_t id)
{
    uint64_t k = frame_key(parent, kind, id);
    for (;; k = sg_hash64(k + 1)) {
        const uint64_t *v = sg_map_get(&f->index, k);
        if (!v)
            break;
        const sg_flame_node *n = &f->nodes[*v];
        if (n->parent == parent && n->kind == kind && n->id == id)
            return (uint32_t)*v;
    }
    uint32_t id_new = add_frame(f, parent, kind, id);
    if (id_new == SG_NONE || !sg_map_put(&f->index, k, id_new))
        return SG_NONE;
    return id_new;
}

typedef struct builder {
    sg_flame *f;
    const sg_profile *p;
    sg_wc_ftree ft;
    int64_t *self, *total, *aux; /* by function-tree node, for the context at hand */
    uint32_t *touched;           /* the function-tree nodes with a total, to reset */
    size_t ntouched;
    uint32_t *stack;             /* scratch: (function-tree node, frame) pairs */
    size_t stack_cap;
    uint32_t *ctx_of; /* (track, partial) -> context frame, SG_NONE until needed */
} builder;

/* The frame under which the stacks of this track (partial or not) hang. */
static uint32_t context(builder *b, const sg_flame_opts *o, uint32_t track, bool partial)
{
    uint32_t *slot = &b->ctx_of[(size_t)track * 2 + partial];
    if (*slot != SG_NONE)
        return *slot;
    uint32_t at = SG_ROOT;
    const sg_track *t = &sg_profile_tracks_c(b->p)[track];
    if (sg_profile_nprocesses(b->p) > 1)
        at = child(b->f, at, SG_FLAME_PROCESS, t->process);
    if (at != SG_NONE && o->per_thread)
        at = child(b->f, at, SG_FLAME_THREAD, track);
    if (at != SG_NONE && partial)
        at = child(b->f, at, SG_FLAME_PARTIAL, 0);
    return *slot = at;
}

/* Adds one record's value along its function-tree path. */
static void add_path(builder *b, uint32_t node, int64_t v, int64_t aux)
{
    uint32_t n = b->ft.same[node];
    b->self[n] += v;
    b->aux[n] += aux;
    for (;;) {
        if (!b->total[n])
            b->touched[b->ntouched++] = n;
        b->total[n] += v;
        if (n == SG_ROOT)
            break;
        n = sg_wc_ftree_parent(&b->ft, b->p, n);
    }
}

/* The frames of the context's sums under frame ctx, from the top down; the children of
 * a frame narrower than min_value are not made. Then the sums are cleared. */
static int emit_context(builder *b, uint32_t ctx, int64_t min_value)
{
    sg_flame *f = b->f;
    const sg_location *loc = sg_profile_locations(b->p);
    const sg_node *nodes = sg_profile_nodes(b->p);
    int rc = -1;
    f->nodes[ctx].self += b->self[SG_ROOT];
    f->nodes[ctx].aux += b->aux[SG_ROOT];
    size_t sp = 0;
    if (!sg_grow((void **)&b->stack, &b->stack_cap, 2, sizeof *b->stack, 256))
        goto out;
    b->stack[sp++] = SG_ROOT;
    b->stack[sp++] = ctx;
    while (sp) {
        uint32_t frame = b->stack[--sp], n = b->stack[--sp];
        for (uint32_t i = b->ft.first[n]; i < b->ft.first[n + 1]; i++) {
            uint32_t k = b->ft.kids[i];
            if (b->total[k] <= 0)
                continue;
            uint32_t fk = add_frame(f, frame, SG_FLAME_FUNCTION,
                                    loc[nodes[k].location].function);
            if (fk == SG_NONE)
                goto out;
            f->nodes[fk].self = b->self[k];
            f->nodes[fk].aux = b->aux[k];
            f->nodes[fk].total = b->total[k];
            if (b->total[k] < min_value)
                continue; /* drawn as part of "[N narrow frames]" at most */
            if (!sg_grow((void **)&b->stack, &b->stack_cap, sp + 2, sizeof *b->stack, 256))
                goto out;
            b->stack[sp++] = k;
            b->stack[sp++] = fk;
        }
    }
    rc = 0;
out:
    for (size_t i = 0; i < b->ntouched; i++) {
        uint32_t n = b->touched[i];
        b->self[n] = b->total[n] = b->aux[n] = 0;
    }
    b->ntouched = 0;
    return rc;
}

static bool counted(const sg_wc_ctx *c, const sg_flame_opts *o, const sg_record *r,
                    size_t nt, size_t nn, int64_t *v)
{
    if (r->track >= nt || r->node >= nn || (o->track != SG_NONE && r->track != o->track))
        return false;
    *v = sg_wc_value(c, r);
    return *v > 0;
}

int64_t sg_flame_grand(const sg_wc_ctx *c, const sg_flame_opts *o)
{
    const sg_profile *p = c->p;
    size_t nt = sg_profile_ntracks(p), nn = sg_profile_nnodes(p), nr = sg_profile_nrecords(p);
    const sg_record *r = sg_profile_records(p);
    int64_t grand = 0, v;
    for (size_t i = 0; i < nr; i++)
        if (counted(c, o, &r[i], nt, nn, &v))
            grand += v;
    return grand;
}

int sg_flame_build(sg_flame *f, const sg_wc_ctx *c, const sg_flame_opts *o)
{
    memset(f, 0, sizeof *f);
    sg_map_init(&f->index);
    const sg_profile *p = c->p;
    size_t nn = sg_profile_nnodes(p), nt = sg_profile_ntracks(p), nr = sg_profile_nrecords(p);
    const sg_record *r = sg_profile_records(p);
    builder b = {.f = f, .p = p};
    uint32_t *ctx = malloc((nr ? nr : 1) * sizeof *ctx);   /* record -> context frame */
    uint32_t *order = malloc((nr ? nr : 1) * sizeof *order); /* records by context */
    size_t *first = NULL;
    int rc = -1;
    b.self = calloc(nn ? nn : 1, sizeof *b.self);
    b.total = calloc(nn ? nn : 1, sizeof *b.total);
    b.aux = calloc(nn ? nn : 1, sizeof *b.aux);
    b.touched = malloc((nn ? nn : 1) * sizeof *b.touched);
    b.ctx_of = malloc((nt ? nt : 1) * 2 * sizeof *b.ctx_of);
    if (sg_wc_ftree_init(&b.ft, p) || !ctx || !order || !b.self || !b.total || !b.aux ||
        !b.touched || !b.ctx_of || !sg_grow((void **)&f->nodes, &f->cap, 1, sizeof *f->nodes, 256))
        goto out;
    memset(b.ctx_of, 0xff, (nt ? nt : 1) * 2 * sizeof *b.ctx_of);
    f->nodes[0] = (sg_flame_node){.parent = SG_NONE, .first_child = SG_NONE,
                                  .next_sibling = SG_NONE, .kind = SG_FLAME_ROOT};
    f->n = 1;
    /* traced profiles: the time column is drawn, the calls (hits) column is aux */
    bool aux = !c->sampled && c->col != 0 && sg_profile_meta_get(p)->n_values > 0;
    f->has_aux = aux;
    /* the context frames, in the records' order, then the records grouped by them */
    int64_t v;
    for (size_t i = 0; i < nr; i++) {
        ctx[i] = SG_NONE;
        if (!counted(c, o, &r[i], nt, nn, &v))
            continue;
        ctx[i] = context(&b, o, r[i].track, (r[i].flags & SG_F_PARTIAL) != 0);
        if (ctx[i] == SG_NONE)
            goto out;
    }
    size_t nctx = f->n; /* every context frame exists now */
    first = calloc(nctx + 1, sizeof *first);
    if (!first)
        goto out;
    for (size_t i = 0; i < nr; i++)
        if (ctx[i] != SG_NONE)
            first[ctx[i] + 1]++;
    for (size_t k = 0; k < nctx; k++)
        first[k + 1] += first[k];
    for (size_t i = 0; i < nr; i++)
        if (ctx[i] != SG_NONE)
            order[first[ctx[i]]++] = (uint32_t)i;
    /* first[k] is now the end of context k's run */
    size_t at = 0;
    for (size_t k = 0; k < nctx; k++) {
        if (at == first[k])
            continue;
        for (; at < first[k]; at++) {
            const sg_record *ri = &r[order[at]];
            add_path(&b, ri->node, sg_wc_value(c, ri), aux ? ri->values[0] : 0);
        }
        if (emit_context(&b, (uint32_t)k, o->min_value))
            goto out;
    }
    /* function frames carry their totals; a synthetic frame's is its self and its
     * children's, and children come after their parent */
    for (size_t i = 0; i < f->n; i++)
        if (f->nodes[i].kind != SG_FLAME_FUNCTION)
            f->nodes[i].total = f->nodes[i].self;
    for (size_t i = f->n; i-- > 1;)
        if (f->nodes[f->nodes[i].parent].kind != SG_FLAME_FUNCTION)
            f->nodes[f->nodes[i].parent].total += f->nodes[i].total;
    rc = 0;
out:
    sg_wc_ftree_free(&b.ft);
    free(b.self);
    free(b.total);
    free(b.aux);
    free(b.touched);
    free(b.stack);
    free(b.ctx_of);
    free(ctx);
    free(order);
    free(first);
    return rc;
}

void sg_flame_label(const sg_flame *f, const sg_profile *p, uint32_t node, sg_buf *out)
{
    const sg_flame_node *n = &f->nodes[node];
    switch (n->kind) {
    case SG_FLAME_ROOT:
        sg_buf_puts(out, "all");
        break;
    case SG_FLAME_PROCESS:
        sg_buf_printf(out, "process %u", (unsigned)sg_profile_processes_c(p)[n->id].pid);
        break;
    case SG_FLAME_THREAD: {
        const sg_track *t = &sg_profile_tracks_c(p)[n->id];
        sg_buf_puts(out, "thread ");
        if (t->name) {
            sg_buf_append(out, sg_profile_str(p, t->name), sg_profile_str_len(p, t->name));
            sg_buf_putc(out, ' ');
        }
        sg_buf_printf(out, "(%llu)", (unsigned long long)t->tid);
        break;
    }
    case SG_FLAME_PARTIAL:
        sg_buf_puts(out, "[partial]");
        break;
    case SG_FLAME_OTHER:
        sg_buf_printf(out, "[%u narrow frames]", (unsigned)n->id);
        break;
    default:
        sg_buf_puts(out, sg_wc_func_name(p, n->id));
    }
}

/* qsort has no context argument in C11, so each key carries what it compares. */
typedef struct kid_key {
    int64_t total;
    const char *name, *file;
    uint64_t tie; /* first line, or tid for threads, pid for processes */
    uint32_t id;  /* frame */
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
    if (x->tie != y->tie)
        return x->tie < y->tie ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static kid_key key_of(const sg_flame *f, const sg_profile *p, uint32_t i)
{
    const sg_flame_node *n = &f->nodes[i];
    kid_key k = {.total = n->total, .name = "", .file = "", .id = i};
    switch (n->kind) {
    case SG_FLAME_FUNCTION: {
        const sg_function *fn = &sg_profile_functions(p)[n->id];
        k.name = sg_wc_func_name(p, n->id);
        k.file = sg_profile_str(p, fn->filename);
        k.tie = (uint64_t)(int64_t)fn->first_line;
        break;
    }
    case SG_FLAME_THREAD:
        k.name = sg_profile_str(p, sg_profile_tracks_c(p)[n->id].name);
        k.tie = sg_profile_tracks_c(p)[n->id].tid;
        break;
    case SG_FLAME_PROCESS:
        k.tie = sg_profile_processes_c(p)[n->id].pid;
        break;
    default:
        k.tie = n->kind;
    }
    return k;
}

int sg_flame_layout(sg_flame *f, const sg_profile *p, int64_t min_value)
{
    uint32_t *stack = NULL;
    kid_key *kids = NULL;
    size_t stack_cap = 0, kids_cap = 0, sp = 0;
    int rc = -1;
    if (!f->n)
        return 0;
    f->max_depth = 0;
    f->nodes[0].start = 0;
    if (!sg_grow((void **)&stack, &stack_cap, 1, sizeof *stack, 256))
        goto out;
    stack[sp++] = SG_ROOT;
    while (sp) {
        uint32_t at = stack[--sp];
        if (f->nodes[at].depth > f->max_depth)
            f->max_depth = f->nodes[at].depth;
        size_t nk = 0;
        for (uint32_t k = f->nodes[at].first_child; k != SG_NONE; k = f->nodes[k].next_sibling) {
            if (!sg_grow((void **)&kids, &kids_cap, nk + 1, sizeof *kids, 64))
                goto out;
            kids[nk++] = key_of(f, p, k);
        }
        if (nk)
            qsort(kids, nk, sizeof *kids, cmp_kid);
        size_t keep = 0;
        int64_t dropped = 0;
        uint32_t ndropped = 0;
        for (size_t i = 0; i < nk; i++) {
            if (kids[i].total >= min_value && kids[i].total > 0) {
                kids[keep++] = kids[i];
            } else if (kids[i].total > 0) {
                dropped += kids[i].total;
                ndropped++;
            }
        }
        if (ndropped && dropped >= min_value) {
            if (f->n >= UINT32_MAX - 1 ||
                !sg_grow((void **)&f->nodes, &f->cap, f->n + 1, sizeof *f->nodes, 256))
                goto out;
            uint32_t o = (uint32_t)f->n++;
            f->nodes[o] = (sg_flame_node){.parent = at, .first_child = SG_NONE,
                                          .next_sibling = SG_NONE,
                                          .depth = f->nodes[at].depth + 1,
                                          .kind = SG_FLAME_OTHER, .id = ndropped,
                                          .total = dropped, .self = dropped};
            kids[keep++] = (kid_key){.total = dropped, .id = o};
        }
        if (!sg_grow((void **)&stack, &stack_cap, sp + keep, sizeof *stack, 256))
            goto out;
        int64_t x = f->nodes[at].start;
        uint32_t prev = SG_NONE;
        f->nodes[at].first_child = keep ? kids[0].id : SG_NONE;
        for (size_t i = 0; i < keep; i++) {
            sg_flame_node *k = &f->nodes[kids[i].id];
            k->start = x;
            x += k->total;
            k->next_sibling = SG_NONE;
            if (prev != SG_NONE)
                f->nodes[prev].next_sibling = kids[i].id;
            prev = kids[i].id;
        }
        /* pushed in reverse so that frames come out left to right, depth first */
        for (size_t i = keep; i-- > 0;)
            stack[sp++] = kids[i].id;
    }
    rc = 0;
out:
    free(stack);
    free(kids);
    return rc;
}
