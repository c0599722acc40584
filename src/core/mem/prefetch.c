#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "../base/sg_map.h"
#include "sg_prefetch.h"

/* Regions one tick may remember: far more than a walk reads (4096 threads' states and
 * chunks, or a few thousand frame objects), and a bound on a target that lies. */
#define MAX_REGIONS 65536
/* A batch that keeps failing (memory unmapped since the last tick) is not retried
 * region by region for ever: what is left is read on demand. */
#define MAX_SKIPS 16

/* Small regions the last tick did not read are still copied for this many ticks: a
 * program alternating between calls (on 3.9/3.10 a frame object each, at the address
 * its code object keeps for it) is then found in one copy whichever call it is in. A
 * walk that had to read the frame on its own, later than the thread state pointing at
 * it, was often torn, and taken again later in the tick: a sample moved from the short
 * call to a later moment, more often in the long one (gt_bursts on 3.9: the short call
 * came out 2-4 points under its true 24%). */
#define RETAIN_MAX 1024

/* Regions closer than this (or on a page already read) are read as one span. */
#define MERGE_GAP 512
#define MAX_SPAN (256u << 10)

typedef struct {
    uint64_t addr;
    size_t len;
    size_t span; /* the span it was read in */
    size_t off;  /* into data */
    bool ok;     /* read whole at this tick */
    uint8_t idle; /* ticks since a walk last read it (0: the last one did) */
} region;

typedef struct {
    uint64_t lo, hi;
    size_t off;   /* into data, SIZE_MAX if not read */
    size_t first; /* the earliest read of its regions (their position in the set) */
    bool ok;
} span;

typedef struct {
    uint64_t addr;
    size_t idx;
} keyed;

typedef struct {
    region *at;
    size_t n, cap;
    sg_map index; /* addr -> position + 1 */
} region_set;

/* Regions and the bytes read for them at one moment. */
typedef struct {
    region_set set;
    unsigned char *data;
    size_t data_cap;
} copy;

struct sg_prefetch {
    sg_reader base; /* first: the walker sees a plain reader */
    sg_reader *under;
    copy tick;       /* taken at this tick's start */
    copy again;      /* a structure taken again later in the tick (sg_prefetch_refresh) */
    region_set next; /* read during this tick: the plan for the next one */
    keyed *order; /* regions by address */
    size_t order_cap;
    keyed *span_order; /* spans by their earliest read */
    size_t span_order_cap;
    span *spans;
    size_t spans_cap;
    sg_iov *iov;
    size_t iov_cap;
    size_t *iov_of; /* the span each iov reads (in the retry pass: the region) */
    size_t iov_of_cap;
    uint64_t hits, misses;
    size_t last_regions, last_spans, last_bytes; /* of the last tick's batch */
};

static void set_free(region_set *s)
{
    free(s->at);
    sg_map_free(&s->index);
}

static void remember(region_set *s, uint64_t addr, size_t len)
{
    uint64_t *slot = sg_map_get(&s->index, addr);
    if (slot) {
        region *g = &s->at[*slot - 1];
        if (len > g->len)
            g->len = len;
        return;
    }
    if (s->n >= MAX_REGIONS || len == 0 || len > SG_PREFETCH_MAX_BYTES ||
        !sg_grow((void **)&s->at, &s->cap, s->n + 1, sizeof *s->at, 64) ||
        !sg_map_put(&s->index, addr, s->n + 1))
        return; /* not remembered: only means a read of its own next time */
    s->at[s->n++] = (region){addr, len, 0, 0, false, 0};
}

/* Carries the small regions of the plan the last tick used, and did not read, into the
 * next plan, one tick idler. */
static void retain(region_set *next, const region_set *used)
{
    size_t kept = 0;
    for (size_t i = 0; i < used->n && kept < RETAIN_MAX; i++) {
        const region *g = &used->at[i];
        if (g->idle + 1 >= SG_PREFETCH_RETAIN_TICKS || g->len > SG_PREFETCH_RETAIN_MAX_LEN ||
            sg_map_get(&next->index, g->addr))
            continue;
        size_t before = next->n;
        remember(next, g->addr, g->len);
        if (next->n > before) {
            next->at[before].idle = (uint8_t)(g->idle + 1);
            kept++;
        }
    }
}

static bool serve_from(copy *c, uint64_t addr, void *buf, size_t len)
{
    uint64_t *slot = sg_map_get(&c->set.index, addr);
    if (!slot)
        return false;
    const region *g = &c->set.at[*slot - 1];
    if (!g->ok || len > g->len)
        return false;
    memcpy(buf, c->data + g->off, len);
    return true;
}

/* Copies the region from the latest copy that holds it whole; false if none does. */
static bool serve(sg_prefetch *pf, uint64_t addr, void *buf, size_t len)
{
    if (!serve_from(&pf->again, addr, buf, len) && !serve_from(&pf->tick, addr, buf, len))
        return false;
    pf->hits++;
    return true;
}

static int pf_read(sg_reader *r, uint64_t addr, void *buf, size_t len, sg_error *err)
{
    sg_prefetch *pf = (sg_prefetch *)r;
    remember(&pf->next, addr, len);
    if (serve(pf, addr, buf, len))
        return 0;
    pf->misses++;
    return sg_read(pf->under, addr, buf, len, err);
}

/* The leading regions the copy holds are served from it, the rest read in one batch. */
static size_t pf_readv(sg_reader *r, const sg_iov *iov, size_t n)
{
    sg_prefetch *pf = (sg_prefetch *)r;
    size_t i = 0;
    for (; i < n; i++) {
        remember(&pf->next, iov[i].addr, iov[i].len);
        if (!serve(pf, iov[i].addr, iov[i].buf, iov[i].len))
            break;
    }
    if (i == n)
        return n;
    for (size_t j = i + 1; j < n; j++)
        remember(&pf->next, iov[j].addr, iov[j].len);
    pf->misses += n - i;
    return i + sg_readv(pf->under, iov + i, n - i);
}

static void pf_free(sg_reader *r)
{
    sg_prefetch *pf = (sg_prefetch *)r;
    set_free(&pf->tick.set);
    set_free(&pf->again.set);
    set_free(&pf->next);
    free(pf->tick.data);
    free(pf->again.data);
    free(pf->order);
    free(pf->span_order);
    free(pf->spans);
    free(pf->iov);
    free(pf->iov_of);
    free(pf);
}

static const sg_reader_ops prefetch_ops = {pf_read, pf_readv, pf_free};

sg_prefetch *sg_prefetch_new(sg_reader *under)
{
    sg_prefetch *pf = calloc(1, sizeof *pf);
    if (!pf)
        return NULL;
    pf->base.ops = &prefetch_ops;
    pf->base.pid = under->pid;
    pf->base.kind = under->kind;
    pf->under = under;
    sg_map_init(&pf->tick.set.index);
    sg_map_init(&pf->again.set.index);
    sg_map_init(&pf->next.index);
    return pf;
}

void sg_prefetch_free(sg_prefetch *pf)
{
    if (pf)
        pf_free(&pf->base);
}

sg_reader *sg_prefetch_reader(sg_prefetch *pf) { return &pf->base; }

void sg_prefetch_hint(sg_prefetch *pf, uint64_t addr, size_t len)
{
    remember(&pf->next, addr, len);
}

static int by_addr(const void *a, const void *b)
{
    uint64_t x = ((const keyed *)a)->addr, y = ((const keyed *)b)->addr;
    return x < y ? -1 : x > y;
}

/* Whether a region starting at addr may join a span ending at hi: the bytes between are
 * few, or on a page the span already reads, so every page of the span is a page one of
 * its regions is on (nothing unmapped is asked for). */
static bool joins(const span *sp, uint64_t addr, uint64_t end)
{
    uint64_t hi = end > sp->hi ? end : sp->hi;
    if (hi - sp->lo > MAX_SPAN)
        return false;
    return addr <= sp->hi + MERGE_GAP || addr >> 12 <= (sp->hi - 1) >> 12;
}

/* Reads every region of cp into it, in as few calls as it takes. */
static void load(sg_prefetch *pf, copy *cp)
{
    region_set *c = &cp->set;
    for (size_t i = 0; i < c->n; i++)
        c->at[i].ok = false;
    if (!c->n || !sg_grow((void **)&pf->order, &pf->order_cap, c->n, sizeof *pf->order, 64) ||
        !sg_grow((void **)&pf->spans, &pf->spans_cap, c->n, sizeof *pf->spans, 64) ||
        !sg_grow((void **)&pf->span_order, &pf->span_order_cap, c->n, sizeof *pf->span_order,
                 64) ||
        !sg_grow((void **)&pf->iov, &pf->iov_cap, c->n, sizeof *pf->iov, 64) ||
        !sg_grow((void **)&pf->iov_of, &pf->iov_of_cap, c->n, sizeof *pf->iov_of, 64))
        return;
    /* Neighbouring regions (frame objects from one allocator pool, thread states) are
     * read as one span: the kernel's cost is per region and per page, not per byte. */
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->at[i].addr <= UINT64_MAX - c->at[i].len)
            pf->order[n++] = (keyed){c->at[i].addr, i};
    qsort(pf->order, n, sizeof *pf->order, by_addr);
    size_t nspans = 0;
    for (size_t j = 0; j < n; j++) {
        region *g = &c->at[pf->order[j].idx];
        uint64_t end = g->addr + g->len;
        span *sp = nspans ? &pf->spans[nspans - 1] : NULL;
        if (sp && joins(sp, g->addr, end)) {
            if (end > sp->hi)
                sp->hi = end;
            if (pf->order[j].idx < sp->first)
                sp->first = pf->order[j].idx;
        } else {
            sp = &pf->spans[nspans++];
            *sp = (span){g->addr, end, 0, pf->order[j].idx, false};
        }
        g->span = (size_t)(sp - pf->spans);
    }
    /* The kernel copies the spans one after the other while the target runs on: in the
     * order the walk read them (thread state, innermost frame, its callers...), as a
     * walk reading one structure at a time would, a stack changing at its innermost end
     * (calls and returns) is least often torn. Regions are kept in that order. */
    for (size_t i = 0; i < nspans; i++)
        pf->span_order[i] = (keyed){pf->spans[i].first, i};
    qsort(pf->span_order, nspans, sizeof *pf->span_order, by_addr);
    size_t total = 0, k = 0;
    for (size_t i = 0; i < nspans; i++) {
        span *sp = &pf->spans[i];
        size_t len = (size_t)(sp->hi - sp->lo);
        sp->off = SIZE_MAX; /* not in this tick's copy */
        if (len > SG_PREFETCH_MAX_BYTES - total)
            continue;
        sp->off = total;
        total += len;
    }
    if (!sg_grow((void **)&cp->data, &cp->data_cap, total, 1, 4096))
        return;
    for (size_t o = 0; o < nspans; o++) {
        size_t i = pf->span_order[o].idx;
        span *sp = &pf->spans[i];
        if (sp->off == SIZE_MAX)
            continue;
        pf->iov[k] = (sg_iov){sp->lo, cp->data + sp->off, (size_t)(sp->hi - sp->lo)};
        pf->iov_of[k] = i;
        k++;
    }
    if (cp == &pf->tick) {
        pf->last_regions = n;
        pf->last_spans = k;
        pf->last_bytes = total;
    }
    /* The kernel stops a batch at the first span it cannot read: skip that one and go
     * on with the rest. */
    size_t at = 0;
    for (int skips = 0; at < k && skips <= MAX_SKIPS; skips++) {
        size_t got = sg_readv(pf->under, pf->iov + at, k - at);
        for (size_t j = 0; j < got; j++)
            pf->spans[pf->iov_of[at + j]].ok = true;
        at += got + 1;
    }
    /* A span fails whole when one of its regions is no longer mapped (a freed frame):
     * the others of a failed span are read again one by one, in one more call. */
    k = 0;
    for (size_t j = 0; j < n; j++) {
        size_t i = pf->order[j].idx;
        region *g = &c->at[i];
        const span *sp = &pf->spans[g->span];
        g->ok = sp->ok;
        if (sp->off == SIZE_MAX)
            continue;
        g->off = sp->off + (size_t)(g->addr - sp->lo);
        if (!sp->ok) {
            pf->iov[k] = (sg_iov){g->addr, cp->data + g->off, g->len};
            pf->iov_of[k] = i;
            k++;
        }
    }
    at = 0;
    for (int skips = 0; at < k && skips <= MAX_SKIPS; skips++) {
        size_t got = sg_readv(pf->under, pf->iov + at, k - at);
        for (size_t j = 0; j < got; j++)
            c->at[pf->iov_of[at + j]].ok = true;
        at += got + 1;
    }
}

void sg_prefetch_begin(sg_prefetch *pf)
{
    retain(&pf->next, &pf->tick.set);
    region_set done = pf->tick.set;
    pf->tick.set = pf->next;
    pf->next = done;
    pf->next.n = 0;
    sg_map_clear(&pf->next.index);
    pf->again.set.n = 0;
    sg_map_clear(&pf->again.set.index);
    load(pf, &pf->tick);
}

size_t sg_prefetch_mark(const sg_prefetch *pf) { return pf->next.n; }

void sg_prefetch_refresh(sg_prefetch *pf, size_t mark)
{
    region_set *a = &pf->again.set;
    a->n = 0;
    sg_map_clear(&a->index);
    for (size_t i = mark; i < pf->next.n; i++)
        remember(a, pf->next.at[i].addr, pf->next.at[i].len);
    load(pf, &pf->again);
}

uint64_t sg_prefetch_misses(const sg_prefetch *pf) { return pf->misses; }

void sg_prefetch_stats(const sg_prefetch *pf, sg_prefetch_stat *out)
{
    out->hits = pf->hits;
    out->misses = pf->misses;
    out->regions = pf->last_regions;
    out->spans = pf->last_spans;
    out->bytes = pf->last_bytes;
}
