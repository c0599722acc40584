/* A growable byte buffer: the writers' output sink and the decoders' scratch space.
 * Allocation failure is sticky: after it every append is a no-op and sg_buf_failed()
 * is true, so a writer checks once at the end instead of after every line. */
#ifndef SG_BUF_H
#define SG_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sg_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} sg_buf;

void sg_buf_init(sg_buf *b);
void sg_buf_free(sg_buf *b);
void sg_buf_reset(sg_buf *b); /* len = 0, keeps memory */
bool sg_buf_reserve(sg_buf *b, size_t extra);
void sg_buf_append(sg_buf *b, const void *data, size_t len);
void sg_buf_puts(sg_buf *b, const char *s);
void sg_buf_putc(sg_buf *b, char c);
void sg_buf_printf(sg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool sg_buf_failed(const sg_buf *b) { return b->failed; }
/* Ensures a NUL after the content (not counted in len) and returns data ("" if empty). */
const char *sg_buf_cstr(sg_buf *b);
/* Hands the memory to the caller (who frees it) and resets b. */
char *sg_buf_steal(sg_buf *b, size_t *len);

#endif
