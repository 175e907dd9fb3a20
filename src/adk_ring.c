/*
 * adk_ring: ring pass of row blocks (see adk_ring.h).
 * Two buffers alternate: the block being visited is sent on to the right while the next one is
 * received from the left into the other, so communication overlaps the visit. The status is agreed
 * once per step, before the exchange is completed, which is what lets a failure on one rank end
 * the pass on every rank without anyone blocking on a message that will never come.
 */
#include "adk_ring.h"
#include "adk_mem.h"
#include "adk_msg.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define RING_TAG 7301

struct adk_ring {
    adk_ctx_t *ctx;
    char what[64];    /* name in messages */
    size_t width;     /* doubles per row */
    size_t cap;       /* rows of the largest block */
    int64_t *info;    /* 2 P: rows and row0 of every rank */
    double *buf[2];   /* cap x width each; buf[0] holds the own payload before a pass */
    size_t nreq;      /* requests of the largest block's exchange (receive + send, in pieces) */
    MPI_Request *req; /* nreq */
};

int adk_ring_create(adk_ctx_t *ctx, const char *what, int64_t row0, size_t rows, size_t width,
                    adk_ring_t **out)
{
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    *out = NULL;
    int st = ADK_OK;
    adk_ring_t *r = adk_calloc(1, sizeof(*r));
    if (!r || !(r->info = adk_calloc(2 * (size_t)size, sizeof(int64_t)))) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "%s: out of memory", what);
    } else {
        r->ctx = ctx;
        snprintf(r->what, sizeof(r->what), "%s", what);
        r->width = width;
        if (width == 0) {
            st = ADK_ERR(ctx, ADK_EINVAL, "%s: ring rows need at least one value", what);
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        /* Every rank needs every block size to post receives of the right length: one exact
         * integer sum of the slots, each filled by its own rank, stands in for an allgather. */
        r->info[2 * rank] = (int64_t)rows;
        r->info[2 * rank + 1] = row0;
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, r->info, 2 * size, MPI_INT64_T, MPI_SUM);
    }
    if (st == ADK_OK) {
        for (int q = 0; q < size; q++) {
            r->cap = (size_t)r->info[2 * q] > r->cap ? (size_t)r->info[2 * q] : r->cap;
        }
        if (r->cap > SIZE_MAX / sizeof(double) / width) { /* the same everywhere: agreed */
            st = ADK_ERR(ctx, ADK_EINVAL, "%s: a block of %zu rows of %zu values is too large",
                         what, r->cap, width);
        }
    }
    if (st == ADK_OK) {
        size_t n = (r->cap ? r->cap : 1) * width;
        r->nreq = 2 * adk_msg_nreq(ctx, n * sizeof(double));
        r->buf[0] = adk_malloc(n * sizeof(double));
        r->buf[1] = adk_malloc(n * sizeof(double));
        r->req = adk_malloc(r->nreq * sizeof(MPI_Request));
        if (!r->buf[0] || !r->buf[1] || !r->req) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "%s: out of memory for ring blocks of %zu x %zu", what,
                         r->cap, width);
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st != ADK_OK) {
        adk_ring_free(r);
        return st;
    }
    *out = r;
    return ADK_OK;
}

void adk_ring_free(adk_ring_t *ring)
{
    if (!ring) {
        return;
    }
    free(ring->info);
    free(ring->buf[0]);
    free(ring->buf[1]);
    free(ring->req);
    free(ring);
}

double *adk_ring_payload(adk_ring_t *ring)
{
    return ring->buf[0];
}

size_t adk_ring_rows(const adk_ring_t *ring, int r)
{
    return (size_t)ring->info[2 * r];
}

size_t adk_ring_max_rows(const adk_ring_t *ring)
{
    return ring->cap;
}

/*
 * Leave a step after an agreed failure. If every rank posted its exchange, completing it cannot
 * hang, and it leaves no message in flight; otherwise some partner never posted, so ours are
 * cancelled and released instead of waited on. Collective (on the failure path only).
 */
static void abandon(adk_ring_t *r, MPI_Request *req, int unposted)
{
    int any = unposted;
    if (adk_ctx_allreduce(r->ctx, MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX) == ADK_OK && !any) {
        /* the agreed failure is already the result */
        MPI_Waitall((int)r->nreq, req, MPI_STATUSES_IGNORE);
        return;
    }
    for (size_t i = 0; i < r->nreq; i++) {
        if (req[i] != MPI_REQUEST_NULL) {
            MPI_Cancel(&req[i]);
            MPI_Request_free(&req[i]);
        }
    }
}

int adk_ring_pass(adk_ring_t *ring, adk_ring_visit_fn visit, void *ud)
{
    adk_ctx_t *ctx = ring->ctx;
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    int right = (rank + 1) % size, left = (rank - 1 + size) % size;
    int cur = 0, st = ADK_OK;
    int lst = ADK_OK; /* this rank's first failure: a visit's code or ADK_EMPI */
    for (int step = 0; step < size; step++) {
        int src = (rank - step + size) % size;     /* owner of the block held now */
        int nxt = (rank - step - 1 + size) % size; /* owner of the block arriving */
        size_t cnt = (size_t)ring->info[2 * src];
        int exchange = step + 1 < size, unposted = 0;
        MPI_Request *req = ring->req;
        for (size_t i = 0; i < ring->nreq; i++) {
            req[i] = MPI_REQUEST_NULL;
        }
        if (exchange) {
            int rc = MPI_ERR_OTHER;
            adk_ctx_tic(ctx, ADK_T_MPI);
            if (lst == ADK_OK) { /* after a failed wait the buffers are not to be trusted */
                /* pieces of at most adk_ctx_msg_piece bytes: no int count or 2 GiB limit */
                size_t rb = (size_t)ring->info[2 * nxt] * ring->width * sizeof(double);
                size_t sb = cnt * ring->width * sizeof(double);
                rc = adk_msg_irecv(ctx, ring->buf[1 - cur], rb, left, RING_TAG, req);
                if (rc == MPI_SUCCESS) {
                    rc = adk_msg_isend(ctx, ring->buf[cur], sb, right, RING_TAG,
                                       req + adk_msg_nreq(ctx, rb));
                }
                if (rc != MPI_SUCCESS) {
                    lst = ADK_ERR(ctx, ADK_EMPI, "%s: ring exchange failed (step %d)", ring->what,
                                  step);
                }
            }
            adk_ctx_toc(ctx, ADK_T_MPI);
            unposted = rc != MPI_SUCCESS;
        }
        if (lst == ADK_OK && cnt > 0) {
            adk_ring_block_t blk = {.owner = src,
                                    .step = step,
                                    .row0 = ring->info[2 * src + 1],
                                    .rows = cnt,
                                    .width = ring->width,
                                    .data = ring->buf[cur]};
            lst = visit(ud, &blk); /* compute: outside the MPI regions */
        }
        adk_ctx_tic(ctx, ADK_T_MPI);
        st = adk_ctx_agree(ctx, lst);
        if (st != ADK_OK) {
            if (exchange) {
                abandon(ring, req, unposted);
            }
            adk_ctx_toc(ctx, ADK_T_MPI);
            break;
        }
        if (exchange) {
            if (MPI_Waitall((int)ring->nreq, req, MPI_STATUSES_IGNORE) != MPI_SUCCESS) {
                /* agreed at the next step, which never posts after this */
                lst =
                    ADK_ERR(ctx, ADK_EMPI, "%s: ring exchange failed (step %d)", ring->what, step);
            }
            cur = 1 - cur;
        }
        adk_ctx_toc(ctx, ADK_T_MPI);
    }
    return st;
}
