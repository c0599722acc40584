/* The loop and the glue between walker, symbol cache, thread states and the model.
 * Timing: ticks are scheduled on CLOCK_MONOTONIC with absolute sleeps and a timer
 * slack of 1 ns (the default 50 us slack would cap us near 10 kHz). Tick k falls at a
 * uniformly random point of the k-th period, so periodic code cannot alias with the
 * sampler, and the count of ticks still equals the time sampled times the rate (a
 * random walk of jittered intervals drifts: about +-1.3% over 500 ticks). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
#include "sg_children.h"
#include "sg_pause.h"
#include "sg_sampler.h"
#include "sg_symbols.h"
#include "sg_threadnames.h"
#include "sg_stackcache.h"
#include "sg_threadstat.h"

#define EXE_CHECK_NS 100000000LL    /* how often we look for an exec */
#define DISCOVER_RETRY_NS 20000000LL /* while waiting for Python to appear */
#define CHILD_SCAN_NS 10000000LL     /* how often descendants are looked for */
/* A program just exec'ed has not mapped libpython yet; only one that still is not
 * Python after this long is left alone (until its next exec). */
#define NOT_PYTHON_AFTER_NS 300000000LL
/* ... unless its executable is named python*: on a loaded machine an interpreter can
 * take longer than that to map libpython and set up its runtime. */
#define NOT_PYTHON_NAMED_PYTHON_AFTER_NS 5000000000LL
#define SWEEP_TICKS 256
#define MAX_TARGETS 256
/* A tick late by less than this is still taken (wake-ups are late by tens of
 * microseconds, a tenth of a period at 10 kHz); later ones are dropped, so a stall
 * never turns into a burst of samples of the same moment. */
#define LATE_LIMIT_NS 10000000LL
#define SPIN_BELOW_NS 20000LL

/* One sampled process: the program itself (targets[0]) or one of its descendants. */
typedef struct target {
    int pid;
    sg_reader *reader;
    sg_threadstat *threads;
    uint32_t process; /* index into the profile's processes, SG_NONE until Python */
    uint32_t ntracks;    /* tracks of this process, the merged one included */
    uint32_t more_track; /* where threads beyond cfg.max_threads go, SG_NONE until then */
    /* per-incarnation state (rebuilt after an exec) */
    sg_target target;
    bool have_target;
    bool not_python;  /* discovery failed for good for this exe: wait for an exec */
    sg_walker *walker;
    sg_symbols *symbols;
    sg_threadnames *names;
    sg_stackcache *stacks; /* last tick's stack of each thread, resolved */
    sg_pause *pause;       /* --blocking: holds the threads for each sample, else NULL */
    char exe[4096];
    int64_t last_discover;
    int64_t last_exe_check;
    int64_t image_since; /* when the current exec image was first seen */
    uint64_t taken;   /* ticks at which this process was read */
} target;

struct sg_sampler {
    sg_sampler_config cfg;
    char *root_skip_file;
    int64_t *ignore_tids;
    sg_profile *profile;
    target **targets; /* [0] is cfg.pid; each on the heap, since the walker and the
                          symbol cache keep pointers into it */
    size_t ntargets;
    sg_walk_result res;
    uint32_t *stack; /* scratch: location ids root first */
    size_t stack_cap;
    uint64_t rng;
    int64_t tick_ns; /* when the current tick's walk started */
    int64_t last_child_scan;
    /* Swapping the profile from another thread (spyglass top): the loop holds lock
     * while a tick writes to the profile, so a swap waits for one tick at most. The
     * current profile covers the time since part_start, with part_taken ticks. */
    pthread_mutex_t lock;
    int64_t part_start, part_start_wall;
    uint64_t part_taken, part_requested;
    bool swapped;
    bool gil_none_noted;
    sg_error block_err; /* why --blocking could not hold a target's threads */
    /* Said once: a process read through its own _Py_DebugOffsets, not our table as is. */
    char layout_note[256];
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
    FILE *f = fopen(path, "re");
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

static void drop_target(target *t)
{
    sg_symbols_free(t->symbols);
    sg_walker_free(t->walker);
    sg_threadnames_free(t->names);
    sg_stackcache_free(t->stacks);
    sg_pause_free(t->pause);
    t->pause = NULL;
    t->symbols = NULL;
    t->walker = NULL;
    t->names = NULL;
    t->stacks = NULL;
    t->have_target = false;
}

static void target_free(target *t)
{
    drop_target(t);
    sg_threadstat_free(t->threads);
    sg_reader_free(t->reader);
    free(t);
}

/* Opens a process to sample. Returns -1 with err when it cannot be read. */
static int target_open(sg_sampler *s, int pid, sg_error *err)
{
    if (s->ntargets >= MAX_TARGETS)
        return sg_fail(err, SG_E_ARG, 0, "more than %d processes to follow", MAX_TARGETS);
    target *t = calloc(1, sizeof *t);
    if (!t)
        return sg_fail(err, SG_E_NOMEM, 0, "allocating the sampler");
    t->pid = pid;
    t->process = SG_NONE;
    t->more_track = SG_NONE;
    t->reader = sg_reader_open(pid, s->cfg.reader, err);
    if (!t->reader) {
        free(t);
        return -1;
    }
    t->threads = sg_threadstat_new(pid);
    if (!t->threads) {
        target_free(t);
        return sg_fail(err, SG_E_NOMEM, 0, "allocating the sampler");
    }
    s->targets[s->ntargets++] = t;
    return 0;
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
    pthread_mutex_init(&s->lock, NULL);
    s->cfg = *cfg;
    if (s->cfg.max_threads == 0)
        s->cfg.max_threads = SG_SAMPLER_MAX_THREADS;
    if (cfg->root_skip_file && !(s->root_skip_file = strdup(cfg->root_skip_file)))
        goto oom;
    s->cfg.root_skip_file = s->root_skip_file;
    if (cfg->n_ignore_tids) {
        s->ignore_tids = malloc(cfg->n_ignore_tids * sizeof *s->ignore_tids);
        if (!s->ignore_tids)
            goto oom;
        memcpy(s->ignore_tids, cfg->ignore_tids, cfg->n_ignore_tids * sizeof *s->ignore_tids);
    }
    s->cfg.ignore_tids = s->ignore_tids;
    sg_walk_result_init(&s->res);
    s->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)sg_now_ns();
    s->targets = calloc(cfg->follow_children ? MAX_TARGETS : 1, sizeof *s->targets);
    s->profile = sg_profile_new();
    if (!s->targets || !s->profile)
        goto oom;
    if (target_open(s, cfg->pid, err) != 0) {
        sg_sampler_free(s);
        return NULL;
    }
    const char *types[2] = {"samples", cfg->clock == SG_CLOCK_CPU ? "cpu" : "wall"};
    const char *units[2] = {"count", "nanoseconds"};
    sg_profile_set_value_types(s->profile, 2, types, units);
    sg_profile_meta *m = sg_profile_meta_of(s->profile);
    m->mode = SG_MODE_SAMPLE;
    m->clock = cfg->clock;
    m->rate_hz = cfg->rate_hz;
    /* The program itself is always in the profile, even if it never runs Python. */
    s->targets[0]->process = sg_profile_process(s->profile, (uint32_t)cfg->pid);
    if (s->targets[0]->process == SG_NONE ||
        sg_profile_set_attr(s->profile, "reader",
                            sg_reader_kind_name(s->targets[0]->reader->kind)) != 0)
        goto oom;
    return s;
oom:
    sg_sampler_free(s);
    sg_fail(err, SG_E_NOMEM, 0, "allocating the sampler");
    return NULL;
}

void sg_sampler_free(sg_sampler *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ntargets; i++)
        target_free(s->targets[i]);
    free(s->targets);
    sg_walk_result_free(&s->res);
    sg_profile_free(s->profile);
    free(s->stack);
    free(s->root_skip_file);
    free(s->ignore_tids);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

const sg_profile *sg_sampler_profile(const sg_sampler *s) { return s->profile; }

sg_profile *sg_sampler_take_profile(sg_sampler *s)
{
    sg_profile *p = s->profile;
    s->profile = NULL;
    return p;
}

/* Ends the current part at `end`: its meta covers only [part_start, end). */
static void close_part(sg_sampler *s, int64_t end)
{
    sg_profile_meta *m = sg_profile_meta_of(s->profile);
    int64_t d = s->part_start && end > s->part_start ? end - s->part_start : 0;
    m->start_wall_ns = s->part_start_wall;
    m->duration_ns = d;
    m->ticks_taken = s->part_taken;
    m->ticks_requested = s->part_requested;
    m->interval_ns =
        s->part_taken ? d / (int64_t)s->part_taken : (int64_t)(1e9 / s->cfg.rate_hz);
}

sg_profile *sg_sampler_swap_profile(sg_sampler *s, sg_error *err)
{
    pthread_mutex_lock(&s->lock);
    sg_profile *old = s->profile, *fresh = NULL;
    if (!old)
        sg_fail(err, SG_E_ARG, 0, "the profile was already taken");
    else if ((fresh = sg_profile_new_like(old, err)) != NULL) {
        /* what the sampler learnt about the target holds for every part */
        static const char *const kept[] = {"gil", "python_layout", "reader"};
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
            const char *v = sg_profile_get_attr(old, kept[i]);
            if (v)
                sg_profile_set_attr(fresh, kept[i], v);
        }
        int64_t now = sg_now_ns();
        close_part(s, now);
        s->profile = fresh;
        for (size_t i = 0; i < s->ntargets; i++) {
            if (s->targets[i]->symbols)
                sg_symbols_set_profile(s->targets[i]->symbols, fresh);
            if (s->targets[i]->stacks) /* its trie nodes were the old profile's */
                sg_stackcache_clear(s->targets[i]->stacks);
        }
        s->part_start = now;
        s->part_start_wall = sg_wall_ns();
        s->part_taken = 0;
        s->part_requested = 0;
        s->swapped = true;
    }
    pthread_mutex_unlock(&s->lock);
    return fresh ? old : NULL;
}

const char *sg_sampler_python_version(const sg_sampler *s)
{
    return s->targets[0]->have_target ? s->targets[0]->target.version : "";
}

const char *sg_sampler_layout_note(const sg_sampler *s) { return s->layout_note; }

/* The note for a target whose layout is not our table as it is (the first one seen). */
static void note_layout(sg_sampler *s, const sg_target *tg)
{
    if (tg->layout == SG_LAYOUT_TABLE || s->layout_note[0])
        return;
    if (tg->layout == SG_LAYOUT_OWN)
        snprintf(s->layout_note, sizeof s->layout_note,
                 "Python %s (process %d) is newer than this spyglass (tables up to 3.%u): "
                 "reading it through its own _Py_DebugOffsets",
                 tg->version, tg->pid, sg_pyabi_newest_minor());
    else
        snprintf(s->layout_note, sizeof s->layout_note,
                 "Python %s (process %d) is laid out unlike our %u.%u table (%u fields "
                 "differ): reading it through its own _Py_DebugOffsets",
                 tg->version, tg->pid, tg->abi.major, tg->abi.minor, tg->abi_mismatches);
    sg_profile_set_attr(s->profile, "python_layout", s->layout_note);
}

size_t sg_sampler_nprocesses(const sg_sampler *s)
{
    return s->profile ? sg_profile_nprocesses(s->profile) : 0;
}

static sg_process *process_of(sg_sampler *s, const target *t)
{
    return &sg_profile_processes(s->profile)[t->process];
}

/* Tries to find the runtime of t. Returns 1 when found, 0 to retry later (err says
 * why), -1 on a final error. */
static int try_discover(sg_sampler *s, target *t, bool wait, sg_error *err)
{
    sg_error derr;
    sg_error_clear(&derr);
    if (sg_discover(t->reader, t->pid, &t->target, &derr) != 0) {
        if (derr.code == SG_E_NO_PROCESS)
            return sg_fail(err, SG_E_NO_PROCESS, derr.errnum, "%s", derr.msg);
        bool transient = derr.code == SG_E_NOT_PYTHON || derr.code == SG_E_NOT_READY ||
                         derr.code == SG_E_READ || derr.code == SG_E_ELF;
        *err = derr;
        return transient && wait ? 0 : -1;
    }
    if (t->process == SG_NONE) {
        t->process = sg_profile_process(s->profile, (uint32_t)t->pid);
        if (t->process == SG_NONE)
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while sampling");
    }
    t->walker = sg_walker_new(t->reader, &t->target, err);
    if (!t->walker)
        return -1;
    t->symbols = sg_symbols_new(t->reader, &t->target, s->profile,
                                t == s->targets[0] ? s->root_skip_file : NULL, err);
    if (!t->symbols) {
        drop_target(t);
        return -1;
    }
    sg_symbols_validate_through(t->symbols, sg_walker_reader(t->walker));
    t->names = sg_threadnames_new(t->reader, &t->target);
    t->stacks = sg_stackcache_new();
    if (s->cfg.blocking && !(t->pause = sg_pause_new(t->pid))) {
        drop_target(t);
        return sg_fail(err, SG_E_NOMEM, 0, "allocating the sampler");
    }
    if (!t->names || !t->stacks) {
        drop_target(t);
        return sg_fail(err, SG_E_NOMEM, 0, "allocating the sampler");
    }
    t->have_target = true;
    read_exe(t->pid, t->exe, sizeof t->exe);
    char cmd[4096];
    read_cmdline(t->pid, cmd, sizeof cmd);
    sg_process *proc = process_of(s, t);
    proc->cmdline = sg_profile_intern(s->profile, cmd, strlen(cmd));
    proc->python_version =
        sg_profile_intern(s->profile, t->target.version, strlen(t->target.version));
    note_layout(s, &t->target);
    return 1;
}

int sg_sampler_prepare(sg_sampler *s, sg_error *err)
{
    target *t = s->targets[0];
    if (t->have_target)
        return 0;
    int d = try_discover(s, t, s->cfg.wait_for_python, err);
    if (d <= 0)
        return -1; /* err was filled by try_discover, transient or not */
    /* --blocking attaches in run(): ptrace's tracer is the thread that attaches, and
     * run() may be on another thread than this call */
    return 0;
}

static bool push_loc(sg_sampler *s, size_t n, uint32_t loc)
{
    if (!sg_grow((void **)&s->stack, &s->stack_cap, n + 1, sizeof *s->stack, 256))
        return false;
    s->stack[n] = loc;
    return true;
}

/* The track of thread tid. A new one is named: its Python name (threading) when the
 * name cache has it, "MainThread" for the main thread, else its OS name or "Thread".
 * A process that keeps starting threads would grow the profile by a track (and its
 * records) per thread ever seen: past cfg.max_threads, new threads share one track. */
static uint32_t track_for(sg_sampler *s, target *t, int64_t tid)
{
    uint32_t k = sg_profile_track_find(s->profile, t->process, (uint64_t)tid);
    if (k != SG_NONE)
        return k;
    char name[64];
    if (t->ntracks >= s->cfg.max_threads) {
        if (t->more_track != SG_NONE)
            return t->more_track;
        k = sg_profile_track(s->profile, t->process, SG_SAMPLER_MORE_TID);
        if (k == SG_NONE)
            return k;
        snprintf(name, sizeof name, "[threads after the first %zu]", s->cfg.max_threads);
        sg_profile_tracks(s->profile)[k].name = sg_profile_intern(s->profile, name, strlen(name));
        t->more_track = k;
        t->ntracks++;
        return k;
    }
    k = sg_profile_track(s->profile, t->process, (uint64_t)tid);
    if (k == SG_NONE)
        return k;
    t->ntracks++;
    sg_track *tr = &sg_profile_tracks(s->profile)[k];
    tr->is_main = tid == t->pid;
    const char *py = tr->is_main ? NULL : sg_threadnames_get(t->names, (uint64_t)tid);
    if (py) {
        tr->name = sg_profile_intern(s->profile, py, strlen(py));
        return k;
    }
    if (tr->is_main) {
        snprintf(name, sizeof name, "MainThread");
    } else {
        /* CPython before 3.14 leaves every thread with the process's own name; only a
         * name set by the program tells threads apart. */
        char main_name[64];
        sg_threadstat_name(t->threads, tid, name, sizeof name);
        sg_threadstat_name(t->threads, t->pid, main_name, sizeof main_name);
        if (!name[0] || strcmp(name, main_name) == 0)
            snprintf(name, sizeof name, "Thread");
    }
    tr->name = sg_profile_intern(s->profile, name, strlen(name));
    return k;
}

static bool ignored(const sg_sampler *s, int64_t tid)
{
    for (size_t i = 0; i < s->cfg.n_ignore_tids; i++)
        if (s->ignore_tids[i] == tid)
            return true;
    return false;
}

/* Python names that arrived after a thread's track was made replace its placeholder
 * (or its name before a rename). The main thread stays "MainThread". */
static void rename_tracks(sg_sampler *s, target *t)
{
    size_t n = sg_profile_ntracks(s->profile);
    sg_track *tr = sg_profile_tracks(s->profile);
    for (size_t i = 0; i < n; i++) {
        const char *py = tr[i].process == t->process && !tr[i].is_main &&
                                 i != t->more_track
                             ? sg_threadnames_get(t->names, tr[i].tid)
                             : NULL;
        uint32_t id = py ? sg_profile_intern(s->profile, py, strlen(py)) : SG_NONE;
        if (id != SG_NONE)
            tr[i].name = id;
    }
}

/* One thread's sample into the model. Returns false if its stack was unusable. */
static bool add_thread(sg_sampler *s, target *t, const sg_raw_thread *th, int64_t period_ns)
{
    if (th->native_tid == 0)
        return true; /* an exiting thread, or one not started yet: nothing to attribute */
    int64_t tid = th->native_tid > 0 ? th->native_tid : (int64_t)th->pthread_id;
    if (t == s->targets[0] && ignored(s, tid))
        return true;
    sg_thread_cpu cpu = sg_threadstat_cpu(t->threads, tid, period_ns, s->tick_ns);
    int oncpu = cpu.charge > 0;
    /* The CPU clock weighs each sample by the periods of CPU time it stands for. */
    int64_t weight = s->cfg.clock == SG_CLOCK_CPU ? cpu.charge : 1;
    if (weight <= 0)
        return true;
    if (th->error != SG_OK)
        return false;
    if (th->nframes == 0)
        return true; /* a thread state with no Python running (yet): nothing to show */
    uint32_t flags = oncpu ? SG_F_ONCPU : 0;
    if (th->holds_gil)
        flags |= SG_F_GIL;
    else if (cpu.runnable != 1 && sg_threadstat_futex_in(t->threads, tid, s->res.gil_addr,
                                                  s->res.gil_size))
        flags |= SG_F_GILWAIT;

    /* Only the frames above those shared with the thread's previous sample are
     * resolved and looked up in the trie. */
    const sg_raw_frame *frames = s->res.frames + th->first_frame;
    size_t n = th->nframes;
    sg_stackentry *e = sg_stackcache_get(t->stacks, th->tstate);
    size_t same = e ? sg_stackentry_keep_common(e, frames, n) : 0;
    sg_stackstep at = same ? sg_stackentry_step(e, same - 1) : (sg_stackstep){SG_ROOT, 0};
    size_t depth = at.depth;
    for (size_t k = same; k < n; k++) { /* root first */
        uint32_t loc;
        switch (sg_symbols_resolve(t->symbols, &frames[n - 1 - k], &loc)) {
        case SG_SYM_OK:
            break;
        case SG_SYM_ROOT_SKIP:
            if (depth == 0)
                loc = SG_NONE;
            break;
        case SG_SYM_SKIP:
            loc = SG_NONE;
            break;
        case SG_SYM_BAD:
        default:
            return false;
        }
        if (!push_loc(s, k - same, loc))
            return false;
        depth += loc != SG_NONE;
    }
    if (depth == 0)
        return true; /* only bootstrap frames: the program has not started or has ended */
    /* Resolved whole: only now does the trie grow. */
    uint32_t node = at.node, d = at.depth;
    for (size_t k = same; k < n; k++) {
        uint32_t loc = s->stack[k - same];
        if (loc != SG_NONE) {
            node = sg_profile_child(s->profile, node, loc);
            d++;
            if (node == SG_NONE)
                break;
        }
        if (e && !sg_stackentry_append(e, &frames[n - 1 - k], (sg_stackstep){node, d}))
            e = NULL;
    }
    if (node == SG_NONE && e)
        sg_stackentry_reset(e);
    uint32_t track = track_for(s, t, tid);
    if (node == SG_NONE || track == SG_NONE)
        return false;
    int64_t values[2] = {weight, weight * period_ns};
    if (sg_profile_add(s->profile, track, node, flags, values) != 0)
        return false;
    if (s->cfg.timeline) /* out of memory only shortens the timeline (the model says oom) */
        sg_profile_timeline_add(s->profile, track, node, flags, s->tick_ns);
    return true;
}

static void exec_identity(int pid, char *out, size_t len);

/* Returns 1 sampled, 0 nothing to sample yet, -1 target gone, -2 the program changed
 * (exec or exit: the exe check of the loop handles it). */
/* --blocking: the threads' scheduler states are read while they run, then every thread
 * is stopped until the sample is in the profile. Returns -1 (with err) when ptrace is
 * refused. */
static int hold_threads(sg_sampler *s, target *t, sg_error *err)
{
    const int64_t *tids;
    size_t n;
    if (sg_pause_list(t->pause, &tids, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        sg_threadstat_prime(t->threads, tids[i], s->tick_ns);
    sg_pause_stop(t->pause);
    return 0;
}

static int sample_held(sg_sampler *s, target *t, int64_t period_ns);

/* Returns 1 sampled, 0 nothing to sample yet, -1 target gone, -2 the program changed
 * (exec or exit: the exe check of the loop handles it), -3 its threads cannot be held
 * (--blocking refused: s->block_err says why). */
static int sample_target(sg_sampler *s, target *t, int64_t period_ns)
{
    s->tick_ns = sg_now_ns();
    if (t->pause && hold_threads(s, t, &s->block_err) != 0)
        return s->block_err.code == SG_E_NO_PROCESS ? -1 : -3;
    int r = sample_held(s, t, period_ns);
    if (t->pause)
        sg_pause_resume(t->pause);
    return r;
}

static int sample_held(sg_sampler *s, target *t, int64_t period_ns)
{
    sg_error err;
    sg_error_clear(&err);
    if (sg_walk(t->walker, &s->res, &err) != 0) {
        if (err.code == SG_E_NO_PROCESS)
            return -1;
        if (err.code == SG_E_NOT_READY)
            return 0;
        /* A failed walk is often the first sign of an exec or an exit: look now, not at
         * the next periodic check, so that neither counts as failed samples. */
        char id[sizeof t->exe];
        exec_identity(t->pid, id, sizeof id);
        if (strcmp(id, t->exe) != 0)
            return -2;
        process_of(s, t)->samples_failed++;
        return 1;
    }
    if (s->res.no_gil && !s->gil_none_noted) {
        /* A free-threaded target without a GIL: the GIL columns say n/a, not 0%. */
        sg_profile_set_attr(s->profile, "gil", "none");
        s->gil_none_noted = true;
    }
    if (sg_threadnames_update(t->names, &s->res, s->tick_ns))
        rename_tracks(s, t);
    if (sg_symbols_validate(t->symbols, s->res.frames, s->res.nframes))
        sg_stackcache_clear(t->stacks); /* a code object changed: its locations too */
    for (size_t i = 0; i < s->res.nthreads; i++) {
        if (add_thread(s, t, &s->res.threads[i], period_ns))
            process_of(s, t)->samples_ok++;
        else
            process_of(s, t)->samples_failed++;
    }
    t->taken++;
    return 1;
}

int sg_sampler_tick(sg_sampler *s, sg_error *err)
{
    target *t = s->targets[0];
    if (!t->have_target && sg_sampler_prepare(s, err) != 0)
        return -1;
    int r = sample_target(s, t, (int64_t)(1e9 / s->cfg.rate_hz));
    if (r == -3) {
        *err = s->block_err;
        return -1;
    }
    if (r == -2)
        return sg_fail(err, SG_E_NOT_READY, 0, "process %d is changing program (exec)", t->pid);
    if (r < 0)
        return sg_fail(err, SG_E_NO_PROCESS, 0, "process %d has ended", t->pid);
    if (r == 0)
        return sg_fail(err, SG_E_NOT_READY, 0,
                       "process %d has not started its Python interpreter yet", t->pid);
    sg_profile_meta *m = sg_profile_meta_of(s->profile);
    m->ticks_taken++;
    m->ticks_requested++;
    return 0;
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

/* The wait between ticks. A sleep and its wake-up cost about 12 us of CPU on a VM (a
 * timer of the hypervisor's, a context switch) and come about 40 us late: above 50 kHz
 * that is more than the tick itself. A deadline closer than SPIN_BELOW_NS is therefore
 * waited for by reading the clock (vDSO, no system call); one already passed is not
 * waited for at all. At 10 kHz and below the sampler still sleeps at nearly every tick. */
static void wait_until(int64_t t)
{
    int64_t now = sg_now_ns();
    if (t <= now)
        return;
    if (t - now > SPIN_BELOW_NS) {
        sleep_until(t);
        return;
    }
    while (sg_now_ns() < t) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static bool target_alive(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* What changes when a process execs: its executable, or — when it execs the same
 * binary again, as multiprocessing's spawn does — the address of its new stack (field
 * 28 of /proc/PID/stat; randomised at every exec). "" once the process is exiting. */
static void exec_identity(int pid, char *out, size_t len)
{
    read_exe(pid, out, len);
    if (!out[0])
        return;
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    /* after ")": field 3 (state) is the first; startstack is field 28 */
    for (int field = 3; p && field < 28; field++)
        p = strchr(p + 1, ' ');
    size_t used = strlen(out);
    if (p && used + 24 < len)
        snprintf(out + used, len - used, "@%llu", strtoull(p + 1, NULL, 10));
}

static void remove_target(sg_sampler *s, size_t i)
{
    target_free(s->targets[i]);
    s->targets[i] = s->targets[--s->ntargets];
}

/* Adds the new children of every followed process. */
static void scan_children(sg_sampler *s)
{
    int kids[512];
    for (size_t i = 0; i < s->ntargets && s->ntargets < MAX_TARGETS; i++) {
        size_t n = sg_children_of(s->targets[i]->pid, kids, sizeof kids / sizeof kids[0]);
        for (size_t k = 0; k < n && s->ntargets < MAX_TARGETS; k++) {
            bool known = false;
            for (size_t j = 0; j < s->ntargets && !known; j++)
                known = s->targets[j]->pid == kids[k];
            sg_error err;
            if (!known)
                target_open(s, kids[k], &err); /* one we may not read is not followed */
        }
    }
}

/* A descendant at one tick: found, re-found after an exec, sampled, or forgotten once
 * it has ended. Returns false when it is gone. */
static bool step_child(sg_sampler *s, target *t, int64_t now, int64_t period)
{
    if (now - t->last_exe_check >= EXE_CHECK_NS / 20 || !t->exe[0]) {
        t->last_exe_check = now;
        char id[sizeof t->exe];
        exec_identity(t->pid, id, sizeof id);
        if (!id[0])
            return target_alive(t->pid);
        if (strcmp(id, t->exe) != 0) {
            memcpy(t->exe, id, sizeof id);
            drop_target(t);
            t->not_python = false;
            t->last_discover = 0;
            t->image_since = now;
        }
    }
    if (!t->have_target) {
        if (t->not_python || now - t->last_discover < DISCOVER_RETRY_NS / 4)
            return true;
        t->last_discover = now;
        sg_error err;
        int d = try_discover(s, t, true, &err);
        if (d < 0 && err.code == SG_E_NO_PROCESS)
            return false;
        if (d <= 0) {
            /* Not Python (yet): keep looking while the image is new, then only after
             * its next exec. */
            const char *base = strrchr(t->exe, '/');
            bool named_python = strncmp(base ? base + 1 : t->exe, "python", 6) == 0;
            int64_t patience = named_python ? NOT_PYTHON_NAMED_PYTHON_AFTER_NS
                                            : NOT_PYTHON_AFTER_NS;
            t->not_python = d < 0 || (err.code == SG_E_NOT_PYTHON &&
                                      now - t->image_since > patience);
            return true;
        }
        exec_identity(t->pid, t->exe, sizeof t->exe);
    }
    int r = sample_target(s, t, period);
    if (r == -2)
        t->last_exe_check = 0; /* look at the next tick */
    return r != -1 && r != -3; /* a child whose threads cannot be held is left alone */
}

int sg_sampler_run(sg_sampler *s, atomic_int *stop, sg_error *err)
{
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    const int64_t period = (int64_t)(1e9 / s->cfg.rate_hz);
    const int64_t start = sg_now_ns();
    const int64_t deadline =
        s->cfg.duration_s > 0 ? start + (int64_t)(s->cfg.duration_s * 1e9) : INT64_MAX;
    pthread_mutex_lock(&s->lock);
    sg_profile_meta *m = sg_profile_meta_of(s->profile);
    m->start_wall_ns = sg_wall_ns();
    s->part_start = start;
    s->part_start_wall = m->start_wall_ns;
    s->part_taken = 0;
    s->part_requested = 0;
    pthread_mutex_unlock(&s->lock);
    target *root = s->targets[0];
    /* requested: the ticks the schedule asked for while the target was there to read
     * (those skipped after a stall included); taken: those read on time, also when the
     * target had no Python thread to show at that moment (starting, finalizing). */
    uint64_t ticks = 0, taken = 0, requested = 0;
    int64_t next = start, grid = start, last_discover = 0;
    int64_t sampling_since = 0, sampling_time = 0;
    sg_error last;
    sg_error_clear(&last);
    int rc = 0;

    root->last_exe_check = start;
    if (root->have_target) {
        sampling_since = start;
        exec_identity(root->pid, root->exe, sizeof root->exe);
    }
    while (!atomic_load_explicit(stop, memory_order_relaxed)) {
        int64_t now = sg_now_ns();
        if (now >= deadline)
            break;
        if (!root->have_target) {
            if (now - last_discover >= DISCOVER_RETRY_NS) {
                last_discover = now;
                pthread_mutex_lock(&s->lock);
                int d = try_discover(s, root, s->cfg.wait_for_python, &last);
                pthread_mutex_unlock(&s->lock);
                if (d < 0) {
                    /* After an exec into something we cannot read, what was sampled
                     * before still stands. */
                    if (last.code == SG_E_NO_PROCESS || taken > 0)
                        break;
                    *err = last;
                    return -1;
                }
                if (d == 0 && !target_alive(root->pid))
                    break;
                if (d > 0)
                    exec_identity(root->pid, root->exe, sizeof root->exe);
            }
            if (!root->have_target) {
                sleep_until(now + DISCOVER_RETRY_NS / 4);
                next = grid = sg_now_ns();
                continue;
            }
            sampling_since = sg_now_ns();
            next = grid = sampling_since;
        }
        if (now - root->last_exe_check >= EXE_CHECK_NS) {
            root->last_exe_check = now;
            char id[sizeof root->exe];
            exec_identity(root->pid, id, sizeof id);
            /* An exiting process loses its exe link before it becomes a zombie. */
            if (!id[0])
                break;
            if (strcmp(id, root->exe) != 0) { /* exec: a new program, perhaps not Python */
                sampling_time += now - sampling_since;
                drop_target(root);
                continue;
            }
        }
        pthread_mutex_lock(&s->lock);
        if (s->cfg.follow_children && now - s->last_child_scan >= CHILD_SCAN_NS) {
            s->last_child_scan = now;
            scan_children(s);
        }
        int r = sample_target(s, root, period);
        if (r == -3) { /* --blocking refused (ptrace): nothing can be sampled as asked */
            pthread_mutex_unlock(&s->lock);
            *err = s->block_err;
            rc = -1;
            break;
        }
        if (r >= 0) {
            taken++;
            s->part_taken++;
        }
        if (r != -1) {
            requested++;
            s->part_requested++;
        }
        if (r == -2)
            root->last_exe_check = now - EXE_CHECK_NS; /* handled at the next tick */
        for (size_t i = 1; r != -1 && i < s->ntargets;) {
            if (step_child(s, s->targets[i], now, period))
                i++;
            else
                remove_target(s, i);
        }
        pthread_mutex_unlock(&s->lock);
        if (r == -1)
            break;
        ticks++;
        if (ticks % SWEEP_TICKS == 0)
            for (size_t i = 0; i < s->ntargets; i++) {
                sg_threadstat_sweep(s->targets[i]->threads);
                if (s->targets[i]->stacks)
                    sg_stackcache_sweep(s->targets[i]->stacks);
            }

        grid += period;
        next = grid + (int64_t)((double)period * (next_uniform(s) - 0.5));
        now = sg_now_ns();
        if (now - next > LATE_LIMIT_NS) {
            /* fell far behind (the machine was busy): skip the lost ticks */
            uint64_t lost = (uint64_t)((now - next) / period);
            requested += lost;
            s->part_requested += lost;
            next = grid = now;
        }
        if (next > deadline)
            next = deadline;
        wait_until(next);
    }
    int64_t end = sg_now_ns();
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->ntargets; i++) { /* ptrace: let go from the tracer thread */
        sg_pause_free(s->targets[i]->pause);
        s->targets[i]->pause = NULL;
    }
    m = sg_profile_meta_of(s->profile); /* a swap may have replaced the profile */
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) {
        char v[32];
        snprintf(v, sizeof v, "%.6f", (double)cpu.tv_sec + cpu.tv_nsec / 1e9);
        sg_profile_set_attr(s->profile, "sampler_cpu_seconds", v);
    }
    if (root->have_target)
        sampling_time += end - sampling_since;
    m->duration_ns = sampling_time;
    m->ticks_taken = taken;
    m->ticks_requested = requested;
    m->interval_ns = taken ? sampling_time / (int64_t)taken : period;
    if (s->swapped)
        close_part(s, end);
    pthread_mutex_unlock(&s->lock);
    if (!root->have_target && taken == 0) {
        if (last.code == SG_E_UNSUPPORTED || last.code == SG_E_PERMISSION) {
            *err = last;
            return -1;
        }
        return sg_fail(err, SG_E_NOT_PYTHON, 0,
                       "process %d ended without running a Python interpreter spyglass "
                       "could read%s%s",
                       root->pid, last.msg[0] ? ": " : "", last.msg);
    }
    return rc;
}
