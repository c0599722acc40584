/* Files are written to a temporary file in the same directory and renamed, so a crash,
 * a full disk or Ctrl-C never leaves a truncated file where a good one was. */
#ifndef SG_FILE_H
#define SG_FILE_H

#include <stddef.h>

#include "sg_error.h"

/* path "-" means stdout, and so does any path that names stdout or stderr (/dev/stdout,
 * /dev/fd/2, the file stdout is redirected to): written to that stream. An existing
 * device, FIFO or socket (/dev/null, /dev/full) is written in place. Anything else is
 * replaced atomically; a symlink at path is replaced, not followed. Errors: SG_E_IO
 * with the path and strerror (ENOSPC says the disk is full). The temporary file is
 * created with O_EXCL | O_NOFOLLOW, mode 0644 less the umask (or the mode of the
 * regular file it replaces), and removed on failure. */
int sg_file_write_atomic(const char *path, const void *data, size_t len, sg_error *err);

/* Reads at most max bytes; more is SG_E_IO "too large". *data is malloc'ed. */
int sg_file_read_all(const char *path, size_t max, void **data, size_t *len, sg_error *err);

#endif
