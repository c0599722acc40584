/* Writer benchmark: builds a synthetic sampled profile (10 million samples over 100,000
 * distinct stacks, depth 20-40, 3,000 functions, 8 threads) and times every format in
 * the writer table (sg_write_formats, so formats added later are measured too). Each
 * format runs in a fresh fork so its peak memory (getrusage maxrss of the child, less
 * what the child had resident when it started: the model) is its own.
 *
 *   make bench-writers  (or: build/bench/write_bench [samples] [stacks] [formats|all] [dir])
 *
 * formats: a comma-separated list (default all); dir: each output is also saved there
 * as dir/FORMAT, and the model as dir/model.pb.gz (for bench/visual_bench.py --profile).
 *
 * Deterministic: a fixed xorshift seed, so runs compare. Not part of `make test`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../src/core/profile/sg_profile.h"
#include "../src/core/write/sg_write.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long maxrss_kb(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ru.ru_maxrss;
}

/* Stacks share prefixes like real programs: each new stack copies a random earlier
 * stack's first part and continues with random frames. */
static sg_profile *build(long nsamples, long nstacks)
{
    enum { NFUNC = 3000, NFILE = 200, NTHREAD = 8, MAXD = 40, MIND = 20 };
    sg_profile *p = sg_profile_new();
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->rate_hz = 1000;
    m->interval_ns = 1000000;
    uint32_t tracks[NTHREAD];
    uint32_t pr = sg_profile_process(p, 4242);
    for (int t = 0; t < NTHREAD; t++)
        tracks[t] = sg_profile_track(p, pr, 5000 + (uint64_t)t);
    uint32_t fns[NFUNC];
    char buf[128];
    for (int i = 0; i < NFUNC; i++) {
        snprintf(buf, sizeof buf, "/srv/app/pkg%d/module%d.py", i % NFILE / 20, i % NFILE);
        uint32_t file = sg_profile_intern(p, buf, strlen(buf));
        snprintf(buf, sizeof buf, "Class%d.method_%d", i / 7, i);
        fns[i] = sg_profile_function(p, sg_profile_intern(p, buf, strlen(buf)), file, 10 + i);
    }
    uint32_t *leaves = malloc((size_t)nstacks * sizeof *leaves);
    uint32_t (*paths)[MAXD] = malloc((size_t)nstacks * sizeof *paths);
    uint8_t *depths = malloc((size_t)nstacks);
    if (!leaves || !paths || !depths)
        return NULL;
    for (long s = 0; s < nstacks; s++) {
        int depth = MIND + (int)(next() % (MAXD - MIND + 1)), keep = 0;
        if (s > 0) {
            long from = (long)(next() % (uint64_t)s);
            keep = (int)(next() % (uint64_t)(depths[from] < depth ? depths[from] : depth));
            memcpy(paths[s], paths[from], (size_t)keep * sizeof paths[s][0]);
        }
        uint32_t node = SG_ROOT;
        for (int d = 0; d < depth; d++) {
            if (d >= keep) {
                uint32_t f = fns[next() % NFUNC];
                paths[s][d] = sg_profile_location(p, f, (int32_t)(20 + next() % 50));
            }
            node = sg_profile_child(p, node, paths[s][d]);
        }
        depths[s] = (uint8_t)depth;
        leaves[s] = node;
    }
    int64_t one[SG_MAX_VALUES] = {1};
    for (long i = 0; i < nsamples; i++) {
        /* a skewed choice: some stacks are much hotter than others */
        uint64_t r = next();
        long s = (long)((r % (uint64_t)nstacks) * ((r >> 40) % 4 == 0 ? 1 : 0) +
                        (r >> 40) % (uint64_t)(nstacks / 16 + 1));
        uint32_t flags = (r >> 20) & 3;
        sg_profile_add(p, tracks[(r >> 32) % NTHREAD], leaves[s % nstacks], flags, one);
    }
    free(leaves);
    free(paths);
    free(depths);
    return p;
}

int main(int argc, char **argv)
{
    long nsamples = argc > 1 ? atol(argv[1]) : 10000000;
    long nstacks = argc > 2 ? atol(argv[2]) : 100000;
    double t0 = now();
    sg_profile *p = build(nsamples, nstacks);
    if (!p || sg_profile_oom(p)) {
        fprintf(stderr, "write_bench: out of memory building the profile\n");
        return 1;
    }
    long base_kb = maxrss_kb(RUSAGE_SELF);
    printf("model: %ld samples, %ld stacks, %zu nodes, %zu records, %zu functions, "
           "built in %.2f s, %.0f MiB resident\n",
           nsamples, nstacks, sg_profile_nnodes(p), sg_profile_nrecords(p),
           sg_profile_nfunctions(p), now() - t0, base_kb / 1024.0);
    printf("%-12s %10s %12s %14s\n", "format", "seconds", "output MiB", "extra peak MiB");
    char formats[512];
    snprintf(formats, sizeof formats, "%s",
             argc > 3 && strcmp(argv[3], "all") ? argv[3] : sg_write_formats());
    if (argc > 4) {
        char path[4096];
        sg_error err;
        snprintf(path, sizeof path, "%s/model.pb.gz", argv[4]);
        if (sg_profile_save(p, path, &err)) {
            fprintf(stderr, "write_bench: %s: %s\n", path, err.msg);
            return 1;
        }
    }
    for (char *save = NULL, *f = strtok_r(formats, ",", &save); f;
         f = strtok_r(NULL, ",", &save)) {
        int fd[2];
        if (pipe(fd) != 0)
            return 1;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            sg_buf out;
            sg_buf_init(&out);
            sg_error err;
            long start_kb = maxrss_kb(RUSAGE_SELF); /* the inherited model, as resident now */
            double a = now();
            int rc = sg_write(p, f, NULL, &out, &err);
            double secs = now() - a;
            long kb = maxrss_kb(RUSAGE_SELF);
            if (!rc && argc > 4) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[4], f);
                FILE *fp = fopen(path, "wb");
                if (!fp || fwrite(out.data, 1, out.len, fp) != out.len || fclose(fp))
                    _exit(2);
            }
            char line[256];
            int n = rc ? snprintf(line, sizeof line, "%-12s failed: %s\n", f, err.msg)
                       : snprintf(line, sizeof line, "%-12s %10.3f %12.1f %14.1f\n", f, secs,
                                  out.len / 1048576.0, (kb - start_kb) / 1024.0);
            if (write(fd[1], line, (size_t)n) != n)
                _exit(1);
            _exit(rc ? 1 : 0);
        }
        close(fd[1]);
        char line[256];
        ssize_t n = read(fd[0], line, sizeof line - 1);
        close(fd[0]);
        int status;
        waitpid(pid, &status, 0);
        if (n > 0) {
            line[n] = '\0';
            fputs(line, stdout);
        } else {
            printf("%-12s crashed (status %d)\n", f, status);
        }
    }
    sg_profile_free(p);
    return 0;
}
