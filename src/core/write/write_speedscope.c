/* speedscope's own file format (https://www.speedscope.app/file-format-schema.json):
 * shared frames and one "sampled" profile per thread, a list of stacks (frame indexes,
 * root first) with a weight each.
 *
 * A frame is a function (name, file, first line), not a location: speedscope keys its
 * frames by index, so a frame per line would split a function into one row per line in
 * its Sandwich view (none with the function's total) and break the function's box in
 * the Time Order view wherever the line changed. The flame graph and the HTML report
 * merge by function too; the lines are in `annotate`, `collapsed` and the HTML report.
 * Trie nodes whose stacks differ only in lines are therefore one stack here
 * (sg_wc_same_functions):
 * their weights are summed, and a timeline's runs are merged across them.
 *
 * With a timeline the stacks follow the order the samples were taken (runs of the same
 * stack merged), so speedscope's "Time Order" view is the real timeline; without one
 * each distinct stack appears once, in flame-graph order. Weights are nanoseconds
 * (samples times the measured interval, or the traced self time) or, for a sampled
 * profile whose interval is unknown, sample counts ("none"). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

typedef struct ss {
    const sg_profile *p;
    sg_wc_ctx c;
    sg_buf *out;
    int64_t mult;   /* weight of one unit of the view's column */
    uint32_t *path; /* scratch: functions leaf first */
    uint32_t *same; /* node -> the first node with the same functions root to leaf */
    bool first_sample;
    int64_t end;
} ss;

static void put_stack(ss *s, uint32_t node)
{
    const sg_node *nodes = sg_profile_nodes(s->p);
    const sg_location *loc = sg_profile_locations(s->p);
    size_t d = 0;
    for (uint32_t n = node; n != SG_ROOT && n != SG_NONE; n = nodes[n].parent)
        s->path[d++] = loc[nodes[n].location].function;
    sg_buf_putc(s->out, '[');
    for (size_t i = d; i-- > 0;)
        sg_buf_printf(s->out, i + 1 == d ? "%" PRIu32 : ",%" PRIu32, s->path[i]);
    sg_buf_putc(s->out, ']');
}

/* Samples go out as "samples": [...] now and weights are kept for "weights" after. */
static void sample(ss *s, sg_buf *weights, uint32_t node, int64_t w)
{
    if (!s->first_sample) {
        sg_buf_putc(s->out, ',');
        sg_buf_putc(weights, ',');
    }
    s->first_sample = false;
    put_stack(s, node);
    sg_buf_printf(weights, "%" PRId64, w);
    s->end += w;
}

static int aggregated(ss *s, uint32_t track, sg_buf *weights, const uint32_t *rank)
{
    int64_t *self;
    if (sg_wc_node_values(&s->c, track, &self, NULL))
        return -1;
    size_t nn = sg_profile_nnodes(s->p);
    uint32_t *order = malloc((nn ? nn : 1) * sizeof *order);
    if (!order) {
        free(self);
        return -1;
    }
    /* each stack of functions once, its nodes' weights summed, at its first node */
    for (size_t n = 0; n < nn; n++)
        if (s->same[n] != n) {
            self[s->same[n]] += self[n];
            self[n] = 0;
        }
    /* ranks are a permutation of node ids: place each node at its rank */
    for (size_t n = 0; n < nn; n++)
        order[rank[n]] = (uint32_t)n;
    for (size_t i = 0; i < nn; i++) {
        uint32_t n = order[i];
        if (self[n])
            sample(s, weights, n, self[n] * s->mult);
    }
    free(order);
    free(self);
    return 0;
}

/* 1 when the track has no events (a profile merged with one without a timeline). */
static int timeline(ss *s, uint32_t track, sg_buf *weights)
{
    size_t n;
    uint32_t *ids = sg_wc_track_events(s->p, track, &n);
    if (!ids)
        return -1;
    if (!n) {
        free(ids);
        return 1;
    }
    const sg_tl_event *ev = sg_profile_timeline(s->p);
    const sg_record *rec = sg_profile_records(s->p);
    /* one event is one sample: one unit of a sampled profile's count column */
    uint32_t run = SG_NONE;
    int64_t w = 0;
    for (size_t i = 0; i < n; i++) {
        const sg_record *r = &rec[ev[ids[i]].record];
        if (!sg_wc_value(&s->c, r))
            continue; /* not in this view */
        uint32_t node = s->same[r->node];
        if (node != run && run != SG_NONE) {
            sample(s, weights, run, w);
            w = 0;
        }
        run = node;
        w += s->mult;
    }
    if (run != SG_NONE)
        sample(s, weights, run, w);
    free(ids);
    return 0;
}

int sg_write_speedscope(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    ss s;
    memset(&s, 0, sizeof s);
    s.p = p;
    s.out = out;
    sg_wc_init(&s.c, p, o);
    const sg_profile_meta *m = sg_profile_meta_get(p);
    const char *unit = "nanoseconds";
    s.mult = 1;
    if (s.c.sampled) {
        if (m->interval_ns > 0)
            s.mult = m->interval_ns;
        else
            unit = "none";
    }
    bool use_timeline = s.c.sampled && sg_profile_timeline_len(p) > 0;
    size_t nn = sg_profile_nnodes(p), maxd = 0;
    const sg_node *nodes = sg_profile_nodes(p);
    for (size_t i = 0; i < nn; i++)
        if (nodes[i].depth > maxd)
            maxd = nodes[i].depth;
    uint32_t *tracks = sg_wc_tracks_sorted(p);
    uint32_t *rank = sg_wc_dfs_rank(p);
    s.path = malloc((maxd + 1) * sizeof *s.path);
    s.same = sg_wc_same_functions(p);
    sg_buf weights, label;
    sg_buf_init(&weights);
    sg_buf_init(&label);
    int rc = -1;
    if (!tracks || !s.path || !rank || !s.same)
        goto out;

    sg_buf_puts(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
                     "\"exporter\":\"spyglass\",\"name\":");
    const char *cmd = sg_profile_get_attr(p, "command");
    sg_wc_json_text(out, cmd ? cmd : "spyglass", strlen(cmd ? cmd : "spyglass"));
    sg_buf_puts(out, ",\"activeProfileIndex\":0,\"shared\":{\"frames\":[");
    const sg_function *fn = sg_profile_functions(p);
    for (size_t i = 0; i < sg_profile_nfunctions(p); i++) {
        const char *name = sg_wc_func_name(p, (uint32_t)i);
        uint32_t file = fn[i].filename;
        sg_buf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        sg_wc_json_text(out, name, strlen(name));
        sg_buf_puts(out, ",\"file\":");
        sg_wc_json_text(out, sg_profile_str(p, file), sg_profile_str_len(p, file));
        sg_buf_printf(out, ",\"line\":%d}", (int)fn[i].first_line);
    }
    sg_buf_puts(out, "]},\"profiles\":[");
    bool first_profile = true;
    for (size_t t = 0; t < sg_profile_ntracks(p); t++) {
        sg_buf_reset(&weights);
        sg_buf_reset(&label);
        s.first_sample = true;
        s.end = 0;
        size_t mark = out->len;
        sg_buf_puts(out, first_profile ? "{\"type\":\"sampled\",\"name\":"
                                       : ",{\"type\":\"sampled\",\"name\":");
        sg_buf_puts(&label, "thread ");
        sg_wc_track_label(&label, p, tracks[t]);
        sg_wc_json_text(out, label.data ? label.data : "", label.len);
        sg_buf_printf(out, ",\"unit\":\"%s\",\"startValue\":0,\"samples\":[", unit);
        int r = use_timeline ? timeline(&s, tracks[t], &weights) : 1;
        if (r < 0 || (r > 0 && aggregated(&s, tracks[t], &weights, rank)))
            goto out;
        if (s.first_sample) { /* nothing in this view: leave the thread out */
            out->len = mark;
            continue;
        }
        sg_buf_puts(out, "],\"weights\":[");
        sg_buf_append(out, weights.data, weights.len);
        sg_buf_printf(out, "],\"endValue\":%" PRId64 "}", s.end);
        first_profile = false;
    }
    sg_buf_puts(out, "]}\n");
    rc = sg_buf_failed(&weights) || sg_buf_failed(&label) ? -1 : 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing speedscope");
    free(tracks);
    free(rank);
    free(s.path);
    free(s.same);
    sg_buf_free(&weights);
    sg_buf_free(&label);
    return rc;
}
