/* A minimal protocol-buffers wire codec for the fixed pprof schema: varints, tags and
 * length-delimited fields on top of sg_buf for writing, and a bounded field iterator
 * for reading bytes nobody vouches for. No schema, no reflection, no allocation. */
#ifndef SG_PROTOBUF_H
#define SG_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sg_buf.h"

enum { SG_PB_VARINT = 0, SG_PB_FIXED64 = 1, SG_PB_LEN = 2, SG_PB_FIXED32 = 5 };

/* ---- writing (errors are sticky in the sg_buf, see sg_buf_failed) ---- */

void sg_pb_put_varint(sg_buf *b, uint64_t v);
/* Field `field` as a varint; int64 values are written as their two's complement. */
void sg_pb_put_uint(sg_buf *b, uint32_t field, uint64_t v);
void sg_pb_put_int(sg_buf *b, uint32_t field, int64_t v);
/* A length-delimited field: a string, bytes, or an already encoded sub-message. */
void sg_pb_put_bytes(sg_buf *b, uint32_t field, const void *data, size_t len);
/* A packed repeated varint field (nothing is written for n == 0). */
void sg_pb_put_packed(sg_buf *b, uint32_t field, const uint64_t *v, size_t n);

/* ---- reading ---- */

typedef struct sg_pb_reader {
    const uint8_t *p;
    const uint8_t *end;
} sg_pb_reader;

typedef struct sg_pb_field {
    uint32_t num;
    int wire;
    uint64_t v;          /* SG_PB_VARINT, SG_PB_FIXED64, SG_PB_FIXED32 */
    const uint8_t *data; /* SG_PB_LEN: the payload, inside the reader's bytes */
    size_t len;
} sg_pb_field;

void sg_pb_reader_init(sg_pb_reader *r, const void *data, size_t len);

/* Reads one varint (at most 10 bytes, the last one holding at most 1 bit). */
bool sg_pb_read_varint(sg_pb_reader *r, uint64_t *v);

/* Reads the next field of a message. Returns 1 with *f filled, 0 at the end of the
 * bytes, -1 for malformed input with *why set to a short static description (unknown
 * wire types 3 and 4 included: the pprof schema has no groups). */
int sg_pb_next(sg_pb_reader *r, sg_pb_field *f, const char **why);

/* Values of a repeated varint field, which writers send either packed (one SG_PB_LEN
 * field) or one by one: starts an iteration over f. */
typedef struct sg_pb_values {
    sg_pb_reader r;
    bool single;   /* f was one SG_PB_VARINT */
    bool done;
    uint64_t value;
} sg_pb_values;

/* false if f has a wire type a repeated varint cannot have. */
bool sg_pb_values_init(sg_pb_values *it, const sg_pb_field *f);
/* 1 with *v, 0 at the end, -1 for a truncated packed varint. */
int sg_pb_values_next(sg_pb_values *it, uint64_t *v);

#endif
