/*
 * adk_repro: exact fixed-point accumulation in int64 digit slots (see adk_repro.h for the method).
 */
#include "adk_repro.h"
#include "adk_mem.h"
#include "adk_msg.h"

#include "adk_part.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define L ADK_REPRO_LIMBS
#define RADIX 4294967296.0 /* 2^32 */

int adk_racc_alloc(size_t nreal, size_t nint, adk_racc_t **out)
{
    *out = NULL;
    adk_racc_t *a = adk_calloc(1, sizeof(*a));
    if (!a) {
        return ADK_ENOMEM;
    }
    a->nreal = nreal;
    a->nint = nint;
    a->len = nreal * L + nint + 1;
    a->scale = adk_calloc(nreal ? nreal : 1, sizeof(int));
    a->inv = adk_calloc(nreal ? nreal : 1, sizeof(double));
    a->buf = adk_calloc(a->len, sizeof(int64_t));
    if (!a->scale || !a->inv || !a->buf) {
        adk_racc_free(a);
        return ADK_ENOMEM;
    }
    for (size_t i = 0; i < nreal; i++) {
        a->inv[i] = 1.0;
    }
    *out = a;
    return ADK_OK;
}

void adk_racc_free(adk_racc_t *a)
{
    if (!a) {
        return;
    }
    free(a->scale);
    free(a->inv);
    free(a->buf);
    free(a);
}

void adk_racc_zero(adk_racc_t *a)
{
    memset(a->buf, 0, a->len * sizeof(int64_t));
}

int adk_repro_exponent(double bound)
{
    bound = fabs(bound);
    if (!(bound > 0.0)) {
        return -1000;
    }
    if (isinf(bound)) {
        return 1000;
    }
    int e;
    double m = frexp(bound, &e); /* bound = m 2^e, m in [0.5, 1): bound < 2^e */
    (void)m;
    if (e < -1000) {
        e = -1000;
    }
    if (e > 1000) {
        e = 1000;
    }
    return e;
}

void adk_racc_set_scale(adk_racc_t *a, size_t i, int e)
{
    a->scale[i] = e;
    a->inv[i] = ldexp(1.0, -e);
}

void adk_racc_add(adk_racc_t *a, size_t i, double v)
{
    double y = v * a->inv[i];
    if (!(fabs(y) < 1.0)) { /* also catches NaN: never convert it to an integer */
        a->buf[a->len - 1] = 1;
        return;
    }
    int64_t *d = a->buf + i * L;
    for (int k = 0; k < L; k++) {
        y *= RADIX; /* exact: power-of-two scaling */
        int64_t t = (int64_t)y;
        d[k] += t;
        y -= (double)t; /* exact: removes the integer part */
    }
}

void adk_racc_addi(adk_racc_t *a, size_t i, int64_t v)
{
    a->buf[a->nreal * L + i] += v;
}

void adk_racc_clear_real(adk_racc_t *a, size_t i)
{
    memset(a->buf + i * L, 0, L * sizeof(int64_t));
}

void adk_racc_merge(adk_racc_t *dst, const adk_racc_t *src)
{
    for (size_t i = 0; i + 1 < dst->len; i++) {
        dst->buf[i] += src->buf[i];
    }
    dst->buf[dst->len - 1] |= src->buf[src->len - 1];
}

int adk_racc_allreduce(adk_ctx_t *ctx, adk_racc_t *a)
{
    if (adk_ctx_size(ctx) > 1) {
        ADK_CHECK(adk_msg_allreduce(ctx, a->buf, a->len, sizeof(int64_t), MPI_INT64_T, MPI_SUM));
    }
    if (a->buf[a->len - 1] != 0) { /* the flag is global after the sum: all ranks see it */
        return ADK_ERR(ctx, ADK_EINTERNAL,
                       "reproducible sum: a contribution exceeded its agreed bound");
    }
    return ADK_OK;
}

double adk_racc_get(const adk_racc_t *a, size_t i)
{
    const int64_t *d = a->buf + i * L;
    int64_t g[L];
    memcpy(g, d, sizeof(g));
    /* Carry-normalise: g[1..L-1] into [0, 2^32), g[0] keeps the sign. Value, in units of
     * 2^(e-32L), is g0 2^96 + g1 2^64 + g2 2^32 + g3. */
    for (int k = L - 1; k > 0; k--) {
        int64_t carry = g[k] >> 32; /* floor division by 2^32 */
        g[k] -= carry * (INT64_C(1) << 32);
        g[k - 1] += carry;
    }
    unsigned __int128 low = ((unsigned __int128)(uint64_t)g[1] << 64) |
                            ((unsigned __int128)(uint64_t)g[2] << 32) | (uint64_t)g[3];
    int neg = g[0] < 0;
    uint64_t top;
    if (!neg) {
        top = (uint64_t)g[0];
    } else if (low == 0) {
        top = (uint64_t)(-(g[0] + 1)) + 1;
    } else { /* |V| = (-g0 - 1) 2^96 + (2^96 - low) */
        top = (uint64_t)(-(g[0] + 1));
        low = ((unsigned __int128)1 << 96) - low;
    }
    double r;
    int shift = a->scale[i] - 32 * L;
    if (top == 0) {
        r = (double)low; /* < 2^96: one correctly rounded conversion */
    } else {
        /* Keep the top 96+ bits and fold the rest into a sticky bit below the rounding point. */
        unsigned __int128 w = ((unsigned __int128)top << 64) | (uint64_t)(low >> 32);
        if ((uint64_t)(low & 0xffffffffu) != 0) {
            w |= 1;
        }
        r = (double)w;
        shift += 32;
    }
    r = ldexp(r, shift);
    return neg ? -r : r;
}

int64_t adk_racc_geti(const adk_racc_t *a, size_t i)
{
    return a->buf[a->nreal * L + i];
}

/* Max |x| over the local block, agreed over ranks. */
static int global_absmax(adk_ctx_t *ctx, const double *x, size_t n, size_t d, double *mx)
{
    for (size_t j = 0; j < d; j++) {
        mx[j] = 0.0;
    }
    for (size_t r = 0; r < n; r++) {
        for (size_t j = 0; j < d; j++) {
            double v = fabs(x[r * d + j]);
            if (v > mx[j] || v != v) {
                mx[j] = v;
            }
        }
    }
    if (adk_ctx_size(ctx) > 1 &&
        ADK_MPI_CALL(ctx, (int64_t)d, MPI_DOUBLE,
                     MPI_Allreduce(MPI_IN_PLACE, mx, (int)d, MPI_DOUBLE, MPI_MAX,
                                   adk_ctx_comm(ctx))) != MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of bounds failed"));
    }
    return ADK_OK;
}

int adk_repro_colsums(adk_ctx_t *ctx, const double *x, size_t n, size_t d, int64_t row0,
                      int64_t block, double *out)
{
    double *mx = adk_calloc(d ? 2 * d : 1, sizeof(double));
    adk_racc_t *a = NULL;
    int st = mx ? adk_racc_alloc(d, 0, &a) : ADK_ENOMEM;
    if (st != ADK_OK) {
        st = ADK_ERR(ctx, st, "out of memory");
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = global_absmax(ctx, x, n, d, mx);
    }
    if (st == ADK_OK) {
        double *part = mx + d;
        for (size_t j = 0; j < d; j++) {
            /* A block partial is below block*max; one spare bit absorbs rounding. */
            adk_racc_set_scale(a, j, adk_repro_exponent(mx[j] * (double)block) + 1);
        }
        size_t r = 0;
        while (r < n) {
            size_t end = adk_part_block_end(row0, r, n, block);
            memset(part, 0, d * sizeof(double));
            for (; r < end; r++) {
                for (size_t j = 0; j < d; j++) {
                    part[j] += x[r * d + j];
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
            out[j] = adk_racc_get(a, j);
        }
    }
    adk_racc_free(a);
    free(mx);
    return st;
}

int adk_repro_sum(adk_ctx_t *ctx, const double *v, size_t n, int64_t row0, int64_t block,
                  double *out)
{
    return adk_repro_colsums(ctx, v, n, 1, row0, block, out);
}
