/* mem/prefetch.c over the fake reader: what one tick reads, the next reads in one batch
 * and serves from that copy; the copy is of the moment the tick began; regions that
 * grow, fail or move are handled; and live mode and refresh read the present. */
#include <string.h>

#include "../../src/core/mem/sg_prefetch.h"
#include "sg_test.h"

static unsigned char A[256], B[64], C[128], D[256];

static sg_reader *world(void)
{
    for (int i = 0; i < 256; i++) {
        A[i] = (unsigned char)i;
        D[i] = (unsigned char)(255 - i);
    }
    memset(B, 0xbb, sizeof B);
    memset(C, 0xcc, sizeof C);
    sg_reader *r = sg_reader_fake_new();
    sg_reader_fake_add(r, 0x10000, A, sizeof A);
    sg_reader_fake_add(r, 0x50000, B, sizeof B);
    sg_reader_fake_add(r, 0x90000, C, sizeof C);
    return r;
}

static int rd(sg_reader *r, uint64_t addr, void *buf, size_t len)
{
    sg_error err;
    return sg_read(r, addr, buf, len, &err);
}

static void test_next_tick_is_one_batch(void)
{
    sg_reader *under = world();
    sg_prefetch *pf = sg_prefetch_new(under);
    sg_reader *r = sg_prefetch_reader(pf);
    unsigned char buf[256];
    sg_prefetch_begin(pf); /* nothing known yet */
    SG_CHECK_EQ_INT(rd(r, 0x10000, buf, 64), 0);
    SG_CHECK_EQ_INT(rd(r, 0x50000, buf, 8), 0);
    SG_CHECK_EQ_INT(rd(r, 0x90010, buf, 32), 0);
    SG_CHECK_EQ_INT(under->nreads, 3);
    for (int tick = 0; tick < 3; tick++) {
        uint64_t before = under->nreads;
        sg_prefetch_begin(pf);
        SG_CHECK_EQ_INT(under->nreads - before, 1);
        memset(buf, 0, sizeof buf);
        SG_CHECK_EQ_INT(rd(r, 0x10000, buf, 64), 0);
        SG_CHECK(memcmp(buf, A, 64) == 0);
        SG_CHECK_EQ_INT(rd(r, 0x90010, buf, 32), 0);
        SG_CHECK(memcmp(buf, C + 16, 32) == 0);
        SG_CHECK_EQ_INT(rd(r, 0x50000, buf, 8), 0);
        SG_CHECK(buf[0] == 0xbb && buf[7] == 0xbb);
        SG_CHECK_EQ_INT(under->nreads - before, 1); /* all served from the copy */
    }
    sg_prefetch_stat st;
    sg_prefetch_stats(pf, &st);
    SG_CHECK_EQ_INT(st.regions, 3);
    SG_CHECK_EQ_INT(st.spans, 3); /* far apart: three spans, one call */
    SG_CHECK_EQ_INT(st.hits, 9);
    SG_CHECK_EQ_INT(st.misses, 3);
    sg_prefetch_free(pf);
    sg_reader_free(under);
}

/* A small region a tick did not read is still in the batch for a while: a program
 * alternating between two calls is found in one copy whichever it is in. A large one
 * (a data-stack chunk) is not kept. */
static void test_small_regions_stay_a_while(void)
{
    static unsigned char big[SG_PREFETCH_RETAIN_MAX_LEN + 1];
    sg_reader *under = world();
    sg_reader_fake_add(under, 0x200000, big, sizeof big);
    sg_prefetch *pf = sg_prefetch_new(under);
    sg_reader *r = sg_prefetch_reader(pf);
    unsigned char buf[sizeof big];
    sg_prefetch_begin(pf);
    rd(r, 0x10000, buf, 64);
    rd(r, 0x50000, buf, 8);
    rd(r, 0x200000, buf, sizeof big);
    sg_prefetch_stat st;
    for (int tick = 1; tick < SG_PREFETCH_RETAIN_TICKS; tick++) {
        sg_prefetch_begin(pf);
        sg_prefetch_stats(pf, &st);
        /* A, read at every tick, and B, read only at the first; big only at tick 1 */
        SG_CHECK_EQ_INT(st.regions, tick == 1 ? 3 : 2);
        rd(r, 0x10000, buf, 64);
    }
    /* B's copy is served without a read of its own, from this tick's batch */
    uint64_t misses = sg_prefetch_misses(pf);
    memset(buf, 0, 8);
    SG_CHECK_EQ_INT(rd(r, 0x50000, buf, 8), 0);
    SG_CHECK(buf[0] == 0xbb && sg_prefetch_misses(pf) == misses);
    /* read again: idle from now on, for as long again */
    for (int tick = 0; tick <= SG_PREFETCH_RETAIN_TICKS; tick++) {
        sg_prefetch_begin(pf);
        sg_prefetch_stats(pf, &st);
        SG_CHECK_EQ_INT(st.regions, tick < SG_PREFETCH_RETAIN_TICKS ? 2 : 1);
        rd(r, 0x10000, buf, 64);
    }
    sg_prefetch_free(pf);
    sg_reader_free(under);
}

static void test_copy_is_of_the_tick_start(void)
{
    sg_reader *under = world();
    sg_prefetch *pf = sg_prefetch_new(under);
    sg_reader *r = sg_prefetch_reader(pf);
    unsigned char b = 0, v = 0x42;
    sg_prefetch_begin(pf);
    rd(r, 0x10005, &b, 1);
    sg_prefetch_begin(pf);
    size_t mark = sg_prefetch_mark(pf);
    sg_reader_fake_write(under, 0x10005, &v, 1); /* the target moves on */
    SG_CHECK_EQ_INT(rd(r, 0x10005, &b, 1), 0);
    SG_CHECK_EQ_INT(b, 5); /* the copy's moment */
    sg_prefetch_refresh(pf, mark); /* taken again, now */
    SG_CHECK_EQ_INT(rd(r, 0x10005, &b, 1), 0);
    SG_CHECK_EQ_INT(b, 0x42);
    sg_prefetch_begin(pf);
    SG_CHECK_EQ_INT(rd(r, 0x10005, &b, 1), 0);
    SG_CHECK_EQ_INT(b, 0x42);
    sg_prefetch_free(pf);
    sg_reader_free(under);
}

/* A refresh takes again what was read since the mark, new regions included, and leaves
 * the rest of the tick's copy as it was. */
static void test_refresh_takes_new_regions(void)
{
    sg_reader *under = world();
    sg_prefetch *pf = sg_prefetch_new(under);
    sg_reader *r = sg_prefetch_reader(pf);
    unsigned char buf[16], v = 0x77;
    sg_prefetch_begin(pf);
    rd(r, 0x10000, buf, 16);
    rd(r, 0x90000, buf, 16);
    sg_prefetch_begin(pf);
    rd(r, 0x10000, buf, 16); /* a first thread */
    size_t mark = sg_prefetch_mark(pf);
    uint64_t misses = sg_prefetch_misses(pf);
    rd(r, 0x50000, buf, 16); /* the next one: new this tick */
    SG_CHECK_EQ_INT(sg_prefetch_misses(pf), misses + 1);
    sg_reader_fake_write(under, 0x10000, &v, 1);
    sg_reader_fake_write(under, 0x50000, &v, 1);
    uint64_t before = under->nreads;
    sg_prefetch_refresh(pf, mark);
    SG_CHECK_EQ_INT(under->nreads, before + 1);
    SG_CHECK_EQ_INT(rd(r, 0x50000, buf, 16), 0);
    SG_CHECK_EQ_INT(buf[0], 0x77); /* taken again */
    SG_CHECK_EQ_INT(rd(r, 0x10000, buf, 16), 0);
    SG_CHECK_EQ_INT(buf[0], 0); /* before the mark: still the tick's moment */
    SG_CHECK_EQ_INT(rd(r, 0x90000, buf, 16), 0); /* later threads: still served */
    SG_CHECK_EQ_INT(under->nreads, before + 1);
    SG_CHECK_EQ_INT(sg_prefetch_misses(pf), misses + 1);
    sg_prefetch_free(pf);
    sg_reader_free(under);
}

/* Neighbours share a span; an unmapped one fails alone, and never its neighbours. */
static void test_spans_and_failures(void)
{
    sg_reader *under = sg_reader_fake_new();
    unsigned char big[8192];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7);
    sg_reader_fake_add(under, 0x20000, big, sizeof big);
    sg_prefetch *pf = sg_prefetch_new(under);
    sg_reader *r = sg_prefetch_reader(pf);
    unsigned char buf[64];
    sg_prefetch_begin(pf);
    rd(r, 0x20000, buf, 64);
    rd(r, 0x20100, buf, 64);  /* 192 bytes on: same span */
    rd(r, 0x20f00, buf, 64);  /* far, but on the page the span already reads: joins */
    rd(r, 0x21800, buf, 64);  /* another page, 2 KB on: a span of its own */
    SG_CHECK(rd(r, 0x30000, buf, 64) != 0); /* unmapped */
    sg_prefetch_begin(pf);
    sg_prefetch_stat st;
    sg_prefetch_stats(pf, &st);
    SG_CHECK_EQ_INT(st.regions, 5);
    SG_CHECK_EQ_INT(st.spans, 3);
    SG_CHECK_EQ_INT(rd(r, 0x21800, buf, 64), 0);
    SG_CHECK(memcmp(buf, big + 0x1800, 64) == 0);
    SG_CHECK_EQ_INT(rd(r, 0x20100, buf, 64), 0);
    SG_CHECK(memcmp(buf, big + 0x100, 64) == 0);
    SG_CHECK_EQ_INT(rd(r, 0x20f00, buf, 64), 0);
    SG_CHECK(memcmp(buf, big + 0xf00, 64) == 0);
    SG_CHECK(rd(r, 0x30000, buf, 64) != 0);
    /* One mapped and one unmapped region in one span: the mapped one is still served. */
    sg_reader *u2 = sg_reader_fake_new();
    sg_reader_fake_add(u2, 0x40000, big, 256);
    sg_prefetch *p2 = sg_prefetch_new(u2);
    sg_reader *r2 = sg_prefetch_reader(p2);
    sg_prefetch_begin(p2);
    rd(r2, 0x40000, buf, 64);
    SG_CHECK(rd(r2, 0x40100, buf, 64) != 0); /* right after the mapping */
    sg_prefetch_begin(p2);
    sg_prefetch_stats(p2, &st);
    SG_CHECK_EQ_INT(st.spans, 1);
    uint64_t misses = sg_prefetch_misses(p2);
    SG_CHECK_EQ_INT(rd(r2, 0x40000, buf, 64), 0);
    SG_CHECK(memcmp(buf, big, 64) == 0);
    SG_CHECK_EQ_INT(sg_prefetch_misses(p2), misses);
    sg_prefetch_free(p2);
    sg_reader_free(u2);
    sg_prefetch_free(pf);
    sg_reader_free(under);
}

static void test_hint_and_growth(void)
{
    sg_reader *under = world();
    sg_prefetch *pf = sg_prefetch_new(under);
    sg_reader *r = sg_prefetch_reader(pf);
    unsigned char buf[256];
    sg_prefetch_begin(pf);
    rd(r, 0x10000, buf, 64);
    sg_prefetch_hint(pf, 0x10000, 200);
    sg_prefetch_begin(pf);
    uint64_t misses = sg_prefetch_misses(pf);
    SG_CHECK_EQ_INT(rd(r, 0x10000, buf, 180), 0); /* grown, within the hint */
    SG_CHECK(memcmp(buf, A, 180) == 0);
    SG_CHECK_EQ_INT(sg_prefetch_misses(pf), misses);
    SG_CHECK_EQ_INT(rd(r, 0x10000, buf, 256), 0); /* beyond it: read on its own */
    SG_CHECK_EQ_INT(sg_prefetch_misses(pf), misses + 1);
    sg_prefetch_begin(pf);
    SG_CHECK_EQ_INT(rd(r, 0x10000, buf, 256), 0); /* and remembered at that size */
    SG_CHECK_EQ_INT(sg_prefetch_misses(pf), misses + 1);
    /* More than the copy may hold is never remembered: always read on its own. */
    sg_prefetch_hint(pf, 0x80000, (size_t)SG_PREFETCH_MAX_BYTES + 1);
    sg_prefetch_begin(pf);
    sg_prefetch_stat st;
    sg_prefetch_stats(pf, &st);
    SG_CHECK_EQ_INT(st.regions, 1);
    sg_prefetch_free(pf);
    sg_reader_free(under);
}

int main(void)
{
    SG_RUN(test_next_tick_is_one_batch);
    SG_RUN(test_small_regions_stay_a_while);
    SG_RUN(test_copy_is_of_the_tick_start);
    SG_RUN(test_refresh_takes_new_regions);
    SG_RUN(test_spans_and_failures);
    SG_RUN(test_hint_and_growth);
    SG_TEST_MAIN_END();
}
