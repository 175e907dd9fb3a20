/*
 * adk_pca: principal component analysis of distributed rows, as scikit-learn's PCA (full solver).
 * The mean and covariance come from adk_moments (exact, one rounding, the same bits at any rank
 * count for rows read with ADK_ALIGN_REPRO); the symmetric eigendecomposition of the d x d
 * covariance is GSL's gsl_eigen_symmv, run on every rank on identical input. Memory O(d^2) per
 * rank besides the rows. Used by adkit-pca and by t-SNE's PCA initialisation.
 *
 * Conventions (scikit-learn's): explained variances are eigenvalues of the covariance with
 * divisor n - 1, sorted descending; the ratio divides by the total variance, the trace of that
 * covariance (the sum of all d eigenvalues). Each component's largest absolute entry is positive
 * (ties: the first such entry), which fixes the sign of components and projections.
 */
#ifndef ADK_PCA_H
#define ADK_PCA_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_out.h"
#include "adk_rows.h"

/* A fitted PCA, identical on every rank. */
typedef struct adk_pca {
    size_t d;           /* features */
    size_t k;           /* components kept, 1..d */
    int64_t n;          /* rows fitted, >= 2 */
    double *mean;       /* d column means */
    double *components; /* k x d, row-major: orthonormal principal axes, by decreasing variance */
    double *var;        /* k explained variances (divisor n - 1), descending, >= 0 */
    double *ratio;      /* k fractions of total_var (all 0 when total_var is 0) */
    double total_var;   /* trace of the covariance (divisor n - 1): the variance of all d axes */
} adk_pca_t;

/**
 * Fit a PCA on all ranks' rows.
 * Eigenvalues that rounding leaves slightly below zero (a singular covariance) are set to 0, as
 * squared singular values would be. Degenerate data (every row the same: total variance 0) is
 * not an error: every variance and ratio is 0 and the components are the coordinate axes; callers
 * may warn.
 * @param x      this rank's rows (x->spec names the data in messages); read with
 *               ADK_ALIGN_REPRO for a result independent of the rank count
 * @param ncomp  components to keep, 1..x->d
 * @param out    the model (free with adk_pca_free); NULL on failure
 * @return ADK_OK; ADK_EINVAL (ncomp 0 or above d); ADK_EDATA (fewer than 2 rows, values too
 *         large to square); ADK_ENOMEM, ADK_EMPI, ADK_EINTERNAL (the eigensolver failed).
 * Collective (the allreduces of adk_moments_compute); the status is agreed.
 */
int adk_pca_fit(adk_ctx_t *ctx, const adk_rows_t *x, size_t ncomp, adk_pca_t **out);

/**
 * Project rows onto the components: y[i][j] = sum_c (x[i][c] - mean[c]) components[j][c], summed
 * over c in ascending order, so each row's projection depends only on the row and the model,
 * never on the rank count or on the other rows. With @p whiten, y[i][j] is divided by
 * sqrt(var[j]), as scikit-learn's PCA(whiten=True), but by at least DBL_EPSILON: a component of
 * zero variance then gives 0 (its projections are 0 or rounding noise), never 0/0.
 * @param p       the model
 * @param x       @p nrows rows of p->d values, row-major
 * @param whiten  nonzero: scale each column of y to unit variance over the fitted rows
 * @param y       out: nrows x p->k, row-major (caller-allocated)
 * Local; cannot fail.
 */
void adk_pca_transform(const adk_pca_t *p, const double *x, size_t nrows, int whiten, double *y);

/**
 * Write the model into an open output: /components (k x d), /explained_variance (k),
 * /explained_variance_ratio (k), /mean (d); attributes on "/": model = "pca", n_components, n_rows,
 * n_features, total_variance.
 * @return ADK_OK, ADK_EHDF5, ADK_EMPI; agreed. Collective.
 */
int adk_pca_save(adk_out_t *o, const adk_pca_t *p);

/** Free a model (NULL is a no-op). Local. */
void adk_pca_free(adk_pca_t *p);

#endif
