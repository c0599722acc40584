/* The generated tables against the values measured in research/internals.md and read
 * off a live 3.14/3.15, their internal consistency, and the _Py_DebugOffsets
 * cross-check on real blocks taken from the .PyRuntime section of each 3.13+ binary we
 * can find (statically initialised by CPython): pyenv's libpython3.13, Debian's 3.14
 * and 3.15 (`make pythons`) and their debug builds, whose layout differs. */
#include <elf.h>
#include <glob.h>
#include <stdint.h>

#include <unistd.h>

#include "../../src/core/pyabi/pyabi_tables.h"
#include "../../src/core/pyabi/sg_pyabi.h"
#include "sg_test.h"

static void test_lookup(void)
{
    for (unsigned m = 9; m <= 15; m++) {
        const sg_pyabi *a = sg_pyabi_for(3, m);
        SG_CHECK(a != NULL);
        if (!a)
            continue;
        SG_CHECK_EQ_INT(a->major, 3);
        SG_CHECK_EQ_INT(a->minor, m);
        SG_CHECK_EQ_INT(a->version_hex >> 16, 0x0300 | m);
        SG_CHECK_EQ_INT(a->free_threaded, 0);
        const sg_pyabi *t = sg_pyabi_for_build(3, m, 1);
        SG_CHECK((t != NULL) == (m >= 14));
        SG_CHECK(!t || (t->free_threaded == 1 && t->minor == m));
    }
    SG_CHECK(sg_pyabi_for(3, 8) == NULL);
    SG_CHECK(sg_pyabi_for(3, 16) == NULL);
    SG_CHECK(sg_pyabi_for(2, 7) == NULL);
    SG_CHECK_EQ_INT(sg_pyabi_newest_minor(), 15);
    SG_CHECK_EQ_STR(sg_pyabi_supported(),
                    "3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15; free-threaded 3.14t, 3.15t");
}

/* Spot checks against research/internals.md §2.2 (measured independently). */
static void test_known_values(void)
{
    const sg_pyabi *a9 = sg_pyabi_for(3, 9), *a10 = sg_pyabi_for(3, 10),
                   *a11 = sg_pyabi_for(3, 11), *a12 = sg_pyabi_for(3, 12),
                   *a13 = sg_pyabi_for(3, 13);
    if (!a9 || !a10 || !a11 || !a12 || !a13) {
        SG_CHECK(!"tables missing");
        return;
    }
    SG_CHECK_EQ_INT(a9->runtime_interpreters_head, 32);
    SG_CHECK_EQ_INT(a11->runtime_interpreters_head, 40);
    SG_CHECK_EQ_INT(a13->runtime_interpreters_head, 632);
    SG_CHECK_EQ_INT(a9->interp_threads_head, 8);
    SG_CHECK_EQ_INT(a12->interp_threads_head, 72);
    SG_CHECK_EQ_INT(a13->interp_threads_head, 7344);
    SG_CHECK_EQ_INT(a12->interp_gil_ptr, 384);
    SG_CHECK_EQ_INT(a13->interp_gil_ptr, 16);
    SG_CHECK_EQ_INT(a11->tstate_frame, 56);
    SG_CHECK_EQ_INT(a11->cframe_current_frame, 8);
    SG_CHECK_EQ_INT(a12->cframe_current_frame, 0);
    SG_CHECK_EQ_INT(a13->tstate_frame, 72);
    SG_CHECK_EQ_INT(a13->cframe_current_frame, -1);
    SG_CHECK_EQ_INT(a9->tstate_thread_id, 176);
    SG_CHECK_EQ_INT(a12->tstate_native_thread_id, 144);
    SG_CHECK_EQ_INT(a11->tstate_datastack_chunk, 296);
    SG_CHECK_EQ_INT(a9->frame_lasti, 104);
    SG_CHECK_EQ_INT(a10->frame_lasti, 96);
    SG_CHECK_EQ_INT(a11->frame_owner, 69);
    SG_CHECK_EQ_INT(a13->frame_owner, 70);
    SG_CHECK_EQ_INT(a11->code_firstlineno, 72);
    SG_CHECK_EQ_INT(a13->code_code_adaptive, 200);
    SG_CHECK_EQ_INT(a12->unicode_ascii_size, 40);
    SG_CHECK_EQ_INT(a11->unicode_compact_size, 72);
    SG_CHECK_EQ_INT(a11->owner_generator, 1);
    SG_CHECK_EQ_INT(a11->owner_entry, -1);
    SG_CHECK_EQ_INT(a12->owner_entry, 3);
    /* 3.14/3.15, read off live interpreters (a probe walking its own frames through
     * ctypes): every entry frame is owned by FRAME_OWNED_BY_INTERPRETER (3), f_executable
     * carries tag bits, and 3.15 ends every chain at the thread's base frame. */
    const sg_pyabi *a14 = sg_pyabi_for(3, 14), *a15 = sg_pyabi_for(3, 15);
    const sg_pyabi *t14 = sg_pyabi_for_build(3, 14, 1);
    if (!a14 || !a15 || !t14) {
        SG_CHECK(!"3.14/3.15 tables missing");
        return;
    }
    SG_CHECK_EQ_INT(a14->owner_entry, 3);
    SG_CHECK_EQ_INT(a14->owner_max, 4);
    SG_CHECK_EQ_INT(a15->owner_entry, 3);
    SG_CHECK_EQ_INT(a15->owner_max, 3);
    SG_CHECK_EQ_INT(a14->frame_code_tag_bits, 3);
    SG_CHECK_EQ_INT(a13->frame_code_tag_bits, 0);
    SG_CHECK_EQ_INT(a14->tstate_base_frame, -1);
    SG_CHECK_EQ_INT(a15->tstate_base_frame, 80);
    SG_CHECK_EQ_INT(a14->frame_owner, 74);
    SG_CHECK_EQ_INT(a15->tstate_native_thread_id, 184);
    /* free-threaded: a bigger object header, thread-local bytecode, a GIL that may be off */
    SG_CHECK_EQ_INT(t14->object_type, 24);
    SG_CHECK_EQ_INT(t14->frame_code_tag_bits, 1);
    SG_CHECK(t14->frame_tlbc_index >= 0 && t14->code_tlbc >= 0 && t14->gil_enabled >= 0);
    SG_CHECK_EQ_INT(a14->frame_tlbc_index, -1);
    SG_CHECK_EQ_INT(a14->gil_enabled, -1);
    SG_CHECK_EQ_INT(t14->unicode_kind_shift, 8); /* interned is a byte of its own */
    SG_CHECK_EQ_INT(a9->frame_model, SG_FRAMES_OBJECTS);
    SG_CHECK_EQ_INT(a11->frame_model, SG_FRAMES_INTERP);
    SG_CHECK_EQ_INT(a9->lasti_model, SG_LASTI_BYTES);
    SG_CHECK_EQ_INT(a10->lasti_model, SG_LASTI_UNITS);
    SG_CHECK_EQ_INT(a12->lasti_model, SG_LASTI_PREV_INSTR);
    SG_CHECK_EQ_INT(a13->lasti_model, SG_LASTI_INSTR_PTR);
    SG_CHECK_EQ_INT(a9->linetable_format, SG_LT_LNOTAB);
    SG_CHECK_EQ_INT(a10->linetable_format, SG_LT_310);
    SG_CHECK_EQ_INT(a13->linetable_format, SG_LT_LOCATIONS);
    /* thread names: what CPython's sources say (dict-common.h, pycore_dict.h,
     * pycore_object.h) */
    SG_CHECK_EQ_INT(a9->interp_modules, 856);
    SG_CHECK_EQ_INT(a13->interp_modules, 7656);
    SG_CHECK_EQ_INT(a9->keys_model, SG_KEYS_SIZE);
    SG_CHECK_EQ_INT(a10->keys_nentries, 32);
    SG_CHECK_EQ_INT(a10->keys_indices, 40);
    SG_CHECK_EQ_INT(a11->keys_model, SG_KEYS_LOG2);
    SG_CHECK_EQ_INT(a11->keys_kind, 10);
    SG_CHECK_EQ_INT(a12->keys_indices, 32);
    SG_CHECK_EQ_INT(a9->idict_model, SG_IDICT_OFFSET);
    SG_CHECK_EQ_INT(a11->idict_model, SG_IDICT_MANAGED_VALUES);
    SG_CHECK_EQ_INT(a11->managed_values_before, 32);
    SG_CHECK_EQ_INT(a12->idict_model, SG_IDICT_DICT_OR_VALUES);
    SG_CHECK_EQ_INT(a13->idict_model, SG_IDICT_INLINE_VALUES);
    SG_CHECK_EQ_INT(a13->values_array, 8);
    SG_CHECK_EQ_INT(a13->values_valid, 3);
    SG_CHECK_EQ_INT(a13->tpflags_inline_values, 1 << 2);
    SG_CHECK_EQ_INT(a12->tpflags_managed_dict, 1 << 4);
    SG_CHECK_EQ_INT(a11->long_model, SG_LONG_OB_SIZE);
    SG_CHECK_EQ_INT(a12->long_model, SG_LONG_LV_TAG);
    SG_CHECK_EQ_INT(a12->long_tag, 16);
    SG_CHECK_EQ_INT(a12->long_tag_shift, 3);
}

/* Every present offset lies inside its structure; absent ones are exactly -1. */
static void test_consistency(void)
{
    for (unsigned k = 0; k < 2 * 7; k++) {
        unsigned m = 9 + k / 2;
        const sg_pyabi *a = sg_pyabi_for_build(3, m, (int)(k & 1));
        if (!a)
            continue;
        int ft = a->free_threaded;
        int interp = a->frame_model == SG_FRAMES_INTERP;
        SG_CHECK(a->runtime_interpreters_head >= 0 &&
                 a->runtime_interpreters_head < a->runtime_size);
        SG_CHECK((a->runtime_gil >= 0) == (m <= 11));
        SG_CHECK((a->interp_gil_ptr >= 0) == (m >= 12));
        SG_CHECK(a->runtime_gil < a->runtime_size);
        SG_CHECK(a->interp_gil_ptr < a->interp_size);
        SG_CHECK(a->gil_last_holder >= 0 && a->gil_last_holder < a->gil_size);
        SG_CHECK(a->gil_locked >= 0 && a->gil_locked < a->gil_size);
        SG_CHECK(a->interp_threads_head < a->interp_size && a->interp_id < a->interp_size);
        SG_CHECK(a->tstate_frame < a->tstate_size && a->tstate_thread_id < a->tstate_size);
        SG_CHECK((a->tstate_native_thread_id >= 0) == interp);
        SG_CHECK((a->tstate_datastack_chunk >= 0) == interp);
        SG_CHECK((a->tstate_datastack_top >= 0) == interp);
        SG_CHECK(a->tstate_datastack_top < a->tstate_size);
        /* pyabi_debug.c moves these with the published field beside them */
        SG_CHECK(!interp || a->tstate_datastack_top == a->tstate_datastack_chunk + 8);
        SG_CHECK(!interp || (a->code_firsttraceable < a->code_code_adaptive &&
                             a->code_code_adaptive - a->code_firsttraceable <= 24));
        SG_CHECK((a->tstate_base_frame >= 0) == (m >= 15));
        SG_CHECK((a->frame_tlbc_index >= 0) == ft && (a->code_tlbc >= 0) == ft &&
                 (a->gil_enabled >= 0) == ft && (a->codearray_entries >= 0) == ft);
        SG_CHECK((a->owner_entry >= 0) == (m >= 12));
        SG_CHECK(!interp || a->owner_entry <= a->owner_max);
        SG_CHECK((a->cframe_current_frame >= 0) == (m == 11 || m == 12));
        SG_CHECK((a->frame_code_tag_bits != 0) == (m >= 14));
        SG_CHECK(a->frame_back < a->frame_size && a->frame_code < a->frame_size &&
                 a->frame_lasti < a->frame_size && a->frame_owner < a->frame_size);
        SG_CHECK((a->frame_owner >= 0) == interp);
        SG_CHECK((a->code_qualname >= 0) == interp);
        SG_CHECK((a->code_code_adaptive >= 0) == interp);
        SG_CHECK((a->code_firsttraceable >= 0) == interp);
        SG_CHECK(a->code_firsttraceable < a->code_size);
        SG_CHECK(a->code_filename < a->code_size && a->code_linetable < a->code_size);
        SG_CHECK((a->chunk_data >= 0) == interp);
        SG_CHECK(!interp || (a->chunk_previous < a->chunk_data && a->chunk_top < a->chunk_data));
        /* the free-threaded object header is 16 bytes longer, its str state begins with
         * a byte of its own (interned) */
        SG_CHECK_EQ_INT(a->object_type, ft ? 24 : 8);
        SG_CHECK_EQ_INT(a->varobject_size, ft ? 32 : 16);
        SG_CHECK_EQ_INT(a->bytes_sval, ft ? 48 : 32);
        SG_CHECK_EQ_INT(a->unicode_kind_shift, ft ? 8 : 2);
        SG_CHECK_EQ_INT(a->unicode_compact_bit, ft ? 11 : 5);
        SG_CHECK_EQ_INT(a->unicode_ascii_bit, ft ? 12 : 6);
        /* thread names */
        SG_CHECK(a->interp_modules > 0 && a->interp_modules < a->interp_size);
        SG_CHECK_EQ_INT(a->module_dict, ft ? 32 : 16);
        SG_CHECK(a->dict_keys > a->object_type && a->dict_values > a->object_type);
        SG_CHECK((a->keys_model == SG_KEYS_LOG2) == interp);
        SG_CHECK((a->keys_kind >= 0) == interp && (a->keys_log2_index_bytes >= 0) == interp);
        SG_CHECK((a->uentry_size >= 0) == interp);
        SG_CHECK(a->keys_nentries < a->keys_indices && a->keys_size < a->keys_nentries);
        SG_CHECK_EQ_INT(a->entry_size, 24);
        SG_CHECK(a->entry_key < a->entry_size && a->entry_value < a->entry_size);
        SG_CHECK(!interp || (a->uentry_size == 16 && a->uentry_value < a->uentry_size));
        SG_CHECK(a->type_basicsize < a->type_flags && a->type_flags < a->type_dictoffset &&
                 a->type_dictoffset < a->heaptype_cached_keys);
        SG_CHECK_EQ_INT(a->tpflags_heaptype, 1 << 9);
        SG_CHECK((a->managed_dict_before == (ft ? 8 : 24)) == interp);
        SG_CHECK((a->managed_values_before >= 0) == (m == 11));
        SG_CHECK((a->long_tag >= 0) == (a->long_model == SG_LONG_LV_TAG));
        SG_CHECK(a->long_digits >= (ft ? 40 : 24) && a->long_shift == 30 &&
                 a->long_digit_size == 4);
    }
}

/* The first `want` bytes of the .PyRuntime section of an ELF file, from the file. */
static int pyruntime_bytes(const char *path, unsigned char *out, size_t want)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    int rc = -1;
    Elf64_Ehdr eh;
    if (fread(&eh, sizeof eh, 1, f) != 1)
        goto done;
    Elf64_Shdr str;
    if (fseek(f, (long)(eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof str), SEEK_SET) ||
        fread(&str, sizeof str, 1, f) != 1)
        goto done;
    for (unsigned i = 0; i < eh.e_shnum; i++) {
        Elf64_Shdr sh;
        char name[16] = "";
        if (fseek(f, (long)(eh.e_shoff + (uint64_t)i * sizeof sh), SEEK_SET) ||
            fread(&sh, sizeof sh, 1, f) != 1 ||
            fseek(f, (long)(str.sh_offset + sh.sh_name), SEEK_SET) ||
            fread(name, 1, sizeof name - 1, f) == 0)
            goto done;
        if (strcmp(name, ".PyRuntime") == 0 && sh.sh_size >= want) {
            if (fseek(f, (long)sh.sh_offset, SEEK_SET) == 0 && fread(out, 1, want, f) == want)
                rc = 0;
            goto done;
        }
    }
done:
    fclose(f);
    return rc;
}

/* A binary of CPython 3.minor with the .PyRuntime section (dbg: the debug build):
 * pyenv's libpython for 3.13, Debian's executables (`make pythons`) for 3.14 and 3.15. */
static int find_binary(unsigned minor, int dbg, char *out, size_t n)
{
    if (minor >= 14) {
        snprintf(out, n, "build/debian-python/usr/bin/python3.%u%s", minor, dbg ? "d" : "");
        return access(out, R_OK) == 0 ? 0 : -1;
    }
    if (dbg)
        return -1;
    const char *root = getenv("PYENV_ROOT");
    char pat[512];
    snprintf(pat, sizeof pat, "%s/versions/3.%u.*/lib/libpython3.%u.so.1.0",
             root ? root : "/root/.pyenv", minor, minor);
    glob_t g;
    int rc = -1;
    if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
        snprintf(out, n, "%s", g.gl_pathv[g.gl_pathc - 1]);
        rc = 0;
    }
    globfree(&g);
    return rc;
}

static void put_u64(unsigned char *b, size_t at, uint64_t v) { memcpy(b + at, &v, 8); }

static const sg_debug_layout *layout_of(unsigned minor)
{
    for (size_t i = 0; i < sg_debug_nlayouts; i++)
        if (sg_debug_layouts[i]->minor == minor)
            return sg_debug_layouts[i];
    return NULL;
}

/* The real block of one minor: applied to its own table it changes nothing; a differing
 * field is taken and counted; anything implausible is refused whole. */
static void check_real_block(unsigned minor)
{
    const sg_pyabi *table = sg_pyabi_for(3, minor);
    const sg_debug_layout *l = layout_of(minor);
    char bin[512];
    unsigned char blk[4096];
    SG_CHECK(table && l && l->size <= sizeof blk);
    SG_CHECK_EQ_INT(sg_pyabi_debug_block_size(3, minor), l->size);
    if (find_binary(minor, 0, bin, sizeof bin) || pyruntime_bytes(bin, blk, l->size)) {
        fprintf(stderr, "  (skipping the real 3.%u block: no binary found)\n", minor);
        return;
    }
    size_t n = l->size;
    sg_error e;
    unsigned mm = 99;
    sg_pyabi abi = *table;
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, blk, n, &mm, &e), 0);
    SG_CHECK_EQ_INT(mm, 0);
    /* sizes are taken too, but only bound offsets (Debian's 3.15.2 says its runtime
     * state is 8 bytes larger than the headers do) */
    abi.runtime_size = table->runtime_size;
    abi.interp_size = table->interp_size;
    SG_CHECK(memcmp(&abi, table, sizeof abi) == 0);

    /* A differing field is taken from the target and counted; the unpublished field
     * beside it (the data-stack top) moves with it. */
    unsigned char b2[4096];
    memcpy(b2, blk, n);
    put_u64(b2, (size_t)l->at[SG_DO_TSTATE_NATIVE_THREAD_ID], 168 + 32 * (minor - 13));
    put_u64(b2, (size_t)l->at[SG_DO_FRAME_OWNER], 71 + 4 * (minor - 13));
    put_u64(b2, (size_t)l->at[SG_DO_TSTATE_DATASTACK_CHUNK],
            (uint64_t)table->tstate_datastack_chunk + 16);
    abi = *table;
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e), 0);
    SG_CHECK_EQ_INT(mm, 3);
    SG_CHECK_EQ_INT(abi.tstate_native_thread_id, 168 + 32 * (minor - 13));
    SG_CHECK_EQ_INT(abi.frame_owner, 71 + 4 * (minor - 13));
    SG_CHECK_EQ_INT(abi.tstate_datastack_top, table->tstate_datastack_top + 16);

    /* Implausible: an offset beyond its structure; nothing is applied. */
    memcpy(b2, blk, n);
    put_u64(b2, (size_t)l->at[SG_DO_TSTATE_NATIVE_THREAD_ID], 100000);
    abi = *table;
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_INVALID);
    SG_CHECK(memcmp(&abi, table, sizeof abi) == 0);
    memcpy(b2, blk, n);
    put_u64(b2, (size_t)l->at[SG_DO_TSTATE_SIZE], 0);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e), -1);
    memcpy(b2, blk, n);
    put_u64(b2, (size_t)l->at[SG_DO_INTERP_GIL_LOCKED], 3);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e), -1);
    /* within its structure, but beyond what the walker reads of a thread state */
    memcpy(b2, blk, n);
    put_u64(b2, (size_t)l->at[SG_DO_TSTATE_SIZE], 100000);
    put_u64(b2, (size_t)l->at[SG_DO_TSTATE_CURRENT_FRAME], 5000);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_UNSUPPORTED);
    SG_CHECK(memcmp(&abi, table, sizeof abi) == 0);

    /* Cookie, version, build, length. */
    memcpy(b2, blk, n);
    b2[0] = 'y';
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_INVALID);
    memcpy(b2, blk, n);
    put_u64(b2, 8, 0x030c01f0);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_INVALID);
    memcpy(b2, blk, n);
    put_u64(b2, 16, 1); /* says free-threaded, to a table of the build with the GIL */
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_INVALID);
    SG_CHECK(strstr(e.msg, "free-threaded") != NULL);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, blk, n - 1, &mm, &e), -1);
    abi = *sg_pyabi_for(3, 12);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, blk, n, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_UNSUPPORTED);

    /* Garbage never crashes and never half-applies. */
    srand(7 + minor);
    for (int i = 0; i < 20000; i++) {
        memcpy(b2, blk, n);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++)
            b2[24 + (size_t)rand() % (n - 24)] = (unsigned char)rand();
        abi = *table;
        if (sg_pyabi_apply_debug_offsets(&abi, b2, n, &mm, &e) != 0)
            SG_CHECK(memcmp(&abi, table, sizeof abi) == 0);
    }
}

static void test_debug_offsets(void)
{
    SG_CHECK_EQ_INT(sg_pyabi_debug_block_size(3, 12), 0);
    SG_CHECK_EQ_INT(sg_pyabi_debug_block_size(3, 13), 584);
    SG_CHECK_EQ_INT(sg_pyabi_debug_block_size(3, 16), sg_pyabi_debug_block_size(3, 15));
    for (unsigned m = 13; m <= 15; m++)
        check_real_block(m);
}

/* Which layout a target gets: ours, ours corrected by the target (its debug build), or
 * the target's own (a minor newer than ours), and the free-threaded tables. */
static void test_resolve(void)
{
    sg_pyabi abi;
    sg_layout_source how;
    unsigned fixed;
    sg_error e;
    /* before 3.13: the table, no block */
    SG_CHECK_EQ_INT(sg_pyabi_resolve(0x030a0df0, NULL, 0, &abi, &how, &fixed, &e), 0);
    SG_CHECK_EQ_INT(how, SG_LAYOUT_TABLE);
    SG_CHECK_EQ_INT(abi.minor, 10);
    SG_CHECK_EQ_INT(sg_pyabi_resolve(0x030812f0, NULL, 0, &abi, &how, &fixed, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_UNSUPPORTED);
    /* a minor newer than ours without a block cannot be read */
    SG_CHECK_EQ_INT(sg_pyabi_resolve(0x031000a1, NULL, 0, &abi, &how, &fixed, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_UNSUPPORTED);
    SG_CHECK(strncmp(e.msg, "is newer than this spyglass", 27) == 0);

    const sg_debug_layout *l15 = layout_of(15);
    char bin[512];
    unsigned char blk[4096];
    if (!l15 || find_binary(15, 0, bin, sizeof bin) || pyruntime_bytes(bin, blk, l15->size)) {
        fprintf(stderr, "  (skipping the 3.15 resolve checks: no python3.15; make pythons)\n");
        return;
    }
    size_t n = l15->size;
    const sg_pyabi *t15 = sg_pyabi_for(3, 15);
    SG_CHECK_EQ_INT(sg_pyabi_resolve(t15->version_hex, blk, n, &abi, &how, &fixed, &e), 0);
    SG_CHECK_EQ_INT(how, SG_LAYOUT_TABLE);
    SG_CHECK_EQ_INT(fixed, 0);

    /* Release day: 3.16.0a1 whose block reads as 3.15's, with its thread state
     * rearranged. Its own offsets are taken over the newest table. */
    unsigned char b2[4096];
    memcpy(b2, blk, n);
    put_u64(b2, 8, 0x031000a1);
    put_u64(b2, (size_t)l15->at[SG_DO_TSTATE_NATIVE_THREAD_ID], 72);
    put_u64(b2, (size_t)l15->at[SG_DO_TSTATE_CURRENT_FRAME], 184);
    SG_CHECK_EQ_INT(sg_pyabi_resolve(0x031000a1, b2, n, &abi, &how, &fixed, &e), 0);
    SG_CHECK_EQ_INT(how, SG_LAYOUT_OWN);
    SG_CHECK_EQ_INT(fixed, 2);
    SG_CHECK_EQ_INT(abi.minor, 16);
    SG_CHECK_EQ_INT(abi.version_hex, 0x031000a1);
    SG_CHECK_EQ_INT(abi.tstate_native_thread_id, 72);
    SG_CHECK_EQ_INT(abi.tstate_frame, 184);
    SG_CHECK_EQ_INT(abi.frame_owner, t15->frame_owner);
    SG_CHECK_EQ_INT(abi.linetable_format, SG_LT_LOCATIONS);
    /* ... and its cookie is checked as ever */
    b2[1] = 'X';
    SG_CHECK_EQ_INT(sg_pyabi_resolve(0x031000a1, b2, n, &abi, &how, &fixed, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_UNSUPPORTED);

    /* A free-threaded 3.15 gets the free-threaded table. */
    memcpy(b2, blk, n);
    put_u64(b2, 16, 1);
    const sg_pyabi *t15t = sg_pyabi_for_build(3, 15, 1);
    put_u64(b2, (size_t)l15->at[SG_DO_OBJECT_SIZE], 32);
    put_u64(b2, (size_t)l15->at[SG_DO_OBJECT_TYPE], (uint64_t)t15t->object_type);
    SG_CHECK_EQ_INT(sg_pyabi_resolve(t15->version_hex, b2, n, &abi, &how, &fixed, &e), 0);
    SG_CHECK_EQ_INT(abi.free_threaded, 1);
    SG_CHECK(abi.frame_tlbc_index >= 0 && abi.gil_enabled >= 0);
    SG_CHECK_EQ_INT(abi.object_type, 24);

    /* Debian's debug build: larger runtime and interpreter states, every offset we read
     * where the release build has it (debug builds stopped implying Py_TRACE_REFS, the
     * other object header, in 3.13). */
    if (find_binary(15, 1, bin, sizeof bin) == 0 && pyruntime_bytes(bin, blk, n) == 0) {
        SG_CHECK_EQ_INT(sg_pyabi_resolve(t15->version_hex, blk, n, &abi, &how, &fixed, &e), 0);
        SG_CHECK_EQ_INT(how, SG_LAYOUT_TABLE);
        SG_CHECK_EQ_INT(fixed, 0);
        SG_CHECK(abi.runtime_size > t15->runtime_size && abi.interp_size > t15->interp_size);
    }
}

int main(void)
{
    SG_RUN(test_lookup);
    SG_RUN(test_known_values);
    SG_RUN(test_consistency);
    SG_RUN(test_debug_offsets);
    SG_RUN(test_resolve);
    SG_TEST_MAIN_END();
}
