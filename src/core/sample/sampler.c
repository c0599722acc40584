/* The loop and the glue between walker, symbol cache, thread states and the model.
 * Timing: ticks are scheduled on CLOCK_MONOTONIC with absolute sleeps and a timer
 * slack of 1 ns (the default 50 us slack would cap us near 10 kHz); each interval is
 * jittered uniformly in [0.5, 1.5) periods so periodic code cannot alias with the
 * sampler (py-spy does the same, benfred/py-spy timer.rs). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "../base/sg_clock.h"
#include "../base/sg_grow.h"
#include "../discover/sg_discover.h"
#include "../mem/sg_reader.h"
#include "../walk/sg_walk.h"
#include "sg_sampler.h"
#include "sg_symbols.h"
#include "sg_threadstat.h"

#define EXE_CHECK_NS 100000000LL    /* how often we look for an exec */
#define DISCOVER_RETRY_NS 20000000LL /* while waiting for Python to appear */
#define SWEEP_TICKS 256
/* A tick late by less than this is still taken (wake-ups are late by tens of
 * microseconds, a tenth of a period at 10 kHz); later ones are dropped, so a stall
 * never turns into a burst of samples of the same moment. */
#define LATE_LIMIT_NS 10000000LL

struct sg_sampler {
    sg_sampler_config cfg;
    char *root_skip_file;
    sg_reader *reader;
    sg_threadstat *threads;
    sg_profile *profile;
    uint32_t process;
    /* per-incarnation state (rebuilt after an exec) */
    sg_target target;
    bool have_target;
    sg_walker *walker;
    sg_symbols *symbols;
    sg_walk_result res;
    char exe[4096];
    uint32_t *stack; /* scratch: location ids root first */
    size_t stack_cap;
    uint64_t rng;
};

static void read_exe(int pid, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, out, len - 1);
    out[n > 0 ? n : 0] = '\0';
}

static void read_cmdline(int pid, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(out, 1, len - 1, f);
    fclose(f);
    while (n > 0 && out[n - 1] == '\0')
        n--;
    for (size_t i = 0; i < n; i++)
        if (out[i] == '\0')
            out[i] = ' ';
    out[n] = '\0';
}

sg_sampler *sg_sampler_new(const sg_sampler_config *cfg, sg_error *err)
{
    if (cfg->rate_hz <= 0 || cfg->rate_hz > 1e6) {
        sg_fail(err, SG_E_ARG, 0, "the sampling rate must be between 1 and 1000000 Hz");
        return NULL;
    }
    sg_sampler *s = calloc(1, sizeof *s);
    if (!s) {
        sg_fail(err, SG_E_NOMEM, 0, "allocating the sampler");
        return NULL;
    }
    s->cfg = *cfg;
    if (cfg->root_skip_file && !(s->root_skip_file = strdup(cfg->root_skip_file)))
        goto oom;
    s->cfg.root_skip_file = s->root_skip_file;
    sg_walk_result_init(&s->res);
    s->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)sg_now_ns();
    s->reader = sg_reader_remote_open(cfg->pid, err);
    if (!s->reader) {
        sg_sampler_free(s);
        return NULL;
    }
    s->threads = sg_threadstat_new(cfg->pid);
    s->profile = sg_profile_new();
    if (!s->threads || !s->profile)
        goto oom;
    const char *types[2] = {"samples", cfg->clock == SG_CLOCK_CPU ? "cpu" : "wall"};
    const char *units[2] = {"count", "nanoseconds"};
    sg_profile_set_value_types(s->profile, 2, types, units);
    sg_profile_meta *m = sg_profile_meta_of(s->profile);
    m->mode = SG_MODE_SAMPLE;
    m->clock = cfg->clock;
    m->rate_hz = cfg->rate_hz;
    s->process = sg_profile_process(s->profile, (uint32_t)cfg->pid);
    if (s->process == SG_NONE)
        goto oom;
    return s;
oom:
    sg_sampler_free(s);
    sg_fail(err, SG_E_NOMEM, 0, "allocating the sampler");
    return NULL;
}

static void drop_target(sg_sampler *s)
{
    sg_symbols_free(s->symbols);
    sg_walker_free(s->walker);
    s->symbols = NULL;
    s->walker = NULL;
    s->have_target = false;
}

void sg_sampler_free(sg_sampler *s)
{
    if (!s)
        return;
    drop_target(s);
    sg_walk_result_free(&s->res);
    sg_threadstat_free(s->threads);
    sg_reader_free(s->reader);
    sg_profile_free(s->profile);
    free(s->stack);
    free(s->root_skip_file);
    free(s);
}

const sg_profile *sg_sampler_profile(const sg_sampler *s) { return s->profile; }

sg_profile *sg_sampler_take_profile(sg_sampler *s)
{
    sg_profile *p = s->profile;
    s->profile = NULL;
    return p;
}

const char *sg_sampler_python_version(const sg_sampler *s)
{
    return s->have_target ? s->target.version : "";
}

static sg_process *process_of(sg_sampler *s)
{
    return &sg_profile_processes(s->profile)[s->process];
}

/* Tries to find the runtime. Returns 1 when found, 0 to retry later, -1 on a final error. */
static int try_discover(sg_sampler *s, sg_error *err)
{
    sg_error derr;
    sg_error_clear(&derr);
    if (sg_discover(s->reader, s->cfg.pid, &s->target, &derr) != 0) {
        if (derr.code == SG_E_NO_PROCESS)
            return sg_fail(err, SG_E_NO_PROCESS, derr.errnum, "%s", derr.msg);
        bool transient = derr.code == SG_E_NOT_PYTHON || derr.code == SG_E_NOT_READY ||
                         derr.code == SG_E_READ || derr.code == SG_E_ELF;
        if (transient && s->cfg.wait_for_python) {
            *err = derr;
            return 0;
        }
        *err = derr;
        return -1;
    }
    s->walker = sg_walker_new(s->reader, &s->target, err);
    if (!s->walker)
        return -1;
    s->symbols = sg_symbols_new(s->reader, &s->target, s->profile, s->root_skip_file, err);
    if (!s->symbols) {
        drop_target(s);
        return -1;
    }
    s->have_target = true;
    read_exe(s->cfg.pid, s->exe, sizeof s->exe);
    char cmd[4096];
    read_cmdline(s->cfg.pid, cmd, sizeof cmd);
    sg_process *proc = process_of(s);
    proc->cmdline = sg_profile_intern(s->profile, cmd, strlen(cmd));
    proc->python_version =
        sg_profile_intern(s->profile, s->target.version, strlen(s->target.version));
    return 1;
}

int sg_sampler_prepare(sg_sampler *s, sg_error *err)
{
    if (s->have_target)
        return 0;
    int d = try_discover(s, err);
    if (d > 0)
        return 0;
    return -1; /* err was filled by try_discover, transient or not */
}

static bool push_loc(sg_sampler *s, size_t n, uint32_t loc)
{
    if (!sg_grow((void **)&s->stack, &s->stack_cap, n + 1, sizeof *s->stack, 256))
        return false;
    s->stack[n] = loc;
    return true;
}

static uint32_t track_for(sg_sampler *s, int64_t tid)
{
    size_t before = sg_profile_ntracks(s->profile);
    uint32_t t = sg_profile_track(s->profile, s->process, (uint64_t)tid);
    if (t == SG_NONE || sg_profile_ntracks(s->profile) == before)
        return t;
    sg_track *tr = &sg_profile_tracks(s->profile)[t];
    tr->is_main = tid == s->cfg.pid;
    char name[64];
    if (tr->is_main) {
        snprintf(name, sizeof name, "MainThread");
    } else {
        /* CPython before 3.14 leaves every thread with the process's own name; only a
         * name set by the program tells threads apart. */
        char main_name[64];
        sg_threadstat_name(s->threads, tid, name, sizeof name);
        sg_threadstat_name(s->threads, s->cfg.pid, main_name, sizeof main_name);
        if (!name[0] || strcmp(name, main_name) == 0)
            snprintf(name, sizeof name, "Thread");
    }
    tr->name = sg_profile_intern(s->profile, name, strlen(name));
    return t;
}

/* One thread's sample into the model. Returns false if its stack was unusable. */
static bool add_thread(sg_sampler *s, const sg_raw_thread *th, int64_t period_ns)
{
    if (th->native_tid == 0)
        return true; /* an exiting thread, or one not started yet: nothing to attribute */
    int64_t tid = th->native_tid > 0 ? th->native_tid : (int64_t)th->pthread_id;
    int oncpu = sg_threadstat_oncpu(s->threads, tid);
    if (s->cfg.clock == SG_CLOCK_CPU && oncpu != 1)
        return true;
    if (th->error != SG_OK)
        return false;
    if (th->nframes == 0)
        return true; /* a thread state with no Python running (yet): nothing to show */
    uint32_t flags = oncpu == 1 ? SG_F_ONCPU : 0;
    if (th->holds_gil)
        flags |= SG_F_GIL;
    else if (oncpu != 1 && sg_threadstat_futex_in(s->threads, tid, s->res.gil_addr,
                                                  s->res.gil_size))
        flags |= SG_F_GILWAIT;

    size_t depth = 0;
    const sg_raw_frame *frames = s->res.frames + th->first_frame;
    for (size_t i = th->nframes; i-- > 0;) {
        uint32_t loc;
        switch (sg_symbols_resolve(s->symbols, &frames[i], &loc)) {
        case SG_SYM_OK:
            break;
        case SG_SYM_ROOT_SKIP:
            if (depth == 0)
                continue;
            break;
        case SG_SYM_SKIP:
            continue;
        case SG_SYM_BAD:
        default:
            return false;
        }
        if (!push_loc(s, depth, loc))
            return false;
        depth++;
    }
    if (depth == 0)
        return true; /* only bootstrap frames: the program has not started or has ended */
    uint32_t node = SG_ROOT;
    for (size_t i = 0; i < depth && node != SG_NONE; i++)
        node = sg_profile_child(s->profile, node, s->stack[i]);
    uint32_t track = track_for(s, tid);
    if (node == SG_NONE || track == SG_NONE)
        return false;
    int64_t values[2] = {1, period_ns};
    return sg_profile_add(s->profile, track, node, flags, values) == 0;
}

/* Returns 1 sampled, 0 nothing to sample yet, -1 target gone, -2 the program changed
 * (exec or exit: see the exe check in the loop). */
static int sample_once(sg_sampler *s, int64_t period_ns)
{
    sg_error err;
    sg_error_clear(&err);
    if (sg_walk(s->walker, &s->res, &err) != 0) {
        if (err.code == SG_E_NO_PROCESS)
            return -1;
        if (err.code == SG_E_NOT_READY)
            return 0;
        /* A failed walk is often the first sign of an exec or an exit: look now, not at
         * the next periodic check, so that neither counts as failed samples. */
        char exe[sizeof s->exe];
        read_exe(s->cfg.pid, exe, sizeof exe);
        if (strcmp(exe, s->exe) != 0)
            return -2;
        process_of(s)->samples_failed++;
        return 1;
    }
    sg_symbols_validate(s->symbols, s->res.frames, s->res.nframes);
    for (size_t i = 0; i < s->res.nthreads; i++) {
        if (add_thread(s, &s->res.threads[i], period_ns))
            process_of(s)->samples_ok++;
        else
            process_of(s)->samples_failed++;
    }
    return 1;
}

static double next_uniform(sg_sampler *s)
{
    uint64_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s->rng = x;
    return (double)(x >> 11) / 9007199254740992.0;
}

static void sleep_until(int64_t t)
{
    struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static bool target_alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

int sg_sampler_run(sg_sampler *s, atomic_int *stop, sg_error *err)
{
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const int64_t period = (int64_t)(1e9 / s->cfg.rate_hz);
    const int64_t start = sg_now_ns();
    const int64_t deadline =
        s->cfg.duration_s > 0 ? start + (int64_t)(s->cfg.duration_s * 1e9) : INT64_MAX;
    sg_profile_meta *m = sg_profile_meta_of(s->profile);
    m->start_wall_ns = sg_wall_ns();
    uint64_t ticks = 0, taken = 0;
    int64_t next = start, last_exe_check = start, last_discover = 0;
    int64_t sampling_since = 0, sampling_time = 0;
    sg_error last;
    sg_error_clear(&last);
    int rc = 0;

    if (s->have_target)
        sampling_since = start;
    while (!atomic_load_explicit(stop, memory_order_relaxed)) {
        int64_t now = sg_now_ns();
        if (now >= deadline)
            break;
        if (!s->have_target) {
            if (now - last_discover >= DISCOVER_RETRY_NS) {
                last_discover = now;
                int d = try_discover(s, &last);
                if (d < 0) {
                    /* After an exec into something we cannot read, what was sampled
                     * before still stands. */
                    if (last.code == SG_E_NO_PROCESS || taken > 0)
                        break;
                    *err = last;
                    return -1;
                }
                if (d == 0 && !target_alive(s->cfg.pid))
                    break;
            }
            if (!s->have_target) {
                sleep_until(now + DISCOVER_RETRY_NS / 4);
                next = sg_now_ns();
                continue;
            }
            sampling_since = sg_now_ns();
            next = sampling_since;
        }
        if (now - last_exe_check >= EXE_CHECK_NS) {
            last_exe_check = now;
            char exe[sizeof s->exe];
            read_exe(s->cfg.pid, exe, sizeof exe);
            /* An exiting process loses its exe link before it becomes a zombie. */
            if (!exe[0])
                break;
            if (strcmp(exe, s->exe) != 0) { /* exec: a new program, perhaps not Python */
                sampling_time += now - sampling_since;
                drop_target(s);
                continue;
            }
        }
        int r = sample_once(s, period);
        if (r == -2) {
            last_exe_check = now - EXE_CHECK_NS; /* handled at the top of the loop */
            continue;
        }
        if (r < 0)
            break;
        ticks++;
        if (r > 0)
            taken++;
        if (ticks % SWEEP_TICKS == 0)
            sg_threadstat_sweep(s->threads);

        next += (int64_t)((double)period * (0.5 + next_uniform(s)));
        now = sg_now_ns();
        if (now - next > LATE_LIMIT_NS)
            next = now; /* fell far behind (the machine was busy): skip the lost ticks */
        if (next > deadline)
            next = deadline;
        sleep_until(next);
    }
    int64_t end = sg_now_ns();
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) {
        char v[32];
        snprintf(v, sizeof v, "%.6f", (double)cpu.tv_sec + cpu.tv_nsec / 1e9);
        sg_profile_set_attr(s->profile, "sampler_cpu_seconds", v);
    }
    if (s->have_target)
        sampling_time += end - sampling_since;
    m->duration_ns = sampling_time;
    m->ticks_taken = taken;
    m->ticks_requested = (uint64_t)((double)sampling_time * s->cfg.rate_hz / 1e9 + 0.5);
    m->interval_ns = taken ? sampling_time / (int64_t)taken : period;
    if (!s->have_target && taken == 0) {
        if (last.code == SG_E_UNSUPPORTED || last.code == SG_E_PERMISSION) {
            *err = last;
            return -1;
        }
        return sg_fail(err, SG_E_NOT_PYTHON, 0,
                       "process %d ended without running a Python interpreter spyglass "
                       "could read%s%s",
                       s->cfg.pid, last.msg[0] ? ": " : "", last.msg);
    }
    return rc;
}
