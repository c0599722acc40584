/* --blocking: stopping every thread of a target for the moment of a sample, with ptrace
 * (PTRACE_SEIZE once per thread, PTRACE_INTERRUPT and a wait for the stop at each
 * tick, PTRACE_CONT after), as py-spy's default mode and Tachyon's --blocking do. A
 * stopped thread cannot change its stack while it is read: the reference a sampler that
 * never stops the target is measured against.
 *
 * The target is never left stopped: the threads are let go after each sample, detached
 * when sampling ends, and if spyglass itself dies the kernel detaches and restarts them.
 * A signal that arrives for a thread while it is held is delivered when it is let go.
 * Every call must come from the same thread (ptrace ties tracees to one tracer thread);
 * a process cannot stop its own threads this way. */
#ifndef SG_PAUSE_H
#define SG_PAUSE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/sg_error.h"

typedef struct sg_pause sg_pause;

/* Nothing is attached yet. NULL when out of memory. */
sg_pause *sg_pause_new(int pid);

/* Lets every held thread go and detaches from every thread. Accepts NULL. */
void sg_pause_free(sg_pause *p);

/* Lists the process's threads now and attaches (without stopping) to new ones. The
 * threads are in *tids[0..*n) until the next call: read what can only be read of a
 * running thread (its scheduler state) before sg_pause_stop. Errors: SG_E_PERMISSION
 * (ptrace refused: another user, kernel.yama.ptrace_scope, a missing CAP_SYS_PTRACE),
 * SG_E_NO_PROCESS, SG_E_ARG (the process is spyglass's own). */
int sg_pause_list(sg_pause *p, const int64_t **tids, size_t *n, sg_error *err);

/* Stops every thread listed by the last sg_pause_list and waits until each is stopped
 * (threads that exit meanwhile are dropped). Returns how many are held. */
size_t sg_pause_stop(sg_pause *p);

/* Lets the held threads go on (with any signal that arrived for them meanwhile). */
void sg_pause_resume(sg_pause *p);

#endif
