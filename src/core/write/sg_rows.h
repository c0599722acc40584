/* Rows for live views (spyglass top): the per-function / per-line self and total of
 * write_common, and per-thread state counts, handed over as data instead of text so a
 * thin UI can lay them out. Names from the target are escaped for a terminal (control
 * characters and invalid UTF-8 become \xNN), so every string is valid UTF-8. */
#ifndef SG_ROWS_H
#define SG_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/sg_buf.h"
#include "../base/sg_error.h"
#include "../profile/sg_profile.h"
#include "sg_write.h"

typedef enum { SG_ROWS_FUNCTIONS = 0, SG_ROWS_LINES = 1 } sg_rows_kind;
typedef enum { SG_ROWS_BY_SELF = 0, SG_ROWS_BY_TOTAL = 1, SG_ROWS_BY_NAME = 2 } sg_rows_sort;

/* Strings are offsets into sg_rows.text, each NUL-terminated. */
typedef struct sg_row {
    size_t name, file;
    int32_t line; /* functions: the first line; lines: the line */
    int64_t self, total;
} sg_row;

typedef struct sg_rows {
    int64_t grand; /* the whole of the selection: shares are self / grand */
    sg_row *rows;
    size_t n;
    sg_buf text;
} sg_rows;

typedef struct sg_rows_query {
    sg_view view;
    sg_rows_kind kind;
    sg_rows_sort sort; /* self: hottest first, ties as in the text report; total: by total;
                          name: by name, file and line */
    bool one_thread;   /* only the thread (pid, tid); pid 0 matches any process */
    uint32_t pid;
    uint64_t tid;
    size_t limit; /* 0: every row */
} sg_rows_query;

/* Fills out (always initialised, free it with sg_rows_free). A thread not in p gives
 * no rows and grand 0. -1 with SG_E_NOMEM when memory runs out. */
int sg_rows_build(const sg_profile *p, const sg_rows_query *q, sg_rows *out, sg_error *err);
void sg_rows_free(sg_rows *r);

typedef struct sg_thread_row {
    uint32_t pid;
    uint64_t tid;
    size_t name; /* offset into the text buffer, escaped */
    bool is_main;
    /* sample counts (the first value column), whatever the view */
    int64_t samples, oncpu, gil, gilwait;
} sg_thread_row;

/* One row per thread that has records in p, by pid then tid. *rows is malloc'ed and
 * names go into text (appended). -1 with SG_E_NOMEM. */
int sg_rows_threads(const sg_profile *p, sg_thread_row **rows, size_t *n, sg_buf *text,
                    sg_error *err);

#endif
