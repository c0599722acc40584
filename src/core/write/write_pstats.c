/* cProfile's stats file: what pstats.Stats(path), snakeviz and gprof2dot -f pstats
 * load. It is marshal data (CPython Python/marshal.c) of one dict
 *   {(file, line, name): (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})}
 * with cc the primitive (non-recursive) calls, nc all calls, tt the self time and ct
 * the cumulative time in seconds, as cProfile's snapshot_stats builds it (note the
 * caller tuples list nc before cc). Only the marshal types every version reads are
 * written: dict '{' ended by '0', tuple '(', str 'u' (UTF-8), int 'i', long 'l' and
 * binary float 'g', all little-endian.
 *
 * From the trie (see write_calls.c): nc sums the frames' entries, cc those of
 * primitive frames, ct the totals of primitive frames (each stack once, so recursion
 * never inflates it); per caller the same with the (caller, callee) pair's own
 * recursion, as cProfile counts it. A sampled profile has no call counts: there nc
 * and cc are samples (a frame's samples, counted per frame and per stack).
 *
 * A function whose file is "~" or empty is a C builtin and gets cProfile's key
 * ("~", 0, "<built-in method NAME>"). Names are data: bytes that are not UTF-8
 * become U+FFFD, since marshal rejects them; everything else is kept exactly. */
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

/* ---- marshal ---- */

static void m_u32(sg_buf *b, uint32_t v)
{
    char q[4] = {(char)(v & 0xff), (char)(v >> 8 & 0xff), (char)(v >> 16 & 0xff),
                 (char)(v >> 24)};
    sg_buf_append(b, q, 4);
}

static void m_int(sg_buf *b, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        sg_buf_putc(b, 'i');
        m_u32(b, (uint32_t)(int32_t)v);
        return;
    }
    /* TYPE_LONG: a signed count of 15-bit digits, least significant first */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    uint16_t d[5];
    int n = 0;
    while (mag) {
        d[n++] = (uint16_t)(mag & 0x7fff);
        mag >>= 15;
    }
    sg_buf_putc(b, 'l');
    m_u32(b, (uint32_t)(int32_t)(v < 0 ? -n : n));
    for (int i = 0; i < n; i++) {
        char q[2] = {(char)(d[i] & 0xff), (char)(d[i] >> 8)};
        sg_buf_append(b, q, 2);
    }
}

static void m_float(sg_buf *b, double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    sg_buf_putc(b, 'g');
    m_u32(b, (uint32_t)u);
    m_u32(b, (uint32_t)(u >> 32));
}

/* A str: valid UTF-8 (invalid bytes become U+FFFD) of at most 2^31-1 bytes. */
static void m_str(sg_buf *b, const char *s, size_t len)
{
    sg_buf_putc(b, 'u');
    size_t at = b->len;
    m_u32(b, 0);
    const unsigned char *u = (const unsigned char *)s;
    size_t written = 0;
    for (size_t i = 0; i < len && written < 0x7ffffff0u;) {
        uint32_t cp;
        size_t n = sg_wc_utf8_decode(u + i, len - i, &cp);
        if (n == 0) {
            sg_buf_append(b, "\xef\xbf\xbd", 3);
            written += 3;
            i++;
        } else {
            sg_buf_append(b, s + i, n);
            written += n;
            i += n;
        }
    }
    if (!sg_buf_failed(b)) {
        uint32_t w = (uint32_t)written;
        char q[4] = {(char)(w & 0xff), (char)(w >> 8 & 0xff), (char)(w >> 16 & 0xff),
                     (char)(w >> 24)};
        memcpy(b->data + at, q, 4);
    }
}

static void m_tuple(sg_buf *b, uint32_t n)
{
    sg_buf_putc(b, '(');
    m_u32(b, n);
}

/* ---- stats ---- */

typedef struct pst_fn {
    int64_t cc, nc, tt, ct; /* tt, ct in the view's units */
} pst_fn;

typedef struct pst_edge {
    uint32_t caller, callee; /* keys */
    int64_t nc, cc, tt, ct;
} pst_edge;

typedef struct pst {
    const sg_profile *p;
    sg_wc_ctx c;
    uint32_t *key; /* function -> key (the function id of the key's first function) */
    pst_fn *fn;    /* by key */
    pst_edge *e;
    size_t ne, cape;
    sg_map edge; /* caller << 32 | callee -> index into e */
} pst;

static bool is_builtin(const sg_profile *p, uint32_t f)
{
    const char *file = sg_profile_str(p, sg_profile_functions(p)[f].filename);
    return file[0] == '\0' || strcmp(file, "~") == 0;
}

static int make_keys(pst *s)
{
    size_t nf = sg_profile_nfunctions(s->p);
    const sg_function *fn = sg_profile_functions(s->p);
    sg_map by_name;
    sg_map_init(&by_name);
    for (size_t f = 0; f < nf; f++) {
        s->key[f] = (uint32_t)f;
        if (!is_builtin(s->p, (uint32_t)f))
            continue;
        const uint64_t *v = sg_map_get(&by_name, fn[f].name);
        if (v)
            s->key[f] = (uint32_t)*v;
        else if (!sg_map_put(&by_name, fn[f].name, f)) {
            sg_map_free(&by_name);
            return -1;
        }
    }
    sg_map_free(&by_name);
    return 0;
}

static pst_edge *edge_of(pst *s, uint32_t caller, uint32_t callee)
{
    uint64_t k = (uint64_t)caller << 32 | callee;
    const uint64_t *v = sg_map_get(&s->edge, k);
    if (v)
        return &s->e[*v];
    if (s->ne == s->cape) {
        size_t cap = s->cape ? s->cape * 2 : 256;
        pst_edge *q = realloc(s->e, cap * sizeof *q);
        if (!q)
            return NULL;
        s->e = q;
        s->cape = cap;
    }
    if (!sg_map_put(&s->edge, k, s->ne))
        return NULL;
    s->e[s->ne] = (pst_edge){.caller = caller, .callee = callee};
    return &s->e[s->ne++];
}

static int cmp_edge(const void *a, const void *b)
{
    const pst_edge *x = a, *y = b;
    if (x->callee != y->callee)
        return x->callee < y->callee ? -1 : 1;
    return x->caller < y->caller ? -1 : x->caller > y->caller;
}

static int gather(pst *s)
{
    sg_wc_calls k;
    if (sg_wc_calls_build(&s->c, SG_NONE, &k))
        return -1;
    const sg_node *nodes = sg_profile_nodes(s->p);
    int rc = -1;
    for (size_t n = 1; n < k.n; n++) {
        uint32_t key = s->key[k.func[n]];
        pst_fn *f = &s->fn[key];
        f->nc += k.calls[n];
        f->tt += k.self[n];
        if (k.primitive[n]) {
            f->cc += k.calls[n];
            f->ct += k.total[n];
        }
        uint32_t parent = nodes[n].parent;
        if (parent == SG_ROOT)
            continue;
        pst_edge *e = edge_of(s, s->key[k.func[parent]], key);
        if (!e)
            goto out;
        e->nc += k.calls[n];
        e->tt += k.self[n];
        if (k.pair_primitive[n]) {
            e->cc += k.calls[n];
            e->ct += k.total[n];
        }
    }
    rc = 0;
out:
    sg_wc_calls_free(&k);
    return rc;
}

static void put_key(pst *s, sg_buf *b, uint32_t key)
{
    const sg_profile *p = s->p;
    const sg_function *f = &sg_profile_functions(p)[key];
    const char *name = sg_wc_func_name(p, key);
    m_tuple(b, 3);
    if (is_builtin(p, key)) {
        m_str(b, "~", 1);
        m_int(b, 0);
        if (name[0] == '<' || name[0] == '[') {
            m_str(b, name, strlen(name));
        } else {
            sg_buf tmp;
            sg_buf_init(&tmp);
            sg_buf_printf(&tmp, "<built-in method %s>", name);
            m_str(b, tmp.data ? tmp.data : "", tmp.len);
            if (sg_buf_failed(&tmp))
                b->failed = true;
            sg_buf_free(&tmp);
        }
        return;
    }
    m_str(b, sg_profile_str(p, f->filename), sg_profile_str_len(p, f->filename));
    m_int(b, f->first_line);
    m_str(b, name, strlen(name));
}

int sg_write_pstats(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    pst s;
    memset(&s, 0, sizeof s);
    s.p = p;
    sg_wc_init(&s.c, p, o);
    sg_map_init(&s.edge);
    size_t nf = sg_profile_nfunctions(p);
    int rc = -1;
    s.key = malloc((nf ? nf : 1) * sizeof *s.key);
    s.fn = calloc(nf ? nf : 1, sizeof *s.fn);
    if (!s.key || !s.fn || make_keys(&s) || gather(&s))
        goto out;
    if (s.ne)
        qsort(s.e, s.ne, sizeof *s.e, cmp_edge);
    sg_buf_putc(out, '{');
    size_t ei = 0;
    for (uint32_t f = 0; f < nf; f++) {
        if (s.key[f] != f)
            continue;
        const pst_fn *st = &s.fn[f];
        bool any_edge = ei < s.ne && s.e[ei].callee == f;
        if (!st->nc && !st->tt && !st->ct && !any_edge)
            continue; /* not in this view */
        put_key(&s, out, f);
        m_tuple(out, 5);
        m_int(out, st->cc);
        m_int(out, st->nc);
        m_float(out, sg_wc_seconds(&s.c, st->tt));
        m_float(out, sg_wc_seconds(&s.c, st->ct));
        sg_buf_putc(out, '{');
        for (; ei < s.ne && s.e[ei].callee == f; ei++) {
            const pst_edge *e = &s.e[ei];
            if (!e->nc && !e->cc && !e->tt && !e->ct)
                continue; /* not in this view: its caller may not be listed either */
            put_key(&s, out, e->caller);
            m_tuple(out, 4);
            m_int(out, e->nc);
            m_int(out, e->cc);
            m_float(out, sg_wc_seconds(&s.c, e->tt));
            m_float(out, sg_wc_seconds(&s.c, e->ct));
        }
        sg_buf_putc(out, '0');
    }
    sg_buf_putc(out, '0');
    rc = 0;
out:
    if (rc)
        sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing pstats");
    free(s.key);
    free(s.fn);
    free(s.e);
    sg_map_free(&s.edge);
    return rc;
}
