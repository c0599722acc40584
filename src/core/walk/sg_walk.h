/* The stack walker: turns every thread of every interpreter of a target into raw
 * (code address, instruction offset) frames, leaf first. It resolves no names (the
 * symbol cache does, sample/symbols.c) and trusts nothing it reads: every list and
 * chain is bounded, frames are checked for cycles, and a thread whose walk fails is
 * reported with its error instead of failing the whole sample. */
#ifndef SG_WALK_H
#define SG_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "../discover/sg_discover.h"
#include "../mem/sg_prefetch.h"
#include "../mem/sg_reader.h"

#define SG_MAX_THREADS 4096
#define SG_MAX_FRAMES 2048
#define SG_MAX_INTERPRETERS 64

enum {
    /* The frame may still be initialising (3.11+ frames not owned by a generator
     * whose instruction offset is before _co_firsttraceable are skipped, as
     * PyFrame_GetBack does). */
    SG_RF_CHECK_INCOMPLETE = 1u << 0,
};

typedef struct sg_raw_frame {
    uint64_t code;   /* code object address, untrusted until the symbol cache checks it */
    int64_t offset;  /* byte offset into the bytecode, as sg_linetable_line takes it */
    uint32_t flags;  /* SG_RF_* */
} sg_raw_frame;

typedef struct sg_raw_thread {
    uint64_t tstate;
    uint64_t pthread_id;
    int64_t native_tid; /* > 0 the TID; 0 the thread is gone or exiting; -1 unknowable */
    int64_t interp_id;
    bool holds_gil;
    sg_code error;      /* SG_OK, or why the frame walk stopped early */
    uint32_t first_frame; /* index into sg_walk_result.frames */
    uint32_t nframes;
} sg_raw_thread;

typedef struct sg_walk_result {
    sg_raw_thread *threads;
    size_t nthreads, cap_threads;
    sg_raw_frame *frames;
    size_t nframes, cap_frames;
    uint64_t gil_addr; /* address of the main interpreter's GIL struct, 0 if unknown */
    size_t gil_size;
    bool no_gil; /* a free-threaded target running without a GIL: nobody holds it */
} sg_walk_result;

typedef struct sg_walker sg_walker;

/* The walker keeps pointers to r and t (which must outlive it). */
sg_walker *sg_walker_new(sg_reader *r, const sg_target *t, sg_error *err);
void sg_walker_free(sg_walker *w);

/* The walker's reader: what it reads in this tick is read in one batch at the next; other
 * per-tick reads of the same sample (the symbol cache's checks) belong there too. */
sg_reader *sg_walker_reader(sg_walker *w);

/* What the walker's batched reads did (for the benchmark). */
void sg_walker_stats(const sg_walker *w, sg_prefetch_stat *out);

/* One sample of every thread. Returns -1 only when nothing could be read at all
 * (SG_E_NO_PROCESS when the target is gone, SG_E_READ/SG_E_INVALID when the runtime
 * or interpreter list is unreadable: a torn or failed sample); per-thread failures are
 * in each thread's error. */
int sg_walk(sg_walker *w, sg_walk_result *out, sg_error *err);

void sg_walk_result_init(sg_walk_result *res);
void sg_walk_result_free(sg_walk_result *res);

#endif
