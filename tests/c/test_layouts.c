/* Targets laid out otherwise than our tables, read through their own _Py_DebugOffsets:
 * fake process images built to a layout of the test's choosing (3.15's with fields
 * shifted and reordered; the free-threaded 3.15t), each with the debug block that
 * describes it. The block alone must lead the resolver to that layout, the layout check
 * must accept it, and the walker and the symbol cache must find every thread's frames,
 * names and lines, as a user of a CPython released after this spyglass would need.
 * A block that does not describe the image is refused. */
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../src/core/pyabi/pyabi_tables.h"
#include "../../src/core/sample/sg_symbols.h"
#include "../../src/core/walk/sg_walk.h"
#include "fake_py.h"
#include "sg_test.h"

/* A function of the fake program: every code unit at `line` but the first (RESUME at
 * first_line), so any offset tells whether it was resolved against the right table. */
typedef struct {
    const char *qualname, *file;
    int32_t first_line, line;
} fn_spec;

/* A PEP 657 location table: entries of "no column" kind (code 13), each up to 8 units. */
static size_t linetable(unsigned char *out, int32_t first, int32_t line, unsigned units)
{
    size_t n = 0;
    int32_t cur = first;
    for (unsigned u = 0; u < units;) {
        unsigned len = u == 0 ? 1 : (units - u > 8 ? 8 : units - u);
        int32_t want = u == 0 ? first : line;
        int32_t d = want - cur;
        uint32_t sv = d < 0 ? ((uint32_t)-d << 1) | 1 : (uint32_t)d << 1;
        out[n++] = (unsigned char)(0x80 | 13 << 3 | (len - 1));
        do { /* varint: 6 bits a byte, bit 6 = more */
            unsigned char b = sv & 0x3f;
            sv >>= 6;
            out[n++] = b | (sv ? 0x40 : 0);
        } while (sv);
        cur = want;
        u += len;
    }
    return n;
}

#define UNITS 24

static uint64_t fi_code(fimg *f, uint64_t code_type, const fn_spec *fn)
{
    const sg_pyabi *a = f->a;
    unsigned char lt[64];
    size_t ltn = linetable(lt, fn->first_line, fn->line, UNITS);
    uint64_t bytes = fi_alloc(f, (size_t)a->bytes_sval + ltn + 1);
    fi_u64(f, bytes + (uint64_t)a->varobject_size, ltn);
    memcpy(fi_at(f, bytes + (uint64_t)a->bytes_sval), lt, ltn);
    uint64_t c = fi_alloc(f, (size_t)a->code_code_adaptive + 2 * UNITS);
    fi_u64(f, c + (uint64_t)a->object_type, code_type);
    fi_u64(f, c + (uint64_t)a->varobject_size, UNITS);
    fi_u64(f, c + (uint64_t)a->code_filename, fi_str(f, fn->file));
    fi_u64(f, c + (uint64_t)a->code_name, fi_str(f, fn->qualname));
    fi_u64(f, c + (uint64_t)a->code_qualname, fi_str(f, fn->qualname));
    fi_u64(f, c + (uint64_t)a->code_linetable, bytes);
    fi_u32(f, c + (uint64_t)a->code_firstlineno, (uint32_t)fn->first_line);
    fi_u32(f, c + (uint64_t)a->code_firsttraceable, 0);
    return c;
}

/* A frame of code at byte offset off into bytecode (the code's own, or a copy). */
static uint64_t fi_frame(fimg *f, uint64_t code, uint64_t bytecode, unsigned off,
                         uint64_t previous, uint8_t owner, int32_t tlbc)
{
    const sg_pyabi *a = f->a;
    uint64_t fr = fi_alloc(f, (size_t)a->frame_size + 16);
    fi_u64(f, fr + (uint64_t)a->frame_code, code | (code ? 1 : 0)); /* a tagged reference */
    fi_u64(f, fr + (uint64_t)a->frame_back, previous);
    fi_u64(f, fr + (uint64_t)a->frame_lasti, bytecode + off);
    fi_u8(f, fr + (uint64_t)a->frame_owner, owner);
    if (a->frame_tlbc_index >= 0)
        fi_u32(f, fr + (uint64_t)a->frame_tlbc_index, (uint32_t)tlbc);
    return fr;
}

typedef struct {
    fimg f;
    uint64_t runtime, code_type;
    uint64_t interp, gil, tstate[2];
} fake_proc;

static const fn_spec FN_MAIN = {"main", "/srv/app.py", 10, 12};
static const fn_spec FN_WORK = {"Worker.work", "/srv/app.py", 20, 23};
static const fn_spec FN_LOOP = {"loop", "/srv/jobs.py", 40, 44};

/* The debug block of layout l describing *a (the image's true layout), as CPython
 * writes it: cookie, version, then every value l has. */
static void write_block(unsigned char *b, const sg_debug_layout *l, const sg_pyabi *a,
                        uint32_t version, uint64_t gil_base)
{
    memset(b, 0, l->size);
    memcpy(b, "xdebugpy", 8);
    int64_t v[SG_DO_COUNT];
    for (int i = 0; i < SG_DO_COUNT; i++)
        v[i] = -1;
    v[SG_DO_VERSION] = version;
    v[SG_DO_FREE_THREADED] = a->free_threaded;
    v[SG_DO_RUNTIME_SIZE] = a->runtime_size;
    v[SG_DO_RUNTIME_INTERPRETERS_HEAD] = a->runtime_interpreters_head;
    v[SG_DO_INTERP_SIZE] = a->interp_size;
    v[SG_DO_INTERP_ID] = a->interp_id;
    v[SG_DO_INTERP_NEXT] = a->interp_next;
    v[SG_DO_INTERP_THREADS_HEAD] = a->interp_threads_head;
    v[SG_DO_INTERP_IMPORTS_MODULES] = a->interp_modules;
    v[SG_DO_INTERP_CODE_GENERATION] = a->interp_code_generation;
    v[SG_DO_INTERP_CEVAL_GIL] = a->interp_gil_ptr;
    v[SG_DO_INTERP_GIL_RUNTIME_STATE] = (int64_t)gil_base;
    v[SG_DO_INTERP_GIL_ENABLED] = a->gil_enabled >= 0 ? (int64_t)gil_base + a->gil_enabled : 0;
    v[SG_DO_INTERP_GIL_LOCKED] = (int64_t)gil_base + a->gil_locked;
    v[SG_DO_INTERP_GIL_HOLDER] = (int64_t)gil_base + a->gil_last_holder;
    v[SG_DO_TSTATE_SIZE] = a->tstate_size;
    v[SG_DO_TSTATE_PREV] = a->tstate_prev;
    v[SG_DO_TSTATE_NEXT] = a->tstate_next;
    v[SG_DO_TSTATE_INTERP] = a->tstate_interp;
    v[SG_DO_TSTATE_CURRENT_FRAME] = a->tstate_frame;
    v[SG_DO_TSTATE_BASE_FRAME] = a->tstate_base_frame;
    v[SG_DO_TSTATE_THREAD_ID] = a->tstate_thread_id;
    v[SG_DO_TSTATE_NATIVE_THREAD_ID] = a->tstate_native_thread_id;
    v[SG_DO_TSTATE_DATASTACK_CHUNK] = a->tstate_datastack_chunk;
    v[SG_DO_FRAME_SIZE] = a->frame_size;
    v[SG_DO_FRAME_PREVIOUS] = a->frame_back;
    v[SG_DO_FRAME_EXECUTABLE] = a->frame_code;
    v[SG_DO_FRAME_INSTR_PTR] = a->frame_lasti;
    v[SG_DO_FRAME_OWNER] = a->frame_owner;
    v[SG_DO_FRAME_TLBC_INDEX] = a->frame_tlbc_index >= 0 ? a->frame_tlbc_index : 0;
    v[SG_DO_CODE_SIZE] = a->code_size;
    v[SG_DO_CODE_FILENAME] = a->code_filename;
    v[SG_DO_CODE_NAME] = a->code_name;
    v[SG_DO_CODE_QUALNAME] = a->code_qualname;
    v[SG_DO_CODE_LINETABLE] = a->code_linetable;
    v[SG_DO_CODE_FIRSTLINENO] = a->code_firstlineno;
    v[SG_DO_CODE_CODE_ADAPTIVE] = a->code_code_adaptive;
    v[SG_DO_CODE_TLBC] = a->code_tlbc >= 0 ? a->code_tlbc : 0;
    v[SG_DO_OBJECT_SIZE] = a->object_type + 8;
    v[SG_DO_OBJECT_TYPE] = a->object_type;
    v[SG_DO_TYPE_SIZE] = 1000;
    v[SG_DO_TYPE_FLAGS] = a->type_flags;
    v[SG_DO_TYPE_BASICSIZE] = a->type_basicsize;
    v[SG_DO_TYPE_DICTOFFSET] = a->type_dictoffset;
    v[SG_DO_HEAPTYPE_SIZE] = 1000;
    v[SG_DO_HEAPTYPE_CACHED_KEYS] = a->heaptype_cached_keys;
    v[SG_DO_DICT_SIZE] = 64;
    v[SG_DO_DICT_KEYS] = a->dict_keys;
    v[SG_DO_DICT_VALUES] = a->dict_values;
    v[SG_DO_LONG_SIZE] = 64;
    v[SG_DO_LONG_TAG] = a->long_tag;
    v[SG_DO_LONG_DIGIT] = a->long_digits;
    v[SG_DO_BYTES_SIZE] = 64;
    v[SG_DO_BYTES_OB_SIZE] = a->varobject_size;
    v[SG_DO_BYTES_SVAL] = a->bytes_sval;
    v[SG_DO_UNICODE_SIZE] = 128;
    v[SG_DO_UNICODE_STATE] = a->unicode_state;
    v[SG_DO_UNICODE_LENGTH] = a->unicode_length;
    v[SG_DO_UNICODE_ASCII_SIZE] = a->unicode_ascii_size;
    v[SG_DO_UNICODE_COMPACT_SIZE] = a->unicode_compact_size;
    for (int i = 0; i < SG_DO_COUNT; i++)
        if (l->at[i] >= 0 && v[i] >= 0)
            memcpy(b + l->at[i], &(uint64_t){(uint64_t)v[i]}, 8);
}

/* The fake program: the main thread in main -> Worker.work (its own bytecode), a second
 * thread in loop (in free-threaded images: running its thread's copy of the bytecode),
 * each chain ending at its base frame, entry frames between. */
static void build(fake_proc *p, const sg_pyabi *a, uint32_t version, int gil_enabled)
{
    fimg *f = &p->f;
    fi_init(f, 15);
    f->a = a;
    p->code_type = fi_alloc(f, 64);
    p->runtime = fi_alloc(f, 4096 + (size_t)a->runtime_interpreters_head);
    p->interp = fi_alloc(f, (size_t)a->interp_size);
    uint64_t gil_base = 4096; /* where the interpreter's own _gil would be */
    p->gil = fi_alloc(f, (size_t)a->gil_size);
    fi_u64(f, p->runtime + (uint64_t)a->runtime_interpreters_head, p->interp);
    fi_u64(f, p->interp + (uint64_t)a->interp_gil_ptr, p->gil);
    if (a->gil_enabled >= 0)
        fi_u32(f, p->gil + (uint64_t)a->gil_enabled, (uint32_t)gil_enabled);
    uint64_t main_code = fi_code(f, p->code_type, &FN_MAIN);
    uint64_t work_code = fi_code(f, p->code_type, &FN_WORK);
    uint64_t loop_code = fi_code(f, p->code_type, &FN_LOOP);
    uint64_t adaptive = (uint64_t)a->code_code_adaptive;
    uint8_t entry = (uint8_t)a->owner_entry;
    for (int k = 0; k < 2; k++) {
        uint64_t ts = p->tstate[k] = fi_alloc(f, (size_t)a->tstate_size);
        fi_u64(f, ts + (uint64_t)a->tstate_interp, p->interp);
        fi_u64(f, ts + (uint64_t)a->tstate_thread_id, 0x7f0000001000ULL + 0x1000ULL * (uint64_t)k);
        fi_u64(f, ts + (uint64_t)a->tstate_native_thread_id,
               k == 0 ? (uint64_t)getpid() : (uint64_t)getpid() + 1);
        uint64_t base = fi_frame(f, 0, 0, 0, 0, entry, 0);
        if (a->tstate_base_frame >= 0)
            fi_u64(f, ts + (uint64_t)a->tstate_base_frame, base);
        uint64_t top;
        if (k == 0) {
            uint64_t m = fi_frame(f, main_code, main_code + adaptive, 6, base, 0, 0);
            uint64_t e = fi_frame(f, 0, 0, 0, m, entry, 0);
            top = fi_frame(f, work_code, work_code + adaptive, 10, e, 0, 0);
        } else if (a->code_tlbc >= 0) {
            /* thread 1 runs copy 1 of loop's bytecode */
            uint64_t copy = fi_alloc(f, 2 * UNITS);
            uint64_t arr = fi_alloc(f, (size_t)a->codearray_entries + 16);
            fi_u64(f, arr, 2);
            fi_u64(f, arr + (uint64_t)a->codearray_entries, loop_code + adaptive);
            fi_u64(f, arr + (uint64_t)a->codearray_entries + 8, copy);
            fi_u64(f, loop_code + (uint64_t)a->code_tlbc, arr);
            top = fi_frame(f, loop_code, copy, 14, base, 0, 1);
        } else {
            top = fi_frame(f, loop_code, loop_code + adaptive, 14, base, 0, 0);
        }
        fi_u64(f, ts + (uint64_t)a->tstate_frame, top);
    }
    fi_u64(f, p->interp + (uint64_t)a->interp_threads_head, p->tstate[1]);
    fi_u64(f, p->tstate[1] + (uint64_t)a->tstate_next, p->tstate[0]);
    /* thread 1 holds the GIL where there is one */
    fi_u32(f, p->gil + (uint64_t)a->gil_locked, 1);
    fi_u64(f, p->gil + (uint64_t)a->gil_last_holder, p->tstate[1]);
    const sg_debug_layout *l = NULL;
    for (size_t i = 0; i < sg_debug_nlayouts; i++)
        if (sg_debug_layouts[i]->minor == 15)
            l = sg_debug_layouts[i];
    write_block(fi_at(f, p->runtime), l, a, version, gil_base);
}

/* 3.15's layout with fields moved about, as a later CPython might: the thread state,
 * frame, code object, interpreter and runtime each rearranged. */
static sg_pyabi shuffled(void)
{
    sg_pyabi a = *sg_pyabi_for(3, 15);
    a.runtime_interpreters_head += 64;
    a.interp_threads_head = 96;
    a.interp_next = 104;
    a.interp_gil_ptr = 40;
    a.tstate_native_thread_id = 56;  /* before the frame pointer now */
    a.tstate_thread_id = 64;
    a.tstate_frame = 200;
    a.tstate_base_frame = 208;
    a.tstate_datastack_chunk = 300;
    a.tstate_datastack_top = 308;
    a.frame_size = 96;
    a.frame_back = 0;                /* previous and executable swapped */
    a.frame_code = 8;
    a.frame_lasti = 64;
    a.frame_owner = 80;
    a.code_size += 32;
    a.code_filename += 32;
    a.code_qualname += 40;           /* qualname after the line table now */
    a.code_name += 32;
    a.code_linetable -= 8;
    a.code_firstlineno += 32;
    a.code_code_adaptive += 32;
    a.code_firsttraceable += 32;
    return a;
}

typedef struct {
    const char *names[4];
    int32_t lines[4];
    size_t n;
    bool holds_gil;
} thread_seen;

/* Walks the image with the layout resolved from its block; what each thread shows. */
static int walk_image(fake_proc *p, const sg_pyabi *abi, thread_seen seen[2], bool *no_gil)
{
    sg_reader *r = fi_reader(&p->f);
    sg_target t;
    memset(&t, 0, sizeof t);
    t.pid = getpid();
    t.abi = *abi;
    t.runtime_addr = p->runtime;
    t.code_type_addr = p->code_type;
    t.unicode_type_addr = p->f.str_type;
    char why[160] = "";
    SG_CHECK(sg_layout_confirmed(r, &t, p->interp, why, sizeof why));
    if (why[0])
        fprintf(stderr, "    layout not confirmed: %s\n", why);
    sg_error e;
    sg_walker *w = sg_walker_new(r, &t, &e);
    sg_profile *prof = sg_profile_new();
    sg_symbols *sy = sg_symbols_new(r, &t, prof, NULL, &e);
    sg_walk_result res;
    sg_walk_result_init(&res);
    int rc = w && sy ? sg_walk(w, &res, &e) : -1;
    SG_CHECK_EQ_INT(rc, 0);
    if (rc == 0) {
        *no_gil = res.no_gil;
        SG_CHECK_EQ_INT(res.nthreads, 2);
        for (size_t i = 0; i < res.nthreads && i < 2; i++) {
            const sg_raw_thread *th = &res.threads[i];
            SG_CHECK_EQ_INT(th->error, SG_OK);
            seen[i].n = th->nframes;
            seen[i].holds_gil = th->holds_gil;
            for (uint32_t k = 0; k < th->nframes && k < 4; k++) {
                uint32_t loc = SG_NONE;
                sg_sym_status st = sg_symbols_resolve(sy, &res.frames[th->first_frame + k], &loc);
                SG_CHECK_EQ_INT(st, SG_SYM_OK);
                if (st != SG_SYM_OK)
                    continue;
                const sg_location *l = &sg_profile_locations(prof)[loc];
                const sg_function *fn = &sg_profile_functions(prof)[l->function];
                seen[i].names[k] = sg_profile_str(prof, fn->name);
                seen[i].lines[k] = l->line;
            }
        }
    }
    sg_walk_result_free(&res);
    sg_symbols_free(sy);
    sg_profile_free(prof);
    sg_walker_free(w);
    sg_reader_free(r);
    return rc;
}

static void check_program(fake_proc *p, const sg_pyabi *abi, bool want_no_gil)
{
    thread_seen seen[2];
    memset(seen, 0, sizeof seen);
    bool no_gil = false;
    if (walk_image(p, abi, seen, &no_gil) != 0)
        return;
    /* newest first: thread 1 (loop), then the main thread (Worker.work <- main) */
    SG_CHECK_EQ_INT(seen[0].n, 1);
    SG_CHECK_EQ_STR(seen[0].names[0] ? seen[0].names[0] : "", "loop");
    SG_CHECK_EQ_INT(seen[0].lines[0], FN_LOOP.line);
    SG_CHECK_EQ_INT(seen[1].n, 2);
    SG_CHECK_EQ_STR(seen[1].names[0] ? seen[1].names[0] : "", "Worker.work");
    SG_CHECK_EQ_INT(seen[1].lines[0], FN_WORK.line);
    SG_CHECK_EQ_STR(seen[1].names[1] ? seen[1].names[1] : "", "main");
    SG_CHECK_EQ_INT(seen[1].lines[1], FN_MAIN.line);
    SG_CHECK_EQ_INT(no_gil, want_no_gil);
    SG_CHECK_EQ_INT(seen[0].holds_gil, !want_no_gil);
    SG_CHECK(!seen[1].holds_gil);
}

/* Every field the walker and the symbol cache read, as the image has it. */
static void check_same_layout(const sg_pyabi *got, const sg_pyabi *want)
{
#define SAME(f) SG_CHECK_EQ_INT(got->f, want->f)
    SAME(runtime_interpreters_head);
    SAME(interp_threads_head);
    SAME(interp_next);
    SAME(interp_gil_ptr);
    SAME(tstate_next);
    SAME(tstate_interp);
    SAME(tstate_frame);
    SAME(tstate_base_frame);
    SAME(tstate_thread_id);
    SAME(tstate_native_thread_id);
    SAME(tstate_datastack_chunk);
    SAME(tstate_datastack_top); /* moved with the chunk, unpublished */
    SAME(frame_back);
    SAME(frame_code);
    SAME(frame_lasti);
    SAME(frame_owner);
    SAME(code_filename);
    SAME(code_qualname);
    SAME(code_linetable);
    SAME(code_firstlineno);
    SAME(code_code_adaptive);
    SAME(code_firsttraceable); /* moved with the bytecode, unpublished */
    SAME(object_type);
#undef SAME
}

/* A CPython newer than our tables, rearranged inside: read as it describes itself. */
static void test_newer_python_shuffled(void)
{
    sg_pyabi truth = shuffled();
    fake_proc p;
    build(&p, &truth, 0x031000a1, 1);
    const sg_debug_layout *l = NULL;
    for (size_t i = 0; i < sg_debug_nlayouts; i++)
        l = sg_debug_layouts[i]; /* the newest */
    sg_pyabi abi;
    sg_layout_source how;
    unsigned fixed = 0;
    sg_error e;
    SG_CHECK_EQ_INT(sg_pyabi_resolve(0x031000a1, fi_at(&p.f, p.runtime), l->size, &abi, &how,
                                     &fixed, &e),
                    0);
    SG_CHECK_EQ_INT(how, SG_LAYOUT_OWN);
    SG_CHECK(fixed >= 15);
    SG_CHECK_EQ_INT(abi.minor, 16);
    check_same_layout(&abi, &truth);
    check_program(&p, &abi, false);

    /* Read with our table instead (what a reader that ignored the block would do): the
     * layout check refuses it rather than profile garbage. */
    sg_reader *r = fi_reader(&p.f);
    sg_target t;
    memset(&t, 0, sizeof t);
    t.pid = getpid();
    t.abi = *sg_pyabi_for(3, 15);
    t.code_type_addr = p.code_type;
    char why[160] = "";
    SG_CHECK(!sg_layout_confirmed(r, &t, p.interp, why, sizeof why));
    SG_CHECK(why[0] != '\0');
    sg_reader_free(r);
    fi_free(&p.f);
}

/* A build of a minor we have, laid out otherwise (a distribution's patches): our table
 * corrected by the block. */
static void test_patched_build(void)
{
    sg_pyabi truth = shuffled();
    fake_proc p;
    const sg_pyabi *t15 = sg_pyabi_for(3, 15);
    build(&p, &truth, t15->version_hex, 1);
    sg_pyabi abi;
    sg_layout_source how;
    unsigned fixed = 0;
    sg_error e;
    SG_CHECK_EQ_INT(sg_pyabi_resolve(t15->version_hex, fi_at(&p.f, p.runtime),
                                     sg_pyabi_debug_block_size(3, 15), &abi, &how, &fixed, &e),
                    0);
    SG_CHECK_EQ_INT(how, SG_LAYOUT_PATCHED);
    check_same_layout(&abi, &truth);
    check_program(&p, &abi, false);
    fi_free(&p.f);
}

/* Free-threaded 3.15t: the larger object header, a thread running its own copy of the
 * bytecode, and no GIL: nobody holds it, and the walk says so. With the GIL switched on
 * at run time (an extension asked for it), the holder is seen again. */
static void test_free_threaded(void)
{
    const sg_pyabi *ft = sg_pyabi_for_build(3, 15, 1);
    for (int enabled = 0; enabled < 2; enabled++) {
        fake_proc p;
        build(&p, ft, ft->version_hex, enabled);
        sg_pyabi abi;
        sg_layout_source how;
        unsigned fixed = 9;
        sg_error e;
        SG_CHECK_EQ_INT(sg_pyabi_resolve(ft->version_hex, fi_at(&p.f, p.runtime),
                                         sg_pyabi_debug_block_size(3, 15), &abi, &how, &fixed,
                                         &e),
                        0);
        SG_CHECK_EQ_INT(abi.free_threaded, 1);
        SG_CHECK_EQ_INT(how, SG_LAYOUT_TABLE);
        SG_CHECK_EQ_INT(fixed, 0);
        check_program(&p, &abi, !enabled);
        fi_free(&p.f);
    }
}

/* 3.14+ clears f_executable (to the NULL stack reference, bits 1) when a frame is
 * popped: a chain through such a frame was read from a thread state older than the
 * stack, so the thread's walk is torn (and taken again by the sampler), not a stack. */
static void test_popped_frame_is_torn(void)
{
    const sg_pyabi *a = sg_pyabi_for(3, 15);
    fake_proc p;
    build(&p, a, a->version_hex, 1);
    uint64_t top = fi_get64(&p.f, p.tstate[0] + (uint64_t)a->tstate_frame);
    uint64_t entry = fi_get64(&p.f, top + (uint64_t)a->frame_back);
    uint64_t main_frame = fi_get64(&p.f, entry + (uint64_t)a->frame_back);
    fi_u64(&p.f, main_frame + (uint64_t)a->frame_code, 1);
    sg_reader *r = fi_reader(&p.f);
    sg_target t;
    memset(&t, 0, sizeof t);
    t.pid = getpid();
    t.abi = *a;
    t.runtime_addr = p.runtime;
    sg_error e;
    sg_walker *w = sg_walker_new(r, &t, &e);
    sg_walk_result res;
    sg_walk_result_init(&res);
    SG_CHECK_EQ_INT(sg_walk(w, &res, &e), 0);
    SG_CHECK_EQ_INT(res.nthreads, 2);
    if (res.nthreads == 2) {
        SG_CHECK_EQ_INT(res.threads[0].error, SG_OK);
        SG_CHECK_EQ_INT(res.threads[1].error, SG_E_INVALID);
    }
    sg_walk_result_free(&res);
    sg_walker_free(w);
    sg_reader_free(r);
    fi_free(&p.f);
}

int main(void)
{
    SG_RUN(test_newer_python_shuffled);
    SG_RUN(test_patched_build);
    SG_RUN(test_free_threaded);
    SG_RUN(test_popped_frame_is_torn);
    SG_TEST_MAIN_END();
}
