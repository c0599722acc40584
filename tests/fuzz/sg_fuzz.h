/* Shared by the fuzz targets: the libFuzzer entry point every target defines, so the
 * same file builds both as a libFuzzer binary (clang -fsanitize=fuzzer) and, linked
 * with replay.c, as a plain program that replays the committed corpus (make ctest). */
#ifndef SG_FUZZ_H
#define SG_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the target checks (not a crash of the code under test, but a wrong answer):
 * abort so that libFuzzer keeps the input and the replay fails loudly. */
#define SG_FUZZ_ASSERT(cond)                                                           \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                            \
            abort();                                                                   \
        }                                                                              \
    } while (0)

#endif
