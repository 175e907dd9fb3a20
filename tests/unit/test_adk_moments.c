/*
 * Unit tests for adk_moments: mean, variances and covariance against a brute-force long double
 * two-pass computation over all rows (within 1e-13 of each entry's scale), on data built to
 * cancel (a column at 1e6 + O(1) noise) and of mixed scales; the same bits on every rank, as one
 * process over all rows, and over partitions of whole blocks that adk_part would never make
 * (everything on one rank, skewed); constant columns exactly; errors and more ranks than rows.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_moments.h"
#include "adk_part.h"
#include "adk_test.h"

#define D 5

/* Row i of the test matrix: cancellation, tiny, integer, mixed-sign and correlated columns. */
static void row_of(int64_t i, double *x)
{
    x[0] = 1e6 + adk_test_hash01(i, 0);
    x[1] = 1e-3 * adk_test_hash01(i, 1);
    x[2] = (double)(int64_t)(10.0 * adk_test_hash01(i, 2)) - 5.0;
    x[3] = 200.0 * (adk_test_hash01(i, 3) - 0.5);
    x[4] = 0.5 * x[3] + 3.0 * adk_test_hash01(i, 4);
}

/* This rank's rows [row0, row0 + nloc) of the n-row test matrix, blocks of @p align rows. */
static adk_rows_t *make_rows(int64_t n, int64_t align, int64_t row0, size_t nloc)
{
    adk_rows_t *r = calloc(1, sizeof(*r));
    CU_ASSERT_FATAL(r != NULL);
    r->n = n;
    r->d = D;
    r->align = align;
    r->row0 = row0;
    r->nloc = nloc;
    r->x = malloc((nloc ? nloc : 1) * D * sizeof(double));
    CU_ASSERT_FATAL(r->x != NULL);
    for (size_t i = 0; i < nloc; i++) {
        row_of(row0 + (int64_t)i, r->x + i * D);
    }
    return r;
}

/* The partition of @p n rows the library makes (adk_part_rows, reproducible alignment). */
static adk_rows_t *usual_rows(adk_ctx_t *ctx, int64_t n)
{
    int64_t align = adk_part_align(n, ADK_ALIGN_REPRO);
    adk_range_t rg = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), align);
    return make_rows(n, align, rg.start, (size_t)rg.count);
}

/* Brute force in long double over all n rows: mean, then the centred second moments. */
static void brute(int64_t n, long double *mu, long double *cov)
{
    double x[D];
    for (int j = 0; j < D; j++) {
        mu[j] = 0;
    }
    for (int64_t i = 0; i < n; i++) {
        row_of(i, x);
        for (int j = 0; j < D; j++) {
            mu[j] += x[j];
        }
    }
    for (int j = 0; j < D; j++) {
        mu[j] /= (long double)n;
    }
    for (int j = 0; j < D * D; j++) {
        cov[j] = 0;
    }
    for (int64_t i = 0; i < n; i++) {
        row_of(i, x);
        for (int j = 0; j < D; j++) {
            for (int k = 0; k < D; k++) {
                cov[j * D + k] += ((long double)x[j] - mu[j]) * ((long double)x[k] - mu[k]);
            }
        }
    }
    for (int j = 0; j < D * D; j++) {
        cov[j] /= (long double)n;
    }
}

/* Do all ranks hold the same bits in v[0..n)? */
static int same_on_all_ranks(const double *v, size_t n)
{
    double *r0 = malloc(n * sizeof(double));
    memcpy(r0, v, n * sizeof(double));
    MPI_Bcast(r0, (int)n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    int mine = memcmp(r0, v, n * sizeof(double)) != 0, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    free(r0);
    return !any;
}

static void test_brute_force(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t n = 5003; /* blocks of 16: a partial last block */
    long double bmu[D], bcov[D * D];
    brute(n, bmu, bcov);
    adk_rows_t *x = usual_rows(ctx, n);
    double mu[D], var[D], cov[D * D];
    CU_ASSERT_FATAL(adk_moments_compute(ctx, x, ADK_MOMENTS_VAR, mu, var) == ADK_OK);
    double mu2[D];
    CU_ASSERT_FATAL(adk_moments_compute(ctx, x, ADK_MOMENTS_COV, mu2, cov) == ADK_OK);
    int nbad = 0;
    for (int j = 0; j < D; j++) {
        nbad += !(fabsl(mu[j] - bmu[j]) <= 1e-15L * fabsl(bmu[j]));
        nbad += !adk_test_same_bits(mu[j], mu2[j]);
        nbad += !(fabsl(var[j] - bcov[j * D + j]) <= 1e-13L * bcov[j * D + j]);
        nbad += !adk_test_same_bits(var[j], cov[j * D + j]); /* one definition of the variance */
        for (int k = 0; k < D; k++) {
            long double scale = sqrtl(bcov[j * D + j] * bcov[k * D + k]);
            nbad += !(fabsl(cov[j * D + k] - bcov[j * D + k]) <= 1e-13L * scale);
            nbad += !adk_test_same_bits(cov[j * D + k], cov[k * D + j]); /* symmetric */
        }
    }
    if (nbad && adk_ctx_rank(ctx) == 0) {
        printf("# var %.17g %.17g %.17g %.17g %.17g\n", var[0], var[1], var[2], var[3], var[4]);
    }
    CU_ASSERT_EQUAL(nbad, 0);
    /* the correlated pair: cov(x3, x4) = var(x3) / 2 + noise, visibly positive */
    CU_ASSERT(cov[3 * D + 4] > 0.4 * var[3]);
    adk_rows_free(x);
}

/* The same bits on every rank, as one process over all rows, and over other block partitions. */
static void test_bitwise_any_partition(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t n = 3001;
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    int64_t align = adk_part_align(n, ADK_ALIGN_REPRO), nb = (n + align - 1) / align;
    for (int kind = 0; kind < 2; kind++) {
        size_t ns = kind ? D * D : D;
        double mu1[D], s1[D * D], mu[D], s[D * D];
        /* one process over all rows (its own communicator) */
        adk_ctx_t *self = NULL;
        char *argv0[] = {"self"};
        CU_ASSERT_FATAL(adk_ctx_create(MPI_COMM_SELF, 1, argv0, &self) == ADK_OK);
        adk_rows_t *all = make_rows(n, align, 0, (size_t)n);
        CU_ASSERT_FATAL(adk_moments_compute(self, all, (adk_moments_kind_t)kind, mu1, s1) ==
                        ADK_OK);
        adk_rows_free(all);
        adk_ctx_free(self);
        int bad = 0;
        for (int scheme = 0; scheme < 3; scheme++) {
            int64_t b0, b1; /* this rank's blocks [b0, b1) */
            if (scheme == 0) {
                adk_range_t rg = adk_part_rows(nb, size, rank, 1);
                b0 = rg.start;
                b1 = rg.start + rg.count;
            } else if (scheme == 1) { /* everything on the last rank */
                b0 = rank == size - 1 ? 0 : nb;
                b1 = nb;
            } else { /* skewed: rank r holds a share growing as (r + 1)^2 */
                int64_t w = 0, wr = 0;
                for (int i = 0; i < size; i++) {
                    wr += i < rank ? (int64_t)(i + 1) * (i + 1) : 0;
                    w += (int64_t)(i + 1) * (i + 1);
                }
                b0 = nb * wr / w;
                b1 = nb * (wr + (int64_t)(rank + 1) * (rank + 1)) / w;
            }
            int64_t r0 = b0 * align, r1 = b1 * align < n ? b1 * align : n;
            adk_rows_t *x = make_rows(n, align, r0, (size_t)(r1 > r0 ? r1 - r0 : 0));
            CU_ASSERT_FATAL(adk_moments_compute(ctx, x, (adk_moments_kind_t)kind, mu, s) == ADK_OK);
            bad += memcmp(mu, mu1, sizeof(mu)) != 0 || memcmp(s, s1, ns * sizeof(double)) != 0;
            bad += !same_on_all_ranks(mu, D) || !same_on_all_ranks(s, ns);
            adk_rows_free(x);
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
}

/* A constant column whose sum / m does not round back to the value (0.1 over 7 rows): its mean
 * is the value and its variance and covariances exactly 0. */
static void test_constant_exact(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 7, 2, ADK_ALIGN_REPRO, "c", 0, &x) == ADK_OK);
    for (size_t i = 0; i < x->nloc; i++) {
        x->x[2 * i] = 0.1;
        x->x[2 * i + 1] = (double)(x->row0 + (int64_t)i);
    }
    double mu[2], var[2], cov[4];
    CU_ASSERT_FATAL(adk_moments_compute(ctx, x, ADK_MOMENTS_VAR, mu, var) == ADK_OK);
    CU_ASSERT(adk_test_same_bits(mu[0], 0.1));
    CU_ASSERT(adk_test_same_bits(var[0], 0.0));
    CU_ASSERT_EQUAL(mu[1], 3.0);
    CU_ASSERT_EQUAL(var[1], 4.0); /* 0..6: population variance 28/7 */
    CU_ASSERT_FATAL(adk_moments_compute(ctx, x, ADK_MOMENTS_COV, mu, cov) == ADK_OK);
    CU_ASSERT(adk_test_same_bits(cov[0], 0.0) && adk_test_same_bits(cov[1], 0.0) &&
              adk_test_same_bits(cov[2], 0.0));
    CU_ASSERT_EQUAL(cov[3], 4.0);
    adk_rows_free(x);
}

/* 3 rows on up to 4 ranks: empty ranks join every collective; values from a hand computation. */
static void test_more_ranks_than_rows(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 3, 2, 1, NULL, 0, &x) == ADK_OK);
    const double all[6] = {1.0, -2.0, 2.0, 0.0, 6.0, 2.0};
    memcpy(x->x, all + 2 * x->row0, x->nloc * 2 * sizeof(double));
    double mu[2], cov[4];
    CU_ASSERT_FATAL(adk_moments_compute(ctx, x, ADK_MOMENTS_COV, mu, cov) == ADK_OK);
    /* mu = (3, 0); centred rows (-2, -2), (-1, 0), (3, 2): cov = [[14, 10], [10, 8]] / 3 */
    CU_ASSERT(mu[0] == 3.0 && mu[1] == 0.0);
    CU_ASSERT(cov[0] == 14.0 / 3.0 && cov[1] == 10.0 / 3.0 && cov[2] == 10.0 / 3.0 &&
              cov[3] == 8.0 / 3.0);
    adk_rows_free(x);
}

static void test_errors(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    double mu[2], s[4];
    adk_rows_t *x = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 0, 2, ADK_ALIGN_REPRO, "empty.h5:/x", 0, &x) == ADK_OK);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_moments_compute(ctx, x, ADK_MOMENTS_VAR, mu, s), ADK_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "empty.h5:/x: no rows"));
    adk_ctx_clear(ctx);
    adk_rows_free(x);
    /* |x - mu| near DBL_MAX: the products would overflow; the message names the feature */
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 4, 2, ADK_ALIGN_REPRO, "big", 0, &x) == ADK_OK);
    for (size_t i = 0; i < x->nloc; i++) {
        int64_t g = x->row0 + (int64_t)i;
        x->x[2 * i] = (double)g;
        x->x[2 * i + 1] = g % 2 ? 1e300 : -1e300;
    }
    CU_ASSERT_EQUAL(adk_moments_compute(ctx, x, ADK_MOMENTS_COV, mu, s), ADK_EDATA);
    int mine = strstr(adk_ctx_message(ctx), "big: values of feature 1 are too large") != NULL;
    int all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    CU_ASSERT(all); /* a common verdict: every rank has the message */
    adk_ctx_clear(ctx);
    adk_rows_free(x);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"mean, variance, covariance = long double brute force", test_brute_force},
        {"bitwise identical: every rank, one process, any block partition",
         test_bitwise_any_partition},
        {"constant column exactly", test_constant_exact},
        {"more ranks than rows", test_more_ranks_than_rows},
        {"no rows, values too large to square", test_errors},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_moments", tests);
}
