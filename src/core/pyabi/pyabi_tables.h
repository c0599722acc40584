/* Private to pyabi/: the generated tables (pyabi_tables.c), ascending by minor. */
#ifndef SG_PYABI_TABLES_H
#define SG_PYABI_TABLES_H

#include <stddef.h>

#include "sg_pyabi.h"

extern const sg_pyabi *const sg_pyabi_tables[];
extern const size_t sg_pyabi_ntables;
extern const char sg_pyabi_supported_list[]; /* "3.9, 3.10, ..." */

#endif
