/*
 * adk_rng: counter-based random streams (Random123 Philox-4x64).
 * A stream is keyed by (seed, purpose) and addressed by (stream, substream), e.g. (global row, 0)
 * or (n_init run, step). Nothing depends on the rank, so generated data and samples are the same
 * for any number of ranks, and any rank can jump straight to any row's stream.
 */
#ifndef ADK_RNG_H
#define ADK_RNG_H

#include <stdint.h>

/* Purposes: each gets its own independent family of streams. */
enum {
    ADK_RNG_INIT = 1,    /* k-means initialisation */
    ADK_RNG_SAMPLE = 2,  /* sub-sampling (silhouette --sample-size, ...) */
    ADK_RNG_GEN = 3,     /* generated data rows */
    ADK_RNG_TSNE = 4,    /* t-SNE initial embedding */
    ADK_RNG_CENTERS = 5, /* generated blob centres */
    ADK_RNG_PERM = 6,    /* keyed permutations */
    ADK_RNG_SPLIT = 7    /* train / validation / test splits (adk_subset) */
};

typedef struct {
    uint64_t key[2];
    uint64_t ctr[4];
    uint64_t buf[4];
    int avail;     /* unused words left in buf */
    int has_spare; /* Box-Muller's second normal is kept */
    double spare;
} adk_rng_t;

/** Position @p r at the start of stream (seed, purpose, stream, sub). Local. */
void adk_rng_init(adk_rng_t *r, uint64_t seed, uint32_t purpose, uint64_t stream, uint64_t sub);

/** Next 64 random bits. Local (as every draw below). */
uint64_t adk_rng_u64(adk_rng_t *r);

/** Uniform double in [0, 1) with 53 random bits. Local. */
double adk_rng_uniform(adk_rng_t *r);

/** Standard normal deviate (Box-Muller: a fixed number of draws per pair, no rejection). Local. */
double adk_rng_normal(adk_rng_t *r);

/** Uniform integer in [0, n), unbiased (n > 0). Local. */
uint64_t adk_rng_below(adk_rng_t *r, uint64_t n);

/**
 * Keyed pseudo-random permutation of [0, n): a 4-round Feistel network on the next power of four,
 * cycle-walked back into range. O(1) per index, so each rank can permute its own rows. Local.
 */
uint64_t adk_rng_permute(uint64_t seed, uint64_t n, uint64_t i);

#endif
