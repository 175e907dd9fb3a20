/*
 * adk_dist: squared Euclidean distances from row chunks to a set of centres, by blocked GEMM
 * (||x||^2 - 2 x.c + ||c||^2) through CBLAS, fused with the argmin while the block is in cache.
 *
 * Rows go through the GEMM in chunks of ADK_DIST_CHUNK rows aligned to global row numbers; a chunk
 * this rank holds only part of is padded with zero rows at the same positions. So every row is
 * computed by the same GEMM call shape at the same position whatever the rank count and block
 * start, and its label and distance never depend on how rows are split over ranks.
 */
#ifndef ADK_DIST_H
#define ADK_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"

#define ADK_DIST_CHUNK 256

/* Centres with their squared norms, ready for the GEMM kernel. */
typedef struct adk_centres {
    size_t k, d;
    double *c;  /* k x d, row-major */
    double *cn; /* k squared norms */
} adk_centres_t;

/** Allocate centres k x d (zeroed). Local. */
int adk_centres_alloc(size_t k, size_t d, adk_centres_t **out);
void adk_centres_free(adk_centres_t *c);
/** Copy k x d centres in and compute their squared norms. Local. */
void adk_centres_set(adk_centres_t *c, const double *src);
/** Recompute the squared norms after changing c->c in place. Local. */
void adk_centres_update_norms(adk_centres_t *c);

/* Scratch for one chunk: the padded rows and the chunk x k distance block. */
typedef struct adk_dist_ws adk_dist_ws_t;

/** Workspace for up to @p k centres of width @p d. Local. */
int adk_dist_ws_alloc(size_t k, size_t d, adk_dist_ws_t **out);
void adk_dist_ws_free(adk_dist_ws_t *ws);

/**
 * Callback on one chunk of rows, after the distance block has been computed.
 * @param first,count  the chunk's rows in the caller's local numbering
 * @param rows   count x d: the rows as the GEMM saw them (shifted when a shift was given)
 * @param dist   count x ldd block of ||c_j||^2 - 2 x.c_j (no ||x||^2 term)
 */
typedef void (*adk_dist_chunk_fn)(void *ud, size_t first, size_t count, const double *rows,
                                  const double *dist, size_t ldd);

/**
 * Compute the distance block chunk by chunk for local rows [0, n) of x (global rows from @p row0)
 * and hand each chunk to @p fn. Chunks never straddle a multiple of ADK_DIST_CHUNK global rows.
 * Local.
 */
void adk_dist_blocks(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                     int64_t row0, adk_dist_chunk_fn fn, void *ud);

/**
 * As adk_dist_blocks, on the rows minus @p shift (d values), without changing x: k-means works on
 * mean-centred rows for accuracy, one chunk at a time so no centred copy of the data exists.
 * Local.
 */
void adk_dist_blocks_shifted(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                             int64_t row0, const double *shift, adk_dist_chunk_fn fn, void *ud);

/**
 * Nearest centre of every local row: label[i] = first argmin_j (||c_j||^2 - 2 x_i.c_j).
 * @param best  optional (NULL): that minimum value, so ||x_i||^2 + best[i] is the GEMM-form
 *              squared distance
 * Local.
 */
void adk_dist_nearest(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                      int64_t row0, int32_t *label, double *best);

/*
 * Nearest-centre kernels. BLAS: the chunk's distance block by one CBLAS dgemm, then a scalar
 * argmin. AVX512: a fused register-blocked kernel (4 rows x 48 centres per tile) that keeps the
 * dot products in registers and does the argmin there, never writing the distance block. AVX2: the
 * same design for CPUs with AVX2 and FMA but no AVX-512 (4-wide vectors, 16 registers: 4 rows x 12
 * centres per tile). In the fused kernels each row's result depends only on the row and the
 * centres, in a fixed summation order; ties go to the lowest index in every kernel. Values are
 * stored in model files and checkpoints: new kernels are appended.
 */
typedef enum {
    ADK_KERNEL_AUTO = 0,
    ADK_KERNEL_BLAS = 1,
    ADK_KERNEL_AVX512 = 2,
    ADK_KERNEL_AVX2 = 3
} adk_kernel_t;

/**
 * Whether this CPU can run the AVX-512 kernel (avx512f), resp. the AVX2 kernel (avx2 and fma).
 * Test hook: ADK_CPU_FEATURES in the environment, a comma-separated list of "avx512" and "avx2"
 * (or "none"), makes the process report only the features listed. It can hide features, never add
 * one the CPU lacks, and is read at every call, so a test can set it on one rank only. Local.
 */
int adk_dist_have_avx512(void);
int adk_dist_have_avx2(void);

/** Whether this CPU can run kernel @p k (AUTO and BLAS: always). Local. */
int adk_dist_kernel_available(adk_kernel_t k);

/**
 * Choose the nearest-centre kernel of this workspace; AUTO takes the widest this CPU has
 * (AVX512, then AVX2, then BLAS), and so does a fused kernel the CPU lacks. Ranks must use the
 * same kernel (see adk_dist_agree_kernel). Returns the kernel chosen. Local.
 */
adk_kernel_t adk_dist_ws_set_kernel(adk_dist_ws_t *ws, adk_kernel_t kern);

/**
 * Resolve @p kern on every rank and agree: AUTO becomes the widest kernel every rank's CPU has
 * (AVX512 > AVX2 > BLAS). An explicit fused kernel that some rank's CPU lacks is an error
 * (ADK_EINVAL, the message names the lowest such rank). Collective.
 */
int adk_dist_agree_kernel(adk_ctx_t *ctx, adk_dist_ws_t *ws, adk_kernel_t kern);

/** The kernel a workspace uses. Local. */
adk_kernel_t adk_dist_ws_kernel(const adk_dist_ws_t *ws);

/** Parse "auto", "blas", "avx512", "avx2" (-1 for anything else), and the name of a kernel.
 * Local. */
int adk_dist_kernel_parse(const char *s);
const char *adk_dist_kernel_name(adk_kernel_t k);

/**
 * Callback of the nearest-centre driver: for local rows [first, first+count), the staged rows
 * (shifted if asked), each row's nearest centre and the minimum of ||c||^2 - 2 x.c.
 */
typedef void (*adk_dist_near_fn)(void *ud, size_t first, size_t count, const double *rows,
                                 const int32_t *label, const double *best);

/** Nearest centre of every local row, chunk by chunk, with the workspace's kernel. Local. */
void adk_dist_nearest_blocks(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                             int64_t row0, const double *shift, adk_dist_near_fn fn, void *ud);

/*
 * Exactly accelerated Lloyd (k-means --algorithm hamerly|yinyang): the nearest-centre kernel on
 * selected rows only, with bound information from the same pass. The kernel's values
 * v_j = ||c_j||^2 - 2 x.c_j are formed with the very arithmetic of adk_dist_nearest_blocks (BLAS:
 * the whole chunk's GEMM at the same shape and position; AVX-512 and AVX2: the same FMA chains, row
 * by row), and the label is their first minimum, so a row computed here gets the label Lloyd gives
 * it.
 */

/**
 * Callback of adk_dist_nearest_bounds, for local rows [first, first+count): the staged rows
 * (shifted if asked: all of the chunk's rows, computed or not), label[i] the kernel's nearest
 * centre or -1 where the row was not computed, best[i] = v_label, and gmin[i * ngroups + g] the
 * smallest v_j over the centres j of group g other than the label (+inf when there is none).
 */
typedef void (*adk_dist_bound_fn)(void *ud, size_t first, size_t count, const double *rows,
                                  const int32_t *label, const double *best, const double *gmin);

/** Whether adk_dist_nearest_bounds has a variant of kernel @p k (BLAS, AVX-512, AVX2). Local. */
int adk_dist_bounds_supported(adk_kernel_t k);

/**
 * As adk_dist_nearest_blocks, computing only the rows i with need[i] != 0: with the BLAS kernel a
 * chunk holding one such row is computed whole (the GEMM of the chunk is what fixes a row's bits),
 * with AVX-512 and AVX2 only those rows (AVX2: their values, then the first minimum).
 * @param sparse  0: every chunk is staged and handed to @p fn, needed rows or not. 1: a chunk
 *                without a needed row is skipped (not handed on), and with AVX-512 and AVX2 only
 *                the needed rows are staged, so fn's rows are valid for those rows only (the rows
 *                with label >= 0; BLAS: the whole chunk, as with 0)
 * @param group   c->k group numbers in [0, ngroups), or NULL (one group, ngroups 1)
 * @param gmin    scratch of ADK_DIST_CHUNK x ngroups values, handed to fn
 * Local.
 */
void adk_dist_nearest_bounds(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                             int64_t row0, const double *shift, const uint8_t *need, int sparse,
                             size_t ngroups, const int32_t *group, double *gmin,
                             adk_dist_bound_fn fn, void *ud);

/**
 * Squared distances of @p count rows (width ws's d) to their assigned centres: out[i] =
 * ||rows_i - cen_{label[i]}||^2 in the direct, cancellation-free form. With the AVX-512 kernel the
 * terms are summed in eight lanes (features j mod 8), with the AVX2 kernel in four (j mod 4), that
 * a fixed tree then combines; otherwise in feature order, as adk_dist_sq. Either way each value
 * depends only on the row and its centre. Local.
 */
void adk_dist_sq_assigned(const adk_dist_ws_t *ws, const double *rows, const int32_t *label,
                          size_t count, const double *cen, double *out);

/** Squared Euclidean distance summed directly in feature order (exact form, no cancellation).
 * Local. */
double adk_dist_sq(const double *x, const double *c, size_t d);

/** Squared norm of a row. Local. */
double adk_dist_norm2(const double *x, size_t d);

#endif
