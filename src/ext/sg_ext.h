/* Shared declarations of the spyglass._core extension: the only code that includes
 * Python.h. C errors (sg_error) become spyglass._core.Error(code, message) here.
 * Every file of src/ext includes this header (or trace_ext.h) before any other: Python.h
 * must come first (3.15's pyconfig.h defines _POSIX_C_SOURCE, which a system header
 * included earlier has set otherwise). */
#ifndef SG_EXT_H
#define SG_EXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../core/base/sg_error.h"
#include "../core/profile/sg_profile.h"

typedef struct {
    PyObject *error;        /* spyglass._core.Error */
    PyTypeObject *profile;  /* spyglass._core.Profile */
    PyTypeObject *sampler;  /* spyglass._core.Sampler */
    PyTypeObject *tracer;   /* spyglass._core.Tracer */
} sg_ext_state;

typedef struct {
    PyObject_HEAD
    sg_profile *p;
} sg_ext_profile;

sg_ext_state *sg_ext_state_of_type(PyTypeObject *t);
sg_ext_state *sg_ext_state_of_module(PyObject *m);

/* Raises Error(code_name, message) and returns NULL. */
PyObject *sg_ext_raise(sg_ext_state *st, const sg_error *err);

/* Wraps p (takes ownership; frees it on failure). */
PyObject *sg_ext_profile_wrap(sg_ext_state *st, sg_profile *p);

/* _core.diff(...) and _core.check(...) (ext_diff.c). */
PyObject *sg_ext_diff(PyObject *m, PyObject *args, PyObject *kw);
PyObject *sg_ext_check(PyObject *m, PyObject *args, PyObject *kw);

extern PyType_Spec sg_ext_profile_spec;
extern PyType_Spec sg_ext_sampler_spec;
extern PyType_Spec sg_ext_tracer_spec;

/* trace_session.c: the tracer's tick clock, for calibration from Python. */
PyObject *sg_ext_trace_ticks(PyObject *m, PyObject *unused);
PyObject *sg_ext_trace_tick_rate(PyObject *m, PyObject *unused);
PyObject *sg_ext_trace_die(PyObject *m, PyObject *arg);

/* A sequence of str as a NULL-terminated C array (PyMem_Free it) whose strings stay
 * alive as long as *keep (Py_XDECREF it); NULL with an exception set on error. */
const char **sg_ext_str_array(PyObject *seq, size_t *n, PyObject **keep);

#endif
