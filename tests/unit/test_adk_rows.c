/*
 * Unit tests for adk_rows and adk_part_block_end: the block each rank gets (checked against the
 * partition and against the other ranks' blocks), zero fill, copied spec, labels, ranks without
 * rows, the first non-finite value named by spec, global row and column, and the block runs of
 * blocked sums against a brute-force walk.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_part.h"
#include "adk_rows.h"
#include "adk_test.h"

/* Every rank's (row0, nloc), gathered: the blocks must tile [0, n) in rank order. */
static int blocks_tile(const adk_rows_t *r, int64_t n)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx);
    int64_t mine[2] = {r->row0, (int64_t)r->nloc};
    int64_t *all = malloc(2 * (size_t)size * sizeof(int64_t));
    MPI_Allgather(mine, 2, MPI_INT64_T, all, 2, MPI_INT64_T, MPI_COMM_WORLD);
    int ok = 1;
    int64_t next = 0;
    for (int k = 0; k < size; k++) {
        int64_t s = all[2 * k], c = all[2 * k + 1];
        ok &= c >= 0;
        if (c > 0) {
            ok &= s == next;
            /* a block starts on an alignment boundary */
            ok &= s % r->align == 0;
            next = s + c;
        }
    }
    ok &= next == (n > 0 ? n : 0);
    free(all);
    return ok;
}

static void test_alloc_partition(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    const int64_t ns[] = {0, 1, 3, 37, 1000};
    const int64_t aligns[] = {1, ADK_ALIGN_REPRO, 7};
    const size_t ds[] = {1, 3};
    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
        for (size_t b = 0; b < 3; b++) {
            for (size_t c = 0; c < 2; c++) {
                int64_t n = ns[a];
                size_t d = ds[c];
                int want_labels = (int)((a + b + c) % 2);
                char spec[64];
                snprintf(spec, sizeof(spec), "in-%lld.h5:/data", (long long)n);
                adk_rows_t *r = NULL;
                CU_ASSERT_FATAL(adk_rows_alloc(ctx, n, d, aligns[b], spec, want_labels, &r) ==
                                ADK_OK);
                CU_ASSERT_PTR_NOT_NULL_FATAL(r);
                spec[0] = 'X'; /* the block holds its own copy */
                adk_range_t rg = adk_part_rows(n, size, rank, aligns[b]);
                CU_ASSERT_EQUAL(r->n, n);
                CU_ASSERT_EQUAL(r->d, d);
                CU_ASSERT_EQUAL(r->row0, rg.start);
                CU_ASSERT_EQUAL((int64_t)r->nloc, rg.count);
                CU_ASSERT(r->align >= 1);
                CU_ASSERT_EQUAL(r->align,
                                aligns[b] == ADK_ALIGN_REPRO ? adk_part_repro_block(n) : aligns[b]);
                CU_ASSERT(blocks_tile(r, n));
                CU_ASSERT_PTR_NOT_NULL_FATAL(r->x);
                int zero = 1;
                for (size_t i = 0; i < r->nloc * d; i++) {
                    zero &= r->x[i] == 0.0;
                }
                CU_ASSERT(zero);
                CU_ASSERT_PTR_NOT_NULL_FATAL(r->spec);
                char want[64];
                snprintf(want, sizeof(want), "in-%lld.h5:/data", (long long)n);
                CU_ASSERT_STRING_EQUAL(r->spec, want);
                if (want_labels) {
                    CU_ASSERT_PTR_NOT_NULL_FATAL(r->labels);
                    int lz = 1;
                    for (size_t i = 0; i < r->nloc; i++) {
                        lz &= r->labels[i] == 0;
                    }
                    CU_ASSERT(lz);
                } else {
                    CU_ASSERT_PTR_NULL(r->labels);
                }
                /* the whole block is writable */
                for (size_t i = 0; i < r->nloc * d; i++) {
                    r->x[i] = (double)i;
                }
                adk_rows_free(r);
            }
        }
    }
    adk_rows_free(NULL);
}

static void test_alloc_no_rows(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    /* n = 0 leaves every rank empty; n = 1 leaves every rank but 0 empty (more ranks than rows) */
    for (int64_t n = 0; n <= 1; n++) {
        adk_rows_t *r = NULL;
        CU_ASSERT_FATAL(adk_rows_alloc(ctx, n, 4, 1, NULL, 1, &r) == ADK_OK);
        size_t want = n == 1 && rank == 0 ? 1 : 0;
        CU_ASSERT_EQUAL(r->nloc, want);
        CU_ASSERT_PTR_NOT_NULL(r->x);
        CU_ASSERT_PTR_NOT_NULL(r->labels);
        CU_ASSERT_PTR_NULL(r->spec);
        CU_ASSERT(r->row0 >= 0 && r->row0 <= n);
        CU_ASSERT_EQUAL(adk_rows_check_finite(ctx, r), ADK_OK);
        adk_rows_free(r);
    }
    /* 3 rows at any size: ranks >= 3 hold nothing but still get pointers */
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 3, 2, 1, "s", 1, &r) == ADK_OK);
    /* the plain split: the lowest 3 % size ranks take one extra row */
    size_t want = (size_t)(3 / size + (rank < 3 % size ? 1 : 0));
    CU_ASSERT_EQUAL(r->nloc, want);
    CU_ASSERT_PTR_NOT_NULL(r->x);
    CU_ASSERT_PTR_NOT_NULL(r->labels);
    adk_rows_free(r);
}

static void test_alloc_labels(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 37, 2, 1, NULL, 0, &r) == ADK_OK);
    CU_ASSERT_PTR_NULL(r->labels);
    CU_ASSERT_FATAL(adk_rows_alloc_labels(ctx, r) == ADK_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->labels);
    for (size_t i = 0; i < r->nloc; i++) {
        r->labels[i] = 7;
    }
    /* replacing gives fresh zeroed labels */
    CU_ASSERT_FATAL(adk_rows_alloc_labels(ctx, r) == ADK_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->labels);
    int lz = 1;
    for (size_t i = 0; i < r->nloc; i++) {
        lz &= r->labels[i] == 0;
    }
    CU_ASSERT(lz);
    adk_rows_free(r);
}

/* The number after the first occurrence of @p key in @p s, or -1. */
static long long number_after(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    long long v = -1;
    if (!p || sscanf(p + strlen(key), "%lld", &v) != 1) {
        return -1;
    }
    return v;
}

typedef struct {
    int64_t row;
    size_t col;
    double v;
} bad_cell_t;

static void test_check_finite(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const int64_t n = 37;
    const size_t d = 3;
    const char *spec = "mydata.h5:/features";
    const bad_cell_t bad[] = {{5, 2, NAN},       {20, 2, NAN}, {20, 1, -INFINITY},
                              {25, 0, INFINITY}, {30, 0, NAN}, {36, 2, -INFINITY}};
    const size_t nbad = sizeof(bad) / sizeof(bad[0]);
    const int64_t aligns[] = {1, 7, ADK_ALIGN_REPRO};
    for (int a = 0; a < 3; a++) {
        adk_rows_t *r = NULL;
        CU_ASSERT_FATAL(adk_rows_alloc(ctx, n, d, aligns[a], spec, 0, &r) == ADK_OK);
        for (size_t i = 0; i < r->nloc; i++) {
            for (size_t j = 0; j < d; j++) {
                r->x[i * d + j] = (double)(r->row0 + (int64_t)i) - 0.5 * (double)j;
            }
        }
        adk_ctx_clear(ctx);
        CU_ASSERT_EQUAL(adk_rows_check_finite(ctx, r), ADK_OK);
        CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "");
        /* the expected first bad cell on this rank, in row-major order */
        int64_t want_row = -1;
        size_t want_col = 0;
        double want_v = 0;
        for (size_t k = 0; k < nbad; k++) {
            int64_t li = bad[k].row - r->row0;
            if (li < 0 || li >= (int64_t)r->nloc) {
                continue;
            }
            r->x[(size_t)li * d + bad[k].col] = bad[k].v;
            if (want_row < 0 || bad[k].row < want_row ||
                (bad[k].row == want_row && bad[k].col < want_col)) {
                want_row = bad[k].row;
                want_col = bad[k].col;
                want_v = bad[k].v;
            }
        }
        int st = adk_rows_check_finite(ctx, r);
        const char *msg = adk_ctx_message(ctx);
        if (want_row < 0) {
            CU_ASSERT_EQUAL(st, ADK_OK);
        } else {
            CU_ASSERT_EQUAL(st, ADK_EDATA);
            CU_ASSERT_PTR_NOT_NULL(strstr(msg, spec));
            CU_ASSERT_EQUAL(number_after(msg, " row "), want_row);
            CU_ASSERT_EQUAL(number_after(msg, "column "), (long long)want_col);
            CU_ASSERT_PTR_NOT_NULL(strstr(msg, isnan(want_v) ? "NaN" : "Inf"));
            if (number_after(msg, " row ") != want_row) {
                printf("# rank %d: expected row %lld, got '%s'\n", adk_ctx_rank(ctx),
                       (long long)want_row, msg);
            }
        }
        /* agreed, every rank fails: row 5 is on rank 0 and row 36 on the last rank holding rows */
        CU_ASSERT_EQUAL(adk_ctx_agree(ctx, st), ADK_EDATA);
        adk_ctx_clear(ctx);
        adk_rows_free(r);
    }
    /* a block far from row 0 (what a high rank holds), even at one rank: global numbering */
    double hx[3 * 2] = {1, 2, 3, 4, 5, INFINITY};
    char hspec[] = "far.csv";
    adk_rows_t hand = {2000, 1000, 3, 2, 1, hx, NULL, hspec};
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_rows_check_finite(ctx, &hand), ADK_EDATA);
    CU_ASSERT_EQUAL(number_after(adk_ctx_message(ctx), " row "), 1002);
    CU_ASSERT_EQUAL(number_after(adk_ctx_message(ctx), "column "), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "far.csv"));
    adk_ctx_clear(ctx);
    /* without a spec the message still names row and column */
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 4, 2, 1, NULL, 0, &r) == ADK_OK);
    if (r->nloc > 0) {
        r->x[(r->nloc - 1) * 2 + 1] = NAN;
        CU_ASSERT_EQUAL(adk_rows_check_finite(ctx, r), ADK_EDATA);
        CU_ASSERT_EQUAL(number_after(adk_ctx_message(ctx), " row "),
                        (long long)(r->row0 + (int64_t)r->nloc - 1));
        CU_ASSERT_EQUAL(number_after(adk_ctx_message(ctx), "column "), 1);
    } else {
        CU_ASSERT_EQUAL(adk_rows_check_finite(ctx, r), ADK_OK);
    }
    adk_ctx_clear(ctx);
    adk_rows_free(r);
}

/* Brute force: the first local index e > r at which a new global block starts, capped at n. */
static size_t brute_end(int64_t row0, size_t r, size_t n, int64_t block)
{
    size_t e = r + 1;
    while (e < n && (row0 + (int64_t)e) % block != 0) {
        e++;
    }
    return e < n ? e : n;
}

static void test_block_end(void)
{
    const int64_t blocks[] = {1, 2, 3, 5, 7, 16, 64, 4096};
    const int64_t bases[] = {0, 1000003, (int64_t)1 << 40};
    int ok_end = 1, ok_walk = 1, ok_cover = 1;
    for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
        int64_t block = blocks[b];
        for (size_t base = 0; base < 3; base++) {
            for (int64_t off = 0; off < 70; off += (off < 20 ? 1 : 7)) {
                int64_t row0 = bases[base] + off;
                for (size_t n = 0; n < 140; n += (n < 20 ? 1 : 13)) {
                    for (size_t r = 0; r < n; r++) {
                        ok_end &=
                            adk_part_block_end(row0, r, n, block) == brute_end(row0, r, n, block);
                    }
                    /* the walk of blocked sums: runs inside one block, ending on a boundary or n,
                     * covering [0, n) once */
                    size_t covered = 0, r = 0, steps = 0;
                    while (r < n && steps <= n) {
                        size_t e = adk_part_block_end(row0, r, n, block);
                        ok_walk &= e > r && e <= n;
                        if (!(e > r && e <= n)) {
                            break;
                        }
                        ok_walk &= e == n || (row0 + (int64_t)e) % block == 0;
                        ok_walk &= (row0 + (int64_t)r) / block == (row0 + (int64_t)e - 1) / block;
                        covered += e - r;
                        r = e;
                        steps++;
                    }
                    ok_cover &= covered == n && r == n;
                }
            }
        }
    }
    CU_ASSERT(ok_end);
    CU_ASSERT(ok_walk);
    CU_ASSERT(ok_cover);
}

/* With align = block, every global block is summed as one run on one rank, whatever the size. */
static void test_block_end_partition(void)
{
    const int64_t ns[] = {1, 3, 37, 100, 1000, 5000};
    const int64_t blocks[] = {1, 7, 16, ADK_ALIGN_REPRO};
    int ok = 1;
    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
        int64_t n = ns[a];
        for (size_t b = 0; b < 4; b++) {
            int64_t block = adk_part_align(n, blocks[b]);
            int64_t nb = (n + block - 1) / block;
            for (int size = 1; size <= 9; size++) {
                int *seen = calloc((size_t)nb, sizeof(int));
                for (int rank = 0; rank < size; rank++) {
                    adk_range_t rg = adk_part_rows(n, size, rank, blocks[b]);
                    size_t nloc = (size_t)rg.count;
                    for (size_t r = 0; r < nloc;) {
                        size_t e = adk_part_block_end(rg.start, r, nloc, block);
                        if (e <= r || e > nloc) {
                            ok = 0;
                            break;
                        }
                        int64_t g0 = rg.start + (int64_t)r, g1 = rg.start + (int64_t)e;
                        /* a whole block, or the short last one */
                        ok &= g0 % block == 0 && (g1 % block == 0 || g1 == n);
                        seen[g0 / block]++;
                        r = e;
                    }
                }
                for (int64_t k = 0; k < nb; k++) {
                    ok &= seen[k] == 1;
                }
                free(seen);
            }
        }
    }
    CU_ASSERT(ok);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"alloc: partition, zero fill, spec copy, labels", test_alloc_partition},
        {"alloc: ranks without rows get valid pointers", test_alloc_no_rows},
        {"alloc_labels: allocate and replace, zeroed", test_alloc_labels},
        {"check_finite names spec, global row, column", test_check_finite},
        {"part_block_end against a brute-force walk", test_block_end},
        {"part_block_end: one run per global block at 1-9 ranks", test_block_end_partition},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_rows", tests);
}
