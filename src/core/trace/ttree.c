/* Growth of the per-thread aggregation tree (the lookups are inline in sg_ttree.h). */
#include "sg_ttree.h"

#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"

#define SG_TTREE_FIRST_SLOTS 1024u

static int slots_alloc(sg_ttree *t, size_t n)
{
    sg_tslot *s = malloc(n * sizeof *s);
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++)
        s[i].k = SG_TTREE_EMPTY;
    unsigned bits = 0;
    while (((size_t)1 << bits) < n)
        bits++;
    free(t->slots);
    t->slots = s;
    t->mask = n - 1;
    t->shift = 64 - bits;
    return 0;
}

int sg_ttree_init(sg_ttree *t)
{
    memset(t, 0, sizeof *t);
    if (!sg_grow((void **)&t->nodes, &t->cap, 256, sizeof *t->nodes, 256) ||
        slots_alloc(t, SG_TTREE_FIRST_SLOTS)) {
        sg_ttree_free(t);
        return -1;
    }
    t->nodes[0] = (sg_tnode){.parent = UINT32_MAX, .key = UINT32_MAX};
    t->n = 1;
    return 0;
}

void sg_ttree_free(sg_ttree *t)
{
    free(t->nodes);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* Doubles the slot table and re-inserts every node but the root. */
static int rehash(sg_ttree *t)
{
    if (t->mask + 1 > SIZE_MAX / 2 / sizeof(sg_tslot))
        return -1;
    if (slots_alloc(t, (t->mask + 1) * 2))
        return -1;
    for (size_t n = 1; n < t->n; n++) {
        uint64_t k = (uint64_t)t->nodes[n].parent << 32 | t->nodes[n].key;
        size_t i = sg_ttree_slot(t, k);
        while (t->slots[i].k != SG_TTREE_EMPTY)
            i = (i + 1) & t->mask;
        t->slots[i].k = k;
        t->slots[i].node = (uint32_t)n;
    }
    return 0;
}

uint32_t sg_ttree_insert(sg_ttree *t, uint32_t parent, uint32_t key, size_t i)
{
    if (t->n >= UINT32_MAX - 1 || !sg_grow((void **)&t->nodes, &t->cap, t->n + 1,
                                           sizeof *t->nodes, 256)) {
        t->oom = true;
        return parent;
    }
    /* keep the table at most half full so probes stay short */
    if ((t->used + 1) * 2 > t->mask + 1) {
        if (rehash(t)) {
            t->oom = true;
            return parent;
        }
        uint64_t k = (uint64_t)parent << 32 | key;
        i = sg_ttree_slot(t, k);
        while (t->slots[i].k != SG_TTREE_EMPTY)
            i = (i + 1) & t->mask;
    }
    uint32_t id = (uint32_t)t->n++;
    t->nodes[id] = (sg_tnode){.parent = parent, .key = key};
    t->slots[i].k = (uint64_t)parent << 32 | key;
    t->slots[i].node = id;
    t->used++;
    return id;
}
