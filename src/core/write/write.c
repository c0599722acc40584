/* sg_write: picks the writer for a format name. Every writer renders into a sg_buf
 * whose allocation failure is sticky, so out-of-memory is checked once here. */
#include <string.h>

#include "sg_write_common.h"

typedef struct sg_writer {
    const char *name;
    sg_writer_fn fn;
} sg_writer;

static const sg_writer writers[] = {
    {"text", sg_write_text},
    {"tree", sg_write_tree},
    {"annotate", sg_write_annotate},
    {"collapsed", sg_write_collapsed},
    {"callgrind", sg_write_callgrind},
    {"pstats", sg_write_pstats},
    {"speedscope", sg_write_speedscope},
    {"chrome", sg_write_chrome},
    {"pprof", sg_write_pprof},
    {"flamegraph", sg_write_flamegraph},
    {"html", sg_write_html},
};

#define SG_NWRITERS (sizeof writers / sizeof writers[0])

void sg_write_opts_init(sg_write_opts *o)
{
    memset(o, 0, sizeof *o);
    o->view = SG_VIEW_AUTO;
    o->max_rows = 15;
    o->min_share = 0.005;
    o->context = 5;
}

/* Built from the table so that adding a writer is one line. */
const char *sg_write_formats(void)
{
    static char names[512];
    if (!names[0]) {
        size_t at = 0;
        for (size_t i = 0; i < SG_NWRITERS; i++) {
            size_t len = strlen(writers[i].name);
            if (at + len + 2 > sizeof names)
                break;
            if (at)
                names[at++] = ',';
            memcpy(names + at, writers[i].name, len);
            at += len;
            names[at] = '\0';
        }
    }
    return names;
}

int sg_write(const sg_profile *p, const char *format, const sg_write_opts *o, sg_buf *out,
             sg_error *err)
{
    sg_write_opts defaults;
    if (!o) {
        sg_write_opts_init(&defaults);
        o = &defaults;
    }
    if (!p || !format || !out)
        return sg_fail(err, SG_E_ARG, 0, "sg_write: missing profile, format or buffer");
    for (size_t i = 0; i < SG_NWRITERS; i++) {
        if (strcmp(writers[i].name, format) != 0)
            continue;
        if (writers[i].fn(p, o, out, err))
            return -1;
        if (sg_buf_failed(out))
            return sg_fail(err, SG_E_NOMEM, 0, "out of memory while writing %s", format);
        return 0;
    }
    return sg_fail(err, SG_E_FORMAT, 0, "unknown format \"%.64s\" (known: %s)", format,
                   sg_write_formats());
}
