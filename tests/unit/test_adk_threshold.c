/*
 * Unit tests for adk_threshold: every rule against numpy (percentiles bit for bit, sigma rules
 * within 1e-12) on the blobs, ties and tiny fixtures, the assignment reader (partition, values,
 * malformed files), bad rows reported with their row number on every rank, and the /thresholds
 * dataset with its attributes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_io.h"
#include "adk_part.h"
#include "adk_test.h"
#include "adk_threshold.h"

static char fx_buf[4096];

/* tests/fixtures/threshold/FILE[:DSET] in the source tree. */
static const char *fixture(const char *file, const char *dset)
{
    const char *src = getenv("ADK_SRCDIR");
    snprintf(fx_buf, sizeof(fx_buf), "%s/tests/fixtures/threshold/%s%s%s", src && *src ? src : "..",
             file, dset ? ":" : "", dset ? dset : "");
    return fx_buf;
}

static double *read_expected(const char *file, const char *dset, size_t k)
{
    double *v = NULL;
    int64_t r, c;
    int nd;
    int st = adk_io_read_small(adk_test_ctx(), fixture(file, dset), 1 << 20, &v, &r, &c, &nd);
    CU_ASSERT_EQUAL(st, ADK_OK);
    CU_ASSERT_EQUAL(r, (int64_t)k);
    return v;
}

/* Compute rule (method, q) on the assignment and compare with the fixture's expectation. */
static void check_rule(const char *name, size_t k, adk_thr_method_t m, double q, double rtol)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char file[256], dset[256];
    snprintf(file, sizeof(file), "%s_assign.h5", name);
    snprintf(dset, sizeof(dset), "/%s_%g", adk_threshold_method_name(m), q);
    adk_rows_t *a = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_threshold_read_assign(ctx, fixture(file, NULL), &a), ADK_OK);
    adk_thr_params_t p = {m, q, 0};
    adk_thr_t *t = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_threshold_compute(ctx, &p, k, a, &t), ADK_OK);
    snprintf(file, sizeof(file), "%s_expected.h5", name);
    double *want = read_expected(file, dset, k);
    double *n = read_expected(file, "/n", k);
    size_t bad = 0;
    for (size_t c = 0; want && n && c < k; c++) {
        double got = t->value[c], e = want[c];
        int ok = rtol == 0.0 ? adk_test_same_bits(got, e)
                             : (got == e || fabs(got - e) <= rtol * fabs(e)); /* inf == inf */
        if (!ok || t->n[c] != (int64_t)n[c]) {
            if (bad++ == 0 && adk_ctx_rank(ctx) == 0) {
                printf("# %s %s cluster %zu: got %.17g (n %lld), numpy %.17g (n %g)\n", name, dset,
                       c, got, (long long)t->n[c], e, n[c]);
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(t->n_total, a->n);
    free(want);
    free(n);
    adk_threshold_free(t);
    adk_rows_free(a);
}

static void test_percentiles(void)
{
    const double qs[] = {0.0, 50.0, 95.0, 99.0, 100.0};
    for (size_t i = 0; i < 5; i++) {
        check_rule("blobs", 5, ADK_THR_PERCENTILE, qs[i], 0.0);
        check_rule("ties", 4, ADK_THR_PERCENTILE, qs[i], 0.0);
        check_rule("tiny", 5, ADK_THR_PERCENTILE, qs[i], 0.0);
        check_rule("blobs", 5, ADK_THR_GLOBAL_PERCENTILE, qs[i], 0.0);
        check_rule("ties", 4, ADK_THR_GLOBAL_PERCENTILE, qs[i], 0.0);
        check_rule("tiny", 5, ADK_THR_GLOBAL_PERCENTILE, qs[i], 0.0);
    }
}

static void test_sigma(void)
{
    const double ns[] = {0.0, 2.0, 3.0};
    for (size_t i = 0; i < 3; i++) {
        check_rule("blobs", 5, ADK_THR_SIGMA, ns[i], 1e-12);
        check_rule("ties", 4, ADK_THR_SIGMA, ns[i], 1e-12);
        check_rule("tiny", 5, ADK_THR_SIGMA, ns[i], 1e-12);
        check_rule("blobs", 5, ADK_THR_GLOBAL_SIGMA, ns[i], 1e-12);
        check_rule("ties", 4, ADK_THR_GLOBAL_SIGMA, ns[i], 1e-12);
        check_rule("tiny", 5, ADK_THR_GLOBAL_SIGMA, ns[i], 1e-12);
    }
}

static void test_small_clusters(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *a = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_threshold_read_assign(ctx, fixture("blobs_assign.h5", NULL), &a),
                          ADK_OK);
    for (int m = ADK_THR_PERCENTILE; m <= ADK_THR_GLOBAL_SIGMA; m++) {
        adk_thr_params_t p = {(adk_thr_method_t)m, 3.0, 0};
        adk_thr_t *t = NULL;
        CU_ASSERT_EQUAL_FATAL(adk_threshold_compute(ctx, &p, 5, a, &t), ADK_OK);
        CU_ASSERT(t->n_empty == 1 && t->n_single == 1 && t->n[3] == 0 && t->n[4] == 1);
        int per_cluster = m == ADK_THR_PERCENTILE || m == ADK_THR_SIGMA;
        /* empty cluster: +inf for per-cluster rules, the common value for global ones */
        CU_ASSERT(per_cluster ? (isinf(t->value[3]) && t->value[3] > 0)
                              : adk_test_same_bits(t->value[3], t->value[0]));
        /* one row: that row's distance (percentile of one value; sd 0) */
        if (per_cluster) {
            CU_ASSERT(t->value[4] == sqrt(2.0)); /* the outlier (30,-25) vs (29,-24) */
        }
        adk_threshold_free(t);
    }
    adk_rows_free(a);
}

static void test_read_assign(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *a = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_threshold_read_assign(ctx, fixture("ties_assign.h5", NULL), &a),
                          ADK_OK);
    CU_ASSERT_EQUAL(a->n, 997);
    adk_range_t rg =
        adk_part_rows(997, adk_ctx_size(ctx), adk_ctx_rank(ctx), adk_part_align(997, 0));
    CU_ASSERT(a->row0 == rg.start && (int64_t)a->nloc == rg.count);
    double *c = NULL, *d = NULL;
    int64_t r, cols;
    int nd;
    CU_ASSERT_EQUAL(
        adk_io_read_small(ctx, fixture("ties_assign.h5", "/cluster"), 1 << 20, &c, &r, &cols, &nd),
        ADK_OK);
    CU_ASSERT_EQUAL(
        adk_io_read_small(ctx, fixture("ties_assign.h5", "/distance"), 1 << 20, &d, &r, &cols, &nd),
        ADK_OK);
    int ok = 1;
    for (size_t i = 0; c && d && i < a->nloc; i++) {
        ok &= a->labels[i] == (int64_t)c[a->row0 + (int64_t)i];
        ok &= adk_test_same_bits(a->x[i], d[a->row0 + (int64_t)i]);
    }
    CU_ASSERT(ok);
    free(c);
    free(d);
    adk_rows_free(a);
}

/* A call that must fail with @p code on every rank, with a message containing @p needle. */
static void expect_error(int st, int code, const char *needle)
{
    adk_ctx_t *ctx = adk_test_ctx();
    CU_ASSERT_EQUAL(st, code);
    int mine = strstr(adk_ctx_message(ctx), needle) != NULL, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CU_ASSERT(any);
    if (!any && adk_ctx_rank(ctx) == 0) {
        printf("# expected a message with '%s', rank 0 has '%s'\n", needle, adk_ctx_message(ctx));
    }
    adk_ctx_clear(ctx);
}

static void test_bad_files(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *a = NULL;
    expect_error(adk_threshold_read_assign(ctx, fixture("bad_length.h5", NULL), &a), ADK_EDATA,
                 "/cluster has 20 rows but /distance has 19");
    expect_error(adk_threshold_read_assign(ctx, fixture("bad_2d.h5", NULL), &a), ADK_EDATA,
                 "is 2-D");
    expect_error(adk_threshold_read_assign(ctx, fixture("bad_model.h5", NULL), &a), ADK_EDATA,
                 "no dataset '/cluster'");
    expect_error(adk_threshold_read_assign(ctx, fixture("no_such_file.h5", NULL), &a), ADK_EIO,
                 "no_such_file.h5");
    CU_ASSERT_PTR_NULL(a);
}

/* Rows that read fine but break the rules of compute: the row number is in the message. */
static void test_bad_rows(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const struct {
        const char *file, *needle;
    } cases[] = {{"bad_label.h5", "row 13: cluster 7 is not in [0, 5)"},
                 {"bad_negative_label.h5", "row 2: cluster -1"},
                 {"bad_nan.h5", "row 17: distance is NaN"},
                 {"bad_negative.h5", "row 5: distance -0.5"}};
    for (size_t i = 0; i < 4; i++) {
        for (int m = ADK_THR_PERCENTILE; m <= ADK_THR_GLOBAL_SIGMA; m++) {
            adk_rows_t *a = NULL;
            CU_ASSERT_EQUAL_FATAL(adk_threshold_read_assign(ctx, fixture(cases[i].file, NULL), &a),
                                  ADK_OK);
            adk_thr_params_t p = {(adk_thr_method_t)m, 50.0, 0};
            adk_thr_t *t = NULL;
            expect_error(adk_threshold_compute(ctx, &p, 5, a, &t), ADK_EDATA, cases[i].needle);
            CU_ASSERT_PTR_NULL(t);
            adk_rows_free(a);
        }
    }
}

static void test_bad_params(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *a = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_threshold_read_assign(ctx, fixture("tiny_assign.h5", NULL), &a),
                          ADK_OK);
    adk_thr_t *t = NULL;
    adk_thr_params_t p = {ADK_THR_PERCENTILE, 100.5, 0};
    expect_error(adk_threshold_compute(ctx, &p, 5, a, &t), ADK_EINVAL, "outside [0, 100]");
    p = (adk_thr_params_t){ADK_THR_GLOBAL_PERCENTILE, -1.0, 0};
    expect_error(adk_threshold_compute(ctx, &p, 5, a, &t), ADK_EINVAL, "outside [0, 100]");
    p = (adk_thr_params_t){ADK_THR_SIGMA, -1.0, 0};
    expect_error(adk_threshold_compute(ctx, &p, 5, a, &t), ADK_EINVAL, ">= 0");
    p = (adk_thr_params_t){ADK_THR_GLOBAL_SIGMA, INFINITY, 0};
    expect_error(adk_threshold_compute(ctx, &p, 5, a, &t), ADK_EINVAL, ">= 0");
    p = (adk_thr_params_t){ADK_THR_PERCENTILE, 50.0, 17};
    expect_error(adk_threshold_compute(ctx, &p, 5, a, &t), ADK_EINVAL, "radix-bits");
    /* K smaller than the labels in use */
    p = (adk_thr_params_t){ADK_THR_PERCENTILE, 50.0, 0};
    expect_error(adk_threshold_compute(ctx, &p, 2, a, &t), ADK_EDATA, "cluster 4 is not in [0, 2)");
    CU_ASSERT_PTR_NULL(t);
    adk_rows_free(a);
}

/* mean + N sd beyond the largest double is the user's N, not an infinite boundary. */
static void test_sigma_overflow(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *a = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 40, 1, ADK_ALIGN_REPRO, "spread", 1, &a) == ADK_OK);
    for (size_t i = 0; i < a->nloc; i++) {
        int64_t g = a->row0 + (int64_t)i;
        a->x[i] = (double)(g % 10) * 10.0; /* sd about 29 in each cluster */
        a->labels[i] = g % 2;
    }
    adk_thr_t *t = NULL;
    adk_thr_params_t p = {ADK_THR_SIGMA, 1e308, 0};
    expect_error(adk_threshold_compute(ctx, &p, 2, a, &t), ADK_EINVAL, "overflows for cluster 0");
    CU_ASSERT_PTR_NULL(t);
    p = (adk_thr_params_t){ADK_THR_GLOBAL_SIGMA, 1e308, 0};
    expect_error(adk_threshold_compute(ctx, &p, 2, a, &t), ADK_EINVAL, "--global-sigma");
    p = (adk_thr_params_t){ADK_THR_SIGMA, 1e306, 0};
    CU_ASSERT_EQUAL(adk_threshold_compute(ctx, &p, 2, a, &t), ADK_OK);
    CU_ASSERT(t && isfinite(t->value[0]) && isfinite(t->value[1]));
    adk_threshold_free(t);
    adk_rows_free(a);
}

static void test_write(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *a = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_threshold_read_assign(ctx, fixture("ties_assign.h5", NULL), &a),
                          ADK_OK);
    adk_thr_params_t p = {ADK_THR_PERCENTILE, 95.0, 0};
    adk_thr_t *t = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_threshold_compute(ctx, &p, 4, a, &t), ADK_OK);
    char path[4096];
    snprintf(path, sizeof(path), "%s", adk_test_path("thr_write.h5"));
    adk_out_t *o = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_out_create(ctx, path, ADK_OUT_FORCE, &o), ADK_OK);
    CU_ASSERT_EQUAL(adk_out_commit(o, adk_threshold_write(ctx, o, t)), ADK_OK);
    /* again, through an update: the dataset is replaced, not duplicated */
    CU_ASSERT_EQUAL_FATAL(adk_out_update(ctx, path, &o), ADK_OK);
    CU_ASSERT_EQUAL(adk_out_commit(o, adk_threshold_write(ctx, o, t)), ADK_OK);
    char spec[4200], method[64] = "";
    snprintf(spec, sizeof(spec), "%s:/thresholds", path);
    double *v = NULL, q = 0;
    int64_t r, c;
    int nd;
    CU_ASSERT_EQUAL(adk_io_read_small(ctx, spec, 100, &v, &r, &c, &nd), ADK_OK);
    CU_ASSERT(r == 4 && nd == 1);
    for (size_t i = 0; v && i < 4; i++) {
        CU_ASSERT(adk_test_same_bits(v[i], t->value[i])); /* cluster 2 is empty: +inf survives */
    }
    CU_ASSERT(v && isinf(v[2]));
    CU_ASSERT_EQUAL(adk_io_attr_str(ctx, path, "/thresholds", "method", method, sizeof(method)),
                    ADK_OK);
    CU_ASSERT_STRING_EQUAL(method, "per-cluster-percentile");
    CU_ASSERT_EQUAL(adk_io_attr_f64(ctx, path, "/thresholds", "q", &q), ADK_OK);
    CU_ASSERT(q == 95.0);
    CU_ASSERT_EQUAL(adk_io_attr_f64(ctx, path, "/thresholds", "n_total", &q), ADK_OK);
    CU_ASSERT(q == 997.0);
    free(v);
    adk_threshold_free(t);
    adk_rows_free(a);
    MPI_Barrier(MPI_COMM_WORLD);
    if (adk_ctx_rank(ctx) == 0) {
        remove(path);
    }
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"percentile rules equal numpy bit for bit", test_percentiles},
        {"sigma rules within 1e-12 of numpy", test_sigma},
        {"empty and one-row clusters", test_small_clusters},
        {"assignment reader: partition and values", test_read_assign},
        {"malformed assignment files", test_bad_files},
        {"bad rows named on every rank", test_bad_rows},
        {"bad parameters", test_bad_params},
        {"sigma rule overflowing a double", test_sigma_overflow},
        {"/thresholds and its attributes", test_write},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_threshold", tests);
}
