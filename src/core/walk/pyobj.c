/* Python objects read from a target, for the symbol cache (str) and the thread names
 * (int, dict, module, instance attributes). Layout differences come only from the
 * sg_pyabi fields and model enums; every read is charged to the caller's budget. */
#include <string.h>

#include "../base/sg_map.h"
#include "sg_pyobj.h"

#define STR_CHUNK 4096   /* raw str bytes decoded per read */
#define STR_INLINE 64    /* str data read with the header */
#define DICT_CHUNK 64    /* dict entries read per read */
#define KEY_MAX 64       /* longest key sg_pyobj_get looks up */
#define HDR_MAX 128      /* object headers we read whole */
#define TYPE_SPAN_MAX 1024

void sg_pyobj_init(sg_pyobj *o, sg_reader *r, const sg_target *t, uint32_t budget)
{
    memset(o, 0, sizeof *o);
    o->r = r;
    o->a = &t->abi;
    o->str_type = t->unicode_type_addr;
    o->long_type = t->long_type_addr;
    o->dict_type = t->dict_type_addr;
    o->module_type = t->module_type_addr;
    o->budget = budget;
    o->session = 1;
}

void sg_pyobj_new_session(sg_pyobj *o)
{
    if (++o->session == 0)
        o->session = 1;
    memset(o->types, 0, sizeof o->types);
    memset(o->keys, 0, sizeof o->keys);
}

/* Userspace pointers on x86-64 Linux are below 2^47; objects are 8-aligned. */
static bool plausible(uint64_t p) { return p >= 4096 && p < (1ULL << 47) && (p & 7) == 0; }

static int rd(sg_pyobj *o, uint64_t addr, void *buf, size_t len)
{
    if (o->budget == 0 || addr > UINT64_MAX - len)
        return -1;
    o->budget--;
    sg_error err;
    return sg_read(o->r, addr, buf, len, &err);
}

static uint64_t u64_at(const unsigned char *b, int32_t off)
{
    uint64_t v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

static uint32_t u32_at(const unsigned char *b, int32_t off)
{
    uint32_t v;
    memcpy(&v, b + off, sizeof v);
    return v;
}

/* The object's type is the expected one, or at least not NULL when it is unknown. */
static bool type_ok(const unsigned char *hdr, int32_t off, uint64_t want)
{
    uint64_t t = u64_at(hdr, off);
    return want ? t == want : t != 0;
}

/* ---- str ---- */

static bool put_utf8(char *out, size_t cap, size_t *n, uint32_t c)
{
    if (c >= 0xd800 && c < 0xe000)
        c = 0xfffd; /* a lone surrogate cannot be encoded */
    if (c > 0x10ffff)
        c = 0xfffd;
    size_t need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (cap - *n <= need) /* keeps room for the NUL */
        return false;
    char *p = out + *n;
    if (need == 1) {
        p[0] = (char)c;
    } else if (need == 2) {
        p[0] = (char)(0xc0 | (c >> 6));
        p[1] = (char)(0x80 | (c & 0x3f));
    } else if (need == 3) {
        p[0] = (char)(0xe0 | (c >> 12));
        p[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        p[2] = (char)(0x80 | (c & 0x3f));
    } else {
        p[0] = (char)(0xf0 | (c >> 18));
        p[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        p[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        p[3] = (char)(0x80 | (c & 0x3f));
    }
    *n += need;
    return true;
}

typedef struct {
    uint64_t len;
    unsigned kind; /* bytes per code point: 1, 2 or 4 */
    bool ascii;
    size_t data_off;
} str_shape;

/* Checks a str header: a compact str of a valid kind. */
static bool str_header(const sg_pyobj *o, const unsigned char *hdr, str_shape *s)
{
    const sg_pyabi *a = o->a;
    if (!type_ok(hdr, a->object_type, o->str_type))
        return false;
    int64_t len = (int64_t)u64_at(hdr, a->unicode_length);
    uint32_t state = u32_at(hdr, a->unicode_state);
    unsigned kind = (state >> a->unicode_kind_shift) & 7;
    bool compact = (state >> a->unicode_compact_bit) & 1;
    bool ascii = (state >> a->unicode_ascii_bit) & 1;
    if (len < 0 || !compact || (kind != 1 && kind != 2 && kind != 4) || (ascii && kind != 1))
        return false;
    s->len = (uint64_t)len;
    s->kind = kind;
    s->ascii = ascii;
    s->data_off = (size_t)(ascii ? a->unicode_ascii_size : a->unicode_compact_size);
    return true;
}

int sg_pyobj_str(sg_pyobj *o, uint64_t addr, size_t max_chars, char *out, size_t cap,
                 size_t *len)
{
    const sg_pyabi *a = o->a;
    /* The header and, in the same read, the first bytes of the data: most strings
     * (names) fit. A read running past the end of a mapping falls back to the header. */
    unsigned char first[HDR_MAX + STR_INLINE];
    str_shape s;
    size_t hsize = (size_t)a->unicode_compact_size, got = hsize + STR_INLINE;
    if (!cap || !plausible(addr) || a->unicode_compact_size <= 0 ||
        a->unicode_compact_size > HDR_MAX)
        return -1;
    if (rd(o, addr, first, got) != 0) {
        got = hsize;
        if (rd(o, addr, first, got) != 0)
            return -1;
    }
    if (!str_header(o, first, &s) || s.len > max_chars)
        return -1;
    size_t n = 0;
    unsigned char raw[STR_CHUNK];
    size_t per = STR_CHUNK / s.kind;
    for (uint64_t done = 0; done < s.len;) {
        size_t k = s.len - done < per ? (size_t)(s.len - done) : per;
        const unsigned char *src = raw;
        if (done == 0 && s.data_off + k * s.kind <= got)
            src = first + s.data_off;
        else if (rd(o, addr + s.data_off + done * s.kind, raw, k * s.kind) != 0)
            return -1;
        for (size_t i = 0; i < k; i++) {
            uint32_t c;
            if (s.kind == 1) {
                c = src[i];
            } else if (s.kind == 2) {
                uint16_t v;
                memcpy(&v, src + 2 * i, 2);
                c = v;
            } else {
                memcpy(&c, src + 4 * i, 4);
            }
            if ((s.ascii && c >= 0x80) || !put_utf8(out, cap, &n, c))
                return -1;
        }
        done += k;
    }
    out[n] = '\0';
    *len = n;
    return 0;
}

/* ---- int ---- */

int sg_pyobj_ulong(sg_pyobj *o, uint64_t addr, uint64_t *value)
{
    const sg_pyabi *a = o->a;
    unsigned char hdr[HDR_MAX + 2 * 4];
    unsigned shift = a->long_shift, dsize = a->long_digit_size;
    /* The header and two digits (a pthread id is below 2^60) in one read: every int
     * takes at least that much memory (a header and one digit, rounded up to the
     * allocator's 16 bytes). */
    size_t inline_digits = 2;
    if (!plausible(addr) || a->long_digits <= 0 || a->long_digits > HDR_MAX || shift == 0 ||
        shift > 32 || (dsize != 2 && dsize != 4) ||
        rd(o, addr, hdr, (size_t)a->long_digits + inline_digits * dsize) != 0 ||
        !type_ok(hdr, a->object_type, o->long_type))
        return -1;
    int64_t ndigits;
    if (a->long_model == SG_LONG_LV_TAG) {
        if (a->long_tag < 0 || a->long_tag + 8 > a->long_digits)
            return -1;
        uint64_t tag = u64_at(hdr, a->long_tag);
        if ((tag & a->long_tag_sign_mask) == a->long_tag_negative)
            return -1;
        ndigits = (int64_t)(tag >> a->long_tag_shift);
    } else {
        ndigits = (int64_t)u64_at(hdr, a->varobject_size); /* sign * digits */
        if (ndigits < 0)
            return -1;
    }
    int64_t most = (64 + shift - 1) / shift;
    if (ndigits > most)
        return -1;
    unsigned char dig[64 * 4];
    if (ndigits <= (int64_t)inline_digits)
        memcpy(dig, hdr + a->long_digits, inline_digits * dsize);
    else if (rd(o, addr + (uint64_t)a->long_digits, dig, (size_t)ndigits * dsize) != 0)
        return -1;
    uint64_t v = 0;
    for (int64_t i = ndigits; i-- > 0;) {
        uint32_t d;
        if (dsize == 4) {
            memcpy(&d, dig + 4 * i, 4);
        } else {
            uint16_t h;
            memcpy(&h, dig + 2 * i, 2);
            d = h;
        }
        if ((shift < 32 && d >> shift) || (v >> (64 - shift)) != 0)
            return -1; /* not a digit, or more than 64 bits */
        v = v << shift | d;
    }
    *value = v;
    return 0;
}

/* ---- dict ---- */

int sg_pyobj_keys(sg_pyobj *o, uint64_t keys, uint64_t values, sg_pydict *d)
{
    const sg_pyabi *a = o->a;
    unsigned char hdr[HDR_MAX];
    if (!plausible(keys) || (values && !plausible(values)))
        return -1;
    /* Split tables (values) have shared keys, the same for every instance of a class:
     * read once per session. */
    for (unsigned i = 0; values && i < SG_PYOBJ_CACHED; i++) {
        if (o->keys[i].keys == keys) {
            *d = o->keys[i];
            d->values = values;
            return 0;
        }
    }
    if (a->keys_indices <= 0 || a->keys_indices > HDR_MAX ||
        rd(o, keys, hdr, (size_t)a->keys_indices) != 0)
        return -1;
    uint64_t size, index_bytes;
    bool general = true;
    if (a->keys_model == SG_KEYS_LOG2) {
        unsigned log2 = hdr[a->keys_size], log2_index = hdr[a->keys_log2_index_bytes];
        if (log2 < 3 || log2 > 32 || log2_index < log2 || log2_index > log2 + 3)
            return -1;
        size = 1ULL << log2;
        index_bytes = 1ULL << log2_index;
        general = hdr[a->keys_kind] == (unsigned char)a->keys_kind_general;
    } else {
        size = u64_at(hdr, a->keys_size);
        if (size < 8 || size > (1ULL << 32) || (size & (size - 1)))
            return -1;
        unsigned width = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffULL ? 4 : 8;
        index_bytes = size * width;
    }
    int64_t n = (int64_t)u64_at(hdr, a->keys_nentries);
    if (n < 0 || (uint64_t)n > size || n > SG_PYDICT_MAX_ENTRIES)
        return -1;
    d->keys = keys;
    d->entries = keys + (uint64_t)a->keys_indices + index_bytes;
    d->values = values;
    d->nentries = n;
    d->entry_size = (uint32_t)(general ? a->entry_size : a->uentry_size);
    d->key_off = (uint32_t)(general ? a->entry_key : a->uentry_key);
    d->value_off = (uint32_t)(general ? a->entry_value : a->uentry_value);
    if (a->entry_size <= 0 || (!general && a->uentry_size <= 0) || d->entry_size > 32)
        return -1;
    if (values) {
        o->keys[o->next_keys] = *d;
        o->next_keys = (o->next_keys + 1) % SG_PYOBJ_CACHED;
    }
    return 0;
}

int sg_pyobj_dict(sg_pyobj *o, uint64_t dict, sg_pydict *d)
{
    const sg_pyabi *a = o->a;
    unsigned char hdr[HDR_MAX];
    int32_t end = (a->dict_keys > a->dict_values ? a->dict_keys : a->dict_values) + 8;
    if (!plausible(dict) || a->dict_keys < 0 || a->dict_values < 0 || end > HDR_MAX ||
        rd(o, dict, hdr, (size_t)end) != 0 || !type_ok(hdr, a->object_type, o->dict_type))
        return -1;
    uint64_t values = u64_at(hdr, a->dict_values);
    if (values)
        values += (uint64_t)a->values_array;
    return sg_pyobj_keys(o, u64_at(hdr, a->dict_keys), values, d);
}

/* Reads entries [start, start + k) of d: their keys and values. */
static int read_chunk(sg_pyobj *o, const sg_pydict *d, int64_t start, size_t k,
                      uint64_t *key, uint64_t *value)
{
    unsigned char buf[DICT_CHUNK * 32];
    uint64_t vals[DICT_CHUNK];
    if (rd(o, d->entries + (uint64_t)start * d->entry_size, buf, k * d->entry_size) != 0)
        return -1;
    if (d->values && rd(o, d->values + (uint64_t)start * 8, vals, k * 8) != 0)
        return -1;
    for (size_t i = 0; i < k; i++) {
        const unsigned char *e = buf + i * d->entry_size;
        key[i] = u64_at(e, (int32_t)d->key_off);
        value[i] = d->values ? vals[i] : u64_at(e, (int32_t)d->value_off);
    }
    return 0;
}

long sg_pyobj_items(sg_pyobj *o, const sg_pydict *d, sg_pyitem *items, size_t max)
{
    size_t count = 0;
    uint64_t key[DICT_CHUNK], value[DICT_CHUNK];
    for (int64_t start = 0; start < d->nentries && count < max; start += DICT_CHUNK) {
        size_t k = d->nentries - start < DICT_CHUNK ? (size_t)(d->nentries - start) : DICT_CHUNK;
        if (read_chunk(o, d, start, k, key, value) != 0)
            return -1;
        for (size_t i = 0; i < k && count < max; i++)
            if (key[i] && value[i]) /* a deleted or (split) unset entry has no value */
                items[count++] = (sg_pyitem){key[i], value[i]};
    }
    return (long)count;
}

/* True when hdr (a str header followed by its first bytes) is the ASCII key. */
static bool key_matches(const sg_pyobj *o, const unsigned char *hdr, const char *key, size_t n)
{
    str_shape s;
    return str_header(o, hdr, &s) && s.ascii && s.len == n &&
           memcmp(hdr + s.data_off, key, n) == 0;
}

static void remember(sg_pyobj *o, struct sg_pyhint_slot *h, const sg_pydict *d,
                     int64_t index, uint64_t key)
{
    if (h) {
        h->keys = d->keys;
        h->index = index;
        h->key = key;
        h->session = o->session;
    }
}

/* The key at the hinted entry only: 1 it is the key, 0 it is not, -1 unreadable. */
static int try_hint(sg_pyobj *o, const sg_pydict *d, struct sg_pyhint_slot *h, const char *key,
                    size_t n, uint64_t *value)
{
    int64_t index = h->index;
    bool checked = h->session == o->session && h->key != 0;
    if (checked && d->values)
        return rd(o, d->values + (uint64_t)index * 8, value, 8) == 0 ? 1 : -1;
    uint64_t k, v;
    unsigned char hdr[HDR_MAX + KEY_MAX];
    if (read_chunk(o, d, index, 1, &k, &v) != 0)
        return -1;
    if (checked) {
        if (k != h->key)
            return 0;
    } else if (!plausible(k) || rd(o, k, hdr, (size_t)o->a->unicode_ascii_size + n) != 0) {
        return -1;
    } else if (!key_matches(o, hdr, key, n)) {
        return 0;
    }
    remember(o, h, d, index, k);
    *value = v;
    return 1;
}

/* The hint slot for (key, d's keys object): the one that has it, else the next to
 * reuse. */
static struct sg_pyhint_slot *hint_slot(sg_pyhint *hint, const sg_pydict *d, const char *key,
                                        size_t n)
{
    if (!hint)
        return NULL;
    uint64_t name = sg_hash_bytes(key, n);
    for (unsigned i = 0; i < SG_PYHINT_SLOTS; i++)
        if (hint->at[i].keys == d->keys && hint->at[i].name == name)
            return &hint->at[i];
    struct sg_pyhint_slot *h = &hint->at[hint->next % SG_PYHINT_SLOTS];
    hint->next = (hint->next + 1) % SG_PYHINT_SLOTS;
    memset(h, 0, sizeof *h);
    h->name = name;
    return h;
}

int sg_pyobj_get(sg_pyobj *o, const sg_pydict *d, const char *key, sg_pyhint *hint,
                 uint64_t *value)
{
    const sg_pyabi *a = o->a;
    size_t n = strlen(key);
    if (n > KEY_MAX || a->unicode_ascii_size <= 0 || a->unicode_ascii_size > HDR_MAX)
        return -1;
    size_t want = (size_t)a->unicode_ascii_size + n;
    struct sg_pyhint_slot *h = hint_slot(hint, d, key, n);
    if (h && h->keys == d->keys && h->index >= 0 && h->index < d->nentries) {
        int r = try_hint(o, d, h, key, n, value);
        if (r > 0)
            return *value ? 1 : 0;
    }
    uint64_t keys[DICT_CHUNK], values[DICT_CHUNK];
    unsigned char hdrs[DICT_CHUNK][HDR_MAX + KEY_MAX];
    sg_iov iov[DICT_CHUNK];
    int64_t at[DICT_CHUNK];
    for (int64_t start = 0; start < d->nentries; start += DICT_CHUNK) {
        size_t k = d->nentries - start < DICT_CHUNK ? (size_t)(d->nentries - start) : DICT_CHUNK;
        if (read_chunk(o, d, start, k, keys, values) != 0)
            return -1;
        size_t m = 0;
        for (size_t i = 0; i < k; i++) {
            if (!plausible(keys[i]))
                continue;
            iov[m] = (sg_iov){keys[i], hdrs[m], want};
            at[m++] = start + (int64_t)i;
        }
        /* One batch for the chunk's keys; a region that fails (a key that is not a
         * str near the end of a mapping) is skipped and the batch resumes after it. */
        for (size_t done = 0; done < m;) {
            if (o->budget < m - done)
                return -1;
            size_t ok = sg_readv(o->r, iov + done, m - done);
            o->budget -= (uint32_t)(ok < m - done ? ok + 1 : ok);
            for (size_t j = done; j < done + ok; j++) {
                if (!key_matches(o, hdrs[j], key, n))
                    continue;
                size_t i = (size_t)(at[j] - start);
                remember(o, h, d, at[j], iov[j].addr);
                *value = values[i];
                return values[i] ? 1 : 0; /* keys are unique: no value, no attribute */
            }
            done += ok + 1;
        }
    }
    return 0;
}

/* ---- modules and instances ---- */

int sg_pyobj_module_dict(sg_pyobj *o, uint64_t module, uint64_t *dict)
{
    const sg_pyabi *a = o->a;
    unsigned char hdr[HDR_MAX];
    if (!plausible(module) || a->module_dict < 0 || a->module_dict + 8 > HDR_MAX ||
        rd(o, module, hdr, (size_t)a->module_dict + 8) != 0 ||
        !type_ok(hdr, a->object_type, o->module_type))
        return -1;
    *dict = u64_at(hdr, a->module_dict);
    return plausible(*dict) ? 0 : -1;
}

/* A class's layout facts, read once per session. */
static int read_type(sg_pyobj *o, uint64_t type, bool want_keys, sg_pytype *f)
{
    const sg_pyabi *a = o->a;
    for (unsigned i = 0; i < SG_PYOBJ_CACHED; i++) {
        if (o->types[i].addr == type && type) {
            *f = o->types[i];
            return 0;
        }
    }
    int32_t offs[4] = {a->type_basicsize, a->type_dictoffset, a->type_flags,
                       want_keys ? a->heaptype_cached_keys : a->type_flags};
    int32_t lo = offs[0], hi = offs[0];
    for (int i = 0; i < 4; i++) {
        if (offs[i] < 0)
            return -1;
        lo = offs[i] < lo ? offs[i] : lo;
        hi = offs[i] > hi ? offs[i] : hi;
    }
    hi += 8;
    unsigned char buf[TYPE_SPAN_MAX];
    if (!plausible(type) || hi - lo > TYPE_SPAN_MAX ||
        rd(o, type + (uint64_t)lo, buf, (size_t)(hi - lo)) != 0)
        return -1;
    f->basicsize = (int64_t)u64_at(buf, a->type_basicsize - lo);
    f->dictoffset = (int64_t)u64_at(buf, a->type_dictoffset - lo);
    f->flags = u64_at(buf, a->type_flags - lo);
    f->cached_keys = want_keys ? u64_at(buf, a->heaptype_cached_keys - lo) : 0;
    if (f->basicsize < 16 || f->basicsize > (1 << 20))
        return -1;
    f->addr = type;
    o->types[o->next_type] = *f;
    o->next_type = (o->next_type + 1) % SG_PYOBJ_CACHED;
    return 0;
}

static bool has_flag(uint64_t flags, int32_t flag) { return flag > 0 && (flags & (uint64_t)flag); }

/* Attributes kept as values with the type's shared keys (no dict object). */
static int lookup_values(sg_pyobj *o, const sg_pytype *f, uint64_t values, const char *name,
                         sg_pyhint *hint, uint64_t *value)
{
    sg_pydict d;
    if (!has_flag(f->flags, o->a->tpflags_heaptype) ||
        sg_pyobj_keys(o, f->cached_keys, values + (uint64_t)o->a->values_array, &d) != 0)
        return -1;
    return sg_pyobj_get(o, &d, name, hint, value);
}

static int lookup_dict(sg_pyobj *o, uint64_t dict, const char *name, sg_pyhint *hint,
                       uint64_t *value)
{
    sg_pydict d;
    if (sg_pyobj_dict(o, dict, &d) != 0)
        return -1;
    return sg_pyobj_get(o, &d, name, hint, value);
}

int sg_pyobj_getattr(sg_pyobj *o, uint64_t obj, const char *name, sg_pyhint *hint,
                     uint64_t *value)
{
    const sg_pyabi *a = o->a;
    int32_t before = a->managed_dict_before > a->managed_values_before
                         ? a->managed_dict_before
                         : a->managed_values_before;
    if (before < 0)
        before = 0;
    unsigned char buf[HDR_MAX];
    if (!plausible(obj) || before + a->object_type + 8 > HDR_MAX || obj < (uint64_t)before ||
        rd(o, obj - (uint64_t)before, buf, (size_t)(before + a->object_type + 8)) != 0)
        return -1;
    const unsigned char *hdr = buf + before;
    sg_pytype f;
    bool managed = a->idict_model != SG_IDICT_OFFSET;
    if (read_type(o, u64_at(hdr, a->object_type), managed, &f) != 0)
        return -1;
    if (!managed) {
        if (f.dictoffset <= 0 || f.dictoffset + 8 > f.basicsize)
            return -1; /* no instance dict, or one at the end of a variable-size object */
        uint64_t dict;
        if (rd(o, obj + (uint64_t)f.dictoffset, &dict, 8) != 0)
            return -1;
        return dict ? lookup_dict(o, dict, name, hint, value) : 0;
    }
    if (!has_flag(f.flags, a->tpflags_managed_dict) || a->managed_dict_before <= 0)
        return -1;
    uint64_t word = u64_at(buf, before - a->managed_dict_before);
    switch (a->idict_model) {
    case SG_IDICT_MANAGED_VALUES: {
        if (word)
            return lookup_dict(o, word, name, hint, value);
        if (a->managed_values_before <= 0)
            return -1;
        uint64_t values = u64_at(buf, before - a->managed_values_before);
        return values ? lookup_values(o, &f, values, name, hint, value) : 0;
    }
    case SG_IDICT_DICT_OR_VALUES:
        if (word & 1)
            return lookup_values(o, &f, word + 1, name, hint, value);
        return word ? lookup_dict(o, word, name, hint, value) : 0;
    case SG_IDICT_INLINE_VALUES: {
        if (word)
            return lookup_dict(o, word, name, hint, value);
        if (!has_flag(f.flags, a->tpflags_inline_values) || a->values_valid < 0)
            return 0;
        uint64_t values = obj + (uint64_t)f.basicsize;
        unsigned char head[8];
        if (a->values_valid >= 8 || rd(o, values, head, sizeof head) != 0)
            return -1;
        return head[a->values_valid] ? lookup_values(o, &f, values, name, hint, value) : 0;
    }
    default:
        return -1;
    }
}
