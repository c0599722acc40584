/* The collapsed ("folded") stack format of flamegraph.pl, inferno and speedscope:
 * one line per distinct stack, frames root first joined by ';', then a space and the
 * count. Frames read "qualname (path:line)"; with per_thread a "thread NAME (TID)"
 * frame comes first, and a "process PID" frame before it when several processes were
 * profiled. Lines are aggregated (two trie nodes can print the same text) and sorted
 * bytewise, as flamegraph.pl expects and so that output is deterministic.
 *
 * A ';' inside a name would split a frame and a newline would split a line, so names
 * are escaped as in the text reports (a newline becomes \x0a) and ';' becomes ':'. The
 * count is parsed after the last space, so spaces in names are harmless.
 *
 * Records differ by thread state too, so many share one line: values are summed per
 * (prefix, trie node) first and each frame's text is made once per location, so the
 * work is that of the output, not of every record's stack. */
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

typedef struct folded {
    size_t off, len; /* the stack text in the arena */
    int64_t count;
} folded;

typedef struct folder {
    sg_buf arena;
    folded *items;
    size_t n, cap;
    sg_map index; /* hash of the text -> item */
} folder;

/* Escaped like the text reports (no terminal controls, valid UTF-8), then ';' made ':'
 * so a name cannot split a frame. */
static void put_clean(sg_buf *b, const char *s, size_t len)
{
    size_t start = b->len;
    sg_wc_escape(b, s, len);
    for (size_t i = start; i < b->len && b->data; i++)
        if (b->data[i] == ';')
            b->data[i] = ':';
}

static void put_frame_text(sg_buf *b, const sg_profile *p, uint32_t loc)
{
    const sg_location *l = &sg_profile_locations(p)[loc];
    const sg_function *f = &sg_profile_functions(p)[l->function];
    const char *name = sg_wc_func_name(p, l->function);
    put_clean(b, name, strlen(name));
    sg_buf_puts(b, " (");
    put_clean(b, sg_profile_str(p, f->filename), sg_profile_str_len(p, f->filename));
    sg_buf_printf(b, ":%d)", (int)l->line);
}

/* Every location's frame text, made once: text of location l is
 * frames.data[off[l] .. off[l + 1]). */
typedef struct frame_texts {
    sg_buf text;
    size_t *off;
} frame_texts;

static int frame_texts_init(frame_texts *ft, const sg_profile *p)
{
    size_t nl = sg_profile_nlocations(p);
    sg_buf_init(&ft->text);
    ft->off = malloc((nl + 1) * sizeof *ft->off);
    if (!ft->off)
        return -1;
    for (size_t l = 0; l < nl; l++) {
        ft->off[l] = ft->text.len;
        put_frame_text(&ft->text, p, (uint32_t)l);
    }
    ft->off[nl] = ft->text.len;
    return sg_buf_failed(&ft->text) ? -1 : 0;
}

/* Appends the text of one stack: prefix frames for the track, then the trie path root
 * first. */
static int put_stack(sg_buf *b, const sg_profile *p, const sg_write_opts *o,
                     const frame_texts *ft, uint32_t track, uint32_t node, uint32_t *path)
{
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_track *t = &sg_profile_tracks_c(p)[track];
    bool any = false;
    if (sg_profile_nprocesses(p) > 1) {
        sg_buf_printf(b, "process %u", (unsigned)sg_profile_processes_c(p)[t->process].pid);
        any = true;
    }
    if (o->per_thread) {
        sg_buf_puts(b, any ? ";thread " : "thread ");
        if (t->name) {
            put_clean(b, sg_profile_str(p, t->name), sg_profile_str_len(p, t->name));
            sg_buf_putc(b, ' ');
        }
        sg_buf_printf(b, "(%llu)", (unsigned long long)t->tid);
        any = true;
    }
    size_t depth = 0;
    for (uint32_t n = node; n != SG_ROOT && n != SG_NONE; n = nodes[n].parent)
        path[depth++] = nodes[n].location;
    if (!depth) {
        sg_buf_puts(b, any ? ";[no frames]" : "[no frames]");
        return 0;
    }
    while (depth--) {
        if (any)
            sg_buf_putc(b, ';');
        uint32_t l = path[depth];
        sg_buf_append(b, ft->text.data + ft->off[l], ft->off[l + 1] - ft->off[l]);
        any = true;
    }
    return 0;
}

/* The records' values summed per (prefix, node): the prefix is the track with
 * per_thread, else the process when there are several, else nothing; one record
 * of each sum stands for it. */
typedef struct stack_sum {
    uint32_t track, node;
    int64_t count;
} stack_sum;

static stack_sum *sum_stacks(const sg_wc_ctx *c, const sg_write_opts *o, size_t *n)
{
    const sg_profile *p = c->p;
    const sg_record *r = sg_profile_records(p);
    const sg_track *tracks = sg_profile_tracks_c(p);
    size_t nr = sg_profile_nrecords(p), m = 0;
    bool by_process = sg_profile_nprocesses(p) > 1;
    stack_sum *sums = malloc((nr ? nr : 1) * sizeof *sums);
    sg_map index; /* (prefix, node) -> sum */
    sg_map_init(&index);
    if (!sums)
        return NULL;
    for (size_t i = 0; i < nr; i++) {
        int64_t v = sg_wc_value(c, &r[i]);
        if (v == 0)
            continue;
        uint32_t prefix = o->per_thread ? r[i].track
                          : by_process  ? tracks[r[i].track].process
                                        : 0;
        uint64_t key = (uint64_t)prefix << 32 | r[i].node;
        const uint64_t *at = sg_map_get(&index, key);
        if (at) {
            sums[*at].count += v;
            continue;
        }
        if (!sg_map_put(&index, key, m)) {
            free(sums);
            sums = NULL;
            break;
        }
        sums[m++] = (stack_sum){r[i].track, r[i].node, v};
    }
    sg_map_free(&index);
    *n = m;
    return sums;
}

/* Counts the stack text in the arena's tail [off, arena.len); an existing identical
 * text absorbs the count and the tail is dropped. */
static int fold(folder *f, size_t off, int64_t count)
{
    const char *s = f->arena.data + off;
    size_t len = f->arena.len - off;
    uint64_t k = sg_hash_bytes(s, len);
    for (;; k = sg_hash64(k + 1)) {
        const uint64_t *v = sg_map_get(&f->index, k);
        if (!v)
            break;
        folded *it = &f->items[*v];
        if (it->len == len && memcmp(f->arena.data + it->off, s, len) == 0) {
            it->count += count;
            f->arena.len = off;
            return 0;
        }
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        folded *items = realloc(f->items, cap * sizeof *items);
        if (!items)
            return -1;
        f->items = items;
        f->cap = cap;
    }
    if (!sg_map_put(&f->index, k, f->n))
        return -1;
    f->items[f->n++] = (folded){.off = off, .len = len, .count = count};
    return 0;
}

/* qsort has no context argument in C11, so each item carries its own text pointer. */
typedef struct sort_item {
    const char *s;
    size_t len;
    int64_t count;
} sort_item;

static int cmp_item(const void *a, const void *b)
{
    const sort_item *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

int sg_write_collapsed(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    sg_wc_ctx c;
    sg_wc_init(&c, p, o);
    folder f;
    memset(&f, 0, sizeof f);
    sg_buf_init(&f.arena);
    sg_map_init(&f.index);
    const sg_node *nodes = sg_profile_nodes(p);
    size_t nn = sg_profile_nnodes(p), nsums = 0;
    uint32_t maxdepth = 0;
    for (size_t i = 0; i < nn; i++)
        if (nodes[i].depth > maxdepth)
            maxdepth = nodes[i].depth;
    uint32_t *path = malloc(((size_t)maxdepth + 1) * sizeof *path);
    stack_sum *sums = sum_stacks(&c, o, &nsums);
    frame_texts ft;
    int ft_bad = frame_texts_init(&ft, p);
    sort_item *items = NULL;
    int rc = -1;
    if (!path || !sums || ft_bad)
        goto out;
    for (size_t i = 0; i < nsums; i++) {
        size_t off = f.arena.len;
        put_stack(&f.arena, p, o, &ft, sums[i].track, sums[i].node, path);
        if (sg_buf_failed(&f.arena) || fold(&f, off, sums[i].count))
            goto out;
    }
    items = malloc((f.n ? f.n : 1) * sizeof *items);
    if (!items)
        goto out;
    for (size_t i = 0; i < f.n; i++)
        items[i] = (sort_item){f.arena.data + f.items[i].off, f.items[i].len, f.items[i].count};
    qsort(items, f.n, sizeof *items, cmp_item);
    for (size_t i = 0; i < f.n; i++) {
        if (!items[i].count)
            continue; /* values of opposite signs cancelled out */
        sg_buf_append(out, items[i].s, items[i].len);
        sg_buf_printf(out, " %lld\n", (long long)items[i].count);
    }
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing collapsed stacks");
    free(items);
    free(path);
    free(sums);
    free(ft.off);
    sg_buf_free(&ft.text);
    free(f.items);
    sg_map_free(&f.index);
    sg_buf_free(&f.arena);
    return rc;
}
