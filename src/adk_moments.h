/*
 * adk_moments: mean and covariance (or per-feature variance) of distributed rows, exact and the
 * same bits at any rank count. Used by the Gaussian model (adk_gauss) and PCA.
 *
 * Method: two passes over the rows, as np.mean and np.var / np.cov(bias=True) (population
 * moments, divided by m). Pass 1 sums every column, pass 2 the products of centred values
 * (x_j - mu_j)(x_k - mu_k), which avoids the cancellation of E[x^2] - mu^2. Each pass forms
 * partial sums over the fixed global row blocks of the rows' alignment (adk_part_block_end) and
 * adds them exactly (adk_repro fixed point, one allreduce), with the bound of a partial taken
 * from the global max |x| (pass 1) or max |x - mu| (pass 2), so the moments are rounded once and
 * depend only on the data when the rows were read with ADK_ALIGN_REPRO.
 * Cost: four allreduces (two bounds, two sums) of d or d(d+1)/2 values; O(m d) or O(m d^2) work
 * per rank for m local rows.
 */
#ifndef ADK_MOMENTS_H
#define ADK_MOMENTS_H

#include <stddef.h>

#include "adk_ctx.h"
#include "adk_rows.h"

/* Which second moments to compute. */
typedef enum {
    ADK_MOMENTS_VAR = 0, /* d per-feature variances */
    ADK_MOMENTS_COV = 1  /* the d x d covariance matrix */
} adk_moments_kind_t;

/**
 * Mean and population variances or covariance of all ranks' rows.
 * A constant column gets its value as mean exactly, and variance (and covariances) exactly 0,
 * even where the sum of its values divided by m would not round back to the value.
 * @param x     this rank's rows (x->spec names the data in messages; x->align its blocks)
 * @param kind  ADK_MOMENTS_VAR or ADK_MOMENTS_COV
 * @param mu    out: d means
 * @param s     out: d variances (VAR) or the d x d covariance, row-major, symmetric (COV)
 * @return ADK_OK; ADK_EDATA (no rows, no columns, values too large to square: the message names
 *         the feature); ADK_ENOMEM, ADK_EMPI, ADK_EINTERNAL (a non-finite value: callers check
 *         finiteness when reading). Collective; the status is agreed. Identical on every rank.
 */
int adk_moments_compute(adk_ctx_t *ctx, const adk_rows_t *x, adk_moments_kind_t kind, double *mu,
                        double *s);

#endif
