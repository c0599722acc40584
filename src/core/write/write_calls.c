/* The call graph that callgrind and pstats need from the stack trie: per frame how
 * often it was entered, whether it is a recursive re-entry, and the cost a caller's
 * call to it stands for.
 *
 * One depth-first walk keeps, for the path from the root to the current node, how
 * many frames of each function (and of each caller/callee pair) are open; a node is
 * primitive when none of its function is open above it. Giving a call edge the total
 * of its primitive callee nodes only is what keeps recursion from inflating inclusive
 * costs: every stack then counts once per function, as the text report's totals do. */
#include <stdlib.h>
#include <string.h>

#include "sg_write_common.h"

void sg_wc_calls_free(sg_wc_calls *k)
{
    free(k->self);
    free(k->total);
    free(k->calls);
    free(k->primitive);
    free(k->pair_primitive);
    free(k->func);
    memset(k, 0, sizeof *k);
}

static bool view_counts(const sg_wc_ctx *c, const sg_record *r)
{
    if (c->view == SG_VIEW_CPU)
        return r->flags & SG_F_ONCPU;
    if (c->view == SG_VIEW_GIL)
        return r->flags & SG_F_GIL;
    return true;
}

/* calls per node from the first value column (trace: calls, lines: hits). */
static int recorded_counts(const sg_wc_ctx *c, uint32_t track, int64_t *out)
{
    size_t nn = sg_profile_nnodes(c->p), nr = sg_profile_nrecords(c->p);
    const sg_record *r = sg_profile_records(c->p);
    for (size_t i = 0; i < nr; i++)
        if ((track == SG_NONE || r[i].track == track) && r[i].node < nn &&
            view_counts(c, &r[i]))
            out[r[i].node] += r[i].values[0];
    return 0;
}

/* Lines mode: a frame's entries are the hits of the first line its function executed
 * under that caller, so only the lowest-numbered sibling of each function keeps its
 * hits as calls. */
static int lines_entries(const sg_profile *p, int64_t *calls)
{
    size_t nn = sg_profile_nnodes(p);
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_location *loc = sg_profile_locations(p);
    sg_map first;
    sg_map_init(&first);
    for (size_t n = 1; n < nn; n++) {
        uint64_t key = (uint64_t)nodes[n].parent << 32 | loc[nodes[n].location].function;
        uint64_t *v = sg_map_get(&first, key);
        if (!v) {
            if (!sg_map_put(&first, key, n)) {
                sg_map_free(&first);
                return -1;
            }
        } else if (loc[nodes[n].location].line < loc[nodes[*v].location].line) {
            *v = n;
        }
    }
    for (size_t n = 1; n < nn; n++) {
        uint64_t key = (uint64_t)nodes[n].parent << 32 | loc[nodes[n].location].function;
        const uint64_t *v = sg_map_get(&first, key);
        if (v && *v != n)
            calls[n] = 0;
    }
    sg_map_free(&first);
    return 0;
}

/* The depth-first walk that fills primitive and pair_primitive. */
static int walk(const sg_profile *p, sg_wc_calls *k)
{
    size_t nn = k->n, nf = sg_profile_nfunctions(p);
    const sg_node *nodes = sg_profile_nodes(p);
    uint32_t *head = malloc(nn * sizeof *head), *next = malloc(nn * sizeof *next);
    uint32_t *open = calloc(nf ? nf : 1, sizeof *open);
    int64_t *stack = malloc(2 * nn * sizeof *stack);
    sg_map pairs;
    sg_map_init(&pairs);
    int rc = -1;
    if (!head || !next || !open || !stack)
        goto out;
    for (size_t i = 0; i < nn; i++)
        head[i] = SG_NONE;
    for (size_t n = nn; n-- > 1;) {
        next[n] = head[nodes[n].parent];
        head[nodes[n].parent] = (uint32_t)n;
    }
    size_t sp = 0;
    for (uint32_t ch = head[SG_ROOT]; ch != SG_NONE; ch = next[ch])
        stack[sp++] = ch;
    while (sp) {
        int64_t item = stack[--sp];
        uint32_t n = (uint32_t)(item < 0 ? -item : item);
        uint32_t f = k->func[n], g = k->func[nodes[n].parent];
        uint64_t pair = (uint64_t)g << 32 | f;
        if (item < 0) { /* leaving n */
            open[f]--;
            if (g != SG_NONE) {
                uint64_t *v = sg_map_get(&pairs, pair);
                if (v)
                    (*v)--;
            }
            continue;
        }
        k->primitive[n] = open[f] == 0;
        open[f]++;
        k->pair_primitive[n] = true;
        if (g != SG_NONE) {
            uint64_t *v = sg_map_get(&pairs, pair);
            k->pair_primitive[n] = !v || *v == 0;
            if (v)
                (*v)++;
            else if (!sg_map_put(&pairs, pair, 1))
                goto out;
        }
        stack[sp++] = -(int64_t)n;
        for (uint32_t ch = head[n]; ch != SG_NONE; ch = next[ch])
            stack[sp++] = ch;
    }
    rc = 0;
out:
    free(head);
    free(next);
    free(open);
    free(stack);
    sg_map_free(&pairs);
    return rc;
}

int sg_wc_calls_build(const sg_wc_ctx *c, uint32_t track, sg_wc_calls *k)
{
    memset(k, 0, sizeof *k);
    const sg_profile *p = c->p;
    size_t nn = sg_profile_nnodes(p);
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_location *loc = sg_profile_locations(p);
    k->n = nn;
    k->calls = calloc(nn, sizeof *k->calls);
    k->primitive = calloc(nn, sizeof *k->primitive);
    k->pair_primitive = calloc(nn, sizeof *k->pair_primitive);
    k->func = malloc(nn * sizeof *k->func);
    if (!k->calls || !k->primitive || !k->pair_primitive || !k->func ||
        sg_wc_node_values(c, track, &k->self, &k->total))
        goto fail;
    k->func[SG_ROOT] = SG_NONE;
    for (size_t n = 1; n < nn; n++)
        k->func[n] = loc[nodes[n].location].function;
    sg_mode mode = sg_profile_meta_get(p)->mode;
    if (mode == SG_MODE_SAMPLE) {
        memcpy(k->calls, k->total, nn * sizeof *k->calls);
    } else {
        recorded_counts(c, track, k->calls);
        if (mode == SG_MODE_LINES && lines_entries(p, k->calls))
            goto fail;
    }
    if (walk(p, k))
        goto fail;
    return 0;
fail:
    sg_wc_calls_free(k);
    return -1;
}

int sg_wc_unique_names(const sg_profile *p, sg_buf *text, size_t **names)
{
    size_t nf = sg_profile_nfunctions(p);
    const sg_function *fn = sg_profile_functions(p);
    size_t *off = malloc((nf ? nf : 1) * sizeof *off);
    sg_map seen; /* (file, name) -> first line of the first function, or a mark */
    sg_map_init(&seen);
    const uint64_t several = UINT64_MAX;
    if (!off)
        return -1;
    for (size_t i = 0; i < nf; i++) {
        uint64_t key = (uint64_t)fn[i].filename << 32 | fn[i].name;
        uint64_t *v = sg_map_get(&seen, key);
        if (!v) {
            if (!sg_map_put(&seen, key, (uint32_t)fn[i].first_line))
                goto fail;
        } else if (*v != (uint32_t)fn[i].first_line) {
            *v = several;
        }
    }
    for (size_t i = 0; i < nf; i++) {
        uint64_t key = (uint64_t)fn[i].filename << 32 | fn[i].name;
        const uint64_t *v = sg_map_get(&seen, key);
        off[i] = text->len;
        sg_buf_puts(text, sg_wc_func_name(p, (uint32_t)i));
        if (v && *v == several)
            sg_buf_printf(text, ":%d", (int)fn[i].first_line);
        sg_buf_putc(text, '\0');
    }
    if (sg_buf_failed(text))
        goto fail;
    sg_map_free(&seen);
    *names = off;
    return 0;
fail:
    sg_map_free(&seen);
    free(off);
    return -1;
}
