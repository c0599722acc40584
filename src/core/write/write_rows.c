/* Rows for live views: the same self/total as the text report (sg_wc_stats_build, so
 * recursion is counted once), sorted and cut in C, so the UI's work per refresh does
 * not grow with the profile. */
#include <stdlib.h>
#include <string.h>

#include "sg_rows.h"
#include "sg_write_common.h"

typedef struct row_key {
    int64_t self, total;
    const char *name, *file;
    int32_t line;
    uint32_t id;
} row_key;

static int cmp_str_line(const row_key *p, const row_key *q)
{
    int c = strcmp(p->name, q->name);
    if (c)
        return c;
    if ((c = strcmp(p->file, q->file)))
        return c;
    if (p->line != q->line)
        return p->line < q->line ? -1 : 1;
    return p->id < q->id ? -1 : p->id > q->id;
}

static int cmp_self(const void *x, const void *y)
{
    const row_key *p = x, *q = y;
    if (p->self != q->self)
        return p->self > q->self ? -1 : 1;
    if (p->total != q->total)
        return p->total > q->total ? -1 : 1;
    return cmp_str_line(p, q);
}

static int cmp_total(const void *x, const void *y)
{
    const row_key *p = x, *q = y;
    if (p->total != q->total)
        return p->total > q->total ? -1 : 1;
    if (p->self != q->self)
        return p->self > q->self ? -1 : 1;
    return cmp_str_line(p, q);
}

static int cmp_name(const void *x, const void *y) { return cmp_str_line(x, y); }

void sg_rows_free(sg_rows *r)
{
    free(r->rows);
    sg_buf_free(&r->text);
    memset(r, 0, sizeof *r);
}

/* Appends s escaped and NUL-terminated; returns its offset. */
static size_t put_escaped(sg_buf *b, const char *s)
{
    size_t at = b->len;
    sg_wc_escape(b, s, strlen(s));
    sg_buf_putc(b, '\0');
    return at;
}

static uint32_t find_track(const sg_profile *p, uint32_t pid, uint64_t tid)
{
    const sg_track *t = sg_profile_tracks_c(p);
    const sg_process *pr = sg_profile_processes_c(p);
    for (size_t i = 0; i < sg_profile_ntracks(p); i++)
        if (t[i].tid == tid && (pid == 0 || pr[t[i].process].pid == pid))
            return (uint32_t)i;
    return SG_NONE;
}

/* The candidate rows (nonzero total or self) with their sort keys; NULL when out of
 * memory. */
static row_key *collect(const sg_profile *p, const sg_wc_stats *s, sg_rows_kind kind,
                        size_t *n)
{
    size_t cap = kind == SG_ROWS_LINES ? s->nline : sg_profile_nfunctions(p), k = 0;
    row_key *keys = malloc((cap ? cap : 1) * sizeof *keys);
    if (!keys)
        return NULL;
    if (kind == SG_ROWS_LINES) {
        for (size_t i = 0; i < s->nline; i++) {
            const sg_wc_stat *st = &s->line_stat[i];
            if (st->self || st->total)
                keys[k++] = (row_key){st->self, st->total,
                                      sg_wc_func_name(p, s->line[i].function),
                                      sg_profile_str(p, s->line[i].filename), s->line[i].line,
                                      (uint32_t)i};
        }
    } else {
        const sg_function *fn = sg_profile_functions(p);
        for (size_t i = 0; i < cap; i++) {
            const sg_wc_stat *st = &s->func[i];
            if (st->self || st->total)
                keys[k++] = (row_key){st->self, st->total, sg_wc_func_name(p, (uint32_t)i),
                                      sg_profile_str(p, fn[i].filename), fn[i].first_line,
                                      (uint32_t)i};
        }
    }
    *n = k;
    return keys;
}

int sg_rows_build(const sg_profile *p, const sg_rows_query *q, sg_rows *out, sg_error *err)
{
    memset(out, 0, sizeof *out);
    sg_buf_init(&out->text);
    uint32_t track = SG_NONE;
    if (q->one_thread && (track = find_track(p, q->pid, q->tid)) == SG_NONE)
        return 0;
    sg_write_opts o;
    sg_write_opts_init(&o);
    o.view = q->view;
    sg_wc_ctx c;
    sg_wc_init(&c, p, &o);
    sg_wc_stats s;
    row_key *keys = NULL;
    size_t n = 0;
    if (sg_wc_stats_build(&c, track, &s) || !(keys = collect(p, &s, q->kind, &n)))
        goto oom;
    qsort(keys, n, sizeof *keys,
          q->sort == SG_ROWS_BY_TOTAL  ? cmp_total
          : q->sort == SG_ROWS_BY_NAME ? cmp_name
                                       : cmp_self);
    if (q->limit && n > q->limit)
        n = q->limit;
    out->grand = s.grand;
    if (!(out->rows = malloc((n ? n : 1) * sizeof *out->rows)))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        out->rows[i] = (sg_row){.line = keys[i].line, .self = keys[i].self,
                                .total = keys[i].total};
        out->rows[i].name = put_escaped(&out->text, keys[i].name);
        out->rows[i].file = put_escaped(&out->text, keys[i].file);
    }
    out->n = n;
    if (sg_buf_failed(&out->text))
        goto oom;
    free(keys);
    sg_wc_stats_free(&s);
    return 0;
oom:
    free(keys);
    sg_wc_stats_free(&s);
    sg_rows_free(out);
    return sg_fail(err, SG_E_NOMEM, 0, "out of memory while building rows");
}

int sg_rows_threads(const sg_profile *p, sg_thread_row **rows, size_t *n, sg_buf *text,
                    sg_error *err)
{
    size_t nt = sg_profile_ntracks(p), nr = sg_profile_nrecords(p);
    const sg_record *r = sg_profile_records(p);
    const sg_track *t = sg_profile_tracks_c(p);
    const sg_process *pr = sg_profile_processes_c(p);
    sg_thread_row *acc = calloc(nt ? nt : 1, sizeof *acc);
    sg_thread_row *res = calloc(nt ? nt : 1, sizeof *res);
    bool *seen = calloc(nt ? nt : 1, sizeof *seen);
    uint32_t *order = sg_wc_tracks_sorted(p);
    *rows = NULL;
    *n = 0;
    if (!acc || !res || !seen || !order)
        goto oom;
    for (size_t i = 0; i < nr; i++) {
        if (r[i].track >= nt)
            continue;
        sg_thread_row *a = &acc[r[i].track];
        int64_t v = r[i].values[0];
        seen[r[i].track] = true;
        a->samples += v;
        a->oncpu += r[i].flags & SG_F_ONCPU ? v : 0;
        a->gil += r[i].flags & SG_F_GIL ? v : 0;
        a->gilwait += r[i].flags & SG_F_GILWAIT ? v : 0;
    }
    size_t k = 0;
    for (size_t j = 0; j < nt; j++) {
        uint32_t i = order[j];
        if (!seen[i])
            continue;
        sg_thread_row row = acc[i];
        row.pid = pr[t[i].process].pid;
        row.tid = t[i].tid;
        row.is_main = t[i].is_main;
        row.name = put_escaped(text, sg_profile_str(p, t[i].name));
        res[k++] = row;
    }
    if (sg_buf_failed(text))
        goto oom;
    free(acc);
    free(seen);
    free(order);
    *rows = res;
    *n = k;
    return 0;
oom:
    free(acc);
    free(res);
    free(seen);
    free(order);
    return sg_fail(err, SG_E_NOMEM, 0, "out of memory while counting thread states");
}
