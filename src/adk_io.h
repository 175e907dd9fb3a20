/*
 * adk_io: the data layer. Reads a 2-D numeric matrix as row blocks (each rank reads only its own
 * rows: HDF5 by collective hyperslabs through MPI-IO, CSV by byte ranges cut at line boundaries),
 * optional 1-D labels, and small replicated arrays (models). Writes outputs collectively into a
 * temporary file that is renamed into place only when every rank succeeded, with provenance.
 *
 * Input specs: "FILE.h5:/path/to/dataset", "FILE.h5" (dataset /data), "FILE.csv".
 */
#ifndef ADK_IO_H
#define ADK_IO_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_part.h"
#include "adk_rows.h"

typedef struct {
    int64_t align;         /* 1: plain split; ADK_ALIGN_REPRO: reproducibility blocks */
    const char *labels;    /* HDF5 spec of 1-D labels to read alongside, or NULL */
    const char *label_col; /* CSV: column (0-based index or header name) holding labels */
} adk_read_opts_t;

/* Element types for writing. */
typedef enum { ADK_F64, ADK_F32, ADK_I32, ADK_I64, ADK_U8 } adk_dtype_t;

/**
 * Read this rank's rows of a matrix. Rejects missing files/datasets, datasets that are not 2-D,
 * non-numeric or ragged CSV, NaN/Inf, and empty data with one message naming file, dataset and row.
 * @param opts  may be NULL (plain split, no labels)
 * @return ADK_OK, ADK_EIO, ADK_EHDF5, ADK_EDATA, ADK_EINVAL, ADK_ENOMEM. Collective.
 */
int adk_io_read(adk_ctx_t *ctx, const char *spec, const adk_read_opts_t *opts, adk_rows_t **out);

/**
 * Read labels for the rows already held in @p rows from a 1-D HDF5 dataset ("FILE.h5:/labels")
 * whose length must equal rows->n; values must be integers. Collective.
 */
int adk_io_read_labels(adk_ctx_t *ctx, const char *spec, adk_rows_t *rows);

/**
 * Read a whole small dataset on every rank (models, centroids): 1-D or 2-D, returned as
 * rows x cols doubles (cols = 1 for 1-D) in a malloc'd buffer. NaN is rejected; +-Inf is
 * passed through (callers that need finite values check).
 * @param max_elems  refuse larger datasets (the caller knows what "small" means)
 * Collective.
 */
int adk_io_read_small(adk_ctx_t *ctx, const char *spec, size_t max_elems, double **out,
                      int64_t *rows, int64_t *cols, int *ndims);

/** Whether dataset @p dset exists in HDF5 file @p file. Collective. */
int adk_io_exists(adk_ctx_t *ctx, const char *file, const char *dset, int *exists);

/** Read a numeric attribute of object @p obj ("/" or a dataset) as double. Collective. */
int adk_io_attr_f64(adk_ctx_t *ctx, const char *file, const char *obj, const char *name,
                    double *out);
/** Read a string attribute into @p buf (truncated to @p len). Collective. */
int adk_io_attr_str(adk_ctx_t *ctx, const char *file, const char *obj, const char *name, char *buf,
                    size_t len);

typedef enum { ADK_ATTR_F64, ADK_ATTR_U64, ADK_ATTR_STR } adk_attr_kind_t;

/**
 * Read an attribute that may be absent: *found = 0 (and ADK_OK) when it is not there.
 * @param out  double, uint64_t, or a char buffer of @p len bytes for ADK_ATTR_STR
 * Collective.
 */
int adk_io_attr_read(adk_ctx_t *ctx, const char *file, const char *obj, const char *name,
                     adk_attr_kind_t kind, void *out, size_t len, int *found);

/** Split "FILE.h5:/dset" into malloc'd file and dataset names (dataset NULL for CSV). Local. */
int adk_io_split_spec(adk_ctx_t *ctx, const char *spec, char **file, char **dset, int *is_csv);

/* ------------------------------------------------------------------------------------------ */
/* Output files: written under "<path>.tmp-<id>" and renamed into place by adk_out_commit.     */

typedef struct adk_out adk_out_t;

enum { ADK_OUT_FORCE = 1 };

/**
 * Fail early, before any work, if @p path exists and ADK_OUT_FORCE is not set.
 * @return ADK_OK or ADK_EEXIST (message names the file and --force). Collective.
 */
int adk_out_check(adk_ctx_t *ctx, const char *path, unsigned flags);

/**
 * Start a new output file at @p path (written to a temporary name), with provenance attributes on
 * "/": adkit_version, git_commit, command_line, seed, mpi_ranks, created_utc, inputs.
 * Collective.
 */
int adk_out_create(adk_ctx_t *ctx, const char *path, unsigned flags, adk_out_t **out);

/**
 * Start updating an existing HDF5 file: it is copied to a temporary name, changed there and
 * renamed over the original on commit, so a failure leaves the original untouched. Collective.
 */
int adk_out_update(adk_ctx_t *ctx, const char *path, adk_out_t **out);

/**
 * Write a distributed dataset: this rank's @p nloc rows starting at global row @p row0 of
 * @p n rows; @p d columns, or d = 0 for a 1-D dataset. Replaces an existing dataset of that name.
 * Collective.
 */
int adk_out_rows(adk_out_t *o, const char *name, adk_dtype_t type, const void *buf, int64_t n,
                 int64_t row0, size_t nloc, size_t d);

/* A distributed dataset written in several collective slabs (streaming large outputs). */
typedef struct adk_odset adk_odset_t;

/** Create dataset @p name of @p n rows x @p d columns (d = 0: 1-D). Collective. */
int adk_out_dset(adk_out_t *o, const char *name, adk_dtype_t type, int64_t n, size_t d,
                 adk_odset_t **out);

/**
 * Write rows [row0, row0+nloc) of the dataset from @p buf. Every rank must make the same number
 * of calls (a rank with nothing left passes nloc = 0). Collective.
 */
int adk_odset_write(adk_odset_t *ds, const void *buf, int64_t row0, size_t nloc);

/** Close the dataset (NULL: no-op). Collective unless NULL. */
void adk_odset_close(adk_odset_t *ds);

/** Write a small replicated dataset (identical on all ranks; rank 0 writes). cols 0 = 1-D. */
int adk_out_small(adk_out_t *o, const char *name, adk_dtype_t type, const void *buf, size_t rows,
                  size_t cols);

/** Attributes on object @p obj ("/" or a dataset written before). Same value on all ranks. */
int adk_out_attr_f64(adk_out_t *o, const char *obj, const char *name, double v);
int adk_out_attr_i64(adk_out_t *o, const char *obj, const char *name, int64_t v);
int adk_out_attr_str(adk_out_t *o, const char *obj, const char *name, const char *v);
int adk_out_attr_f64v(adk_out_t *o, const char *obj, const char *name, const double *v, size_t n);
int adk_out_attr_i64v(adk_out_t *o, const char *obj, const char *name, const int64_t *v, size_t n);

/**
 * Finish: close on all ranks, agree, rename into place. Frees @p o. On failure the temporary file
 * is removed and nothing is left at @p path that was not there before. Collective.
 */
int adk_out_commit(adk_out_t *o, int st);

/** Abandon an output: close and remove the temporary file. Frees @p o (NULL: no-op). Collective. */
void adk_out_discard(adk_out_t *o);

/**
 * Write a small text file (JSON summary, CSV table) atomically: rank 0 writes "<path>.tmp-<pid>"
 * and renames it; refuses an existing path unless ADK_OUT_FORCE. Every rank passes the same text
 * (only rank 0's is used). Collective.
 */
int adk_io_write_text(adk_ctx_t *ctx, const char *path, unsigned flags, const char *text);

/** Turn off HDF5's automatic error printing (apps call this once at start-up). */
void adk_io_quiet_hdf5(void);

#endif
