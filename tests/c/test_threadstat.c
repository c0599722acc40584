/* sample/threadstat.c on this process's own threads: a busy thread is charged the CPU
 * time it used, a blocked one nothing, and a thread that is runnable at every look but
 * hardly uses the CPU no more than it used plus the allowance. */
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../../src/core/sample/sg_threadstat.h"
#include "sg_test.h"

#define MS 1000000LL

static int64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t self_tid(void) { return (int64_t)syscall(SYS_gettid); }

static void test_busy_thread_is_charged_its_cpu(void)
{
    sg_threadstat *ts = sg_threadstat_new(getpid());
    int64_t tid = self_tid();
    int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    long charged = 0, looks = 0, not_runnable = 0;
    int64_t next = clock_ns(CLOCK_MONOTONIC);
    while (clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0 < 400 * MS) {
        if (clock_ns(CLOCK_MONOTONIC) < next)
            continue; /* spinning: the CPU time to be charged */
        next += MS;
        sg_thread_cpu c = sg_threadstat_cpu(ts, tid, MS, clock_ns(CLOCK_MONOTONIC));
        charged += c.charge;
        not_runnable += c.runnable != 1;
        looks++;
    }
    int64_t used = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    fprintf(stderr, "    %ld looks, %ld periods charged for %lld ms of CPU\n", looks, charged,
            (long long)(used / MS));
    SG_CHECK_EQ_INT(not_runnable, 0);
    /* The kernel's counter trails by up to a clock tick plus its own tick. */
    SG_CHECK(charged * MS >= used - 40 * MS);
    SG_CHECK(charged * MS <= used + SG_CPU_AHEAD_NS + MS);
    sg_threadstat_free(ts);
}

static void *blocked(void *arg)
{
    int fd = *(int *)arg;
    char c;
    return read(fd, &c, 1) == 1 ? NULL : arg;
}

static void test_blocked_thread_is_not_charged(void)
{
    int fds[2];
    SG_CHECK(pipe(fds) == 0);
    pthread_t th;
    pthread_create(&th, NULL, blocked, &fds[0]);
    /* Its TID: the one task of ours that is not this thread, once it blocks. */
    struct timespec pause = {0, 50 * MS};
    nanosleep(&pause, NULL);
    int64_t tid = 0;
    char path[64];
    for (int64_t t = self_tid() + 1; t < self_tid() + 1000 && !tid; t++) {
        snprintf(path, sizeof path, "/proc/self/task/%lld", (long long)t);
        if (access(path, F_OK) == 0)
            tid = t;
    }
    SG_CHECK(tid != 0);
    sg_threadstat *ts = sg_threadstat_new(getpid());
    long charged = 0, runnable = 0;
    for (int i = 0; i < 100; i++) {
        sg_thread_cpu c = sg_threadstat_cpu(ts, tid, MS, clock_ns(CLOCK_MONOTONIC));
        charged += c.charge;
        runnable += c.runnable == 1;
        struct timespec tick = {0, MS};
        nanosleep(&tick, NULL);
    }
    SG_CHECK_EQ_INT(charged, 0);
    SG_CHECK_EQ_INT(runnable, 0);
    SG_CHECK(write(fds[1], "x", 1) == 1);
    pthread_join(th, NULL);
    close(fds[0]);
    close(fds[1]);
    sg_threadstat_free(ts);
}

/* Looking at itself, a thread is always runnable, like one that wakes for a moment at
 * every sample; its charge is bounded by what it used plus the allowance. */
static void test_always_runnable_idle_thread_is_bounded(void)
{
    sg_threadstat *ts = sg_threadstat_new(getpid());
    int64_t tid = self_tid();
    int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    long charged = 0, runnable = 0;
    for (int i = 0; i < 400; i++) {
        sg_thread_cpu c = sg_threadstat_cpu(ts, tid, MS, clock_ns(CLOCK_MONOTONIC));
        charged += c.charge;
        runnable += c.runnable == 1;
        struct timespec tick = {0, MS};
        nanosleep(&tick, NULL);
    }
    int64_t used = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    fprintf(stderr, "    400 looks while runnable, %ld periods charged for %.1f ms of CPU\n",
            charged, (double)used / MS);
    SG_CHECK_EQ_INT(runnable, 400);
    SG_CHECK(charged * MS <= used + SG_CPU_AHEAD_NS + 20 * MS);
    sg_threadstat_free(ts);
}

static void test_unknown_thread(void)
{
    sg_threadstat *ts = sg_threadstat_new(getpid());
    sg_thread_cpu c = sg_threadstat_cpu(ts, 0x7ffffff0, MS, clock_ns(CLOCK_MONOTONIC));
    SG_CHECK_EQ_INT(c.runnable, -1);
    SG_CHECK_EQ_INT(c.charge, 0);
    c = sg_threadstat_cpu(ts, -5, MS, clock_ns(CLOCK_MONOTONIC));
    SG_CHECK_EQ_INT(c.runnable, -1);
    sg_threadstat_free(ts);
}

int main(void)
{
    SG_RUN(test_busy_thread_is_charged_its_cpu);
    SG_RUN(test_blocked_thread_is_not_charged);
    SG_RUN(test_always_runnable_idle_thread_is_bounded);
    SG_RUN(test_unknown_thread);
    SG_TEST_MAIN_END();
}
