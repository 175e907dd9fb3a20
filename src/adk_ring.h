/*
 * adk_ring: the ring pass of row blocks. Each rank packs a payload for its own rows; the blocks
 * then travel once around the ranks (P - 1 exchanges with the neighbours, the next block arriving
 * while the current one is worked on), so every rank visits every block while holding only its
 * own rows and two blocks. All-pairs work over distributed rows (the exact silhouette, exact kNN)
 * is a visit callback on top of it, in O(rows per rank + one block) memory.
 */
#ifndef ADK_RING_H
#define ADK_RING_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"

/* A block as it visits a rank: the rows and payload one rank packed. */
typedef struct adk_ring_block {
    int owner;          /* rank that packed the block */
    int step;           /* 0 for the own block, then 1, 2, ... P - 1 */
    int64_t row0;       /* the owner's row0 given to adk_ring_create */
    size_t rows;        /* rows in the block (>= 1: empty blocks are not visited) */
    size_t width;       /* doubles per row */
    const double *data; /* rows x width, row-major, as the owner packed it; valid during the call */
} adk_ring_block_t;

/**
 * Work on one visiting block.
 * @param ud   the caller's pointer given to adk_ring_pass
 * @param blk  the block; its data is overwritten once the callback returns
 * @return ADK_OK, or an ADK_E* code (with its message stored by ADK_ERR): the ring then stops
 *         calling back on every rank and adk_ring_pass returns the agreed failure.
 * Local: it must not call collectives (other ranks may not be visiting at the same time).
 */
typedef int (*adk_ring_visit_fn)(void *ud, const adk_ring_block_t *blk);

/* Workspace of a ring pass: block sizes of every rank and the two message buffers. */
typedef struct adk_ring adk_ring_t;

/**
 * Create a ring workspace on ctx's communicator.
 * @param ctx    context; kept by the ring, must outlive it
 * @param what   name for messages ("silhouette"); copied
 * @param row0   this rank's first global row (handed on as adk_ring_block_t.row0; any value)
 * @param rows   rows this rank contributes (0 allowed: such a rank forwards blocks only)
 * @param width  doubles per row (>= 1), the same on every rank
 * @param out    new ring, or NULL on failure
 * @return ADK_OK; ADK_EINVAL (width 0); ADK_ENOMEM; ADK_EMPI. Blocks of any size travel
 *         as several messages of at most adk_ctx_msg_piece bytes (adk_msg).
 *         Agreed. Collective. Memory: 2 x (largest block) x width doubles plus O(P).
 */
int adk_ring_create(adk_ctx_t *ctx, const char *what, int64_t row0, size_t rows, size_t width,
                    adk_ring_t **out);

/** Free a ring (NULL is a no-op). Local, not collective. */
void adk_ring_free(adk_ring_t *ring);

/**
 * This rank's payload buffer: rows x width doubles (row-major) to fill before adk_ring_pass.
 * The pass reuses the buffer for visiting blocks, so fill it again before another pass.
 * Valid until adk_ring_free. Local.
 */
double *adk_ring_payload(adk_ring_t *ring);

/** Rows that rank @p r contributes (0 <= r < P). Local. */
size_t adk_ring_rows(const adk_ring_t *ring, int r);

/** Largest block of any rank, in rows. Local. */
size_t adk_ring_max_rows(const adk_ring_t *ring);

/**
 * Pass the blocks once around the ranks and call @p visit on each block with rows.
 * Order on rank r of P: the own block first (step 0), then the blocks of ranks r - 1, r - 2, ...,
 * r + 1 (mod P): step s visits the block of rank (r - s) mod P. Blocks travel to the right
 * (rank r sends to r + 1 and receives from r - 1) and the next block arrives while @p visit works
 * on the current one. Every rank visits every non-empty block exactly once.
 *
 * Failures: the status (a visit's, or an MPI call's) is agreed once per step, so after a failure
 * on any rank no rank calls @p visit again and every rank returns the same status (the lowest
 * failing rank's), without a rank left waiting.
 * @return ADK_OK, a visit's code, ADK_EMPI; agreed. Collective. Costs P agreements (small
 *         allreduces) and P - 1 exchanges of one block each.
 */
int adk_ring_pass(adk_ring_t *ring, adk_ring_visit_fn visit, void *ud);

#endif
