/*
 * adk_rows: the one row-block type. A rank holds a contiguous block of the global rows of an
 * N x D matrix (adk_part decides which), optionally with one integer label per row. The same type
 * carries data matrices (d features), per-row scores (d = 1) and assignments (d = 1 distances,
 * labels = cluster indices).
 */
#ifndef ADK_ROWS_H
#define ADK_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_part.h"

/* This rank's block of a distributed N x D matrix (and optional labels). */
typedef struct adk_rows {
    int64_t n;       /* global rows */
    int64_t row0;    /* first global row held here */
    size_t nloc;     /* rows held here (may be 0) */
    size_t d;        /* columns */
    int64_t align;   /* partition alignment the block follows (resolved, >= 1) */
    double *x;       /* nloc x d, row-major */
    int64_t *labels; /* nloc labels, or NULL */
    char *spec;      /* where the rows came from, for messages, or NULL */
} adk_rows_t;

/**
 * Allocate this rank's zero-filled block of @p n global rows of width @p d under alignment
 * @p align (ADK_ALIGN_REPRO, 1, or a block size). A rank without rows still gets valid pointers.
 * @param spec    where the rows come from (copied, for messages), or NULL
 * @param labels  also allocate the labels (zeroed)
 * @return ADK_OK or ADK_ENOMEM (message set). Local: every rank must pass the same n, d, align;
 *         callers agree on the status before their next collective.
 */
int adk_rows_alloc(adk_ctx_t *ctx, int64_t n, size_t d, int64_t align, const char *spec, int labels,
                   adk_rows_t **out);

/** Allocate (or replace) the labels of @p r, zeroed. ADK_OK or ADK_ENOMEM. Local. */
int adk_rows_alloc_labels(adk_ctx_t *ctx, adk_rows_t *r);

/** Free a block (NULL is a no-op). Local. */
void adk_rows_free(adk_rows_t *rows);

/**
 * The first non-finite value of the block as ADK_EDATA with spec, global row and column.
 * Local (callers agree).
 */
int adk_rows_check_finite(adk_ctx_t *ctx, const adk_rows_t *r);

/*
 * The largest magnitude of a value whose squares are summed over rows (distances, inertia,
 * variances): (2 x 1e100)^2 summed over up to 10^100 terms stays below DBL_MAX.
 */
#define ADK_ROWS_MAX_ABS 1e100

/**
 * The first value of the block whose magnitude exceeds @p limit, as ADK_EDATA naming spec, global
 * row and column. Local (callers agree).
 */
int adk_rows_check_range(adk_ctx_t *ctx, const adk_rows_t *r, double limit);

#endif
