/* Line-table decoders for 3.9 co_lnotab, 3.10 co_linetable and the 3.11+ PEP 657
 * location table. All three are walked by one range iterator so that the point
 * lookup (sg_linetable_line) and the full decode cannot disagree. */
#include "sg_linetable.h"

#include <stdbool.h>
#include <stdlib.h>

#include "../pyabi/sg_pyabi.h"

/* Bytecode offsets and lines are int32 in the model; anything a table claims beyond
 * that is garbage (real code objects are far smaller). */
#define LT_MAX_ADDR INT32_MAX
#define LT_MAX_LINE INT32_MAX

/* Location-table varints are 6-bit chunks; CPython's values fit in int, and real
 * tables never use more than a few chunks. Five chunks (30 bits) is generous. */
#define LT_MAX_VARINT_CHUNKS 5

typedef struct lt_iter {
    int format;
    const uint8_t *p;
    const uint8_t *end;
    int64_t addr;     /* end of the range produced last (start of the next one) */
    int64_t computed; /* running line, before the no-line marker is applied */
    bool tail_done;   /* lnotab: the open-ended last range has been produced */
} lt_iter;

typedef struct lt_range {
    int64_t start, end;
    int32_t line;
} lt_range;

static void iter_init(lt_iter *it, int format, const uint8_t *table, size_t len,
                      int32_t first_line)
{
    it->format = format;
    it->p = table;
    it->end = table ? table + len : table;
    it->addr = 0;
    it->computed = first_line;
    it->tail_done = false;
}

/* A range's visible line: negative running lines only arise from garbage (or a bogus
 * first_line), and -1 already means "no line", so every negative maps to -1. */
static int32_t visible_line(int64_t computed)
{
    return computed < 0 ? -1 : (int32_t)computed;
}

static bool line_ok(int64_t line)
{
    return line >= -(int64_t)LT_MAX_LINE && line <= LT_MAX_LINE;
}

/* 3.9: pairs (addr_incr u8, line_incr s8). The line of a range is the line before the
 * pair's increment is applied (PyCode_Addr2Line breaks before adding it); after the last
 * pair the line holds to the end of the code, whose length the table does not know.
 * An odd trailing byte is ignored, as CPython reads len/2 pairs. */
static int next_lnotab(lt_iter *it, lt_range *r)
{
    while (it->end - it->p >= 2) {
        int64_t a = it->p[0];
        int64_t l = (int8_t)it->p[1];
        it->p += 2;
        int64_t start = it->addr;
        int64_t line = it->computed;
        it->addr += a;
        it->computed += l;
        if (it->addr > LT_MAX_ADDR || !line_ok(it->computed))
            return -1;
        if (a > 0) {
            r->start = start;
            r->end = it->addr;
            r->line = visible_line(line);
            return 1;
        }
    }
    if (it->tail_done || it->addr >= LT_MAX_ADDR)
        return 0;
    it->tail_done = true;
    r->start = it->addr;
    r->end = LT_MAX_ADDR;
    r->line = visible_line(it->computed);
    return 1;
}

/* 3.10: pairs (addr_delta u8, line_delta s8), one range each; line_delta -128 marks a
 * range with no line and leaves the running line alone. Zero-length ranges are
 * skipped but their line deltas count (3.10 codeobject.c advance()). */
static int next_310(lt_iter *it, lt_range *r)
{
    while (it->p < it->end) {
        if (it->end - it->p < 2)
            return -1; /* CPython only writes whole pairs */
        int64_t a = it->p[0];
        int8_t l = (int8_t)it->p[1];
        it->p += 2;
        int64_t start = it->addr;
        it->addr += a;
        int32_t line = -1;
        if (l != -128) {
            it->computed += l;
            line = visible_line(it->computed);
        }
        if (it->addr > LT_MAX_ADDR || !line_ok(it->computed))
            return -1;
        if (a > 0) {
            r->start = start;
            r->end = it->addr;
            r->line = line;
            return 1;
        }
    }
    return 0;
}

/* Reads one location-table varint from [*p, end): 6 value bits per byte, bit 6 set
 * means another byte follows. Fails on truncation and on overlong encodings. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint32_t *out)
{
    uint32_t val = 0;
    for (int i = 0; i < LT_MAX_VARINT_CHUNKS; i++) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        val |= (uint32_t)(b & 63) << (6 * i);
        if (!(b & 64)) {
            *out = val;
            return true;
        }
    }
    return false;
}

static bool read_svarint(const uint8_t **p, const uint8_t *end, int64_t *out)
{
    uint32_t u;
    if (!read_varint(p, end, &u))
        return false;
    *out = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
    return true;
}

/* 3.11+: each entry starts with a byte 1cccclll (l+1 code units, code c); the rest of
 * the entry has bit 7 clear, which is how CPython finds the next entry. The body must
 * hold exactly what the code says (Objects/locations.md): 15 none (no body, no line),
 * 14 long (svarint dline, varint dendline, varint col+1, varint endcol+1), 13 no
 * columns (svarint dline), 10-12 one line (dline = c-10, two column bytes), 0-9 short
 * (same line, one column byte). Anything else is garbage. */
static int next_locations(lt_iter *it, lt_range *r)
{
    if (it->p >= it->end)
        return 0;
    uint8_t first = *it->p;
    if (!(first & 128))
        return -1;
    const uint8_t *body = it->p + 1;
    const uint8_t *stop = body;
    while (stop < it->end && !(*stop & 128))
        stop++;
    int code = (first >> 3) & 15;
    int64_t dline = 0;
    const uint8_t *q = body;
    uint32_t ignored;
    switch (code) {
    case 15:
        break;
    case 14:
        if (!read_svarint(&q, stop, &dline) || !read_varint(&q, stop, &ignored) ||
            !read_varint(&q, stop, &ignored) || !read_varint(&q, stop, &ignored))
            return -1;
        break;
    case 13:
        if (!read_svarint(&q, stop, &dline))
            return -1;
        break;
    case 10:
    case 11:
    case 12:
        dline = code - 10;
        if (stop - body != 2)
            return -1;
        q = stop;
        break;
    default:
        if (stop - body != 1)
            return -1;
        q = stop;
        break;
    }
    if (q != stop)
        return -1;
    it->p = stop;
    it->computed += dline;
    r->start = it->addr;
    it->addr += 2 * ((first & 7) + 1);
    r->end = it->addr;
    r->line = code == 15 ? -1 : visible_line(it->computed);
    if (it->addr > LT_MAX_ADDR || !line_ok(it->computed))
        return -1;
    return 1;
}

/* Produces the next non-empty range in address order: 1, or 0 at the end of the table,
 * or -1 for a table that no CPython writes (or an unknown format). */
static int iter_next(lt_iter *it, lt_range *r)
{
    if (!it->p)
        return it->format == SG_LT_LNOTAB ? next_lnotab(it, r) : 0;
    switch (it->format) {
    case SG_LT_LNOTAB:
        return next_lnotab(it, r);
    case SG_LT_310:
        return next_310(it, r);
    case SG_LT_LOCATIONS:
        return next_locations(it, r);
    default:
        return -1;
    }
}

static bool format_known(int format)
{
    return format == SG_LT_LNOTAB || format == SG_LT_310 || format == SG_LT_LOCATIONS;
}

int32_t sg_linetable_line(int format, const uint8_t *table, size_t len, int32_t first_line,
                          int64_t offset)
{
    if (!format_known(format))
        return -1;
    if (offset < 0)
        return first_line;
    if (offset >= LT_MAX_ADDR)
        return -1;
    lt_iter it;
    iter_init(&it, format, table, len, first_line);
    lt_range r;
    /* Ranges are contiguous from 0, so the first one ending after offset holds it. */
    while (iter_next(&it, &r) == 1) {
        if (offset < r.end)
            return offset >= r.start ? r.line : -1;
    }
    return -1;
}

int sg_linetable_decode(int format, const uint8_t *table, size_t len, int32_t first_line,
                        size_t max_ranges, sg_line_range **out, size_t *n_out, sg_error *err)
{
    *out = NULL;
    *n_out = 0;
    if (!format_known(format))
        return sg_fail(err, SG_E_INVALID, 0, "unknown line table format %d", format);
    lt_iter it;
    iter_init(&it, format, table, len, first_line);
    sg_line_range *v = NULL;
    size_t n = 0, cap = 0;
    lt_range r;
    int rc;
    while ((rc = iter_next(&it, &r)) == 1) {
        if (n > 0 && v[n - 1].line == r.line && v[n - 1].end == r.start) {
            v[n - 1].end = (int32_t)r.end;
            continue;
        }
        if (n >= max_ranges) {
            free(v);
            return sg_fail(err, SG_E_INVALID, 0, "line table has more than %zu ranges",
                           max_ranges);
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            if (ncap > max_ranges)
                ncap = max_ranges;
            sg_line_range *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                free(v);
                return sg_fail(err, SG_E_NOMEM, 0, "decoding a line table");
            }
            v = nv;
            cap = ncap;
        }
        v[n].start = (int32_t)r.start;
        v[n].end = (int32_t)r.end;
        v[n].line = r.line;
        n++;
    }
    if (rc < 0) {
        free(v);
        return sg_fail(err, SG_E_INVALID, 0,
                       "line table (format %d) is malformed at byte %td of %zu", format,
                       it.p - table, len);
    }
    *out = v;
    *n_out = n;
    return 0;
}

int32_t sg_line_ranges_find(const sg_line_range *r, size_t n, int32_t first_line,
                            int64_t offset)
{
    if (offset < 0)
        return first_line;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (offset < r[mid].start)
            hi = mid;
        else if (offset >= r[mid].end)
            lo = mid + 1;
        else
            return r[mid].line;
    }
    return -1;
}
