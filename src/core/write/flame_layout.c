/* sg_flame: the records' stacks merged by function into one tree, then ordered, pruned
 * and laid out for drawing (see sg_flame.h).
 *
 * A trie node of the profile maps to one frame per context (the thread or "[partial]"
 * level it hangs under); the mapping is memoised per trie node, so a record costs the
 * part of its path not seen before in the same context, and building is linear in the
 * distinct stacks. */
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

/* The child (kind, id) of parent, created when missing; SG_NONE when out of memory. */
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
    if (f->n >= UINT32_MAX - 1 || !sg_grow((void **)&f->nodes, &f->cap, f->n + 1, sizeof *f->nodes, 256))
        return SG_NONE;
    if (!sg_map_put(&f->index, k, f->n))
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

typedef struct builder {
    sg_flame *f;
    const sg_profile *p;
    uint32_t *memo_frame; /* trie node -> frame, valid when memo_ctx matches */
    uint32_t *memo_ctx;
    uint32_t *path;       /* scratch: trie nodes leaf first */
    uint32_t *ctx_of;     /* (track, partial) -> context frame, SG_NONE until needed */
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

/* The frame of trie node n under context ctx. */
static uint32_t frame_of(builder *b, uint32_t ctx, uint32_t n)
{
    const sg_node *nodes = sg_profile_nodes(b->p);
    const sg_location *loc = sg_profile_locations(b->p);
    size_t depth = 0;
    uint32_t at = ctx;
    for (uint32_t m = n; m != SG_ROOT && m != SG_NONE; m = nodes[m].parent) {
        if (b->memo_ctx[m] == ctx) {
            at = b->memo_frame[m];
            break;
        }
        b->path[depth++] = m;
    }
    while (depth--) {
        uint32_t m = b->path[depth];
        at = child(b->f, at, SG_FLAME_FUNCTION, loc[nodes[m].location].function);
        if (at == SG_NONE)
            return SG_NONE;
        b->memo_ctx[m] = ctx;
        b->memo_frame[m] = at;
    }
    return at;
}

int sg_flame_build(sg_flame *f, const sg_wc_ctx *c, const sg_flame_opts *o)
{
    memset(f, 0, sizeof *f);
    sg_map_init(&f->index);
    const sg_profile *p = c->p;
    size_t nn = sg_profile_nnodes(p), nt = sg_profile_ntracks(p), nr = sg_profile_nrecords(p);
    const sg_node *nodes = sg_profile_nodes(p);
    builder b = {.f = f, .p = p};
    int rc = -1;
    uint32_t maxdepth = 0;
    for (size_t i = 0; i < nn; i++)
        maxdepth = nodes[i].depth > maxdepth ? nodes[i].depth : maxdepth;
    b.memo_frame = malloc((nn ? nn : 1) * sizeof *b.memo_frame);
    b.memo_ctx = malloc((nn ? nn : 1) * sizeof *b.memo_ctx);
    b.path = malloc(((size_t)maxdepth + 1) * sizeof *b.path);
    b.ctx_of = malloc((nt ? nt : 1) * 2 * sizeof *b.ctx_of);
    if (!b.memo_frame || !b.memo_ctx || !b.path || !b.ctx_of ||
        !sg_grow((void **)&f->nodes, &f->cap, 1, sizeof *f->nodes, 256))
        goto out;
    memset(b.memo_ctx, 0xff, (nn ? nn : 1) * sizeof *b.memo_ctx);
    memset(b.ctx_of, 0xff, (nt ? nt : 1) * 2 * sizeof *b.ctx_of);
    f->nodes[0] = (sg_flame_node){.parent = SG_NONE, .first_child = SG_NONE,
                                  .next_sibling = SG_NONE, .kind = SG_FLAME_ROOT};
    f->n = 1;
    /* traced profiles: the time column is drawn, the calls (hits) column is aux */
    bool aux = !c->sampled && c->col != 0 && sg_profile_meta_get(p)->n_values > 0;
    f->has_aux = aux;
    const sg_record *r = sg_profile_records(p);
    for (size_t i = 0; i < nr; i++) {
        if (r[i].track >= nt || r[i].node >= nn)
            continue;
        if (o->track != SG_NONE && r[i].track != o->track)
            continue;
        int64_t v = sg_wc_value(c, &r[i]);
        if (v <= 0)
            continue;
        uint32_t ctx = context(&b, o, r[i].track, (r[i].flags & SG_F_PARTIAL) != 0);
        uint32_t leaf = ctx == SG_NONE ? SG_NONE : frame_of(&b, ctx, r[i].node);
        if (leaf == SG_NONE)
            goto out;
        f->nodes[leaf].self += v;
        if (aux)
            f->nodes[leaf].aux += r[i].values[0];
    }
    /* a child is always created after its parent */
    for (size_t i = 0; i < f->n; i++)
        f->nodes[i].total = f->nodes[i].self;
    for (size_t i = f->n; i-- > 1;)
        f->nodes[f->nodes[i].parent].total += f->nodes[i].total;
    rc = 0;
out:
    free(b.memo_frame);
    free(b.memo_ctx);
    free(b.path);
    free(b.ctx_of);
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
