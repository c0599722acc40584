/* Source text for the "hottest lines" table and annotated listings. The file names come
 * from the profiled program, so opening one must not hang or flood us: only regular
 * files (a FIFO or a device would block or never end), at most SG_SOURCE_MAX bytes,
 * opened non-blocking, and each file read once per report. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sg_write_common.h"

#define SG_SOURCE_MAX (16u << 20)

void sg_wc_sources_init(sg_wc_sources *c)
{
    memset(c, 0, sizeof *c);
    sg_map_init(&c->by_name);
}

void sg_wc_sources_free(sg_wc_sources *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->items[i].data);
        free(c->items[i].start);
    }
    free(c->items);
    sg_map_free(&c->by_name);
    memset(c, 0, sizeof *c);
}

static char *read_regular(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return NULL;
    struct stat st;
    char *data = NULL;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > SG_SOURCE_MAX)
        goto fail;
    size_t cap = (size_t)st.st_size, n = 0;
    data = malloc(cap + 1);
    if (!data)
        goto fail;
    while (n < cap) {
        ssize_t k = read(fd, data + n, cap - n);
        if (k < 0)
            goto fail;
        if (k == 0)
            break; /* the file shrank meanwhile: keep what was there */
        n += (size_t)k;
    }
    data[n] = '\0';
    close(fd);
    *len = n;
    return data;
fail:
    free(data);
    close(fd);
    return NULL;
}

static bool split_lines(sg_wc_source *s)
{
    size_t n = 1;
    for (size_t i = 0; i < s->len; i++)
        n += s->data[i] == '\n';
    s->start = malloc(n * sizeof *s->start);
    if (!s->start)
        return false;
    s->start[0] = 0;
    s->nlines = 1;
    for (size_t i = 0; i < s->len; i++)
        if (s->data[i] == '\n')
            s->start[s->nlines++] = i + 1;
    if (s->len && s->data[s->len - 1] == '\n')
        s->nlines--; /* no empty last line after a final newline */
    return true;
}

const sg_wc_source *sg_wc_source_get(sg_wc_sources *c, const sg_profile *p, uint32_t filename)
{
    const uint64_t *v = sg_map_get(&c->by_name, filename);
    if (v)
        return c->items[*v].ok ? &c->items[*v] : NULL;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        sg_wc_source *items = realloc(c->items, cap * sizeof *items);
        if (!items)
            return NULL;
        c->items = items;
        c->cap = cap;
    }
    sg_wc_source *s = &c->items[c->n];
    memset(s, 0, sizeof *s);
    const char *path = sg_profile_str(p, filename);
    /* "<string>", "<frozen os>", "<stdin>": code with no file behind it */
    if (*path && *path != '<' && strlen(path) == sg_profile_str_len(p, filename)) {
        s->data = read_regular(path, &s->len);
        if (s->data && split_lines(s))
            s->ok = true;
    }
    if (!s->ok) {
        free(s->data);
        s->data = NULL;
    }
    if (!sg_map_put(&c->by_name, filename, c->n)) {
        free(s->data);
        free(s->start);
        return NULL;
    }
    c->n++;
    return s->ok ? s : NULL;
}

bool sg_wc_source_line(const sg_wc_source *s, int32_t line, const char **text, size_t *len)
{
    if (!s || line < 1 || (size_t)line > s->nlines)
        return false;
    size_t a = s->start[line - 1];
    size_t b = (size_t)line < s->nlines ? s->start[line] : s->len;
    while (b > a && (s->data[b - 1] == '\n' || s->data[b - 1] == '\r'))
        b--;
    *text = s->data + a;
    *len = b - a;
    return true;
}

void sg_wc_source_text(sg_buf *b, const char *text, size_t len, size_t width)
{
    sg_buf t;
    sg_buf_init(&t);
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\t') {
            size_t to = (col / 8 + 1) * 8;
            sg_wc_spaces(&t, to - col);
            col = to;
        } else {
            sg_buf_putc(&t, text[i] ? text[i] : '?');
            col++; /* only used for tab stops: multi-byte characters are rare in indentation */
        }
    }
    sg_wc_cell(b, sg_buf_cstr(&t), width, SG_FIT_NONE);
    if (sg_buf_failed(&t))
        b->failed = true;
    sg_buf_free(&t);
}
