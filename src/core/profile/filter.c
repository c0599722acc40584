/* Report filters (--threads main, --include/--exclude, --exclude-syspath): a new
 * profile in which dropped frames are cut out of every stack. Their time stays with
 * the nearest kept caller, and a stack left with no frame goes under "[filtered]" at
 * the root, so shares stay relative to the whole run.
 *
 * The decision is made once per function (all locations of a function share a file),
 * and only the stacks that records actually use are rebuilt, so filtering costs the
 * size of the profile, not of the run. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "sg_profile.h"
#include "sg_profile_impl.h"

/* Standard library and third-party code by path, a heuristic that needs no knowledge
 * of the target's sys.path:
 *   ".../lib/python3.N/..." or ".../lib64/python3.N/..."  the standard library (and
 *                                  any venv's site-packages below it)
 *   ".../site-packages/...", ".../dist-packages/..."      installed packages (Debian
 *                                  uses dist-packages), wherever they live
 *   "<frozen ...>"                 frozen standard modules (importlib, os, ...)
 * A user's own file only matches if it lives in such a directory. */
bool sg_path_is_syspath(const char *path)
{
    if (!path)
        return false;
    return strncmp(path, "<frozen ", 8) == 0 || strstr(path, "/lib/python3.") ||
           strstr(path, "/lib64/python3.") || strstr(path, "/site-packages/") ||
           strstr(path, "/dist-packages/");
}

/* fnmatch(3) without FNM_PATHNAME, so '*' also matches '/' and a pattern such as
 * "*" "/tests/" "*" (written without the quotes) matches a whole tree. A pattern without '/' is also tried against the file's base name, so
 * "test_*.py" means what a user expects. */
bool sg_path_match(const char *pattern, const char *path)
{
    if (fnmatch(pattern, path, 0) == 0)
        return true;
    if (strchr(pattern, '/'))
        return false;
    const char *base = strrchr(path, '/');
    return base && fnmatch(pattern, base + 1, 0) == 0;
}

static bool keep_file(const sg_filter *f, const char *path)
{
    if (f->exclude_syspath && sg_path_is_syspath(path))
        return false;
    if (f->n_include) {
        bool any = false;
        for (size_t i = 0; i < f->n_include && !any; i++)
            any = f->include[i] && sg_path_match(f->include[i], path);
        if (!any)
            return false;
    }
    for (size_t i = 0; i < f->n_exclude; i++)
        if (f->exclude[i] && sg_path_match(f->exclude[i], path))
            return false;
    return true;
}

static int copy_meta(sg_profile *q, const sg_profile *p)
{
    const sg_profile_meta *m = sg_profile_meta_get(p);
    const char *types[SG_MAX_VALUES], *units[SG_MAX_VALUES];
    uint32_t n = m->n_values <= SG_MAX_VALUES ? m->n_values : SG_MAX_VALUES;
    for (uint32_t i = 0; i < n; i++) {
        types[i] = sg_profile_str(p, m->value_type[i]);
        units[i] = sg_profile_str(p, m->value_unit[i]);
    }
    if (sg_profile_set_value_types(q, n, types, units))
        return -1;
    sg_profile_meta *qm = sg_profile_meta_of(q);
    sg_profile_meta keep = *qm;
    *qm = *m;
    qm->n_values = keep.n_values;
    memcpy(qm->value_type, keep.value_type, sizeof keep.value_type);
    memcpy(qm->value_unit, keep.value_unit, sizeof keep.value_unit);
    for (size_t i = 0; i < sg_profile_nattrs(p); i++) {
        const char *k, *v;
        sg_profile_attr_at(p, i, &k, &v);
        if (sg_profile_set_attr(q, k, v))
            return -1;
    }
    return 0;
}

typedef struct filter_run {
    const sg_profile *p;
    sg_profile *q;
    sg_profile_remap r;
    bool *keep;       /* by p's function id */
    uint32_t *map;    /* p's node -> q's node, SG_NONE until resolved */
    uint32_t *chain;  /* scratch: unresolved ancestors */
    uint32_t *recs;   /* p's record -> q's record (only with a timeline) */
    uint32_t filtered; /* q's location of "[filtered]", SG_NONE until needed */
} filter_run;

/* q's node for p's node n; SG_NONE when memory runs out. */
static uint32_t resolve(filter_run *fr, uint32_t n)
{
    const sg_node *nodes = sg_profile_nodes(fr->p);
    const sg_location *loc = sg_profile_locations(fr->p);
    size_t depth = 0;
    while (fr->map[n] == SG_NONE) {
        fr->chain[depth++] = n;
        n = nodes[n].parent;
    }
    uint32_t q = fr->map[n];
    while (depth--) {
        n = fr->chain[depth];
        uint32_t l = nodes[n].location;
        if (fr->keep[loc[l].function]) {
            q = sg_profile_child(fr->q, q, fr->r.loc[l]);
            if (q == SG_NONE)
                return SG_NONE;
        }
        fr->map[n] = q;
    }
    return q;
}

static uint32_t filtered_node(filter_run *fr)
{
    if (fr->filtered == SG_NONE) {
        uint32_t name = sg_profile_intern(fr->q, "[filtered]", 10);
        uint32_t fn = sg_profile_function(fr->q, name, 0, 0);
        fr->filtered = sg_profile_location(fr->q, fn, 0);
    }
    return sg_profile_child(fr->q, SG_ROOT, fr->filtered);
}

static int run(filter_run *fr, const sg_filter *f, sg_error *err)
{
    const sg_profile *p = fr->p;
    size_t nf = sg_profile_nfunctions(p), nn = sg_profile_nnodes(p);
    const sg_function *fn = sg_profile_functions(p);
    const sg_node *nodes = sg_profile_nodes(p);
    uint32_t maxdepth = 0;
    for (size_t i = 0; i < nn; i++)
        maxdepth = nodes[i].depth > maxdepth ? nodes[i].depth : maxdepth;
    fr->keep = malloc((nf ? nf : 1) * sizeof *fr->keep);
    fr->map = malloc(nn * sizeof *fr->map);
    fr->chain = malloc(((size_t)maxdepth + 1) * sizeof *fr->chain);
    if (!fr->keep || !fr->map || !fr->chain)
        return -1;
    for (size_t i = 0; i < nf; i++)
        fr->keep[i] = keep_file(f, sg_profile_str(p, fn[i].filename));
    memset(fr->map, 0xff, nn * sizeof *fr->map);
    fr->map[SG_ROOT] = SG_ROOT;
    if (copy_meta(fr->q, p) || sg_profile_remap_build(fr->q, p, &fr->r, err))
        return -1;
    const sg_track *tracks = sg_profile_tracks_c(p);
    const sg_record *rec = sg_profile_records(p);
    const sg_location *loc = sg_profile_locations(p);
    bool traced = sg_profile_meta_get(p)->mode != SG_MODE_SAMPLE;
    size_t nr = sg_profile_nrecords(p), ntl = sg_profile_timeline_len(p);
    if (ntl && !(fr->recs = malloc((nr ? nr : 1) * sizeof *fr->recs)))
        return -1;
    for (size_t i = 0; i < nr; i++) {
        if (fr->recs)
            fr->recs[i] = SG_NONE;
        if (f->main_thread_only && !tracks[rec[i].track].is_main)
            continue;
        uint32_t n = resolve(fr, rec[i].node);
        if (n == SG_ROOT && rec[i].node != SG_ROOT)
            n = filtered_node(fr);
        uint32_t t = fr->r.trk[rec[i].track];
        /* A traced record's first value counts calls (or hits) of its leaf: when the
         * leaf is dropped its time goes to the caller, but its calls are not the
         * caller's. */
        int64_t vals[SG_MAX_VALUES];
        memcpy(vals, rec[i].values, sizeof vals);
        if (traced && rec[i].node != SG_ROOT &&
            !fr->keep[loc[nodes[rec[i].node].location].function])
            vals[0] = 0;
        if (n == SG_NONE || sg_profile_add(fr->q, t, n, rec[i].flags, vals))
            return -1;
        if (fr->recs)
            fr->recs[i] = sg_profile_record_find(fr->q, t, n, rec[i].flags);
    }
    /* the timeline follows its records; events of dropped threads go with them */
    const sg_tl_event *ev = sg_profile_timeline(p);
    for (size_t i = 0; i < ntl; i++)
        if (fr->recs[ev[i].record] != SG_NONE &&
            sg_profile_timeline_add_record(fr->q, fr->recs[ev[i].record], ev[i].t_ns))
            return -1;
    return sg_profile_oom(fr->q) ? -1 : 0;
}

sg_profile *sg_profile_filter(const sg_profile *p, const sg_filter *f, sg_error *err)
{
    static const sg_filter none = {0};
    filter_run fr;
    memset(&fr, 0, sizeof fr);
    fr.p = p;
    fr.q = sg_profile_new();
    fr.filtered = SG_NONE;
    int rc = fr.q ? run(&fr, f ? f : &none, err) : -1;
    free(fr.keep);
    free(fr.map);
    free(fr.chain);
    free(fr.recs);
    sg_profile_remap_free(&fr.r);
    if (rc) {
        sg_profile_free(fr.q);
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while filtering the profile");
        return NULL;
    }
    return fr.q;
}
