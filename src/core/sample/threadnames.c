/* The thread-name cache: interpreters -> sys.modules["threading"] -> _active ->
 * Thread._name, read through walk/pyobj.c. Two generations of names: a refresh builds
 * the next one from scratch for the threads of the current walk, compares it with
 * the current one and swaps, so a failed refresh never loses the names known. */
#include <stdlib.h>
#include <string.h>

#include "../base/sg_buf.h"
#include "../base/sg_grow.h"
#include "../base/sg_map.h"
#include "../walk/sg_pyobj.h"
#include "sg_threadnames.h"

#define NAME_MAX_CHARS 1024

typedef struct named {
    uint64_t pthread_id;
    uint64_t tid;
    size_t name; /* offset into the generation's text */
} named;

typedef struct generation {
    named *items;
    size_t n, cap;
    sg_buf text;
    sg_map by_tid;     /* tid -> index */
    sg_map by_pthread; /* pthread id -> index */
} generation;

struct sg_threadnames {
    sg_reader *r;
    const sg_target *t;
    sg_pyobj obj;
    generation gen[2];
    int cur;
    bool refreshed;
    int64_t last;
    /* scratch of a refresh: what _active holds */
    struct found {
        uint64_t ident;
        size_t name; /* offset into found_text */
    } *found;
    size_t nfound, found_cap;
    sg_buf found_text;
    sg_map by_ident;
    /* Per interpreter (by position in the list), where the keys were last found:
     * sys.modules["threading"], its "_active", and a Thread's "_name" (shared keys:
     * the same place for every thread of a class). */
    struct hints {
        sg_pyhint module, active, name;
    } hints[SG_MAX_INTERPRETERS];
    uint64_t refreshes, reads;
};

static void generation_free(generation *g)
{
    free(g->items);
    sg_buf_free(&g->text);
    sg_map_free(&g->by_tid);
    sg_map_free(&g->by_pthread);
}

static void generation_clear(generation *g)
{
    g->n = 0;
    sg_buf_reset(&g->text);
    g->text.failed = false;
    sg_map_clear(&g->by_tid);
    sg_map_clear(&g->by_pthread);
}

sg_threadnames *sg_threadnames_new(sg_reader *r, const sg_target *t)
{
    sg_threadnames *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->r = r;
    n->t = t;
    sg_pyobj_init(&n->obj, r, t, 0);
    for (int i = 0; i < 2; i++) {
        sg_buf_init(&n->gen[i].text);
        sg_map_init(&n->gen[i].by_tid);
        sg_map_init(&n->gen[i].by_pthread);
    }
    sg_buf_init(&n->found_text);
    sg_map_init(&n->by_ident);
    return n;
}

void sg_threadnames_free(sg_threadnames *n)
{
    if (!n)
        return;
    generation_free(&n->gen[0]);
    generation_free(&n->gen[1]);
    free(n->found);
    sg_buf_free(&n->found_text);
    sg_map_free(&n->by_ident);
    free(n);
}

/* The key the sampler gives a thread's track (sampler.c, add_thread); 0 for a thread
 * exiting or not started yet, which gets no samples. */
static uint64_t tid_of(const sg_raw_thread *th)
{
    if (th->native_tid == 0)
        return 0;
    return th->native_tid > 0 ? (uint64_t)th->native_tid : th->pthread_id;
}

/* ---- reading _active ---- */

static int add_found(sg_threadnames *n, uint64_t ident, const char *name, size_t len)
{
    if (!sg_grow((void **)&n->found, &n->found_cap, n->nfound + 1, sizeof *n->found, 16))
        return -1;
    n->found[n->nfound++] = (struct found){ident, n->found_text.len};
    sg_buf_append(&n->found_text, name, len + 1);
    return sg_buf_failed(&n->found_text) ? -1 : 0;
}

/* The threads of one interpreter's threading._active. 0 also when threading is not
 * imported there; -1 when something on the way could not be read. */
static int read_active(sg_threadnames *n, uint64_t modules, struct hints *h)
{
    sg_pyobj *o = &n->obj;
    sg_pydict d;
    uint64_t module, mdict, active;
    if (!modules)
        return 0; /* an interpreter still starting or already finalised */
    if (sg_pyobj_dict(o, modules, &d) != 0)
        return -1;
    int r = sg_pyobj_get(o, &d, "threading", &h->module, &module);
    if (r <= 0)
        return r;
    if (sg_pyobj_module_dict(o, module, &mdict) != 0 || sg_pyobj_dict(o, mdict, &d) != 0)
        return -1;
    r = sg_pyobj_get(o, &d, "_active", &h->active, &active);
    if (r <= 0)
        return r;
    if (sg_pyobj_dict(o, active, &d) != 0)
        return -1;
    sg_pyitem items[SG_THREADNAMES_MAX];
    size_t room = SG_THREADNAMES_MAX - n->nfound;
    long count = sg_pyobj_items(o, &d, items, room);
    if (count < 0)
        return -1;
    char name[NAME_MAX_CHARS * 4 + 1];
    for (long i = 0; i < count; i++) {
        uint64_t ident, str;
        size_t len;
        /* One thread that cannot be read (exiting, torn) leaves only itself unnamed. */
        if (sg_pyobj_ulong(o, items[i].key, &ident) != 0 ||
            sg_pyobj_getattr(o, items[i].value, "_name", &h->name, &str) != 1 ||
            sg_pyobj_str(o, str, NAME_MAX_CHARS, name, sizeof name, &len) != 0)
            continue;
        if (add_found(n, ident, name, len) != 0)
            return -1;
    }
    return 0;
}

/* One pointer, charged to the refresh's budget like the object reads. */
static int read_ptr(sg_threadnames *n, uint64_t addr, uint64_t *out)
{
    sg_error err;
    if (n->obj.budget == 0)
        return -1;
    n->obj.budget--;
    return sg_read(n->r, addr, out, sizeof *out, &err);
}

/* Every interpreter's named threads into the found list. -1 when the interpreter list
 * or one interpreter's threading state could not be read. */
static int read_all(sg_threadnames *n)
{
    const sg_pyabi *a = &n->t->abi;
    n->nfound = 0;
    sg_buf_reset(&n->found_text);
    n->found_text.failed = false;
    if (a->interp_modules < 0 || a->interp_next < 0)
        return -1;
    uint64_t interp;
    if (read_ptr(n, n->t->runtime_addr + (uint64_t)a->runtime_interpreters_head, &interp) != 0)
        return -1;
    for (size_t k = 0; interp; k++) {
        uint64_t modules, next;
        if (k >= SG_MAX_INTERPRETERS || (interp & 7) ||
            read_ptr(n, interp + (uint64_t)a->interp_modules, &modules) != 0 ||
            read_ptr(n, interp + (uint64_t)a->interp_next, &next) != 0 ||
            next == interp)
            return -1;
        if (read_active(n, modules, &n->hints[k]) != 0)
            return -1;
        interp = next;
    }
    return 0;
}

/* ---- the cache ---- */

static const char *name_at(const generation *g, size_t i) { return g->text.data + g->items[i].name; }

/* Builds the next generation for the threads of res from the found list. */
static int build(sg_threadnames *n, generation *g, const sg_walk_result *res)
{
    generation_clear(g);
    sg_map_clear(&n->by_ident);
    for (size_t i = 0; i < n->nfound; i++)
        if (!sg_map_put(&n->by_ident, n->found[i].ident, i))
            return -1;
    for (size_t i = 0; i < res->nthreads; i++) {
        const sg_raw_thread *th = &res->threads[i];
        uint64_t tid = tid_of(th);
        uint64_t *f = sg_map_get(&n->by_ident, th->pthread_id);
        if (!tid || !f || sg_map_get(&g->by_tid, tid))
            continue;
        const char *name = n->found_text.data + n->found[*f].name;
        if (!sg_grow((void **)&g->items, &g->cap, g->n + 1, sizeof *g->items, 16))
            return -1;
        g->items[g->n] = (named){th->pthread_id, tid, g->text.len};
        sg_buf_append(&g->text, name, strlen(name) + 1);
        if (sg_buf_failed(&g->text) || !sg_map_put(&g->by_tid, tid, g->n) ||
            !sg_map_put(&g->by_pthread, th->pthread_id, g->n))
            return -1;
        g->n++;
    }
    return 0;
}

/* True when the walk shows a thread (other than the main one, which keeps its own
 * name) that the current generation has no name for, or a pthread id now used by
 * another thread (glibc reuses them). */
static bool has_unknown(const sg_threadnames *n, const sg_walk_result *res)
{
    const generation *g = &n->gen[n->cur];
    for (size_t i = 0; i < res->nthreads; i++) {
        const sg_raw_thread *th = &res->threads[i];
        uint64_t tid = tid_of(th);
        if (!tid || tid == (uint64_t)n->t->pid)
            continue;
        const uint64_t *k = sg_map_get(&g->by_pthread, th->pthread_id);
        if (!k || g->items[*k].tid != tid)
            return true;
    }
    return false;
}

bool sg_threadnames_update(sg_threadnames *n, const sg_walk_result *res, int64_t now_ns)
{
    if (n->refreshed) {
        int64_t since = now_ns - n->last;
        if (since < SG_THREADNAMES_SOON_NS)
            return false;
        if (since < SG_THREADNAMES_EVERY_NS && !has_unknown(n, res))
            return false;
    }
    n->refreshed = true;
    n->last = now_ns;
    n->refreshes++;
    n->obj.budget = SG_THREADNAMES_BUDGET;
    sg_pyobj_new_session(&n->obj);
    int rc = read_all(n);
    n->reads += SG_THREADNAMES_BUDGET - n->obj.budget;
    generation *next = &n->gen[!n->cur];
    if (rc != 0 || build(n, next, res) != 0)
        return false; /* the current names stand */
    const generation *cur = &n->gen[n->cur];
    bool changed = false;
    for (size_t i = 0; i < next->n && !changed; i++) {
        const uint64_t *k = sg_map_get(&cur->by_tid, next->items[i].tid);
        changed = !k || strcmp(name_at(cur, *k), name_at(next, i)) != 0;
    }
    n->cur = !n->cur;
    return changed;
}

const char *sg_threadnames_get(const sg_threadnames *n, uint64_t tid)
{
    const generation *g = &n->gen[n->cur];
    const uint64_t *k = sg_map_get(&g->by_tid, tid);
    return k ? name_at(g, *k) : NULL;
}

void sg_threadnames_stats(const sg_threadnames *n, uint64_t *refreshes, uint64_t *reads)
{
    *refreshes = n->refreshes;
    *reads = n->reads;
}
