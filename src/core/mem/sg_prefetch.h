/* A reader that replays the previous walk's reads in one batch. A walk of a target whose
 * layout has not changed since the last tick reads the same structures at the same
 * addresses (thread states, data-stack chunks, frame objects, the GIL): each tick starts
 * by reading all the regions the last one read, in one process_vm_readv (a few for
 * thousands of regions), and the walk is then served from that copy. Only what moved is
 * read on its own. This costs one system call per tick instead of one per structure,
 * and the copy is taken in one instant, so a walk is far less often torn by the target
 * changing under it. The data are as untrusted as ever: the walker validates them. */
#ifndef SG_PREFETCH_H
#define SG_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sg_reader.h"

/* The copy taken at a tick is bounded; regions past this many bytes are read on demand. */
#define SG_PREFETCH_MAX_BYTES (8u << 20)
/* A region of at most this many bytes that a tick did not read is still copied at the
 * next ticks, until it has gone unread for SG_PREFETCH_RETAIN_TICKS of them. */
#define SG_PREFETCH_RETAIN_MAX_LEN 4096
#define SG_PREFETCH_RETAIN_TICKS 16

typedef struct sg_prefetch sg_prefetch;

/* under must outlive the prefetcher. NULL when memory runs out. */
sg_prefetch *sg_prefetch_new(sg_reader *under);
void sg_prefetch_free(sg_prefetch *pf);

/* The reader to walk with: reads are served from the tick's copy (or a later one, see
 * sg_prefetch_refresh) when it holds the region whole, and otherwise from `under`;
 * every read is remembered for the next tick.
 * A batch (readv) is served likewise, up to its first region the copy lacks, and the
 * rest read from `under` in one call. */
sg_reader *sg_prefetch_reader(sg_prefetch *pf);

/* Starts a tick: forgets the last copy and reads again every region the last tick read,
 * and the small ones read in the ticks before (see SG_PREFETCH_RETAIN_TICKS). */
void sg_prefetch_begin(sg_prefetch *pf);

/* Where the reads of the tick stand (to take them again from there). */
size_t sg_prefetch_mark(const sg_prefetch *pf);
/* Takes again, now, every region read since mark (those of the last tick's copy
 * included), and serves them from this fresh copy from now on in the tick: a structure
 * found to have moved, or torn, is walked again from one moment, its own, and a small
 * copy is taken fast. */
void sg_prefetch_refresh(sg_prefetch *pf, size_t mark);

/* Asks for at least len bytes at addr at the next tick (a region that grows, such as
 * the live part of a data-stack chunk, is read a little larger than it is now). */
void sg_prefetch_hint(sg_prefetch *pf, uint64_t addr, size_t len);

/* Reads the copies could not serve, so far. */
uint64_t sg_prefetch_misses(const sg_prefetch *pf);

typedef struct {
    uint64_t hits, misses; /* reads served from the copy, and read on their own, so far */
    size_t regions, spans, bytes; /* the last tick's batch */
} sg_prefetch_stat;
void sg_prefetch_stats(const sg_prefetch *pf, sg_prefetch_stat *out);

#endif
