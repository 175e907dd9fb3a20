/*
 * adk_kbound: the exact acceleration of a k-means fit, Hamerly's and Yinyang's bounds and the
 * incremental M-step (internal to adk_kmeans, not installed).
 */
#ifndef ADK_KBOUND_H
#define ADK_KBOUND_H

#include <stddef.h>

#include "adk_kfit.h"

/** The relative slack G = (4 d + 64) 2^-53 of every bound for rows of d values. */
double adk_kbound_slack(size_t d);

/**
 * Before a pass with new centres: the centres' drifts since the bounds' centres and their
 * separations (Yinyang's groups on a run's first pass); without valid bounds every row is marked
 * for the kernel. Local (the same on every rank: the centres are).
 */
void adk_kbound_prepare(fit_t *f);

/**
 * A window of an accelerated pass (an adk_rowsrc_pass callback, ud a fit_t): move the bounds of
 * its rows, let the kernel see the rows they do not settle, and with f->incr re-sum the blocks
 * whose rows changed cluster. @return ADK_OK. Local.
 */
int adk_kbound_window(void *ud, const adk_rows_t *w, size_t off);

/** Fraction of the row-centre distances of the last pass that the bounds skipped. Local. */
double adk_kbound_skipped(const fit_t *f);

#endif
