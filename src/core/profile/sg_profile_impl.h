/* Helpers shared by the model's own files (merge, filter); not for other units. */
#ifndef SG_PROFILE_IMPL_H
#define SG_PROFILE_IMPL_H

#include "sg_profile.h"

/* Marks p as having lost data to a failed allocation. */
void sg_profile_set_oom(sg_profile *p);

/* Id translation from one profile into another: every string, function, location,
 * process and track of src re-interned into dst. Arrays are indexed by src ids and
 * hold dst ids. */
typedef struct sg_profile_remap {
    uint32_t *str, *fn, *loc, *proc, *trk;
} sg_profile_remap;

/* Fills r (caller frees with sg_profile_remap_free, also after failure). Processes are
 * matched by pid and tracks by (process, tid); src's sampler counters are added to dst's,
 * and a missing cmdline, python version or thread name is taken from src.
 * Returns -1 with SG_E_NOMEM in err when memory runs out. */
int sg_profile_remap_build(sg_profile *dst, const sg_profile *src, sg_profile_remap *r,
                           sg_error *err);
void sg_profile_remap_free(sg_profile_remap *r);

/* Translates a string id through r; 0 ("") for an id src did not have. */
uint32_t sg_profile_remap_str(const sg_profile *src, const sg_profile_remap *r, uint32_t id);

#endif
