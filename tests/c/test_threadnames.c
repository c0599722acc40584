/* sample/threadnames.c on a fake target built to each version's layout: runtime ->
 * interpreters -> sys.modules -> threading -> _active -> Thread._name. When names are
 * read (first walk, a thread without a name, renames), what they are, that a failed
 * refresh keeps the names known, and that corrupt images (cycles, wild pointers,
 * random damage) fail within the budget without crashing. */
#include <stdio.h>

#include "../../src/core/sample/sg_threadnames.h"
#include "fake_py.h"
#include "sg_test.h"

#define SG_RUN_1(fn, arg)                                                              \
    do {                                                                               \
        int before_ = sg_test_failures;                                                \
        fn(arg);                                                                       \
        fprintf(stderr, "  %s %s\n", sg_test_failures == before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

#define PID 4242
#define MS 1000000LL

enum { T_MAIN, T_WORKER, T_UNICODE, T_LATE, T_SUB, NT };
static const uint64_t IDENT[NT] = {0x7f0000001000ULL, 0x7f0000002000ULL, 0x7f0000003000ULL,
                                   0x7f0000004000ULL, 0x7f0000005000ULL};
static const int64_t TID[NT] = {PID, 4243, 4244, 4245, 4246};
static const char *const NAME[NT] = {"MainThread", "worker-1", "Ünïcödé 名前 🧵", "late",
                                     "in a subinterpreter"};

typedef struct world {
    fimg f;
    uint64_t runtime, interp, interp2;
    uint64_t thread[NT];
    uint64_t name_slot[NT]; /* where each thread's _name value pointer is */
    uint64_t late_key_slot; /* the _active entry of T_LATE, its key cleared at first */
    uint64_t late_key;
} world;

/* Where fi_instance put the value of shared key `index` of obj (values kept with the
 * shared keys, not a dict). */
static uint64_t value_slot(fimg *f, uint64_t obj, size_t index)
{
    const sg_pyabi *a = f->a;
    uint64_t block;
    switch (a->idict_model) {
    case SG_IDICT_OFFSET: {
        uint64_t dict = fi_get64(f, obj + 16);
        return fi_get64(f, dict + (uint64_t)a->dict_values) + 8 * index;
    }
    case SG_IDICT_MANAGED_VALUES:
        return fi_get64(f, obj - (uint64_t)a->managed_values_before) + 8 * index;
    case SG_IDICT_DICT_OR_VALUES:
        return fi_get64(f, obj - (uint64_t)a->managed_dict_before) + 1 + 8 * index;
    default:
        block = obj + 16;
        return block + (uint64_t)a->values_array + 8 * index;
    }
}

/* An interpreter whose threading._active holds the threads first..last-1; `fillers`
 * other modules before threading. */
static uint64_t make_interp(world *w, int first, int last, int fillers, bool with_threading)
{
    fimg *f = &w->f;
    const sg_pyabi *a = f->a;
    /* Thread class with shared keys (_target, _name, _ident) */
    uint64_t attr[3] = {fi_str(f, "_target"), fi_str(f, "_name"), fi_str(f, "_ident")};
    uint64_t shared = fi_keys(f, attr, NULL, 3, FI_SPLIT);
    uint64_t cls = fi_class(f, shared);
    uint64_t keys[8], vals[8];
    int n = 0;
    for (int i = first; i < last; i++) {
        uint64_t v[3] = {0, fi_str(f, NAME[i]), fi_long(f, IDENT[i], false)};
        w->thread[i] = fi_instance(f, cls, shared, attr, v, 3, i == T_UNICODE);
        w->name_slot[i] = i == T_UNICODE ? 0 : value_slot(f, w->thread[i], 1);
        keys[n] = fi_long(f, IDENT[i], false);
        vals[n++] = w->thread[i];
    }
    uint64_t active = fi_dict(f, keys, vals, (size_t)n, FI_GENERAL);
    if (first <= T_LATE && T_LATE < last) {
        uint64_t k = fi_get64(f, active + (uint64_t)a->dict_keys);
        uint64_t entries = k + (uint64_t)a->keys_indices + 8;
        w->late_key_slot = entries + (uint64_t)((T_LATE - first) * a->entry_size + a->entry_key);
        w->late_key = keys[T_LATE - first];
        fi_u64(f, w->late_key_slot, 0); /* not started yet */
    }
    uint64_t tkeys[3] = {fi_str(f, "_limbo"), fi_str(f, "_active"), fi_str(f, "Thread")};
    uint64_t tvals[3] = {fi_dict(f, keys, vals, 0, FI_GENERAL), active, cls};
    uint64_t threading = fi_module(f, fi_dict(f, tkeys, tvals, 3, FI_UNICODE));
    uint64_t mkeys[128], mvals[128];
    int nm = 0;
    char name[32];
    for (; nm < fillers; nm++) {
        snprintf(name, sizeof name, "module_%d", nm);
        mkeys[nm] = fi_str(f, name);
        mvals[nm] = fi_module(f, fi_dict(f, NULL, NULL, 0, FI_UNICODE));
    }
    if (with_threading) {
        mkeys[nm] = fi_str(f, "threading");
        mvals[nm++] = threading;
    }
    uint64_t modules = fi_dict(f, mkeys, mvals, (size_t)nm, FI_UNICODE);
    uint64_t interp = fi_alloc(f, (size_t)(a->interp_modules > a->interp_next ? a->interp_modules
                                                                               : a->interp_next) + 8);
    fi_u64(f, interp + (uint64_t)a->interp_modules, modules);
    return interp;
}

static void make_world(world *w, unsigned m, bool with_threading)
{
    memset(w, 0, sizeof *w);
    fi_init(&w->f, m);
    const sg_pyabi *a = w->f.a;
    w->runtime = fi_alloc(&w->f, (size_t)a->runtime_interpreters_head + 8);
    w->interp = make_interp(w, T_MAIN, T_SUB, 100, with_threading);
    w->interp2 = make_interp(w, T_SUB, NT, 3, true);
    /* newest first: the subinterpreter, then the main one */
    fi_u64(&w->f, w->runtime + (uint64_t)a->runtime_interpreters_head, w->interp2);
    fi_u64(&w->f, w->interp2 + (uint64_t)a->interp_next, w->interp);
}

/* A walk that saw the threads in `which` (a bit per thread). */
static void walk_of(sg_walk_result *res, sg_raw_thread *th, unsigned which)
{
    memset(res, 0, sizeof *res);
    res->threads = th;
    for (int i = 0; i < NT; i++)
        if (which & 1u << i)
            th[res->nthreads++] = (sg_raw_thread){.pthread_id = IDENT[i], .native_tid = TID[i]};
}

static bool name_is(sg_threadnames *n, int64_t tid, const char *want)
{
    const char *got = sg_threadnames_get(n, (uint64_t)tid);
    if (!want)
        return got == NULL;
    if (!got || strcmp(got, want) != 0) {
        fprintf(stderr, "    tid %lld: \"%s\", expected \"%s\"\n", (long long)tid,
                got ? got : "(null)", want);
        return false;
    }
    return true;
}

static void test_names(unsigned m)
{
    world w;
    make_world(&w, m, true);
    sg_target t;
    fi_target(&w.f, &t, PID, w.runtime);
    sg_reader *r = fi_reader(&w.f);
    sg_threadnames *n = sg_threadnames_new(r, &t);
    sg_walk_result res;
    sg_raw_thread th[NT];
    uint64_t refreshes, reads;
    const unsigned all_but_late = 1u << T_MAIN | 1u << T_WORKER | 1u << T_UNICODE | 1u << T_SUB;
    int64_t now = 5000 * MS;

    /* The first walk reads the names at once (a one-tick dump shows them). */
    walk_of(&res, th, all_but_late | 1u << T_LATE);
    SG_CHECK(sg_threadnames_update(n, &res, now));
    SG_CHECK(name_is(n, TID[T_WORKER], NAME[T_WORKER]));
    SG_CHECK(name_is(n, TID[T_UNICODE], NAME[T_UNICODE]));
    SG_CHECK(name_is(n, TID[T_MAIN], "MainThread"));
    SG_CHECK(name_is(n, TID[T_SUB], NAME[T_SUB]));
    SG_CHECK(name_is(n, TID[T_LATE], NULL)); /* not in _active yet */
    SG_CHECK(name_is(n, 999, NULL));
    sg_threadnames_stats(n, &refreshes, &reads);
    SG_CHECK_EQ_INT(refreshes, 1);
    uint64_t first_reads = reads;

    /* Not again within 200 ms, even with a thread unnamed. */
    SG_CHECK(!sg_threadnames_update(n, &res, now + 150 * MS));
    sg_threadnames_stats(n, &refreshes, &reads);
    SG_CHECK_EQ_INT(refreshes, 1);
    /* The late thread registers; the next refresh (due: a thread has no name) finds
     * it, with far fewer reads than the first one thanks to the hints. */
    SG_CHECK_EQ_INT(sg_reader_fake_write(r, w.late_key_slot, &w.late_key, 8), 0);
    SG_CHECK(sg_threadnames_update(n, &res, now + 250 * MS));
    SG_CHECK(name_is(n, TID[T_LATE], "late"));
    sg_threadnames_stats(n, &refreshes, &reads);
    SG_CHECK_EQ_INT(refreshes, 2);
    SG_CHECK(reads - first_reads < first_reads / 2);
    now += 250 * MS;

    /* Everything named: no refresh for a second; then one, which sees a rename. */
    /* thread.name = ...: the worker's _name now points at another str (the late
     * thread's, one that exists in the image) */
    uint64_t renamed = fi_get64(&w.f, w.name_slot[T_LATE]);
    SG_CHECK_EQ_INT(sg_reader_fake_write(r, w.name_slot[T_WORKER], &renamed, 8), 0);
    SG_CHECK(!sg_threadnames_update(n, &res, now + 500 * MS));
    SG_CHECK(name_is(n, TID[T_WORKER], NAME[T_WORKER]));
    SG_CHECK(sg_threadnames_update(n, &res, now + 1100 * MS));
    SG_CHECK(name_is(n, TID[T_WORKER], "late"));
    now += 1100 * MS;
    /* Nothing changed: a refresh that reports no change. */
    SG_CHECK(!sg_threadnames_update(n, &res, now + 1100 * MS));
    now += 1100 * MS;

    /* glibc reuses a pthread id for a new thread (another TID): due at 200 ms. */
    walk_of(&res, th, all_but_late);
    th[1].native_tid = 5555; /* T_WORKER's ident, new TID */
    SG_CHECK(sg_threadnames_update(n, &res, now + 250 * MS));
    SG_CHECK(name_is(n, 5555, "late"));
    now += 250 * MS;

    /* A refresh that fails keeps the names known. */
    uint64_t wild = 0x7fff00000000ULL;
    SG_CHECK_EQ_INT(sg_reader_fake_write(r, w.interp + (uint64_t)w.f.a->interp_modules, &wild, 8),
                    0);
    SG_CHECK(!sg_threadnames_update(n, &res, now + 1100 * MS));
    SG_CHECK(name_is(n, 5555, "late"));
    SG_CHECK(name_is(n, TID[T_UNICODE], NAME[T_UNICODE]));
    sg_threadnames_stats(n, &refreshes, &reads);
    SG_CHECK(refreshes >= 6);

    sg_threadnames_free(n);
    sg_reader_free(r);
    fi_free(&w.f);
}

/* No threading module (a program that never imported it): no names, no failure. */
static void test_no_threading(unsigned m)
{
    world w;
    make_world(&w, m, false);
    /* only the main interpreter */
    fi_u64(&w.f, w.runtime + (uint64_t)w.f.a->runtime_interpreters_head, w.interp);
    sg_target t;
    fi_target(&w.f, &t, PID, w.runtime);
    sg_reader *r = fi_reader(&w.f);
    sg_threadnames *n = sg_threadnames_new(r, &t);
    sg_walk_result res;
    sg_raw_thread th[NT];
    walk_of(&res, th, 1u << T_MAIN | 1u << T_WORKER);
    SG_CHECK(!sg_threadnames_update(n, &res, 1));
    SG_CHECK(name_is(n, TID[T_WORKER], NULL));
    sg_threadnames_free(n);
    sg_reader_free(r);
    fi_free(&w.f);
}

/* Interpreter lists that loop, and an empty runtime. */
static void test_cycles(unsigned m)
{
    world w;
    make_world(&w, m, true);
    const sg_pyabi *a = w.f.a;
    sg_target t;
    fi_target(&w.f, &t, PID, w.runtime);
    sg_reader *r = fi_reader(&w.f);
    sg_walk_result res;
    sg_raw_thread th[NT];
    walk_of(&res, th, 1u << T_WORKER);
    uint64_t loops[3][2] = {
        {w.interp, w.interp},  /* interp -> itself */
        {w.interp, w.interp2}, /* main -> sub -> main */
        {w.interp, 0x10},      /* into the null page */
    };
    for (int i = 0; i < 3; i++) {
        sg_reader_fake_write(r, loops[i][0] + (uint64_t)a->interp_next, &loops[i][1], 8);
        sg_threadnames *n = sg_threadnames_new(r, &t);
        SG_CHECK(!sg_threadnames_update(n, &res, 1));
        SG_CHECK(name_is(n, TID[T_WORKER], NULL));
        uint64_t refreshes, reads;
        sg_threadnames_stats(n, &refreshes, &reads);
        SG_CHECK(reads <= SG_THREADNAMES_BUDGET);
        sg_threadnames_free(n);
    }
    uint64_t zero = 0;
    sg_reader_fake_write(r, w.runtime + (uint64_t)a->runtime_interpreters_head, &zero, 8);
    sg_threadnames *n = sg_threadnames_new(r, &t);
    SG_CHECK(!sg_threadnames_update(n, &res, 1));
    sg_threadnames_free(n);
    sg_reader_free(r);
    fi_free(&w.f);
}

/* Random damage anywhere in the image: each refresh ends, within its budget. */
static void test_random_damage(unsigned m)
{
    world w;
    make_world(&w, m, true);
    size_t used = w.f.used;
    unsigned char *pristine = malloc(used);
    memcpy(pristine, w.f.mem, used);
    uint64_t rng = 0x9e3779b97f4a7c15ULL ^ m;
    int named = 0;
    for (int iter = 0; iter < 1500; iter++) {
        memcpy(w.f.mem, pristine, used);
        for (int k = 0; k < 3; k++) {
            rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
            size_t at = 64 + (size_t)(rng % (used - 72)) / 8 * 8;
            uint64_t v;
            switch ((rng >> 40) % 4) {
            case 0: v = rng; break;
            case 1: v = FI_BASE + (rng >> 20) % used / 8 * 8; break;
            case 2: v = w.interp; break;
            default: v = (uint64_t)1 << ((rng >> 30) % 64); break;
            }
            memcpy(w.f.mem + at, &v, 8);
        }
        sg_target t;
        fi_target(&w.f, &t, PID, w.runtime);
        sg_reader *r = fi_reader(&w.f);
        sg_threadnames *n = sg_threadnames_new(r, &t);
        sg_walk_result res;
        sg_raw_thread th[NT];
        walk_of(&res, th, 1u << T_MAIN | 1u << T_WORKER | 1u << T_UNICODE);
        sg_threadnames_update(n, &res, 1);
        named += sg_threadnames_get(n, (uint64_t)TID[T_WORKER]) != NULL;
        uint64_t refreshes, reads;
        sg_threadnames_stats(n, &refreshes, &reads);
        SG_CHECK(reads <= SG_THREADNAMES_BUDGET);
        sg_threadnames_free(n);
        sg_reader_free(r);
    }
    SG_CHECK(named > 0); /* damage that misses the path leaves the names readable */
    free(pristine);
    fi_free(&w.f);
}

int main(void)
{
    for (unsigned m = 9; m <= 13; m++) {
        if (!sg_pyabi_for(3, m))
            continue;
        fprintf(stderr, "  Python 3.%u layout\n", m);
        SG_RUN_1(test_names, m);
        SG_RUN_1(test_no_threading, m);
        SG_RUN_1(test_cycles, m);
        SG_RUN_1(test_random_damage, m);
    }
    SG_TEST_MAIN_END();
}
