/* Line tables of code objects, per format (see sg_pyabi.h sg_linetable_format):
 * 3.9 co_lnotab, 3.10 co_linetable, 3.11+ PEP 657 locations (Objects/locations.md).
 * Tables come from the target's memory: every decoder is bounds-checked and bounded,
 * never reads past len, and fails safe (-1) on garbage. */
#ifndef SG_LINETABLE_H
#define SG_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/sg_error.h"

typedef struct sg_line_range {
    int32_t start; /* byte offset into the bytecode, inclusive */
    int32_t end;   /* exclusive */
    int32_t line;  /* -1 when the range has no line */
} sg_line_range;

/* The line of the instruction at byte offset `offset` (3.9: f_lasti; 3.10: f_lasti*2;
 * 3.11+: instruction pointer minus the start of the bytecode), exactly as the
 * interpreter computes it (PyCode_Addr2Line). Returns -1 when there is no line, and
 * first_line for negative offsets (a frame that has not started), as CPython does. */
int32_t sg_linetable_line(int format, const uint8_t *table, size_t len, int32_t first_line,
                          int64_t offset);

/* Decodes the whole table into ranges sorted by start (the symbol cache keeps them).
 * *out is malloc'ed (caller frees); at most max_ranges are produced (the rest is an
 * error: SG_E_INVALID). Adjacent ranges with the same line may be merged. */
int sg_linetable_decode(int format, const uint8_t *table, size_t len, int32_t first_line,
                        size_t max_ranges, sg_line_range **out, size_t *n_out, sg_error *err);

/* Binary search in decoded ranges; same results as sg_linetable_line. */
int32_t sg_line_ranges_find(const sg_line_range *r, size_t n, int32_t first_line,
                            int64_t offset);

#endif
