/* Finding the Python runtime inside a process: /proc/PID/maps -> the ELF file that holds
 * _PyRuntime (the executable or libpython; static or shared, PIE or not, stripped or not)
 * -> load bias, _PyRuntime, the exact version, and type objects for validation. */
#ifndef SG_DISCOVER_H
#define SG_DISCOVER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/sg_error.h"
#include "../mem/sg_reader.h"
#include "../pyabi/sg_pyabi.h"

typedef struct sg_target {
    int pid;
    char binary[PATH_MAX];   /* path (as in maps) of the ELF holding _PyRuntime */
    uint64_t load_bias;      /* runtime address = load_bias + ELF virtual address */
    uint64_t runtime_addr;   /* &_PyRuntime in the target */
    uint64_t code_type_addr; /* &PyCode_Type, 0 if unknown */
    uint64_t frame_type_addr;/* &PyFrame_Type, 0 if unknown */
    uint64_t unicode_type_addr; /* &PyUnicode_Type, 0 if unknown */
    uint64_t long_type_addr;    /* &PyLong_Type, 0 if unknown */
    uint64_t dict_type_addr;    /* &PyDict_Type, 0 if unknown */
    uint64_t module_type_addr;  /* &PyModule_Type, 0 if unknown */
    uint32_t version_hex;    /* e.g. 0x030c01f0; micro/release may be 0 when unknowable */
    char version[32];        /* "3.12.1", or "3.9" when only the minor is known */
    sg_pyabi abi;            /* a copy of the table, patched from _Py_DebugOffsets (3.13+) */
    unsigned abi_mismatches; /* fields the debug offsets corrected */
    sg_layout_source layout; /* our table, our table corrected, or the target's own offsets */
} sg_target;

/* Fills *out. Errors: SG_E_NO_PROCESS, SG_E_PERMISSION, SG_E_NOT_PYTHON (no libpython or
 * python executable with _PyRuntime in the maps), SG_E_UNSUPPORTED (a Python version we
 * have no table for, or a free-threaded build; the message names it and the supported
 * ones), SG_E_ELF, SG_E_READ, SG_E_INVALID (3.13+ _Py_DebugOffsets implausible), and
 * SG_E_NOT_READY when _PyRuntime is there but interpreters.head is still NULL (a process
 * just started, or exiting): *out is then filled, and callers that start the target
 * retry, as they do on SG_E_NOT_PYTHON while the process is still exec'ing. */
int sg_discover(sg_reader *r, int pid, sg_target *out, sg_error *err);

/* Whether a layout read from the target's own _Py_DebugOffsets (not our table as it
 * is) describes what is in its memory: the main interpreter's threads point back to it,
 * hold plausible thread IDs (one of them a thread of the process), and their frames
 * hold code objects (when PyCode_Type is known) and end where a chain ends. A thread
 * caught changing its stack can fail the frame part, so one good thread is enough there,
 * and a look that finds none is taken again (up to 40 looks, 2 ms apart). On false, why
 * says which part failed. */
bool sg_layout_confirmed(sg_reader *r, const sg_target *t, uint64_t interp, char *why,
                         size_t why_len);

/* 3.9/3.10 keep only pthread_self() in PyThreadState.thread_id: the address of glibc's
 * struct pthread. Its tid field is found by scanning the main thread's struct pthread
 * (at main_pthread_t, bounded to 4 KiB) for the PID, since the main thread's TID is the
 * PID. Returns that byte offset (0x2d0 on glibc 2.36 x86-64), or -1 if not found or
 * unreadable. Then TID = *(int32_t *)(thread_id + offset) for every thread. */
int sg_discover_pthread_tid_offset(sg_reader *r, const sg_target *t, uint64_t main_pthread_t,
                                   int pid);

/* Pieces exposed for unit tests and the fuzzer. */

typedef struct sg_elf_info {
    uint64_t first_load_vaddr;  /* p_vaddr of the first PT_LOAD, aligned down to p_align */
    uint64_t pyruntime_section; /* sh_addr of .PyRuntime, 0 if absent */
    uint64_t pyruntime_sym;     /* st_value of _PyRuntime, 0 if absent */
    uint64_t py_version_sym;    /* st_value of Py_Version, 0 if absent */
    uint64_t code_type_sym;     /* PyCode_Type */
    uint64_t frame_type_sym;    /* PyFrame_Type */
    uint64_t unicode_type_sym;  /* PyUnicode_Type */
    uint64_t long_type_sym;     /* PyLong_Type */
    uint64_t dict_type_sym;     /* PyDict_Type */
    uint64_t module_type_sym;   /* PyModule_Type */
    uint32_t py_version_value;  /* the uint32 stored at Py_Version in the file, 0 if unknown */
    char version_string[32];    /* a "3.X.Y" found in the file's read-only data, "" if none */
} sg_elf_info;

/* Parses an ELF64 image held in memory (untrusted: every offset is bounds-checked). */
int sg_elf_parse(const unsigned char *data, size_t len, sg_elf_info *out, sg_error *err);

#endif
