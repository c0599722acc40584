/* Whole-file output and input. Output goes through a temporary file in the target's
 * directory (same file system, so rename() is atomic) that is fsync'ed before the
 * rename: readers see either the old file or the complete new one. */
#include "sg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How many temporary names to try before giving up on a directory full of leftovers. */
#define SG_FILE_TMP_TRIES 16

/* write() may not take more than SSIZE_MAX at once; Linux stops near 2 GiB anyway. */
#define SG_FILE_CHUNK ((size_t)1 << 30)

static int io_fail(sg_error *err, int errnum, const char *what, const char *path)
{
    return sg_fail(err, SG_E_IO, errnum, "%s %s: %s%s", what, path, strerror(errnum),
                   errnum == ENOSPC ? " (the disk is full)" : "");
}

/* Writes all of data to fd, retrying short writes and EINTR. Returns 0 or errno. */
static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len > SG_FILE_CHUNK ? SG_FILE_CHUNK : len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0)
            return EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Creates a fresh temporary file next to path. O_EXCL | O_NOFOLLOW make sure we never
 * open something an attacker planted under the name we picked. *tmp is malloc'ed. */
static int create_temp(const char *path, char **tmp, int *errnum)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dirlen;
    size_t cap = strlen(path) + 64;
    char *name = malloc(cap);
    if (!name) {
        *errnum = ENOMEM;
        return -1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned long salt = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 16);
    for (int i = 0; i < SG_FILE_TMP_TRIES; i++) {
        snprintf(name, cap, "%.*s.%s.%ld.%lx.tmp", (int)dirlen, path, base, (long)getpid(),
                 salt + (unsigned long)i * 0x9E3779B9ul);
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            *tmp = name;
            return fd;
        }
        if (errno != EEXIST) {
            *errnum = errno;
            free(name);
            return -1;
        }
    }
    *errnum = EEXIST;
    free(name);
    return -1;
}

/* Makes the rename itself durable; failure here loses nothing already written, so it
 * is not reported. */
static void sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* The standard stream (1 or 2) that path names (/dev/stdout, /proc/self/fd/2, or the
 * file a stream is redirected to), or -1. */
static int std_stream_of(const struct stat *st)
{
    for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++) {
        struct stat s;
        if (fstat(fd, &s) == 0 && s.st_dev == st->st_dev && s.st_ino == st->st_ino)
            return fd;
    }
    return -1;
}

/* Devices, FIFOs and sockets are written where they are: renaming a file over them
 * would replace /dev/null or /dev/full itself (we may run as root). */
static int write_in_place(const char *path, const void *data, size_t len, sg_error *err)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return io_fail(err, errno, "writing", path);
    int rc = write_all(fd, data, len);
    if (close(fd) != 0 && !rc && errno != EINTR)
        rc = errno;
    return rc ? io_fail(err, rc, "writing", path) : 0;
}

int sg_file_write_atomic(const char *path, const void *data, size_t len, sg_error *err)
{
    if (!path || !*path || (len && !data))
        return sg_fail(err, SG_E_ARG, 0, "no output file given");
    struct stat st;
    int stream = strcmp(path, "-") == 0 ? STDOUT_FILENO
                 : stat(path, &st) == 0 ? std_stream_of(&st)
                                        : -1;
    if (stream >= 0) {
        /* Anything the caller printed through stdio must come out before our bytes. */
        fflush(stream == STDOUT_FILENO ? stdout : stderr);
        int rc = write_all(stream, data, len);
        return rc ? io_fail(err, rc, "writing",
                            stream == STDOUT_FILENO ? "to standard output"
                                                    : "to standard error")
                  : 0;
    }
    bool exists = lstat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
        return write_in_place(path, data, len, err);
    char *tmp = NULL;
    int errnum = 0;
    int fd = create_temp(path, &tmp, &errnum);
    if (fd < 0)
        return io_fail(err, errnum, "cannot create a file next to", path);
    /* A file we replace keeps its permissions (a private profile stays private). */
    if (exists && S_ISREG(st.st_mode))
        (void)fchmod(fd, st.st_mode & 07777);
    const char *what = "writing";
    int rc = write_all(fd, data, len);
    if (!rc && fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = errno; /* EINVAL: special files that cannot sync; nothing to lose there */
    if (close(fd) != 0 && !rc && errno != EINTR)
        rc = errno;
    if (!rc && rename(tmp, path) != 0) {
        rc = errno;
        what = "replacing";
    }
    if (rc) {
        unlink(tmp);
        free(tmp);
        return io_fail(err, rc, what, path);
    }
    free(tmp);
    sync_dir_of(path);
    return 0;
}

int sg_file_read_all(const char *path, size_t max, void **data, size_t *len, sg_error *err)
{
    *data = NULL;
    *len = 0;
    if (!path || !*path)
        return sg_fail(err, SG_E_ARG, 0, "no input file given");
    /* "-" reads standard input, so that saved profiles can be piped into reports. */
    int is_stdin = strcmp(path, "-") == 0;
    if (is_stdin)
        path = "standard input";
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(err, errno, "reading", path);
    struct stat st;
    size_t cap = 65536;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > (uint64_t)max) {
            if (!is_stdin)
                close(fd);
            return sg_fail(err, SG_E_IO, EFBIG,
                           "reading %s: too large (%lld bytes, at most %zu)", path,
                           (long long)st.st_size, max);
        }
        cap = (size_t)st.st_size + 1; /* +1 to see end of file without growing */
    }
    if (cap > max + 1 && max < SIZE_MAX)
        cap = max + 1;
    char *buf = malloc(cap ? cap : 1);
    size_t n = 0;
    int rc = buf ? 0 : ENOMEM;
    while (!rc) {
        if (n == cap) {
            if (n > max)
                break;
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            if (ncap > max + 1 && max < SIZE_MAX)
                ncap = max + 1;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno != EINTR)
                rc = errno;
            continue;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (!is_stdin)
        close(fd);
    if (rc) {
        free(buf);
        return rc == ENOMEM ? sg_fail(err, SG_E_NOMEM, rc, "reading %s", path)
                            : io_fail(err, rc, "reading", path);
    }
    if (n > max) {
        free(buf);
        return sg_fail(err, SG_E_IO, EFBIG, "reading %s: too large (more than %zu bytes)",
                       path, max);
    }
    *data = buf;
    *len = n;
    return 0;
}
