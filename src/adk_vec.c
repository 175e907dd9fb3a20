/*
 * adk_vec: row norms and distances in one fixed summation order (see adk_vec.h).
 * The loops stay plain sequential sums on purpose: vectorising them would reassociate the sum and
 * change results that tests and users compare bitwise across versions and rank counts.
 */
#include "adk_vec.h"

double adk_vec_norm2(const double *a, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        s += a[j] * a[j];
    }
    return s;
}

double adk_vec_sq_dist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double u = a[j] - b[j];
        s += u * u;
    }
    return s;
}
