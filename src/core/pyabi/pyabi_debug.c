/* Reading a target's _Py_DebugOffsets (3.13+): the block CPython writes at the start of
 * _PyRuntime so that tools outside the process know its layout.
 *
 * The block has no layout version of its own: its shape is implied by the minor. Where
 * each value sits in each minor's block is generated from that minor's header
 * (pyabi_tables.c, sg_debug_layouts); which sg_pyabi field each value feeds is said
 * once, below, for every minor. A minor newer than ours is read as the newest layout we
 * know: every value is bounded by its structure's size, and discovery walks the target
 * once before trusting the result (sg_discover).
 *
 * Some fields the walker needs are not published; they sit at a fixed distance from one
 * that is (the data-stack top follows the chunk, _co_firsttraceable precedes the
 * bytecode, object fields follow the object header), and move with it. */
#include <stdint.h>
#include <string.h>

#include "pyabi_tables.h"
#include "sg_pyabi.h"

/* How one published value maps onto sg_pyabi. */
typedef enum {
    DO_SIZE,     /* a struct size: must be plausible, bounds the offsets of that struct */
    DO_OFFSET,   /* an offset: must be below the size at `bound` */
    DO_OPTIONAL, /* an offset that builds without the feature publish as 0 (tlbc, the
                    GIL's enabled flag of free-threaded builds) */
    DO_REL,      /* an offset relative to the value `base` (GIL fields are published as
                    offsets into the interpreter's own _gil, we keep them GIL-relative);
                    0 is not published, as for DO_OPTIONAL */
} do_kind;

typedef struct {
    uint8_t value;  /* sg_do_value */
    uint8_t kind;   /* do_kind */
    uint8_t bound;  /* DO_OFFSET/DO_OPTIONAL/DO_REL: the sg_do_value of the size */
    uint8_t base;   /* DO_REL: the sg_do_value subtracted */
    uint16_t field; /* offsetof(sg_pyabi, an int32_t field) */
} do_field;

#define A(f) ((uint16_t)offsetof(sg_pyabi, f))
#define SIZE(v, f) {SG_DO_##v, DO_SIZE, 0, 0, A(f)}
#define OFF(v, sz, f) {SG_DO_##v, DO_OFFSET, SG_DO_##sz, 0, A(f)}
#define OPT(v, sz, f) {SG_DO_##v, DO_OPTIONAL, SG_DO_##sz, 0, A(f)}
#define REL(v, b, sz, f) {SG_DO_##v, DO_REL, SG_DO_##sz, SG_DO_##b, A(f)}

static const do_field fields[] = {
    SIZE(RUNTIME_SIZE, runtime_size),
    OFF(RUNTIME_INTERPRETERS_HEAD, RUNTIME_SIZE, runtime_interpreters_head),
    SIZE(INTERP_SIZE, interp_size),
    OFF(INTERP_ID, INTERP_SIZE, interp_id),
    OFF(INTERP_NEXT, INTERP_SIZE, interp_next),
    OFF(INTERP_THREADS_HEAD, INTERP_SIZE, interp_threads_head),
    OFF(INTERP_CEVAL_GIL, INTERP_SIZE, interp_gil_ptr),
    OFF(INTERP_IMPORTS_MODULES, INTERP_SIZE, interp_modules),
    OFF(INTERP_CODE_GENERATION, INTERP_SIZE, interp_code_generation),
    REL(INTERP_GIL_LOCKED, INTERP_GIL_RUNTIME_STATE, INTERP_SIZE, gil_locked),
    REL(INTERP_GIL_HOLDER, INTERP_GIL_RUNTIME_STATE, INTERP_SIZE, gil_last_holder),
    REL(INTERP_GIL_ENABLED, INTERP_GIL_RUNTIME_STATE, INTERP_SIZE, gil_enabled),
    SIZE(TSTATE_SIZE, tstate_size),
    OFF(TSTATE_PREV, TSTATE_SIZE, tstate_prev),
    OFF(TSTATE_NEXT, TSTATE_SIZE, tstate_next),
    OFF(TSTATE_INTERP, TSTATE_SIZE, tstate_interp),
    OFF(TSTATE_CURRENT_FRAME, TSTATE_SIZE, tstate_frame),
    OFF(TSTATE_BASE_FRAME, TSTATE_SIZE, tstate_base_frame),
    OFF(TSTATE_THREAD_ID, TSTATE_SIZE, tstate_thread_id),
    OFF(TSTATE_NATIVE_THREAD_ID, TSTATE_SIZE, tstate_native_thread_id),
    OFF(TSTATE_DATASTACK_CHUNK, TSTATE_SIZE, tstate_datastack_chunk),
    SIZE(FRAME_SIZE, frame_size),
    OFF(FRAME_PREVIOUS, FRAME_SIZE, frame_back),
    OFF(FRAME_EXECUTABLE, FRAME_SIZE, frame_code),
    OFF(FRAME_INSTR_PTR, FRAME_SIZE, frame_lasti),
    OFF(FRAME_OWNER, FRAME_SIZE, frame_owner),
    OPT(FRAME_TLBC_INDEX, FRAME_SIZE, frame_tlbc_index),
    SIZE(CODE_SIZE, code_size),
    OFF(CODE_FILENAME, CODE_SIZE, code_filename),
    OFF(CODE_NAME, CODE_SIZE, code_name),
    OFF(CODE_QUALNAME, CODE_SIZE, code_qualname),
    OFF(CODE_LINETABLE, CODE_SIZE, code_linetable),
    OFF(CODE_FIRSTLINENO, CODE_SIZE, code_firstlineno),
    OFF(CODE_CODE_ADAPTIVE, CODE_SIZE, code_code_adaptive),
    OPT(CODE_TLBC, CODE_SIZE, code_tlbc),
    OFF(OBJECT_TYPE, OBJECT_SIZE, object_type),
    OFF(TYPE_FLAGS, TYPE_SIZE, type_flags),
    OFF(TYPE_BASICSIZE, TYPE_SIZE, type_basicsize),
    OFF(TYPE_DICTOFFSET, TYPE_SIZE, type_dictoffset),
    OFF(HEAPTYPE_CACHED_KEYS, HEAPTYPE_SIZE, heaptype_cached_keys),
    OFF(DICT_KEYS, DICT_SIZE, dict_keys),
    OFF(DICT_VALUES, DICT_SIZE, dict_values),
    OFF(LONG_TAG, LONG_SIZE, long_tag),
    OFF(LONG_DIGIT, LONG_SIZE, long_digits),
    OFF(BYTES_OB_SIZE, BYTES_SIZE, varobject_size),
    OFF(BYTES_SVAL, BYTES_SIZE, bytes_sval),
    OFF(UNICODE_STATE, UNICODE_SIZE, unicode_state),
    OFF(UNICODE_LENGTH, UNICODE_SIZE, unicode_length),
    OFF(UNICODE_ASCII_SIZE, UNICODE_SIZE, unicode_ascii_size),
    OFF(UNICODE_COMPACT_SIZE, UNICODE_SIZE, unicode_compact_size),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

/* Unpublished fields that move with a published one (the anchor). The object header
 * is anchored at ob_type: the fields of objects follow the header. */
typedef struct {
    uint16_t field, anchor;
} do_follower;

static const do_follower followers[] = {
    {A(tstate_datastack_top), A(tstate_datastack_chunk)},
    {A(code_firsttraceable), A(code_code_adaptive)},
    {A(module_dict), A(object_type)},
    {A(unicode_compact_size), A(unicode_ascii_size)},
};

/* Larger than any CPython structure we read (3.15's _PyRuntimeState is ~340 KiB);
 * rejects garbage without rejecting growth. */
#define DO_MAX_SIZE (64u << 20)
/* Offsets the walker uses must fit the buffers it reads structures into. */
#define DO_MAX_TSTATE_OFFSET 2040
#define DO_MAX_FRAME_OFFSET 500

static const sg_debug_layout *layout_for(unsigned major, unsigned minor)
{
    const sg_debug_layout *best = NULL;
    unsigned limit = sg_pyabi_test_limit("SPYGLASS_TEST_NEWEST_LAYOUT");
    for (size_t i = 0; i < sg_debug_nlayouts; i++) {
        const sg_debug_layout *l = sg_debug_layouts[i];
        if (l->major == major && l->minor <= minor && l->minor <= limit &&
            (!best || l->minor > best->minor))
            best = l;
    }
    return best;
}

size_t sg_pyabi_debug_block_size(unsigned major, unsigned minor)
{
    const sg_debug_layout *l = layout_for(major, minor);
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

/* The value of v in the block, or -1 if this layout has none. */
static int64_t value_of(const sg_debug_layout *l, const unsigned char *b, unsigned v)
{
    if (l->at[v] < 0)
        return -1;
    uint64_t x = u64_at(b, (size_t)l->at[v]);
    return x > DO_MAX_SIZE ? (int64_t)DO_MAX_SIZE + 1 : (int64_t)x;
}

static const char *value_name(unsigned v)
{
    return v < SG_DO_COUNT ? sg_do_names[v] : "a field";
}

/* Checks one value; 1 if it is to be applied as *out, 0 if absent, -1 if implausible. */
static int check_value(const sg_debug_layout *l, const unsigned char *b, const do_field *f,
                       int32_t gil_size, int64_t *out, sg_error *err)
{
    int64_t v = value_of(l, b, f->value);
    if (v < 0)
        return 0;
    if (f->kind == DO_SIZE) {
        if (v == 0 || v > DO_MAX_SIZE)
            return sg_fail(err, SG_E_INVALID, 0, "_Py_DebugOffsets %s = %lld is implausible",
                           value_name(f->value), (long long)v);
        *out = v;
        return 1;
    }
    if ((f->kind == DO_OPTIONAL || f->kind == DO_REL) && v == 0)
        return 0;
    int64_t bound = value_of(l, b, f->bound);
    if (bound < 0)
        return 0; /* published without its structure's size: cannot be checked */
    if (v >= bound || bound > DO_MAX_SIZE)
        return sg_fail(err, SG_E_INVALID, 0,
                       "_Py_DebugOffsets %s = %lld is beyond its structure (%lld bytes)",
                       value_name(f->value), (long long)v, (long long)bound);
    if (f->kind == DO_REL) {
        int64_t base = value_of(l, b, f->base);
        if (base < 0 || v < base || v - base >= (gil_size > 0 ? gil_size : 0))
            return sg_fail(err, SG_E_INVALID, 0,
                           "_Py_DebugOffsets GIL field %lld is outside the GIL state at %lld",
                           (long long)v, (long long)base);
        v -= base;
    }
    *out = v;
    return 1;
}

int sg_pyabi_apply_debug_offsets(sg_pyabi *abi, const void *bytes, size_t len,
                                 unsigned *mismatches, sg_error *err)
{
    if (!abi || !bytes)
        return sg_fail(err, SG_E_ARG, 0, "no table or no debug offsets given");
    const sg_debug_layout *l = layout_for(abi->major, abi->minor);
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
    uint64_t version = u64_at(b, (size_t)l->at[SG_DO_VERSION]);
    unsigned vmaj = (unsigned)(version >> 24 & 0xff), vmin = (unsigned)(version >> 16 & 0xff);
    if (vmaj != abi->major || vmin != abi->minor)
        return sg_fail(err, SG_E_INVALID, 0,
                       "_Py_DebugOffsets says Python %u.%u, the table is for %u.%u", vmaj,
                       vmin, abi->major, abi->minor);
    if (u64_at(b, (size_t)l->at[SG_DO_FREE_THREADED]) != abi->free_threaded)
        return sg_fail(err, SG_E_INVALID, 0,
                       "_Py_DebugOffsets says %s build, the table is for %s one",
                       abi->free_threaded ? "a build with the GIL" : "a free-threaded",
                       abi->free_threaded ? "a free-threaded" : "a build with the GIL");

    /* Validate everything before changing anything: an implausible block is rejected
     * whole rather than half-applied. */
    sg_pyabi patched = *abi;
    unsigned changed = 0;
    for (size_t i = 0; i < NFIELDS; i++) {
        const do_field *f = &fields[i];
        int64_t v = 0;
        int rc = check_value(l, b, f, abi->gil_size, &v, err);
        if (rc < 0)
            return -1;
        int32_t *dst = abi_field(&patched, f->field);
        if (rc == 0)
            continue; /* not published by this version or build */
        /* A size that differs only bounds the offsets (Debian's 3.15.2 runtime state is
         * 8 bytes larger than its headers say, at the same offsets); an offset that
         * differs is another layout. */
        if (*dst != (int32_t)v)
            changed += f->kind != DO_SIZE;
        *dst = (int32_t)v; /* v <= DO_MAX_SIZE fits */
    }
    for (size_t i = 0; i < sizeof followers / sizeof followers[0]; i++) {
        int32_t moved = *abi_field(&patched, followers[i].anchor) -
                        *abi_field(abi, followers[i].anchor);
        int32_t *dst = abi_field(&patched, followers[i].field);
        if (moved && *dst >= 0 && *dst == *abi_field(abi, followers[i].field))
            *dst = *dst + moved >= 0 ? *dst + moved : -1;
    }
    /* The walker reads a thread state and a frame into fixed buffers. */
    const int32_t in_tstate[] = {patched.tstate_next, patched.tstate_interp, patched.tstate_frame,
                                 patched.tstate_thread_id, patched.tstate_native_thread_id,
                                 patched.tstate_datastack_chunk, patched.tstate_datastack_top,
                                 patched.tstate_base_frame};
    for (size_t i = 0; i < sizeof in_tstate / sizeof in_tstate[0]; i++)
        if (in_tstate[i] > DO_MAX_TSTATE_OFFSET)
            return sg_fail(err, SG_E_UNSUPPORTED, 0,
                           "_Py_DebugOffsets places a thread state field at %d, beyond what "
                           "this spyglass reads",
                           in_tstate[i]);
    const int32_t in_frame[] = {patched.frame_back, patched.frame_code, patched.frame_lasti,
                                patched.frame_owner, patched.frame_tlbc_index};
    for (size_t i = 0; i < sizeof in_frame / sizeof in_frame[0]; i++)
        if (in_frame[i] > DO_MAX_FRAME_OFFSET)
            return sg_fail(err, SG_E_UNSUPPORTED, 0,
                           "_Py_DebugOffsets places a frame field at %d, beyond what this "
                           "spyglass reads",
                           in_frame[i]);
    *abi = patched;
    if (mismatches)
        *mismatches = changed;
    return 0;
}
