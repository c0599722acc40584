/* The generated tables against the values measured in research/internals.md, their
 * internal consistency, and the 3.13 _Py_DebugOffsets cross-check on a real block taken
 * from libpython3.13's .PyRuntime section (statically initialised by CPython). */
#include <elf.h>
#include <glob.h>
#include <stdint.h>

#include "../../src/core/pyabi/sg_pyabi.h"
#include "sg_test.h"

static void test_lookup(void)
{
    for (unsigned m = 9; m <= 13; m++) {
        const sg_pyabi *a = sg_pyabi_for(3, m);
        SG_CHECK(a != NULL);
        if (!a)
            continue;
        SG_CHECK_EQ_INT(a->major, 3);
        SG_CHECK_EQ_INT(a->minor, m);
        SG_CHECK_EQ_INT(a->version_hex >> 16, 0x0300 | m);
    }
    SG_CHECK(sg_pyabi_for(3, 8) == NULL);
    SG_CHECK(sg_pyabi_for(3, 14) == NULL);
    SG_CHECK(sg_pyabi_for(2, 7) == NULL);
    SG_CHECK_EQ_STR(sg_pyabi_supported(), "3.9, 3.10, 3.11, 3.12, 3.13");
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
    SG_CHECK_EQ_INT(a11->owner_cstack, -1);
    SG_CHECK_EQ_INT(a12->owner_cstack, 3);
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
    for (unsigned m = 9; m <= 13; m++) {
        const sg_pyabi *a = sg_pyabi_for(3, m);
        if (!a)
            continue;
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
        SG_CHECK((a->cframe_current_frame >= 0) == (m == 11 || m == 12));
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
        SG_CHECK_EQ_INT(a->object_type, 8);
        SG_CHECK_EQ_INT(a->varobject_size, 16);
        SG_CHECK_EQ_INT(a->bytes_sval, 32);
        SG_CHECK_EQ_INT(a->unicode_kind_shift, 2);
        SG_CHECK_EQ_INT(a->unicode_compact_bit, 5);
        SG_CHECK_EQ_INT(a->unicode_ascii_bit, 6);
        /* thread names */
        SG_CHECK(a->interp_modules > 0 && a->interp_modules < a->interp_size);
        SG_CHECK_EQ_INT(a->module_dict, 16);
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
        SG_CHECK((a->managed_dict_before == 24) == interp);
        SG_CHECK((a->managed_values_before >= 0) == (m == 11));
        SG_CHECK((a->long_tag >= 0) == (a->long_model == SG_LONG_LV_TAG));
        SG_CHECK(a->long_digits >= 24 && a->long_shift == 30 && a->long_digit_size == 4);
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

static int find_libpython(unsigned minor, char *out, size_t n)
{
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

/* Byte offsets in the 3.13 block, from include/python3.13/internal/pycore_runtime.h. */
enum {
    D_VERSION = 8,
    D_FREE_THREADED = 16,
    D_TSTATE_SIZE = 152,
    D_TSTATE_NATIVE_TID = 200,
    D_FRAME_OWNER = 264,
    D_INTERP_GIL_LOCKED = 136,
};

static void test_debug_offsets(void)
{
    const sg_pyabi *a13 = sg_pyabi_for(3, 13);
    const sg_pyabi *a12 = sg_pyabi_for(3, 12);
    if (!a13 || !a12)
        return;
    SG_CHECK_EQ_INT(sg_pyabi_debug_offsets_size(a13), 584);
    SG_CHECK_EQ_INT(sg_pyabi_debug_offsets_size(a12), 0);

    char lib[512];
    unsigned char blk[584];
    if (find_libpython(13, lib, sizeof lib) || pyruntime_bytes(lib, blk, sizeof blk)) {
        fprintf(stderr, "  (skipping the real-block checks: no libpython3.13)\n");
        return;
    }
    sg_error e;
    unsigned mm = 99;
    sg_pyabi abi = *a13;
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, blk, sizeof blk, &mm, &e), 0);
    SG_CHECK_EQ_INT(mm, 0);
    SG_CHECK(memcmp(&abi, a13, sizeof abi) == 0);

    /* A differing field is taken from the target and counted. */
    unsigned char b2[584];
    memcpy(b2, blk, sizeof b2);
    put_u64(b2, D_TSTATE_NATIVE_TID, 168);
    put_u64(b2, D_FRAME_OWNER, 71);
    abi = *a13;
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, sizeof b2, &mm, &e), 0);
    SG_CHECK_EQ_INT(mm, 2);
    SG_CHECK_EQ_INT(abi.tstate_native_thread_id, 168);
    SG_CHECK_EQ_INT(abi.frame_owner, 71);

    /* Implausible: an offset beyond its structure; nothing is applied. */
    memcpy(b2, blk, sizeof b2);
    put_u64(b2, D_TSTATE_NATIVE_TID, 100000);
    abi = *a13;
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, sizeof b2, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_INVALID);
    SG_CHECK(memcmp(&abi, a13, sizeof abi) == 0);
    memcpy(b2, blk, sizeof b2);
    put_u64(b2, D_TSTATE_SIZE, 0);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, sizeof b2, &mm, &e), -1);
    memcpy(b2, blk, sizeof b2);
    put_u64(b2, D_INTERP_GIL_LOCKED, 3);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, sizeof b2, &mm, &e), -1);

    /* Cookie, version, free-threading, length. */
    memcpy(b2, blk, sizeof b2);
    b2[0] = 'y';
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, sizeof b2, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_INVALID);
    memcpy(b2, blk, sizeof b2);
    put_u64(b2, D_VERSION, 0x030c01f0);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, sizeof b2, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_INVALID);
    memcpy(b2, blk, sizeof b2);
    put_u64(b2, D_FREE_THREADED, 1);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, b2, sizeof b2, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_UNSUPPORTED);
    SG_CHECK(strstr(e.msg, "free-threaded") != NULL);
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, blk, sizeof blk - 1, &mm, &e), -1);
    abi = *a12;
    SG_CHECK_EQ_INT(sg_pyabi_apply_debug_offsets(&abi, blk, sizeof blk, &mm, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_UNSUPPORTED);

    /* Garbage never crashes and never half-applies. */
    srand(7);
    for (int i = 0; i < 20000; i++) {
        memcpy(b2, blk, sizeof b2);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++)
            b2[24 + rand() % (584 - 24)] = (unsigned char)rand();
        abi = *a13;
        if (sg_pyabi_apply_debug_offsets(&abi, b2, sizeof b2, &mm, &e) != 0)
            SG_CHECK(memcmp(&abi, a13, sizeof abi) == 0);
    }
}

int main(void)
{
    SG_RUN(test_lookup);
    SG_RUN(test_known_values);
    SG_RUN(test_consistency);
    SG_RUN(test_debug_offsets);
    SG_TEST_MAIN_END();
}
