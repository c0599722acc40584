/* What every writer needs besides its own layout: which records a view counts, how a
 * value becomes seconds, per-function and per-line self/total, node sums of the stack
 * trie, text escaping and column fitting, and reading source files. Private to write/. */
#ifndef SG_WRITE_COMMON_H
#define SG_WRITE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sg_buf.h"
#include "../base/sg_map.h"
#include "../profile/sg_profile.h"
#include "sg_write.h"

/* ---- views and values (write_common.c) ---- */

typedef struct sg_wc_ctx {
    const sg_profile *p;
    sg_view view;        /* resolved, never SG_VIEW_AUTO */
    uint32_t col;        /* the value column that is summed */
    bool sampled;        /* values are sample counts */
    double sec_per_unit; /* seconds per unit of col; 0 when unknown */
} sg_wc_ctx;

/* Resolves the view (AUTO follows the profile's clock) and the value column: samples
 * for sampled profiles, the first nanoseconds column for traced ones. */
void sg_wc_init(sg_wc_ctx *c, const sg_profile *p, const sg_write_opts *o);
/* The record's value in the view, 0 when the view does not count it. */
int64_t sg_wc_value(const sg_wc_ctx *c, const sg_record *r);
double sg_wc_seconds(const sg_wc_ctx *c, int64_t v);
const char *sg_wc_view_name(sg_view v);
/* "name" of a function, "<unknown>" when empty (not escaped). */
const char *sg_wc_func_name(const sg_profile *p, uint32_t function);
/* Tracks in display order (pid, then tid); malloc'ed, NULL when out of memory. */
uint32_t *sg_wc_tracks_sorted(const sg_profile *p);

/* Per-node sums for the records of one track (SG_NONE: all tracks) counted by the view:
 * self[n] is what was spent with n as the leaf, total[n] the whole subtree. Both arrays
 * have nnodes entries, are malloc'ed and owned by the caller; -1 when out of memory. */
int sg_wc_node_values(const sg_wc_ctx *c, uint32_t track, int64_t **self, int64_t **total);

typedef struct sg_wc_stat {
    int64_t self, total;
} sg_wc_stat;

typedef struct sg_wc_line {
    uint32_t filename; /* string id */
    int32_t line;
    uint32_t function; /* the first function seen on this line */
} sg_wc_line;

/* Self and total per function (by function id), per location (by location id) and per
 * source line (file, line). A total counts each stack once however many times the
 * function or line occurs in it, so recursion never pushes a total past the grand sum. */
typedef struct sg_wc_stats {
    int64_t grand; /* the sum of all counted values */
    sg_wc_stat *func, *loc;
    size_t nline;
    sg_wc_line *line;
    sg_wc_stat *line_stat;
    uint32_t *loc_line; /* location id -> line index */
} sg_wc_stats;

/* Fills s for one track (SG_NONE: all). -1 when out of memory; sg_wc_stats_free is
 * safe either way. */
int sg_wc_stats_build(const sg_wc_ctx *c, uint32_t track, sg_wc_stats *s);
void sg_wc_stats_free(sg_wc_stats *s);
/* Function ids (lines: line indexes) with a nonzero total, hottest self first, ties by
 * total, then name, file and line so output is deterministic. *n gets the count;
 * malloc'ed; NULL when out of memory (or nothing to list, with *n 0). */
uint32_t *sg_wc_funcs_by_self(const sg_wc_ctx *c, const sg_wc_stats *s, size_t *n);
uint32_t *sg_wc_lines_by_self(const sg_wc_ctx *c, const sg_wc_stats *s, size_t *n);

/* ---- text (write_fmt.c) ---- */

/* Appends s (len bytes) escaped for a terminal: control characters (C0, DEL, C1) and
 * invalid UTF-8 become \xNN, a backslash stays as is. The result is valid UTF-8 with no
 * escape sequences. Returns the display columns written (one per code point). */
size_t sg_wc_escape(sg_buf *b, const char *s, size_t len);

typedef enum {
    SG_FIT_LEFT,      /* pad right, cut the end */
    SG_FIT_RIGHT,     /* pad left, cut the end */
    SG_FIT_LEFT_TAIL, /* pad right, cut the start (keeps a path's file name) */
    SG_FIT_NONE,      /* no padding, cut the end */
} sg_fit;

/* Appends s escaped and fitted to width columns; a cut shows "…". */
void sg_wc_cell(sg_buf *b, const char *s, size_t width, sg_fit fit);
/* Appends "file:line" as a cell (SG_FIT_LEFT_TAIL keeps the file name when cut). */
void sg_wc_place(sg_buf *b, const sg_profile *p, uint32_t file, int32_t line, size_t width,
                 sg_fit fit);
/* Display columns s takes once escaped. */
size_t sg_wc_cols(const char *s);
void sg_wc_spaces(sg_buf *b, size_t n);
/* Ends a row: drops trailing spaces of the current line, then adds '\n'. */
void sg_wc_newline(sg_buf *b);
/* Wraps the next text in an ANSI SGR code when colour is on ("" for none). */
void sg_wc_color(sg_buf *b, bool on, const char *sgr);
/* Appends a share as "12.3%" right-aligned in width; "0.0%" for a zero denominator. */
void sg_wc_pct(sg_buf *b, int64_t part, int64_t whole, int width);
/* Appends seconds right-aligned in width with 3 decimals, or "-" when unknown. */
void sg_wc_secs(sg_buf *b, const sg_wc_ctx *c, int64_t v, int width);

/* ---- source files (write_source.c) ---- */

typedef struct sg_wc_source {
    char *data;
    size_t len;
    size_t nlines;
    size_t *start; /* byte offset of line i+1 */
    bool ok;       /* the file was read */
} sg_wc_source;

typedef struct sg_wc_sources {
    sg_map by_name; /* filename string id -> index */
    sg_wc_source *items;
    size_t n, cap;
} sg_wc_sources;

void sg_wc_sources_init(sg_wc_sources *c);
void sg_wc_sources_free(sg_wc_sources *c);
/* The file's contents, read once per name; NULL when it cannot be read (no such file,
 * not a regular file, too big, a pseudo-path like "<string>", out of memory). */
const sg_wc_source *sg_wc_source_get(sg_wc_sources *c, const sg_profile *p, uint32_t filename);
/* Line (1-based) of s without its newline; false when out of range. */
bool sg_wc_source_line(const sg_wc_source *s, int32_t line, const char **text, size_t *len);
/* Appends a line of source: tabs expanded to 8-column stops, then escaped and cut to
 * width columns (0: no limit). */
void sg_wc_source_text(sg_buf *b, const char *text, size_t len, size_t width);

/* ---- the writers (one file each), dispatched by sg_write (write.c) ---- */

typedef int (*sg_writer_fn)(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                            sg_error *err);
int sg_write_text(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_tree(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_annotate(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_collapsed(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                       sg_error *err);

/* Traced profiles (write_trace_table.c, write_lines.c), reached through text and
 * annotate: the cProfile-like call table, and line_profiler's layout. */
int sg_write_trace_table(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                         sg_error *err);
int sg_write_lines(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_lines_text(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                        sg_error *err);
/* The sort key's index, -1 when unknown (NULL or "" is the default, cumulative). */
int sg_write_trace_sort_key(const char *name);

#endif
