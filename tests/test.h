/* A tiny test harness: CHECK, CHECK_NEAR, check_tensor; the test's exit status is non-zero if
 * any check failed. Each test file includes this once and returns test_finish() from main. */
#ifndef VC_TEST_H
#define VC_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int test_failures = 0;
static int test_checks = 0;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        test_checks++;                                                                             \
        if (!(cond)) {                                                                             \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define CHECK_NEAR(a, b, atol, rtol)                                                               \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        test_checks++;                                                                             \
        if (!(fabs(a_ - b_) <= (atol) + (rtol)*fabs(b_))) {                                        \
            test_failures++;                                                                       \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g\n", __FILE__,          \
                    __LINE__, #a, a_, #b, b_);                                                     \
        }                                                                                          \
    } while (0)

/* Compare two tensors; prints max-abs error, NMSE and the first mismatch. Returns 1 if ok. */
static inline int check_tensor(const char *name, const float *got, const float *want, size_t n,
                               double atol, double rtol) {
    double max_err = 0, err2 = 0, ref2 = 0;
    size_t first_bad = n;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        if (fabs(d) > max_err || d != d) max_err = d != d ? INFINITY : fabs(d);
        err2 += d * d;
        ref2 += (double)want[i] * (double)want[i];
        if (first_bad == n && !(fabs(d) <= atol + rtol * fabs((double)want[i]))) first_bad = i;
    }
    test_checks++;
    if (first_bad != n) {
        test_failures++;
        fprintf(stderr,
                "check_tensor %s: max abs err %.3g, NMSE %.3g, first mismatch at %zu: "
                "got %.9g want %.9g\n",
                name, max_err, ref2 > 0 ? err2 / ref2 : err2, first_bad, (double)got[first_bad],
                (double)want[first_bad]);
        return 0;
    }
    return 1;
}

/* Largest |a - b| over n elements. */
static inline double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

/* A malloc'd copy of x (n); aborts if memory runs out (tests only). */
static inline float *copy_of(const float *x, size_t n) {
    float *y = malloc(n * sizeof(float));
    if (!y) abort();
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    return y;
}

/* Seed for randomised tests: SEED=... in the environment, else the default; printed. */
static inline unsigned long long test_seed(unsigned long long def) {
    const char *s = getenv("SEED");
    unsigned long long seed = s ? strtoull(s, NULL, 10) : def;
    fprintf(stderr, "seed %llu (set SEED= to change)\n", seed);
    return seed;
}

static inline int test_finish(void) {
    fprintf(stderr, "%d checks, %d failed\n", test_checks, test_failures);
    return test_failures ? 1 : 0;
}

#define TEST_SKIP 77

#endif
