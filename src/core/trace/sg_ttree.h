/* The tracer's per-thread aggregate: a tree of call paths (or, for line tracing, of
 * line paths) with a count and a self time per node. One thread owns one tree, so the
 * hot path takes no lock; trees become sg_profile records when a session stops.
 *
 * Node 0 is the root (no key). A node is (parent, key), key being a location id of
 * the destination profile. Children are found through one open-addressing table
 * keyed by (parent, key): a multiply-shift hash and linear probing, one or two cache
 * lines per lookup, no allocation unless the path is new. */
#ifndef SG_TTREE_H
#define SG_TTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_TTREE_EMPTY UINT64_MAX

typedef struct sg_tnode {
    uint32_t parent; /* UINT32_MAX for the root */
    uint32_t key;    /* location id; UINT32_MAX for the root */
    uint64_t count;  /* calls (functions) or hits (lines) */
    int64_t self;    /* ticks with this node as the leaf, bias already subtracted */
} sg_tnode;

typedef struct sg_tslot {
    uint64_t k; /* parent << 32 | key, SG_TTREE_EMPTY when free */
    uint32_t node;
    uint32_t unused;
} sg_tslot;

typedef struct sg_ttree {
    sg_tnode *nodes;
    size_t n, cap;
    sg_tslot *slots;
    size_t mask;  /* slots - 1 (a power of two minus one) */
    unsigned shift; /* 64 - log2(slots) */
    size_t used;
    bool oom; /* a node could not be created; its time went to the parent */
} sg_ttree;

/* -1 when out of memory (t is then safe to free). */
int sg_ttree_init(sg_ttree *t);
void sg_ttree_free(sg_ttree *t);

/* Out of line: adds (parent, key) at the empty slot i. Returns the parent itself when
 * memory runs out (and sets oom), so callers never see an invalid id. */
uint32_t sg_ttree_insert(sg_ttree *t, uint32_t parent, uint32_t key, size_t i);

static inline size_t sg_ttree_slot(const sg_ttree *t, uint64_t k)
{
    return (size_t)((k * 0x9E3779B97F4A7C15ULL) >> t->shift);
}

/* The child of parent with key, created (count 0, self 0) on first use. */
static inline uint32_t sg_ttree_child(sg_ttree *t, uint32_t parent, uint32_t key)
{
    uint64_t k = (uint64_t)parent << 32 | key;
    size_t i = sg_ttree_slot(t, k);
    for (;;) {
        const sg_tslot *s = &t->slots[i];
        if (s->k == k)
            return s->node;
        if (s->k == SG_TTREE_EMPTY)
            return sg_ttree_insert(t, parent, key, i);
        i = (i + 1) & t->mask;
    }
}

#endif
