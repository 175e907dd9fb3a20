/*
 * Unit tests for adk_metrics: scikit-learn's silhouette_score, davies_bouldin_score and
 * calinski_harabasz_score and numpy's inertia on the fixtures of
 * tests/fixtures/make_metrics_fixtures.py (relative 1e-10), the sampled silhouette against sklearn
 * on the same subset, an analytic case, bitwise equality with a one-process run, and bad input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "adk_io.h"
#include "adk_metrics.h"
#include "adk_part.h"
#include "adk_test.h"

#ifndef ADK_METRICS_FIXTURES
#define ADK_METRICS_FIXTURES "tests/fixtures/metrics"
#endif

#define TOL 1e-10

static const char *CASES[] = {"blobs", "scales", "edge", "flat", "wide", NULL};

static cJSON *load_reference(void)
{
    return adk_test_load_json(ADK_METRICS_FIXTURES, "reference.json");
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A fixture case read on ctx: rows (given alignment), both labellings, centroids. */
typedef struct {
    adk_rows_t *x;
    int32_t *model, *truth;
    double *c;
    int64_t k;
} fix_t;

static int32_t *labels_of(adk_ctx_t *ctx, adk_rows_t *x, const char *spec)
{
    if (adk_io_read_labels(ctx, spec, x) != ADK_OK) {
        return NULL;
    }
    int32_t *l = malloc((x->nloc + 1) * sizeof(int32_t));
    for (size_t i = 0; i < x->nloc; i++) {
        l[i] = (int32_t)x->labels[i];
    }
    free(x->labels);
    x->labels = NULL;
    return l;
}

static int fix_read(adk_ctx_t *ctx, const char *name, int64_t align, fix_t *f)
{
    char spec[1024];
    memset(f, 0, sizeof(*f));
    adk_read_opts_t ro = {align, NULL, NULL};
    snprintf(spec, sizeof(spec), "%s/%s.h5:/data", ADK_METRICS_FIXTURES, name);
    if (adk_io_read(ctx, spec, &ro, &f->x) != ADK_OK) {
        return 0;
    }
    snprintf(spec, sizeof(spec), "%s/%s.h5:/cluster", ADK_METRICS_FIXTURES, name);
    f->model = labels_of(ctx, f->x, spec);
    snprintf(spec, sizeof(spec), "%s/%s.h5:/truth", ADK_METRICS_FIXTURES, name);
    f->truth = labels_of(ctx, f->x, spec);
    snprintf(spec, sizeof(spec), "%s/%s.h5:/centroids", ADK_METRICS_FIXTURES, name);
    int64_t cols = 0;
    int nd = 0;
    if (adk_io_read_small(ctx, spec, 1 << 20, &f->c, &f->k, &cols, &nd) != ADK_OK) {
        return 0;
    }
    return f->model && f->truth && (size_t)cols == f->x->d;
}

static void fix_free(fix_t *f)
{
    adk_rows_free(f->x);
    free(f->model);
    free(f->truth);
    free(f->c);
}

static void check_against(const cJSON *ref, const adk_metrics_t *m, double sil)
{
    ADK_ASSERT_REL(sil, num(ref, "silhouette"), TOL);
    ADK_ASSERT_REL(m->davies_bouldin, num(ref, "davies_bouldin"), TOL);
    ADK_ASSERT_REL(m->calinski_harabasz, num(ref, "calinski_harabasz"), TOL);
    ADK_ASSERT_REL(m->inertia, num(ref, "inertia"), TOL);
    CU_ASSERT_EQUAL(m->n_labels, (int64_t)num(ref, "n_labels"));
}

/* Every fixture case, both labellings, rows in the reproducibility partition. */
static void test_sklearn_fixtures(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    cJSON *ref = load_reference();
    CU_ASSERT_FATAL(ref != NULL);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(ref, "cases");
    int seen = 0;
    for (const char **name = CASES; *name; name++) {
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(cases, *name);
        CU_ASSERT_FATAL(rc != NULL);
        fix_t f;
        CU_ASSERT_FATAL(fix_read(ctx, *name, ADK_ALIGN_REPRO, &f));
        CU_ASSERT_EQUAL(f.x->n, (int64_t)num(rc, "n"));
        for (int which = 0; which < 2; which++) {
            const int32_t *lab = which ? f.truth : f.model;
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(rc, which ? "truth" : "model");
            adk_metrics_t m;
            double sil = NAN;
            int64_t used = 0;
            CU_ASSERT_EQUAL(adk_metrics_clusters(ctx, f.x, lab, (size_t)f.k, f.c, &m), ADK_OK);
            CU_ASSERT_EQUAL(
                adk_metrics_silhouette(ctx, f.x, lab, (size_t)f.k, 0, 0, &sil, &used, NULL),
                ADK_OK);
            CU_ASSERT_EQUAL(used, f.x->n);
            check_against(r, &m, sil);
            seen++;
        }
        fix_free(&f);
    }
    CU_ASSERT_EQUAL(seen, 10);
    cJSON_Delete(ref);
}

/* Sampled silhouette = sklearn's exact score on the rows the fixture script picked with its own
 * implementation of the permutation. */
static void test_sampled_silhouette(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    cJSON *ref = load_reference();
    CU_ASSERT_FATAL(ref != NULL);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(ref, "cases");
    int seen = 0;
    for (const char **name = CASES; *name; name++) {
        const cJSON *rc = cJSON_GetObjectItemCaseSensitive(cases, *name);
        const cJSON *samples = cJSON_GetObjectItemCaseSensitive(rc, "samples");
        if (cJSON_GetArraySize(samples) == 0) {
            continue;
        }
        fix_t f;
        CU_ASSERT_FATAL(fix_read(ctx, *name, ADK_ALIGN_REPRO, &f));
        const cJSON *s;
        cJSON_ArrayForEach(s, samples)
        {
            int64_t size = (int64_t)num(s, "sample_size");
            uint64_t seed = (uint64_t)num(s, "seed");
            /* the selection rule itself: count and first rows */
            int64_t cnt = 0;
            const cJSON *first = cJSON_GetObjectItemCaseSensitive(s, "first_rows");
            int64_t pos = 0;
            for (int64_t g = 0; g < f.x->n; g++) {
                if (adk_metrics_in_sample(f.x->n, size, seed, g)) {
                    if (pos < cJSON_GetArraySize(first)) {
                        CU_ASSERT_EQUAL(g,
                                        (int64_t)cJSON_GetArrayItem(first, (int)pos)->valuedouble);
                    }
                    pos++;
                    cnt++;
                }
            }
            CU_ASSERT_EQUAL(cnt, (int64_t)num(s, "rows"));
            double sil = NAN;
            int64_t used = 0;
            CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, f.x, f.model, (size_t)f.k, size, seed, &sil,
                                                   &used, NULL),
                            ADK_OK);
            CU_ASSERT_EQUAL(used, (int64_t)num(s, "rows"));
            ADK_ASSERT_REL(sil, num(s, "silhouette"), TOL);
            seen++;
        }
        fix_free(&f);
    }
    CU_ASSERT(seen >= 5);
    cJSON_Delete(ref);
}

/* Same bits as one process holding every row, for the scores and for every row's s (which,
 * unlike the mean, would show a partial sum formed over a rank's rows instead of a fixed block),
 * whatever the rank count; with a plain row split (alignment 1) as well. */
static void test_rank_invariance(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_ctx_t *self = NULL;
    char *argv0[] = {"self"};
    CU_ASSERT_FATAL(adk_ctx_create(MPI_COMM_SELF, 1, argv0, &self) == ADK_OK);
    const char *names[] = {"blobs", "edge", "wide"};
    for (int c = 0; c < 3; c++) {
        for (int ai = 0; ai < 2; ai++) {
            int64_t align = ai ? 1 : ADK_ALIGN_REPRO;
            fix_t f, g;
            CU_ASSERT_FATAL(fix_read(ctx, names[c], align, &f));
            CU_ASSERT_FATAL(fix_read(self, names[c], align, &g));
            size_t k = (size_t)f.k, n = (size_t)g.x->n;
            double *r1 = malloc((f.x->nloc + 1) * sizeof(double));
            double *r2 = malloc((n + 1) * sizeof(double));
            adk_metrics_t m1, m2;
            double s1, s2;
            CU_ASSERT_EQUAL(adk_metrics_clusters(ctx, f.x, f.truth, k, f.c, &m1), ADK_OK);
            CU_ASSERT_EQUAL(adk_metrics_clusters(self, g.x, g.truth, k, g.c, &m2), ADK_OK);
            CU_ASSERT(memcmp(&m1.inertia, &m2.inertia, sizeof(double)) == 0);
            CU_ASSERT(memcmp(&m1.davies_bouldin, &m2.davies_bouldin, sizeof(double)) == 0);
            CU_ASSERT(memcmp(&m1.calinski_harabasz, &m2.calinski_harabasz, sizeof(double)) == 0);
            for (int smp = 0; smp < 2; smp++) {
                int64_t size = smp ? (int64_t)n / 2 : 0;
                const int32_t *l1 = smp ? f.model : f.truth, *l2 = smp ? g.model : g.truth;
                CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, f.x, l1, k, size, 11, &s1, NULL, r1),
                                ADK_OK);
                CU_ASSERT_EQUAL(adk_metrics_silhouette(self, g.x, l2, k, size, 11, &s2, NULL, r2),
                                ADK_OK);
                CU_ASSERT(memcmp(&s1, &s2, sizeof(double)) == 0);
                int same = 1, nan_ok = 1;
                for (size_t i = 0; i < f.x->nloc; i++) {
                    double a = r1[i], b = r2[f.x->row0 + (int64_t)i];
                    same &= isnan(a) ? isnan(b) != 0 : memcmp(&a, &b, sizeof(double)) == 0;
                    nan_ok &= isnan(a) ==
                              !adk_metrics_in_sample(f.x->n, size, 11, f.x->row0 + (int64_t)i);
                }
                CU_ASSERT(same);
                CU_ASSERT(nan_ok);
            }
            free(r1);
            free(r2);
            fix_free(&f);
            fix_free(&g);
        }
    }
    adk_ctx_free(self);
}

/* Build a distributed block of n rows from a global array (alignment align). */
static adk_rows_t *rows_from(adk_ctx_t *ctx, const double *all, int64_t n, size_t d, int64_t align)
{
    adk_rows_t *x = NULL;
    if (adk_rows_alloc(ctx, n, d, align, NULL, 0, &x) != ADK_OK) {
        return NULL;
    }
    memcpy(x->x, all + x->row0 * (int64_t)d, x->nloc * d * sizeof(double));
    return x;
}

/* Hand-computed values: points 0, 1 | 10, 11 | 30 on a line (third cluster a singleton). */
static void test_analytic(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const double all[] = {0, 1, 10, 11, 30};
    const int32_t lab_all[] = {0, 0, 1, 1, 2};
    adk_rows_t *x = rows_from(ctx, all, 5, 1, 1); /* one row per rank at 4 ranks, 2 on rank 0 */
    CU_ASSERT_FATAL(x != NULL);
    const int32_t *lab = lab_all + x->row0;
    double sil = NAN;
    CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, x, lab, 3, 0, 0, &sil, NULL, NULL), ADK_OK);
    /* a = 1 for the pairs; b: 0 -> 10.5, 1 -> 9.5, 10 -> 9.5, 11 -> 10.5; singleton s = 0 */
    double want = ((9.5 / 10.5) + (8.5 / 9.5) + (8.5 / 9.5) + (9.5 / 10.5) + 0.0) / 5.0;
    ADK_ASSERT_REL(sil, want, 1e-15);
    adk_metrics_t m;
    const double cen[] = {0.0, 10.0, 30.0};
    CU_ASSERT_EQUAL(adk_metrics_clusters(ctx, x, lab, 3, cen, &m), ADK_OK);
    ADK_ASSERT_REL(m.inertia, 0.0 + 1.0 + 0.0 + 1.0 + 0.0, 1e-15);
    /* means 0.5, 10.5, 30; spreads 0.5, 0.5, 0; overall mean 10.4 */
    double db = (fmax(1.0 / 10.0, 0.5 / 29.5) + fmax(1.0 / 10.0, 0.5 / 19.5) +
                 fmax(0.5 / 29.5, 0.5 / 19.5)) /
                3.0;
    ADK_ASSERT_REL(m.davies_bouldin, db, 1e-14);
    double extra = 2 * 9.9 * 9.9 + 2 * 0.1 * 0.1 + 19.6 * 19.6;
    double ch = extra * (5 - 3) / (1.0 * (3 - 1));
    ADK_ASSERT_REL(m.calinski_harabasz, ch, 1e-13);
    CU_ASSERT_EQUAL(m.n_labels, 3);
    adk_rows_free(x);
}

/* Bad input: one agreed status on every rank, a message naming the row, no hang. */
static void test_bad_input(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const double all[] = {0, 1, 2, 3, 4, 5, 6, 7};
    adk_rows_t *x = rows_from(ctx, all, 8, 1, 1);
    CU_ASSERT_FATAL(x != NULL);
    int32_t lab[8];
    for (size_t i = 0; i < x->nloc; i++) {
        int64_t g = x->row0 + (int64_t)i;
        lab[i] = g == 6 ? 5 : (int32_t)(g % 2); /* row 6 out of range for k = 3 */
    }
    adk_metrics_t m;
    double s = 0;
    CU_ASSERT_EQUAL(adk_metrics_clusters(ctx, x, lab, 3, NULL, &m), ADK_EDATA);
    CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, x, lab, 3, 0, 0, &s, NULL, NULL), ADK_EDATA);
    if (x->row0 <= 6 && 6 < x->row0 + (int64_t)x->nloc) {
        CU_ASSERT(strstr(adk_ctx_message(ctx), "row 6") != NULL);
    }
    adk_ctx_clear(ctx);
    for (size_t i = 0; i < x->nloc; i++) {
        lab[i] = 1; /* one cluster */
    }
    CU_ASSERT_EQUAL(adk_metrics_clusters(ctx, x, lab, 3, NULL, &m), ADK_EDATA);
    CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, x, lab, 3, 0, 0, &s, NULL, NULL), ADK_EDATA);
    CU_ASSERT(strstr(adk_ctx_message(ctx), "clusters") != NULL);
    adk_ctx_clear(ctx);
    for (size_t i = 0; i < x->nloc; i++) {
        lab[i] = (int32_t)(x->row0 + (int64_t)i); /* n clusters of one row: n_labels = n */
    }
    CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, x, lab, 8, 0, 0, &s, NULL, NULL), ADK_EDATA);
    adk_ctx_clear(ctx);
    for (size_t i = 0; i < x->nloc; i++) {
        lab[i] = (int32_t)((x->row0 + (int64_t)i) % 2);
    }
    CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, x, lab, 2, -1, 0, &s, NULL, NULL), ADK_EINVAL);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, x, lab, 2, 1, 0, &s, NULL, NULL), ADK_EDATA);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, x, lab, 0, 0, 0, &s, NULL, NULL), ADK_EINVAL);
    adk_ctx_clear(ctx);
    /* and a valid call afterwards still works (nothing left pending on any rank) */
    CU_ASSERT_EQUAL(adk_metrics_silhouette(ctx, x, lab, 2, 0, 0, &s, NULL, NULL), ADK_OK);
    CU_ASSERT(s > -1.0 && s < 1.0);
    adk_rows_free(x);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"sklearn fixtures within 1e-10", test_sklearn_fixtures},
        {"sampled silhouette on the same subset", test_sampled_silhouette},
        {"bitwise equal to one process", test_rank_invariance},
        {"analytic values", test_analytic},
        {"bad input agreed on every rank", test_bad_input},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_metrics", tests);
}
