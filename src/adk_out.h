/*
 * adk_out: output files. Every output of a run belongs to one group: HDF5 files (new, or an
 * existing one being updated) and small text files (JSON summaries, CSV tables) are written under
 * "<path>.tmp-<id>", and only when every file of every rank is complete are they fsync'ed and all
 * renamed into place (then the directories are fsync'ed). A failure anywhere removes every
 * temporary file and leaves what was at the final paths untouched, with or without --force.
 * Every call here is an I/O region of the run's accounting (adk_ctx.h).
 */
#ifndef ADK_OUT_H
#define ADK_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"

/* Element types for writing. */
typedef enum { ADK_F64, ADK_F32, ADK_I32, ADK_I64, ADK_U8 } adk_dtype_t;

enum { ADK_OUT_FORCE = 1 };

/** The outputs of one run, committed together. */
typedef struct adk_out_group adk_out_group_t;

/** One HDF5 output file of a group. */
typedef struct adk_out adk_out_t;

/**
 * Fail early, before any work, if @p path exists and ADK_OUT_FORCE is not set.
 * @return ADK_OK, ADK_EEXIST (message names the file and --force), ADK_EMPI; agreed. Collective.
 */
int adk_out_check(adk_ctx_t *ctx, const char *path, unsigned flags);

/**
 * Start a group of outputs.
 * @param flags  ADK_OUT_FORCE: existing files may be replaced (at commit, never before)
 * @return ADK_OK or ADK_ENOMEM; agreed. Collective.
 */
int adk_out_group_create(adk_ctx_t *ctx, unsigned flags, adk_out_group_t **out);

/**
 * Start a new HDF5 file at @p path (refused with ADK_EEXIST when it exists and the group has no
 * ADK_OUT_FORCE), under its temporary name, with the provenance attributes (adk_prov) on "/".
 * The group owns the file. Collective.
 */
int adk_out_h5_create(adk_out_group_t *g, const char *path, adk_out_t **out);

/**
 * Start updating an existing HDF5 file: it is copied to the temporary name and changed there; the
 * commit renames it over the original. Collective.
 */
int adk_out_h5_update(adk_out_group_t *g, const char *path, adk_out_t **out);

/**
 * Start a new HDF5 file at @p path as a copy of the existing @p src, changed under its temporary
 * name; @p src is left as it is. @p path is refused with ADK_EEXIST when it exists and the group
 * has no ADK_OUT_FORCE; the same path as @p src is adk_out_h5_update. Collective.
 */
int adk_out_h5_derive(adk_out_group_t *g, const char *src, const char *path, adk_out_t **out);

/**
 * Add a small text file (rank 0's @p text; other ranks may pass anything, even NULL), written and
 * fsync'ed under its temporary name now, renamed at commit. Refused with ADK_EEXIST when @p path
 * exists without ADK_OUT_FORCE. Collective.
 */
int adk_out_text(adk_out_group_t *g, const char *path, const char *text);

/**
 * Finish the run's outputs: agree on @p st; if every rank succeeded, close every HDF5 file, fsync
 * each temporary file, rename them all into place and fsync their directories; otherwise (or if
 * any of that fails) remove every temporary file. Frees @p g (NULL: returns @p st).
 * With --timings (adk_ctx_timings_on), after a success the run's accounting up to this call
 * (adk_ctx_usage) is first written on "/" of every HDF5 file: timings_{io,compute,mpi}_{max,mean}
 * (seconds, f64), bytes_sent_max and bytes_sent_total (u64), bytes_sent_mean (f64), timings_ranks
 * (i64). Text files get nothing.
 * @return the agreed status. Collective.
 */
int adk_out_group_commit(adk_out_group_t *g, int st);

/*
 * Shorthands for a run with one output: adk_out_create/adk_out_update/adk_out_derive start a
 * group of one HDF5 file, adk_out_commit commits it (as adk_out_group_commit), adk_out_text_file
 * writes one text file as a group of its own. Collective.
 */
int adk_out_create(adk_ctx_t *ctx, const char *path, unsigned flags, adk_out_t **out);
int adk_out_update(adk_ctx_t *ctx, const char *path, adk_out_t **out);
int adk_out_derive(adk_ctx_t *ctx, const char *src, const char *path, unsigned flags,
                   adk_out_t **out);
int adk_out_commit(adk_out_t *o, int st);
int adk_out_text_file(adk_ctx_t *ctx, const char *path, unsigned flags, const char *text);

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

/** Write a small replicated dataset (identical on all ranks; rank 0 writes). cols 0 = 1-D.
 * Collective. */
int adk_out_small(adk_out_t *o, const char *name, adk_dtype_t type, const void *buf, size_t rows,
                  size_t cols);

/** Attributes on object @p obj ("/" or a dataset written before); the same value on every rank.
 * Each returns ADK_OK or ADK_EHDF5, agreed. Collective. */
int adk_out_attr_f64(adk_out_t *o, const char *obj, const char *name, double v);
int adk_out_attr_i64(adk_out_t *o, const char *obj, const char *name, int64_t v);
int adk_out_attr_u64(adk_out_t *o, const char *obj, const char *name, uint64_t v);
int adk_out_attr_str(adk_out_t *o, const char *obj, const char *name, const char *v);
int adk_out_attr_f64v(adk_out_t *o, const char *obj, const char *name, const double *v, size_t n);
int adk_out_attr_i64v(adk_out_t *o, const char *obj, const char *name, const int64_t *v, size_t n);

#endif
