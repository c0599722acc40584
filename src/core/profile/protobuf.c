/* Protocol-buffers wire format (developers.google.com/protocol-buffers/docs/encoding):
 * tag = field << 3 | wire type, varints little-endian base 128. */
#include "sg_protobuf.h"

#include <string.h>

/* Field numbers are 29 bits in the wire format. */
#define SG_PB_MAX_FIELD ((1u << 29) - 1)

void sg_pb_put_varint(sg_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    sg_buf_append(b, tmp, n);
}

static void put_tag(sg_buf *b, uint32_t field, int wire)
{
    sg_pb_put_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

void sg_pb_put_uint(sg_buf *b, uint32_t field, uint64_t v)
{
    put_tag(b, field, SG_PB_VARINT);
    sg_pb_put_varint(b, v);
}

void sg_pb_put_int(sg_buf *b, uint32_t field, int64_t v)
{
    sg_pb_put_uint(b, field, (uint64_t)v);
}

void sg_pb_put_bytes(sg_buf *b, uint32_t field, const void *data, size_t len)
{
    put_tag(b, field, SG_PB_LEN);
    sg_pb_put_varint(b, len);
    if (len)
        sg_buf_append(b, data, len);
}

void sg_pb_put_packed(sg_buf *b, uint32_t field, const uint64_t *v, size_t n)
{
    if (n == 0)
        return;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = v[i];
        do {
            len++;
            x >>= 7;
        } while (x);
    }
    put_tag(b, field, SG_PB_LEN);
    sg_pb_put_varint(b, len);
    for (size_t i = 0; i < n; i++)
        sg_pb_put_varint(b, v[i]);
}

void sg_pb_reader_init(sg_pb_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->end = r->p ? r->p + len : r->p;
}

bool sg_pb_read_varint(sg_pb_reader *r, uint64_t *v)
{
    uint64_t val = 0;
    for (int i = 0; i < 10; i++) {
        if (r->p >= r->end)
            return false;
        uint8_t b = *r->p++;
        if (i == 9 && b > 1)
            return false; /* more than 64 bits */
        val |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = val;
            return true;
        }
    }
    return false;
}

int sg_pb_next(sg_pb_reader *r, sg_pb_field *f, const char **why)
{
    if (r->p >= r->end)
        return 0;
    uint64_t tag;
    if (!sg_pb_read_varint(r, &tag)) {
        *why = "truncated field tag";
        return -1;
    }
    uint64_t num = tag >> 3;
    if (num == 0 || num > SG_PB_MAX_FIELD) {
        *why = "invalid field number";
        return -1;
    }
    f->num = (uint32_t)num;
    f->wire = (int)(tag & 7);
    f->v = 0;
    f->data = NULL;
    f->len = 0;
    size_t left;
    switch (f->wire) {
    case SG_PB_VARINT:
        if (!sg_pb_read_varint(r, &f->v)) {
            *why = "truncated varint";
            return -1;
        }
        return 1;
    case SG_PB_FIXED64:
    case SG_PB_FIXED32: {
        size_t n = f->wire == SG_PB_FIXED64 ? 8 : 4;
        if ((size_t)(r->end - r->p) < n) {
            *why = "truncated fixed-size value";
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            f->v |= (uint64_t)r->p[i] << (8 * i);
        r->p += n;
        return 1;
    }
    case SG_PB_LEN:
        if (!sg_pb_read_varint(r, &f->v)) {
            *why = "truncated length";
            return -1;
        }
        left = (size_t)(r->end - r->p);
        if (f->v > left) {
            *why = "length runs past the end of the data";
            return -1;
        }
        f->data = r->p;
        f->len = (size_t)f->v;
        r->p += f->len;
        return 1;
    default:
        *why = "unsupported wire type";
        return -1;
    }
}

bool sg_pb_values_init(sg_pb_values *it, const sg_pb_field *f)
{
    it->done = false;
    if (f->wire == SG_PB_VARINT) {
        it->single = true;
        it->value = f->v;
        sg_pb_reader_init(&it->r, NULL, 0);
        return true;
    }
    it->single = false;
    it->value = 0;
    sg_pb_reader_init(&it->r, f->data, f->len);
    return f->wire == SG_PB_LEN;
}

int sg_pb_values_next(sg_pb_values *it, uint64_t *v)
{
    if (it->single) {
        if (it->done)
            return 0;
        it->done = true;
        *v = it->value;
        return 1;
    }
    if (it->r.p >= it->r.end)
        return 0;
    return sg_pb_read_varint(&it->r, v) ? 1 : -1;
}
