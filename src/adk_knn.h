/*
 * adk_knn: exact k nearest neighbours of every row among all rows, for rows spread over ranks.
 * The blocks of rows travel once around the ranks (adk_ring); each rank keeps, for each of its own
 * rows, the k best (squared distance, global row) pairs seen so far, self excluded, ordered by
 * distance and then by the lower global row, a total order: the result does not depend on the
 * order the blocks arrive in, so it is the same bits at any rank count.
 *
 * Distances: a pair's squared distance is sum_j (a_j - b_j)^2 in one fixed order (adk_knn_sqdist),
 * so it is symmetric and exact ties stay ties (equal rows are at 0). To keep the cost near a GEMM,
 * tiles of pairs are first screened by the GEMM form ||a||^2 - 2 a.b + ||b||^2 (CBLAS), and only
 * pairs that could enter a row's list, by a rigorous bound on the GEMM form's rounding error, are
 * computed exactly. The screen changes only the speed, never the result.
 *
 * Memory: O(rows per rank x (D + k)) plus two ring blocks and one tile of 256 x 256 doubles.
 * Work: O(N^2 D / P) flops per rank, in GEMM.
 */
#ifndef ADK_KNN_H
#define ADK_KNN_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_rows.h"

/* The neighbours of this rank's rows. */
typedef struct adk_knn {
    int64_t n;      /* global rows */
    int64_t row0;   /* global row of the first local row */
    size_t nloc;    /* local rows */
    size_t k;       /* neighbours per row */
    int64_t *index; /* nloc x k global rows, nearest first */
    double *dist2;  /* nloc x k squared Euclidean distances, ascending */
} adk_knn_t;

/* Outlier score from the neighbour distances. */
typedef enum {
    ADK_KNN_KTH = 0, /* distance to the k-th neighbour (Ramaswamy et al. 2000) */
    ADK_KNN_MEAN = 1 /* mean distance to the k neighbours (Angiulli and Pizzuti 2002) */
} adk_knn_score_t;

/**
 * Exact k nearest neighbours of every row of @p x (each rank its own rows) among all rows.
 * @param x  this rank's rows; values checked finite by the reader and within ADK_ROWS_MAX_ABS
 * @param k  neighbours, 1 <= k <= N - 1
 * @param out  new neighbour lists (free with adk_knn_free), NULL on failure
 * @return ADK_OK; ADK_EINVAL (k out of range: the message names k and N); ADK_ENOMEM; ADK_EMPI;
 *         agreed. Collective. Identical results at any rank count.
 */
int adk_knn_compute(adk_ctx_t *ctx, const adk_rows_t *x, size_t k, adk_knn_t **out);

/**
 * Exact k nearest neighbours of every query row (each rank its own) among the reference rows
 * (spread over the ranks), as adk_knn_compute: the reference blocks travel around the ranks.
 * @param same  nonzero when @p ref is @p q itself (each row then leaves itself out; else an equal
 *              reference row is a neighbour at distance 0, as PyOD's KNN scores new rows)
 * @param k     1 <= k <= N_ref (N_ref - 1 when @p same)
 * @return ADK_OK; ADK_EINVAL (k out of range); ADK_EDATA (column counts differ); ADK_ENOMEM;
 *         ADK_EMPI; agreed. Collective. Identical at any rank count.
 */
int adk_knn_query(adk_ctx_t *ctx, const adk_rows_t *q, const adk_rows_t *ref, size_t k, int same,
                  adk_knn_t **out);

/** Free neighbour lists (NULL is a no-op). Local. */
void adk_knn_free(adk_knn_t *nn);

/** Squared Euclidean distance of two d-vectors in the fixed order adk_knn uses. Local, pure. */
double adk_knn_sqdist(const double *a, const double *b, size_t d);

/**
 * The outlier score of each local row (Euclidean distances: square roots of dist2).
 * @param score  out: nn->nloc values
 * Local.
 */
void adk_knn_score(const adk_knn_t *nn, adk_knn_score_t how, double *score);

/** Parse "kth" or "mean". @return 0, or -1 for anything else. Local, pure. */
int adk_knn_score_parse(const char *s, adk_knn_score_t *how);

#endif
