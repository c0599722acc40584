/* Text cells for the human-readable writers. Function and file names come from the
 * profiled program and are data: they must not be able to move the cursor, clear the
 * screen, fake a line or reorder text on the reader's terminal. So every name passes
 * through sg_wc_escape, and widths are counted in code points (an approximation:
 * East Asian wide characters take two columns on most terminals). */
#include <stdio.h>
#include <string.h>

#include "sg_write_common.h"

/* Length of the valid UTF-8 sequence at s (at most n bytes) and its code point; 0 when
 * the bytes are not valid UTF-8 (overlong, surrogate, out of range, truncated). */
size_t sg_wc_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* Code points a terminal would act on rather than show: C0, DEL, C1, the line and
 * paragraph separators and the bidirectional controls ("trojan source"). */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t sg_wc_escape(sg_buf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t cols = 0, i = 0;
    char tmp[16];
    while (i < len) {
        uint32_t cp;
        size_t n = sg_wc_utf8_decode(u + i, len - i, &cp);
        if (n == 0) {
            snprintf(tmp, sizeof tmp, "\\x%02x", u[i]);
            sg_buf_puts(b, tmp);
            cols += 4;
            i++;
        } else if (is_control(cp)) {
            int k = cp < 0x100 ? snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)cp)
                               : snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)cp);
            sg_buf_append(b, tmp, (size_t)k);
            cols += (size_t)k;
            i += n;
        } else {
            sg_buf_append(b, s + i, n);
            cols++;
            i += n;
        }
    }
    return cols;
}

/* Byte offset of code point k in valid UTF-8 s. */
static size_t cp_offset(const char *s, size_t len, size_t k)
{
    size_t i = 0;
    while (i < len && k) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
            i++;
        k--;
    }
    return i;
}

void sg_wc_spaces(sg_buf *b, size_t n)
{
    static const char sp[] = "                                ";
    while (n) {
        size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;
        sg_buf_append(b, sp, k);
        n -= k;
    }
}

size_t sg_wc_cols(const char *s)
{
    sg_buf t;
    sg_buf_init(&t);
    size_t cols = sg_wc_escape(&t, s, strlen(s));
    sg_buf_free(&t);
    return cols;
}

void sg_wc_cell(sg_buf *b, const char *s, size_t width, sg_fit fit)
{
    sg_buf t;
    sg_buf_init(&t);
    size_t cols = sg_wc_escape(&t, s, strlen(s));
    if (sg_buf_failed(&t)) {
        b->failed = true;
        sg_buf_free(&t);
        return;
    }
    if (width == 0 || cols <= width) {
        size_t pad = width > cols ? width - cols : 0;
        if (fit == SG_FIT_RIGHT)
            sg_wc_spaces(b, pad);
        sg_buf_append(b, t.data, t.len);
        if (fit == SG_FIT_LEFT || fit == SG_FIT_LEFT_TAIL)
            sg_wc_spaces(b, pad);
    } else if (fit == SG_FIT_LEFT_TAIL) {
        sg_buf_puts(b, "…");
        size_t off = cp_offset(t.data, t.len, cols - (width - 1));
        sg_buf_append(b, t.data + off, t.len - off);
    } else {
        sg_buf_append(b, t.data, cp_offset(t.data, t.len, width - 1));
        sg_buf_puts(b, "…");
    }
    sg_buf_free(&t);
}

void sg_wc_pct(sg_buf *b, int64_t part, int64_t whole, int width)
{
    double pct = whole ? 100.0 * (double)part / (double)whole : 0.0;
    sg_buf_printf(b, "%*.1f%%", width > 0 ? width - 1 : 0, pct);
}

void sg_wc_secs(sg_buf *b, const sg_wc_ctx *c, int64_t v, int width)
{
    if (c->sec_per_unit > 0)
        sg_buf_printf(b, "%*.3f", width, sg_wc_seconds(c, v));
    else
        sg_buf_printf(b, "%*s", width, "-");
}

void sg_wc_newline(sg_buf *b)
{
    while (b->len && b->data && b->data[b->len - 1] == ' ')
        b->len--;
    sg_buf_putc(b, '\n');
}

void sg_wc_color(sg_buf *b, bool on, const char *sgr)
{
    if (!on)
        return;
    sg_buf_puts(b, "\x1b[");
    sg_buf_puts(b, *sgr ? sgr : "0");
    sg_buf_putc(b, 'm');
}

void sg_wc_place(sg_buf *b, const sg_profile *p, uint32_t file, int32_t line, size_t width,
                 sg_fit fit)
{
    sg_buf s;
    sg_buf_init(&s);
    sg_buf_puts(&s, sg_profile_str(p, file));
    sg_buf_printf(&s, ":%d", (int)line);
    sg_wc_cell(b, sg_buf_cstr(&s), width, fit);
    if (sg_buf_failed(&s))
        b->failed = true;
    sg_buf_free(&s);
}
