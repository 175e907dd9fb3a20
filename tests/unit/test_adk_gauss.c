/*
 * Unit tests for adk_gauss against references that do not come from adkit: numpy fixtures made
 * by tests/fixtures/make_gauss_fixtures.py (moments, log densities), closed-form densities, and
 * brute-force long double moments; the fitted model must be the same bits as one process over
 * all rows. (The threshold sweep has its own suite, test_adk_sweep.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_gauss.h"
#include "adk_io.h"
#include "adk_test.h"

#define ADK_PI 3.14159265358979323846

/* Path of a fixture: $ADK_SRCDIR/tests/fixtures/gauss/NAME (make check sets ADK_SRCDIR). */
static const char *fix(const char *name)
{
    static char buf[8][4096];
    static int next;
    const char *src = getenv("ADK_SRCDIR");
    char *b = buf[next++ % 8];
    snprintf(b, sizeof(buf[0]), "%s/tests/fixtures/gauss/%s", src && *src ? src : "..", name);
    return b;
}

/* A whole small dataset on every rank ("file:/dset"), or NULL (the test then fails). */
static double *read_all(const char *file, const char *dset, int64_t *rows, int64_t *cols)
{
    char spec[4200];
    snprintf(spec, sizeof(spec), "%s:%s", fix(file), dset);
    double *v = NULL;
    int nd = 0;
    int64_t r = 0, c = 0;
    int st = adk_io_read_small(adk_test_ctx(), spec, (size_t)1 << 24, &v, &r, &c, &nd);
    CU_ASSERT_EQUAL(st, ADK_OK);
    if (st != ADK_OK && adk_ctx_rank(adk_test_ctx()) == 0) {
        printf("# %s: %s\n", spec, adk_ctx_message(adk_test_ctx()));
    }
    if (rows) {
        *rows = r;
    }
    if (cols) {
        *cols = c;
    }
    return v;
}

/* ------------------------------------------------------------------------------------------ */

/* Rows of a fixture, read with the reproducible alignment on ctx. */
static adk_rows_t *read_rows(adk_ctx_t *ctx, const char *file, const char *dset, int64_t align)
{
    char spec[4200];
    snprintf(spec, sizeof(spec), "%s:%s", fix(file), dset);
    adk_read_opts_t ro = {align, NULL, NULL};
    adk_rows_t *x = NULL;
    CU_ASSERT_EQUAL(adk_io_read(ctx, spec, &ro, &x), ADK_OK);
    return x;
}

/* The same fit by one process over all rows (its own communicator): the bits to match. */
static adk_gauss_t *fit_alone(const char *file, const char *dset, const adk_gauss_params_t *p)
{
    adk_ctx_t *self = NULL;
    char *argv0[] = {"self"};
    CU_ASSERT_FATAL(adk_ctx_create(MPI_COMM_SELF, 1, argv0, &self) == ADK_OK);
    adk_rows_t *x = read_rows(self, file, dset, ADK_ALIGN_REPRO);
    adk_gauss_t *g = NULL;
    if (x) {
        CU_ASSERT_EQUAL(adk_gauss_fit(self, x, p, &g), ADK_OK);
    }
    adk_rows_free(x);
    adk_ctx_free(self);
    return g;
}

static void check_fit(adk_gauss_kind_t kind)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_gauss_params_t p = {kind, 0.0, 0.0};
    adk_rows_t *x = read_rows(ctx, "train.h5", "/data", ADK_ALIGN_REPRO);
    CU_ASSERT_FATAL(x != NULL);
    adk_gauss_t *g = NULL;
    CU_ASSERT_FATAL(adk_gauss_fit(ctx, x, &p, &g) == ADK_OK);
    adk_gauss_t *one = fit_alone("train.h5", "/data", &p);
    CU_ASSERT_FATAL(one != NULL);
    const size_t d = g->d;
    CU_ASSERT_EQUAL(d, 5);
    CU_ASSERT_EQUAL(g->m, 240);
    double *mu = read_all("ref.h5", "/mu", NULL, NULL);
    double *var = read_all("ref.h5", "/var", NULL, NULL);
    double *cov = read_all("ref.h5", "/cov", NULL, NULL);
    CU_ASSERT_FATAL(mu && var && cov);
    int bits = 1;
    for (size_t j = 0; j < d; j++) {
        ADK_ASSERT_REL(g->mu[j], mu[j], 1e-12); /* numpy within 1e-12 relative */
        ADK_ASSERT_REL(g->var[j], var[j], 1e-12);
        bits &=
            adk_test_same_bits(g->mu[j], one->mu[j]) && adk_test_same_bits(g->var[j], one->var[j]);
        for (size_t k = 0; kind == ADK_GAUSS_FULL && k < d; k++) {
            ADK_ASSERT_REL(g->cov[j * d + k], cov[j * d + k], 1e-12);
            bits &= adk_test_same_bits(g->cov[j * d + k], one->cov[j * d + k]);
        }
    }
    CU_ASSERT(bits); /* the same bits as one process: any rank count */
    free(mu);
    free(var);
    free(cov);
    adk_gauss_free(one);
    adk_gauss_free(g);
    adk_rows_free(x);
}

static void test_fit_diag(void)
{
    check_fit(ADK_GAUSS_DIAG);
}

static void test_fit_full(void)
{
    check_fit(ADK_GAUSS_FULL);
}

static void test_logpdf(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const char *refs[2] = {"/diag/logp_val", "/full/logp_val"};
    for (int kind = 0; kind < 2; kind++) {
        adk_gauss_params_t p = {(adk_gauss_kind_t)kind, 0.0, 0.0};
        adk_rows_t *tr = read_rows(ctx, "train.h5", "/data", ADK_ALIGN_REPRO);
        adk_rows_t *x = read_rows(ctx, "val.h5", "/data", 1);
        CU_ASSERT_FATAL(tr && x);
        adk_gauss_t *g = NULL;
        CU_ASSERT_FATAL(adk_gauss_fit(ctx, tr, &p, &g) == ADK_OK);
        double *ref = read_all("ref.h5", refs[kind], NULL, NULL);
        double *lp = malloc((x->nloc + 1) * sizeof(double));
        CU_ASSERT_FATAL(ref && lp);
        CU_ASSERT_EQUAL(adk_gauss_logpdf(ctx, g, x->x, x->nloc, lp), ADK_OK);
        int nbad = 0;
        for (size_t i = 0; i < x->nloc; i++) {
            double want = ref[x->row0 + (int64_t)i];
            nbad += !(fabs(lp[i] - want) <= 1e-12 * fabs(want));
        }
        CU_ASSERT_EQUAL(nbad, 0);
        free(ref);
        free(lp);
        adk_gauss_free(g);
        adk_rows_free(x);
        adk_rows_free(tr);
    }
}

/* Closed forms: N(mu, diag) and a 2-D full covariance with a hand-computed inverse. */
static void test_density_closed_form(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const double mu[2] = {1.0, 2.0}, var[2] = {4.0, 0.25}, x[2] = {2.0, 1.5};
    adk_gauss_t *g = NULL;
    CU_ASSERT_FATAL(adk_gauss_from_moments(ctx, "m", ADK_GAUSS_DIAG, 2, mu, var, &g) == ADK_OK);
    double lp = 0.0;
    CU_ASSERT_EQUAL(adk_gauss_logpdf(ctx, g, x, 1, &lp), ADK_OK);
    /* -1/2 [log(2 pi 4) + 1/4 + log(2 pi 0.25) + 1] = -log(2 pi) - 5/8 */
    ADK_ASSERT_REL(lp, -log(2 * ADK_PI) - 0.625, 1e-15);
    adk_gauss_free(g);
    /* Sigma = [[4, 2], [2, 3]]: det 8, Sigma^-1 = [[3, -2], [-2, 4]] / 8 */
    const double cov[4] = {4.0, 2.0, 2.0, 3.0};
    CU_ASSERT_FATAL(adk_gauss_from_moments(ctx, "m", ADK_GAUSS_FULL, 2, mu, cov, &g) == ADK_OK);
    CU_ASSERT_EQUAL(adk_gauss_logpdf(ctx, g, x, 1, &lp), ADK_OK);
    /* dx = (1, -0.5): q = (3 + 2 + 1) / 8 = 0.75 */
    ADK_ASSERT_REL(lp, -log(2 * ADK_PI) - 0.5 * log(8.0) - 0.375, 1e-15);
    /* far from the mean the density underflows, its log does not */
    const double far[2] = {1.0 + 80.0, 2.0};
    CU_ASSERT_EQUAL(adk_gauss_logpdf(ctx, g, far, 1, &lp), ADK_OK);
    ADK_ASSERT_REL(lp, -log(2 * ADK_PI) - 0.5 * log(8.0) - 0.5 * 6400.0 * 3.0 / 8.0, 1e-15);
    CU_ASSERT_EQUAL(exp(lp), 0.0);
    adk_gauss_free(g);
    /* a singular model names the dependent feature */
    const double sing[4] = {1.0, 1.0, 1.0, 1.0};
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_gauss_from_moments(ctx, "m.h5", ADK_GAUSS_FULL, 2, mu, sing, &g),
                    ADK_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "m.h5: singular covariance matrix: "
                                                        "feature 1 is"));
    adk_ctx_clear(ctx);
    const double zero[2] = {1.0, 0.0};
    CU_ASSERT_EQUAL(adk_gauss_from_moments(ctx, "m.h5", ADK_GAUSS_DIAG, 2, mu, zero, &g),
                    ADK_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "constant columns): 1"));
    adk_ctx_clear(ctx);
}

static void test_zero_variance(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = read_rows(ctx, "bad.h5", "/const", ADK_ALIGN_REPRO);
    CU_ASSERT_FATAL(x != NULL);
    adk_gauss_t *g = NULL;
    for (int kind = 0; kind < 2; kind++) {
        adk_gauss_params_t p = {(adk_gauss_kind_t)kind, 0.0, 0.0};
        adk_ctx_clear(ctx);
        CU_ASSERT_EQUAL(adk_gauss_fit(ctx, x, &p, &g), ADK_EDATA);
        CU_ASSERT(
            adk_test_message_has("zero variance in 1 of 3 features (constant columns): 1; use --"));
        adk_ctx_clear(ctx);
        p.min_var = 0.5; /* floors every variance below 0.5, constant or not */
        CU_ASSERT_FATAL(adk_gauss_fit(ctx, x, &p, &g) == ADK_OK);
        CU_ASSERT_EQUAL(g->mu[1], 3.0); /* a constant column's mean is its value */
        CU_ASSERT_EQUAL(g->var[1], 0.5);
        CU_ASSERT(g->nfloored >= 1);
        CU_ASSERT_EQUAL(g->min_var, 0.5);
        adk_gauss_free(g);
        p.min_var = 0.0;
        p.ridge = 0.25;
        CU_ASSERT_FATAL(adk_gauss_fit(ctx, x, &p, &g) == ADK_OK);
        CU_ASSERT_EQUAL(g->var[1], 0.25);
        adk_gauss_free(g);
    }
    adk_gauss_params_t neg = {ADK_GAUSS_DIAG, -1.0, 0.0};
    CU_ASSERT_EQUAL(adk_gauss_fit(ctx, x, &neg, &g), ADK_EINVAL);
    adk_ctx_clear(ctx);
    adk_rows_free(x);
}

/* A constant column whose mean m*c/m does not round back to c (0.1 over 7 rows) is still found:
 * its mean is c exactly and its variance exactly 0. */
static void test_constant_exact(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 7, 2, ADK_ALIGN_REPRO, NULL, 0, &x) == ADK_OK);
    for (size_t i = 0; i < x->nloc; i++) {
        x->x[2 * i] = 0.1;
        x->x[2 * i + 1] = (double)(x->row0 + (int64_t)i);
    }
    adk_gauss_params_t p = {ADK_GAUSS_DIAG, 0.0, 0.0};
    adk_gauss_t *g = NULL;
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_gauss_fit(ctx, x, &p, &g), ADK_EDATA);
    CU_ASSERT(adk_test_message_has("zero variance in 1 of 2 features (constant columns): 0;"));
    adk_ctx_clear(ctx);
    p.min_var = 1e-3;
    CU_ASSERT_FATAL(adk_gauss_fit(ctx, x, &p, &g) == ADK_OK);
    CU_ASSERT(adk_test_same_bits(g->mu[0], 0.1));
    CU_ASSERT_EQUAL(g->var[0], 1e-3);
    CU_ASSERT_EQUAL(g->mu[1], 3.0);
    CU_ASSERT_EQUAL(g->var[1], 4.0); /* 0..6: population variance 28/7 */
    CU_ASSERT_EQUAL(g->nfloored, 1);
    adk_gauss_free(g);
    adk_rows_free(x);
}

static void test_singular(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const char *dsets[2] = {"/dup", "/sum"}; /* x2 = x0; x2 = x0 + x1 */
    for (int i = 0; i < 2; i++) {
        adk_rows_t *x = read_rows(ctx, "bad.h5", dsets[i], ADK_ALIGN_REPRO);
        CU_ASSERT_FATAL(x != NULL);
        adk_gauss_t *g = NULL;
        adk_gauss_params_t p = {ADK_GAUSS_FULL, 0.0, 0.0};
        adk_ctx_clear(ctx);
        CU_ASSERT_EQUAL(adk_gauss_fit(ctx, x, &p, &g), ADK_EDATA);
        CU_ASSERT(adk_test_message_has("singular covariance matrix: feature 2 is"));
        CU_ASSERT(adk_test_message_has("use --ridge R"));
        adk_ctx_clear(ctx);
        p.ridge = 1e-3;
        CU_ASSERT_EQUAL(adk_gauss_fit(ctx, x, &p, &g), ADK_OK);
        adk_gauss_free(g);
        g = NULL;
        p.kind = ADK_GAUSS_DIAG; /* per-feature variances are all positive */
        p.ridge = 0.0;
        CU_ASSERT_EQUAL(adk_gauss_fit(ctx, x, &p, &g), ADK_OK);
        adk_gauss_free(g);
        adk_rows_free(x);
    }
}

/* 3 rows on up to 4 ranks: empty ranks join every collective. */
static void test_more_ranks_than_rows(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = read_rows(ctx, "tiny.h5", "/data", ADK_ALIGN_REPRO);
    CU_ASSERT_FATAL(x != NULL);
    adk_gauss_params_t p = {ADK_GAUSS_DIAG, 0.0, 0.0};
    adk_gauss_t *g = NULL;
    CU_ASSERT_FATAL(adk_gauss_fit(ctx, x, &p, &g) == ADK_OK);
    double *mu = read_all("ref.h5", "/tiny/mu", NULL, NULL);
    double *var = read_all("ref.h5", "/tiny/var", NULL, NULL);
    CU_ASSERT_FATAL(mu && var);
    for (size_t j = 0; j < 2; j++) {
        ADK_ASSERT_REL(g->mu[j], mu[j], 1e-15);
        ADK_ASSERT_REL(g->var[j], var[j], 1e-15);
    }
    free(mu);
    free(var);
    adk_gauss_free(g);
    adk_rows_free(x);
}

/* Digits (uint8 pixels, 64 features) with a ridge: covariance against a long double brute force
 * over all rows, and the same bits as one process. */
static void test_digits_full(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = read_rows(ctx, "digits_train.h5", "/data", ADK_ALIGN_REPRO);
    CU_ASSERT_FATAL(x != NULL);
    adk_gauss_params_t p = {ADK_GAUSS_FULL, 0.0, 0.5};
    adk_gauss_t *g = NULL;
    CU_ASSERT_FATAL(adk_gauss_fit(ctx, x, &p, &g) == ADK_OK);
    adk_gauss_t *one = fit_alone("digits_train.h5", "/data", &p);
    CU_ASSERT_FATAL(one != NULL);
    int64_t m = 0, d = 0;
    double *all = read_all("digits_train.h5", "/data", &m, &d);
    CU_ASSERT_FATAL(all && d == 64 && g->d == 64);
    long double mu[64], c;
    for (int64_t j = 0; j < d; j++) {
        mu[j] = 0;
        for (int64_t i = 0; i < m; i++) {
            mu[j] += all[i * d + j];
        }
        mu[j] /= m;
    }
    double cmax = 0;
    for (int64_t j = 0; j < d * d; j++) {
        cmax = fmax(cmax, fabs(g->cov[j]));
    }
    int nbad = 0, bits = 1;
    for (int64_t j = 0; j < d; j++) {
        for (int64_t k = 0; k < d; k++) {
            c = 0;
            for (int64_t i = 0; i < m; i++) {
                c += (all[i * d + j] - mu[j]) * (all[i * d + k] - mu[k]);
            }
            c = c / m + (j == k ? 0.5L : 0.0L);
            nbad += !(fabsl(g->cov[j * d + k] - c) <= 1e-12L * cmax);
            bits &= adk_test_same_bits(g->cov[j * d + k], one->cov[j * d + k]);
        }
    }
    CU_ASSERT_EQUAL(nbad, 0);
    CU_ASSERT(bits);
    free(all);
    adk_gauss_free(one);
    adk_gauss_free(g);
    adk_rows_free(x);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {{"fit diag vs numpy", test_fit_diag},
                                       {"fit full vs numpy", test_fit_full},
                                       {"log density vs numpy", test_logpdf},
                                       {"density closed forms", test_density_closed_form},
                                       {"zero variance", test_zero_variance},
                                       {"constant column found exactly", test_constant_exact},
                                       {"singular covariance", test_singular},
                                       {"more ranks than rows", test_more_ranks_than_rows},
                                       {"digits full covariance", test_digits_full},
                                       {NULL, NULL}};
    return adk_test_main(argc, argv, "gauss", tests);
}
