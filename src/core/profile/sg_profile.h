/* The profile model shared by both engines and every writer.
 *
 * Strings are interned once (id 0 is ""). A function is (qualified name, file, first
 * line); a location is (function, line); a stack is a node of a trie of locations
 * (node 0 is the root and has no location; a leaf is where the time was spent).
 * A record aggregates one (track, leaf node, flags) triple: its values are summed.
 * A track is one thread of one process.
 *
 * Memory grows with the number of distinct stacks, never with run length, unless a
 * timeline is recorded (see sg_profile_timeline_add).
 * All ids are dense indexes into the accessor arrays. Functions returning an id return
 * SG_NONE when memory runs out; the profile stays consistent (the item is just lost)
 * and sg_profile_oom() becomes true. */
#ifndef SG_PROFILE_H
#define SG_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sg_error.h"

#define SG_NONE UINT32_MAX
#define SG_MAX_VALUES 4

/* Per-sample thread state, combined as bits in sg_record.flags. */
enum {
    SG_F_ONCPU = 1u << 0,   /* the thread was on a CPU (runnable) */
    SG_F_GIL = 1u << 1,     /* the thread held the GIL */
    SG_F_GILWAIT = 1u << 2, /* the thread was blocked waiting for the GIL */
    SG_F_PARTIAL = 1u << 3, /* the stack could not be read to its root (truncated) */
};

typedef enum { SG_MODE_SAMPLE = 0, SG_MODE_TRACE = 1, SG_MODE_LINES = 2 } sg_mode;
typedef enum { SG_CLOCK_WALL = 0, SG_CLOCK_CPU = 1 } sg_clock_kind;

typedef struct sg_function {
    uint32_t name;     /* qualified name */
    uint32_t filename;
    int32_t first_line;
} sg_function;

typedef struct sg_location {
    uint32_t function;
    int32_t line; /* 0 when unknown */
} sg_location;

typedef struct sg_node {
    uint32_t parent;   /* SG_NONE for the root */
    uint32_t location; /* SG_NONE for the root */
    uint32_t depth;    /* root 0 */
} sg_node;

typedef struct sg_process {
    uint32_t pid;
    uint32_t cmdline;        /* string id */
    uint32_t python_version; /* string id, e.g. "3.12.1" */
    /* sampler accounting for this process */
    uint64_t samples_ok;     /* thread stacks read */
    uint64_t samples_failed; /* thread stacks that could not be read (torn, invalid) */
} sg_process;

typedef struct sg_track {
    uint32_t process; /* index into processes */
    uint64_t tid;     /* native thread id */
    uint32_t name;    /* string id */
    bool is_main;     /* the process's main thread */
} sg_track;

typedef struct sg_record {
    uint32_t track;
    uint32_t node;
    uint32_t flags;
    int64_t values[SG_MAX_VALUES];
} sg_record;

typedef struct sg_profile_meta {
    sg_mode mode;
    sg_clock_kind clock;
    double rate_hz;           /* requested sampling rate (0 for traced profiles) */
    int64_t start_wall_ns;    /* CLOCK_REALTIME at start */
    int64_t duration_ns;      /* how long sampling or tracing ran */
    int64_t interval_ns;      /* mean measured interval between ticks (time per sample) */
    uint64_t ticks_requested; /* duration * rate */
    uint64_t ticks_taken;     /* ticks at which the sampler did read the target */
    uint32_t n_values;        /* how many entries of sg_record.values are meaningful */
    uint32_t value_type[SG_MAX_VALUES]; /* string ids, e.g. "samples", "wall", "calls" */
    uint32_t value_unit[SG_MAX_VALUES]; /* string ids, e.g. "count", "nanoseconds" */
} sg_profile_meta;

typedef struct sg_profile sg_profile;

sg_profile *sg_profile_new(void);
void sg_profile_free(sg_profile *p); /* accepts NULL */
bool sg_profile_oom(const sg_profile *p);

sg_profile_meta *sg_profile_meta_of(sg_profile *p);
const sg_profile_meta *sg_profile_meta_get(const sg_profile *p);
/* Declares the value columns ("samples"/"count", ...). Returns -1 if n > SG_MAX_VALUES. */
int sg_profile_set_value_types(sg_profile *p, uint32_t n, const char *const *types,
                               const char *const *units);

/* Free-form metadata shown in reports and kept in the file ("command", "python", ...).
 * Setting an existing key replaces its value. */
int sg_profile_set_attr(sg_profile *p, const char *key, const char *value);
const char *sg_profile_get_attr(const sg_profile *p, const char *key); /* NULL if absent */
size_t sg_profile_nattrs(const sg_profile *p);
void sg_profile_attr_at(const sg_profile *p, size_t i, const char **key, const char **value);

uint32_t sg_profile_intern(sg_profile *p, const char *s, size_t len);
const char *sg_profile_str(const sg_profile *p, uint32_t id); /* NUL-terminated; "" if bad id */
size_t sg_profile_str_len(const sg_profile *p, uint32_t id);
size_t sg_profile_nstrings(const sg_profile *p);

/* Deduplicating constructors. */
uint32_t sg_profile_function(sg_profile *p, uint32_t name, uint32_t filename, int32_t first_line);
uint32_t sg_profile_location(sg_profile *p, uint32_t function, int32_t line);
uint32_t sg_profile_process(sg_profile *p, uint32_t pid); /* by pid */
uint32_t sg_profile_track(sg_profile *p, uint32_t process, uint64_t tid); /* by (process, tid) */
/* The track (process, tid) if it exists, else SG_NONE; creates nothing. */
uint32_t sg_profile_track_find(const sg_profile *p, uint32_t process, uint64_t tid);
uint32_t sg_profile_child(sg_profile *p, uint32_t parent, uint32_t location); /* trie step */
#define SG_ROOT 0u

/* Adds values (n_values of them) to the record (track, node, flags), creating it. */
int sg_profile_add(sg_profile *p, uint32_t track, uint32_t node, uint32_t flags,
                   const int64_t *values);

/* The record (track, node, flags), or SG_NONE when there is none. */
uint32_t sg_profile_record_find(const sg_profile *p, uint32_t track, uint32_t node,
                                uint32_t flags);

/* ---- the timeline: opt-in, one event per sample in the order taken ----
 * Records hold the totals; the timeline only says when each sample was taken, so
 * writers that draw time (speedscope, Chrome trace) can keep the order. An event
 * stands for one sample of its record (track, node, flags), which must exist: events
 * never add to the totals. This is the one part of the model that grows with run
 * length (16 bytes per sample and thread), hence opt-in (`spyglass run --timeline`). */
typedef struct sg_tl_event {
    int64_t t_ns;    /* CLOCK_MONOTONIC of the sample (comparable across processes) */
    uint32_t record; /* index into sg_profile_records */
    uint32_t pad_;   /* keeps the struct 16 bytes; always 0 */
} sg_tl_event;

/* Appends one event for the record (track, node, flags); -1 (and oom) when memory
 * runs out, -1 without oom when no such record exists. */
int sg_profile_timeline_add(sg_profile *p, uint32_t track, uint32_t node, uint32_t flags,
                            int64_t t_ns);
/* Appends one event for record index rec (< nrecords); -1 otherwise. */
int sg_profile_timeline_add_record(sg_profile *p, uint32_t rec, int64_t t_ns);
size_t sg_profile_timeline_len(const sg_profile *p);
const sg_tl_event *sg_profile_timeline(const sg_profile *p);

/* Read access. Pointers are valid until the next mutation. */
size_t sg_profile_nfunctions(const sg_profile *p);
const sg_function *sg_profile_functions(const sg_profile *p);
size_t sg_profile_nlocations(const sg_profile *p);
const sg_location *sg_profile_locations(const sg_profile *p);
size_t sg_profile_nnodes(const sg_profile *p);
const sg_node *sg_profile_nodes(const sg_profile *p);
size_t sg_profile_nprocesses(const sg_profile *p);
sg_process *sg_profile_processes(sg_profile *p);
const sg_process *sg_profile_processes_c(const sg_profile *p);
size_t sg_profile_ntracks(const sg_profile *p);
sg_track *sg_profile_tracks(sg_profile *p);
const sg_track *sg_profile_tracks_c(const sg_profile *p);
size_t sg_profile_nrecords(const sg_profile *p);
const sg_record *sg_profile_records(const sg_profile *p);

/* Adds every record of src into dst (strings, functions and stacks re-interned);
 * used to merge processes and per-thread partial profiles. Metadata is not merged. */
int sg_profile_merge(sg_profile *dst, const sg_profile *src, sg_error *err);

/* Profiles of consecutive intervals (series.c). new_like: an empty profile with src's
 * settings, attributes, strings, functions, locations, processes and tracks at the
 * same ids (sampler counters at zero), so a producer's cached ids stay valid in it;
 * NULL with err on failure. append: merges src into dst and adds src's time accounting
 * (duration, ticks) to dst's; a blank dst first takes src's settings. */
sg_profile *sg_profile_new_like(const sg_profile *src, sg_error *err);
int sg_profile_append(sg_profile *dst, const sg_profile *src, sg_error *err);

/* Filters, applied by every report command before writing. */
typedef struct sg_filter {
    bool main_thread_only;  /* --threads main */
    bool exclude_syspath;   /* drop frames of the standard library and site-packages */
    const char *const *include; /* fnmatch globs on file paths: keep only matching frames */
    size_t n_include;
    const char *const *exclude; /* drop frames whose path matches */
    size_t n_exclude;
} sg_filter;

/* A new profile holding only what passes f. Dropped frames give their time to the
 * nearest kept caller; a sample left with no frame at all is kept under a synthetic
 * function "[filtered]" so that shares stay relative to the whole run. */
sg_profile *sg_profile_filter(const sg_profile *p, const sg_filter *f, sg_error *err);

/* True for the standard library, site-packages, dist-packages and frozen modules. */
bool sg_path_is_syspath(const char *path);
/* The --include/--exclude glob test: fnmatch without FNM_PATHNAME ('*' matches '/'); a
 * pattern without '/' is also tried against the base name. */
bool sg_path_match(const char *pattern, const char *path);

/* The file format: pprof profile.proto, gzip-compressed (see DESIGN.md section 3). */
int sg_profile_encode(const sg_profile *p, bool gzip, void **out, size_t *out_len,
                      sg_error *err);
/* Accepts gzip-compressed or raw protobuf bytes; never trusts them. */
sg_profile *sg_profile_decode(const void *data, size_t len, sg_error *err);
int sg_profile_save(const sg_profile *p, const char *path, sg_error *err); /* atomic */
sg_profile *sg_profile_load(const char *path, sg_error *err);

#endif
