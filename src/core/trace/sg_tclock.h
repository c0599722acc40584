/* The tracer's clock: one timestamp per traced event, so its cost is paid millions of
 * times a second. On x86-64, when the kernel itself keeps time with the TSC (its
 * clocksource is "tsc": invariant, synchronised across CPUs), a raw RDTSC costs about
 * a third of a vDSO clock_gettime here (29 ns against 80 ns on this VM); elsewhere
 * CLOCK_MONOTONIC is used and a tick is a nanosecond. Ticks become nanoseconds once,
 * when a profile is exported, with the rate measured against CLOCK_MONOTONIC.
 *
 * The thread CPU clock (CLOCK_THREAD_CPUTIME_ID) is a real system call (0.5-2 us
 * here); the tracer reads it only after long intervals (see sg_tthread.h). */
#ifndef SG_TCLOCK_H
#define SG_TCLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#define SG_TCLOCK_HAVE_TSC 1
#endif

/* True once sg_tclock_init chose the TSC. Process-wide: the clock is a property of the
 * machine, the same for every session and thread. */
extern __attribute__((visibility("hidden"))) bool sg_tclock_tsc;

/* Chooses the tick source once (later calls do nothing unless force_monotonic changes
 * the choice to CLOCK_MONOTONIC). */
void sg_tclock_init(bool force_monotonic);

static inline int64_t sg_tclock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline uint64_t sg_tclock_now(void)
{
#ifdef SG_TCLOCK_HAVE_TSC
    if (sg_tclock_tsc)
        return __rdtsc();
#endif
    return (uint64_t)sg_tclock_mono_ns();
}

/* The calling thread's CPU time in nanoseconds (a system call). */
int64_t sg_tclock_thread_cpu_ns(void);

/* Ticks per nanosecond measured between two (ticks, CLOCK_MONOTONIC ns) pairs: 1.0
 * when the tick source is CLOCK_MONOTONIC, 0.0 when the span (< 1 ms) is too short
 * to tell. */
double sg_tclock_rate(uint64_t t0, int64_t ns0, uint64_t t1, int64_t ns1);

#endif
