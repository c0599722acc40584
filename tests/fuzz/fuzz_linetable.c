/* Fuzz target: one line-table decoder, chosen at build time (SG_FUZZ_LT_FORMAT:
 * 1 = 3.9 co_lnotab, 2 = 3.10 co_linetable, 3 = 3.11+ PEP 657 locations). Input:
 * 4 bytes of first line (little-endian), then the table as it sits in the code object.
 * Besides not crashing, the point lookup (sg_linetable_line, used nowhere hot) and the
 * decoded ranges with their binary search (what the symbol cache uses) must agree at
 * every offset: a disagreement is a line attributed differently by the two paths. */
#include <string.h>

#include "../../src/core/walk/sg_linetable.h"
#include "sg_fuzz.h"

#ifndef SG_FUZZ_LT_FORMAT
#error "build with -DSG_FUZZ_LT_FORMAT=1, 2 or 3"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    int32_t first_line;
    memcpy(&first_line, data, 4);
    const uint8_t *table = data + 4;
    size_t len = size - 4;
    sg_line_range *r = NULL;
    size_t n = 0;
    sg_error err;
    int rc = sg_linetable_decode(SG_FUZZ_LT_FORMAT, len ? table : NULL, len, first_line,
                                 4096, &r, &n, &err);
    if (rc != 0) {
        SG_FUZZ_ASSERT(r == NULL && n == 0);
        /* still must not crash on the point lookups */
        for (int64_t off = -2; off < 64; off += 2)
            (void)sg_linetable_line(SG_FUZZ_LT_FORMAT, table, len, first_line, off);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        SG_FUZZ_ASSERT(r[i].start < r[i].end);
        SG_FUZZ_ASSERT(i == 0 || r[i - 1].end <= r[i].start);
        SG_FUZZ_ASSERT(r[i].line >= -1);
    }
    /* Compare both paths densely over the first 512 bytes of bytecode, then at the edges
     * and middle of every range (the point lookup is linear, so a dense sweep of a long
     * table would make each input cost seconds). */
    for (int64_t off = -2; off <= 512; off += 2) {
        int32_t a = sg_linetable_line(SG_FUZZ_LT_FORMAT, table, len, first_line, off);
        int32_t b = sg_line_ranges_find(r, n, first_line, off);
        if (a != b)
            fprintf(stderr, "offset %lld: point lookup %d, ranges %d\n", (long long)off, a, b);
        SG_FUZZ_ASSERT(a == b);
    }
    for (size_t i = 0; i < n && i < 256; i++) {
        int64_t edges[4] = {r[i].start, r[i].start + (r[i].end - r[i].start) / 2,
                            (int64_t)r[i].end - 1, r[i].end};
        for (int k = 0; k < 4; k++) {
            int32_t a = sg_linetable_line(SG_FUZZ_LT_FORMAT, table, len, first_line, edges[k]);
            int32_t b = sg_line_ranges_find(r, n, first_line, edges[k]);
            if (a != b)
                fprintf(stderr, "offset %lld: point lookup %d, ranges %d\n",
                        (long long)edges[k], a, b);
            SG_FUZZ_ASSERT(a == b);
        }
    }
    free(r);
    return 0;
}
