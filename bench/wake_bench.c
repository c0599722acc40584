/* What waiting for the next tick costs by itself, with no sampling at all: the floor
 * under the sampler's CPU per tick on this machine. Sleeps to absolute deadlines as the
 * sampler does (1 ns timer slack), then the same with deadlines closer than 20 us waited
 * for by reading the clock (the sampler's wait_until). Prints CPU per tick and how late
 * the wake-ups were.
 *
 * Usage: wake_bench [SECONDS]   (make bench-wake) */

#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void wait_for(long long t, long long spin_below)
{
    long long left = t - now_ns();
    if (left <= 0)
        return;
    if (left < spin_below) {
        while (now_ns() < t)
            ;
        return;
    }
    struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
        ;
}

static void one(long long rate, long long spin_below, double seconds)
{
    long long period = 1000000000LL / rate, ticks = (long long)(seconds * (double)rate);
    long long next = now_ns(), late = 0;
    double c0 = cpu_s();
    for (long long i = 0; i < ticks; i++) {
        next += period;
        wait_for(next, spin_below);
        late += now_ns() - next;
    }
    double cpu = cpu_s() - c0;
    printf("%7lld Hz, %s: %6.2f us of CPU per tick (%5.1f%% of a core), %6.1f us late\n", rate,
           spin_below ? "spin under 20 us" : "always sleep    ", 1e6 * cpu / (double)ticks,
           100.0 * cpu / seconds, (double)late / (double)ticks / 1e3);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    if (seconds <= 0)
        seconds = 1.0;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const long long rates[] = {1000, 10000, 50000, 100000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        one(rates[i], 0, seconds);
        one(rates[i], 20000, seconds);
    }
    return 0;
}
