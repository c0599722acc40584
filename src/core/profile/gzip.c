/* zlib's stream API takes 32-bit lengths, so both directions feed it in slices. */
#include "sg_gzip.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define SG_GZ_SLICE ((size_t)1 << 30)
#define SG_GZ_WINDOW_GZIP (15 + 16) /* windowBits: write a gzip header */

static uInt slice(size_t n) { return (uInt)(n < SG_GZ_SLICE ? n : SG_GZ_SLICE); }

bool sg_gzip_is(const void *data, size_t len)
{
    const unsigned char *p = data;
    return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

int sg_gzip_compress(const void *in, size_t len, void **out, size_t *out_len, sg_error *err)
{
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, SG_GZ_WINDOW_GZIP, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return sg_fail(err, SG_E_NOMEM, 0, "starting gzip compression");
    /* deflateBound holds for the whole input however it is sliced, plus a little for
     * the extra block boundaries slicing can add. */
    size_t cap = (size_t)deflateBound(&z, (uLong)len) + 64 + len / SG_GZ_SLICE * 16;
    unsigned char *buf = malloc(cap);
    if (!buf) {
        deflateEnd(&z);
        return sg_fail(err, SG_E_NOMEM, 0, "compressing %zu bytes", len);
    }
    const unsigned char *src = in ? in : (const void *)"";
    size_t in_done = 0, out_done = 0;
    int rc;
    do {
        size_t in_left = len - in_done;
        z.next_in = (Bytef *)(uintptr_t)(src + in_done);
        z.avail_in = slice(in_left);
        z.next_out = buf + out_done;
        z.avail_out = slice(cap - out_done);
        uInt in_given = z.avail_in, out_given = z.avail_out;
        rc = deflate(&z, in_given == in_left ? Z_FINISH : Z_NO_FLUSH);
        in_done += in_given - z.avail_in;
        out_done += out_given - z.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            break;
        if (rc == Z_BUF_ERROR && out_done == cap)
            break;
    } while (rc != Z_STREAM_END);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(buf);
        return sg_fail(err, SG_E_NOMEM, 0, "gzip compression failed (zlib error %d)", rc);
    }
    *out = buf;
    *out_len = out_done;
    return 0;
}

int sg_gzip_decompress(const void *in, size_t len, size_t max, void **out, size_t *out_len,
                       sg_error *err)
{
    *out = NULL;
    *out_len = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* 15 + 32: accept a gzip or zlib header */
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return sg_fail(err, SG_E_NOMEM, 0, "starting gzip decompression");
    size_t cap = len < max / 4 ? len * 4 + 256 : max;
    if (cap > max)
        cap = max;
    unsigned char *buf = malloc(cap ? cap : 1);
    const unsigned char *src = in ? in : (const void *)"";
    size_t in_done = 0, out_done = 0;
    int result = 0;
    if (!buf)
        result = sg_fail(err, SG_E_NOMEM, 0, "decompressing %zu bytes", len);
    while (!result) {
        if (out_done == cap) {
            if (cap >= max) {
                result = sg_fail(err, SG_E_CORRUPT, 0,
                                 "gzip data decompresses to more than %zu bytes", max);
                break;
            }
            size_t ncap = cap > max / 2 ? max : cap * 2;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                result = sg_fail(err, SG_E_NOMEM, 0, "decompressing to %zu bytes", ncap);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        z.next_in = (Bytef *)(uintptr_t)(src + in_done);
        z.avail_in = slice(len - in_done);
        z.next_out = buf + out_done;
        z.avail_out = slice(cap - out_done);
        uInt in_given = z.avail_in, out_given = z.avail_out;
        int rc = inflate(&z, Z_NO_FLUSH);
        in_done += in_given - z.avail_in;
        out_done += out_given - z.avail_out;
        if (rc == Z_STREAM_END) {
            if (sg_gzip_is(src + in_done, len - in_done) && inflateReset(&z) == Z_OK)
                continue; /* another member follows */
            break;
        }
        if (rc == Z_OK || (rc == Z_BUF_ERROR && out_done == cap))
            continue;
        if (rc == Z_BUF_ERROR)
            result = sg_fail(err, SG_E_CORRUPT, 0, "gzip data is truncated");
        else if (rc == Z_MEM_ERROR)
            result = sg_fail(err, SG_E_NOMEM, 0, "decompressing %zu bytes", len);
        else
            result = sg_fail(err, SG_E_CORRUPT, 0, "gzip data is corrupt (%s)",
                             z.msg ? z.msg : "bad data");
    }
    inflateEnd(&z);
    if (result) {
        free(buf);
        return result;
    }
    *out = buf;
    *out_len = out_done;
    return 0;
}
