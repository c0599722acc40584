/* What the JSON writers (speedscope, Chrome trace) share: string escaping, the flame
 * graph's node order, a track's timeline in time order and a thread's label.
 *
 * JSON strings must be valid UTF-8 and names from the profiled program need not be,
 * so invalid bytes become U+FFFD; '<', '>' and '&' are escaped too, so the same text
 * can sit inside an HTML page's <script> without closing it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

void sg_wc_json_text(sg_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    sg_buf_putc(b, '"');
    size_t i = 0, run = 0; /* run: bytes to copy as they are, starting at i - run */
    while (i < len) {
        uint32_t cp;
        size_t n = sg_wc_utf8_decode(u + i, len - i, &cp);
        bool plain = n > 0 && cp >= 0x20 && cp != '"' && cp != '\\' && cp != '<' && cp != '>' &&
                     cp != '&' && cp != 0x2028 && cp != 0x2029 && cp != 0x7f;
        if (plain) {
            run += n;
            i += n;
            continue;
        }
        sg_buf_append(b, s + i - run, run);
        run = 0;
        if (n == 0) {
            sg_buf_puts(b, "\\ufffd");
            i++;
            continue;
        }
        switch (cp) {
        case '"': sg_buf_puts(b, "\\\""); break;
        case '\\': sg_buf_puts(b, "\\\\"); break;
        case '\n': sg_buf_puts(b, "\\n"); break;
        case '\t': sg_buf_puts(b, "\\t"); break;
        case '\r': sg_buf_puts(b, "\\r"); break;
        default: sg_buf_printf(b, "\\u%04x", (unsigned)cp); break;
        }
        i += n;
    }
    sg_buf_append(b, s + i - run, run);
    sg_buf_putc(b, '"');
}

/* ---- flame graph order ---- */

typedef struct rank_item {
    const char *name, *file;
    int32_t line;
    uint32_t node;
} rank_item;

static int cmp_sibling(const void *a, const void *b)
{
    const rank_item *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if ((c = strcmp(x->file, y->file)))
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* Sorting all nodes at once by (parent, name, file, line) groups siblings in order; a
 * depth-first walk over those groups then gives the ranks. */
typedef struct sib_item {
    uint32_t parent;
    rank_item r;
} sib_item;

static int cmp_sib(const void *a, const void *b)
{
    const sib_item *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    return cmp_sibling(&x->r, &y->r);
}

uint32_t *sg_wc_dfs_rank(const sg_profile *p)
{
    size_t nn = sg_profile_nnodes(p);
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_location *loc = sg_profile_locations(p);
    const sg_function *fn = sg_profile_functions(p);
    uint32_t *rank = malloc(nn * sizeof *rank);
    sib_item *items = malloc((nn ? nn : 1) * sizeof *items);
    size_t *first = calloc(nn + 1, sizeof *first); /* first[parent]: start of its children */
    uint32_t *stack = malloc((nn ? nn : 1) * sizeof *stack);
    if (!rank || !items || !first || !stack) {
        free(rank);
        rank = NULL;
        goto out;
    }
    size_t m = 0;
    for (size_t n = 1; n < nn; n++) {
        const sg_location *l = &loc[nodes[n].location];
        items[m++] = (sib_item){nodes[n].parent,
                                {sg_wc_func_name(p, l->function),
                                 sg_profile_str(p, fn[l->function].filename), l->line,
                                 (uint32_t)n}};
    }
    qsort(items, m, sizeof *items, cmp_sib);
    /* children of parent q are items[first[q] .. first[q+1]) */
    for (size_t i = 0; i < m; i++)
        first[items[i].parent + 1]++;
    for (size_t q = 0; q < nn; q++)
        first[q + 1] += first[q];
    uint32_t next = 0;
    size_t sp = 0;
    stack[sp++] = SG_ROOT;
    while (sp) {
        uint32_t n = stack[--sp];
        rank[n] = next++;
        /* push in reverse so the first child is visited first */
        for (size_t i = first[n + 1]; i-- > first[n];)
            stack[sp++] = items[i].r.node;
    }
out:
    free(items);
    free(first);
    free(stack);
    return rank;
}

/* ---- timeline per track ---- */

typedef struct ev_key {
    int64_t t;
    uint32_t i;
} ev_key;

static int cmp_ev(const void *a, const void *b)
{
    const ev_key *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

uint32_t *sg_wc_track_events(const sg_profile *p, uint32_t track, size_t *n)
{
    size_t ntl = sg_profile_timeline_len(p), k = 0;
    const sg_tl_event *ev = sg_profile_timeline(p);
    const sg_record *rec = sg_profile_records(p);
    *n = 0;
    for (size_t i = 0; i < ntl; i++)
        k += rec[ev[i].record].track == track;
    ev_key *keys = malloc((k ? k : 1) * sizeof *keys);
    uint32_t *ids = malloc((k ? k : 1) * sizeof *ids);
    if (!keys || !ids) {
        free(keys);
        free(ids);
        return NULL;
    }
    k = 0;
    for (size_t i = 0; i < ntl; i++)
        if (rec[ev[i].record].track == track)
            keys[k++] = (ev_key){ev[i].t_ns, (uint32_t)i};
    qsort(keys, k, sizeof *keys, cmp_ev);
    for (size_t i = 0; i < k; i++)
        ids[i] = keys[i].i;
    free(keys);
    *n = k;
    return ids;
}

void sg_wc_track_label(sg_buf *b, const sg_profile *p, uint32_t track)
{
    const sg_track *t = &sg_profile_tracks_c(p)[track];
    if (sg_profile_nprocesses(p) > 1)
        sg_buf_printf(b, "%" PRIu32 " ", sg_profile_processes_c(p)[t->process].pid);
    if (t->name)
        sg_buf_printf(b, "%s (%" PRIu64 ")", sg_profile_str(p, t->name), t->tid);
    else
        sg_buf_printf(b, "%" PRIu64, t->tid);
}
