/* Growing a heap array geometrically: the one pattern every table of the sampler and
 * walker needs (frames, threads, cache entries, per-thread files). */
#ifndef SG_GROW_H
#define SG_GROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Makes room for at least `need` elements of `elem` bytes in *arr (capacity *cap),
 * doubling from `first`. Returns false, leaving *arr and *cap untouched, when memory
 * runs out or the size would overflow. */
static inline bool sg_grow(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : first;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return false;
        n *= 2;
    }
    void *p = realloc(*arr, n * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

#endif
