/* Table lookup, and the choice of a target's layout: our table of its minor (and build),
 * checked against the target's own _Py_DebugOffsets where it has them (pyabi_debug.c),
 * or, for a minor newer than our tables, those offsets over the newest table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyabi_tables.h"
#include "sg_pyabi.h"

unsigned sg_pyabi_test_limit(const char *var)
{
    const char *v = getenv(var);
    unsigned major, minor;
    if (!v || sscanf(v, "%u.%u", &major, &minor) != 2 || major != 3)
        return 255;
    return minor;
}

const sg_pyabi *sg_pyabi_for_build(unsigned major, unsigned minor, int free_threaded)
{
    if (minor > sg_pyabi_test_limit("SPYGLASS_TEST_NEWEST_TABLE"))
        return NULL;
    for (size_t i = 0; i < sg_pyabi_ntables; i++) {
        const sg_pyabi *t = sg_pyabi_tables[i];
        if (t->major == major && t->minor == minor && t->free_threaded == !!free_threaded)
            return t;
    }
    return NULL;
}

const sg_pyabi *sg_pyabi_for(unsigned major, unsigned minor)
{
    return sg_pyabi_for_build(major, minor, 0);
}

unsigned sg_pyabi_newest_minor(void)
{
    unsigned newest = 0, limit = sg_pyabi_test_limit("SPYGLASS_TEST_NEWEST_TABLE");
    for (size_t i = 0; i < sg_pyabi_ntables; i++)
        if (sg_pyabi_tables[i]->major == 3 && sg_pyabi_tables[i]->minor > newest &&
            sg_pyabi_tables[i]->minor <= limit)
            newest = sg_pyabi_tables[i]->minor;
    return newest;
}

const char *sg_pyabi_supported(void) { return sg_pyabi_supported_list; }

int sg_pyabi_resolve(uint32_t version_hex, const void *bytes, size_t len, sg_pyabi *out,
                     sg_layout_source *source, unsigned *corrected, sg_error *err)
{
    unsigned major = version_hex >> 24, minor = version_hex >> 16 & 0xff;
    unsigned newest = sg_pyabi_newest_minor();
    size_t block = sg_pyabi_debug_block_size(major, minor);
    int have_block = block && len >= 24 && memcmp(bytes, "xdebugpy", 8) == 0;
    uint64_t threaded = 0;
    if (have_block)
        memcpy(&threaded, (const unsigned char *)bytes + 16, sizeof threaded);
    if (threaded > 1)
        return sg_fail(err, SG_E_INVALID, 0,
                       "_Py_DebugOffsets.free_threaded is %llu, neither 0 nor 1",
                       (unsigned long long)threaded);

    const sg_pyabi *table = sg_pyabi_for_build(major, minor, (int)threaded);
    sg_layout_source how = SG_LAYOUT_TABLE;
    if (!table && major == 3 && minor > newest && have_block) {
        /* Release day: a minor we have never seen, read through its own offsets. */
        table = sg_pyabi_for_build(3, newest, (int)threaded);
        how = SG_LAYOUT_OWN;
    }
    if (!table) {
        if (major == 3 && minor > newest)
            return sg_fail(err, SG_E_UNSUPPORTED, 0,
                           "is newer than this spyglass (supported: %s) and publishes no "
                           "_Py_DebugOffsets to read it by",
                           sg_pyabi_supported());
        return sg_fail(err, SG_E_UNSUPPORTED, 0, "%sis not supported by this spyglass "
                       "(supported: %s)", threaded ? "(free-threaded) " : "",
                       sg_pyabi_supported());
    }
    sg_pyabi abi = *table;
    abi.major = (uint8_t)major;
    abi.minor = (uint8_t)minor;
    abi.version_hex = version_hex;
    unsigned changed = 0;
    if (block) {
        if (!have_block && len >= 8)
            return sg_fail(err, SG_E_INVALID, 0,
                           "_PyRuntime does not start with the \"xdebugpy\" cookie");
        if (have_block && sg_pyabi_apply_debug_offsets(&abi, bytes, len, &changed, err) != 0) {
            if (how == SG_LAYOUT_OWN && err) {
                char inner[sizeof err->msg];
                snprintf(inner, sizeof inner, "%s", err->msg);
                sg_fail(err, SG_E_UNSUPPORTED, 0,
                        "is newer than this spyglass (supported: %s) and its own "
                        "_Py_DebugOffsets do not describe it: %s",
                        sg_pyabi_supported(), inner);
            }
            return -1;
        }
    }
    if (how == SG_LAYOUT_TABLE && changed)
        how = SG_LAYOUT_PATCHED;
    *out = abi;
    if (source)
        *source = how;
    if (corrected)
        *corrected = changed;
    return 0;
}
