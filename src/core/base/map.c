#include "sg_map.h"

#include <stdlib.h>
#include <string.h>

void sg_map_init(sg_map *m) { memset(m, 0, sizeof *m); }

void sg_map_free(sg_map *m)
{
    free(m->keys);
    free(m->vals);
    free(m->used);
    sg_map_init(m);
}

void sg_map_clear(sg_map *m)
{
    if (m->used)
        memset(m->used, 0, m->cap);
    m->len = m->tombs = 0;
}

uint64_t sg_hash_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return sg_hash64(h);
}

static size_t find_slot(const sg_map *m, uint64_t key, bool *found)
{
    size_t mask = m->cap - 1;
    size_t i = (size_t)sg_hash64(key) & mask;
    size_t first_tomb = SIZE_MAX;
    for (size_t probes = 0; probes < m->cap; probes++, i = (i + 1) & mask) {
        if (m->used[i] == 0) {
            *found = false;
            return first_tomb != SIZE_MAX ? first_tomb : i;
        }
        if (m->used[i] == 2) {
            if (first_tomb == SIZE_MAX)
                first_tomb = i;
        } else if (m->keys[i] == key) {
            *found = true;
            return i;
        }
    }
    *found = false;
    return first_tomb;
}

uint64_t *sg_map_get(const sg_map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    bool found;
    size_t i = find_slot(m, key, &found);
    return found ? &m->vals[i] : NULL;
}

static bool grow(sg_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if ((m->len + 1) * 4 < m->cap * 3)
        cap = m->cap; /* only tombstones to purge: rehash at the same size */
    sg_map nm;
    nm.keys = malloc(cap * sizeof *nm.keys);
    nm.vals = malloc(cap * sizeof *nm.vals);
    nm.used = calloc(cap, 1);
    if (!nm.keys || !nm.vals || !nm.used) {
        free(nm.keys);
        free(nm.vals);
        free(nm.used);
        return false;
    }
    nm.cap = cap;
    nm.len = nm.tombs = 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->used[i] != 1)
            continue;
        bool found;
        size_t j = find_slot(&nm, m->keys[i], &found);
        nm.keys[j] = m->keys[i];
        nm.vals[j] = m->vals[i];
        nm.used[j] = 1;
        nm.len++;
    }
    sg_map_free(m);
    *m = nm;
    return true;
}

bool sg_map_put(sg_map *m, uint64_t key, uint64_t val)
{
    if ((m->len + m->tombs + 1) * 4 >= m->cap * 3 && !grow(m))
        return false;
    bool found;
    size_t i = find_slot(m, key, &found);
    if (!found) {
        if (m->used[i] == 2)
            m->tombs--;
        m->used[i] = 1;
        m->keys[i] = key;
        m->len++;
    }
    m->vals[i] = val;
    return true;
}

bool sg_map_del(sg_map *m, uint64_t key)
{
    if (!m->cap)
        return false;
    bool found;
    size_t i = find_slot(m, key, &found);
    if (!found)
        return false;
    m->used[i] = 2;
    m->len--;
    m->tombs++;
    return true;
}

bool sg_map_next(const sg_map *m, size_t *pos, uint64_t *key, uint64_t *val)
{
    for (size_t i = *pos; i < m->cap; i++) {
        if (m->used[i] == 1) {
            if (key)
                *key = m->keys[i];
            if (val)
                *val = m->vals[i];
            *pos = i + 1;
            return true;
        }
    }
    *pos = m->cap;
    return false;
}
