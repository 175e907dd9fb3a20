/*
 * adk_h5: HDF5 input through the MPI-IO driver. Input specs ("FILE.h5:/dataset"), an open read
 * handle that serves several reads of one file (a model is read with one open per rank),
 * collective row-block and vector reads (every rank reads only its rows; a rank without rows
 * selects none and still joins), small replicated reads, and attributes.
 *
 * The public part needs no hdf5.h. The hid_t-level transfer shared with adk_out is declared below
 * only for a file that includes <hdf5.h> first (adk_h5.c, adk_out.c).
 */
#ifndef ADK_H5_H
#define ADK_H5_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_rows.h"

/**
 * Split "FILE.h5:/dset" into malloc'd file and dataset names; "FILE.h5" (also .hdf5, .he5) means
 * dataset /data; "FILE.csv" (or .txt) sets *is_csv and gives no dataset.
 * @return ADK_OK, ADK_EINVAL (unknown format, no file name), ADK_ENOMEM. Local.
 */
int adk_h5_split_spec(adk_ctx_t *ctx, const char *spec, char **file, char **dset, int *is_csv);

/** An HDF5 file open for reading on every rank of a context. */
typedef struct adk_h5 adk_h5_t;

/**
 * Open an existing HDF5 file for reading (rank 0 checks that it is readable first, so a missing
 * file gets errno's words rather than HDF5's).
 * @return ADK_OK, ADK_EIO (missing, unreadable, not HDF5), ADK_ENOMEM; agreed. Collective.
 */
int adk_h5_open(adk_ctx_t *ctx, const char *file, adk_h5_t **out);

/** Close (NULL: no-op). Collective unless NULL. */
void adk_h5_close(adk_h5_t *f);

/** The file name the handle was opened with. Local. */
const char *adk_h5_name(const adk_h5_t *f);

/** Whether a dataset (or any link) @p dset exists. Collective (metadata is read collectively). */
int adk_h5_exists(adk_h5_t *f, const char *dset, int *exists);

/**
 * Shape of a dataset without reading it: *exists = 0 when there is none; else its rank, the first
 * two extents (dims[1] = 0 for 1-D) and whether its type is numeric. A missing dataset is no error,
 * so callers word their own messages.
 * @return ADK_OK. Collective (metadata is read collectively; every rank gets the same answer).
 */
int adk_h5_shape(adk_h5_t *f, const char *dset, int *exists, int *ndims, int64_t dims[2],
                 int *numeric);

/**
 * Read this rank's rows of a numeric dataset as doubles: a 2-D dataset gives its columns; with
 * @p vector a 1-D dataset gives one column (d = 1) and a 2-D one is refused. Rejects missing,
 * non-numeric, wrongly shaped and empty datasets; with @p finite also NaN/Inf (message names spec,
 * row and column).
 * @param what  how messages name the data (NULL: "FILE:DSET")
 * @param align  partition alignment (adk_part)
 * @return ADK_OK, ADK_EDATA, ADK_EHDF5, ADK_ENOMEM; agreed. Collective.
 */
int adk_h5_read_rows(adk_h5_t *f, const char *dset, const char *what, int64_t align, int vector,
                     int finite, adk_rows_t **out);

/** A 2-D numeric dataset open for reading rows window by window (streamed input). */
typedef struct adk_h5_dset adk_h5_dset_t;

/**
 * Open a 2-D numeric dataset for repeated row reads, with the checks of adk_h5_read_rows (missing,
 * not numeric, not 2-D, empty) but without reading or allocating the rows.
 * @param what  how messages name the data (NULL: "FILE:DSET"; copied)
 * @param rows, cols  its shape
 * @return ADK_OK, ADK_EDATA, ADK_ENOMEM; agreed. Collective. The handle must be closed before
 *         @p f.
 */
int adk_h5_dset_open(adk_h5_t *f, const char *dset, const char *what, int64_t *rows, size_t *cols,
                     adk_h5_dset_t **out);

/**
 * Read rows [row0, row0+nloc) as doubles into @p buf (nloc x cols). A rank with nothing to read
 * passes nloc = 0 and still joins. Integers of more than 32 bits beyond 2^53 are refused as by
 * adk_h5_read_rows. Accounted as I/O.
 * @return ADK_OK, ADK_EHDF5, ADK_EDATA; agreed. Collective.
 */
int adk_h5_dset_read(adk_h5_dset_t *ds, int64_t row0, size_t nloc, double *buf);

/** Close (NULL: no-op). Collective unless NULL. */
void adk_h5_dset_close(adk_h5_dset_t *ds);

/**
 * Read integer labels for the rows of @p rows (same partition) from a 1-D dataset whose length must
 * equal rows->n. Values must be integers of magnitude at most @p max_abs.
 * @param noun  how a bad value is named: "labels" gives "labels SPEC row R: V is not an integer
 *              label"; any other noun N gives "FILE row R: N V is not an integer"
 * @return ADK_OK, ADK_EDATA, ADK_EHDF5, ADK_ENOMEM; agreed. Collective.
 */
int adk_h5_read_labels(adk_h5_t *f, const char *dset, const char *noun, double max_abs,
                       adk_rows_t *rows);

/**
 * Read a whole small 1-D or 2-D numeric dataset on every rank as rows x cols doubles (cols = 1
 * for 1-D) in a malloc'd buffer. NaN is rejected; +-Inf passes (callers that need finite values
 * check).
 * @param max_elems  refuse larger datasets (the caller knows what "small" means)
 * @return ADK_OK, ADK_EDATA, ADK_EHDF5, ADK_ENOMEM; agreed. Collective.
 */
int adk_h5_read_small(adk_h5_t *f, const char *dset, size_t max_elems, double **out, int64_t *rows,
                      int64_t *cols, int *ndims);

/**
 * Read the elements [@p start, @p start + @p count) of a numeric 1-D dataset, every rank its own
 * range (ranges of any length, 0 included, in any order): a piece of a flat array whose extent the
 * caller works out, such as the entries of a distributed sparse matrix.
 * @param as_i64  1: into int64_t (the file's integers, exactly); 0: into doubles
 * @param total   out (may be NULL): the dataset's length
 * @return ADK_OK, ADK_EDATA (missing, not 1-D, a range past its end: named), ADK_EHDF5; agreed.
 *         Collective.
 */
int adk_h5_read_range(adk_h5_t *f, const char *dset, int as_i64, int64_t start, size_t count,
                      void *buf, int64_t *total);

typedef enum { ADK_ATTR_F64, ADK_ATTR_U64, ADK_ATTR_STR } adk_attr_kind_t;

/**
 * Read an attribute of object @p obj ("/" or a dataset).
 * @param out    double, uint64_t, or a char buffer of @p len bytes for ADK_ATTR_STR (truncated)
 * @param found  NULL: a missing attribute is ADK_EDATA; else *found = 0 and ADK_OK when missing
 * @return ADK_OK, ADK_EDATA, ADK_EHDF5; agreed. Collective.
 */
int adk_h5_attr(adk_h5_t *f, const char *obj, const char *name, adk_attr_kind_t kind, void *out,
                size_t len, int *found);

/** Turn off HDF5's automatic error printing (apps call this once at start-up). Local. */
void adk_h5_quiet(void);

#if defined(H5_VERS_MAJOR)
/* For adk_out: the file-access list every open uses, and the collective row transfer. */

/** MPI-IO file access with collective metadata, or a negative id. Local. */
hid_t adk_h5_fapl(adk_ctx_t *ctx);

/**
 * Collective transfer of this rank's rows [row0, row0+nloc) of a 1-D (d = 0) or 2-D dataset, in
 * rounds of at most 256 MiB per rank (ranks with fewer rounds select nothing).
 * @return ADK_OK, ADK_EIO (write), ADK_EHDF5 (read); agreed. Collective.
 */
int adk_h5_xfer_rows(adk_ctx_t *ctx, hid_t ds, hid_t memtype, void *buf, int64_t row0, size_t nloc,
                     size_t d, int writing, const char *what);
#endif

#endif
