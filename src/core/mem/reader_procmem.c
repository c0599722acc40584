/* The fallback reader: pread on /proc/PID/mem. Some container seccomp profiles (Docker's
 * default without CAP_SYS_PTRACE) forbid process_vm_readv, even on our own PID, but not
 * open/pread. The kernel copies through the target's page tables, so a bad address
 * fails with EIO and never faults, exactly the property the in-process sampler needs.
 * It costs one system call per region (no scatter reads across addresses). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sg_reader.h"

typedef struct {
    sg_reader base;
    int fd;
} procmem_reader;

/* Offsets are signed: an address at or above 2^63 cannot be a user address. */
#define SG_MAX_OFFSET ((uint64_t)INT64_MAX)

static int procmem_read(sg_reader *r, uint64_t addr, void *buf, size_t len, sg_error *err)
{
    procmem_reader *pr = (procmem_reader *)r;
    if (len == 0)
        return 0;
    if (addr > SG_MAX_OFFSET || len > SG_MAX_OFFSET - addr)
        return sg_fail(err, SG_E_READ, EFAULT, NULL);
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(pr->fd, (char *)buf + done, len - done, (off_t)(addr + done));
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) /* the process has no address space any more (it exited) */
            return sg_fail(err, SG_E_NO_PROCESS, ESRCH, NULL);
        int e = errno;
        if (e == ESRCH)
            return sg_fail(err, SG_E_NO_PROCESS, e, NULL);
        if (e == EPERM || e == EACCES)
            return sg_fail(err, SG_E_PERMISSION, e, NULL);
        return sg_fail(err, SG_E_READ, e, NULL); /* EIO: unmapped or unreadable */
    }
    return 0;
}

static size_t procmem_readv(sg_reader *r, const sg_iov *iov, size_t n)
{
    sg_error err;
    for (size_t i = 0; i < n; i++)
        if (procmem_read(r, iov[i].addr, iov[i].buf, iov[i].len, &err) != 0)
            return i;
    return n;
}

static void procmem_free(sg_reader *r)
{
    procmem_reader *pr = (procmem_reader *)r;
    if (pr->fd >= 0)
        close(pr->fd);
    free(pr);
}

static const sg_reader_ops procmem_ops = {procmem_read, procmem_readv, procmem_free};

sg_reader *sg_reader_procmem_open(int pid, sg_error *err)
{
    if (pid <= 0) {
        sg_fail(err, SG_E_ARG, 0, "invalid PID %d", pid);
        return NULL;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", pid);
    procmem_reader *pr = calloc(1, sizeof *pr);
    if (!pr) {
        sg_fail(err, SG_E_NOMEM, ENOMEM, "allocating a reader");
        return NULL;
    }
    pr->base.ops = &procmem_ops;
    pr->base.pid = pid;
    pr->base.kind = SG_READER_PROCMEM;
    pr->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (pr->fd < 0) {
        int e = errno;
        procmem_free(&pr->base);
        if (e == ENOENT || e == ESRCH)
            sg_fail(err, SG_E_NO_PROCESS, e, "no process with PID %d", pid);
        else
            sg_fail(err, SG_E_PERMISSION, e, "cannot open %s: %s", path, strerror(e));
        return NULL;
    }
    uint64_t addr;
    unsigned char probe[8];
    sg_error perr;
    if (sg_first_readable_mapping(pid, &addr) != 0) {
        int e = errno;
        procmem_free(&pr->base);
        sg_fail(err, e == ENOENT || e == ESRCH ? SG_E_NO_PROCESS : SG_E_PERMISSION, e,
                "cannot read /proc/%d/maps: %s", pid, strerror(e));
        return NULL;
    }
    if (procmem_read(&pr->base, addr, probe, sizeof probe, &perr) != 0) {
        procmem_free(&pr->base);
        sg_fail(err, perr.code == SG_E_NO_PROCESS ? SG_E_NO_PROCESS : SG_E_PERMISSION,
                perr.errnum, "cannot read %s: %s", path, strerror(perr.errnum));
        return NULL;
    }
    return &pr->base;
}
