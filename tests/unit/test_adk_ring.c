/*
 * Unit suite of adk_ring: every rank visits every global row exactly once, in the documented
 * order, with the owner's row numbers and payload bit for bit; all-pairs sums against closed forms;
 * ranks without rows, more ranks than rows; and a failure in one rank's visit ends the pass on
 * every rank with the same status and no hang (the runner's timeout turns a hang into a failure).
 */
#include <math.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "adk_part.h"
#include "adk_ring.h"
#include "adk_test.h"

#define W 3 /* payload per row: global row, an awkward double of it, owner rank */

/* A value whose bits would show any conversion or mix-up on the way. */
static double awkward(int64_t g)
{
    return sin((double)g + 0.1) * 1e10 + 1.0 / 3.0;
}

/* What a rank saw during one pass. */
typedef struct {
    int64_t n;        /* global rows */
    int *seen;        /* n: visits of each global row */
    int *order;       /* P: owners in visiting order */
    int nvis;         /* blocks visited */
    int last_step;    /* step of the last visit, -1 none */
    int bad;          /* rows whose payload or numbering was wrong */
    int64_t *pair;    /* nloc: sum over all visiting rows j of (g_i - g_j)^2, exactly */
    int64_t row0;     /* this rank's first row */
    size_t nloc;      /* this rank's rows */
    int fail_rank;    /* rank whose visit fails, -1 none */
    int fail_step;    /* at this step */
    int fail_code;    /* with this code */
    int failed;       /* this rank's visit has failed */
    int after_failed; /* visits after that */
} seen_t;

static int visit(void *ud, const adk_ring_block_t *b)
{
    seen_t *s = ud;
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx);
    s->after_failed += s->failed;
    s->order[s->nvis++] = b->owner;
    s->last_step = b->step;
    if (b->width != W || b->rows == 0) {
        s->bad++;
    }
    for (size_t t = 0; t < b->rows; t++) {
        const double *p = b->data + t * W;
        int64_t g = b->row0 + (int64_t)t;
        if (p[0] != (double)g || p[2] != (double)b->owner ||
            memcmp(&p[1], &(double){awkward(g)}, sizeof(double)) != 0 || g < 0 || g >= s->n) {
            s->bad++;
            continue;
        }
        s->seen[g]++;
        for (size_t i = 0; i < s->nloc; i++) {
            int64_t u = s->row0 + (int64_t)i - g;
            s->pair[i] += u * u;
        }
    }
    if (rank == s->fail_rank && b->step >= s->fail_step) {
        s->failed = 1;
        return ADK_ERR(ctx, s->fail_code, "injected failure on rank %d at step %d", rank, b->step);
    }
    return ADK_OK;
}

/*
 * One pass over n global rows, rank r holding rows[r] of them (contiguous, in rank order); checks
 * everything a pass promises. Returns the pass status.
 */
static int run_pass(const int64_t *rows, int fail_rank, int fail_step, int fail_code)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    int64_t n = 0, row0 = 0;
    for (int r = 0; r < size; r++) {
        row0 += r < rank ? rows[r] : 0;
        n += rows[r];
    }
    seen_t s = {n,
                calloc((size_t)n + 1, sizeof(int)),
                calloc((size_t)size, sizeof(int)),
                0,
                -1,
                0,
                calloc((size_t)rows[rank] + 1, sizeof(int64_t)),
                row0,
                (size_t)rows[rank],
                fail_rank,
                fail_step,
                fail_code,
                0,
                0};
    adk_ring_t *ring = NULL;
    int st = adk_ring_create(ctx, "ring test", row0, (size_t)rows[rank], W, &ring);
    CU_ASSERT_EQUAL_FATAL(st, ADK_OK);
    int64_t cap = 0;
    for (int r = 0; r < size; r++) {
        CU_ASSERT_EQUAL(adk_ring_rows(ring, r), (size_t)rows[r]);
        cap = rows[r] > cap ? rows[r] : cap;
    }
    CU_ASSERT_EQUAL(adk_ring_max_rows(ring), (size_t)cap);
    double *m = adk_ring_payload(ring);
    for (int64_t i = 0; i < rows[rank]; i++) {
        m[i * W] = (double)(row0 + i);
        m[i * W + 1] = awkward(row0 + i);
        m[i * W + 2] = (double)rank;
    }
    st = adk_ring_pass(ring, visit, &s);
    CU_ASSERT_EQUAL(s.bad, 0);
    CU_ASSERT_EQUAL(s.after_failed, 0);
    if (fail_rank >= 0) { /* no rank goes on past the step at which the failure happened */
        CU_ASSERT(s.last_step <= fail_step);
    }
    /* The documented order: step k visits rank (rank - k) mod P, skipping blocks without rows. */
    int nexp = 0;
    for (int k = 0; k < size && nexp <= s.nvis; k++) {
        int owner = (rank - k + size) % size;
        if (rows[owner] > 0) {
            if (nexp < s.nvis) {
                CU_ASSERT_EQUAL(s.order[nexp], owner);
            }
            nexp++;
        }
    }
    if (st == ADK_OK) {
        CU_ASSERT_EQUAL(s.nvis, nexp);
        for (int64_t g = 0; g < n; g++) {
            CU_ASSERT_EQUAL(s.seen[g], 1);
        }
        /* sum_j (i - j)^2 over j in [0, n) = n i^2 - 2 i S1 + S2 */
        int64_t s1 = n * (n - 1) / 2, s2 = (n - 1) * n * (2 * n - 1) / 6;
        for (size_t i = 0; i < s.nloc; i++) {
            int64_t g = row0 + (int64_t)i;
            CU_ASSERT_EQUAL(s.pair[i], n * g * g - 2 * g * s1 + s2);
        }
        /* and over all pairs: n^2 (n^2 - 1) / 6 */
        int64_t tot = 0;
        for (size_t i = 0; i < s.nloc; i++) {
            tot += s.pair[i];
        }
        CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, MPI_IN_PLACE, &tot, 1, MPI_INT64_T, MPI_SUM),
                        ADK_OK);
        CU_ASSERT_EQUAL(tot, n * n * (n * n - 1) / 6);
    }
    adk_ring_free(ring);
    free(s.seen);
    free(s.order);
    free(s.pair);
    return st;
}

/* The plain split of n rows (adk_part), the layout every reader produces. */
static int64_t *split(int64_t n)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx);
    int64_t *rows = calloc((size_t)size, sizeof(int64_t));
    for (int r = 0; r < size; r++) {
        rows[r] = adk_part_rows(n, size, r, 1).count;
    }
    return rows;
}

static void test_every_row_once(void)
{
    const int64_t ns[] = {1, 2, 7, 64, 301};
    for (size_t c = 0; c < sizeof(ns) / sizeof(ns[0]); c++) {
        int64_t *rows = split(ns[c]);
        CU_ASSERT_EQUAL(run_pass(rows, -1, 0, ADK_OK), ADK_OK);
        free(rows);
    }
}

/* Blocks cut into many messages (adk_msg pieces, as beyond 1 GiB): the pieces reassemble bitwise,
 * also where a piece ends inside a double, and a failure between pieces leaves nothing behind. */
static void test_pieces(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const size_t pieces[] = {1, 8, 17, 24, 1000};
    for (size_t c = 0; c < sizeof(pieces) / sizeof(pieces[0]); c++) {
        adk_ctx_set_msg_piece(ctx, pieces[c]);
        CU_ASSERT_EQUAL(adk_ctx_msg_piece(ctx), pieces[c]);
        int64_t *rows = split(37);
        CU_ASSERT_EQUAL(run_pass(rows, -1, 0, ADK_OK), ADK_OK);
        int fail = adk_ctx_size(ctx) - 1, step = adk_ctx_size(ctx) > 1;
        CU_ASSERT_EQUAL(run_pass(rows, fail, step, ADK_EDATA), ADK_EDATA);
        adk_ctx_clear(ctx);
        CU_ASSERT_EQUAL(run_pass(rows, -1, 0, ADK_OK), ADK_OK);
        free(rows);
    }
    adk_ctx_set_msg_piece(ctx, 0); /* out of range: back to the default */
    CU_ASSERT_EQUAL(adk_ctx_msg_piece(ctx), ADK_MSG_PIECE_DEFAULT);
}

static void test_zero_row_ranks(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx);
    int64_t *rows = calloc((size_t)size, sizeof(int64_t));
    /* odd ranks hold nothing; at one rank, rank 0 alone */
    for (int r = 0; r < size; r++) {
        rows[r] = r % 2 ? 0 : 2 * r + 3;
    }
    CU_ASSERT_EQUAL(run_pass(rows, -1, 0, ADK_OK), ADK_OK);
    /* only the last rank holds rows */
    for (int r = 0; r < size; r++) {
        rows[r] = r == size - 1 ? 5 : 0;
    }
    CU_ASSERT_EQUAL(run_pass(rows, -1, 0, ADK_OK), ADK_OK);
    /* nobody holds rows: no visit at all, and no hang */
    for (int r = 0; r < size; r++) {
        rows[r] = 0;
    }
    CU_ASSERT_EQUAL(run_pass(rows, -1, 0, ADK_OK), ADK_OK);
    free(rows);
}

static void test_more_ranks_than_rows(void)
{
    int size = adk_ctx_size(adk_test_ctx());
    int64_t ns[] = {1, size - 1, size + 1};
    for (int c = 0; c < 3; c++) {
        if (ns[c] < 1) {
            continue;
        }
        int64_t *rows = split(ns[c]);
        CU_ASSERT_EQUAL(run_pass(rows, -1, 0, ADK_OK), ADK_OK);
        free(rows);
    }
}

/* Is the agreed status the same everywhere? */
static int same_everywhere(int st)
{
    int lo = st, hi = st;
    adk_ctx_t *ctx = adk_test_ctx();
    adk_ctx_allreduce(ctx, MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN);
    adk_ctx_allreduce(ctx, MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX);
    return lo == hi;
}

static void test_failure_agreed(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    int64_t *rows = split(3 * size + 1);
    /* the last rank fails at its second step (its own block at one rank) */
    int fstep = size > 1 ? 1 : 0;
    int st = run_pass(rows, size - 1, fstep, ADK_EDATA);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(same_everywhere(st));
    if (rank == size - 1) {
        CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "injected failure"));
    }
    adk_ctx_clear(ctx);
    /* the first rank fails on its own block, before anyone else's visit */
    st = run_pass(rows, 0, 0, ADK_ENOMEM);
    CU_ASSERT_EQUAL(st, ADK_ENOMEM);
    CU_ASSERT(same_everywhere(st));
    adk_ctx_clear(ctx);
    /* a failed pass leaves no message in flight: the next pass is whole */
    CU_ASSERT_EQUAL(run_pass(rows, -1, 0, ADK_OK), ADK_OK);
    free(rows);
}

static void test_bad_width(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_ring_t *ring = (adk_ring_t *)&ring; /* must be reset to NULL */
    int st = adk_ring_create(ctx, "widthless", 0, 1, 0, &ring);
    CU_ASSERT_EQUAL(st, ADK_EINVAL);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT_PTR_NULL(ring);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "widthless"));
    adk_ctx_clear(ctx);
    /* a block whose byte size wraps is refused before anything is allocated, on every rank,
     * though only the last rank holds it */
    ring = NULL;
    size_t rows = adk_ctx_rank(ctx) == adk_ctx_size(ctx) - 1 ? SIZE_MAX / 16 : 0;
    st = adk_ring_create(ctx, "huge", 0, rows, 3, &ring);
    CU_ASSERT_EQUAL(st, ADK_EINVAL);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT_PTR_NULL(ring);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "huge: a block of"));
    adk_ctx_clear(ctx);
    adk_ring_free(NULL);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"every row once, in ring order, payload bitwise", test_every_row_once},
        {"ranks without rows", test_zero_row_ranks},
        {"blocks in many pieces", test_pieces},
        {"more ranks than rows", test_more_ranks_than_rows},
        {"a failing visit ends every rank alike", test_failure_agreed},
        {"width 0 and wrapping block sizes refused", test_bad_width},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_ring", tests);
}
