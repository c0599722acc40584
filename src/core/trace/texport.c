/* Converting traced threads into profile records (sg_texport.h). Tree nodes are
 * numbered parents first, so one pass in id order can map every node to its trie node. */
#include "sg_texport.h"

#include <stdlib.h>

int sg_trace_profile_init(sg_profile *p, sg_mode mode, sg_clock_kind clock)
{
    const char *types[2] = {mode == SG_MODE_LINES ? "hits" : "calls", "time"};
    const char *units[2] = {"count", "nanoseconds"};
    if (sg_profile_set_value_types(p, 2, types, units))
        return -1;
    sg_profile_meta *m = sg_profile_meta_of(p);
    m->mode = mode;
    m->clock = clock;
    m->rate_hz = 0;
    return 0;
}

int sg_tthread_export(const sg_tthread *th, sg_profile *p, uint32_t track,
                      double ns_per_tick, const uint8_t *drop, size_t ndrop, sg_error *err)
{
    const sg_ttree *t = &th->tree;
    uint32_t *map = malloc((t->n ? t->n : 1) * sizeof *map);
    if (!map)
        return sg_fail(err, SG_E_NOMEM, 0, "out of memory while exporting a traced thread");
    size_t nloc = sg_profile_nlocations(p);
    map[0] = SG_ROOT;
    int rc = 0;
    for (size_t i = 1; i < t->n && !rc; i++) {
        const sg_tnode *nd = &t->nodes[i];
        uint32_t parent = map[nd->parent];
        bool dropped = true;
        if (nd->key < nloc) {
            uint32_t fn = sg_profile_locations(p)[nd->key].function;
            dropped = drop && fn < ndrop && drop[fn];
        }
        map[i] = dropped ? parent : sg_profile_child(p, parent, nd->key);
        if (map[i] == SG_NONE) {
            rc = -1;
            break;
        }
        int64_t values[2] = {dropped ? 0 : (int64_t)nd->count,
                             nd->self > 0 ? (int64_t)((double)nd->self * ns_per_tick) : 0};
        if (map[i] == SG_ROOT || (!values[0] && !values[1]))
            continue;
        /* a CPU-clock trace holds on-CPU time only, which views that ask for it count */
        uint32_t flags = sg_profile_meta_get(p)->clock == SG_CLOCK_CPU ? SG_F_ONCPU : 0;
        rc = sg_profile_add(p, track, map[i], flags, values);
    }
    free(map);
    if (rc || sg_profile_oom(p))
        return sg_fail(err, SG_E_NOMEM, 0, "out of memory while exporting a traced thread");
    return 0;
}
