/* walk/pyobj.c on fake memory images built to each version's layout (3.9-3.13): str of
 * every kind, ints, dicts of every kind, instance attributes where each version keeps
 * them, and corrupt objects (huge sizes, wild and misaligned pointers, wrong types),
 * which must fail, within the read budget, without crashing. */
#include <stdio.h>

#include "../../src/core/walk/sg_pyobj.h"
#include "fake_py.h"
#include "sg_test.h"

#define SG_RUN_1(fn, arg)                                                              \
    do {                                                                               \
        int before_ = sg_test_failures;                                                \
        fn(arg);                                                                       \
        fprintf(stderr, "  %s %s\n", sg_test_failures == before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

typedef struct env {
    fimg f;
    sg_target t;
    sg_reader *r;
    sg_pyobj o;
} env;

static void env_open(env *e)
{
    fi_target(&e->f, &e->t, 1, 0);
    e->r = fi_reader(&e->f);
    sg_pyobj_init(&e->o, e->r, &e->t, 10000);
}

static void env_close(env *e)
{
    sg_reader_free(e->r);
    fi_free(&e->f);
}

static int str_of(env *e, uint64_t addr, char *out, size_t cap)
{
    size_t len;
    int rc = sg_pyobj_str(&e->o, addr, 100, out, cap, &len);
    if (rc == 0 && len != strlen(out))
        return -2;
    return rc;
}

static void test_str(unsigned m)
{
    env e;
    fi_init(&e.f, m);
    uint64_t ascii = fi_str(&e.f, "spinner");
    uint64_t latin = fi_str(&e.f, "café");
    uint64_t ucs2 = fi_str(&e.f, "Ünïcödé—名前");
    uint64_t ucs4 = fi_str(&e.f, "worker 🧵 #1");
    uint64_t empty = fi_str(&e.f, "");
    uint32_t lone[3] = {'a', 0xd800, 'b'};
    uint64_t surrogate = fi_str_cp(&e.f, lone, 3);
    uint64_t big = fi_str(&e.f, "0123456789012345678901234567890123456789012345678901234567890"
                                "12345678901234567890123456789012345678901234567890");
    /* corrupt copies */
    uint64_t wrong_type = fi_str(&e.f, "x");
    fi_u64(&e.f, wrong_type + (uint64_t)e.f.a->object_type, e.f.dict_type);
    uint64_t huge = fi_str(&e.f, "x");
    fi_u64(&e.f, huge + (uint64_t)e.f.a->unicode_length, 1ULL << 62);
    uint64_t negative = fi_str(&e.f, "x");
    fi_u64(&e.f, negative + (uint64_t)e.f.a->unicode_length, (uint64_t)-5);
    uint64_t kind3 = fi_str(&e.f, "x");
    fi_u32(&e.f, kind3 + (uint64_t)e.f.a->unicode_state,
           3u << e.f.a->unicode_kind_shift | 1u << e.f.a->unicode_compact_bit);
    uint64_t not_compact = fi_str(&e.f, "x");
    fi_u32(&e.f, not_compact + (uint64_t)e.f.a->unicode_state,
           1u << e.f.a->unicode_kind_shift | 1u << e.f.a->unicode_ascii_bit);
    uint64_t bad_ascii = fi_str(&e.f, "ab");
    fi_u8(&e.f, bad_ascii + (uint64_t)e.f.a->unicode_ascii_size + 1, 0xe9);
    uint64_t past_end = fi_alloc(&e.f, 16); /* the last object: a header runs off the image */
    env_open(&e);

    char out[512];
    SG_CHECK(str_of(&e, ascii, out, sizeof out) == 0 && strcmp(out, "spinner") == 0);
    SG_CHECK(str_of(&e, latin, out, sizeof out) == 0 && strcmp(out, "café") == 0);
    SG_CHECK(str_of(&e, ucs2, out, sizeof out) == 0 && strcmp(out, "Ünïcödé—名前") == 0);
    SG_CHECK(str_of(&e, ucs4, out, sizeof out) == 0 && strcmp(out, "worker 🧵 #1") == 0);
    SG_CHECK(str_of(&e, empty, out, sizeof out) == 0 && out[0] == '\0');
    SG_CHECK(str_of(&e, surrogate, out, sizeof out) == 0 && strcmp(out, "a\xef\xbf\xbd" "b") == 0);
    SG_CHECK_EQ_INT(str_of(&e, big, out, sizeof out), -1);     /* > 100 code points */
    SG_CHECK_EQ_INT(str_of(&e, ucs2, out, 10), -1);             /* does not fit out */
    SG_CHECK_EQ_INT(str_of(&e, ascii, out, 8), 0);              /* just fits, with NUL */
    SG_CHECK_EQ_INT(str_of(&e, ascii, out, 7), -1);
    SG_CHECK_EQ_INT(str_of(&e, wrong_type, out, sizeof out), -1);
    SG_CHECK_EQ_INT(str_of(&e, huge, out, sizeof out), -1);
    SG_CHECK_EQ_INT(str_of(&e, negative, out, sizeof out), -1);
    SG_CHECK_EQ_INT(str_of(&e, kind3, out, sizeof out), -1);
    SG_CHECK_EQ_INT(str_of(&e, not_compact, out, sizeof out), -1);
    SG_CHECK_EQ_INT(str_of(&e, bad_ascii, out, sizeof out), -1);
    SG_CHECK_EQ_INT(str_of(&e, past_end, out, sizeof out), -1);
    SG_CHECK_EQ_INT(str_of(&e, 0, out, sizeof out), -1);
    SG_CHECK_EQ_INT(str_of(&e, ascii + 4, out, sizeof out), -1); /* misaligned */
    SG_CHECK_EQ_INT(str_of(&e, 0x7ffff0000000ULL, out, sizeof out), -1); /* unmapped */
    SG_CHECK_EQ_INT(str_of(&e, ~0ULL - 7, out, sizeof out), -1);
    /* Without type objects a str is still read; the wrong-type one then too. */
    e.o.str_type = 0;
    SG_CHECK(str_of(&e, wrong_type, out, sizeof out) == 0 && strcmp(out, "x") == 0);
    /* An exhausted budget fails everything. */
    e.o.budget = 0;
    SG_CHECK_EQ_INT(str_of(&e, ascii, out, sizeof out), -1);
    env_close(&e);
}

static void test_ulong(unsigned m)
{
    env e;
    fi_init(&e.f, m);
    const uint64_t values[] = {0, 1, 29, (1u << 30) - 1, 1u << 30, 140737488355327ULL,
                               (1ULL << 63) + 5, UINT64_MAX};
    uint64_t objs[8];
    for (int i = 0; i < 8; i++)
        objs[i] = fi_long(&e.f, values[i], false);
    uint64_t neg = fi_long(&e.f, 7, true);
    uint64_t too_big = fi_long(&e.f, UINT64_MAX, false); /* then a 4th digit */
    uint64_t wrong_type = fi_long(&e.f, 5, false);
    fi_u64(&e.f, wrong_type + (uint64_t)e.f.a->object_type, e.f.str_type);
    uint64_t not_digit = fi_long(&e.f, 5, false);
    fi_u32(&e.f, not_digit + (uint64_t)e.f.a->long_digits, 1u << 31);
    uint64_t many = fi_long(&e.f, 5, false);
    uint64_t top = fi_long(&e.f, 1, false); /* 3 digits whose top one overflows 64 bits */
    const sg_pyabi *a = e.f.a;
    if (a->long_model == SG_LONG_LV_TAG) {
        fi_u64(&e.f, too_big + (uint64_t)a->long_tag, 4ULL << a->long_tag_shift);
        fi_u64(&e.f, many + (uint64_t)a->long_tag, (1ULL << 40) << a->long_tag_shift);
        fi_u64(&e.f, top + (uint64_t)a->long_tag, 3ULL << a->long_tag_shift);
    } else {
        fi_u64(&e.f, too_big + (uint64_t)a->varobject_size, 4);
        fi_u64(&e.f, many + (uint64_t)a->varobject_size, 1ULL << 40);
        fi_u64(&e.f, top + (uint64_t)a->varobject_size, 3);
    }
    fi_u32(&e.f, top + (uint64_t)a->long_digits + 4, 0);
    fi_u32(&e.f, top + (uint64_t)a->long_digits + 8, 1u << 5); /* bit 65 */
    env_open(&e);
    for (int i = 0; i < 8; i++) {
        uint64_t v = 12345;
        SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, objs[i], &v), 0);
        SG_CHECK(v == values[i]);
    }
    uint64_t v;
    SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, neg, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, too_big, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, wrong_type, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, not_digit, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, many, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, top, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, objs[1] + 8, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_ulong(&e.o, 0, &v), -1);
    env_close(&e);
}

/* Lookups in dicts of every kind the version has, with deleted entries. */
static void test_dict(unsigned m)
{
    env e;
    fi_init(&e.f, m);
    enum { N = 40 };
    uint64_t keys[N], vals[N];
    char name[32];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "key%d", i);
        keys[i] = fi_str(&e.f, name);
        vals[i] = fi_long(&e.f, (uint64_t)i * 1000, false);
    }
    keys[7] = 0;  /* deleted (3.11+ clears the key) */
    vals[9] = 0;  /* deleted (3.9/3.10 leave a dummy key without a value) */
    uint64_t general = fi_dict(&e.f, keys, vals, N, FI_GENERAL);
    uint64_t unicode = fi_dict(&e.f, keys, vals, N, FI_UNICODE);
    uint64_t split = fi_dict(&e.f, keys, vals, N, FI_SPLIT);
    uint64_t empty = fi_dict(&e.f, keys, vals, 0, FI_GENERAL);
    /* corrupt ones */
    uint64_t wild_keys = fi_dict(&e.f, keys, vals, 3, FI_GENERAL);
    fi_u64(&e.f, wild_keys + (uint64_t)e.f.a->dict_keys, 0x7fff00000000ULL);
    uint64_t odd_keys = fi_dict(&e.f, keys, vals, 3, FI_GENERAL);
    fi_u64(&e.f, odd_keys + (uint64_t)e.f.a->dict_keys,
           fi_get64(&e.f, odd_keys + (uint64_t)e.f.a->dict_keys) + 3);
    uint64_t many = fi_dict(&e.f, keys, vals, 3, FI_GENERAL);
    uint64_t many_keys = fi_get64(&e.f, many + (uint64_t)e.f.a->dict_keys);
    fi_u64(&e.f, many_keys + (uint64_t)e.f.a->keys_nentries, 1ULL << 40);
    uint64_t huge = fi_dict(&e.f, keys, vals, 3, FI_GENERAL);
    uint64_t huge_keys = fi_get64(&e.f, huge + (uint64_t)e.f.a->dict_keys);
    if (e.f.a->keys_model == SG_KEYS_LOG2)
        fi_u8(&e.f, huge_keys + (uint64_t)e.f.a->keys_size, 60);
    else
        fi_u64(&e.f, huge_keys + (uint64_t)e.f.a->keys_size, 1ULL << 60);
    uint64_t not_dict = fi_dict(&e.f, keys, vals, 3, FI_GENERAL);
    fi_u64(&e.f, not_dict + (uint64_t)e.f.a->object_type, e.f.long_type);
    uint64_t self_keys = fi_dict(&e.f, keys, vals, 3, FI_GENERAL); /* keys = the dict */
    fi_u64(&e.f, self_keys + (uint64_t)e.f.a->dict_keys, self_keys);
    env_open(&e);

    uint64_t dicts[3] = {general, unicode, split};
    for (int k = 0; k < 3; k++) {
        sg_pydict d;
        SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, dicts[k], &d), 0);
        SG_CHECK_EQ_INT(d.nentries, N);
        SG_CHECK((d.values != 0) == (k == 2));
        uint64_t v = 0, n;
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key0", NULL, &v), 1);
        SG_CHECK(v == vals[0]);
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key39", NULL, &v), 1);
        SG_CHECK(sg_pyobj_ulong(&e.o, v, &n) == 0 && n == 39000);
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key7", NULL, &v), 0);
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key9", NULL, &v), 0);
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key", NULL, &v), 0);
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key399", NULL, &v), 0);
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "nothing", NULL, &v), 0);
        /* A hint finds it again with a handful of reads instead of a scan. */
        sg_pyhint hint = {0};
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key33", &hint, &v), 1);
        SG_CHECK(hint.at[0].keys == d.keys && hint.at[0].index == 33);
        uint64_t before = e.r->nreads;
        v = 0;
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key33", &hint, &v), 1);
        SG_CHECK(v == vals[33]);
        SG_CHECK(e.r->nreads - before <= 3);
        /* A hint for another key, or a stale index, still finds the right entry. */
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key34", &hint, &v), 1);
        SG_CHECK(v == vals[34] && hint.at[1].index == 34);
        hint.at[0].index = 1000;
        hint.at[1].index = -5;
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key33", &hint, &v), 1);
        SG_CHECK(v == vals[33] && hint.at[0].index == 33);
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key34", &hint, &v), 1);
        SG_CHECK(v == vals[34]);
        /* A new session checks the key's str again, then goes by pointer. */
        sg_pyobj_new_session(&e.o);
        before = e.r->nreads;
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key33", &hint, &v), 1);
        SG_CHECK(v == vals[33]);
        SG_CHECK(e.r->nreads - before == (d.values ? 3u : 2u));
        before = e.r->nreads;
        SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key33", &hint, &v), 1);
        SG_CHECK(v == vals[33] && e.r->nreads - before == 1);
        /* items: every live entry, in order, bounded by max */
        sg_pyitem items[N];
        SG_CHECK_EQ_INT(sg_pyobj_items(&e.o, &d, items, N), N - 2);
        SG_CHECK(items[0].key == keys[0] && items[N - 3].value == vals[N - 1]);
        SG_CHECK_EQ_INT(sg_pyobj_items(&e.o, &d, items, 5), 5);
        SG_CHECK_EQ_INT(sg_pyobj_items(&e.o, &d, items, 0), 0);
    }
    sg_pydict d;
    uint64_t v;
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, empty, &d), 0);
    SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key0", NULL, &v), 0);
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, wild_keys, &d), -1);
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, odd_keys, &d), -1);
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, many, &d), -1);
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, huge, &d), -1);
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, not_dict, &d), -1);
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, self_keys, &d), -1);
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, 0, &d), -1);
    /* A long key is refused, not truncated. */
    SG_CHECK_EQ_INT(sg_pyobj_dict(&e.o, general, &d), 0);
    char longkey[100];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, longkey, NULL, &v), -1);
    /* The budget bounds a scan: with too little, the lookup fails instead. */
    e.o.budget = 3;
    SG_CHECK_EQ_INT(sg_pyobj_get(&e.o, &d, "key39", NULL, &v), -1);
    env_close(&e);
}

/* Instance attributes where the version keeps them: values with the class's shared
 * keys, or a dict; a module's dict. */
static void test_getattr(unsigned m)
{
    env e;
    fi_init(&e.f, m);
    const char *attr[] = {"_target", "_name", "_args", "_daemonic"};
    uint64_t names[4], vals[4];
    for (int i = 0; i < 4; i++) {
        names[i] = fi_str(&e.f, attr[i]);
        vals[i] = fi_long(&e.f, (uint64_t)i + 100, false);
    }
    vals[1] = fi_str(&e.f, "worker-1");
    uint64_t shared = fi_keys(&e.f, names, NULL, 4, FI_SPLIT);
    uint64_t cls = fi_class(&e.f, shared);
    uint64_t with_values = fi_instance(&e.f, cls, shared, names, vals, 4, false);
    uint64_t with_dict = fi_instance(&e.f, cls, shared, names, vals, 4, true);
    uint64_t unset_vals[4] = {vals[0], 0, vals[2], vals[3]};
    uint64_t unset = fi_instance(&e.f, cls, shared, names, unset_vals, 4, false);
    uint64_t no_dict = fi_instance(&e.f, cls, shared, names, vals, 4, true);
    uint64_t plain_cls = fi_class(&e.f, shared); /* a class without instance dicts */
    fi_u64(&e.f, plain_cls + (uint64_t)e.f.a->type_flags, (uint64_t)e.f.a->tpflags_heaptype);
    fi_u64(&e.f, plain_cls + (uint64_t)e.f.a->type_dictoffset, 0);
    uint64_t plain = fi_instance(&e.f, plain_cls, shared, names, vals, 4, false);
    uint64_t wild_type = fi_instance(&e.f, cls, shared, names, vals, 4, false);
    fi_u64(&e.f, wild_type + (uint64_t)e.f.a->object_type, 0x7fff00001000ULL);
    uint64_t mdict = fi_dict(&e.f, names, vals, 4, FI_UNICODE);
    uint64_t module = fi_module(&e.f, mdict);
    env_open(&e);
    /* no_dict: the managed dict pointer (or 3.9/3.10 __dict__ slot) cleared */
    uint64_t slot = e.f.a->idict_model == SG_IDICT_OFFSET
                        ? no_dict + 16
                        : no_dict - (uint64_t)e.f.a->managed_dict_before;
    uint64_t zero = 0;
    SG_CHECK_EQ_INT(sg_reader_fake_write(e.r, slot, &zero, 8), 0);

    char out[64];
    size_t len;
    uint64_t v = 0;
    sg_pyhint hint = {0};
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, with_values, "_name", &hint, &v), 1);
    SG_CHECK(sg_pyobj_str(&e.o, v, 64, out, sizeof out, &len) == 0 &&
             strcmp(out, "worker-1") == 0);
    SG_CHECK_EQ_INT(hint.at[0].index, 1);
    v = 0;
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, with_values, "_daemonic", &hint, &v), 1);
    SG_CHECK(v == vals[3]);
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, with_dict, "_name", &hint, &v), 1);
    SG_CHECK(v == vals[1]);
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, with_values, "_missing", NULL, &v), 0);
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, unset, "_name", &hint, &v), 0);
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, no_dict, "_name", NULL, &v), 0);
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, plain, "_name", NULL, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, wild_type, "_name", NULL, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, 0, "_name", NULL, &v), -1);
    SG_CHECK_EQ_INT(sg_pyobj_getattr(&e.o, names[0], "_name", NULL, &v), -1); /* a str */
    uint64_t md = 0;
    SG_CHECK(sg_pyobj_module_dict(&e.o, module, &md) == 0 && md == mdict);
    SG_CHECK_EQ_INT(sg_pyobj_module_dict(&e.o, mdict, &md), -1); /* not a module */
    env_close(&e);
}

/* Random damage to every object of an image: reads fail or give other values, but
 * never crash, never read outside the budget, and always end. */
static void test_random_damage(unsigned m)
{
    fimg f;
    fi_init(&f, m);
    const char *attr[] = {"_name", "_ident"};
    uint64_t names[2] = {fi_str(&f, attr[0]), fi_str(&f, attr[1])};
    uint64_t vals[2] = {fi_str(&f, "Ünïcödé thread"), fi_long(&f, 140000000000ULL, false)};
    uint64_t shared = fi_keys(&f, names, NULL, 2, FI_SPLIT);
    uint64_t cls = fi_class(&f, shared);
    uint64_t objs[6] = {fi_instance(&f, cls, shared, names, vals, 2, false),
                        fi_instance(&f, cls, shared, names, vals, 2, true),
                        fi_dict(&f, names, vals, 2, FI_GENERAL),
                        fi_dict(&f, names, vals, 2, FI_SPLIT), vals[0], vals[1]};
    size_t used = f.used;
    unsigned char *pristine = malloc(used);
    memcpy(pristine, f.mem, used);
    uint64_t rng = 0x2545f4914f6cdd1dULL ^ m;
    int intact = 0;
    for (int iter = 0; iter < 2000; iter++) {
        memcpy(f.mem, pristine, used);
        for (int k = 0; k < 4; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            size_t at = 64 + (size_t)(rng % (used - 72)) / 8 * 8;
            uint64_t v;
            switch ((rng >> 40) % 4) {
            case 0: v = rng; break;                                   /* garbage */
            case 1: v = FI_BASE + (rng >> 20) % used; break;         /* into the image */
            case 2: v = objs[(rng >> 24) % 6]; break;                /* another object */
            default: v = (uint64_t)1 << ((rng >> 30) % 64); break;   /* a big size */
            }
            memcpy(f.mem + at, &v, 8);
        }
        sg_target t;
        fi_target(&f, &t, 1, 0);
        sg_reader *r = fi_reader(&f);
        sg_pyobj o;
        sg_pyobj_init(&o, r, &t, 500);
        char out[4 * 64 + 1];
        size_t len;
        uint64_t v, u;
        for (int i = 0; i < 6; i++) {
            sg_pyhint hint = {0};
            if (sg_pyobj_getattr(&o, objs[i], "_name", &hint, &v) == 1 &&
                sg_pyobj_str(&o, v, 64, out, sizeof out, &len) == 0)
                intact += i == 0 && strcmp(out, "Ünïcödé thread") == 0;
            (void)sg_pyobj_ulong(&o, objs[i], &u);
            (void)sg_pyobj_str(&o, objs[i], 64, out, sizeof out, &len);
            sg_pydict d;
            sg_pyitem items[8];
            if (sg_pyobj_dict(&o, objs[i], &d) == 0) {
                (void)sg_pyobj_items(&o, &d, items, 8);
                (void)sg_pyobj_get(&o, &d, "_ident", &hint, &v);
            }
        }
        SG_CHECK(r->nreads <= 500);
        sg_reader_free(r);
    }
    /* damage that misses an object leaves it readable: both outcomes were exercised */
    SG_CHECK(intact > 100 && intact < 2000);
    free(pristine);
    fi_free(&f);
}

int main(void)
{
    for (unsigned m = 9; m <= 13; m++) {
        if (!sg_pyabi_for(3, m))
            continue;
        fprintf(stderr, "  Python 3.%u layout\n", m);
        SG_RUN_1(test_str, m);
        SG_RUN_1(test_ulong, m);
        SG_RUN_1(test_dict, m);
        SG_RUN_1(test_getattr, m);
        SG_RUN_1(test_random_damage, m);
    }
    SG_TEST_MAIN_END();
}
