/* The live-process readers on our own PID: both read what is there, fail on bad
 * addresses without a signal, stop a batch at the first bad region, and AUTO picks
 * process_vm_readv when it is allowed. */
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../src/core/mem/sg_reader.h"
#include "sg_test.h"

static const char secret[] = "spyglass reads itself";

static void check_reader(sg_reader *r)
{
    SG_CHECK(r != NULL);
    if (!r)
        return;
    char buf[sizeof secret];
    sg_error err;
    sg_error_clear(&err);
    SG_CHECK_EQ_INT(sg_read(r, (uint64_t)(uintptr_t)secret, buf, sizeof buf, &err), 0);
    SG_CHECK(memcmp(buf, secret, sizeof secret) == 0);

    /* NULL, a PROT_NONE page, an unmapped page and a non-canonical address. */
    long page = sysconf(_SC_PAGESIZE);
    char *guard = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    SG_CHECK(guard != MAP_FAILED);
    memset(guard, 'x', (size_t)page);
    munmap(guard + page, (size_t)page);
    uint64_t bad[] = {0, (uint64_t)(uintptr_t)(guard + page), 0xffff800000000000ULL,
                      UINT64_MAX - 3};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sg_error_clear(&err);
        SG_CHECK_EQ_INT(sg_read(r, bad[i], buf, 8, &err), -1);
        SG_CHECK_EQ_INT(err.code, SG_E_READ);
    }
    /* A read straddling the end of the mapping fails as a whole. */
    SG_CHECK_EQ_INT(sg_read(r, (uint64_t)(uintptr_t)(guard + page - 4), buf, 8, &err), -1);

    /* A batch stops at its first bad region. */
    char a[4], b[4], c[4];
    sg_iov iov[3] = {{(uint64_t)(uintptr_t)secret, a, 4},
                     {(uint64_t)(uintptr_t)(guard + page), b, 4},
                     {(uint64_t)(uintptr_t)guard, c, 4}};
    SG_CHECK_EQ_INT(sg_readv(r, iov, 3), 1);
    SG_CHECK(memcmp(a, "spyg", 4) == 0);
    iov[1].addr = (uint64_t)(uintptr_t)guard;
    SG_CHECK_EQ_INT(sg_readv(r, iov, 3), 3);
    SG_CHECK(memcmp(b, "xxxx", 4) == 0 && memcmp(c, "xxxx", 4) == 0);
    munmap(guard, (size_t)page);
    sg_reader_free(r);
}

static void test_procmem_self(void)
{
    sg_error err;
    sg_error_clear(&err);
    sg_reader *r = sg_reader_open(getpid(), SG_READER_PROCMEM, &err);
    SG_CHECK(r && r->kind == SG_READER_PROCMEM);
    check_reader(r);
}

static void test_vm_self_and_auto(void)
{
    sg_error err;
    sg_error_clear(&err);
    sg_reader *r = sg_reader_open(getpid(), SG_READER_AUTO, &err);
    SG_CHECK(r != NULL);
    /* Where process_vm_readv is forbidden AUTO must have fallen back. */
    SG_CHECK(r && (r->kind == SG_READER_VM || r->kind == SG_READER_PROCMEM));
    bool vm = r && r->kind == SG_READER_VM;
    check_reader(r);
    if (vm)
        check_reader(sg_reader_open(getpid(), SG_READER_VM, &err));
}

static void test_no_such_process(void)
{
    sg_error err;
    sg_error_clear(&err);
    SG_CHECK(sg_reader_open(0, SG_READER_PROCMEM, &err) == NULL);
    SG_CHECK_EQ_INT(err.code, SG_E_ARG);
    /* PID_MAX_LIMIT is 2^22: this PID cannot exist. */
    SG_CHECK(sg_reader_open(1 << 23, SG_READER_PROCMEM, &err) == NULL);
    SG_CHECK_EQ_INT(err.code, SG_E_NO_PROCESS);
    SG_CHECK(sg_reader_open(1 << 23, SG_READER_AUTO, &err) == NULL);
    SG_CHECK_EQ_INT(err.code, SG_E_NO_PROCESS);
    SG_CHECK_EQ_STR(sg_reader_kind_name(SG_READER_PROCMEM), "/proc/PID/mem");
    SG_CHECK_EQ_STR(sg_reader_kind_name(SG_READER_VM), "process_vm_readv");
}

int main(void)
{
    SG_RUN(test_procmem_self);
    SG_RUN(test_vm_self_and_auto);
    SG_RUN(test_no_such_process);
    SG_TEST_MAIN_END();
}
