/* Private to discover/: the /proc/PID/maps scan. */
#ifndef SG_DISCOVER_INTERNAL_H
#define SG_DISCOVER_INTERNAL_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

/* A file in the target's memory map that may hold _PyRuntime. */
typedef struct {
    char path[PATH_MAX]; /* as written in maps (may end in " (deleted)") */
    uint64_t base;       /* start of its lowest mapping at file offset 0 */
    int is_libpython;    /* 1 for libpython3.X.so*, 0 for the executable */
} sg_map_candidate;

#define SG_MAX_CANDIDATES 8

/* Reads a maps listing from f and fills out[] with up to max candidates: the
 * executable (a path equal to exe, which may be NULL or "") and every libpython3.X
 * shared object, each once, libpython first. Lines are untrusted; malformed or overlong
 * ones are skipped, and at most a bounded number of lines is read. Returns the count. */
int sg_maps_candidates(FILE *f, const char *exe, sg_map_candidate *out, int max);

/* The minor version named by a path such as ".../libpython3.10.so.1.0" or
 * ".../python3.9", or -1. */
int sg_path_python_minor(const char *path);

#endif
