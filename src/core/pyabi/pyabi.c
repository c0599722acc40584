/* Table lookup and the 3.13+ _Py_DebugOffsets cross-check.
 *
 * _Py_DebugOffsets has no layout version of its own: its shape is implied by the
 * target's minor version. Each minor we understand is described once, as a mirror
 * struct plus a table of (where the value is, which sg_pyabi field it feeds, which
 * size bounds it). Adding 3.14 means adding one mirror struct and one table to
 * `layouts` below; the checking code does not change. */
#include <stdint.h>
#include <string.h>

#include "pyabi_tables.h"
#include "sg_pyabi.h"

const sg_pyabi *sg_pyabi_for(unsigned major, unsigned minor)
{
    for (size_t i = 0; i < sg_pyabi_ntables; i++)
        if (sg_pyabi_tables[i]->major == major && sg_pyabi_tables[i]->minor == minor)
            return sg_pyabi_tables[i];
    return NULL;
}

const char *sg_pyabi_supported(void) { return sg_pyabi_supported_list; }

/* ---- 3.13: a mirror of _Py_DebugOffsets (include/python3.13/internal/pycore_runtime.h).
 * Every member after the cookie is a uint64_t, so the mirror has no padding. */
typedef struct {
    char cookie[8];
    uint64_t version;
    uint64_t free_threaded;
    struct {
        uint64_t size, finalizing, interpreters_head;
    } runtime_state;
    struct {
        uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
            ceval_gil, gil_runtime_state, gil_runtime_state_enabled,
            gil_runtime_state_locked, gil_runtime_state_holder;
    } interpreter_state;
    struct {
        uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
            datastack_chunk, status;
    } thread_state;
    struct {
        uint64_t size, previous, executable, instr_ptr, localsplus, owner;
    } interpreter_frame;
    struct {
        uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
            localsplusnames, localspluskinds, co_code_adaptive;
    } code_object;
    struct {
        uint64_t size, ob_type;
    } pyobject;
    struct {
        uint64_t size, tp_name, tp_repr, tp_flags;
    } type_object;
    struct {
        uint64_t size, ob_item, ob_size;
    } tuple_object, list_object;
    struct {
        uint64_t size, ma_keys, ma_values;
    } dict_object;
    struct {
        uint64_t size, ob_fval;
    } float_object;
    struct {
        uint64_t size, lv_tag, ob_digit;
    } long_object;
    struct {
        uint64_t size, ob_size, ob_sval;
    } bytes_object;
    struct {
        uint64_t size, state, length, asciiobject_size;
    } unicode_object;
    struct {
        uint64_t size, collecting;
    } gc;
} debug_offsets_313;

_Static_assert(sizeof(debug_offsets_313) == 584, "3.13 _Py_DebugOffsets is 584 bytes");

/* How one published value maps onto sg_pyabi. */
typedef enum {
    DO_SIZE,   /* a struct size: must be plausible, bounds the offsets of that struct */
    DO_OFFSET, /* an offset: must be below the size at `bound` */
    DO_REL,    /* an offset relative to the value at `base` (GIL fields are published as
                  offsets into the interpreter's own _gil, we keep them GIL-relative) */
} do_kind;

typedef struct {
    uint16_t at;    /* byte offset of the uint64 in the debug block */
    uint16_t bound; /* DO_OFFSET/DO_REL: byte offset of the containing struct's size */
    uint16_t base;  /* DO_REL: byte offset of the value subtracted */
    uint16_t field; /* offsetof(sg_pyabi, an int32_t field) */
    uint8_t kind;   /* do_kind */
    const char *name;
} do_field;

typedef struct {
    uint8_t major, minor;
    uint16_t size;         /* sizeof the debug block */
    uint16_t version_at;   /* the uint64 PY_VERSION_HEX */
    uint16_t threaded_at;  /* the uint64 free_threaded flag */
    const do_field *fields;
    size_t nfields;
} do_layout;

#define D313(m) ((uint16_t)offsetof(debug_offsets_313, m))
#define A(f) ((uint16_t)offsetof(sg_pyabi, f))
#define SIZE313(m, f) {D313(m), 0, 0, A(f), DO_SIZE, #m}
#define OFF313(m, sz, f) {D313(m), D313(sz), 0, A(f), DO_OFFSET, #m}
#define REL313(m, b, sz, f) {D313(m), D313(sz), D313(b), A(f), DO_REL, #m}

static const do_field fields_313[] = {
    SIZE313(runtime_state.size, runtime_size),
    OFF313(runtime_state.interpreters_head, runtime_state.size, runtime_interpreters_head),
    SIZE313(interpreter_state.size, interp_size),
    OFF313(interpreter_state.id, interpreter_state.size, interp_id),
    OFF313(interpreter_state.next, interpreter_state.size, interp_next),
    OFF313(interpreter_state.threads_head, interpreter_state.size, interp_threads_head),
    OFF313(interpreter_state.ceval_gil, interpreter_state.size, interp_gil_ptr),
    OFF313(interpreter_state.imports_modules, interpreter_state.size, interp_modules),
    REL313(interpreter_state.gil_runtime_state_locked, interpreter_state.gil_runtime_state,
           interpreter_state.size, gil_locked),
    REL313(interpreter_state.gil_runtime_state_holder, interpreter_state.gil_runtime_state,
           interpreter_state.size, gil_last_holder),
    SIZE313(thread_state.size, tstate_size),
    OFF313(thread_state.prev, thread_state.size, tstate_prev),
    OFF313(thread_state.next, thread_state.size, tstate_next),
    OFF313(thread_state.interp, thread_state.size, tstate_interp),
    OFF313(thread_state.current_frame, thread_state.size, tstate_frame),
    OFF313(thread_state.thread_id, thread_state.size, tstate_thread_id),
    OFF313(thread_state.native_thread_id, thread_state.size, tstate_native_thread_id),
    OFF313(thread_state.datastack_chunk, thread_state.size, tstate_datastack_chunk),
    SIZE313(interpreter_frame.size, frame_size),
    OFF313(interpreter_frame.previous, interpreter_frame.size, frame_back),
    OFF313(interpreter_frame.executable, interpreter_frame.size, frame_code),
    OFF313(interpreter_frame.instr_ptr, interpreter_frame.size, frame_lasti),
    OFF313(interpreter_frame.owner, interpreter_frame.size, frame_owner),
    SIZE313(code_object.size, code_size),
    OFF313(code_object.filename, code_object.size, code_filename),
    OFF313(code_object.name, code_object.size, code_name),
    OFF313(code_object.qualname, code_object.size, code_qualname),
    OFF313(code_object.linetable, code_object.size, code_linetable),
    OFF313(code_object.firstlineno, code_object.size, code_firstlineno),
    OFF313(code_object.co_code_adaptive, code_object.size, code_code_adaptive),
    OFF313(pyobject.ob_type, pyobject.size, object_type),
    OFF313(type_object.tp_flags, type_object.size, type_flags),
    OFF313(dict_object.ma_keys, dict_object.size, dict_keys),
    OFF313(dict_object.ma_values, dict_object.size, dict_values),
    OFF313(long_object.lv_tag, long_object.size, long_tag),
    OFF313(long_object.ob_digit, long_object.size, long_digits),
    OFF313(bytes_object.ob_size, bytes_object.size, varobject_size),
    OFF313(bytes_object.ob_sval, bytes_object.size, bytes_sval),
    OFF313(unicode_object.state, unicode_object.size, unicode_state),
    OFF313(unicode_object.length, unicode_object.size, unicode_length),
    OFF313(unicode_object.asciiobject_size, unicode_object.size, unicode_ascii_size),
};

static const do_layout layouts[] = {
    {3, 13, sizeof(debug_offsets_313), D313(version), D313(free_threaded), fields_313,
     sizeof fields_313 / sizeof fields_313[0]},
};

/* Larger than any CPython structure we read (3.13's _PyRuntimeState is ~280 KiB);
 * rejects garbage without rejecting growth. */
#define DO_MAX_SIZE (64u << 20)

static const do_layout *layout_for(const sg_pyabi *abi)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].major == abi->major && layouts[i].minor == abi->minor)
            return &layouts[i];
    return NULL;
}

size_t sg_pyabi_debug_offsets_size(const sg_pyabi *abi)
{
    const do_layout *l = abi ? layout_for(abi) : NULL;
    return l ? l->size : 0;
}

static uint64_t u64_at(const unsigned char *b, size_t at)
{
    uint64_t v;
    memcpy(&v, b + at, sizeof v);
    return v;
}

static int32_t *abi_field(sg_pyabi *abi, uint16_t field)
{
    return (int32_t *)(void *)((unsigned char *)abi + field);
}

int sg_pyabi_apply_debug_offsets(sg_pyabi *abi, const void *bytes, size_t len,
                                 unsigned *mismatches, sg_error *err)
{
    if (!abi || !bytes)
        return sg_fail(err, SG_E_ARG, 0, "no table or no debug offsets given");
    const do_layout *l = layout_for(abi);
    if (!l)
        return sg_fail(err, SG_E_UNSUPPORTED, 0,
                       "no _Py_DebugOffsets layout known for Python %u.%u", abi->major,
                       abi->minor);
    if (len < l->size)
        return sg_fail(err, SG_E_INVALID, 0,
                       "_Py_DebugOffsets truncated: %zu bytes, %u expected", len, l->size);
    const unsigned char *b = bytes;
    if (memcmp(b, "xdebugpy", 8) != 0)
        return sg_fail(err, SG_E_INVALID, 0,
                       "_PyRuntime does not start with the \"xdebugpy\" cookie");
    uint64_t version = u64_at(b, l->version_at);
    unsigned vmaj = (unsigned)(version >> 24 & 0xff), vmin = (unsigned)(version >> 16 & 0xff);
    if (vmaj != abi->major || vmin != abi->minor)
        return sg_fail(err, SG_E_INVALID, 0,
                       "_Py_DebugOffsets says Python %u.%u, the table is for %u.%u", vmaj,
                       vmin, abi->major, abi->minor);
    if (u64_at(b, l->threaded_at) != 0)
        return sg_fail(err, SG_E_UNSUPPORTED, 0,
                       "free-threaded CPython %u.%u (built with --disable-gil) is not "
                       "supported; use the default build with the GIL",
                       vmaj, vmin);

    /* Validate everything before changing anything: an implausible block is rejected
     * whole rather than half-applied. */
    sg_pyabi patched = *abi;
    unsigned changed = 0;
    for (size_t i = 0; i < l->nfields; i++) {
        const do_field *f = &l->fields[i];
        uint64_t v = u64_at(b, f->at);
        if (f->kind == DO_SIZE) {
            if (v == 0 || v > DO_MAX_SIZE)
                return sg_fail(err, SG_E_INVALID, 0,
                               "_Py_DebugOffsets %s = %llu is implausible", f->name,
                               (unsigned long long)v);
        } else {
            uint64_t bound = u64_at(b, f->bound);
            if (v >= bound || bound > DO_MAX_SIZE)
                return sg_fail(err, SG_E_INVALID, 0,
                               "_Py_DebugOffsets %s = %llu is beyond its structure (%llu "
                               "bytes)",
                               f->name, (unsigned long long)v, (unsigned long long)bound);
            if (f->kind == DO_REL) {
                uint64_t base = u64_at(b, f->base);
                if (v < base || v - base >= (uint64_t)(abi->gil_size > 0 ? abi->gil_size : 0))
                    return sg_fail(err, SG_E_INVALID, 0,
                                   "_Py_DebugOffsets %s = %llu is outside the GIL state at "
                                   "%llu",
                                   f->name, (unsigned long long)v, (unsigned long long)base);
                v -= base;
            }
        }
        int32_t *dst = abi_field(&patched, f->field);
        if (*dst < 0)
            continue; /* a field we do not use for this version */
        if ((uint64_t)*dst != v) {
            *dst = (int32_t)v; /* v <= DO_MAX_SIZE fits */
            changed++;
        }
    }
    *abi = patched;
    if (mismatches)
        *mismatches = changed;
    return 0;
}
