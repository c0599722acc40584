/* spyglass._core.Profile: a handle on a C profile model. Rendering, filtering, saving
 * and the dict view used by the Python layer and the tests. */
#include "sg_ext.h"

#include "../core/base/sg_buf.h"
#include "../core/write/sg_rows.h"
#include "../core/write/sg_write.h"

PyObject *sg_ext_profile_wrap(sg_ext_state *st, sg_profile *p)
{
    sg_ext_profile *self = PyObject_New(sg_ext_profile, st->profile);
    if (!self) {
        sg_profile_free(p);
        return NULL;
    }
    self->p = p;
    return (PyObject *)self;
}

/* Profile(): an empty profile, to add interval profiles into (append). */
static PyObject *profile_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    if (PyTuple_GET_SIZE(args) || (kw && PyDict_GET_SIZE(kw))) {
        PyErr_SetString(PyExc_TypeError, "Profile() takes no arguments");
        return NULL;
    }
    sg_profile *p = sg_profile_new();
    if (!p)
        return PyErr_NoMemory();
    sg_ext_profile *self = PyObject_New(sg_ext_profile, type);
    if (!self) {
        sg_profile_free(p);
        return NULL;
    }
    self->p = p;
    return (PyObject *)self;
}

static void profile_dealloc(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    sg_profile_free(((sg_ext_profile *)o)->p);
    PyObject_Free(o);
    Py_DECREF(tp);
}

static sg_ext_state *state_of(PyObject *self) { return sg_ext_state_of_type(Py_TYPE(self)); }

static int parse_view(const char *v, sg_view *out)
{
    if (!v || !strcmp(v, "auto"))
        *out = SG_VIEW_AUTO;
    else if (!strcmp(v, "wall"))
        *out = SG_VIEW_WALL;
    else if (!strcmp(v, "cpu"))
        *out = SG_VIEW_CPU;
    else if (!strcmp(v, "gil"))
        *out = SG_VIEW_GIL;
    else {
        PyErr_Format(PyExc_ValueError, "unknown view %s (auto, wall, cpu, gil)", v);
        return -1;
    }
    return 0;
}

static PyObject *profile_render(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"format", "view", "per_thread", "max_rows", "min_share",
                             "context", "color", "relative_paths", "icicle", "sort", NULL};
    const char *format, *view = "auto", *sort = NULL;
    int per_thread = 0, max_rows = 0, context = 0, color = 0, relative_paths = 0, icicle = 0;
    double min_share = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|spidipppz", kwlist, &format, &view,
                                     &per_thread, &max_rows, &min_share, &context, &color,
                                     &relative_paths, &icicle, &sort))
        return NULL;
    sg_write_opts o;
    sg_write_opts_init(&o);
    if (parse_view(view, &o.view) != 0)
        return NULL;
    o.per_thread = per_thread;
    o.max_rows = max_rows;
    o.min_share = min_share;
    o.context = context;
    o.color = color;
    o.relative_paths = relative_paths;
    o.icicle = icicle;
    o.sort = sort;
    sg_buf out;
    sg_buf_init(&out);
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_write(((sg_ext_profile *)self)->p, format, &o, &out, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        sg_buf_free(&out);
        return sg_ext_raise(state_of(self), &err);
    }
    if (sg_buf_failed(&out)) {
        sg_buf_free(&out);
        return PyErr_NoMemory();
    }
    PyObject *res = PyBytes_FromStringAndSize(out.data ? out.data : "", (Py_ssize_t)out.len);
    sg_buf_free(&out);
    return res;
}

const char **sg_ext_str_array(PyObject *seq, size_t *n, PyObject **keep)
{
    *n = 0;
    *keep = PySequence_Fast(seq, "expected a sequence of str");
    if (!*keep)
        return NULL;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(*keep);
    const char **arr = PyMem_Calloc((size_t)len + 1, sizeof *arr);
    if (!arr) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        arr[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(*keep, i));
        if (!arr[i]) {
            PyMem_Free(arr);
            return NULL;
        }
    }
    *n = (size_t)len;
    return arr;
}

static PyObject *profile_filter(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"main_thread_only", "exclude_syspath", "include", "exclude", NULL};
    int main_only = 0, syspath = 0;
    PyObject *inc = NULL, *exc = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|ppOO", kwlist, &main_only, &syspath, &inc,
                                     &exc))
        return NULL;
    sg_filter f = {0};
    f.main_thread_only = main_only;
    f.exclude_syspath = syspath;
    PyObject *keep_inc = NULL, *keep_exc = NULL, *res = NULL;
    const char **inc_arr = NULL, **exc_arr = NULL;
    if (inc && inc != Py_None && !(inc_arr = sg_ext_str_array(inc, &f.n_include, &keep_inc)))
        goto done;
    if (exc && exc != Py_None && !(exc_arr = sg_ext_str_array(exc, &f.n_exclude, &keep_exc)))
        goto done;
    f.include = inc_arr;
    f.exclude = exc_arr;
    sg_error err;
    sg_error_clear(&err);
    sg_profile *p = sg_profile_filter(((sg_ext_profile *)self)->p, &f, &err);
    res = p ? sg_ext_profile_wrap(state_of(self), p) : sg_ext_raise(state_of(self), &err);
done:
    PyMem_Free(inc_arr);
    PyMem_Free(exc_arr);
    Py_XDECREF(keep_inc);
    Py_XDECREF(keep_exc);
    return res;
}

static PyObject *profile_save(PyObject *self, PyObject *arg)
{
    PyObject *bytes_path;
    if (!PyUnicode_FSConverter(arg, &bytes_path))
        return NULL;
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_profile_save(((sg_ext_profile *)self)->p, PyBytes_AS_STRING(bytes_path), &err);
    Py_END_ALLOW_THREADS
    Py_DECREF(bytes_path);
    if (rc != 0)
        return sg_ext_raise(state_of(self), &err);
    Py_RETURN_NONE;
}

static PyObject *profile_encode(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"gzip", NULL};
    int gz = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|p", kwlist, &gz))
        return NULL;
    void *data = NULL;
    size_t len = 0;
    sg_error err;
    sg_error_clear(&err);
    if (sg_profile_encode(((sg_ext_profile *)self)->p, gz, &data, &len, &err) != 0)
        return sg_ext_raise(state_of(self), &err);
    PyObject *res = PyBytes_FromStringAndSize(data, (Py_ssize_t)len);
    free(data);
    return res;
}

static PyObject *profile_merge(PyObject *self, PyObject *other)
{
    if (!PyObject_TypeCheck(other, Py_TYPE(self))) {
        PyErr_SetString(PyExc_TypeError, "merge() takes a Profile");
        return NULL;
    }
    sg_error err;
    sg_error_clear(&err);
    if (sg_profile_merge(((sg_ext_profile *)self)->p, ((sg_ext_profile *)other)->p, &err) != 0)
        return sg_ext_raise(state_of(self), &err);
    Py_RETURN_NONE;
}

static PyObject *profile_append(PyObject *self, PyObject *other)
{
    if (!PyObject_TypeCheck(other, Py_TYPE(self))) {
        PyErr_SetString(PyExc_TypeError, "append() takes a Profile");
        return NULL;
    }
    if (other == self) {
        PyErr_SetString(PyExc_ValueError, "cannot append a profile to itself");
        return NULL;
    }
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_profile_append(((sg_ext_profile *)self)->p, ((sg_ext_profile *)other)->p, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return sg_ext_raise(state_of(self), &err);
    Py_RETURN_NONE;
}

static PyObject *escaped_str(const sg_buf *b, size_t off)
{
    return PyUnicode_DecodeUTF8(b->data + off, (Py_ssize_t)strlen(b->data + off), "replace");
}

static PyObject *profile_top_rows(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"kind", "tid", "pid", "sort", "limit", "view", NULL};
    const char *kind = "functions", *sort = "self", *view = "auto";
    PyObject *tid_obj = Py_None;
    unsigned int pid = 0;
    Py_ssize_t limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|sOIsns", kwlist, &kind, &tid_obj, &pid, &sort,
                                     &limit, &view))
        return NULL;
    sg_rows_query q = {0};
    if (parse_view(view, &q.view) != 0)
        return NULL;
    if (!strcmp(kind, "functions"))
        q.kind = SG_ROWS_FUNCTIONS;
    else if (!strcmp(kind, "lines"))
        q.kind = SG_ROWS_LINES;
    else
        return PyErr_Format(PyExc_ValueError, "unknown kind %s (functions or lines)", kind);
    if (!strcmp(sort, "self"))
        q.sort = SG_ROWS_BY_SELF;
    else if (!strcmp(sort, "total"))
        q.sort = SG_ROWS_BY_TOTAL;
    else if (!strcmp(sort, "name"))
        q.sort = SG_ROWS_BY_NAME;
    else
        return PyErr_Format(PyExc_ValueError, "unknown sort %s (self, total or name)", sort);
    if (limit < 0)
        return PyErr_Format(PyExc_ValueError, "limit must be >= 0");
    q.limit = (size_t)limit;
    if (tid_obj != Py_None) {
        unsigned long long tid = PyLong_AsUnsignedLongLong(tid_obj);
        if (PyErr_Occurred())
            return NULL;
        q.one_thread = true;
        q.tid = tid;
        q.pid = pid;
    }
    sg_rows r;
    sg_error err;
    sg_error_clear(&err);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = sg_rows_build(((sg_ext_profile *)self)->p, &q, &r, &err);
    Py_END_ALLOW_THREADS
    if (rc != 0)
        return sg_ext_raise(state_of(self), &err);
    PyObject *list = PyList_New((Py_ssize_t)r.n);
    for (size_t i = 0; list && i < r.n; i++) {
        const sg_row *w = &r.rows[i];
        PyObject *t = Py_BuildValue("(NNiLL)", escaped_str(&r.text, w->name),
                                    escaped_str(&r.text, w->file), (int)w->line,
                                    (long long)w->self, (long long)w->total);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    long long grand = (long long)r.grand;
    sg_rows_free(&r);
    return list ? Py_BuildValue("(LN)", grand, list) : NULL;
}

static PyObject *profile_thread_states(PyObject *self, PyObject *unused)
{
    sg_thread_row *rows = NULL;
    size_t n = 0;
    sg_buf text;
    sg_buf_init(&text);
    sg_error err;
    sg_error_clear(&err);
    if (sg_rows_threads(((sg_ext_profile *)self)->p, &rows, &n, &text, &err) != 0) {
        sg_buf_free(&text);
        return sg_ext_raise(state_of(self), &err);
    }
    PyObject *list = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; list && i < n; i++) {
        const sg_thread_row *w = &rows[i];
        PyObject *t = Py_BuildValue("(IKNOLLLL)", (unsigned)w->pid, (unsigned long long)w->tid,
                                    escaped_str(&text, w->name), w->is_main ? Py_True : Py_False,
                                    (long long)w->samples, (long long)w->oncpu,
                                    (long long)w->gil, (long long)w->gilwait);
        if (!t) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, t);
    }
    free(rows);
    sg_buf_free(&text);
    return list;
}

static PyObject *profile_set_attr(PyObject *self, PyObject *args)
{
    const char *k, *v;
    if (!PyArg_ParseTuple(args, "ss", &k, &v))
        return NULL;
    if (sg_profile_set_attr(((sg_ext_profile *)self)->p, k, v) != 0)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *profile_get_attr(PyObject *self, PyObject *arg)
{
    const char *k = PyUnicode_AsUTF8(arg);
    if (!k)
        return NULL;
    const char *v = sg_profile_get_attr(((sg_ext_profile *)self)->p, k);
    if (!v)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(v, (Py_ssize_t)strlen(v), "replace");
}

/* For profiles put together from several runs (the pytest plugin's merged profile):
 * merge() adds samples but leaves the metadata of the first. */
static PyObject *profile_set_meta(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"duration_ns", "ticks_requested", "ticks_taken", NULL};
    sg_profile_meta *m = sg_profile_meta_of(((sg_ext_profile *)self)->p);
    long long duration = m->duration_ns;
    unsigned long long requested = m->ticks_requested, taken = m->ticks_taken;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|$LKK", kwlist, &duration, &requested,
                                     &taken))
        return NULL;
    if (duration < 0) {
        PyErr_SetString(PyExc_ValueError, "duration_ns must not be negative");
        return NULL;
    }
    m->duration_ns = duration;
    m->ticks_requested = requested;
    m->ticks_taken = taken;
    Py_RETURN_NONE;
}

static PyObject *profile_sample_counts(PyObject *self, PyObject *unused)
{
    const sg_profile *p = ((sg_ext_profile *)self)->p;
    const sg_process *pr = sg_profile_processes_c(p);
    unsigned long long ok = 0, failed = 0;
    for (size_t i = 0; i < sg_profile_nprocesses(p); i++) {
        ok += pr[i].samples_ok;
        failed += pr[i].samples_failed;
    }
    return Py_BuildValue("(KK)", ok, failed);
}

static PyObject *str_of(const sg_profile *p, uint32_t id)
{
    return PyUnicode_DecodeUTF8(sg_profile_str(p, id), (Py_ssize_t)sg_profile_str_len(p, id),
                                "replace");
}

/* The distinct file names of the profile's functions (for bundling sources). */
static PyObject *profile_filenames(PyObject *self, PyObject *unused)
{
    const sg_profile *p = ((sg_ext_profile *)self)->p;
    PyObject *set = PySet_New(NULL);
    const sg_function *fn = sg_profile_functions(p);
    for (size_t i = 0; set && i < sg_profile_nfunctions(p); i++) {
        PyObject *name = str_of(p, fn[i].filename);
        if (!name || PySet_Add(set, name) != 0)
            Py_CLEAR(set);
        Py_XDECREF(name);
    }
    if (!set)
        return NULL;
    PyObject *list = PySequence_List(set);
    Py_DECREF(set);
    if (list && PyList_Sort(list) != 0)
        Py_CLEAR(list);
    return list;
}

static int set_item(PyObject *d, const char *k, PyObject *v)
{
    if (!v)
        return -1;
    int rc = PyDict_SetItemString(d, k, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *meta_dict(const sg_profile *p)
{
    const sg_profile_meta *m = sg_profile_meta_get(p);
    static const char *const modes[] = {"sample", "trace", "lines"};
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    PyObject *types = PyList_New(0);
    for (uint32_t i = 0; types && i < m->n_values; i++) {
        PyObject *t = Py_BuildValue("(NN)", str_of(p, m->value_type[i]), str_of(p, m->value_unit[i]));
        if (!t || PyList_Append(types, t) != 0)
            Py_CLEAR(types);
        Py_XDECREF(t);
    }
    if (set_item(d, "mode", PyUnicode_FromString((unsigned)m->mode < 3 ? modes[m->mode] : "?")) ||
        set_item(d, "clock", PyUnicode_FromString(m->clock == SG_CLOCK_CPU ? "cpu" : "wall")) ||
        set_item(d, "rate_hz", PyFloat_FromDouble(m->rate_hz)) ||
        set_item(d, "start_wall_ns", PyLong_FromLongLong(m->start_wall_ns)) ||
        set_item(d, "duration_ns", PyLong_FromLongLong(m->duration_ns)) ||
        set_item(d, "interval_ns", PyLong_FromLongLong(m->interval_ns)) ||
        set_item(d, "ticks_requested", PyLong_FromUnsignedLongLong(m->ticks_requested)) ||
        set_item(d, "ticks_taken", PyLong_FromUnsignedLongLong(m->ticks_taken)) ||
        set_item(d, "value_types", types)) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *profile_meta(PyObject *self, PyObject *unused)
{
    return meta_dict(((sg_ext_profile *)self)->p);
}

/* The whole model as plain Python data: tables of functions, locations, nodes, tracks,
 * processes and records (each record with its stack as location ids, root first). */
static PyObject *profile_to_dict(PyObject *self, PyObject *unused)
{
    const sg_profile *p = ((sg_ext_profile *)self)->p;
    PyObject *d = PyDict_New(), *l;
    if (!d)
        return NULL;
    if (set_item(d, "meta", meta_dict(p)))
        goto fail;

    PyObject *attrs = PyDict_New();
    if (set_item(d, "attrs", attrs))
        goto fail;
    for (size_t i = 0; i < sg_profile_nattrs(p); i++) {
        const char *k, *v;
        sg_profile_attr_at(p, i, &k, &v);
        if (set_item(attrs, k, PyUnicode_DecodeUTF8(v, (Py_ssize_t)strlen(v), "replace")))
            goto fail;
    }

    const sg_function *fn = sg_profile_functions(p);
    if (set_item(d, "functions", l = PyList_New(0)))
        goto fail;
    for (size_t i = 0; i < sg_profile_nfunctions(p); i++) {
        PyObject *t = Py_BuildValue("(NNi)", str_of(p, fn[i].name), str_of(p, fn[i].filename),
                                    fn[i].first_line);
        if (!t || PyList_Append(l, t)) {
            Py_XDECREF(t);
            goto fail;
        }
        Py_DECREF(t);
    }
    const sg_location *loc = sg_profile_locations(p);
    if (set_item(d, "locations", l = PyList_New(0)))
        goto fail;
    for (size_t i = 0; i < sg_profile_nlocations(p); i++) {
        PyObject *t = Py_BuildValue("(Ii)", loc[i].function, loc[i].line);
        if (!t || PyList_Append(l, t)) {
            Py_XDECREF(t);
            goto fail;
        }
        Py_DECREF(t);
    }
    const sg_process *pr = sg_profile_processes_c(p);
    if (set_item(d, "processes", l = PyList_New(0)))
        goto fail;
    for (size_t i = 0; i < sg_profile_nprocesses(p); i++) {
        PyObject *t = Py_BuildValue("{sIsNsNsKsK}", "pid", pr[i].pid, "cmdline",
                                    str_of(p, pr[i].cmdline), "python",
                                    str_of(p, pr[i].python_version), "samples_ok",
                                    (unsigned long long)pr[i].samples_ok, "samples_failed",
                                    (unsigned long long)pr[i].samples_failed);
        if (!t || PyList_Append(l, t)) {
            Py_XDECREF(t);
            goto fail;
        }
        Py_DECREF(t);
    }
    const sg_track *tr = sg_profile_tracks_c(p);
    if (set_item(d, "tracks", l = PyList_New(0)))
        goto fail;
    for (size_t i = 0; i < sg_profile_ntracks(p); i++) {
        PyObject *t = Py_BuildValue("{sIsKsNsO}", "process", tr[i].process, "tid",
                                    (unsigned long long)tr[i].tid, "name",
                                    str_of(p, tr[i].name), "is_main",
                                    tr[i].is_main ? Py_True : Py_False);
        if (!t || PyList_Append(l, t)) {
            Py_XDECREF(t);
            goto fail;
        }
        Py_DECREF(t);
    }
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_record *rec = sg_profile_records(p);
    uint32_t nvalues = sg_profile_meta_get(p)->n_values;
    if (set_item(d, "records", l = PyList_New(0)))
        goto fail;
    for (size_t i = 0; i < sg_profile_nrecords(p); i++) {
        uint32_t depth = rec[i].node < sg_profile_nnodes(p) ? nodes[rec[i].node].depth : 0;
        PyObject *stack = PyList_New(depth);
        PyObject *vals = PyList_New(nvalues);
        if (!stack || !vals) {
            Py_XDECREF(stack);
            Py_XDECREF(vals);
            goto fail;
        }
        uint32_t n = rec[i].node;
        for (uint32_t k = depth; k > 0 && n != SG_NONE && n != SG_ROOT; k--) {
            PyList_SET_ITEM(stack, k - 1, PyLong_FromUnsignedLong(nodes[n].location));
            n = nodes[n].parent;
        }
        for (uint32_t k = 0; k < nvalues; k++)
            PyList_SET_ITEM(vals, k, PyLong_FromLongLong(rec[i].values[k]));
        PyObject *t = Py_BuildValue("{sIsIsNsN}", "track", rec[i].track, "flags", rec[i].flags,
                                    "stack", stack, "values", vals);
        if (!t || PyList_Append(l, t)) {
            Py_XDECREF(t);
            goto fail;
        }
        Py_DECREF(t);
    }
    /* the timeline: (record index, time in ns) per sample, in the order taken */
    const sg_tl_event *ev = sg_profile_timeline(p);
    if (set_item(d, "timeline", l = PyList_New(0)))
        goto fail;
    for (size_t i = 0; i < sg_profile_timeline_len(p); i++) {
        PyObject *t = Py_BuildValue("(IL)", ev[i].record, (long long)ev[i].t_ns);
        if (!t || PyList_Append(l, t)) {
            Py_XDECREF(t);
            goto fail;
        }
        Py_DECREF(t);
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

static PyMethodDef profile_methods[] = {
    {"render", (PyCFunction)(void (*)(void))profile_render, METH_VARARGS | METH_KEYWORDS,
     "render(format, view='auto', per_thread=False, max_rows=0, min_share=0.0, context=0, "
     "color=False, relative_paths=False, icicle=False, sort=None) -> bytes"},
    {"filenames", profile_filenames, METH_NOARGS, "filenames() -> sorted list of file names"},
    {"filter", (PyCFunction)(void (*)(void))profile_filter, METH_VARARGS | METH_KEYWORDS,
     "filter(main_thread_only=False, exclude_syspath=False, include=(), exclude=()) -> "
     "Profile"},
    {"save", profile_save, METH_O, "save(path): write the profile file (pprof, gzip), atomically"},
    {"encode", (PyCFunction)(void (*)(void))profile_encode, METH_VARARGS | METH_KEYWORDS,
     "encode(gzip=True) -> bytes"},
    {"merge", profile_merge, METH_O, "merge(other): add other's samples to this profile"},
    {"append", profile_append, METH_O,
     "append(other): add a following interval's samples and time (duration, ticks)"},
    {"top_rows", (PyCFunction)(void (*)(void))profile_top_rows, METH_VARARGS | METH_KEYWORDS,
     "top_rows(kind='functions'|'lines', tid=None, pid=0, sort='self'|'total'|'name', "
     "limit=0, view='auto') -> (grand, [(name, file, line, self, total)]); names escaped "
     "for a terminal"},
    {"thread_states", profile_thread_states, METH_NOARGS,
     "thread_states() -> [(pid, tid, name, is_main, samples, oncpu, gil, gilwait)] for "
     "threads with samples, by pid and tid"},
    {"meta", profile_meta, METH_NOARGS, "meta() -> dict: mode, clock, rate, duration, ticks"},
    {"set_attr", profile_set_attr, METH_VARARGS, "set_attr(key, value)"},
    {"get_attr", profile_get_attr, METH_O, "get_attr(key) -> str or None"},
    {"set_meta", (PyCFunction)(void (*)(void))profile_set_meta, METH_VARARGS | METH_KEYWORDS,
     "set_meta(*, duration_ns, ticks_requested, ticks_taken): after merging runs"},
    {"sample_counts", profile_sample_counts, METH_NOARGS,
     "sample_counts() -> (stacks read, stack reads that failed), over all processes"},
    {"to_dict", profile_to_dict, METH_NOARGS, "the whole model as plain data"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot profile_slots[] = {
    {Py_tp_new, profile_new},
    {Py_tp_dealloc, profile_dealloc},
    {Py_tp_methods, profile_methods},
    {Py_tp_doc, "A profile (sampled or traced): render it, filter it, save it."},
    {0, NULL},
};

PyType_Spec sg_ext_profile_spec = {
    .name = "spyglass._core.Profile",
    .basicsize = sizeof(sg_ext_profile),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = profile_slots,
};
