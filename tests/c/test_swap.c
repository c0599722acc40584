/* The sampler hands over its profile while it samples (spyglass top): every part holds
 * the samples of its own time only, with the same function ids, and nothing is lost or
 * counted twice. Runs on the newest interpreter of SG_TEST_PYTHONS (skipped without). */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/core/sample/sg_sampler.h"
#include "sg_test.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct runner {
    sg_sampler *s;
    atomic_int stop;
    int rc;
    sg_error err;
} runner;

static void *run_thread(void *arg)
{
    runner *r = arg;
    r->rc = sg_sampler_run(r->s, &r->stop, &r->err);
    return NULL;
}

static int64_t samples_in(const sg_profile *p, const char *fn)
{
    int64_t n = 0;
    const sg_record *rec = sg_profile_records(p);
    const sg_node *nodes = sg_profile_nodes(p);
    for (size_t i = 0; i < sg_profile_nrecords(p); i++) {
        for (uint32_t k = rec[i].node; k != SG_ROOT && k != SG_NONE; k = nodes[k].parent) {
            const sg_location *l = &sg_profile_locations(p)[nodes[k].location];
            const sg_function *f = &sg_profile_functions(p)[l->function];
            if (!strcmp(sg_profile_str(p, f->name), fn)) {
                n += rec[i].values[0];
                break;
            }
        }
    }
    return n;
}

static int64_t all_samples(const sg_profile *p)
{
    int64_t n = 0;
    for (size_t i = 0; i < sg_profile_nrecords(p); i++)
        n += sg_profile_records(p)[i].values[0];
    return n;
}

static void check_part(const sg_profile *p)
{
    const sg_profile_meta *m = sg_profile_meta_get(p);
    SG_CHECK(m->ticks_taken > 0);
    SG_CHECK(m->duration_ns > 20000000 && m->duration_ns < 20000000000LL);
    SG_CHECK(m->start_wall_ns > 0);
    SG_CHECK_EQ_INT(m->n_values, 2);
    /* a single-threaded program: one sample per tick, nearly all in spin() */
    int64_t all = all_samples(p), spin = samples_in(p, "spin");
    SG_CHECK(all > 0 && (uint64_t)all <= m->ticks_taken);
    SG_CHECK(spin * 10 >= all * 8);
    SG_CHECK_EQ_INT(sg_profile_nprocesses(p), 1);
    SG_CHECK(sg_profile_processes_c(p)[0].samples_ok >= (uint64_t)all);
}

static void test_swap_live(void)
{
    const char *list = getenv("SG_TEST_PYTHONS");
    if (!list || !*list) {
        fprintf(stderr, "    (SG_TEST_PYTHONS unset: skipped)\n");
        return;
    }
    const char *last = strrchr(list, ':');
    char py[1024];
    snprintf(py, sizeof py, "%s", last ? last + 1 : list);
    char *argv[] = {py, "-c",
                    "import time\n"
                    "def spin(end):\n"
                    "    while time.time() < end: pass\n"
                    "spin(time.time() + 30)\n",
                    NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execv(py, argv);
        _exit(127);
    }
    SG_CHECK(pid > 0);
    if (pid <= 0)
        return;
    /* Until the exec is done the child is a copy of this test, whose memory map the
     * exec replaces under the reader's first probe. */
    char self_exe[4096] = "", child_exe[4096] = "", link[64];
    readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    for (int i = 0; i < 500; i++) {
        ssize_t n = readlink(link, child_exe, sizeof child_exe - 1);
        child_exe[n > 0 ? n : 0] = '\0';
        if (n > 0 && strcmp(child_exe, self_exe) != 0)
            break;
        sleep_ms(10);
    }
    sg_sampler_config cfg = {.pid = pid, .rate_hz = 500, .wait_for_python = true};
    runner r = {0};
    r.s = sg_sampler_new(&cfg, &r.err);
    SG_CHECK(r.s != NULL);
    if (!r.s)
        fprintf(stderr, "    %s: %s\n", sg_code_name(r.err.code), r.err.msg);
    pthread_t th;
    if (!r.s || pthread_create(&th, NULL, run_thread, &r) != 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        sg_sampler_free(r.s);
        return;
    }
    sg_error e;
    sg_profile *startup = NULL, *parts[3] = {NULL, NULL, NULL};
    /* wait until the program runs spin(), then start counting */
    for (int i = 0; i < 200; i++) {
        sleep_ms(50);
        sg_profile *p = sg_sampler_swap_profile(r.s, &e);
        SG_CHECK(p != NULL);
        bool running = p && samples_in(p, "spin") > 5;
        sg_profile_free(startup);
        startup = p;
        if (running)
            break;
    }
    for (int i = 0; i < 3; i++) {
        sleep_ms(200);
        parts[i] = sg_sampler_swap_profile(r.s, &e);
        SG_CHECK(parts[i] != NULL);
    }
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    SG_CHECK_EQ_INT(r.rc, 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    sg_profile *tail = sg_sampler_take_profile(r.s);
    SG_CHECK(tail != NULL);
    /* after a swap the profile left at the end covers only its own part */
    if (tail)
        SG_CHECK(sg_profile_meta_get(tail)->duration_ns < 5000000000LL);
    for (int i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        check_part(parts[i]);
        /* the ids cached by the symbol table stayed valid: same functions */
        SG_CHECK(sg_profile_nfunctions(parts[i]) >= sg_profile_nfunctions(startup));
    }
    /* adding the parts up gives each tick once */
    sg_profile *sum = sg_profile_new();
    uint64_t ticks = 0;
    int64_t samples = 0;
    for (int i = 0; i < 3; i++) {
        if (!parts[i])
            continue;
        ticks += sg_profile_meta_get(parts[i])->ticks_taken;
        samples += all_samples(parts[i]);
        SG_CHECK_EQ_INT(sg_profile_append(sum, parts[i], &e), 0);
    }
    SG_CHECK_EQ_INT(sg_profile_meta_get(sum)->ticks_taken, ticks);
    SG_CHECK_EQ_INT(all_samples(sum), samples);
    SG_CHECK_EQ_INT(samples_in(sum, "spin") > samples * 8 / 10, 1);
    fprintf(stderr, "    %s: parts of %llu, %llu, %llu ticks\n", py,
            parts[0] ? (unsigned long long)sg_profile_meta_get(parts[0])->ticks_taken : 0ULL,
            parts[1] ? (unsigned long long)sg_profile_meta_get(parts[1])->ticks_taken : 0ULL,
            parts[2] ? (unsigned long long)sg_profile_meta_get(parts[2])->ticks_taken : 0ULL);
    sg_profile_free(sum);
    sg_profile_free(tail);
    sg_profile_free(startup);
    for (int i = 0; i < 3; i++)
        sg_profile_free(parts[i]);
    sg_sampler_free(r.s);
}

int main(void)
{
    SG_RUN(test_swap_live);
    SG_TEST_MAIN_END();
}
