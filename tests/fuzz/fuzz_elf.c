/* Fuzz target: the ELF reader that finds _PyRuntime, Py_Version and the type objects in
 * the target's executable or libpython (a file the target's owner controls). */
#include <string.h>

#include "../../src/core/discover/sg_discover.h"
#include "sg_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sg_elf_info info;
    sg_error err;
    if (sg_elf_parse(data, size, &info, &err) == 0) {
        /* the version string, when found, is a C string of the buffer's size */
        SG_FUZZ_ASSERT(memchr(info.version_string, '\0', sizeof info.version_string));
    } else {
        SG_FUZZ_ASSERT(err.code == SG_E_ELF);
    }
    return 0;
}
