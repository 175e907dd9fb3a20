/*
 * Unit tests for adk_knn: every row's k nearest neighbours against a brute-force O(N^2) search
 * written independently here (all pairs, sorted by squared distance then by row), on data full of
 * exact ties (small integer grids, duplicated rows), on data at large offsets where the GEMM form
 * cancels (the screen must still never drop a neighbour), and over skewed partitions; the same
 * bits at every rank count and partition; the two scores; k out of range agreed on every rank.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_knn.h"
#include "adk_part.h"
#include "adk_test.h"

enum { GRID, SMOOTH, OFFSET };

/* Row i: GRID = integers in [0, 3) (ties everywhere, duplicate rows), SMOOTH = uniform,
 * OFFSET = uniform in [0, 1e-3) around 1e4 (the GEMM form loses most digits). */
static void row_of(int kind, int64_t i, size_t d, double *x)
{
    for (size_t j = 0; j < d; j++) {
        double h = adk_test_hash01(i, (int64_t)j);
        x[j] = kind == GRID ? floor(3.0 * h) : kind == SMOOTH ? h : 1e4 + 1e-3 * h;
    }
}

/* This rank's rows of an n x d matrix: the usual split, or (skew) every row on the last rank. */
static adk_rows_t *make_rows(int kind, int64_t n, size_t d, int skew)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    adk_rows_t *r = calloc(1, sizeof(*r));
    CU_ASSERT_FATAL(r != NULL);
    adk_range_t p = adk_part_rows(n, size, rank, 1);
    r->n = n;
    r->d = d;
    r->align = 1;
    r->row0 = skew ? (rank == size - 1 ? 0 : n) : p.start;
    r->nloc = skew ? (rank == size - 1 ? (size_t)n : 0) : (size_t)p.count;
    r->x = malloc((r->nloc ? r->nloc : 1) * d * sizeof(double));
    CU_ASSERT_FATAL(r->x != NULL);
    for (size_t i = 0; i < r->nloc; i++) {
        row_of(kind, r->row0 + (int64_t)i, d, r->x + i * d);
    }
    return r;
}

static void free_rows(adk_rows_t *r)
{
    free(r->x);
    free(r);
}

typedef struct {
    long double d2;
    int64_t j;
} pair_t;

static int pair_cmp(const void *a, const void *b)
{
    const pair_t *p = a, *q = b;
    if (p->d2 != q->d2) {
        return p->d2 < q->d2 ? -1 : 1;
    }
    return p->j < q->j ? -1 : p->j > q->j;
}

/*
 * Check the lists of the local rows against all pairs. The reference distances are long double
 * sums (another order and precision): ranks must agree exactly where the data are integers, and
 * elsewhere each distance within 1e-12 relative and every listed row among the true nearest.
 */
static void check_lists(int kind, const adk_rows_t *x, const adk_knn_t *nn)
{
    int64_t n = x->n;
    size_t d = x->d, k = nn->k;
    pair_t *all = malloc((size_t)n * sizeof(pair_t));
    double *a = malloc(d * sizeof(double)), *b = malloc(d * sizeof(double));
    CU_ASSERT_FATAL(all && a && b);
    int bad = 0;
    for (size_t li = 0; li < x->nloc; li++) {
        int64_t i = x->row0 + (int64_t)li;
        row_of(kind, i, d, a);
        size_t m = 0;
        for (int64_t j = 0; j < n; j++) {
            if (j == i) {
                continue;
            }
            row_of(kind, j, d, b);
            long double s = 0.0L;
            for (size_t c = 0; c < d; c++) {
                long double u = (long double)a[c] - (long double)b[c];
                s += u * u;
            }
            all[m++] = (pair_t){s, j};
        }
        qsort(all, m, sizeof(pair_t), pair_cmp);
        for (size_t q = 0; q < k; q++) {
            double got = nn->dist2[li * k + q];
            int64_t gj = nn->index[li * k + q];
            if (kind == GRID) { /* exact integers: the same list, tie order included */
                bad += gj != all[q].j || got != (double)all[q].d2;
            } else {
                bad += fabsl((long double)got - all[q].d2) > 1e-12L * (all[q].d2 + 1e-300L);
                bad += q > 0 && got < nn->dist2[li * k + q - 1];
                row_of(kind, gj, d, b);
                bad += gj == i || !(adk_knn_sqdist(a, b, d) == got);
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(all);
    free(a);
    free(b);
}

/* Rank 0's digest of every list (rows in global order), compared across layouts. */
static void digest(adk_ctx_t *ctx, const adk_knn_t *nn, uint64_t *h)
{
    uint64_t mine = 0;
    for (size_t i = 0; i < nn->nloc * nn->k; i++) {
        uint64_t bits;
        memcpy(&bits, &nn->dist2[i], sizeof(bits));
        uint64_t g = (uint64_t)(nn->row0 * (int64_t)nn->k) + i;
        mine += (bits ^ ((uint64_t)nn->index[i] << 20)) * (2 * g + 1);
    }
    *h = 0;
    CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, &mine, h, 1, MPI_UINT64_T, MPI_SUM), ADK_OK);
}

static void run_case(int kind, int64_t n, size_t d, size_t k)
{
    adk_ctx_t *ctx = adk_test_ctx();
    uint64_t h[2] = {0, 0};
    for (int skew = 0; skew < 2; skew++) {
        adk_rows_t *x = make_rows(kind, n, d, skew);
        adk_knn_t *nn = NULL;
        CU_ASSERT_EQUAL_FATAL(adk_knn_compute(ctx, x, k, &nn), ADK_OK);
        CU_ASSERT_EQUAL(nn->nloc, x->nloc);
        CU_ASSERT_EQUAL(nn->k, k);
        check_lists(kind, x, nn);
        digest(ctx, nn, &h[skew]);
        adk_knn_free(nn);
        free_rows(x);
    }
    CU_ASSERT_EQUAL(h[0], h[1]); /* the same bits whichever rank holds which rows */
}

static void test_ties(void)
{
    run_case(GRID, 60, 3, 7);   /* 27 grid points for 60 rows: duplicates at distance 0 */
    run_case(GRID, 300, 2, 20); /* 9 points: long runs of equal distances */
    run_case(GRID, 5, 4, 4);    /* k = N - 1 */
}

static void test_smooth(void)
{
    run_case(SMOOTH, 700, 9, 12); /* several tiles of 256 rows */
    run_case(SMOOTH, 3, 2, 1);    /* more ranks than rows at 4 ranks */
}

static void test_offset(void)
{
    run_case(OFFSET, 400, 6, 5);
}

/* Query rows (SMOOTH rows 5000 + i) against reference rows (SMOOTH rows 0 .. nref - 1): the brute
 * force over every reference row, and a reference equal to the query finds each row itself. */
static void test_reference(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t nref = 300, nq = 77;
    const size_t d = 5, k = 6;
    for (int skew = 0; skew < 2; skew++) {
        adk_rows_t *ref = make_rows(SMOOTH, nref, d, skew), *q = make_rows(SMOOTH, nq, d, !skew);
        for (size_t i = 0; i < q->nloc; i++) {
            row_of(SMOOTH, 5000 + q->row0 + (int64_t)i, d, q->x + i * d);
        }
        adk_knn_t *nn = NULL;
        CU_ASSERT_EQUAL_FATAL(adk_knn_query(ctx, q, ref, k, 0, &nn), ADK_OK);
        pair_t *all = malloc((size_t)nref * sizeof(pair_t));
        double b[5];
        int bad = 0;
        for (size_t i = 0; i < q->nloc; i++) {
            for (int64_t j = 0; j < nref; j++) {
                row_of(SMOOTH, j, d, b);
                long double sum = 0.0L;
                for (size_t c = 0; c < d; c++) {
                    long double u = (long double)q->x[i * d + c] - (long double)b[c];
                    sum += u * u;
                }
                all[j] = (pair_t){sum, j};
            }
            qsort(all, (size_t)nref, sizeof(pair_t), pair_cmp);
            for (size_t t = 0; t < k; t++) {
                bad += nn->index[i * k + t] != all[t].j;
                bad += fabsl((long double)nn->dist2[i * k + t] - all[t].d2) > 1e-12L * all[t].d2;
            }
        }
        CU_ASSERT_EQUAL(bad, 0);
        free(all);
        adk_knn_free(nn);
        /* the reference as query, not marked the same: every row's first neighbour is itself */
        CU_ASSERT_EQUAL_FATAL(adk_knn_query(ctx, ref, ref, k, 0, &nn), ADK_OK);
        for (size_t i = 0; i < ref->nloc; i++) {
            CU_ASSERT_EQUAL(nn->index[i * k], ref->row0 + (int64_t)i);
            CU_ASSERT(adk_test_same_bits(nn->dist2[i * k], 0.0));
        }
        adk_knn_free(nn);
        /* k may reach N_ref without self exclusion, not beyond; column counts must agree */
        CU_ASSERT_EQUAL(adk_knn_query(ctx, q, ref, (size_t)nref + 1, 0, &nn), ADK_EINVAL);
        adk_ctx_clear(ctx);
        q->d = 4;
        CU_ASSERT_EQUAL(adk_knn_query(ctx, q, ref, 2, 0, &nn), ADK_EDATA);
        CU_ASSERT(adk_test_message_has("columns but the reference"));
        adk_ctx_clear(ctx);
        free_rows(q);
        free_rows(ref);
    }
}

static void test_scores(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = make_rows(GRID, 40, 3, 0);
    adk_knn_t *nn = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_knn_compute(ctx, x, 4, &nn), ADK_OK);
    double *kth = malloc((x->nloc + 1) * sizeof(double)), *mean = malloc((x->nloc + 1) * 8);
    adk_knn_score(nn, ADK_KNN_KTH, kth);
    adk_knn_score(nn, ADK_KNN_MEAN, mean);
    for (size_t i = 0; i < x->nloc; i++) {
        CU_ASSERT(adk_test_same_bits(kth[i], sqrt(nn->dist2[i * 4 + 3])));
        double s = 0.0;
        for (int q = 0; q < 4; q++) {
            s += sqrt(nn->dist2[i * 4 + q]);
        }
        CU_ASSERT(adk_test_same_bits(mean[i], s / 4.0));
        CU_ASSERT(mean[i] <= kth[i]);
    }
    adk_knn_score_t how;
    CU_ASSERT(adk_knn_score_parse("kth", &how) == 0 && how == ADK_KNN_KTH);
    CU_ASSERT(adk_knn_score_parse("mean", &how) == 0 && how == ADK_KNN_MEAN);
    CU_ASSERT(adk_knn_score_parse("max", &how) != 0);
    free(kth);
    free(mean);
    adk_knn_free(nn);
    free_rows(x);
}

static void test_sqdist(void)
{
    double a[7], b[7];
    for (int j = 0; j < 7; j++) {
        a[j] = adk_test_hash01(1, j) * 1e3;
        b[j] = -adk_test_hash01(2, j);
    }
    for (size_t d = 0; d <= 7; d++) { /* symmetric to the bit, 0 on itself, every tail length */
        CU_ASSERT(adk_test_same_bits(adk_knn_sqdist(a, b, d), adk_knn_sqdist(b, a, d)));
        CU_ASSERT(adk_test_same_bits(adk_knn_sqdist(a, a, d), 0.0));
    }
    double e[5] = {1, 2, 3, 4, 5}, z[5] = {0};
    CU_ASSERT(adk_test_same_bits(adk_knn_sqdist(e, z, 5), 55.0));
}

static void test_bad_k(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = make_rows(SMOOTH, 6, 2, 0);
    const size_t ks[] = {0, 6, 100};
    for (size_t c = 0; c < 3; c++) {
        adk_knn_t *nn = (adk_knn_t *)x; /* must be reset to NULL */
        int st = adk_knn_compute(ctx, x, ks[c], &nn);
        CU_ASSERT_EQUAL(st, ADK_EINVAL);
        CU_ASSERT_PTR_NULL(nn);
        CU_ASSERT(adk_test_message_has("needs 1 <= k <= N - 1 (N = 6 rows"));
        adk_ctx_clear(ctx);
    }
    free_rows(x);
    adk_rows_t *one = make_rows(SMOOTH, 1, 2, 0);
    adk_knn_t *nn = NULL;
    CU_ASSERT_EQUAL(adk_knn_compute(ctx, one, 1, &nn), ADK_EINVAL);
    adk_ctx_clear(ctx);
    free_rows(one);
    adk_knn_free(NULL);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"exact ties: the brute-force lists, tie order included", test_ties},
        {"smooth data: brute-force distances, several tiles", test_smooth},
        {"large offsets: the GEMM screen drops no neighbour", test_offset},
        {"query rows against other reference rows", test_reference},
        {"kth and mean scores", test_scores},
        {"the pair distance: symmetric bits", test_sqdist},
        {"k out of range, N < 2: agreed errors", test_bad_k},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_knn", tests);
}
