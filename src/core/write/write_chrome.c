/* Chrome's trace event format (the JSON object form: "traceEvents"), read by Perfetto,
 * chrome://tracing and speedscope. One track per thread (pid = the process, tid = the
 * thread) named by "M" metadata events, and complete "X" events for frames.
 *
 * With a timeline, a frame's event spans the consecutive samples that have it on the
 * stack (same trie node at that depth), so a run of the same stack is one event per
 * frame and the picture is the program's real timeline. A sample lasts until the next
 * one of its thread, or one interval when the next is more than two intervals away
 * (the thread was not counted in between: another view, or sampling stopped).
 * Without a timeline the aggregated tree is laid out as a flame chart instead: per
 * thread, each frame as long as its total, children side by side in flame-graph
 * order, starting at 0. Times are microseconds. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

typedef struct open_frame {
    uint32_t node;
    int64_t start; /* ns from the profile's first event */
} open_frame;

typedef struct ct {
    const sg_profile *p;
    sg_wc_ctx c;
    sg_buf *out;
    uint32_t pid;
    uint64_t tid;
    bool first;
    open_frame *open;
    size_t nopen;
    uint32_t *path;
} ct;

static void sep(ct *t)
{
    sg_buf_puts(t->out, t->first ? "\n" : ",\n");
    t->first = false;
}

static void frame_event(ct *t, uint32_t node, int64_t start_ns, int64_t dur_ns)
{
    const sg_profile *p = t->p;
    const sg_location *l = &sg_profile_locations(p)[sg_profile_nodes(p)[node].location];
    uint32_t file = sg_profile_functions(p)[l->function].filename;
    const char *name = sg_wc_func_name(p, l->function);
    sep(t);
    sg_buf_puts(t->out, "{\"ph\":\"X\",\"cat\":\"python\",\"name\":");
    sg_wc_json_text(t->out, name, strlen(name));
    sg_buf_printf(t->out,
                  ",\"pid\":%" PRIu32 ",\"tid\":%" PRIu64 ",\"ts\":%" PRId64 ".%03d,\"dur\":%" PRId64
                  ".%03d,\"args\":{\"file\":",
                  t->pid, t->tid, start_ns / 1000, (int)(start_ns % 1000), dur_ns / 1000,
                  (int)(dur_ns % 1000));
    sg_wc_json_text(t->out, sg_profile_str(p, file), sg_profile_str_len(p, file));
    sg_buf_printf(t->out, ",\"line\":%d}}", (int)l->line);
}

static void close_to(ct *t, size_t depth, int64_t at)
{
    while (t->nopen > depth) {
        open_frame *f = &t->open[--t->nopen];
        frame_event(t, f->node, f->start, at - f->start);
    }
}

static int64_t interval_ns(const ct *t)
{
    const sg_profile_meta *m = sg_profile_meta_get(t->p);
    if (m->interval_ns > 0)
        return m->interval_ns;
    if (m->rate_hz > 0)
        return (int64_t)(1e9 / m->rate_hz);
    return 1000000;
}

/* 1 when the track has no events. */
static int timeline(ct *t, uint32_t track, int64_t t0)
{
    size_t n;
    uint32_t *ids = sg_wc_track_events(t->p, track, &n);
    if (!ids)
        return -1;
    if (!n) {
        free(ids);
        return 1;
    }
    const sg_tl_event *ev = sg_profile_timeline(t->p);
    const sg_record *rec = sg_profile_records(t->p);
    const sg_node *nodes = sg_profile_nodes(t->p);
    int64_t iv = interval_ns(t), end = 0;
    t->nopen = 0;
    for (size_t i = 0; i < n; i++) {
        const sg_record *r = &rec[ev[ids[i]].record];
        if (!sg_wc_value(&t->c, r))
            continue;
        int64_t at = ev[ids[i]].t_ns - t0;
        if (at > end)
            close_to(t, 0, end); /* a gap: nothing was on the stack */
        size_t d = 0;
        for (uint32_t m = r->node; m != SG_ROOT && m != SG_NONE; m = nodes[m].parent)
            t->path[d++] = m;
        /* the frames shared with the open ones stay open */
        size_t keep = 0;
        while (keep < t->nopen && keep < d && t->open[keep].node == t->path[d - 1 - keep])
            keep++;
        close_to(t, keep, at);
        while (t->nopen < d) {
            t->open[t->nopen] = (open_frame){t->path[d - 1 - t->nopen], at};
            t->nopen++;
        }
        int64_t next = i + 1 < n ? ev[ids[i + 1]].t_ns - t0 : INT64_MAX;
        end = next - at <= 2 * iv && next > at ? next : at + iv;
    }
    close_to(t, 0, end);
    free(ids);
    return 0;
}

/* The flame chart of one thread's aggregated tree. */
static int layout(ct *t, uint32_t track, const uint32_t *order)
{
    int64_t *self, *total;
    if (sg_wc_node_values(&t->c, track, &self, &total))
        return -1;
    size_t nn = sg_profile_nnodes(t->p);
    const sg_node *nodes = sg_profile_nodes(t->p);
    int64_t *cursor = calloc(nn, sizeof *cursor); /* where a node's next child starts */
    if (!cursor) {
        free(self);
        free(total);
        return -1;
    }
    double ns_per_unit = t->c.sec_per_unit > 0 ? t->c.sec_per_unit * 1e9 : 1e6;
    for (size_t i = 0; i < nn; i++) {
        uint32_t n = order[i];
        if (n == SG_ROOT || !total[n])
            continue;
        uint32_t parent = nodes[n].parent;
        cursor[n] = cursor[parent];
        cursor[parent] += total[n];
        frame_event(t, n, (int64_t)((double)cursor[n] * ns_per_unit),
                    (int64_t)((double)total[n] * ns_per_unit));
    }
    free(cursor);
    free(self);
    free(total);
    return 0;
}

static void metadata(ct *t, uint32_t track, size_t index)
{
    const sg_profile *p = t->p;
    const sg_track *tr = &sg_profile_tracks_c(p)[track];
    sep(t);
    sg_buf_printf(t->out,
                  "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu64
                  ",\"args\":{\"name\":",
                  t->pid, t->tid);
    const char *name = tr->name ? sg_profile_str(p, tr->name) : "thread";
    sg_wc_json_text(t->out, name, tr->name ? sg_profile_str_len(p, tr->name) : 6);
    sg_buf_puts(t->out, "}}");
    sep(t);
    sg_buf_printf(t->out,
                  "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%" PRIu32
                  ",\"tid\":%" PRIu64 ",\"args\":{\"sort_index\":%zu}}",
                  t->pid, t->tid, index);
}

static void process_metadata(ct *t, uint32_t process)
{
    const sg_process *pr = &sg_profile_processes_c(t->p)[process];
    sep(t);
    sg_buf_printf(t->out,
                  "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%" PRIu32
                  ",\"tid\":0,\"args\":{\"name\":",
                  pr->pid);
    sg_buf name;
    sg_buf_init(&name);
    const char *cmd = pr->cmdline ? sg_profile_str(t->p, pr->cmdline)
                                  : sg_profile_get_attr(t->p, "command");
    sg_buf_printf(&name, "%s (%" PRIu32 ")", cmd && *cmd ? cmd : "python", pr->pid);
    sg_wc_json_text(t->out, name.data ? name.data : "", name.len);
    if (sg_buf_failed(&name))
        t->out->failed = true;
    sg_buf_free(&name);
    sg_buf_puts(t->out, "}}");
}

int sg_write_chrome(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    ct t;
    memset(&t, 0, sizeof t);
    t.p = p;
    t.out = out;
    t.first = true;
    sg_wc_init(&t.c, p, o);
    size_t nn = sg_profile_nnodes(p), maxd = 0, ntl = sg_profile_timeline_len(p);
    const sg_node *nodes = sg_profile_nodes(p);
    for (size_t i = 0; i < nn; i++)
        if (nodes[i].depth > maxd)
            maxd = nodes[i].depth;
    uint32_t *tracks = sg_wc_tracks_sorted(p), *rank = sg_wc_dfs_rank(p);
    uint32_t *order = malloc(nn * sizeof *order);
    bool *named = calloc(sg_profile_nprocesses(p) + 1, sizeof *named);
    t.open = malloc((maxd + 1) * sizeof *t.open);
    t.path = malloc((maxd + 1) * sizeof *t.path);
    int rc = -1;
    if (!tracks || !rank || !order || !named || !t.open || !t.path)
        goto out;
    for (size_t n = 0; n < nn; n++)
        order[rank[n]] = (uint32_t)n;
    int64_t t0 = INT64_MAX;
    const sg_tl_event *ev = sg_profile_timeline(p);
    for (size_t i = 0; i < ntl; i++)
        if (ev[i].t_ns < t0)
            t0 = ev[i].t_ns;
    bool use_timeline = t.c.sampled && ntl > 0;

    sg_buf_puts(out, "{\"traceEvents\":[");
    for (size_t i = 0; i < sg_profile_ntracks(p); i++) {
        const sg_track *tr = &sg_profile_tracks_c(p)[tracks[i]];
        t.pid = sg_profile_processes_c(p)[tr->process].pid;
        /* tids above 2^53 would lose precision in JSON readers: number those instead */
        t.tid = tr->tid < ((uint64_t)1 << 53) ? tr->tid : i + 1;
        if (!named[tr->process]) {
            named[tr->process] = true;
            process_metadata(&t, tr->process);
        }
        metadata(&t, tracks[i], i);
        int r = use_timeline ? timeline(&t, tracks[i], t0) : 1;
        if (r < 0 || (r > 0 && layout(&t, tracks[i], order)))
            goto out;
    }
    const char *modes[] = {"sample", "trace", "lines"};
    unsigned mode = (unsigned)sg_profile_meta_get(p)->mode;
    sg_buf_printf(out,
                  "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{\"exporter\":\"spyglass\","
                  "\"mode\":\"%s\",\"view\":\"%s\",\"layout\":\"%s\"}}\n",
                  mode < 3 ? modes[mode] : "?", sg_wc_view_name(t.c.view),
                  use_timeline ? "timeline" : "aggregated");
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing a Chrome trace");
    free(tracks);
    free(rank);
    free(order);
    free(named);
    free(t.open);
    free(t.path);
    return rc;
}
