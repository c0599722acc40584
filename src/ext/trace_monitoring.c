/* The tracer's engine on CPython 3.12+: sys.monitoring (PEP 669) with C callbacks.
 *
 * Events are per interpreter and reach every thread, including threads that started
 * before tracing did. Callbacks are C callables whose type implements vectorcall
 * directly: the interpreter calls them with no tuple and no keywords, and unlike a
 * METH_FASTCALL builtin they skip the builtin's wrapper and its recursion check (a few
 * nanoseconds of each of millions of events). Out-of-scope code pays for its
 * first event only: local events (PY_START, PY_RESUME, PY_RETURN, PY_YIELD, CALL, LINE,
 * JUMP) return sys.monitoring.DISABLE there. PY_THROW, PY_UNWIND, C_RETURN and C_RAISE
 * only ever return None, after a cheap check: DISABLE from them raises ValueError and
 * unregisters the callback (C_RETURN and C_RAISE still do on 3.15; PY_THROW and
 * PY_UNWIND up to 3.14). 3.15 made PY_THROW and PY_UNWIND local events (gh-142186),
 * but DISABLE from an event enabled with set_events, as ours are, is then ignored
 * (3.15.2: a function that raises 1000 times still calls back 1000 times), so there
 * is nothing to gain from it there either.
 *
 * Function level (the events cProfile uses): PY_START, PY_RESUME and PY_THROW enter a
 * function (a generator's resumption counts as a call, as in cProfile), PY_RETURN,
 * PY_YIELD and PY_UNWIND leave it; a CALL whose callable is a builtin enters it and
 * C_RETURN or C_RAISE leave it. A CALL of anything else takes no timestamp: it is only
 * counted, so that its cost can be subtracted (bias_untimed).
 *
 * Line level: PY_START/PY_RESUME/PY_THROW and the exits keep the shadow stack; LINE
 * moves the frame to a line and counts a hit. sys.settrace also reports a line again
 * when a backward jump stays on the same line (a loop written on one line, an inlined
 * comprehension), so JUMP is watched too: a forward jump or one to another line is
 * disabled at its first sight, a backward jump within a line counts a hit. */
#include "trace_ext.h"

#ifdef SG_TRACE_MONITORING

static PyObject *mon;      /* sys.monitoring */
static PyObject *disable;  /* sys.monitoring.DISABLE */
static PyObject *missing;  /* sys.monitoring.MISSING */
static int tool = -1;
static bool ran_before;

static inline PyObject *disable_ref(void)
{
    Py_INCREF(disable);
    return disable;
}

static inline long small_int(PyObject *o)
{
    if (PyLong_CheckExact(o) && PyUnstable_Long_IsCompact((PyLongObject *)o))
        return (long)PyUnstable_Long_CompactValue((PyLongObject *)o);
    long v = PyLong_AsLong(o);
    if (v == -1 && PyErr_Occurred())
        PyErr_Clear();
    return v;
}

/* The C method a CALL enters (its PyMethodDef), as cProfile decides it: a builtin
 * function or bound method, or a method descriptor called with a valid self. */
static inline const void *cfunc_key(PyObject *callable, PyObject *arg0, PyObject **self_arg)
{
    PyTypeObject *tp = Py_TYPE(callable);
    if (tp == &PyFunction_Type || tp == &PyMethod_Type)
        return NULL;
    if (PyCFunction_Check(callable))
        return ((PyCFunctionObject *)callable)->m_ml;
    if (tp == &PyMethodDescr_Type && arg0 != missing &&
        PyObject_TypeCheck(arg0, PyDescr_TYPE(callable))) {
        *self_arg = arg0;
        return ((PyMethodDescrObject *)callable)->d_method;
    }
    return NULL;
}

/* ---- function level ---- */

static PyObject *f_enter(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    uint64_t now = sg_tclock_now();
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    sg_tcode *c = sg_tsess_code(args[0]);
    if (!c || !c->in)
        return disable_ref();
    sg_tthread *th = sg_tsess_thread();
    if (th) {
        sg_tthread_charge(th, now, s->bias_py);
        sg_tthread_call(th, args[0], c->loc);
    }
    Py_RETURN_NONE;
}

static PyObject *f_throw(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    uint64_t now = sg_tclock_now();
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    sg_tcode *c = sg_tsess_code(args[0]);
    sg_tthread *th = c && c->in ? sg_tsess_thread() : NULL;
    if (th) {
        sg_tthread_charge(th, now, s->bias_py);
        sg_tthread_call(th, args[0], c->loc);
    }
    Py_RETURN_NONE;
}

/* Leaving a Python frame; can_disable is false for PY_UNWIND. */
static inline PyObject *leave(PyObject *const *args, int64_t bias_of_mode, bool can_disable)
{
    uint64_t now = sg_tclock_now();
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    sg_tthread *th = sg_tsess_thread();
    if (th) {
        sg_tframe *top = sg_tthread_top(th);
        if (top && top->key == args[0]) {
            sg_tthread_charge(th, now, bias_of_mode);
            sg_tthread_pop(th, args[0]);
            Py_RETURN_NONE;
        }
    }
    sg_tcode *c = sg_tsess_code(args[0]);
    if (!c || !c->in) {
        if (can_disable)
            return disable_ref();
        Py_RETURN_NONE;
    }
    if (th) {
        sg_tthread_charge(th, now, bias_of_mode);
        sg_tthread_pop(th, args[0]);
    }
    Py_RETURN_NONE;
}

static PyObject *f_leave(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    return leave(args, sg_tsess ? sg_tsess->bias_py_exit : 0, true);
}

static PyObject *f_unwind(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    return leave(args, sg_tsess ? sg_tsess->bias_py_exit : 0, false);
}

static PyObject *f_call(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    PyTypeObject *tp = Py_TYPE(args[2]);
    if (s->scope_all && (tp == &PyFunction_Type || tp == &PyMethod_Type)) {
        /* the most common event of all: a Python function's own PY_START follows. The
         * caller is in scope (only spyglass's own code is not, and rarely runs). */
        sg_tthread *th = sg_tsess_thread();
        if (th)
            th->untimed++;
        Py_RETURN_NONE;
    }
    sg_tcode *c = sg_tsess_code(args[0]);
    if (!c || !c->in)
        return disable_ref();
    PyObject *self_arg = NULL;
    const void *key = cfunc_key(args[2], args[3], &self_arg);
    sg_tthread *th = sg_tsess_thread();
    if (!th)
        Py_RETURN_NONE;
    if (!key) {
        th->untimed++;
        Py_RETURN_NONE;
    }
    uint64_t now = sg_tclock_now();
    uint32_t loc = sg_tsess_cfunc(key, args[2], self_arg);
    sg_tthread_charge(th, now, s->bias_c);
    if (loc != SG_NONE)
        sg_tthread_call(th, key, loc);
    Py_RETURN_NONE;
}

static PyObject *f_creturn(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    PyObject *self_arg = NULL;
    const void *key = cfunc_key(args[2], args[3], &self_arg);
    sg_tthread *th = sg_tsess_thread();
    if (!th)
        Py_RETURN_NONE;
    if (!key) {
        th->untimed++;
        Py_RETURN_NONE;
    }
    sg_tthread_charge(th, sg_tclock_now(), s->bias_c);
    sg_tthread_pop(th, key);
    Py_RETURN_NONE;
}

/* ---- line level ---- */

static inline void enter_frame(sg_tsession *s, sg_tthread *th, PyObject *code, sg_tcode *c,
                               uint64_t now)
{
    sg_tthread_charge(th, now, s->bias_line);
    sg_tthread_enter(th, code, c);
}

static PyObject *l_start(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    uint64_t now = sg_tclock_now();
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    sg_tcode *c = sg_tsess_code(args[0]);
    if (!c || !c->in)
        return disable_ref();
    sg_tthread *th = sg_tsess_thread();
    if (th)
        enter_frame(s, th, args[0], c, now);
    Py_RETURN_NONE;
}

/* A generator resumes in the middle of a line: no LINE event comes for it, so the
 * line is found from the offset. */
static PyObject *resume(PyObject *const *args, bool can_disable)
{
    uint64_t now = sg_tclock_now();
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    sg_tcode *c = sg_tsess_code(args[0]);
    if (!c || !c->in) {
        if (can_disable)
            return disable_ref();
        Py_RETURN_NONE;
    }
    sg_tthread *th = sg_tsess_thread();
    if (!th)
        Py_RETURN_NONE;
    enter_frame(s, th, args[0], c, now);
    int line = PyCode_Addr2Line((PyCodeObject *)args[0], (int)small_int(args[1]));
    uint32_t loc = line >= 0 ? sg_tcode_line(c, line) : SG_NONE;
    sg_tframe *top = sg_tthread_top(th);
    if (loc != SG_NONE && top && top->key == args[0])
        sg_tthread_line(th, loc, false);
    Py_RETURN_NONE;
}

static PyObject *l_resume(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    return resume(args, true);
}

static PyObject *l_throw(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    return resume(args, false);
}

static PyObject *l_leave(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    return leave(args, sg_tsess ? sg_tsess->bias_line : 0, true);
}

static PyObject *l_unwind(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    return leave(args, sg_tsess ? sg_tsess->bias_line : 0, false);
}

static PyObject *l_line(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    uint64_t now = sg_tclock_now();
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    sg_tcode *c = sg_tsess_code(args[0]);
    if (!c || !c->in)
        return disable_ref();
    sg_tthread *th = sg_tsess_thread();
    if (!th)
        Py_RETURN_NONE;
    sg_tthread_charge(th, now, s->bias_line);
    sg_tframe *top = sg_tthread_top(th);
    if (!top || top->key != args[0]) {
        /* a frame that was running before tracing began: adopt it */
        sg_tthread_enter(th, args[0], c);
        top = sg_tthread_top(th);
        if (!top || top->key != args[0])
            Py_RETURN_NONE;
    }
    uint32_t loc = sg_tcode_line(c, (int)small_int(args[1]));
    if (loc != SG_NONE)
        sg_tthread_line(th, loc, true);
    Py_RETURN_NONE;
}

static PyObject *l_jump(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    sg_tsession *s = sg_tsess;
    if (!s)
        Py_RETURN_NONE;
    sg_tcode *c = sg_tsess_code(args[0]);
    if (!c || !c->in)
        return disable_ref();
    long from = small_int(args[1]), to = small_int(args[2]);
    if (to > from)
        return disable_ref();
    bool known = false;
    for (unsigned i = 0; i < c->njumps && !known; i++)
        known = c->jumps[i] == (int32_t)from;
    if (!known) {
        PyCodeObject *co = (PyCodeObject *)args[0];
        if (PyCode_Addr2Line(co, (int)from) != PyCode_Addr2Line(co, (int)to))
            return disable_ref();
        if (c->njumps < SG_TCODE_JUMPS)
            c->jumps[c->njumps++] = (int32_t)from;
    }
    sg_tthread *th = sg_tsess_thread();
    sg_tframe *top = th ? sg_tthread_top(th) : NULL;
    if (top && top->key == args[0] && top->node != top->parent) {
        th->tree.nodes[top->node].count++;
        th->untimed++;
    }
    Py_RETURN_NONE;
}

/* ---- registration ---- */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
} callback_obj;

static PyTypeObject callback_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "spyglass._core.TraceCallback",
    .tp_basicsize = sizeof(callback_obj),
    .tp_vectorcall_offset = offsetof(callback_obj, vectorcall),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_call = PyVectorcall_Call,
    .tp_doc = "a spyglass tracing callback for sys.monitoring",
};

/* An event is named as sys.monitoring.events names it: the numbers are not stable
 * (3.14 added BRANCH_LEFT and BRANCH_RIGHT in the place of BRANCH, which moved every
 * later event up by one: the 3.13 number of C_RETURN is RERAISE on 3.14), so each one is
 * looked up once, at first use, rather than compiled in. */
typedef struct handler {
    const char *event;
    vectorcallfunc fn;
    int bit;        /* 1 << the event's number in this interpreter */
    PyObject *obj;
} handler;

#define H(ev, f) {ev, f, 0, NULL}

static handler trace_handlers[] = {
    H("PY_START", f_enter),  H("PY_RESUME", f_enter), H("PY_THROW", f_throw),
    H("PY_RETURN", f_leave), H("PY_YIELD", f_leave),  H("PY_UNWIND", f_unwind),
    H("CALL", f_call),       H("C_RETURN", f_creturn), H("C_RAISE", f_creturn),
};

static handler line_handlers[] = {
    H("PY_START", l_start),  H("PY_RESUME", l_resume), H("PY_THROW", l_throw),
    H("PY_RETURN", l_leave), H("PY_YIELD", l_leave),   H("PY_UNWIND", l_unwind),
    H("LINE", l_line),       H("JUMP", l_jump),
};

#define NTRACE (sizeof trace_handlers / sizeof trace_handlers[0])
#define NLINE (sizeof line_handlers / sizeof line_handlers[0])

/* Each handler's event bit, from sys.monitoring.events, and its callback object. */
static int init_handlers(PyObject *events, handler *hs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        PyObject *bit = PyObject_GetAttrString(events, hs[i].event);
        long v = bit ? PyLong_AsLong(bit) : -1;
        Py_XDECREF(bit);
        if (v <= 0 || v > INT_MAX || (v & (v - 1))) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_RuntimeError, "sys.monitoring.events.%s is not one event",
                             hs[i].event);
            return -1;
        }
        hs[i].bit = (int)v;
        if (hs[i].obj)
            continue;
        callback_obj *cb = PyObject_New(callback_obj, &callback_type);
        if (!cb)
            return -1;
        cb->vectorcall = hs[i].fn;
        hs[i].obj = (PyObject *)cb;
    }
    return 0;
}

static int init_once(void)
{
    if (mon)
        return 0;
    PyObject *m = PySys_GetObject("monitoring"); /* borrowed */
    if (!m) {
        PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is not available");
        return -1;
    }
    if (PyType_Ready(&callback_type) != 0)
        return -1;
    PyObject *events = PyObject_GetAttrString(m, "events");
    int rc = events ? init_handlers(events, trace_handlers, NTRACE) : -1;
    if (!rc)
        rc = init_handlers(events, line_handlers, NLINE);
    Py_XDECREF(events);
    if (!rc && !disable)
        rc = (disable = PyObject_GetAttrString(m, "DISABLE")) ? 0 : -1;
    if (!rc && !missing)
        rc = (missing = PyObject_GetAttrString(m, "MISSING")) ? 0 : -1;
    if (rc)
        return -1;
    Py_INCREF(m);
    mon = m;
    return 0;
}

static int call_mon(const char *method, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    PyObject *args = Py_VaBuildValue(fmt, ap);
    va_end(ap);
    if (!args)
        return -1;
    PyObject *f = PyObject_GetAttrString(mon, method);
    PyObject *r = f ? PyObject_Call(f, args, NULL) : NULL;
    Py_XDECREF(f);
    Py_DECREF(args);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Tool id 2 (PROFILER_ID) when free, else the first free one; cProfile, coverage and
 * debuggers take theirs. */
static int claim_tool(void)
{
    static const int order[] = {2, 3, 4, 1, 0, 5};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        PyObject *f = PyObject_GetAttrString(mon, "get_tool");
        PyObject *owner = f ? PyObject_CallFunction(f, "i", order[i]) : NULL;
        Py_XDECREF(f);
        if (!owner)
            return -1;
        bool free_id = owner == Py_None;
        Py_DECREF(owner);
        if (free_id && call_mon("use_tool_id", "(is)", order[i], "spyglass") == 0)
            return order[i];
        PyErr_Clear();
    }
    PyErr_SetString(PyExc_RuntimeError,
                    "every sys.monitoring tool id is taken (by other profilers, debuggers or "
                    "coverage tools)");
    return -1;
}

static void release(const handler *hs, size_t n)
{
    call_mon("set_events", "(ii)", tool, 0);
    for (size_t i = 0; i < n; i++)
        call_mon("register_callback", "(iiO)", tool, hs[i].bit, Py_None);
    call_mon("free_tool_id", "(i)", tool);
    PyErr_Clear();
    tool = -1;
}

int sg_tengine_start(sg_tsession *s)
{
    if (init_once() != 0)
        return -1;
    if (ran_before && call_mon("restart_events", "()") != 0)
        return -1;
    ran_before = true;
    if ((tool = claim_tool()) < 0)
        return -1;
    const handler *hs = s->mode == SG_MODE_LINES ? line_handlers : trace_handlers;
    size_t n = s->mode == SG_MODE_LINES ? NLINE : NTRACE;
    int events = 0;
    for (size_t i = 0; i < n; i++) {
        if (call_mon("register_callback", "(iiO)", tool, hs[i].bit, hs[i].obj) != 0)
            goto fail;
        events |= hs[i].bit;
    }
    if (call_mon("set_events", "(ii)", tool, events) != 0)
        goto fail;
    return 0;
fail:;
    PyObject *exc = PyErr_GetRaisedException();
    release(hs, n);
    PyErr_SetRaisedException(exc);
    return -1;
}

void sg_tengine_stop(sg_tsession *s)
{
    if (tool < 0)
        return;
    PyObject *exc = PyErr_GetRaisedException();
    release(s->mode == SG_MODE_LINES ? line_handlers : trace_handlers,
            s->mode == SG_MODE_LINES ? NLINE : NTRACE);
    PyErr_SetRaisedException(exc);
}

void sg_tengine_after_fork(sg_tsession *s) { (void)s; }

#endif
