/*
 * adk_key: order-preserving 64-bit keys of doubles. Comparing keys as unsigned integers orders
 * the doubles numerically, so exact distributed selection (adk_select), ranking metrics
 * (adk_score) and threshold sweeps (adk_sweep) can sort with a radix sort, search with integer
 * comparisons and reduce keys with integer MPI operations, whose results never depend on the
 * rank count.
 *
 * Map: a non-negative double (sign bit clear) gets its sign bit set; a negative one has every bit
 * flipped, so a larger magnitude gives a smaller key. -inf < negatives < -0.0 < +0.0 < positives
 * < +inf, subnormals in place. NaNs map above +inf (positive NaN) or below -inf (negative NaN):
 * callers reject them first.
 */
#ifndef ADK_KEY_H
#define ADK_KEY_H

#include <stddef.h>
#include <stdint.h>

/**
 * Key of @p x in the total order of doubles: key(a) < key(b) iff a < b, and -0.0 has a key just
 * below +0.0's, so adk_key_to_double gives back the same bits. Local, pure.
 */
uint64_t adk_key_from_double(double x);

/** The double of a key: the inverse of adk_key_from_double, bit for bit. Local, pure. */
double adk_key_to_double(uint64_t key);

/**
 * Key of @p x in numeric order: -0.0 and +0.0 are one value (both get +0.0's key), so
 * key(a) < key(b) iff a < b and key(a) == key(b) iff a == b for non-NaN a, b: what a comparison
 * "score < epsilon" or a count of distinct scores needs. Local, pure.
 */
uint64_t adk_key_from_value(double x);

/**
 * Sort @p n keys ascending in place: LSD radix sort, 8 bits per pass, O(n) per pass. A pass in
 * which every key has the same byte is skipped (the exponent bytes of scores of one scale
 * usually are), so keys of similar values take fewer than 8 passes.
 * @param k    n keys, sorted on return
 * @param tmp  scratch of n keys (contents undefined on return)
 * Local; no allocation (16 KiB of counts on the stack).
 */
void adk_key_sort(uint64_t *k, uint64_t *tmp, size_t n);

/** Number of keys of the sorted array @p k below @p key (lower bound). Local, pure. */
size_t adk_key_count_below(const uint64_t *k, size_t n, uint64_t key);

/** Number of keys of the sorted array @p k at most @p key (upper bound). Local, pure. */
size_t adk_key_count_at_most(const uint64_t *k, size_t n, uint64_t key);

#endif
