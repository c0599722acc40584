/* Python thread names of a target (threading.Thread.name), by the thread id the
 * sampler keys its tracks with. CPython before 3.14 never gives its threads OS
 * names: the names live in each interpreter's `threading._active` ({ident: Thread}),
 * where ident is PyThreadState.thread_id. Reading them takes tens of reads, so they
 * are cached and read again only when due: when the walk shows a thread the cache
 * has no name for (at most every 200 ms, and at once the first time, so a one-tick
 * dump has them), else every second so that a rename is seen. A refresh is bounded
 * (a budget of reads, at most SG_THREADNAMES_MAX threads); whatever cannot be read
 * leaves the name unknown, and the previous names stand when a refresh fails. */
#ifndef SG_THREADNAMES_H
#define SG_THREADNAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "../discover/sg_discover.h"
#include "../mem/sg_reader.h"
#include "../walk/sg_walk.h"

#define SG_THREADNAMES_MAX 512        /* threads named per refresh */
#define SG_THREADNAMES_BUDGET 20000   /* memory regions one refresh may read */
#define SG_THREADNAMES_SOON_NS 200000000LL  /* a thread without a name: retry after */
#define SG_THREADNAMES_EVERY_NS 1000000000LL /* otherwise, to see renames */

typedef struct sg_threadnames sg_threadnames;

/* r and t must outlive it. NULL when out of memory. */
sg_threadnames *sg_threadnames_new(sg_reader *r, const sg_target *t);
void sg_threadnames_free(sg_threadnames *n); /* accepts NULL */

/* Called after every walk (res: its threads; now_ns: sg_now_ns()). Reads the names
 * when due. Returns true when a thread of res got a name it did not have (a new one
 * or a rename): tracks created earlier should then be renamed. */
bool sg_threadnames_update(sg_threadnames *n, const sg_walk_result *res, int64_t now_ns);

/* The Python name (UTF-8, NUL-terminated) of the thread the sampler knows as tid
 * (its native TID, or its pthread id when the TID is unknowable), or NULL. Valid
 * until the next update. */
const char *sg_threadnames_get(const sg_threadnames *n, uint64_t tid);

/* Refreshes done and the memory regions they read, for the benchmark. */
void sg_threadnames_stats(const sg_threadnames *n, uint64_t *refreshes, uint64_t *reads);

#endif
