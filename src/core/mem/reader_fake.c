/* A reader over copied regions: lets unit tests and fuzzers feed the walker a
 * synthetic memory image (valid-looking pointers to random bytes included). */
#include <stdlib.h>
#include <string.h>

#include "sg_reader.h"

typedef struct {
    uint64_t addr;
    size_t len;
    unsigned char *data;
} region;

typedef struct {
    sg_reader base;
    region *regions;
    size_t n, cap;
} fake_reader;

static int fake_read(sg_reader *r, uint64_t addr, void *buf, size_t len, sg_error *err)
{
    fake_reader *f = (fake_reader *)r;
    for (size_t i = 0; i < f->n; i++) {
        region *g = &f->regions[i];
        if (addr >= g->addr && addr - g->addr <= g->len && len <= g->len - (addr - g->addr)) {
            memcpy(buf, g->data + (addr - g->addr), len);
            return 0;
        }
    }
    return sg_fail(err, SG_E_READ, 14 /* EFAULT */, NULL);
}

static size_t fake_readv(sg_reader *r, const sg_iov *iov, size_t n)
{
    sg_error err;
    for (size_t i = 0; i < n; i++)
        if (fake_read(r, iov[i].addr, iov[i].buf, iov[i].len, &err) != 0)
            return i;
    return n;
}

static void fake_free(sg_reader *r)
{
    fake_reader *f = (fake_reader *)r;
    for (size_t i = 0; i < f->n; i++)
        free(f->regions[i].data);
    free(f->regions);
    free(f);
}

static const sg_reader_ops fake_ops = {fake_read, fake_readv, fake_free};

sg_reader *sg_reader_fake_new(void)
{
    fake_reader *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->base.ops = &fake_ops;
    f->base.pid = -1;
    return &f->base;
}

int sg_reader_fake_add(sg_reader *r, uint64_t addr, const void *data, size_t len)
{
    fake_reader *f = (fake_reader *)r;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        region *g = realloc(f->regions, cap * sizeof *g);
        if (!g)
            return -1;
        f->regions = g;
        f->cap = cap;
    }
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, data, len);
    f->regions[f->n++] = (region){addr, len, copy};
    return 0;
}

int sg_reader_fake_write(sg_reader *r, uint64_t addr, const void *data, size_t len)
{
    fake_reader *f = (fake_reader *)r;
    for (size_t i = 0; i < f->n; i++) {
        region *g = &f->regions[i];
        if (addr >= g->addr && addr - g->addr <= g->len && len <= g->len - (addr - g->addr)) {
            memcpy(g->data + (addr - g->addr), data, len);
            return 0;
        }
    }
    return -1;
}
