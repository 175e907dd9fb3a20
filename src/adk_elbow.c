/*
 * adk_elbow: Kneedle on a short curve (see adk_elbow.h for the rules). The arithmetic follows
 * kneed's numpy expressions operation by operation (element-wise subtraction and division, a
 * pairwise mean), so maxima, minima and threshold comparisons come out the same even on curves
 * whose difference curve is flat up to rounding.
 */
#include "adk_elbow.h"
#include "adk_mem.h"

#include <math.h>
#include <stdlib.h>

#include "adk_ctx.h"

double adk_elbow_np_sum(const double *a, size_t n)
{
    if (n < 8) {
        double r = 0.0;
        for (size_t i = 0; i < n; i++) {
            r += a[i];
        }
        return r;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) {
            r[j] = a[j];
        }
        size_t i = 8;
        for (; i < n - n % 8; i += 8) {
            for (int j = 0; j < 8; j++) {
                r[j] += a[i + (size_t)j];
            }
        }
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) {
            res += a[i];
        }
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return adk_elbow_np_sum(a, n2) + adk_elbow_np_sum(a + n2, n - n2);
}

/* (v - min) / (max - min) element-wise, as kneed's normalisation. */
static void normalise(const double *v, size_t n, double *out)
{
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (v[i] - lo) / (hi - lo);
    }
}

/* argrelextrema with order 1 and mode 'clip': neighbours beyond the ends are the point itself. */
static int is_max(const double *d, size_t n, size_t i)
{
    size_t lo = i > 0 ? i - 1 : 0, hi = i + 1 < n ? i + 1 : n - 1;
    return d[i] >= d[lo] && d[i] >= d[hi];
}

static int is_min(const double *d, size_t n, size_t i)
{
    size_t lo = i > 0 ? i - 1 : 0, hi = i + 1 < n ? i + 1 : n - 1;
    return d[i] <= d[lo] && d[i] <= d[hi];
}

int adk_elbow_kneedle(const double *x, const double *y, size_t n, adk_knee_shape_t shape, double s,
                      double *diff, int64_t *knee)
{
    *knee = -1;
    if (!isfinite(s) || s < 0.0 || shape < ADK_KNEE_CONVEX_DECREASING ||
        shape > ADK_KNEE_CONCAVE_INCREASING) {
        return ADK_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]) || (i > 0 && !(x[i] > x[i - 1]))) {
            return ADK_EINVAL;
        }
    }
    if (n == 0) {
        return ADK_OK;
    }
    double *xn = adk_malloc(3 * n * sizeof(double));
    if (!xn) {
        return ADK_ENOMEM;
    }
    double *yn = xn + n, *d = yn + n;
    int flat = 1;
    for (size_t i = 1; i < n; i++) {
        flat &= y[i] == y[0];
    }
    if (n >= 2) {
        normalise(x, n, xn);
    } else {
        xn[0] = 0.0;
    }
    if (!flat) {
        normalise(y, n, yn);
        /* To concave increasing; the maximum of a normalised curve is exactly 1. */
        int flip = shape == ADK_KNEE_CONCAVE_DECREASING || shape == ADK_KNEE_CONVEX_INCREASING;
        int mirror = shape == ADK_KNEE_CONVEX_DECREASING || shape == ADK_KNEE_CONVEX_INCREASING;
        for (size_t i = 0; i < n; i++) {
            double v = flip ? yn[n - 1 - i] : yn[i];
            d[i] = (mirror ? 1.0 - v : v) - xn[i];
        }
    } else {
        /* kneed divides by zero here; its NaN curve has no maximum, hence no knee. */
        for (size_t i = 0; i < n; i++) {
            d[i] = NAN;
        }
    }
    if (diff) {
        for (size_t i = 0; i < n; i++) {
            diff[i] = d[i];
        }
    }
    if (flat || n < 2) {
        free(xn);
        return ADK_OK;
    }
    /* mean(diff(x_n)), summed the way numpy does; yn is free for the differences now. */
    for (size_t i = 0; i + 1 < n; i++) {
        yn[i] = xn[i + 1] - xn[i];
    }
    double step = fabs(adk_elbow_np_sum(yn, n - 1) / (double)(n - 1));
    double thr = 0.0;
    size_t ti = 0;
    int armed = 0, seen_max = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (is_max(d, n, i)) {
            thr = d[i] - s * step;
            ti = i;
            armed = 1;
            seen_max = 1;
        }
        if (!seen_max) {
            continue; /* nothing before the first maximum counts */
        }
        if (is_min(d, n, i)) {
            thr = 0.0;
            armed = 0;
        }
        if (armed && d[i + 1] < thr) {
            int flip = shape == ADK_KNEE_CONCAVE_DECREASING || shape == ADK_KNEE_CONVEX_INCREASING;
            *knee = flip ? (int64_t)(n - 1 - ti) : (int64_t)ti;
            break;
        }
    }
    free(xn);
    return ADK_OK;
}
