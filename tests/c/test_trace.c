/* The tracer's plain-C core: the per-thread tree, the shadow stack with its charging
 * and bias, the CPU-clock estimate, missed-exit repair, restart after fork and the
 * export into the profile model. Time is driven by hand (fake ticks). */
#include "../../src/core/profile/sg_profile.h"
#include "../../src/core/trace/sg_tclock.h"
#include "../../src/core/trace/sg_texport.h"
#include "../../src/core/trace/sg_tthread.h"
#include "sg_test.h"

static uint32_t loc(sg_profile *p, const char *name, int line)
{
    uint32_t f = sg_profile_function(p, sg_profile_intern(p, name, strlen(name)),
                                     sg_profile_intern(p, "f.py", 4), 1);
    return sg_profile_location(p, f, line);
}

static void test_tree(void)
{
    sg_ttree t;
    SG_CHECK_EQ_INT(sg_ttree_init(&t), 0);
    uint32_t a = sg_ttree_child(&t, 0, 5);
    SG_CHECK(a != 0);
    SG_CHECK_EQ_INT(sg_ttree_child(&t, 0, 5), a);
    uint32_t b = sg_ttree_child(&t, a, 5);
    SG_CHECK(b != a);
    /* many nodes: the table rehashes and every path still resolves to its node */
    uint32_t prev = b;
    for (uint32_t i = 0; i < 100000; i++)
        prev = sg_ttree_child(&t, i % 2 ? prev : b, i);
    SG_CHECK_EQ_INT(t.n, 3 + 100000);
    SG_CHECK(!t.oom);
    SG_CHECK_EQ_INT(sg_ttree_child(&t, 0, 5), a);
    SG_CHECK_EQ_INT(sg_ttree_child(&t, a, 5), b);
    for (size_t n = 1; n < t.n; n++)
        SG_CHECK_EQ_INT(sg_ttree_child(&t, t.nodes[n].parent, t.nodes[n].key), n);
    sg_ttree_free(&t);
}

static sg_tthread *new_thread(bool cpu, int64_t (*cpu_now)(void))
{
    sg_tthread_config cfg = {.cpu = cpu, .ticks_per_ns = 1.0, .cpu_threshold_ns = 1000,
                             .bias_untimed = 3, .cpu_now = cpu_now};
    return sg_tthread_new(&cfg, 0);
}

/* The record of the stack given as location ids (root first), or NULL. */
static const sg_record *record_of(const sg_profile *p, int n, const uint32_t *stack)
{
    const sg_node *nodes = sg_profile_nodes(p);
    for (size_t r = 0; r < sg_profile_nrecords(p); r++) {
        const sg_record *rec = &sg_profile_records(p)[r];
        uint32_t node = rec->node;
        int d = n;
        while (d > 0 && node != SG_ROOT && nodes[node].location == stack[d - 1]) {
            node = nodes[node].parent;
            d--;
        }
        if (d == 0 && node == SG_ROOT)
            return rec;
    }
    return NULL;
}

static void test_calls_and_bias(void)
{
    sg_profile *p = sg_profile_new();
    SG_CHECK_EQ_INT(sg_trace_profile_init(p, SG_MODE_TRACE, SG_CLOCK_WALL), 0);
    uint32_t lm = loc(p, "main", 1), lf = loc(p, "fib", 1);
    int km, kf;
    sg_tthread *th = new_thread(false, NULL);
    /* main [0,100): calls fib at 10 (fib -> fib at 20..30, returns 40), returns at 100;
     * every timed event costs 2 ticks, and one untimed event (3 ticks) before the
     * inner call. */
    sg_tthread_charge(th, 0, 2);
    sg_tthread_call(th, &km, lm);
    sg_tthread_charge(th, 10, 2);
    sg_tthread_call(th, &kf, lf);
    th->untimed++;
    sg_tthread_charge(th, 20, 2);
    sg_tthread_call(th, &kf, lf);
    sg_tthread_charge(th, 30, 2);
    sg_tthread_pop(th, &kf);
    sg_tthread_charge(th, 40, 2);
    sg_tthread_pop(th, &kf);
    sg_tthread_charge(th, 100, 2);
    sg_tthread_pop(th, &km);
    SG_CHECK_EQ_INT(th->depth, 0);
    SG_CHECK_EQ_INT(th->leaf, 0);
    uint32_t track = sg_profile_track(p, sg_profile_process(p, 1), 7);
    sg_error err;
    SG_CHECK_EQ_INT(sg_tthread_export(th, p, track, 2.0, NULL, 0, &err), 0);
    uint32_t s1[] = {lm}, s2[] = {lm, lf}, s3[] = {lm, lf, lf};
    const sg_record *r1 = record_of(p, 1, s1), *r2 = record_of(p, 2, s2),
                    *r3 = record_of(p, 3, s3);
    SG_CHECK(r1 && r2 && r3);
    if (r1 && r2 && r3) {
        SG_CHECK_EQ_INT(r1->values[0], 1);
        SG_CHECK_EQ_INT(r2->values[0], 1);
        SG_CHECK_EQ_INT(r3->values[0], 1);
        /* main: (10-2) + (100-40-2) = 66 ticks; fib: (20-10-2-3) + (40-30-2) = 13;
         * inner fib: 30-20-2 = 8; two nanoseconds per tick */
        SG_CHECK_EQ_INT(r1->values[1], 132);
        SG_CHECK_EQ_INT(r2->values[1], 26);
        SG_CHECK_EQ_INT(r3->values[1], 16);
    }
    sg_tthread_free(th);
    sg_profile_free(p);
}

static void test_negative_self_is_clamped_and_drop(void)
{
    sg_profile *p = sg_profile_new();
    sg_trace_profile_init(p, SG_MODE_TRACE, SG_CLOCK_WALL);
    uint32_t la = loc(p, "a", 1), lb = loc(p, "b", 1), lc = loc(p, "c", 1);
    int ka, kb, kc;
    sg_tthread *th = new_thread(false, NULL);
    sg_tthread_call(th, &ka, la);
    sg_tthread_charge(th, 100, 0);
    sg_tthread_call(th, &kb, lb);
    sg_tthread_charge(th, 101, 5); /* b: 1 tick, 5 of bias: clamped to 0 */
    sg_tthread_call(th, &kc, lc);
    sg_tthread_charge(th, 151, 0); /* c: 50 */
    sg_tthread_pop(th, &kc);
    sg_tthread_charge(th, 171, 0); /* b: 20 more: -4 + 20 = 16 */
    sg_tthread_pop(th, &kb);
    uint32_t track = sg_profile_track(p, sg_profile_process(p, 1), 1);
    uint8_t drop[8] = {0};
    drop[sg_profile_locations(p)[lb].function] = 1;
    sg_error err;
    SG_CHECK_EQ_INT(sg_tthread_export(th, p, track, 1.0, drop, 8, &err), 0);
    uint32_t s_a[] = {la}, s_ac[] = {la, lc}, s_ab[] = {la, lb};
    const sg_record *ra = record_of(p, 1, s_a), *rc = record_of(p, 2, s_ac);
    SG_CHECK(record_of(p, 2, s_ab) == NULL);
    SG_CHECK(ra && rc);
    if (ra && rc) {
        SG_CHECK_EQ_INT(ra->values[0], 1);  /* b's call is not a's */
        SG_CHECK_EQ_INT(ra->values[1], 116); /* a's 100 + b's 16 */
        SG_CHECK_EQ_INT(rc->values[0], 1);
        SG_CHECK_EQ_INT(rc->values[1], 50);
    }
    sg_tthread_free(th);
    sg_profile_free(p);
}

static void test_mismatched_exits(void)
{
    int ka, kb, kc, kx;
    sg_tthread *th = new_thread(false, NULL);
    /* the exit of a frame entered before tracing began changes nothing */
    sg_tthread_pop(th, &kx);
    SG_CHECK_EQ_INT(th->depth, 0);
    sg_tthread_call(th, &ka, 1);
    sg_tthread_call(th, &kb, 2);
    sg_tthread_call(th, &kc, 3);
    uint32_t node_a = th->stack[0].node;
    sg_tthread_pop(th, &kx);
    SG_CHECK_EQ_INT(th->depth, 3);
    /* c's and b's exits were never sent: a's exit pops all three */
    sg_tthread_pop(th, &kb);
    SG_CHECK_EQ_INT(th->depth, 1);
    SG_CHECK_EQ_INT(th->leaf, node_a);
    sg_tthread_pop(th, &ka);
    SG_CHECK_EQ_INT(th->depth, 0);
    SG_CHECK_EQ_INT(th->leaf, 0);
    /* a deep stack grows the shadow stack */
    for (int i = 0; i < 5000; i++)
        sg_tthread_call(th, &ka, 1);
    SG_CHECK_EQ_INT(th->depth, 5000);
    SG_CHECK_EQ_INT(th->lost, 0);
    for (int i = 0; i < 5000; i++)
        sg_tthread_pop(th, &ka);
    SG_CHECK_EQ_INT(th->depth, 0);
    sg_tthread_free(th);
}

static void test_lines(void)
{
    sg_profile *p = sg_profile_new();
    sg_trace_profile_init(p, SG_MODE_LINES, SG_CLOCK_WALL);
    uint32_t m3 = loc(p, "main", 3), m4 = loc(p, "main", 4), f8 = loc(p, "f", 8);
    int km, kf;
    sg_tthread *th = new_thread(false, NULL);
    sg_tthread_enter(th, &km, NULL);
    sg_tthread_charge(th, 1, 0); /* time before main's first line: no frame, not kept */
    sg_tthread_line(th, m3, true);
    sg_tthread_charge(th, 11, 0);
    sg_tthread_line(th, m4, true);
    sg_tthread_charge(th, 12, 0);
    sg_tthread_enter(th, &kf, NULL); /* main:4 calls f */
    sg_tthread_charge(th, 13, 0);
    sg_tthread_line(th, f8, true);
    sg_tthread_charge(th, 33, 0);
    sg_tthread_pop(th, &kf);
    sg_tthread_charge(th, 40, 0);
    sg_tthread_line(th, m3, true); /* a loop back */
    sg_tthread_line(th, m3, true); /* a backward jump within the line */
    sg_tthread_charge(th, 45, 0);
    sg_tthread_pop(th, &km);
    uint32_t track = sg_profile_track(p, sg_profile_process(p, 1), 1);
    sg_error err;
    SG_CHECK_EQ_INT(sg_tthread_export(th, p, track, 1.0, NULL, 0, &err), 0);
    uint32_t a[] = {m3}, b[] = {m4}, c[] = {m4, f8};
    const sg_record *ra = record_of(p, 1, a), *rb = record_of(p, 1, b), *rc = record_of(p, 2, c);
    SG_CHECK(ra && rb && rc);
    if (ra && rb && rc) {
        SG_CHECK_EQ_INT(ra->values[0], 3);
        SG_CHECK_EQ_INT(ra->values[1], 15);
        SG_CHECK_EQ_INT(rb->values[0], 1);
        SG_CHECK_EQ_INT(rb->values[1], 1 + 1 + 7); /* its own, f's prologue, after f */
        SG_CHECK_EQ_INT(rc->values[0], 1);
        SG_CHECK_EQ_INT(rc->values[1], 20);
    }
    sg_tthread_free(th);
    sg_profile_free(p);
}

static int64_t fake_cpu;
static int fake_cpu_reads;
static int64_t read_fake_cpu(void)
{
    fake_cpu_reads++;
    return fake_cpu;
}

static void test_cpu_clock(void)
{
    int ka;
    fake_cpu = 1000;
    fake_cpu_reads = 0;
    sg_tthread *th = new_thread(true, read_fake_cpu); /* threshold 1000 ticks */
    SG_CHECK_EQ_INT(fake_cpu_reads, 1);
    sg_tthread_call(th, &ka, 1);
    /* short intervals count as CPU time without reading the clock */
    sg_tthread_charge(th, 300, 0);
    sg_tthread_charge(th, 600, 0);
    SG_CHECK_EQ_INT(fake_cpu_reads, 1);
    /* a long interval: 10000 ticks of wall time, of which the thread used 900 - the
     * 600 already charged = 300 more (a sleep) */
    fake_cpu += 900;
    sg_tthread_charge(th, 10600, 0);
    SG_CHECK_EQ_INT(fake_cpu_reads, 2);
    SG_CHECK_EQ_INT(th->tree.nodes[th->leaf].self, 900);
    /* a long busy interval keeps its length, never more */
    fake_cpu += 5000;
    sg_tthread_charge(th, 12600, 0);
    SG_CHECK_EQ_INT(th->tree.nodes[th->leaf].self, 900 + 2000);
    sg_tthread_free(th);
}

static void test_restart_keeps_the_stack(void)
{
    int ka, kb;
    sg_tthread *th = new_thread(false, NULL);
    sg_tthread_call(th, &ka, 1);
    sg_tthread_charge(th, 50, 0);
    sg_tthread_call(th, &kb, 2);
    sg_tthread_charge(th, 80, 0);
    SG_CHECK_EQ_INT(sg_tthread_restart(th, 100), 0);
    SG_CHECK_EQ_INT(th->tree.n, 3);
    SG_CHECK_EQ_INT(th->depth, 2);
    for (size_t n = 0; n < th->tree.n; n++) {
        SG_CHECK_EQ_INT(th->tree.nodes[n].count, 0);
        SG_CHECK_EQ_INT(th->tree.nodes[n].self, 0);
    }
    sg_tthread_charge(th, 130, 0);
    SG_CHECK_EQ_INT(th->tree.nodes[th->leaf].self, 30);
    SG_CHECK_EQ_INT(th->tree.nodes[th->leaf].key, 2);
    sg_tthread_pop(th, &kb);
    SG_CHECK_EQ_INT(th->tree.nodes[th->leaf].key, 1);
    sg_tthread_free(th);
}

static void test_clock(void)
{
    sg_tclock_init(false);
    uint64_t a = sg_tclock_now(), b = sg_tclock_now();
    SG_CHECK(b >= a);
    SG_CHECK(sg_tclock_thread_cpu_ns() > 0);
    SG_CHECK(sg_tclock_rate(0, 0, 1, 10) == (sg_tclock_tsc ? 0.0 : 1.0));
}

int main(void)
{
    SG_RUN(test_tree);
    SG_RUN(test_calls_and_bias);
    SG_RUN(test_negative_self_is_clamped_and_drop);
    SG_RUN(test_mismatched_exits);
    SG_RUN(test_lines);
    SG_RUN(test_cpu_clock);
    SG_RUN(test_restart_keeps_the_stack);
    SG_RUN(test_clock);
    SG_TEST_MAIN_END();
}
