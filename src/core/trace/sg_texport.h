/* Turning traced threads into the profile model (see the conventions in
 * sg_profile.h): each thread's tree becomes records of one track, with values
 * (calls or hits, self nanoseconds). Tree keys are already location ids of the
 * destination profile (the engine interns functions and locations as it meets them). */
#ifndef SG_TEXPORT_H
#define SG_TEXPORT_H

#include <stdint.h>

#include "../base/sg_error.h"
#include "../profile/sg_profile.h"
#include "sg_tthread.h"

/* Declares the two value columns of a traced profile and sets mode and clock. */
int sg_trace_profile_init(sg_profile *p, sg_mode mode, sg_clock_kind clock);

/* Adds th's tree to p under track. Self times are clamped at zero (bias subtraction
 * can take a node slightly below) and converted with ns_per_tick. Functions whose id
 * has drop[id] != 0 are cut out: their time goes to the nearest kept caller and their
 * counts vanish; time with no kept frame left is not recorded. drop may be NULL;
 * ids >= ndrop are kept. -1 (SG_E_NOMEM) when memory runs out. */
int sg_tthread_export(const sg_tthread *th, sg_profile *p, uint32_t track,
                      double ns_per_tick, const uint8_t *drop, size_t ndrop, sg_error *err);

#endif
