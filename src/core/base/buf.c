#include "sg_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sg_buf_init(sg_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void sg_buf_free(sg_buf *b)
{
    free(b->data);
    sg_buf_init(b);
}

void sg_buf_reset(sg_buf *b)
{
    b->len = 0;
    b->failed = false;
}

bool sg_buf_reserve(sg_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (extra > SIZE_MAX / 2 - b->len - 1) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void sg_buf_append(sg_buf *b, const void *data, size_t len)
{
    if (!len || !sg_buf_reserve(b, len))
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void sg_buf_puts(sg_buf *b, const char *s) { sg_buf_append(b, s, strlen(s)); }

void sg_buf_putc(sg_buf *b, char c) { sg_buf_append(b, &c, 1); }

void sg_buf_printf(sg_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        sg_buf_append(b, small, (size_t)n);
        return;
    }
    if (!sg_buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *sg_buf_cstr(sg_buf *b)
{
    if (!sg_buf_reserve(b, 0) || !b->data)
        return "";
    b->data[b->len] = '\0';
    return b->data;
}

char *sg_buf_steal(sg_buf *b, size_t *len)
{
    sg_buf_cstr(b);
    char *p = b->data;
    if (len)
        *len = b->len;
    sg_buf_init(b);
    return p;
}
