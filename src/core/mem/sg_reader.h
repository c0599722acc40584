/* One interface for reading another address space. Everything read through it is
 * untrusted: callers validate what they get. Implementations: the remote reader
 * (process_vm_readv on a PID, also our own PID from a native thread), the /proc/PID/mem
 * reader (pread; the fallback where seccomp forbids process_vm_readv) and a fake
 * reader over in-memory regions for tests and fuzzing. */
#ifndef SG_READER_H
#define SG_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../base/sg_error.h"

typedef struct sg_reader sg_reader;

/* Which way to read a live process. AUTO is process_vm_readv, falling back to
 * /proc/PID/mem when the kernel refuses the system call itself (seccomp, ENOSYS). */
typedef enum { SG_READER_AUTO = 0, SG_READER_VM, SG_READER_PROCMEM } sg_reader_kind;

typedef struct sg_iov {
    uint64_t addr;
    void *buf;
    size_t len;
} sg_iov;

typedef struct sg_reader_ops {
    /* Reads exactly len bytes at addr. Returns 0, or -1 with err->code set to
     * SG_E_READ (bad address or short read), SG_E_NO_PROCESS or SG_E_PERMISSION.
     * No message is formatted on this hot path: callers add context if they report. */
    int (*read)(sg_reader *r, uint64_t addr, void *buf, size_t len, sg_error *err);
    /* Reads n regions in one call where the platform allows it. Returns how many of the
     * leading regions were read whole (a failed region stops the batch). Never fails
     * otherwise: a region not reached is simply not counted. */
    size_t (*readv)(sg_reader *r, const struct sg_iov *iov, size_t n);
    void (*free)(sg_reader *r);
} sg_reader_ops;

struct sg_reader {
    const sg_reader_ops *ops;
    int pid;           /* -1 for the fake reader */
    uint64_t nreads;   /* read calls, for the benchmark and the error report */
    uint64_t nfailed;
    sg_reader_kind kind; /* what sg_reader_open chose (AUTO for the fake reader) */
};

static inline int sg_read(sg_reader *r, uint64_t addr, void *buf, size_t len, sg_error *err)
{
    r->nreads++;
    int rc = r->ops->read(r, addr, buf, len, err);
    if (rc)
        r->nfailed++;
    return rc;
}

static inline size_t sg_readv(sg_reader *r, const sg_iov *iov, size_t n)
{
    r->nreads++;
    size_t ok = r->ops->readv(r, iov, n);
    if (ok < n)
        r->nfailed++;
    return ok;
}

/* Opens a reader on pid and probes it with one read of a mapped address, so that
 * a permission problem (ptrace_scope, seccomp, another user) is reported here,
 * with an explanation, and not as a stream of failed samples. */
sg_reader *sg_reader_remote_open(int pid, sg_error *err);

/* The start of pid's first readable mapping (from /proc/PID/maps), where the readers
 * make their probe read; -1 with errno when the maps cannot be read or list none. */
int sg_first_readable_mapping(int pid, uint64_t *addr);

/* Opens pid's /proc/PID/mem and probes it like the remote reader. A bad address fails
 * with EIO (SG_E_READ), never a signal, also on our own PID. */
sg_reader *sg_reader_procmem_open(int pid, sg_error *err);

/* Opens a reader of the given kind (see sg_reader_kind); the result's kind says which
 * one AUTO chose. When AUTO finds both ways closed, the error is process_vm_readv's
 * (it explains the permission problem) with the fallback's failure appended. */
sg_reader *sg_reader_open(int pid, sg_reader_kind kind, sg_error *err);
/* "process_vm_readv", "/proc/PID/mem" or "auto". */
const char *sg_reader_kind_name(sg_reader_kind kind);

/* The fake reader: regions added by copy; reads outside them fail with SG_E_READ. */
sg_reader *sg_reader_fake_new(void);
int sg_reader_fake_add(sg_reader *r, uint64_t addr, const void *data, size_t len);
/* Changes bytes inside one region already added (a target that changes under the
 * reader); -1 if they are not all in one region. */
int sg_reader_fake_write(sg_reader *r, uint64_t addr, const void *data, size_t len);

void sg_reader_free(sg_reader *r); /* accepts NULL */

#endif
