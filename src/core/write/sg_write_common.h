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

/* The profile is of a free-threaded target that ran without a GIL (the sampler's "gil"
 * attribute is "none"): GIL figures are not applicable, not zero. */
bool sg_wc_no_gil(const sg_profile *p);
/* "name" of a function, "<unknown>" when empty (not escaped). */
const char *sg_wc_func_name(const sg_profile *p, uint32_t function);
/* Tracks in display order (pid, then tid); malloc'ed, NULL when out of memory. */
uint32_t *sg_wc_tracks_sorted(const sg_profile *p);

/* Per-node sums for the records of one track (SG_NONE: all tracks) counted by the view:
 * self[n] is what was spent with n as the leaf, total[n] the whole subtree. Both arrays
 * have nnodes entries, are malloc'ed and owned by the caller; -1 when out of memory. */
int sg_wc_node_values(const sg_wc_ctx *c, uint32_t track, int64_t **self, int64_t **total);

/* same[n] for every trie node: the lowest-numbered node whose path has the same
 * functions root to leaf, so nodes that differ only in lines map to one (the tree of
 * functions the call tree and speedscope show). same[n] <= n; the nodes with
 * same[m] == m form that tree, m's parent in it being same[parent(m)] < m. Linear in
 * the trie. malloc'ed; NULL when out of memory. */
uint32_t *sg_wc_same_functions(const sg_profile *p);

/* That tree of functions with its child lists: kids[first[f] .. first[f + 1]) are the
 * children of node f (a node with same[f] == f), ids ascending. Linear in the trie. */
typedef struct sg_wc_ftree {
    size_t n; /* trie nodes: same, first (n + 1) and kids are indexed by trie node */
    uint32_t *same, *first, *kids;
} sg_wc_ftree;

/* -1 when out of memory; sg_wc_ftree_free is safe either way. */
int sg_wc_ftree_init(sg_wc_ftree *t, const sg_profile *p);
void sg_wc_ftree_free(sg_wc_ftree *t);
/* The function-tree parent of f (f != SG_ROOT). */
static inline uint32_t sg_wc_ftree_parent(const sg_wc_ftree *t, const sg_profile *p, uint32_t f)
{
    return t->same[sg_profile_nodes(p)[f].parent];
}

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

/* Length of the valid UTF-8 sequence at s (at most n bytes, n > 0) and its code point
 * in *cp; 0 when the bytes are not valid UTF-8 (overlong, surrogate, out of range,
 * truncated). */
size_t sg_wc_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

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

/* ---- call graphs (write_calls.c): callgrind and pstats ---- */

/* Per trie node, for the records of one track (SG_NONE: all) counted by the view:
 *   self, total   as sg_wc_node_values;
 *   calls         how many times the frame was entered: the recorded calls (trace
 *                 mode), the hits of the callee's first executed line under its caller
 *                 (lines mode: the best the line counts tell), the samples of the
 *                 subtree (sampled profiles: a sample count, not a call count);
 *   primitive     the node's function does not occur among its ancestors (a call that
 *                 is not a recursive one); its total is then what a caller's call
 *                 costs, so each stack counts once per function however deep the
 *                 recursion;
 *   pair_primitive  the (caller function, function) pair of the node and its parent
 *                 does not occur higher up the stack (cProfile's per-caller totals). */
typedef struct sg_wc_calls {
    size_t n;
    int64_t *self, *total, *calls;
    bool *primitive, *pair_primitive;
    uint32_t *func; /* node -> function id (SG_NONE for the root) */
} sg_wc_calls;

int sg_wc_calls_build(const sg_wc_ctx *c, uint32_t track, sg_wc_calls *k);
void sg_wc_calls_free(sg_wc_calls *k);

/* Display names that tell functions apart where (file, name) is not enough: two
 * functions of one file with the same qualified name (lambdas, redefinitions) get
 * ":FIRSTLINE" appended. names[f] is an offset into *text (NUL-terminated, raw,
 * not escaped). -1 when out of memory. */
int sg_wc_unique_names(const sg_profile *p, sg_buf *text, size_t **names);

/* ---- JSON and time order (write_json.c): speedscope and Chrome trace ---- */

/* Appends s as a JSON string with its quotes: valid UTF-8 always (an invalid byte
 * becomes U+FFFD), control characters, quote and backslash escaped, and '<', '>',
 * '&', U+2028/2029 as \u escapes so the text is also safe inside HTML <script>.
 * (speedscope, chrome: names kept as they are; sg_wc_json_str shows them as the text
 * reports do.) */
void sg_wc_json_text(sg_buf *b, const char *s, size_t len);

/* Nodes in depth-first order with siblings sorted by (name, file, line): how a flame
 * graph lays them out. rank[node] is the node's position. malloc'ed; NULL when out of
 * memory. */
uint32_t *sg_wc_dfs_rank(const sg_profile *p);

/* The timeline events of one track, as indexes into sg_profile_timeline, ordered by
 * time (stable). *n gets the count; malloc'ed; NULL with *n 0 when out of memory. */
uint32_t *sg_wc_track_events(const sg_profile *p, uint32_t track, size_t *n);

/* A thread's display name: "NAME (TID)", or "TID", prefixed with "PID " when several
 * processes were profiled (raw text, not escaped). */
void sg_wc_track_label(sg_buf *b, const sg_profile *p, uint32_t track);

/* ---- markup and JSON for the browser formats (write_markup.c) ---- */

/* Appends a name for XML/HTML text or a quoted attribute value: shown like the text
 * reports (controls, bidi controls and invalid UTF-8 as visible \xNN / \uNNNN), with
 * & < > " ' as character references. max_cps > 0 stops before exceeding that many code
 * points of shown text (an escape counts its length). Returns the code points shown. */
size_t sg_wc_markup(sg_buf *b, const char *s, size_t len, size_t max_cps);
/* The code points sg_wc_markup would show for s. */
size_t sg_wc_markup_cps(const char *s, size_t len);
/* Appends s as a quoted JSON string safe inside an HTML <script> element (< > & and
 * U+2028/U+2029 as \u escapes). name: shown like the text reports (controls and
 * invalid UTF-8 as visible escapes); otherwise (source text) controls are JSON-escaped
 * and invalid UTF-8 becomes U+FFFD. */
void sg_wc_json_str(sg_buf *b, const char *s, size_t len, bool name);

/* ---- the writers (one file each), dispatched by sg_write (write.c) ---- */

typedef int (*sg_writer_fn)(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                            sg_error *err);
int sg_write_text(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_tree(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_annotate(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_collapsed(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                       sg_error *err);
int sg_write_callgrind(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                       sg_error *err);
int sg_write_pstats(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_speedscope(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                        sg_error *err);
int sg_write_chrome(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_pprof(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);
int sg_write_flamegraph(const sg_profile *p, const sg_write_opts *o, sg_buf *out,
                        sg_error *err);
int sg_write_html(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err);

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
