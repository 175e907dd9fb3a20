/*
 * adk_io: the input dispatcher. A spec names a matrix as "FILE.h5:/dataset", "FILE.h5" (dataset
 * /data) or "FILE.csv"; adk_io_read sends it to adk_h5 or adk_csv and records it as an input of
 * the run. Small whole-dataset reads by spec (models, centroid files) are here too.
 */
#ifndef ADK_IO_H
#define ADK_IO_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_h5.h"
#include "adk_rows.h"

typedef struct {
    int64_t align;         /* 1: plain split; ADK_ALIGN_REPRO: reproducibility blocks */
    const char *labels;    /* HDF5 spec of 1-D labels to read alongside, or NULL */
    const char *label_col; /* CSV: column (0-based index or header name) holding labels */
} adk_read_opts_t;

/**
 * Read this rank's rows of a matrix. Rejects missing files/datasets, datasets that are not 2-D,
 * non-numeric or ragged CSV, NaN/Inf, and empty data with one message naming file, dataset and row.
 * @param opts  may be NULL (plain split, no labels)
 * @return ADK_OK, ADK_EIO, ADK_EHDF5, ADK_EDATA, ADK_EINVAL, ADK_ENOMEM; agreed. Collective.
 */
int adk_io_read(adk_ctx_t *ctx, const char *spec, const adk_read_opts_t *opts, adk_rows_t **out);

/**
 * Read labels for the rows already held in @p rows from a 1-D HDF5 dataset ("FILE.h5:/labels")
 * whose length must equal rows->n; values must be integers. Records the spec as an input.
 * @return as adk_h5_read_labels, or ADK_EINVAL for a CSV spec; agreed. Collective.
 */
int adk_io_read_labels(adk_ctx_t *ctx, const char *spec, adk_rows_t *rows);

/**
 * adk_h5_read_small by spec ("FILE.h5:/dataset"): open, read, close. Collective.
 */
int adk_io_read_small(adk_ctx_t *ctx, const char *spec, size_t max_elems, double **out,
                      int64_t *rows, int64_t *cols, int *ndims);

/* By-file shorthands of adk_h5_exists / adk_h5_attr (one open each). Collective. */
int adk_io_exists(adk_ctx_t *ctx, const char *file, const char *dset, int *exists);
int adk_io_attr_f64(adk_ctx_t *ctx, const char *file, const char *obj, const char *name,
                    double *out);
int adk_io_attr_str(adk_ctx_t *ctx, const char *file, const char *obj, const char *name, char *buf,
                    size_t len);

#endif
