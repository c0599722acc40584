/* Re-interning one profile into another: the basis of sg_profile_merge (processes,
 * per-thread partial profiles) and of sg_profile_filter (which copies into a new
 * profile). Trie nodes are translated in id order, which works because a node is
 * always created after its parent. */
#include <stdlib.h>
#include <string.h>

#include "sg_profile.h"
#include "sg_profile_impl.h"

static uint32_t *ids_new(size_t n)
{
    return malloc((n ? n : 1) * sizeof(uint32_t));
}

void sg_profile_remap_free(sg_profile_remap *r)
{
    free(r->str);
    free(r->fn);
    free(r->loc);
    free(r->proc);
    free(r->trk);
    memset(r, 0, sizeof *r);
}

uint32_t sg_profile_remap_str(const sg_profile *src, const sg_profile_remap *r, uint32_t id)
{
    return id < sg_profile_nstrings(src) ? r->str[id] : 0;
}

static int nomem(sg_profile *dst, sg_error *err)
{
    sg_profile_set_oom(dst);
    return sg_fail(err, SG_E_NOMEM, 0, "out of memory while copying a profile");
}

static int remap_processes(sg_profile *dst, const sg_profile *src, sg_profile_remap *r)
{
    size_t n = sg_profile_nprocesses(src);
    const sg_process *sp = sg_profile_processes_c(src);
    for (size_t i = 0; i < n; i++) {
        uint32_t id = sg_profile_process(dst, sp[i].pid);
        if (id == SG_NONE)
            return -1;
        sg_process *dp = &sg_profile_processes(dst)[id];
        if (!dp->cmdline)
            dp->cmdline = sg_profile_remap_str(src, r, sp[i].cmdline);
        if (!dp->python_version)
            dp->python_version = sg_profile_remap_str(src, r, sp[i].python_version);
        dp->samples_ok += sp[i].samples_ok;
        dp->samples_failed += sp[i].samples_failed;
        r->proc[i] = id;
    }
    size_t nt = sg_profile_ntracks(src);
    const sg_track *st = sg_profile_tracks_c(src);
    for (size_t i = 0; i < nt; i++) {
        uint32_t id = sg_profile_track(dst, r->proc[st[i].process], st[i].tid);
        if (id == SG_NONE)
            return -1;
        sg_track *dt = &sg_profile_tracks(dst)[id];
        if (!dt->name)
            dt->name = sg_profile_remap_str(src, r, st[i].name);
        dt->is_main = dt->is_main || st[i].is_main;
        r->trk[i] = id;
    }
    return 0;
}

int sg_profile_remap_build(sg_profile *dst, const sg_profile *src, sg_profile_remap *r,
                           sg_error *err)
{
    memset(r, 0, sizeof *r);
    size_t ns = sg_profile_nstrings(src), nf = sg_profile_nfunctions(src);
    size_t nl = sg_profile_nlocations(src);
    r->str = ids_new(ns);
    r->fn = ids_new(nf);
    r->loc = ids_new(nl);
    r->proc = ids_new(sg_profile_nprocesses(src));
    r->trk = ids_new(sg_profile_ntracks(src));
    if (!r->str || !r->fn || !r->loc || !r->proc || !r->trk)
        return nomem(dst, err);
    for (size_t i = 0; i < ns; i++) {
        r->str[i] = sg_profile_intern(dst, sg_profile_str(src, (uint32_t)i),
                                      sg_profile_str_len(src, (uint32_t)i));
        if (r->str[i] == SG_NONE)
            return nomem(dst, err);
    }
    const sg_function *f = sg_profile_functions(src);
    for (size_t i = 0; i < nf; i++) {
        r->fn[i] = sg_profile_function(dst, r->str[f[i].name], r->str[f[i].filename],
                                       f[i].first_line);
        if (r->fn[i] == SG_NONE)
            return nomem(dst, err);
    }
    const sg_location *l = sg_profile_locations(src);
    for (size_t i = 0; i < nl; i++) {
        r->loc[i] = sg_profile_location(dst, r->fn[l[i].function], l[i].line);
        if (r->loc[i] == SG_NONE)
            return nomem(dst, err);
    }
    if (remap_processes(dst, src, r))
        return nomem(dst, err);
    return 0;
}

int sg_profile_merge(sg_profile *dst, const sg_profile *src, sg_error *err)
{
    const sg_profile_meta *sm = sg_profile_meta_get(src);
    sg_profile_meta *dm = sg_profile_meta_of(dst);
    if (sm->n_values != dm->n_values) {
        /* an empty destination simply takes the source's columns */
        if (sg_profile_nrecords(dst))
            return sg_fail(err, SG_E_ARG, 0,
                           "cannot merge profiles with %u and %u value columns",
                           sm->n_values, dm->n_values);
        const char *types[SG_MAX_VALUES], *units[SG_MAX_VALUES];
        for (uint32_t i = 0; i < sm->n_values; i++) {
            types[i] = sg_profile_str(src, sm->value_type[i]);
            units[i] = sg_profile_str(src, sm->value_unit[i]);
        }
        if (sg_profile_set_value_types(dst, sm->n_values, types, units))
            return nomem(dst, err);
    }
    sg_profile_remap r;
    uint32_t *nodes = NULL, *recs = NULL;
    int rc = -1;
    if (sg_profile_remap_build(dst, src, &r, err))
        goto out;
    size_t nn = sg_profile_nnodes(src);
    nodes = ids_new(nn);
    if (!nodes) {
        nomem(dst, err);
        goto out;
    }
    const sg_node *sn = sg_profile_nodes(src);
    nodes[0] = SG_ROOT;
    for (size_t i = 1; i < nn; i++) {
        nodes[i] = sg_profile_child(dst, nodes[sn[i].parent], r.loc[sn[i].location]);
        if (nodes[i] == SG_NONE) {
            nomem(dst, err);
            goto out;
        }
    }
    size_t nr = sg_profile_nrecords(src);
    const sg_record *rec = sg_profile_records(src);
    size_t ntl = sg_profile_timeline_len(src);
    if (ntl && !(recs = ids_new(nr))) {
        nomem(dst, err);
        goto out;
    }
    for (size_t i = 0; i < nr; i++) {
        uint32_t t = r.trk[rec[i].track], n = nodes[rec[i].node];
        if (sg_profile_add(dst, t, n, rec[i].flags, rec[i].values)) {
            nomem(dst, err);
            goto out;
        }
        if (recs)
            recs[i] = sg_profile_record_find(dst, t, n, rec[i].flags);
    }
    /* src's events follow dst's: writers order each track's events by time */
    const sg_tl_event *ev = sg_profile_timeline(src);
    for (size_t i = 0; i < ntl; i++) {
        if (sg_profile_timeline_add_record(dst, recs[ev[i].record], ev[i].t_ns)) {
            nomem(dst, err);
            goto out;
        }
    }
    rc = 0;
out:
    free(recs);
    free(nodes);
    sg_profile_remap_free(&r);
    return rc;
}
