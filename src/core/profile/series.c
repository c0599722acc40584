/* Profiles of consecutive intervals, for live views (spyglass top): the sampler hands
 * over the profile of the last interval and goes on into a fresh one, and the viewer
 * adds intervals up into a recent window and a whole run.
 *
 * The fresh profile must accept the ids the sampler has cached (its symbol cache maps
 * code objects to function ids, its per-process slot to a process id), so it starts as
 * a copy of everything but the samples, at the very same ids. */
#include <stdlib.h>
#include <string.h>

#include "sg_profile.h"
#include "sg_profile_impl.h"

static bool identity(const uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] != i)
            return false;
    return true;
}

static int copy_meta_and_attrs(sg_profile *dst, const sg_profile *src)
{
    const sg_profile_meta *sm = sg_profile_meta_get(src);
    const char *types[SG_MAX_VALUES], *units[SG_MAX_VALUES];
    for (uint32_t i = 0; i < sm->n_values && i < SG_MAX_VALUES; i++) {
        types[i] = sg_profile_str(src, sm->value_type[i]);
        units[i] = sg_profile_str(src, sm->value_unit[i]);
    }
    if (sg_profile_set_value_types(dst, sm->n_values, types, units))
        return -1;
    sg_profile_meta *dm = sg_profile_meta_of(dst);
    dm->mode = sm->mode;
    dm->clock = sm->clock;
    dm->rate_hz = sm->rate_hz;
    dm->interval_ns = sm->interval_ns;
    for (size_t i = 0; i < sg_profile_nattrs(src); i++) {
        const char *k, *v;
        sg_profile_attr_at(src, i, &k, &v);
        if (sg_profile_set_attr(dst, k, v))
            return -1;
    }
    return 0;
}

sg_profile *sg_profile_new_like(const sg_profile *src, sg_error *err)
{
    sg_profile *dst = sg_profile_new();
    if (!dst) {
        sg_fail(err, SG_E_NOMEM, 0, "allocating a profile");
        return NULL;
    }
    if (copy_meta_and_attrs(dst, src)) {
        sg_profile_free(dst);
        sg_fail(err, SG_E_NOMEM, 0, "allocating a profile");
        return NULL;
    }
    sg_profile_remap r;
    if (sg_profile_remap_build(dst, src, &r, err)) {
        sg_profile_remap_free(&r);
        sg_profile_free(dst);
        return NULL;
    }
    /* Items of src are distinct, so re-interning them into an empty profile in id order
     * gives each its own id back; anything else means src was not deduplicated. */
    bool same = identity(r.str, sg_profile_nstrings(src)) &&
                identity(r.fn, sg_profile_nfunctions(src)) &&
                identity(r.loc, sg_profile_nlocations(src)) &&
                identity(r.proc, sg_profile_nprocesses(src)) &&
                identity(r.trk, sg_profile_ntracks(src));
    sg_profile_remap_free(&r);
    if (!same) {
        sg_profile_free(dst);
        sg_fail(err, SG_E_INVALID, 0, "the profile holds duplicate items");
        return NULL;
    }
    sg_process *pr = sg_profile_processes(dst);
    for (size_t i = 0; i < sg_profile_nprocesses(dst); i++)
        pr[i].samples_ok = pr[i].samples_failed = 0; /* counted anew */
    return dst;
}

/* An empty destination has neither samples nor time yet: it takes src's settings. */
static bool is_blank(const sg_profile *p)
{
    const sg_profile_meta *m = sg_profile_meta_get(p);
    return sg_profile_nrecords(p) == 0 && m->duration_ns == 0 && m->ticks_taken == 0;
}

int sg_profile_append(sg_profile *dst, const sg_profile *src, sg_error *err)
{
    if (is_blank(dst)) {
        if (copy_meta_and_attrs(dst, src))
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while adding a profile");
        sg_profile_meta_of(dst)->start_wall_ns = sg_profile_meta_get(src)->start_wall_ns;
    }
    if (sg_profile_merge(dst, src, err))
        return -1;
    const sg_profile_meta *sm = sg_profile_meta_get(src);
    sg_profile_meta *dm = sg_profile_meta_of(dst);
    if (sm->start_wall_ns && (!dm->start_wall_ns || sm->start_wall_ns < dm->start_wall_ns))
        dm->start_wall_ns = sm->start_wall_ns;
    dm->duration_ns += sm->duration_ns;
    dm->ticks_requested += sm->ticks_requested;
    dm->ticks_taken += sm->ticks_taken;
    if (dm->ticks_taken)
        dm->interval_ns = dm->duration_ns / (int64_t)dm->ticks_taken;
    return 0;
}
