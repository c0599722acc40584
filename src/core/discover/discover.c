/* sg_discover: from a PID to _PyRuntime, the exact version and a checked offsets table.
 * Files come from the target's mount namespace (/proc/PID/root) and are parsed as
 * untrusted; values read from the target are checked before use. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "discover_internal.h"
#include "sg_discover.h"

/* libpython is ~30 MiB with symbols; anything far larger is not worth mapping. */
#define MAX_ELF_SIZE ((off_t)1 << 31)

/* Opens path as seen by the target: through its root first (other mount namespaces,
 * containers), then as is. The executable is also reachable as /proc/PID/exe, which
 * works when it was deleted or replaced after start. */
static int open_target_file(int pid, const char *path, int is_exe)
{
    char p[PATH_MAX + 64];
    int fd = -1;
    if (is_exe) {
        snprintf(p, sizeof p, "/proc/%d/exe", pid);
        fd = open(p, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0 && (size_t)snprintf(p, sizeof p, "/proc/%d/root%s", pid, path) < sizeof p)
        fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd;
}

/* Maps the candidate read-only, parses it and unmaps it. */
static int load_elf(int pid, const sg_map_candidate *c, sg_elf_info *info, sg_error *err)
{
    int fd = open_target_file(pid, c->path, !c->is_libpython);
    if (fd < 0)
        return sg_fail(err, errno == EACCES ? SG_E_PERMISSION : SG_E_IO, errno,
                       "cannot open %s of process %d: %s", c->path, pid, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        st.st_size > MAX_ELF_SIZE) {
        close(fd);
        return sg_fail(err, SG_E_ELF, 0, "%s is not a regular file of a plausible size",
                       c->path);
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED)
        return sg_fail(err, SG_E_IO, e, "cannot map %s: %s", c->path, strerror(e));
    int rc = sg_elf_parse(m, (size_t)st.st_size, info, err);
    munmap(m, (size_t)st.st_size);
    if (rc && err) {
        char inner[sizeof err->msg];
        snprintf(inner, sizeof inner, "%s", err->msg);
        sg_fail(err, SG_E_ELF, err->errnum, "%s: %s", c->path, inner);
    }
    return rc;
}

/* Adds what we were doing to a reader failure, keeping its code. */
static int read_target(sg_reader *r, int pid, uint64_t addr, void *buf, size_t len,
                       const char *what, sg_error *err)
{
    if (sg_read(r, addr, buf, len, err) == 0)
        return 0;
    sg_code code = err ? err->code : SG_E_READ;
    int errnum = err ? err->errnum : 0;
    if (code == SG_E_PERMISSION)
        return sg_fail(err, code, errnum,
                       "not permitted to read the memory of process %d (run as the same "
                       "user with ptrace allowed, e.g. kernel.yama.ptrace_scope=0, or as root)",
                       pid);
    if (code == SG_E_NO_PROCESS)
        return sg_fail(err, code, errnum, "process %d exited", pid);
    return sg_fail(err, code, errnum, "cannot read %s at 0x%llx in process %d", what,
                   (unsigned long long)addr, pid);
}

static int plausible_hex(uint64_t hex)
{
    return (hex >> 24) == 3 && ((hex >> 16) & 0xff) < 100;
}

/* "3.12.1", "3.13.0rc2"; just "3.9" when only major and minor are known. */
static void format_version(uint32_t hex, int micro_known, char *out, size_t n)
{
    unsigned maj = hex >> 24, min = hex >> 16 & 0xff, mic = hex >> 8 & 0xff;
    unsigned level = hex >> 4 & 0xf, serial = hex & 0xf;
    if (!micro_known) {
        snprintf(out, n, "%u.%u", maj, min);
        return;
    }
    const char *lv = level == 0xa ? "a" : level == 0xb ? "b" : level == 0xc ? "rc" : "";
    if (*lv)
        snprintf(out, n, "%u.%u.%u%s%u", maj, min, mic, lv, serial);
    else
        snprintf(out, n, "%u.%u.%u", maj, min, mic);
}

/* PY_VERSION_HEX from a "3.X.Y[a|b|rcN][+]" string, or 0. */
static uint32_t parse_version(const char *s)
{
    unsigned maj, min, mic, serial = 0;
    char lv[4] = "";
    int n = 0;
    if (sscanf(s, "%u.%u.%u%n", &maj, &min, &mic, &n) != 3 || maj != 3 || min > 99 ||
        mic > 255)
        return 0;
    unsigned level = 0xf;
    if (sscanf(s + n, "%3[abrc]%u", lv, &serial) == 2 && serial < 16) {
        level = !strcmp(lv, "a") ? 0xa : !strcmp(lv, "b") ? 0xb : !strcmp(lv, "rc") ? 0xc : 0xf;
        if (level == 0xf)
            serial = 0;
    }
    return maj << 24 | min << 16 | mic << 8 | level << 4 | serial;
}

/* The exact version when the target or the file says it, else the minor from a file
 * name. Fills out->version_hex and out->version. */
static int detect_version(sg_reader *r, const sg_map_candidate *c, const char *exe,
                          const sg_elf_info *info, sg_target *out, sg_error *err)
{
    /* 3.13+: _Py_DebugOffsets begins _PyRuntime: cookie, version, free_threaded. */
    unsigned char head[24];
    if (read_target(r, out->pid, out->runtime_addr, head, sizeof head, "_PyRuntime", err))
        return -1;
    uint64_t hex = 0;
    if (memcmp(head, "xdebugpy", 8) == 0)
        memcpy(&hex, head + 8, sizeof hex);
    if (!plausible_hex(hex) && info->py_version_sym) {
        uint32_t v = 0;
        sg_error ignored;
        if (sg_read(r, out->load_bias + info->py_version_sym, &v, sizeof v, &ignored) == 0)
            hex = v;
        if (!plausible_hex(hex))
            hex = info->py_version_value;
    }
    if (plausible_hex(hex)) {
        out->version_hex = (uint32_t)hex;
        format_version(out->version_hex, 1, out->version, sizeof out->version);
        return 0;
    }
    /* 3.9/3.10: the file name says the minor; PY_VERSION in .rodata the rest, if its
     * minor agrees. */
    int minor = sg_path_python_minor(c->path);
    if (minor < 0)
        minor = sg_path_python_minor(exe);
    uint32_t shex = info->version_string[0] ? parse_version(info->version_string) : 0;
    if (shex && (minor < 0 || (unsigned)minor == (shex >> 16 & 0xff))) {
        out->version_hex = shex;
        format_version(shex, 1, out->version, sizeof out->version);
        return 0;
    }
    if (minor >= 0) {
        out->version_hex = 3u << 24 | (unsigned)minor << 16;
        format_version(out->version_hex, 0, out->version, sizeof out->version);
        return 0;
    }
    return sg_fail(err, SG_E_UNSUPPORTED, 0,
                   "cannot tell which Python version process %d runs (%s has no version "
                   "information)",
                   out->pid, c->path);
}

/* Picks the candidate that defines _PyRuntime. Returns its index, or -1 with err set. */
static int pick_candidate(int pid, const sg_map_candidate *cands, int n, sg_elf_info *info,
                          sg_error *err)
{
    int failed = 0;
    sg_error first = {0};
    for (int i = 0; i < n; i++) {
        sg_error e;
        if (load_elf(pid, &cands[i], info, &e)) {
            if (!failed && cands[i].is_libpython)
                first = e, failed = 1;
            continue;
        }
        if (info->pyruntime_section || info->pyruntime_sym)
            return i;
    }
    if (failed) {
        if (err)
            *err = first;
        return -1;
    }
    sg_fail(err, SG_E_NOT_PYTHON, 0,
            "process %d is not running Python (no libpython or python executable with "
            "_PyRuntime in its memory map)",
            pid);
    return -1;
}

static int resolve(sg_reader *r, const sg_map_candidate *c, const char *exe,
                   const sg_elf_info *info, sg_target *out, sg_error *err);

int sg_discover(sg_reader *r, int pid, sg_target *out, sg_error *err)
{
    if (!r || !out || pid <= 0)
        return sg_fail(err, SG_E_ARG, 0, "invalid arguments to sg_discover (PID %d)", pid);
    memset(out, 0, sizeof *out);
    out->pid = pid;

    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        if (e == ENOENT || e == ESRCH)
            return sg_fail(err, SG_E_NO_PROCESS, e, "no process with PID %d", pid);
        if (e == EACCES || e == EPERM)
            return sg_fail(err, SG_E_PERMISSION, e,
                           "not permitted to inspect process %d (run as its user or root)",
                           pid);
        return sg_fail(err, SG_E_IO, e, "cannot read %s: %s", path, strerror(e));
    }
    char exe[PATH_MAX] = "";
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';

    /* On the heap: 8 paths of PATH_MAX are too much for a small sampler-thread stack. */
    sg_map_candidate *cands = malloc(SG_MAX_CANDIDATES * sizeof *cands);
    if (!cands) {
        fclose(f);
        return sg_fail(err, SG_E_NOMEM, ENOMEM, "allocating map candidates");
    }
    int ncand = sg_maps_candidates(f, exe, cands, SG_MAX_CANDIDATES);
    fclose(f);

    sg_elf_info info;
    int pick = pick_candidate(pid, cands, ncand, &info, err);
    int rc = pick < 0 ? -1 : resolve(r, &cands[pick], exe, &info, out, err);
    free(cands);
    return rc;
}

/* Everything after the file is chosen: addresses, version, table, debug offsets. */
static int resolve(sg_reader *r, const sg_map_candidate *c, const char *exe,
                   const sg_elf_info *info, sg_target *out, sg_error *err)
{
    int pid = out->pid;
    _Static_assert(sizeof out->binary == sizeof c->path, "same path buffers");
    memcpy(out->binary, c->path, sizeof out->binary);
    out->load_bias = c->base - info->first_load_vaddr;
    out->runtime_addr = out->load_bias +
                        (info->pyruntime_section ? info->pyruntime_section : info->pyruntime_sym);
    if (info->code_type_sym)
        out->code_type_addr = out->load_bias + info->code_type_sym;
    if (info->frame_type_sym)
        out->frame_type_addr = out->load_bias + info->frame_type_sym;
    const uint64_t syms[4] = {info->unicode_type_sym, info->long_type_sym,
                              info->dict_type_sym, info->module_type_sym};
    uint64_t *addrs[4] = {&out->unicode_type_addr, &out->long_type_addr,
                          &out->dict_type_addr, &out->module_type_addr};
    for (int i = 0; i < 4; i++)
        *addrs[i] = syms[i] ? out->load_bias + syms[i] : 0;

    if (detect_version(r, c, exe, info, out, err))
        return -1;
    unsigned major = out->version_hex >> 24, minor = out->version_hex >> 16 & 0xff;
    unsigned char dbg[4096];
    size_t dsize = sg_pyabi_debug_block_size(major, minor);
    if (dsize > sizeof dbg)
        return sg_fail(err, SG_E_UNSUPPORTED, 0, "debug offsets too large (%zu)", dsize);
    if (dsize && read_target(r, pid, out->runtime_addr, dbg, dsize, "_Py_DebugOffsets", err))
        return -1;
    sg_layout_source how;
    if (sg_pyabi_resolve(out->version_hex, dbg, dsize, &out->abi, &how, &out->abi_mismatches,
                         err)) {
        if (err) {
            char inner[sizeof err->msg];
            snprintf(inner, sizeof inner, "%s", err->msg);
            if (err->code == SG_E_UNSUPPORTED)
                sg_fail(err, err->code, 0, "Python %s %s", out->version, inner);
            else
                sg_fail(err, err->code, 0, "process %d (Python %s): %s", pid, out->version,
                        inner);
        }
        return -1;
    }
    out->layout = how;

    uint64_t head = 0;
    if (read_target(r, pid, out->runtime_addr + (uint64_t)out->abi.runtime_interpreters_head,
                    &head, sizeof head, "_PyRuntime.interpreters.head", err))
        return -1;
    if (head == 0)
        return sg_fail(err, SG_E_NOT_READY, 0,
                       "Python %s in process %d has no interpreter yet (starting or exiting)",
                       out->version, pid);
    if (how != SG_LAYOUT_TABLE) {
        char why[160];
        if (!sg_layout_confirmed(r, out, head, why, sizeof why)) {
            if (how == SG_LAYOUT_OWN)
                return sg_fail(err, SG_E_UNSUPPORTED, 0,
                               "Python %s in process %d is newer than this spyglass "
                               "(supported: %s) and its own _Py_DebugOffsets do not "
                               "describe it: %s",
                               out->version, pid, sg_pyabi_supported(), why);
            return sg_fail(err, SG_E_UNSUPPORTED, 0,
                           "Python %s in process %d is laid out unlike our %u.%u table and "
                           "its own _Py_DebugOffsets do not describe it: %s",
                           out->version, pid, major, minor, why);
        }
    }
    return 0;
}

int sg_discover_pthread_tid_offset(sg_reader *r, const sg_target *t, uint64_t main_pthread_t,
                                   int pid)
{
    if (!r || !t || main_pthread_t == 0 || pid <= 0)
        return -1;
    /* Read in small pieces: struct pthread may sit near the end of a mapping. */
    enum { LIMIT = 4096, PIECE = 256 };
    unsigned char buf[PIECE];
    for (unsigned at = 0; at < LIMIT; at += PIECE) {
        sg_error e;
        if (main_pthread_t > UINT64_MAX - LIMIT ||
            sg_read(r, main_pthread_t + at, buf, sizeof buf, &e))
            return -1;
        for (unsigned i = 0; i + sizeof(int32_t) <= sizeof buf; i += sizeof(int32_t)) {
            int32_t v;
            memcpy(&v, buf + i, sizeof v);
            if (v == pid)
                return (int)(at + i);
        }
    }
    return -1;
}
