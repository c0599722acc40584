/* Fuzz target: the profile file decoder (gzip or raw profile.proto), which reads files
 * spyglass did not write. Whatever decodes must also survive everything a report does
 * with it (filters, merge, every writer) and re-encode into bytes the decoder accepts:
 * our own output is always readable. */
#include <string.h>

#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/write/sg_write.h"
#include "sg_fuzz.h"

static void render_all(const sg_profile *p)
{
    char formats[256];
    snprintf(formats, sizeof formats, "%s", sg_write_formats());
    char *save = NULL;
    for (char *f = strtok_r(formats, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        sg_write_opts o;
        sg_write_opts_init(&o);
        o.per_thread = true;
        o.color = (f[0] & 1) != 0;
        sg_buf out;
        sg_buf_init(&out);
        sg_error err;
        sg_write(p, f, &o, &out, &err);
        sg_buf_free(&out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sg_error err;
    sg_profile *p = sg_profile_decode(data, size, &err);
    if (!p) {
        SG_FUZZ_ASSERT(err.code == SG_E_CORRUPT || err.code == SG_E_NOMEM);
        return 0;
    }
    render_all(p);

    static const char *const inc[] = {"*.py"};
    static const char *const exc[] = {"*/lib/*"};
    sg_filter f = {true, true, inc, 1, exc, 1};
    sg_profile *q = sg_profile_filter(p, &f, &err);
    if (q) {
        render_all(q);
        sg_profile_free(q);
    }
    sg_profile *m = sg_profile_new();
    if (m) {
        sg_profile_merge(m, p, &err);
        sg_profile_merge(m, p, &err);
        sg_profile_free(m);
    }

    for (int gz = 0; gz < 2; gz++) {
        void *enc = NULL;
        size_t len = 0;
        if (sg_profile_encode(p, gz, &enc, &len, &err) != 0)
            continue;
        sg_profile *back = sg_profile_decode(enc, len, &err);
        if (!back)
            fprintf(stderr, "re-decoding our own encoding failed: %s\n", err.msg);
        SG_FUZZ_ASSERT(back != NULL);
        SG_FUZZ_ASSERT(sg_profile_nrecords(back) == sg_profile_nrecords(p));
        sg_profile_free(back);
        free(enc);
    }
    sg_profile_free(p);
    return 0;
}
