/* spyglass._core.Sampler: the C sampling loop, driven two ways.
 *
 * run() samples on the calling thread with the GIL released (`spyglass run` samples its
 * child that way). start() samples on a native pthread of its own, which is how the
 * in-process API samples its own process: the thread has no Python thread state, so it
 * never takes the GIL, never appears in a profile and keeps its fixed rate while Python
 * code runs.
 *
 * The native thread's state lives in a context apart from the Python object and is
 * reference-counted (object + thread), so the object may be deallocated while the
 * thread runs: it is told to stop and frees the context when it ends. After fork() the
 * child has a copy of the context but no thread; the context records its owner's PID,
 * and a process that is not the owner never waits for, locks or frees it (the thread
 * may have held the lock or been half-way through the profile at the fork). */
#include "sg_ext.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../core/sample/sg_sampler.h"

enum { ST_IDLE, ST_RUNNING, ST_DONE };

typedef struct sampler_ctx {
    sg_sampler *s;
    atomic_int stop;
    atomic_int refs; /* the Python object, and the native thread while it runs */
    pid_t owner;     /* the process that made it */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled when state becomes ST_DONE */
    int state;         /* guarded by mu */
    int rc;            /* the run's result, valid in ST_DONE */
    sg_error err;
    int reported;      /* the run's error was raised once already (GIL-protected) */
} sampler_ctx;

typedef struct {
    PyObject_HEAD
    sampler_ctx *ctx;
} sampler_obj;

static bool forked_copy(const sampler_ctx *c) { return c->owner != getpid(); }

static sampler_ctx *ctx_new(sg_sampler *s)
{
    sampler_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(c);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        pthread_condattr_destroy(&ca);
        free(c);
        return NULL;
    }
    if (pthread_cond_init(&c->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&c->mu);
        free(c);
        return NULL;
    }
    pthread_condattr_destroy(&ca);
    c->s = s;
    c->owner = getpid();
    atomic_init(&c->stop, 0);
    atomic_init(&c->refs, 1);
    c->state = ST_IDLE;
    sg_error_clear(&c->err);
    return c;
}

/* Drops one reference; the last one frees. A forked copy is left alone (leaked): its
 * mutex and profile may be in any state. */
static void ctx_release(sampler_ctx *c)
{
    if (!c || forked_copy(c))
        return;
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    sg_sampler_free(c->s);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int ctx_state(sampler_ctx *c)
{
    pthread_mutex_lock(&c->mu);
    int st = c->state;
    pthread_mutex_unlock(&c->mu);
    return st;
}

static void ctx_finish(sampler_ctx *c, int rc, const sg_error *err)
{
    pthread_mutex_lock(&c->mu);
    c->rc = rc;
    c->err = *err;
    c->state = ST_DONE;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void *thread_main(void *arg)
{
    sampler_ctx *c = arg;
    sg_error err;
    sg_error_clear(&err);
    int rc = sg_sampler_run(c->s, &c->stop, &err);
    ctx_finish(c, rc, &err);
    ctx_release(c);
    return NULL;
}

static int parse_clock(const char *c, sg_clock_kind *out)
{
    if (!strcmp(c, "wall"))
        *out = SG_CLOCK_WALL;
    else if (!strcmp(c, "cpu"))
        *out = SG_CLOCK_CPU;
    else {
        PyErr_Format(PyExc_ValueError, "unknown clock %s (wall or cpu)", c);
        return -1;
    }
    return 0;
}

/* None: $SPYGLASS_READER, else auto. */
static int parse_reader(const char *r, sg_reader_kind *out)
{
    if (!r) {
        r = getenv("SPYGLASS_READER");
        if (!r || !*r)
            r = "auto";
    }
    if (!strcmp(r, "auto"))
        *out = SG_READER_AUTO;
    else if (!strcmp(r, "vm") || !strcmp(r, "process_vm_readv"))
        *out = SG_READER_VM;
    else if (!strcmp(r, "procmem"))
        *out = SG_READER_PROCMEM;
    else {
        PyErr_Format(PyExc_ValueError, "unknown reader %s (auto, vm or procmem)", r);
        return -1;
    }
    return 0;
}

/* A sequence of thread ids into a PyMem array (NULL with *n 0 for None/empty). */
static int parse_tids(PyObject *seq, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!seq || seq == Py_None)
        return 0;
    PyObject *fast = PySequence_Fast(seq, "ignore_tids must be a sequence of thread ids");
    if (!fast)
        return -1;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    if (len > 0 && !(*out = PyMem_Calloc((size_t)len, sizeof **out))) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(fast, i));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(fast);
            PyMem_Free(*out);
            *out = NULL;
            return -1;
        }
        (*out)[i] = v;
    }
    *n = (size_t)len;
    Py_DECREF(fast);
    return 0;
}

static int sampler_init(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"pid", "rate", "clock", "duration", "wait_for_python",
                             "root_skip_file", "subprocesses", "timeline", "reader",
                             "ignore_tids", "max_threads", "blocking", NULL};
    sampler_obj *self = (sampler_obj *)o;
    int pid, wait = 0, children = 0, timeline = 0, blocking = 0;
    double rate = 1000, duration = 0;
    const char *clock = "wall", *skip = NULL, *reader = NULL;
    PyObject *ignore = NULL;
    Py_ssize_t max_threads = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "i|dsdpzppzOnp", kwlist, &pid, &rate, &clock,
                                     &duration, &wait, &skip, &children, &timeline, &reader,
                                     &ignore, &max_threads, &blocking))
        return -1;
    if (max_threads < 0) {
        PyErr_SetString(PyExc_ValueError, "max_threads must be >= 0 (0: the default)");
        return -1;
    }
    if (self->ctx) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler already initialised");
        return -1;
    }
    sg_sampler_config cfg = {0};
    cfg.pid = pid;
    cfg.rate_hz = rate;
    cfg.duration_s = duration;
    cfg.wait_for_python = wait;
    cfg.root_skip_file = skip;
    cfg.follow_children = children;
    cfg.timeline = timeline;
    cfg.max_threads = (size_t)max_threads;
    cfg.blocking = blocking;
    if (parse_clock(clock, &cfg.clock) != 0 || parse_reader(reader, &cfg.reader) != 0)
        return -1;
    int64_t *tids;
    if (parse_tids(ignore, &tids, &cfg.n_ignore_tids) != 0)
        return -1;
    cfg.ignore_tids = tids;
    sg_error err;
    sg_error_clear(&err);
    sg_sampler *s;
    Py_BEGIN_ALLOW_THREADS
    s = sg_sampler_new(&cfg, &err);
    Py_END_ALLOW_THREADS
    PyMem_Free(tids);
    if (!s) {
        sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
        return -1;
    }
    self->ctx = ctx_new(s);
    if (!self->ctx) {
        sg_sampler_free(s);
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void sampler_dealloc(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    sampler_ctx *c = ((sampler_obj *)o)->ctx;
    if (c) {
        atomic_store(&c->stop, 1); /* a running thread ends at its next tick and frees */
        ctx_release(c);
    }
    tp->tp_free(o);
    Py_DECREF(tp);
}

static sampler_ctx *get(sampler_obj *self)
{
    if (!self->ctx)
        PyErr_SetString(PyExc_RuntimeError, "Sampler not initialised");
    return self->ctx;
}

static PyObject *forked_error(PyObject *o, sampler_ctx *c)
{
    sg_error err;
    sg_fail(&err, SG_E_ARG, 0,
            "profiling does not follow fork(): this process (PID %d) is a child of the "
            "profiled process (PID %d) and has no samples of its own",
            (int)getpid(), (int)c->owner);
    return sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
}

/* Claims the sampler for one run (IDLE -> RUNNING); raises if it cannot. */
static int claim(PyObject *o, sampler_ctx *c)
{
    if (forked_copy(c)) {
        forked_error(o, c);
        return -1;
    }
    pthread_mutex_lock(&c->mu);
    int st = c->state;
    if (st == ST_IDLE)
        c->state = ST_RUNNING;
    pthread_mutex_unlock(&c->mu);
    if (st != ST_IDLE) {
        PyErr_SetString(PyExc_RuntimeError, st == ST_RUNNING
                                                ? "the Sampler is already running"
                                                : "the Sampler has already sampled once");
        return -1;
    }
    return 0;
}

static PyObject *raise_run_error(PyObject *o, sampler_ctx *c)
{
    if (c->rc == 0 || c->reported)
        Py_RETURN_NONE;
    c->reported = 1;
    return sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &c->err);
}

static PyObject *sampler_run(PyObject *o, PyObject *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c || claim(o, c) != 0)
        return NULL;
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_sampler_run(c->s, &c->stop, &err);
    Py_END_ALLOW_THREADS
    ctx_finish(c, rc, &err);
    return raise_run_error(o, c);
}

static PyObject *sampler_start(PyObject *o, PyObject *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c || claim(o, c) != 0)
        return NULL;
    /* The thread starts with every signal blocked, so process-directed signals (Ctrl-C,
     * SIGUSR2 for toggle_on_signal, SIGCHLD...) go to the program's threads and never
     * interrupt a read or a sleep of the sampler. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_t attr;
    int e = pthread_attr_init(&attr);
    if (e == 0)
        e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (e == 0) {
        atomic_fetch_add(&c->refs, 1);
        pthread_t t;
        pthread_sigmask(SIG_BLOCK, &all, &old);
        e = pthread_create(&t, &attr, thread_main, c);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (e != 0)
            atomic_fetch_sub(&c->refs, 1);
        pthread_attr_destroy(&attr);
    }
    if (e != 0) {
        pthread_mutex_lock(&c->mu);
        c->state = ST_IDLE;
        pthread_mutex_unlock(&c->mu);
        errno = e;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

/* Waits for the native thread with the GIL released, in short slices so that Ctrl-C
 * (a Python signal handler) still interrupts a join() without stop(). */
static PyObject *sampler_join(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"timeout", NULL};
    PyObject *timeout_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O", kwlist, &timeout_obj))
        return NULL;
    double timeout = -1;
    if (timeout_obj != Py_None) {
        timeout = PyFloat_AsDouble(timeout_obj);
        if (timeout == -1 && PyErr_Occurred())
            return NULL;
        if (timeout < 0)
            timeout = 0;
    }
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    if (forked_copy(c))
        Py_RETURN_TRUE; /* no thread exists in this process */
    if (ctx_state(c) == ST_IDLE) {
        PyErr_SetString(PyExc_RuntimeError, "the Sampler was not started");
        return NULL;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double deadline = timeout < 0 ? -1 : (double)now.tv_sec + now.tv_nsec / 1e9 + timeout;
    for (;;) {
        int st;
        Py_BEGIN_ALLOW_THREADS
        clock_gettime(CLOCK_MONOTONIC, &now);
        double t = (double)now.tv_sec + now.tv_nsec / 1e9 + 0.1;
        if (deadline >= 0 && t > deadline)
            t = deadline;
        struct timespec until = {(time_t)t, (long)((t - (double)(time_t)t) * 1e9)};
        pthread_mutex_lock(&c->mu);
        while (c->state != ST_DONE &&
               pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
            ;
        st = c->state;
        pthread_mutex_unlock(&c->mu);
        Py_END_ALLOW_THREADS
        if (st == ST_DONE)
            break;
        if (PyErr_CheckSignals() != 0)
            return NULL;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (deadline >= 0 && (double)now.tv_sec + now.tv_nsec / 1e9 >= deadline)
            Py_RETURN_FALSE;
    }
    PyObject *r = raise_run_error(o, c);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_TRUE;
}

static PyObject *sampler_prepare(PyObject *o, PyObject *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    if (forked_copy(c))
        return forked_error(o, c);
    if (ctx_state(c) != ST_IDLE) {
        PyErr_SetString(PyExc_RuntimeError, "prepare() must come before run() or start()");
        return NULL;
    }
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_sampler_prepare(c->s, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
    Py_RETURN_NONE;
}

static PyObject *sampler_tick(PyObject *o, PyObject *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    if (forked_copy(c))
        return forked_error(o, c);
    if (ctx_state(c) != ST_IDLE) {
        PyErr_SetString(PyExc_RuntimeError, "tick() cannot be used once run() or start() began");
        return NULL;
    }
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_sampler_tick(c->s, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
    Py_RETURN_NONE;
}

static PyObject *sampler_stop(PyObject *o, PyObject *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    atomic_store(&c->stop, 1);
    Py_RETURN_NONE;
}

static PyObject *sampler_profile(PyObject *o, PyObject *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    if (forked_copy(c))
        return forked_error(o, c);
    if (ctx_state(c) == ST_RUNNING) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the sampler is still running: stop() and join() it first");
        return NULL;
    }
    sg_profile *p = sg_sampler_take_profile(c->s);
    if (!p) {
        PyErr_SetString(PyExc_RuntimeError, "the profile was already taken");
        return NULL;
    }
    return sg_ext_profile_wrap(sg_ext_state_of_type(Py_TYPE(o)), p);
}

/* The profile since the start or the previous take, while sampling goes on. */
static PyObject *sampler_take(PyObject *o, PyObject *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    if (forked_copy(c))
        return forked_error(o, c);
    sg_error err;
    sg_error_clear(&err);
    sg_profile *p;
    Py_BEGIN_ALLOW_THREADS
    p = sg_sampler_swap_profile(c->s, &err);
    Py_END_ALLOW_THREADS
    if (!p)
        return sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
    return sg_ext_profile_wrap(sg_ext_state_of_type(Py_TYPE(o)), p);
}

static PyObject *sampler_version(PyObject *o, void *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    /* The running thread may be discovering the target: only read it when idle or done. */
    if (forked_copy(c) || ctx_state(c) == ST_RUNNING)
        return PyUnicode_FromString("");
    return PyUnicode_FromString(sg_sampler_python_version(c->s));
}

static PyObject *sampler_layout_note(PyObject *o, void *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    if (forked_copy(c) || ctx_state(c) == ST_RUNNING)
        return PyUnicode_FromString("");
    return PyUnicode_FromString(sg_sampler_layout_note(c->s));
}

static PyObject *sampler_running(PyObject *o, void *unused)
{
    sampler_ctx *c = get((sampler_obj *)o);
    if (!c)
        return NULL;
    return PyBool_FromLong(!forked_copy(c) && ctx_state(c) == ST_RUNNING);
}

static PyMethodDef sampler_methods[] = {
    {"run", sampler_run, METH_NOARGS,
     "run(): sample on this thread until stop(), the duration ends or the target exits "
     "(GIL released)."},
    {"start", sampler_start, METH_NOARGS,
     "start(): sample on a native thread of its own (no GIL, not in the profile)."},
    {"join", (PyCFunction)(void (*)(void))sampler_join, METH_VARARGS | METH_KEYWORDS,
     "join(timeout=None) -> bool: wait for the started thread to end (after stop()); "
     "False on timeout. Raises Error if sampling failed."},
    {"prepare", sampler_prepare, METH_NOARGS,
     "prepare(): find the Python runtime now; raises Error if it cannot be profiled."},
    {"tick", sampler_tick, METH_NOARGS,
     "tick(): take one sample now (for dump); raises Error if the target cannot be read."},
    {"stop", sampler_stop, METH_NOARGS, "stop(): ask run() or the thread to end (thread-safe)."},
    {"profile", sampler_profile, METH_NOARGS, "profile() -> Profile: take the result."},
    {"take", sampler_take, METH_NOARGS,
     "take() -> Profile: the samples since the start or the previous take (its meta covers "
     "that part only); sampling goes on into a fresh profile. Thread-safe."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef sampler_getset[] = {
    {"python_version", sampler_version, NULL, "the target's Python version, once known", NULL},
    {"layout_note", sampler_layout_note, NULL,
     "a sentence to tell the user once, or '': the target is read through its own "
     "_Py_DebugOffsets (a build laid out otherwise, or a version newer than spyglass)",
     NULL},
    {"running", sampler_running, NULL, "True while run() or the started thread samples",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot sampler_slots[] = {
    {Py_tp_init, sampler_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, sampler_dealloc},
    {Py_tp_methods, sampler_methods},
    {Py_tp_getset, sampler_getset},
    {Py_tp_doc, "Sampler(pid, rate=1000, clock='wall', duration=0, wait_for_python=False, "
                "root_skip_file=None, subprocesses=False, timeline=False, reader=None, "
                "ignore_tids=(), max_threads=0, blocking=False)\n\n"
                "reader: 'auto' (default, or $SPYGLASS_READER), 'vm' (process_vm_readv) or "
                "'procmem' (/proc/PID/mem). max_threads: threads of a process kept apart "
                "(0: 1000); later ones share one track."},
    {0, NULL},
};

PyType_Spec sg_ext_sampler_spec = {
    .name = "spyglass._core.Sampler",
    .basicsize = sizeof(sampler_obj),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = sampler_slots,
};
