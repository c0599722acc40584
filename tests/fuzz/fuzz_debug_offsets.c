/* Fuzz target: the 3.13+ _Py_DebugOffsets check, which takes layout offsets from the
 * target's memory. First byte: bit 0 set = keep the input's own header, else the cookie,
 * a matching version and free_threaded = 0 are written over it, so most inputs reach the
 * field checks. Whatever is accepted must be usable: every offset stays inside its
 * structure, and the walker and the symbol cache, given a zero-filled image laid out by
 * the accepted table, read nothing outside their own buffers. */
#include <string.h>

#include "../../src/core/pyabi/sg_pyabi.h"
#include "walk_once.h"

static uint8_t image[FI_IMAGE_SIZE];

static void check_within(int32_t off, int32_t size)
{
    SG_FUZZ_ASSERT(off < 0 || (size > 0 && off < size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const unsigned minors[] = {13, 14, 15, 16}; /* 16: read as the newest we know */
    for (size_t v = 0; v < sizeof minors / sizeof minors[0]; v++) {
        const sg_pyabi *base = sg_pyabi_for(3, minors[v] < 16 ? minors[v] : 15);
        SG_FUZZ_ASSERT(base != NULL);
        sg_pyabi abi = *base;
        abi.minor = (uint8_t)minors[v];
        abi.version_hex = 3u << 24 | minors[v] << 16;
        size_t want = sg_pyabi_debug_block_size(3, minors[v]);
        unsigned char *buf = malloc(size - 1 > want ? size - 1 : want);
        if (!buf)
            return 0;
        memset(buf, 0, want);
        memcpy(buf, data + 1, size - 1);
        size_t len = size - 1;
        if (!(data[0] & 1) && want >= 24) {
            uint64_t hex = (uint64_t)abi.version_hex, ft = 0;
            memcpy(buf, "xdebugpy", 8);
            memcpy(buf + 8, &hex, 8);
            memcpy(buf + 16, &ft, 8);
            if (len < want && (data[0] & 2))
                len = want; /* zero-padded to full size */
        }
        unsigned mismatches = 0;
        sg_error err;
        if (sg_pyabi_apply_debug_offsets(&abi, buf, len, &mismatches, &err) == 0) {
            check_within(abi.runtime_interpreters_head, abi.runtime_size);
            check_within(abi.interp_next, abi.interp_size);
            check_within(abi.interp_threads_head, abi.interp_size);
            check_within(abi.interp_id, abi.interp_size);
            check_within(abi.interp_gil_ptr, abi.interp_size);
            check_within(abi.tstate_next, abi.tstate_size);
            check_within(abi.tstate_interp, abi.tstate_size);
            check_within(abi.tstate_frame, abi.tstate_size);
            check_within(abi.tstate_thread_id, abi.tstate_size);
            check_within(abi.tstate_native_thread_id, abi.tstate_size);
            check_within(abi.frame_back, abi.frame_size);
            check_within(abi.frame_code, abi.frame_size);
            check_within(abi.frame_lasti, abi.frame_size);
            check_within(abi.frame_owner, abi.frame_size);
            check_within(abi.code_filename, abi.code_size);
            check_within(abi.code_name, abi.code_size);
            check_within(abi.code_qualname, abi.code_size);
            check_within(abi.code_linetable, abi.code_size);
            check_within(abi.code_firstlineno, abi.code_size);
            check_within(abi.code_code_adaptive, abi.code_size);
            SG_FUZZ_ASSERT(abi.gil_locked < 0 || abi.gil_locked < abi.gil_size);
            SG_FUZZ_ASSERT(abi.gil_last_holder < 0 || abi.gil_last_holder < abi.gil_size);
            SG_FUZZ_ASSERT(mismatches <= 64);
            fi_stream st = {data, size, 0};
            sg_target t;
            fi_build(image, &abi, NULL, 0, &st, &t);
            fi_walk_and_resolve(image, &t);
        } else {
            SG_FUZZ_ASSERT(err.code == SG_E_INVALID || err.code == SG_E_UNSUPPORTED);
        }
        free(buf);
    }
    return 0;
}
