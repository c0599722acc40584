#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/sg_grow.h"
#include "../base/sg_map.h"
#include "sg_threadstat.h"

typedef struct {
    int64_t tid;
    int stat_fd;
    int syscall_fd;
    bool used;
    /* The last reading of stat, reused until it is SG_STATE_REFRESH_NS old. */
    bool stat_fresh;
    bool runnable;
    bool has_counter;
    int64_t stat_at;
    bool seen_cpu;   /* cpu_ns holds a reading */
    int64_t cpu_ns;  /* utime + stime at the last reading */
    int64_t credit;  /* CPU time used and not yet charged (negative: charged ahead) */
    /* The futex the thread waited on at that reading (0: none), once asked. */
    bool futex_known;
    uint64_t futex_addr;
} tfiles;

struct sg_threadstat {
    int pid;
    int64_t ns_per_clock_tick;
    sg_map index; /* tid -> slot + 1 */
    tfiles *slots;
    size_t n, cap;
};

sg_threadstat *sg_threadstat_new(int pid)
{
    sg_threadstat *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->pid = pid;
    long hz = sysconf(_SC_CLK_TCK);
    ts->ns_per_clock_tick = hz > 0 ? 1000000000LL / hz : 10000000LL;
    sg_map_init(&ts->index);
    return ts;
}

static void close_slot(tfiles *f)
{
    if (f->stat_fd >= 0)
        close(f->stat_fd);
    if (f->syscall_fd >= 0)
        close(f->syscall_fd);
    f->stat_fd = f->syscall_fd = -1;
}

void sg_threadstat_free(sg_threadstat *ts)
{
    if (!ts)
        return;
    for (size_t i = 0; i < ts->n; i++)
        close_slot(&ts->slots[i]);
    free(ts->slots);
    sg_map_free(&ts->index);
    free(ts);
}

static int open_task_file(int pid, int64_t tid, const char *what)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%lld/%s", pid, (long long)tid, what);
    return open(path, O_RDONLY | O_CLOEXEC);
}

static tfiles *slot_for(sg_threadstat *ts, int64_t tid)
{
    if (tid <= 0)
        return NULL;
    uint64_t *v = sg_map_get(&ts->index, (uint64_t)tid);
    if (v) {
        ts->slots[*v - 1].used = true;
        return &ts->slots[*v - 1];
    }
    if (!sg_grow((void **)&ts->slots, &ts->cap, ts->n + 1, sizeof *ts->slots, 16))
        return NULL;
    int fd = open_task_file(ts->pid, tid, "stat");
    if (fd < 0)
        return NULL;
    if (!sg_map_put(&ts->index, (uint64_t)tid, ts->n + 1)) {
        close(fd);
        return NULL;
    }
    tfiles *f = &ts->slots[ts->n++];
    f->tid = tid;
    f->stat_fd = fd;
    f->syscall_fd = -1;
    f->used = true;
    f->seen_cpu = f->stat_fresh = f->futex_known = false;
    f->cpu_ns = f->credit = 0;
    return f;
}

/* Reads the thread's state and CPU counter; 0, or -1 if the thread is gone. */
static int refresh_stat(sg_threadstat *ts, tfiles *f)
{
    char buf[512];
    ssize_t n = pread(f->stat_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name may itself contain ')': the state follows the last one. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return -1;
    f->runnable = p[2] == 'R';
    /* After the state: ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt, then utime and stime in clock ticks. */
    unsigned long long utime, stime;
    f->has_counter = sscanf(p + 3, " %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            &utime, &stime) == 2 &&
                     utime < (1ULL << 40) && stime < (1ULL << 40);
    if (f->has_counter) {
        int64_t now = (int64_t)(utime + stime) * ts->ns_per_clock_tick;
        if (f->seen_cpu && now > f->cpu_ns)
            f->credit += now - f->cpu_ns;
        f->cpu_ns = now;
        f->seen_cpu = true;
    }
    return 0;
}

sg_thread_cpu sg_threadstat_cpu(sg_threadstat *ts, int64_t tid, int64_t period_ns,
                                int64_t now_ns)
{
    sg_thread_cpu out = {-1, 0};
    tfiles *f = slot_for(ts, tid);
    if (!f)
        return out;
    if (!f->stat_fresh || now_ns - f->stat_at >= SG_STATE_REFRESH_NS || now_ns < f->stat_at) {
        f->futex_known = false;
        if (refresh_stat(ts, f) != 0) {
            f->stat_fresh = false;
            return out;
        }
        f->stat_at = now_ns;
        f->stat_fresh = true;
    }
    out.runnable = f->runnable;
    if (!f->has_counter) {
        out.charge = out.runnable; /* no CPU counter: the state is all there is */
        return out;
    }
    if (!out.runnable || period_ns <= 0)
        return out;
    if (f->credit >= period_ns)
        out.charge = (int)(f->credit / period_ns < 1000 ? f->credit / period_ns : 1000);
    else if (f->credit - period_ns >= -SG_CPU_AHEAD_NS)
        out.charge = 1;
    f->credit -= (int64_t)out.charge * period_ns;
    return out;
}

void sg_threadstat_prime(sg_threadstat *ts, int64_t tid, int64_t now_ns)
{
    tfiles *f = slot_for(ts, tid);
    if (!f)
        return;
    f->futex_known = false;
    if (refresh_stat(ts, f) != 0) {
        f->stat_fresh = false;
        return;
    }
    f->stat_at = now_ns;
    f->stat_fresh = true;
    sg_threadstat_futex_in(ts, tid, 1, 1); /* reads the syscall file now */
}

bool sg_threadstat_futex_in(sg_threadstat *ts, int64_t tid, uint64_t addr, size_t len)
{
    if (!addr || !len)
        return false;
    tfiles *f = slot_for(ts, tid);
    if (!f)
        return false;
    if (!f->futex_known) {
        f->futex_known = true;
        f->futex_addr = 0;
        if (f->syscall_fd < 0 &&
            (f->syscall_fd = open_task_file(ts->pid, tid, "syscall")) < 0)
            return false;
        char buf[256];
        ssize_t n = pread(f->syscall_fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
            return false;
        buf[n] = '\0';
        /* "NR arg1 arg2 ..." with hexadecimal arguments; arg1 of futex is the address. */
        char *end;
        long nr = strtol(buf, &end, 10);
        if (end == buf || nr != SYS_futex)
            return false;
        f->futex_addr = strtoull(end, NULL, 16);
    }
    return f->futex_addr >= addr && f->futex_addr - addr < len;
}

void sg_threadstat_name(sg_threadstat *ts, int64_t tid, char *out, size_t len)
{
    if (!len)
        return;
    out[0] = '\0';
    int fd = open_task_file(ts->pid, tid, "comm");
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, len - 1);
    close(fd);
    if (n <= 0) {
        out[0] = '\0';
        return;
    }
    out[n] = '\0';
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
}

void sg_threadstat_sweep(sg_threadstat *ts)
{
    for (size_t i = 0; i < ts->n;) {
        tfiles *f = &ts->slots[i];
        if (f->used) {
            f->used = false;
            i++;
            continue;
        }
        close_slot(f);
        sg_map_del(&ts->index, (uint64_t)f->tid);
        size_t last = ts->n - 1;
        if (i != last) { /* move the last slot into the hole */
            ts->slots[i] = ts->slots[last];
            sg_map_put(&ts->index, (uint64_t)ts->slots[i].tid, i + 1);
        }
        ts->n--;
    }
}
