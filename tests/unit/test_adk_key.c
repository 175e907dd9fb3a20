/*
 * Unit tests for adk_key: the key order against the numeric order of doubles (every class: zeros,
 * subnormals, normals, infinities), the bit-exact round trip, the folded -0.0/+0.0 key, the radix
 * sort against qsort on random and heavily tied keys, and the binary searches against linear
 * counts. References are independent of adk_key: C comparisons of the doubles, qsort, loops.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_key.h"
#include "adk_test.h"

/* xorshift64*: a fixed test stream, the same on every rank. */
static uint64_t next_u64(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* A random non-NaN double of any class: raw bits, with NaN patterns replaced by an infinity. */
static double any_double(uint64_t *s)
{
    uint64_t u = next_u64(s);
    double x;
    memcpy(&x, &u, sizeof(x));
    return isnan(x) ? (u >> 63 ? -INFINITY : INFINITY) : x;
}

static const double ladder[] = {-INFINITY,         -DBL_MAX, -1e300,  -1.0,    -DBL_MIN,
                                -DBL_MIN / 2,      -5e-324,  -0.0,    0.0,     5e-324,
                                DBL_MIN / 2,       DBL_MIN,  1e-300,  0.5,     1.0,
                                1.0 + DBL_EPSILON, 1e300,    DBL_MAX, INFINITY};

static void test_order_ladder(void)
{
    const size_t n = sizeof(ladder) / sizeof(ladder[0]);
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += !adk_test_same_bits(adk_key_to_double(adk_key_from_double(ladder[i])), ladder[i]);
        for (size_t j = 0; j < n; j++) {
            uint64_t a = adk_key_from_double(ladder[i]), b = adk_key_from_double(ladder[j]);
            /* the total order: -0.0 just below +0.0, otherwise the numeric order */
            bad += (a < b) != (i < j);
            uint64_t va = adk_key_from_value(ladder[i]), vb = adk_key_from_value(ladder[j]);
            bad += (va < vb) != (ladder[i] < ladder[j]);
            bad += (va == vb) != (ladder[i] == ladder[j]);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* the two zeros: adjacent keys in the total order, one key by value */
    CU_ASSERT_EQUAL(adk_key_from_double(0.0) - adk_key_from_double(-0.0), 1);
    CU_ASSERT_EQUAL(adk_key_from_value(-0.0), adk_key_from_value(0.0));
    CU_ASSERT_EQUAL(adk_key_from_value(-0.0), adk_key_from_double(0.0));
    CU_ASSERT(adk_test_same_bits(adk_key_to_double(adk_key_from_double(-0.0)), -0.0));
    /* the smallest subnormals are neighbours of the zeros */
    CU_ASSERT_EQUAL(adk_key_from_double(5e-324) - adk_key_from_double(0.0), 1);
    CU_ASSERT_EQUAL(adk_key_from_double(-0.0) - adk_key_from_double(-5e-324), 1);
    /* positive keys have the top bit, negative ones do not */
    CU_ASSERT_EQUAL(adk_key_from_double(0.0), UINT64_C(1) << 63);
    CU_ASSERT_EQUAL(adk_key_from_double(-INFINITY), ~UINT64_C(0xfff0000000000000));
}

/* Random doubles of every class: key comparison = numeric comparison, round trip exact. */
static void test_order_random(void)
{
    uint64_t s = 12345;
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        double a = any_double(&s), b = i % 3 ? any_double(&s) : a * 0.5;
        uint64_t ka = adk_key_from_double(a), kb = adk_key_from_double(b);
        bad += !adk_test_same_bits(adk_key_to_double(ka), a);
        if (a != b) {
            bad += (ka < kb) != (a < b);
        } else {
            bad += (ka == kb) != adk_test_same_bits(a, b); /* equal values: equal keys unless +-0 */
        }
        uint64_t va = adk_key_from_value(a), vb = adk_key_from_value(b);
        bad += (va < vb) != (a < b) || (va == vb) != (a == b);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sort k (n keys) with adk_key_sort and with qsort; 1 when they agree. */
static int sorts_agree(const uint64_t *k, size_t n)
{
    uint64_t *a = malloc((n + 1) * sizeof(uint64_t)), *b = malloc((n + 1) * sizeof(uint64_t));
    uint64_t *tmp = malloc((n + 1) * sizeof(uint64_t));
    if (!a || !b || !tmp) {
        free(a);
        free(b);
        free(tmp);
        return 0;
    }
    memcpy(a, k, n * sizeof(uint64_t));
    memcpy(b, k, n * sizeof(uint64_t));
    adk_key_sort(a, tmp, n);
    qsort(b, n, sizeof(uint64_t), cmp_u64);
    int ok = memcmp(a, b, n * sizeof(uint64_t)) == 0;
    free(a);
    free(b);
    free(tmp);
    return ok;
}

static void test_sort(void)
{
    const size_t n = 50001;
    uint64_t *k = malloc(n * sizeof(uint64_t));
    CU_ASSERT_FATAL(k != NULL);
    uint64_t s = 99;
    /* random keys of random doubles */
    for (size_t i = 0; i < n; i++) {
        k[i] = adk_key_from_double(any_double(&s));
    }
    CU_ASSERT(sorts_agree(k, n));
    /* heavy ties: 7 distinct values of one binade (most bytes equal, passes skipped) */
    for (size_t i = 0; i < n; i++) {
        k[i] = adk_key_from_value(1.0 + (double)(next_u64(&s) % 7) * 0.125);
    }
    CU_ASSERT(sorts_agree(k, n));
    /* ties in the low byte only, different high bytes */
    for (size_t i = 0; i < n; i++) {
        k[i] = (next_u64(&s) & ~UINT64_C(0xff)) | (i % 3);
    }
    CU_ASSERT(sorts_agree(k, n));
    /* all equal; already sorted; reversed; n = 0, 1, 2 */
    for (size_t i = 0; i < n; i++) {
        k[i] = UINT64_C(0x8000000000000001);
    }
    CU_ASSERT(sorts_agree(k, n));
    for (size_t i = 0; i < n; i++) {
        k[i] = (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15) >> 1;
    }
    CU_ASSERT(sorts_agree(k, n));
    for (size_t i = 0; i < n; i++) {
        k[i] = ~(uint64_t)i;
    }
    CU_ASSERT(sorts_agree(k, n));
    CU_ASSERT(sorts_agree(k, 0));
    CU_ASSERT(sorts_agree(k, 1));
    k[0] = 5;
    k[1] = 3;
    CU_ASSERT(sorts_agree(k, 2));
    /* the sorted keys give back the doubles in numeric order */
    const size_t nl = sizeof(ladder) / sizeof(ladder[0]);
    uint64_t kl[32], tmp[32];
    for (size_t i = 0; i < nl; i++) {
        kl[i] = adk_key_from_double(ladder[nl - 1 - i]);
    }
    adk_key_sort(kl, tmp, nl);
    int bad = 0;
    for (size_t i = 0; i < nl; i++) {
        bad += !adk_test_same_bits(adk_key_to_double(kl[i]), ladder[i]);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(k);
}

static void test_count(void)
{
    const uint64_t k[] = {2, 4, 4, 4, 7, 9, 9};
    const size_t n = sizeof(k) / sizeof(k[0]);
    int bad = 0;
    for (uint64_t key = 0; key < 12; key++) {
        size_t below = 0, atmost = 0;
        for (size_t i = 0; i < n; i++) {
            below += k[i] < key;
            atmost += k[i] <= key;
        }
        bad += adk_key_count_below(k, n, key) != below;
        bad += adk_key_count_at_most(k, n, key) != atmost;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(adk_key_count_below(k, 0, 5), 0);
    CU_ASSERT_EQUAL(adk_key_count_at_most(k, n, UINT64_MAX), n);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"key order and round trip: zeros, subnormals, infinities", test_order_ladder},
        {"key order and round trip: random doubles", test_order_random},
        {"radix sort = qsort: random, tied, sorted, reversed", test_sort},
        {"lower and upper bound counts", test_count},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_key", tests);
}
