/* Chooses how to read a live process. process_vm_readv is the fast way (scatter reads,
 * no file descriptor); where the kernel refuses the system call itself (a seccomp
 * filter answers EPERM or ENOSYS whatever the target, an old kernel ENOSYS), the same
 * memory is often still readable through /proc/PID/mem, so AUTO tries that next. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sg_reader.h"

const char *sg_reader_kind_name(sg_reader_kind kind)
{
    switch (kind) {
    case SG_READER_VM:
        return "process_vm_readv";
    case SG_READER_PROCMEM:
        return "/proc/PID/mem";
    case SG_READER_AUTO:
    default:
        return "auto";
    }
}

sg_reader *sg_reader_open(int pid, sg_reader_kind kind, sg_error *err)
{
    if (kind == SG_READER_PROCMEM)
        return sg_reader_procmem_open(pid, err);
    sg_error verr;
    sg_error_clear(&verr);
    sg_reader *r = sg_reader_remote_open(pid, &verr);
    if (r) {
        r->kind = SG_READER_VM;
        return r;
    }
    bool refused = verr.code == SG_E_BLOCKED || verr.code == SG_E_PERMISSION;
    if (kind == SG_READER_VM || !refused) {
        if (err)
            *err = verr;
        return NULL;
    }
    sg_error perr;
    sg_error_clear(&perr);
    r = sg_reader_procmem_open(pid, &perr);
    if (r)
        return r;
    /* Both closed. On our own PID the ptrace check always passes, so a refusal can only
     * be a filter on the system calls; elsewhere process_vm_readv's message explains the
     * permission problem. */
    if (err && pid == getpid()) {
        sg_fail(err, SG_E_BLOCKED, verr.errnum,
                "the kernel forbids this process to read its own memory: process_vm_readv "
                "fails (%s) and so does /proc/self/mem (%s); this is a seccomp filter (a "
                "container's default profile): allow process_vm_readv in it, or run the "
                "container with CAP_SYS_PTRACE (docker --cap-add SYS_PTRACE), or profile "
                "from outside with 'spyglass run'",
                strerror(verr.errnum),
                perr.errnum ? strerror(perr.errnum) : sg_code_message(perr.code));
    } else if (err) {
        *err = verr;
        size_t used = strlen(err->msg);
        snprintf(err->msg + used, sizeof err->msg - used, "; reading /proc/%d/mem instead "
                 "failed too (%s)", pid, perr.msg[0] ? perr.msg : sg_code_message(perr.code));
    }
    return NULL;
}
