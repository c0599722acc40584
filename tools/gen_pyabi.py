#!/usr/bin/env python3
"""Generate src/core/pyabi/pyabi_tables.c from the installed CPythons' own headers.

For every CPython 3.9-3.15 found (pyenv's 3.9-3.13 and the 3.14/3.15 that `make pythons`
unpacks from Debian, or interpreters given on the command line) a tiny C probe is compiled with Py_BUILD_CORE against that CPython's internal
headers; it prints offsetof()/sizeof() of every field struct sg_pyabi describes
(src/core/pyabi/sg_pyabi.h is the contract). Facts that are not offsets (frame model,
lasti model, line-table format) live in LAYOUT below, next to the C expressions, so
that everything version-specific about the tables is in this one file.

Usage:
    tools/gen_pyabi.py                      # pyenv's 3.9-3.13 (newest patch), Debian's 3.14/3.15
    tools/gen_pyabi.py PYTHON [PYTHON ...]  # explicit interpreters
    tools/gen_pyabi.py --check              # exit 1 if the committed file is stale

The output is committed: the sampler must handle targets whose headers are not on the
machine, so the numbers cannot be computed at build time of the package.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "src", "core", "pyabi", "pyabi_tables.c")
MINORS = (9, 10, 11, 12, 13, 14, 15)
# Free-threaded tables, from the same headers with Py_GIL_DISABLED, for 3.14 on (3.13t's
# layout was experimental and differs in ways the headers of a GIL build do not show).
FREE_THREADED_FROM = 14
DEBIAN_BIN = os.path.join(REPO, "build", "debian-python", "usr", "bin")

# Non-offset layout facts per minor. Enum names are those of sg_pyabi.h.
LAYOUT = {
    9: dict(frame_model="SG_FRAMES_OBJECTS", lasti_model="SG_LASTI_BYTES",
            linetable_format="SG_LT_LNOTAB", keys_model="SG_KEYS_SIZE",
            idict_model="SG_IDICT_OFFSET", long_model="SG_LONG_OB_SIZE"),
    10: dict(frame_model="SG_FRAMES_OBJECTS", lasti_model="SG_LASTI_UNITS",
             linetable_format="SG_LT_310", keys_model="SG_KEYS_SIZE",
             idict_model="SG_IDICT_OFFSET", long_model="SG_LONG_OB_SIZE"),
    11: dict(frame_model="SG_FRAMES_INTERP", lasti_model="SG_LASTI_PREV_INSTR",
             linetable_format="SG_LT_LOCATIONS", keys_model="SG_KEYS_LOG2",
             idict_model="SG_IDICT_MANAGED_VALUES", long_model="SG_LONG_OB_SIZE"),
    12: dict(frame_model="SG_FRAMES_INTERP", lasti_model="SG_LASTI_PREV_INSTR",
             linetable_format="SG_LT_LOCATIONS", keys_model="SG_KEYS_LOG2",
             idict_model="SG_IDICT_DICT_OR_VALUES", long_model="SG_LONG_LV_TAG"),
    13: dict(frame_model="SG_FRAMES_INTERP", lasti_model="SG_LASTI_INSTR_PTR",
             linetable_format="SG_LT_LOCATIONS", keys_model="SG_KEYS_LOG2",
             idict_model="SG_IDICT_INLINE_VALUES", long_model="SG_LONG_LV_TAG"),
}
LAYOUT[14] = LAYOUT[15] = LAYOUT[13]  # what 3.14/3.15 changed is in offsets and fields


def fields(minor, ft=False):
    """(sg_pyabi field, C expression printed as a long, or None for -1), in the order
    of struct sg_pyabi. Expressions are evaluated by the probe against the headers
    (ft: of a free-threaded build, the same headers with Py_GIL_DISABLED defined)."""
    objects = minor <= 10
    gil_embedded = minor <= 11  # 3.12 moved the GIL into the interpreter (a pointer)
    frame_t = "PyFrameObject" if objects else "_PyInterpreterFrame"
    if objects:
        tframe = "offsetof(PyThreadState, frame)"
    elif minor <= 12:
        tframe = "offsetof(PyThreadState, cframe)"
    else:
        tframe = "offsetof(PyThreadState, current_frame)"
    if objects:
        fback, fcode, flasti = "f_back", "f_code", "f_lasti"
    elif minor <= 12:
        fback, fcode, flasti = "previous", "f_code", "prev_instr"
    else:
        fback, fcode, flasti = "previous", "f_executable", "instr_ptr"
    new = minor >= 11

    def off(t, f):
        return f"offsetof({t}, {f})"

    def opt(cond, expr):
        return expr if cond else None

    return [
        ("runtime_size", "sizeof(_PyRuntimeState)"),
        ("runtime_interpreters_head", off("_PyRuntimeState", "interpreters.head")),
        ("runtime_gil", opt(gil_embedded, off("_PyRuntimeState", "ceval.gil"))),
        ("interp_size", "sizeof(PyInterpreterState)"),
        ("interp_next", off("PyInterpreterState", "next")),
        ("interp_id", off("PyInterpreterState", "id")),
        ("interp_threads_head",
         off("PyInterpreterState", "threads.head" if new else "tstate_head")),
        ("interp_gil_ptr", opt(not gil_embedded, off("PyInterpreterState", "ceval.gil"))),
        ("interp_modules",
         off("PyInterpreterState", "imports.modules" if minor >= 12 else "modules")),
        # 3.14+: uint64_t, incremented whenever a code object is freed
        ("interp_code_generation",
         opt(minor >= 14, off("PyInterpreterState", "_code_object_generation"))),
        ("gil_size", "sizeof(struct _gil_runtime_state)"),
        ("gil_last_holder", off("struct _gil_runtime_state", "last_holder")),
        ("gil_locked", off("struct _gil_runtime_state", "locked")),
        ("gil_enabled", opt(ft, off("struct _gil_runtime_state", "enabled"))),
        ("tstate_size", "sizeof(PyThreadState)"),
        ("tstate_prev", off("PyThreadState", "prev")),
        ("tstate_next", off("PyThreadState", "next")),
        ("tstate_interp", off("PyThreadState", "interp")),
        ("tstate_frame", tframe),
        ("cframe_current_frame",
         opt(minor in (11, 12), off("_PyCFrame", "current_frame"))),
        ("tstate_thread_id", off("PyThreadState", "thread_id")),
        ("tstate_native_thread_id", opt(new, off("PyThreadState", "native_thread_id"))),
        ("tstate_datastack_chunk", opt(new, off("PyThreadState", "datastack_chunk"))),
        ("tstate_datastack_top", opt(new, off("PyThreadState", "datastack_top"))),
        ("frame_size", f"sizeof({frame_t})"),
        ("frame_back", off(frame_t, fback)),
        ("frame_code", off(frame_t, fcode)),
        ("frame_lasti", off(frame_t, flasti)),
        ("frame_owner", opt(new, off(frame_t, "owner"))),
        ("frame_tlbc_index", opt(ft, off(frame_t, "tlbc_index"))),
        ("owner_generator", opt(new, "FRAME_OWNED_BY_GENERATOR")),
        # Where C enters the interpreter it pushes a frame of its own, without code of
        # the program: CSTACK in 3.12/3.13, INTERPRETER from 3.14 on (seen on a live
        # 3.14.10: every entry frame is owned by INTERPRETER; CSTACK exists but not there).
        ("owner_entry", opt(minor >= 12, "FRAME_OWNED_BY_CSTACK" if minor <= 13
                            else "FRAME_OWNED_BY_INTERPRETER")),
        ("owner_max", opt(new, "FRAME_OWNED_BY_FRAME_OBJECT" if minor == 11
                          else "FRAME_OWNED_BY_CSTACK" if minor <= 14
                          else "FRAME_OWNED_BY_INTERPRETER")),
        # 3.14+: f_executable is a _PyStackRef whose low bits are tags.
        ("frame_code_tag_bits", "Py_TAG_BITS" if minor >= 14 else "0"),
        # 3.15: every thread's chain ends at its own base frame (a sentinel).
        ("tstate_base_frame", opt(minor >= 15, off("PyThreadState", "base_frame"))),
        ("frame_state", opt(objects, off(frame_t, "f_executing" if minor == 9 else "f_state"))),
        ("frame_state_live", opt(objects, "1" if minor == 9 else "FRAME_EXECUTING")),
        ("frame_state_live2", opt(objects, "1" if minor == 9 else "FRAME_UNWINDING")),
        ("frame_is_entry", opt(minor == 11, off(frame_t, "is_entry"))),
        ("code_size", "sizeof(PyCodeObject)"),
        ("code_filename", off("PyCodeObject", "co_filename")),
        ("code_name", off("PyCodeObject", "co_name")),
        ("code_qualname", opt(new, off("PyCodeObject", "co_qualname"))),
        ("code_firstlineno", off("PyCodeObject", "co_firstlineno")),
        ("code_linetable",
         off("PyCodeObject", "co_lnotab" if minor == 9 else "co_linetable")),
        ("code_code_adaptive", opt(new, off("PyCodeObject", "co_code_adaptive"))),
        ("code_firsttraceable", opt(new, off("PyCodeObject", "_co_firsttraceable"))),
        ("code_tlbc", opt(ft, off("PyCodeObject", "co_tlbc"))),
        ("codearray_entries", opt(ft, off("_PyCodeArray", "entries"))),
        ("object_type", off("PyObject", "ob_type")),
        ("varobject_size", off("PyVarObject", "ob_size")),
        ("bytes_sval", off("PyBytesObject", "ob_sval")),
        ("unicode_ascii_size", "sizeof(PyASCIIObject)"),
        ("unicode_compact_size", "sizeof(PyCompactUnicodeObject)"),
        ("unicode_length", off("PyASCIIObject", "length")),
        ("unicode_state", off("PyASCIIObject", "state")),
        # Bit positions are measured by setting each bit field in a zeroed object.
        ("unicode_kind_shift", "state_bit(1)"),
        ("unicode_compact_bit", "state_bit(2)"),
        ("unicode_ascii_bit", "state_bit(3)"),
        # Thread names: sys.modules -> threading -> _active -> Thread._name. 3.9 keeps
        # PyModuleObject private, and 3.9/3.10 the dict keys object and its entries
        # (Objects/dict-common.h): the probe mirrors them (PROBE_PRIVATE) and verify_private()
        # checks the mirrors against the running interpreter.
        ("module_dict", off("PyModuleObject", "md_dict")),
        ("dict_keys", off("PyDictObject", "ma_keys")),
        ("dict_values", off("PyDictObject", "ma_values")),
        ("keys_size", off("PyDictKeysObject", "dk_log2_size" if new else "dk_size")),
        ("keys_log2_index_bytes", opt(new, off("PyDictKeysObject", "dk_log2_index_bytes"))),
        ("keys_kind", opt(new, off("PyDictKeysObject", "dk_kind"))),
        ("keys_kind_general", opt(new, "DICT_KEYS_GENERAL")),
        ("keys_nentries", off("PyDictKeysObject", "dk_nentries")),
        ("keys_indices", off("PyDictKeysObject", "dk_indices")),
        ("entry_size", "sizeof(PyDictKeyEntry)"),
        ("entry_key", off("PyDictKeyEntry", "me_key")),
        ("entry_value", off("PyDictKeyEntry", "me_value")),
        ("uentry_size", opt(new, "sizeof(PyDictUnicodeEntry)")),
        ("uentry_key", opt(new, off("PyDictUnicodeEntry", "me_key"))),
        ("uentry_value", opt(new, off("PyDictUnicodeEntry", "me_value"))),
        # 3.9/3.10 ma_values is a bare PyObject *[]; later a PyDictValues block.
        ("values_array", off("PyDictValues", "values") if new else "0"),
        ("values_valid", opt(minor >= 13, off("PyDictValues", "valid"))),
        ("type_basicsize", off("PyTypeObject", "tp_basicsize")),
        ("type_dictoffset", off("PyTypeObject", "tp_dictoffset")),
        ("type_flags", off("PyTypeObject", "tp_flags")),
        ("heaptype_cached_keys", off("PyHeapTypeObject", "ht_cached_keys")),
        ("tpflags_heaptype", "Py_TPFLAGS_HEAPTYPE"),
        ("tpflags_managed_dict", opt(new, "Py_TPFLAGS_MANAGED_DICT")),
        ("tpflags_inline_values", opt(minor >= 13, "Py_TPFLAGS_INLINE_VALUES")),
        # Measured with CPython's own accessors on a fake object (managed_before()).
        ("managed_dict_before", opt(new, "managed_before(0)")),
        ("managed_values_before", opt(minor == 11, "managed_before(1)")),
        ("long_digits",
         off("PyLongObject", "long_value.ob_digit" if minor >= 12 else "ob_digit")),
        ("long_tag", opt(minor >= 12, off("PyLongObject", "long_value.lv_tag"))),
        ("long_shift", "PyLong_SHIFT"),
        ("long_digit_size", "sizeof(digit)"),
        ("long_tag_shift", "NON_SIZE_BITS" if minor >= 12 else "0"),
        ("long_tag_sign_mask", "SIGN_MASK" if minor >= 12 else "0"),
        ("long_tag_negative", "SIGN_NEGATIVE" if minor >= 12 else "0"),
        ("chunk_previous", opt(new, off("_PyStackChunk", "previous"))),
        ("chunk_size", opt(new, off("_PyStackChunk", "size"))),
        ("chunk_top", opt(new, off("_PyStackChunk", "top"))),
        ("chunk_data", opt(new, off("_PyStackChunk", "data"))),
    ]


PROBE_HEAD = r"""
#define Py_BUILD_CORE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_gil.h"
%(extra)s

/* The lowest set bit of the state word after setting one bit field (1 kind,
 * 2 compact, 3 ascii) to its all-ones value in a zeroed object. */
static long state_bit(int which)
{
    PyASCIIObject o;
    memset(&o, 0, sizeof o);
    if (which == 1) o.state.kind = 1;
    if (which == 2) o.state.compact = 1;
    if (which == 3) o.state.ascii = 1;
    unsigned char b[sizeof o.state];
    memcpy(b, &o.state, sizeof b);
    for (size_t i = 0; i < sizeof b * 8; i++)
        if (b[i / 8] >> (i %% 8) & 1)
            return (long)i;
    return -1;
}

int main(void)
{
    printf("version_hex %%lu\n", (unsigned long)PY_VERSION_HEX);
    printf("version %%s\n", PY_VERSION);
"""


# Structures these versions keep out of their installed headers, copied field for field
# from their sources: Objects/dict-common.h (3.9, 3.10) and Objects/moduleobject.c (3.9;
# 3.10 installs internal/pycore_moduleobject.h). verify_private() checks them on the
# running interpreter, since no header can.
_DICT_COMMON_39 = """
typedef struct {
    Py_hash_t me_hash;
    PyObject *me_key;
    PyObject *me_value;
} PyDictKeyEntry;
struct _dictkeysobject {
    Py_ssize_t dk_refcnt;
    Py_ssize_t dk_size;
    void *dk_lookup;
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
};
"""
PROBE_PRIVATE = {
    9: _DICT_COMMON_39 + """
typedef struct {
    PyObject_HEAD
    PyObject *md_dict;
    struct PyModuleDef *md_def;
    void *md_state;
    PyObject *md_weaklist;
    PyObject *md_name;
} PyModuleObject;
""",
    10: _DICT_COMMON_39 + '#include "internal/pycore_moduleobject.h"\n',
}

# Where a managed dict lives, asked of CPython's own inline accessors on a fake object
# whose type has the flags they assert: 0 the dict (or dict-or-values) word, 1 the 3.11
# values pointer; the result is how many bytes before the object it is.
_MANAGED_HEAD = """
static long managed_before(int which)
{
    static PyTypeObject tp;
    static PyObject space[8];
    PyObject *o = &space[4];
    tp.tp_flags = Py_TPFLAGS_MANAGED_DICT;
    o->ob_type = &tp;
    char *at = %s;
    return (long)((char *)o - at);
}
"""
MANAGED_BEFORE = {
    11: _MANAGED_HEAD % "which ? (char *)_PyObject_ValuesPointer(o) "
                        ": (char *)_PyObject_ManagedDictPointer(o)",
    12: _MANAGED_HEAD % "((void)which, (char *)_PyObject_DictOrValuesPointer(o))",
    13: _MANAGED_HEAD % "((void)which, (char *)_PyObject_ManagedDictPointer(o))",
}
MANAGED_BEFORE[14] = MANAGED_BEFORE[15] = MANAGED_BEFORE[13]

# The values of the target's _Py_DebugOffsets (3.13+) that pyabi_debug.c reads, as
# (SG_DO_ name, member of _Py_DebugOffsets). Each minor's byte offset of each member in
# the block is measured here from its own header (absent members: -1), so a minor whose
# block grew is one more generated table, not hand-written mirror structs.
DEBUG_FIELDS = [
    ("VERSION", "version"),
    ("FREE_THREADED", "free_threaded"),
    ("RUNTIME_SIZE", "runtime_state.size"),
    ("RUNTIME_INTERPRETERS_HEAD", "runtime_state.interpreters_head"),
    ("INTERP_SIZE", "interpreter_state.size"),
    ("INTERP_ID", "interpreter_state.id"),
    ("INTERP_NEXT", "interpreter_state.next"),
    ("INTERP_THREADS_HEAD", "interpreter_state.threads_head"),
    ("INTERP_IMPORTS_MODULES", "interpreter_state.imports_modules"),
    ("INTERP_CODE_GENERATION", "interpreter_state.code_object_generation"),
    ("INTERP_CEVAL_GIL", "interpreter_state.ceval_gil"),
    ("INTERP_GIL_RUNTIME_STATE", "interpreter_state.gil_runtime_state"),
    ("INTERP_GIL_ENABLED", "interpreter_state.gil_runtime_state_enabled"),
    ("INTERP_GIL_LOCKED", "interpreter_state.gil_runtime_state_locked"),
    ("INTERP_GIL_HOLDER", "interpreter_state.gil_runtime_state_holder"),
    ("TSTATE_SIZE", "thread_state.size"),
    ("TSTATE_PREV", "thread_state.prev"),
    ("TSTATE_NEXT", "thread_state.next"),
    ("TSTATE_INTERP", "thread_state.interp"),
    ("TSTATE_CURRENT_FRAME", "thread_state.current_frame"),
    ("TSTATE_BASE_FRAME", "thread_state.base_frame"),
    ("TSTATE_THREAD_ID", "thread_state.thread_id"),
    ("TSTATE_NATIVE_THREAD_ID", "thread_state.native_thread_id"),
    ("TSTATE_DATASTACK_CHUNK", "thread_state.datastack_chunk"),
    ("FRAME_SIZE", "interpreter_frame.size"),
    ("FRAME_PREVIOUS", "interpreter_frame.previous"),
    ("FRAME_EXECUTABLE", "interpreter_frame.executable"),
    ("FRAME_INSTR_PTR", "interpreter_frame.instr_ptr"),
    ("FRAME_OWNER", "interpreter_frame.owner"),
    ("FRAME_TLBC_INDEX", "interpreter_frame.tlbc_index"),
    ("CODE_SIZE", "code_object.size"),
    ("CODE_FILENAME", "code_object.filename"),
    ("CODE_NAME", "code_object.name"),
    ("CODE_QUALNAME", "code_object.qualname"),
    ("CODE_LINETABLE", "code_object.linetable"),
    ("CODE_FIRSTLINENO", "code_object.firstlineno"),
    ("CODE_CODE_ADAPTIVE", "code_object.co_code_adaptive"),
    ("CODE_TLBC", "code_object.co_tlbc"),
    ("OBJECT_SIZE", "pyobject.size"),
    ("OBJECT_TYPE", "pyobject.ob_type"),
    ("TYPE_SIZE", "type_object.size"),
    ("TYPE_FLAGS", "type_object.tp_flags"),
    ("TYPE_BASICSIZE", "type_object.tp_basicsize"),
    ("TYPE_DICTOFFSET", "type_object.tp_dictoffset"),
    ("HEAPTYPE_SIZE", "heap_type_object.size"),
    ("HEAPTYPE_CACHED_KEYS", "heap_type_object.ht_cached_keys"),
    ("DICT_SIZE", "dict_object.size"),
    ("DICT_KEYS", "dict_object.ma_keys"),
    ("DICT_VALUES", "dict_object.ma_values"),
    ("LONG_SIZE", "long_object.size"),
    ("LONG_TAG", "long_object.lv_tag"),
    ("LONG_DIGIT", "long_object.ob_digit"),
    ("BYTES_SIZE", "bytes_object.size"),
    ("BYTES_OB_SIZE", "bytes_object.ob_size"),
    ("BYTES_SVAL", "bytes_object.ob_sval"),
    ("UNICODE_SIZE", "unicode_object.size"),
    ("UNICODE_STATE", "unicode_object.state"),
    ("UNICODE_LENGTH", "unicode_object.length"),
    ("UNICODE_ASCII_SIZE", "unicode_object.asciiobject_size"),
    ("UNICODE_COMPACT_SIZE", "unicode_object.compactunicodeobject_size"),
]


def debug_members(incdir):
    """Every member path of _Py_DebugOffsets ("thread_state.native_thread_id") in the
    header that defines it, or None before 3.13."""
    for name in ("pycore_debug_offsets.h", "pycore_runtime.h"):
        path = os.path.join(incdir, "internal", name)
        text = open(path).read() if os.path.exists(path) else ""
        m = re.search(r"typedef struct _Py_DebugOffsets \{(.*?)\n\} _Py_DebugOffsets;",
                      text, re.S)
        if m:
            break
    else:
        return None
    body = re.sub(r"//[^\n]*", "", m.group(1))
    members = []
    for grp in re.finditer(r"struct\s*\w*\s*\{([^}]*)\}\s*(\w+(?:\s*,\s*\w+)*)\s*;", body):
        for outer in re.split(r"\s*,\s*", grp.group(2)):
            for inner in re.findall(r"uint64_t\s+(\w+)\s*;", grp.group(1)):
                members.append(f"{outer}.{inner}")
    top = re.sub(r"struct\s*\w*\s*\{[^}]*\}[^;]*;", "", body)
    members += re.findall(r"uint64_t\s+(\w+)\s*;", top)
    return members


def find_pythons():
    """pyenv's newest patch of each minor up to 3.13, then Debian's 3.14/3.15."""
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        root = os.path.expanduser("~/.pyenv")
    vdir = os.path.join(root, "versions")
    best = {}
    for name in sorted(os.listdir(vdir)) if os.path.isdir(vdir) else []:
        m = re.fullmatch(r"3\.(\d+)\.(\d+)", name)
        if not m or int(m.group(1)) not in MINORS:
            continue
        minor, micro = int(m.group(1)), int(m.group(2))
        if minor not in best or micro > best[minor][0]:
            best[minor] = (micro, os.path.join(vdir, name, "bin", f"python3.{minor}"))
    for minor in MINORS:
        exe = os.path.join(DEBIAN_BIN, f"python3.{minor}")
        if minor not in best and os.access(exe, os.X_OK):
            best[minor] = (0, exe)
    return [best[k][1] for k in sorted(best)]


def minor_of(python):
    """(minor, the include directory with the internal headers) of an interpreter."""
    out = subprocess.run(
        [python, "-c", "import sys, sysconfig; "
         "print(sys.version_info[1], sysconfig.get_paths()['include'])"],
        capture_output=True, text=True, check=True).stdout.split()
    incdir = out[1]
    if not os.path.isfile(os.path.join(incdir, "internal", "pycore_runtime.h")):
        raise SystemExit(f"{python}: no internal headers under {incdir}")
    return int(out[0]), incdir


def probe(python, ft=False):
    """The table of one interpreter's headers; ft: the free-threaded build's, from the
    same headers compiled with Py_GIL_DISABLED (no such build is packaged where we can
    get it; its tables are what the headers say, checked against a target's own
    _Py_DebugOffsets at run time like every other)."""
    minor, incdir = minor_of(python)
    if minor not in MINORS:
        raise SystemExit(f"{python}: CPython 3.{minor} is not handled by this generator")
    if minor <= 10:
        extra = '#include "frameobject.h"\n#include "longintrepr.h"\n' + PROBE_PRIVATE[minor]
    else:
        extra = ('#include "internal/pycore_frame.h"\n#include "internal/pycore_code.h"\n'
                 '#include "internal/pycore_dict.h"\n#include "internal/pycore_long.h"\n'
                 '#include "internal/pycore_moduleobject.h"\n'
                 '#include "internal/pycore_object.h"\n' + MANAGED_BEFORE[minor])
        if minor >= 14:
            extra += '#include "internal/pycore_stackref.h"\n'
    flist = fields(minor, ft)
    body = [PROBE_HEAD % {"extra": extra}]
    for name, expr in flist:
        if expr is not None:
            body.append(f'    printf("{name} %ld\\n", (long)({expr}));\n')
    members = debug_members(incdir) if minor >= 13 else None
    if members is not None:
        body.append('    printf("do_SIZE %ld\\n", (long)sizeof(_Py_DebugOffsets));\n')
        for name, member in DEBUG_FIELDS:
            if member in members:
                body.append(f'    printf("do_{name} %ld\\n", '
                            f'(long)offsetof(_Py_DebugOffsets, {member}));\n')
    body.append("    return 0;\n}\n")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write("".join(body))
        cc = os.environ.get("CC", "gcc")
        defs = ["-DPy_GIL_DISABLED=1"] if ft else []
        subprocess.run([cc, "-std=gnu11", "-w", *defs, "-I" + incdir, "-o", exe, src],
                       check=True)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    values = {}
    for line in out.splitlines():
        k, v = line.split(" ", 1)
        values[k] = v
    rows = []
    for name, expr in flist:
        rows.append((name, int(values[name]) if expr is not None else -1))
    if minor in PROBE_PRIVATE and not ft:
        verify_private(python, minor, dict(rows))
    debug = None
    if members is not None:
        debug = {"SIZE": int(values["do_SIZE"])}
        for name, _ in DEBUG_FIELDS:
            debug[name] = int(values.get("do_" + name, -1))
    return minor, values["version"], int(values["version_hex"]), rows, debug, ft


# Reads a module and a dict of the running interpreter through ctypes at the mirrored
# offsets: the mirrors are right if what is found there is what Python says is there.
VERIFY_SCRIPT = r"""
import ctypes, json, sys, threading
v = json.loads(sys.argv[1])
ptr = lambda a: ctypes.c_void_p.from_address(a).value or 0
ssize = lambda a: ctypes.c_ssize_t.from_address(a).value
assert ptr(id(threading) + v["module_dict"]) == id(threading.__dict__), "md_dict"
d = {}
for i in range(5):
    d["key%d" % i] = object()
keys = ptr(id(d) + v["dict_keys"])
assert ptr(id(d) + v["dict_values"]) == 0, "ma_values of a combined table"
assert ssize(keys + v["keys_size"]) == 8, "dk_size"
assert ssize(keys + v["keys_nentries"]) == 5, "dk_nentries"
entries = keys + v["keys_indices"] + 8  # eight one-byte indices
for i, (k, val) in enumerate(d.items()):
    e = entries + i * v["entry_size"]
    assert ptr(e + v["entry_key"]) == id(k), "me_key"
    assert ptr(e + v["entry_value"]) == id(val), "me_value"
print("ok")
"""


def verify_private(exe, minor, row):
    want = ("module_dict", "dict_keys", "dict_values", "keys_size", "keys_nentries",
            "keys_indices", "entry_size", "entry_key", "entry_value")
    cp = subprocess.run([exe, "-c", VERIFY_SCRIPT, json.dumps({k: row[k] for k in want})],
                        capture_output=True, text=True)
    if cp.returncode != 0 or cp.stdout.strip() != "ok":
        raise SystemExit(f"{exe}: the mirrored private structures do not match the "
                         f"interpreter:\n{cp.stderr}")


HEADER = """/* GENERATED by tools/gen_pyabi.py -- do not edit. Private to pyabi/: the generated
 * tables (pyabi_tables.c), ascending by minor, and where each minor's _Py_DebugOffsets
 * (3.13+) keeps the values pyabi_debug.c reads. */
#ifndef SG_PYABI_TABLES_H
#define SG_PYABI_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "sg_pyabi.h"

extern const sg_pyabi *const sg_pyabi_tables[];
extern const size_t sg_pyabi_ntables;
extern const char sg_pyabi_supported_list[]; /* "3.9, 3.10, ..." */

/* The values of _Py_DebugOffsets we read (each a uint64_t of the block). */
typedef enum {
%(enum)s
    SG_DO_COUNT
} sg_do_value;

typedef struct sg_debug_layout {
    uint8_t major, minor;
    uint16_t size;             /* sizeof(_Py_DebugOffsets) */
    int16_t at[SG_DO_COUNT];   /* byte offset of each value in the block, -1: not in it */
} sg_debug_layout;

extern const sg_debug_layout *const sg_debug_layouts[];
extern const size_t sg_debug_nlayouts;
extern const char *const sg_do_names[SG_DO_COUNT]; /* "thread_state.native_thread_id" */

/* For the tests of release-day readiness: the minor N of an environment variable set to
 * "3.N", which makes tables (SPYGLASS_TEST_NEWEST_TABLE) or _Py_DebugOffsets layouts
 * (SPYGLASS_TEST_NEWEST_LAYOUT) of later minors unknown, as if this spyglass predated
 * them; 255 when unset. */
unsigned sg_pyabi_test_limit(const char *var);

#endif
"""
HEADER_OUT = os.path.join(REPO, "src", "core", "pyabi", "pyabi_tables.h")


def render_header():
    enum = "\n".join(f"    SG_DO_{name}, /* {member} */" for name, member in DEBUG_FIELDS)
    return HEADER % {"enum": enum}


def render(results):
    lines = [
        "/* GENERATED by tools/gen_pyabi.py from each CPython's own headers -- do not edit.",
        " * Regenerate with `python3 tools/gen_pyabi.py` (needs CPython 3.9-3.13 installed",
        " * with pyenv and 3.14/3.15 from `make pythons`, headers included) and commit it.",
        " * Sources: " + ", ".join(f"CPython {r[1]}" for r in results) + ". */",
        '#include "pyabi_tables.h"',
        "",
    ]
    for minor, version, vhex, rows, _, ft in results:
        lines.append(f"/* CPython {version}{' free-threaded (Py_GIL_DISABLED)' if ft else ''} */")
        lines.append(f"static const sg_pyabi sg_pyabi_3_{minor}{'t' if ft else ''} = {{")
        lines.append(f"    .version_hex = 0x{vhex:08x},")
        lines.append(f"    .major = 3,")
        lines.append(f"    .minor = {minor},")
        lines.append(f"    .free_threaded = {int(ft)},")
        for k, v in LAYOUT[minor].items():
            lines.append(f"    .{k} = {v},")
        for name, v in rows:
            lines.append(f"    .{name} = {v},")
        lines.append("};")
        lines.append("")
    lines.append("/* Looked up by pyabi.c, ascending by minor. */")
    lines.append("const sg_pyabi *const sg_pyabi_tables[] = {")
    for r in results:
        lines.append(f"    &sg_pyabi_3_{r[0]}{'t' if r[5] else ''},")
    lines.append("};")
    lines.append(f"const size_t sg_pyabi_ntables = {len(results)};")
    supported = ", ".join(f"3.{r[0]}" for r in results if not r[5])
    threaded = ", ".join(f"3.{r[0]}t" for r in results if r[5])
    if threaded:
        supported += f"; free-threaded {threaded}"
    lines.append(f'const char sg_pyabi_supported_list[] = "{supported}";')
    lines.append("")
    debug = [r for r in results if r[4] is not None and not r[5]]
    for minor, version, _, _, do, _ in debug:
        lines.append(f"/* _Py_DebugOffsets of CPython {version} */")
        lines.append(f"static const sg_debug_layout sg_debug_3_{minor} = {{")
        lines.append(f"    .major = 3,")
        lines.append(f"    .minor = {minor},")
        lines.append(f"    .size = {do['SIZE']},")
        lines.append("    .at = {")
        for name, _ in DEBUG_FIELDS:
            lines.append(f"        [SG_DO_{name}] = {do[name]},")
        lines.append("    },")
        lines.append("};")
        lines.append("")
    lines.append("const char *const sg_do_names[SG_DO_COUNT] = {")
    for name, member in DEBUG_FIELDS:
        lines.append(f'    [SG_DO_{name}] = "{member}",')
    lines.append("};")
    lines.append("")
    lines.append("/* Looked up by pyabi_debug.c, ascending by minor. */")
    lines.append("const sg_debug_layout *const sg_debug_layouts[] = {")
    for r in debug:
        lines.append(f"    &sg_debug_3_{r[0]},")
    lines.append("};")
    lines.append(f"const size_t sg_debug_nlayouts = {len(debug)};")
    lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pythons", nargs="*", help="CPython interpreters")
    ap.add_argument("--check", action="store_true", help="fail if the output is stale")
    ap.add_argument("-o", "--output", default=OUT)
    args = ap.parse_args()
    pythons = args.pythons or find_pythons()
    results = [probe(p) for p in pythons]
    results += [probe(p, ft=True) for p, r in zip(pythons, results) if r[0] >= FREE_THREADED_FROM]
    results.sort(key=lambda r: (r[0], r[5]))
    found = [r[0] for r in results if not r[5]]
    if found != list(MINORS):
        print(f"warning: only 3.{found} found; the table file lists just these",
              file=sys.stderr)
    outputs = [(args.output, render(results)), (HEADER_OUT, render_header())]
    if args.check:
        for path, text in outputs:
            with open(path) as f:
                if f.read() != text:
                    print(f"{path} is stale; run tools/gen_pyabi.py", file=sys.stderr)
                    return 1
        return 0
    for path, text in outputs:
        with open(path, "w") as f:
            f.write(text)
    print(f"wrote {args.output} ({', '.join(r[1] for r in results)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
