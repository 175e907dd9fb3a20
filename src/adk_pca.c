/*
 * adk_pca: principal components (see adk_pca.h): covariance by adk_moments, eigenvectors by GSL's
 * symmetric QR solver on every rank (identical input, deterministic code: identical bits, no
 * broadcast needed), scikit-learn's scaling and sign conventions, projection row by row.
 */
#include "adk_pca.h"
#include "adk_mem.h"

#include "adk_moments.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_matrix.h>

void adk_pca_free(adk_pca_t *p)
{
    if (!p) {
        return;
    }
    free(p->mean);
    free(p->components);
    free(p->var);
    free(p->ratio);
    free(p);
}

static adk_pca_t *pca_new(size_t d, size_t k)
{
    adk_pca_t *p = adk_calloc(1, sizeof(*p));
    if (!p) {
        return NULL;
    }
    p->d = d;
    p->k = k;
    p->mean = adk_calloc(d, sizeof(double));
    p->components = adk_calloc(k * d, sizeof(double));
    p->var = adk_calloc(k, sizeof(double));
    p->ratio = adk_calloc(k, sizeof(double));
    if (!p->mean || !p->components || !p->var || !p->ratio) {
        adk_pca_free(p);
        return NULL;
    }
    return p;
}

/*
 * All eigenpairs of the symmetric d x d matrix a (row-major), eigenvalues descending, eigenvectors
 * as the columns of evec. Returns GSL_SUCCESS, GSL_ENOMEM, or GSL's failure code.
 */
static int eigen_desc(size_t d, const double *a, double *eval, double *evec)
{
    gsl_matrix *m = gsl_matrix_alloc(d, d); /* symmv destroys its input: work on a copy */
    gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(d);
    int rc = m && w ? GSL_SUCCESS : GSL_ENOMEM;
    if (rc == GSL_SUCCESS) {
        memcpy(m->data, a, d * d * sizeof(double)); /* freshly allocated: tda == d */
        gsl_vector_view vv = gsl_vector_view_array(eval, d);
        gsl_matrix_view ev = gsl_matrix_view_array(evec, d, d);
        /* GSL reports failures through its error handler, which aborts by default: the library
         * turns it off here and restores the caller's. */
        gsl_error_handler_t *old = gsl_set_error_handler_off();
        rc = gsl_eigen_symmv(m, &vv.vector, &ev.matrix, w);
        if (rc == GSL_SUCCESS) {
            rc = gsl_eigen_symmv_sort(&vv.vector, &ev.matrix, GSL_EIGEN_SORT_VAL_DESC);
        }
        gsl_set_error_handler(old);
    }
    gsl_eigen_symmv_free(w);
    gsl_matrix_free(m);
    return rc;
}

/* Make the largest absolute entry of v positive (ties: the first), so the sign is reproducible. */
static void fix_sign(double *v, size_t d)
{
    size_t best = 0;
    for (size_t c = 1; c < d; c++) {
        if (fabs(v[c]) > fabs(v[best])) {
            best = c;
        }
    }
    if (v[best] < 0.0) {
        for (size_t c = 0; c < d; c++) {
            v[c] = -v[c];
        }
    }
}

/*
 * The model from the population covariance cov (divisor n): eigenpairs, scaled to divisor n - 1,
 * the first k kept. Returns the eigensolver's status (GSL_SUCCESS, GSL_ENOMEM, failure).
 */
static int from_cov(adk_pca_t *p, const double *cov)
{
    const size_t d = p->d;
    const double unbias = (double)p->n / (double)(p->n - 1);
    double *eval = adk_malloc(d * sizeof(double)), *evec = adk_malloc(d * d * sizeof(double));
    int rc = eval && evec ? eigen_desc(d, cov, eval, evec) : GSL_ENOMEM;
    if (rc == GSL_SUCCESS) {
        p->total_var = 0.0;
        for (size_t c = 0; c < d; c++) {
            p->total_var += cov[c * d + c];
        }
        p->total_var *= unbias;
        for (size_t j = 0; j < p->k; j++) {
            /* rounding can leave a zero eigenvalue of a singular covariance at -1e-17 */
            p->var[j] = eval[j] > 0.0 ? eval[j] * unbias : 0.0;
            p->ratio[j] = p->total_var > 0.0 ? p->var[j] / p->total_var : 0.0;
            double *v = p->components + j * d;
            for (size_t c = 0; c < d; c++) {
                v[c] = evec[c * d + j];
            }
            fix_sign(v, d);
        }
    }
    free(eval);
    free(evec);
    return rc;
}

/* Local checks of the arguments; the same outcome on every rank (n, d, ncomp are global). */
static int check_args(adk_ctx_t *ctx, const adk_rows_t *x, size_t ncomp, const char *what)
{
    if (ncomp < 1 || ncomp > x->d) {
        return ADK_ERR(ctx, ADK_EINVAL, "%s: the number of components must be 1..%zu (got %zu)",
                       what, x->d, ncomp);
    }
    if (x->n < 2) {
        return ADK_ERR(ctx, ADK_EDATA, "%s: PCA needs at least 2 rows (got %lld)", what,
                       (long long)x->n);
    }
    if (x->d > SIZE_MAX / sizeof(double) / x->d) {
        return ADK_ERR(ctx, ADK_ENOMEM, "%s: a %zu x %zu covariance does not fit in memory", what,
                       x->d, x->d);
    }
    return ADK_OK;
}

int adk_pca_fit(adk_ctx_t *ctx, const adk_rows_t *x, size_t ncomp, adk_pca_t **out)
{
    *out = NULL;
    const char *what = x->spec ? x->spec : "data";
    adk_pca_t *p = NULL;
    double *cov = NULL;
    int st = check_args(ctx, x, ncomp, what);
    if (st == ADK_OK) {
        p = pca_new(x->d, ncomp);
        cov = adk_malloc(x->d * x->d * sizeof(double));
        if (!p || !cov) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for the %zu x %zu covariance", x->d, x->d);
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        p->n = x->n;
        st = adk_moments_compute(ctx, x, ADK_MOMENTS_COV, p->mean, cov);
    }
    if (st == ADK_OK) {
        int rc = from_cov(p, cov);
        if (rc == GSL_ENOMEM) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for the eigenvectors of %zu features",
                         x->d);
        } else if (rc != GSL_SUCCESS) {
            st = ADK_ERR(ctx, ADK_EINTERNAL, "%s: eigendecomposition failed: %s", what,
                         gsl_strerror(rc));
        }
        st = adk_ctx_agree(ctx, st); /* allocation can fail on one rank */
    }
    free(cov);
    if (st != ADK_OK) {
        adk_pca_free(p);
        return st;
    }
    *out = p;
    return ADK_OK;
}

void adk_pca_transform(const adk_pca_t *p, const double *x, size_t nrows, int whiten, double *y)
{
    const size_t d = p->d, k = p->k;
    for (size_t i = 0; i < nrows; i++) {
        const double *xi = x + i * d;
        double *yi = y + i * k;
        for (size_t j = 0; j < k; j++) {
            const double *v = p->components + j * d;
            double s = 0.0;
            for (size_t c = 0; c < d; c++) { /* plain loop: BLAS may reorder the sum */
                s += (xi[c] - p->mean[c]) * v[c];
            }
            yi[j] = s;
        }
        for (size_t j = 0; whiten && j < k; j++) {
            double scale = sqrt(p->var[j]);
            yi[j] /= scale < DBL_EPSILON ? DBL_EPSILON : scale;
        }
    }
}

int adk_pca_save(adk_out_t *o, const adk_pca_t *p)
{
    int st = adk_out_small(o, "/components", ADK_F64, p->components, p->k, p->d);
    if (st == ADK_OK) {
        st = adk_out_small(o, "/explained_variance", ADK_F64, p->var, p->k, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/explained_variance_ratio", ADK_F64, p->ratio, p->k, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/mean", ADK_F64, p->mean, p->d, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "model", "pca");
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "n_components", (int64_t)p->k);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "n_rows", p->n);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "n_features", (int64_t)p->d);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/", "total_variance", p->total_var);
    }
    return st;
}
