/* The profile file itself (gzip-compressed pprof profile.proto) as a format, so that
 * `--format pprof`, Profile.render("pprof") and the writer benchmark reach it like
 * every other format. The encoding lives with the model (profile/pprof_encode.c). */
#include <stdlib.h>

#include "sg_write_common.h"

int sg_write_pprof(const sg_profile *p, const sg_write_opts *o, sg_buf *out, sg_error *err)
{
    void *data;
    size_t len;
    if (sg_profile_encode(p, true, &data, &len, err) != 0)
        return -1;
    sg_buf_append(out, data, len);
    free(data);
    return 0;
}
