#include <stdbool.h>
#include <stdint.h>

#include "../../src/core/pyabi/sg_pyabi.h"
#include "../../src/core/walk/sg_linetable.h"
#include "sg_test.h"

/* Entry byte of a 3.11+ location table: 1cccclll, `units` code units. */
#define LOC(code, units) ((uint8_t)(0x80 | ((code) << 3) | ((units)-1)))

/* Checks that the decoded ranges are sorted, contiguous from 0 and give the same line
 * as the point lookup for every offset from -3 to past the last range. */
static void check_agree(int fmt, const uint8_t *t, size_t len, int32_t first)
{
    sg_line_range *r = NULL;
    size_t n = 0;
    sg_error e;
    SG_CHECK_EQ_INT(sg_linetable_decode(fmt, t, len, first, 100000, &r, &n, &e), 0);
    int32_t prev_end = 0;
    for (size_t i = 0; i < n; i++) {
        SG_CHECK_EQ_INT(r[i].start, prev_end);
        SG_CHECK(r[i].end > r[i].start);
        if (i > 0)
            SG_CHECK(r[i].line != r[i - 1].line);
        prev_end = r[i].end;
    }
    int64_t last = n ? r[n - 1].start + 8 : 8;
    for (int64_t o = -3; o <= last; o++)
        SG_CHECK_EQ_INT(sg_line_ranges_find(r, n, first, o), sg_linetable_line(fmt, t, len, first, o));
    SG_CHECK_EQ_INT(sg_line_ranges_find(r, n, first, INT32_MAX),
                    sg_linetable_line(fmt, t, len, first, INT32_MAX));
    free(r);
}

static void check_garbage(int fmt, const uint8_t *t, size_t len, int32_t first)
{
    sg_line_range *r = (sg_line_range *)1;
    size_t n = 7;
    sg_error e;
    sg_error_clear(&e);
    SG_CHECK_EQ_INT(sg_linetable_decode(fmt, t, len, first, 1000, &r, &n, &e), -1);
    SG_CHECK(e.code == SG_E_INVALID);
    SG_CHECK(r == NULL && n == 0);
    SG_CHECK(e.msg[0] != '\0');
}

static void test_lnotab(void)
{
    const int f = SG_LT_LNOTAB;
    /* (6,+1) (4,+2) (0,+3) (8,-2): lines 10 [0,6), 11 [6,10), 16 [10,18), 14 after. */
    const uint8_t t[] = {6, 1, 4, 2, 0, 3, 8, 0xFE};
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, -1), 10);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, -100), 10);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 0), 10);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 5), 10);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 6), 11);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 9), 11);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 10), 16);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 17), 16);
    /* Past the last pair the line holds: lnotab does not know the code's length. */
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 18), 14);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 100000), 14);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, (int64_t)1 << 40), -1);
    check_agree(f, t, sizeof t, 10);

    /* An odd trailing byte is ignored (CPython reads len/2 pairs). */
    const uint8_t odd[] = {6, 1, 4};
    SG_CHECK_EQ_INT(sg_linetable_line(f, odd, sizeof odd, 10, 7), 11);
    check_agree(f, odd, sizeof odd, 10);

    /* Empty table: the first line everywhere. */
    SG_CHECK_EQ_INT(sg_linetable_line(f, NULL, 0, 3, 50), 3);
    SG_CHECK_EQ_INT(sg_linetable_line(f, (const uint8_t *)"", 0, 3, 0), 3);
    check_agree(f, NULL, 0, 3);

    /* Big jumps use several pairs: (0,127)(0,127)(2,0) then line 1+254. */
    const uint8_t big[] = {0, 127, 0, 127, 2, 0, 2, 0x81};
    SG_CHECK_EQ_INT(sg_linetable_line(f, big, sizeof big, 1, 0), 255);
    SG_CHECK_EQ_INT(sg_linetable_line(f, big, sizeof big, 1, 3), 255);
    SG_CHECK_EQ_INT(sg_linetable_line(f, big, sizeof big, 1, 4), 128);
    check_agree(f, big, sizeof big, 1);

    /* Lines past int32 are garbage. */
    const uint8_t over[] = {2, 100, 2, 0};
    SG_CHECK_EQ_INT(sg_linetable_line(f, over, sizeof over, INT32_MAX - 1, 3), -1);
    check_garbage(f, over, sizeof over, INT32_MAX - 1);
}

static void test_310(void)
{
    const int f = SG_LT_310;
    /* (6,+1) (4,none) (0,+2) (8,-3): 11 [0,6), none [6,10), 10 [10,18), nothing after */
    const uint8_t t[] = {6, 1, 4, 0x80, 0, 2, 8, 0xFD};
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, -1), 10);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 0), 11);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 5), 11);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 6), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 9), -1);
    /* the no-line range did not move the running line; the empty range did */
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 10), 10);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 17), 10);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 18), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, t, sizeof t, 10, 1000), -1);
    check_agree(f, t, sizeof t, 10);

    SG_CHECK_EQ_INT(sg_linetable_line(f, NULL, 0, 3, 0), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, NULL, 0, 3, -1), 3);
    check_agree(f, NULL, 0, 3);

    /* A half pair at the end is garbage, but the ranges before it still answer. */
    const uint8_t odd[] = {6, 1, 4};
    SG_CHECK_EQ_INT(sg_linetable_line(f, odd, sizeof odd, 10, 3), 11);
    SG_CHECK_EQ_INT(sg_linetable_line(f, odd, sizeof odd, 10, 7), -1);
    check_garbage(f, odd, sizeof odd, 10);

    /* Same-line neighbours merge into one range. */
    const uint8_t same[] = {2, 0, 2, 0, 2, 1};
    sg_line_range *r;
    size_t n;
    sg_error e;
    SG_CHECK_EQ_INT(sg_linetable_decode(f, same, sizeof same, 5, 10, &r, &n, &e), 0);
    SG_CHECK_EQ_INT(n, 2);
    if (n == 2) {
        SG_CHECK(r[0].start == 0 && r[0].end == 4 && r[0].line == 5);
        SG_CHECK(r[1].start == 4 && r[1].end == 6 && r[1].line == 6);
    }
    free(r);
    SG_CHECK_EQ_INT(sg_linetable_decode(f, same, sizeof same, 5, 1, &r, &n, &e), -1);
    SG_CHECK(e.code == SG_E_INVALID);
}

static const uint8_t locs[] = {
    LOC(0, 1), 0x05,                          /* short: same line 20, [0,2) */
    LOC(11, 2), 3, 9,                         /* one line +1: 21, [2,6) */
    LOC(13, 1), 0x07,                         /* no columns, -3: 18, [6,8) */
    LOC(15, 3),                               /* none, [8,14) */
    LOC(14, 8), 0x48, 0x03, 0x00, 0x05, 0x0A, /* long, +100 (2-byte svarint): 118, [14,30) */
    LOC(9, 1), 0x12,                          /* short: same line 118, [30,32) */
    LOC(12, 1), 0, 1,                         /* one line +2: 120, [32,34) */
};

static void test_locations(void)
{
    const int f = SG_LT_LOCATIONS;
    const size_t len = sizeof locs;
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, -1), 20);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 0), 20);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 1), 20);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 2), 21);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 5), 21);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 6), 18);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 8), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 13), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 14), 118);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 31), 118);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 32), 120);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, 34), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, INT32_MAX), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, INT64_MAX), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, locs, len, 20, INT64_MIN), 20);
    check_agree(f, locs, len, 20);
    check_agree(f, NULL, 0, 20);

    /* Every prefix that ends on an entry boundary is valid; the others are truncated. */
    for (size_t cut = 0; cut <= len; cut++) {
        bool boundary = cut == len || (locs[cut] & 0x80);
        sg_line_range *r;
        size_t n;
        sg_error e;
        int rc = sg_linetable_decode(f, locs, cut, 20, 1000, &r, &n, &e);
        SG_CHECK_EQ_INT(rc, boundary ? 0 : -1);
        if (rc == 0) {
            free(r);
            check_agree(f, locs, cut, 20);
        }
    }
}

static void test_locations_garbage(void)
{
    const int f = SG_LT_LOCATIONS;
    /* does not start with an entry byte */
    const uint8_t nohead[] = {0x05, LOC(0, 1), 0x01};
    SG_CHECK_EQ_INT(sg_linetable_line(f, nohead, sizeof nohead, 1, 0), -1);
    check_garbage(f, nohead, sizeof nohead, 1);
    /* truncated varint, at the end and before the next entry */
    const uint8_t trunc1[] = {LOC(13, 1), 0x41};
    const uint8_t trunc2[] = {LOC(13, 1), 0x41, LOC(0, 1), 0x00};
    SG_CHECK_EQ_INT(sg_linetable_line(f, trunc1, sizeof trunc1, 1, 0), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, trunc2, sizeof trunc2, 1, 2), -1);
    check_garbage(f, trunc1, sizeof trunc1, 1);
    check_garbage(f, trunc2, sizeof trunc2, 1);
    /* overlong varint (6 chunks) */
    const uint8_t overlong[] = {LOC(13, 1), 0x40, 0x40, 0x40, 0x40, 0x40, 0x00};
    check_garbage(f, overlong, sizeof overlong, 1);
    /* long form missing its column varints */
    const uint8_t shortlong[] = {LOC(14, 1), 0x02, 0x00};
    check_garbage(f, shortlong, sizeof shortlong, 1);
    /* short form without, or with too many, column bytes; none with a body */
    const uint8_t nocol[] = {LOC(0, 1), LOC(0, 1), 0x01};
    const uint8_t twocol[] = {LOC(3, 1), 0x01, 0x02};
    const uint8_t onecol[] = {LOC(10, 1), 0x01};
    const uint8_t nonebody[] = {LOC(15, 1), 0x01};
    check_garbage(f, nocol, sizeof nocol, 1);
    check_garbage(f, twocol, sizeof twocol, 1);
    check_garbage(f, onecol, sizeof onecol, 1);
    check_garbage(f, nonebody, sizeof nonebody, 1);
    /* line leaves int32 */
    const uint8_t up[] = {LOC(12, 1), 0, 1};
    SG_CHECK_EQ_INT(sg_linetable_line(f, up, sizeof up, INT32_MAX, 0), -1);
    check_garbage(f, up, sizeof up, INT32_MAX);
    /* a negative running line is shown as "no line" */
    const uint8_t down[] = {LOC(13, 1), 0x0B, LOC(13, 1), 0x0C}; /* -5, +6 */
    SG_CHECK_EQ_INT(sg_linetable_line(f, down, sizeof down, 2, 0), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(f, down, sizeof down, 2, 2), 3);
    check_agree(f, down, sizeof down, 2);
    /* unknown format */
    SG_CHECK_EQ_INT(sg_linetable_line(0, locs, sizeof locs, 1, 0), -1);
    SG_CHECK_EQ_INT(sg_linetable_line(4, locs, sizeof locs, 1, -1), -1);
    check_garbage(4, locs, sizeof locs, 1);
}

/* Random bytes never crash, and whenever a table decodes, the ranges and the point
 * lookup agree. The xorshift keeps runs reproducible. */
static void test_random_tables(void)
{
    uint64_t s = 0x9E3779B97F4A7C15ull;
    uint8_t t[48];
    int decoded[4] = {0};
    for (int iter = 0; iter < 30000; iter++) {
        int fmt = 1 + iter % 3;
        size_t len = 0;
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        len = (size_t)(s % sizeof t);
        for (size_t i = 0; i < len; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            t[i] = (uint8_t)s;
            /* bias towards plausible location tables so the decoder gets past byte 0 */
            if (fmt == SG_LT_LOCATIONS && (s >> 20) % 3 == 0)
                t[i] = (uint8_t)(i % 2 ? t[i] & 0x3F : t[i] | 0x80);
        }
        sg_line_range *r;
        size_t n;
        sg_error e;
        if (sg_linetable_decode(fmt, t, len, 7, 1000, &r, &n, &e) == 0) {
            decoded[fmt]++;
            free(r);
            check_agree(fmt, t, len, 7);
        } else {
            (void)sg_linetable_line(fmt, t, len, 7, (int64_t)(s % 600));
        }
    }
    SG_CHECK(decoded[1] > 500 && decoded[2] > 500 && decoded[3] > 50);
}

int main(void)
{
    SG_RUN(test_lnotab);
    SG_RUN(test_310);
    SG_RUN(test_locations);
    SG_RUN(test_locations_garbage);
    SG_RUN(test_random_tables);
    SG_TEST_MAIN_END();
}
