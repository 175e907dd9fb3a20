/*
 * adk_kfit: a k-means fit's shared state (fit_t, adk_kfit.h) and its set-up: allocation, the
 * checks of the values and of an init file, the data statistics every pass relies on (column
 * means, bounds, the mean variance), and the rows fetched by global index for initialisation
 * and relocation. Internal to adk_kmeans (not installed).
 */
#include "adk_kfit.h"
#include "adk_mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_io.h"
#include "adk_kbound.h"

/* ------------------------------------------------------------------------------------------ */
/* Set-up                                                                                     */

/* The passes of adk_kfit_stats: each walks every row once, window by window. */
enum { ST_ABSMAX, ST_SUM, ST_MAX, ST_SQ };

typedef struct {
    fit_t *f;
    int what;
    double *v;     /* d: column bounds (ST_ABSMAX) */
    double *part;  /* d: the current block's partial sums */
    double mxnorm; /* ST_MAX: largest squared centred row norm */
    adk_racc_t *a; /* ST_SUM, ST_SQ: exact sums of the block partials */
} stats_pass_t;

/*
 * Block partials are carried from one window to the next and flushed at the end of every global
 * reproducibility block: the sums of adk_repro_colsums, in the same order, for any window.
 */
static int stats_window(void *ud, const adk_rows_t *w, size_t off)
{
    (void)off;
    stats_pass_t *sp = ud;
    fit_t *f = sp->f;
    size_t d = f->d;
    for (size_t i = 0; i < w->nloc; i++) {
        const double *x = w->x + i * d;
        if (sp->what == ST_ABSMAX) {
            for (size_t j = 0; j < d; j++) {
                double v = fabs(x[j]);
                sp->v[j] = v > sp->v[j] ? v : sp->v[j];
            }
            continue;
        }
        if (sp->what == ST_MAX) {
            double nr = 0.0;
            for (size_t j = 0; j < d; j++) {
                double t = x[j] - f->mean[j];
                f->colmax[j] = fabs(t) > f->colmax[j] ? fabs(t) : f->colmax[j];
                nr += t * t;
            }
            sp->mxnorm = nr > sp->mxnorm ? nr : sp->mxnorm;
            continue;
        }
        for (size_t j = 0; j < d; j++) {
            if (sp->what == ST_SUM) {
                sp->part[j] += x[j];
            } else {
                double t = x[j] - f->mean[j];
                sp->part[j] += t * t;
            }
        }
        int64_t g = w->row0 + (int64_t)i;
        if ((g + 1) % f->block == 0 || g + 1 == f->n) {
            for (size_t j = 0; j < d; j++) {
                adk_racc_add(sp->a, j, sp->part[j]);
                sp->part[j] = 0.0;
            }
        }
    }
    return ADK_OK;
}

/* Column means, column max |x - mean|, max row norm and the mean feature variance. */
int adk_kfit_stats(fit_t *f)
{
    size_t d = f->d;
    stats_pass_t sp = {f, ST_ABSMAX, NULL, NULL, 0.0, NULL};
    sp.v = adk_calloc(d, sizeof(double));
    sp.part = adk_calloc(d, sizeof(double));
    int st = sp.v && sp.part ? adk_racc_alloc(d, 0, &sp.a) : ADK_ENOMEM;
    st = adk_ctx_agree(f->ctx, st == ADK_OK ? st : ADK_ERR(f->ctx, st, "out of memory"));
    /* the column sums, as adk_repro_colsums: bounds first, they set the fixed-point scales */
    if (st == ADK_OK) {
        st = adk_rowsrc_pass(f->src, stats_window, &sp);
    }
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(f->ctx, MPI_IN_PLACE, sp.v, (int)d, MPI_DOUBLE, MPI_MAX);
    }
    if (st == ADK_OK) {
        for (size_t j = 0; j < d; j++) {
            /* A block partial is below block*max; one spare bit absorbs rounding. */
            adk_racc_set_scale(sp.a, j, adk_repro_exponent(sp.v[j] * (double)f->block) + 1);
        }
        sp.what = ST_SUM;
        st = adk_rowsrc_pass(f->src, stats_window, &sp);
    }
    if (st == ADK_OK) {
        st = adk_racc_allreduce(f->ctx, sp.a);
    }
    if (st == ADK_OK) {
        for (size_t j = 0; j < d; j++) {
            f->mean[j] = adk_racc_get(sp.a, j) / (double)f->n;
            f->colmax[j] = 0.0;
        }
        sp.what = ST_MAX;
        st = adk_rowsrc_pass(f->src, stats_window, &sp);
    }
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(f->ctx, MPI_IN_PLACE, f->colmax, (int)d, MPI_DOUBLE, MPI_MAX);
    }
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(f->ctx, MPI_IN_PLACE, &sp.mxnorm, 1, MPI_DOUBLE, MPI_MAX);
    }
    /* centred squares in place of the data would need a copy: sum them block by block */
    if (st == ADK_OK) {
        f->maxnorm = sqrt(sp.mxnorm) * (1.0 + 1e-12);
        adk_racc_zero(sp.a);
        for (size_t j = 0; j < d; j++) {
            double b = f->colmax[j] * f->colmax[j] * (double)f->block;
            adk_racc_set_scale(sp.a, j, adk_repro_exponent(b) + 1);
        }
        sp.what = ST_SQ;
        st = adk_rowsrc_pass(f->src, stats_window, &sp);
    }
    if (st == ADK_OK) {
        st = adk_racc_allreduce(f->ctx, sp.a);
    }
    if (st == ADK_OK) {
        double mv = 0.0;
        for (size_t j = 0; j < d; j++) {
            mv += adk_racc_get(sp.a, j) / (double)f->n; /* np.var: population variance */
        }
        f->mean_var = mv / (double)d;
    }
    adk_racc_free(sp.a);
    free(sp.v);
    free(sp.part);
    return st;
}

void adk_kfit_free(fit_t *f)
{
    free(f->mean);
    free(f->colmax);
    adk_dist_ws_free(f->ws);
    adk_centres_free(f->cen);
    adk_racc_free(f->acc);
    adk_racc_free(f->lacc);
    free(f->chg_row);
    free(f->chg_old);
    free(f->opart);
    free(f->xrow);
    free(f->rs_row);
    free(f->rs_before);
    free(f->mark);
    adk_kmeans_state_free(f->snap);
    free(f->part);
    free(f->pcount);
    free(f->touched);
    free(f->labels);
    free(f->ub);
    free(f->lb);
    free(f->xn);
    free(f->need);
    free(f->bc);
    free(f->drift);
    free(f->sep);
    free(f->gmin);
    free(f->group);
    free(f->gdrift);
}

int adk_kfit_alloc(fit_t *f)
{
    size_t k = f->k, d = f->d;
    f->mean = adk_calloc(d, sizeof(double));
    f->colmax = adk_calloc(d, sizeof(double));
    f->part = adk_calloc(k * d, sizeof(double));
    f->pcount = adk_calloc(k, sizeof(int64_t));
    f->touched = adk_calloc(k, sizeof(int32_t));
    f->labels = adk_calloc(f->nloc ? f->nloc : 1, sizeof(int32_t));
    int st = (f->mean && f->colmax && f->part && f->pcount && f->touched && f->labels) ? ADK_OK
                                                                                       : ADK_ENOMEM;
    if (st == ADK_OK && f->algo != ADK_KMEANS_LLOYD) { /* O(rows per rank x groups) bounds */
        size_t nl = f->nloc ? f->nloc : 1;
        f->ngroups = f->algo == ADK_KMEANS_YINYANG && k >= 20 ? k / 10 : 1;
        if (f->ngroups > 1) {
            f->group = adk_malloc(k * sizeof(int32_t));
            f->gdrift = adk_malloc(f->ngroups * sizeof(double));
            st = f->group && f->gdrift ? ADK_OK : ADK_ENOMEM;
        }
        f->ub = adk_malloc(nl * sizeof(double));
        f->lb = adk_malloc(nl * f->ngroups * sizeof(double));
        f->xn = adk_malloc(nl * sizeof(double));
        f->need = adk_malloc(nl);
        f->bc = adk_malloc(k * d * sizeof(double));
        f->drift = adk_malloc(k * sizeof(double));
        f->sep = adk_malloc(k * sizeof(double));
        f->gmin = adk_malloc(ADK_DIST_CHUNK * f->ngroups * sizeof(double));
        f->bslack = adk_kbound_slack(d);
        f->incr_always = getenv("ADK_KMEANS_INCR_ALWAYS") != NULL;
        /* the incremental M-step: pending changes of at most one block and one chunk */
        size_t nchg = (size_t)f->block + ADK_DIST_CHUNK;
        f->chg_row = adk_malloc(nchg * sizeof(size_t));
        f->chg_old = adk_malloc(nchg * sizeof(int32_t));
        f->opart = adk_calloc(k * d, sizeof(double));
        f->xrow = adk_malloc(d * sizeof(double));
        f->rs_row = adk_malloc((size_t)f->block * sizeof(int32_t));
        f->rs_before = adk_malloc((size_t)f->block * sizeof(int32_t));
        f->mark = adk_calloc(k, 1);
        if (!f->ub || !f->lb || !f->xn || !f->need || !f->bc || !f->drift || !f->sep || !f->gmin ||
            !f->chg_row || !f->chg_old || !f->opart || !f->xrow || !f->mark || !f->rs_row ||
            !f->rs_before) {
            st = ADK_ENOMEM;
        }
        if (st == ADK_OK) {
            st = adk_racc_alloc(k * d + 1, k + 4, &f->lacc);
        }
    }
    if (st == ADK_OK) {
        st = adk_dist_ws_alloc(k, d, &f->ws);
    }
    if (st == ADK_OK) {
        st = adk_centres_alloc(k, d, &f->cen);
    }
    if (st == ADK_OK) {
        /* counts, changed, stop requests, rows computed and bounds tightened (statistics) */
        st = adk_racc_alloc(k * d + 1, k + 4, &f->acc);
    }
    if (st != ADK_OK) {
        st = ADK_ERR(f->ctx, st, "out of memory for k = %zu, d = %zu", k, d);
    }
    return adk_ctx_agree(f->ctx, st);
}

/* "FILE.h5" alone means FILE.h5:/centroids for an init file. */
int adk_kfit_read_init(adk_ctx_t *ctx, const char *spec, size_t k, size_t d, double **out)
{
    char buf[4096];
    if (!strstr(spec, ":/")) {
        snprintf(buf, sizeof(buf), "%s:/centroids", spec);
        spec = buf;
    }
    int64_t rows = 0, cols = 0;
    int nd = 0;
    int st = adk_io_read_small(ctx, spec, (size_t)1 << 26, out, &rows, &cols, &nd);
    if (st != ADK_OK) {
        return st;
    }
    if (nd != 2 || (size_t)rows != k || (size_t)cols != d) {
        st = ADK_ERR(ctx, ADK_EDATA, "init %s: %lld x %lld centroids, expected k x d = %zu x %zu",
                     spec, (long long)rows, (long long)cols, k, d);
    }
    for (size_t i = 0; st == ADK_OK && i < k * d; i++) {
        if (!isfinite((*out)[i])) {
            st = ADK_ERR(ctx, ADK_EDATA, "init %s row %zu: Inf", spec, i / d);
        }
    }
    if (st != ADK_OK) {
        free(*out);
        *out = NULL;
    }
    return st; /* same metadata on every rank: already agreed */
}

/* The value checks: NaN/Inf first (as a read in memory makes them), then the range. */
typedef struct {
    adk_ctx_t *ctx;
    int range_bad; /* a value out of range seen (its message is stored) */
} check_pass_t;

static int check_window(void *ud, const adk_rows_t *w, size_t off)
{
    (void)off;
    check_pass_t *cp = ud;
    int st = adk_rows_check_finite(cp->ctx, w);
    if (st != ADK_OK && cp->range_bad) {
        adk_ctx_clear(cp->ctx); /* a NaN anywhere on the rank is reported before a range error */
        st = adk_rows_check_finite(cp->ctx, w);
    }
    if (st == ADK_OK && !cp->range_bad) {
        cp->range_bad = adk_rows_check_range(cp->ctx, w, ADK_ROWS_MAX_ABS) != ADK_OK;
    }
    return st;
}

int adk_kfit_check_values(adk_ctx_t *ctx, adk_rowsrc_t *src)
{
    check_pass_t cp = {ctx, 0};
    int st = adk_rowsrc_pass(src, check_window, &cp); /* agreed on the NaN/Inf verdict first */
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, cp.range_bad ? ADK_EDATA : ADK_OK);
    }
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Fetching rows                                                                              */

/* Centred rows of the given global indices, on every rank. */
int adk_kfit_fetch_rows(fit_t *f, const int64_t *g, size_t m, double *out)
{
    int st = adk_rowsrc_fetch(f->src, g, m, out);
    for (size_t i = 0; st == ADK_OK && i < m * f->d; i++) {
        out[i] -= f->mean[i % f->d]; /* what the owner computed before, the same bits */
    }
    return st;
}
