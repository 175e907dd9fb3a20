/*
 * adk_kmeans: distributed Lloyd k-means with scikit-learn's rules (greedy k-means++ or random
 * init, tolerance relative to the mean feature variance, strict convergence on unchanged labels,
 * empty clusters relocated to the farthest points, best of n_init by inertia), and the model file.
 *
 * Each iteration: every rank assigns its rows to the nearest centroid (blocked GEMM) and
 * accumulates per-cluster sums, counts, inertia and the changed-label count over fixed row blocks
 * into one exact fixed-point buffer; ONE MPI_Allreduce combines them. Results are bitwise
 * identical for any number of ranks.
 */
#ifndef ADK_KMEANS_H
#define ADK_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_out.h"
#include "adk_rows.h"

/* More runs than this is a typing error, not a plan (each run is a whole fit). */
#define ADK_KMEANS_MAX_N_INIT 10000

/* A fitted model as stored in a model file (HDF5). */
typedef struct adk_kmeans_model {
    size_t k, d;
    double *centroids; /* k x d: dataset /centroids */
    double inertia;    /* attributes on "/" */
    int n_iter;
    int converged;
    uint64_t seed;
    int n_init;           /* runs made (the best one is kept) */
    int kernel;           /* adk_kernel_t the fit used (distances differ in the last bits) */
    char init[256];       /* "k-means++", "random" or the init file spec */
    double *thresholds;   /* k values: dataset /thresholds, or NULL when not (yet) computed */
    char thr_method[256]; /* attribute "method" of /thresholds ("" when absent or unreadable) */
} adk_kmeans_model_t;

typedef struct {
    int k;            /* clusters (>= 1, <= rows) */
    const char *init; /* "k-means++", "random" or "FILE.h5:/dataset" with k x d centroids */
    int n_init;       /* runs with different seeds; 0 = auto (1, or 10 for "random") */
    int max_iter;     /* Lloyd iterations per run (300) */
    double tol;       /* relative to the mean per-feature variance (1e-4) */
    uint64_t seed;
    int verbose; /* rank 0 prints one line per iteration to stderr */
    int kernel;  /* adk_kernel_t: nearest-centre kernel (ADK_KERNEL_AUTO) */
} adk_kmeans_params_t;

/** Defaults as scikit-learn: k 8, k-means++, auto n_init, 300 iterations, tol 1e-4, seed 0.
 * Local. */
void adk_kmeans_params_default(adk_kmeans_params_t *p);

/**
 * Fit on the rows of @p x, which must be held in the reproducibility partition
 * (read with align = ADK_ALIGN_REPRO), the guarantee behind rank-count invariance.
 * @param labels  optional, x->nloc: final cluster of each local row (they match the centroids)
 * @param dist    optional, x->nloc: Euclidean distance of each local row to its centroid
 * @return ADK_OK, ADK_EINVAL (k < 1, bad init), ADK_EDATA (k > n, init shape), ADK_ENOMEM,
 *         ADK_EMPI. Collective.
 */
int adk_kmeans_fit(adk_ctx_t *ctx, const adk_kmeans_params_t *p, const adk_rows_t *x,
                   adk_kmeans_model_t **model, int32_t *labels, double *dist);

/**
 * Nearest centroid and its Euclidean distance for rows in any partition (new data).
 * @return ADK_OK, ADK_EDATA (width differs from the model), ADK_ENOMEM. Collective.
 */
int adk_kmeans_predict(adk_ctx_t *ctx, const adk_kmeans_model_t *m, const adk_rows_t *x,
                       int32_t *labels, double *dist);

/** Read /centroids (+ attributes, + /thresholds if present). Collective. */
int adk_kmeans_model_read(adk_ctx_t *ctx, const char *path, adk_kmeans_model_t **out);

/** Write /centroids and the model attributes into an open output. Collective. */
int adk_kmeans_model_write(adk_out_t *o, const adk_kmeans_model_t *m);

/** Allocate an empty k x d model. Local. */
int adk_kmeans_model_alloc(size_t k, size_t d, adk_kmeans_model_t **out);
void adk_kmeans_model_free(adk_kmeans_model_t *m);

#endif
