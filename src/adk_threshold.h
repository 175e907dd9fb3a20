/*
 * adk_threshold: anomaly boundaries of a clustering model from the distances of its training rows
 * to their nearest centroid. A row is later flagged when its distance exceeds its cluster's
 * threshold. Four rules:
 *
 *   per-cluster-percentile Q  the Q-th percentile of each cluster's distances, bit-identical to
 *                             numpy 1.24 np.percentile(d, Q) (method "linear"), by the exact
 *                             distributed selection of adk_select (all clusters in the same rounds)
 *   global-percentile Q       one threshold: the Q-th percentile of all distances
 *   sigma N                   per cluster mean + N standard deviations of the distances
 *   global-sigma N            mean + N sd of all distances
 *
 * Standard deviations are population ones (ddof = 0, as np.std): sd = sqrt(sum (d - mean)^2 / n)
 * with mean = sum d / n, both sums exact (adk_repro fixed point over the reproducibility blocks,
 * rounded once), so they are identical at any rank count and agree with numpy to ~1e-16 relative
 * (numpy's pairwise sums round differently).
 *
 * Small clusters: a cluster without training rows gets +inf (it never flags anything; the program
 * warns). One row: its percentile is that distance, and its sd is 0, so every rule gives that
 * distance. Global rules store the one threshold for every cluster.
 */
#ifndef ADK_THRESHOLD_H
#define ADK_THRESHOLD_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_out.h"
#include "adk_rows.h"
#include "adk_select.h"

typedef enum {
    ADK_THR_PERCENTILE = 0,    /* per-cluster percentile */
    ADK_THR_GLOBAL_PERCENTILE, /* percentile of all distances */
    ADK_THR_SIGMA,             /* per-cluster mean + N sd */
    ADK_THR_GLOBAL_SIGMA       /* mean + N sd of all distances */
} adk_thr_method_t;

typedef struct {
    adk_thr_method_t method;
    double q; /* percentile in [0, 100], or N standard deviations (>= 0) */
    int bits; /* selection radix bits per round (adk_select_opts_t); 0 = default */
} adk_thr_params_t;

/* The boundary of every cluster. */
typedef struct adk_thr {
    size_t k;
    adk_thr_method_t method;
    double q;
    double *value;            /* k thresholds (+inf for a cluster without rows) */
    int64_t *n;               /* k training rows per cluster */
    int64_t n_total;          /* all training rows */
    size_t n_empty;           /* clusters without rows */
    size_t n_single;          /* clusters with one row */
    adk_select_stats_t stats; /* the selection (percentile rules; zero otherwise) */
    int rounds;               /* all data allreduces of the computation */
    double seconds;           /* computation time, MAX over ranks */
} adk_thr_t;

/** "per-cluster-percentile", "global-percentile", "sigma", "global-sigma". Local. */
const char *adk_threshold_method_name(adk_thr_method_t m);

/**
 * Check the parameters (Q in [0, 100] for percentiles, N finite and >= 0 for sigma rules, radix
 * bits 0 or 1..16) before any work. @return ADK_OK or ADK_EINVAL (message names the option). Local.
 */
int adk_threshold_check(adk_ctx_t *ctx, const adk_thr_params_t *p);

/**
 * Read this rank's rows of an assignment file (/cluster int, /distance float, both 1-D of the same
 * length, as adkit-kmeans --assign writes them) in the reproducibility partition
 * (ADK_ALIGN_REPRO), as a one-column row block: x = distances, labels = clusters. Values are
 * checked by adk_threshold_compute, which knows K.
 * @return ADK_OK, ADK_EIO (missing or unreadable file), ADK_EDATA (missing dataset, not 1-D,
 *         lengths differ, empty, non-integer cluster), ADK_EHDF5, ADK_ENOMEM. Collective.
 */
int adk_threshold_read_assign(adk_ctx_t *ctx, const char *file, adk_rows_t **out);

/**
 * Thresholds of @p k clusters from the training assignment @p a.
 * @param a  an assignment: d = 1 (x = distances), labels = clusters, in a partition aligned to
 *           a->align (ADK_ALIGN_REPRO): the sums of the sigma rules are formed per block
 * @return ADK_OK; ADK_EINVAL (k < 1, q out of range: percentile outside [0, 100], N < 0 or not
 *         finite); ADK_EDATA (cluster outside [0, k), distance NaN, infinite or negative: the
 *         message names the row); ADK_ENOMEM; ADK_EMPI. Agreed on every rank. Collective.
 */
int adk_threshold_compute(adk_ctx_t *ctx, const adk_thr_params_t *p, size_t k, const adk_rows_t *a,
                          adk_thr_t **out);

/** Free a result (NULL: no-op). Local. */
void adk_threshold_free(adk_thr_t *t);

/**
 * One warning line (rank 0, even when quiet) naming the clusters with 0 or 1 training rows, for
 * the per-cluster rules; nothing otherwise. Local.
 */
void adk_threshold_warn_small(adk_ctx_t *ctx, const adk_thr_t *t);

/**
 * Write /thresholds (k float64) into an open output, replacing an existing one, with attributes
 * method (string), q (the Q or N), n (k training-row counts), n_total, command_line and
 * adkit_version (of this run: the model's root attributes keep the k-means run's provenance).
 * @return ADK_OK, ADK_EHDF5, ADK_EIO, ADK_ENOMEM, agreed. Collective.
 */
int adk_threshold_write(adk_ctx_t *ctx, adk_out_t *o, const adk_thr_t *t);

#endif
