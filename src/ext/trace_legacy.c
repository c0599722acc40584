/* The tracer's engine on CPython 3.9-3.11: C profile and trace functions.
 *
 * Function level uses the profile function (PyTrace_CALL/RETURN for Python frames, a
 * generator's resumption and suspension included, C_CALL/C_RETURN/C_EXCEPTION for
 * builtins), exactly what cProfile sees. Line level uses the trace function (CALL,
 * LINE, RETURN); a frame out of scope gets f_trace_lines = 0 at its call, so its lines
 * cost nothing more than the interpreter's own tracing checks.
 *
 * These hooks are per thread. Existing threads get them through _PyEval_SetProfile /
 * _PyEval_SetTrace on each thread state (what PyEval_SetProfileAllThreads does in
 * 3.12); threads started later through threading.setprofile / settrace with a small C
 * callable that, on its first event in the new thread, replaces itself with the C
 * function. Threads created by C code outside the threading module are not seen. */
#include "trace_ext.h"

#ifndef SG_TRACE_MONITORING

#include <frameobject.h>

static PyObject *hook;  /* the bootstrap callable given to threading */

static inline PyObject *frame_code(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *code = (PyObject *)PyFrame_GetCode(f);
    Py_DECREF(code); /* the frame keeps it alive */
    return code;
#else
    return (PyObject *)f->f_code;
#endif
}

static inline int frame_line(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyFrame_GetLineNumber(f); /* the interpreter set f_lineno before the call */
#else
    return f->f_lineno;
#endif
}

/* A generator or coroutine resuming, rather than a frame starting: 3.9 and 3.10 start a
 * frame at instruction -1; 3.11 calls the trace function from a RESUME instruction,
 * which for a fresh frame is the first traceable one. */
static inline bool frame_resumed(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyCodeObject *co = PyFrame_GetCode(f);
    int first = co->_co_firsttraceable * (int)sizeof(_Py_CODEUNIT);
    Py_DECREF(co);
    return PyFrame_GetLasti(f) > first;
#else
    return f->f_lasti >= 0;
#endif
}

static void lines_off(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    if (PyObject_SetAttrString((PyObject *)f, "f_trace_lines", Py_False) != 0)
        PyErr_Clear();
#else
    f->f_trace_lines = 0;
#endif
}

static int on_profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    uint64_t now = sg_tclock_now();
    sg_tsession *s = sg_tsess;
    if (!s)
        return 0;
    sg_tthread *th = sg_tsess_thread();
    if (!th)
        return 0;
    switch (what) {
    case PyTrace_CALL: {
        PyObject *code = frame_code(frame);
        sg_tcode *c = sg_tsess_code(code);
        if (c && c->in) {
            sg_tthread_charge(th, now, s->bias_py);
            sg_tthread_call(th, code, c->loc);
        } else {
            th->untimed++;
        }
        break;
    }
    case PyTrace_RETURN: {
        PyObject *code = frame_code(frame);
        sg_tframe *top = sg_tthread_top(th);
        if (top && top->key == code) {
            sg_tthread_charge(th, now, s->bias_py_exit);
            sg_tthread_pop(th, code);
            break;
        }
        sg_tcode *c = sg_tsess_code(code);
        if (c && c->in) {
            sg_tthread_charge(th, now, s->bias_py_exit);
            sg_tthread_pop(th, code);
        } else {
            th->untimed++;
        }
        break;
    }
    case PyTrace_C_CALL: {
        if (!PyCFunction_Check(arg))
            break;
        sg_tcode *c = sg_tsess_code(frame_code(frame));
        if (!c || !c->in)
            break;
        const void *key = ((PyCFunctionObject *)arg)->m_ml;
        uint32_t loc = sg_tsess_cfunc(key, arg, NULL);
        sg_tthread_charge(th, now, s->bias_c);
        if (loc != SG_NONE)
            sg_tthread_call(th, key, loc);
        break;
    }
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION: {
        if (!PyCFunction_Check(arg))
            break;
        const void *key = ((PyCFunctionObject *)arg)->m_ml;
        sg_tframe *top = sg_tthread_top(th);
        if (top && top->key == key) {
            sg_tthread_charge(th, now, s->bias_c);
            sg_tthread_pop(th, key);
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

static int on_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    uint64_t now = sg_tclock_now();
    sg_tsession *s = sg_tsess;
    if (!s)
        return 0;
    switch (what) {
    case PyTrace_CALL: {
        PyObject *code = frame_code(frame);
        sg_tcode *c = sg_tsess_code(code);
        if (!c || !c->in) {
            lines_off(frame);
            break;
        }
        sg_tthread *th = sg_tsess_thread();
        if (!th)
            break;
        sg_tthread_charge(th, now, s->bias_line);
        sg_tthread_enter(th, code, c);
        if (frame_resumed(frame)) {
            /* a generator resumes in the middle of a line, with no LINE event */
            uint32_t loc = sg_tcode_line(c, PyFrame_GetLineNumber(frame));
            sg_tframe *top = sg_tthread_top(th);
            if (loc != SG_NONE && top && top->key == code)
                sg_tthread_line(th, loc, false);
        }
        break;
    }
    case PyTrace_LINE: {
        PyObject *code = frame_code(frame);
        sg_tcode *c = sg_tsess_code(code);
        if (!c || !c->in) {
            lines_off(frame);
            break;
        }
        sg_tthread *th = sg_tsess_thread();
        if (!th)
            break;
        sg_tthread_charge(th, now, s->bias_line);
        sg_tframe *top = sg_tthread_top(th);
        if (!top || top->key != code) {
            sg_tthread_enter(th, code, c); /* running since before tracing began */
            top = sg_tthread_top(th);
            if (!top || top->key != code)
                break;
        }
        uint32_t loc = sg_tcode_line(c, frame_line(frame));
        if (loc != SG_NONE)
            sg_tthread_line(th, loc, true);
        break;
    }
    case PyTrace_RETURN: {
        sg_tthread *th = sg_tsess_thread();
        if (!th)
            break;
        PyObject *code = frame_code(frame);
        sg_tframe *top = sg_tthread_top(th);
        if (top && top->key == code) {
            sg_tthread_charge(th, now, s->bias_line);
            sg_tthread_pop(th, code);
            break;
        }
        sg_tcode *c = sg_tsess_code(code);
        if (c && c->in) {
            sg_tthread_charge(th, now, s->bias_line);
            sg_tthread_pop(th, code);
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

static Py_tracefunc hook_fn(const sg_tsession *s)
{
    return s->mode == SG_MODE_LINES ? on_trace : on_profile;
}

static int install(PyThreadState *ts, sg_tsession *s, bool on)
{
    if (s->mode == SG_MODE_LINES)
        return _PyEval_SetTrace(ts, on ? on_trace : NULL, NULL);
    return _PyEval_SetProfile(ts, on ? on_profile : NULL, NULL);
}

static int what_of(PyObject *event)
{
    static const char *const names[] = {"call", "exception", "line", "return",
                                        "c_call", "c_exception", "c_return"};
    static const int whats[] = {PyTrace_CALL,   PyTrace_EXCEPTION,   PyTrace_LINE,
                                PyTrace_RETURN, PyTrace_C_CALL,      PyTrace_C_EXCEPTION,
                                PyTrace_C_RETURN};
    for (size_t i = 0; i < sizeof whats / sizeof whats[0]; i++)
        if (PyUnicode_CompareWithASCIIString(event, names[i]) == 0)
            return whats[i];
    return -1;
}

/* threading's hook in a new thread: hooks(frame, event, arg). Installs the C function
 * for this thread, then hands it the event it was called for. */
static PyObject *bootstrap(PyObject *unused, PyObject *const *args, Py_ssize_t n)
{
    sg_tsession *s = sg_tsess;
    PyThreadState *ts = PyThreadState_Get();
    if (n != 3 || !PyFrame_Check(args[0]) || !PyUnicode_Check(args[1]))
        Py_RETURN_NONE;
    if (!s) {
        /* tracing stopped before this thread got going */
        _PyEval_SetProfile(ts, NULL, NULL);
        _PyEval_SetTrace(ts, NULL, NULL);
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    if (install(ts, s, true) != 0) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    int what = what_of(args[1]);
    if (what >= 0)
        hook_fn(s)(NULL, (PyFrameObject *)args[0], what, args[2]);
    Py_RETURN_NONE;
}

static PyMethodDef bootstrap_def = {"spyglass_thread_hook",
                                    (PyCFunction)(void (*)(void))bootstrap, METH_FASTCALL,
                                    NULL};

static int threading_hook(sg_tsession *s, bool on)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading)
        return -1;
    const char *which = s->mode == SG_MODE_LINES ? "settrace" : "setprofile";
    PyObject *r = PyObject_CallMethod(threading, which, "O", on ? hook : Py_None);
    Py_DECREF(threading);
    if (!r)
        return -1;
    Py_DECREF(r);
    return 0;
}

static bool hook_taken(PyThreadState *ts, sg_tsession *s)
{
    Py_tracefunc f = s->mode == SG_MODE_LINES ? ts->c_tracefunc : ts->c_profilefunc;
    return f != NULL && f != hook_fn(s);
}

int sg_tengine_start(sg_tsession *s)
{
    if (!hook && !(hook = PyCFunction_New(&bootstrap_def, NULL)))
        return -1;
    PyThreadState *me = PyThreadState_Get();
    PyInterpreterState *interp = PyThreadState_GetInterpreter(me);
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (hook_taken(ts, s)) {
            PyErr_Format(PyExc_RuntimeError,
                         "another %s is active (sys.%s): spyglass cannot trace at the same "
                         "time on Python %d.%d",
                         s->mode == SG_MODE_LINES ? "tracer or debugger" : "profiler",
                         s->mode == SG_MODE_LINES ? "settrace" : "setprofile",
                         PY_MAJOR_VERSION, PY_MINOR_VERSION);
            return -1;
        }
    }
    if (threading_hook(s, true) != 0)
        return -1;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (install(ts, s, true) != 0) {
            sg_tengine_stop(s);
            return -1;
        }
    }
    return 0;
}

void sg_tengine_stop(sg_tsession *s)
{
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        Py_tracefunc f = s->mode == SG_MODE_LINES ? ts->c_tracefunc : ts->c_profilefunc;
        if (f == hook_fn(s))
            install(ts, s, false);
    }
    PyErr_Clear();
    threading_hook(s, false); /* after: this call is not traced */
    PyErr_Clear();
    PyErr_Restore(et, ev, etb);
}

void sg_tengine_after_fork(sg_tsession *s) { (void)s; }

#endif
