/* spyglass._core.diff and spyglass._core.check: the bindings of the diff engine and
 * the regression guard. Both take two Profile objects (already filtered by the caller)
 * and do all the work in C without the GIL. */
#include "sg_ext.h"

#include "../core/profile/sg_diff.h"
#include "../core/write/sg_diff_write.h"

static int profile_arg(sg_ext_state *st, PyObject *o, const char *what, sg_profile **p)
{
    if (!PyObject_TypeCheck(o, st->profile)) {
        PyErr_Format(PyExc_TypeError, "%s must be a spyglass._core.Profile", what);
        return -1;
    }
    *p = ((sg_ext_profile *)o)->p;
    return 0;
}

static int metric_arg(const char *s, sg_diff_metric *m)
{
    if (!strcmp(s, "self"))
        *m = SG_DIFF_SELF;
    else if (!strcmp(s, "total"))
        *m = SG_DIFF_TOTAL;
    else {
        PyErr_Format(PyExc_ValueError, "metric must be 'self' or 'total', not '%s'", s);
        return -1;
    }
    return 0;
}

PyObject *sg_ext_diff(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"base", "new", "format", "by", "line_match", "metric",
                             "min_change", "max_rows", "color", "base_label", "new_label",
                             NULL};
    PyObject *base_o, *new_o;
    const char *format = "text", *by = "function", *line_match = "place", *metric = "self";
    const char *base_label = "BASE", *new_label = "NEW";
    double min_change = 0;
    int max_rows = 0, color = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|ssssdipss", kwlist, &base_o, &new_o, &format,
                                     &by, &line_match, &metric, &min_change, &max_rows, &color,
                                     &base_label, &new_label))
        return NULL;
    sg_ext_state *st = sg_ext_state_of_module(m);
    sg_profile *base, *new_p;
    sg_diff_opts o = {0};
    if (profile_arg(st, base_o, "base", &base) || profile_arg(st, new_o, "new", &new_p) ||
        metric_arg(metric, &o.metric))
        return NULL;
    if (strcmp(by, "function") && strcmp(by, "line"))
        return PyErr_Format(PyExc_ValueError, "by must be 'function' or 'line', not '%s'", by);
    if (strcmp(line_match, "place") && strcmp(line_match, "offset"))
        return PyErr_Format(PyExc_ValueError,
                            "line_match must be 'place' or 'offset', not '%s'", line_match);
    o.lines = !strcmp(by, "line");
    o.line_match = !strcmp(line_match, "offset") ? SG_DIFF_LINE_OFFSET : SG_DIFF_LINE_PLACE;
    o.flame = !strcmp(format, "html") || !strcmp(format, "svg");
    sg_diff_write_opts wo;
    sg_diff_write_opts_init(&wo);
    wo.base_label = base_label;
    wo.new_label = new_label;
    wo.min_change = min_change;
    wo.max_rows = max_rows;
    wo.color = color;
    sg_buf out;
    sg_buf_init(&out);
    sg_error err;
    sg_error_clear(&err);
    int rc = -1;
    Py_BEGIN_ALLOW_THREADS
    sg_diff *d = sg_diff_new(base, new_p, &o, &err);
    if (d)
        rc = sg_diff_write(d, format, &wo, &out, &err);
    sg_diff_free(d);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        sg_buf_free(&out);
        return sg_ext_raise(st, &err);
    }
    PyObject *res = PyBytes_FromStringAndSize(out.data ? out.data : "", (Py_ssize_t)out.len);
    sg_buf_free(&out);
    return res;
}

PyObject *sg_ext_check(PyObject *m, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"base",  "new",       "max_regression", "functions",  "metric",
                             "time",  "min_share", "base_label",     "new_label", NULL};
    PyObject *base_o, *new_o, *funcs = NULL;
    const char *metric = "self", *base_label = "BASE", *new_label = "NEW";
    double max_regression = 0.10, min_share = 0.02;
    int time = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|dOspdss", kwlist, &base_o, &new_o,
                                     &max_regression, &funcs, &metric, &time, &min_share,
                                     &base_label, &new_label))
        return NULL;
    sg_ext_state *st = sg_ext_state_of_module(m);
    sg_profile *base, *new_p;
    sg_diff_opts o = {0};
    if (profile_arg(st, base_o, "base", &base) || profile_arg(st, new_o, "new", &new_p) ||
        metric_arg(metric, &o.metric))
        return NULL;
    if (!(max_regression >= 0) || !(min_share >= 0))
        return PyErr_Format(PyExc_ValueError, "max_regression and min_share must be >= 0");
    sg_check_opts co = {.max_regression = max_regression, .metric = o.metric,
                        .time = time, .min_share = min_share};
    PyObject *keep = NULL, *res = NULL;
    const char **globs = NULL;
    if (funcs && funcs != Py_None && !(globs = sg_ext_str_array(funcs, &co.nglobs, &keep)))
        goto done;
    co.globs = globs;
    sg_diff_write_opts wo;
    sg_diff_write_opts_init(&wo);
    wo.base_label = base_label;
    wo.new_label = new_label;
    sg_buf out;
    sg_buf_init(&out);
    sg_error err;
    sg_error_clear(&err);
    sg_check_result r;
    memset(&r, 0, sizeof r);
    int n = -1;
    Py_BEGIN_ALLOW_THREADS
    sg_diff *d = sg_diff_new(base, new_p, &o, &err);
    if (d && (n = sg_diff_check(d, &co, &r, &err)) >= 0)
        sg_diff_check_write(d, &co, &r, &wo, &out);
    sg_diff_free(d);
    Py_END_ALLOW_THREADS
    if (n < 0) {
        sg_ext_raise(st, &err);
    } else if (sg_buf_failed(&out)) {
        PyErr_NoMemory();
    } else {
        PyObject *unmatched = Py_None;
        Py_INCREF(unmatched);
        if (r.unmatched_glob) {
            Py_DECREF(unmatched);
            unmatched = PyUnicode_FromString(globs[r.unmatched_glob - 1]);
        }
        if (unmatched)
            res = Py_BuildValue("(iNy#)", n, unmatched, out.data ? out.data : "",
                                (Py_ssize_t)out.len);
    }
    sg_check_result_free(&r);
    sg_buf_free(&out);
done:
    PyMem_Free(globs);
    Py_XDECREF(keep);
    return res;
}
