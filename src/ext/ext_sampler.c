/* spyglass._core.Sampler: drives the C sampling loop on the calling thread with the GIL
 * released, so the Python layer can run it in a thread and stop it from another. */
#include <stdatomic.h>

#include "../core/sample/sg_sampler.h"
#include "sg_ext.h"

typedef struct {
    PyObject_HEAD
    sg_sampler *s;
    atomic_int stop;
    atomic_int running;
} sampler_obj;

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

static int sampler_init(PyObject *o, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"pid", "rate", "clock", "duration", "wait_for_python",
                             "root_skip_file", "subprocesses", NULL};
    sampler_obj *self = (sampler_obj *)o;
    int pid, wait = 0, children = 0;
    double rate = 1000, duration = 0;
    const char *clock = "wall", *skip = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "i|dsdpzp", kwlist, &pid, &rate, &clock,
                                     &duration, &wait, &skip, &children))
        return -1;
    sg_sampler_config cfg = {0};
    cfg.pid = pid;
    cfg.rate_hz = rate;
    cfg.duration_s = duration;
    cfg.wait_for_python = wait;
    cfg.root_skip_file = skip;
    cfg.follow_children = children;
    if (parse_clock(clock, &cfg.clock) != 0)
        return -1;
    if (self->s) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler already initialised");
        return -1;
    }
    sg_error err;
    sg_error_clear(&err);
    Py_BEGIN_ALLOW_THREADS
    self->s = sg_sampler_new(&cfg, &err);
    Py_END_ALLOW_THREADS
    if (!self->s) {
        sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
        return -1;
    }
    atomic_store(&self->stop, 0);
    atomic_store(&self->running, 0);
    return 0;
}

static void sampler_dealloc(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    sg_sampler_free(((sampler_obj *)o)->s);
    tp->tp_free(o);
    Py_DECREF(tp);
}

static sg_sampler *get(sampler_obj *self)
{
    if (!self->s)
        PyErr_SetString(PyExc_RuntimeError, "Sampler not initialised");
    return self->s;
}

static PyObject *sampler_run(PyObject *o, PyObject *unused)
{
    sampler_obj *self = (sampler_obj *)o;
    sg_sampler *s = get(self);
    if (!s)
        return NULL;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&self->running, &expected, 1)) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler.run() is already running");
        return NULL;
    }
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_sampler_run(s, &self->stop, &err);
    Py_END_ALLOW_THREADS
    atomic_store(&self->running, 0);
    if (rc != 0)
        return sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
    Py_RETURN_NONE;
}

static PyObject *sampler_prepare(PyObject *o, PyObject *unused)
{
    sg_sampler *s = get((sampler_obj *)o);
    if (!s)
        return NULL;
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_sampler_prepare(s, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
    Py_RETURN_NONE;
}

static PyObject *sampler_tick(PyObject *o, PyObject *unused)
{
    sampler_obj *self = (sampler_obj *)o;
    sg_sampler *s = get(self);
    if (!s)
        return NULL;
    if (atomic_load(&self->running)) {
        PyErr_SetString(PyExc_RuntimeError, "Sampler.run() is running");
        return NULL;
    }
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_sampler_tick(s, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return sg_ext_raise(sg_ext_state_of_type(Py_TYPE(o)), &err);
    Py_RETURN_NONE;
}

static PyObject *sampler_stop(PyObject *o, PyObject *unused)
{
    atomic_store(&((sampler_obj *)o)->stop, 1);
    Py_RETURN_NONE;
}

static PyObject *sampler_profile(PyObject *o, PyObject *unused)
{
    sampler_obj *self = (sampler_obj *)o;
    sg_sampler *s = get(self);
    if (!s)
        return NULL;
    if (atomic_load(&self->running)) {
        PyErr_SetString(PyExc_RuntimeError, "the sampler is still running: stop() it first");
        return NULL;
    }
    sg_profile *p = sg_sampler_take_profile(s);
    if (!p) {
        PyErr_SetString(PyExc_RuntimeError, "the profile was already taken");
        return NULL;
    }
    return sg_ext_profile_wrap(sg_ext_state_of_type(Py_TYPE(o)), p);
}

static PyObject *sampler_version(PyObject *o, void *unused)
{
    sg_sampler *s = get((sampler_obj *)o);
    return s ? PyUnicode_FromString(sg_sampler_python_version(s)) : NULL;
}

static PyMethodDef sampler_methods[] = {
    {"run", sampler_run, METH_NOARGS,
     "run(): sample until stop(), the duration ends or the target exits (GIL released)."},
    {"prepare", sampler_prepare, METH_NOARGS,
     "prepare(): find the Python runtime now; raises Error if it cannot be profiled."},
    {"tick", sampler_tick, METH_NOARGS,
     "tick(): take one sample now (for dump); raises Error if the target cannot be read."},
    {"stop", sampler_stop, METH_NOARGS, "stop(): ask run() to return (thread-safe)."},
    {"profile", sampler_profile, METH_NOARGS, "profile() -> Profile: take the result."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef sampler_getset[] = {
    {"python_version", sampler_version, NULL, "the target's Python version, once known", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot sampler_slots[] = {
    {Py_tp_init, sampler_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, sampler_dealloc},
    {Py_tp_methods, sampler_methods},
    {Py_tp_getset, sampler_getset},
    {Py_tp_doc, "Sampler(pid, rate=1000, clock='wall', duration=0, wait_for_python=False, "
                "root_skip_file=None, subprocesses=False)"},
    {0, NULL},
};

PyType_Spec sg_ext_sampler_spec = {
    .name = "spyglass._core.Sampler",
    .basicsize = sizeof(sampler_obj),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = sampler_slots,
};
