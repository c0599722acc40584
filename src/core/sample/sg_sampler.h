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
} sg_sampler_config;

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
 * SG_E_UNSUPPORTED for a Python version without a table, SG_E_PERMISSION, SG_E_NOMEM. */
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

/* The target's Python version once discovered, "" before. */
const char *sg_sampler_python_version(const sg_sampler *s);

#endif
