/*
 * adk_select: exact distributed order statistics and percentiles of many groups at once (for
 * example the distances of each cluster), without any rank ever holding more than its own values.
 *
 * Method. A double is mapped to a 64-bit key whose unsigned order is the numeric order
 * (adk_key_from_double). Every target (a group and a rank k in its sorted order) keeps an interval
 * [lo, hi] of keys that holds its answer, starting from the group's global minimum and maximum
 * (round 0, which also counts the groups). Each further round splits every unfinished target's
 * interval into 2^b bins on the b key bits just below the common prefix of lo and hi; every rank
 * counts its values per bin and records each bin's smallest and largest key, and ONE
 * MPI_Allreduce (a commutative MPI_Op that adds the counts and takes the max of the keys and of
 * their complements) combines all targets of all groups. Each rank then walks the same global
 * histogram to the bin holding rank k; that bin's global min and max become the new interval,
 * and the target is done when they are equal. The interval loses at least b free bits per round,
 * so a call takes at most 1 + ceil(64/b) rounds whatever the data; in practice 1 + about
 * log_{2^b}(n) + 1 (the first split of data spanning several binades mostly resolves exponent
 * bits: 5 rounds for 2e6 distances in 64 clusters at b = 8). The first non-empty bin above the
 * chosen one gives the successor x_(k+1) (numpy's second neighbour) with no extra round. Two
 * status agreements (before the first and after the last round) are the only other collectives.
 * Only integer sums and maxima are reduced, so the result depends only on the multiset of values:
 * bit-identical for any number of ranks and any distribution of the values over them.
 *
 * Memory and work: a rank reads its values in place (O(local values) per round) until a target's
 * local candidates are at most a quarter of its local values of that group; it then keeps a
 * private copy of them, and later rounds touch only those.
 * Histograms take 2 x 24 x 2^b bytes per unfinished target (b shrinks if that would pass 16 MiB).
 *
 * Percentiles follow numpy 1.24 np.percentile(a, q) (method="linear") bit for bit; see
 * adk_select_linear_index and adk_select_lerp. Values must be finite (NaN/Inf: ADK_EDATA).
 * -0.0 is ordered just below +0.0; numpy treats them as equal and leaves their order to its
 * partition algorithm, so data mixing the two zeros can differ from numpy in the sign of a zero
 * result, and only there.
 */
#ifndef ADK_SELECT_H
#define ADK_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"

/* Radix bits per refinement round (256 bins). */
#define ADK_SELECT_BITS 8

typedef struct {
    int bits; /* radix bits per round, 1..16; 0 = ADK_SELECT_BITS */
} adk_select_opts_t;

/* What a selection cost, for logs and benchmarks (identical on every rank). */
typedef struct {
    int rounds;    /* data MPI_Allreduce calls, the counting round included */
    int64_t bytes; /* payload bytes each rank passed to them (status agreements not counted) */
    int targets;   /* order statistics searched for (groups x ranks with a value) */
} adk_select_stats_t;

/**
 * numpy's index rule for percentile @p q (0..100) of @p n >= 1 sorted values, method "linear":
 * v = (n-1) * (q/100) in double; lo = floor(v), hi = lo + 1, both clamped to n-1 when
 * v >= n-1 (and to 0 when v < 0); gamma = v - lo_used, where lo_used is -1 for the upper clamp,
 * as numpy computes it from its negative index (gamma then exceeds 1, which only matters for
 * the sign of a zero result).
 * @param lo,hi  0-based ranks of the two neighbours (hi == lo when clamped)
 * Local, pure.
 */
void adk_select_linear_index(int64_t n, double q, int64_t *lo, int64_t *hi, double *gamma);

/**
 * numpy's _lerp: d = b - a; r = a + d*g, except r = b - d*(1-g) where g >= 0.5; every operation
 * rounded separately (the build uses -ffp-contract=off). Local, pure.
 */
double adk_select_lerp(double a, double b, double g);

/**
 * Order statistics of every group: kth[g*nk + j] = x_(k), the value at 0-based rank
 * k = k[g*nk + j] of group g's values in ascending order over all ranks (negative k count from
 * the end: -1 is the maximum).
 * @param v       this rank's values (finite)
 * @param group   group of each value, or NULL (all in group 0); values with a negative group are
 *                ignored; a group >= ngroups is an error
 * @param n       local values (0 allowed)
 * @param ngroups groups (>= 1)
 * @param nk      ranks asked per group; @p k holds ngroups x nk ranks (same on every rank)
 * @param opts    NULL for defaults
 * @param empty   stored in kth/next where the rank lies outside its group (e.g. empty groups)
 * @param kth     out, ngroups x nk
 * @param next    out or NULL: x_(k+1), or x_(k) when k is the last rank
 * @param counts  out or NULL: ngroups global group sizes
 * @param stats   out or NULL
 * @return ADK_OK, ADK_EINVAL (bad group or options), ADK_EDATA (NaN or Inf), ADK_ENOMEM,
 *         ADK_EMPI, agreed on every rank. Collective.
 */
int adk_select_kth(adk_ctx_t *ctx, const double *v, const int32_t *group, size_t n, size_t ngroups,
                   size_t nk, const int64_t *k, const adk_select_opts_t *opts, double empty,
                   double *kth, double *next, int64_t *counts, adk_select_stats_t *stats);

/**
 * Percentiles of every group, equal bit for bit to numpy 1.24 np.percentile(values_of_group, q)
 * (method "linear"): out[g*nq + j] for q[j].
 * @param q      nq percentiles in [0, 100] (same on every rank)
 * @param empty  stored for groups without values (numpy raises there; the caller decides)
 * Other parameters as adk_select_kth.
 * @return ADK_OK, ADK_EINVAL (q outside [0, 100], bad group), ADK_EDATA (NaN/Inf input, or an
 *         interpolation that overflows the double range, where numpy would return NaN or Inf),
 *         ADK_ENOMEM, ADK_EMPI, agreed. Collective.
 */
int adk_select_percentile(adk_ctx_t *ctx, const double *v, const int32_t *group, size_t n,
                          size_t ngroups, size_t nq, const double *q, const adk_select_opts_t *opts,
                          double empty, double *out, int64_t *counts, adk_select_stats_t *stats);

#endif
