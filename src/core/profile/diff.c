/* The comparison engine behind `spyglass diff` and `spyglass check` (see sg_diff.h).
 *
 * The two profiles have their own string tables, so names and files are first interned
 * into one shared id space by content; after that every matching key is an exact 64-bit
 * integer ((name, file base name) for function groups, (file, line) or (function row,
 * offset) for lines, (parent frame, function row) for the merged call tree) and goes
 * into sg_map as is.
 *
 * Self and total per function and per line use the writers' rule: walk each stack that
 * holds a value once, from leaf to root, stamping each unit with the leaf's node id, so a
 * recursive function counts a stack once and a total never exceeds the grand total. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "../base/sg_map.h"
#include "sg_diff.h"

/* ---- small helpers ---- */

/* Values come from files we do not trust: negative ones count as nothing and sums
 * saturate instead of overflowing. */
static int64_t sat_add(int64_t a, int64_t b)
{
    if (b <= 0)
        return a;
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static void *zalloc(size_t n, size_t size) { return calloc(n ? n : 1, size); }

static uint32_t *nones(size_t n)
{
    uint32_t *a = malloc((n ? n : 1) * sizeof *a);
    if (a)
        memset(a, 0xff, (n ? n : 1) * sizeof *a);
    return a;
}

/* ---- reading one profile ---- */

static void input_init(sg_diff_input *in, const sg_profile *p)
{
    const sg_profile_meta *m = sg_profile_meta_get(p);
    memset(in, 0, sizeof *in);
    in->p = p;
    in->sampled = m->mode == SG_MODE_SAMPLE;
    in->cpu_only = in->sampled && m->clock == SG_CLOCK_CPU;
    if (in->sampled) {
        if (m->interval_ns > 0)
            in->sec_per_unit = (double)m->interval_ns / 1e9;
        else if (m->rate_hz > 0)
            in->sec_per_unit = 1.0 / m->rate_hz;
        return;
    }
    /* Traced profiles: the first column measured in nanoseconds (self time). */
    for (uint32_t i = 0; i < m->n_values && i < SG_MAX_VALUES; i++) {
        const char *unit = sg_profile_str(p, m->value_unit[i]);
        if (strcmp(unit, "nanoseconds") == 0 || strcmp(unit, "ns") == 0) {
            in->col = i;
            in->sec_per_unit = 1e-9;
            return;
        }
    }
}

typedef struct side_work {
    int64_t *node_self, *node_total; /* by node */
    int64_t *fself, *ftotal;         /* by function id */
    uint32_t *row_of_fn;             /* function id -> function row */
    uint32_t *shared_str;            /* string id -> shared id (lazily filled) */
} side_work;

static void side_free(side_work *w)
{
    free(w->node_self);
    free(w->node_total);
    free(w->fself);
    free(w->ftotal);
    free(w->row_of_fn);
    free(w->shared_str);
}

/* Node sums of the compared column; the grand total includes a value at the root. */
static int node_sums(sg_diff_input *in, side_work *w)
{
    const sg_profile *p = in->p;
    size_t nn = sg_profile_nnodes(p), nr = sg_profile_nrecords(p);
    const sg_record *r = sg_profile_records(p);
    const sg_node *nodes = sg_profile_nodes(p);
    w->node_self = zalloc(nn, sizeof *w->node_self);
    w->node_total = zalloc(nn, sizeof *w->node_total);
    if (!w->node_self || !w->node_total)
        return -1;
    for (size_t i = 0; i < nr; i++) {
        if (r[i].node >= nn || (in->cpu_only && !(r[i].flags & SG_F_ONCPU)))
            continue;
        w->node_self[r[i].node] = sat_add(w->node_self[r[i].node], r[i].values[in->col]);
    }
    memcpy(w->node_total, w->node_self, (nn ? nn : 1) * sizeof *w->node_total);
    for (size_t n = nn; n-- > 1;)
        if (nodes[n].parent < n)
            w->node_total[nodes[n].parent] =
                sat_add(w->node_total[nodes[n].parent], w->node_total[n]);
    in->grand = nn ? w->node_total[SG_ROOT] : 0;
    return 0;
}

/* Self and total per unit, where unit_of_loc maps a location to its unit (SG_NONE for
 * none). A total counts each stack once per unit however often the unit occurs on it. */
static int accumulate(const sg_profile *p, const side_work *w, const uint32_t *unit_of_loc,
                      size_t nunits, int64_t *self, int64_t *total)
{
    size_t nn = sg_profile_nnodes(p);
    const sg_node *nodes = sg_profile_nodes(p);
    uint32_t *stamp = nones(nunits);
    if (!stamp)
        return -1;
    for (uint32_t n = 1; n < nn; n++) {
        int64_t v = w->node_self[n];
        if (v <= 0)
            continue;
        uint32_t u = unit_of_loc[nodes[n].location];
        if (u != SG_NONE)
            self[u] = sat_add(self[u], v);
        /* parents have smaller ids: the walk ends even in a malformed trie */
        for (uint32_t m = n; m != SG_ROOT && m < nn;
             m = nodes[m].parent < m ? nodes[m].parent : SG_ROOT) {
            u = unit_of_loc[nodes[m].location];
            if (u != SG_NONE && stamp[u] != n) {
                stamp[u] = n;
                total[u] = sat_add(total[u], v);
            }
        }
    }
    free(stamp);
    return 0;
}

static int function_sums(const sg_diff_input *in, side_work *w)
{
    const sg_profile *p = in->p;
    size_t nf = sg_profile_nfunctions(p), nl = sg_profile_nlocations(p);
    const sg_location *loc = sg_profile_locations(p);
    uint32_t *unit = malloc((nl ? nl : 1) * sizeof *unit);
    w->fself = zalloc(nf, sizeof *w->fself);
    w->ftotal = zalloc(nf, sizeof *w->ftotal);
    w->row_of_fn = nones(nf);
    w->shared_str = nones(sg_profile_nstrings(p));
    int rc = -1;
    if (!unit || !w->fself || !w->ftotal || !w->row_of_fn || !w->shared_str)
        goto out;
    for (size_t l = 0; l < nl; l++)
        unit[l] = loc[l].function < nf ? loc[l].function : SG_NONE;
    rc = accumulate(p, w, unit, nf, w->fself, w->ftotal);
out:
    free(unit);
    return rc;
}

/* ---- the shared string space ---- */

/* Byte strings of both profiles (whole strings or file base names) interned by content.
 * Items point into the profiles' string tables, which never move. */
typedef struct shared_strings {
    sg_map by_hash; /* content hash (rehashed on collision) -> shared id */
    struct {
        const char *s;
        size_t len;
    } *items;
    size_t n, cap;
} shared_strings;

/* The shared id of s; SG_NONE when memory runs out. */
static uint32_t shared_span(shared_strings *ss, const char *s, size_t len)
{
    uint64_t key = sg_hash_bytes(s, len);
    for (;;) {
        const uint64_t *v = sg_map_get(&ss->by_hash, key);
        if (!v)
            break;
        if (ss->items[*v].len == len && memcmp(ss->items[*v].s, s, len) == 0)
            return (uint32_t)*v;
        key = sg_hash64(key + 1);
    }
    if (!sg_grow((void **)&ss->items, &ss->cap, ss->n + 1, sizeof *ss->items, 256) ||
        !sg_map_put(&ss->by_hash, key, ss->n))
        return SG_NONE;
    ss->items[ss->n].s = s;
    ss->items[ss->n].len = len;
    return (uint32_t)ss->n++;
}

/* The shared id of string id of p (side w), cached per side. */
static uint32_t shared_id(shared_strings *ss, side_work *w, const sg_profile *p, uint32_t id)
{
    if (id >= sg_profile_nstrings(p))
        id = 0;
    if (w->shared_str[id] == SG_NONE)
        w->shared_str[id] = shared_span(ss, sg_profile_str(p, id), sg_profile_str_len(p, id));
    return w->shared_str[id];
}

static const char *base_name(const char *path, size_t len, size_t *out_len)
{
    size_t i = len;
    while (i && path[i - 1] != '/')
        i--;
    *out_len = len - i;
    return path + i;
}

/* How many trailing path components a and b share ("/ci/1/app/x.py" and
 * "/home/me/app/x.py": 2), so a checkout in another directory still matches. */
static size_t common_tail(const char *a, size_t la, const char *b, size_t lb)
{
    size_t n = 0;
    while (la && lb) {
        size_t i = la, j = lb;
        while (i && a[i - 1] != '/')
            i--;
        while (j && b[j - 1] != '/')
            j--;
        if (la - i != lb - j || memcmp(a + i, b + j, la - i) != 0)
            break;
        n++;
        la = i ? i - 1 : 0;
        lb = j ? j - 1 : 0;
        if (!i || !j)
            break;
    }
    return n;
}

/* ---- function matching ---- */

typedef struct fitem {
    uint32_t group; /* (qualified name, file base name) */
    uint32_t side;
    uint32_t file;  /* shared id of the whole path */
    int32_t first;
    uint32_t fn;
    bool used;
} fitem;

static int cmp_fitem(const void *a, const void *b)
{
    const fitem *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->side != y->side)
        return x->side < y->side ? -1 : 1;
    if (x->file != y->file)
        return x->file < y->file ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->fn < y->fn ? -1 : x->fn > y->fn;
}

typedef struct builder {
    sg_diff *d;
    side_work w[2];
    shared_strings ss;
    size_t cap_funcs, cap_lines, cap_frames;
} builder;

static uint32_t new_row(sg_diff_row **rows, size_t *n, size_t *cap)
{
    if (!sg_grow((void **)rows, cap, *n + 1, sizeof **rows, 64))
        return SG_NONE;
    sg_diff_row *r = &(*rows)[*n];
    memset(r, 0, sizeof *r);
    r->fn[0] = r->fn[1] = SG_NONE;
    return (uint32_t)(*n)++;
}

static int pair(builder *b, fitem *x, fitem *y)
{
    uint32_t r = new_row(&b->d->funcs, &b->d->nfuncs, &b->cap_funcs);
    if (r == SG_NONE)
        return -1;
    for (fitem *it = x; it; it = it == x ? y : NULL) {
        it->used = true;
        b->d->funcs[r].fn[it->side] = it->fn;
        b->d->funcs[r].line[it->side] = it->first;
        b->w[it->side].row_of_fn[it->fn] = r;
    }
    return 0;
}

typedef struct cand {
    size_t tail; /* shared trailing path components: more is better */
    int64_t dist; /* first line distance */
    uint32_t i, j;
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->tail != y->tail)
        return x->tail > y->tail ? -1 : 1;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    return x->j < y->j ? -1 : x->j > y->j;
}

#define SG_DIFF_MAX_CANDIDATES 4096

static const char *item_path(const builder *b, const fitem *it, size_t *len)
{
    const sg_profile *p = b->d->in[it->side].p;
    uint32_t file = sg_profile_functions(p)[it->fn].filename;
    *len = sg_profile_str_len(p, file);
    return sg_profile_str(p, file);
}

/* Pairs the leftovers of a group by the longest shared path tail, then the nearest
 * first line; only paths that share their base name are in one group. */
static int match_leftovers(builder *b, fitem *base, size_t nb, fitem *nw, size_t nn,
                           size_t lb, size_t ln)
{
    cand *c = malloc(lb * ln * sizeof *c);
    if (!c)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < nb; i++) {
        if (base[i].used)
            continue;
        size_t la, lj;
        const char *pa = item_path(b, &base[i], &la);
        for (size_t j = 0; j < nn; j++) {
            if (nw[j].used)
                continue;
            const char *pj = item_path(b, &nw[j], &lj);
            size_t tail = base[i].file == nw[j].file ? SIZE_MAX : common_tail(pa, la, pj, lj);
            c[k++] = (cand){tail, llabs((int64_t)base[i].first - nw[j].first), (uint32_t)i,
                            (uint32_t)j};
        }
    }
    qsort(c, k, sizeof *c, cmp_cand);
    int rc = 0;
    for (size_t q = 0; q < k && !rc; q++)
        if (!base[c[q].i].used && !nw[c[q].j].used)
            rc = pair(b, &base[c[q].i], &nw[c[q].j]);
    free(c);
    return rc;
}

/* Pairs the items of one (name, base name) group: the same path and first line first;
 * then the same or the most similar path with the nearest first line (a function
 * moved by an edit above it, a checkout elsewhere); the rest stand alone. */
static int match_group(builder *b, fitem *base, size_t nb, fitem *nw, size_t nn)
{
    for (size_t i = 0, j = 0; i < nb && j < nn;) {
        if (base[i].file == nw[j].file && base[i].first == nw[j].first) {
            if (pair(b, &base[i++], &nw[j++]))
                return -1;
        } else if (base[i].file < nw[j].file ||
                   (base[i].file == nw[j].file && base[i].first < nw[j].first)) {
            i++;
        } else {
            j++;
        }
    }
    size_t lb = 0, ln = 0;
    for (size_t i = 0; i < nb; i++)
        lb += !base[i].used;
    for (size_t j = 0; j < nn; j++)
        ln += !nw[j].used;
    if (lb && ln && lb * ln <= SG_DIFF_MAX_CANDIDATES) {
        if (match_leftovers(b, base, nb, nw, nn, lb, ln))
            return -1;
    } else if (lb && ln) {
        /* too many namesakes to weigh every pair: keep their order within a path */
        for (size_t i = 0, j = 0; i < nb && j < nn;) {
            if (base[i].used || base[i].file < nw[j].file)
                i++;
            else if (nw[j].used || nw[j].file < base[i].file)
                j++;
            else if (pair(b, &base[i++], &nw[j++]))
                return -1;
        }
    }
    for (size_t i = 0; i < nb; i++)
        if (!base[i].used && pair(b, &base[i], NULL))
            return -1;
    for (size_t j = 0; j < nn; j++)
        if (!nw[j].used && pair(b, &nw[j], NULL))
            return -1;
    return 0;
}

static int match_functions(builder *b)
{
    size_t total = 0;
    for (int s = 0; s < 2; s++)
        total += sg_profile_nfunctions(b->d->in[s].p);
    fitem *items = malloc((total ? total : 1) * sizeof *items);
    sg_map groups;
    sg_map_init(&groups);
    int rc = -1;
    size_t n = 0;
    if (!items)
        goto out;
    for (uint32_t s = 0; s < 2; s++) {
        const sg_profile *p = b->d->in[s].p;
        const sg_function *fn = sg_profile_functions(p);
        for (size_t f = 0; f < sg_profile_nfunctions(p); f++) {
            if (b->w[s].ftotal[f] <= 0 && b->w[s].fself[f] <= 0)
                continue; /* not on any stack that counts (e.g. filtered away) */
            uint32_t fid = fn[f].filename < sg_profile_nstrings(p) ? fn[f].filename : 0;
            size_t blen;
            const char *bn = base_name(sg_profile_str(p, fid), sg_profile_str_len(p, fid), &blen);
            uint32_t name = shared_id(&b->ss, &b->w[s], p, fn[f].name);
            uint32_t file = shared_id(&b->ss, &b->w[s], p, fid);
            uint32_t bname = shared_span(&b->ss, bn, blen);
            if (name == SG_NONE || file == SG_NONE || bname == SG_NONE)
                goto out;
            uint64_t key = (uint64_t)name << 32 | bname;
            const uint64_t *g = sg_map_get(&groups, key);
            uint32_t group = g ? (uint32_t)*g : (uint32_t)groups.len;
            if (!g && !sg_map_put(&groups, key, group))
                goto out;
            items[n++] = (fitem){group, s, file, fn[f].first_line, (uint32_t)f, false};
        }
    }
    qsort(items, n, sizeof *items, cmp_fitem);
    for (size_t a = 0; a < n;) {
        size_t m = a, e;
        while (m < n && items[m].group == items[a].group && items[m].side == SG_DIFF_BASE)
            m++;
        e = m;
        while (e < n && items[e].group == items[a].group)
            e++;
        if (match_group(b, items + a, m - a, items + m, e - m))
            goto out;
        a = e;
    }
    rc = 0;
out:
    free(items);
    sg_map_free(&groups);
    return rc;
}

/* ---- line matching ---- */

static int match_lines(builder *b)
{
    sg_diff *d = b->d;
    sg_map keys;
    sg_map_init(&keys);
    uint32_t *unit[2] = {NULL, NULL};
    int64_t *acc[2][2] = {{NULL, NULL}, {NULL, NULL}};
    int rc = -1;
    for (int s = 0; s < 2; s++) {
        const sg_profile *p = d->in[s].p;
        const sg_location *loc = sg_profile_locations(p);
        const sg_function *fn = sg_profile_functions(p);
        size_t nl = sg_profile_nlocations(p), nf = sg_profile_nfunctions(p);
        if (!(unit[s] = nones(nl)))
            goto out;
        for (size_t l = 0; l < nl; l++) {
            uint32_t f = loc[l].function;
            if (f >= nf || b->w[s].row_of_fn[f] == SG_NONE)
                continue;
            uint64_t key;
            if (d->opts.line_match == SG_DIFF_LINE_OFFSET) {
                int64_t off = loc[l].line ? (int64_t)loc[l].line - fn[f].first_line : INT32_MIN;
                key = (uint64_t)b->w[s].row_of_fn[f] << 32 | (uint32_t)(uint64_t)off;
            } else {
                /* the path NEW gives the row's function, so a checkout elsewhere matches */
                const sg_diff_row *fr = &d->funcs[b->w[s].row_of_fn[f]];
                int cs = fr->fn[SG_DIFF_NEW] != SG_NONE ? SG_DIFF_NEW : SG_DIFF_BASE;
                const sg_profile *cp = d->in[cs].p;
                uint32_t file = shared_id(&b->ss, &b->w[cs], cp,
                                          sg_profile_functions(cp)[fr->fn[cs]].filename);
                if (file == SG_NONE)
                    goto out;
                key = (uint64_t)file << 32 | (uint32_t)loc[l].line;
            }
            const uint64_t *v = sg_map_get(&keys, key);
            uint32_t r;
            if (v) {
                r = (uint32_t)*v;
            } else {
                r = new_row(&d->lines, &d->nlines, &b->cap_lines);
                if (r == SG_NONE || !sg_map_put(&keys, key, r))
                    goto out;
            }
            if (d->lines[r].fn[s] == SG_NONE) {
                d->lines[r].fn[s] = f;
                d->lines[r].line[s] = loc[l].line;
            }
            unit[s][l] = r;
        }
    }
    for (int s = 0; s < 2; s++) {
        acc[s][0] = zalloc(d->nlines, sizeof(int64_t));
        acc[s][1] = zalloc(d->nlines, sizeof(int64_t));
        if (!acc[s][0] || !acc[s][1] ||
            accumulate(d->in[s].p, &b->w[s], unit[s], d->nlines, acc[s][0], acc[s][1]))
            goto out;
    }
    /* keep the lines that hold a value in either profile */
    size_t k = 0;
    for (size_t r = 0; r < d->nlines; r++) {
        if (acc[0][1][r] <= 0 && acc[1][1][r] <= 0 && acc[0][0][r] <= 0 && acc[1][0][r] <= 0)
            continue;
        d->lines[k] = d->lines[r];
        for (int s = 0; s < 2; s++) {
            d->lines[k].side[s].self = acc[s][0][r];
            d->lines[k].side[s].total = acc[s][1][r];
            if (!acc[s][1][r] && !acc[s][0][r]) {
                d->lines[k].fn[s] = SG_NONE;
                d->lines[k].line[s] = 0;
            }
        }
        k++;
    }
    d->nlines = k;
    rc = 0;
out:
    sg_map_free(&keys);
    for (int s = 0; s < 2; s++) {
        free(unit[s]);
        free(acc[s][0]);
        free(acc[s][1]);
    }
    return rc;
}

/* ---- the merged call tree ---- */

static int build_flame(builder *b)
{
    sg_diff *d = b->d;
    sg_map kids;
    sg_map_init(&kids);
    uint32_t *frame_of = NULL;
    int rc = -1;
    if (!sg_grow((void **)&d->frames, &b->cap_frames, 1, sizeof *d->frames, 256))
        goto out;
    memset(&d->frames[0], 0, sizeof d->frames[0]);
    d->frames[0].parent = d->frames[0].row = SG_NONE;
    d->nframes = 1;
    for (int s = 0; s < 2; s++) {
        const sg_profile *p = d->in[s].p;
        const sg_node *nodes = sg_profile_nodes(p);
        const sg_location *loc = sg_profile_locations(p);
        size_t nn = sg_profile_nnodes(p), nf = sg_profile_nfunctions(p);
        free(frame_of);
        if (!(frame_of = nones(nn)))
            goto out;
        if (nn) {
            frame_of[SG_ROOT] = 0;
            d->frames[0].self[s] = b->w[s].node_self[SG_ROOT];
        }
        for (uint32_t n = 1; n < nn; n++) {
            uint32_t parent = nodes[n].parent;
            if (b->w[s].node_total[n] <= 0 || parent >= n || frame_of[parent] == SG_NONE)
                continue;
            uint32_t pf = frame_of[parent], f = loc[nodes[n].location].function;
            uint32_t row = f < nf ? b->w[s].row_of_fn[f] : SG_NONE;
            uint32_t fr = pf;
            if (row != SG_NONE) {
                uint64_t key = (uint64_t)pf << 32 | row;
                const uint64_t *v = sg_map_get(&kids, key);
                if (v) {
                    fr = (uint32_t)*v;
                } else {
                    if (!sg_grow((void **)&d->frames, &b->cap_frames, d->nframes + 1,
                                 sizeof *d->frames, 256) ||
                        !sg_map_put(&kids, key, d->nframes))
                        goto out;
                    fr = (uint32_t)d->nframes++;
                    sg_diff_frame *nf_ = &d->frames[fr];
                    memset(nf_, 0, sizeof *nf_);
                    nf_->parent = pf;
                    nf_->row = row;
                    nf_->depth = d->frames[pf].depth + 1;
                }
            }
            frame_of[n] = fr;
            d->frames[fr].self[s] = sat_add(d->frames[fr].self[s], b->w[s].node_self[n]);
        }
    }
    for (size_t f = 0; f < d->nframes; f++)
        for (int s = 0; s < 2; s++)
            d->frames[f].total[s] = d->frames[f].self[s];
    for (size_t f = d->nframes; f-- > 1;)
        for (int s = 0; s < 2; s++)
            d->frames[d->frames[f].parent].total[s] =
                sat_add(d->frames[d->frames[f].parent].total[s], d->frames[f].total[s]);
    rc = 0;
out:
    free(frame_of);
    sg_map_free(&kids);
    return rc;
}

/* ---- changes, noise and order ---- */

/* Variance of one side's share p = x / n. Sampled: binomial, with the Laplace estimate
 * (x + 1) / (n + 2) so that a function never seen still has some uncertainty. Traced:
 * the relative floor. */
static double share_var(const sg_diff_input *in, int64_t x)
{
    if (in->grand <= 0)
        return 0;
    double n = (double)in->grand;
    if (in->sampled) {
        double q = ((double)x + 1) / (n + 2);
        return q * (1 - q) / n;
    }
    double se = SG_DIFF_TRACE_NOISE * (double)x / n;
    return se * se;
}

double sg_diff_share_noise(const sg_diff *d, int64_t base_v, int64_t new_v)
{
    return SG_DIFF_SIGMAS * sqrt(share_var(&d->in[0], base_v) + share_var(&d->in[1], new_v));
}

static double share_of(const sg_diff_input *in, int64_t x)
{
    return in->grand > 0 ? (double)x / (double)in->grand : 0;
}

static void finish_row(const sg_diff *d, sg_diff_row *r)
{
    for (int s = 0; s < 2; s++) {
        r->side[s].self_share = share_of(&d->in[s], r->side[s].self);
        r->side[s].total_share = share_of(&d->in[s], r->side[s].total);
    }
    r->d_self = r->side[1].self_share - r->side[0].self_share;
    r->d_total = r->side[1].total_share - r->side[0].total_share;
    r->noise_self = sg_diff_share_noise(d, r->side[0].self, r->side[1].self);
    r->noise_total = sg_diff_share_noise(d, r->side[0].total, r->side[1].total);
    r->impact = fabs(sg_diff_change(r, d->opts.metric));
    r->status = r->side[0].total <= 0 ? SG_DIFF_ADDED
                : r->side[1].total <= 0 ? SG_DIFF_REMOVED
                                        : SG_DIFF_CHANGED;
}

typedef struct order_key {
    double impact, other, size;
    const char *name, *file;
    int32_t line;
    uint32_t id;
} order_key;

static int cmp_order(const void *a, const void *b)
{
    const order_key *x = a, *y = b;
    if (x->impact != y->impact)
        return x->impact > y->impact ? -1 : 1;
    if (x->other != y->other)
        return x->other > y->other ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if ((c = strcmp(x->file, y->file)))
        return c;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Orders rows by impact (then the other metric's change, the larger share, name, file,
 * line) and, when
 * remap is given, fills remap[old index] = new index. */
static int order_rows(const sg_diff *d, sg_diff_row *rows, size_t n, uint32_t *remap)
{
    order_key *k = malloc((n ? n : 1) * sizeof *k);
    sg_diff_row *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!k || !copy) {
        free(k);
        free(copy);
        return -1;
    }
    sg_diff_metric other = d->opts.metric == SG_DIFF_SELF ? SG_DIFF_TOTAL : SG_DIFF_SELF;
    for (size_t i = 0; i < n; i++) {
        uint32_t fn;
        const sg_profile *p = sg_diff_row_profile(d, &rows[i], &fn);
        const sg_function *f = fn < sg_profile_nfunctions(p) ? &sg_profile_functions(p)[fn] : NULL;
        int side = rows[i].fn[SG_DIFF_NEW] != SG_NONE ? SG_DIFF_NEW : SG_DIFF_BASE;
        const sg_diff_side *sb = &rows[i].side[0], *sn = &rows[i].side[1];
        double size = d->opts.metric == SG_DIFF_TOTAL ? fmax(sb->total_share, sn->total_share)
                                                      : fmax(sb->self_share, sn->self_share);
        k[i] = (order_key){rows[i].impact, fabs(sg_diff_change(&rows[i], other)), size,
                           f ? sg_profile_str(p, f->name) : "",
                           f ? sg_profile_str(p, f->filename) : "",
                           rows[i].line[side], (uint32_t)i};
    }
    qsort(k, n, sizeof *k, cmp_order);
    if (n)
        memcpy(copy, rows, n * sizeof *copy);
    for (size_t i = 0; i < n; i++) {
        rows[i] = copy[k[i].id];
        if (remap)
            remap[k[i].id] = (uint32_t)i;
    }
    free(k);
    free(copy);
    return 0;
}

static int finish(builder *b)
{
    sg_diff *d = b->d;
    for (size_t i = 0; i < d->nfuncs; i++) {
        sg_diff_row *r = &d->funcs[i];
        for (int s = 0; s < 2; s++)
            if (r->fn[s] != SG_NONE) {
                r->side[s].self = b->w[s].fself[r->fn[s]];
                r->side[s].total = b->w[s].ftotal[r->fn[s]];
            }
        finish_row(d, r);
    }
    for (size_t i = 0; i < d->nlines; i++)
        finish_row(d, &d->lines[i]);
    uint32_t *remap = malloc((d->nfuncs ? d->nfuncs : 1) * sizeof *remap);
    if (!remap || order_rows(d, d->funcs, d->nfuncs, remap) ||
        order_rows(d, d->lines, d->nlines, NULL)) {
        free(remap);
        return -1;
    }
    for (size_t f = 1; f < d->nframes; f++)
        d->frames[f].row = remap[d->frames[f].row];
    free(remap);
    return 0;
}

sg_diff *sg_diff_new(const sg_profile *base, const sg_profile *new_p, const sg_diff_opts *o,
                     sg_error *err)
{
    if (!base || !new_p) {
        sg_fail(err, SG_E_ARG, 0, "sg_diff_new: missing profile");
        return NULL;
    }
    builder b;
    memset(&b, 0, sizeof b);
    sg_map_init(&b.ss.by_hash);
    b.d = calloc(1, sizeof *b.d);
    int rc = -1;
    if (!b.d)
        goto out;
    if (o)
        b.d->opts = *o;
    input_init(&b.d->in[SG_DIFF_BASE], base);
    input_init(&b.d->in[SG_DIFF_NEW], new_p);
    for (int s = 0; s < 2; s++)
        if (node_sums(&b.d->in[s], &b.w[s]) || function_sums(&b.d->in[s], &b.w[s]))
            goto out;
    if (match_functions(&b) || (b.d->opts.lines && match_lines(&b)) ||
        (b.d->opts.flame && build_flame(&b)) || finish(&b))
        goto out;
    rc = 0;
out:
    for (int s = 0; s < 2; s++)
        side_free(&b.w[s]);
    sg_map_free(&b.ss.by_hash);
    free(b.ss.items);
    if (rc) {
        sg_diff_free(b.d);
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while comparing the profiles");
        return NULL;
    }
    return b.d;
}

void sg_diff_free(sg_diff *d)
{
    if (!d)
        return;
    free(d->funcs);
    free(d->lines);
    free(d->frames);
    free(d);
}

const sg_profile *sg_diff_row_profile(const sg_diff *d, const sg_diff_row *r, uint32_t *fn)
{
    int s = r->fn[SG_DIFF_NEW] != SG_NONE ? SG_DIFF_NEW : SG_DIFF_BASE;
    *fn = r->fn[s];
    return d->in[s].p;
}

double sg_diff_seconds(const sg_diff *d, int side, int64_t v)
{
    double spu = d->in[side].sec_per_unit;
    return spu > 0 ? (double)v * spu : -1;
}

double sg_diff_change(const sg_diff_row *r, sg_diff_metric m)
{
    return m == SG_DIFF_TOTAL ? r->d_total : r->d_self;
}

double sg_diff_noise(const sg_diff_row *r, sg_diff_metric m)
{
    return m == SG_DIFF_TOTAL ? r->noise_total : r->noise_self;
}

bool sg_diff_within_noise(const sg_diff_row *r, sg_diff_metric m)
{
    return fabs(sg_diff_change(r, m)) <= sg_diff_noise(r, m);
}

/* Sampled: a count is Poisson-like, standard error sqrt(x + 1) samples; traced: the
 * relative floor. */
static double time_var(const sg_diff_input *in, int64_t x)
{
    double se = in->sampled ? sqrt((double)x + 1) * in->sec_per_unit
                            : SG_DIFF_TRACE_NOISE * (double)x * in->sec_per_unit;
    return se * se;
}

double sg_diff_time_noise(const sg_diff *d, const sg_diff_row *r, sg_diff_metric m)
{
    if (d->in[0].sec_per_unit <= 0 || d->in[1].sec_per_unit <= 0)
        return -1;
    double v = 0;
    for (int s = 0; s < 2; s++)
        v += time_var(&d->in[s], m == SG_DIFF_TOTAL ? r->side[s].total : r->side[s].self);
    return SG_DIFF_SIGMAS * sqrt(v);
}
