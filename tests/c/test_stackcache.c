/* sample/stackcache.c: the frames a thread shares with its previous sample, root first,
 * and the steps kept for them; entries of threads gone are swept. */
#include "../../src/core/sample/sg_stackcache.h"
#include "sg_test.h"

static sg_raw_frame fr(uint64_t code, int64_t off) { return (sg_raw_frame){code, off, 0}; }

static void test_common_prefix_from_the_root(void)
{
    sg_stackcache *c = sg_stackcache_new();
    sg_stackentry *e = sg_stackcache_get(c, 0x1000);
    SG_CHECK(e != NULL);
    /* leaf first, as the walker gives them: root is code 1 */
    sg_raw_frame s1[3] = {fr(3, 30), fr(2, 20), fr(1, 10)};
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, s1, 3), 0);
    for (size_t k = 0; k < 3; k++)
        SG_CHECK(sg_stackentry_append(e, &s1[2 - k], (sg_stackstep){(uint32_t)(100 + k),
                                                                     (uint32_t)k + 1}));
    /* same stack: everything known */
    e = sg_stackcache_get(c, 0x1000);
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, s1, 3), 3);
    SG_CHECK_EQ_INT(sg_stackentry_step(e, 2).node, 102);
    /* the leaf moved: two known; the entry keeps only those */
    sg_raw_frame s2[3] = {fr(3, 32), fr(2, 20), fr(1, 10)};
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, s2, 3), 2);
    SG_CHECK_EQ_INT(sg_stackentry_step(e, 1).depth, 2);
    SG_CHECK(sg_stackentry_append(e, &s2[0], (sg_stackstep){200, 3}));
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, s2, 3), 3);
    SG_CHECK_EQ_INT(sg_stackentry_step(e, 2).node, 200);
    /* deeper and shallower stacks share their root part */
    sg_raw_frame s3[4] = {fr(4, 40), fr(3, 32), fr(2, 20), fr(1, 10)};
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, s3, 4), 3);
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, s1 + 2, 1), 1);
    /* a different root: nothing shared; an instruction offset or flag counts too */
    sg_raw_frame s4[1] = {fr(9, 10)};
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, s4, 1), 0);
    SG_CHECK(sg_stackentry_append(e, &s1[2], (sg_stackstep){100, 1}));
    sg_raw_frame s5 = {1, 10, 1};
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, &s5, 1), 0);
    /* threads are kept apart */
    sg_stackentry *other = sg_stackcache_get(c, 0x2000);
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(other, s1, 3), 0);
    sg_stackcache_free(c);
}

static void test_clear_reset_and_sweep(void)
{
    sg_stackcache *c = sg_stackcache_new();
    sg_raw_frame f = fr(1, 10);
    for (uint64_t key = 1; key <= 100; key++) {
        sg_stackentry *e = sg_stackcache_get(c, key * 64);
        SG_CHECK(sg_stackentry_append(e, &f, (sg_stackstep){1, 1}));
    }
    sg_stackcache_sweep(c); /* all were seen: all kept */
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(sg_stackcache_get(c, 64 * 51), &f, 1), 1);
    for (uint64_t key = 1; key <= 100; key += 2) /* only the odd ones seen again */
        sg_stackcache_get(c, key * 64);
    sg_stackcache_sweep(c);
    int kept = 0;
    for (uint64_t key = 1; key <= 100; key++) {
        sg_stackentry *e = sg_stackcache_get(c, key * 64);
        kept += sg_stackentry_keep_common(e, &f, 1) == 1;
    }
    SG_CHECK_EQ_INT(kept, 50); /* the even ones came back empty */
    sg_stackentry *e = sg_stackcache_get(c, 64);
    sg_stackentry_reset(e);
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(e, &f, 1), 0);
    sg_stackcache_clear(c);
    SG_CHECK_EQ_INT(sg_stackentry_keep_common(sg_stackcache_get(c, 64 * 3), &f, 1), 0);
    sg_stackcache_free(c);
}

int main(void)
{
    SG_RUN(test_common_prefix_from_the_root);
    SG_RUN(test_clear_reset_and_sweep);
    SG_TEST_MAIN_END();
}
