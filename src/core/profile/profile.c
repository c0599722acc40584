/* The profile model: interned strings, deduplicated functions/locations/processes/
 * tracks, the stack trie and the aggregated records.
 *
 * Shaped by the sampler's hot path: per thread and per sample (up to 10 kHz) it calls
 * sg_profile_child once per frame (~50) and sg_profile_add once. Both are one hash
 * probe and no allocation once the stack has been seen, so memory and time grow with
 * distinct stacks, not with run length.
 *
 * Keys that fit in 64 bits exactly ((parent, location) for the trie, (function, line)
 * for locations, pid for processes) go into sg_map as they are, so they cannot collide.
 * The others (strings, functions, tracks, records) are keyed by a 64-bit hash; a hash
 * hit is compared field by field and, on a true collision, the probe moves on to a
 * rehashed key, so two different items never share an id. */
#include <stdlib.h>
#include <string.h>

#include "../base/sg_map.h"
#include "sg_profile.h"
#include "sg_profile_impl.h"

/* Strings live in chunks that never move, so a pointer returned by sg_profile_str
 * stays valid for the profile's life even though the contract only promises "until
 * the next mutation". */
typedef struct sg_strchunk {
    struct sg_strchunk *next;
    size_t used, cap;
    char data[];
} sg_strchunk;

#define SG_STRCHUNK_SIZE (64 * 1024)
#define SG_MAX_PROBES 64 /* collision chains longer than this mean a broken hash */
#define SG_MAX_ITEMS ((size_t)UINT32_MAX - 1)

struct sg_profile {
    bool oom;
    sg_profile_meta meta;

    const char **str;
    size_t *str_len;
    size_t nstr, cap_str;
    sg_strchunk *chunks;
    sg_map str_map;

    sg_function *fn;
    size_t nfn, cap_fn;
    sg_map fn_map;

    sg_location *loc;
    size_t nloc, cap_loc;
    sg_map loc_map;

    sg_node *node;
    size_t nnode, cap_node;
    sg_map node_map;

    sg_process *proc;
    size_t nproc, cap_proc;
    sg_map proc_map;

    sg_track *trk;
    size_t ntrk, cap_trk;
    sg_map trk_map;

    sg_record *rec;
    size_t nrec, cap_rec;
    sg_map rec_map;

    char **attr_key, **attr_val;
    size_t nattr, cap_attr;

    sg_tl_event *tl;
    size_t ntl, cap_tl;
};

/* Makes room for item n (0-based) in a dense array; false when memory runs out or
 * ids would no longer fit in 32 bits. */
static bool vec_room(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    if (n >= SG_MAX_ITEMS)
        return false;
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / size)
        return false;
    void *q = realloc(*items, ncap * size);
    if (!q)
        return false;
    *items = q;
    *cap = ncap;
    return true;
}

static uint64_t next_probe(uint64_t k) { return sg_hash64(k ^ 0x9e3779b97f4a7c15ULL); }

static uint64_t mix3(uint64_t a, uint64_t b, uint64_t c)
{
    return sg_hash64(a ^ sg_hash64(b ^ sg_hash64(c + 0x632be59bd9b4e019ULL)));
}

static uint32_t fail_oom(sg_profile *p)
{
    p->oom = true;
    return SG_NONE;
}

sg_profile *sg_profile_new(void)
{
    sg_profile *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    sg_map_init(&p->str_map);
    sg_map_init(&p->fn_map);
    sg_map_init(&p->loc_map);
    sg_map_init(&p->node_map);
    sg_map_init(&p->proc_map);
    sg_map_init(&p->trk_map);
    sg_map_init(&p->rec_map);
    p->meta.mode = SG_MODE_SAMPLE;
    p->meta.clock = SG_CLOCK_WALL;
    /* The root node and the empty string exist from the start so that ids 0 mean
     * "root" and "" everywhere; one "samples"/"count" column is the sampler's default. */
    static const char *const types[] = {"samples"}, *const units[] = {"count"};
    if (sg_profile_intern(p, "", 0) != 0 || sg_profile_set_value_types(p, 1, types, units) ||
        !vec_room((void **)&p->node, &p->cap_node, 0, sizeof *p->node)) {
        sg_profile_free(p);
        return NULL;
    }
    p->node[0] = (sg_node){.parent = SG_NONE, .location = SG_NONE, .depth = 0};
    p->nnode = 1;
    return p;
}

void sg_profile_free(sg_profile *p)
{
    if (!p)
        return;
    for (sg_strchunk *c = p->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(p->str);
    free(p->str_len);
    free(p->fn);
    free(p->loc);
    free(p->node);
    free(p->proc);
    free(p->trk);
    free(p->rec);
    free(p->tl);
    sg_map_free(&p->str_map);
    sg_map_free(&p->fn_map);
    sg_map_free(&p->loc_map);
    sg_map_free(&p->node_map);
    sg_map_free(&p->proc_map);
    sg_map_free(&p->trk_map);
    sg_map_free(&p->rec_map);
    for (size_t i = 0; i < p->nattr; i++) {
        free(p->attr_key[i]);
        free(p->attr_val[i]);
    }
    free(p->attr_key);
    free(p->attr_val);
    free(p);
}

bool sg_profile_oom(const sg_profile *p) { return p->oom; }

void sg_profile_set_oom(sg_profile *p) { p->oom = true; }

sg_profile_meta *sg_profile_meta_of(sg_profile *p) { return &p->meta; }

const sg_profile_meta *sg_profile_meta_get(const sg_profile *p) { return &p->meta; }

int sg_profile_set_value_types(sg_profile *p, uint32_t n, const char *const *types,
                               const char *const *units)
{
    if (n > SG_MAX_VALUES)
        return -1;
    uint32_t t[SG_MAX_VALUES], u[SG_MAX_VALUES];
    for (uint32_t i = 0; i < n; i++) {
        t[i] = sg_profile_intern(p, types[i], strlen(types[i]));
        u[i] = sg_profile_intern(p, units[i], strlen(units[i]));
        if (t[i] == SG_NONE || u[i] == SG_NONE)
            return -1;
    }
    for (uint32_t i = 0; i < SG_MAX_VALUES; i++) {
        p->meta.value_type[i] = i < n ? t[i] : 0;
        p->meta.value_unit[i] = i < n ? u[i] : 0;
    }
    p->meta.n_values = n;
    return 0;
}

/* ---- attributes: few, ordered by first set, so a plain array ---- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

int sg_profile_set_attr(sg_profile *p, const char *key, const char *value)
{
    char *v = dup_str(value);
    if (!v) {
        p->oom = true;
        return -1;
    }
    for (size_t i = 0; i < p->nattr; i++) {
        if (strcmp(p->attr_key[i], key) == 0) {
            free(p->attr_val[i]);
            p->attr_val[i] = v;
            return 0;
        }
    }
    size_t cap = p->cap_attr;
    char *k = dup_str(key);
    if (!k || !vec_room((void **)&p->attr_key, &cap, p->nattr, sizeof *p->attr_key) ||
        !vec_room((void **)&p->attr_val, &p->cap_attr, p->nattr, sizeof *p->attr_val)) {
        /* attr_key may have grown while attr_val did not: cap_attr stays the smaller */
        free(k);
        free(v);
        p->oom = true;
        return -1;
    }
    p->attr_key[p->nattr] = k;
    p->attr_val[p->nattr] = v;
    p->nattr++;
    return 0;
}

const char *sg_profile_get_attr(const sg_profile *p, const char *key)
{
    for (size_t i = 0; i < p->nattr; i++)
        if (strcmp(p->attr_key[i], key) == 0)
            return p->attr_val[i];
    return NULL;
}

size_t sg_profile_nattrs(const sg_profile *p) { return p->nattr; }

void sg_profile_attr_at(const sg_profile *p, size_t i, const char **key, const char **value)
{
    bool ok = i < p->nattr;
    if (key)
        *key = ok ? p->attr_key[i] : NULL;
    if (value)
        *value = ok ? p->attr_val[i] : NULL;
}

/* ---- strings ---- */

static char *str_store(sg_profile *p, const char *s, size_t len)
{
    sg_strchunk *c = p->chunks;
    if (!c || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > SG_STRCHUNK_SIZE ? len + 1 : SG_STRCHUNK_SIZE;
        if (cap > SIZE_MAX - sizeof *c)
            return NULL;
        sg_strchunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        /* A big string gets its own chunk behind the current one, so the current
         * chunk's free space is not abandoned. */
        if (c && cap > SG_STRCHUNK_SIZE) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            p->chunks = nc;
        }
        c = nc;
    }
    char *d = c->data + c->used;
    if (len)
        memcpy(d, s, len);
    d[len] = '\0';
    c->used += len + 1;
    return d;
}

uint32_t sg_profile_intern(sg_profile *p, const char *s, size_t len)
{
    if (!s && len)
        return SG_NONE;
    uint64_t k = sg_hash_bytes(s, len);
    for (int probe = 0; probe < SG_MAX_PROBES; probe++, k = next_probe(k)) {
        const uint64_t *v = sg_map_get(&p->str_map, k);
        if (!v)
            break;
        if (p->str_len[*v] == len && (len == 0 || memcmp(p->str[*v], s, len) == 0))
            return (uint32_t)*v;
    }
    size_t n = p->nstr, cap = p->cap_str;
    if (!vec_room((void **)&p->str, &cap, n, sizeof *p->str) ||
        !vec_room((void **)&p->str_len, &p->cap_str, n, sizeof *p->str_len))
        return fail_oom(p);
    char *d = str_store(p, s, len);
    if (!d || !sg_map_put(&p->str_map, k, n))
        return fail_oom(p); /* a stored but unindexed string is only wasted bytes */
    p->str[n] = d;
    p->str_len[n] = len;
    p->nstr = n + 1;
    return (uint32_t)n;
}

const char *sg_profile_str(const sg_profile *p, uint32_t id)
{
    return id < p->nstr ? p->str[id] : "";
}

size_t sg_profile_str_len(const sg_profile *p, uint32_t id)
{
    return id < p->nstr ? p->str_len[id] : 0;
}

size_t sg_profile_nstrings(const sg_profile *p) { return p->nstr; }

/* ---- deduplicated tables ---- */

uint32_t sg_profile_function(sg_profile *p, uint32_t name, uint32_t filename, int32_t first_line)
{
    if (name >= p->nstr || filename >= p->nstr)
        return SG_NONE;
    uint64_t k = mix3(name, filename, (uint32_t)first_line);
    for (int probe = 0; probe < SG_MAX_PROBES; probe++, k = next_probe(k)) {
        const uint64_t *v = sg_map_get(&p->fn_map, k);
        if (!v)
            break;
        const sg_function *f = &p->fn[*v];
        if (f->name == name && f->filename == filename && f->first_line == first_line)
            return (uint32_t)*v;
    }
    size_t n = p->nfn;
    if (!vec_room((void **)&p->fn, &p->cap_fn, n, sizeof *p->fn) ||
        !sg_map_put(&p->fn_map, k, n))
        return fail_oom(p);
    p->fn[n] = (sg_function){.name = name, .filename = filename, .first_line = first_line};
    p->nfn = n + 1;
    return (uint32_t)n;
}

uint32_t sg_profile_location(sg_profile *p, uint32_t function, int32_t line)
{
    if (function >= p->nfn)
        return SG_NONE;
    uint64_t k = (uint64_t)function << 32 | (uint32_t)line;
    const uint64_t *v = sg_map_get(&p->loc_map, k);
    if (v)
        return (uint32_t)*v;
    size_t n = p->nloc;
    if (!vec_room((void **)&p->loc, &p->cap_loc, n, sizeof *p->loc) ||
        !sg_map_put(&p->loc_map, k, n))
        return fail_oom(p);
    p->loc[n] = (sg_location){.function = function, .line = line};
    p->nloc = n + 1;
    return (uint32_t)n;
}

uint32_t sg_profile_process(sg_profile *p, uint32_t pid)
{
    const uint64_t *v = sg_map_get(&p->proc_map, pid);
    if (v)
        return (uint32_t)*v;
    size_t n = p->nproc;
    if (!vec_room((void **)&p->proc, &p->cap_proc, n, sizeof *p->proc) ||
        !sg_map_put(&p->proc_map, pid, n))
        return fail_oom(p);
    p->proc[n] = (sg_process){.pid = pid};
    p->nproc = n + 1;
    return (uint32_t)n;
}

/* The slot of (process, tid) in trk_map: *found is its track, or SG_NONE with the
 * probe key where a new one goes (SG_NONE there too when the probes ran out). */
static uint64_t track_probe(const sg_profile *p, uint32_t process, uint64_t tid,
                            uint32_t *found)
{
    uint64_t k = mix3(process, tid, 0);
    for (int probe = 0; probe < SG_MAX_PROBES; probe++, k = next_probe(k)) {
        const uint64_t *v = sg_map_get(&p->trk_map, k);
        if (!v) {
            *found = SG_NONE;
            return k;
        }
        if (p->trk[*v].process == process && p->trk[*v].tid == tid) {
            *found = (uint32_t)*v;
            return k;
        }
    }
    *found = SG_NONE;
    return k;
}

uint32_t sg_profile_track_find(const sg_profile *p, uint32_t process, uint64_t tid)
{
    uint32_t found = SG_NONE;
    if (process < p->nproc)
        track_probe(p, process, tid, &found);
    return found;
}

uint32_t sg_profile_track(sg_profile *p, uint32_t process, uint64_t tid)
{
    if (process >= p->nproc)
        return SG_NONE;
    uint32_t found;
    uint64_t k = track_probe(p, process, tid, &found);
    if (found != SG_NONE)
        return found;
    size_t n = p->ntrk;
    if (!vec_room((void **)&p->trk, &p->cap_trk, n, sizeof *p->trk) ||
        !sg_map_put(&p->trk_map, k, n))
        return fail_oom(p);
    p->trk[n] = (sg_track){.process = process, .tid = tid, .name = 0, .is_main = false};
    p->ntrk = n + 1;
    return (uint32_t)n;
}

uint32_t sg_profile_child(sg_profile *p, uint32_t parent, uint32_t location)
{
    if (parent >= p->nnode || location >= p->nloc)
        return SG_NONE; /* also propagates an earlier SG_NONE down a stack */
    uint64_t k = (uint64_t)parent << 32 | location;
    const uint64_t *v = sg_map_get(&p->node_map, k);
    if (v)
        return (uint32_t)*v;
    size_t n = p->nnode;
    if (!vec_room((void **)&p->node, &p->cap_node, n, sizeof *p->node) ||
        !sg_map_put(&p->node_map, k, n))
        return fail_oom(p);
    p->node[n] = (sg_node){
        .parent = parent, .location = location, .depth = p->node[parent].depth + 1};
    p->nnode = n + 1;
    return (uint32_t)n;
}

int sg_profile_add(sg_profile *p, uint32_t track, uint32_t node, uint32_t flags,
                   const int64_t *values)
{
    if (track >= p->ntrk || node >= p->nnode || !values)
        return -1;
    uint32_t nv = p->meta.n_values;
    uint64_t k = mix3(track, node, flags);
    for (int probe = 0; probe < SG_MAX_PROBES; probe++, k = next_probe(k)) {
        const uint64_t *v = sg_map_get(&p->rec_map, k);
        if (!v)
            break;
        sg_record *r = &p->rec[*v];
        if (r->track == track && r->node == node && r->flags == flags) {
            for (uint32_t i = 0; i < nv; i++)
                r->values[i] += values[i];
            return 0;
        }
    }
    size_t n = p->nrec;
    if (!vec_room((void **)&p->rec, &p->cap_rec, n, sizeof *p->rec) ||
        !sg_map_put(&p->rec_map, k, n)) {
        p->oom = true;
        return -1;
    }
    sg_record *r = &p->rec[n];
    *r = (sg_record){.track = track, .node = node, .flags = flags};
    for (uint32_t i = 0; i < nv; i++)
        r->values[i] = values[i];
    p->nrec = n + 1;
    return 0;
}

uint32_t sg_profile_record_find(const sg_profile *p, uint32_t track, uint32_t node,
                                uint32_t flags)
{
    uint64_t k = mix3(track, node, flags);
    for (int probe = 0; probe < SG_MAX_PROBES; probe++, k = next_probe(k)) {
        const uint64_t *v = sg_map_get(&p->rec_map, k);
        if (!v)
            break;
        const sg_record *r = &p->rec[*v];
        if (r->track == track && r->node == node && r->flags == flags)
            return (uint32_t)*v;
    }
    return SG_NONE;
}

/* ---- timeline ---- */

int sg_profile_timeline_add_record(sg_profile *p, uint32_t rec, int64_t t_ns)
{
    if (rec >= p->nrec)
        return -1;
    /* The timeline is not bounded by SG_MAX_ITEMS like the tables: events are not
     * ids, only counted by size_t. */
    if (p->ntl == p->cap_tl) {
        size_t ncap = p->cap_tl ? p->cap_tl * 2 : 1024;
        if (ncap > SIZE_MAX / sizeof *p->tl) {
            p->oom = true;
            return -1;
        }
        sg_tl_event *q = realloc(p->tl, ncap * sizeof *q);
        if (!q) {
            p->oom = true;
            return -1;
        }
        p->tl = q;
        p->cap_tl = ncap;
    }
    p->tl[p->ntl++] = (sg_tl_event){.t_ns = t_ns, .record = rec, .pad_ = 0};
    return 0;
}

int sg_profile_timeline_add(sg_profile *p, uint32_t track, uint32_t node, uint32_t flags,
                            int64_t t_ns)
{
    uint32_t rec = sg_profile_record_find(p, track, node, flags);
    return rec == SG_NONE ? -1 : sg_profile_timeline_add_record(p, rec, t_ns);
}

size_t sg_profile_timeline_len(const sg_profile *p) { return p->ntl; }
const sg_tl_event *sg_profile_timeline(const sg_profile *p) { return p->tl; }

/* ---- read access ---- */

size_t sg_profile_nfunctions(const sg_profile *p) { return p->nfn; }
const sg_function *sg_profile_functions(const sg_profile *p) { return p->fn; }
size_t sg_profile_nlocations(const sg_profile *p) { return p->nloc; }
const sg_location *sg_profile_locations(const sg_profile *p) { return p->loc; }
size_t sg_profile_nnodes(const sg_profile *p) { return p->nnode; }
const sg_node *sg_profile_nodes(const sg_profile *p) { return p->node; }
size_t sg_profile_nprocesses(const sg_profile *p) { return p->nproc; }
sg_process *sg_profile_processes(sg_profile *p) { return p->proc; }
const sg_process *sg_profile_processes_c(const sg_profile *p) { return p->proc; }
size_t sg_profile_ntracks(const sg_profile *p) { return p->ntrk; }
sg_track *sg_profile_tracks(sg_profile *p) { return p->trk; }
const sg_track *sg_profile_tracks_c(const sg_profile *p) { return p->trk; }
size_t sg_profile_nrecords(const sg_profile *p) { return p->nrec; }
const sg_record *sg_profile_records(const sg_profile *p) { return p->rec; }
