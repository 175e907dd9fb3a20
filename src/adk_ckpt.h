/*
 * adk_ckpt: checkpoints of long fits (adkit-kmeans, adkit-tsne).
 * A checkpoint is one HDF5 file written through adk_out (temporary name, fsync, rename over the
 * previous checkpoint), so a reader finds the previous checkpoint or the new one, never a part.
 * Attributes on "/" say what it is and which run it belongs to: the format version, the program,
 * the parameters that decide the result and the input's identity (spec, rows, columns and a
 * checksum of every value that does not depend on the rank count); the program adds its own state
 * between adk_ckpt_begin and adk_ckpt_commit. adk_ckpt_open refuses, naming what differs, a file
 * of another program or format, or one made with other parameters or from other data.
 *
 * While an adk_ckpt_t exists, SIGTERM and SIGUSR1 ask for a checkpoint (adk_sig_checkpoint)
 * instead of ending the process; adk_ckpt_stop_wanted tells the fit.
 */
#ifndef ADK_CKPT_H
#define ADK_CKPT_H

#include <stdint.h>

#include "adk_cli.h"
#include "adk_ctx.h"
#include "adk_h5.h"
#include "adk_out.h"
#include "adk_rows.h"
#include "adk_rowsrc.h"

/* Version of the attributes adk_ckpt writes (a reader refuses any other). */
#define ADK_CKPT_FORMAT 1

/* Longest parameter list (all "--name value" lines together). */
#define ADK_CKPT_PARAMS_MAX 8192

typedef struct adk_ckpt adk_ckpt_t;

/**
 * Checkpoints of program @p prog at @p path. An existing @p path must be a checkpoint of @p prog
 * (it is replaced by the first save); anything else there is refused, with or without --force.
 * With @p resuming (@p path is also the checkpoint to resume from) that check is left to
 * adk_ckpt_open, which the caller makes before any save and which says more.
 * Switches adk_sig into checkpoint mode until adk_ckpt_free.
 * Testing hooks read from the environment: ADK_CKPT_TEST_STOP_AT=[MAJOR:]MINOR makes the last rank
 * (only) ask for a stop from position (MAJOR - 1, MINOR) on (see adk_ckpt_stop_wanted; MAJOR is 1
 * when left out), as if a signal had reached that rank then; ADK_CKPT_TEST_DELAY=SECONDS makes
 * every adk_ckpt_stop_wanted on the last rank sleep that long (a window for real signals).
 * @return ADK_OK, ADK_EEXIST (something else at @p path), ADK_ENOMEM, ADK_EMPI; agreed.
 * Collective.
 */
int adk_ckpt_create(adk_ctx_t *ctx, const char *prog, const char *path, int resuming,
                    adk_ckpt_t **out);

/**
 * Check a program's --checkpoint FILE, --checkpoint-every N and --resume FILE before anything
 * else is done (every program words them alike): N >= 0, and N > 0 only with a checkpoint file;
 * that file (--checkpoint, else --resume's: a resumed run goes on saving there) none of the
 * outputs.
 * @param outs   @p nouts output paths (NULL entries: outputs not asked for)
 * @param path   out: where checkpoints go, or NULL (neither option); pass it to adk_ckpt_create
 *               with resuming = (*path == resume)
 * @return ADK_OK or ADK_EINVAL (message set). Local (the same verdict on every rank).
 */
int adk_ckpt_check_options(adk_ctx_t *ctx, const char *checkpoint, const char *resume, int every,
                           const char *const *outs, size_t nouts, const char **path);

/**
 * Once the input is read: record the parameters (@p names from @p tab, as adk_ckpt_options) and
 * the input's identity (adk_ckpt_input of @p x, or adk_ckpt_input_src of @p src when @p x is
 * NULL), and with @p resume open that checkpoint and check that it belongs to this run
 * (adk_ckpt_open).
 * @param f  out: the open checkpoint (read the state, then adk_h5_close), NULL without @p resume
 * @return as adk_ckpt_input and adk_ckpt_open; agreed. Collective.
 */
int adk_ckpt_identify(adk_ckpt_t *ck, const adk_opt_t *tab, const char *names, const char *spec,
                      const adk_rows_t *x, adk_rowsrc_t *src, const char *resume, adk_h5_t **f);

/** Leave checkpoint mode and free (NULL: no-op). Local. */
void adk_ckpt_free(adk_ckpt_t *ck);

/** The checkpoint file's path. Local. */
const char *adk_ckpt_path(const adk_ckpt_t *ck);

/**
 * Record the options named in @p names (comma-separated long names, e.g. "k,init,seed") with
 * their current values from the option table @p tab (unset strings are left out), as the
 * parameters a resumed run must share: one "--name value" line each, doubles as %.17g.
 * @return ADK_OK, or ADK_EINVAL (a name not in @p tab, or more than ADK_CKPT_PARAMS_MAX
 *         characters): the same on every rank for the same table. Local.
 */
int adk_ckpt_options(adk_ckpt_t *ck, const adk_opt_t *tab, const char *names);

/**
 * Checksum of the rows of a distributed matrix, the same for any partition: the sum modulo 2^64
 * over every value of a 64-bit hash of (global row, column, the value's bits). Any changed,
 * swapped or moved value changes it (up to hash collisions).
 * @return ADK_OK or ADK_EMPI; agreed. Collective.
 */
int adk_ckpt_checksum(adk_ctx_t *ctx, const adk_rows_t *x, uint64_t *out);

/**
 * Record the input's identity: @p spec as given (for messages), its shape and adk_ckpt_checksum.
 * @return as adk_ckpt_checksum, or the first failure of adk_ckpt_options; agreed. Collective.
 */
int adk_ckpt_input(adk_ckpt_t *ck, const char *spec, const adk_rows_t *x);

/** adk_ckpt_input over a row source (one pass when streamed): the same identity. Collective. */
int adk_ckpt_input_src(adk_ckpt_t *ck, const char *spec, adk_rowsrc_t *src);

/**
 * Start writing a checkpoint: a new file under a temporary name beside the checkpoint path, with
 * the provenance and identity attributes. Add the state with adk_out_* calls, then
 * adk_ckpt_commit.
 * @return ADK_OK, or an adk_out status (*out is then NULL); agreed. Collective.
 */
int adk_ckpt_begin(adk_ckpt_t *ck, adk_out_t **out);

/**
 * Finish a checkpoint as adk_out_commit: on an agreed success fsync it and rename it over the
 * previous one; otherwise remove it and leave the previous checkpoint as it was.
 * @param o  from adk_ckpt_begin (NULL: returns @p st)
 * @return the agreed status. Collective.
 */
int adk_ckpt_commit(adk_out_t *o, int st);

/**
 * Open the checkpoint @p path for resuming this run and check that it belongs to it: an adkit
 * checkpoint of format ADK_CKPT_FORMAT, of the same program, with the same parameter lines and
 * from the same input (rows, columns, checksum; the spec may differ). Messages name what
 * differs ("--resume ck.h5: the checkpoint was made with --k 8, this run has --k 5").
 * @param out  the open file (read the state from it, then adk_h5_close)
 * @return ADK_OK; ADK_EINVAL (other parameters); ADK_EDATA (not a checkpoint, another program or
 *         format, other input); ADK_EIO (cannot open); ADK_EHDF5; agreed. Collective.
 */
int adk_ckpt_open(adk_ckpt_t *ck, const char *path, adk_h5_t **out);

/**
 * Whether this rank wants the fit to stop at the end of the step at position (@p major,
 * @p minor), e.g. (run, iteration): a signal asked for it (adk_sig_stop_requested), or the test
 * hook ADK_CKPT_TEST_STOP_AT has been reached. Ranks may differ; the caller combines the answers
 * over the ranks. Local.
 */
int adk_ckpt_stop_wanted(const adk_ckpt_t *ck, int64_t major, int64_t minor);

/**
 * The status of a fit stopped after its checkpoint was written: ADK_ESTOPPED, with the message
 * "stopped by SIGNAL at WHERE: checkpoint PATH written; resume with --resume PATH" (@p where is
 * printf-formatted). Local.
 */
int adk_ckpt_stopped(adk_ckpt_t *ck, const char *where, ...) ADK_PRINTF(2, 3);

#endif
