/*
 * adk_kstep: one Lloyd iteration of a k-means fit, E-step and M-step (internal to adk_kmeans, not
 * installed).
 */
#ifndef ADK_KSTEP_H
#define ADK_KSTEP_H

#include <stddef.h>
#include <stdint.h>

#include "adk_kfit.h"

/**
 * One chunk of a Lloyd E-step (an adk_dist_nearest_blocks callback, ud a fit_t): store the labels,
 * and with f->update add the rows to their clusters' block partials; flush each finished block to
 * the exact accumulator. adk_kbound's chunks end with it. Local.
 */
void adk_kstep_chunk(void *ud, size_t first, size_t count, const double *rows, const int32_t *label,
                     const double *best);

/**
 * E-step over all local rows (every row, or through the bounds for an accelerated algorithm), with
 * the M-step's sums when update, then the one allreduce of f->acc (sums, inertia, counts, changed
 * labels, stop requests). @return ADK_OK or an agreed error. Collective over f->ctx.
 */
int adk_kstep_estep(fit_t *f, int update);

/**
 * M-step from the reduced sums in f->acc: the new centres newc (k x d), the cluster counts
 * (k), empty clusters relocated to the farthest rows, and *shift_tot the squared centre shift.
 * @return ADK_OK or an agreed error. Collective over f->ctx (relocation only).
 */
int adk_kstep_mstep(fit_t *f, double *newc, int64_t *counts, double *shift_tot);

#endif
