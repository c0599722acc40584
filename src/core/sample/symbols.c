/* The symbol cache. Misses read the whole code object header, check its type against
 * PyCode_Type, read the name strings and decode the line table once; hits cost a hash
 * lookup and a binary search. */
#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "../base/sg_map.h"
#include "../walk/sg_linetable.h"
#include "../walk/sg_pyobj.h"
#include "sg_symbols.h"

#define CODE_MAX_BYTES 512
#define STR_HDR_BYTES 128
#define STR_MAX_CHARS 4096
#define LINETABLE_MAX_BYTES (1u << 20)
#define MAX_RANGES 200000
#define CACHE_MAX_ENTRIES 65536
#define KEY_FIELDS 5

typedef struct entry {
    uint64_t code;
    uint64_t key[KEY_FIELDS]; /* identifying fields, see key_offsets */
    uint32_t function;
    int32_t first_line;
    int64_t code_bytes;     /* bytecode length when known (3.11+), else -1 */
    int64_t first_traceable; /* byte offset, 3.11+, else 0 */
    sg_line_range *ranges;
    size_t nranges;
    uint32_t validated; /* sample generation of the last successful check */
    bool root_skip;
} entry;

typedef struct pending {
    size_t entry; /* index into entries */
    unsigned char key[CODE_MAX_BYTES];
} pending;

/* A program freeing code objects all the time (one compiling and dropping functions in a
 * loop) can free one during most reads of a new code object: each is tried this often. */
#define RESOLVE_ATTEMPTS 4

struct sg_symbols {
    sg_reader *r;
    sg_reader *rv; /* for the per-sample checks */
    const sg_target *t;
    const sg_pyabi *a;
    sg_profile *p;
    sg_pyobj obj; /* reads the name strings */
    char *root_skip_file;
    sg_map index; /* code address -> entries index + 1 */
    entry *entries;
    size_t n, cap;
    int32_t key_off[KEY_FIELDS];
    uint32_t key_width[KEY_FIELDS];
    uint32_t gen;
    uint64_t hits, misses;
    /* scratch for batched validation: one region per code object checked */
    sg_iov *iov;
    size_t iov_cap;
    pending *pend;
    size_t pend_cap;
    size_t key_lo, key_len;
    size_t code_len; /* bytes of a code object header that hold every field we read */
    size_t str_len;  /* the same for a str object */
    uint64_t generation_addr; /* 3.14+: the interpreter's count of code objects freed, or 0 */
};

/* End of the field at off (width bytes) if it lies beyond cur. */
static size_t field_end(size_t cur, int32_t off, size_t width)
{
    return off >= 0 && (size_t)off + width > cur ? (size_t)off + width : cur;
}

sg_symbols *sg_symbols_new(sg_reader *r, const sg_target *t, sg_profile *p,
                           const char *root_skip_file, sg_error *err)
{
    sg_symbols *s = calloc(1, sizeof *s);
    if (!s) {
        sg_fail(err, SG_E_NOMEM, 0, "allocating the symbol cache");
        return NULL;
    }
    s->r = r;
    s->t = t;
    s->a = &t->abi;
    s->p = p;
    sg_pyobj_init(&s->obj, r, t, 0);
    sg_map_init(&s->index);
    if (root_skip_file && !(s->root_skip_file = strdup(root_skip_file))) {
        free(s);
        sg_fail(err, SG_E_NOMEM, 0, "allocating the symbol cache");
        return NULL;
    }
    const sg_pyabi *a = s->a;
    int32_t offs[KEY_FIELDS] = {a->code_filename, a->code_name, a->code_qualname,
                                a->code_linetable, a->code_firstlineno};
    uint32_t widths[KEY_FIELDS] = {8, 8, 8, 8, 4};
    size_t lo = SIZE_MAX, hi = 0;
    for (int i = 0; i < KEY_FIELDS; i++) {
        s->key_off[i] = offs[i];
        s->key_width[i] = widths[i];
        if (offs[i] < 0)
            continue;
        if ((size_t)offs[i] < lo)
            lo = (size_t)offs[i];
        if ((size_t)offs[i] + widths[i] > hi)
            hi = (size_t)offs[i] + widths[i];
    }
    s->key_lo = lo;
    s->key_len = hi - lo;
    /* Headers are read whole into fixed buffers and fields picked out of them; a table
     * patched from a target's _Py_DebugOffsets may place fields anywhere, so the reads
     * are sized by the fields, and a layout that does not fit is refused here. */
    size_t cl = field_end(hi, a->object_type, 8);
    cl = field_end(cl, a->varobject_size, 8);
    cl = field_end(cl, a->code_firsttraceable, 4);
    size_t sl = field_end(0, a->object_type, 8);
    sl = field_end(sl, a->unicode_length, 8);
    sl = field_end(sl, a->unicode_state, 4);
    if (cl > CODE_MAX_BYTES || sl > STR_HDR_BYTES || a->unicode_kind_shift > 29 ||
        a->unicode_compact_bit > 31 || a->unicode_ascii_bit > 31) {
        sg_symbols_free(s);
        sg_fail(err, SG_E_UNSUPPORTED, 0,
                "the layout table for Python %u.%u places code or str fields beyond what "
                "spyglass reads",
                a->major, a->minor);
        return NULL;
    }
    s->code_len = cl;
    s->str_len = sl;
    return s;
}

void sg_symbols_free(sg_symbols *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->entries[i].ranges);
    free(s->entries);
    sg_map_free(&s->index);
    free(s->iov);
    free(s->pend);
    free(s->root_skip_file);
    free(s);
}

static uint64_t rd_u64(const unsigned char *b, int32_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

static int32_t rd_i32(const unsigned char *b, int32_t off)
{
    int32_t v;
    memcpy(&v, b + off, 4);
    return v;
}

static void key_of(const sg_symbols *s, const unsigned char *hdr, size_t base,
                   uint64_t key[KEY_FIELDS])
{
    for (int i = 0; i < KEY_FIELDS; i++) {
        key[i] = 0;
        if (s->key_off[i] < 0)
            continue;
        size_t off = (size_t)s->key_off[i] - base;
        key[i] = s->key_width[i] == 8 ? rd_u64(hdr, (int32_t)off)
                                      : (uint64_t)(uint32_t)rd_i32(hdr, (int32_t)off);
    }
}

/* Reads a compact str object and interns it (UTF-8) in the model. SG_NONE on failure. */
static uint32_t read_str(sg_symbols *s, uint64_t addr)
{
    char utf8[STR_MAX_CHARS * 4 + 1];
    size_t n;
    s->obj.budget = 1 + (STR_MAX_CHARS * 4 + 4095) / 4096; /* the header, then the data */
    if (sg_pyobj_str(&s->obj, addr, STR_MAX_CHARS, utf8, sizeof utf8, &n) != 0)
        return SG_NONE;
    return sg_profile_intern(s->p, utf8, n);
}

static int read_bytes(sg_symbols *s, uint64_t addr, unsigned char **out, size_t *len)
{
    const sg_pyabi *a = s->a;
    sg_error err;
    int64_t size;
    if (!addr || sg_read(s->r, addr + (uint64_t)a->varobject_size, &size, 8, &err) != 0 ||
        size < 0 || (uint64_t)size > LINETABLE_MAX_BYTES)
        return -1;
    unsigned char *buf = malloc((size_t)size + 1);
    if (!buf)
        return -1;
    if (size && sg_read(s->r, addr + (uint64_t)a->bytes_sval, buf, (size_t)size, &err) != 0) {
        free(buf);
        return -1;
    }
    *out = buf;
    *len = (size_t)size;
    return 0;
}

static bool is_root_skip(const sg_symbols *s, const char *file)
{
    size_t n = strlen(file);
    if (s->root_skip_file && strcmp(file, s->root_skip_file) == 0)
        return true;
    return strcmp(file, "<frozen runpy>") == 0 ||
           (n >= 9 && strcmp(file + n - 9, "/runpy.py") == 0);
}

static void drop_entry(sg_symbols *s, size_t idx)
{
    entry *e = &s->entries[idx];
    sg_map_del(&s->index, e->code);
    free(e->ranges);
    size_t last = s->n - 1;
    if (idx != last) {
        *e = s->entries[last];
        uint64_t *slot = sg_map_get(&s->index, e->code);
        if (slot)
            *slot = idx + 1;
    }
    s->n--;
}

/* 3.14+: the main interpreter's count of code objects freed (0 before 3.14 or when
 * unreadable). A code object freed while it is resolved may have its address, its
 * strings and its line table reused by the next, all at the same addresses (a program
 * that compiles and drops functions in a loop does exactly that): the name of one and
 * the line table of another then look like one code object. The count tells. */
static uint64_t code_generation(sg_symbols *s)
{
    const sg_pyabi *a = s->a;
    sg_error err;
    uint64_t interp = 0, g = 0;
    if (a->interp_code_generation < 0)
        return 0;
    if (!s->generation_addr) {
        if (sg_read(s->r, s->t->runtime_addr + (uint64_t)a->runtime_interpreters_head, &interp,
                    8, &err) != 0 ||
            !interp)
            return 0;
        s->generation_addr = interp + (uint64_t)a->interp_code_generation;
    }
    return sg_read(s->r, s->generation_addr, &g, 8, &err) == 0 ? g : 0;
}

/* *raced: a code object was freed while this one was read (maybe this one): reading
 * it again is likely to succeed. */
static entry *resolve_miss(sg_symbols *s, uint64_t code, bool *raced)
{
    const sg_pyabi *a = s->a;
    unsigned char hdr[CODE_MAX_BYTES];
    sg_error err;
    uint64_t generation = code_generation(s);
    if (code < 4096 || (code & 7) || sg_read(s->r, code, hdr, s->code_len, &err) != 0)
        return NULL;
    if (s->t->code_type_addr && rd_u64(hdr, a->object_type) != s->t->code_type_addr)
        return NULL;
    uint64_t name_ptr = rd_u64(hdr, a->code_qualname >= 0 ? a->code_qualname : a->code_name);
    uint32_t file = read_str(s, rd_u64(hdr, a->code_filename));
    uint32_t name = read_str(s, name_ptr);
    if (file == SG_NONE || name == SG_NONE)
        return NULL;
    int32_t first_line = rd_i32(hdr, a->code_firstlineno);
    unsigned char *table = NULL;
    size_t tlen = 0;
    if (read_bytes(s, rd_u64(hdr, a->code_linetable), &table, &tlen) != 0)
        return NULL;
    sg_line_range *ranges = NULL;
    size_t nranges = 0;
    int rc = sg_linetable_decode(a->linetable_format, table, tlen, first_line, MAX_RANGES,
                                 &ranges, &nranges, &err);
    free(table);
    if (rc != 0)
        return NULL;
    if (generation != code_generation(s)) {
        free(ranges);
        *raced = true;
        return NULL;
    }
    uint32_t fn = sg_profile_function(s->p, name, file, first_line);
    if (fn == SG_NONE) {
        free(ranges);
        return NULL;
    }
    if (s->n >= CACHE_MAX_ENTRIES) {
        /* A program that keeps creating code objects must not grow the cache forever. */
        for (size_t i = s->n; i-- > 0;)
            drop_entry(s, i);
    }
    if (!sg_grow((void **)&s->entries, &s->cap, s->n + 1, sizeof *s->entries, 256)) {
        free(ranges);
        return NULL;
    }
    entry *e = &s->entries[s->n];
    memset(e, 0, sizeof *e);
    e->code = code;
    key_of(s, hdr, 0, e->key);
    e->function = fn;
    e->first_line = first_line;
    e->code_bytes = -1;
    if (a->code_code_adaptive >= 0)
        e->code_bytes = (int64_t)rd_u64(hdr, a->varobject_size) * 2;
    if (a->code_firsttraceable >= 0)
        e->first_traceable = (int64_t)rd_i32(hdr, a->code_firsttraceable) * 2;
    e->ranges = ranges;
    e->nranges = nranges;
    e->validated = s->gen;
    e->root_skip = is_root_skip(s, sg_profile_str(s->p, file));
    if (!sg_map_put(&s->index, code, s->n + 1)) {
        free(ranges);
        return NULL;
    }
    s->n++;
    return e;
}

size_t sg_symbols_validate(sg_symbols *s, const sg_raw_frame *frames, size_t n)
{
    if (++s->gen == 0)
        s->gen = 1;
    if (!sg_grow((void **)&s->iov, &s->iov_cap, n, sizeof *s->iov, 64) ||
        !sg_grow((void **)&s->pend, &s->pend_cap, n, sizeof *s->pend, 64))
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t *slot = sg_map_get(&s->index, frames[i].code);
        if (!slot)
            continue;
        entry *e = &s->entries[*slot - 1];
        if (e->validated == s->gen)
            continue;
        e->validated = s->gen; /* marks it queued; undone below if it fails */
        s->pend[k].entry = *slot - 1;
        s->iov[k] = (sg_iov){e->code + s->key_lo, s->pend[k].key, s->key_len};
        k++;
    }
    if (!k)
        return 0;
    size_t ok = sg_readv(s->rv ? s->rv : s->r, s->iov, k);
    /* Drop changed entries from the highest index down so swaps don't disturb the rest;
     * the stale indexes are collected in place at the front of pend. */
    size_t nstale = 0;
    for (size_t j = 0; j < k; j++) {
        size_t idx = s->pend[j].entry;
        uint64_t key[KEY_FIELDS];
        bool same = false;
        if (j < ok) {
            key_of(s, s->pend[j].key, s->key_lo, key);
            same = memcmp(key, s->entries[idx].key, sizeof key) == 0;
        }
        if (!same)
            s->pend[nstale++].entry = idx;
    }
    for (size_t i = 1; i < nstale; i++) { /* insertion sort, descending; nstale is tiny */
        size_t v = s->pend[i].entry, j = i;
        for (; j > 0 && s->pend[j - 1].entry < v; j--)
            s->pend[j].entry = s->pend[j - 1].entry;
        s->pend[j].entry = v;
    }
    for (size_t i = 0; i < nstale; i++)
        drop_entry(s, s->pend[i].entry);
    return nstale;
}

void sg_symbols_validate_through(sg_symbols *s, sg_reader *r) { s->rv = r; }

sg_sym_status sg_symbols_resolve(sg_symbols *s, const sg_raw_frame *f, uint32_t *location)
{
    uint64_t *slot = sg_map_get(&s->index, f->code);
    entry *e;
    if (slot) {
        e = &s->entries[*slot - 1];
        s->hits++;
    } else {
        s->misses++;
        bool raced = true;
        e = NULL;
        for (int attempt = 0; !e && raced && attempt < RESOLVE_ATTEMPTS; attempt++) {
            raced = false;
            e = resolve_miss(s, f->code, &raced);
        }
        if (!e)
            return SG_SYM_BAD;
    }
    if (e->code_bytes >= 0 && (f->offset < -2 || f->offset >= e->code_bytes))
        return SG_SYM_BAD;
    if ((f->flags & SG_RF_CHECK_INCOMPLETE) && f->offset < e->first_traceable)
        return SG_SYM_SKIP;
    int32_t line = sg_line_ranges_find(e->ranges, e->nranges, e->first_line, f->offset);
    if (line < 0)
        line = 0;
    uint32_t loc = sg_profile_location(s->p, e->function, line);
    if (loc == SG_NONE)
        return SG_SYM_BAD;
    *location = loc;
    return e->root_skip ? SG_SYM_ROOT_SKIP : SG_SYM_OK;
}

void sg_symbols_set_profile(sg_symbols *s, sg_profile *p) { s->p = p; }

void sg_symbols_stats(const sg_symbols *s, uint64_t *hits, uint64_t *misses, size_t *entries)
{
    *hits = s->hits;
    *misses = s->misses;
    *entries = s->n;
}
