#include "../../src/core/base/sg_buf.h"
#include "../../src/core/base/sg_error.h"
#include "../../src/core/base/sg_map.h"
#include "../../src/core/mem/sg_reader.h"
#include "sg_test.h"

static void test_map(void)
{
    sg_map m;
    sg_map_init(&m);
    for (uint64_t i = 0; i < 10000; i++)
        SG_CHECK(sg_map_put(&m, i * 7919, i));
    SG_CHECK_EQ_INT(m.len, 10000);
    for (uint64_t i = 0; i < 10000; i++) {
        uint64_t *v = sg_map_get(&m, i * 7919);
        SG_CHECK(v && *v == i);
    }
    for (uint64_t i = 0; i < 10000; i += 2)
        SG_CHECK(sg_map_del(&m, i * 7919));
    SG_CHECK(sg_map_get(&m, 0) == NULL);
    SG_CHECK(sg_map_get(&m, 7919) != NULL);
    size_t n = 0, pos = 0;
    uint64_t k, v;
    while (sg_map_next(&m, &pos, &k, &v))
        n++;
    SG_CHECK_EQ_INT(n, 5000);
    sg_map_free(&m);
}

static void test_buf(void)
{
    sg_buf b;
    sg_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        sg_buf_printf(&b, "%d,", i);
    SG_CHECK(!sg_buf_failed(&b));
    SG_CHECK(strncmp(sg_buf_cstr(&b), "0,1,2,", 6) == 0);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    sg_buf_reset(&b);
    sg_buf_printf(&b, "%s", big);
    SG_CHECK_EQ_INT(b.len, 999);
    sg_buf_free(&b);
}

static void test_error(void)
{
    sg_error e;
    SG_CHECK_EQ_INT(sg_fail(&e, SG_E_READ, 14, "at %d", 5), -1);
    SG_CHECK_EQ_STR(e.msg, "at 5");
    SG_CHECK_EQ_STR(sg_code_name(SG_E_READ), "SG_E_READ");
    SG_CHECK_EQ_STR(sg_code_name((sg_code)999), "SG_E_UNKNOWN");
}

static void test_fake_reader(void)
{
    sg_reader *r = sg_reader_fake_new();
    unsigned char data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    SG_CHECK(sg_reader_fake_add(r, 0x1000, data, sizeof data) == 0);
    unsigned char out[8];
    sg_error e;
    SG_CHECK(sg_read(r, 0x1008, out, 8, &e) == 0 && out[0] == 9);
    SG_CHECK(sg_read(r, 0x1009, out, 8, &e) == -1 && e.code == SG_E_READ);
    SG_CHECK(sg_read(r, UINT64_MAX - 2, out, 8, &e) == -1);
    sg_reader_free(r);
}

int main(void)
{
    SG_RUN(test_map);
    SG_RUN(test_buf);
    SG_RUN(test_error);
    SG_RUN(test_fake_reader);
    SG_TEST_MAIN_END();
}
