/* The ELF64 facts discovery needs, from an image that may be truncated, corrupt or
 * hostile: every header, table and string is bounds-checked against the image before
 * it is touched, and every loop is bounded by the image size. Structures are copied
 * out with memcpy because an image in a buffer need not be aligned. */
#include <elf.h>
#include <stdint.h>
#include <string.h>

#include "sg_discover.h"

typedef struct {
    const unsigned char *data;
    size_t len;
} image;

/* True if [off, off + size) lies inside the image, without overflowing. */
static int in_image(const image *im, uint64_t off, uint64_t size)
{
    return off <= im->len && size <= im->len - off;
}

/* The NUL-terminated string at strtab[idx], or NULL if it does not end inside the
 * string table. */
static const char *str_at(const image *im, const Elf64_Shdr *strtab, uint64_t idx)
{
    if (!strtab || strtab->sh_type == SHT_NOBITS ||
        !in_image(im, strtab->sh_offset, strtab->sh_size))
        return NULL;
    if (idx >= strtab->sh_size)
        return NULL;
    const char *s = (const char *)im->data + strtab->sh_offset + idx;
    if (!memchr(s, '\0', strtab->sh_size - idx))
        return NULL;
    return s;
}

static int read_shdr(const image *im, const Elf64_Ehdr *eh, uint64_t i, Elf64_Shdr *out)
{
    uint64_t off = eh->e_shoff + i * sizeof(Elf64_Shdr); /* i < count, count*64 fits: checked */
    if (!in_image(im, off, sizeof *out))
        return -1;
    memcpy(out, im->data + off, sizeof *out);
    return 0;
}

/* Symbols we look for, by table entry. */
static void scan_symbols(const image *im, const Elf64_Shdr *symtab, const Elf64_Shdr *strtab,
                         sg_elf_info *out)
{
    if (symtab->sh_type == SHT_NOBITS || !in_image(im, symtab->sh_offset, symtab->sh_size))
        return;
    if (symtab->sh_entsize != 0 && symtab->sh_entsize != sizeof(Elf64_Sym))
        return;
    uint64_t n = symtab->sh_size / sizeof(Elf64_Sym);
    for (uint64_t i = 0; i < n; i++) {
        Elf64_Sym sym;
        memcpy(&sym, im->data + symtab->sh_offset + i * sizeof sym, sizeof sym);
        /* The python stub executable imports _PyRuntime from libpython: an undefined
         * entry there must not count as finding it. */
        if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0 || sym.st_name == 0)
            continue;
        const char *name = str_at(im, strtab, sym.st_name);
        if (!name || (name[0] != '_' && name[0] != 'P'))
            continue;
        if (!strcmp(name, "_PyRuntime") && !out->pyruntime_sym)
            out->pyruntime_sym = sym.st_value;
        else if (!strcmp(name, "Py_Version") && !out->py_version_sym)
            out->py_version_sym = sym.st_value;
        else if (!strcmp(name, "PyCode_Type") && !out->code_type_sym)
            out->code_type_sym = sym.st_value;
        else if (!strcmp(name, "PyFrame_Type") && !out->frame_type_sym)
            out->frame_type_sym = sym.st_value;
        else if (!strcmp(name, "PyUnicode_Type") && !out->unicode_type_sym)
            out->unicode_type_sym = sym.st_value;
        else if (!strcmp(name, "PyLong_Type") && !out->long_type_sym)
            out->long_type_sym = sym.st_value;
        else if (!strcmp(name, "PyDict_Type") && !out->dict_type_sym)
            out->dict_type_sym = sym.st_value;
        else if (!strcmp(name, "PyModule_Type") && !out->module_type_sym)
            out->module_type_sym = sym.st_value;
    }
}

/* Parses "3.X.Y" (with an optional a/b/rc serial and '+') ending in NUL at s, with at
 * most `avail` bytes readable. Returns the length including the NUL, or 0. */
static size_t version_literal(const char *s, size_t avail, unsigned *minor)
{
    size_t i = 0;
    if (avail < 6 || s[0] != '3' || s[1] != '.')
        return 0;
    i = 2;
    unsigned m = 0, nd = 0;
    while (i < avail && s[i] >= '0' && s[i] <= '9' && nd < 2) {
        m = m * 10 + (unsigned)(s[i] - '0');
        i++, nd++;
    }
    if (!nd || i >= avail || s[i] != '.')
        return 0;
    i++;
    nd = 0;
    while (i < avail && s[i] >= '0' && s[i] <= '9' && nd < 3)
        i++, nd++;
    if (!nd || i >= avail)
        return 0;
    if (s[i] == 'a' || s[i] == 'b' || s[i] == 'r') {
        if (s[i] == 'r') {
            if (i + 1 >= avail || s[i + 1] != 'c')
                return 0;
            i++;
        }
        i++;
        nd = 0;
        while (i < avail && s[i] >= '0' && s[i] <= '9' && nd < 2)
            i++, nd++;
        if (!nd || i >= avail)
            return 0;
    }
    if (s[i] == '+' && i + 1 < avail)
        i++;
    if (s[i] != '\0')
        return 0;
    *minor = m;
    return i + 1;
}

/* PY_VERSION is a string literal in libpython; the linker may tail-merge it into a
 * longer string (e.g. the install prefix ".../3.9.18"), so a match is accepted after
 * any character that cannot continue a version number. Unrelated versions live in
 * .rodata too (unicodedata's "3.2.0"), so minors below 6 are skipped. */
static void scan_version(const image *im, const Elf64_Shdr *rodata, sg_elf_info *out)
{
    if (rodata->sh_type == SHT_NOBITS || !in_image(im, rodata->sh_offset, rodata->sh_size))
        return;
    const char *base = (const char *)im->data + rodata->sh_offset;
    size_t n = rodata->sh_size;
    const char *p = base;
    while ((size_t)(p - base) < n) {
        size_t left = n - (size_t)(p - base);
        const char *hit = memchr(p, '3', left);
        if (!hit)
            return;
        size_t at = (size_t)(hit - base);
        unsigned minor = 0;
        size_t vlen;
        int boundary = at == 0 || !((base[at - 1] >= '0' && base[at - 1] <= '9') ||
                                    base[at - 1] == '.');
        if (boundary && (vlen = version_literal(hit, n - at, &minor)) && minor >= 6 &&
            vlen <= sizeof out->version_string) {
            memcpy(out->version_string, hit, vlen);
            return;
        }
        p = hit + 1;
    }
}

/* The uint32 at virtual address vaddr, from the section that holds it in the file. */
static void read_u32_at_vaddr(const image *im, const Elf64_Ehdr *eh, uint64_t nsec,
                              uint64_t vaddr, uint32_t *out)
{
    for (uint64_t i = 0; i < nsec; i++) {
        Elf64_Shdr sh;
        if (read_shdr(im, eh, i, &sh) || sh.sh_type == SHT_NOBITS ||
            !(sh.sh_flags & SHF_ALLOC))
            continue;
        if (vaddr < sh.sh_addr || vaddr - sh.sh_addr >= sh.sh_size ||
            sh.sh_size - (vaddr - sh.sh_addr) < 4)
            continue;
        uint64_t off = sh.sh_offset + (vaddr - sh.sh_addr);
        if (off < sh.sh_offset || !in_image(im, off, 4))
            return;
        memcpy(out, im->data + off, 4);
        return;
    }
}

int sg_elf_parse(const unsigned char *data, size_t len, sg_elf_info *out, sg_error *err)
{
    if (!out)
        return sg_fail(err, SG_E_ARG, 0, "no output given");
    memset(out, 0, sizeof *out);
    image im = {data, data ? len : 0};
    Elf64_Ehdr eh;
    if (!in_image(&im, 0, sizeof eh))
        return sg_fail(err, SG_E_ELF, 0, "not an ELF file (%zu bytes)", len);
    memcpy(&eh, data, sizeof eh);
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return sg_fail(err, SG_E_ELF, 0, "not an ELF file (bad magic)");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return sg_fail(err, SG_E_ELF, 0, "not a 64-bit little-endian ELF file");

    /* Program headers: the first PT_LOAD anchors the load bias. */
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
        !in_image(&im, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
        return sg_fail(err, SG_E_ELF, 0, "ELF program headers missing or out of bounds");
    int have_load = 0;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, data + eh.e_phoff + (uint64_t)i * sizeof ph, sizeof ph);
        if (ph.p_type != PT_LOAD)
            continue;
        uint64_t align = ph.p_align;
        uint64_t v = ph.p_vaddr;
        if (align > 1 && (align & (align - 1)) == 0)
            v &= ~(align - 1);
        out->first_load_vaddr = v;
        have_load = 1;
        break;
    }
    if (!have_load)
        return sg_fail(err, SG_E_ELF, 0, "ELF file has no loadable segment");

    /* Section headers. A stripped-of-sections file is valid but tells us nothing. */
    if (eh.e_shoff == 0)
        return 0;
    if (eh.e_shentsize != sizeof(Elf64_Shdr))
        return sg_fail(err, SG_E_ELF, 0, "ELF section header size %u unexpected",
                       eh.e_shentsize);
    Elf64_Shdr sh0;
    if (read_shdr(&im, &eh, 0, &sh0))
        return sg_fail(err, SG_E_ELF, 0, "ELF section headers out of bounds");
    uint64_t nsec = eh.e_shnum ? eh.e_shnum : sh0.sh_size; /* extended numbering */
    if (nsec > (im.len - eh.e_shoff) / sizeof(Elf64_Shdr))
        return sg_fail(err, SG_E_ELF, 0, "ELF section headers out of bounds");
    uint64_t shstrndx = eh.e_shstrndx == SHN_XINDEX ? sh0.sh_link : eh.e_shstrndx;
    Elf64_Shdr shstr;
    int have_names = shstrndx < nsec && read_shdr(&im, &eh, shstrndx, &shstr) == 0;

    Elf64_Shdr dynsym = {0}, dynstr = {0}, symtab = {0}, symstr = {0}, rodata = {0};
    int have_dynsym = 0, have_symtab = 0, have_rodata = 0;
    for (uint64_t i = 0; i < nsec; i++) {
        Elf64_Shdr sh;
        if (read_shdr(&im, &eh, i, &sh))
            break;
        if ((sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB) && sh.sh_link < nsec &&
            sh.sh_link != i) {
            Elf64_Shdr link;
            if (read_shdr(&im, &eh, sh.sh_link, &link) == 0 && link.sh_type == SHT_STRTAB) {
                if (sh.sh_type == SHT_DYNSYM && !have_dynsym) {
                    dynsym = sh, dynstr = link, have_dynsym = 1;
                } else if (sh.sh_type == SHT_SYMTAB && !have_symtab) {
                    symtab = sh, symstr = link, have_symtab = 1;
                }
            }
        }
        const char *name = have_names ? str_at(&im, &shstr, sh.sh_name) : NULL;
        if (!name)
            continue;
        if (!strcmp(name, ".PyRuntime") && !out->pyruntime_section)
            out->pyruntime_section = sh.sh_addr;
        else if (!strcmp(name, ".rodata") && !have_rodata)
            rodata = sh, have_rodata = 1;
    }
    if (have_dynsym)
        scan_symbols(&im, &dynsym, &dynstr, out);
    if (have_symtab)
        scan_symbols(&im, &symtab, &symstr, out);
    if (out->py_version_sym)
        read_u32_at_vaddr(&im, &eh, nsec, out->py_version_sym, &out->py_version_value);
    if (have_rodata)
        scan_version(&im, &rodata, out);
    return 0;
}
