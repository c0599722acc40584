/* Fuzz target: the stack walker and the symbol cache on a fake memory image built from
 * the input (see fake_image.h). First byte: which CPython layout (3.9 ... 3.13). */
#include "../../src/core/pyabi/sg_pyabi.h"
#include "walk_once.h"

static uint8_t image[FI_IMAGE_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const unsigned minors[] = {9, 10, 11, 12, 13};
    const sg_pyabi *a = sg_pyabi_for(3, minors[data[0] % 5]);
    SG_FUZZ_ASSERT(a != NULL);
    fi_stream s = {data + 1, size - 1, 0};
    sg_target t;
    fi_build(image, a, data + 1, size - 1, &s, &t);
    fi_walk_and_resolve(image, &t);
    return 0;
}
