/* A thread's stack changes little from one tick to the next: the loop at the leaf moves,
 * the frames under it stay. For each thread (keyed by its thread-state address) this
 * keeps last tick's raw frames, root first, with the profile trie node and the stack
 * depth reached after each, so that a sample is resolved and walked down the trie only
 * from the first frame that differs. The cached nodes belong to one profile and the
 * locations to one symbol cache: clear it when either changes. */
#ifndef SG_STACKCACHE_H
#define SG_STACKCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "../walk/sg_walk.h"

typedef struct {
    uint32_t node;  /* trie node after this frame */
    uint32_t depth; /* locations on the stack up to and including this frame */
} sg_stackstep;

typedef struct sg_stackcache sg_stackcache;
typedef struct sg_stackentry sg_stackentry;

sg_stackcache *sg_stackcache_new(void);
void sg_stackcache_free(sg_stackcache *c);
/* Forgets every thread's stack. */
void sg_stackcache_clear(sg_stackcache *c);
/* Drops the threads not looked up since the previous sweep. */
void sg_stackcache_sweep(sg_stackcache *c);

/* The entry of the thread at key, made if new; NULL when memory runs out. Valid until
 * the next get, clear or sweep. */
sg_stackentry *sg_stackcache_get(sg_stackcache *c, uint64_t key);

/* How many frames from the root of leaf_first[0..n) (leaf first, as the walker gives
 * them) equal the entry's, and so have known steps. The entry keeps only those. */
size_t sg_stackentry_keep_common(sg_stackentry *e, const sg_raw_frame *leaf_first, size_t n);
/* The step after root-first frame i (i < the count kept or appended). */
sg_stackstep sg_stackentry_step(const sg_stackentry *e, size_t i);
/* Appends the next root-first frame and its step; false (and the entry emptied) when
 * memory runs out. */
bool sg_stackentry_append(sg_stackentry *e, const sg_raw_frame *f, sg_stackstep step);
/* Empties the entry (its stack could not be used). */
void sg_stackentry_reset(sg_stackentry *e);

#endif
