#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sg_children.h"

/* Appends the PIDs listed in one children file. */
static size_t read_children_file(const char *path, int *out, size_t n, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return n;
    char buf[4096];
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (len <= 0)
        return n;
    buf[len] = '\0';
    char *p = buf;
    while (*p && n < cap) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v > 0 && v <= 0x7fffffff) {
            bool seen = false;
            for (size_t i = 0; i < n && !seen; i++)
                seen = out[i] == (int)v;
            if (!seen)
                out[n++] = (int)v;
        }
        p = end;
    }
    return n;
}

size_t sg_children_of(int pid, int *out, size_t cap)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < cap) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (*end || tid <= 0)
            continue;
        snprintf(path, sizeof path, "/proc/%d/task/%ld/children", pid, tid);
        n = read_children_file(path, out, n, cap);
    }
    closedir(d);
    return n;
}
