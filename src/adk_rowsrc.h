/*
 * adk_rowsrc: where a fit's rows come from, pass after pass. Either a block held in memory
 * (adk_rows_t) or an HDF5 dataset read window by window (out-of-core, "--stream"), so a data set
 * larger than memory can be walked as often as the algorithm needs.
 *
 * The partition is the one adk_io_read would give (adk_part: align = ADK_ALIGN_REPRO). Windows
 * are aligned to global multiples of the window size, itself a multiple of ADK_ROWSRC_QUANTUM
 * (= ADK_DIST_CHUNK): a window never splits a distance chunk, and every per-row quantity is
 * computed by the same call at the same position as in memory, hence the same bits. Reads are
 * collective: in each pass every rank issues the same number of reads (the largest number of
 * windows any rank has), a rank past its last window selecting nothing.
 */
#ifndef ADK_ROWSRC_H
#define ADK_ROWSRC_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_dist.h"
#include "adk_rows.h"

/* Window sizes are multiples of this many rows. */
#define ADK_ROWSRC_QUANTUM ADK_DIST_CHUNK

typedef struct adk_rowsrc adk_rowsrc_t;

/**
 * Called for each non-empty window of a pass, in row order.
 * @param win  the window as a row block: win->row0 its first global row, win->nloc its rows,
 *             win->x the values (valid during the call only), n, d, align and spec as the source's
 * @param off  local index (in this rank's block) of the window's first row
 * @return ADK_OK or a status with a message set. Local: it must not communicate.
 */
typedef int (*adk_rowsrc_fn)(void *ud, const adk_rows_t *win, size_t off);

/** A source over a block already in memory (not copied; it must outlive the source). Local:
 * ADK_OK or ADK_ENOMEM. */
int adk_rowsrc_mem(adk_ctx_t *ctx, const adk_rows_t *x, adk_rowsrc_t **out);

/**
 * Open "FILE.h5:/dataset" (or FILE.h5: /data) for streamed reads in the reproducibility partition
 * (the shape checks of adk_io_read; values are checked by the caller's first pass). CSV is
 * refused (ADK_EINVAL): its rows cannot be found without reading the file. Records the input for
 * provenance. A window must be set (adk_rowsrc_set_window) before the first pass.
 * @return ADK_OK, ADK_EINVAL, ADK_EIO, ADK_EDATA, ADK_ENOMEM; agreed. Collective.
 */
int adk_rowsrc_open(adk_ctx_t *ctx, const char *spec, adk_rowsrc_t **out);

/**
 * Set the window of a streamed source to @p rows rows (rounded down to a multiple of
 * ADK_ROWSRC_QUANTUM, at least one quantum) and allocate its buffer (at most the rank's rows).
 * No-op for an in-memory source.
 * @return ADK_OK or ADK_ENOMEM; agreed. Collective.
 */
int adk_rowsrc_set_window(adk_rowsrc_t *s, size_t rows);

/** The rank's block without values (x == NULL when streamed): n, row0, nloc, d, align, spec.
 * Local. */
const adk_rows_t *adk_rowsrc_shape(const adk_rowsrc_t *s);

/** 1 when rows are read from the file at every pass. Local. */
int adk_rowsrc_streamed(const adk_rowsrc_t *s);

/** Rows per window (the rank's rows for an in-memory source). Local. */
size_t adk_rowsrc_window(const adk_rowsrc_t *s);

/**
 * One pass over the rank's rows, window by window in row order, calling @p fn on each (an
 * in-memory source is one window). After a failure of @p fn the pass still joins the remaining
 * reads but calls it no more.
 * @return ADK_OK, @p fn's status, or a read's (ADK_EHDF5, ADK_EDATA); agreed. Collective.
 */
int adk_rowsrc_pass(adk_rowsrc_t *s, adk_rowsrc_fn fn, void *ud);

/**
 * The rows of global indices @p g[0..m) (the same on every rank) into @p out (m x d) on every
 * rank: broadcast from their owners in memory, read by every rank when streamed.
 * @return ADK_OK, ADK_EMPI, ADK_EHDF5; agreed. Collective.
 */
int adk_rowsrc_fetch(adk_rowsrc_t *s, const int64_t *g, size_t m, double *out);

/** Free (NULL: no-op). Collective for a streamed source (it closes the file), local otherwise. */
void adk_rowsrc_free(adk_rowsrc_t *s);

#endif
