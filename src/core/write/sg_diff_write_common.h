/* What the diff renderers share: which rows show, how a row is named and labelled,
 * escaping for markup and JSON, and the flame graph used by both SVG and HTML.
 * Private to the diff_*.c writers. */
#ifndef SG_DIFF_WRITE_COMMON_H
#define SG_DIFF_WRITE_COMMON_H

#include "sg_diff_write.h"
#include "sg_write_common.h"

/* A row passes the --min-change cut. */
bool sg_dw_visible(const sg_diff *d, const sg_diff_row *r, const sg_diff_write_opts *o);
/* The row's function name ("<unknown>" when empty), file and length of each, raw (not
 * escaped), from NEW when it has the row. */
void sg_dw_names(const sg_diff *d, const sg_diff_row *r, const char **name, size_t *name_len,
                 const char **file, size_t *file_len);
/* The line a row is shown at: NEW's, else BASE's. */
int32_t sg_dw_line(const sg_diff_row *r);
/* "slower", "faster", "added", "removed" or "noise" (within the noise bound). */
const char *sg_dw_verdict(const sg_diff *d, const sg_diff_row *r);
/* How one side was measured: "sampled at 1000 Hz: 1523 samples, 1.523 s" (escaped for
 * nothing: it holds no names). */
void sg_dw_side_summary(sg_buf *b, const sg_diff *d, int side);
const char *sg_dw_metric_name(sg_diff_metric m);

/* s (len bytes from the profiled program) for XML/HTML text and attributes: control
 * characters and invalid UTF-8 made visible as in text (\xNN), then & < > " ' as
 * character references. */
void sg_dw_markup(sg_buf *b, const char *s, size_t len);
void sg_dw_markup_cstr(sg_buf *b, const char *s);
/* s as a JSON string with its quotes: control characters, < > & and U+2028/9 as \uXXXX,
 * invalid UTF-8 bytes as U+FFFD; valid UTF-8 is kept. */
void sg_dw_json_str(sg_buf *b, const char *s, size_t len);
/* A JSON number, or null when v is not finite. */
void sg_dw_json_num(sg_buf *b, double v);

/* The differential flame graph: a complete SVG document (standalone) or an <svg>
 * element to inline in HTML. -1 (SG_E_NOMEM) when memory runs out. */
int sg_dw_flame(const sg_diff *d, const sg_diff_write_opts *o, bool standalone, sg_buf *out,
                sg_error *err);

/* Embedded assets (diff_assets.c). */
extern const char sg_dw_flame_js[];
extern const char sg_dw_flame_css[];
extern const char sg_dw_page_css[];

/* The writers, dispatched by sg_diff_write (diff_write.c). */
int sg_dw_text(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *out, sg_error *err);
int sg_dw_json(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *out, sg_error *err);
int sg_dw_svg(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *out, sg_error *err);
int sg_dw_html(const sg_diff *d, const sg_diff_write_opts *o, sg_buf *out, sg_error *err);

#endif
