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

/* What one tick learnt of a thread from /proc/PID/task/TID/stat. */
typedef struct {
    int runnable; /* 1 running or runnable (state R), 0 not, -1 unknown (gone, unreadable) */
    int charge;   /* sample periods of CPU time to charge to the thread's stack now */
} sg_thread_cpu;

/* The state R alone cannot tell a thread on a CPU from one waiting for a CPU, and a
 * thread that wakes for a moment (to take the GIL, say) is R while the sample is taken:
 * on a busy machine that counted sleeping threads as running. So a runnable thread is
 * charged only the CPU time it really used since its last charge (utime + stime), in
 * whole periods; it may run ahead of that counter, which the kernel updates at its own
 * tick, by at most SG_CPU_AHEAD_NS, repaid from its later CPU time. A busy thread is thus
 * charged from its first sample on, and one that runs only briefly is charged no more
 * than the CPU it used plus that allowance, over the whole profile. */
#define SG_CPU_AHEAD_NS 30000000LL
/* stat is read at most this often per thread (every tick up to 2 kHz, every 5th at
 * 10 kHz): it is the most expensive part of a tick above that, and the kernel's CPU
 * counter moves at its own tick anyway. Between readings the state is the last one. */
#define SG_STATE_REFRESH_NS 500000LL
sg_thread_cpu sg_threadstat_cpu(sg_threadstat *ts, int64_t tid, int64_t period_ns,
                                int64_t now_ns);

/* Reads tid's state and the futex it waits on now, so that the next sg_threadstat_cpu
 * and sg_threadstat_futex_in of this tick use them: --blocking stops the threads before
 * they are sampled, and a stopped thread's state says nothing of what it was doing. */
void sg_threadstat_prime(sg_threadstat *ts, int64_t tid, int64_t now_ns);

/* True if tid is blocked in futex() on an address in [addr, addr + len), as of the last
 * reading of its state. */
bool sg_threadstat_futex_in(sg_threadstat *ts, int64_t tid, uint64_t addr, size_t len);

/* The kernel's name of the thread (comm), "" if unknown. */
void sg_threadstat_name(sg_threadstat *ts, int64_t tid, char *out, size_t len);

/* Closes the files of threads not asked about since the previous sweep. */
void sg_threadstat_sweep(sg_threadstat *ts);

#endif
