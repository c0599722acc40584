/* Walk every thread of a fake image and resolve every frame, twice (the second pass
 * goes through the symbol cache's validation and hits). Shared by fuzz_walk and
 * fuzz_debug_offsets. */
#ifndef SG_WALK_ONCE_H
#define SG_WALK_ONCE_H

#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/sample/sg_symbols.h"
#include "../../src/core/walk/sg_walk.h"
#include "fake_image.h"
#include "sg_fuzz.h"

static inline void fi_walk_and_resolve(const uint8_t *img, const sg_target *t)
{
    sg_reader *r = fi_reader(img);
    if (!r)
        return;
    sg_error err;
    sg_walker *w = sg_walker_new(r, t, &err);
    sg_profile *p = sg_profile_new();
    sg_symbols *sym = w && p ? sg_symbols_new(r, t, p, "/boot/strap.py", &err) : NULL;
    sg_walk_result res;
    sg_walk_result_init(&res);
    for (int pass = 0; sym && pass < 2; pass++) {
        if (sg_walk(w, &res, &err) != 0)
            break;
        SG_FUZZ_ASSERT(res.nthreads <= SG_MAX_THREADS);
        for (size_t i = 0; i < res.nthreads; i++) {
            const sg_raw_thread *th = &res.threads[i];
            SG_FUZZ_ASSERT(th->first_frame + (size_t)th->nframes <= res.nframes);
            SG_FUZZ_ASSERT(th->nframes <= SG_MAX_FRAMES);
        }
        sg_symbols_validate(sym, res.frames, res.nframes);
        for (size_t i = 0; i < res.nframes; i++) {
            uint32_t loc = SG_NONE;
            if (sg_symbols_resolve(sym, &res.frames[i], &loc) == SG_SYM_OK)
                SG_FUZZ_ASSERT(loc < sg_profile_nlocations(p));
        }
    }
    sg_walk_result_free(&res);
    sg_symbols_free(sym);
    sg_walker_free(w);
    sg_profile_free(p);
    sg_reader_free(r);
}

#endif
