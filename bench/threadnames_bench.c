/* What reading thread names costs on a live target: the time and memory regions of one
 * refresh of the name cache (forced, as if due), next to one walk of every thread's
 * stack (what the sampler does at every tick). Usage: threadnames_bench PID [N]. */
#include <stdio.h>
#include <stdlib.h>

#include "../src/core/base/sg_clock.h"
#include "../src/core/discover/sg_discover.h"
#include "../src/core/sample/sg_threadnames.h"
#include "../src/core/walk/sg_walk.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PID [N]\n", argv[0]);
        return 2;
    }
    int pid = atoi(argv[1]);
    int n = argc > 2 ? atoi(argv[2]) : 200;
    sg_error err;
    sg_reader *r = sg_reader_remote_open(pid, &err);
    static sg_target t;
    if (!r || sg_discover(r, pid, &t, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    sg_walker *w = sg_walker_new(r, &t, &err);
    sg_threadnames *names = sg_threadnames_new(r, &t);
    sg_walk_result res;
    sg_walk_result_init(&res);
    if (!w || !names || sg_walk(w, &res, &err) != 0) {
        fprintf(stderr, "walk failed: %s\n", err.msg);
        return 1;
    }
    int64_t t0 = sg_now_ns();
    for (int i = 0; i < n; i++)
        sg_walk(w, &res, &err);
    int64_t walk_ns = (sg_now_ns() - t0) / n;

    int64_t fake_now = 1;
    sg_threadnames_update(names, &res, fake_now); /* the first: no hints yet */
    uint64_t refreshes, first_regions;
    sg_threadnames_stats(names, &refreshes, &first_regions);
    t0 = sg_now_ns();
    for (int i = 0; i < n; i++) {
        fake_now += 2 * SG_THREADNAMES_EVERY_NS; /* always due */
        sg_threadnames_update(names, &res, fake_now);
    }
    int64_t refresh_ns = (sg_now_ns() - t0) / n;
    uint64_t regions;
    sg_threadnames_stats(names, &refreshes, &regions);
    size_t named = 0;
    for (size_t i = 0; i < res.nthreads; i++) {
        const sg_raw_thread *th = &res.threads[i];
        uint64_t tid = th->native_tid > 0 ? (uint64_t)th->native_tid : th->pthread_id;
        named += sg_threadnames_get(names, tid) != NULL;
    }
    printf("Python %s, %zu threads (%zu named)\n", t.version, res.nthreads, named);
    printf("walk of every thread:   %8.1f us\n", walk_ns / 1e3);
    printf("first refresh:          %8llu regions read\n", (unsigned long long)first_regions);
    printf("refresh (hints warm):   %8.1f us, %llu regions read\n", refresh_ns / 1e3,
           (unsigned long long)((regions - first_regions) / (uint64_t)n));
    printf("at one refresh a second: %.3f%% of a core; every 200 ms: %.3f%%\n",
           refresh_ns / 1e7, refresh_ns / 2e6);
    sg_threadnames_free(names);
    sg_walk_result_free(&res);
    sg_walker_free(w);
    sg_reader_free(r);
    return 0;
}
