/* A process's direct children, from /proc/PID/task/TID/children (every thread can be
 * a parent). Used to follow the descendants of a sampled program. */
#ifndef SG_CHILDREN_H
#define SG_CHILDREN_H

#include <stddef.h>

/* Writes up to cap child PIDs of pid into out; returns how many (0 when pid is gone or
 * the kernel lacks CONFIG_PROC_CHILDREN). */
size_t sg_children_of(int pid, int *out, size_t cap);

#endif
