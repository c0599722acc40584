/* /proc/PID/maps: which files could hold _PyRuntime, and where each is mapped. */
#include <stdio.h>
#include <string.h>

#include "discover_internal.h"

/* A process has a few thousand mappings at most; a listing longer than this is not
 * one we want to spend time on. */
#define MAX_MAPS_LINES 1000000

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int is_libpython(const char *path)
{
    const char *b = basename_of(path);
    return strncmp(b, "libpython3.", 11) == 0 && strstr(b, ".so") != NULL;
}

int sg_path_python_minor(const char *path)
{
    if (!path)
        return -1;
    const char *b = basename_of(path);
    const char *p = strstr(b, "python3.");
    if (!p)
        return -1;
    p += 8;
    int minor = 0, nd = 0;
    while (*p >= '0' && *p <= '9' && nd < 3) {
        minor = minor * 10 + (*p - '0');
        p++, nd++;
    }
    if (nd == 0 || nd > 2)
        return -1;
    return minor;
}

/* Splits one maps line "lo-hi perms offset dev inode   path". Returns 0 and points
 * *path into line (the newline removed) for a file mapping, -1 otherwise. */
static int parse_line(char *line, unsigned long long *lo, unsigned long long *off,
                      const char **path)
{
    unsigned long long hi, inode;
    char perms[8], dev[32];
    int n = 0;
    if (sscanf(line, "%llx-%llx %7s %llx %31s %llu %n", lo, &hi, perms, off, dev, &inode,
               &n) != 6 ||
        n <= 0)
        return -1;
    char *p = line + n;
    char *nl = strchr(p, '\n');
    if (nl)
        *nl = '\0';
    if (p[0] != '/')
        return -1; /* anonymous, [heap], [stack], [vdso] ... */
    *path = p;
    return 0;
}

int sg_maps_candidates(FILE *f, const char *exe, sg_map_candidate *out, int max)
{
    char buf[PATH_MAX + 256];
    int n = 0;
    int have_base[SG_MAX_CANDIDATES] = {0};
    if (max > SG_MAX_CANDIDATES)
        max = SG_MAX_CANDIDATES;
    for (long nlines = 0; nlines < MAX_MAPS_LINES && fgets(buf, sizeof buf, f); nlines++) {
        if (!strchr(buf, '\n') && !feof(f)) {
            /* Overlong line: drop it and the rest of it. */
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            continue;
        }
        unsigned long long lo, off;
        const char *path;
        if (parse_line(buf, &lo, &off, &path))
            continue;
        int lib = is_libpython(path);
        if (!lib && !(exe && exe[0] && strcmp(path, exe) == 0))
            continue;
        int i;
        for (i = 0; i < n; i++)
            if (strcmp(out[i].path, path) == 0)
                break;
        if (i == n) {
            if (n == max || strlen(path) >= sizeof out[i].path)
                continue;
            memset(&out[i], 0, sizeof out[i]);
            strcpy(out[i].path, path);
            out[i].is_libpython = lib;
            n++;
        }
        if (off == 0 && (!have_base[i] || lo < out[i].base)) {
            out[i].base = lo;
            have_base[i] = 1;
        }
    }
    /* Keep the candidates with a load base, libpython first: a stub executable linked
     * against libpython defines no _PyRuntime, so trying the library first saves a
     * parse. A stable insertion sort by rank (libpython, executable, no base) with
     * adjacent swaps: n <= 8, and one spare entry is all the stack it needs. */
    int rank[SG_MAX_CANDIDATES], kept = 0;
    for (int i = 0; i < n; i++) {
        rank[i] = !have_base[i] ? 2 : out[i].is_libpython ? 0 : 1;
        kept += rank[i] < 2;
    }
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && rank[k - 1] > rank[k]; k--) {
            sg_map_candidate tmp = out[k];
            out[k] = out[k - 1];
            out[k - 1] = tmp;
            int t = rank[k];
            rank[k] = rank[k - 1];
            rank[k - 1] = t;
        }
    return kept;
}
