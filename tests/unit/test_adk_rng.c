/* Unit tests for adk_rng: Random123 known answers, stream independence, distributions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_rng.h"
#include "adk_test.h"

static void test_known_answer(void)
{
    /* Random123 kat_vectors, philox4x64-10: counter 0, key 0. */
    adk_rng_t r;
    adk_rng_init(&r, 0, 0, 0, 0);
    CU_ASSERT_EQUAL(adk_rng_u64(&r), UINT64_C(0x16554d9eca36314c));
    CU_ASSERT_EQUAL(adk_rng_u64(&r), UINT64_C(0xdb20fe9d672d0fdc));
    CU_ASSERT_EQUAL(adk_rng_u64(&r), UINT64_C(0xd7e772cee186176b));
    CU_ASSERT_EQUAL(adk_rng_u64(&r), UINT64_C(0x7e68b68aec7ba23b));
}

static void test_streams(void)
{
    adk_rng_t a, b, c;
    adk_rng_init(&a, 42, ADK_RNG_GEN, 7, 0);
    adk_rng_init(&b, 42, ADK_RNG_GEN, 7, 0);
    adk_rng_init(&c, 42, ADK_RNG_GEN, 8, 0);
    int same = 1, diff = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = adk_rng_u64(&a), y = adk_rng_u64(&b), z = adk_rng_u64(&c);
        same &= x == y;
        diff += x != z;
    }
    CU_ASSERT(same);
    CU_ASSERT(diff > 95);
    adk_rng_init(&a, 42, ADK_RNG_GEN, 7, 0);
    adk_rng_init(&c, 42, ADK_RNG_INIT, 7, 0); /* purposes are independent */
    CU_ASSERT(adk_rng_u64(&a) != adk_rng_u64(&c));
}

static void test_uniform_normal(void)
{
    adk_rng_t r;
    adk_rng_init(&r, 1, ADK_RNG_SAMPLE, 0, 0);
    int n = 200000;
    double s = 0, s2 = 0, mn = 1, mx = 0;
    for (int i = 0; i < n; i++) {
        double u = adk_rng_uniform(&r);
        s += u;
        mn = u < mn ? u : mn;
        mx = u > mx ? u : mx;
    }
    CU_ASSERT(mn >= 0.0 && mx < 1.0);
    CU_ASSERT(fabs(s / n - 0.5) < 0.005);
    s = 0;
    for (int i = 0; i < n; i++) {
        double z = adk_rng_normal(&r);
        s += z;
        s2 += z * z;
    }
    CU_ASSERT(fabs(s / n) < 0.01);
    CU_ASSERT(fabs(s2 / n - 1.0) < 0.015);
}

static void test_below(void)
{
    adk_rng_t r;
    adk_rng_init(&r, 3, ADK_RNG_SAMPLE, 1, 0);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t v = adk_rng_below(&r, 7);
        CU_ASSERT_FATAL(v < 7);
        counts[v]++;
    }
    for (int k = 0; k < 7; k++) {
        CU_ASSERT(abs(counts[k] - 10000) < 500);
    }
}

static void test_permute(void)
{
    uint64_t sizes[] = {1, 2, 3, 10, 17, 1000, 65537};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t n = sizes[k];
        char *seen = calloc(n, 1);
        int ok = 1, moved = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t j = adk_rng_permute(99, n, i);
            if (j >= n || seen[j]) {
                ok = 0;
                break;
            }
            seen[j] = 1;
            moved += j != i;
        }
        CU_ASSERT(ok);
        if (n >= 1000) {
            CU_ASSERT(moved > (int)(n * 9 / 10)); /* a real shuffle, not the identity */
        }
        free(seen);
    }
    CU_ASSERT(adk_rng_permute(1, 1000, 5) != adk_rng_permute(2, 1000, 5) ||
              adk_rng_permute(1, 1000, 6) != adk_rng_permute(2, 1000, 6));
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {{"philox known answer", test_known_answer},
                                       {"streams keyed by seed/purpose/index", test_streams},
                                       {"uniform and normal moments", test_uniform_normal},
                                       {"bounded integers", test_below},
                                       {"keyed permutation is a bijection", test_permute},
                                       {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_rng", tests);
}
