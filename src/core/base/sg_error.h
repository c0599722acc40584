/* Error codes and the caller-owned error record every fallible core function fills.
 * One X-macro list generates the enum, the names and the messages; the Python layer
 * receives the name (e.g. "SG_E_PERMISSION") and never keeps a parallel table. */
#ifndef SG_ERROR_H
#define SG_ERROR_H

#include <stdarg.h>

#define SG_ERROR_LIST(X)                                                              \
    X(SG_OK, "no error")                                                              \
    X(SG_E_NOMEM, "out of memory")                                                    \
    X(SG_E_ARG, "invalid argument")                                                   \
    X(SG_E_NO_PROCESS, "no such process")                                             \
    X(SG_E_PERMISSION, "not permitted to read the process's memory")                  \
    X(SG_E_NOT_PYTHON, "not a Python process")                                        \
    X(SG_E_UNSUPPORTED, "unsupported Python version")                                 \
    X(SG_E_NOT_READY, "the Python runtime is not initialised yet")                    \
    X(SG_E_READ, "reading the target's memory failed")                                \
    X(SG_E_INVALID, "the target's memory holds something unexpected")                 \
    X(SG_E_ELF, "the executable or library could not be parsed")                      \
    X(SG_E_IO, "input/output error")                                                  \
    X(SG_E_CORRUPT, "the profile file is corrupt or truncated")                       \
    X(SG_E_FORMAT, "unknown output format")                                           \
    X(SG_E_BLOCKED, "the kernel forbids reading process memory here")

typedef enum {
#define SG_X_ENUM(code, msg) code,
    SG_ERROR_LIST(SG_X_ENUM)
#undef SG_X_ENUM
        SG_E__COUNT
} sg_code;

typedef struct sg_error {
    sg_code code;
    int errnum;     /* errno at the failure, 0 if none */
    char msg[512];  /* human-readable, with operands; "" if none */
} sg_error;

/* Records a failure in err (may be NULL) and returns -1, so callers can write
 * `return sg_fail(err, SG_E_READ, errno, "reading %s", what);`. */
int sg_fail(sg_error *err, sg_code code, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void sg_error_clear(sg_error *err);
const char *sg_code_name(sg_code code);    /* "SG_E_READ" */
const char *sg_code_message(sg_code code); /* "reading the target's memory failed" */

#endif
