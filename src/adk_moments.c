/*
 * adk_moments: exact two-pass mean and variance / covariance of distributed rows through adk_repro
 * (method in adk_moments.h).
 */
#include "adk_moments.h"
#include "adk_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_part.h"
#include "adk_repro.h"

int adk_moments_compute(adk_ctx_t *ctx, const adk_rows_t *x, adk_moments_kind_t kind, double *mu,
                        double *s)
{
    const size_t d = x->d, n = x->nloc;
    const int64_t block = x->align >= 1 ? x->align : 1;
    const int full = kind == ADK_MOMENTS_COV;
    const size_t nq = full ? d * (d + 1) / 2 : d; /* second moments: packed lower triangle */
    const char *what = x->spec ? x->spec : "data";
    int st = ADK_OK;
    double *mm = NULL, *dev = NULL, *part = NULL;
    adk_racc_t *a = NULL;
    if (x->n < 1 || d < 1) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: no rows to take moments of", what);
    } else {
        mm = adk_malloc(2 * d * sizeof(double)); /* max, -min per column */
        dev = adk_malloc(d * sizeof(double));
        part = adk_malloc(nq * sizeof(double));
        if (!mm || !dev || !part || adk_racc_alloc(nq > d ? nq : d, 0, &a) != ADK_OK) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for the moments of %zu features", d);
        }
    }
    st = adk_ctx_agree(ctx, st);

    /* Pass 1: exact column sums. The bound of a block partial comes from the global max |x|. */
    if (st == ADK_OK) {
        for (size_t j = 0; j < 2 * d; j++) {
            mm[j] = -INFINITY;
        }
        for (size_t r = 0; r < n; r++) {
            for (size_t j = 0; j < d; j++) {
                double v = x->x[r * d + j];
                mm[j] = v > mm[j] ? v : mm[j];
                mm[d + j] = -v > mm[d + j] ? -v : mm[d + j];
            }
        }
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, mm, (int)(2 * d), MPI_DOUBLE, MPI_MAX);
    }
    if (st == ADK_OK) {
        for (size_t j = 0; j < d; j++) {
            double b = fmax(fabs(mm[j]), fabs(mm[d + j]));
            /* a partial of `block` values is below block * max; one spare bit for rounding */
            adk_racc_set_scale(a, j, adk_repro_exponent(b * (double)block) + 1);
        }
        for (size_t r = 0; r < n;) {
            size_t end = adk_part_block_end(x->row0, r, n, block);
            memset(part, 0, d * sizeof(double));
            for (; r < end; r++) {
                for (size_t j = 0; j < d; j++) {
                    part[j] += x->x[r * d + j];
                }
            }
            for (size_t j = 0; j < d; j++) {
                adk_racc_add(a, j, part[j]);
            }
        }
        st = adk_racc_allreduce(ctx, a);
    }
    if (st == ADK_OK) {
        for (size_t j = 0; j < d; j++) {
            /* a constant column has its value as mean, so its centred values are exactly 0 */
            mu[j] = mm[j] == -mm[d + j] ? mm[j] : adk_racc_get(a, j) / (double)x->n;
        }
        /* Pass 2 bound: max |x - mu| per column. */
        for (size_t j = 0; j < d; j++) {
            mm[j] = 0.0;
        }
        for (size_t r = 0; r < n; r++) {
            for (size_t j = 0; j < d; j++) {
                double v = fabs(x->x[r * d + j] - mu[j]);
                mm[j] = v > mm[j] ? v : mm[j];
            }
        }
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, mm, (int)d, MPI_DOUBLE, MPI_MAX);
    }
    for (size_t j = 0; j < d && st == ADK_OK; j++) {
        if (!isfinite(mm[j] * mm[j] * (double)block)) {
            /* identical on every rank: no agreement needed */
            st = ADK_ERR(ctx, ADK_EDATA,
                         "%s: values of feature %zu are too large to square (max |x - mu| = %g)",
                         what, j, mm[j]);
        }
    }
    if (st == ADK_OK) {
        /* Pass 2: exact sums of products of centred values, block partials in row order. */
        adk_racc_zero(a);
        for (size_t j = 0, q = 0; j < d; j++) {
            for (size_t k = full ? 0 : j; k <= j; k++, q++) {
                adk_racc_set_scale(a, q, adk_repro_exponent(mm[j] * mm[k] * (double)block) + 1);
            }
        }
        for (size_t r = 0; r < n;) {
            size_t end = adk_part_block_end(x->row0, r, n, block);
            memset(part, 0, nq * sizeof(double));
            for (; r < end; r++) {
                const double *xr = x->x + r * d;
                for (size_t j = 0; j < d; j++) {
                    dev[j] = xr[j] - mu[j];
                }
                if (full) {
                    double *pq = part;
                    for (size_t j = 0; j < d; j++) {
                        for (size_t k = 0; k <= j; k++) {
                            *pq++ += dev[j] * dev[k];
                        }
                    }
                } else {
                    for (size_t j = 0; j < d; j++) {
                        part[j] += dev[j] * dev[j];
                    }
                }
            }
            for (size_t q = 0; q < nq; q++) {
                adk_racc_add(a, q, part[q]);
            }
        }
        st = adk_racc_allreduce(ctx, a);
    }
    if (st == ADK_OK) {
        for (size_t j = 0, q = 0; j < d; j++) {
            if (full) {
                for (size_t k = 0; k <= j; k++, q++) {
                    s[j * d + k] = s[k * d + j] = adk_racc_get(a, q) / (double)x->n;
                }
            } else {
                s[j] = adk_racc_get(a, q++) / (double)x->n;
            }
        }
    }
    adk_racc_free(a);
    free(mm);
    free(dev);
    free(part);
    return st;
}
