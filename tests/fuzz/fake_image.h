/* A fake target memory image for the walker and the symbol cache, laid out from a
 * layout table (sg_pyabi) and a stream of bytes: the raw contents of every object come
 * from the stream, and so do the choices of where each pointer field points (an object
 * of the expected kind, any object at an odd offset, or left as random bytes). The
 * result is "random bytes behind valid-looking pointers": deep enough that frames,
 * code objects, strings and line tables are reached, hostile everywhere.
 *
 * Objects, each FI_OBJ bytes, contiguous from FI_BASE:
 *   0 runtime, 1 misc (cframe, GIL, pthread), 2-3 thread states, 4-7 frames (also the
 *   3.11+ data-stack chunk), 8-9 code objects, 10-12 str objects, 13 bytes (line table),
 *   14 type objects (PyCode_Type at +0, PyFrame_Type at +FI_OBJ/2), and last the
 *   interpreter, FI_INTERP_SIZE bytes (3.13's thread list is 7 KiB into it). */
#ifndef SG_FAKE_IMAGE_H
#define SG_FAKE_IMAGE_H

#include <stdint.h>
#include <string.h>

#include "../../src/core/discover/sg_discover.h"
#include "../../src/core/mem/sg_reader.h"

#define FI_BASE 0x10000000ull
#define FI_OBJ 1024u
#define FI_NOBJ 16u /* the last one is the interpreter */
#define FI_INTERP_SIZE 8192u
#define FI_IMAGE_SIZE ((size_t)(FI_NOBJ - 1) * FI_OBJ + FI_INTERP_SIZE)
#define FI_PID 4242

enum { FI_RUNTIME = 0, FI_MISC = 1, FI_TSTATE = 2, FI_FRAME = 4, FI_CODE = 8, FI_STR = 10,
       FI_BYTES = 13, FI_TYPES = 14, FI_INTERP = 15 };

typedef struct fi_stream {
    const uint8_t *p;
    size_t len, pos;
} fi_stream;

static inline uint8_t fi_byte(fi_stream *s)
{
    return s->len ? s->p[s->pos++ % s->len] : 0;
}

static inline uint64_t fi_addr(unsigned obj, uint64_t off) { return FI_BASE + obj * FI_OBJ + off; }

static inline void fi_put(uint8_t *img, unsigned obj, int32_t off, const void *v, size_t n)
{
    if (off < 0 || (uint64_t)off + n > (obj == FI_INTERP ? FI_INTERP_SIZE : FI_OBJ))
        return; /* a field beyond what we model: its bytes stay random */
    memcpy(img + obj * FI_OBJ + (uint32_t)off, v, n);
}

static inline void fi_put64(uint8_t *img, unsigned obj, int32_t off, uint64_t v)
{
    fi_put(img, obj, off, &v, 8);
}

/* A pointer field: mostly to an object of kind [first, first+count), sometimes NULL
 * (when may_end), to any object at an odd offset, or left random. */
static inline void fi_ptr(uint8_t *img, fi_stream *s, unsigned obj, int32_t off,
                          unsigned first, unsigned count, int may_end)
{
    uint8_t c = fi_byte(s);
    if (c >= 240)
        return;
    uint64_t v;
    if (may_end && c < 64)
        v = 0;
    else if (c >= 224)
        v = fi_addr(c % FI_NOBJ, (uint64_t)(c & 0x38));
    else
        v = fi_addr(first + c % count, 0);
    fi_put64(img, obj, off, v);
}

/* Fills img (FI_IMAGE_SIZE bytes: raw, the bytes cycled) and the target description
 * (choices: read from s, from its start). */
static inline void fi_build(uint8_t *img, const sg_pyabi *a, const uint8_t *raw,
                            size_t raw_len, fi_stream *s, sg_target *t)
{
    for (size_t i = 0; i < FI_IMAGE_SIZE; i++)
        img[i] = raw_len ? raw[i % raw_len] : 0;
    memset(t, 0, sizeof *t);
    t->pid = FI_PID;
    t->abi = *a;
    t->runtime_addr = fi_addr(FI_RUNTIME, 0);
    uint8_t flags = fi_byte(s);
    t->code_type_addr = (flags & 1) ? fi_addr(FI_TYPES, 0) : 0;
    t->frame_type_addr = (flags & 2) ? fi_addr(FI_TYPES, FI_OBJ / 2) : 0;

    fi_ptr(img, s, FI_RUNTIME, a->runtime_interpreters_head, FI_INTERP, 1, 0);
    fi_ptr(img, s, FI_INTERP, a->interp_threads_head, FI_TSTATE, 2, 0);
    fi_ptr(img, s, FI_INTERP, a->interp_next, FI_INTERP, 1, 1);
    if (fi_byte(s) < 200)
        fi_put64(img, FI_INTERP, a->interp_next, 0);
    fi_ptr(img, s, FI_INTERP, a->interp_gil_ptr, FI_MISC, 1, 0);

    for (unsigned k = FI_TSTATE; k < FI_TSTATE + 2; k++) {
        fi_ptr(img, s, k, a->tstate_next, FI_TSTATE, 2, 1);
        fi_ptr(img, s, k, a->tstate_interp, FI_INTERP, 1, 0);
        if (a->cframe_current_frame >= 0) {
            fi_ptr(img, s, k, a->tstate_frame, FI_MISC, 1, 1);
            fi_ptr(img, s, FI_MISC, a->cframe_current_frame, FI_FRAME, 4, 1);
        } else {
            fi_ptr(img, s, k, a->tstate_frame, FI_FRAME, 4, 1);
        }
        fi_ptr(img, s, k, a->tstate_thread_id, FI_MISC, 1, 0);
        if (a->tstate_datastack_chunk >= 0) {
            uint8_t c = fi_byte(s);
            fi_put64(img, k, a->tstate_datastack_chunk, fi_addr(FI_FRAME, 0));
            fi_put64(img, k, a->tstate_datastack_top, fi_addr(FI_FRAME, (uint64_t)c * 64));
        }
    }
    int32_t pid = FI_PID;
    fi_put(img, FI_MISC, (int32_t)(fi_byte(s) & 0xfc) * 4, &pid, 4); /* glibc's tid */

    for (unsigned k = FI_FRAME; k < FI_FRAME + 4; k++) {
        fi_ptr(img, s, k, a->frame_back, FI_FRAME, 4, 1);
        uint8_t c = fi_byte(s);
        unsigned code = FI_CODE + c % 2;
        if (c < 240)
            fi_put64(img, k, a->frame_code, fi_addr(code, 0));
        uint8_t at = fi_byte(s);
        if (a->frame_model == SG_FRAMES_INTERP) {
            if (at < 240)
                fi_put64(img, k, a->frame_lasti,
                         fi_addr(code, (uint64_t)(a->code_code_adaptive > 0 ? a->code_code_adaptive : 0)) +
                             2u * (at % 64) - 2);
            uint8_t owner = fi_byte(s) % 6;
            fi_put(img, k, a->frame_owner, &owner, 1);
        } else {
            int32_t lasti = (int32_t)(at % 128) - 1;
            if (at < 240)
                fi_put(img, k, a->frame_lasti, &lasti, 4);
            if (fi_byte(s) < 224)
                fi_put64(img, k, a->object_type, t->frame_type_addr);
            uint8_t st = fi_byte(s);
            int8_t state = st < 200 ? a->frame_state_live : st < 230 ? a->frame_state_live2
                                                                     : (int8_t)st;
            if (a->frame_state >= 0)
                fi_put(img, k, a->frame_state, &state, 1);
        }
    }
    for (unsigned k = FI_CODE; k < FI_CODE + 2; k++) {
        if (fi_byte(s) < 240)
            fi_put64(img, k, a->object_type, t->code_type_addr ? t->code_type_addr : fi_addr(FI_TYPES, 0));
        fi_ptr(img, s, k, a->code_filename, FI_STR, 3, 0);
        fi_ptr(img, s, k, a->code_name, FI_STR, 3, 0);
        fi_ptr(img, s, k, a->code_qualname, FI_STR, 3, 0);
        fi_ptr(img, s, k, a->code_linetable, FI_BYTES, 1, 0);
        int32_t first = (int32_t)fi_byte(s) - 8;
        fi_put(img, k, a->code_firstlineno, &first, 4);
        if (a->code_code_adaptive >= 0)
            fi_put64(img, k, a->varobject_size, fi_byte(s)); /* code units */
        if (a->code_firsttraceable >= 0) {
            int32_t ft = fi_byte(s) % 8;
            fi_put(img, k, a->code_firsttraceable, &ft, 4);
        }
    }
    for (unsigned k = FI_STR; k < FI_STR + 3; k++) {
        uint8_t c = fi_byte(s);
        if (c >= 240)
            continue;
        fi_put64(img, k, a->object_type, fi_addr(FI_TYPES, 8));
        fi_put64(img, k, a->unicode_length, fi_byte(s) % 48);
        static const unsigned kinds[4] = {1, 1, 2, 4};
        unsigned kind = kinds[c & 3];
        uint32_t state = kind << a->unicode_kind_shift | 1u << a->unicode_compact_bit |
                         (kind == 1 && (c & 4) ? 1u << a->unicode_ascii_bit : 0);
        fi_put(img, k, a->unicode_state, &state, 4);
    }
    if (fi_byte(s) < 240)
        fi_put64(img, FI_BYTES, a->varobject_size, fi_byte(s));
}

/* A fake reader over the image (and nothing else). NULL when out of memory. */
static inline sg_reader *fi_reader(const uint8_t *img)
{
    sg_reader *r = sg_reader_fake_new();
    if (r && sg_reader_fake_add(r, FI_BASE, img, FI_IMAGE_SIZE) != 0) {
        sg_reader_free(r);
        r = NULL;
    }
    return r;
}

#endif
