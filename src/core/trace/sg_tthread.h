/* One traced thread: its shadow stack, its aggregation tree and its clock state.
 *
 * Every event closes the interval since the thread's previous event and charges it to
 * the current leaf node (sg_tthread_charge), minus the tracer's own measured cost per
 * event (the "bias": without it, functions that make many calls look slower than they
 * are). Then it moves the leaf: a call pushes a frame, a return pops it, a line event
 * moves the top frame to another line node. Only the owning thread touches this
 * struct, so there are no locks; the hot path neither allocates (the stack and the
 * tree grow rarely, geometrically) nor fails (out of memory loses a frame, counted).
 *
 * CPU clock without a system call per event: an interval shorter than cpu_threshold
 * is assumed to be on-CPU (a thread switched out by the scheduler or waiting for the
 * GIL loses the CPU for milliseconds, which makes a long interval). After a long
 * interval the thread CPU clock is read once: the CPU time used since the previous
 * read, less what the short intervals in between were already charged, is what the
 * long interval gets (at most its wall length). The error is bounded by the threshold
 * per descheduling, and the clock is read at most once per threshold of wall time. */
#ifndef SG_TTHREAD_H
#define SG_TTHREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "sg_ttree.h"

typedef struct sg_tframe {
    const void *key; /* identity of the running function: a code object, a C method */
    void *info;      /* the engine's per-code data (lines: line -> location) */
    uint32_t node;   /* functions: the call's node; lines: the current line's node */
    uint32_t parent; /* lines: the caller's line node, under which this frame's lines hang */
    uint32_t last_loc, last_node; /* functions: the callee this frame called last */
} sg_tframe;

typedef struct sg_tthread {
    sg_ttree tree;
    sg_tframe *stack;
    uint32_t depth, cap;
    uint32_t leaf;          /* the node time is charged to (0: no traced frame) */
    uint64_t t_last;        /* ticks at the previous event */
    uint32_t untimed;       /* events since t_last that took no timestamp */
    int64_t bias_untimed;   /* ticks one untimed event costs */
    uint64_t lost;          /* frames not pushed for lack of memory */
    uint64_t events;        /* timed events */

    /* CPU clock (cpu == false: wall clock) */
    bool cpu;
    int64_t cpu_threshold;  /* ticks */
    double ticks_per_ns;
    int64_t cpu_last_ns;    /* thread CPU clock at the previous read */
    int64_t cpu_acc;        /* ticks charged as on-CPU since that read */
    int64_t (*cpu_now)(void);

    /* identity, filled by the engine */
    uint64_t tid;           /* native thread id */
    uint64_t ident;         /* the interpreter's thread ident */
    bool is_main;
    char *name;             /* malloc'ed, NULL until known */
} sg_tthread;

typedef struct sg_tthread_config {
    bool cpu;
    double ticks_per_ns;      /* > 0 */
    int64_t cpu_threshold_ns; /* 0: default (50 us) */
    int64_t bias_untimed;     /* ticks */
    int64_t (*cpu_now)(void); /* NULL: sg_tclock_thread_cpu_ns */
} sg_tthread_config;

/* NULL when out of memory. now: the tick clock at creation. */
sg_tthread *sg_tthread_new(const sg_tthread_config *cfg, uint64_t now);
void sg_tthread_free(sg_tthread *th); /* accepts NULL */

/* Forgets everything recorded but keeps the stack's shape (a forked child starts its
 * own profile from where its parent was); the stack's frames get fresh nodes. */
int sg_tthread_restart(sg_tthread *th, uint64_t now);

/* Out of line halves of the inline functions below. */
int64_t sg_tthread_cpu_long(sg_tthread *th, int64_t dt);
bool sg_tthread_grow(sg_tthread *th);
void sg_tthread_pop_deep(sg_tthread *th, const void *key);

/* Charges the interval since the previous event to the leaf, less bias ticks for this
 * event and bias_untimed for each untimed event in between. */
static inline void sg_tthread_charge(sg_tthread *th, uint64_t now, int64_t bias)
{
    int64_t dt = (int64_t)(now - th->t_last);
    th->t_last = now;
    th->events++;
    if (th->cpu) {
        if (dt < th->cpu_threshold)
            th->cpu_acc += dt;
        else
            dt = sg_tthread_cpu_long(th, dt);
    }
    dt -= bias + (int64_t)th->untimed * th->bias_untimed;
    th->untimed = 0;
    th->tree.nodes[th->leaf].self += dt;
}

static inline sg_tframe *sg_tthread_top(sg_tthread *th)
{
    return th->depth ? &th->stack[th->depth - 1] : (sg_tframe *)0;
}

/* Function level: a call of the function at location loc; counts it. */
static inline void sg_tthread_call(sg_tthread *th, const void *key, uint32_t loc)
{
    if (th->depth == th->cap && !sg_tthread_grow(th)) {
        th->lost++;
        return;
    }
    /* a loop calls the same function again and again: skip the hash */
    sg_tframe *caller = th->depth ? &th->stack[th->depth - 1] : (sg_tframe *)0;
    uint32_t node;
    if (caller && caller->last_loc == loc) {
        node = caller->last_node;
    } else {
        node = sg_ttree_child(&th->tree, th->leaf, loc);
        if (caller) {
            caller->last_loc = loc;
            caller->last_node = node;
        }
    }
    th->tree.nodes[node].count++;
    sg_tframe *f = &th->stack[th->depth++];
    f->key = key;
    f->info = 0;
    f->node = node;
    f->parent = th->leaf;
    f->last_loc = UINT32_MAX;
    th->leaf = node;
}

/* Line level: a frame starts (or resumes); its lines hang under the current leaf,
 * which keeps the time until the frame's first line. */
static inline void sg_tthread_enter(sg_tthread *th, const void *key, void *info)
{
    if (th->depth == th->cap && !sg_tthread_grow(th)) {
        th->lost++;
        return;
    }
    sg_tframe *f = &th->stack[th->depth++];
    f->key = key;
    f->info = info;
    f->node = th->leaf;
    f->parent = th->leaf;
    f->last_loc = UINT32_MAX;
}

/* Line level: the top frame moves to the line at location loc; hit counts it. */
static inline void sg_tthread_line(sg_tthread *th, uint32_t loc, bool hit)
{
    sg_tframe *f = &th->stack[th->depth - 1];
    uint32_t node = sg_ttree_child(&th->tree, f->parent, loc);
    th->tree.nodes[node].count += hit;
    f->node = node;
    th->leaf = node;
}

/* A frame with this key returns (or yields, or unwinds). The top frame normally
 * matches; an exit of a frame entered before tracing began matches nothing and is
 * ignored; a missed exit (an event the interpreter never sent) is repaired by popping
 * down to the nearest frame with this key. */
static inline void sg_tthread_pop(sg_tthread *th, const void *key)
{
    uint32_t d = th->depth;
    if (d && th->stack[d - 1].key == key) {
        th->depth = --d;
        th->leaf = d ? th->stack[d - 1].node : 0;
        return;
    }
    sg_tthread_pop_deep(th, key);
}

#endif
