/* Whole-buffer gzip for the profile file, over zlib. */
#ifndef SG_GZIP_H
#define SG_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "../base/sg_error.h"

/* True when data starts with the gzip magic bytes. */
bool sg_gzip_is(const void *data, size_t len);

/* Compresses into a malloc'ed gzip member. Errors: SG_E_NOMEM. */
int sg_gzip_compress(const void *in, size_t len, void **out, size_t *out_len, sg_error *err);

/* Decompresses gzip data (concatenated members too) into a malloc'ed buffer of at
 * most max bytes. Corrupt or truncated input, or more than max bytes of output
 * (a zip bomb), is SG_E_CORRUPT; trailing bytes after the last member are ignored. */
int sg_gzip_decompress(const void *in, size_t len, size_t max, void **out, size_t *out_len,
                       sg_error *err);

#endif
