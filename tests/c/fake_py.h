/* Python objects built in a fake memory image, to one CPython minor's layout (the
 * committed sg_pyabi table): str, int, dict (general, unicode-keyed and split tables),
 * modules, instances of a Python class kept as that version keeps them, and a runtime
 * with interpreters. For the unit tests of walk/pyobj.c and sample/threadnames.c.
 * Values that are facts of CPython rather than table fields (DICT_KEYS_SPLIT = 2,
 * PyDictValues' byte fields) are written as CPython's sources define them. */
#ifndef FAKE_PY_H
#define FAKE_PY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/core/discover/sg_discover.h"
#include "../../src/core/mem/sg_reader.h"
#include "../../src/core/pyabi/sg_pyabi.h"

#define FI_BASE 0x10000000ULL
#define FI_SIZE (1u << 20)

typedef struct fimg {
    const sg_pyabi *a;
    unsigned char *mem;
    size_t used;
    uint64_t str_type, long_type, dict_type, module_type;
} fimg;

static inline uint64_t fi_alloc(fimg *f, size_t n)
{
    size_t at = (f->used + 15) & ~(size_t)15;
    if (at + n > FI_SIZE) {
        fprintf(stderr, "fake image full\n");
        abort();
    }
    f->used = at + n;
    return FI_BASE + at;
}

static unsigned char *fi_at(fimg *f, uint64_t addr) { return f->mem + (addr - FI_BASE); }
static inline void fi_u64(fimg *f, uint64_t addr, uint64_t v) { memcpy(fi_at(f, addr), &v, 8); }
static inline void fi_u32(fimg *f, uint64_t addr, uint32_t v) { memcpy(fi_at(f, addr), &v, 4); }
static inline void fi_u8(fimg *f, uint64_t addr, uint8_t v) { *fi_at(f, addr) = v; }
static inline uint64_t fi_get64(fimg *f, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, fi_at(f, addr), 8);
    return v;
}

static inline void fi_init(fimg *f, unsigned minor)
{
    memset(f, 0, sizeof *f);
    f->a = sg_pyabi_for(3, minor);
    f->mem = calloc(1, FI_SIZE);
    f->used = 64;
    f->str_type = fi_alloc(f, 64);
    f->long_type = fi_alloc(f, 64);
    f->dict_type = fi_alloc(f, 64);
    f->module_type = fi_alloc(f, 64);
}

static inline void fi_free(fimg *f) { free(f->mem); }

static sg_reader *fi_reader(fimg *f)
{
    sg_reader *r = sg_reader_fake_new();
    sg_reader_fake_add(r, FI_BASE, f->mem, f->used); /* what was allocated, no more */
    return r;
}

static inline void fi_target(fimg *f, sg_target *t, int pid, uint64_t runtime)
{
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->abi = *f->a;
    t->runtime_addr = runtime;
    t->unicode_type_addr = f->str_type;
    t->long_type_addr = f->long_type;
    t->dict_type_addr = f->dict_type;
    t->module_type_addr = f->module_type;
}

/* Code points of a UTF-8 string (valid input assumed: it is the test's own). */
static inline size_t fi_decode(const char *s, uint32_t *cp, size_t max)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < max) {
        uint32_t c = *p++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        c &= more == 3 ? 0x07 : more == 2 ? 0x0f : more == 1 ? 0x1f : 0x7f;
        while (more-- > 0)
            c = c << 6 | (*p++ & 0x3f);
        cp[n++] = c;
    }
    return n;
}

/* A compact str holding the code points cp[0..n). */
static inline uint64_t fi_str_cp(fimg *f, const uint32_t *cp, size_t n)
{
    const sg_pyabi *a = f->a;
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++)
        max = cp[i] > max ? cp[i] : max;
    unsigned kind = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
    bool ascii = max < 0x80;
    size_t hdr = (size_t)(ascii ? a->unicode_ascii_size : a->unicode_compact_size);
    uint64_t s = fi_alloc(f, hdr + (n + 1) * kind);
    fi_u64(f, s, 1);
    fi_u64(f, s + (uint64_t)a->object_type, f->str_type);
    fi_u64(f, s + (uint64_t)a->unicode_length, n);
    fi_u32(f, s + (uint64_t)a->unicode_state,
           kind << a->unicode_kind_shift | 1u << a->unicode_compact_bit |
               (uint32_t)ascii << a->unicode_ascii_bit);
    for (size_t i = 0; i < n; i++) {
        uint64_t at = s + hdr + i * kind;
        if (kind == 1)
            fi_u8(f, at, (uint8_t)cp[i]);
        else if (kind == 2)
            memcpy(fi_at(f, at), &(uint16_t){(uint16_t)cp[i]}, 2);
        else
            fi_u32(f, at, cp[i]);
    }
    return s;
}

static inline uint64_t fi_str(fimg *f, const char *utf8)
{
    uint32_t cp[1024] = {0};
    return fi_str_cp(f, cp, fi_decode(utf8, cp, 1024));
}

static inline uint64_t fi_long(fimg *f, uint64_t v, bool negative)
{
    const sg_pyabi *a = f->a;
    uint32_t dig[4];
    int nd = 0;
    for (uint64_t x = v; x; x >>= a->long_shift)
        dig[nd++] = (uint32_t)(x & ((1u << a->long_shift) - 1));
    uint64_t o = fi_alloc(f, (size_t)a->long_digits + 4 * (size_t)(nd > 2 ? nd : 2));
    fi_u64(f, o, 1);
    fi_u64(f, o + (uint64_t)a->object_type, f->long_type);
    if (a->long_model == SG_LONG_LV_TAG) {
        uint64_t sign = v == 0 ? 1 : negative ? (uint64_t)a->long_tag_negative : 0;
        fi_u64(f, o + (uint64_t)a->long_tag, (uint64_t)nd << a->long_tag_shift | sign);
    } else {
        fi_u64(f, o + (uint64_t)a->varobject_size, (uint64_t)(negative ? -nd : nd));
    }
    for (int i = 0; i < nd; i++)
        fi_u32(f, o + (uint64_t)a->long_digits + 4 * (uint64_t)i, dig[i]);
    return o;
}

enum { FI_GENERAL = 0, FI_UNICODE = 1, FI_SPLIT = 2 }; /* DictKeysKind */

/* A keys object of n entries; values go into the entries unless vals is NULL (split:
 * then the entries' values stay NULL). */
static inline uint64_t fi_keys(fimg *f, const uint64_t *keys, const uint64_t *vals, size_t n, int kind)
{
    const sg_pyabi *a = f->a;
    unsigned log2 = 3;
    while ((2u << log2) / 3 < n + 1)
        log2++;
    uint64_t size = 1ULL << log2;
    size_t index_bytes = (size_t)size * (size <= 0xff ? 1 : 2); /* sizes up to 2^15 */
    bool general = a->keys_model == SG_KEYS_SIZE || kind == FI_GENERAL;
    size_t esize = (size_t)(general ? a->entry_size : a->uentry_size);
    uint64_t k = fi_alloc(f, (size_t)a->keys_indices + index_bytes + esize * (size_t)size);
    fi_u64(f, k, 1);
    if (a->keys_model == SG_KEYS_LOG2) {
        fi_u8(f, k + (uint64_t)a->keys_size, (uint8_t)log2);
        fi_u8(f, k + (uint64_t)a->keys_log2_index_bytes, (uint8_t)(log2 + (size > 0xff)));
        fi_u8(f, k + (uint64_t)a->keys_kind, (uint8_t)kind);
    } else {
        fi_u64(f, k + (uint64_t)a->keys_size, size);
    }
    fi_u64(f, k + (uint64_t)a->keys_nentries, n);
    memset(fi_at(f, k + (uint64_t)a->keys_indices), 0xff, index_bytes);
    uint64_t e0 = k + (uint64_t)a->keys_indices + index_bytes;
    for (size_t i = 0; i < n; i++) {
        uint64_t e = e0 + i * esize;
        fi_u64(f, e + (uint64_t)(general ? a->entry_key : a->uentry_key), keys[i]);
        if (vals)
            fi_u64(f, e + (uint64_t)(general ? a->entry_value : a->uentry_value), vals[i]);
    }
    return k;
}

/* A values block for a split table; returns the block (values_array before the
 * PyObject *[]). */
static inline uint64_t fi_values(fimg *f, const uint64_t *vals, size_t n)
{
    const sg_pyabi *a = f->a;
    uint64_t b = fi_alloc(f, (size_t)a->values_array + 8 * (n ? n : 1));
    if (a->values_valid >= 0) {
        fi_u8(f, b, (uint8_t)n);     /* capacity */
        fi_u8(f, b + 1, (uint8_t)n); /* size */
        fi_u8(f, b + (uint64_t)a->values_valid, 1);
    }
    for (size_t i = 0; i < n; i++)
        fi_u64(f, b + (uint64_t)a->values_array + 8 * i, vals[i]);
    return b;
}

static inline uint64_t fi_dict_of(fimg *f, uint64_t keys, uint64_t values_block)
{
    const sg_pyabi *a = f->a;
    uint64_t d = fi_alloc(f, 64);
    fi_u64(f, d, 1);
    fi_u64(f, d + (uint64_t)a->object_type, f->dict_type);
    fi_u64(f, d + (uint64_t)a->dict_keys, keys);
    fi_u64(f, d + (uint64_t)a->dict_values, values_block);
    return d;
}

/* A dict of n entries: kind FI_GENERAL / FI_UNICODE (combined) or FI_SPLIT. */
static inline uint64_t fi_dict(fimg *f, const uint64_t *keys, const uint64_t *vals, size_t n, int kind)
{
    if (kind == FI_SPLIT)
        return fi_dict_of(f, fi_keys(f, keys, NULL, n, kind), fi_values(f, vals, n));
    return fi_dict_of(f, fi_keys(f, keys, vals, n, kind), 0);
}

static inline uint64_t fi_module(fimg *f, uint64_t dict)
{
    uint64_t m = fi_alloc(f, 64);
    fi_u64(f, m, 1);
    fi_u64(f, m + (uint64_t)f->a->object_type, f->module_type);
    fi_u64(f, m + (uint64_t)f->a->module_dict, dict);
    return m;
}

/* A heap type as a Python class of that version is made. */
static inline uint64_t fi_class(fimg *f, uint64_t cached_keys)
{
    const sg_pyabi *a = f->a;
    uint64_t t = fi_alloc(f, (size_t)a->heaptype_cached_keys + 64);
    uint64_t flags = (uint64_t)a->tpflags_heaptype;
    int64_t basicsize = 16, dictoffset = 0;
    if (a->idict_model == SG_IDICT_OFFSET) {
        basicsize = 32; /* header, __dict__, __weakref__ */
        dictoffset = 16;
    } else {
        flags |= (uint64_t)a->tpflags_managed_dict;
        dictoffset = -1;
        if (a->tpflags_inline_values > 0)
            flags |= (uint64_t)a->tpflags_inline_values;
    }
    fi_u64(f, t + (uint64_t)a->type_basicsize, (uint64_t)basicsize);
    fi_u64(f, t + (uint64_t)a->type_dictoffset, (uint64_t)dictoffset);
    fi_u64(f, t + (uint64_t)a->type_flags, flags);
    fi_u64(f, t + (uint64_t)a->heaptype_cached_keys, cached_keys);
    return t;
}

/* An instance of cls (made by fi_class with the shared keys `shared`) with the
 * attribute values vals (one per shared key, 0 = unset), kept where the version keeps
 * them: as values with the shared keys (with_dict false) or in a dict object holding
 * the attributes names[] (with_dict true, a combined table). */
static inline uint64_t fi_instance(fimg *f, uint64_t cls, uint64_t shared, const uint64_t *names,
                            const uint64_t *vals, size_t n, bool with_dict)
{
    const sg_pyabi *a = f->a;
    uint64_t dict = with_dict ? fi_dict(f, names, vals, n, FI_UNICODE) : 0;
    if (a->idict_model == SG_IDICT_OFFSET) {
        uint64_t o = fi_alloc(f, 32);
        fi_u64(f, o + (uint64_t)a->object_type, cls);
        fi_u64(f, o + 16, dict ? dict : fi_dict_of(f, shared, fi_values(f, vals, n)));
        return o;
    }
    uint64_t block = fi_alloc(f, 32 + 16 + 8 + 8 * n);
    uint64_t o = block + 32;
    fi_u64(f, o, 1);
    fi_u64(f, o + (uint64_t)a->object_type, cls);
    uint64_t dict_at = o - (uint64_t)a->managed_dict_before;
    switch (a->idict_model) {
    case SG_IDICT_MANAGED_VALUES:
        if (dict)
            fi_u64(f, dict_at, dict);
        else
            fi_u64(f, o - (uint64_t)a->managed_values_before,
                   fi_values(f, vals, n) + (uint64_t)a->values_array);
        break;
    case SG_IDICT_DICT_OR_VALUES:
        fi_u64(f, dict_at, dict ? dict : fi_values(f, vals, n) + (uint64_t)a->values_array - 1);
        break;
    case SG_IDICT_INLINE_VALUES: {
        uint64_t v = o + 16; /* tp_basicsize */
        fi_u8(f, v, (uint8_t)n);
        fi_u8(f, v + 1, (uint8_t)n);
        fi_u8(f, v + 2, 1);
        fi_u8(f, v + (uint64_t)a->values_valid, dict ? 0 : 1);
        for (size_t i = 0; i < n; i++)
            fi_u64(f, v + (uint64_t)a->values_array + 8 * i, dict ? 0 : vals[i]);
        if (dict)
            fi_u64(f, dict_at, dict);
        break;
    }
    default:
        break;
    }
    return o;
}

#endif
