#!/usr/bin/env python3
"""Generate src/core/pyabi/pyabi_tables.c from the installed CPythons' own headers.

For every CPython 3.9-3.13 found (pyenv versions, or prefixes given on the command
line) a tiny C probe is compiled with Py_BUILD_CORE against that CPython's internal
headers; it prints offsetof()/sizeof() of every field struct sg_pyabi describes
(src/core/pyabi/sg_pyabi.h is the contract). Facts that are not offsets (frame model,
lasti model, line-table format) live in LAYOUT below, next to the C expressions, so
that everything version-specific about the tables is in this one file.

Usage:
    tools/gen_pyabi.py                      # every pyenv version 3.9-3.13, newest patch
    tools/gen_pyabi.py PREFIX [PREFIX ...]  # explicit installation prefixes
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
MINORS = (9, 10, 11, 12, 13)

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


def fields(minor):
    """(sg_pyabi field, C expression printed as a long, or None for -1), in the order
    of struct sg_pyabi. Expressions are evaluated by the probe against the headers."""
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
        ("gil_size", "sizeof(struct _gil_runtime_state)"),
        ("gil_last_holder", off("struct _gil_runtime_state", "last_holder")),
        ("gil_locked", off("struct _gil_runtime_state", "locked")),
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
        ("owner_generator", opt(new, "FRAME_OWNED_BY_GENERATOR")),
        ("owner_cstack", opt(minor >= 12, "FRAME_OWNED_BY_CSTACK")),
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


def find_prefixes():
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
            best[minor] = (micro, os.path.join(vdir, name))
    return [best[k][1] for k in sorted(best)]


def minor_of(prefix):
    inc = os.path.join(prefix, "include")
    for name in sorted(os.listdir(inc)):
        m = re.fullmatch(r"python3\.(\d+)", name)
        if m:
            return int(m.group(1)), os.path.join(inc, name)
    raise SystemExit(f"{prefix}: no include/python3.X directory")


def probe(prefix):
    minor, incdir = minor_of(prefix)
    if minor not in MINORS:
        raise SystemExit(f"{prefix}: CPython 3.{minor} is not handled by this generator")
    if minor <= 10:
        extra = '#include "frameobject.h"\n#include "longintrepr.h"\n' + PROBE_PRIVATE[minor]
    else:
        extra = ('#include "internal/pycore_frame.h"\n#include "internal/pycore_code.h"\n'
                 '#include "internal/pycore_dict.h"\n#include "internal/pycore_long.h"\n'
                 '#include "internal/pycore_moduleobject.h"\n'
                 '#include "internal/pycore_object.h"\n' + MANAGED_BEFORE[minor])
    flist = fields(minor)
    body = [PROBE_HEAD % {"extra": extra}]
    for name, expr in flist:
        if expr is not None:
            body.append(f'    printf("{name} %ld\\n", (long)({expr}));\n')
    body.append("    return 0;\n}\n")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        exe = os.path.join(tmp, "probe")
        with open(src, "w") as f:
            f.write("".join(body))
        cc = os.environ.get("CC", "gcc")
        subprocess.run([cc, "-std=gnu11", "-w", "-I" + incdir, "-o", exe, src], check=True)
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    values = {}
    for line in out.splitlines():
        k, v = line.split(" ", 1)
        values[k] = v
    rows = []
    for name, expr in flist:
        rows.append((name, int(values[name]) if expr is not None else -1))
    if minor in PROBE_PRIVATE:
        verify_private(prefix, minor, dict(rows))
    return minor, values["version"], int(values["version_hex"]), rows


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


def verify_private(prefix, minor, row):
    exe = os.path.join(prefix, "bin", f"python3.{minor}")
    want = ("module_dict", "dict_keys", "dict_values", "keys_size", "keys_nentries",
            "keys_indices", "entry_size", "entry_key", "entry_value")
    cp = subprocess.run([exe, "-c", VERIFY_SCRIPT, json.dumps({k: row[k] for k in want})],
                        capture_output=True, text=True)
    if cp.returncode != 0 or cp.stdout.strip() != "ok":
        raise SystemExit(f"{exe}: the mirrored private structures do not match the "
                         f"interpreter:\n{cp.stderr}")


def render(results):
    lines = [
        "/* GENERATED by tools/gen_pyabi.py from each CPython's own headers -- do not edit.",
        " * Regenerate with `python3 tools/gen_pyabi.py` (needs every CPython 3.9-3.13",
        " * installed with pyenv, headers included) and commit the result.",
        " * Sources: " + ", ".join(f"CPython {v}" for _, v, _, _ in results) + ". */",
        '#include "pyabi_tables.h"',
        "",
    ]
    for minor, version, vhex, rows in results:
        lines.append(f"/* CPython {version} */")
        lines.append(f"static const sg_pyabi sg_pyabi_3_{minor} = {{")
        lines.append(f"    .version_hex = 0x{vhex:08x},")
        lines.append(f"    .major = 3,")
        lines.append(f"    .minor = {minor},")
        for k, v in LAYOUT[minor].items():
            lines.append(f"    .{k} = {v},")
        for name, v in rows:
            lines.append(f"    .{name} = {v},")
        lines.append("};")
        lines.append("")
    lines.append("/* Looked up by pyabi.c, ascending by minor. */")
    lines.append("const sg_pyabi *const sg_pyabi_tables[] = {")
    for minor, _, _, _ in results:
        lines.append(f"    &sg_pyabi_3_{minor},")
    lines.append("};")
    lines.append(f"const size_t sg_pyabi_ntables = {len(results)};")
    supported = ", ".join(f"3.{m}" for m, _, _, _ in results)
    lines.append(f'const char sg_pyabi_supported_list[] = "{supported}";')
    lines.append("")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prefixes", nargs="*", help="CPython installation prefixes")
    ap.add_argument("--check", action="store_true", help="fail if the output is stale")
    ap.add_argument("-o", "--output", default=OUT)
    args = ap.parse_args()
    prefixes = args.prefixes or find_prefixes()
    results = sorted((probe(p) for p in prefixes), key=lambda r: r[0])
    found = [r[0] for r in results]
    if found != list(MINORS):
        print(f"warning: only 3.{found} found; the table file lists just these",
              file=sys.stderr)
    text = render(results)
    if args.check:
        with open(args.output) as f:
            if f.read() != text:
                print(f"{args.output} is stale; run tools/gen_pyabi.py", file=sys.stderr)
                return 1
        return 0
    with open(args.output, "w") as f:
        f.write(text)
    print(f"wrote {args.output} ({', '.join(v for _, v, _, _ in results)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
