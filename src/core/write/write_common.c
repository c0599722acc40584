/* Views, values and the aggregates every writer reads: node sums over the stack trie
 * and per-function / per-line self and total.
 *
 * Totals walk each stack with a value once, from leaf to root, and stamp every function
 * (location, line) with the leaf's node id on first sight: a recursive function met
 * again higher up the same stack is skipped, so its total counts that stack once. The
 * work is the summed depth of the distinct stacks, not the number of samples. */
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

void sg_wc_init(sg_wc_ctx *c, const sg_profile *p, const sg_write_opts *o)
{
    const sg_profile_meta *m = sg_profile_meta_get(p);
    c->p = p;
    c->view = o ? o->view : SG_VIEW_AUTO;
    if (c->view == SG_VIEW_AUTO)
        c->view = m->clock == SG_CLOCK_CPU ? SG_VIEW_CPU : SG_VIEW_WALL;
    c->col = 0;
    c->sampled = m->mode == SG_MODE_SAMPLE;
    c->sec_per_unit = 0;
    if (c->sampled) {
        if (m->interval_ns > 0)
            c->sec_per_unit = (double)m->interval_ns / 1e9;
        else if (m->rate_hz > 0)
            c->sec_per_unit = 1.0 / m->rate_hz;
        return;
    }
    /* Traced profiles carry times; report the first column measured in nanoseconds. */
    for (uint32_t i = 0; i < m->n_values && i < SG_MAX_VALUES; i++) {
        const char *unit = sg_profile_str(p, m->value_unit[i]);
        if (strcmp(unit, "nanoseconds") == 0 || strcmp(unit, "ns") == 0) {
            c->col = i;
            c->sec_per_unit = 1e-9;
            return;
        }
    }
}

int64_t sg_wc_value(const sg_wc_ctx *c, const sg_record *r)
{
    switch (c->view) {
    case SG_VIEW_CPU:
        if (!(r->flags & SG_F_ONCPU))
            return 0;
        break;
    case SG_VIEW_GIL:
        if (!(r->flags & SG_F_GIL))
            return 0;
        break;
    default:
        break;
    }
    return r->values[c->col];
}

double sg_wc_seconds(const sg_wc_ctx *c, int64_t v) { return (double)v * c->sec_per_unit; }

bool sg_wc_no_gil(const sg_profile *p)
{
    const char *v = sg_profile_get_attr(p, "gil");
    return v && strcmp(v, "none") == 0;
}

const char *sg_wc_view_name(sg_view v)
{
    switch (v) {
    case SG_VIEW_CPU:
        return "cpu";
    case SG_VIEW_GIL:
        return "gil";
    case SG_VIEW_WALL:
        return "wall";
    default:
        return "auto";
    }
}

const char *sg_wc_func_name(const sg_profile *p, uint32_t function)
{
    if (function >= sg_profile_nfunctions(p))
        return "<unknown>";
    const char *s = sg_profile_str(p, sg_profile_functions(p)[function].name);
    return *s ? s : "<unknown>";
}

typedef struct track_key {
    uint32_t pid;
    uint64_t tid;
    uint32_t id;
} track_key;

static int cmp_track(const void *a, const void *b)
{
    const track_key *x = a, *y = b;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    if (x->tid != y->tid)
        return x->tid < y->tid ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

uint32_t *sg_wc_tracks_sorted(const sg_profile *p)
{
    size_t n = sg_profile_ntracks(p);
    const sg_track *t = sg_profile_tracks_c(p);
    const sg_process *pr = sg_profile_processes_c(p);
    track_key *k = malloc((n ? n : 1) * sizeof *k);
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!k || !ids) {
        free(k);
        free(ids);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        k[i] = (track_key){.pid = pr[t[i].process].pid, .tid = t[i].tid, .id = (uint32_t)i};
    qsort(k, n, sizeof *k, cmp_track);
    for (size_t i = 0; i < n; i++)
        ids[i] = k[i].id;
    free(k);
    return ids;
}

int sg_wc_node_values(const sg_wc_ctx *c, uint32_t track, int64_t **self, int64_t **total)
{
    size_t nn = sg_profile_nnodes(c->p);
    int64_t *s = calloc(nn, sizeof *s), *t = total ? calloc(nn, sizeof *t) : NULL;
    if (!s || (total && !t)) {
        free(s);
        free(t);
        return -1;
    }
    size_t nr = sg_profile_nrecords(c->p);
    const sg_record *r = sg_profile_records(c->p);
    for (size_t i = 0; i < nr; i++)
        if ((track == SG_NONE || r[i].track == track) && r[i].node < nn)
            s[r[i].node] += sg_wc_value(c, &r[i]);
    if (t) {
        /* children always have larger ids than their parent */
        const sg_node *nodes = sg_profile_nodes(c->p);
        memcpy(t, s, nn * sizeof *t);
        for (size_t n = nn; n-- > 1;)
            t[nodes[n].parent] += t[n];
        *total = t;
    }
    *self = s;
    return 0;
}

uint32_t *sg_wc_same_functions(const sg_profile *p)
{
    size_t nn = sg_profile_nnodes(p);
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_location *loc = sg_profile_locations(p);
    uint32_t *same = malloc((nn ? nn : 1) * sizeof *same);
    sg_map first; /* (same[parent], function) -> node */
    sg_map_init(&first);
    if (!same)
        return NULL;
    /* a parent is created before its children, so same[parent] is known when a child
     * is reached; a node that broke that order would keep itself (no merge) */
    for (size_t n = 0; n < nn; n++) {
        uint32_t parent = nodes[n].parent;
        same[n] = (uint32_t)n;
        if (parent == SG_NONE || parent >= n)
            continue;
        uint64_t key = (uint64_t)same[parent] << 32 | loc[nodes[n].location].function;
        const uint64_t *v = sg_map_get(&first, key);
        if (v) {
            same[n] = (uint32_t)*v;
        } else if (!sg_map_put(&first, key, n)) {
            free(same);
            same = NULL;
            break;
        }
    }
    sg_map_free(&first);
    return same;
}

void sg_wc_ftree_free(sg_wc_ftree *t)
{
    free(t->same);
    free(t->first);
    free(t->kids);
    memset(t, 0, sizeof *t);
}

int sg_wc_ftree_init(sg_wc_ftree *t, const sg_profile *p)
{
    size_t nn = sg_profile_nnodes(p);
    const sg_node *nodes = sg_profile_nodes(p);
    t->n = nn;
    t->same = sg_wc_same_functions(p);
    t->first = calloc(nn + 1, sizeof *t->first);
    t->kids = malloc((nn ? nn : 1) * sizeof *t->kids);
    if (!t->same || !t->first || !t->kids)
        return -1;
    /* a counting sort by parent: first[f] is counted up to the end of f's run, then
     * filled backwards down to its start */
    for (size_t n = 1; n < nn; n++)
        if (t->same[n] == n)
            t->first[t->same[nodes[n].parent]]++;
    for (size_t f = 1; f <= nn; f++)
        t->first[f] += t->first[f - 1];
    for (size_t n = nn; n-- > 1;)
        if (t->same[n] == n)
            t->kids[--t->first[t->same[nodes[n].parent]]] = (uint32_t)n;
    return 0;
}

void sg_wc_stats_free(sg_wc_stats *s)
{
    free(s->func);
    free(s->loc);
    free(s->line);
    free(s->line_stat);
    free(s->loc_line);
    memset(s, 0, sizeof *s);
}

/* Gives every location its (file, line) index. */
static int index_lines(const sg_profile *p, sg_wc_stats *s)
{
    size_t nl = sg_profile_nlocations(p);
    const sg_location *loc = sg_profile_locations(p);
    const sg_function *fn = sg_profile_functions(p);
    sg_map m;
    sg_map_init(&m);
    int rc = -1;
    size_t cap = 0;
    for (size_t i = 0; i < nl; i++) {
        uint32_t file = fn[loc[i].function].filename;
        uint64_t key = (uint64_t)file << 32 | (uint32_t)loc[i].line;
        const uint64_t *v = sg_map_get(&m, key);
        if (v) {
            s->loc_line[i] = (uint32_t)*v;
            continue;
        }
        if (s->nline == cap) {
            cap = cap ? cap * 2 : 64;
            sg_wc_line *l = realloc(s->line, cap * sizeof *l);
            if (!l)
                goto out;
            s->line = l;
        }
        if (!sg_map_put(&m, key, s->nline))
            goto out;
        s->line[s->nline] =
            (sg_wc_line){.filename = file, .line = loc[i].line, .function = loc[i].function};
        s->loc_line[i] = (uint32_t)s->nline++;
    }
    rc = 0;
out:
    sg_map_free(&m);
    return rc;
}

int sg_wc_stats_build(const sg_wc_ctx *c, uint32_t track, sg_wc_stats *s)
{
    memset(s, 0, sizeof *s);
    const sg_profile *p = c->p;
    size_t nf = sg_profile_nfunctions(p), nl = sg_profile_nlocations(p);
    size_t nn = sg_profile_nnodes(p);
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_location *loc = sg_profile_locations(p);
    int64_t *self = NULL;
    uint32_t *fstamp = NULL, *lstamp = NULL, *istamp = NULL;
    int rc = -1;
    s->func = calloc(nf ? nf : 1, sizeof *s->func);
    s->loc = calloc(nl ? nl : 1, sizeof *s->loc);
    s->loc_line = malloc((nl ? nl : 1) * sizeof *s->loc_line);
    if (!s->func || !s->loc || !s->loc_line || index_lines(p, s))
        goto out;
    s->line_stat = calloc(s->nline ? s->nline : 1, sizeof *s->line_stat);
    fstamp = malloc((nf ? nf : 1) * sizeof *fstamp);
    lstamp = malloc((nl ? nl : 1) * sizeof *lstamp);
    istamp = malloc((s->nline ? s->nline : 1) * sizeof *istamp);
    if (!s->line_stat || !fstamp || !lstamp || !istamp || sg_wc_node_values(c, track, &self, NULL))
        goto out;
    memset(fstamp, 0xff, (nf ? nf : 1) * sizeof *fstamp);
    memset(lstamp, 0xff, (nl ? nl : 1) * sizeof *lstamp);
    memset(istamp, 0xff, (s->nline ? s->nline : 1) * sizeof *istamp);
    for (uint32_t n = 1; n < nn; n++) {
        int64_t v = self[n];
        if (!v)
            continue;
        s->grand += v;
        uint32_t l = nodes[n].location;
        s->loc[l].self += v;
        s->func[loc[l].function].self += v;
        s->line_stat[s->loc_line[l]].self += v;
        for (uint32_t m = n; m != SG_ROOT && m != SG_NONE; m = nodes[m].parent) {
            l = nodes[m].location;
            uint32_t f = loc[l].function, li = s->loc_line[l];
            if (lstamp[l] != n) {
                lstamp[l] = n;
                s->loc[l].total += v;
            }
            if (fstamp[f] != n) {
                fstamp[f] = n;
                s->func[f].total += v;
            }
            if (istamp[li] != n) {
                istamp[li] = n;
                s->line_stat[li].total += v;
            }
        }
    }
    /* a value recorded at the root (an empty stack) still counts towards the whole */
    if (nn)
        s->grand += self[0];
    rc = 0;
out:
    free(self);
    free(fstamp);
    free(lstamp);
    free(istamp);
    return rc;
}

typedef struct rank_key {
    int64_t self, total;
    const char *a, *b; /* name then file, or file then name */
    int32_t line;
    uint32_t id;
} rank_key;

static int cmp_rank(const void *x, const void *y)
{
    const rank_key *p = x, *q = y;
    if (p->self != q->self)
        return p->self > q->self ? -1 : 1;
    if (p->total != q->total)
        return p->total > q->total ? -1 : 1;
    int c = strcmp(p->a, q->a);
    if (c)
        return c;
    if ((c = strcmp(p->b, q->b)))
        return c;
    if (p->line != q->line)
        return p->line < q->line ? -1 : 1;
    return p->id < q->id ? -1 : p->id > q->id;
}

static uint32_t *ranked(rank_key *k, size_t n, size_t *out_n)
{
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (ids) {
        qsort(k, n, sizeof *k, cmp_rank);
        for (size_t i = 0; i < n; i++)
            ids[i] = k[i].id;
    }
    free(k);
    *out_n = ids ? n : 0;
    return ids;
}

uint32_t *sg_wc_funcs_by_self(const sg_wc_ctx *c, const sg_wc_stats *s, size_t *n)
{
    size_t nf = sg_profile_nfunctions(c->p), k = 0;
    const sg_function *fn = sg_profile_functions(c->p);
    rank_key *keys = malloc((nf ? nf : 1) * sizeof *keys);
    *n = 0;
    if (!keys)
        return NULL;
    for (size_t i = 0; i < nf; i++)
        if (s->func[i].total || s->func[i].self)
            keys[k++] = (rank_key){s->func[i].self, s->func[i].total,
                                   sg_profile_str(c->p, fn[i].name),
                                   sg_profile_str(c->p, fn[i].filename), fn[i].first_line,
                                   (uint32_t)i};
    return ranked(keys, k, n);
}

uint32_t *sg_wc_lines_by_self(const sg_wc_ctx *c, const sg_wc_stats *s, size_t *n)
{
    size_t k = 0;
    rank_key *keys = malloc((s->nline ? s->nline : 1) * sizeof *keys);
    *n = 0;
    if (!keys)
        return NULL;
    for (size_t i = 0; i < s->nline; i++)
        if (s->line_stat[i].total || s->line_stat[i].self)
            keys[k++] = (rank_key){s->line_stat[i].self, s->line_stat[i].total,
                                   sg_profile_str(c->p, s->line[i].filename),
                                   sg_wc_func_name(c->p, s->line[i].function), s->line[i].line,
                                   (uint32_t)i};
    return ranked(keys, k, n);
}
