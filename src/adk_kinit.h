/*
 * adk_kinit: the initial centres of a k-means run, greedy k-means++ or random (internal to
 * adk_kmeans, not installed).
 */
#ifndef ADK_KINIT_H
#define ADK_KINIT_H

#include "adk_kfit.h"
#include "adk_rng.h"

/**
 * Greedy k-means++ (scikit-learn's _kmeans_plusplus, 2 + floor(ln k) trials per centre) from the
 * stream rng: k centred centres into centres (k x d), the same for any split of the rows.
 * @return ADK_OK or an agreed error. Collective over f->ctx.
 */
int adk_kinit_kmeanspp(fit_t *f, adk_rng_t *rng, double *centres);

/**
 * k distinct rows drawn uniformly (Floyd's algorithm on rng), centred, into centres (k x d).
 * @return ADK_OK or an agreed error. Collective over f->ctx.
 */
int adk_kinit_random(fit_t *f, adk_rng_t *rng, double *centres);

#endif
