/*
 * adk_repro: reproducible reductions whose results do not depend on the number of ranks.
 *
 * Method. Each real value is accumulated as a fixed-point integer on a grid 2^(e-128), where e is
 * an exponent agreed by all ranks with |contribution| < 2^e. A contribution is cut into four signed
 * 32-bit digits (exact IEEE operations: scale by a power of two, truncate, subtract), and the
 * digits are added into int64 slots. Integer addition is associative, so a plain
 * MPI_Allreduce(MPI_SUM) on MPI_INT64_T gives the same bits for every rank count and every
 * reduction tree; the result is rounded to double once. Integer counters travel in the same buffer,
 * so an algorithm can reduce sums, counts and flags in one allreduce.
 *
 * What is summed exactly is the sequence of contributions. Callers contribute partial sums of
 * fixed global row blocks (adk_part alignment), never of "this rank's rows", so the contributions
 * themselves are the same for any rank count.
 *
 * Limits: digits below 2^(e-128) are truncated (deterministically); at most 2^30 contributions
 * per slot.
 */
#ifndef ADK_REPRO_H
#define ADK_REPRO_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"

#define ADK_REPRO_LIMBS 4

typedef struct adk_racc {
    size_t nreal; /* fixed-point reals */
    size_t nint;  /* plain int64 counters */
    size_t len;   /* int64 slots: nreal*LIMBS + nint + 1 (overflow flag) */
    int *scale;   /* per real: exponent e with |contribution| < 2^e */
    double *inv;  /* per real: 2^-e */
    int64_t *buf; /* reals first, then counters, then the flag */
} adk_racc_t;

/** Allocate an accumulator of @p nreal reals and @p nint integers, zeroed, scales 0. Local. */
int adk_racc_alloc(size_t nreal, size_t nint, adk_racc_t **out);
void adk_racc_free(adk_racc_t *a);
void adk_racc_zero(adk_racc_t *a);

/** Smallest exponent e (clamped to [-1000, 1000]) with |bound| < 2^e; bound 0 gives -1000.
 * Local. */
int adk_repro_exponent(double bound);

/** Set the scale of real @p i: every contribution must satisfy |v| < 2^e. Local. */
void adk_racc_set_scale(adk_racc_t *a, size_t i, int e);

/** Add @p v to real @p i. Out-of-bound or non-finite v raises the overflow flag. Local. */
void adk_racc_add(adk_racc_t *a, size_t i, double v);

/** Add @p v to integer counter @p i. Local. */
void adk_racc_addi(adk_racc_t *a, size_t i, int64_t v);

/** Set real @p i to zero. Local. */
void adk_racc_clear_real(adk_racc_t *a, size_t i);

/**
 * Add every slot of @p src into @p dst (reals, counters and the overflow flag): what one more
 * rank's buffer would add in adk_racc_allreduce, so a partial sum kept aside (such as sums updated
 * incrementally over iterations) joins a fresh one exactly. Both must have the same nreal, nint
 * and scales. Local.
 */
void adk_racc_merge(adk_racc_t *dst, const adk_racc_t *src);

/**
 * Sum every slot over the ranks (in place, integer MPI_SUM: exact, order-free).
 * @return ADK_OK, ADK_EMPI, or ADK_EINTERNAL when any rank's contribution broke its bound.
 * Collective.
 */
int adk_racc_allreduce(adk_ctx_t *ctx, adk_racc_t *a);

/** Value of real @p i, correctly rounded to double. Local. */
double adk_racc_get(const adk_racc_t *a, size_t i);

/** Value of counter @p i. Local. */
int64_t adk_racc_geti(const adk_racc_t *a, size_t i);

/**
 * Column sums of an n x d row block, reproducible for any rank count.
 * Rows are this rank's [row0, row0+n) of a partition aligned to @p block rows: partial sums over
 * each aligned block are formed in row order, then accumulated exactly.
 * @param out  d sums, identical on every rank
 * Collective (two allreduces: the bound, then the sums).
 */
int adk_repro_colsums(adk_ctx_t *ctx, const double *x, size_t n, size_t d, int64_t row0,
                      int64_t block, double *out);

/** Reproducible sum of the n values v (same blocking rule as adk_repro_colsums). Collective. */
int adk_repro_sum(adk_ctx_t *ctx, const double *v, size_t n, int64_t row0, int64_t block,
                  double *out);

#endif
