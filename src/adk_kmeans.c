/*
 * adk_kmeans: distributed Lloyd k-means following scikit-learn 1.2's rules, bitwise identical at
 * any rank count.
 *
 * Invariance comes from three things: (1) rows are held in whole reproducibility blocks (adk_part),
 * (2) every per-row quantity is computed by the same chunked GEMM call at the same chunk position
 * whatever the split (adk_dist), and (3) per-block partial sums are combined exactly (adk_repro)
 * in one integer MPI_Allreduce per iteration, which also carries counts, inertia and the number of
 * changed labels. Every branch (convergence, relocation, best run) is then taken on identical
 * values on every rank.
 *
 * As scikit-learn does, the fit works on mean-centred rows (centred chunk by chunk, never copied)
 * so the ||x||^2 - 2x.c + ||c||^2 form loses less to cancellation.
 *
 * Every pass over the rows goes through an adk_rowsrc: a block in memory, or an HDF5 dataset read
 * window by window (--stream). Windows hold whole distance chunks and the per-block partial sums
 * run on from one window to the next, so a streamed fit performs the in-memory fit's operations.
 *
 * This file holds the public API: parameters, the fit driver (runs, checkpoints, best of n_init),
 * prediction, and the model and state files. The fit's pieces have their own files: adk_kfit (the
 * shared state fit_t and its set-up), adk_kstep (Lloyd's E- and M-step, empty clusters),
 * adk_kbound (Hamerly/Yinyang bounds, incremental M-step) and adk_kinit (k-means++, random).
 */
#include "adk_kmeans.h"
#include "adk_mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_dist.h"
#include "adk_h5.h"
#include "adk_kbound.h"
#include "adk_kfit.h"
#include "adk_kinit.h"
#include "adk_kstep.h"
#include "adk_part.h"
#include "adk_repro.h"
#include "adk_rng.h"
#include "adk_rowsrc.h"

void adk_kmeans_params_default(adk_kmeans_params_t *p)
{
    p->k = 8;
    p->init = "k-means++";
    p->n_init = 0;
    p->max_iter = 300;
    p->tol = 1e-4;
    p->seed = 0;
    p->verbose = 0;
    p->kernel = ADK_KERNEL_AUTO;
    p->algorithm = ADK_KMEANS_AUTO;
    p->ckpt = NULL;
}

int adk_kmeans_algorithm_parse(const char *s)
{
    static const char *const names[] = {"auto", "lloyd", "hamerly", "yinyang"};
    for (int a = 0; a < (int)(sizeof(names) / sizeof(names[0])); a++) {
        if (strcmp(s, names[a]) == 0) {
            return a;
        }
    }
    return -1;
}

const char *adk_kmeans_algorithm_name(adk_kmeans_algo_t a)
{
    return a == ADK_KMEANS_LLOYD     ? "lloyd"
           : a == ADK_KMEANS_HAMERLY ? "hamerly"
           : a == ADK_KMEANS_YINYANG ? "yinyang"
                                     : "auto";
}

/*
 * The rule of README "adkit-kmeans", from experiments/bench-kmeans-fit. With incremental sums a
 * row the bounds settle costs its bounds alone (about 40 bytes of them read and written), against
 * Lloyd's K x D multiply-adds and its D values read: Hamerly pays where the kernel dominates
 * (K D >= 1024, D >= 16: 2,000,000 x 32, K = 64 about twice as fast) and loses where the bounds
 * weigh as much as the row (D = 2, K = 16; D = 8, K = 16). With the BLAS kernel a chunk is
 * recomputed whole for one open row, and with few rows per centre the per-iteration O(K^2 D) of
 * the centres' separations and the bounds' first pass do not pay back: Lloyd there.
 */
adk_kmeans_algo_t adk_kmeans_algorithm_resolve(adk_kmeans_algo_t a, size_t k, size_t d, int64_t n,
                                               int kernel)
{
    if (a != ADK_KMEANS_AUTO) {
        return a;
    }
    int fused = kernel != ADK_KERNEL_BLAS; /* AUTO: not known yet, so maybe */
    return fused && d >= 16 && k * d >= 1024 && n >= (int64_t)k * 1000 ? ADK_KMEANS_HAMERLY
                                                                       : ADK_KMEANS_LLOYD;
}

int adk_kmeans_model_alloc(size_t k, size_t d, adk_kmeans_model_t **out)
{
    *out = NULL;
    adk_kmeans_model_t *m = adk_calloc(1, sizeof(*m));
    if (!m) {
        return ADK_ENOMEM;
    }
    m->k = k;
    m->d = d;
    m->centroids = adk_calloc(k > 0 && d > 0 ? k * d : 1, sizeof(double));
    if (!m->centroids) {
        free(m);
        return ADK_ENOMEM;
    }
    *out = m;
    return ADK_OK;
}

void adk_kmeans_model_free(adk_kmeans_model_t *m)
{
    if (!m) {
        return;
    }
    free(m->centroids);
    free(m->thresholds);
    free(m);
}

/* ------------------------------------------------------------------------------------------ */
/* One run                                                                                    */

typedef struct {
    double inertia;
    int n_iter;
    int converged;
} run_t;

/*
 * The end of a Lloyd iteration after which the run goes on: save every ck->every iterations, and
 * when some rank asked for a stop (then the fit ends with ADK_ESTOPPED). f->snap->prev already
 * holds the centres this iteration assigned with. Collective.
 */
static int boundary(fit_t *f, int run, int iter, int stop)
{
    const adk_kmeans_ckpt_t *ck = f->ck;
    if (!stop && !(ck->every > 0 && f->total_iter % ck->every == 0)) {
        return ADK_OK;
    }
    adk_kmeans_state_t *s = f->snap;
    s->run = run;
    s->iter = iter;
    s->total_iter = f->total_iter;
    s->stop = stop;
    memcpy(s->centres, f->cen->c, f->k * f->d * sizeof(double));
    int st = ck->save ? ck->save(ck->ud, s) : ADK_OK;
    if (st == ADK_OK && stop) {
        st = ADK_ERR(f->ctx, ADK_ESTOPPED, "stopped at run %d, iteration %d", run + 1, iter);
    }
    return adk_ctx_agree(f->ctx, st);
}

/* One run from the centres in f->cen, or from a saved state @p from (its run). */
static int lloyd_run(fit_t *f, const adk_kmeans_params_t *p, int run,
                     const adk_kmeans_state_t *from, run_t *res)
{
    size_t k = f->k, d = f->d;
    double *newc = adk_malloc(k * d * sizeof(double));
    int64_t *counts = adk_malloc(k * sizeof(int64_t));
    int st = adk_ctx_agree(f->ctx,
                           newc && counts ? ADK_OK : ADK_ERR(f->ctx, ADK_ENOMEM, "out of memory"));
    for (size_t i = 0; i < f->nloc; i++) {
        f->labels[i] = -1; /* so the first iteration never counts as unchanged */
    }
    f->bvalid = 0; /* bounds go with the labels: the first pass rebuilds them */
    f->svalid = 0; /* and so do the incremental sums */
    int strict = 0, it = 0, stopped = 0;
    if (st == ADK_OK && from) { /* the labels as they were after from->iter iterations */
        adk_centres_set(f->cen, from->prev);
        st = adk_kstep_estep(f, 0);
        adk_centres_set(f->cen, from->centres);
        it = from->iter;
    }
    for (; st == ADK_OK && it < p->max_iter; it++) {
        double t0 = adk_now(), shift = 0.0;
        f->run = run;
        f->iter = it + 1;
        st = adk_kstep_estep(f, 1);
        if (st == ADK_OK) {
            st = adk_kstep_mstep(f, newc, counts, &shift);
        }
        if (st != ADK_OK) {
            break;
        }
        f->total_iter++;
        int64_t changed = adk_racc_geti(f->acc, k);
        double inertia = adk_racc_get(f->acc, k * d);
        if (p->verbose && f->algo == ADK_KMEANS_LLOYD) {
            adk_ctx_info(f->ctx, "run %d iter %3d  inertia %.10g  shift %.3e  changed %lld  %.3f s",
                         run + 1, it + 1, inertia, f->mean_var > 0 ? shift / f->mean_var : shift,
                         (long long)changed, adk_now() - t0);
        } else if (p->verbose) { /* an incremental pass leaves the inertia out */
            char in[32] = "-";
            if (!f->incr) {
                snprintf(in, sizeof(in), "%.10g", inertia);
            }
            adk_ctx_info(f->ctx,
                         "run %d iter %3d  inertia %s  shift %.3e  changed %lld  skipped %.4f  "
                         "%.3f s",
                         run + 1, it + 1, in, f->mean_var > 0 ? shift / f->mean_var : shift,
                         (long long)changed, adk_kbound_skipped(f), adk_now() - t0);
        }
        if (f->ck) {
            memcpy(f->snap->prev, f->cen->c, k * d * sizeof(double));
        }
        adk_centres_set(f->cen, newc);
        if (changed == 0) {
            strict = 1;
            stopped = 1;
            break;
        }
        if (shift <= f->tol_abs) {
            stopped = 1;
            break;
        }
        if (f->ck && it + 1 < p->max_iter) {
            st = boundary(f, run, it + 1, adk_racc_geti(f->acc, k + 1) > 0);
        }
    }
    if (st == ADK_OK) {
        res->n_iter = it < p->max_iter ? it + 1 : p->max_iter;
        res->converged = stopped;
        (void)strict;
        /* final E-step with the final centres: labels that match them, and the inertia */
        st = adk_kstep_estep(f, 0);
        res->inertia = adk_racc_get(f->acc, k * d);
    }
    free(newc);
    free(counts);
    return st;
}

/* Why a resume state cannot belong to this fit ("" when it can). */
static const char *resume_mismatch(const fit_t *f, const adk_kmeans_state_t *s, int n_init,
                                   int max_iter)
{
    if (s->k != f->k || s->d != f->d) {
        return "other k or width";
    }
    if (s->n_init != n_init || s->run < 0 || s->run >= n_init || s->have_best != (s->run > 0)) {
        return "other number of runs";
    }
    if (s->iter < 1 || s->iter >= max_iter || s->total_iter < s->iter) {
        return "iteration out of range";
    }
    if (s->kernel != (int)adk_dist_ws_kernel(f->ws)) {
        return "another kernel";
    }
    if (memcmp(s->mean, f->mean, f->d * sizeof(double)) != 0) {
        return "other column means";
    }
    return "";
}

/*
 * Checkpoint set-up, after the data statistics: the state a save hands over and, when resuming,
 * the check that the state belongs to this fit, the iteration count, and the best run so far
 * with its labels (recomputed from its centres as that run's final E-step made them). Collective.
 */
static int ckpt_setup(fit_t *f, const adk_kmeans_params_t *p, int n_init, double *best_c,
                      int32_t *best_l, run_t *best, int *have_best)
{
    const adk_kmeans_state_t *from = p->ckpt->resume;
    int st = adk_kmeans_state_alloc(f->k, f->d, &f->snap);
    st = adk_ctx_agree(f->ctx, st == ADK_OK ? st : ADK_ERR(f->ctx, st, "out of memory"));
    if (st != ADK_OK) {
        return st;
    }
    adk_kmeans_state_t *s = f->snap;
    f->ck = p->ckpt;
    s->n_init = n_init;
    s->kernel = (int)adk_dist_ws_kernel(f->ws);
    memcpy(s->mean, f->mean, f->d * sizeof(double));
    if (!from) {
        return ADK_OK;
    }
    const char *why = resume_mismatch(f, from, n_init, p->max_iter);
    if (why[0]) {
        return ADK_ERR(f->ctx, ADK_EDATA, "the state to resume from is not one of this fit (%s)",
                       why); /* the same on every rank */
    }
    f->total_iter = from->total_iter;
    *have_best = s->have_best = from->have_best;
    if (from->have_best) {
        best->inertia = s->best_inertia = from->best_inertia;
        best->n_iter = s->best_n_iter = from->best_n_iter;
        best->converged = s->best_converged = from->best_converged;
        memcpy(best_c, from->best, f->k * f->d * sizeof(double));
        memcpy(s->best, from->best, f->k * f->d * sizeof(double));
        if (best_l) {
            adk_centres_set(f->cen, best_c);
            st = adk_kstep_estep(f, 0);
            memcpy(best_l, f->labels, f->nloc * sizeof(int32_t));
        }
    }
    return st;
}

/*
 * scikit-learn's _is_same_clustering: the map from labels a to labels b is a function. Per cluster
 * of a, the largest b and the largest (k - b) are max-reduced; the map is a function when the
 * smallest and largest b of every cluster coincide.
 */
static int same_clustering(fit_t *f, const int32_t *a, const int32_t *b, int *same)
{
    size_t k = f->k;
    int *hi = adk_calloc(2 * k, sizeof(int)); /* hi[c] = max b + 1, hi[k + c] = max (k - b) */
    /* agreed before the allreduce below: a rank returning alone would leave the others in it */
    int st = adk_ctx_agree(f->ctx, hi ? ADK_OK : ADK_ERR(f->ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        free(hi);
        return st;
    }
    for (size_t i = 0; i < f->nloc; i++) {
        int ca = a[i], cb = b[i];
        hi[ca] = cb + 1 > hi[ca] ? cb + 1 : hi[ca];
        hi[k + ca] = (int)k - cb > hi[k + ca] ? (int)k - cb : hi[k + ca];
    }
    if (ADK_MPI_CALL(f->ctx, (int64_t)(2 * k), MPI_INT,
                     MPI_Allreduce(MPI_IN_PLACE, hi, (int)(2 * k), MPI_INT, MPI_MAX,
                                   adk_ctx_comm(f->ctx))) != MPI_SUCCESS) {
        st = ADK_ERR(f->ctx, ADK_EMPI, "MPI_Allreduce failed");
    }
    *same = 1;
    for (size_t c = 0; c < k; c++) {
        if (hi[c] > 0 && hi[c] - 1 != (int)k - hi[k + c]) {
            *same = 0;
        }
    }
    free(hi);
    return adk_ctx_agree(f->ctx, st);
}

/* The final distances: direct, in the data's own frame. */
typedef struct {
    const fit_t *f;
    const adk_kmeans_model_t *m;
    const int32_t *lab;
    double *dist;
} dist_pass_t;

static int dist_window(void *ud, const adk_rows_t *w, size_t off)
{
    dist_pass_t *dp = ud;
    size_t d = dp->f->d;
    for (size_t i = 0; i < w->nloc; i++) {
        const double *c = dp->m->centroids + (size_t)dp->lab[off + i] * d;
        dp->dist[off + i] = sqrt(adk_dist_sq(w->x + i * d, c, d));
    }
    return ADK_OK;
}

int adk_kmeans_fit(adk_ctx_t *ctx, const adk_kmeans_params_t *p, const adk_rows_t *x,
                   adk_kmeans_model_t **model, int32_t *labels, double *dist)
{
    *model = NULL;
    adk_rowsrc_t *src = NULL;
    int st = adk_ctx_agree(ctx, adk_rowsrc_mem(ctx, x, &src));
    if (st == ADK_OK) {
        st = adk_kmeans_fit_src(ctx, p, src, model, labels, dist);
    }
    adk_rowsrc_free(src);
    return st;
}

int adk_kmeans_fit_src(adk_ctx_t *ctx, const adk_kmeans_params_t *p, adk_rowsrc_t *src,
                       adk_kmeans_model_t **model, int32_t *labels, double *dist)
{
    *model = NULL;
    const adk_rows_t *x = adk_rowsrc_shape(src);
    if (p->k < 1) {
        return ADK_ERR(ctx, ADK_EINVAL, "k must be at least 1 (got %d)", p->k);
    }
    if ((int64_t)p->k > x->n) {
        return ADK_ERR(ctx, ADK_EDATA, "k = %d exceeds the %lld rows of %s", p->k, (long long)x->n,
                       x->spec ? x->spec : "the data");
    }
    if (p->n_init > ADK_KMEANS_MAX_N_INIT) {
        return ADK_ERR(ctx, ADK_EINVAL, "--n-init %d: at most %d runs", p->n_init,
                       ADK_KMEANS_MAX_N_INIT);
    }
    if (p->algorithm < ADK_KMEANS_AUTO || p->algorithm > ADK_KMEANS_YINYANG) {
        return ADK_ERR(ctx, ADK_EINVAL, "unknown k-means algorithm %d", p->algorithm);
    }
    if (p->max_iter < 1 || !(p->tol >= 0.0) || p->n_init < 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "max_iter >= 1, tol >= 0 and n_init >= 0 are required");
    }
    int is_pp = strcmp(p->init, "k-means++") == 0, is_rand = strcmp(p->init, "random") == 0;
    int n_init = p->n_init > 0 ? p->n_init : (is_rand ? 10 : 1);
    if (!is_pp && !is_rand && !strchr(p->init, '.')) {
        return ADK_ERR(ctx, ADK_EINVAL, "--init: '%s' is not k-means++, random or FILE.h5:/dataset",
                       p->init);
    }
    fit_t f;
    memset(&f, 0, sizeof(f));
    f.ctx = ctx;
    f.src = src;
    f.k = (size_t)p->k;
    f.d = x->d;
    f.nloc = x->nloc;
    f.n = x->n;
    f.row0 = x->row0;
    f.block = x->align;
    /* AUTO again once the kernel is agreed (with an unknown kernel: the most it may need) */
    f.algo = (int)adk_kmeans_algorithm_resolve((adk_kmeans_algo_t)p->algorithm, f.k, f.d, f.n,
                                               p->kernel);
    double *init_file = NULL, *centres = NULL, *best_c = NULL;
    int32_t *best_l = NULL;
    adk_kmeans_model_t *m = NULL;
    /* values whose squares overflow are bad data, named here, not a broken sum later */
    int st = adk_kfit_check_values(ctx, src);
    if (st == ADK_OK) {
        st = adk_kfit_alloc(&f);
    }
    const adk_kmeans_state_t *from = p->ckpt ? p->ckpt->resume : NULL;
    if (st == ADK_OK) { /* resuming with "auto": the kernel of the saved fit, for the same bits */
        int kern = from && p->kernel == ADK_KERNEL_AUTO ? from->kernel : p->kernel;
        st = adk_dist_agree_kernel(ctx, f.ws, (adk_kernel_t)kern);
    }
    if (st == ADK_OK) {
        f.algo = (int)adk_kmeans_algorithm_resolve((adk_kmeans_algo_t)p->algorithm, f.k, f.d, f.n,
                                                   (int)adk_dist_ws_kernel(f.ws));
    }
    if (st == ADK_OK && f.algo != ADK_KMEANS_LLOYD &&
        !adk_dist_bounds_supported(adk_dist_ws_kernel(f.ws))) {
        /* a kernel without a bounds variant: its labels come only from its own full pass */
        adk_ctx_warn(ctx, "--algorithm %s has no variant for the %s kernel: lloyd instead",
                     adk_kmeans_algorithm_name((adk_kmeans_algo_t)f.algo),
                     adk_dist_kernel_name(adk_dist_ws_kernel(f.ws)));
        f.algo = ADK_KMEANS_LLOYD;
    }
    f.incr_ok = !adk_rowsrc_streamed(src) || adk_rowsrc_window(src) % (size_t)f.block == 0;
    if (st == ADK_OK && !is_pp && !is_rand) {
        st = adk_kfit_read_init(ctx, p->init, f.k, f.d, &init_file);
    }
    if (st == ADK_OK) {
        st = adk_kfit_stats(&f);
    }
    if (st == ADK_OK) {
        f.tol_abs = p->tol == 0.0 ? 0.0 : f.mean_var * p->tol;
        centres = adk_malloc(f.k * f.d * sizeof(double));
        best_c = adk_malloc(f.k * f.d * sizeof(double));
        best_l = n_init > 1 ? adk_malloc((f.nloc ? f.nloc : 1) * sizeof(int32_t)) : NULL;
        st = adk_kmeans_model_alloc(f.k, f.d, &m);
        if (st != ADK_OK || !centres || !best_c || (n_init > 1 && !best_l)) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
        st = adk_ctx_agree(ctx, st);
    }
    run_t best = {0, 0, 0};
    int have_best = 0;
    if (st == ADK_OK && p->ckpt) {
        st = ckpt_setup(&f, p, n_init, best_c, best_l, &best, &have_best);
    }
    for (int r = from ? from->run : 0; st == ADK_OK && r < n_init; r++) {
        adk_rng_t rng;
        adk_rng_init(&rng, p->seed, ADK_RNG_INIT, (uint64_t)r, 0);
        const adk_kmeans_state_t *go_on = from && r == from->run ? from : NULL;
        if (go_on) {
            /* the run goes on from the saved state (lloyd_run): nothing to draw */
        } else if (is_pp) {
            st = adk_kinit_kmeanspp(&f, &rng, centres);
        } else if (is_rand) {
            st = adk_kinit_random(&f, &rng, centres);
        } else {
            for (size_t i = 0; i < f.k * f.d; i++) {
                centres[i] = init_file[i] - f.mean[i % f.d];
            }
        }
        if (st != ADK_OK) {
            break;
        }
        if (!go_on) {
            adk_centres_set(f.cen, centres);
        }
        run_t res;
        st = lloyd_run(&f, p, r, go_on, &res);
        if (st != ADK_OK) {
            break;
        }
        int better = !have_best;
        if (have_best && res.inertia < best.inertia) {
            int same = 0;
            st = same_clustering(&f, f.labels, best_l, &same);
            better = st == ADK_OK && !same;
        }
        if (better) {
            best = res;
            have_best = 1;
            memcpy(best_c, f.cen->c, f.k * f.d * sizeof(double));
            if (best_l) {
                memcpy(best_l, f.labels, f.nloc * sizeof(int32_t));
            }
            if (f.snap) { /* what the next saves hand over */
                f.snap->have_best = 1;
                f.snap->best_inertia = res.inertia;
                f.snap->best_n_iter = res.n_iter;
                f.snap->best_converged = res.converged;
                memcpy(f.snap->best, best_c, f.k * f.d * sizeof(double));
            }
        }
        if (n_init > 1 && p->verbose) {
            adk_ctx_info(ctx, "run %d: inertia %.10g after %d iterations", r + 1, res.inertia,
                         res.n_iter);
        }
    }
    if (st == ADK_OK) {
        const int32_t *lab = best_l ? best_l : f.labels;
        for (size_t c = 0; c < f.k; c++) {
            for (size_t j = 0; j < f.d; j++) {
                m->centroids[c * f.d + j] = best_c[c * f.d + j] + f.mean[j];
            }
        }
        m->inertia = best.inertia;
        m->n_iter = best.n_iter;
        m->converged = best.converged;
        m->n_init = n_init;
        m->kernel = (int)adk_dist_ws_kernel(f.ws);
        m->algorithm = f.algo;
        m->skipped = f.dist_all > 0 ? 1.0 - f.dist_done / f.dist_all : 0.0;
        m->iters_all = f.n_update;
        m->iters_incr = f.n_incr;
        m->seed = p->seed;
        snprintf(m->init, sizeof(m->init), "%s", p->init);
        for (size_t i = 0; labels && i < f.nloc; i++) {
            labels[i] = lab[i];
        }
        if (dist) { /* the canonical distance: direct, in the data's own frame */
            dist_pass_t dp = {&f, m, lab, dist};
            st = adk_rowsrc_pass(src, dist_window, &dp);
        }
    }
    if (st == ADK_OK) {
        *model = m;
        m = NULL;
    }
    adk_kmeans_model_free(m);
    free(init_file);
    free(centres);
    free(best_c);
    free(best_l);
    adk_kfit_free(&f);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Streamed fits: the window a memory limit leaves                                            */

int adk_kmeans_stream_window(adk_ctx_t *ctx, const adk_kmeans_params_t *p, const adk_rows_t *shape,
                             size_t out_bytes_per_row, uint64_t limit, size_t *rows, uint64_t *need)
{
    const uint64_t q = ADK_ROWSRC_QUANTUM;
    uint64_t d = shape->d > 0 ? shape->d : 1, k = p->k > 0 ? (uint64_t)p->k : 1;
    uint64_t row_bytes = d * sizeof(double);
    /* rank 0 holds the most rows (remainders go to the lowest ranks) */
    uint64_t nmax = (uint64_t)adk_part_rows(shape->n, adk_ctx_size(ctx), 0, shape->align).count;
    /* windows of whole reproducibility blocks where one fits (both are powers of two), so an
     * accelerated fit's incremental sums find a block's rows in one window */
    uint64_t block = (uint64_t)adk_part_align(shape->n, shape->align);
    uint64_t u = block > q ? block : q;
    uint64_t cap = (nmax + u - 1) / u * u;
    cap = cap > 0 ? cap : q;
    int is_pp = strcmp(p->init, "k-means++") == 0, is_rand = strcmp(p->init, "random") == 0;
    int n_init = p->n_init > 0 ? p->n_init : (is_rand ? 10 : 1);
    /* per local row: labels, k-means++'s closest distances, the best run's labels, outputs */
    uint64_t per_row = 4 + (is_pp ? 8 : 0) + (n_init > 1 ? 4 : 0) + out_bytes_per_row;
    /* an accelerated fit's bounds (adk_kfit_alloc): ub, xn, need and lb per group, per local row */
    adk_kmeans_algo_t algo = adk_kmeans_algorithm_resolve(
        (adk_kmeans_algo_t)p->algorithm, (size_t)k, (size_t)d, shape->n, p->kernel);
    uint64_t ng = algo == ADK_KMEANS_YINYANG && k >= 20 ? k / 10 : 1;
    if (algo != ADK_KMEANS_LLOYD) {
        per_row += 17 + 8 * ng;
    }
    /* O(k x d): centres, the new and best ones, a model, checkpoint states (4 sets), block sums,
     * the exact accumulator (3 words a value), the distance chunk and k-means++'s trials; a
     * margin for what the estimate leaves out (small allocations, HDF5's type conversion) */
    uint64_t ntrial = 2 + (uint64_t)log((double)k);
    uint64_t fixed = k * d * 8 * 12 + k * d * 24 + k * 64 + q * (d + k + ntrial + 4) * 8 +
                     ntrial * d * 16 + ((uint64_t)1 << 20);
    if (algo != ADK_KMEANS_LLOYD) {
        /* centres the bounds refer to, drifts, group minimums; the incremental sums: their
         * accumulator (4 words a value), the old partials, the pending changes and a re-sum's rows
         * (a block and a chunk) */
        fixed += k * d * 8 + k * 24 + q * ng * 8 + k * d * 40 + k + (block + q) * 12 + block * 8;
    }
    uint64_t base = fixed + per_row * nmax;
    if (need) {
        *need = base + q * row_bytes;
    }
    if (limit == 0) {
        uint64_t r = ADK_KMEANS_STREAM_WINDOW / row_bytes / q * q;
        r = r >= u ? r / u * u : (r > q ? r : q);
        *rows = (size_t)(r < cap ? r : cap);
        return ADK_OK;
    }
    if (limit < base + q * row_bytes) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "--mem-limit %llu bytes is too small: the fit needs %llu bytes per rank "
                       "(%llu rows of %llu x 8 bytes, %llu bytes per row for %llu rows, about %llu "
                       "bytes of k x d state)",
                       (unsigned long long)limit, (unsigned long long)(base + q * row_bytes),
                       (unsigned long long)q, (unsigned long long)d, (unsigned long long)per_row,
                       (unsigned long long)nmax, (unsigned long long)fixed);
    }
    uint64_t r = (limit - base) / row_bytes / q * q;
    r = r >= u ? r / u * u : r;
    *rows = (size_t)(r < cap ? r : cap);
    return ADK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Prediction and model files                                                                 */

int adk_kmeans_predict(adk_ctx_t *ctx, const adk_kmeans_model_t *m, const adk_rows_t *x,
                       int32_t *labels, double *dist)
{
    if (x->d != m->d) {
        return ADK_ERR(ctx, ADK_EDATA, "%s has %zu columns but the model has %zu",
                       x->spec ? x->spec : "the data", x->d, m->d);
    }
    ADK_CHECK(adk_ctx_agree(ctx, adk_rows_check_range(ctx, x, ADK_ROWS_MAX_ABS)));
    adk_dist_ws_t *ws = NULL;
    adk_centres_t *c = NULL;
    int32_t *lab = labels ? labels : adk_malloc((x->nloc ? x->nloc : 1) * sizeof(int32_t));
    int st = adk_dist_ws_alloc(m->k, m->d, &ws);
    if (st == ADK_OK) {
        st = adk_centres_alloc(m->k, m->d, &c);
    }
    if (st != ADK_OK || !lab) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    st = adk_ctx_agree(ctx, st);
    /* the fit's kernel, so near-tie rows get the labels the fit gave them (the kernels' distances
     * differ in the last bits); another kernel only where a rank's CPU lacks it */
    adk_kernel_t kern = (adk_kernel_t)m->kernel;
    int have[2] = {adk_dist_kernel_available(kern), adk_dist_have_avx2()};
    if (st == ADK_OK && kern != ADK_KERNEL_AUTO && kern != ADK_KERNEL_BLAS) {
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, have, 2, MPI_INT, MPI_MIN);
        if (st == ADK_OK && !have[0] && kern == ADK_KERNEL_AVX512 && have[1]) {
            kern = ADK_KERNEL_AVX2; /* the same bits as the AVX-512 kernel: no warning needed */
        } else if (st == ADK_OK && !have[0]) {
            adk_ctx_warn(ctx,
                         "the model was fitted with the %s kernel, which a rank's CPU lacks: "
                         "rows near a tie may get another cluster than in the fit",
                         adk_dist_kernel_name(kern));
            kern = ADK_KERNEL_AUTO;
        }
    }
    if (st == ADK_OK) {
        st = adk_dist_agree_kernel(ctx, ws, kern);
    }
    if (st == ADK_OK) {
        adk_centres_set(c, m->centroids);
        adk_dist_nearest(ws, c, x->x, x->nloc, x->row0, lab, NULL);
        for (size_t i = 0; dist && i < x->nloc; i++) {
            dist[i] =
                sqrt(adk_dist_sq(x->x + i * m->d, m->centroids + (size_t)lab[i] * m->d, m->d));
        }
    }
    if (lab != labels) {
        free(lab);
    }
    adk_centres_free(c);
    adk_dist_ws_free(ws);
    return st;
}

int adk_kmeans_model_write(adk_out_t *o, const adk_kmeans_model_t *m)
{
    int st = adk_out_small(o, "/centroids", ADK_F64, m->centroids, m->k, m->d);
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/", "inertia", m->inertia);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "n_iter", m->n_iter);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "converged", m->converged);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "init", m->init);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "k", (int64_t)m->k);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "n_init", m->n_init);
    }
    if (st == ADK_OK && m->kernel != ADK_KERNEL_AUTO) {
        st = adk_out_attr_str(o, "/", "kernel", adk_dist_kernel_name((adk_kernel_t)m->kernel));
    }
    if (st == ADK_OK && m->algorithm != ADK_KMEANS_AUTO) {
        st = adk_out_attr_str(o, "/", "algorithm",
                              adk_kmeans_algorithm_name((adk_kmeans_algo_t)m->algorithm));
    }
    if (st == ADK_OK && m->thresholds) {
        st = adk_out_small(o, "/thresholds", ADK_F64, m->thresholds, m->k, 0);
    }
    return st;
}

/* An optional attribute of "/" (absent: the value stays as it was). Collective. */
static int model_attr(adk_h5_t *f, const char *name, double *v)
{
    int found = 0;
    double x = 0;
    int st = adk_h5_attr(f, "/", name, ADK_ATTR_F64, &x, 0, &found);
    if (st == ADK_OK && found) {
        *v = x;
    }
    return st;
}

int adk_kmeans_model_read(adk_ctx_t *ctx, const char *path, adk_kmeans_model_t **out)
{
    *out = NULL;
    double *c = NULL, *t = NULL;
    int64_t rows = 0, cols = 0, trows = 0, tcols = 0;
    int nd = 0, found = 0, ex = 0;
    adk_kmeans_model_t *m = NULL;
    adk_h5_t *f = NULL;
    int st = adk_h5_open(ctx, path, &f); /* one open serves every read below */
    if (st == ADK_OK) {
        st = adk_h5_read_small(f, "/centroids", (size_t)1 << 26, &c, &rows, &cols, &nd);
    }
    if (st == ADK_OK && nd != 2) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: /centroids must be a k x d matrix", path);
    }
    for (int64_t i = 0; st == ADK_OK && i < rows * cols; i++) {
        if (!isfinite(c[i])) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: /centroids row %lld is not finite", path,
                         (long long)(i / cols));
        }
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_kmeans_model_alloc((size_t)rows, (size_t)cols, &m));
    }
    double inertia = 0, n_iter = 0, converged = 0;
    if (st == ADK_OK) {
        memcpy(m->centroids, c, (size_t)(rows * cols) * sizeof(double));
        st = model_attr(f, "inertia", &inertia);
    }
    if (st == ADK_OK) {
        st = model_attr(f, "n_iter", &n_iter);
    }
    if (st == ADK_OK) {
        st = model_attr(f, "converged", &converged);
    }
    if (st == ADK_OK) {
        m->inertia = inertia;
        m->n_iter = (int)n_iter;
        m->converged = (int)converged;
        uint64_t v = 0;
        st = adk_h5_attr(f, "/", "seed", ADK_ATTR_U64, &v, 0, &found);
        m->seed = found ? v : 0;
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", "init", ADK_ATTR_STR, m->init, sizeof(m->init), &found);
    }
    if (st == ADK_OK) {
        char kern[64] = "";
        st = adk_h5_attr(f, "/", "kernel", ADK_ATTR_STR, kern, sizeof(kern), &found);
        int k = found ? adk_dist_kernel_parse(kern) : ADK_KERNEL_AUTO;
        m->kernel = k >= 0 ? k : ADK_KERNEL_AUTO; /* an unknown name: this build's choice */
    }
    if (st == ADK_OK) {
        st = adk_h5_exists(f, "/thresholds", &ex);
    }
    if (st == ADK_OK && ex) {
        st = adk_h5_read_small(f, "/thresholds", (size_t)1 << 26, &t, &trows, &tcols, &nd);
        if (st == ADK_OK && (nd != 1 || trows != rows)) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: /thresholds has %lld values for %lld centroids", path,
                         (long long)trows, (long long)rows);
        }
        if (st == ADK_OK) {
            m->thresholds = t;
            t = NULL;
            /* provenance only: a model without it (or with another type) is still usable */
            if (adk_h5_attr(f, "/thresholds", "method", ADK_ATTR_STR, m->thr_method,
                            sizeof(m->thr_method), &found) != ADK_OK) {
                adk_ctx_clear(ctx);
                m->thr_method[0] = '\0';
            }
        }
    }
    adk_h5_close(f);
    free(c);
    free(t);
    if (st != ADK_OK) {
        adk_kmeans_model_free(m);
        return st;
    }
    *out = m;
    return ADK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Checkpoint states                                                                          */

int adk_kmeans_state_alloc(size_t k, size_t d, adk_kmeans_state_t **out)
{
    *out = NULL;
    adk_kmeans_state_t *s = adk_calloc(1, sizeof(*s));
    if (!s) {
        return ADK_ENOMEM;
    }
    size_t kd = k > 0 && d > 0 ? k * d : 1;
    s->k = k;
    s->d = d;
    s->mean = adk_calloc(d > 0 ? d : 1, sizeof(double));
    s->centres = adk_calloc(kd, sizeof(double));
    s->prev = adk_calloc(kd, sizeof(double));
    s->best = adk_calloc(kd, sizeof(double));
    if (!s->mean || !s->centres || !s->prev || !s->best) {
        adk_kmeans_state_free(s);
        return ADK_ENOMEM;
    }
    *out = s;
    return ADK_OK;
}

void adk_kmeans_state_free(adk_kmeans_state_t *s)
{
    if (!s) {
        return;
    }
    free(s->mean);
    free(s->centres);
    free(s->prev);
    free(s->best);
    free(s);
}

int adk_kmeans_state_write(adk_out_t *o, const adk_kmeans_state_t *s)
{
    int st = adk_out_small(o, "/mean", ADK_F64, s->mean, s->d, 0);
    if (st == ADK_OK) {
        st = adk_out_small(o, "/centres", ADK_F64, s->centres, s->k, s->d);
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/prev", ADK_F64, s->prev, s->k, s->d);
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/best", ADK_F64, s->best, s->k, s->d);
    }
    const struct {
        const char *name;
        int64_t v;
    } iv[] = {{"n_init", s->n_init},
              {"run", s->run},
              {"iter", s->iter},
              {"total_iter", s->total_iter},
              {"have_best", s->have_best},
              {"best_n_iter", s->best_n_iter},
              {"best_converged", s->best_converged}};
    for (size_t i = 0; st == ADK_OK && i < sizeof(iv) / sizeof(iv[0]); i++) {
        st = adk_out_attr_i64(o, "/", iv[i].name, iv[i].v);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/", "best_inertia", s->best_inertia);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "kernel", adk_dist_kernel_name((adk_kernel_t)s->kernel));
    }
    return st;
}

/* Dataset @p name of a state: @p rows x @p cols finite values (cols 0: 1-D) into @p dst. */
static int state_dset(adk_ctx_t *ctx, adk_h5_t *f, const char *name, size_t rows, size_t cols,
                      double *dst)
{
    double *v = NULL;
    int64_t r = 0, c = 0;
    int nd = 0;
    int st = adk_h5_read_small(f, name, (size_t)1 << 26, &v, &r, &c, &nd);
    if (st == ADK_OK &&
        (nd != (cols ? 2 : 1) || (size_t)r != rows || (cols && (size_t)c != cols))) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: %s is %lld x %lld, expected %zu x %zu", adk_h5_name(f),
                     name, (long long)r, (long long)c, rows, cols ? cols : 1);
    }
    for (size_t i = 0; st == ADK_OK && i < rows * (cols ? cols : 1); i++) {
        if (!isfinite(v[i])) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: %s holds a value that is not finite", adk_h5_name(f),
                         name);
        }
    }
    if (st == ADK_OK) {
        memcpy(dst, v, rows * (cols ? cols : 1) * sizeof(double));
    }
    free(v);
    return st; /* every rank read the same values: the verdict is common */
}

int adk_kmeans_state_read(adk_ctx_t *ctx, adk_h5_t *f, adk_kmeans_state_t **out)
{
    *out = NULL;
    adk_kmeans_state_t *s = NULL;
    int64_t k = 0, d = 0;
    int nd = 0, ex = 0, numeric = 0;
    int64_t dims[2] = {0, 0};
    int st = adk_h5_shape(f, "/centres", &ex, &nd, dims, &numeric);
    if (st == ADK_OK && (!ex || nd != 2 || dims[0] < 1 || dims[1] < 1 || !numeric)) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: no k x d dataset /centres (not a k-means checkpoint)",
                     adk_h5_name(f));
    }
    if (st == ADK_OK) {
        k = dims[0];
        d = dims[1];
        st = adk_kmeans_state_alloc((size_t)k, (size_t)d, &s);
        st = adk_ctx_agree(ctx, st == ADK_OK ? st : ADK_ERR(ctx, st, "out of memory"));
    }
    if (st == ADK_OK) {
        st = state_dset(ctx, f, "/mean", (size_t)d, 0, s->mean);
    }
    if (st == ADK_OK) {
        st = state_dset(ctx, f, "/centres", (size_t)k, (size_t)d, s->centres);
    }
    if (st == ADK_OK) {
        st = state_dset(ctx, f, "/prev", (size_t)k, (size_t)d, s->prev);
    }
    if (st == ADK_OK) {
        st = state_dset(ctx, f, "/best", (size_t)k, (size_t)d, s->best);
    }
    const char *names[] = {"n_init",    "run",         "iter",          "total_iter",
                           "have_best", "best_n_iter", "best_converged"};
    double v[7] = {0};
    for (size_t i = 0; st == ADK_OK && i < 7; i++) {
        st = adk_h5_attr(f, "/", names[i], ADK_ATTR_F64, &v[i], 0, NULL);
        if (st == ADK_OK && !(v[i] >= 0 && v[i] <= 9e15 && v[i] == floor(v[i]))) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: attribute %s = %g is not a count", adk_h5_name(f),
                         names[i], v[i]);
        }
        if (st == ADK_OK && i != 3 && v[i] > INT32_MAX) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: attribute %s = %g is too large", adk_h5_name(f),
                         names[i], v[i]);
        }
    }
    if (st == ADK_OK) {
        s->n_init = (int)v[0];
        s->run = (int)v[1];
        s->iter = (int)v[2];
        s->total_iter = (int64_t)v[3];
        s->have_best = (int)v[4];
        s->best_n_iter = (int)v[5];
        s->best_converged = (int)v[6];
        st = adk_h5_attr(f, "/", "best_inertia", ADK_ATTR_F64, &s->best_inertia, 0, NULL);
    }
    char kern[64] = "";
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", "kernel", ADK_ATTR_STR, kern, sizeof(kern), NULL);
    }
    if (st == ADK_OK) {
        s->kernel = adk_dist_kernel_parse(kern);
        if (s->kernel <= ADK_KERNEL_AUTO) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: unknown kernel '%s'", adk_h5_name(f), kern);
        }
    }
    if (st != ADK_OK) {
        adk_kmeans_state_free(s);
        return st;
    }
    *out = s;
    return ADK_OK;
}
