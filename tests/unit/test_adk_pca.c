/*
 * Unit tests for adk_pca: an analytic case (rows at known rotated axes, so the eigenpairs are
 * known exactly), eigenpairs of hashed data checked against a long double covariance by residual
 * and orthonormality, projections against a long double brute force, whitened columns of unit
 * variance; the same bits on every rank, as one process over all rows, and per row; degenerate
 * data, more ranks than rows, bad arguments.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_part.h"
#include "adk_pca.h"
#include "adk_test.h"

#define D 5

/* Row i of the hashed matrix: correlated columns of different scales and offsets. */
static void hashed_row(int64_t i, double *x)
{
    x[0] = 50.0 + 4.0 * adk_test_hash01(i, 0);
    x[1] = -3.0 + 2.0 * adk_test_hash01(i, 1) + 0.5 * x[0];
    x[2] = adk_test_hash01(i, 2);
    x[3] = 0.3 * x[2] - 2.0 * adk_test_hash01(i, 3);
    x[4] = 1e3 + 0.01 * adk_test_hash01(i, 4) + 0.1 * x[1];
}

typedef void (*row_fn)(int64_t i, double *x);

/* This rank's rows of the n-row matrix @p f in the library's partition (reproducible blocks). */
static adk_rows_t *rows_of(adk_ctx_t *ctx, int64_t n, size_t d, row_fn f)
{
    adk_rows_t *x = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, n, d, ADK_ALIGN_REPRO, "test", 0, &x) == ADK_OK);
    for (size_t i = 0; i < x->nloc; i++) {
        f(x->row0 + (int64_t)i, x->x + i * d);
    }
    return x;
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

/* The sign rule: each component's first largest |entry| is positive. */
static int sign_rule_holds(const adk_pca_t *p)
{
    for (size_t j = 0; j < p->k; j++) {
        const double *v = p->components + j * p->d;
        size_t b = 0;
        for (size_t c = 1; c < p->d; c++) {
            b = fabs(v[c]) > fabs(v[b]) ? c : b;
        }
        if (!(v[b] > 0.0)) {
            return 0;
        }
    }
    return 1;
}

/* The axes of the analytic case: the columns of a rotation (about z by 0.7, then x by -0.4). */
static void axis(int i, double *r)
{
    const double a = 0.7, b = -0.4;
    const double rz[3][3] = {{cos(a), -sin(a), 0}, {sin(a), cos(a), 0}, {0, 0, 1}};
    const double rx[3][3] = {{1, 0, 0}, {0, cos(b), -sin(b)}, {0, sin(b), cos(b)}};
    for (int c = 0; c < 3; c++) {
        r[c] = 0.0;
        for (int t = 0; t < 3; t++) {
            r[c] += rx[c][t] * rz[t][i];
        }
    }
}

static const double axis_scale[3] = {3.0, 2.0, 1.0};

/* Rows m +- s_i r_i in turn: population covariance sum_i s_i^2 / 3 r_i r_i^T, mean m. */
static void axes_row(int64_t g, double *x)
{
    const double m[3] = {10.0, -5.0, 0.25};
    int p = (int)(g % 6), i = p / 2;
    double r[3], s = (p % 2 ? -1.0 : 1.0) * axis_scale[i];
    axis(i, r);
    for (int c = 0; c < 3; c++) {
        x[c] = m[c] + s * r[c];
    }
}

static void test_analytic_axes(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t n = 300;
    adk_rows_t *x = rows_of(ctx, n, 3, axes_row);
    adk_pca_t *p = NULL;
    CU_ASSERT_FATAL(adk_pca_fit(ctx, x, 3, &p) == ADK_OK);
    CU_ASSERT_EQUAL(p->k, 3);
    CU_ASSERT_EQUAL(p->n, n);
    ADK_ASSERT_REL(p->mean[0], 10.0, 1e-15);
    ADK_ASSERT_REL(p->mean[1], -5.0, 1e-15);
    ADK_ASSERT_REL(p->mean[2], 0.25, 1e-14);
    double total = 0.0;
    for (int i = 0; i < 3; i++) {
        double ev = axis_scale[i] * axis_scale[i] / 3.0 * (double)n / (double)(n - 1);
        total += ev;
        ADK_ASSERT_REL(p->var[i], ev, 1e-13);
        double r[3], dot = 0.0;
        axis(i, r);
        for (int c = 0; c < 3; c++) {
            dot += r[c] * p->components[i * 3 + c];
        }
        CU_ASSERT(fabs(fabs(dot) - 1.0) <= 1e-13); /* the known axis, up to sign */
    }
    ADK_ASSERT_REL(p->total_var, total, 1e-13);
    ADK_ASSERT_REL(p->ratio[0], 9.0 / 14.0, 1e-13);
    ADK_ASSERT_REL(p->ratio[2], 1.0 / 14.0, 1e-13);
    CU_ASSERT(sign_rule_holds(p));
    adk_pca_free(p);
    adk_rows_free(x);
}

/* Long double covariance (divisor n - 1) and mean of the n hashed rows. */
static void brute_cov(int64_t n, long double *mu, long double *cov)
{
    double x[D];
    memset(mu, 0, D * sizeof(long double));
    memset(cov, 0, D * D * sizeof(long double));
    for (int64_t i = 0; i < n; i++) {
        hashed_row(i, x);
        for (int c = 0; c < D; c++) {
            mu[c] += x[c];
        }
    }
    for (int c = 0; c < D; c++) {
        mu[c] /= (long double)n;
    }
    for (int64_t i = 0; i < n; i++) {
        hashed_row(i, x);
        for (int a = 0; a < D; a++) {
            for (int b = 0; b < D; b++) {
                cov[a * D + b] += ((long double)x[a] - mu[a]) * ((long double)x[b] - mu[b]);
            }
        }
    }
    for (int c = 0; c < D * D; c++) {
        cov[c] /= (long double)(n - 1);
    }
}

/* Residual |C v - lambda v|, orthonormality, order, trace: independent of any eigensolver. */
static void test_eigenpairs(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t n = 1001;
    long double mu[D], cov[D * D];
    brute_cov(n, mu, cov);
    adk_rows_t *x = rows_of(ctx, n, D, hashed_row);
    adk_pca_t *p = NULL;
    CU_ASSERT_FATAL(adk_pca_fit(ctx, x, D, &p) == ADK_OK);
    long double trace = 0.0L, res = 0.0L, orth = 0.0L, ratios = 0.0L;
    for (int a = 0; a < D; a++) {
        trace += cov[a * D + a];
        CU_ASSERT(fabsl(p->mean[a] - mu[a]) <= 1e-15L * fabsl(mu[a]));
    }
    for (int j = 0; j < D; j++) {
        const double *v = p->components + j * D;
        for (int a = 0; a < D; a++) {
            long double cv = 0.0L;
            for (int b = 0; b < D; b++) {
                cv += cov[a * D + b] * v[b];
            }
            res = fmaxl(res, fabsl(cv - (long double)p->var[j] * v[a]));
        }
        for (int i = 0; i < D; i++) {
            long double dot = 0.0L;
            for (int c = 0; c < D; c++) {
                dot += (long double)v[c] * p->components[i * D + c];
            }
            orth = fmaxl(orth, fabsl(dot - (i == j ? 1.0L : 0.0L)));
        }
        CU_ASSERT(j == 0 || p->var[j] <= p->var[j - 1]);
        ratios += p->ratio[j];
    }
    CU_ASSERT(res <= 1e-12L * (long double)p->var[0]);
    CU_ASSERT(orth <= 1e-14L);
    CU_ASSERT(fabsl(p->total_var - trace) <= 1e-14L * trace);
    CU_ASSERT(fabsl(ratios - 1.0L) <= 1e-14L);
    CU_ASSERT(p->var[D - 1] > 1e-6 * p->var[0]); /* a full-rank case: every axis matters */
    CU_ASSERT(sign_rule_holds(p));
    if (res > 1e-12L * (long double)p->var[0] && adk_ctx_rank(ctx) == 0) {
        printf("# residual %Lg orthonormality %Lg\n", res, orth);
    }
    adk_pca_free(p);
    adk_rows_free(x);
}

/* Projections against long double sums; whitened columns have unit variance over all rows. */
static void test_transform(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t n = 1001;
    const size_t k = 3;
    adk_rows_t *x = rows_of(ctx, n, D, hashed_row);
    adk_pca_t *p = NULL;
    CU_ASSERT_FATAL(adk_pca_fit(ctx, x, k, &p) == ADK_OK);
    size_t m = x->nloc ? x->nloc : 1;
    double *y = malloc(m * k * sizeof(double)), *w = malloc(m * k * sizeof(double));
    CU_ASSERT_FATAL(y && w);
    adk_pca_transform(p, x->x, x->nloc, 0, y);
    adk_pca_transform(p, x->x, x->nloc, 1, w);
    int bad = 0;
    double ss[3] = {0, 0, 0};
    for (size_t i = 0; i < x->nloc; i++) {
        for (size_t j = 0; j < k; j++) {
            long double s = 0.0L;
            for (size_t c = 0; c < D; c++) {
                s += ((long double)x->x[i * D + c] - p->mean[c]) * p->components[j * D + c];
            }
            bad += !(fabsl(y[i * k + j] - s) <= 1e-12L * sqrtl(p->var[j]));
            bad += !adk_test_same_bits(w[i * k + j], y[i * k + j] / sqrt(p->var[j]));
            ss[j] += w[i * k + j] * w[i * k + j];
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, ss, 3, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    for (size_t j = 0; j < k; j++) {
        ADK_ASSERT_REL(ss[j] / (double)(n - 1), 1.0, 1e-12);
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(y);
    free(w);
    adk_pca_free(p);
    adk_rows_free(x);
}

/* The model as one process fits it over all rows, and each row's projection, bit for bit. */
static void test_bitwise(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t n = 777;
    adk_ctx_t *self = NULL;
    char *argv0[] = {"self"};
    CU_ASSERT_FATAL(adk_ctx_create(MPI_COMM_SELF, 1, argv0, &self) == ADK_OK);
    adk_rows_t *all = rows_of(self, n, D, hashed_row), *x = rows_of(ctx, n, D, hashed_row);
    adk_pca_t *p1 = NULL, *p = NULL;
    CU_ASSERT_FATAL(adk_pca_fit(self, all, 4, &p1) == ADK_OK);
    CU_ASSERT_FATAL(adk_pca_fit(ctx, x, 4, &p) == ADK_OK);
    int bad = memcmp(p->mean, p1->mean, D * sizeof(double)) != 0;
    bad += memcmp(p->components, p1->components, 4 * D * sizeof(double)) != 0;
    bad += memcmp(p->var, p1->var, 4 * sizeof(double)) != 0;
    bad += memcmp(p->ratio, p1->ratio, 4 * sizeof(double)) != 0;
    bad += !adk_test_same_bits(p->total_var, p1->total_var);
    bad += !same_on_all_ranks(p->components, 4 * D) || !same_on_all_ranks(p->var, 4);
    double *y1 = malloc((size_t)n * 4 * sizeof(double)), y[4];
    CU_ASSERT_FATAL(y1 != NULL);
    adk_pca_transform(p1, all->x, (size_t)n, 1, y1);
    for (size_t i = 0; i < x->nloc; i++) { /* one row at a time = all rows at once */
        adk_pca_transform(p, x->x + i * D, 1, 1, y);
        bad += memcmp(y, y1 + (size_t)(x->row0 + (int64_t)i) * 4, sizeof(y)) != 0;
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(y1);
    adk_pca_free(p1);
    adk_pca_free(p);
    adk_rows_free(all);
    adk_rows_free(x);
    adk_ctx_free(self);
}

static void const_row(int64_t i, double *x)
{
    (void)i;
    x[0] = 0.1;
    x[1] = -7.0;
    x[2] = 1e6;
}

/* Every row the same: variances and ratios 0 (not 0/0), axes as components, whitened 0. */
static void test_degenerate(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = rows_of(ctx, 7, 3, const_row);
    adk_pca_t *p = NULL;
    CU_ASSERT_FATAL(adk_pca_fit(ctx, x, 3, &p) == ADK_OK);
    CU_ASSERT(adk_test_same_bits(p->total_var, 0.0));
    CU_ASSERT(adk_test_same_bits(p->mean[0], 0.1));
    for (size_t j = 0; j < 3; j++) {
        CU_ASSERT(adk_test_same_bits(p->var[j], 0.0) && adk_test_same_bits(p->ratio[j], 0.0));
        for (size_t c = 0; c < 3; c++) {
            CU_ASSERT_EQUAL(p->components[j * 3 + c], j == c ? 1.0 : 0.0);
        }
    }
    double y[3];
    for (size_t i = 0; i < x->nloc; i++) {
        adk_pca_transform(p, x->x + i * 3, 1, 1, y);
        CU_ASSERT(y[0] == 0.0 && y[1] == 0.0 && y[2] == 0.0);
    }
    adk_pca_free(p);
    adk_rows_free(x);
}

static void two_row(int64_t i, double *x)
{
    x[0] = 2.0 * (double)i;
    x[1] = 2.0 * (double)i;
}

/* 2 rows on up to 4 ranks: (0, 0) and (2, 2); covariance [[2, 2], [2, 2]], eigenvalues 4 and 0. */
static void test_more_ranks_than_rows(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = rows_of(ctx, 2, 2, two_row);
    adk_pca_t *p = NULL;
    CU_ASSERT_FATAL(adk_pca_fit(ctx, x, 2, &p) == ADK_OK);
    const double h = sqrt(0.5);
    CU_ASSERT(p->mean[0] == 1.0 && p->mean[1] == 1.0);
    ADK_ASSERT_REL(p->var[0], 4.0, 1e-15);
    CU_ASSERT(fabs(p->var[1]) <= 1e-15);
    ADK_ASSERT_REL(p->ratio[0], 1.0, 1e-15);
    CU_ASSERT(fabs(p->components[0] - h) <= 1e-15 && fabs(p->components[1] - h) <= 1e-15);
    /* the tie |h| = |-h|: the first entry is the one made positive */
    CU_ASSERT(fabs(p->components[2] - h) <= 1e-15 && fabs(p->components[3] + h) <= 1e-15);
    double y[2];
    for (size_t i = 0; i < x->nloc; i++) {
        adk_pca_transform(p, x->x + i * 2, 1, 0, y);
        ADK_ASSERT_REL(y[0], x->row0 + (int64_t)i ? sqrt(2.0) : -sqrt(2.0), 1e-15);
    }
    adk_pca_free(p);
    adk_rows_free(x);
}

/* Bad arguments: the same code on every rank and the message naming the problem. */
static void test_errors(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = rows_of(ctx, 10, D, hashed_row);
    adk_pca_t dummy, *p = &dummy; /* must be reset to NULL on failure */
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_pca_fit(ctx, x, 0, &p), ADK_EINVAL);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT(adk_test_message_has("must be 1..5 (got 0)"));
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_pca_fit(ctx, x, D + 1, &p), ADK_EINVAL);
    CU_ASSERT(adk_test_message_has("must be 1..5 (got 6)"));
    adk_ctx_clear(ctx);
    adk_rows_free(x);
    x = rows_of(ctx, 1, D, hashed_row);
    CU_ASSERT_EQUAL(adk_pca_fit(ctx, x, 1, &p), ADK_EDATA);
    CU_ASSERT(adk_test_message_has("test: PCA needs at least 2 rows (got 1)"));
    adk_ctx_clear(ctx);
    adk_rows_free(x);
    adk_pca_free(NULL); /* a no-op */
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"analytic: rows on known rotated axes", test_analytic_axes},
        {"eigenpairs: long double residual, orthonormal, descending, trace", test_eigenpairs},
        {"projection = long double brute force; whitened unit variance", test_transform},
        {"bitwise identical: every rank, one process, one row at a time", test_bitwise},
        {"every row the same: zero variances and ratios, no NaN", test_degenerate},
        {"more ranks than rows, sign rule tie", test_more_ranks_than_rows},
        {"bad component counts, one row", test_errors},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_pca", tests);
}
