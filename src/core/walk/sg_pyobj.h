/* Reading plain Python objects of a target: str, int, dict, module and instance
 * attributes. What they hold is untrusted: every pointer is checked for plausibility,
 * every type against the target's own type object when discover found it, every
 * length and count against a bound, and each caller's work against a budget of
 * memory regions read, so a corrupt or changing object costs a bounded amount and
 * ends in "unknown", never in a crash or a hang. Layouts come from sg_pyabi only.
 *
 * Lookups compare keys by content (no hashing: the target's str hashes are seeded),
 * scanning a dict's entries in order; a hint remembers where a key was found so the
 * next lookup in the same keys object reads one entry instead of all of them. */
#ifndef SG_PYOBJ_H
#define SG_PYOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../discover/sg_discover.h"
#include "../mem/sg_reader.h"

#define SG_PYDICT_MAX_ENTRIES 65536 /* larger dicts are not read */
#define SG_PYOBJ_CACHED 4            /* types and keys objects remembered per session */

/* A dict's storage: entries (key, value pairs), and for a split table the values
 * array the entries' values are in instead. */
typedef struct sg_pydict {
    uint64_t keys;     /* the keys object */
    uint64_t entries;  /* its first entry */
    uint64_t values;   /* split table: values[i] goes with entry i; 0: combined */
    int64_t nentries;  /* entries in use (some may be empty: deleted keys) */
    uint32_t entry_size, key_off, value_off;
} sg_pydict;

/* What an instance's attributes depend on in its class. */
typedef struct sg_pytype {
    uint64_t addr;
    int64_t basicsize, dictoffset;
    uint64_t flags, cached_keys;
} sg_pytype;

typedef struct sg_pyobj {
    sg_reader *r;
    const sg_pyabi *a;
    /* The target's type objects; 0 when unknown (then only plausibility is checked). */
    uint64_t str_type, long_type, dict_type, module_type;
    /* Memory regions the caller still allows (a read costs 1, a batched read 1 per
     * region); at 0 every function fails. The caller refills it. */
    uint32_t budget;
    /* A session is one consistent look at the target (a refresh of the thread names):
     * within it, classes and the shared keys of their instances are read once. */
    uint32_t session;
    sg_pytype types[SG_PYOBJ_CACHED];
    sg_pydict keys[SG_PYOBJ_CACHED];
    unsigned next_type, next_keys;
} sg_pyobj;

/* Reads through r with t's layout and type objects (t must outlive o). */
void sg_pyobj_init(sg_pyobj *o, sg_reader *r, const sg_target *t, uint32_t budget);

/* Starts a new session: what was remembered of types, keys objects and hints is
 * read again (the target may have changed since). */
void sg_pyobj_new_session(sg_pyobj *o);

/* The str at addr as UTF-8 (NUL-terminated) in out, its byte length in *len. Fails (-1)
 * for anything but a compact str of at most max_chars code points, or when out (cap
 * bytes) could not hold it: 4 * max_chars + 1 bytes always do. A lone surrogate
 * becomes U+FFFD. */
int sg_pyobj_str(sg_pyobj *o, uint64_t addr, size_t max_chars, char *out, size_t cap,
                 size_t *len);

/* The int at addr when it is in [0, 2^64): thread idents are unsigned longs. */
int sg_pyobj_ulong(sg_pyobj *o, uint64_t addr, uint64_t *value);

/* From a dict object (its type must be dict when the type is known). */
int sg_pyobj_dict(sg_pyobj *o, uint64_t dict, sg_pydict *d);
/* From a keys object and a values array (the PyObject *[] itself): an instance's
 * attributes kept without a dict object. */
int sg_pyobj_keys(sg_pyobj *o, uint64_t keys, uint64_t values, sg_pydict *d);

typedef struct sg_pyitem {
    uint64_t key, value;
} sg_pyitem;

/* Up to max (key, value) pairs of d in entry order, empty slots skipped. Returns how
 * many, or -1 when the entries could not be read. */
long sg_pyobj_items(sg_pyobj *o, const sg_pydict *d, sg_pyitem *items, size_t max);

/* Where keys were last found, for the last few (key, keys object) pairs looked up
 * (one key in the classes of a program's threads, say): at which entry, and (within
 * the session it was checked in) which str object the key is, so that in a split
 * table (shared keys, append-only while they live) only the value is read. Zero it
 * before first use. */
#define SG_PYHINT_SLOTS 4
typedef struct sg_pyhint {
    struct sg_pyhint_slot {
        uint64_t name; /* hash of the key looked up */
        uint64_t keys;
        int64_t index;
        uint64_t key;     /* the key's str object, checked in session `session` */
        uint32_t session;
    } at[SG_PYHINT_SLOTS];
    unsigned next; /* the slot a keys object not seen yet replaces */
} sg_pyhint;

/* Looks up the str key (ASCII, NUL-terminated) in d. Returns 1 and *value when found,
 * 0 when d has no such key, -1 when d could not be read. hint may be NULL. */
int sg_pyobj_get(sg_pyobj *o, const sg_pydict *d, const char *key, sg_pyhint *hint,
                 uint64_t *value);

/* The dict of the module at addr. */
int sg_pyobj_module_dict(sg_pyobj *o, uint64_t module, uint64_t *dict);

/* The instance attribute `name` of obj (an instance of a Python class), read where the
 * version keeps it (sg_idict_model): 1 and *value when found, 0 when obj has no such
 * attribute in its own attributes, -1 when unreadable. Class attributes, slots and
 * properties are not looked at. */
int sg_pyobj_getattr(sg_pyobj *o, uint64_t obj, const char *name, sg_pyhint *hint,
                     uint64_t *value);

#endif
