#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "../base/sg_map.h"
#include "sg_stackcache.h"

typedef struct {
    sg_raw_frame frame;
    sg_stackstep step;
} known_frame;

struct sg_stackentry {
    uint64_t key;
    bool seen; /* looked up since the last sweep */
    size_t n, cap;
    known_frame *at; /* root first */
};

struct sg_stackcache {
    sg_map index; /* key -> slot + 1 */
    sg_stackentry *slots;
    size_t n, cap;
};

sg_stackcache *sg_stackcache_new(void)
{
    sg_stackcache *c = calloc(1, sizeof *c);
    if (c)
        sg_map_init(&c->index);
    return c;
}

static void entry_free(sg_stackentry *e) { free(e->at); }

void sg_stackcache_free(sg_stackcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        entry_free(&c->slots[i]);
    free(c->slots);
    sg_map_free(&c->index);
    free(c);
}

void sg_stackcache_clear(sg_stackcache *c)
{
    for (size_t i = 0; i < c->n; i++)
        c->slots[i].n = 0;
}

void sg_stackcache_sweep(sg_stackcache *c)
{
    for (size_t i = 0; i < c->n;) {
        sg_stackentry *e = &c->slots[i];
        if (e->seen) {
            e->seen = false;
            i++;
            continue;
        }
        sg_map_del(&c->index, e->key);
        entry_free(e);
        size_t last = c->n - 1;
        if (i != last) { /* the last slot fills the hole */
            c->slots[i] = c->slots[last];
            sg_map_put(&c->index, c->slots[i].key, i + 1);
        }
        c->n--;
    }
}

sg_stackentry *sg_stackcache_get(sg_stackcache *c, uint64_t key)
{
    uint64_t *v = sg_map_get(&c->index, key);
    if (v) {
        c->slots[*v - 1].seen = true;
        return &c->slots[*v - 1];
    }
    if (!sg_grow((void **)&c->slots, &c->cap, c->n + 1, sizeof *c->slots, 16) ||
        !sg_map_put(&c->index, key, c->n + 1))
        return NULL;
    sg_stackentry *e = &c->slots[c->n++];
    memset(e, 0, sizeof *e);
    e->key = key;
    e->seen = true;
    return e;
}

static bool same_frame(const sg_raw_frame *a, const sg_raw_frame *b)
{
    return a->code == b->code && a->offset == b->offset && a->flags == b->flags;
}

size_t sg_stackentry_keep_common(sg_stackentry *e, const sg_raw_frame *leaf_first, size_t n)
{
    size_t k = 0;
    while (k < e->n && k < n && same_frame(&e->at[k].frame, &leaf_first[n - 1 - k]))
        k++;
    e->n = k;
    return k;
}

sg_stackstep sg_stackentry_step(const sg_stackentry *e, size_t i) { return e->at[i].step; }

bool sg_stackentry_append(sg_stackentry *e, const sg_raw_frame *f, sg_stackstep step)
{
    if (!sg_grow((void **)&e->at, &e->cap, e->n + 1, sizeof *e->at, 32)) {
        e->n = 0;
        return false;
    }
    e->at[e->n++] = (known_frame){*f, step};
    return true;
}

void sg_stackentry_reset(sg_stackentry *e) { e->n = 0; }
