/* What one sampler tick costs on a live target, without the sleep between ticks: the
 * whole tick (walk every thread, read thread states, resolve, add to the profile), back
 * to back, in CPU time per tick, with the system calls it makes.
 * Usage: tick_bench PID [TICKS] [RATE_HZ]. RATE_HZ only sets the period used to decide
 * how often thread states are re-read (they are read at most every 0.5 ms): the ticks
 * are spaced by that period of busy-waiting so that the figure is the one the sampling
 * loop pays at that rate. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../src/core/base/sg_clock.h"
#include "../src/core/discover/sg_discover.h"
#include "../src/core/sample/sg_sampler.h"
#include "../src/core/walk/sg_walk.h"

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PID [TICKS] [RATE_HZ]\n", argv[0]);
        return 2;
    }
    sg_sampler_config cfg = {0};
    cfg.pid = atoi(argv[1]);
    int n = argc > 2 ? atoi(argv[2]) : 2000;
    cfg.rate_hz = argc > 3 ? atof(argv[3]) : 10000;
    cfg.clock = SG_CLOCK_WALL;
    sg_error err;
    sg_sampler *s = sg_sampler_new(&cfg, &err);
    if (!s || sg_sampler_tick(s, &err) != 0) {
        fprintf(stderr, "tick_bench: %s\n", err.msg);
        return 1;
    }
    int64_t period = (int64_t)(1e9 / cfg.rate_hz);
    int64_t busy = 0, failed = 0;
    int64_t next = sg_now_ns();
    for (int i = 0; i < n; i++) {
        while (sg_now_ns() < next)
            ; /* spacing without sleeping: only the tick's own CPU is counted */
        next += period;
        int64_t c0 = cpu_ns();
        failed += sg_sampler_tick(s, &err) != 0;
        busy += cpu_ns() - c0;
    }
    const sg_profile *p = sg_sampler_profile(s);
    size_t threads = sg_profile_ntracks(p);
    printf("python %s, %zu threads: %.1f us of CPU per tick over %d ticks at %.0f Hz "
           "(%lld failed)\n",
           sg_sampler_python_version(s), threads, (double)busy / n / 1e3, n, cfg.rate_hz,
           (long long)failed);
    sg_sampler_free(s);

    /* What one walk reads: regions, the spans they are read in, bytes, system calls. */
    sg_reader *r = sg_reader_remote_open(cfg.pid, &err);
    static sg_target t;
    if (!r || sg_discover(r, cfg.pid, &t, &err) != 0)
        return 0;
    sg_walker *w = sg_walker_new(r, &t, &err);
    sg_walk_result res;
    sg_walk_result_init(&res);
    for (int i = 0; w && i < 3; i++)
        sg_walk(w, &res, &err);
    uint64_t calls = r->nreads;
    sg_prefetch_stat st0, st;
    if (w) {
        sg_walker_stats(w, &st0);
        sg_walk(w, &res, &err);
        sg_walker_stats(w, &st);
        printf("  one walk: %zu regions in %zu spans, %zu bytes, %llu read calls, %llu reads "
               "on their own\n",
               st.regions, st.spans, st.bytes, (unsigned long long)(r->nreads - calls),
               (unsigned long long)(st.misses - st0.misses));
    }
    sg_walk_result_free(&res);
    sg_walker_free(w);
    sg_reader_free(r);
    return 0;
}
