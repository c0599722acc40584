/* Comparing two profiles: what got slower or faster between BASE and NEW.
 *
 * Functions are matched by qualified name and file: first the same path and first line;
 * then, among those left with the same name and file base name, the same path or the one
 * sharing the most trailing directories, with the nearest first line. So a function that
 * moved because code was inserted above it, or a profile of a checkout in another
 * directory, still matches. Lines are matched by (file, line) or, with
 * SG_DIFF_LINE_OFFSET, by (matched function, line - its first line), so a line inserted
 * above a function does not shift every line below it.
 *
 * Everything is compared as shares of each profile's own total, so profiles taken at
 * different rates or for different durations compare; absolute times (samples x
 * interval, or traced nanoseconds) are kept beside them when a profile knows them.
 * Each change carries a noise bound: for sampled profiles SG_DIFF_SIGMAS binomial
 * standard errors of the share difference, for traced ones (exact counts, but time
 * still varies from run to run) a relative floor of SG_DIFF_TRACE_NOISE per side.
 *
 * The cost is the size of the two profiles (summed depth of their distinct stacks),
 * never the number of samples. The result borrows both profiles: keep them alive and
 * unchanged while it is used. */
#ifndef SG_DIFF_H
#define SG_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sg_error.h"
#include "sg_profile.h"

#define SG_DIFF_SIGMAS 3.0        /* a change within this many standard errors is noise */
#define SG_DIFF_TRACE_NOISE 0.01  /* relative standard error of a traced time share */

typedef enum { SG_DIFF_LINE_PLACE = 0, SG_DIFF_LINE_OFFSET = 1 } sg_diff_line_match;
typedef enum { SG_DIFF_SELF = 0, SG_DIFF_TOTAL = 1 } sg_diff_metric;
typedef enum { SG_DIFF_CHANGED = 0, SG_DIFF_ADDED = 1, SG_DIFF_REMOVED = 2 } sg_diff_status;
enum { SG_DIFF_BASE = 0, SG_DIFF_NEW = 1 };

typedef struct sg_diff_opts {
    bool lines;                    /* also compare lines */
    sg_diff_line_match line_match;
    sg_diff_metric metric;         /* which change orders the rows */
    bool flame;                    /* build the merged call tree (flame graphs) */
} sg_diff_opts;

/* One profile as the diff reads it. */
typedef struct sg_diff_input {
    const sg_profile *p;
    bool sampled;        /* values are sample counts (binomial noise) */
    bool cpu_only;       /* a --clock cpu profile: only on-CPU samples count */
    uint32_t col;        /* the value column compared */
    int64_t grand;       /* the sum of that column over the profile */
    double sec_per_unit; /* seconds per unit of col; 0 when unknown */
} sg_diff_input;

typedef struct sg_diff_side {
    int64_t self, total;            /* in the profile's unit (samples or nanoseconds) */
    double self_share, total_share; /* of the profile's grand total, 0..1 */
} sg_diff_side;

/* A compared function or line. Function rows: base_line/new_line are the first lines;
 * line rows: the line in each profile and fn the function it was seen in.
 * side[SG_DIFF_BASE] and side[SG_DIFF_NEW]. */
typedef struct sg_diff_row {
    uint32_t fn[2];       /* function id in each profile, SG_NONE when absent */
    int32_t line[2];      /* 0 when absent */
    sg_diff_side side[2];
    double d_self, d_total;         /* share change, new - base (fractions) */
    double noise_self, noise_total; /* noise bound of that change (SG_DIFF_SIGMAS errors) */
    double impact;                  /* |change| of the ordering metric */
    sg_diff_status status;
} sg_diff_row;

/* A frame of the merged call tree: a path of matched functions, root first. Frame 0 is
 * the root ("all"); a parent's id is always smaller than its children's. */
typedef struct sg_diff_frame {
    uint32_t parent; /* SG_NONE for the root */
    uint32_t row;    /* function row; SG_NONE for the root */
    uint32_t depth;
    int64_t self[2], total[2];
} sg_diff_frame;

typedef struct sg_diff {
    sg_diff_input in[2];
    sg_diff_opts opts;
    sg_diff_row *funcs; /* by impact, largest first */
    size_t nfuncs;
    sg_diff_row *lines; /* by impact; only with opts.lines */
    size_t nlines;
    sg_diff_frame *frames; /* only with opts.flame; row indexes funcs */
    size_t nframes;
} sg_diff;

/* Compares base with new. NULL on failure (SG_E_NOMEM, or SG_E_ARG for missing
 * profiles) with err filled. o NULL means functions only, ordered by self. */
sg_diff *sg_diff_new(const sg_profile *base, const sg_profile *new_p, const sg_diff_opts *o,
                     sg_error *err);
void sg_diff_free(sg_diff *d); /* accepts NULL */

/* The profile and function id a row is shown with: NEW's when it has one. */
const sg_profile *sg_diff_row_profile(const sg_diff *d, const sg_diff_row *r, uint32_t *fn);
/* v (in side's unit) as seconds; a negative number when the profile has no time. */
double sg_diff_seconds(const sg_diff *d, int side, int64_t v);
/* Change and noise bound of the metric m. */
double sg_diff_change(const sg_diff_row *r, sg_diff_metric m);
double sg_diff_noise(const sg_diff_row *r, sg_diff_metric m);
bool sg_diff_within_noise(const sg_diff_row *r, sg_diff_metric m);
/* Noise bound of the share change between base_v of BASE and new_v of NEW (values in
 * each profile's unit), e.g. for a frame of the merged call tree. */
double sg_diff_share_noise(const sg_diff *d, int64_t base_v, int64_t new_v);
/* Noise bound of a change in seconds of metric m; negative when time is unknown. */
double sg_diff_time_noise(const sg_diff *d, const sg_diff_row *r, sg_diff_metric m);

/* ---- the regression guard (diff_check.c) ---- */

typedef struct sg_check_opts {
    double max_regression;      /* allowed relative growth, 0.10 = 10% */
    sg_diff_metric metric;
    bool time;                  /* compare seconds instead of shares */
    double min_share;           /* ignore functions below this share in both (0..1) */
    const char *const *globs;   /* only functions matching one of these (fnmatch) */
    size_t nglobs;
} sg_check_opts;

typedef struct sg_check_finding {
    const sg_diff_row *row;
    double before, after; /* share (0..1) or seconds */
    double growth;        /* after / before - 1 */
    double bound;         /* noise bound of after - before */
} sg_check_finding;

typedef struct sg_check_result {
    sg_check_finding *items; /* the regressions, by impact */
    size_t n;
    size_t compared;  /* functions compared (in both, passing globs and min_share) */
    size_t noisy;     /* grew beyond the threshold but within noise */
    size_t added;     /* functions only in NEW, not judged */
    size_t unmatched_glob; /* index + 1 of a glob that matched no function; 0 if none */
} sg_check_result;

/* Judges d. Returns the number of regressions, or -1 with err filled (SG_E_ARG when a
 * profile holds nothing or time is asked for and a profile has none; out of memory).
 * A glob that matches no function is reported in r->unmatched_glob, not as an error:
 * the caller decides. */
int sg_diff_check(const sg_diff *d, const sg_check_opts *o, sg_check_result *r,
                  sg_error *err);
void sg_check_result_free(sg_check_result *r);
/* fnmatch of a function against a check glob: "path:qualname" when the glob has ':',
 * else the qualified name. */
bool sg_diff_glob_match(const char *glob, const char *file, const char *name);

#endif
