#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/base/sg_error.h"
#include "../../src/core/base/sg_file.h"
#include "sg_test.h"

static char dir[64];

static const char *in_dir(const char *name)
{
    static char buf[2][256];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
    return buf[which];
}

static int count_entries(const char *d)
{
    DIR *dh = opendir(d);
    if (!dh)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dh)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(dh);
    return n;
}

static int file_equals(const char *path, const void *want, size_t want_len)
{
    void *data;
    size_t len;
    sg_error e;
    if (sg_file_read_all(path, 1 << 30, &data, &len, &e) != 0)
        return 0;
    int eq = len == want_len && memcmp(data, want, len) == 0;
    free(data);
    return eq;
}

static void test_write_and_read(void)
{
    sg_error e;
    const char *p = in_dir("a.pb.gz");
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, "hello", 5, &e), 0);
    SG_CHECK(file_equals(p, "hello", 5));
    mode_t um = umask(0);
    umask(um);
    struct stat st;
    SG_CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == (0644 & ~um));
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, "bye", 3, &e), 0);
    SG_CHECK(file_equals(p, "bye", 3));
    SG_CHECK_EQ_INT(count_entries(dir), 1);

    /* empty files and larger ones */
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, NULL, 0, &e), 0);
    void *data = NULL;
    size_t len = 99;
    SG_CHECK_EQ_INT(sg_file_read_all(p, 10, &data, &len, &e), 0);
    SG_CHECK(data != NULL && len == 0);
    free(data);
    size_t big = 3 * 1000 * 1000 + 7;
    char *b = malloc(big);
    for (size_t i = 0; i < big; i++)
        b[i] = (char)(i * 31 + 7);
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, b, big, &e), 0);
    SG_CHECK(file_equals(p, b, big));
    free(b);
    unlink(p);

    /* a relative path (no directory part) */
    char cwd[512];
    SG_CHECK(getcwd(cwd, sizeof cwd) != NULL);
    SG_CHECK(chdir(dir) == 0);
    SG_CHECK_EQ_INT(sg_file_write_atomic("rel.txt", "r", 1, &e), 0);
    SG_CHECK(file_equals("rel.txt", "r", 1));
    unlink("rel.txt");
    SG_CHECK(chdir(cwd) == 0);
    SG_CHECK_EQ_INT(count_entries(dir), 0);
}

static void test_missing_directory(void)
{
    sg_error e;
    const char *p = in_dir("no/such/dir/out.pb.gz");
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, "x", 1, &e), -1);
    SG_CHECK(e.code == SG_E_IO);
    SG_CHECK(e.errnum == ENOENT);
    SG_CHECK(strstr(e.msg, p) != NULL);
    SG_CHECK_EQ_INT(sg_file_write_atomic("", "x", 1, &e), -1);
    SG_CHECK(e.code == SG_E_ARG);
}

/* A write that fails halfway (here: the file size limit, standing in for a full disk)
 * must leave the previous file untouched and no temporary file behind. */
static void test_failed_write_keeps_old_file(void)
{
    sg_error e;
    const char *p = in_dir("keep.pb.gz");
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, "old contents", 12, &e), 0);
    struct rlimit old;
    SG_CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {4096, old.rlim_max};
    SG_CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    size_t big = 100000;
    char *b = calloc(1, big);
    int rc = sg_file_write_atomic(p, b, big, &e);
    SG_CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, prev);
    free(b);
    SG_CHECK_EQ_INT(rc, -1);
    SG_CHECK(e.code == SG_E_IO && e.errnum == EFBIG);
    SG_CHECK(strstr(e.msg, p) != NULL);
    SG_CHECK(file_equals(p, "old contents", 12));
    SG_CHECK_EQ_INT(count_entries(dir), 1);

    /* the rename fails: the target is a directory, which must survive */
    const char *sub = in_dir("sub");
    SG_CHECK(mkdir(sub, 0755) == 0);
    SG_CHECK_EQ_INT(sg_file_write_atomic(sub, "x", 1, &e), -1);
    SG_CHECK(e.code == SG_E_IO && strstr(e.msg, sub) != NULL);
    struct stat st;
    SG_CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));
    SG_CHECK_EQ_INT(count_entries(dir), 2);
    rmdir(sub);
    unlink(p);
}

/* The final name is replaced, never followed: a symlink there is swapped for the file
 * and its target is left alone. */
static void test_symlink_not_followed(void)
{
    sg_error e;
    const char *target = in_dir("target");
    const char *link = in_dir("link");
    SG_CHECK_EQ_INT(sg_file_write_atomic(target, "T", 1, &e), 0);
    SG_CHECK(symlink(target, link) == 0);
    SG_CHECK_EQ_INT(sg_file_write_atomic(link, "L", 1, &e), 0);
    SG_CHECK(file_equals(target, "T", 1));
    struct stat st;
    SG_CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode));
    unlink(target);
    unlink(link);
}

static void test_stdout(void)
{
    int fds[2];
    SG_CHECK(pipe(fds) == 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    sg_error e;
    int rc = sg_file_write_atomic("-", "to stdout", 9, &e);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fds[1]);
    char buf[32] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    SG_CHECK_EQ_INT(rc, 0);
    SG_CHECK_EQ_INT(n, 9);
    SG_CHECK_EQ_STR(buf, "to stdout");
}

/* Devices are written where they are, never replaced by a renamed file: /dev/null
 * stays a device, /dev/full reports a full disk. */
static void test_devices_written_in_place(void)
{
    sg_error e;
    struct stat st;
    SG_CHECK_EQ_INT(sg_file_write_atomic("/dev/null", "x", 1, &e), 0);
    SG_CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
    SG_CHECK_EQ_INT(sg_file_write_atomic("/dev/full", "x", 1, &e), -1);
    SG_CHECK(e.code == SG_E_IO && e.errnum == ENOSPC && strstr(e.msg, "the disk is full"));
    SG_CHECK(stat("/dev/full", &st) == 0 && S_ISCHR(st.st_mode));
    SG_CHECK_EQ_INT(count_entries(dir), 0);
}

/* A path naming our stdout (here a pipe, through /proc/self/fd/1 and /dev/stdout) is
 * that stream, not a file to replace. */
static void test_stdout_by_name(void)
{
    const char *names[] = {"/dev/stdout", "/proc/self/fd/1"};
    for (int i = 0; i < 2; i++) {
        int fds[2];
        SG_CHECK(pipe(fds) == 0);
        fflush(stdout);
        int saved = dup(STDOUT_FILENO);
        dup2(fds[1], STDOUT_FILENO);
        sg_error e;
        int rc = sg_file_write_atomic(names[i], "by name", 7, &e);
        dup2(saved, STDOUT_FILENO);
        close(saved);
        close(fds[1]);
        char buf[32] = {0};
        ssize_t n = read(fds[0], buf, sizeof buf - 1);
        close(fds[0]);
        SG_CHECK_EQ_INT(rc, 0);
        SG_CHECK_EQ_INT(n, 7);
    }
    struct stat st;
    SG_CHECK(lstat("/dev/stdout", &st) == 0 && S_ISLNK(st.st_mode));
}

/* Replacing a private file keeps it private. */
static void test_mode_kept(void)
{
    sg_error e;
    const char *p = in_dir("private.pb.gz");
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, "a", 1, &e), 0);
    SG_CHECK(chmod(p, 0600) == 0);
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, "b", 1, &e), 0);
    struct stat st;
    SG_CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
    SG_CHECK(file_equals(p, "b", 1));
    unlink(p);
}

static void test_read_limits(void)
{
    sg_error e;
    void *data = NULL;
    size_t len = 0;
    const char *p = in_dir("ten");
    SG_CHECK_EQ_INT(sg_file_write_atomic(p, "0123456789", 10, &e), 0);
    SG_CHECK_EQ_INT(sg_file_read_all(p, 10, &data, &len, &e), 0);
    SG_CHECK(len == 10 && memcmp(data, "0123456789", 10) == 0);
    free(data);
    SG_CHECK_EQ_INT(sg_file_read_all(p, 9, &data, &len, &e), -1);
    SG_CHECK(e.code == SG_E_IO && strstr(e.msg, "too large") && strstr(e.msg, p));
    SG_CHECK(data == NULL);
    unlink(p);

    const char *missing = in_dir("missing");
    SG_CHECK_EQ_INT(sg_file_read_all(missing, 10, &data, &len, &e), -1);
    SG_CHECK(e.code == SG_E_IO && e.errnum == ENOENT && strstr(e.msg, missing));
    SG_CHECK_EQ_INT(sg_file_read_all(dir, 10, &data, &len, &e), -1);
    SG_CHECK(e.code == SG_E_IO);

    /* files whose size stat() does not know are read by growing, still bounded */
    SG_CHECK_EQ_INT(sg_file_read_all("/proc/self/status", 1 << 20, &data, &len, &e), 0);
    SG_CHECK(len > 0 && memcmp(data, "Name:", 5) == 0);
    free(data);
    SG_CHECK_EQ_INT(sg_file_read_all("/proc/self/status", 16, &data, &len, &e), -1);
    SG_CHECK(e.code == SG_E_IO && strstr(e.msg, "too large"));
    SG_CHECK_EQ_INT(sg_file_read_all("/dev/zero", 100000, &data, &len, &e), -1);
    SG_CHECK(e.code == SG_E_IO && strstr(e.msg, "too large"));
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sg_test_file.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    SG_RUN(test_write_and_read);
    SG_RUN(test_missing_directory);
    SG_RUN(test_failed_write_keeps_old_file);
    SG_RUN(test_symlink_not_followed);
    SG_RUN(test_stdout);
    SG_RUN(test_devices_written_in_place);
    SG_RUN(test_stdout_by_name);
    SG_RUN(test_mode_kept);
    SG_RUN(test_read_limits);
    rmdir(dir);
    SG_TEST_MAIN_END();
}
