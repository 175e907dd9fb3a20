/*
 * Unit tests for adk_kmeans through its API (any rank count): analytic answers, k = 1, model
 * files, prediction, parameter checks. Comparisons with scikit-learn are in tests/mpi/kmeans.sh.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_kmeans.h"
#include "adk_part.h"
#include "adk_rng.h"
#include "adk_test.h"

typedef double (*cell_fn)(int64_t g, size_t j);

static adk_rows_t *make_rows(int64_t n, size_t d, cell_fn f)
{
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(adk_test_ctx(), n, d, ADK_ALIGN_REPRO, NULL, 0, &r) == ADK_OK);
    for (size_t i = 0; i < r->nloc; i++) {
        for (size_t j = 0; j < d; j++) {
            r->x[i * d + j] = f(r->row0 + (int64_t)i, j);
        }
    }
    return r;
}

/* four corners of two far groups: {0,0},{0,1} and {10,0},{10,1}, repeated */
static double two_groups(int64_t g, size_t j)
{
    return j == 0 ? (g % 4 < 2 ? 0.0 : 10.0) : (double)(g % 2);
}

static double noisy(int64_t g, size_t j)
{
    adk_rng_t r;
    adk_rng_init(&r, 11, ADK_RNG_GEN, (uint64_t)g, 0);
    double z = adk_rng_normal(&r);
    return (double)((g % 3) * 5) + (j == 0 ? z : 0.5 * z) + (double)j;
}

static void test_two_groups(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = make_rows(40, 2, two_groups);
    adk_kmeans_params_t p;
    adk_kmeans_params_default(&p);
    p.k = 2;
    p.seed = 4;
    adk_kmeans_model_t *m = NULL;
    int32_t *lab = malloc((x->nloc + 1) * sizeof(int32_t));
    double *dist = malloc((x->nloc + 1) * sizeof(double));
    CU_ASSERT_FATAL(adk_kmeans_fit(ctx, &p, x, &m, lab, dist) == ADK_OK);
    CU_ASSERT_EQUAL(m->inertia, 10.0); /* 40 rows, each 0.5 from its centre: exact */
    CU_ASSERT(m->converged);
    int lo = m->centroids[0] < m->centroids[2] ? 0 : 1;
    CU_ASSERT_EQUAL(m->centroids[lo * 2], 0.0);
    CU_ASSERT_EQUAL(m->centroids[lo * 2 + 1], 0.5);
    CU_ASSERT_EQUAL(m->centroids[(1 - lo) * 2], 10.0);
    for (size_t i = 0; i < x->nloc; i++) {
        int64_t g = x->row0 + (int64_t)i;
        CU_ASSERT_EQUAL(lab[i], g % 4 < 2 ? lo : 1 - lo);
        CU_ASSERT_EQUAL(dist[i], 0.5);
    }
    adk_kmeans_model_free(m);
    free(lab);
    free(dist);
    adk_rows_free(x);
}

static void test_k1_is_the_mean(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t n = 333;
    adk_rows_t *x = make_rows(n, 3, noisy);
    adk_kmeans_params_t p;
    adk_kmeans_params_default(&p);
    p.k = 1;
    adk_kmeans_model_t *m = NULL;
    CU_ASSERT_FATAL(adk_kmeans_fit(ctx, &p, x, &m, NULL, NULL) == ADK_OK);
    /* brute-force mean and total sum of squares from the generator */
    long double s[3] = {0, 0, 0};
    for (int64_t g = 0; g < n; g++) {
        for (size_t j = 0; j < 3; j++) {
            s[j] += noisy(g, j);
        }
    }
    long double ss = 0;
    for (int64_t g = 0; g < n; g++) {
        for (size_t j = 0; j < 3; j++) {
            long double t = noisy(g, j) - s[j] / n;
            ss += t * t;
        }
    }
    for (size_t j = 0; j < 3; j++) {
        ADK_ASSERT_REL(m->centroids[j], (double)(s[j] / n), 1e-14);
    }
    ADK_ASSERT_REL(m->inertia, (double)ss, 1e-13);
    CU_ASSERT_EQUAL(m->n_iter, 2); /* labels change from "none" once, then strict convergence */
    adk_kmeans_model_free(m);
    adk_rows_free(x);
}

static void test_model_file_and_predict(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = make_rows(90, 2, noisy);
    adk_kmeans_params_t p;
    adk_kmeans_params_default(&p);
    p.k = 3;
    p.init = "random";
    adk_kmeans_model_t *m = NULL, *back = NULL;
    int32_t *l1 = malloc((x->nloc + 1) * sizeof(int32_t)), *l2 = malloc((x->nloc + 1) * 4);
    CU_ASSERT_FATAL(adk_kmeans_fit(ctx, &p, x, &m, l1, NULL) == ADK_OK);
    CU_ASSERT_EQUAL(m->n_init, 10); /* auto: 10 runs for random init, as scikit-learn */
    m->thresholds = malloc(3 * sizeof(double));
    for (int c = 0; c < 3; c++) {
        m->thresholds[c] = c == 1 ? INFINITY : 1.5 * c;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s", adk_test_path("km_model.h5"));
    adk_out_t *o = NULL;
    CU_ASSERT_FATAL(adk_out_create(ctx, path, ADK_OUT_FORCE, &o) == ADK_OK);
    CU_ASSERT_EQUAL(adk_out_commit(o, adk_kmeans_model_write(o, m)), ADK_OK);
    CU_ASSERT_FATAL(adk_kmeans_model_read(ctx, path, &back) == ADK_OK);
    CU_ASSERT(back->k == 3 && back->d == 2 && back->n_iter == m->n_iter);
    CU_ASSERT(memcmp(back->centroids, m->centroids, 6 * sizeof(double)) == 0);
    CU_ASSERT_EQUAL(back->inertia, m->inertia);
    CU_ASSERT(back->thresholds && isinf(back->thresholds[1]) && back->thresholds[2] == 3.0);
    CU_ASSERT_STRING_EQUAL(back->init, "random");
    /* prediction on the training rows reproduces the fitted labels */
    CU_ASSERT_EQUAL(adk_kmeans_predict(ctx, back, x, l2, NULL), ADK_OK);
    CU_ASSERT(memcmp(l1, l2, x->nloc * sizeof(int32_t)) == 0);
    /* wrong width */
    adk_rows_t *y = make_rows(10, 3, noisy);
    CU_ASSERT_EQUAL(adk_kmeans_predict(ctx, back, y, l2, NULL), ADK_EDATA);
    adk_ctx_clear(ctx);
    adk_rows_free(y);
    adk_kmeans_model_free(m);
    adk_kmeans_model_free(back);
    adk_rows_free(x);
    free(l1);
    free(l2);
}

static void test_parameter_checks(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = make_rows(5, 2, noisy);
    adk_kmeans_params_t p;
    adk_kmeans_params_default(&p);
    adk_kmeans_model_t *m = NULL;
    p.k = 6;
    CU_ASSERT_EQUAL(adk_kmeans_fit(ctx, &p, x, &m, NULL, NULL), ADK_EDATA);
    p.k = 0;
    CU_ASSERT_EQUAL(adk_kmeans_fit(ctx, &p, x, &m, NULL, NULL), ADK_EINVAL);
    p.k = 2;
    p.init = "bogus";
    CU_ASSERT_EQUAL(adk_kmeans_fit(ctx, &p, x, &m, NULL, NULL), ADK_EINVAL);
    CU_ASSERT_PTR_NULL(m);
    p.init = "k-means++";
    p.k = 5; /* as many clusters as rows: every row its own centre, inertia 0 */
    CU_ASSERT_EQUAL(adk_kmeans_fit(ctx, &p, x, &m, NULL, NULL), ADK_OK);
    CU_ASSERT(m && m->inertia == 0.0);
    adk_kmeans_model_free(m);
    adk_ctx_clear(ctx);
    adk_rows_free(x);
}

/* The rule README "adkit-kmeans" states for --algorithm auto, at its edges; explicit algorithms
 * are kept whatever the shape. */
static void test_auto_rule(void)
{
    const int64_t n = 2000000;
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 64, 32, n, ADK_KERNEL_AVX512),
                    ADK_KMEANS_HAMERLY);
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 64, 32, n, ADK_KERNEL_AVX2),
                    ADK_KMEANS_HAMERLY);
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 64, 32, n, ADK_KERNEL_AUTO),
                    ADK_KMEANS_HAMERLY);
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 64, 16, 64000, ADK_KERNEL_AVX2),
                    ADK_KMEANS_HAMERLY); /* k d = 1024, d = 16, n = 1000 k: just in */
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 64, 32, n, ADK_KERNEL_BLAS),
                    ADK_KMEANS_LLOYD);
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 63, 16, n, ADK_KERNEL_AVX512),
                    ADK_KMEANS_LLOYD); /* k d = 1008 */
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 128, 15, n, ADK_KERNEL_AVX512),
                    ADK_KMEANS_LLOYD); /* d < 16 */
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 64, 16, 63999, ADK_KERNEL_AVX2),
                    ADK_KMEANS_LLOYD); /* fewer than 1000 rows a centre */
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_AUTO, 16, 2, n, ADK_KERNEL_AVX512),
                    ADK_KMEANS_LLOYD);
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_YINYANG, 2, 2, 10, ADK_KERNEL_BLAS),
                    ADK_KMEANS_YINYANG);
    CU_ASSERT_EQUAL(adk_kmeans_algorithm_resolve(ADK_KMEANS_LLOYD, 64, 32, n, ADK_KERNEL_AVX512),
                    ADK_KMEANS_LLOYD);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"two separated groups: exact answer", test_two_groups},
        {"k = 1 gives the mean and total sum of squares", test_k1_is_the_mean},
        {"model file round trip and predict", test_model_file_and_predict},
        {"parameter checks", test_parameter_checks},
        {"the rule of --algorithm auto", test_auto_rule},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_kmeans", tests);
}
