/*
 * adk_msg: transfers of any length, in pieces (see adk_msg.h).
 */
#include "adk_msg.h"
#include "adk_mem.h"

#include <stdlib.h>
#include <string.h>

#define MSG_TAG 7411

size_t adk_msg_nreq(const adk_ctx_t *ctx, size_t bytes)
{
    size_t piece = adk_ctx_msg_piece(ctx);
    return bytes == 0 ? 1 : (bytes - 1) / piece + 1;
}

/* Post the pieces of one transfer; recv selects MPI_Irecv. */
static int post(adk_ctx_t *ctx, void *buf, size_t bytes, int peer, int tag, int recv,
                MPI_Request *req)
{
    size_t n = adk_msg_nreq(ctx, bytes), piece = adk_ctx_msg_piece(ctx);
    MPI_Comm comm = adk_ctx_comm(ctx);
    for (size_t i = 0; i < n; i++) {
        req[i] = MPI_REQUEST_NULL;
    }
    if (!recv) {
        adk_ctx_sent(ctx, (int64_t)bytes, MPI_BYTE);
    }
    for (size_t i = 0; i < n; i++) {
        size_t off = i * piece, len = bytes - off < piece ? bytes - off : piece;
        char *p = (char *)buf + (bytes ? off : 0);
        int rc = recv ? MPI_Irecv(p, (int)len, MPI_BYTE, peer, tag, comm, &req[i])
                      : MPI_Isend(p, (int)len, MPI_BYTE, peer, tag, comm, &req[i]);
        if (rc != MPI_SUCCESS) {
            return rc;
        }
    }
    return MPI_SUCCESS;
}

int adk_msg_isend(adk_ctx_t *ctx, const void *buf, size_t bytes, int dest, int tag,
                  MPI_Request *req)
{
    return ADK_TIMED(ctx, ADK_T_MPI, post(ctx, (void *)buf, bytes, dest, tag, 0, req));
}

int adk_msg_irecv(adk_ctx_t *ctx, void *buf, size_t bytes, int src, int tag, MPI_Request *req)
{
    return ADK_TIMED(ctx, ADK_T_MPI, post(ctx, buf, bytes, src, tag, 1, req));
}

/* Cancel and release what was posted (after an agreed failure to post somewhere). */
static void cancel_all(MPI_Request *req, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (req[i] != MPI_REQUEST_NULL) {
            MPI_Cancel(&req[i]);
            MPI_Request_free(&req[i]);
        }
    }
}

static int alltoallv(adk_ctx_t *ctx, const void *send, const size_t *sbytes, void *recv,
                     const size_t *rbytes)
{
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    size_t nreq = 0, soff = 0, roff = 0, sme = 0, rme = 0;
    for (int j = 0; j < size; j++) {
        if (j != rank) {
            nreq += adk_msg_nreq(ctx, sbytes[j]) + adk_msg_nreq(ctx, rbytes[j]);
        }
    }
    MPI_Request *req = adk_malloc((nreq ? nreq : 1) * sizeof(MPI_Request));
    int st = req ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory for %zu requests", nreq);
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK) {
        return st;
    }
    for (size_t i = 0; i < nreq; i++) {
        req[i] = MPI_REQUEST_NULL;
    }
    size_t q = 0;
    int rc = MPI_SUCCESS;
    for (int j = 0; j < size; j++) {
        if (j == rank) {
            sme = soff;
            rme = roff;
        } else if (rc == MPI_SUCCESS) {
            rc = adk_msg_irecv(ctx, (char *)recv + roff, rbytes[j], j, MSG_TAG, req + q);
            q += adk_msg_nreq(ctx, rbytes[j]);
            if (rc == MPI_SUCCESS) {
                rc = adk_msg_isend(ctx, (const char *)send + soff, sbytes[j], j, MSG_TAG, req + q);
            }
            q += adk_msg_nreq(ctx, sbytes[j]);
        }
        soff += sbytes[j];
        roff += rbytes[j];
    }
    if (sbytes[rank]) {
        memcpy((char *)recv + rme, (const char *)send + sme, sbytes[rank]);
    }
    st = adk_ctx_agree(ctx, rc == MPI_SUCCESS
                                ? ADK_OK
                                : ADK_ERR(ctx, ADK_EMPI, "posting an all-to-all exchange failed"));
    if (st != ADK_OK) {
        cancel_all(req, nreq);
    } else if (MPI_Waitall((int)nreq, req, MPI_STATUSES_IGNORE) != MPI_SUCCESS) {
        st = ADK_ERR(ctx, ADK_EMPI, "an all-to-all exchange failed");
    }
    free(req);
    return adk_ctx_agree(ctx, st);
}

int adk_msg_alltoallv(adk_ctx_t *ctx, const void *send, const size_t *sbytes, void *recv,
                      const size_t *rbytes)
{
    return ADK_TIMED(ctx, ADK_T_MPI, alltoallv(ctx, send, sbytes, recv, rbytes));
}

int adk_msg_allreduce(adk_ctx_t *ctx, void *buf, size_t n, size_t elem, MPI_Datatype type,
                      MPI_Op op)
{
    size_t per = adk_ctx_msg_piece(ctx) / elem;
    per = per ? per : 1;
    for (size_t i = 0; i < n; i += per) {
        size_t len = n - i < per ? n - i : per;
        ADK_CHECK(adk_ctx_allreduce(ctx, MPI_IN_PLACE, (char *)buf + i * elem, (int)len, type, op));
    }
    return ADK_OK;
}

/* Broadcast @p bytes from @p root in pieces. */
static int bcast_pieces(adk_ctx_t *ctx, char *p, size_t bytes, int root)
{
    size_t piece = adk_ctx_msg_piece(ctx);
    for (size_t off = 0; off < bytes; off += piece) {
        size_t len = bytes - off < piece ? bytes - off : piece;
        ADK_CHECK(adk_ctx_bcast(ctx, p + off, (int)len, MPI_BYTE, root));
    }
    return ADK_OK;
}

int adk_msg_allgather_rows(adk_ctx_t *ctx, void *buf, const int64_t *counts, const int64_t *displs,
                           size_t rowbytes)
{
    int size = adk_ctx_size(ctx);
    size_t piece = adk_ctx_msg_piece(ctx), total = 0;
    int fits = 1;
    for (int r = 0; r < size; r++) {
        size_t end = ((size_t)displs[r] + (size_t)counts[r]) * rowbytes;
        total = end > total ? end : total;
    }
    fits = total <= piece;
    if (fits) { /* the same verdict everywhere: the counts are global */
        int *cd = adk_malloc(2 * (size_t)size * sizeof(int));
        int st = adk_ctx_agree(ctx, cd ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
        if (st != ADK_OK) {
            return st;
        }
        for (int r = 0; r < size; r++) {
            cd[r] = (int)((size_t)counts[r] * rowbytes);
            cd[size + r] = (int)((size_t)displs[r] * rowbytes);
        }
        int rank = adk_ctx_rank(ctx);
        if (ADK_MPI_CALL(ctx, cd[rank], MPI_BYTE,
                         MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, cd, cd + size,
                                        MPI_BYTE, adk_ctx_comm(ctx))) != MPI_SUCCESS) {
            st = ADK_ERR(ctx, ADK_EMPI, "MPI_Allgatherv of rows failed");
        }
        free(cd);
        return adk_ctx_agree(ctx, st);
    }
    for (int r = 0; r < size; r++) {
        ADK_CHECK(bcast_pieces(ctx, (char *)buf + (size_t)displs[r] * rowbytes,
                               (size_t)counts[r] * rowbytes, r));
    }
    return ADK_OK;
}
