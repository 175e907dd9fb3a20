/*
 * adk_gauss: the Gaussian model (see adk_gauss.h): fit through adk_moments, regularisation, log
 * densities through a GSL Cholesky factor, and the model file.
 */
#include "adk_gauss.h"
#include "adk_mem.h"

#include "adk_h5.h"
#include "adk_moments.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>

#define LOG_2PI 1.8378770664093454836 /* log(2 pi) */

/* Largest model the loader reads into every rank's memory (a 4096 x 4096 covariance). */
#define ADK_GAUSS_MAX_ELEMS ((size_t)1 << 24)

/* Feature indices listed in a message before "..." (messages are one line). */
#define LIST_MAX 24

/* "0, 32, 39" (or the first LIST_MAX and "... (N in all)") into buf. */
static void list_features(char *buf, size_t len, const size_t *idx, size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < LIST_MAX && off < len; i++) {
        off += (size_t)snprintf(buf + off, len - off, "%s%zu", i ? ", " : "", idx[i]);
    }
    if (n > LIST_MAX && off < len) {
        snprintf(buf + off, len - off, ", ... (%zu in all)", n);
    }
}

void adk_gauss_free(adk_gauss_t *g)
{
    if (!g) {
        return;
    }
    free(g->mu);
    free(g->var);
    free(g->cov);
    free(g->chol);
    free(g);
}

static adk_gauss_t *gauss_new(adk_gauss_kind_t kind, size_t d)
{
    adk_gauss_t *g = adk_calloc(1, sizeof(*g));
    if (!g) {
        return NULL;
    }
    g->kind = kind;
    g->d = d;
    size_t dd = d ? d : 1;
    g->mu = adk_calloc(dd, sizeof(double));
    g->var = adk_calloc(dd, sizeof(double));
    if (kind == ADK_GAUSS_FULL) {
        g->cov = adk_calloc(dd * dd, sizeof(double));
        g->chol = adk_calloc(dd * dd, sizeof(double));
    }
    if (!g->mu || !g->var || (kind == ADK_GAUSS_FULL && (!g->cov || !g->chol))) {
        adk_gauss_free(g);
        return NULL;
    }
    return g;
}

/*
 * Cholesky factor of the leading k x k block of cov into L (k x k, row-major, upper part zero).
 * Returns 1 when the block is positive definite and every pivot passes the ADK_GAUSS_PIVOT_TOL
 * test, 0 when not, -1 when out of memory. The leading block of a Cholesky factor is the factor of
 * the leading block, so this is monotone in k: the first k that fails names the dependent feature.
 */
static int chol_leading(const double *cov, size_t d, size_t k, double *L)
{
    if (k == 0) {
        return 1;
    }
    gsl_matrix *m = gsl_matrix_alloc(k, k);
    if (!m) {
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < k; j++) {
            gsl_matrix_set(m, i, j, j <= i ? cov[i * d + j] : cov[j * d + i]);
        }
    }
    /* GSL reports a matrix that is not positive definite through its error handler, which
     * aborts by default: the library turns it off here and restores the caller's. */
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int rc = gsl_linalg_cholesky_decomp1(m);
    gsl_set_error_handler(old);
    int ok = rc == GSL_SUCCESS;
    for (size_t i = 0; ok && i < k; i++) {
        double lii = gsl_matrix_get(m, i, i);
        ok = isfinite(lii) && lii > 0.0 && lii * lii > ADK_GAUSS_PIVOT_TOL * cov[i * d + i];
    }
    if (ok && L) {
        for (size_t i = 0; i < k; i++) {
            for (size_t j = 0; j < k; j++) {
                L[i * k + j] = j <= i ? gsl_matrix_get(m, i, j) : 0.0;
            }
        }
    }
    gsl_matrix_free(m);
    return ok;
}

/* Derive the density constants (and the Cholesky factor). The hints end the messages of a zero
 * variance and of a singular covariance (what the user can do about it). */
static int prepare(adk_ctx_t *ctx, adk_gauss_t *g, const char *what, const char *hint_zero,
                   const char *hint_sing)
{
    const size_t d = g->d;
    size_t *bad = adk_malloc((d ? d : 1) * sizeof(size_t));
    if (!bad) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    size_t nbad = 0;
    for (size_t j = 0; j < d; j++) {
        if (!(g->var[j] > 0.0) || !isfinite(g->var[j])) {
            bad[nbad++] = j;
        }
    }
    int st = ADK_OK;
    if (nbad > 0) {
        char list[512];
        list_features(list, sizeof(list), bad, nbad);
        st = ADK_ERR(ctx, ADK_EDATA,
                     "%s: zero variance in %zu of %zu features (constant columns): %s%s", what,
                     nbad, d, list, hint_zero);
    }
    free(bad);
    if (st != ADK_OK) {
        return st;
    }
    double logdet = 0.0;
    if (g->kind == ADK_GAUSS_DIAG) {
        for (size_t j = 0; j < d; j++) {
            logdet += log(g->var[j]);
        }
    } else {
        int ok = chol_leading(g->cov, d, d, g->chol);
        if (ok < 0) {
            return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
        if (!ok) {
            size_t lo = 0, hi = d; /* leading lo x lo is fine, hi x hi is not */
            while (hi - lo > 1) {
                size_t mid = lo + (hi - lo) / 2;
                int okm = chol_leading(g->cov, d, mid, NULL);
                if (okm < 0) {
                    return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
                }
                if (okm) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            if (hi == 1) {
                return ADK_ERR(ctx, ADK_EDATA,
                               "%s: singular covariance matrix: feature 0 has no usable variance%s",
                               what, hint_sing);
            }
            char before[64];
            snprintf(before, sizeof(before), hi == 2 ? "feature 0" : "features 0-%zu", hi - 2);
            return ADK_ERR(ctx, ADK_EDATA,
                           "%s: singular covariance matrix: feature %zu is (to within %.0e of its "
                           "variance) a linear combination of %s%s",
                           what, hi - 1, ADK_GAUSS_PIVOT_TOL, before, hint_sing);
        }
        for (size_t j = 0; j < d; j++) {
            logdet += 2.0 * log(g->chol[j * d + j]);
        }
    }
    g->lognorm = -0.5 * ((double)d * LOG_2PI + logdet);
    return ADK_OK;
}

int adk_gauss_from_moments(adk_ctx_t *ctx, const char *what, adk_gauss_kind_t kind, size_t d,
                           const double *mu, const double *s, adk_gauss_t **out)
{
    *out = NULL;
    adk_gauss_t *g = gauss_new(kind, d);
    if (!g) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    memcpy(g->mu, mu, d * sizeof(double));
    if (kind == ADK_GAUSS_FULL) {
        memcpy(g->cov, s, d * d * sizeof(double));
        for (size_t j = 0; j < d; j++) {
            g->var[j] = s[j * d + j];
        }
    } else {
        memcpy(g->var, s, d * sizeof(double));
    }
    int st = prepare(ctx, g, what, "", "");
    if (st != ADK_OK) {
        adk_gauss_free(g);
        return st;
    }
    *out = g;
    return ADK_OK;
}

int adk_gauss_fit(adk_ctx_t *ctx, const adk_rows_t *x, const adk_gauss_params_t *p,
                  adk_gauss_t **out)
{
    *out = NULL;
    const size_t d = x->d;
    const int full = p->kind == ADK_GAUSS_FULL;
    const char *what = x->spec ? x->spec : "training data";
    int st = ADK_OK;
    adk_gauss_t *g = NULL;
    if (!(p->min_var >= 0.0) || !(p->ridge >= 0.0)) {
        st = ADK_ERR(ctx, ADK_EINVAL, "--min-var and --ridge must not be negative");
    } else if (x->n < 1 || d < 1) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: no training rows", what);
    } else if (!(g = gauss_new(p->kind, d))) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for the moments of %zu features", d);
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = adk_moments_compute(ctx, x, full ? ADK_MOMENTS_COV : ADK_MOMENTS_VAR, g->mu,
                                 full ? g->cov : g->var);
    }
    if (st == ADK_OK) {
        /* Regularise: floor at min_var, then add the ridge (Sigma + ridge I). */
        for (size_t j = 0; j < d; j++) {
            double *v = full ? &g->cov[j * d + j] : &g->var[j];
            if (p->min_var > 0.0 && *v < p->min_var) {
                *v = p->min_var;
                g->nfloored++;
            }
            if (p->ridge > 0.0) {
                *v += p->ridge;
            }
            g->var[j] = *v;
        }
        g->m = x->n;
        g->min_var = p->min_var;
        g->ridge = p->ridge;
        const char *hint = full ? "; use --ridge R (Sigma + R I) or --min-var V"
                                : "; use --min-var V to floor the variances";
        st = prepare(ctx, g, what, hint, "; use --ridge R (Sigma + R I)");
        st = adk_ctx_agree(ctx, st); /* deterministic on identical moments; agreed for safety */
    }
    if (st != ADK_OK) {
        adk_gauss_free(g);
        return st;
    }
    *out = g;
    return ADK_OK;
}

int adk_gauss_logpdf(adk_ctx_t *ctx, const adk_gauss_t *g, const double *x, size_t n, double *logp)
{
    const size_t d = g->d;
    if (g->kind == ADK_GAUSS_DIAG) {
        for (size_t r = 0; r < n; r++) {
            const double *xr = x + r * d;
            double q = 0.0;
            for (size_t j = 0; j < d; j++) {
                double t = xr[j] - g->mu[j];
                q += t * t / g->var[j];
            }
            logp[r] = g->lognorm - 0.5 * q;
        }
        return ADK_OK;
    }
    double *z = adk_malloc((d ? d : 1) * sizeof(double));
    if (!z) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    for (size_t r = 0; r < n; r++) {
        const double *xr = x + r * d;
        double q = 0.0;
        /* z = L^-1 (x - mu) by forward substitution: |z|^2 = (x-mu)' Sigma^-1 (x-mu) */
        for (size_t j = 0; j < d; j++) {
            const double *lj = g->chol + j * d;
            double s = xr[j] - g->mu[j];
            for (size_t k = 0; k < j; k++) {
                s -= lj[k] * z[k];
            }
            z[j] = s / lj[j];
            q += z[j] * z[j];
        }
        logp[r] = g->lognorm - 0.5 * q;
    }
    free(z);
    return ADK_OK;
}

int adk_gauss_save(adk_out_t *o, const adk_gauss_t *g)
{
    int full = g->kind == ADK_GAUSS_FULL;
    int st = adk_out_small(o, "/mu", ADK_F64, g->mu, g->d, 0);
    if (st == ADK_OK) {
        st = full ? adk_out_small(o, "/cov", ADK_F64, g->cov, g->d, g->d)
                  : adk_out_small(o, "/var", ADK_F64, g->var, g->d, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "model", "gauss");
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "kind", full ? "full" : "diag");
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "m", g->m);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "d", (int64_t)g->d);
    }
    if (st == ADK_OK && g->min_var > 0.0) {
        st = adk_out_attr_f64(o, "/", "min_var", g->min_var);
        if (st == ADK_OK) {
            st = adk_out_attr_i64(o, "/", "n_floored", g->nfloored);
        }
    }
    if (st == ADK_OK && g->ridge > 0.0) {
        st = adk_out_attr_f64(o, "/", "ridge", g->ridge);
    }
    return st;
}

int adk_gauss_load(adk_ctx_t *ctx, const char *file, adk_gauss_t **out)
{
    *out = NULL;
    int has_cov = 0, has_eps = 0;
    double *mu = NULL, *s = NULL, *e = NULL;
    int64_t r1 = 0, c1 = 0, r2 = 0, c2 = 0;
    int nd = 0;
    adk_h5_t *f = NULL;
    int st = adk_h5_open(ctx, file, &f); /* one open serves every read below */
    if (st == ADK_OK) {
        st = adk_h5_exists(f, "/cov", &has_cov);
    }
    if (st == ADK_OK) {
        st = adk_h5_read_small(f, "/mu", ADK_GAUSS_MAX_ELEMS, &mu, &r1, &c1, &nd);
    }
    if (st == ADK_OK) {
        st =
            adk_h5_read_small(f, has_cov ? "/cov" : "/var", ADK_GAUSS_MAX_ELEMS, &s, &r2, &c2, &nd);
    }
    size_t d = (size_t)(r1 * c1);
    if (st == ADK_OK) { /* identical metadata on every rank: the verdict is common */
        if (r1 != 1 && c1 != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s:/mu is %lld x %lld, expected a vector", file,
                         (long long)r1, (long long)c1);
        } else if (has_cov && ((size_t)r2 != d || (size_t)c2 != d)) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s:/cov is %lld x %lld, expected %zu x %zu", file,
                         (long long)r2, (long long)c2, d, d);
        } else if (!has_cov && (size_t)(r2 * c2) != d) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s:/var has %lld values for %zu means", file,
                         (long long)(r2 * c2), d);
        }
    }
    adk_gauss_t *g = NULL;
    if (st == ADK_OK) {
        st = adk_gauss_from_moments(ctx, file, has_cov ? ADK_GAUSS_FULL : ADK_GAUSS_DIAG, d, mu, s,
                                    &g);
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = adk_h5_exists(f, "/epsilon", &has_eps);
    }
    if (st == ADK_OK && has_eps) {
        int64_t r3 = 0, c3 = 0;
        st = adk_h5_read_small(f, "/epsilon", 1, &e, &r3, &c3, &nd);
        double lg = 0.0;
        if (st == ADK_OK) {
            st = adk_h5_attr(f, "/epsilon", "log", ADK_ATTR_F64, &lg, 0, NULL);
        }
        if (st == ADK_OK) {
            g->has_eps = 1;
            g->eps = e[0];
            g->eps_log = lg != 0.0;
        }
    }
    adk_h5_close(f);
    free(mu);
    free(s);
    free(e);
    if (st != ADK_OK) {
        adk_gauss_free(g);
        return st;
    }
    *out = g;
    return ADK_OK;
}
