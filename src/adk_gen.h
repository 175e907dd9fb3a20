/*
 * adk_gen: synthetic data sets. Blobs are isotropic Gaussian clusters with scikit-learn's
 * make_blobs rules: K centres drawn uniformly in a box (or given), n/K rows per class with the
 * first n % K classes one row larger, rows in a shuffled order, one standard deviation per class.
 * Every value is a pure function of (seed, global row), so the data are bitwise identical for any
 * number of ranks, and rows are generated and written in slabs, so memory stays O(slab) for any N.
 */
#ifndef ADK_GEN_H
#define ADK_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_out.h"
#include "adk_rows.h"

/* Centres are replicated on every rank: K x D is limited to this many values (512 MiB). */
#define ADK_GEN_MAX_CENTER_VALUES ((int64_t)1 << 26)

/* Default rows per collective write round (adkit-gen --slab-rows). */
#define ADK_GEN_SLAB_ROWS 65536

typedef struct {
    int64_t n;             /* rows, >= 1 */
    int64_t d;             /* features, >= 1 (the width of the given centres, if any) */
    int64_t k;             /* centres, >= 1; may exceed n (the extra centres get no rows) */
    const double *centers; /* k x d given centres (row-major, copied), or NULL: drawn in the box */
    const char *centers_spec; /* where the given centres came from (recorded), or NULL */
    const double *std;        /* nstd standard deviations, each >= 0 and finite */
    size_t nstd;              /* 1 (every class) or k (one per class) */
    double box_lo, box_hi;    /* centre box, lo < hi */
    uint64_t seed;            /* master seed */
    adk_dtype_t dtype;        /* on-disk type of /data: ADK_F64 or ADK_F32 */
    int64_t slab_rows;        /* rows generated and written per collective round, >= 1 */
} adk_gen_blobs_params_t;

/* A blobs generator: the resolved parameters. Read-only for callers. */
typedef struct adk_gen_blobs {
    int64_t n, d, k;
    double *centers; /* k x d */
    double *std;     /* k, one per class */
    double box_lo, box_hi;
    uint64_t seed;
    uint64_t perm_key; /* key of the label permutation, derived from the seed */
    adk_dtype_t dtype;
    int64_t slab_rows;
    char *centers_spec; /* NULL when the centres were drawn */
} adk_gen_blobs_t;

/** Parameters as adkit-gen's defaults: n 100, d 2, k 3, std 1, box [-10, 10], seed 0, f64.
 * Local. */
void adk_gen_blobs_params_default(adk_gen_blobs_params_t *p);

/**
 * Check the parameters and resolve them: copy the given centres or draw centre c's D coordinates
 * as lo + (hi - lo) * u from the uniform stream (seed, ADK_RNG_CENTERS, c, 0), so each lies in
 * [lo, hi]; expand one std to all classes.
 * @return ADK_OK, ADK_EINVAL (n, d or k < 1, K x D over ADK_GEN_MAX_CENTER_VALUES, std count not
 *         1 or k, std < 0, lo >= hi, bad dtype, slab_rows < 1 or too large), ADK_ENOMEM.
 * Local. Invalid parameters fail alike on every rank; ADK_ENOMEM may not, so agree before the
 * next collective.
 */
int adk_gen_blobs_alloc(adk_ctx_t *ctx, const adk_gen_blobs_params_t *p, adk_gen_blobs_t **out);

/** Free a generator (NULL: no-op). Local. */
void adk_gen_blobs_free(adk_gen_blobs_t *b);

/**
 * Class of global row @p g (0 <= g < n): adk_rng_permute(perm_key, n, g) mod k. The permutation
 * is a bijection of [0, n), so class c gets exactly n/k rows plus one when c < n % k (make_blobs'
 * sizes) in a shuffled order. perm_key is the first word of stream (seed, ADK_RNG_GEN, 0, 1)
 * rather than the seed itself, so that a tool sampling rows with adk_rng_permute under the same
 * seed does not pick a class-balanced sample. Local, O(1).
 */
int32_t adk_gen_blobs_label(const adk_gen_blobs_t *b, int64_t g);

/**
 * Row @p g: x[j] = center[label][j] + std[label] * z_j, where z_0, z_1, ... are the successive
 * adk_rng_normal draws of stream (seed, ADK_RNG_GEN, g, 0).
 * @param x      out, d values
 * @param label  out, may be NULL
 * Local, O(d); the same bits on any rank.
 */
void adk_gen_blobs_row(const adk_gen_blobs_t *b, int64_t g, double *x, int32_t *label);

/**
 * Generate and write the data set to the HDF5 file @p path: /data (n x d, b->dtype), /labels
 * (n, int32), /centers (k x d, float64) and attributes on "/" (n, d, centers, cluster_std[k],
 * center_box[2], generator = "blobs", dtype, centers_file when given) after the provenance that
 * adk_out_create writes. Each rank owns rows adk_part_rows(n, size, rank, 1) and writes them in
 * rounds of at most slab_rows rows; every rank makes the same number of collective writes.
 * Memory per rank: O(slab_rows x d + k x d). The file appears only when every rank succeeded.
 * @param flags  ADK_OUT_FORCE to replace an existing file
 * @return ADK_OK, ADK_EEXIST, ADK_EIO, ADK_EHDF5, ADK_ENOMEM, ADK_EMPI (agreed).
 * Collective. Phase timers: generation under ADK_T_COMPUTE, writing under ADK_T_IO.
 */
int adk_gen_blobs_write(adk_ctx_t *ctx, const adk_gen_blobs_t *b, const char *path, unsigned flags);

/**
 * Read a K x D matrix of centres from a 2-D HDF5 dataset ("FILE.h5:/dataset") on every rank.
 * @param c  out, malloc'd k x d values (caller frees)
 * @return ADK_OK, ADK_EIO (missing or unreadable file), ADK_EDATA (no such dataset, not 2-D,
 *         empty, NaN/Inf, more than ADK_GEN_MAX_CENTER_VALUES values), ADK_EINVAL (not an HDF5
 *         spec), ADK_ENOMEM. Collective; agreed.
 */
int adk_gen_read_centers(adk_ctx_t *ctx, const char *spec, double **c, int64_t *k, int64_t *d);

#endif
