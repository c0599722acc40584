/* Engine B, the deterministic tracer, inside the target's interpreter: what its files
 * share. trace_session.c owns the session (scope, names, threads, export) and the
 * Python type spyglass._core.Tracer; trace_monitoring.c (3.12+, sys.monitoring) and
 * trace_legacy.c (3.9-3.11, C profile/trace functions) turn interpreter events into
 * calls of the plain-C core in src/core/trace/.
 *
 * One session at most is active per process (sys.monitoring tool ids, setprofile and
 * settrace are process-wide), so its state is reached through one pointer. Every
 * event runs with the GIL held, which serialises all access to the session. Slow
 * paths that call back into Python finish those calls before they touch shared
 * tables, because running Python code may hand the GIL to another traced thread. */
#ifndef SG_TRACE_EXT_H
#define SG_TRACE_EXT_H

#include "sg_ext.h"

#include "../core/base/sg_map.h"
#include "../core/trace/sg_tclock.h"
#include "../core/trace/sg_tthread.h"

#if PY_VERSION_HEX >= 0x030C0000
#define SG_TRACE_MONITORING 1
#endif

#define SG_TCODE_JUMPS 4

#if PY_VERSION_HEX < 0x030C0000
#define PyUnstable_Code_GetExtra _PyCode_GetExtra
#define PyUnstable_Code_SetExtra _PyCode_SetExtra
#define PyUnstable_Eval_RequestCodeExtraIndex _PyEval_RequestCodeExtraIndex
#endif

/* What the session knows about one code object; attached to it through co_extra so the
 * hot path finds it with one call and no hashing. */
typedef struct sg_tcode {
    uint64_t gen;      /* the session that made it */
    PyObject *code;    /* borrowed; NULL once the code object has been freed */
    uint32_t fn;       /* function id in the session's profile */
    uint32_t loc;      /* location (fn, first line): the node key at function level */
    bool in;           /* in scope */
    int32_t first_line;
    /* line level: line -> location id, SG_NONE until first seen */
    int32_t line_base;
    uint32_t nline;
    uint32_t *line_loc;
    /* 3.12+ line level: jump offsets known to go back to their own line */
    int32_t jumps[SG_TCODE_JUMPS];
    uint8_t njumps;
} sg_tcode;

typedef struct sg_tfnspec {
    char *module;   /* NULL: any module */
    char *qualname;
} sg_tfnspec;

typedef struct sg_tsession {
    uint64_t gen;
    sg_mode mode;
    sg_clock_kind clock;
    sg_profile *profile;      /* functions and locations interned as they are met */
    uint32_t process;

    sg_tthread **threads;
    size_t nthreads, cap_threads;
    sg_tcode **codes;
    size_t ncodes, cap_codes;
    sg_map cfuncs;            /* C method (PyMethodDef *) -> location id */
    sg_map forced;            /* code objects always in scope (decorated, calibration) */

    /* scope */
    bool exclude_syspath;
    char **include, **exclude;
    size_t ninclude, nexclude;
    sg_tfnspec *specs;
    size_t nspecs;
    bool limited;             /* lines: only the named or decorated functions */
    bool scope_all;           /* functions: every file but spyglass's own is traced */
    char *own_prefix;         /* spyglass's own package directory, never traced */

    /* clock and bias (ticks). A Python call's cost falls on both sides of its
     * timestamps, unevenly: on 3.11 two thirds of it in the caller's interval (the frame
     * object built for the profile function comes before the entry's timestamp), on 3.9
     * and 3.10 over three quarters in the callee's own, on 3.12+ three fifths. So the
     * entry's bias is charged to the caller and the exit's to the callee, each the part
     * measured on its side. Split evenly, the bias took more than a one-line function's
     * own interval on 3.11: its time, below zero, was shown as none, and the rest stayed
     * in its caller (3 points too much for a loop calling one). */
    sg_tthread_config tcfg;
    int64_t bias_py, bias_py_exit, bias_c, bias_line;
    uint64_t t0;
    int64_t t0_ns, t0_wall;

    unsigned long main_ident;
    PyObject *threads_active; /* threading._active and _limbo, to name threads */
    PyObject *threads_limbo;
    bool oom;                 /* something was lost for lack of memory */
    uint64_t lost_frames;
} sg_tsession;

/* Read on every event: hidden, so the compiler reaches them directly rather than
 * through the global offset table. */
#define SG_HIDDEN __attribute__((visibility("hidden")))

/* The active session, or NULL; its generation, 0 when none. */
extern SG_HIDDEN sg_tsession *sg_tsess;
extern SG_HIDDEN uint64_t sg_tsess_gen;

typedef struct sg_ttls {
    uint64_t gen;    /* == sg_tsess_gen: th is this thread's state, fully set up */
    uint64_t owner;  /* == sg_tsess_gen: th belongs to the session (name pending) */
    sg_tthread *th;
    unsigned tries;  /* attempts to learn the thread's name */
    bool paused;     /* this thread's events are ignored (spyglass's own work) */
} sg_ttls;
extern SG_HIDDEN _Thread_local sg_ttls sg_tls;

/* The calling thread's state in the active session (created on first use); NULL when
 * no session is active or memory ran out. */
sg_tthread *sg_tsess_thread_slow(void);
static inline sg_tthread *sg_tsess_thread(void)
{
    if (sg_tls.gen == sg_tsess_gen)
        return sg_tls.th;
    return sg_tsess_thread_slow();
}


/* The per-code record of code (decided on first sight); NULL only when memory runs
 * out, which callers treat as out of scope. A small direct-mapped cache by address
 * (under the GIL) saves the call that reads co_extra; an entry is dropped when its
 * code object is freed, before the address can be reused. */
#define SG_TCODE_CACHE 256
typedef struct sg_tcode_slot {
    PyObject *code;
    sg_tcode *c;
} sg_tcode_slot;
extern SG_HIDDEN sg_tcode_slot sg_tcode_cache[SG_TCODE_CACHE];
extern SG_HIDDEN Py_ssize_t sg_tcode_index;
sg_tcode *sg_tsess_code_slow(PyObject *code);
static inline size_t sg_tcode_slot_of(PyObject *code)
{
    return ((uintptr_t)code >> 6) & (SG_TCODE_CACHE - 1);
}
static inline sg_tcode *sg_tsess_code(PyObject *code)
{
    sg_tcode_slot *slot = &sg_tcode_cache[sg_tcode_slot_of(code)];
    if (slot->code == code && slot->c->gen == sg_tsess_gen)
        return slot->c;
    void *extra = NULL;
    if (PyUnstable_Code_GetExtra(code, sg_tcode_index, &extra) == 0 && extra &&
        ((sg_tcode *)extra)->gen == sg_tsess_gen) {
        slot->code = code;
        slot->c = (sg_tcode *)extra;
        return (sg_tcode *)extra;
    }
    return sg_tsess_code_slow(code);
}

/* The location id of a line of c, interned on first use; SG_NONE out of memory. */
uint32_t sg_tcode_line_slow(sg_tcode *c, int line);
static inline uint32_t sg_tcode_line(sg_tcode *c, int line)
{
    uint32_t i = (uint32_t)(line - c->line_base);
    if (i < c->nline && c->line_loc[i] != SG_NONE)
        return c->line_loc[i];
    return sg_tcode_line_slow(c, line);
}

/* The location of a C method (key = its PyMethodDef), named on first sight the way
 * cProfile names it from callable (and self_arg, for an unbound method descriptor).
 * SG_NONE out of memory. */
uint32_t sg_tsess_cfunc_slow(const void *key, PyObject *callable, PyObject *self_arg);
typedef struct sg_tcfunc_slot {
    const void *key;
    uint32_t loc;
    uint64_t gen;
} sg_tcfunc_slot;
#define SG_TCFUNC_CACHE 128
extern SG_HIDDEN sg_tcfunc_slot sg_tcfunc_cache[SG_TCFUNC_CACHE];
static inline uint32_t sg_tsess_cfunc(const void *key, PyObject *callable, PyObject *self_arg)
{
    sg_tcfunc_slot *slot = &sg_tcfunc_cache[((uintptr_t)key >> 5) & (SG_TCFUNC_CACHE - 1)];
    if (slot->key == key && slot->gen == sg_tsess_gen)
        return slot->loc;
    const uint64_t *v = sg_map_get(&sg_tsess->cfuncs, (uint64_t)(uintptr_t)key);
    uint32_t loc = v ? (uint32_t)*v : sg_tsess_cfunc_slow(key, callable, self_arg);
    if (loc != SG_NONE)
        *slot = (sg_tcfunc_slot){key, loc, sg_tsess_gen};
    return loc;
}

/* cProfile's label for a builtin (trace_names.c): "<built-in method time.sleep>",
 * "<method 'append' of 'list' objects>", ... A new str, or NULL with an exception. */
PyObject *sg_tname_cfunc(PyObject *callable, PyObject *self_arg);

/* The engine for this interpreter (trace_monitoring.c or trace_legacy.c). start
 * installs the hooks on every thread (and for threads started later); -1 with a
 * Python exception. stop removes them; it cannot fail. */
int sg_tengine_start(sg_tsession *s);
void sg_tengine_stop(sg_tsession *s);
/* After fork in the child: the hooks of the threads that no longer exist go away. */
void sg_tengine_after_fork(sg_tsession *s);

/* Records an allocation failure in the session (reported, never raised). */
static inline void sg_tsess_oom(void)
{
    if (sg_tsess)
        sg_tsess->oom = true;
}

#endif
