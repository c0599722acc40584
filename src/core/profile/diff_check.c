/* The regression guard behind `spyglass check`: which functions of a diff grew beyond
 * the allowed relative growth AND beyond the noise bound of the change.
 *
 * Both conditions are needed in CI: a relative threshold alone fails builds on small
 * functions whose share wobbles from run to run, and a noise test alone fails them on
 * real but negligible changes once profiles are long. Functions that exist only in NEW
 * are counted, not judged (a renamed function is not a regression). */
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "sg_diff.h"

bool sg_diff_glob_match(const char *glob, const char *file, const char *name)
{
    if (!strchr(glob, ':'))
        return fnmatch(glob, name, 0) == 0;
    size_t lf = strlen(file), ln = strlen(name);
    char stack_buf[512];
    char *s = lf + ln + 2 <= sizeof stack_buf ? stack_buf : malloc(lf + ln + 2);
    if (!s)
        return false;
    memcpy(s, file, lf);
    s[lf] = ':';
    memcpy(s + lf + 1, name, ln + 1);
    bool ok = fnmatch(glob, s, 0) == 0;
    if (s != stack_buf)
        free(s);
    return ok;
}

/* Index + 1 of the first glob this row's function matches, 0 for none. */
static size_t glob_hit(const sg_diff *d, const sg_diff_row *r, const sg_check_opts *o,
                       bool *matched)
{
    size_t hit = 0;
    for (int s = 0; s < 2; s++) {
        if (r->fn[s] == SG_NONE)
            continue;
        const sg_profile *p = d->in[s].p;
        const sg_function *f = &sg_profile_functions(p)[r->fn[s]];
        const char *name = sg_profile_str(p, f->name), *file = sg_profile_str(p, f->filename);
        for (size_t g = 0; g < o->nglobs; g++)
            if (o->globs[g] && sg_diff_glob_match(o->globs[g], file, name)) {
                matched[g] = true;
                if (!hit)
                    hit = g + 1;
            }
    }
    return hit;
}

int sg_diff_check(const sg_diff *d, const sg_check_opts *o, sg_check_result *r,
                  sg_error *err)
{
    memset(r, 0, sizeof *r);
    for (int s = 0; s < 2; s++)
        if (d->in[s].grand <= 0)
            return sg_fail(err, SG_E_ARG, 0, "the %s profile holds no samples",
                           s ? "new" : "baseline");
    if (o->time && (d->in[0].sec_per_unit <= 0 || d->in[1].sec_per_unit <= 0))
        return sg_fail(err, SG_E_ARG, 0,
                       "%s profile does not record time; compare shares instead",
                       d->in[0].sec_per_unit <= 0 ? "the baseline" : "the new");
    bool *matched = calloc(o->nglobs ? o->nglobs : 1, sizeof *matched);
    size_t cap = 0;
    if (!matched)
        return sg_fail(err, SG_E_NOMEM, 0, "out of memory while checking");
    for (size_t i = 0; i < d->nfuncs; i++) {
        const sg_diff_row *row = &d->funcs[i];
        if (o->nglobs && !glob_hit(d, row, o, matched))
            continue;
        if (row->status == SG_DIFF_ADDED)
            r->added++;
        if (row->status != SG_DIFF_CHANGED)
            continue;
        const sg_diff_side *b = &row->side[0], *n = &row->side[1];
        bool total = o->metric == SG_DIFF_TOTAL;
        double sb = total ? b->total_share : b->self_share;
        double sn = total ? n->total_share : n->self_share;
        if ((sb < o->min_share && sn < o->min_share) || (sb <= 0 && sn <= 0))
            continue;
        r->compared++;
        double before = sb, after = sn, bound = sg_diff_noise(row, o->metric);
        if (o->time) {
            before = sg_diff_seconds(d, 0, total ? b->total : b->self);
            after = sg_diff_seconds(d, 1, total ? n->total : n->self);
            bound = sg_diff_time_noise(d, row, o->metric);
        }
        double growth = before > 0 ? after / before - 1 : after > 0 ? INFINITY : 0;
        if (growth <= o->max_regression)
            continue;
        if (after - before <= bound) {
            r->noisy++;
            continue;
        }
        if (!sg_grow((void **)&r->items, &cap, r->n + 1, sizeof *r->items, 16)) {
            free(matched);
            sg_check_result_free(r);
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while checking");
        }
        r->items[r->n++] = (sg_check_finding){row, before, after, growth, bound};
    }
    for (size_t g = 0; g < o->nglobs && !r->unmatched_glob; g++)
        if (!matched[g])
            r->unmatched_glob = g + 1;
    free(matched);
    return (int)r->n;
}

void sg_check_result_free(sg_check_result *r)
{
    free(r->items);
    memset(r, 0, sizeof *r);
}
