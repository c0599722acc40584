/* One writer per output format, all over the profile model only: a writer never reads
 * process memory and never prints progress. */
#ifndef SG_WRITE_H
#define SG_WRITE_H

#include <stdbool.h>

#include "../base/sg_buf.h"
#include "../base/sg_error.h"
#include "../profile/sg_profile.h"

typedef enum {
    SG_VIEW_AUTO = 0, /* wall for wall-clock profiles, cpu for cpu ones */
    SG_VIEW_WALL,     /* every sample */
    SG_VIEW_CPU,      /* samples on a CPU */
    SG_VIEW_GIL,      /* samples holding the GIL */
} sg_view;

typedef struct sg_write_opts {
    sg_view view;
    bool per_thread;  /* collapsed: a "thread NAME (TID)" root frame; text: sections */
    int max_rows;     /* text: rows per table (0 = default 15) */
    double min_share; /* tree: fold branches below this fraction of the total (0 = 0.005) */
    int context;      /* annotate: files to show (0 = default 5) */
    bool color;       /* ANSI colours in text output */
    bool relative_paths; /* callgrind: file names without their leading '/' (the zip) */
    bool icicle;      /* flamegraph: root at the top (inverted); html: the icicle first */
    const char *sort; /* traced function tables: the --sort key (NULL: cumulative) */
} sg_write_opts;

void sg_write_opts_init(sg_write_opts *o);

/* Renders p in format ("text", "tree", "annotate", "collapsed", ...) into out.
 * SG_E_FORMAT for an unknown format name. */
int sg_write(const sg_profile *p, const char *format, const sg_write_opts *o, sg_buf *out,
             sg_error *err);

/* The format names sg_write knows, comma-separated, for help and error messages. */
const char *sg_write_formats(void);

/* The sort keys of traced function tables (sg_write_opts.sort), comma-separated. */
const char *sg_write_trace_sort_keys(void);

#endif
