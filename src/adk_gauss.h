/*
 * adk_gauss: the Gaussian model of anomaly detection. Fit per-feature means and variances (or the
 * full covariance) on normal training rows with exact reproducible sums (adk_moments), evaluate
 * log densities, save and load the model. The density threshold epsilon is chosen by the F1
 * sweep of adk_sweep (a row is an anomaly when p < epsilon) and stored in the model file; the
 * fit / select / score pipelines are the program adkit-gauss.
 *
 * Density. The univariate model is the product of per-feature normal densities
 *   log p(x) = -1/2 sum_j [ log(2 pi var_j) + (x_j - mu_j)^2 / var_j ],
 * the full model the multivariate normal with a Cholesky factor L of the covariance (GSL):
 *   log p(x) = -1/2 [ d log(2 pi) + 2 sum_j log L_jj + |L^-1 (x - mu)|^2 ].
 * Both are computed in log space, so 64 features do not underflow. (The recipe's formula divides by
 * sqrt(2 pi) var_j instead of sqrt(2 pi var_j); that rescales p by a constant factor, so it selects
 * the same predictions and F1. adkit implements the correct density.)
 */
#ifndef ADK_GAUSS_H
#define ADK_GAUSS_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_out.h"
#include "adk_rows.h"

/*
 * A covariance is treated as singular when a Cholesky pivot L_jj^2 falls below this fraction of
 * the variance of feature j: feature j is then, to about ten digits, a linear combination of the
 * features before it, and its log density would be dominated by rounding.
 */
#define ADK_GAUSS_PIVOT_TOL 1e-10

typedef enum { ADK_GAUSS_DIAG = 0, ADK_GAUSS_FULL = 1 } adk_gauss_kind_t;

/* How to fit. Zero-initialise for the plain fit (diag, no regularisation). */
typedef struct {
    adk_gauss_kind_t kind;
    double min_var; /* > 0: every variance (diag) / covariance diagonal entry floored at min_var */
    double ridge;   /* > 0: ridge added to every variance, i.e. Sigma + ridge I (after the floor) */
} adk_gauss_params_t;

/* A fitted model, identical on every rank. */
typedef struct adk_gauss {
    adk_gauss_kind_t kind;
    size_t d;
    int64_t m;        /* training rows (0 when unknown, e.g. a hand-made model file) */
    double *mu;       /* d means */
    double *var;      /* d variances: the model's (diag) or the covariance diagonal (full) */
    double *cov;      /* full: d x d covariance, row-major (lower triangle used); diag: NULL */
    double min_var;   /* regularisation applied (0: none) */
    double ridge;     /* regularisation applied (0: none) */
    int64_t nfloored; /* variances raised to min_var */
    /* derived (adk_gauss_from_moments) */
    double *chol;   /* full: lower Cholesky factor L of cov, row-major; diag: NULL */
    double lognorm; /* -1/2 (d log 2 pi + log det Sigma) */
    /* threshold, when the model file has one (adk_gauss_load) */
    int has_eps;
    double eps;
    int eps_log; /* eps is a threshold on log p rather than on p */
} adk_gauss_t;

/**
 * Fit the model on this rank's training rows: population mean and variances (diag) or covariance
 * (full) by adk_moments_compute (as np.var and np.cov(bias=True)), bitwise identical for any rank
 * count when @p x was read with ADK_ALIGN_REPRO; a constant column gets its value as mean and
 * variance exactly 0. Then the regularisation and the density constants.
 * @param x    this rank's rows (x->spec names the data in messages)
 * @param p    kind and regularisation (floor at min_var, then add ridge)
 * @param out  the model (free with adk_gauss_free)
 * @return ADK_OK; ADK_EINVAL (negative min_var or ridge); ADK_EDATA: zero variances left after
 *         regularisation (the message lists the feature indices), a singular covariance (names
 *         the first dependent feature), values too large to square; ADK_ENOMEM, ADK_EMPI.
 * Collective (the allreduces of adk_moments_compute); the status is agreed.
 */
int adk_gauss_fit(adk_ctx_t *ctx, const adk_rows_t *x, const adk_gauss_params_t *p,
                  adk_gauss_t **out);

/**
 * Build a model from its moments (a loaded model file) and derive the density constants:
 * diag requires every variance > 0, full a positive definite covariance (Cholesky with the
 * ADK_GAUSS_PIVOT_TOL test).
 * @param what  names the source in messages ("model.h5")
 * @param mu    d means; @p s: d variances (diag) or d x d covariance (full); both copied
 * @return ADK_OK, ADK_EDATA (message names the feature), ADK_ENOMEM. Local (deterministic, so
 *         every rank given the same arrays gets the same status).
 */
int adk_gauss_from_moments(adk_ctx_t *ctx, const char *what, adk_gauss_kind_t kind, size_t d,
                           const double *mu, const double *s, adk_gauss_t **out);

/** Free a model (NULL: no-op). Local. */
void adk_gauss_free(adk_gauss_t *g);

/**
 * Log density of @p n rows (n x g->d, row-major) into @p logp. Each row is computed on its own in
 * a fixed order, so its value does not depend on the rank count.
 * @return ADK_OK, ADK_ENOMEM. Local.
 */
int adk_gauss_logpdf(adk_ctx_t *ctx, const adk_gauss_t *g, const double *x, size_t n, double *logp);

/**
 * Write the model: /mu and /var (diag) or /cov (full); attributes on "/": model = "gauss",
 * kind = "diag"/"full", m, d, and min_var, ridge, n_floored when regularised. Collective.
 */
int adk_gauss_save(adk_out_t *o, const adk_gauss_t *g);

/**
 * Read a model file written by adk_gauss_save (or by hand: /mu with /var or /cov), and /epsilon
 * with its "log" attribute when present.
 * @return ADK_OK, ADK_EIO, ADK_EHDF5, ADK_EDATA (shapes, variances, not positive definite).
 * Collective.
 */
int adk_gauss_load(adk_ctx_t *ctx, const char *file, adk_gauss_t **out);

#endif
