/* Escaping for the writers whose output a browser reads (SVG, HTML, JSON inside HTML).
 * Function and file names come from the profiled program: a name like
 * "<script>alert(1)</script>", "]]>" or one holding U+2028 must stay text. So:
 *
 * - names look the same as in the text reports: control characters, bidirectional
 *   controls and invalid UTF-8 become visible "\xNN" / "\uNNNN" text (sg_wc_escape's
 *   rules), so a name can neither fake a line nor reorder what is shown;
 * - markup (XML/HTML text and attribute values): & < > " ' become character
 *   references; what is left is valid UTF-8 with only characters XML 1.0 allows;
 * - JSON strings meant for a <script> element: additionally < > & become \u003c,
 *   \u003e, \u0026 (no "</script>" and no "<!--" can appear) and U+2028/U+2029 are
 *   escaped (older JavaScript parsers end a line there). */
#include <stdio.h>
#include <string.h>

#include "sg_write_common.h"

/* Shown as an escape in a name: what a terminal would act on (C0, DEL, C1, line and
 * paragraph separators, bidirectional controls) and the non-characters XML forbids. */
static bool name_hides(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0xfffe || cp == 0xffff;
}

/* Visible escape of a hidden code point or an invalid byte. */
static int visible(char *tmp, size_t size, uint32_t cp)
{
    return cp < 0x100 ? snprintf(tmp, size, "\\x%02x", (unsigned)cp)
                      : snprintf(tmp, size, "\\u%04x", (unsigned)cp);
}

static void markup_char(sg_buf *b, const char *s, size_t n, uint32_t cp)
{
    switch (cp) {
    case '&':
        sg_buf_puts(b, "&amp;");
        break;
    case '<':
        sg_buf_puts(b, "&lt;");
        break;
    case '>':
        sg_buf_puts(b, "&gt;");
        break;
    case '"':
        sg_buf_puts(b, "&quot;");
        break;
    case '\'':
        sg_buf_puts(b, "&#39;");
        break;
    default:
        sg_buf_append(b, s, n);
    }
}

size_t sg_wc_markup(sg_buf *b, const char *s, size_t len, size_t max_cps)
{
    const unsigned char *u = (const unsigned char *)s;
    char tmp[16];
    size_t i = 0, cps = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = sg_wc_utf8_decode(u + i, len - i, &cp);
        int k = 0;
        if (n == 0 || name_hides(cp))
            k = visible(tmp, sizeof tmp, n == 0 ? u[i] : cp);
        size_t width = k ? (size_t)k : 1;
        if (max_cps && cps + width > max_cps)
            return cps;
        if (k)
            sg_buf_append(b, tmp, (size_t)k);
        else
            markup_char(b, s + i, n, cp);
        cps += width;
        i += n ? n : 1;
    }
    return cps;
}

size_t sg_wc_markup_cps(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    char tmp[16];
    size_t i = 0, cps = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = sg_wc_utf8_decode(u + i, len - i, &cp);
        cps += (n == 0 || name_hides(cp)) ? (size_t)visible(tmp, sizeof tmp, n ? cp : u[i]) : 1;
        i += n ? n : 1;
    }
    return cps;
}

void sg_wc_json_str(sg_buf *b, const char *s, size_t len, bool name)
{
    const unsigned char *u = (const unsigned char *)s;
    char tmp[16];
    sg_buf_putc(b, '"');
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n = sg_wc_utf8_decode(u + i, len - i, &cp);
        if (n == 0) {
            /* names: the same visible escape as elsewhere; source text: U+FFFD */
            if (name) {
                snprintf(tmp, sizeof tmp, "\\\\x%02x", u[i]);
                sg_buf_puts(b, tmp);
            } else {
                sg_buf_puts(b, "\\ufffd");
            }
            i++;
            continue;
        }
        i += n;
        if (name && name_hides(cp)) {
            /* the visible escape's backslash is itself escaped for JSON */
            int k = visible(tmp, sizeof tmp, cp);
            sg_buf_putc(b, '\\');
            sg_buf_append(b, tmp, (size_t)k);
            continue;
        }
        switch (cp) {
        case '"':
            sg_buf_puts(b, "\\\"");
            break;
        case '\\':
            sg_buf_puts(b, "\\\\");
            break;
        case '\n':
            sg_buf_puts(b, "\\n");
            break;
        case '\t':
            sg_buf_puts(b, "\\t");
            break;
        case '<':
        case '>':
        case '&':
        case 0x2028:
        case 0x2029:
            sg_buf_printf(b, "\\u%04x", (unsigned)cp);
            break;
        default:
            if (cp < 0x20 || cp == 0x7f)
                sg_buf_printf(b, "\\u%04x", (unsigned)cp);
            else
                sg_buf_append(b, s + i - n, n);
        }
    }
    sg_buf_putc(b, '"');
}
