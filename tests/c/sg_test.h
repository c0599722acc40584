/* A minimal unit-test harness: each test_*.c defines tests with SG_TEST and a main
 * that calls SG_RUN for each; a failed check prints file:line and the expression. */
#ifndef SG_TEST_H
#define SG_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sg_test_failures;
static int sg_test_checks;

#define SG_CHECK(cond)                                                                 \
    do {                                                                               \
        sg_test_checks++;                                                              \
        if (!(cond)) {                                                                 \
            sg_test_failures++;                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
        }                                                                              \
    } while (0)

#define SG_CHECK_EQ_INT(a, b)                                                          \
    do {                                                                               \
        long long sg_a_ = (long long)(a), sg_b_ = (long long)(b);                      \
        sg_test_checks++;                                                              \
        if (sg_a_ != sg_b_) {                                                          \
            sg_test_failures++;                                                        \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,        \
                    __LINE__, #a, #b, sg_a_, sg_b_);                                   \
        }                                                                              \
    } while (0)

#define SG_CHECK_EQ_STR(a, b)                                                          \
    do {                                                                               \
        const char *sg_a_ = (a), *sg_b_ = (b);                                         \
        sg_test_checks++;                                                              \
        if (!sg_a_ || !sg_b_ || strcmp(sg_a_, sg_b_) != 0) {                           \
            sg_test_failures++;                                                        \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,    \
                    __LINE__, #a, #b, sg_a_ ? sg_a_ : "(null)", sg_b_ ? sg_b_ : "(null)"); \
        }                                                                              \
    } while (0)

#define SG_RUN(fn)                                                                     \
    do {                                                                               \
        int sg_before_ = sg_test_failures;                                             \
        fn();                                                                          \
        fprintf(stderr, "  %s %s\n", sg_test_failures == sg_before_ ? "ok  " : "FAIL", \
                #fn);                                                                  \
    } while (0)

#define SG_TEST_MAIN_END()                                                             \
    do {                                                                               \
        fprintf(stderr, "%s: %d checks, %d failed\n", __FILE__, sg_test_checks,        \
                sg_test_failures);                                                     \
        return sg_test_failures ? 1 : 0;                                               \
    } while (0)

#endif
