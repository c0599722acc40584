/* Discovery on real files and processes: every installed libpython parsed, every
 * interpreter in SG_TEST_PYTHONS (colon-separated paths) started and found, the
 * static non-PIE Debian python if present, non-Python and dead processes, and the ELF
 * parser fed truncated, mutated and random images. */
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/core/discover/discover_internal.h"
#include "../../src/core/discover/sg_discover.h"
#include "../../src/core/mem/sg_reader.h"
#include "sg_test.h"

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *d = n > 0 ? malloc((size_t)n) : NULL;
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        d = NULL;
    }
    fclose(f);
    *len = d ? (size_t)n : 0;
    return d;
}

static glob_t libpythons(void)
{
    const char *root = getenv("PYENV_ROOT");
    char pat[512];
    snprintf(pat, sizeof pat, "%s/versions/3.*/lib/libpython3.*.so.1.0",
             root ? root : "/root/.pyenv");
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0)
        g.gl_pathc = 0;
    return g;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_elf_libpython(void)
{
    glob_t g = libpythons();
    int seen = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        int minor = sg_path_python_minor(g.gl_pathv[i]);
        if (minor < 9)
            continue;
        size_t len;
        unsigned char *d = slurp(g.gl_pathv[i], &len);
        SG_CHECK(d != NULL);
        if (!d)
            continue;
        seen++;
        sg_elf_info info;
        sg_error e;
        SG_CHECK_EQ_INT(sg_elf_parse(d, len, &info, &e), 0);
        SG_CHECK_EQ_INT(info.first_load_vaddr, 0);
        SG_CHECK(info.pyruntime_sym != 0);
        SG_CHECK(info.code_type_sym != 0 && info.frame_type_sym != 0);
        SG_CHECK(info.unicode_type_sym != 0 && info.long_type_sym != 0 &&
                 info.dict_type_sym != 0 && info.module_type_sym != 0);
        if (minor >= 10)
            SG_CHECK(info.pyruntime_section != 0);
        else
            SG_CHECK_EQ_INT(info.pyruntime_section, 0);
        if (minor >= 11) {
            SG_CHECK(info.py_version_sym != 0);
            SG_CHECK_EQ_INT(info.py_version_value >> 16, 0x300 | (unsigned)minor);
        } else {
            char want[16];
            snprintf(want, sizeof want, "3.%d.", minor);
            SG_CHECK(strncmp(info.version_string, want, strlen(want)) == 0);
        }
        fprintf(stderr, "    %s: .PyRuntime 0x%llx _PyRuntime 0x%llx version \"%s\"\n",
                g.gl_pathv[i], (unsigned long long)info.pyruntime_section,
                (unsigned long long)info.pyruntime_sym, info.version_string);
        free(d);
    }
    if (!seen)
        fprintf(stderr, "    (no pyenv libpython found: skipped)\n");
    globfree(&g);

    size_t len;
    unsigned char *d = slurp("/usr/bin/python3.11", &len);
    if (d) {
        sg_elf_info info;
        sg_error e;
        SG_CHECK_EQ_INT(sg_elf_parse(d, len, &info, &e), 0);
        SG_CHECK_EQ_INT(info.first_load_vaddr, 0x400000);
        SG_CHECK(info.pyruntime_section != 0 && info.pyruntime_sym != 0);
        SG_CHECK_EQ_INT(info.py_version_value >> 16, 0x30b);
        free(d);
    }
}

static void test_elf_garbage(void)
{
    sg_elf_info info;
    sg_error e;
    SG_CHECK_EQ_INT(sg_elf_parse(NULL, 100, &info, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_ELF);
    SG_CHECK_EQ_INT(sg_elf_parse((const unsigned char *)"", 0, &info, &e), -1);

    glob_t g = libpythons();
    size_t len = 0;
    unsigned char *d = g.gl_pathc ? slurp(g.gl_pathv[0], &len) : NULL;
    globfree(&g);
    if (d) {
        /* Every prefix of the first 64 KiB: the section headers sit at the end of the
         * file, so each prefix is a valid-looking header with tables out of bounds. */
        size_t lim = len < 65536 ? len : 65536;
        int ok = 0;
        for (size_t n = 0; n <= lim; n++) {
            /* An exact-size heap copy lets ASan catch any overread. */
            unsigned char *copy = malloc(n ? n : 1);
            memcpy(copy, d, n);
            ok += sg_elf_parse(copy, n, &info, &e) == 0;
            free(copy);
        }
        SG_CHECK(ok < 2000); /* most prefixes are rejected, none crash */

        /* Whole images with a few bytes changed in the headers and tables. */
        uint64_t shoff;
        memcpy(&shoff, d + 0x28, sizeof shoff);
        srand(42);
        for (int i = 0; i < 300; i++) {
            size_t at[8];
            unsigned char old[8];
            for (int k = 0; k < 8; k++) {
                size_t r = (size_t)rand();
                at[k] = k < 3 ? r % 64 : (shoff < len && k < 6) ? shoff + r % (len - shoff)
                                                                : r % len;
                old[k] = d[at[k]];
                d[at[k]] = (unsigned char)rand();
            }
            (void)sg_elf_parse(d, len, &info, &e);
            for (int k = 7; k >= 0; k--)
                d[at[k]] = old[k];
        }
        free(d);
    }

    /* Random bytes, some with a valid ELF identification. */
    srand(1);
    for (int i = 0; i < 2000; i++) {
        size_t n = (size_t)(rand() % 4096);
        unsigned char *b = malloc(n ? n : 1);
        for (size_t k = 0; k < n; k++)
            b[k] = (unsigned char)rand();
        if (n >= 16 && (i & 1)) {
            memcpy(b, "\177ELF\2\1\1", 7);
        }
        (void)sg_elf_parse(b, n, &info, &e);
        free(b);
    }
    SG_CHECK(1);
}

static void test_maps(void)
{
    char text[] =
        "00400000-00401000 r--p 00000000 08:01 11 /usr/bin/python3.11\n"
        "00401000-00402000 r-xp 00001000 08:01 11 /usr/bin/python3.11\n"
        "7f0000000000-7f0000001000 r--p 00001000 08:01 12 /opt/lib/libpython3.12.so.1.0\n"
        "7eff00000000-7eff00001000 r--p 00000000 08:01 12 /opt/lib/libpython3.12.so.1.0\n"
        "7f1000000000-7f1000001000 rw-p 00000000 00:00 0 \n"
        "7f2000000000-7f2000001000 r--p 00000000 08:01 13 /lib/libc.so.6\n"
        "garbage line\n"
        "7f3000000000-7f3000001000 r--p 00000000 08:01 14 /a dir/libpython3.9.so (deleted)\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";
    FILE *f = fmemopen(text, strlen(text), "r");
    sg_map_candidate c[SG_MAX_CANDIDATES];
    int n = sg_maps_candidates(f, "/usr/bin/python3.11", c, SG_MAX_CANDIDATES);
    fclose(f);
    SG_CHECK_EQ_INT(n, 3);
    if (n == 3) {
        SG_CHECK_EQ_STR(c[0].path, "/opt/lib/libpython3.12.so.1.0");
        SG_CHECK_EQ_INT(c[0].base, 0x7eff00000000ULL);
        SG_CHECK_EQ_STR(c[1].path, "/a dir/libpython3.9.so (deleted)");
        SG_CHECK_EQ_STR(c[2].path, "/usr/bin/python3.11");
        SG_CHECK_EQ_INT(c[2].base, 0x400000);
        SG_CHECK_EQ_INT(c[2].is_libpython, 0);
    }

    /* An overlong line is skipped whole. */
    size_t big = 3 * PATH_MAX;
    char *longtext = malloc(big + 200);
    strcpy(longtext, "00400000-00401000 r--p 00000000 08:01 11 /");
    size_t l = strlen(longtext);
    memset(longtext + l, 'x', big);
    strcpy(longtext + l + big, "libpython3.10.so\n00500000-00501000 r--p 00000000 08:01 11 "
                               "/lib/libpython3.10.so\n");
    f = fmemopen(longtext, strlen(longtext), "r");
    n = sg_maps_candidates(f, NULL, c, SG_MAX_CANDIDATES);
    fclose(f);
    free(longtext);
    SG_CHECK_EQ_INT(n, 1);
    SG_CHECK(n == 1 && c[0].base == 0x500000);

    SG_CHECK_EQ_INT(sg_path_python_minor("/x/libpython3.10.so.1.0"), 10);
    SG_CHECK_EQ_INT(sg_path_python_minor("/usr/bin/python3.9"), 9);
    SG_CHECK_EQ_INT(sg_path_python_minor("/usr/bin/python3"), -1);
    SG_CHECK_EQ_INT(sg_path_python_minor("/python3.9/bin/sleep"), -1);
    SG_CHECK_EQ_INT(sg_path_python_minor("python3.12345"), -1);
}

static pid_t spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* "3.12.1" as the interpreter reports itself. */
static int python_version(const char *py, char *out, size_t n)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "'%s' -c 'import sys; print(\"%%d.%%d.%%d\" %% sys.version_info[:3])'", py);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    int ok = fgets(out, (int)n, p) != NULL;
    pclose(p);
    if (!ok)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

/* Starts py sleeping, discovers it, walks runtime -> interpreter -> thread state. */
static void check_live(const char *py)
{
    char want[32];
    if (python_version(py, want, sizeof want)) {
        SG_CHECK(!"cannot run the interpreter");
        return;
    }
    char *argv[] = {(char *)py, "-c", "import time; time.sleep(3)", NULL};
    pid_t pid = spawn(argv);
    SG_CHECK(pid > 0);
    if (pid <= 0)
        return;
    sg_error e;
    sg_reader *r = sg_reader_remote_open(pid, &e);
    SG_CHECK(r != NULL);
    if (!r) {
        fprintf(stderr, "    %s: %s\n", py, e.msg);
        reap(pid);
        return;
    }
    static sg_target t;
    int rc = -1;
    for (int i = 0; i < 100 && rc != 0; i++) {
        rc = sg_discover(r, pid, &t, &e);
        if (rc)
            sleep_ms(20);
    }
    SG_CHECK_EQ_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "    %s: %s: %s\n", py, sg_code_name(e.code), e.msg);
        sg_reader_free(r);
        reap(pid);
        return;
    }
    fprintf(stderr, "    %s: %s in %s, bias 0x%llx, _PyRuntime 0x%llx, %u corrected\n", py,
            t.version, t.binary, (unsigned long long)t.load_bias,
            (unsigned long long)t.runtime_addr, t.abi_mismatches);
    unsigned wmaj = 0, wmin = 0;
    sscanf(want, "%u.%u", &wmaj, &wmin);
    SG_CHECK_EQ_INT(t.version_hex >> 24, wmaj);
    SG_CHECK_EQ_INT(t.version_hex >> 16 & 0xff, wmin);
    SG_CHECK_EQ_STR(t.version, want); /* exact, also for 3.9/3.10 via .rodata */
    SG_CHECK_EQ_INT(t.abi.minor, wmin);
    SG_CHECK_EQ_INT(t.abi_mismatches, 0);
    SG_CHECK(t.runtime_addr != 0 && t.code_type_addr != 0 && t.frame_type_addr != 0);
    SG_CHECK(t.unicode_type_addr != 0 && t.long_type_addr != 0 && t.dict_type_addr != 0 &&
             t.module_type_addr != 0);

    uint64_t interp = 0, tstate = 0, back = 0;
    SG_CHECK_EQ_INT(sg_read(r, t.runtime_addr + (uint64_t)t.abi.runtime_interpreters_head,
                            &interp, 8, &e),
                    0);
    SG_CHECK(interp != 0);
    SG_CHECK_EQ_INT(sg_read(r, interp + (uint64_t)t.abi.interp_threads_head, &tstate, 8, &e),
                    0);
    SG_CHECK(tstate != 0);
    SG_CHECK_EQ_INT(sg_read(r, tstate + (uint64_t)t.abi.tstate_interp, &back, 8, &e), 0);
    SG_CHECK_EQ_INT(back, interp);

    if (t.abi.tstate_native_thread_id >= 0) {
        int64_t tid = 0; /* unsigned long in CPython */
        SG_CHECK_EQ_INT(
            sg_read(r, tstate + (uint64_t)t.abi.tstate_native_thread_id, &tid, 8, &e), 0);
        SG_CHECK_EQ_INT(tid, pid);
    }
    /* The only thread is the main one: its struct pthread holds the PID as its TID. */
    uint64_t pthread_self = 0;
    SG_CHECK_EQ_INT(sg_read(r, tstate + (uint64_t)t.abi.tstate_thread_id, &pthread_self, 8, &e),
                    0);
    int off = sg_discover_pthread_tid_offset(r, &t, pthread_self, pid);
    SG_CHECK(off >= 0);
    int32_t tid32 = 0;
    if (off >= 0) {
        SG_CHECK_EQ_INT(sg_read(r, pthread_self + (uint64_t)off, &tid32, 4, &e), 0);
        SG_CHECK_EQ_INT(tid32, pid);
        fprintf(stderr, "    struct pthread tid at 0x%x\n", off);
    }
    sg_reader_free(r);
    reap(pid);
}

static void test_live(void)
{
    const char *list = getenv("SG_TEST_PYTHONS");
    if (!list || !*list) {
        fprintf(stderr, "    (SG_TEST_PYTHONS unset: live interpreters skipped)\n");
    } else {
        char *copy = strdup(list), *save = NULL;
        for (char *py = strtok_r(copy, ":", &save); py; py = strtok_r(NULL, ":", &save))
            check_live(py);
        free(copy);
    }
    if (access("/usr/bin/python3.11", X_OK) == 0)
        check_live("/usr/bin/python3.11");
}

static void test_not_python(void)
{
    char *argv[] = {"/bin/sleep", "3", NULL};
    pid_t pid = spawn(argv);
    SG_CHECK(pid > 0);
    if (pid <= 0)
        return;
    sg_reader *r = sg_reader_fake_new(); /* discovery fails before reading memory */
    sg_target *t = malloc(sizeof *t);
    sg_error e;
    int rc = 0;
    /* Until exec completes the child is a copy of this test, also not Python. */
    for (int i = 0; i < 50; i++) {
        char exe[PATH_MAX] = "", link[64];
        snprintf(link, sizeof link, "/proc/%d/exe", pid);
        ssize_t n = readlink(link, exe, sizeof exe - 1);
        if (n > 0 && strstr(exe, "sleep"))
            break;
        sleep_ms(10);
    }
    rc = sg_discover(r, pid, t, &e);
    SG_CHECK_EQ_INT(rc, -1);
    SG_CHECK_EQ_INT(e.code, SG_E_NOT_PYTHON);
    char want[128];
    snprintf(want, sizeof want, "process %d is not running Python", pid);
    SG_CHECK(strstr(e.msg, want) != NULL);
    reap(pid);

    /* A PID that no longer exists. */
    pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    SG_CHECK_EQ_INT(sg_discover(r, pid, t, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_NO_PROCESS);
    SG_CHECK_EQ_INT(sg_discover(r, 0, t, &e), -1);
    SG_CHECK_EQ_INT(e.code, SG_E_ARG);
    free(t);
    sg_reader_free(r);
}

int main(void)
{
    SG_RUN(test_maps);
    SG_RUN(test_elf_libpython);
    SG_RUN(test_elf_garbage);
    SG_RUN(test_not_python);
    SG_RUN(test_live);
    SG_TEST_MAIN_END();
}
