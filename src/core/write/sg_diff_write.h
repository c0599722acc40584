/* Renderers of a diff (sg_diff.h): text tables, JSON, a differential flame graph (SVG)
 * and one self-contained HTML page with both; and the regression guard's verdict.
 * Like every writer they read the model only and never print progress. */
#ifndef SG_DIFF_WRITE_H
#define SG_DIFF_WRITE_H

#include <stdbool.h>

#include "../base/sg_buf.h"
#include "../base/sg_error.h"
#include "../profile/sg_diff.h"

typedef struct sg_diff_write_opts {
    const char *base_label, *new_label; /* what the profiles are called (file names) */
    double min_change; /* hide rows whose change of the metric is below this (0..1) */
    int max_rows;      /* text and html: rows per table (0: 30 in text, 500 in html) */
    bool color;        /* ANSI colours in text */
} sg_diff_write_opts;

void sg_diff_write_opts_init(sg_diff_write_opts *o);

/* Renders d as format ("text", "json", "html", "svg") into out. The flame graph formats
 * need a diff built with opts.flame, line tables one built with opts.lines.
 * SG_E_FORMAT for an unknown format, SG_E_ARG for a diff without its flame tree. */
int sg_diff_write(const sg_diff *d, const char *format, const sg_diff_write_opts *o,
                  sg_buf *out, sg_error *err);

/* "text,json,html,svg" */
const char *sg_diff_formats(void);

/* The regression guard's verdict: one summary line when r holds no regression, else an
 * explanation per regressed function (share or time before and after, the growth, the
 * threshold and the noise bound). */
void sg_diff_check_write(const sg_diff *d, const sg_check_opts *co, const sg_check_result *r,
                         const sg_diff_write_opts *o, sg_buf *out);

#endif
