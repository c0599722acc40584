/* Names of builtins exactly as cProfile gives them (Modules/_lsprof.c,
 * normalizeUserObj), so that pstats output, call-count comparisons and habits carry
 * over: a module function is "<built-in method time.sleep>", a method of a builtin
 * type is the repr of its descriptor, "<method 'append' of 'list' objects>". */
#include "trace_ext.h"

/* The label of a bound or module-level builtin (a PyCFunction). */
static PyObject *label_bound(PyCFunctionObject *fn)
{
    const char *name = fn->m_ml->ml_name ? fn->m_ml->ml_name : "?";
    PyObject *self = fn->m_self, *mod = fn->m_module;
    if (self == NULL) {
        PyObject *modname = NULL;
        if (mod && PyUnicode_Check(mod)) {
            modname = mod;
            Py_INCREF(modname);
        } else if (mod && PyModule_Check(mod)) {
            modname = PyModule_GetNameObject(mod);
            if (!modname)
                PyErr_Clear();
        }
        PyObject *res;
        if (modname && PyUnicode_CompareWithASCIIString(modname, "builtins") != 0)
            res = PyUnicode_FromFormat("<%U.%s>", modname, name);
        else
            res = PyUnicode_FromFormat("<%s>", name);
        Py_XDECREF(modname);
        return res;
    }
    /* a method: repr(getattr(type(self), name)) when the type has it */
    PyObject *key = PyUnicode_FromString(name);
    if (key) {
        PyObject *found = _PyType_Lookup(Py_TYPE(self), key); /* borrowed */
        Py_DECREF(key);
        if (found) {
            Py_INCREF(found);
            PyObject *res = PyObject_Repr(found);
            Py_DECREF(found);
            if (res)
                return res;
        }
    }
    PyErr_Clear();
    if (mod && PyUnicode_Check(mod))
        return PyUnicode_FromFormat("<built-in method %U.%s>", mod, name);
    return PyUnicode_FromFormat("<built-in method %s>", name);
}

PyObject *sg_tname_cfunc(PyObject *callable, PyObject *self_arg)
{
    if (PyCFunction_Check(callable))
        return label_bound((PyCFunctionObject *)callable);
    if (Py_IS_TYPE(callable, &PyMethodDescr_Type) && self_arg) {
        /* cProfile binds the descriptor to self_arg and names the bound builtin: the
         * type of self_arg is asked for the name, which is normally this very
         * descriptor. */
        const char *name = ((PyMethodDescrObject *)callable)->d_method->ml_name;
        PyObject *key = PyUnicode_FromString(name ? name : "?");
        PyObject *found = key ? _PyType_Lookup(Py_TYPE(self_arg), key) : NULL;
        Py_XDECREF(key);
        found = found ? found : callable;
        Py_INCREF(found);
        PyObject *res = PyObject_Repr(found);
        Py_DECREF(found);
        if (res)
            return res;
        PyErr_Clear();
        return PyUnicode_FromFormat("<built-in method %s>", name ? name : "?");
    }
    return PyObject_Repr(callable);
}
