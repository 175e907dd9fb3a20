/*
 * adk_metrics: inertia, Davies-Bouldin, Calinski-Harabasz (two exact reductions over row blocks)
 * and the silhouette (ring pass of row blocks with exact per-row, per-cluster distance sums).
 * Definitions follow scikit-learn 1.2's sklearn/metrics/cluster/_unsupervised.py.
 */
#include "adk_metrics.h"
#include "adk_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_repro.h"
#include "adk_ring.h"
#include "adk_rng.h"
#include "adk_vec.h"

/* Visiting rows per distance tile: the tile's per-row sums stay in registers and vectorise
 * across rows, while each row's own sum still runs over the columns in order, so its value is the
 * plain sqrt(sum_j (x_j - y_j)^2) whatever the tiling. */
#define TILE 8 /* tile_sq spells out eight lanes */

static int check_labels(adk_ctx_t *ctx, const adk_rows_t *x, const int32_t *labels, size_t k)
{
    for (size_t i = 0; i < x->nloc; i++) {
        if (labels[i] < 0 || (size_t)labels[i] >= k) {
            return ADK_ERR(ctx, ADK_EDATA, "%s row %lld: label %d outside [0, %zu)",
                           x->spec ? x->spec : "data", (long long)(x->row0 + (int64_t)i),
                           (int)labels[i], k);
        }
    }
    return ADK_OK;
}

static int check_nlabels(adk_ctx_t *ctx, int64_t nl, int64_t n, const char *what)
{
    if (nl < 2 || nl > n - 1) {
        return ADK_ERR(ctx, ADK_EDATA,
                       "%s: %lld clusters have rows among %lld rows; the scores need 2 to n - 1 "
                       "clusters (scikit-learn's rule)",
                       what, (long long)nl, (long long)n);
    }
    return ADK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Inertia, Davies-Bouldin, Calinski-Harabasz                                                  */

/* Workspace of adk_metrics_clusters. */
typedef struct {
    double *mx;    /* d column bounds + 1 row-norm bound */
    double *part;  /* k*d + d block partials */
    double *mean;  /* k*d cluster means, then d overall mean */
    double *p2;    /* k + 2 block partials of the second pass */
    char *present; /* k flags: cluster has rows in the current block */
    int64_t *cnt;  /* k counts */
    adk_racc_t *a1, *a2;
} clu_ws_t;

static void clu_free(clu_ws_t *w)
{
    free(w->mx);
    free(w->part);
    free(w->mean);
    free(w->p2);
    free(w->present);
    free(w->cnt);
    adk_racc_free(w->a1);
    adk_racc_free(w->a2);
}

/* Pass 1: per-cluster and overall column sums over fixed row blocks, and the counts. */
static void clu_sums(const adk_rows_t *x, const int32_t *labels, size_t k, clu_ws_t *w)
{
    size_t d = x->d;
    int64_t A = x->align;
    double *tot = w->part + k * d;
    size_t r = 0;
    while (r < x->nloc) {
        size_t end = adk_part_block_end(x->row0, r, x->nloc, A);
        memset(tot, 0, d * sizeof(double));
        for (; r < end; r++) {
            size_t c = (size_t)labels[r];
            const double *row = x->x + r * d;
            double *pc = w->part + c * d;
            if (!w->present[c]) {
                w->present[c] = 1;
                memset(pc, 0, d * sizeof(double));
            }
            for (size_t j = 0; j < d; j++) {
                pc[j] += row[j];
                tot[j] += row[j];
            }
            adk_racc_addi(w->a1, c, 1);
        }
        for (size_t c = 0; c < k; c++) {
            if (w->present[c]) {
                w->present[c] = 0;
                for (size_t j = 0; j < d; j++) {
                    adk_racc_add(w->a1, c * d + j, w->part[c * d + j]);
                }
            }
        }
        for (size_t j = 0; j < d; j++) {
            adk_racc_add(w->a1, k * d + j, tot[j]);
        }
    }
}

/* Pass 2: per cluster the sum of distances to its mean; the within sum of squares; inertia. */
static void clu_spread(const adk_rows_t *x, const int32_t *labels, size_t k,
                       const double *centroids, clu_ws_t *w)
{
    size_t d = x->d;
    int64_t A = x->align;
    double *p = w->p2;
    size_t r = 0;
    while (r < x->nloc) {
        size_t end = adk_part_block_end(x->row0, r, x->nloc, A);
        memset(p, 0, (k + 2) * sizeof(double));
        for (; r < end; r++) {
            size_t c = (size_t)labels[r];
            const double *row = x->x + r * d;
            double sq = adk_vec_sq_dist(row, w->mean + c * d, d);
            p[c] += sqrt(sq);
            p[k] += sq;
            if (centroids) {
                p[k + 1] += adk_vec_sq_dist(row, centroids + c * d, d);
            }
        }
        for (size_t c = 0; c < k + 2; c++) {
            if (p[c] != 0.0) { /* adding zero changes nothing: skip it */
                adk_racc_add(w->a2, c, p[c]);
            }
        }
    }
}

int adk_metrics_clusters(adk_ctx_t *ctx, const adk_rows_t *x, const int32_t *labels, size_t k,
                         const double *centroids, adk_metrics_t *out)
{
    size_t d = x->d;
    clu_ws_t w;
    memset(&w, 0, sizeof(w));
    out->n = x->n;
    out->k = k;
    out->n_labels = 0;
    out->inertia = NAN;
    out->davies_bouldin = NAN;
    out->calinski_harabasz = NAN;
    if (k == 0 || d == 0) { /* same arguments on every rank: already agreed */
        return ADK_ERR(ctx, ADK_EINVAL, "metrics: need at least one cluster and one column");
    }
    int st = ADK_OK;
    w.mx = adk_calloc(d + 2, sizeof(double));
    w.part = adk_calloc((k + 1) * d, sizeof(double));
    w.mean = adk_calloc((k + 1) * d, sizeof(double));
    w.p2 = adk_calloc(k + 2, sizeof(double));
    w.present = adk_calloc(k, 1);
    w.cnt = adk_calloc(k, sizeof(int64_t));
    if (!w.mx || !w.part || !w.mean || !w.p2 || !w.present || !w.cnt ||
        adk_racc_alloc((k + 1) * d, k, &w.a1) != ADK_OK ||
        adk_racc_alloc(k + 2, 0, &w.a2) != ADK_OK) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    if (st == ADK_OK) {
        st = check_labels(ctx, x, labels, k);
    }
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK) {
        clu_free(&w);
        return st;
    }
    /* Bounds that fix the fixed-point grids: max |x_ij| per column and the largest row norm.
     * MAX is exact, so they are the same for any rank count. */
    for (size_t i = 0; i < x->nloc; i++) {
        const double *row = x->x + i * d;
        for (size_t j = 0; j < d; j++) {
            w.mx[j] = fmax(w.mx[j], fabs(row[j]));
        }
        w.mx[d] = fmax(w.mx[d], sqrt(adk_vec_norm2(row, d)));
    }
    double cmax = 0.0;
    for (size_t c = 0; centroids && c < k; c++) {
        cmax = fmax(cmax, sqrt(adk_vec_norm2(centroids + c * d, d)));
    }
    st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, w.mx, (int)d + 1, MPI_DOUBLE, MPI_MAX);
    if (st == ADK_OK) {
        double A = (double)x->align;
        for (size_t j = 0; j < d; j++) {
            int e = adk_repro_exponent(w.mx[j] * A) + 1;
            for (size_t c = 0; c <= k; c++) {
                adk_racc_set_scale(w.a1, c * d + j, e);
            }
        }
        /* |x - m| <= |x| + |m| <= 2 R for a mean m of rows; 1% and one bit absorb rounding. */
        double r = w.mx[d] * 1.01;
        int ed = adk_repro_exponent(2.0 * r * A) + 1;
        for (size_t c = 0; c < k; c++) {
            adk_racc_set_scale(w.a2, c, ed);
        }
        adk_racc_set_scale(w.a2, k, adk_repro_exponent(4.0 * r * r * A) + 1);
        double rc = r + cmax * 1.01;
        adk_racc_set_scale(w.a2, k + 1, adk_repro_exponent(rc * rc * A) + 1);
        clu_sums(x, labels, k, &w);
        st = adk_racc_allreduce(ctx, w.a1);
    }
    int64_t nl = 0;
    if (st == ADK_OK) {
        for (size_t c = 0; c < k; c++) {
            w.cnt[c] = adk_racc_geti(w.a1, c);
            nl += w.cnt[c] > 0;
            for (size_t j = 0; j < d && w.cnt[c] > 0; j++) {
                w.mean[c * d + j] = adk_racc_get(w.a1, c * d + j) / (double)w.cnt[c];
            }
        }
        for (size_t j = 0; j < d; j++) {
            w.mean[k * d + j] = adk_racc_get(w.a1, k * d + j) / (double)x->n;
        }
        out->n_labels = nl;
        st = check_nlabels(ctx, nl, x->n, x->spec ? x->spec : "data"); /* global: agreed */
    }
    if (st == ADK_OK) {
        clu_spread(x, labels, k, centroids, &w);
        st = adk_racc_allreduce(ctx, w.a2);
    }
    if (st == ADK_OK) {
        /* Calinski-Harabasz, evaluated in sklearn's order. */
        double extra = 0.0, intra = adk_racc_get(w.a2, k);
        for (size_t c = 0; c < k; c++) {
            if (w.cnt[c] > 0) {
                extra += (double)w.cnt[c] * adk_vec_sq_dist(w.mean + c * d, w.mean + k * d, d);
            }
        }
        out->calinski_harabasz =
            intra == 0.0 ? 1.0 : extra * (double)(x->n - nl) / (intra * ((double)nl - 1.0));
        /* Davies-Bouldin over the clusters present. */
        double *s = w.p2; /* reuse: k spreads */
        int all_s0 = 1, all_c0 = 1;
        for (size_t c = 0; c < k; c++) {
            s[c] = w.cnt[c] > 0 ? adk_racc_get(w.a2, c) / (double)w.cnt[c] : 0.0;
            all_s0 &= w.cnt[c] == 0 || fabs(s[c]) <= 1e-8;
        }
        for (size_t c = 0; c < k; c++) {
            for (size_t c2 = c + 1; c2 < k && w.cnt[c] > 0; c2++) {
                if (w.cnt[c2] > 0) {
                    all_c0 &= sqrt(adk_vec_sq_dist(w.mean + c * d, w.mean + c2 * d, d)) <= 1e-8;
                }
            }
        }
        if (all_s0 || all_c0) {
            out->davies_bouldin = 0.0;
        } else {
            double sum = 0.0;
            for (size_t c = 0; c < k; c++) {
                if (w.cnt[c] == 0) {
                    continue;
                }
                double best = 0.0; /* the cluster itself: distance 0 counts as infinite */
                for (size_t c2 = 0; c2 < k; c2++) {
                    if (c2 == c || w.cnt[c2] == 0) {
                        continue;
                    }
                    double cd = sqrt(adk_vec_sq_dist(w.mean + c * d, w.mean + c2 * d, d));
                    double v = cd == 0.0 ? 0.0 : (s[c] + s[c2]) / cd;
                    best = v > best ? v : best;
                }
                sum += best;
            }
            out->davies_bouldin = sum / (double)nl;
        }
        out->inertia = centroids ? adk_racc_get(w.a2, k + 1) : NAN;
    }
    clu_free(&w);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Silhouette                                                                                  */

int adk_metrics_in_sample(int64_t n, int64_t s, uint64_t seed, int64_t g)
{
    if (s <= 0 || s >= n) {
        return 1;
    }
    return adk_rng_permute(seed, (uint64_t)n, (uint64_t)g) < (uint64_t)s;
}

/* Workspace of the silhouette ring pass. */
typedef struct {
    adk_ctx_t *ctx;      /* for the visit's messages */
    const adk_rows_t *x; /* this rank's rows */
    size_t d, k, cap;    /* columns, clusters, rows of the largest visiting block */
    int64_t align;       /* global row block */
    size_t nsel;         /* local rows taking part */
    size_t *sel;         /* their local indices */
    adk_ring_t *ring;    /* blocks of d + 2 doubles per row: features, label, global row */
    double *yt;          /* tcap tiles of TILE x d visiting features, column-major */
    size_t *t0;          /* tcap + 1: first visiting row of each tile, then the row count */
    size_t tcap;         /* tiles the buffers hold */
    size_t *vlab;        /* cap: labels of the visiting rows */
    double *part;        /* nsel*k: distance sums over the current visiting block */
    int64_t *cnt;        /* k rows per cluster among the rows used */
    char *present;       /* k: cluster has rows in the current visiting block */
    size_t *plist;       /* those clusters */
    adk_racc_t *acc;     /* nsel*k exact distance sums */
    adk_racc_t *mean;    /* 1 real: sum of s over the rows used */
} sil_ws_t;

static void sil_free(sil_ws_t *w)
{
    free(w->sel);
    adk_ring_free(w->ring);
    free(w->yt);
    free(w->t0);
    free(w->vlab);
    free(w->part);
    free(w->cnt);
    free(w->present);
    free(w->plist);
    adk_racc_free(w->acc);
    adk_racc_free(w->mean);
}

/* Pack the local rows taking part into the ring payload: each row's features, then its label and
 * global row (the sample makes the rows of a block non-contiguous; doubles hold both exactly). */
static void sil_pack(const adk_rows_t *x, const int32_t *labels, const sil_ws_t *w, double *m)
{
    size_t d = w->d, per = d + 2;
    for (size_t i = 0; i < w->nsel; i++) {
        double *mi = m + i * per;
        memcpy(mi, x->x + w->sel[i] * d, d * sizeof(double));
        mi[d] = (double)labels[w->sel[i]];
        mi[d + 1] = (double)(x->row0 + (int64_t)w->sel[i]);
    }
}

/*
 * Squared distances of two rows a and b to the TILE rows of a tile (TILE x d, column-major).
 * Sixteen named lanes stay in registers and the compiler pairs them into vector operations;
 * each lane still sums over the columns in order, so the values are those of the plain loop, for
 * every instruction set the clones target (no FMA: -ffp-contract=off).
 */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
static void
tile_sq(const double *a, const double *b, const double *y, size_t d, double *da, double *db)
{
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
    for (size_t j = 0; j < d; j++) {
        const double *yj = y + j * TILE, xa = a[j], xb = b[j];
        double u0 = xa - yj[0], u1 = xa - yj[1], u2 = xa - yj[2], u3 = xa - yj[3];
        double u4 = xa - yj[4], u5 = xa - yj[5], u6 = xa - yj[6], u7 = xa - yj[7];
        double v0 = xb - yj[0], v1 = xb - yj[1], v2 = xb - yj[2], v3 = xb - yj[3];
        double v4 = xb - yj[4], v5 = xb - yj[5], v6 = xb - yj[6], v7 = xb - yj[7];
        a0 += u0 * u0;
        a1 += u1 * u1;
        a2 += u2 * u2;
        a3 += u3 * u3;
        a4 += u4 * u4;
        a5 += u5 * u5;
        a6 += u6 * u6;
        a7 += u7 * u7;
        b0 += v0 * v0;
        b1 += v1 * v1;
        b2 += v2 * v2;
        b3 += v3 * v3;
        b4 += v4 * v4;
        b5 += v5 * v5;
        b6 += v6 * v6;
        b7 += v7 * v7;
    }
    da[0] = a0, da[1] = a1, da[2] = a2, da[3] = a3, da[4] = a4, da[5] = a5, da[6] = a6, da[7] = a7;
    db[0] = b0, db[1] = b1, db[2] = b2, db[3] = b3, db[4] = b4, db[5] = b5, db[6] = b6, db[7] = b7;
}

/* Transpose the visiting rows into tiles of TILE rows (TILE x d, column-major, zero-padded) that
 * never straddle a global row block; tile q starts at visiting row t0[q]. Returns the tile count,
 * or 0 when the tile buffer could not grow. */
static size_t sil_tiles(sil_ws_t *w, const double *m, size_t cnt)
{
    size_t d = w->d, per = d + 2;
    const double *vg = m + d + 1; /* global row of visiting row r: vg[r * per] */
    size_t nt = 0;
    for (size_t r = 0; r < cnt; nt++) {
        int64_t blk = (int64_t)vg[r * per] / w->align;
        size_t e = r + 1;
        while (e < cnt && e < r + TILE && (int64_t)vg[e * per] / w->align == blk) {
            e++;
        }
        if (nt == w->tcap) { /* alignments below TILE make more, shorter tiles */
            size_t cap = 2 * w->tcap + 16;
            double *yt = adk_realloc(w->yt, cap * d * TILE * sizeof(double));
            size_t *t0 = yt ? adk_realloc(w->t0, (cap + 1) * sizeof(size_t)) : NULL;
            if (yt) {
                w->yt = yt;
            }
            if (!t0) {
                return 0;
            }
            w->t0 = t0;
            w->tcap = cap;
        }
        double *y = w->yt + nt * d * TILE;
        for (size_t j = 0; j < d; j++) {
            for (size_t t = 0; t < TILE; t++) {
                y[j * TILE + t] = r + t < e ? m[(r + t) * per + j] : 0.0;
            }
        }
        w->t0[nt] = r;
        for (size_t t = r; t < e; t++) {
            w->vlab[t] = (size_t)m[t * per + d];
        }
        r = e;
    }
    w->t0[nt] = cnt;
    return nt;
}

/* Ring visit: distance sums of every local row to the clusters of the visiting block's rows. */
static int sil_visit(void *ud, const adk_ring_block_t *b)
{
    sil_ws_t *w = ud;
    const adk_rows_t *x = w->x;
    size_t d = w->d, k = w->k, per = d + 2;
    const double *vl = b->data + d, *vg = vl + 1; /* label, global row of row r: [r * per] */
    size_t nt = sil_tiles(w, b->data, b->rows);
    if (nt == 0) {
        return ADK_ERR(w->ctx, ADK_ENOMEM, "silhouette: out of memory for row tiles");
    }
    size_t q0 = 0;
    while (q0 < nt) {
        /* the tiles [q0, q1) of one global row block */
        int64_t blk = (int64_t)vg[w->t0[q0] * per] / w->align;
        size_t q1 = q0 + 1;
        while (q1 < nt && (int64_t)vg[w->t0[q1] * per] / w->align == blk) {
            q1++;
        }
        size_t np = 0;
        for (size_t r = w->t0[q0]; r < w->t0[q1]; r++) {
            size_t c = (size_t)vl[r * per];
            if (!w->present[c]) {
                w->present[c] = 1;
                w->plist[np++] = c;
            }
        }
        for (size_t q = q0; q < q1; q++) {
            const double *y = w->yt + q * d * TILE;
            size_t r0 = w->t0[q], tn = w->t0[q + 1] - r0;
            for (size_t i = 0; i < w->nsel; i += 2) {
                /* two local rows at a time share the tile's loads */
                size_t i2 = i + 1 < w->nsel ? i + 1 : i;
                double da[TILE], db[TILE];
                tile_sq(x->x + w->sel[i] * d, x->x + w->sel[i2] * d, y, d, da, db);
                double *pa = w->part + i * k;
                for (size_t t = 0; t < tn; t++) {
                    pa[w->vlab[r0 + t]] += sqrt(da[t]);
                }
                if (i2 != i) {
                    double *pb = w->part + i2 * k;
                    for (size_t t = 0; t < tn; t++) {
                        pb[w->vlab[r0 + t]] += sqrt(db[t]);
                    }
                }
            }
        }
        /* The block's partial sums enter the exact accumulator: arrival order cannot matter. */
        for (size_t i = 0; i < w->nsel; i++) {
            double *pi = w->part + i * k;
            for (size_t p = 0; p < np; p++) {
                size_t c = w->plist[p];
                if (pi[c] != 0.0) {
                    adk_racc_add(w->acc, i * k + c, pi[c]);
                    pi[c] = 0.0;
                }
            }
        }
        for (size_t p = 0; p < np; p++) {
            w->present[w->plist[p]] = 0;
        }
        q0 = q1;
    }
    return ADK_OK;
}

int adk_metrics_silhouette(adk_ctx_t *ctx, const adk_rows_t *x, const int32_t *labels, size_t k,
                           int64_t sample_size, uint64_t seed, double *score, int64_t *n_used,
                           double *samples)
{
    size_t d = x->d;
    sil_ws_t w;
    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.x = x;
    w.d = d;
    w.k = k;
    w.align = x->align;
    *score = NAN;
    if (n_used) {
        *n_used = 0;
    }
    for (size_t i = 0; samples && i < x->nloc; i++) {
        samples[i] = NAN;
    }
    if (k == 0 || d == 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "silhouette: need at least one cluster and one column");
    }
    if (sample_size < 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "silhouette: sample size %lld is negative",
                       (long long)sample_size);
    }
    int st = ADK_OK;
    w.sel = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(size_t));
    w.cnt = adk_calloc(k + 1, sizeof(int64_t));
    w.present = adk_calloc(k, 1);
    w.plist = adk_calloc(k, sizeof(size_t));
    if (!w.sel || !w.cnt || !w.present || !w.plist) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    if (st == ADK_OK) {
        st = check_labels(ctx, x, labels, k);
    }
    /* The rows taking part, their clusters, and the largest row norm (for the grid). */
    double rmax = 0.0;
    if (st == ADK_OK) {
        for (size_t i = 0; i < x->nloc; i++) {
            if (adk_metrics_in_sample(x->n, sample_size, seed, x->row0 + (int64_t)i)) {
                w.sel[w.nsel++] = i;
                w.cnt[labels[i]]++;
                rmax = fmax(rmax, sqrt(adk_vec_norm2(x->x + i * d, d)));
            }
        }
        w.cnt[k] = (int64_t)w.nsel;
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) { /* integer counts: an exact sum */
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, w.cnt, (int)k + 1, MPI_INT64_T, MPI_SUM);
    }
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, &rmax, 1, MPI_DOUBLE, MPI_MAX);
    }
    int64_t used = st == ADK_OK ? w.cnt[k] : 0, nl = 0;
    if (st == ADK_OK) {
        for (size_t c = 0; c < k; c++) {
            nl += w.cnt[c] > 0;
        }
        st = check_nlabels(ctx, nl, used,
                           sample_size > 0 && sample_size < x->n ? "silhouette sample"
                                                                 : "silhouette");
    }
    if (st == ADK_OK) { /* a row travels as its features, label and global row */
        st = adk_ring_create(ctx, "silhouette", x->row0, w.nsel, d + 2, &w.ring);
    }
    if (st == ADK_OK) {
        w.cap = adk_ring_max_rows(w.ring);
        size_t cap = w.cap ? w.cap : 1, ns = w.nsel ? w.nsel : 1;
        /* tiles: at most one partial tile per global row block beyond cap / TILE full ones */
        size_t tcap = cap / TILE + cap / (size_t)x->align + 2;
        w.tcap = tcap < cap ? tcap : cap;
        w.yt = adk_malloc(w.tcap * d * TILE * sizeof(double));
        w.t0 = adk_malloc((w.tcap + 1) * sizeof(size_t));
        w.vlab = adk_malloc(cap * sizeof(size_t));
        w.part = adk_calloc(ns * k, sizeof(double));
        if (!w.yt || !w.t0 || !w.vlab || !w.part ||
            adk_racc_alloc(w.nsel * k, 0, &w.acc) != ADK_OK ||
            adk_racc_alloc(1, 0, &w.mean) != ADK_OK) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "silhouette: out of memory for %zu rows x %zu clusters",
                         w.nsel, k);
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        /* A block's partial is at most align distances of at most 2 rmax each (1% and one bit
         * spare for rounding); the same grid on every rank and for every rank count. */
        int e = adk_repro_exponent(2.02 * rmax * (double)x->align) + 1;
        for (size_t i = 0; i < w.nsel * k; i++) {
            adk_racc_set_scale(w.acc, i, e);
        }
        sil_pack(x, labels, &w, adk_ring_payload(w.ring));
        st = adk_ring_pass(w.ring, sil_visit, &w); /* agreed */
    }
    if (st == ADK_OK) {
        /* s_i as sklearn: a = own sum / (n_c - 1), b = min other mean, (b - a) / max(a, b),
         * 0 for singletons and for 0/0. Then the mean, over fixed row blocks, exactly. */
        adk_racc_set_scale(w.mean, 0, adk_repro_exponent((double)x->align) + 1);
        double part = 0.0;
        int64_t blk = -1;
        for (size_t i = 0; i < w.nsel; i++) {
            size_t c = (size_t)labels[w.sel[i]];
            double a = w.cnt[c] > 1 ? adk_racc_get(w.acc, i * k + c) / (double)(w.cnt[c] - 1) : 0.0;
            double b = INFINITY;
            for (size_t c2 = 0; c2 < k; c2++) {
                if (c2 != c && w.cnt[c2] > 0) {
                    double v = adk_racc_get(w.acc, i * k + c2) / (double)w.cnt[c2];
                    b = v < b ? v : b;
                }
            }
            double m = a > b ? a : b;
            double s = w.cnt[c] > 1 && m > 0.0 ? (b - a) / m : 0.0;
            if (samples) {
                samples[w.sel[i]] = s;
            }
            int64_t g = x->row0 + (int64_t)w.sel[i];
            if (g / x->align != blk) {
                if (blk >= 0) {
                    adk_racc_add(w.mean, 0, part);
                }
                blk = g / x->align;
                part = 0.0;
            }
            part += s;
        }
        if (blk >= 0) {
            adk_racc_add(w.mean, 0, part);
        }
        st = adk_racc_allreduce(ctx, w.mean);
    }
    if (st == ADK_OK) {
        *score = adk_racc_get(w.mean, 0) / (double)used;
        if (n_used) {
            *n_used = used;
        }
    }
    sil_free(&w);
    return st;
}
