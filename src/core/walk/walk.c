/* Walking interpreters, thread states and frames of a target through the reader.
 * Version differences come only from the sg_pyabi fields and model enums. Each
 * structure is read in one call (a whole thread state, a frame's header), which is
 * both cheaper and less torn than field-by-field reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "../base/sg_map.h"
#include "sg_walk.h"

#define TSTATE_MAX_BYTES 2048
#define FRAME_MAX_BYTES 512
#define VISIT_SLOTS 8192 /* > 2 * SG_MAX_FRAMES, power of two */

struct sg_walker {
    sg_reader *r;   /* the prefetcher's: a walk reads what the last one read in one call */
    sg_reader *raw; /* the target's own, for one-off searches */
    sg_prefetch *pf;
    const sg_target *t;
    const sg_pyabi *abi;
    size_t tstate_len; /* bytes of PyThreadState we read */
    size_t frame_len;  /* bytes of a frame we read */
    uint64_t gil_addr; /* cached: the GIL struct does not move */
    /* 3.11+: a copy of the thread's current data-stack chunk, taken in one read, from
     * which frames are parsed instead of one read each (fewer syscalls, less tearing). */
    unsigned char *chunk_copy;
    size_t chunk_cap;
    uint64_t chunk_lo, chunk_hi; /* target addresses covered by chunk_copy */
    /* 3.9/3.10 have no native thread id in the thread state: glibc's struct pthread
     * holds it at an offset found once by looking for the main thread's TID (== PID). */
    int32_t pthread_tid_offset; /* -1 unknown, -2 search failed */
    /* Cycle detection for frame chains: a set stamped with a generation so that it is
     * never cleared. */
    uint64_t visit_addr[VISIT_SLOTS];
    uint32_t visit_gen[VISIT_SLOTS];
    uint32_t gen;
};

static size_t max_end(size_t cur, int32_t off, size_t width)
{
    if (off < 0)
        return cur;
    size_t end = (size_t)off + width;
    return end > cur ? end : cur;
}

sg_walker *sg_walker_new(sg_reader *r, const sg_target *t, sg_error *err)
{
    sg_walker *w = calloc(1, sizeof *w);
    if (!w) {
        sg_fail(err, SG_E_NOMEM, 0, "allocating the walker");
        return NULL;
    }
    w->pf = sg_prefetch_new(r);
    if (!w->pf) {
        free(w);
        sg_fail(err, SG_E_NOMEM, 0, "allocating the walker");
        return NULL;
    }
    w->r = sg_prefetch_reader(w->pf);
    w->raw = r;
    w->t = t;
    w->abi = &t->abi;
    const sg_pyabi *a = w->abi;
    size_t tl = 0;
    tl = max_end(tl, a->tstate_next, 8);
    tl = max_end(tl, a->tstate_interp, 8);
    tl = max_end(tl, a->tstate_frame, 8);
    tl = max_end(tl, a->tstate_thread_id, 8);
    tl = max_end(tl, a->tstate_native_thread_id, 8);
    tl = max_end(tl, a->tstate_datastack_chunk, 8);
    tl = max_end(tl, a->tstate_datastack_top, 8);
    tl = max_end(tl, a->tstate_base_frame, 8);
    size_t fl = 0;
    fl = max_end(fl, a->frame_back, 8);
    fl = max_end(fl, a->frame_code, 8);
    fl = max_end(fl, a->frame_lasti, a->lasti_model >= SG_LASTI_PREV_INSTR ? 8 : 4);
    fl = max_end(fl, a->frame_owner, 1);
    fl = max_end(fl, a->frame_is_entry, 1);
    fl = max_end(fl, a->frame_tlbc_index, 4);
    if (a->frame_model == SG_FRAMES_OBJECTS) {
        fl = max_end(fl, a->object_type, 8); /* frames are type-checked */
        fl = max_end(fl, a->frame_state, 1); /* and must still be running */
    }
    if (tl == 0 || tl > TSTATE_MAX_BYTES || fl == 0 || fl > FRAME_MAX_BYTES) {
        sg_prefetch_free(w->pf);
        free(w);
        sg_fail(err, SG_E_UNSUPPORTED, 0, "the layout table for Python %u.%u is unusable",
                a->major, a->minor);
        return NULL;
    }
    w->tstate_len = tl;
    w->frame_len = fl;
    w->pthread_tid_offset = a->tstate_native_thread_id >= 0 ? -2 : -1;
    w->gen = 1;
    return w;
}

void sg_walker_free(sg_walker *w)
{
    if (w) {
        free(w->chunk_copy);
        sg_prefetch_free(w->pf);
    }
    free(w);
}

sg_reader *sg_walker_reader(sg_walker *w) { return w->r; }

void sg_walker_stats(const sg_walker *w, sg_prefetch_stat *out) { sg_prefetch_stats(w->pf, out); }

void sg_walk_result_init(sg_walk_result *res) { memset(res, 0, sizeof *res); }

void sg_walk_result_free(sg_walk_result *res)
{
    free(res->threads);
    free(res->frames);
    sg_walk_result_init(res);
}

static uint64_t get_u64(const unsigned char *buf, int32_t off)
{
    uint64_t v;
    memcpy(&v, buf + off, sizeof v);
    return v;
}

static int32_t get_i32(const unsigned char *buf, int32_t off)
{
    int32_t v;
    memcpy(&v, buf + off, sizeof v);
    return v;
}

static int read_ptr(sg_walker *w, uint64_t addr, uint64_t *out, sg_error *err)
{
    return sg_read(w->r, addr, out, sizeof *out, err);
}

/* Userspace pointers on x86-64 Linux are below 2^47 and objects are 8-aligned. */
static bool plausible_ptr(uint64_t p) { return p >= 4096 && p < (1ULL << 47) && (p & 7) == 0; }

/* Returns false if addr was already visited in the current generation. */
static bool visit(sg_walker *w, uint64_t addr)
{
    size_t i = (size_t)sg_hash64(addr) & (VISIT_SLOTS - 1);
    for (size_t n = 0; n < VISIT_SLOTS; n++, i = (i + 1) & (VISIT_SLOTS - 1)) {
        if (w->visit_gen[i] != w->gen) {
            w->visit_gen[i] = w->gen;
            w->visit_addr[i] = addr;
            return true;
        }
        if (w->visit_addr[i] == addr)
            return false;
    }
    return false;
}

static void next_generation(sg_walker *w)
{
    if (++w->gen == 0) {
        memset(w->visit_gen, 0, sizeof w->visit_gen);
        w->gen = 1;
    }
}

static bool push_frame(sg_walk_result *res, uint64_t code, int64_t offset, uint32_t flags)
{
    if (!sg_grow((void **)&res->frames, &res->cap_frames, res->nframes + 1, sizeof *res->frames,
                 1024))
        return false;
    res->frames[res->nframes++] = (sg_raw_frame){code, offset, flags};
    return true;
}

/* 3.9/3.10: a chain of heap PyFrameObjects. */
static sg_code walk_frame_objects(sg_walker *w, uint64_t frame, sg_walk_result *res)
{
    const sg_pyabi *a = w->abi;
    unsigned char buf[FRAME_MAX_BYTES];
    sg_error err;
    for (uint32_t depth = 0; frame; depth++) {
        if (depth >= SG_MAX_FRAMES)
            return SG_E_INVALID;
        if (!plausible_ptr(frame) || !visit(w, frame))
            return SG_E_INVALID;
        if (sg_read(w->r, frame, buf, w->frame_len, &err) != 0)
            return err.code;
        if (w->t->frame_type_addr && get_u64(buf, a->object_type) != w->t->frame_type_addr)
            return SG_E_INVALID;
        /* A caller that is not running has returned: the chain read through it is not
         * one the thread had, so the sample is torn. The innermost frame is different:
         * the thread state points to it for a few instructions before it runs and after
         * it returned, and the copy of the frame may be a little older or newer than
         * the copy of the pointer. Its caller link still holds then, and what it shows
         * is a stack the thread had within microseconds. Refusing those samples was a
         * bias, not a safeguard: a short call is entered and left often, so its samples
         * were refused most (3.9, calls of 0.07 ms alternating with 0.2 ms ones: 12% of
         * the short calls' samples, which came out at 22.5% of the time for a true
         * 24.4%). Only a frame without a caller (a generator suspended at that moment,
         * whose stack is gone) is still refused. */
        if (a->frame_state >= 0) {
            int8_t state = (int8_t)buf[a->frame_state];
            bool live = state == a->frame_state_live || state == a->frame_state_live2;
            if (!live && (depth > 0 || get_u64(buf, a->frame_back) == 0))
                return SG_E_INVALID;
        }
        int64_t lasti = get_i32(buf, a->frame_lasti);
        int64_t offset = a->lasti_model == SG_LASTI_UNITS ? lasti * 2 : lasti;
        if (!push_frame(res, get_u64(buf, a->frame_code), offset, 0))
            return SG_E_NOMEM;
        frame = get_u64(buf, a->frame_back);
    }
    return SG_OK;
}

#define CHUNK_MAX_BYTES (4u << 20)
/* Walks of a thread again from a fresh copy (see walk_interpreter). */
#define REWALKS 3
#define CHUNK_ROOM 1024

/* Copies the live part of the thread's current data-stack chunk (chunk start to
 * datastack_top). On any doubt the copy is simply not used. */
static void snapshot_chunk(sg_walker *w, const unsigned char *ts)
{
    const sg_pyabi *a = w->abi;
    w->chunk_lo = w->chunk_hi = 0;
    if (a->tstate_datastack_chunk < 0 || a->tstate_datastack_top < 0)
        return;
    uint64_t chunk = get_u64(ts, a->tstate_datastack_chunk);
    uint64_t top = get_u64(ts, a->tstate_datastack_top);
    if (!plausible_ptr(chunk) || top <= chunk || top - chunk > CHUNK_MAX_BYTES)
        return;
    size_t len = (size_t)(top - chunk);
    if (!sg_grow((void **)&w->chunk_copy, &w->chunk_cap, len, 1, 16384))
        return;
    sg_error err;
    if (sg_read(w->r, chunk, w->chunk_copy, len, &err) != 0)
        return;
    w->chunk_lo = chunk;
    w->chunk_hi = top;
    /* The stack grows and shrinks between ticks: ask the next one for some room beyond
     * today's top, within the chunk's own size (its header: previous, size, top), so that
     * a deeper stack is still in the batch. */
    uint64_t size = a->chunk_size >= 0 && len >= (size_t)a->chunk_size + 8
                        ? get_u64(w->chunk_copy, a->chunk_size)
                        : 0;
    size_t room = (len + 2 * CHUNK_ROOM) & ~(size_t)(CHUNK_ROOM - 1);
    if (size >= len && size <= CHUNK_MAX_BYTES)
        sg_prefetch_hint(w->pf, chunk, room < size ? room : (size_t)size);
}

static int read_frame(sg_walker *w, uint64_t frame, unsigned char *buf, sg_error *err)
{
    if (frame >= w->chunk_lo && frame < w->chunk_hi && w->chunk_hi - frame >= w->frame_len) {
        memcpy(buf, w->chunk_copy + (frame - w->chunk_lo), w->frame_len);
        return 0;
    }
    return sg_read(w->r, frame, buf, w->frame_len, err);
}

/* Free-threaded 3.14+: a thread may run its own copy of a function's bytecode (the copy
 * its frame's tlbc_index names in the code's co_tlbc array); the instruction pointer is
 * into that copy. *bytecode is where the copy starts. */
static int tlbc_copy(sg_walker *w, uint64_t code, int32_t index, uint64_t *bytecode)
{
    const sg_pyabi *a = w->abi;
    uint64_t array = 0, size = 0;
    sg_error err;
    if (index < 0 || a->code_tlbc < 0 || a->codearray_entries < 0 ||
        read_ptr(w, code + (uint64_t)a->code_tlbc, &array, &err) != 0 || !plausible_ptr(array) ||
        read_ptr(w, array, &size, &err) != 0 || (uint64_t)index >= size || size > 65536)
        return -1;
    return read_ptr(w, array + (uint64_t)a->codearray_entries + 8 * (uint64_t)index, bytecode,
                    &err) == 0 && *bytecode
               ? 0
               : -1;
}

/* 3.11+: _PyInterpreterFrame chain through `previous`; entry frames (owner_entry) are
 * skipped, instruction pointers become byte offsets from the code's bytecode. base_frame:
 * where the chain must end (3.15), or 0. */
static sg_code walk_interp_frames(sg_walker *w, uint64_t frame, uint64_t base_frame,
                                  sg_walk_result *res)
{
    const sg_pyabi *a = w->abi;
    unsigned char buf[FRAME_MAX_BYTES];
    sg_error err;
    for (uint32_t depth = 0; frame; depth++) {
        if (depth >= SG_MAX_FRAMES)
            return SG_E_INVALID;
        if (!plausible_ptr(frame) || !visit(w, frame))
            return SG_E_INVALID;
        if (read_frame(w, frame, buf, &err) != 0)
            return err.code;
        uint64_t code = get_u64(buf, a->frame_code) & ~(uint64_t)a->frame_code_tag_bits;
        uint8_t owner = buf[a->frame_owner];
        uint64_t next = get_u64(buf, a->frame_back);
        if (owner > (uint8_t)a->owner_max)
            return SG_E_INVALID;
        bool entry = a->owner_entry >= 0 ? owner >= (uint8_t)a->owner_entry
                     : a->frame_is_entry >= 0 ? buf[a->frame_is_entry] != 0
                                              : true;
        /* The root of the chain is entered from C (see sg_pyabi.frame_is_entry), or it
         * is a generator's (below); any other root was cut short. 3.15 says which: the
         * thread's own base frame. */
        if (!next && !entry &&
            !(a->owner_generator >= 0 && owner == (uint8_t)a->owner_generator))
            return SG_E_INVALID;
        if (!next && base_frame && frame != base_frame)
            return SG_E_INVALID;
        if (a->owner_entry >= 0 && entry) {
            frame = next;
            continue;
        }
        /* 3.14+ clears a frame's f_executable when it is popped: a chain through one was
         * read from a thread state older than the stack (torn, taken again). */
        if (!code)
            return SG_E_INVALID;
        uint64_t bytecode = code + (uint64_t)a->code_code_adaptive;
        if (a->frame_tlbc_index >= 0) {
            int32_t copy = get_i32(buf, a->frame_tlbc_index);
            if (copy != 0 && tlbc_copy(w, code, copy, &bytecode) != 0)
                return SG_E_INVALID;
        }
        int64_t offset = (int64_t)(get_u64(buf, a->frame_lasti) - bytecode);
        uint32_t flags = (a->owner_generator >= 0 && owner != (uint8_t)a->owner_generator)
                             ? SG_RF_CHECK_INCOMPLETE
                             : 0;
        if (!push_frame(res, code, offset, flags))
            return SG_E_NOMEM;
        /* A generator's frame is linked to its caller only while it runs: seen as the
         * root, it was read just as it yielded, and the stack is cut short. */
        if (!next && a->owner_generator >= 0 && owner == (uint8_t)a->owner_generator)
            return SG_E_INVALID;
        frame = next;
    }
    return SG_OK;
}

static int64_t native_tid_of(sg_walker *w, const unsigned char *ts)
{
    const sg_pyabi *a = w->abi;
    if (a->tstate_native_thread_id >= 0)
        return (int64_t)get_u64(ts, a->tstate_native_thread_id);
    if (w->pthread_tid_offset == -2)
        return -1;
    if (w->pthread_tid_offset == -1)
        return 0; /* found with the main thread, the last in the list: next sample */
    uint64_t pt = get_u64(ts, a->tstate_thread_id);
    int32_t tid;
    sg_error err;
    /* The thread state outlives its thread for a moment while the thread exits. */
    if (!plausible_ptr(pt) ||
        sg_read(w->r, pt + (uint64_t)w->pthread_tid_offset, &tid, sizeof tid, &err) != 0 ||
        tid <= 0)
        return 0;
    return tid;
}

static bool push_thread(sg_walk_result *res, const sg_raw_thread *t)
{
    if (!sg_grow((void **)&res->threads, &res->cap_threads, res->nthreads + 1,
                 sizeof *res->threads, 16))
        return false;
    res->threads[res->nthreads++] = *t;
    return true;
}

/* The thread state holding the GIL (0: none); *none: the target runs without a GIL. */
static int gil_holder(sg_walker *w, uint64_t interp, uint64_t *holder, bool *none,
                      sg_error *err)
{
    const sg_pyabi *a = w->abi;
    *holder = 0;
    *none = false;
    if (!w->gil_addr) {
        if (a->runtime_gil >= 0) {
            w->gil_addr = w->t->runtime_addr + (uint64_t)a->runtime_gil;
        } else if (a->interp_gil_ptr >= 0) {
            uint64_t g;
            if (read_ptr(w, interp + (uint64_t)a->interp_gil_ptr, &g, err) != 0)
                return -1;
            if (!plausible_ptr(g))
                return sg_fail(err, SG_E_INVALID, 0, NULL);
            w->gil_addr = g;
        } else {
            return 0;
        }
    }
    int32_t fields[3] = {a->gil_last_holder, a->gil_locked, a->gil_enabled};
    int32_t lo = INT32_MAX, hi = -1;
    for (int i = 0; i < 3; i++) {
        if (fields[i] >= 0 && fields[i] < lo)
            lo = fields[i];
        if (fields[i] > hi)
            hi = fields[i];
    }
    if (a->gil_last_holder < 0 || a->gil_locked < 0 || hi - lo > 64)
        return 0;
    unsigned char buf[80];
    if (sg_read(w->r, w->gil_addr + (uint64_t)lo, buf, (size_t)(hi - lo) + 8, err) != 0)
        return -1;
    /* A free-threaded build runs without a GIL unless an extension asked for one. */
    if (a->gil_enabled >= 0 && get_i32(buf, a->gil_enabled - lo) == 0) {
        *none = true;
        return 0;
    }
    int32_t locked = get_i32(buf, a->gil_locked - lo);
    if (locked)
        *holder = get_u64(buf, a->gil_last_holder - lo);
    return 0;
}

/* Before 3.11 a thread state does not hold its TID; glibc's pthread struct does, at an
 * offset found once from the main thread, whose TID is the PID. The main thread is the
 * oldest, so the last of the newest-first list: the list is walked once to find it, so
 * that every thread has its TID from the first sample on (a dump takes only one). */
static void find_tid_offset(sg_walker *w, uint64_t tstate)
{
    const sg_pyabi *a = w->abi;
    uint64_t last = 0;
    sg_error err;
    for (size_t n = 0; tstate && n < SG_MAX_THREADS; n++) {
        if (!plausible_ptr(tstate))
            return;
        last = tstate;
        if (read_ptr(w, tstate + (uint64_t)a->tstate_next, &tstate, &err) != 0 ||
            tstate == last)
            return;
    }
    if (tstate)
        return;
    uint64_t pthread_id;
    if (read_ptr(w, last + (uint64_t)a->tstate_thread_id, &pthread_id, &err) != 0)
        return;
    int32_t off = sg_discover_pthread_tid_offset(w->raw, w->t, pthread_id, w->t->pid);
    w->pthread_tid_offset = off >= 0 ? off : -2;
}

/* The frames of the thread whose state is ts, into res (th->error says where it
 * stopped). */
static void walk_thread(sg_walker *w, const unsigned char *ts, sg_raw_thread *th,
                        sg_walk_result *res, sg_error *err)
{
    const sg_pyabi *a = w->abi;
    uint64_t frame = get_u64(ts, a->tstate_frame);
    if (a->cframe_current_frame >= 0 && frame) {
        uint64_t cur = 0;
        if (!plausible_ptr(frame) ||
            read_ptr(w, frame + (uint64_t)a->cframe_current_frame, &cur, err) != 0)
            th->error = plausible_ptr(frame) ? err->code : SG_E_INVALID;
        frame = th->error ? 0 : cur;
    }
    next_generation(w);
    if (!th->error && a->frame_model == SG_FRAMES_INTERP && frame)
        snapshot_chunk(w, ts);
    if (!th->error)
        th->error = a->frame_model == SG_FRAMES_OBJECTS
                        ? walk_frame_objects(w, frame, res)
                        : walk_interp_frames(w, frame,
                                             a->tstate_base_frame >= 0
                                                 ? get_u64(ts, a->tstate_base_frame)
                                                 : 0,
                                             res);
}

static int walk_interpreter(sg_walker *w, uint64_t interp, sg_walk_result *res,
                            uint64_t *next_interp, sg_error *err)
{
    const sg_pyabi *a = w->abi;
    uint64_t tstate, id = 0;
    if (read_ptr(w, interp + (uint64_t)a->interp_threads_head, &tstate, err) != 0 ||
        read_ptr(w, interp + (uint64_t)a->interp_next, next_interp, err) != 0)
        return -1;
    /* The list is newest first: the main interpreter is the last one. */
    bool is_main = *next_interp == 0;
    if (a->interp_id >= 0)
        read_ptr(w, interp + (uint64_t)a->interp_id, &id, err);

    uint64_t holder = 0;
    if (is_main) {
        if (gil_holder(w, interp, &holder, &res->no_gil, err) != 0)
            holder = 0;
        res->gil_addr = w->gil_addr;
        res->gil_size = a->gil_size > 0 ? (size_t)a->gil_size : 0;
    }

    if (is_main && w->pthread_tid_offset == -1)
        find_tid_offset(w, tstate);

    unsigned char ts[TSTATE_MAX_BYTES];
    for (size_t n = 0; tstate; n++) {
        if (n >= SG_MAX_THREADS || !plausible_ptr(tstate))
            return sg_fail(err, SG_E_INVALID, 0, NULL);
        size_t mark = sg_prefetch_mark(w->pf);
        if (sg_read(w->r, tstate, ts, w->tstate_len, err) != 0)
            return -1;
        if (get_u64(ts, a->tstate_interp) != interp)
            return sg_fail(err, SG_E_INVALID, 0, NULL);
        uint64_t next = get_u64(ts, a->tstate_next);
        if (next == tstate)
            return sg_fail(err, SG_E_INVALID, 0, NULL);

        sg_raw_thread th = {0};
        th.tstate = tstate;
        th.pthread_id = get_u64(ts, a->tstate_thread_id);
        th.interp_id = (int64_t)id;
        th.holds_gil = holder == tstate;
        th.first_frame = (uint32_t)res->nframes;
        uint64_t misses = sg_prefetch_misses(w->pf);
        walk_thread(w, ts, &th, res, err);
        /* Part of this stack moved since the last tick: the copy (taken at the start of
         * the tick) and the fresh reads of what moved would mix two moments into one
         * stack. Take this thread's structures again, now with what moved, and walk it
         * again from that one moment. A stack found torn (the target changed it while it
         * was copied) is taken again too: a thread's copy takes microseconds, so the
         * next one is most often whole. */
        for (int round = 0; round < REWALKS; round++) {
            bool moved = sg_prefetch_misses(w->pf) != misses;
            if (th.error == SG_E_NOMEM || (!moved && th.error != SG_E_INVALID))
                break;
            sg_prefetch_refresh(w->pf, mark);
            misses = sg_prefetch_misses(w->pf);
            res->nframes = th.first_frame;
            th.error = SG_OK;
            if (sg_read(w->r, tstate, ts, w->tstate_len, err) != 0)
                th.error = err->code;
            else if (get_u64(ts, a->tstate_interp) != interp)
                th.error = SG_E_INVALID;
            else
                walk_thread(w, ts, &th, res, err);
        }
        if (th.error == SG_E_NOMEM)
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while sampling");
        th.nframes = (uint32_t)(res->nframes - th.first_frame);
        th.native_tid = native_tid_of(w, ts);
        if (!push_thread(res, &th))
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while sampling");
        tstate = next;
    }
    return 0;
}

int sg_walk(sg_walker *w, sg_walk_result *res, sg_error *err)
{
    const sg_pyabi *a = w->abi;
    res->nthreads = 0;
    res->nframes = 0;
    sg_prefetch_begin(w->pf);
    uint64_t interp;
    if (read_ptr(w, w->t->runtime_addr + (uint64_t)a->runtime_interpreters_head, &interp,
                 err) != 0)
        return -1;
    if (!interp)
        return sg_fail(err, SG_E_NOT_READY, 0, NULL);
    for (size_t n = 0; interp; n++) {
        if (n >= SG_MAX_INTERPRETERS || !plausible_ptr(interp))
            return sg_fail(err, SG_E_INVALID, 0, NULL);
        uint64_t next = 0;
        if (walk_interpreter(w, interp, res, &next, err) != 0)
            return -1;
        interp = next;
    }
    return 0;
}
