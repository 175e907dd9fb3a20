/* Unit tests for adk_repro: exactness, single correct rounding, bounds, rank-count invariance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_part.h"
#include "adk_repro.h"
#include "adk_rng.h"
#include "adk_test.h"

/* Sum the values given on rank 0 (others add nothing) with scale e; return the global value. */
static double sum_on_root(const double *v, int n, int e, int *st)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_racc_t *a = NULL;
    adk_racc_alloc(1, 0, &a);
    adk_racc_set_scale(a, 0, e);
    if (adk_ctx_rank(ctx) == 0) {
        for (int i = 0; i < n; i++) {
            adk_racc_add(a, 0, v[i]);
        }
    }
    *st = adk_racc_allreduce(ctx, a);
    double r = adk_racc_get(a, 0);
    adk_racc_free(a);
    return r;
}

static void test_exact_integers(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    adk_racc_t *a = NULL;
    CU_ASSERT_FATAL(adk_racc_alloc(2, 1, &a) == ADK_OK);
    adk_racc_set_scale(a, 0, adk_repro_exponent(1000.0 / 1024));
    adk_racc_set_scale(a, 1, 40);
    long long exact = 0;
    for (int k = 9999; k >= 0; k--) { /* each rank a strided subset, in reverse order */
        long long m = (long long)(k * 7919 % 2001) - 1000;
        exact += m;
        if (k % size == rank) {
            adk_racc_add(a, 0, ldexp((double)m, -10));
            adk_racc_add(a, 1, (double)m * 1e6);
            adk_racc_addi(a, 0, m);
        }
    }
    CU_ASSERT_EQUAL(adk_racc_allreduce(ctx, a), ADK_OK);
    CU_ASSERT_EQUAL(adk_racc_get(a, 0), ldexp((double)exact, -10));
    CU_ASSERT_EQUAL(adk_racc_get(a, 1), (double)exact * 1e6);
    CU_ASSERT_EQUAL(adk_racc_geti(a, 0), exact);
    adk_racc_free(a);
}

static void test_correct_rounding(void)
{
    int st;
    double tie[] = {1.0, 0x1p-53};
    CU_ASSERT_EQUAL(sum_on_root(tie, 2, 1, &st), 1.0); /* tie: to even */
    CU_ASSERT_EQUAL(st, ADK_OK);
    double above[] = {1.0, 0x1p-53, 0x1p-80};
    CU_ASSERT_EQUAL(sum_on_root(above, 3, 1, &st), 1.0 + 0x1p-52); /* sticky bit decides */
    double neg[] = {-1.0, -0x1p-53, -0x1p-80};
    CU_ASSERT_EQUAL(sum_on_root(neg, 3, 1, &st), -(1.0 + 0x1p-52));
    double below[] = {1.0, -0x1p-54};
    CU_ASSERT_EQUAL(sum_on_root(below, 2, 1, &st), 1.0);
    double below2[] = {1.0, -0x1p-54, -0x1p-90};
    CU_ASSERT_EQUAL(sum_on_root(below2, 3, 1, &st), 1.0 - 0x1p-53);
    double cancel[] = {1e16, 1.0, -1e16, 0.25};
    CU_ASSERT_EQUAL(sum_on_root(cancel, 4, adk_repro_exponent(1e16), &st), 1.25);
    double tiny[] = {0x1p-100, 0x1p-100};
    CU_ASSERT_EQUAL(sum_on_root(tiny, 2, 1, &st), 0x1p-99);
    double zero[] = {3.5, -3.5};
    CU_ASSERT_EQUAL(sum_on_root(zero, 2, 2, &st), 0.0);
}

static void test_bound_violation(void)
{
    int st;
    double big[] = {5.0};
    sum_on_root(big, 1, 2, &st); /* 5 >= 2^2 */
    CU_ASSERT_EQUAL(st, ADK_EINTERNAL);
    adk_ctx_clear(adk_test_ctx());
    double nan[] = {NAN};
    sum_on_root(nan, 1, 2, &st);
    CU_ASSERT_EQUAL(st, ADK_EINTERNAL);
    adk_ctx_clear(adk_test_ctx());
    CU_ASSERT_EQUAL(adk_repro_exponent(1.0), 1);
    CU_ASSERT_EQUAL(adk_repro_exponent(0.75), 0);
    CU_ASSERT_EQUAL(adk_repro_exponent(0.0), -1000);
}

/* Deterministic test matrix: row g depends only on g. */
static void make_row(int64_t g, double *x, size_t d)
{
    adk_rng_t r;
    adk_rng_init(&r, 5, ADK_RNG_GEN, (uint64_t)g, 0);
    for (size_t j = 0; j < d; j++) {
        x[j] = adk_rng_normal(&r) * pow(10.0, (double)j * 3 - 3) + (double)j;
    }
}

static void test_colsums_invariant(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    const int64_t n = 5003;
    const size_t d = 3;
    int64_t block = adk_part_repro_block(n);
    adk_range_t rg = adk_part_rows(n, size, rank, block);
    double *x = malloc(((size_t)rg.count + 1) * d * sizeof(double));
    for (int64_t i = 0; i < rg.count; i++) {
        make_row(rg.start + i, x + i * d, d);
    }
    double got[3], ref[3];
    CU_ASSERT_EQUAL(adk_repro_colsums(ctx, x, (size_t)rg.count, d, rg.start, block, got), ADK_OK);
    /* Reference: the whole matrix summed by one process on its own communicator. */
    adk_ctx_t *self = NULL;
    char *argv0[] = {"self"};
    CU_ASSERT_FATAL(adk_ctx_create(MPI_COMM_SELF, 1, argv0, &self) == ADK_OK);
    double *all = malloc((size_t)n * d * sizeof(double));
    long double naive[3] = {0, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        make_row(i, all + i * d, d);
        for (size_t j = 0; j < d; j++) {
            naive[j] += all[i * d + j];
        }
    }
    CU_ASSERT_EQUAL(adk_repro_colsums(self, all, (size_t)n, d, 0, block, ref), ADK_OK);
    for (size_t j = 0; j < d; j++) {
        CU_ASSERT(memcmp(&got[j], &ref[j], sizeof(double)) == 0); /* bitwise, any rank count */
        ADK_ASSERT_REL(got[j], (double)naive[j], 1e-13);
    }
    adk_ctx_free(self);
    free(all);
    free(x);
}

static void test_counters_and_ranks(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    adk_racc_t *a = NULL;
    adk_racc_alloc(0, 2, &a);
    adk_racc_addi(a, 0, rank + 1);
    adk_racc_addi(a, 1, -(INT64_C(1) << 40));
    CU_ASSERT_EQUAL(adk_racc_allreduce(ctx, a), ADK_OK);
    CU_ASSERT_EQUAL(adk_racc_geti(a, 0), (int64_t)size * (size + 1) / 2);
    CU_ASSERT_EQUAL(adk_racc_geti(a, 1), -((int64_t)size << 40));
    adk_racc_free(a);
}

/*
 * Incremental sums (k-means' M-step over iterations): taking a contribution out (adding its
 * negative) and putting another in leaves the very digits of adding the final contributions
 * alone, whatever bits they have below the grid, and a buffer kept aside merges exactly.
 */
static void test_replace_and_merge(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    enum { N = 200 };
    double v[N], w[N];
    adk_rng_t r;
    adk_rng_init(&r, 9, ADK_RNG_GEN, 0, 0);
    for (int i = 0; i < N; i++) { /* full-width mantissas, both signs, down to 2^-140 */
        v[i] = adk_rng_normal(&r) * ldexp(1.0, -(i % 140));
        w[i] = adk_rng_normal(&r) * ldexp(1.0, -(i % 130));
    }
    adk_racc_t *inc = NULL, *direct = NULL, *fresh = NULL;
    CU_ASSERT_FATAL(adk_racc_alloc(1, 1, &inc) == ADK_OK);
    CU_ASSERT_FATAL(adk_racc_alloc(1, 1, &direct) == ADK_OK);
    CU_ASSERT_FATAL(adk_racc_alloc(1, 1, &fresh) == ADK_OK);
    adk_racc_set_scale(inc, 0, 4);
    adk_racc_set_scale(direct, 0, 4);
    adk_racc_set_scale(fresh, 0, 4);
    for (int i = 0; i < N; i++) {
        adk_racc_add(inc, 0, v[i]);
    }
    for (int i = 0; i < N; i += 3) { /* a third replaced, some twice */
        adk_racc_add(inc, 0, -v[i]);
        adk_racc_add(inc, 0, w[i]);
        v[i] = w[i];
        if (i % 2 == 0) {
            adk_racc_add(inc, 0, -v[i]);
            adk_racc_add(inc, 0, w[(i + 1) % N]);
            v[i] = w[(i + 1) % N];
        }
    }
    for (int i = 0; i < N; i++) {
        adk_racc_add(direct, 0, v[i]);
    }
    CU_ASSERT(memcmp(inc->buf, direct->buf, inc->len * sizeof(int64_t)) == 0);
    adk_racc_addi(fresh, 0, 7);
    adk_racc_merge(fresh, inc);
    CU_ASSERT_EQUAL(adk_racc_geti(fresh, 0), 7);
    double a = adk_racc_get(fresh, 0), b = adk_racc_get(direct, 0);
    CU_ASSERT(memcmp(&a, &b, sizeof(double)) == 0);
    /* a broken bound in the buffer kept aside is reported after the merge */
    adk_racc_add(inc, 0, 100.0);
    adk_racc_merge(fresh, inc);
    CU_ASSERT_EQUAL(adk_racc_allreduce(ctx, fresh), ADK_EINTERNAL);
    adk_ctx_clear(ctx);
    adk_racc_free(inc);
    adk_racc_free(direct);
    adk_racc_free(fresh);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"exact sums of grid values", test_exact_integers},
        {"single correct rounding", test_correct_rounding},
        {"bound violations are reported", test_bound_violation},
        {"column sums bitwise equal to one-process sums", test_colsums_invariant},
        {"integer counters", test_counters_and_ranks},
        {"replaced contributions and merged buffers are exact", test_replace_and_merge},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_repro", tests);
}
