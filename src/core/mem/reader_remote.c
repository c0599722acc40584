/* process_vm_readv is the only way we read a live process: it never stops the target,
 * and a bad address fails with EFAULT instead of a signal (also on our own PID, which
 * the in-process sampler relies on). This is the only file that calls it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "sg_reader.h"

typedef struct {
    sg_reader base;
} remote_reader;

static int remote_read(sg_reader *r, uint64_t addr, void *buf, size_t len, sg_error *err)
{
    if (len == 0)
        return 0;
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len)
        return 0;
    if (n >= 0)
        return sg_fail(err, SG_E_READ, EFAULT, NULL);
    int e = errno;
    if (e == ESRCH)
        return sg_fail(err, SG_E_NO_PROCESS, e, NULL);
    if (e == EPERM)
        return sg_fail(err, SG_E_PERMISSION, e, NULL);
    if (e == ENOSYS)
        return sg_fail(err, SG_E_BLOCKED, e, NULL);
    return sg_fail(err, SG_E_READ, e, NULL);
}

/* The kernel stops a batch at the first region it cannot read and returns the bytes
 * copied so far, so the count of whole regions follows from the byte total. */
static size_t remote_readv(sg_reader *r, const sg_iov *iov, size_t n)
{
    enum { BATCH = 512 }; /* the kernel takes up to IOV_MAX (1024) at once */
    struct iovec local[BATCH], remote[BATCH];
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < BATCH ? n - done : BATCH;
        size_t want = 0;
        for (size_t i = 0; i < k; i++) {
            local[i].iov_base = iov[done + i].buf;
            local[i].iov_len = iov[done + i].len;
            remote[i].iov_base = (void *)(uintptr_t)iov[done + i].addr;
            remote[i].iov_len = iov[done + i].len;
            want += iov[done + i].len;
        }
        ssize_t got = process_vm_readv(r->pid, local, k, remote, k, 0);
        if (got == (ssize_t)want) {
            done += k;
            continue;
        }
        size_t bytes = got > 0 ? (size_t)got : 0;
        for (size_t i = 0; i < k && bytes >= iov[done].len; i++) {
            bytes -= iov[done].len;
            done++;
        }
        return done;
    }
    return done;
}

static void remote_free(sg_reader *r) { free(r); }

static const sg_reader_ops remote_ops = {remote_read, remote_readv, remote_free};

int sg_first_readable_mapping(int pid, uint64_t *addr)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char line[512];
    int rc = -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[0] == 'r') {
            *addr = lo;
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

sg_reader *sg_reader_remote_open(int pid, sg_error *err)
{
    if (pid <= 0) {
        sg_fail(err, SG_E_ARG, 0, "invalid PID %d", pid);
        return NULL;
    }
    if (kill(pid, 0) != 0 && errno == ESRCH) {
        sg_fail(err, SG_E_NO_PROCESS, ESRCH, "no process with PID %d", pid);
        return NULL;
    }
    remote_reader *rr = calloc(1, sizeof *rr);
    if (!rr) {
        sg_fail(err, SG_E_NOMEM, ENOMEM, "allocating a reader");
        return NULL;
    }
    rr->base.ops = &remote_ops;
    rr->base.pid = pid;

    /* A process between fork and exec, or in the middle of exec, briefly has no
     * mappings at all (maps reads fine but empty): wait a little for its new image
     * rather than calling that a permission problem. */
    uint64_t addr;
    int found = -1, e = 0;
    for (int tries = 0; tries < 50; tries++) {
        errno = 0;
        found = sg_first_readable_mapping(pid, &addr);
        e = errno;
        if (found == 0 || e != 0)
            break;
        struct timespec pause = {0, 2000000L};
        nanosleep(&pause, NULL);
    }
    if (found != 0 && e == 0) {
        sg_reader_free(&rr->base);
        sg_fail(err, kill(pid, 0) != 0 && errno == ESRCH ? SG_E_NO_PROCESS : SG_E_READ, 0,
                "process %d has no memory mapped (exiting, or not started yet)", pid);
        return NULL;
    }
    if (found != 0) {
        sg_reader_free(&rr->base);
        if (e == ENOENT || e == ESRCH) {
            sg_fail(err, SG_E_NO_PROCESS, e, "no process with PID %d", pid);
        } else {
            sg_fail(err, SG_E_PERMISSION, e,
                    "cannot read /proc/%d/maps (%s): the kernel's ptrace access check "
                    "refused (another user's process, or kernel.yama.ptrace_scope): run "
                    "spyglass as the target's user, as root or with CAP_SYS_PTRACE",
                    pid, strerror(e));
        }
        return NULL;
    }
    unsigned char probe[8];
    sg_error perr;
    int rc = remote_read(&rr->base, addr, probe, sizeof probe, &perr);
    /* Mid-exec, the mapping just listed can be gone before the probe reads it (EFAULT):
     * look again at the new image instead of failing. */
    for (int tries = 0; rc != 0 && perr.code == SG_E_READ && tries < 50; tries++) {
        struct timespec pause = {0, 2000000L};
        nanosleep(&pause, NULL);
        if (sg_first_readable_mapping(pid, &addr) == 0)
            rc = remote_read(&rr->base, addr, probe, sizeof probe, &perr);
    }
    if (rc != 0) {
        sg_reader_free(&rr->base);
        if (perr.code == SG_E_PERMISSION) {
            sg_fail(err, SG_E_PERMISSION, perr.errnum,
                    "not permitted to read the memory of PID %d (ptrace access denied): run "
                    "spyglass as root or with CAP_SYS_PTRACE (in containers: --cap-add "
                    "SYS_PTRACE), or allow it with 'sysctl kernel.yama.ptrace_scope=0'",
                    pid);
        } else if (perr.code == SG_E_BLOCKED) {
            sg_fail(err, SG_E_BLOCKED, perr.errnum,
                    "process_vm_readv is not available (seccomp or an old kernel): run "
                    "with CAP_SYS_PTRACE or a seccomp profile that allows it");
        } else if (perr.code == SG_E_NO_PROCESS) {
            sg_fail(err, SG_E_NO_PROCESS, perr.errnum, "process %d exited", pid);
        } else {
            sg_fail(err, SG_E_READ, perr.errnum, "cannot read the memory of PID %d: %s", pid,
                    strerror(perr.errnum));
        }
        return NULL;
    }
    return &rr->base;
}

void sg_reader_free(sg_reader *r)
{
    if (r)
        r->ops->free(r);
}
