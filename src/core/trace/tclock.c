/* Choosing the tracer's tick source (see sg_tclock.h). */
#include "sg_tclock.h"

#include <stdio.h>
#include <string.h>

bool sg_tclock_tsc = false;

/* The kernel only keeps "tsc" as its clocksource when the TSC is invariant and
 * synchronised across CPUs; it demotes it (to hpet, kvm-clock...) otherwise. */
static bool kernel_trusts_tsc(void)
{
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f)
        return false;
    char buf[32] = {0};
    bool ok = fgets(buf, sizeof buf, f) != NULL && strncmp(buf, "tsc", 3) == 0 &&
              (buf[3] == '\n' || buf[3] == '\0');
    fclose(f);
    return ok;
}

void sg_tclock_init(bool force_monotonic)
{
    static bool done;
    if (force_monotonic) {
        sg_tclock_tsc = false;
        done = true;
        return;
    }
    if (done)
        return;
    done = true;
#ifdef SG_TCLOCK_HAVE_TSC
    sg_tclock_tsc = kernel_trusts_tsc();
#else
    (void)kernel_trusts_tsc;
#endif
}

int64_t sg_tclock_thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

double sg_tclock_rate(uint64_t t0, int64_t ns0, uint64_t t1, int64_t ns1)
{
    if (!sg_tclock_tsc)
        return 1.0;
    if (t1 <= t0 || ns1 - ns0 < 1000000)
        return 0.0;
    return (double)(t1 - t0) / (double)(ns1 - ns0);
}
