/* Code object address -> (file, qualified name, line) for the model, cached.
 * A cache entry remembers the code object's identifying fields (filename, name,
 * qualname and line-table pointers, first line); sg_symbols_validate re-reads them for
 * every code object of a sample in one batched read, so a code object freed and
 * another allocated at the same address is never given the old names. */
#ifndef SG_SYMBOLS_H
#define SG_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>

#include "../discover/sg_discover.h"
#include "../mem/sg_reader.h"
#include "../profile/sg_profile.h"
#include "../walk/sg_walk.h"

typedef struct sg_symbols sg_symbols;

/* Resolved names go into p (strings, functions, locations). r, t and p must outlive it.
 * root_skip_file: a path whose frames are dropped from the root of every stack (the
 * spyglass bootstrap that starts the target), or NULL. */
sg_symbols *sg_symbols_new(sg_reader *r, const sg_target *t, sg_profile *p,
                           const char *root_skip_file, sg_error *err);
void sg_symbols_free(sg_symbols *s);

/* Re-checks the cached entries of the code objects in frames[0..n) (one batched read)
 * and forgets those that changed. Call once per sample before resolving. Returns how
 * many were forgotten. */
size_t sg_symbols_validate(sg_symbols *s, const sg_raw_frame *frames, size_t n);

/* The per-sample checks of sg_symbols_validate read through r (the walker's batching
 * reader, so that they ride in the tick's one batch) instead of the reader given to
 * sg_symbols_new. r must outlive s. */
void sg_symbols_validate_through(sg_symbols *s, sg_reader *r);

typedef enum {
    SG_SYM_OK = 0,
    SG_SYM_SKIP,      /* not a frame to show (initialising frame) */
    SG_SYM_ROOT_SKIP, /* a bootstrap frame: drop it if it is at the root */
    SG_SYM_BAD,       /* not a code object, unreadable, or an impossible offset */
} sg_sym_status;

/* Resolves one frame to a location id of the model. */
sg_sym_status sg_symbols_resolve(sg_symbols *s, const sg_raw_frame *f, uint32_t *location);

/* Points the cache at another profile holding the same strings, functions and
 * locations at the same ids (sg_profile_new_like of the previous one). */
void sg_symbols_set_profile(sg_symbols *s, sg_profile *p);

/* Cache statistics, for the benchmark. */
void sg_symbols_stats(const sg_symbols *s, uint64_t *hits, uint64_t *misses, size_t *entries);

#endif
