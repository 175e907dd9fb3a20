/*
 * adk_msg: MPI transfers of any length. MPI counts are ints, and some transports fail on single
 * messages above 2 GiB, so every transfer here is cut into pieces of at most the context's piece
 * size (adk_ctx_msg_piece, 1 GiB by default) and sent as several messages of MPI_BYTE (or several
 * collective calls). Messages between two ranks with one tag are not overtaken, so the pieces
 * arrive in order into the right places.
 */
#ifndef ADK_MSG_H
#define ADK_MSG_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"

/** Requests a transfer of @p bytes needs (at least 1, also for 0 bytes). Local. */
size_t adk_msg_nreq(const adk_ctx_t *ctx, size_t bytes);

/**
 * Post a send of @p bytes from @p buf to @p dest as adk_msg_nreq(bytes) messages with @p tag,
 * filling req[0 .. adk_msg_nreq(bytes)). The receiver posts adk_msg_irecv of the same length.
 * @return MPI_SUCCESS or the first failing MPI call's code (requests not posted are
 *         MPI_REQUEST_NULL). Local (non-blocking); the caller agrees the status.
 */
int adk_msg_isend(adk_ctx_t *ctx, const void *buf, size_t bytes, int dest, int tag,
                  MPI_Request *req);

/** Post the receive matching adk_msg_isend; as adk_msg_isend. Local (non-blocking). */
int adk_msg_irecv(adk_ctx_t *ctx, void *buf, size_t bytes, int src, int tag, MPI_Request *req);

/**
 * All-to-all exchange of byte ranges with 64-bit counts (MPI_Alltoallv without its int limits).
 * Rank r sends sbytes[j] bytes to rank j, taken consecutively from @p send in rank order, and
 * receives rbytes[j] bytes from rank j, stored consecutively in @p recv in rank order; rbytes[j]
 * must equal what rank j sends to r.
 * @return ADK_OK or ADK_EMPI, agreed; on failure no message is left in flight. Collective.
 */
int adk_msg_alltoallv(adk_ctx_t *ctx, const void *send, const size_t *sbytes, void *recv,
                      const size_t *rbytes);

/**
 * In-place MPI_Allreduce of @p n elements of @p type (a predefined type of @p elem bytes) in
 * pieces, checked and agreed like adk_ctx_allreduce.
 * @return ADK_OK or ADK_EMPI, agreed. Collective.
 */
int adk_msg_allreduce(adk_ctx_t *ctx, void *buf, size_t n, size_t elem, MPI_Datatype type,
                      MPI_Op op);

/**
 * Every rank's rows to every rank (MPI_Allgatherv of whole rows): rank r holds counts[r] rows of
 * @p rowbytes bytes, stored in @p buf at row displs[r] (the caller's own rows already in place);
 * afterwards every rank holds all of them. One MPI_Allgatherv while every count and displacement
 * in bytes fits one piece, else one broadcast per rank in pieces.
 * @return ADK_OK or ADK_EMPI, agreed. Collective.
 */
int adk_msg_allgather_rows(adk_ctx_t *ctx, void *buf, const int64_t *counts, const int64_t *displs,
                           size_t rowbytes);

#endif
