/* The interactive report: ONE self-contained HTML file (no network needed to view it)
 * holding the profile as compact JSON and the page that renders it (assets/report.html,
 * report.css, flame.js, report.js): a canvas flame graph and icicle, the call tree,
 * the hottest functions and lines, annotated source of the hottest files, a thread and
 * process selector, search, and the profile's metadata.
 *
 * The JSON is the model itself, not a rendering, so the page can re-aggregate for any
 * thread, process or view:
 *   strings    the string table (names shown like the text reports: escaped)
 *   functions  flat [name, file, first line]*      locations  flat [function, line]*
 *   nodes      the trie nodes 1..n-1 (node 0 is the root), renumbered depth first so
 *              that a node's parent is mostly the node just before it: such a node is
 *              written as its location alone, any other as -(distance to its parent)
 *              then its location
 *   processes  [pid, cmdline, python, stacks read, reads failed]*
 *   tracks     [process, tid, name, is main]*
 *   records    per track, flat [node, flags, value(, aux)]* (aux: calls or hits)
 *   sources    [file, [line text]*]* for the hottest files that could be read
 * Its strings are escaped for a <script> element (sg_wc_json_str): "</script>", "<!--"
 * and U+2028 cannot appear, whatever the profiled program named its functions. */
#include <stdlib.h>
#include <string.h>

#include "../base/sg_grow.h"
#include "assets_gen.h"
#include "sg_write_common.h"

#define SG_HTML_FILES 10                 /* source files embedded, at most */
#define SG_HTML_FILE_SHARE 0.001         /* beyond the 3 hottest, files below this self share
                                          * of the total are left out */
#define SG_HTML_FILE_LINES 20000         /* lines per embedded file, at most */
#define SG_HTML_SOURCE_BYTES (4u << 20)  /* all embedded source, at most */

static void put_i64(sg_buf *b, int64_t v)
{
    char tmp[24];
    size_t n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    sg_buf_append(b, tmp + sizeof tmp - n, n);
}

static void put_str(sg_buf *b, const sg_profile *p, uint32_t id)
{
    sg_wc_json_str(b, sg_profile_str(p, id), sg_profile_str_len(p, id), true);
}

static void put_cstr(sg_buf *b, const char *s)
{
    sg_wc_json_str(b, s ? s : "", s ? strlen(s) : 0, true);
}

/* Depth-first numbering of the trie nodes that lead to a record: newid[old] (SG_NONE
 * for nodes no record uses) and order[new] = old. -1 when out of memory. */
static int renumber(const sg_profile *p, uint32_t **newid_out, uint32_t **order_out, size_t *n_out)
{
    size_t nn = sg_profile_nnodes(p), nr = sg_profile_nrecords(p);
    const sg_node *nodes = sg_profile_nodes(p);
    const sg_record *r = sg_profile_records(p);
    uint32_t *newid = malloc((nn ? nn : 1) * sizeof *newid);
    uint32_t *order = malloc((nn ? nn : 1) * sizeof *order);
    uint32_t *first = calloc(nn + 1, sizeof *first); /* CSR of children */
    uint32_t *kids = malloc((nn ? nn : 1) * sizeof *kids);
    uint32_t *stack = malloc((nn ? nn : 1) * sizeof *stack);
    int rc = -1;
    if (!newid || !order || !first || !kids || !stack)
        goto out;
    /* used: on the path of some record (newid doubles as the mark) */
    memset(newid, 0xff, (nn ? nn : 1) * sizeof *newid);
    if (nn)
        newid[0] = 0;
    for (size_t i = 0; i < nr; i++)
        for (uint32_t m = r[i].node; m < nn && newid[m] == SG_NONE; m = nodes[m].parent)
            newid[m] = 0;
    for (size_t i = 1; i < nn; i++)
        if (newid[i] != SG_NONE)
            first[nodes[i].parent + 1]++;
    for (size_t i = 0; i < nn; i++)
        first[i + 1] += first[i];
    for (size_t i = 1; i < nn; i++) /* children in id order: first[] ends as the next free slot */
        if (newid[i] != SG_NONE)
            kids[first[nodes[i].parent]++] = (uint32_t)i;
    for (size_t i = nn; i-- > 0;) /* shift back so first[i] is the start again */
        first[i + 1] = first[i];
    first[0] = 0;
    size_t n = 0, sp = 0;
    if (nn)
        stack[sp++] = 0;
    while (sp) {
        uint32_t at = stack[--sp];
        newid[at] = (uint32_t)n;
        order[n++] = at;
        for (uint32_t k = first[at + 1]; k-- > first[at];)
            stack[sp++] = kids[k];
    }
    *newid_out = newid;
    *order_out = order;
    *n_out = n;
    newid = order = NULL;
    rc = 0;
out:
    free(newid);
    free(order);
    free(first);
    free(kids);
    free(stack);
    return rc;
}

typedef struct file_heat {
    uint32_t filename;
    int64_t self, best;
} file_heat;

static int cmp_heat(const void *a, const void *b)
{
    const file_heat *x = a, *y = b;
    if (x->self != y->self)
        return x->self > y->self ? -1 : 1;
    if (x->best != y->best)
        return x->best > y->best ? -1 : 1;
    return x->filename < y->filename ? -1 : x->filename > y->filename;
}

/* The hottest files' lines (by time in their own lines, then their hottest function):
 * the three hottest, then any other with at least SG_HTML_FILE_SHARE of the total in
 * its own lines, up to SG_HTML_FILES (or o->context when larger) files. */
static int put_sources(sg_buf *b, const sg_wc_ctx *c, const sg_write_opts *o)
{
    const sg_profile *p = c->p;
    sg_wc_stats s;
    sg_wc_sources cache;
    sg_wc_sources_init(&cache);
    sg_map idx;
    sg_map_init(&idx);
    file_heat *files = NULL;
    size_t nfiles = 0, cap = 0;
    int rc = -1;
    if (sg_wc_stats_build(c, SG_NONE, &s))
        goto out;
    const sg_function *fn = sg_profile_functions(p);
    for (size_t i = 0; i < sg_profile_nfunctions(p); i++) {
        if (!s.func[i].total)
            continue;
        const uint64_t *v = sg_map_get(&idx, fn[i].filename);
        file_heat *f;
        if (v) {
            f = &files[*v];
        } else {
            if (!sg_grow((void **)&files, &cap, nfiles + 1, sizeof *files, 16) ||
                !sg_map_put(&idx, fn[i].filename, nfiles))
                goto out;
            f = &files[nfiles++];
            *f = (file_heat){.filename = fn[i].filename};
        }
        f->self += s.func[i].self;
        if (s.func[i].total > f->best)
            f->best = s.func[i].total;
    }
    if (nfiles)
        qsort(files, nfiles, sizeof *files, cmp_heat);
    size_t want = o->context > SG_HTML_FILES ? (size_t)o->context : SG_HTML_FILES;
    size_t shown = 0, bytes = 0;
    for (size_t i = 0; i < nfiles && shown < want && bytes < SG_HTML_SOURCE_BYTES; i++) {
        if (i >= 3 && (double)files[i].self < SG_HTML_FILE_SHARE * (double)s.grand)
            break;
        const sg_wc_source *src = sg_wc_source_get(&cache, p, files[i].filename);
        if (!src)
            continue;
        sg_buf_puts(b, shown++ ? ",[" : "[");
        put_i64(b, files[i].filename);
        sg_buf_puts(b, ",[");
        for (int32_t line = 1; line <= SG_HTML_FILE_LINES; line++) {
            const char *text;
            size_t len;
            if (!sg_wc_source_line(src, line, &text, &len))
                break;
            if (line > 1)
                sg_buf_putc(b, ',');
            sg_wc_json_str(b, text, len, false);
            bytes += len;
        }
        sg_buf_puts(b, "]]");
        sg_buf_putc(b, '\n');
    }
    rc = 0;
out:
    free(files);
    sg_map_free(&idx);
    sg_wc_sources_free(&cache);
    sg_wc_stats_free(&s);
    return rc;
}

static void put_meta(sg_buf *b, const sg_wc_ctx *c, const sg_write_opts *o)
{
    const sg_profile *p = c->p;
    const sg_profile_meta *m = sg_profile_meta_get(p);
    static const char *const modes[] = {"sample", "trace", "lines"};
    sg_buf_puts(b, "{\"mode\":\"");
    sg_buf_puts(b, (unsigned)m->mode < 3 ? modes[m->mode] : "sample");
    sg_buf_printf(b, "\",\"clock\":\"%s\",\"view\":\"%s\",\"rate_hz\":%.17g,",
                  m->clock == SG_CLOCK_CPU ? "cpu" : "wall", sg_wc_view_name(c->view), m->rate_hz);
    sg_buf_printf(b, "\"start_wall_ns\":%lld,\"duration_ns\":%lld,\"interval_ns\":%lld,",
                  (long long)m->start_wall_ns, (long long)m->duration_ns,
                  (long long)m->interval_ns);
    sg_buf_printf(b, "\"ticks_requested\":%llu,\"ticks_taken\":%llu,\"sec_per_unit\":%.17g,",
                  (unsigned long long)m->ticks_requested, (unsigned long long)m->ticks_taken,
                  c->sec_per_unit);
    sg_buf_puts(b, "\"value\":");
    if (c->col < m->n_values)
        put_str(b, p, m->value_type[c->col]);
    else
        put_cstr(b, c->sampled ? "samples" : "time");
    sg_buf_puts(b, ",\"aux\":");
    if (!c->sampled && c->col != 0 && m->n_values > 0)
        put_str(b, p, m->value_type[0]);
    else
        sg_buf_puts(b, "null");
    sg_buf_printf(b, ",\"icicle\":%s}", o->icicle ? "true" : "false");
}

typedef struct rec_ref {
    uint32_t node; /* renumbered */
    uint32_t rec;
} rec_ref;

static int cmp_ref(const void *a, const void *b)
{
    const rec_ref *x = a, *y = b;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* One flat array per track, in the order of "tracks", each in depth-first order of
 * its nodes so that the page meets a stack's prefix just before the stack. */
static int put_records(sg_buf *b, const sg_wc_ctx *c, const uint32_t *newid)
{
    const sg_profile *p = c->p;
    const sg_profile_meta *m = sg_profile_meta_get(p);
    size_t nt = sg_profile_ntracks(p);
    bool aux = !c->sampled && c->col != 0 && m->n_values > 0;
    const sg_record *r = sg_profile_records(p);
    size_t nr = sg_profile_nrecords(p);
    uint32_t *count = calloc(nt ? nt : 1, sizeof *count);
    rec_ref *by_track = malloc((nr ? nr : 1) * sizeof *by_track);
    uint32_t *at = calloc(nt + 1, sizeof *at);
    int rc = -1;
    if (!count || !by_track || !at)
        goto out;
    for (size_t i = 0; i < nr; i++)
        if (r[i].track < nt)
            at[r[i].track + 1]++;
    for (size_t t = 0; t < nt; t++)
        at[t + 1] += at[t];
    for (size_t i = 0; i < nr; i++)
        if (r[i].track < nt && r[i].node < sg_profile_nnodes(p))
            by_track[at[r[i].track] + count[r[i].track]++] =
                (rec_ref){.node = newid[r[i].node], .rec = (uint32_t)i};
    for (size_t t = 0; t < nt; t++) {
        qsort(by_track + at[t], count[t], sizeof *by_track, cmp_ref);
        sg_buf_puts(b, t ? ",\n[" : "\n[");
        bool first = true;
        for (uint32_t k = at[t]; k < at[t] + count[t]; k++) {
            const sg_record *ri = &r[by_track[k].rec];
            int64_t v = c->col < SG_MAX_VALUES ? ri->values[c->col] : 0;
            if (newid[ri->node] == SG_NONE || (!v && (!aux || !ri->values[0])))
                continue;
            if (!first)
                sg_buf_putc(b, ',');
            first = false;
            put_i64(b, newid[ri->node]);
            sg_buf_putc(b, ',');
            put_i64(b, ri->flags);
            sg_buf_putc(b, ',');
            put_i64(b, v);
            if (aux) {
                sg_buf_putc(b, ',');
                put_i64(b, ri->values[0]);
            }
        }
        sg_buf_putc(b, ']');
    }
    rc = 0;
out:
    free(count);
    free(by_track);
    free(at);
    return rc;
}

static int put_data(sg_buf *b, const sg_wc_ctx *c, const sg_write_opts *o)
{
    const sg_profile *p = c->p;
    uint32_t *newid = NULL, *order = NULL;
    size_t nused = 0;
    int rc = -1;
    if (renumber(p, &newid, &order, &nused))
        return -1;
    sg_buf_puts(b, "{\"format\":\"spyglass-html\",\"version\":1,\n\"meta\":");
    put_meta(b, c, o);
    sg_buf_puts(b, ",\n\"attrs\":[");
    for (size_t i = 0; i < sg_profile_nattrs(p); i++) {
        const char *k, *v;
        sg_profile_attr_at(p, i, &k, &v);
        sg_buf_puts(b, i ? ",[" : "[");
        put_cstr(b, k);
        sg_buf_putc(b, ',');
        put_cstr(b, v);
        sg_buf_putc(b, ']');
    }
    sg_buf_puts(b, "],\n\"strings\":[");
    for (size_t i = 0; i < sg_profile_nstrings(p); i++) {
        if (i)
            sg_buf_putc(b, ',');
        put_str(b, p, (uint32_t)i);
    }
    sg_buf_puts(b, "],\n\"functions\":[");
    const sg_function *fn = sg_profile_functions(p);
    for (size_t i = 0; i < sg_profile_nfunctions(p); i++) {
        if (i)
            sg_buf_putc(b, ',');
        put_i64(b, fn[i].name);
        sg_buf_putc(b, ',');
        put_i64(b, fn[i].filename);
        sg_buf_putc(b, ',');
        put_i64(b, fn[i].first_line);
    }
    sg_buf_puts(b, "],\n\"locations\":[");
    const sg_location *loc = sg_profile_locations(p);
    for (size_t i = 0; i < sg_profile_nlocations(p); i++) {
        if (i)
            sg_buf_putc(b, ',');
        put_i64(b, loc[i].function);
        sg_buf_putc(b, ',');
        put_i64(b, loc[i].line);
    }
    sg_buf_puts(b, "],\n\"nodes\":[");
    const sg_node *nodes = sg_profile_nodes(p);
    for (size_t i = 1; i < nused; i++) {
        uint32_t old = order[i];
        int64_t up = (int64_t)i - newid[nodes[old].parent];
        if (i > 1)
            sg_buf_putc(b, ',');
        if (up != 1) {
            put_i64(b, -up);
            sg_buf_putc(b, ',');
        }
        put_i64(b, nodes[old].location);
    }
    sg_buf_puts(b, "],\n\"processes\":[");
    const sg_process *pr = sg_profile_processes_c(p);
    for (size_t i = 0; i < sg_profile_nprocesses(p); i++) {
        sg_buf_puts(b, i ? ",[" : "[");
        put_i64(b, pr[i].pid);
        sg_buf_putc(b, ',');
        put_i64(b, pr[i].cmdline);
        sg_buf_putc(b, ',');
        put_i64(b, pr[i].python_version);
        sg_buf_printf(b, ",%llu,%llu]", (unsigned long long)pr[i].samples_ok,
                      (unsigned long long)pr[i].samples_failed);
    }
    sg_buf_puts(b, "],\n\"tracks\":[");
    const sg_track *tr = sg_profile_tracks_c(p);
    size_t nt = sg_profile_ntracks(p);
    for (size_t i = 0; i < nt; i++) {
        sg_buf_puts(b, i ? ",[" : "[");
        put_i64(b, tr[i].process);
        sg_buf_printf(b, ",%llu,", (unsigned long long)tr[i].tid);
        put_i64(b, tr[i].name);
        sg_buf_puts(b, tr[i].is_main ? ",1]" : ",0]");
    }
    sg_buf_puts(b, "],\n\"records\":[");
    if (put_records(b, c, newid))
        goto out;
    sg_buf_puts(b, "],\n\"sources\":[");
    if (put_sources(b, c, o))
        goto out;
    sg_buf_puts(b, "]}");
    rc = 0;
out:
    free(newid);
    free(order);
    return rc;
}

int sg_write_html(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    sg_wc_ctx c;
    sg_wc_init(&c, p, o);
    const char *t = sg_asset_report_html;
    int rc = 0;
    /* the template's {{NAME}} markers are replaced; everything else is copied */
    while (*t && !rc) {
        const char *mark = strstr(t, "{{");
        if (!mark) {
            sg_buf_puts(out, t);
            break;
        }
        sg_buf_append(out, t, (size_t)(mark - t));
        const char *end = strstr(mark, "}}");
        if (!end) {
            sg_buf_puts(out, mark);
            break;
        }
        size_t len = (size_t)(end - mark - 2);
        const char *name = mark + 2;
        if (len == 5 && !memcmp(name, "TITLE", 5)) {
            const char *cmd = sg_profile_get_attr(p, "command");
            sg_buf_puts(out, "spyglass");
            if (cmd && *cmd) {
                sg_buf_puts(out, ": ");
                sg_wc_markup(out, cmd, strlen(cmd), 120);
            }
        } else if (len == 3 && !memcmp(name, "CSS", 3)) {
            sg_buf_append(out, sg_asset_report_css, sizeof sg_asset_report_css - 1);
        } else if (len == 2 && !memcmp(name, "JS", 2)) {
            sg_buf_append(out, sg_asset_flame_js, sizeof sg_asset_flame_js - 1);
            sg_buf_append(out, sg_asset_report_js, sizeof sg_asset_report_js - 1);
        } else if (len == 4 && !memcmp(name, "DATA", 4)) {
            rc = put_data(out, &c, o);
        } else {
            sg_buf_append(out, mark, (size_t)(end + 2 - mark));
        }
        t = end + 2;
    }
    if (rc)
        return sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing the HTML report");
    return 0;
}
