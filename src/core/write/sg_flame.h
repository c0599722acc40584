/* The flame graph's tree, laid out: shared by the SVG flame graph and reusable by any
 * writer that draws stacks as nested boxes (a differential flame graph, an icicle).
 *
 * Frames are merged by function along each path (two lines of one function in the same
 * caller are one frame), under synthetic levels: the root ("all"), a "process PID"
 * level when the profile holds several processes, a "thread NAME (TID)" level when
 * per_thread is set, and a "[partial]" level for stacks that could not be read to
 * their root. Widths are values in the view's column; a frame's start is its offset
 * from the left edge in the same units, so a drawing scales by one factor.
 *
 * Work grows with the records, their stacks' lengths and the frames wide enough to
 * draw; memory with the trie and the records; neither with the samples. */
#ifndef SG_FLAME_H
#define SG_FLAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sg_map.h"
#include "sg_write_common.h"

typedef enum {
    SG_FLAME_ROOT = 0, /* "all" */
    SG_FLAME_PROCESS,  /* id: process index */
    SG_FLAME_THREAD,   /* id: track index */
    SG_FLAME_PARTIAL,  /* "[partial]": the stack below could not be read to its root */
    SG_FLAME_FUNCTION, /* id: function id */
    SG_FLAME_OTHER,    /* siblings too narrow to draw, merged; id: how many */
} sg_flame_kind;

typedef struct sg_flame_node {
    uint32_t parent;       /* SG_NONE for the root */
    uint32_t first_child;  /* SG_NONE when none; after sg_flame_layout, widest first */
    uint32_t next_sibling; /* SG_NONE when last */
    uint32_t depth;        /* root 0 */
    uint32_t kind;         /* sg_flame_kind */
    uint32_t id;
    int64_t total; /* the subtree's value */
    int64_t self;  /* value with this frame as the leaf */
    int64_t aux;   /* the aux column with this frame as the leaf (traced: calls) */
    int64_t start; /* offset of the left edge from the root's, in value units */
} sg_flame_node;

typedef struct sg_flame {
    sg_flame_node *nodes; /* node 0 is the root */
    size_t n, cap;
    uint32_t max_depth; /* of the frames reachable after layout */
    bool has_aux;
    sg_map index; /* (parent, kind, id) -> node */
} sg_flame;

typedef struct sg_flame_opts {
    uint32_t track;  /* SG_NONE: every track */
    bool per_thread; /* a thread level under the root (and a process level if several) */
    int64_t min_value; /* a frame narrower gets no children (what sg_flame_layout with
                        * the same min_value leaves out); 0: the whole tree */
} sg_flame_opts;

/* Builds the tree of the records counted by c's view. Records with a value <= 0 are
 * left out (a flame graph cannot draw negative widths). For traced profiles the aux
 * column is the calls (hits) column. -1 when out of memory; sg_flame_free is safe
 * either way. */
int sg_flame_build(sg_flame *f, const sg_wc_ctx *c, const sg_flame_opts *o);
/* The root's total sg_flame_build would give (to choose min_value first). */
int64_t sg_flame_grand(const sg_wc_ctx *c, const sg_flame_opts *o);

/* Orders every frame's children widest first (ties by name, so output is
 * deterministic), merges the children narrower than min_value into one SG_FLAME_OTHER
 * frame (left out too when even the merged width is below min_value) and assigns
 * starts. Frames left out are unreachable from the root. -1 when out of memory. */
int sg_flame_layout(sg_flame *f, const sg_profile *p, int64_t min_value);

void sg_flame_free(sg_flame *f);

/* The frame's label: the function's name, "thread NAME (TID)", "process PID", "all",
 * "[partial]" or "[N small frames]"; not escaped. */
void sg_flame_label(const sg_flame *f, const sg_profile *p, uint32_t node, sg_buf *out);

#endif
