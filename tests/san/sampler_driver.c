/* The sampler end to end, as a C program, for leak checkers and valgrind (the pytest
 * suite runs it inside CPython, whose own allocations drown a leak report): starts
 * `PYTHON SCRIPT ARGS...` as a child, samples it through sg_sampler_* until it exits,
 * then does what a report does with the profile (encode, decode, filter, merge, every
 * writer) and frees everything. Exit status 0 only if the child exited 0 and samples
 * were taken; run it under LeakSanitizer or `valgrind --error-exitcode=1`.
 *
 * Usage: sampler_driver RATE_HZ PYTHON SCRIPT [ARGS...] */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/sample/sg_sampler.h"
#include "../../src/core/write/sg_write.h"

static int render_all(const sg_profile *p)
{
    char formats[256];
    snprintf(formats, sizeof formats, "%s", sg_write_formats());
    char *save = NULL;
    for (char *f = strtok_r(formats, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        sg_write_opts o;
        sg_write_opts_init(&o);
        sg_buf out;
        sg_buf_init(&out);
        sg_error err;
        int rc = sg_write(p, f, &o, &out, &err);
        size_t len = out.len;
        sg_buf_free(&out);
        if (rc != 0 || len == 0) {
            fprintf(stderr, "sampler_driver: writer %s failed: %s\n", f, err.msg);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s RATE_HZ PYTHON SCRIPT [ARGS...]\n", argv[0]);
        return 2;
    }
    pid_t child = fork();
    if (child < 0)
        return 2;
    if (child == 0) {
        execv(argv[2], argv + 2);
        _exit(127);
    }
    sg_sampler_config cfg = {0};
    cfg.pid = child;
    cfg.rate_hz = atof(argv[1]);
    cfg.clock = SG_CLOCK_WALL;
    cfg.wait_for_python = true;
    sg_error err;
    sg_error_clear(&err);
    sg_sampler *s = sg_sampler_new(&cfg, &err);
    int failed = 0;
    if (!s) {
        fprintf(stderr, "sampler_driver: %s\n", err.msg);
        failed = 1;
    } else {
        atomic_int stop = 0;
        if (sg_sampler_run(s, &stop, &err) != 0) {
            fprintf(stderr, "sampler_driver: sampling failed: %s\n", err.msg);
            failed = 1;
        }
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "sampler_driver: the child ended with status 0x%x\n", status);
        failed = 1;
    }
    sg_profile *p = s ? sg_sampler_take_profile(s) : NULL;
    sg_sampler_free(s);
    if (p && !failed) {
        const sg_process *pr = sg_profile_processes_c(p);
        unsigned long long ok = sg_profile_nprocesses(p) ? pr[0].samples_ok : 0;
        unsigned long long bad = sg_profile_nprocesses(p) ? pr[0].samples_failed : 0;
        fprintf(stderr, "sampler_driver: %llu samples, %llu failed, %zu records\n", ok, bad,
                sg_profile_nrecords(p));
        if (ok == 0 || sg_profile_nrecords(p) == 0)
            failed = 1;
        void *enc = NULL;
        size_t len = 0;
        sg_profile *back = NULL;
        if (sg_profile_encode(p, true, &enc, &len, &err) != 0 ||
            !(back = sg_profile_decode(enc, len, &err)) ||
            sg_profile_nrecords(back) != sg_profile_nrecords(p)) {
            fprintf(stderr, "sampler_driver: profile round trip failed: %s\n", err.msg);
            failed = 1;
        }
        free(enc);
        static const char *const exc[] = {"*threading.py"};
        sg_filter f = {true, true, NULL, 0, exc, 1};
        sg_profile *q = back ? sg_profile_filter(back, &f, &err) : NULL;
        if (!q || render_all(p) != 0 || render_all(q) != 0 ||
            sg_profile_merge(q, p, &err) != 0)
            failed = 1;
        sg_profile_free(q);
        sg_profile_free(back);
    }
    sg_profile_free(p);
    return failed;
}
