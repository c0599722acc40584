/* An open-addressing hash map from uint64 keys to uint64 values.
 * Used for code-address caches, string interning (key = hash, value = id, the caller
 * checks equality) and the stack trie's (parent, location) -> node index. */
#ifndef SG_MAP_H
#define SG_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sg_map {
    uint64_t *keys;
    uint64_t *vals;
    uint8_t *used; /* 0 empty, 1 full, 2 deleted */
    size_t cap;    /* power of two, or 0 */
    size_t len;    /* full slots */
    size_t tombs;  /* deleted slots */
} sg_map;

void sg_map_init(sg_map *m);
void sg_map_free(sg_map *m);
void sg_map_clear(sg_map *m);
/* Returns a pointer to the value of key, or NULL. The pointer is valid until the next put. */
uint64_t *sg_map_get(const sg_map *m, uint64_t key);
/* Inserts or overwrites; returns false only when memory runs out. */
bool sg_map_put(sg_map *m, uint64_t key, uint64_t val);
bool sg_map_del(sg_map *m, uint64_t key);

/* Iteration: for (size_t i = 0; sg_map_next(m, &i, &k, &v);) */
bool sg_map_next(const sg_map *m, size_t *pos, uint64_t *key, uint64_t *val);

/* A good 64-bit mixer (splitmix64 finaliser) and a byte-string hash (FNV-1a then mix). */
static inline uint64_t sg_hash64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}
uint64_t sg_hash_bytes(const void *data, size_t len);

#endif
