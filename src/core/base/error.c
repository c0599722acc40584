#include "sg_error.h"

#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
#define SG_X_NAME(code, msg) #code,
    SG_ERROR_LIST(SG_X_NAME)
#undef SG_X_NAME
};

static const char *const code_messages[] = {
#define SG_X_MSG(code, msg) msg,
    SG_ERROR_LIST(SG_X_MSG)
#undef SG_X_MSG
};

int sg_fail(sg_error *err, sg_code code, int errnum, const char *fmt, ...)
{
    if (!err)
        return -1;
    err->code = code;
    err->errnum = errnum;
    err->msg[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void sg_error_clear(sg_error *err)
{
    if (!err)
        return;
    err->code = SG_OK;
    err->errnum = 0;
    err->msg[0] = '\0';
}

const char *sg_code_name(sg_code code)
{
    if ((unsigned)code >= SG_E__COUNT)
        return "SG_E_UNKNOWN";
    return code_names[code];
}

const char *sg_code_message(sg_code code)
{
    if ((unsigned)code >= SG_E__COUNT)
        return "unknown error";
    return code_messages[code];
}
