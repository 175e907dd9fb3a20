/*
 * adk_elbow: the knee or elbow of a curve by Kneedle (Satopaa, Albrecht, Irwin, Raghavan,
 * "Finding a 'Kneedle' in a Haystack", ICDCS Workshops 2011), offline, with the rules of the
 * reference implementation kneed 0.8.6 and its default interpolation (none). adkit-elbow uses it
 * on the K/inertia curve of k-means, which is convex and decreasing.
 */
#ifndef ADK_ELBOW_H
#define ADK_ELBOW_H

#include <stddef.h>
#include <stdint.h>

/* Shape of the curve (kneed's curve= and direction= arguments). */
typedef enum {
    ADK_KNEE_CONVEX_DECREASING = 0, /* elbow of an inertia curve */
    ADK_KNEE_CONVEX_INCREASING,
    ADK_KNEE_CONCAVE_DECREASING,
    ADK_KNEE_CONCAVE_INCREASING
} adk_knee_shape_t;

/**
 * Find the first knee by Kneedle.
 *
 * Steps (kneed 0.8.6): normalise x and y to [0, 1]; turn the curve into a concave increasing one
 * (convex decreasing: y -> 1 - y; concave decreasing: reversed; convex increasing: 1 - y
 * reversed); difference curve d = y - x; local maxima and minima of d as
 * scipy.signal.argrelextrema(d, >=) and (d, <=) with order 1 and clipped ends, so plateaus and
 * end points can be both; thresholds T = d[max] - s * mean(diff(x)), the mean summed as numpy
 * does (pairwise). Walking right from the first maximum up to the next-to-last point: a maximum
 * sets the threshold and arms the detector, a minimum (checked second) sets the threshold to 0
 * and disarms it until the next maximum; while armed, d[i+1] < T declares the last maximum a knee.
 *
 * @param x      n strictly increasing abscissae (for adkit-elbow: K)
 * @param y      n finite ordinates (inertia)
 * @param n      number of points; fewer than 2 never give a knee
 * @param shape  curve shape
 * @param s      sensitivity S >= 0 (1 in the paper and kneed; larger is more conservative)
 * @param diff   optional (NULL): n values of the difference curve, in the transformed
 *               orientation (reversed for CONCAVE_DECREASING and CONVEX_INCREASING)
 * @param knee   index into x of the knee, or -1 when there is none (flat curve, no maximum,
 *               no drop below a threshold)
 * @return ADK_OK, ADK_EINVAL (x not strictly increasing, non-finite x, y or s, s < 0, bad
 *         shape). Local (pure function).
 */
int adk_elbow_kneedle(const double *x, const double *y, size_t n, adk_knee_shape_t shape, double s,
                      double *diff, int64_t *knee);

/** numpy's sum of n doubles (0 + pairwise blocks of 128 with 8 accumulators). Local. */
double adk_elbow_np_sum(const double *a, size_t n);

#endif
