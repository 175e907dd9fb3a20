/*
 * Unit tests for adk_elbow: the knee and the difference curve of every curve in
 * tests/fixtures/metrics/kneedle.json (a reference Kneedle written in numpy/scipy from the paper
 * and kneed 0.8.6's rules, anchored on the knees kneed's own test suite states), numpy's summation
 * order, and bad input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "adk_ctx.h"
#include "adk_elbow.h"
#include "adk_test.h"

#ifndef ADK_METRICS_FIXTURES
#define ADK_METRICS_FIXTURES "tests/fixtures/metrics"
#endif

static cJSON *load_cases(void)
{
    return adk_test_load_json(ADK_METRICS_FIXTURES, "kneedle.json");
}

/* JSON array of numbers (null -> NaN) into a malloc'd array. */
static double *array_of(const cJSON *a, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = malloc((*n + 1) * sizeof(double));
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        v[i++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
    }
    return v;
}

static void test_reference_curves(void)
{
    cJSON *j = load_cases();
    CU_ASSERT_FATAL(j != NULL);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(j, "cases");
    int ncase = 0, nknee = 0, nnone = 0, bad = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cases)
    {
        size_t n, ny, nd = 0;
        double *x = array_of(cJSON_GetObjectItemCaseSensitive(c, "x"), &n);
        double *y = array_of(cJSON_GetObjectItemCaseSensitive(c, "y"), &ny);
        const cJSON *jd = cJSON_GetObjectItemCaseSensitive(c, "diff");
        double *want = jd ? array_of(jd, &nd) : NULL;
        double s = cJSON_GetObjectItemCaseSensitive(c, "S")->valuedouble;
        int shape = (int)cJSON_GetObjectItemCaseSensitive(c, "shape")->valuedouble;
        int64_t ref = (int64_t)cJSON_GetObjectItemCaseSensitive(c, "knee")->valuedouble;
        double *d = malloc((n + 1) * sizeof(double));
        int64_t knee = -2;
        int st = adk_elbow_kneedle(x, y, n, (adk_knee_shape_t)shape, s, d, &knee);
        int ok = st == ADK_OK && ny == n && knee == ref;
        for (size_t i = 0; want && i < nd && i < n; i++) {
            /* the same IEEE operations as numpy: equal bits, NaN where the reference has null */
            ok &= isnan(want[i]) ? isnan(d[i]) != 0 : d[i] == want[i];
        }
        if (!ok) {
            printf("# case '%s': knee %lld, reference %lld, status %d\n",
                   cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring, (long long)knee,
                   (long long)ref, st);
            bad++;
        }
        ncase++;
        nknee += ref >= 0;
        nnone += ref < 0;
        free(x);
        free(y);
        free(want);
        free(d);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(ncase >= 150);
    CU_ASSERT(nknee >= 100 && nnone >= 10); /* both outcomes are exercised */
    cJSON_Delete(j);
}

static void test_numpy_sum(void)
{
    cJSON *j = load_cases();
    CU_ASSERT_FATAL(j != NULL);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "sums"))
    {
        size_t len;
        double *a = array_of(cJSON_GetObjectItemCaseSensitive(c, "a"), &len);
        double want = cJSON_GetObjectItemCaseSensitive(c, "sum")->valuedouble;
        CU_ASSERT_EQUAL(adk_elbow_np_sum(a, len), want);
        free(a);
        n++;
    }
    CU_ASSERT_EQUAL(n, 13);
    cJSON_Delete(j);
}

/* A hand-checked curve: y = 1000/k for k = 1..10 has its elbow at k = 3 with S = 1. */
static void test_hand_curve(void)
{
    double x[10], y[10], d[10];
    for (int i = 0; i < 10; i++) {
        x[i] = i + 1;
        y[i] = 1000.0 / (i + 1);
    }
    int64_t knee = -2;
    CU_ASSERT_EQUAL(adk_elbow_kneedle(x, y, 10, ADK_KNEE_CONVEX_DECREASING, 1.0, d, &knee), ADK_OK);
    CU_ASSERT_EQUAL(knee, 2);
    /* d = (1 - y_n) - x_n: 0 at both ends, positive between */
    CU_ASSERT_EQUAL(d[0], 0.0);
    CU_ASSERT_EQUAL(d[9], 0.0);
    CU_ASSERT(d[2] > d[1] && d[2] > d[3]);
    /* a very large sensitivity finds nothing */
    CU_ASSERT_EQUAL(adk_elbow_kneedle(x, y, 10, ADK_KNEE_CONVEX_DECREASING, 50.0, NULL, &knee),
                    ADK_OK);
    CU_ASSERT_EQUAL(knee, -1);
}

static void test_bad_input(void)
{
    double x[4] = {1, 2, 2, 3}, y[4] = {4, 3, 2, 1};
    int64_t knee = 7;
    CU_ASSERT_EQUAL(adk_elbow_kneedle(x, y, 4, ADK_KNEE_CONVEX_DECREASING, 1.0, NULL, &knee),
                    ADK_EINVAL); /* x not strictly increasing */
    CU_ASSERT_EQUAL(knee, -1);
    x[2] = 2.5;
    y[1] = NAN;
    CU_ASSERT_EQUAL(adk_elbow_kneedle(x, y, 4, ADK_KNEE_CONVEX_DECREASING, 1.0, NULL, &knee),
                    ADK_EINVAL);
    y[1] = 3;
    CU_ASSERT_EQUAL(adk_elbow_kneedle(x, y, 4, ADK_KNEE_CONVEX_DECREASING, -1.0, NULL, &knee),
                    ADK_EINVAL);
    CU_ASSERT_EQUAL(adk_elbow_kneedle(x, y, 4, (adk_knee_shape_t)9, 1.0, NULL, &knee), ADK_EINVAL);
    CU_ASSERT_EQUAL(adk_elbow_kneedle(x, y, 0, ADK_KNEE_CONVEX_DECREASING, 1.0, NULL, &knee),
                    ADK_OK);
    CU_ASSERT_EQUAL(knee, -1);
    CU_ASSERT_EQUAL(adk_elbow_kneedle(x, y, 1, ADK_KNEE_CONVEX_DECREASING, 1.0, NULL, &knee),
                    ADK_OK);
    CU_ASSERT_EQUAL(knee, -1);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {{"reference Kneedle curves", test_reference_curves},
                                       {"numpy summation order", test_numpy_sum},
                                       {"hand-checked hyperbola", test_hand_curve},
                                       {"bad input", test_bad_input},
                                       {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_elbow", tests);
}
