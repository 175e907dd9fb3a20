/*
 * adk_gauss: Gaussian anomaly detection (see adk_gauss.h): reproducible moments, log densities
 * through a GSL Cholesky factor, the reference F1 threshold sweep as one allreduce of integer
 * counts, and the fit / select / score pipelines of adkit-gauss.
 */
#include "adk_gauss.h"

#include "adk_json.h"
#include "adk_repro.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    adk_gauss_t *g = calloc(1, sizeof(*g));
    if (!g) {
        return NULL;
    }
    g->kind = kind;
    g->d = d;
    size_t dd = d ? d : 1;
    g->mu = calloc(dd, sizeof(double));
    g->var = calloc(dd, sizeof(double));
    if (kind == ADK_GAUSS_FULL) {
        g->cov = calloc(dd * dd, sizeof(double));
        g->chol = calloc(dd * dd, sizeof(double));
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
    size_t *bad = malloc((d ? d : 1) * sizeof(size_t));
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

/* MAX over ranks of n doubles in place; agreed status. */
static int allreduce_max(adk_ctx_t *ctx, double *v, int n)
{
    if (MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_MAX, adk_ctx_comm(ctx)) != MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce failed"));
    }
    return ADK_OK;
}

/* Rows [r, end) of the aligned block that holds local row r. */
static size_t block_end(size_t r, size_t n, int64_t row0, int64_t block)
{
    int64_t g = row0 + (int64_t)r;
    size_t end = r + (size_t)(block - g % block);
    return end > n ? n : end;
}

int adk_gauss_fit(adk_ctx_t *ctx, const adk_rows_t *x, const adk_gauss_params_t *p,
                  adk_gauss_t **out)
{
    *out = NULL;
    const size_t d = x->d, n = x->nloc;
    const int64_t block = x->align >= 1 ? x->align : 1;
    const int full = p->kind == ADK_GAUSS_FULL;
    const size_t nq = full ? d * (d + 1) / 2 : d; /* second moments: packed lower triangle */
    const char *what = x->spec ? x->spec : "training data";
    int st = ADK_OK;
    if (!(p->min_var >= 0.0) || !(p->ridge >= 0.0)) {
        st = ADK_ERR(ctx, ADK_EINVAL, "--min-var and --ridge must not be negative");
    } else if (x->n < 1 || d < 1) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: no training rows", what);
    }
    adk_gauss_t *g = gauss_new(p->kind, d);
    double *mm = malloc(2 * (d ? d : 1) * sizeof(double)); /* max, -min per column */
    double *mu = calloc(d ? d : 1, sizeof(double));
    double *dev = calloc(d ? d : 1, sizeof(double));
    double *part = calloc(nq ? nq : 1, sizeof(double));
    double *mom = calloc(nq ? nq : 1, sizeof(double));
    adk_racc_t *a = NULL;
    if (st == ADK_OK && (!g || !mm || !mu || !dev || !part || !mom ||
                         adk_racc_alloc(nq > d ? nq : d, 0, &a) != ADK_OK)) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for the moments of %zu features", d);
    }
    st = adk_ctx_agree(ctx, st);

    /* Pass 1: exact column sums. The bound of a block partial comes from the global max |x|. */
    if (st == ADK_OK) {
        for (size_t j = 0; j < 2 * d; j++) {
            mm[j] = -INFINITY;
        }
        for (size_t r = 0; r < n; r++) {
            for (size_t j = 0; j < d; j++) {
                double v = x->x[r * d + j];
                mm[j] = v > mm[j] ? v : mm[j];
                mm[d + j] = -v > mm[d + j] ? -v : mm[d + j];
            }
        }
        st = allreduce_max(ctx, mm, (int)(2 * d));
    }
    if (st == ADK_OK) {
        for (size_t j = 0; j < d; j++) {
            double b = fmax(fabs(mm[j]), fabs(mm[d + j]));
            /* a partial of `block` values is below block * max; one spare bit for rounding */
            adk_racc_set_scale(a, j, adk_repro_exponent(b * (double)block) + 1);
        }
        for (size_t r = 0; r < n;) {
            size_t end = block_end(r, n, x->row0, block);
            memset(part, 0, d * sizeof(double));
            for (; r < end; r++) {
                for (size_t j = 0; j < d; j++) {
                    part[j] += x->x[r * d + j];
                }
            }
            for (size_t j = 0; j < d; j++) {
                adk_racc_add(a, j, part[j]);
            }
        }
        st = adk_racc_allreduce(ctx, a);
    }
    if (st == ADK_OK) {
        for (size_t j = 0; j < d; j++) {
            /* a constant column has its value as mean, so its centred values are exactly 0 */
            mu[j] = mm[j] == -mm[d + j] ? mm[j] : adk_racc_get(a, j) / (double)x->n;
        }
        /* Pass 2 bound: max |x - mu| per column. */
        for (size_t j = 0; j < d; j++) {
            mm[j] = 0.0;
        }
        for (size_t r = 0; r < n; r++) {
            for (size_t j = 0; j < d; j++) {
                double v = fabs(x->x[r * d + j] - mu[j]);
                mm[j] = v > mm[j] ? v : mm[j];
            }
        }
        st = allreduce_max(ctx, mm, (int)d);
    }
    if (st == ADK_OK) {
        for (size_t j = 0; j < d && st == ADK_OK; j++) {
            if (!isfinite(mm[j] * mm[j] * (double)block)) {
                st = ADK_ERR(ctx, ADK_EDATA,
                             "%s: values of feature %zu are too large to square (max |x - mu| = "
                             "%g)",
                             what, j, mm[j]);
            }
        }
        /* identical on every rank: already agreed */
    }
    if (st == ADK_OK) {
        /* Pass 2: exact sums of products of centred values, block partials in row order. */
        adk_racc_zero(a);
        for (size_t j = 0, q = 0; j < d; j++) {
            for (size_t k = full ? 0 : j; k <= j; k++, q++) {
                adk_racc_set_scale(a, q, adk_repro_exponent(mm[j] * mm[k] * (double)block) + 1);
            }
        }
        for (size_t r = 0; r < n;) {
            size_t end = block_end(r, n, x->row0, block);
            memset(part, 0, nq * sizeof(double));
            for (; r < end; r++) {
                const double *xr = x->x + r * d;
                for (size_t j = 0; j < d; j++) {
                    dev[j] = xr[j] - mu[j];
                }
                if (full) {
                    double *pq = part;
                    for (size_t j = 0; j < d; j++) {
                        for (size_t k = 0; k <= j; k++) {
                            *pq++ += dev[j] * dev[k];
                        }
                    }
                } else {
                    for (size_t j = 0; j < d; j++) {
                        part[j] += dev[j] * dev[j];
                    }
                }
            }
            for (size_t q = 0; q < nq; q++) {
                adk_racc_add(a, q, part[q]);
            }
        }
        st = adk_racc_allreduce(ctx, a);
    }
    if (st == ADK_OK) {
        for (size_t q = 0; q < nq; q++) {
            mom[q] = adk_racc_get(a, q) / (double)x->n;
        }
        memcpy(g->mu, mu, d * sizeof(double));
        for (size_t j = 0, q = 0; j < d; j++) {
            if (full) {
                for (size_t k = 0; k <= j; k++, q++) {
                    g->cov[j * d + k] = g->cov[k * d + j] = mom[q];
                }
            } else {
                g->var[j] = mom[q++];
            }
        }
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
    adk_racc_free(a);
    free(mm);
    free(mu);
    free(dev);
    free(part);
    free(mom);
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
    double *z = malloc((d ? d : 1) * sizeof(double));
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
    size_t len = strlen(file) + 16;
    char *spec = malloc(len);
    int st = adk_ctx_agree(ctx, spec ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st == ADK_OK) {
        st = adk_io_exists(ctx, file, "/cov", &has_cov);
    }
    if (st == ADK_OK) {
        snprintf(spec, len, "%s:/mu", file);
        st = adk_io_read_small(ctx, spec, ADK_GAUSS_MAX_ELEMS, &mu, &r1, &c1, &nd);
    }
    if (st == ADK_OK) {
        snprintf(spec, len, "%s:%s", file, has_cov ? "/cov" : "/var");
        st = adk_io_read_small(ctx, spec, ADK_GAUSS_MAX_ELEMS, &s, &r2, &c2, &nd);
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
        st = adk_io_exists(ctx, file, "/epsilon", &has_eps);
    }
    if (st == ADK_OK && has_eps) {
        snprintf(spec, len, "%s:/epsilon", file);
        int64_t r3 = 0, c3 = 0;
        st = adk_io_read_small(ctx, spec, 1, &e, &r3, &c3, &nd);
        double lg = 0.0;
        if (st == ADK_OK) {
            st = adk_io_attr_f64(ctx, file, "/epsilon", "log", &lg);
        }
        if (st == ADK_OK) {
            g->has_eps = 1;
            g->eps = e[0];
            g->eps_log = lg != 0.0;
        }
    }
    free(spec);
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

/* ------------------------------------------------------------------------------------------ */
/* The threshold sweep                                                                          */

void adk_gauss_linspace(double start, double stop, size_t num, double *out)
{
    if (num == 0) {
        return;
    }
    if (num == 1) {
        out[0] = start;
        return;
    }
    double div = (double)(num - 1);
    double delta = stop - start;
    double step = delta / div;
    for (size_t i = 0; i < num; i++) {
        /* numpy: y = arange(num) * step, or (arange / div) * delta when step == 0, then + start */
        double y = step == 0.0 ? ((double)i / div) * delta : (double)i * step;
        out[i] = y + start;
    }
    out[num - 1] = stop;
}

void adk_gauss_sweep_free(adk_gauss_sweep_t *s)
{
    if (!s) {
        return;
    }
    free(s->eps);
    free(s->conf);
    free(s->prf);
    free(s);
}

/* Order-preserving key of a non-NaN double (-0 folded onto +0): u < v iff key(u) < key(v). */
static uint64_t dkey(double v)
{
    v += 0.0; /* -0 + 0 = +0 under round-to-nearest */
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return (u >> 63) ? ~u : (u | UINT64_C(0x8000000000000000));
}

/* LSD radix sort of n keys, 8 bits per pass; passes where every key has the same byte are skipped
 * (the exponent bytes of densities usually are). @p tmp holds n keys. */
static void radix_sort(uint64_t *k, uint64_t *tmp, size_t n, size_t (*cnt)[256])
{
    if (n < 2) {
        return;
    }
    memset(cnt, 0, 8 * sizeof(*cnt));
    for (size_t i = 0; i < n; i++) {
        uint64_t v = k[i];
        for (int b = 0; b < 8; b++) {
            cnt[b][(v >> (8 * b)) & 255]++;
        }
    }
    uint64_t *src = k, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        int sh = 8 * b;
        if (cnt[b][(src[0] >> sh) & 255] == n) {
            continue;
        }
        size_t off = 0;
        for (int c = 0; c < 256; c++) {
            size_t t = cnt[b][c];
            cnt[b][c] = off;
            off += t;
        }
        for (size_t i = 0; i < n; i++) {
            dst[cnt[b][(src[i] >> sh) & 255]++] = src[i];
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != k) {
        memcpy(k, src, n * sizeof(uint64_t));
    }
}

/* Number of sorted keys below key. */
static size_t count_below(const uint64_t *k, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (k[mid] < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

int adk_gauss_select(adk_ctx_t *ctx, const double *v, const int64_t *labels, size_t nloc,
                     int64_t row0, const char *what, int log, size_t ncand, adk_gauss_sweep_t **out)
{
    *out = NULL;
    int st = ADK_OK;
    adk_gauss_sweep_t *s = calloc(1, sizeof(*s));
    /* keys: anomalies from the front, normals from the back; tmp: radix sort scratch */
    uint64_t *keys = malloc((nloc ? 2 * nloc : 1) * sizeof(uint64_t));
    uint64_t *tmp = keys ? keys + nloc : NULL;
    size_t(*cnt)[256] = malloc(8 * sizeof(*cnt));
    adk_racc_t *a = NULL;
    if (ncand < 1) {
        st = ADK_ERR(ctx, ADK_EINVAL, "the sweep needs at least one candidate");
    } else if (!s || !keys || !cnt || adk_racc_alloc(0, 2 * ncand + 3, &a) != ADK_OK) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for the sweep of %zu values", nloc);
    } else {
        s->eps = malloc(ncand * sizeof(double));
        s->conf = calloc(ncand, sizeof(adk_confusion_t));
        s->prf = calloc(ncand, sizeof(adk_prf_t));
        if (!s->eps || !s->conf || !s->prf) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
    }
    /* Local: check, split the keys by label, min and max. */
    double lim[2] = {-INFINITY, -INFINITY}; /* -min, max */
    size_t np = 0, nn = 0;
    int64_t under = 0;
    for (size_t i = 0; i < nloc && st == ADK_OK; i++) {
        if (labels[i] != 0 && labels[i] != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: label %lld is not 0 (normal) or 1 (anomaly)",
                         what, (long long)(row0 + (int64_t)i), (long long)labels[i]);
        } else if (!isfinite(v[i])) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: %s %s is not finite", what,
                         (long long)(row0 + (int64_t)i), log ? "log density" : "density",
                         isnan(v[i]) ? "NaN" : "Inf");
        } else {
            if (labels[i]) {
                keys[np++] = dkey(v[i]);
            } else {
                keys[nloc - ++nn] = dkey(v[i]);
            }
            double w = v[i] + 0.0; /* -0 as +0: MPI_MAX may return either zero */
            lim[0] = -w > lim[0] ? -w : lim[0];
            lim[1] = w > lim[1] ? w : lim[1];
            under += !log && v[i] < DBL_MIN;
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = allreduce_max(ctx, lim, 2); /* MPI MIN/MAX are exact: the range is the same bits */
    }
    if (st == ADK_OK) {
        s->log = log;
        s->ncand = ncand;
        s->vmin = -lim[0];
        s->vmax = lim[1];
        if (!(s->vmax >= s->vmin)) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: no rows to sweep", what);
        } else if (!isfinite(s->vmax - s->vmin)) {
            st = ADK_ERR(ctx, ADK_EDATA,
                         "%s: values span [%g, %g], too wide to space %zu candidates", what,
                         s->vmin, s->vmax, ncand);
        }
        /* global values on every rank: the verdict is common */
    }
    if (st == ADK_OK) {
        adk_gauss_linspace(s->vmin, s->vmax, ncand, s->eps);
        radix_sort(keys, tmp, np, cnt);
        radix_sort(keys + np, tmp, nn, cnt);
    }
    free(cnt);
    if (st == ADK_OK) {
        /* Counts of v < eps for every candidate, anomalies then normals, in ONE allreduce. */
        for (size_t c = 0; c < ncand; c++) {
            uint64_t kc = dkey(s->eps[c]);
            adk_racc_addi(a, c, (int64_t)count_below(keys, np, kc));
            adk_racc_addi(a, ncand + c, (int64_t)count_below(keys + np, nn, kc));
        }
        adk_racc_addi(a, 2 * ncand, (int64_t)np);
        adk_racc_addi(a, 2 * ncand + 1, (int64_t)nn);
        adk_racc_addi(a, 2 * ncand + 2, under);
        st = adk_racc_allreduce(ctx, a);
    }
    if (st == ADK_OK) {
        int64_t npos = adk_racc_geti(a, 2 * ncand), nneg = adk_racc_geti(a, 2 * ncand + 1);
        s->npos = npos;
        s->n = npos + nneg;
        s->nunder = adk_racc_geti(a, 2 * ncand + 2);
        /* The reference loop: keep the first candidate whose F1 beats the best so far. */
        double best_f1 = 0.0, best_eps = 0.0;
        s->best = -1;
        for (size_t c = 0; c < ncand; c++) {
            adk_confusion_t *cf = &s->conf[c];
            cf->tp = adk_racc_geti(a, c);
            cf->fp = adk_racc_geti(a, ncand + c);
            cf->fn = npos - cf->tp;
            cf->tn = nneg - cf->fp;
            s->prf[c] = adk_eval_prf(cf);
            if (s->prf[c].f1 > best_f1) {
                best_f1 = s->prf[c].f1;
                best_eps = s->eps[c];
                s->best = (int64_t)c;
            }
        }
        s->epsilon = best_eps;
        s->f1 = best_f1;
    }
    adk_racc_free(a);
    free(keys);
    if (st != ADK_OK) {
        adk_gauss_sweep_free(s);
        return st;
    }
    *out = s;
    return ADK_OK;
}

int adk_gauss_sweep_save(adk_ctx_t *ctx, adk_out_t *o, const adk_gauss_sweep_t *s)
{
    adk_prf_t best = {0.0, 0.0, 0.0};
    if (s->best >= 0) {
        best = s->prf[s->best];
    }
    int st = adk_out_small(o, "/epsilon", ADK_F64, &s->epsilon, 1, 0);
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/epsilon", "log", s->log);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/epsilon", "f1", s->f1);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/epsilon", "precision", best.precision);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/epsilon", "recall", best.recall);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/epsilon", "index", s->best);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/epsilon", "n", s->n);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/epsilon", "n_anomalies", s->npos);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/epsilon", "command_line", adk_ctx_cmdline(ctx));
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/f1", ADK_F64, &s->f1, 1, 0);
    }
    double *curve = malloc(s->ncand * 4 * sizeof(double));
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, curve ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        for (size_t c = 0; c < s->ncand; c++) {
            curve[4 * c] = s->eps[c];
            curve[4 * c + 1] = s->prf[c].precision;
            curve[4 * c + 2] = s->prf[c].recall;
            curve[4 * c + 3] = s->prf[c].f1;
        }
        st = adk_out_small(o, "/curve", ADK_F64, curve, s->ncand, 4);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/curve", "columns", "epsilon,precision,recall,f1");
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/curve", "log", s->log);
    }
    free(curve);
    return st;
}

char *adk_gauss_sweep_csv(const adk_gauss_sweep_t *s)
{
    size_t cap = 64 + s->ncand * 4 * 26;
    char *t = malloc(cap);
    if (!t) {
        return NULL;
    }
    size_t off = (size_t)snprintf(t, cap, "epsilon,precision,recall,f1\n");
    for (size_t c = 0; c < s->ncand && off < cap; c++) {
        /* %.17g: every value reads back to the same double */
        off += (size_t)snprintf(t + off, cap - off, "%.17g,%.17g,%.17g,%.17g\n", s->eps[c],
                                s->prf[c].precision, s->prf[c].recall, s->prf[c].f1);
    }
    return t;
}

/* ------------------------------------------------------------------------------------------ */
/* Commands                                                                                     */

int adk_gauss_cmd_fit(adk_ctx_t *ctx, const adk_gauss_cmd_t *c)
{
    adk_rows_t *x = NULL;
    adk_gauss_t *g = NULL;
    adk_out_t *o = NULL;
    int st = adk_out_check(ctx, c->model, c->flags);
    if (st == ADK_OK) {
        adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, NULL};
        st = adk_io_read(ctx, c->input, &ro, &x);
    }
    if (st == ADK_OK) {
        st = adk_gauss_fit(ctx, x, &c->fit, &g);
    }
    if (st == ADK_OK) {
        st = adk_out_create(ctx, c->model, c->flags, &o);
    }
    if (st == ADK_OK) {
        st = adk_out_commit(o, adk_gauss_save(o, g));
    }
    if (st == ADK_OK) {
        adk_ctx_info(ctx, "fit: %lld rows x %zu features, %s covariance -> %s", (long long)x->n,
                     x->d, g->kind == ADK_GAUSS_FULL ? "full" : "diagonal", c->model);
        if (g->nfloored > 0) {
            adk_ctx_info(ctx, "fit: %lld variances floored at %g", (long long)g->nfloored,
                         g->min_var);
        }
    }
    adk_gauss_free(g);
    adk_rows_free(x);
    return st;
}

/* Rows of the data set named by c->input, with labels when asked, checked against the model. */
static int read_rows(adk_ctx_t *ctx, const adk_gauss_cmd_t *c, const adk_gauss_t *g, adk_rows_t **x)
{
    adk_read_opts_t ro = {1, c->labels, c->label_col};
    int st = adk_io_read(ctx, c->input, &ro, x);
    if (st == ADK_OK && (*x)->d != g->d) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s has %zu columns but the model %s has %zu features",
                     c->input, (*x)->d, c->model, g->d);
        /* same shape on every rank: already agreed */
        adk_rows_free(*x);
        *x = NULL;
    }
    return st;
}

int adk_gauss_cmd_select(adk_ctx_t *ctx, const adk_gauss_cmd_t *c)
{
    if (!c->labels && !c->label_col) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "select needs the validation labels: --labels FILE.h5:/dataset or "
                       "--label-col COL");
    }
    adk_gauss_t *g = NULL;
    adk_rows_t *x = NULL;
    adk_gauss_sweep_t *s = NULL;
    adk_out_t *o = NULL;
    double *v = NULL;
    char *csv = NULL;
    int wrote_csv = 0;
    double t[3] = {0, 0, 0}; /* read, density, sweep */
    int st = c->curve ? adk_out_check(ctx, c->curve, c->flags) : ADK_OK;
    if (st == ADK_OK) {
        st = adk_gauss_load(ctx, c->model, &g);
    }
    if (st == ADK_OK && g->has_eps && !(c->flags & ADK_OUT_FORCE)) {
        st = ADK_ERR(ctx, ADK_EEXIST, "%s already has /epsilon; use --force to replace it",
                     c->model);
    }
    t[0] = adk_now();
    if (st == ADK_OK) {
        st = read_rows(ctx, c, g, &x);
    }
    t[0] = adk_now() - t[0];
    t[1] = adk_now();
    if (st == ADK_OK) {
        v = malloc((x->nloc ? x->nloc : 1) * sizeof(double));
        st = v ? adk_gauss_logpdf(ctx, g, x->x, x->nloc, v)
               : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        for (size_t i = 0; st == ADK_OK && !c->log && i < x->nloc; i++) {
            v[i] = exp(v[i]);
        }
        st = adk_ctx_agree(ctx, st);
    }
    t[1] = adk_now() - t[1];
    t[2] = adk_now();
    if (st == ADK_OK) {
        const char *what = c->labels ? c->labels : c->input;
        st = adk_gauss_select(ctx, v, x->labels, x->nloc, x->row0, what, c->log, ADK_GAUSS_NCAND,
                              &s);
    }
    t[2] = adk_now() - t[2];
    if (st == ADK_OK && c->curve) {
        csv = adk_gauss_sweep_csv(s);
        st = adk_ctx_agree(ctx, csv ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
        if (st == ADK_OK) {
            st = adk_io_write_text(ctx, c->curve, c->flags, csv);
            wrote_csv = st == ADK_OK;
        }
    }
    if (st == ADK_OK) {
        st = adk_out_update(ctx, c->model, &o);
    }
    if (st == ADK_OK) {
        st = adk_out_commit(o, adk_gauss_sweep_save(ctx, o, s));
    }
    if (st != ADK_OK && wrote_csv && adk_ctx_rank(ctx) == 0) {
        unlink(c->curve); /* all or nothing: the curve goes with the model it belongs to */
    }
    if (st == ADK_OK) {
        st = allreduce_max(ctx, t, 3);
    }
    if (st == ADK_OK) {
        if (s->nunder > 0) {
            adk_ctx_warn(ctx,
                         "%lld of %lld validation densities underflow below %g; --log sweeps "
                         "log p instead",
                         (long long)s->nunder, (long long)s->n, DBL_MIN);
        }
        if (s->best < 0) {
            adk_ctx_warn(ctx,
                         "F1 is 0 at every candidate (%lld anomalies among %lld rows): "
                         "epsilon = 0 as in the reference rule",
                         (long long)s->npos, (long long)s->n);
        }
        if (adk_ctx_rank(ctx) == 0) {
            adk_prf_t b = s->best >= 0 ? s->prf[s->best] : (adk_prf_t){0, 0, 0};
            printf("epsilon %.17g (threshold on %s)\n", s->epsilon, s->log ? "log p" : "p");
            printf("F1 %.6f  precision %.6f  recall %.6f  (candidate %lld of %zu in [%.6g, %.6g]; "
                   "%lld rows, %lld anomalies)\n",
                   s->f1, b.precision, b.recall, (long long)s->best, s->ncand, s->vmin, s->vmax,
                   (long long)s->n, (long long)s->npos);
            fflush(stdout);
        }
        adk_ctx_info(ctx,
                     "select: %d ranks, max over ranks: read %.3f s, density %.3f s, sweep %.3f s",
                     adk_ctx_size(ctx), t[0], t[1], t[2]);
    }
    free(csv);
    free(v);
    adk_gauss_sweep_free(s);
    adk_rows_free(x);
    adk_gauss_free(g);
    return st;
}

/* Counters of a scored data set: rows, flagged, tp, fp, tn, fn, underflowed p. */
enum { K_N, K_FLAGGED, K_TP, K_FP, K_TN, K_FN, K_UNDER, K_COUNT };

/* Summary of a scored data set as JSON text (malloc'd, newline-terminated), with the keys of
 * adkit-score's summary where they mean the same; NULL when out of memory. */
static char *score_json(const adk_gauss_cmd_t *c, const int64_t *k, int lab, double eps, int log)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) {
        return NULL;
    }
    adk_confusion_t cf = {k[K_TP], k[K_FP], k[K_TN], k[K_FN]};
    adk_prf_t r = adk_eval_prf(&cf);
    adk_json_count(j, "n", 1, k[K_N]);
    adk_json_count(j, "n_flagged", 1, k[K_FLAGGED]);
    cJSON_AddBoolToObject(j, "labelled", lab);
    adk_json_count(j, "n_positive", lab, cf.tp + cf.fn);
    adk_json_count(j, "n_negative", lab, cf.fp + cf.tn);
    adk_json_count(j, "tp", lab, cf.tp);
    adk_json_count(j, "fp", lab, cf.fp);
    adk_json_count(j, "tn", lab, cf.tn);
    adk_json_count(j, "fn", lab, cf.fn);
    adk_json_real(j, "precision", lab, r.precision);
    adk_json_real(j, "recall", lab, r.recall);
    adk_json_real(j, "f1", lab, r.f1);
    adk_json_num(j, "epsilon", eps);
    cJSON_AddBoolToObject(j, "log", log);
    cJSON_AddStringToObject(j, "model", c->model);
    cJSON_AddStringToObject(j, "data", c->input);
    char *text = adk_json_text(j);
    cJSON_Delete(j);
    return text;
}

/* The adkit-score table (same rows and layout) for a scored data set. */
static void score_print(const adk_gauss_cmd_t *c, const adk_gauss_t *g, const int64_t *k, int lab,
                        double eps, int log, int size)
{
    printf("adkit-gauss score: %s against %s (%s model, epsilon %.17g on %s), %d rank%s\n",
           c->input, c->model, g->kind == ADK_GAUSS_FULL ? "full" : "diag", eps,
           log ? "log p" : "p", size, size > 1 ? "s" : "");
    printf("%-34s %12lld\n", "rows", (long long)k[K_N]);
    printf("%-34s %12lld\n", "anomalies flagged", (long long)k[K_FLAGGED]);
    if (lab) {
        adk_confusion_t cf = {k[K_TP], k[K_FP], k[K_TN], k[K_FN]};
        adk_prf_t r = adk_eval_prf(&cf);
        printf("%-34s %12lld\n", "labelled anomalous", (long long)(cf.tp + cf.fn));
        printf("%-34s %12lld\n", "TP (anomalous, flagged)", (long long)cf.tp);
        printf("%-34s %12lld\n", "FP (normal, flagged)", (long long)cf.fp);
        printf("%-34s %12lld\n", "TN (normal, not flagged)", (long long)cf.tn);
        printf("%-34s %12lld\n", "FN (anomalous, not flagged)", (long long)cf.fn);
        printf("%-34s %12.6f\n", "precision", r.precision);
        printf("%-34s %12.6f\n", "recall", r.recall);
        printf("%-34s %12.6f\n", "F1", r.f1);
    }
    fflush(stdout);
}

int adk_gauss_cmd_score(adk_ctx_t *ctx, const adk_gauss_cmd_t *c)
{
    if (c->log && !c->has_eps) {
        return ADK_ERR(ctx, ADK_EINVAL, "--log says how to read --epsilon E; give --epsilon too");
    }
    adk_gauss_t *g = NULL;
    adk_rows_t *x = NULL;
    adk_out_t *o = NULL;
    adk_racc_t *a = NULL;
    double *logp = NULL, *p = NULL;
    uint8_t *anom = NULL;
    char *json = NULL;
    int wrote_json = 0;
    double eps = c->eps;
    int log = c->log;
    int st = adk_out_check(ctx, c->out, c->flags);
    if (st == ADK_OK && c->json) {
        st = adk_out_check(ctx, c->json, c->flags);
    }
    if (st == ADK_OK) {
        st = adk_gauss_load(ctx, c->model, &g);
    }
    if (st == ADK_OK && !c->has_eps) {
        if (!g->has_eps) {
            st = ADK_ERR(ctx, ADK_EDATA,
                         "%s has no /epsilon: run 'adkit-gauss select' first or give --epsilon",
                         c->model);
        }
        eps = g->eps;
        log = g->eps_log;
    }
    if (st == ADK_OK) {
        st = read_rows(ctx, c, g, &x);
    }
    if (st == ADK_OK) {
        size_t nb = x->nloc ? x->nloc : 1;
        logp = malloc(nb * sizeof(double));
        p = malloc(nb * sizeof(double));
        anom = malloc(nb);
        st = (logp && p && anom && adk_racc_alloc(0, K_COUNT, &a) == ADK_OK)
                 ? adk_gauss_logpdf(ctx, g, x->x, x->nloc, logp)
                 : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    const char *what = c->labels ? c->labels : c->input;
    for (size_t i = 0; st == ADK_OK && i < x->nloc; i++) {
        p[i] = exp(logp[i]);
        anom[i] = (log ? logp[i] : p[i]) < eps; /* the rule select optimised */
        adk_racc_addi(a, K_FLAGGED, anom[i]);
        adk_racc_addi(a, K_UNDER, p[i] < DBL_MIN);
        if (x->labels) {
            int64_t y = x->labels[i];
            if (y != 0 && y != 1) {
                st = ADK_ERR(ctx, ADK_EDATA,
                             "%s row %lld: label %lld is not 0 (normal) or 1 (anomaly)", what,
                             (long long)(x->row0 + (int64_t)i), (long long)y);
            }
            adk_racc_addi(a, anom[i] ? (y ? K_TP : K_FP) : (y ? K_FN : K_TN), 1);
        }
    }
    if (st == ADK_OK) {
        adk_racc_addi(a, K_N, (int64_t)x->nloc);
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = adk_racc_allreduce(ctx, a); /* every counter in one allreduce */
    }
    int64_t k[K_COUNT] = {0};
    for (size_t i = 0; st == ADK_OK && i < K_COUNT; i++) {
        k[i] = adk_racc_geti(a, i);
    }
    if (st == ADK_OK && c->json) {
        json = score_json(c, k, x->labels != NULL, eps, log);
        st = adk_ctx_agree(ctx, json ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
        if (st == ADK_OK) {
            st = adk_io_write_text(ctx, c->json, c->flags, json);
            wrote_json = st == ADK_OK;
        }
    }
    if (st == ADK_OK) {
        st = adk_out_create(ctx, c->out, c->flags, &o);
    }
    if (st == ADK_OK) {
        int wst = adk_out_rows(o, "/logp", ADK_F64, logp, x->n, x->row0, x->nloc, 0);
        if (wst == ADK_OK) {
            wst = adk_out_rows(o, "/anomaly", ADK_U8, anom, x->n, x->row0, x->nloc, 0);
        }
        if (wst == ADK_OK) {
            wst = adk_out_attr_f64(o, "/anomaly", "epsilon", eps);
        }
        if (wst == ADK_OK) {
            wst = adk_out_attr_i64(o, "/anomaly", "log", log);
        }
        if (wst == ADK_OK && c->density) {
            wst = adk_out_rows(o, "/p", ADK_F64, p, x->n, x->row0, x->nloc, 0);
            if (wst == ADK_OK) {
                wst = adk_out_attr_i64(o, "/p", "n_underflow", k[K_UNDER]);
            }
        }
        st = adk_out_commit(o, wst);
    }
    if (st != ADK_OK && wrote_json && adk_ctx_rank(ctx) == 0) {
        unlink(c->json);
    }
    if (st == ADK_OK) {
        if (c->density && k[K_UNDER] > 0) {
            adk_ctx_warn(ctx, "%lld of %lld densities underflow below %g in /p; /logp keeps them",
                         (long long)k[K_UNDER], (long long)k[K_N], DBL_MIN);
        }
        if (adk_ctx_rank(ctx) == 0) {
            score_print(c, g, k, x->labels != NULL, eps, log, adk_ctx_size(ctx));
        }
    }
    free(json);
    free(logp);
    free(p);
    free(anom);
    adk_racc_free(a);
    adk_rows_free(x);
    adk_gauss_free(g);
    return st;
}
