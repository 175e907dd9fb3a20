/*
 * adk_metrics: cluster quality of labelled rows, as scikit-learn defines it: inertia (within-
 * cluster sum of squares to given centroids), the silhouette score (exact by a ring pass of row
 * blocks, or on a seeded sample), and the Davies-Bouldin and Calinski-Harabasz indices.
 *
 * Like sklearn.metrics, the silhouette, Davies-Bouldin and Calinski-Harabasz use the labels only:
 * cluster means come from the labelled rows, and clusters with no rows do not count. Every sum
 * over rows goes through adk_repro on fixed global row blocks, so results are bitwise identical
 * for any rank count; memory stays O(rows per rank x (columns + clusters)).
 */
#ifndef ADK_METRICS_H
#define ADK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_rows.h"

typedef struct adk_metrics {
    int64_t n;                /* labelled rows */
    size_t k;                 /* label range [0, k) */
    int64_t n_labels;         /* clusters with at least one row */
    double inertia;           /* sum of squared distances to the given centroids (NAN: none) */
    double davies_bouldin;    /* sklearn.metrics.davies_bouldin_score */
    double calinski_harabasz; /* sklearn.metrics.calinski_harabasz_score */
} adk_metrics_t;

/**
 * Inertia, Davies-Bouldin and Calinski-Harabasz of this rank's rows and their labels.
 *
 * Davies-Bouldin: s_k = mean Euclidean distance of cluster k's rows to their mean m_k;
 * DB = mean over clusters of max_{j != k} (s_k + s_j) / |m_k - m_j| (a zero distance counts as
 * infinite), and 0 when every s_k or every |m_k - m_j| is within 1e-8 of 0 (numpy allclose).
 * Calinski-Harabasz: [sum_k n_k |m_k - m|^2 / (L - 1)] / [sum_i |x_i - m_label|^2 / (n - L)]
 * with L clusters present, and 1 when the within-cluster sum is 0.
 *
 * @param x          this rank's rows; partial sums follow its alignment x->align, so read with
 *                   align = ADK_ALIGN_REPRO (any alignment gives rank-count-invariant results)
 * @param labels     x->nloc labels in [0, k)
 * @param k          label range (the model's number of centroids)
 * @param centroids  k x x->d centroids for the inertia, or NULL (inertia NAN)
 * @param out        results, identical on every rank
 * @return ADK_OK; ADK_EDATA (a label outside [0, k), fewer than 2 or more than n - 1 clusters
 *         present: the message names the global row or the counts); ADK_EINVAL (k = 0);
 *         ADK_ENOMEM; ADK_EMPI. Collective.
 */
int adk_metrics_clusters(adk_ctx_t *ctx, const adk_rows_t *x, const int32_t *labels, size_t k,
                         const double *centroids, adk_metrics_t *out);

/**
 * Silhouette score (sklearn.metrics.silhouette_score, Euclidean), exact or on a sample.
 *
 * For each row i: a = mean distance to the other rows of its cluster, b = the smallest mean
 * distance to the rows of another cluster, s = (b - a) / max(a, b), and s = 0 for a row alone in
 * its cluster; the score is the mean of s. Distances are sqrt(sum_j (x_j - y_j)^2), summed in
 * column order. The row blocks travel once around the ranks in a ring (adk_ring, P - 1 steps), and
 * the distance sums of each row to each cluster are accumulated exactly per global row block, so
 * the result does not depend on the order in which blocks arrive.
 *
 * Sample: with 0 < sample_size < n, global row g takes part when
 * adk_metrics_in_sample(n, sample_size, seed, g), which picks exactly sample_size rows whatever
 * the rank count, and the exact score of that subset is returned (only its labels count). It is
 * not scikit-learn's RandomState subset, so the value differs from sklearn's sampled estimate.
 *
 * @param x            this rank's rows (see adk_metrics_clusters about the alignment)
 * @param labels       x->nloc labels in [0, k)
 * @param k            label range
 * @param sample_size  0 (or >= n): every row; otherwise the size of the sample
 * @param seed         sample seed (ignored without a sample)
 * @param score        the score, identical on every rank
 * @param n_used       optional (NULL): rows the score is the mean of
 * @param samples      optional (NULL): x->nloc values, the s of each local row
 *                     (sklearn.metrics.silhouette_samples on the rows used; NAN outside the
 *                     sample)
 * @return ADK_OK; ADK_EDATA (a label outside [0, k), fewer than 2 or more than n_used - 1
 *         clusters among the rows used); ADK_EINVAL (k = 0, sample_size < 0, one rank's rows
 *         used exceed one MPI message of the ring pass, adk_ring); ADK_ENOMEM; ADK_EMPI.
 *         Collective. Cost per rank: about 3 n_used^2 d / P flops, P - 1 messages of
 *         about n_used (d + 2) / P doubles; memory O((n_used / P) (d + k)), about
 *         8 (3 d + 6) + 52 k bytes per row of the largest rank's share (the exact per-cluster
 *         sums are 4 int64 digits each).
 */
int adk_metrics_silhouette(adk_ctx_t *ctx, const adk_rows_t *x, const int32_t *labels, size_t k,
                           int64_t sample_size, uint64_t seed, double *score, int64_t *n_used,
                           double *samples);

/**
 * Whether global row @p g of @p n is in the silhouette sample of @p s rows for @p seed:
 * adk_rng_permute(seed, n, g) < s. Local (pure function).
 */
int adk_metrics_in_sample(int64_t n, int64_t s, uint64_t seed, int64_t g);

#endif
