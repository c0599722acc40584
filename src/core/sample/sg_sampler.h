/* The sampling loop (Engine A): at a jittered fixed rate, walk every thread of the
 * target, resolve the frames and add one sample per thread to the profile. It never
 * pauses the target, never takes the GIL and touches no Python object, so it can run
 * on any native thread: spyglass's own process for `run`/`attach`, or a pthread
 * inside the target for the in-process API. */
#ifndef SG_SAMPLER_H
#define SG_SAMPLER_H

#include <stdatomic.h>
#include <stdbool.h>

#include "../base/sg_error.h"
#include "../mem/sg_reader.h"
#include "../profile/sg_profile.h"

typedef struct sg_sampler_config {
    int pid;
    double rate_hz;       /* samples per second (ticks); each tick samples every thread */
    sg_clock_kind clock;  /* wall: every thread; cpu: only threads on a CPU */
    double duration_s;    /* 0: until stopped or the target exits */
    bool wait_for_python; /* the target may not be Python yet (a shell that execs python,
                             an interpreter still starting): keep looking until it is */
    const char *root_skip_file; /* frames of this file are dropped from stack roots */
    bool follow_children; /* also sample every descendant that is (or becomes) Python,
                             each as its own process in the profile */
    bool timeline;        /* also record every sample's time, in order (memory grows with
                             run length: 16 bytes per sample and thread) */
    sg_reader_kind reader;      /* how to read the target (AUTO: see sg_reader_open) */
    const int64_t *ignore_tids; /* threads never sampled (the in-process API's own helper
                                   threads); copied by sg_sampler_new */
    size_t n_ignore_tids;
    size_t max_threads; /* threads of a process kept apart, each its own track; later ones
                           share one track, SG_SAMPLER_MORE_TID (0: the default) */
    bool blocking;      /* stop every thread of a target for the moment of each sample
                           (ptrace; see sg_pause.h); not for the sampler's own process */
} sg_sampler_config;

#define SG_SAMPLER_MAX_THREADS 1000
/* The tid of the shared track: no thread has TID 0 (it is the kernel's idle task). */
#define SG_SAMPLER_MORE_TID 0

typedef struct sg_sampler sg_sampler;

/* Opens the target (permission problems are reported here). */
sg_sampler *sg_sampler_new(const sg_sampler_config *cfg, sg_error *err);
void sg_sampler_free(sg_sampler *s);

/* Finds the Python runtime now (before the target runs any user code, for `run`), so
 * that a final problem — unsupported version, not Python, no permission — is reported
 * before sampling starts. Without wait_for_python, run() does this itself. */
int sg_sampler_prepare(sg_sampler *s, sg_error *err);

/* Samples until *stop becomes non-zero, the duration ends or the target exits.
 * Returns 0 when it sampled, or when it stopped normally; -1 with SG_E_NOT_PYTHON if
 * the target ended (or was stopped) without ever being a Python process we could read,
 * SG_E_UNSUPPORTED for a Python version without a table, SG_E_PERMISSION (also when
 * --blocking cannot stop the threads), SG_E_NOMEM. With blocking, every call that
 * samples must come from one thread (ptrace's tracer). */
int sg_sampler_run(sg_sampler *s, atomic_int *stop, sg_error *err);

/* Takes one sample now, outside the loop (finding the runtime first if needed): what
 * `spyglass dump` shows. SG_E_NO_PROCESS when the target is gone, SG_E_NOT_READY when it
 * has no Python thread yet. */
int sg_sampler_tick(sg_sampler *s, sg_error *err);

/* The profile collected so far; the sampler keeps ownership until take. */
const sg_profile *sg_sampler_profile(const sg_sampler *s);
sg_profile *sg_sampler_take_profile(sg_sampler *s);

/* How many processes were sampled (the target and the descendants that ran Python). */
size_t sg_sampler_nprocesses(const sg_sampler *s);

/* Hands over the profile collected since the start or the previous swap and goes on
 * sampling into a fresh one (same strings, functions and threads, no samples). Safe
 * to call from any thread while run() samples: it waits for the current tick at most.
 * The returned profile (the caller owns it) has the meta of its part only: start,
 * duration, ticks. Once a swap happened, the profile left at the end of run() also
 * covers only the time since the last swap. NULL with err when memory runs out. */
sg_profile *sg_sampler_swap_profile(sg_sampler *s, sg_error *err);

/* The target's Python version once discovered, "" before. */
const char *sg_sampler_python_version(const sg_sampler *s);

/* A sentence to tell the user once, "" when there is none: a process is read through
 * its own _Py_DebugOffsets rather than our table of its version (a build laid out
 * otherwise, or a version newer than this spyglass). Also the profile's attribute
 * "python_layout". A free-threaded target running without a GIL sets the profile's
 * attribute "gil" to "none". */
const char *sg_sampler_layout_note(const sg_sampler *s);

#endif
