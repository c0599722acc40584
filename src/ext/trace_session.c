/* spyglass._core.Tracer: one tracing session at a time (see trace_ext.h).
 *
 * A session owns a profile from its start: every function, builtin and line is interned
 * into it the first time an event meets it (the slow paths below), so the hot path only
 * moves small integers around. Each thread records into its own tree (sg_tthread);
 * stop() removes the hooks, closes every thread's open interval and exports the trees
 * as records, one track per thread.
 *
 * Scope is decided once per code object, on first sight: spyglass's own files are never
 * traced; then forced code (decorated with @spyglass.lines, calibration loops), named
 * functions (--function module:qualname), and path rules (standard library and
 * site-packages, --include/--exclude globs). */
#include "trace_ext.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../core/base/sg_clock.h"
#include "../core/base/sg_grow.h"
#include "../core/trace/sg_texport.h"

sg_tsession *sg_tsess;
uint64_t sg_tsess_gen;
_Thread_local sg_ttls sg_tls;
Py_ssize_t sg_tcode_index = -1;
sg_tcode_slot sg_tcode_cache[SG_TCODE_CACHE];
sg_tcfunc_slot sg_tcfunc_cache[SG_TCFUNC_CACHE];

static uint64_t last_gen;
static double tick_rate; /* ticks per ns, measured once per process */

#if PY_VERSION_HEX >= 0x030C0000
#define SG_SAVE_EXC PyObject *saved_exc_ = PyErr_GetRaisedException()
#define SG_RESTORE_EXC PyErr_SetRaisedException(saved_exc_)
#else
#define SG_SAVE_EXC                                                                   \
    PyObject *saved_t_, *saved_v_, *saved_tb_;                                         \
    PyErr_Fetch(&saved_t_, &saved_v_, &saved_tb_)
#define SG_RESTORE_EXC PyErr_Restore(saved_t_, saved_v_, saved_tb_)
#endif

typedef struct {
    PyObject_HEAD
    /* configuration, kept between sessions */
    sg_mode mode;
    sg_clock_kind clock;
    bool exclude_syspath;
    PyObject *include, *exclude, *functions; /* tuples of str */
    PyObject *own_prefix;                    /* str or None */
    int64_t bias_py, bias_py_exit, bias_c, bias_line, bias_untimed;
    PyObject *forced;                        /* list of code objects kept alive */
    sg_tsession *s;                          /* while active */
} tracer_obj;

/* ---- small helpers ---- */

static char *dup_utf8(PyObject *str)
{
    if (!str || !PyUnicode_Check(str))
        return strdup("");
    PyObject *b = PyUnicode_AsEncodedString(str, "utf-8", "surrogateescape");
    if (!b) {
        PyErr_Clear();
        return strdup("?");
    }
    char *res = strndup(PyBytes_AS_STRING(b), (size_t)PyBytes_GET_SIZE(b));
    Py_DECREF(b);
    return res;
}

static uint32_t intern(sg_profile *p, const char *s) { return sg_profile_intern(p, s, strlen(s)); }

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int strv_from(PyObject *tuple, char ***out, size_t *n)
{
    Py_ssize_t len = tuple ? PyTuple_GET_SIZE(tuple) : 0;
    *out = calloc((size_t)len + 1, sizeof **out);
    *n = 0;
    if (!*out)
        return -1;
    for (Py_ssize_t i = 0; i < len; i++) {
        (*out)[i] = dup_utf8(PyTuple_GET_ITEM(tuple, i));
        if (!(*out)[i])
            return -1;
        *n = (size_t)i + 1;
    }
    return 0;
}

/* Ticks per nanosecond, measured once by spinning 5 ms against CLOCK_MONOTONIC. */
static double measure_tick_rate(void)
{
    if (tick_rate > 0)
        return tick_rate;
    if (!sg_tclock_tsc)
        return tick_rate = 1.0;
    uint64_t t0 = sg_tclock_now();
    int64_t n0 = sg_tclock_mono_ns();
    int64_t n1;
    do {
        n1 = sg_tclock_mono_ns();
    } while (n1 - n0 < 5000000);
    uint64_t t1 = sg_tclock_now();
    double r = sg_tclock_rate(t0, n0, t1, n1);
    return tick_rate = r > 0 ? r : 1.0;
}

/* ---- threads ---- */

static void name_thread(sg_tsession *s, sg_tthread *th)
{
    if (!s->threads_active)
        return;
    SG_SAVE_EXC;
    char *name = NULL;
    PyObject *key = PyLong_FromUnsignedLong((unsigned long)th->ident);
    PyObject *t = key ? PyDict_GetItemWithError(s->threads_active, key) : NULL; /* borrowed */
    if (!t && key && s->threads_limbo) {
        /* started, not yet registered: its _ident is set first thing */
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (!t && PyDict_Next(s->threads_limbo, &pos, &k, &v)) {
            PyObject *id = PyObject_GetAttrString(v, "_ident");
            if (id && PyLong_Check(id) && PyObject_RichCompareBool(id, key, Py_EQ) == 1)
                t = v;
            Py_XDECREF(id);
            PyErr_Clear();
        }
    }
    if (t) {
        Py_INCREF(t);
        PyObject *n = PyObject_GetAttrString(t, "_name");
        if (n && PyUnicode_Check(n))
            name = dup_utf8(n);
        Py_XDECREF(n);
        Py_DECREF(t);
    }
    Py_XDECREF(key);
    PyErr_Clear();
    SG_RESTORE_EXC;
    if (name && !th->name)
        th->name = name;
    else
        free(name);
}

sg_tthread *sg_tsess_thread_slow(void)
{
    sg_tsession *s = sg_tsess;
    if (!s || (sg_tls.paused && sg_tls.owner == s->gen))
        return NULL;
    if (sg_tls.owner != s->gen || !sg_tls.th) {
        if (!sg_grow((void **)&s->threads, &s->cap_threads, s->nthreads + 1,
                     sizeof *s->threads, 16)) {
            s->oom = true;
            return NULL;
        }
        sg_tthread *th = sg_tthread_new(&s->tcfg, sg_tclock_now());
        if (!th) {
            s->oom = true;
            return NULL;
        }
        th->tid = (uint64_t)syscall(SYS_gettid);
        th->ident = PyThread_get_thread_ident();
        th->is_main = th->ident == s->main_ident;
        s->threads[s->nthreads++] = th;
        sg_tls.owner = s->gen;
        sg_tls.th = th;
        sg_tls.tries = 0;
    }
    sg_tthread *th = sg_tls.th;
    /* A thread started by threading is registered in threading._active a few calls
     * after it starts running; until then, and a few dozen events at most, this slow
     * path is taken again to learn its name. */
    if (!th->name)
        name_thread(s, th);
    if (th->name || ++sg_tls.tries >= 64)
        sg_tls.gen = s->gen;
    return th;
}

/* ---- code objects ---- */

static void tcode_freed(void *p)
{
    sg_tcode *c = p;
    if (!c)
        return;
    if (c->code) {
        sg_tcode_slot *slot = &sg_tcode_cache[sg_tcode_slot_of(c->code)];
        if (slot->code == c->code)
            slot->code = NULL;
    }
    c->code = NULL;
}

static bool glob_any(char *const *globs, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (sg_path_match(globs[i], path))
            return true;
    return false;
}

#if PY_VERSION_HEX < 0x030B0000
/* Before 3.11 a code object has no qualified name: follow "Class.method" through the
 * module's globals and the classes' own dictionaries (no user code runs) and compare
 * code objects. */
static bool qualname_is_code(PyObject *globals, const char *qualname, PyObject *code)
{
    char buf[512];
    if (!globals || strlen(qualname) >= sizeof buf)
        return false;
    strcpy(buf, qualname);
    char *save = NULL, *part = strtok_r(buf, ".", &save);
    PyObject *obj = part ? PyDict_GetItemString(globals, part) : NULL;
    while (obj && (part = strtok_r(NULL, ".", &save))) {
        if (!PyType_Check(obj))
            return false;
        PyObject *k = PyUnicode_FromString(part);
        obj = k ? _PyType_Lookup((PyTypeObject *)obj, k) : NULL;
        Py_XDECREF(k);
    }
    if (!obj)
        return false;
    if (PyFunction_Check(obj))
        return PyFunction_GET_CODE(obj) == code;
    PyObject *f = PyObject_GetAttrString(obj, "__func__"); /* staticmethod, classmethod */
    bool same = f && PyFunction_Check(f) && PyFunction_GET_CODE(f) == code;
    Py_XDECREF(f);
    PyErr_Clear();
    return same;
}
#endif

static bool spec_matches(const sg_tfnspec *sp, PyObject *globals, const char *file,
                         const char *qualname, PyObject *code)
{
    if (sp->module) {
        PyObject *n = globals ? PyDict_GetItemString(globals, "__name__") : NULL;
        const char *modname = n && PyUnicode_Check(n) ? PyUnicode_AsUTF8(n) : NULL;
        bool ok = modname && strcmp(modname, sp->module) == 0;
        if (!ok && modname && strcmp(modname, "__main__") == 0) {
            /* the script may also be named by its file's stem */
            const char *base = strrchr(file, '/');
            base = base ? base + 1 : file;
            size_t len = strlen(sp->module);
            ok = strncmp(base, sp->module, len) == 0 && strcmp(base + len, ".py") == 0;
        }
        if (!ok) {
            PyErr_Clear();
            return false;
        }
    }
#if PY_VERSION_HEX >= 0x030B0000
    (void)code;
    return strcmp(qualname, sp->qualname) == 0;
#else
    if (qualname_is_code(globals, sp->qualname, code))
        return true;
    PyErr_Clear();
    const char *last = strrchr(sp->qualname, '.');
    return strcmp(qualname, last ? last + 1 : sp->qualname) == 0 && !strstr(sp->qualname, "<");
#endif
}

/* May call into Python (module names, class dictionaries). */
static bool decide_scope(sg_tsession *s, PyObject *code, const char *file, const char *qualname)
{
    if (sg_map_get(&s->forced, (uint64_t)(uintptr_t)code))
        return true;
    if (s->own_prefix && strncmp(file, s->own_prefix, strlen(s->own_prefix)) == 0)
        return false;
    if (s->mode == SG_MODE_LINES && s->limited) {
        PyObject *globals = PyEval_GetGlobals(); /* the frame of code is the current one */
        for (size_t i = 0; i < s->nspecs; i++)
            if (spec_matches(&s->specs[i], globals, file, qualname, code))
                return true;
        return false;
    }
    if (s->exclude_syspath && sg_path_is_syspath(file))
        return false;
    if (s->ninclude && !glob_any(s->include, s->ninclude, file))
        return false;
    return !glob_any(s->exclude, s->nexclude, file);
}

sg_tcode *sg_tsess_code_slow(PyObject *code)
{
    sg_tsession *s = sg_tsess;
    if (!s || !PyCode_Check(code))
        return NULL;
    PyCodeObject *co = (PyCodeObject *)code;
    SG_SAVE_EXC;
#if PY_VERSION_HEX >= 0x030B0000
    char *name = dup_utf8(co->co_qualname);
#else
    char *name = dup_utf8(co->co_name);
#endif
    char *file = dup_utf8(co->co_filename);
    bool in = name && file && decide_scope(s, code, file, name);
    PyErr_Clear();
    SG_RESTORE_EXC;
    /* no Python calls from here on: the session's tables change */
    sg_tcode *c = calloc(1, sizeof *c);
    if (!c || !name || !file ||
        !sg_grow((void **)&s->codes, &s->cap_codes, s->ncodes + 1, sizeof *s->codes, 256))
        goto oom;
    c->gen = s->gen;
    c->code = code;
    c->in = in;
    c->first_line = co->co_firstlineno;
    c->line_base = c->first_line;
    c->fn = sg_profile_function(s->profile, intern(s->profile, name),
                                intern(s->profile, file), c->first_line);
    c->loc = c->fn == SG_NONE ? SG_NONE : sg_profile_location(s->profile, c->fn, c->first_line);
    if (c->loc == SG_NONE)
        goto oom;
    if (PyUnstable_Code_SetExtra(code, sg_tcode_index, c) != 0) {
        PyErr_Clear();
        goto oom;
    }
    s->codes[s->ncodes++] = c;
    free(name);
    free(file);
    return c;
oom:
    s->oom = true;
    free(c);
    free(name);
    free(file);
    return NULL;
}

uint32_t sg_tcode_line_slow(sg_tcode *c, int line)
{
    sg_tsession *s = sg_tsess;
    if (!s || line < 0)
        return SG_NONE;
    if (!c->nline)
        c->line_base = line < c->first_line ? line : c->first_line;
    int32_t lo = c->line_base, hi = c->line_base + (int32_t)c->nline;
    if (line < lo || line >= hi) {
        int32_t nlo = line < lo ? line : lo, nhi = line >= hi ? line + 1 : hi;
        if (nhi - nlo > 1000000)
            return SG_NONE; /* absurd line numbers are not worth the memory */
        size_t n = (size_t)(nhi - nlo);
        uint32_t *a = malloc(n * sizeof *a);
        if (!a) {
            s->oom = true;
            return SG_NONE;
        }
        memset(a, 0xff, n * sizeof *a);
        if (c->nline)
            memcpy(a + (lo - nlo), c->line_loc, c->nline * sizeof *a);
        free(c->line_loc);
        c->line_loc = a;
        c->line_base = nlo;
        c->nline = (uint32_t)n;
    }
    uint32_t l = sg_profile_location(s->profile, c->fn, line);
    if (l == SG_NONE)
        s->oom = true;
    c->line_loc[line - c->line_base] = l;
    return l;
}

uint32_t sg_tsess_cfunc_slow(const void *key, PyObject *callable, PyObject *self_arg)
{
    sg_tsession *s = sg_tsess;
    if (!s)
        return SG_NONE;
    SG_SAVE_EXC;
    PyObject *label = sg_tname_cfunc(callable, self_arg);
    char *name = label ? dup_utf8(label) : strdup("<built-in>");
    Py_XDECREF(label);
    PyErr_Clear();
    SG_RESTORE_EXC;
    if (!name) {
        s->oom = true;
        return SG_NONE;
    }
    uint32_t fn = sg_profile_function(s->profile, intern(s->profile, name),
                                      intern(s->profile, "~"), 0);
    free(name);
    uint32_t loc = fn == SG_NONE ? SG_NONE : sg_profile_location(s->profile, fn, 0);
    if (loc == SG_NONE || !sg_map_put(&s->cfuncs, (uint64_t)(uintptr_t)key, loc)) {
        s->oom = true;
        return SG_NONE;
    }
    return loc;
}

/* ---- session lifetime ---- */

/* Keeps any pending exception (a failed start reports why). */
static void session_free(sg_tsession *s)
{
    if (!s)
        return;
    SG_SAVE_EXC;
    for (size_t i = 0; i < s->nthreads; i++)
        sg_tthread_free(s->threads[i]);
    free(s->threads);
    for (size_t i = 0; i < s->ncodes; i++) {
        sg_tcode *c = s->codes[i];
        if (c->code)
            PyUnstable_Code_SetExtra(c->code, sg_tcode_index, NULL); /* calls tcode_freed */
        free(c->line_loc);
        free(c);
    }
    free(s->codes);
    memset(sg_tcode_cache, 0, sizeof sg_tcode_cache);
    PyErr_Clear();
    sg_map_free(&s->cfuncs);
    sg_map_free(&s->forced);
    free_strv(s->include, s->ninclude);
    free_strv(s->exclude, s->nexclude);
    for (size_t i = 0; i < s->nspecs; i++) {
        free(s->specs[i].module);
        free(s->specs[i].qualname);
    }
    free(s->specs);
    free(s->own_prefix);
    Py_XDECREF(s->threads_active);
    Py_XDECREF(s->threads_limbo);
    sg_profile_free(s->profile);
    free(s);
    SG_RESTORE_EXC;
}

static int parse_specs(sg_tsession *s, PyObject *functions)
{
    Py_ssize_t n = functions ? PyTuple_GET_SIZE(functions) : 0;
    s->specs = calloc((size_t)n + 1, sizeof *s->specs);
    if (!s->specs)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        char *spec = dup_utf8(PyTuple_GET_ITEM(functions, i));
        if (!spec)
            return -1;
        char *colon = strchr(spec, ':');
        sg_tfnspec *sp = &s->specs[s->nspecs++];
        if (colon) {
            *colon = '\0';
            sp->module = spec;
            sp->qualname = strdup(colon + 1);
        } else {
            sp->qualname = spec;
        }
        if (!sp->qualname)
            return -1;
    }
    return 0;
}

static sg_tsession *session_new(tracer_obj *t)
{
    sg_tsession *s = calloc(1, sizeof *s);
    if (!s)
        return (sg_tsession *)PyErr_NoMemory();
    s->mode = t->mode;
    s->clock = t->clock;
    s->profile = sg_profile_new();
    sg_map_init(&s->cfuncs);
    sg_map_init(&s->forced);
    if (!s->profile || sg_trace_profile_init(s->profile, t->mode, t->clock) ||
        strv_from(t->include, &s->include, &s->ninclude) ||
        strv_from(t->exclude, &s->exclude, &s->nexclude) || parse_specs(s, t->functions))
        goto oom;
    s->exclude_syspath = t->exclude_syspath;
    if (t->own_prefix != Py_None && !(s->own_prefix = dup_utf8(t->own_prefix)))
        goto oom;
    Py_ssize_t nforced = PyList_GET_SIZE(t->forced);
    for (Py_ssize_t i = 0; i < nforced; i++)
        if (!sg_map_put(&s->forced, (uint64_t)(uintptr_t)PyList_GET_ITEM(t->forced, i), 1))
            goto oom;
    s->limited = t->mode == SG_MODE_LINES && (s->nspecs > 0 || nforced > 0);
    s->scope_all = t->mode == SG_MODE_TRACE && !s->exclude_syspath && !s->ninclude &&
                   !s->nexclude;
    s->process = sg_profile_process(s->profile, (uint32_t)getpid());
    if (s->process == SG_NONE)
        goto oom;
    s->bias_py = t->bias_py;
    s->bias_py_exit = t->bias_py_exit;
    s->bias_c = t->bias_c;
    s->bias_line = t->bias_line;
    s->tcfg.cpu = t->clock == SG_CLOCK_CPU;
    s->tcfg.ticks_per_ns = measure_tick_rate();
    s->tcfg.bias_untimed = t->bias_untimed;
    return s;
oom:
    session_free(s);
    return (sg_tsession *)PyErr_NoMemory();
}

static int lookup_threading(sg_tsession *s)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading)
        return -1;
    PyObject *main = PyObject_CallMethod(threading, "main_thread", NULL);
    PyObject *ident = main ? PyObject_GetAttrString(main, "ident") : NULL;
    s->threads_active = PyObject_GetAttrString(threading, "_active");
    s->threads_limbo = PyObject_GetAttrString(threading, "_limbo");
    if (s->threads_limbo && !PyDict_Check(s->threads_limbo))
        Py_CLEAR(s->threads_limbo);
    PyErr_Clear();
    Py_DECREF(threading);
    Py_XDECREF(main);
    if (!ident || !s->threads_active || !PyDict_Check(s->threads_active)) {
        Py_XDECREF(ident);
        Py_CLEAR(s->threads_active);
        PyErr_Clear(); /* names are a nicety */
        return 0;
    }
    s->main_ident = PyLong_AsUnsignedLong(ident);
    Py_DECREF(ident);
    PyErr_Clear();
    return 0;
}

static PyObject *tracer_start(PyObject *o, PyObject *unused)
{
    tracer_obj *t = (tracer_obj *)o;
    if (sg_tsess) {
        PyErr_SetString(PyExc_RuntimeError,
                        "a spyglass tracing session is already active in this process");
        return NULL;
    }
    if (sg_tcode_index < 0) {
        sg_tcode_index = PyUnstable_Eval_RequestCodeExtraIndex(tcode_freed);
        if (sg_tcode_index < 0) {
            PyErr_SetString(PyExc_RuntimeError, "no room for the tracer's per-code data");
            return NULL;
        }
    }
    sg_tclock_init(false);
    sg_tsession *s = session_new(t);
    if (!s || lookup_threading(s) != 0) {
        session_free(s);
        return NULL;
    }
    s->gen = ++last_gen;
    s->t0_wall = sg_wall_ns();
    s->t0_ns = sg_tclock_mono_ns();
    s->t0 = sg_tclock_now();
    sg_tsess = s;
    sg_tsess_gen = s->gen;
    if (sg_tengine_start(s) != 0) {
        sg_tsess = NULL;
        sg_tsess_gen = 0;
        session_free(s);
        return NULL;
    }
    t->s = s;
    sg_tsess_thread(); /* the starting thread's clock starts now */
    Py_RETURN_NONE;
}

/* Ends the active session: hooks off, open intervals closed. */
static void session_end(sg_tsession *s, uint64_t now)
{
    sg_tengine_stop(s);
    sg_tthread *me = sg_tls.owner == s->gen ? sg_tls.th : NULL;
    if (me && sg_tls.paused)
        me->t_last = now; /* the pause is nobody's time */
    sg_tls.paused = false;
    for (size_t i = 0; i < s->nthreads; i++) {
        sg_tthread *th = s->threads[i];
        /* Another thread is blocked somewhere (it does not hold the GIL): its wall time
         * goes on, its CPU time is not known without its clock, so it gets none. */
        if (th == me || !th->cpu)
            sg_tthread_charge(th, now, 0);
    }
    sg_tsess = NULL;
    sg_tsess_gen = 0;
}

static int export_all(sg_tsession *s, double ns_per_tick, sg_error *err)
{
    sg_profile *p = s->profile;
    uint8_t *drop = NULL;
    size_t ndrop = sg_profile_nfunctions(p);
    if (s->mode == SG_MODE_LINES) {
        /* a function is kept when any of its code objects ended in scope */
        drop = malloc(ndrop ? ndrop : 1);
        if (!drop)
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory");
        memset(drop, 1, ndrop);
        for (size_t i = 0; i < s->ncodes; i++)
            if (s->codes[i]->in && s->codes[i]->fn < ndrop)
                drop[s->codes[i]->fn] = 0;
    }
    int rc = 0;
    for (size_t i = 0; i < s->nthreads && !rc; i++) {
        sg_tthread *th = s->threads[i];
        uint32_t track = sg_profile_track(p, s->process, th->tid);
        if (track == SG_NONE) {
            rc = sg_fail(err, SG_E_NOMEM, 0, "out of memory");
            break;
        }
        sg_track *tr = &sg_profile_tracks(p)[track];
        tr->is_main = tr->is_main || th->is_main;
        if (!tr->name || th->name)
            tr->name = intern(p, th->name ? th->name : th->is_main ? "MainThread" : "Thread");
        s->lost_frames += th->lost;
        rc = sg_tthread_export(th, p, track, ns_per_tick, drop, ndrop, err);
    }
    free(drop);
    return rc;
}

/* This process's command line (NULs become spaces), interned; 0 when unreadable. */
static uint32_t own_cmdline(sg_profile *p)
{
    char buf[4096];
    FILE *f = fopen("/proc/self/cmdline", "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (n && buf[n - 1] == '\0')
        n--;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    uint32_t id = sg_profile_intern(p, buf, n);
    return id == SG_NONE ? 0 : id;
}

static PyObject *tracer_stop(PyObject *o, PyObject *unused)
{
    tracer_obj *t = (tracer_obj *)o;
    sg_tsession *s = t->s;
    if (!s) {
        PyErr_SetString(PyExc_RuntimeError, "the tracer is not running");
        return NULL;
    }
    uint64_t now = sg_tclock_now();
    int64_t now_ns = sg_tclock_mono_ns();
    session_end(s, now);
    t->s = NULL;
    double rate = sg_tclock_rate(s->t0, s->t0_ns, now, now_ns);
    if (rate <= 0)
        rate = s->tcfg.ticks_per_ns;
    sg_profile_meta *m = sg_profile_meta_of(s->profile);
    m->start_wall_ns = s->t0_wall;
    m->duration_ns = now_ns - s->t0_ns;
    uint64_t events = 0;
    for (size_t i = 0; i < s->nthreads; i++)
        events += s->threads[i]->events;
    sg_error err;
    sg_error_clear(&err);
    char buf[64];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)events);
    const char *version = Py_GetVersion();
    size_t vlen = strcspn(version, " ");
    sg_process *pr = &sg_profile_processes(s->profile)[s->process];
    pr->python_version = sg_profile_intern(s->profile, version, vlen);
    pr->cmdline = own_cmdline(s->profile);
    int rc = export_all(s, 1.0 / rate, &err);
    if (!rc && (sg_profile_set_attr(s->profile, "trace_events", buf) ||
                (s->oom && sg_profile_set_attr(s->profile, "trace_incomplete",
                                               "the tracer ran out of memory"))))
        rc = sg_fail(&err, SG_E_NOMEM, 0, "out of memory");
    if (!rc && s->lost_frames) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)s->lost_frames);
        rc = sg_profile_set_attr(s->profile, "trace_lost_frames", buf);
    }
    sg_profile *p = s->profile;
    s->profile = NULL;
    session_free(s);
    sg_ext_state *st = sg_ext_state_of_type(Py_TYPE(o));
    if (rc) {
        sg_profile_free(p);
        return sg_ext_raise(st, &err);
    }
    return sg_ext_profile_wrap(st, p);
}

/* Marks code as always in scope (decorated, calibration). In an active line-level
 * session the first such function limits the scope to the marked ones from then on. */
static PyObject *tracer_add_code(PyObject *o, PyObject *code)
{
    tracer_obj *t = (tracer_obj *)o;
    if (!PyCode_Check(code)) {
        PyErr_SetString(PyExc_TypeError, "add_code() takes a code object");
        return NULL;
    }
    if (PyList_Append(t->forced, code) != 0)
        return NULL;
    sg_tsession *s = t->s;
    if (!s)
        Py_RETURN_NONE;
    if (!sg_map_put(&s->forced, (uint64_t)(uintptr_t)code, 1))
        return PyErr_NoMemory();
    bool newly_in = false, limit = s->mode == SG_MODE_LINES && !s->limited;
    s->limited = s->limited || limit;
    for (size_t i = 0; i < s->ncodes; i++) {
        sg_tcode *c = s->codes[i];
        bool marked = c->code && sg_map_get(&s->forced, (uint64_t)(uintptr_t)c->code);
        if (marked && !c->in)
            newly_in = true;
        /* limiting turns every other function off: its events get disabled */
        c->in = marked || (c->in && !limit);
    }
#ifdef SG_TRACE_MONITORING
    if (newly_in) {
        /* its events may have been disabled while it was out of scope */
        PyObject *r = PyObject_CallMethod(PySys_GetObject("monitoring"), "restart_events", NULL);
        Py_XDECREF(r);
        PyErr_Clear();
    }
#else
    (void)newly_in;
#endif
    Py_RETURN_NONE;
}

/* py: a Python function's entry (charged to the caller's interval), py_exit: its exit
 * (to its own), the entry's when not given; c: a builtin's entry and exit alike. */
static PyObject *tracer_set_bias(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"py", "c", "line", "untimed", "py_exit", NULL};
    tracer_obj *t = (tracer_obj *)o;
    long long py = 0, c = 0, line = 0, untimed = 0, py_exit = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|LLLLL", kwlist, &py, &c, &line, &untimed,
                                     &py_exit))
        return NULL;
    t->bias_py = py;
    t->bias_py_exit = py_exit < 0 ? py : py_exit;
    t->bias_c = c;
    t->bias_line = line;
    t->bias_untimed = untimed;
    Py_RETURN_NONE;
}

/* In a forked child: only the forking thread survived; its record starts afresh from
 * its current stack, the other threads' records are dropped. */
static PyObject *tracer_after_fork(PyObject *o, PyObject *unused)
{
    tracer_obj *t = (tracer_obj *)o;
    sg_tsession *s = t->s;
    if (!s)
        Py_RETURN_NONE;
    uint64_t now = sg_tclock_now();
    sg_tthread *me = sg_tls.owner == s->gen ? sg_tls.th : NULL;
    size_t k = 0;
    for (size_t i = 0; i < s->nthreads; i++) {
        if (s->threads[i] == me)
            s->threads[k++] = me;
        else
            sg_tthread_free(s->threads[i]);
    }
    s->nthreads = k;
    if (me) {
        me->tid = (uint64_t)syscall(SYS_gettid);
        me->is_main = true;
        if (sg_tthread_restart(me, now) != 0)
            s->oom = true;
    }
    s->main_ident = PyThread_get_thread_ident();
    s->process = sg_profile_process(s->profile, (uint32_t)getpid());
    if (s->process == SG_NONE)
        s->oom = true;
    s->t0 = now;
    s->t0_ns = sg_tclock_mono_ns();
    s->t0_wall = sg_wall_ns();
    sg_tengine_after_fork(s);
    Py_RETURN_NONE;
}

/* pause()/resume(): the calling thread's events are ignored in between (spyglass's
 * own Python code, e.g. waiting for the program's threads), and the time in between is
 * nobody's. */
static PyObject *tracer_pause(PyObject *o, PyObject *unused)
{
    tracer_obj *t = (tracer_obj *)o;
    if (t->s && sg_tsess_thread()) {
        sg_tls.paused = true;
        sg_tls.gen = 0;
    }
    Py_RETURN_NONE;
}

static PyObject *tracer_resume(PyObject *o, PyObject *unused)
{
    tracer_obj *t = (tracer_obj *)o;
    if (t->s && sg_tls.paused && sg_tls.owner == t->s->gen) {
        sg_tls.paused = false;
        sg_tthread *th = sg_tsess_thread();
        if (th) {
            th->t_last = sg_tclock_now();
            th->untimed = 0;
            if (th->cpu) {
                th->cpu_last_ns = th->cpu_now();
                th->cpu_acc = 0;
            }
        }
    }
    Py_RETURN_NONE;
}

static PyObject *tracer_active(PyObject *o, void *unused)
{
    return PyBool_FromLong(((tracer_obj *)o)->s != NULL);
}

/* ---- the type ---- */

static int tuple_of_str(PyObject *in, PyObject **out, const char *what)
{
    if (!in || in == Py_None) {
        *out = PyTuple_New(0);
        return *out ? 0 : -1;
    }
    *out = PySequence_Tuple(in);
    if (!*out)
        return -1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(*out); i++) {
        if (!PyUnicode_Check(PyTuple_GET_ITEM(*out, i))) {
            PyErr_Format(PyExc_TypeError, "%s must be strings", what);
            Py_CLEAR(*out);
            return -1;
        }
    }
    return 0;
}

static int tracer_init(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"mode", "clock", "include", "exclude", "exclude_syspath",
                             "functions", "own_prefix", NULL};
    tracer_obj *t = (tracer_obj *)o;
    const char *mode = "trace", *clock = "wall";
    PyObject *inc = NULL, *exc = NULL, *fns = NULL, *own = Py_None;
    int syspath = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|ssOOpOO", kwlist, &mode, &clock, &inc, &exc,
                                     &syspath, &fns, &own))
        return -1;
    if (t->s) {
        PyErr_SetString(PyExc_RuntimeError, "the tracer is running");
        return -1;
    }
    if (!strcmp(mode, "trace"))
        t->mode = SG_MODE_TRACE;
    else if (!strcmp(mode, "lines"))
        t->mode = SG_MODE_LINES;
    else {
        PyErr_Format(PyExc_ValueError, "unknown tracing mode %s (trace or lines)", mode);
        return -1;
    }
    if (!strcmp(clock, "wall"))
        t->clock = SG_CLOCK_WALL;
    else if (!strcmp(clock, "cpu"))
        t->clock = SG_CLOCK_CPU;
    else {
        PyErr_Format(PyExc_ValueError, "unknown clock %s (wall or cpu)", clock);
        return -1;
    }
    if (own != Py_None && !PyUnicode_Check(own)) {
        PyErr_SetString(PyExc_TypeError, "own_prefix must be a string or None");
        return -1;
    }
    t->exclude_syspath = syspath;
    Py_CLEAR(t->include);
    Py_CLEAR(t->exclude);
    Py_CLEAR(t->functions);
    if (tuple_of_str(inc, &t->include, "include") || tuple_of_str(exc, &t->exclude, "exclude") ||
        tuple_of_str(fns, &t->functions, "functions"))
        return -1;
    Py_INCREF(own);
    Py_XSETREF(t->own_prefix, own);
    if (!t->forced && !(t->forced = PyList_New(0)))
        return -1;
    return 0;
}

static void tracer_discard(tracer_obj *t)
{
    if (t->s) {
        session_end(t->s, sg_tclock_now());
        session_free(t->s);
        t->s = NULL;
    }
}

static int tracer_traverse(PyObject *o, visitproc visit, void *arg)
{
    tracer_obj *t = (tracer_obj *)o;
    Py_VISIT(Py_TYPE(o));
    Py_VISIT(t->forced);
    return 0;
}

static int tracer_clear(PyObject *o)
{
    tracer_obj *t = (tracer_obj *)o;
    Py_CLEAR(t->forced);
    return 0;
}

static void tracer_dealloc(PyObject *o)
{
    tracer_obj *t = (tracer_obj *)o;
    PyTypeObject *tp = Py_TYPE(o);
    PyObject_GC_UnTrack(o);
    tracer_discard(t);
    Py_CLEAR(t->include);
    Py_CLEAR(t->exclude);
    Py_CLEAR(t->functions);
    Py_CLEAR(t->own_prefix);
    Py_CLEAR(t->forced);
    tp->tp_free(o);
    Py_DECREF(tp);
}

static PyObject *tracer_discard_m(PyObject *o, PyObject *unused)
{
    tracer_discard((tracer_obj *)o);
    Py_RETURN_NONE;
}

static PyMethodDef tracer_methods[] = {
    {"start", tracer_start, METH_NOARGS,
     "start(): trace every thread of this interpreter from now on."},
    {"stop", tracer_stop, METH_NOARGS, "stop() -> Profile: stop tracing and return the profile."},
    {"discard", tracer_discard_m, METH_NOARGS, "discard(): stop tracing, keep nothing."},
    {"add_code", tracer_add_code, METH_O,
     "add_code(code): always trace this code object (line level: only marked code)."},
    {"set_bias", (PyCFunction)(void (*)(void))tracer_set_bias, METH_VARARGS | METH_KEYWORDS,
     "set_bias(py=0, c=0, line=0, untimed=0, py_exit=py): the measured cost of one event, "
     "in ticks (py: a Python function's entry, py_exit: its exit)."},
    {"_after_fork", tracer_after_fork, METH_NOARGS, "in a forked child: start afresh."},
    {"pause", tracer_pause, METH_NOARGS, "pause(): ignore this thread's events until resume()."},
    {"resume", tracer_resume, METH_NOARGS, "resume(): trace this thread again."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef tracer_getset[] = {
    {"active", tracer_active, NULL, "True while tracing", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot tracer_slots[] = {
    {Py_tp_init, tracer_init},
    {Py_tp_dealloc, tracer_dealloc},
    {Py_tp_traverse, tracer_traverse},
    {Py_tp_clear, tracer_clear},
    {Py_tp_methods, tracer_methods},
    {Py_tp_getset, tracer_getset},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_doc, "Tracer(mode='trace'|'lines', clock='wall'|'cpu', include=(), exclude=(), "
                "exclude_syspath=False, functions=(), own_prefix=None): deterministic "
                "tracing of every thread, function or line level."},
    {0, NULL},
};

PyType_Spec sg_ext_tracer_spec = {
    .name = "spyglass._core.Tracer",
    .basicsize = sizeof(tracer_obj),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = tracer_slots,
};

/* Module functions: the tick clock, for calibration in Python. */
PyObject *sg_ext_trace_ticks(PyObject *m, PyObject *unused)
{
    sg_tclock_init(false);
    return PyLong_FromUnsignedLongLong(sg_tclock_now());
}

/* trace_die(signum): ends the process by signum with its default action, from any
 * thread (Python's signal.signal only works in the main thread). */
PyObject *sg_ext_trace_die(PyObject *m, PyObject *arg)
{
    int sig = (int)PyLong_AsLong(arg);
    if (sig <= 0 || sig >= NSIG) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "not a signal number");
        return NULL;
    }
    fflush(NULL);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    kill(getpid(), sig);
    Py_RETURN_NONE;
}

PyObject *sg_ext_trace_tick_rate(PyObject *m, PyObject *unused)
{
    sg_tclock_init(false);
    return PyFloat_FromDouble(measure_tick_rate());
}
