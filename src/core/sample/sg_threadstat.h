/* What the kernel says about a target's threads: on a CPU or not (/proc/PID/task/TID/stat)
 * and, for a blocked thread, the futex it waits on (/proc/PID/task/TID/syscall), which
 * tells a thread waiting for the GIL from one sleeping or doing I/O. Files are opened
 * once per thread and pread at every sample. */
#ifndef SG_THREADSTAT_H
#define SG_THREADSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sg_threadstat sg_threadstat;

sg_threadstat *sg_threadstat_new(int pid);
void sg_threadstat_free(sg_threadstat *ts);

/* 1 running or runnable, 0 not, -1 unknown (thread gone or unreadable). */
int sg_threadstat_oncpu(sg_threadstat *ts, int64_t tid);

/* True if tid is blocked in futex() on an address in [addr, addr + len). */
bool sg_threadstat_futex_in(sg_threadstat *ts, int64_t tid, uint64_t addr, size_t len);

/* The kernel's name of the thread (comm), "" if unknown. */
void sg_threadstat_name(sg_threadstat *ts, int64_t tid, char *out, size_t len);

/* Closes the files of threads not asked about since the previous sweep. */
void sg_threadstat_sweep(sg_threadstat *ts);

#endif
