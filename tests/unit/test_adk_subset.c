/*
 * Unit tests for adk_subset: the split's parts partition the rows (each row in exactly one part,
 * anomalies never in training, the fractions met within sampling error), label filters, the same
 * rows and order whichever rank holds which input rows, and agreed errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_part.h"
#include "adk_subset.h"
#include "adk_test.h"

#define N 2000
#define D 3

/* This rank's rows of the N x D test matrix (row i: i, 2i, label i % 10), usual or skewed split. */
static adk_rows_t *make_rows(int skew)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    adk_range_t p = adk_part_rows(N, size, rank, 1);
    if (skew) {
        p.start = rank == 0 ? 0 : N;
        p.count = rank == 0 ? N : 0;
    }
    adk_rows_t *x = calloc(1, sizeof(*x));
    CU_ASSERT_FATAL(x != NULL);
    *x = (adk_rows_t){N, p.start, (size_t)p.count, D, 1, NULL, NULL, NULL};
    x->x = malloc(((size_t)p.count + 1) * D * sizeof(double));
    x->labels = malloc(((size_t)p.count + 1) * sizeof(int64_t));
    for (int64_t i = 0; i < p.count; i++) {
        int64_t g = p.start + i;
        x->x[i * D] = (double)g;
        x->x[i * D + 1] = 2.0 * (double)g;
        x->x[i * D + 2] = -1.0;
        x->labels[i] = g % 10;
    }
    return x;
}

static void test_partition(void)
{
    static const int64_t anom[] = {0, 1};
    adk_subset_rule_t r = {NULL, 0, ADK_PART_ALL, 42, 0.6, 0.2, anom, 2};
    int64_t count[4] = {0, 0, 0, 0}, atrain = 0, aval = 0, n_anom = 0;
    for (int64_t g = 0; g < N; g++) {
        adk_part_name_t p = adk_subset_part(&r, g, g % 10);
        CU_ASSERT(p >= ADK_PART_TRAIN && p <= ADK_PART_TEST);
        count[p]++;
        if (g % 10 < 2) {
            n_anom++;
            atrain += p == ADK_PART_TRAIN;
            aval += p == ADK_PART_VAL;
        }
    }
    CU_ASSERT_EQUAL(atrain, 0);
    /* 1600 normal rows: 960 / 320 / 320 expected; 400 anomalies: 200 / 200; 5 sigma bands */
    CU_ASSERT(fabs((double)count[ADK_PART_TRAIN] - 960.0) < 5.0 * sqrt(1600 * 0.6 * 0.4));
    CU_ASSERT(fabs((double)aval - 200.0) < 5.0 * sqrt(400 * 0.25));
    CU_ASSERT_EQUAL(count[1] + count[2] + count[3], N);
    /* another seed, another split; the same seed, the same */
    adk_subset_rule_t r2 = r;
    r2.seed = 43;
    int differ = 0, same = 1;
    for (int64_t g = 0; g < 100; g++) {
        differ += adk_subset_part(&r, g, 5) != adk_subset_part(&r2, g, 5);
        same &= adk_subset_part(&r, g, 5) == adk_subset_part(&r, g, 5);
    }
    CU_ASSERT(differ > 10);
    CU_ASSERT(same);
}

/* Every rank's kept original rows, in global order, hashed; and the total. */
static void digest(const adk_rows_t *y, const int64_t *orig, uint64_t *h)
{
    adk_ctx_t *ctx = adk_test_ctx();
    uint64_t mine = 0;
    for (size_t i = 0; i < y->nloc; i++) {
        uint64_t g = (uint64_t)(y->row0 + (int64_t)i);
        mine += ((uint64_t)orig[i] * 2654435761u + (uint64_t)y->labels[i]) * (2 * g + 1);
        /* the row's data came along */
        CU_ASSERT_EQUAL(y->x[i * D], (double)orig[i]);
        CU_ASSERT_EQUAL(y->x[i * D + 1], 2.0 * (double)orig[i]);
        CU_ASSERT(i == 0 || orig[i] > orig[i - 1]); /* order kept */
    }
    CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, &mine, h, 1, MPI_UINT64_T, MPI_SUM), ADK_OK);
}

static void test_rows(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    static const int64_t keep[] = {2, 3, 4, 5, 6, 7, 8, 9}, anom[] = {0, 1};
    adk_subset_rule_t rules[] = {{keep, 8, ADK_PART_ALL, 0, 0.6, 0.2, NULL, 0},
                                 {NULL, 0, ADK_PART_TRAIN, 7, 0.6, 0.2, anom, 2},
                                 {NULL, 0, ADK_PART_TEST, 7, 0.5, 0.3, anom, 2}};
    for (size_t c = 0; c < 3; c++) {
        uint64_t h[2];
        int64_t n[2];
        for (int skew = 0; skew < 2; skew++) {
            adk_rows_t *x = make_rows(skew), *y = NULL;
            int64_t *orig = NULL;
            CU_ASSERT_EQUAL_FATAL(adk_subset_rows(ctx, &rules[c], x, &y, &orig), ADK_OK);
            int64_t expect = 0;
            for (int64_t g = 0; g < N; g++) {
                expect += adk_subset_keeps(&rules[c], g, g % 10);
            }
            CU_ASSERT_EQUAL(y->n, expect);
            for (size_t i = 0; i < y->nloc; i++) {
                CU_ASSERT(adk_subset_keeps(&rules[c], orig[i], y->labels[i]));
            }
            digest(y, orig, &h[skew]);
            n[skew] = y->n;
            adk_rows_free(y);
            free(orig);
            free(x->x);
            free(x->labels);
            free(x);
        }
        CU_ASSERT_EQUAL(h[0], h[1]);
        CU_ASSERT_EQUAL(n[0], n[1]);
    }
    CU_ASSERT_EQUAL(rules[0].nkeep, 8); /* 1600 rows kept: labels 2..9 of 10 */
}

static void test_errors(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    static const int64_t keep[] = {1};
    adk_rows_t *x = make_rows(0), *y = (adk_rows_t *)x;
    int64_t *orig = (int64_t *)x;
    int64_t *lab = x->labels;
    x->labels = NULL;
    adk_subset_rule_t r = {keep, 1, ADK_PART_ALL, 0, 0.6, 0.2, NULL, 0};
    CU_ASSERT_EQUAL(adk_subset_rows(ctx, &r, x, &y, &orig), ADK_EINVAL);
    CU_ASSERT_PTR_NULL(y);
    CU_ASSERT_PTR_NULL(orig);
    CU_ASSERT(adk_test_message_has("needs labels"));
    adk_ctx_clear(ctx);
    x->labels = lab;
    adk_subset_rule_t bad = {NULL, 0, ADK_PART_VAL, 0, 0.8, 0.3, NULL, 0};
    CU_ASSERT_EQUAL(adk_subset_rows(ctx, &bad, x, &y, &orig), ADK_EINVAL);
    CU_ASSERT(adk_test_message_has("sum to at most 1"));
    adk_ctx_clear(ctx);
    free(x->x);
    free(x->labels);
    free(x);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"the split partitions the rows; anomalies never train", test_partition},
        {"kept rows, order and data: the same at any layout", test_rows},
        {"labels needed, bad fractions: agreed errors", test_errors},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_subset", tests);
}
