/* The out-of-line parts of a traced thread (sg_tthread.h): creation, growth, the CPU
 * clock's long-interval read, missed-exit repair and the restart after fork. */
#include "sg_tthread.h"

#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "sg_tclock.h"

#define SG_CPU_THRESHOLD_NS 50000 /* 50 us */

sg_tthread *sg_tthread_new(const sg_tthread_config *cfg, uint64_t now)
{
    sg_tthread *th = calloc(1, sizeof *th);
    if (!th)
        return NULL;
    size_t cap = 0;
    if (sg_ttree_init(&th->tree) ||
        !sg_grow((void **)&th->stack, &cap, 64, sizeof *th->stack, 64)) {
        sg_tthread_free(th);
        return NULL;
    }
    th->cap = (uint32_t)cap;
    th->t_last = now;
    th->bias_untimed = cfg->bias_untimed;
    th->cpu = cfg->cpu;
    th->ticks_per_ns = cfg->ticks_per_ns > 0 ? cfg->ticks_per_ns : 1.0;
    int64_t thr = cfg->cpu_threshold_ns > 0 ? cfg->cpu_threshold_ns : SG_CPU_THRESHOLD_NS;
    th->cpu_threshold = (int64_t)((double)thr * th->ticks_per_ns);
    th->cpu_now = cfg->cpu_now ? cfg->cpu_now : sg_tclock_thread_cpu_ns;
    if (th->cpu)
        th->cpu_last_ns = th->cpu_now();
    return th;
}

void sg_tthread_free(sg_tthread *th)
{
    if (!th)
        return;
    sg_ttree_free(&th->tree);
    free(th->stack);
    free(th->name);
    free(th);
}

int64_t sg_tthread_cpu_long(sg_tthread *th, int64_t dt)
{
    int64_t now = th->cpu_now();
    int64_t used = (int64_t)((double)(now - th->cpu_last_ns) * th->ticks_per_ns);
    th->cpu_last_ns = now;
    int64_t mine = used - th->cpu_acc;
    th->cpu_acc = 0;
    if (mine < 0)
        mine = 0;
    return mine < dt ? mine : dt;
}

bool sg_tthread_grow(sg_tthread *th)
{
    size_t cap = th->cap;
    if (cap >= UINT32_MAX / 2 ||
        !sg_grow((void **)&th->stack, &cap, (size_t)th->depth + 1, sizeof *th->stack, 64))
        return false;
    th->cap = (uint32_t)cap;
    return true;
}

void sg_tthread_pop_deep(sg_tthread *th, const void *key)
{
    for (uint32_t d = th->depth; d-- > 0;) {
        if (th->stack[d].key != key)
            continue;
        th->depth = d;
        th->leaf = d ? th->stack[d - 1].node : 0;
        return;
    }
}

int sg_tthread_restart(sg_tthread *th, uint64_t now)
{
    sg_ttree old = th->tree;
    if (sg_ttree_init(&th->tree)) {
        th->tree = old;
        return -1;
    }
    uint32_t leaf = 0;
    for (uint32_t d = 0; d < th->depth; d++) {
        sg_tframe *f = &th->stack[d];
        bool has_node = f->node != f->parent;
        uint32_t key = old.nodes[f->node].key;
        f->parent = leaf;
        f->node = has_node ? sg_ttree_child(&th->tree, leaf, key) : leaf;
        f->last_loc = UINT32_MAX; /* it named a node of the old tree */
        leaf = f->node;
    }
    sg_ttree_free(&old);
    th->leaf = leaf;
    th->t_last = now;
    th->untimed = 0;
    th->lost = 0;
    th->events = 0;
    th->cpu_acc = 0;
    if (th->cpu)
        th->cpu_last_ns = th->cpu_now();
    return 0;
}
