/* Module glue: state, the Error exception, the module-level functions (load, decode,
 * line-table access for the tests) and constants. */
#include "sg_ext.h"

#include "../core/base/sg_file.h"
#include "../core/pyabi/sg_pyabi.h"
#include "../core/walk/sg_linetable.h"
#include "../core/write/sg_diff_write.h"
#include "../core/write/sg_write.h"

static struct PyModuleDef core_module;

sg_ext_state *sg_ext_state_of_module(PyObject *m) { return (sg_ext_state *)PyModule_GetState(m); }

sg_ext_state *sg_ext_state_of_type(PyTypeObject *t)
{
    PyObject *m = PyType_GetModule(t);
    return m ? sg_ext_state_of_module(m) : NULL;
}

PyObject *sg_ext_raise(sg_ext_state *st, const sg_error *err)
{
    const char *msg = err->msg[0] ? err->msg : sg_code_message(err->code);
    if (err->code == SG_E_NOMEM)
        return PyErr_NoMemory();
    PyObject *exc = PyObject_CallFunction(st->error, "ss", sg_code_name(err->code), msg);
    if (exc) {
        PyErr_SetObject(st->error, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *core_load(PyObject *m, PyObject *arg)
{
    PyObject *bytes_path;
    if (!PyUnicode_FSConverter(arg, &bytes_path))
        return NULL;
    sg_error err;
    sg_error_clear(&err);
    sg_profile *p;
    Py_BEGIN_ALLOW_THREADS
    p = sg_profile_load(PyBytes_AS_STRING(bytes_path), &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes_path);
    sg_ext_state *st = sg_ext_state_of_module(m);
    if (!p)
        return sg_ext_raise(st, &err);
    return sg_ext_profile_wrap(st, p);
}

static PyObject *core_decode(PyObject *m, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) != 0)
        return NULL;
    sg_error err;
    sg_error_clear(&err);
    sg_profile *p = sg_profile_decode(view.buf, (size_t)view.len, &err);
    PyBuffer_Release(&view);
    sg_ext_state *st = sg_ext_state_of_module(m);
    if (!p)
        return sg_ext_raise(st, &err);
    return sg_ext_profile_wrap(st, p);
}

static PyObject *core_linetable_line(PyObject *m, PyObject *args)
{
    int format, first_line;
    long long offset;
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "iy*iL", &format, &table, &first_line, &offset))
        return NULL;
    int32_t line = sg_linetable_line(format, table.buf, (size_t)table.len, first_line, offset);
    PyBuffer_Release(&table);
    return PyLong_FromLong(line);
}

static PyObject *core_linetable_decode(PyObject *m, PyObject *args)
{
    int format, first_line;
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "iy*i", &format, &table, &first_line))
        return NULL;
    sg_line_range *r = NULL;
    size_t n = 0;
    sg_error err;
    sg_error_clear(&err);
    int rc = sg_linetable_decode(format, table.buf, (size_t)table.len, first_line, 1000000, &r,
                                 &n, &err);
    PyBuffer_Release(&table);
    if (rc != 0)
        return sg_ext_raise(sg_ext_state_of_module(m), &err);
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        PyObject *t = Py_BuildValue("(iii)", r[i].start, r[i].end, r[i].line);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    free(r);
    return list;
}

static PyObject *core_write_file(PyObject *m, PyObject *args)
{
    PyObject *bytes_path;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "O&y*", PyUnicode_FSConverter, &bytes_path, &data))
        return NULL;
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_file_write_atomic(PyBytes_AS_STRING(bytes_path), data.buf, (size_t)data.len, &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    Py_DECREF(bytes_path);
    if (rc != 0)
        return sg_ext_raise(sg_ext_state_of_module(m), &err);
    Py_RETURN_NONE;
}

static PyMethodDef core_methods[] = {
    {"write_file", core_write_file, METH_VARARGS,
     "write_file(path, data): write atomically (temporary file + rename); '-' is stdout."},
    {"load", core_load, METH_O, "load(path) -> Profile: read a saved profile (.pb.gz)."},
    {"decode", core_decode, METH_O, "decode(bytes) -> Profile."},
    {"linetable_line", core_linetable_line, METH_VARARGS,
     "linetable_line(format, table, first_line, offset) -> line (-1: none)."},
    {"linetable_decode", core_linetable_decode, METH_VARARGS,
     "linetable_decode(format, table, first_line) -> [(start, end, line)]."},
    {"diff", (PyCFunction)(void (*)(void))sg_ext_diff, METH_VARARGS | METH_KEYWORDS,
     "diff(base, new, format='text', by='function', line_match='place', metric='self', "
     "min_change=0.0, max_rows=0, color=False, base_label='BASE', new_label='NEW') -> bytes"},
    {"check", (PyCFunction)(void (*)(void))sg_ext_check, METH_VARARGS | METH_KEYWORDS,
     "check(base, new, max_regression=0.1, functions=(), metric='self', time=False, "
     "min_share=0.02, base_label='BASE', new_label='NEW') -> (regressions, unmatched glob "
     "or None, text)"},
    {"trace_ticks", sg_ext_trace_ticks, METH_NOARGS, "trace_ticks() -> the tracer's clock."},
    {"trace_tick_rate", sg_ext_trace_tick_rate, METH_NOARGS,
     "trace_tick_rate() -> ticks of trace_ticks() per nanosecond."},
    {"trace_die", sg_ext_trace_die, METH_O,
     "trace_die(signum): end the process by signum's default action, from any thread."},
    {NULL, NULL, 0, NULL},
};

/* PyModule_AddObjectRef is 3.10+: this is its meaning on every version. */
static int add_ref(PyObject *m, const char *name, PyObject *value)
{
    Py_INCREF(value);
    if (PyModule_AddObject(m, name, value) < 0) {
        Py_DECREF(value);
        return -1;
    }
    return 0;
}

static int core_exec(PyObject *m)
{
    sg_ext_state *st = sg_ext_state_of_module(m);
    st->error = PyErr_NewExceptionWithDoc(
        "spyglass._core.Error",
        "A failure in the C core: args are (code, message), code like 'SG_E_PERMISSION'.",
        NULL, NULL);
    if (!st->error || add_ref(m, "Error", st->error) < 0)
        return -1;
    st->profile = (PyTypeObject *)PyType_FromModuleAndSpec(m, &sg_ext_profile_spec, NULL);
    if (!st->profile || add_ref(m, "Profile", (PyObject *)st->profile) < 0)
        return -1;
    st->sampler = (PyTypeObject *)PyType_FromModuleAndSpec(m, &sg_ext_sampler_spec, NULL);
    if (!st->sampler || add_ref(m, "Sampler", (PyObject *)st->sampler) < 0)
        return -1;
    st->tracer = (PyTypeObject *)PyType_FromModuleAndSpec(m, &sg_ext_tracer_spec, NULL);
    if (!st->tracer || add_ref(m, "Tracer", (PyObject *)st->tracer) < 0)
        return -1;
    const sg_pyabi *abi = sg_pyabi_for(PY_MAJOR_VERSION, PY_MINOR_VERSION);
    if (PyModule_AddIntConstant(m, "LINETABLE_FORMAT", abi ? abi->linetable_format : 0) < 0 ||
        PyModule_AddStringConstant(m, "FORMATS", sg_write_formats()) < 0 ||
        PyModule_AddStringConstant(m, "DIFF_FORMATS", sg_diff_formats()) < 0 ||
        PyModule_AddStringConstant(m, "TRACE_SORT_KEYS", sg_write_trace_sort_keys()) < 0 ||
        PyModule_AddStringConstant(m, "SUPPORTED_PYTHONS", sg_pyabi_supported()) < 0)
        return -1;
    return 0;
}

static int core_traverse(PyObject *m, visitproc visit, void *arg)
{
    sg_ext_state *st = sg_ext_state_of_module(m);
    Py_VISIT(st->error);
    Py_VISIT(st->profile);
    Py_VISIT(st->sampler);
    Py_VISIT(st->tracer);
    return 0;
}

static int core_clear(PyObject *m)
{
    sg_ext_state *st = sg_ext_state_of_module(m);
    Py_CLEAR(st->error);
    Py_CLEAR(st->profile);
    Py_CLEAR(st->sampler);
    Py_CLEAR(st->tracer);
    return 0;
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, (void *)core_exec},
    {0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "spyglass._core",
    .m_doc = "spyglass's C core: the sampler, the profile model and the writers.",
    .m_size = sizeof(sg_ext_state),
    .m_methods = core_methods,
    .m_slots = core_slots,
    .m_traverse = core_traverse,
    .m_clear = core_clear,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModuleDef_Init(&core_module); }
