/* Unit tests for adk_part: every row owned exactly once, blocks never split, zero-row ranks. */
#include <math.h>
#include <stdio.h>

#include "adk_part.h"
#include "adk_test.h"

/* Brute-force check of one (n, size, align): coverage, order, block integrity, owner. */
static void check_partition(int64_t n, int size, int64_t align)
{
    int64_t a = adk_part_align(n, align);
    int64_t next = 0;
    for (int r = 0; r < size; r++) {
        adk_range_t g = adk_part_rows(n, size, r, align);
        CU_ASSERT(g.count >= 0);
        CU_ASSERT_EQUAL(g.start, next); /* contiguous, in rank order */
        if (g.count > 0) {
            CU_ASSERT_EQUAL(g.start % a, 0); /* starts on a block boundary */
        }
        for (int64_t i = g.start; i < g.start + g.count; i++) {
            CU_ASSERT_EQUAL(adk_part_owner(n, size, align, i), r);
        }
        next = g.start + g.count;
    }
    CU_ASSERT_EQUAL(next, n);
}

static void test_plain_split(void)
{
    adk_range_t r;
    int64_t want[4] = {3, 3, 2, 2}; /* 10 rows on 4 ranks: remainder to the lowest ranks */
    for (int k = 0; k < 4; k++) {
        r = adk_part_rows(10, 4, k, 1);
        CU_ASSERT_EQUAL(r.count, want[k]);
    }
    r = adk_part_rows(10, 4, 2, 1);
    CU_ASSERT_EQUAL(r.start, 6);
    for (int64_t n = 0; n < 40; n++) {
        for (int p = 1; p <= 9; p++) {
            check_partition(n, p, 1);
        }
    }
}

static void test_more_ranks_than_rows(void)
{
    for (int k = 0; k < 5; k++) {
        adk_range_t r = adk_part_rows(3, 5, k, 1);
        CU_ASSERT_EQUAL(r.count, k < 3 ? 1 : 0);
    }
    check_partition(3, 5, 1);
    check_partition(1, 4, 1);
    check_partition(20, 7, 16); /* two blocks over seven ranks */
    adk_range_t r = adk_part_rows(20, 7, 1, 16);
    CU_ASSERT_EQUAL(r.start, 16);
    CU_ASSERT_EQUAL(r.count, 4);
    CU_ASSERT_EQUAL(adk_part_rows(20, 7, 5, 16).count, 0);
}

static void test_aligned_blocks(void)
{
    int64_t aligns[] = {2, 3, 16, 256};
    for (size_t k = 0; k < sizeof(aligns) / sizeof(aligns[0]); k++) {
        for (int64_t n = 0; n < 600; n += 7) {
            for (int p = 1; p <= 6; p++) {
                check_partition(n, p, aligns[k]);
            }
        }
    }
    check_partition(2000000, 4, ADK_ALIGN_REPRO);
    check_partition(1437, 3, ADK_ALIGN_REPRO);
}

static void test_repro_block(void)
{
    CU_ASSERT_EQUAL(adk_part_repro_block(0), 16);
    CU_ASSERT_EQUAL(adk_part_repro_block(150), 16);
    CU_ASSERT_EQUAL(adk_part_repro_block(1437), 16);
    CU_ASSERT_EQUAL(adk_part_repro_block(8192), 32);
    CU_ASSERT_EQUAL(adk_part_repro_block(100000), 256);
    CU_ASSERT_EQUAL(adk_part_repro_block(2000000), 4096);
    CU_ASSERT_EQUAL(adk_part_repro_block(INT64_C(100000000000)), 4096);
    int64_t prev = 0;
    for (int64_t n = 1; n < 3000000; n = n * 3 / 2 + 1) {
        int64_t b = adk_part_repro_block(n);
        CU_ASSERT((b & (b - 1)) == 0); /* a power of two */
        CU_ASSERT(b >= prev);
        CU_ASSERT(b == 16 || b * 256 <= n);
        prev = b;
    }
}

/* Row counts beyond 2^31 (and 2^40): 64-bit arithmetic end to end, checked without visiting rows.
 */
static void test_huge_counts(void)
{
    const int64_t ns[] = {((int64_t)1 << 31) + 7, ((int64_t)1 << 40) + 3, 1000000000000000LL};
    const int sizes[] = {1, 3, 7, 1024, 100000};
    const int64_t aligns[] = {1, ADK_ALIGN_REPRO, 4096};
    for (size_t a = 0; a < 3; a++) {
        for (size_t z = 0; z < 5; z++) {
            for (size_t k = 0; k < 3; k++) {
                int64_t n = ns[k], al = adk_part_align(n, aligns[a]), next = 0;
                int64_t lo = INT64_MAX, hi = 0;
                int ok = 1;
                for (int r = 0; r < sizes[z]; r++) {
                    adk_range_t g = adk_part_rows(n, sizes[z], r, aligns[a]);
                    ok &= g.start == next && g.count >= 0 && g.start % al == 0;
                    if (g.count > 0) {
                        ok &= adk_part_owner(n, sizes[z], aligns[a], g.start) == r;
                        ok &= adk_part_owner(n, sizes[z], aligns[a], g.start + g.count - 1) == r;
                        /* a block end inside this rank's rows stays inside them */
                        size_t last = adk_part_block_end(g.start, 0, (size_t)g.count, al);
                        ok &= last >= 1 && (int64_t)last <= g.count;
                    }
                    lo = g.count < lo ? g.count : lo;
                    hi = g.count > hi ? g.count : hi;
                    next = g.start + g.count;
                }
                ok &= next == n &&
                      hi - lo < 2 * al; /* every row once; balanced to a block (and a part) */
                CU_ASSERT(ok);
                if (!ok) {
                    printf("# n %lld, %d ranks, align %lld\n", (long long)n, sizes[z],
                           (long long)aligns[a]);
                }
            }
        }
    }
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {{"plain split", test_plain_split},
                                       {"more ranks than rows", test_more_ranks_than_rows},
                                       {"aligned blocks", test_aligned_blocks},
                                       {"repro block size", test_repro_block},
                                       {"counts beyond 2^31", test_huge_counts},
                                       {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_part", tests);
}
