/*
 * adk_kstep: one Lloyd iteration of a k-means fit. The E-step labels every row (all of them, or
 * through adk_kbound's bounds) and forms per-block partial sums that the exact accumulator
 * combines in one allreduce; the M-step averages them and relocates empty clusters to the
 * farthest rows, as scikit-learn does. Internal to adk_kmeans (not installed).
 */
#include "adk_kstep.h"
#include "adk_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_kbound.h"
#include "adk_part.h"

/* ------------------------------------------------------------------------------------------ */
/* Per-block exact accumulation                                                               */

/* Flush the current block's partial sums into the exact accumulator. */
static void flush_block(fit_t *f)
{
    size_t d = f->d;
    for (size_t t = 0; t < f->ntouched; t++) {
        size_t c = (size_t)f->touched[t];
        for (size_t j = 0; j < d; j++) {
            adk_racc_add(f->sacc, c * d + j, f->part[c * d + j]);
            f->part[c * d + j] = 0.0;
        }
        adk_racc_addi(f->sacc, c, f->pcount[c]);
        f->pcount[c] = 0;
    }
    f->ntouched = 0;
    adk_racc_add(f->acc, f->k * d, f->pinert);
    f->pinert = 0.0;
}

/* One chunk of a Lloyd E-step (and M-step accumulation when f->update). */
void adk_kstep_chunk(void *ud, size_t first, size_t count, const double *rows, const int32_t *label,
                     const double *best)
{
    (void)best;
    fit_t *f = ud;
    size_t d = f->d;
    double sq[ADK_DIST_CHUNK];
    adk_dist_sq_assigned(f->ws, rows, label, count, f->cen->c, sq);
    for (size_t i = 0; i < count; i++) {
        int32_t a = label[i];
        size_t li = f->woff + first + i;
        int32_t *lab = f->labels + li;
        f->changed += *lab != a;
        *lab = a;
        const double *xr = rows + i * d;
        if (f->update) {
            adk_kfit_add_row(f->part + (size_t)a * d, xr, d);
            if (f->pcount[a]++ == 0) {
                f->touched[f->ntouched++] = a;
            }
        }
        f->pinert += sq[i];
        if (f->row0 + (int64_t)li + 1 == f->next_flush) {
            flush_block(f);
            f->next_flush = f->next_flush + f->block < f->n ? f->next_flush + f->block : f->n;
        }
    }
}

/*
 * Scales of the exact accumulator: block sums of centred values, block inertia. Those of the sums
 * depend on the data alone (column bounds, block size), so they are the same for the whole fit:
 * what the incremental M-step relies on. Every accumulator gets them (acc, and lacc kept aside).
 */
static void set_scales(fit_t *f, double cmax)
{
    adk_racc_t *a[2] = {f->acc, f->lacc};
    /* ||x - c|| <= max||x|| + max||c||: squared and times the block, one bit to spare */
    double r = f->maxnorm + cmax;
    for (int q = 0; q < 2 && a[q]; q++) {
        for (size_t c = 0; c < f->k; c++) {
            for (size_t j = 0; j < f->d; j++) {
                adk_racc_set_scale(a[q], c * f->d + j,
                                   adk_repro_exponent(f->colmax[j] * (double)f->block) + 1);
            }
        }
        adk_racc_set_scale(a[q], f->k * f->d, adk_repro_exponent(r * r * (double)f->block) + 1);
    }
}

/* Largest centre norm: part of the inertia bound (file centroids may lie outside the data). */
static double centre_max_norm(const fit_t *f)
{
    double m = 0.0;
    for (size_t c = 0; c < f->k; c++) {
        double v = sqrt(f->cen->cn[c]);
        m = v > m ? v : m;
    }
    return m * (1.0 + 1e-12);
}

/* A window of an E-step: its global first row keeps the chunks where they are in memory, its
 * local offset places the labels. */
static int estep_window(void *ud, const adk_rows_t *w, size_t off)
{
    fit_t *f = ud;
    f->woff = off;
    adk_dist_nearest_blocks(f->ws, f->cen, w->x, w->nloc, w->row0, f->mean, adk_kstep_chunk, f);
    return ADK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* The E-step                                                                                 */

/* E-step over all local rows (+ M-step sums when update), then the one allreduce. */
int adk_kstep_estep(fit_t *f, int update)
{
    adk_racc_zero(f->acc);
    set_scales(f, centre_max_norm(f));
    f->update = update;
    f->sacc = f->algo == ADK_KMEANS_LLOYD ? f->acc : f->lacc; /* lloyd: AUTO may have become it */
    f->changed = 0;
    f->ntouched = 0;
    f->pinert = 0.0;
    int64_t end = (f->row0 / f->block + 1) * f->block;
    f->next_flush = end < f->n ? end : f->n;
    int st;
    if (f->algo == ADK_KMEANS_LLOYD) {
        st = adk_rowsrc_pass(f->src, estep_window, f);
        f->ncomp = (int64_t)f->nloc;
        f->ntight = 0;
    } else {
        /* incremental sums need the last pass's ones (no inertia then: only the last pass's is
         * reported, the per-iteration lines show "-") */
        /* ... and only when few rows change: each changed row re-sums its block's partials of
         * two clusters twice (labels before and after), so with more than n/k changes (the
         * last pass's, agreed) one full pass costs less; the sums are the same bits either way */
        f->incr = update && f->svalid && f->incr_ok &&
                  (f->incr_always || f->prev_changed * (int64_t)f->k < f->n);
        if (!f->incr) {
            adk_racc_zero(f->lacc); /* rebuilt from every row (when update) */
        }
        f->nchg = 0;
        adk_kbound_prepare(f);
        st = adk_rowsrc_pass(f->src, adk_kbound_window, f);
        memcpy(f->bc, f->cen->c, f->k * f->d * sizeof(double));
        f->bvalid = st == ADK_OK;
        f->svalid = st == ADK_OK && update;
        if (update) {
            adk_racc_merge(f->acc, f->lacc);
        }
    }
    if (st != ADK_OK) {
        return st;
    }
    if (update) {
        f->n_update++;
        f->n_incr += f->incr;
    }
    adk_racc_addi(f->acc, f->k, f->changed);
    if (update && f->ck && f->ck->stop_wanted) { /* stop requests ride on the same allreduce */
        adk_racc_addi(f->acc, f->k + 1, f->ck->stop_wanted(f->ck->ud, f->run, f->iter) != 0);
    }
    /* statistics only (a BLAS chunk split between ranks is computed on both) */
    adk_racc_addi(f->acc, f->k + 2, f->ncomp);
    adk_racc_addi(f->acc, f->k + 3, f->ntight);
    st = adk_racc_allreduce(f->ctx, f->acc); /* accounted as MPI by adk_ctx */
    if (st == ADK_OK) {
        f->prev_changed = adk_racc_geti(f->acc, f->k);
        f->dist_done += (double)adk_racc_geti(f->acc, f->k + 2) * (double)f->k +
                        (double)adk_racc_geti(f->acc, f->k + 3);
        f->dist_all += (double)f->n * (double)f->k;
    }
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Empty clusters                                                                             */

typedef struct {
    double dist;
    int64_t row;
} far_t;

/* Larger distance first; equal distances: lower global row first. */
static int far_before(const far_t *a, const far_t *b)
{
    return a->dist > b->dist || (a->dist == b->dist && a->row < b->row);
}

/* Each rank's m farthest rows from the old centres of their clusters, kept sorted. */
typedef struct {
    fit_t *f;
    const double *old;
    far_t *mine;
    size_t m, nm;
} far_pass_t;

static int far_window(void *ud, const adk_rows_t *w, size_t off)
{
    far_pass_t *fp = ud;
    fit_t *f = fp->f;
    size_t d = f->d, m = fp->m;
    far_t *mine = fp->mine;
    for (size_t i = 0; i < w->nloc; i++) {
        const double *x = w->x + i * d;
        const double *c = fp->old + (size_t)f->labels[off + i] * d;
        double s = 0.0;
        for (size_t j = 0; j < d; j++) {
            double t = (x[j] - f->mean[j]) - c[j];
            s += t * t;
        }
        far_t cur = {s, w->row0 + (int64_t)i};
        if (fp->nm < m || far_before(&cur, &mine[fp->nm - 1])) {
            size_t p = fp->nm < m ? fp->nm++ : fp->nm - 1;
            while (p > 0 && far_before(&cur, &mine[p - 1])) {
                mine[p] = mine[p - 1];
                p--;
            }
            mine[p] = cur;
        }
    }
    return ADK_OK;
}

/*
 * scikit-learn's _relocate_empty_clusters_dense: the farthest rows (from the old centre of their
 * new cluster) become the empty clusters' sums and leave their own. The m farthest are found as
 * each rank's m farthest, all-gathered (m*P pairs, never the rows), then merged identically.
 */
static int relocate(fit_t *f, const double *old, int64_t *counts)
{
    size_t k = f->k, d = f->d, m = 0;
    int size = adk_ctx_size(f->ctx);
    int32_t *empty = adk_malloc(k * sizeof(int32_t));
    far_t *mine = adk_malloc(k * sizeof(far_t));
    far_t *all = adk_malloc(k * (size_t)size * sizeof(far_t));
    int64_t *rows = adk_malloc(k * sizeof(int64_t));
    double *xr = adk_malloc(k * d * sizeof(double));
    int st = (empty && mine && all && rows && xr) ? ADK_OK : ADK_ERR(f->ctx, ADK_ENOMEM, "oom");
    st = adk_ctx_agree(f->ctx, st);
    for (size_t c = 0; st == ADK_OK && c < k; c++) {
        if (counts[c] == 0) {
            empty[m++] = (int32_t)c;
        }
    }
    far_pass_t fp = {f, old, mine, m, 0};
    if (st == ADK_OK) {
        st = adk_rowsrc_pass(f->src, far_window, &fp);
    }
    size_t nm = fp.nm;
    for (size_t q = nm; q < m; q++) {
        mine[q].dist = -1.0; /* padding: never chosen */
        mine[q].row = INT64_MAX;
    }
    if (st == ADK_OK) {
        MPI_Datatype t;
        MPI_Type_contiguous((int)sizeof(far_t), MPI_BYTE, &t);
        MPI_Type_commit(&t);
        if (ADK_MPI_CALL(f->ctx, (int64_t)m, t,
                         MPI_Allgather(mine, (int)m, t, all, (int)m, t, adk_ctx_comm(f->ctx))) !=
            MPI_SUCCESS) {
            st = ADK_ERR(f->ctx, ADK_EMPI, "MPI_Allgather failed");
        }
        MPI_Type_free(&t);
        st = adk_ctx_agree(f->ctx, st);
    }
    if (st == ADK_OK) {
        /* global top-m by selection over the m*P candidates (identical on every rank) */
        size_t tot = m * (size_t)size;
        for (size_t q = 0; q < m; q++) {
            size_t b = q;
            for (size_t r = q + 1; r < tot; r++) {
                if (far_before(&all[r], &all[b])) {
                    b = r;
                }
            }
            far_t tmp = all[q];
            all[q] = all[b];
            all[b] = tmp;
        }
        /* all rows on their centres (more clusters than distinct points): nothing to do */
        if (all[0].dist > 0.0) {
            for (size_t q = 0; q < m; q++) {
                rows[q] = all[q].row;
            }
            st = adk_kfit_fetch_rows(f, rows, m, xr);
        } else {
            m = 0;
        }
    }
    for (size_t q = 0; st == ADK_OK && q < m; q++) {
        int64_t r = rows[q];
        int owner = adk_part_owner(f->n, size, f->block, r);
        int32_t oldc = 0;
        if (owner == adk_ctx_rank(f->ctx)) {
            oldc = f->labels[r - f->row0];
        }
        st = adk_ctx_bcast(f->ctx, &oldc, 1, MPI_INT32_T, owner);
        if (st != ADK_OK) {
            break;
        }
        size_t nc = (size_t)empty[q];
        for (size_t j = 0; j < d; j++) {
            adk_racc_clear_real(f->acc, nc * d + j);
            adk_racc_add(f->acc, nc * d + j, xr[q * d + j]);
            adk_racc_add(f->acc, (size_t)oldc * d + j, -xr[q * d + j]);
        }
        counts[nc] = 1;
        counts[oldc] -= 1;
    }
    free(empty);
    free(mine);
    free(all);
    free(rows);
    free(xr);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* The M-step                                                                                 */

/* M-step from the reduced sums: averaging, empty clusters, centre shift. */
int adk_kstep_mstep(fit_t *f, double *newc, int64_t *counts, double *shift_tot)
{
    size_t k = f->k, d = f->d;
    int st = ADK_OK;
    int any_empty = 0;
    for (size_t c = 0; c < k; c++) {
        counts[c] = adk_racc_geti(f->acc, c);
        any_empty |= counts[c] == 0;
    }
    if (any_empty) {
        st = relocate(f, f->cen->c, counts);
        if (st != ADK_OK) {
            return st;
        }
    }
    size_t big = 0;
    for (size_t c = 0; c < k; c++) {
        if (counts[c] > counts[big]) {
            big = c;
        }
        if (counts[c] > 0) {
            double alpha = 1.0 / (double)counts[c]; /* scikit-learn multiplies by 1/w */
            for (size_t j = 0; j < d; j++) {
                newc[c * d + j] = adk_racc_get(f->acc, c * d + j) * alpha;
            }
        }
    }
    for (size_t c = 0; c < k; c++) {
        if (counts[c] == 0) { /* still empty: place it on the largest cluster's centre */
            memcpy(newc + c * d, newc + big * d, d * sizeof(double));
        }
    }
    double tot = 0.0;
    for (size_t c = 0; c < k; c++) {
        double s = sqrt(adk_dist_sq(newc + c * d, f->cen->c + c * d, d));
        tot += s * s;
    }
    *shift_tot = tot;
    return ADK_OK;
}
