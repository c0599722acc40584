/* sg_pause: see sg_pause.h. What the waits must get right:
 *  - the target's main thread may be our own child (spyglass run): its exit status is
 *    its parent's to collect, never ours, so stops are looked at with WNOWAIT first and
 *    only stops are consumed;
 *  - a signal that arrives while we wait for our stop is a signal-delivery-stop: it is
 *    passed on at once (PTRACE_CONT with it) and our interrupt stop follows;
 *  - a job-control stop (Ctrl-Z, SIGSTOP) of the target is left as it is (PTRACE_LISTEN
 *    instead of PTRACE_CONT);
 *  - a thread that does not stop within STOP_WAIT_NS (in an uninterruptible sleep) is
 *    not held this tick; its stop is collected at a later one. */
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/sg_clock.h"
#include "../base/sg_grow.h"
#include "sg_pause.h"

#define STOP_WAIT_NS 20000000LL
/* A running thread stops within microseconds of the interrupt: it is waited for by
 * yielding first (a sleep costs 60-100 us on a VM), then by short sleeps. */
#define YIELD_NS 300000LL
#define POLL_NS 20000L
#define SIGNAL_ROUNDS 8

typedef struct {
    int64_t tid;
    bool seen;      /* listed at the last sg_pause_list */
    bool held;      /* stopped by us now */
    bool asked;     /* interrupted, stop not collected yet */
    bool listen;    /* stopped by job control: resume with PTRACE_LISTEN */
} pthread_state;

struct sg_pause {
    int pid;
    int64_t held_at; /* when the last stop was collected */
    pthread_state *t;
    size_t n, cap;
    int64_t *listed;
    size_t nlisted, cap_listed;
};

sg_pause *sg_pause_new(int pid)
{
    sg_pause *p = calloc(1, sizeof *p);
    if (p)
        p->pid = pid;
    return p;
}

static long pt(int req, int64_t tid, long data)
{
    return ptrace((enum __ptrace_request)req, (pid_t)tid, NULL, (void *)data);
}

enum { W_HELD, W_GONE, W_LATE };

/* Collects the stop of a thread we interrupted. */
static int collect_stop(sg_pause *p, pthread_state *th)
{
    int64_t start = sg_now_ns(), deadline = start + STOP_WAIT_NS;
    for (int round = 0; round < SIGNAL_ROUNDS;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)th->tid, &si, WSTOPPED | WEXITED | WNOHANG | WNOWAIT | __WALL) != 0)
            return errno == EINTR ? W_LATE : W_GONE; /* ECHILD: not traced by us any more */
        if (si.si_pid == 0) { /* nothing to report yet */
            int64_t now = sg_now_ns();
            if (now >= deadline)
                return W_LATE;
            if (now - start < YIELD_NS)
                sched_yield();
            else
                nanosleep(&(struct timespec){0, POLL_NS}, NULL);
            continue;
        }
        if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
            /* the main thread's exit belongs to the program's parent */
            if (th->tid != p->pid)
                waitpid((pid_t)th->tid, NULL, __WALL | WNOHANG);
            return W_GONE;
        }
        int status = 0;
        if (waitpid((pid_t)th->tid, &status, __WALL | WNOHANG) <= 0 || !WIFSTOPPED(status))
            return W_GONE;
        int sig = WSTOPSIG(status);
        if (status >> 16 == PTRACE_EVENT_STOP) {
            th->listen = sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
            return W_HELD;
        }
        /* a signal on its way to the thread: deliver it, our stop comes after */
        round++;
        if (pt(PTRACE_CONT, th->tid, sig) != 0)
            return W_GONE;
    }
    return W_LATE;
}

static bool listed(const sg_pause *p, int64_t tid)
{
    for (size_t i = 0; i < p->nlisted; i++)
        if (p->listed[i] == tid)
            return true;
    return false;
}

int sg_pause_list(sg_pause *p, const int64_t **tids, size_t *n, sg_error *err)
{
    if (p->pid == getpid())
        return sg_fail(err, SG_E_ARG, 0, "a process cannot stop its own threads to sample them");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", p->pid);
    DIR *d = opendir(path);
    if (!d)
        return sg_fail(err, SG_E_NO_PROCESS, errno, "process %d has ended", p->pid);
    p->nlisted = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long long tid = strtoll(e->d_name, &end, 10);
        if (*end || tid <= 0)
            continue;
        if (!sg_grow((void **)&p->listed, &p->cap_listed, p->nlisted + 1, sizeof *p->listed, 64)) {
            closedir(d);
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while sampling");
        }
        p->listed[p->nlisted++] = tid;
    }
    closedir(d);
    /* threads gone since the last tick are forgotten (their exit, if we were told of it,
     * collected); new ones are attached, which does not stop them */
    size_t keep = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (listed(p, p->t[i].tid))
            p->t[keep++] = p->t[i];
        else if (p->t[i].tid != p->pid)
            waitpid((pid_t)p->t[i].tid, NULL, __WALL | WNOHANG);
    }
    p->n = keep;
    for (size_t i = 0; i < p->nlisted; i++) {
        int64_t tid = p->listed[i];
        bool known = false;
        for (size_t k = 0; k < p->n && !known; k++)
            known = p->t[k].tid == tid;
        if (known)
            continue;
        if (pt(PTRACE_SEIZE, tid, 0) != 0) {
            if (errno == ESRCH)
                continue; /* gone already */
            int e2 = errno;
            return sg_fail(err, e2 == EPERM || e2 == EACCES ? SG_E_PERMISSION : SG_E_READ, e2,
                           "cannot stop the threads of process %d (--blocking uses ptrace): "
                           "%s; run as the same user with kernel.yama.ptrace_scope 0, as "
                           "root, or with CAP_SYS_PTRACE",
                           p->pid, strerror(e2));
        }
        if (!sg_grow((void **)&p->t, &p->cap, p->n + 1, sizeof *p->t, 16))
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while sampling");
        p->t[p->n++] = (pthread_state){.tid = tid};
    }
    *tids = p->listed;
    *n = p->nlisted;
    return 0;
}

size_t sg_pause_stop(sg_pause *p)
{
    for (size_t i = 0; i < p->n; i++) {
        pthread_state *th = &p->t[i];
        th->held = false;
        if (!th->asked && pt(PTRACE_INTERRUPT, th->tid, 0) == 0)
            th->asked = true;
    }
    size_t held = 0;
    for (size_t i = 0; i < p->n; i++) {
        pthread_state *th = &p->t[i];
        if (!th->asked)
            continue;
        int w = collect_stop(p, th);
        if (w == W_HELD) {
            th->held = true;
            th->asked = false;
            held++;
            p->held_at = sg_now_ns();
        } else if (w == W_GONE) {
            th->asked = false;
        }
    }
    return held;
}

/* A thread reports its stop just before it leaves its CPU. Told to go on in between,
 * the kernel waits for it to be off the CPU's queue, and then sleeps a whole scheduler
 * tick (4 ms here) before looking again: a sample taken in microseconds would cost the
 * target 4 ms. So the threads are given this long to leave their CPUs first. */
#define SETTLE_NS 50000LL

void sg_pause_resume(sg_pause *p)
{
    while (sg_now_ns() - p->held_at < SETTLE_NS)
        sched_yield();
    for (size_t i = 0; i < p->n; i++) {
        pthread_state *th = &p->t[i];
        if (th->held)
            pt(th->listen ? PTRACE_LISTEN : PTRACE_CONT, th->tid, 0);
        th->held = false;
    }
}

void sg_pause_free(sg_pause *p)
{
    if (!p)
        return;
    /* A thread must be stopped to be detached: stop the ones running, let go of all. */
    for (size_t i = 0; i < p->n; i++) {
        pthread_state *th = &p->t[i];
        if (!th->held && !th->asked && pt(PTRACE_INTERRUPT, th->tid, 0) == 0)
            th->asked = true;
    }
    for (size_t i = 0; i < p->n; i++) {
        pthread_state *th = &p->t[i];
        if (!th->held && th->asked)
            th->held = collect_stop(p, th) == W_HELD;
        if (th->held)
            pt(PTRACE_DETACH, th->tid, 0);
        /* one not stopped is detached by the kernel when this thread ends */
    }
    free(p->t);
    free(p->listed);
    free(p);
}
