/*
 * adk_vec: the small vector kernels that several modules need with the same bits: the squared norm
 * of a row and the squared Euclidean distance of two rows, each summed in one fixed order (column
 * 0 first). Callers whose results are compared bitwise (metrics, k-means) rely on that order, so
 * any other order gets its own function with its own name here, never a change to these.
 */
#ifndef ADK_VEC_H
#define ADK_VEC_H

#include <stddef.h>

/**
 * Squared Euclidean norm sum_j a_j^2 of @p d values, accumulated in column order
 * (j = 0, 1, ..., d - 1) in one double, without FMA (the build uses -ffp-contract=off).
 * @return the sum; 0 for d = 0. Local (pure function).
 */
double adk_vec_norm2(const double *a, size_t d);

/**
 * Squared Euclidean distance sum_j (a_j - b_j)^2 of two rows of @p d values, in the direct,
 * cancellation-free form, accumulated in column order in one double as adk_vec_norm2.
 * @return the sum; 0 for d = 0. Local (pure function).
 */
double adk_vec_sq_dist(const double *a, const double *b, size_t d);

#endif
