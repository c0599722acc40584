/* The tracer's engine on CPython 3.12+: sys.monitoring (PEP 669) with C callbacks.
 *
 * Events are per interpreter and reach every thread, including threads that started
 * before tracing did. Callbacks are C callables whose type implements vectorcall
 * directly: the interpreter calls them with no tuple and no keywords, and unlike a
 * METH_FASTCALL builtin they skip the builtin's wrapper and its recursion check (a few
 * nanoseconds of each of millions of events). Out-of-scope code pays for its
 * first event only: local events (PY_START, PY_RESUME, PY_RETURN, PY_YIELD, CALL, LINE,
 * JUMP) return sys.monitoring.DISABLE there. PY_THROW, PY_UNWIND, C_RETURN and C_RAISE
 * cannot be disabled (DISABLE from them unregisters the callback), so they only ever
 * return None, after a cheap check.
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

enum {
    EV_PY_START = 0,
    EV_PY_RESUME = 1,
    EV_PY_RETURN = 2,
    EV_PY_YIELD = 3,
    EV_CALL = 4,
    EV_LINE = 5,
    EV_JUMP = 7,
    EV_PY_UNWIND = 12,
    EV_PY_THROW = 13,
    EV_C_RETURN = 15,
    EV_C_RAISE = 16,
};

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
    return leave(args, sg_tsess ? sg_tsess->bias_py : 0, true);
}

static PyObject *f_unwind(PyObject *unused, PyObject *const *args, size_t n, PyObject *kw)
{
    return leave(args, sg_tsess ? sg_tsess->bias_py : 0, false);
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

typedef struct handler {
    int event;
    vectorcallfunc fn;
    PyObject *obj;
} handler;

#define H(ev, name, f) {ev, f, NULL}

static handler trace_handlers[] = {
    H(EV_PY_START, "py_start", f_enter),   H(EV_PY_RESUME, "py_resume", f_enter),
    H(EV_PY_THROW, "py_throw", f_throw),   H(EV_PY_RETURN, "py_return", f_leave),
    H(EV_PY_YIELD, "py_yield", f_leave),   H(EV_PY_UNWIND, "py_unwind", f_unwind),
    H(EV_CALL, "call", f_call),            H(EV_C_RETURN, "c_return", f_creturn),
    H(EV_C_RAISE, "c_raise", f_creturn),
};

static handler line_handlers[] = {
    H(EV_PY_START, "py_start", l_start),   H(EV_PY_RESUME, "py_resume", l_resume),
    H(EV_PY_THROW, "py_throw", l_throw),   H(EV_PY_RETURN, "py_return", l_leave),
    H(EV_PY_YIELD, "py_yield", l_leave),   H(EV_PY_UNWIND, "py_unwind", l_unwind),
    H(EV_LINE, "line", l_line),            H(EV_JUMP, "jump", l_jump),
};

#define NTRACE (sizeof trace_handlers / sizeof trace_handlers[0])
#define NLINE (sizeof line_handlers / sizeof line_handlers[0])

static int init_once(void)
{
    if (mon)
        return 0;
    PyObject *m = PySys_GetObject("monitoring"); /* borrowed */
    if (!m) {
        PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is not available");
        return -1;
    }
    disable = PyObject_GetAttrString(m, "DISABLE");
    missing = PyObject_GetAttrString(m, "MISSING");
    if (!disable || !missing) {
        Py_CLEAR(disable);
        Py_CLEAR(missing);
        return -1;
    }
    if (PyType_Ready(&callback_type) != 0)
        return -1;
    handler *tables[] = {trace_handlers, line_handlers};
    size_t sizes[] = {NTRACE, NLINE};
    for (size_t t = 0; t < 2; t++) {
        for (size_t i = 0; i < sizes[t]; i++) {
            callback_obj *cb = PyObject_New(callback_obj, &callback_type);
            if (!cb)
                return -1;
            cb->vectorcall = tables[t][i].fn;
            tables[t][i].obj = (PyObject *)cb;
        }
    }
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
        call_mon("register_callback", "(iiO)", tool, 1 << hs[i].event, Py_None);
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
        if (call_mon("register_callback", "(iiO)", tool, 1 << hs[i].event, hs[i].obj) != 0)
            goto fail;
        events |= 1 << hs[i].event;
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
