/*
 * adk_knn: exact k nearest neighbours by a ring pass, GEMM-screened (see adk_knn.h).
 */
#include "adk_knn.h"
#include "adk_mem.h"
#include "adk_ring.h"

#include <float.h>
#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TILE 256 /* rows per side of a screened tile: 512 KiB of distances */

/* State of one computation, handed to the ring's visit. */
typedef struct {
    const adk_rows_t *x; /* the query rows */
    int same;            /* the reference rows are the query rows: leave each row itself out */
    adk_knn_t *nn;
    size_t *cnt;   /* entries filled per local row */
    double *xn;    /* local rows' squared norms */
    double *bn;    /* the visiting block's squared norms */
    double *tile;  /* TILE x TILE GEMM products */
    double margin; /* relative rounding bound of the GEMM form, see screen() */
} knn_ws_t;

double adk_knn_sqdist(const double *a, const double *b, size_t d)
{
    /* four running sums in a fixed pattern: fast, and the same bits for (a, b) and (b, a) */
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t j = 0;
    for (; j + 4 <= d; j += 4) {
        double u0 = a[j] - b[j], u1 = a[j + 1] - b[j + 1];
        double u2 = a[j + 2] - b[j + 2], u3 = a[j + 3] - b[j + 3];
        s0 += u0 * u0;
        s1 += u1 * u1;
        s2 += u2 * u2;
        s3 += u3 * u3;
    }
    for (; j < d; j++) {
        double u = a[j] - b[j];
        s0 += u * u;
    }
    return (s0 + s1) + (s2 + s3);
}

static void sqnorms(const double *x, size_t n, size_t d, double *out)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t j = 0; j < d; j++) {
            s += x[i * d + j] * x[i * d + j];
        }
        out[i] = s;
    }
}

/* (v, g) comes before (w, h): nearer, or as near with a lower global row. */
static int before(double v, int64_t g, double w, int64_t h)
{
    return v < w || (v == w && g < h);
}

/* Offer (v, g) to one row's sorted list of at most k entries. */
static void offer(int64_t *ix, double *dd, size_t *cnt, size_t k, double v, int64_t g)
{
    size_t p = *cnt;
    if (p == k) {
        if (!before(v, g, dd[k - 1], ix[k - 1])) {
            return;
        }
        p = k - 1;
    } else {
        (*cnt)++;
    }
    while (p > 0 && before(v, g, dd[p - 1], ix[p - 1])) {
        dd[p] = dd[p - 1];
        ix[p] = ix[p - 1];
        p--;
    }
    dd[p] = v;
    ix[p] = g;
}

/*
 * One tile: local rows [i0, i0 + ni) against block rows [j0, j0 + nj). The GEMM form g of a pair
 * differs from its exact squared distance s by at most about 2(d + 3) u (|a|^2 + |b|^2) (dot
 * products and norms each within gamma_d of their magnitudes); the exact value adk_knn_sqdist
 * gives is within gamma_(d+1) s of s. So a pair whose g exceeds the row's current k-th value w by
 * more than margin (|a|^2 + |b|^2 + w) cannot enter the list, and only the others are computed
 * exactly. margin is 4 (d + 4) DBL_EPSILON, over twice the bound.
 */
static void screen(knn_ws_t *w, const adk_ring_block_t *b, size_t i0, size_t ni, size_t j0,
                   size_t nj)
{
    const adk_rows_t *x = w->x;
    adk_knn_t *nn = w->nn;
    size_t d = x->d, k = nn->k;
    const double *a = x->x + i0 * d, *bb = b->data + j0 * d;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ni, (int)nj, (int)d, 1.0, a, (int)d,
                bb, (int)d, 0.0, w->tile, (int)nj);
    for (size_t i = 0; i < ni; i++) {
        size_t li = i0 + i;
        int64_t self = w->same ? x->row0 + (int64_t)li : -1;
        int64_t *ix = nn->index + li * k;
        double *dd = nn->dist2 + li * k;
        const double *c = w->tile + i * nj;
        for (size_t j = 0; j < nj; j++) {
            int64_t g = b->row0 + (int64_t)(j0 + j);
            double lim = w->cnt[li] == k ? dd[k - 1] : INFINITY;
            double gf = w->xn[li] + w->bn[j0 + j] - 2.0 * c[j];
            if (g == self || gf - w->margin * (w->xn[li] + w->bn[j0 + j] + lim) > lim) {
                continue;
            }
            offer(ix, dd, &w->cnt[li], k, adk_knn_sqdist(a + i * d, bb + j * d, d), g);
        }
    }
}

static int visit(void *ud, const adk_ring_block_t *b)
{
    knn_ws_t *w = ud;
    size_t d = w->x->d, m = w->x->nloc;
    sqnorms(b->data, b->rows, d, w->bn);
    for (size_t i0 = 0; i0 < m; i0 += TILE) {
        size_t ni = m - i0 < TILE ? m - i0 : TILE;
        for (size_t j0 = 0; j0 < b->rows; j0 += TILE) {
            screen(w, b, i0, ni, j0, b->rows - j0 < TILE ? b->rows - j0 : TILE);
        }
    }
    return ADK_OK;
}

void adk_knn_free(adk_knn_t *nn)
{
    if (nn) {
        free(nn->index);
        free(nn->dist2);
        free(nn);
    }
}

/* The lists and workspace; ADK_ENOMEM with a message on failure (not agreed). */
static int alloc_all(adk_ctx_t *ctx, const adk_rows_t *x, size_t k, size_t cap, adk_knn_t **nnp,
                     knn_ws_t *w)
{
    size_t m = x->nloc ? x->nloc : 1;
    adk_knn_t *nn = adk_calloc(1, sizeof(*nn));
    *nnp = nn;
    if (!nn) {
        return ADK_ERR(ctx, ADK_ENOMEM, "kNN: out of memory");
    }
    *nn = (adk_knn_t){x->n, x->row0, x->nloc, k, NULL, NULL};
    nn->index = adk_malloc(m * k * sizeof(int64_t));
    nn->dist2 = adk_malloc(m * k * sizeof(double));
    w->cnt = adk_calloc(m, sizeof(size_t));
    w->xn = adk_malloc(m * sizeof(double));
    w->bn = adk_malloc((cap ? cap : 1) * sizeof(double));
    w->tile = adk_malloc((size_t)TILE * TILE * sizeof(double));
    if (!nn->index || !nn->dist2 || !w->cnt || !w->xn || !w->bn || !w->tile) {
        return ADK_ERR(ctx, ADK_ENOMEM, "kNN: out of memory for %zu rows x %zu neighbours", x->nloc,
                       k);
    }
    return ADK_OK;
}

int adk_knn_query(adk_ctx_t *ctx, const adk_rows_t *q, const adk_rows_t *ref, size_t k, int same,
                  adk_knn_t **out)
{
    *out = NULL;
    int64_t avail = ref->n - (same ? 1 : 0); /* the same on every rank */
    if (k < 1 || (int64_t)k > avail) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "kNN: k = %zu neighbours needs 1 <= k <= %s (N = %lld rows of %s)", k,
                       same ? "N - 1" : "N", (long long)ref->n, ref->spec ? ref->spec : "the data");
    }
    if (q->d != ref->d) {
        return ADK_ERR(ctx, ADK_EDATA, "kNN: %s has %zu columns but the reference %s has %zu",
                       q->spec ? q->spec : "the data", q->d, ref->spec ? ref->spec : "", ref->d);
    }
    adk_ring_t *ring = NULL;
    ADK_CHECK(adk_ring_create(ctx, "kNN", ref->row0, ref->nloc, ref->d, &ring));
    knn_ws_t w = {q, same, NULL, NULL, NULL, NULL, NULL, 4.0 * ((double)q->d + 4.0) * DBL_EPSILON};
    int st = alloc_all(ctx, q, k, adk_ring_max_rows(ring), &w.nn, &w);
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        if (ref->nloc) {
            memcpy(adk_ring_payload(ring), ref->x, ref->nloc * ref->d * sizeof(double));
        }
        sqnorms(q->x, q->nloc, q->d, w.xn);
        st = adk_ring_pass(ring, visit, &w);
    }
    adk_ring_free(ring);
    free(w.cnt);
    free(w.xn);
    free(w.bn);
    free(w.tile);
    if (st != ADK_OK) {
        adk_knn_free(w.nn);
        return st;
    }
    *out = w.nn;
    return ADK_OK;
}

int adk_knn_compute(adk_ctx_t *ctx, const adk_rows_t *x, size_t k, adk_knn_t **out)
{
    return adk_knn_query(ctx, x, x, k, 1, out);
}

void adk_knn_score(const adk_knn_t *nn, adk_knn_score_t how, double *score)
{
    size_t k = nn->k;
    for (size_t i = 0; i < nn->nloc; i++) {
        const double *dd = nn->dist2 + i * k;
        if (how == ADK_KNN_KTH) {
            score[i] = sqrt(dd[k - 1]);
        } else {
            double s = 0.0;
            for (size_t j = 0; j < k; j++) {
                s += sqrt(dd[j]);
            }
            score[i] = s / (double)k;
        }
    }
}

int adk_knn_score_parse(const char *s, adk_knn_score_t *how)
{
    if (strcmp(s, "kth") == 0) {
        *how = ADK_KNN_KTH;
    } else if (strcmp(s, "mean") == 0) {
        *how = ADK_KNN_MEAN;
    } else {
        return -1;
    }
    return 0;
}
