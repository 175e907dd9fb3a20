/* Unit tests for adk_dist: nearest centre against brute force, and independence of the split, for
 * every kernel; the AVX2 kernel against the BLAS one (and bit for bit against the AVX-512 one);
 * ties; which kernel is chosen when the CPU features are forced (ADK_CPU_FEATURES, per rank). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_dist.h"
#include "adk_rng.h"
#include "adk_test.h"

static double *random_matrix(size_t n, size_t d, uint64_t seed)
{
    adk_rng_t r;
    adk_rng_init(&r, seed, ADK_RNG_GEN, 0, 0);
    double *x = malloc(n * d * sizeof(double));
    for (size_t i = 0; i < n * d; i++) {
        x[i] = adk_rng_normal(&r) * 3.0 + 1.0;
    }
    return x;
}

static void test_nearest_brute_force(void)
{
    const size_t n = 1000, d = 5, k = 7;
    double *x = random_matrix(n, d, 1), *cc = random_matrix(k, d, 2);
    adk_centres_t *c = NULL;
    adk_dist_ws_t *ws = NULL;
    CU_ASSERT_FATAL(adk_centres_alloc(k, d, &c) == ADK_OK);
    CU_ASSERT_FATAL(adk_dist_ws_alloc(k, d, &ws) == ADK_OK);
    adk_centres_set(c, cc);
    int32_t *lab = malloc(n * sizeof(int32_t));
    double *best = malloc(n * sizeof(double));
    int64_t starts[] = {0, 100, 255, 256, 1000};
    for (size_t s = 0; s < 15; s++) {
        /* every kernel (a fused one the CPU lacks falls back to a narrower one) */
        adk_dist_ws_set_kernel(ws, s < 5    ? ADK_KERNEL_BLAS
                                   : s < 10 ? ADK_KERNEL_AVX512
                                            : ADK_KERNEL_AVX2);
        adk_dist_nearest(ws, c, x, n, starts[s % 5], lab, best);
        int bad = 0;
        for (size_t i = 0; i < n; i++) {
            double dmin = INFINITY;
            for (size_t j = 0; j < k; j++) {
                double v = adk_dist_sq(x + i * d, cc + j * d, d);
                dmin = v < dmin ? v : dmin;
            }
            double mine = adk_dist_sq(x + i * d, cc + (size_t)lab[i] * d, d);
            double gemm = best[i] + adk_dist_norm2(x + i * d, d);
            bad += mine > dmin * (1 + 1e-12) + 1e-12; /* the chosen centre is a nearest one */
            bad += fabs(gemm - mine) > 1e-9 * (1 + mine);
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
    free(x);
    free(cc);
    free(lab);
    free(best);
    adk_centres_free(c);
    adk_dist_ws_free(ws);
}

static void test_split_invariance(void)
{
    const size_t n = 700, d = 9, k = 13;
    double *x = random_matrix(n, d, 3), *cc = random_matrix(k, d, 4);
    adk_centres_t *c = NULL;
    adk_dist_ws_t *ws = NULL;
    adk_centres_alloc(k, d, &c);
    adk_dist_ws_alloc(k, d, &ws);
    adk_centres_set(c, cc);
    int32_t *l1 = malloc(n * sizeof(int32_t)), *l2 = malloc(n * sizeof(int32_t));
    double *b1 = malloc(n * sizeof(double)), *b2 = malloc(n * sizeof(double));
    const int64_t row0 = 300; /* global numbering of row 0 */
    for (int kern = ADK_KERNEL_BLAS; kern <= ADK_KERNEL_AVX2; kern++) {
        adk_dist_ws_set_kernel(ws, (adk_kernel_t)kern);
        adk_dist_nearest(ws, c, x, n, row0, l1, b1);
        size_t cuts[] = {0, 1, 17, 211, 212, 467, 699, 700};
        for (size_t q = 0; q + 1 < sizeof(cuts) / sizeof(cuts[0]); q++) {
            size_t a = cuts[q], e = cuts[q + 1];
            adk_dist_nearest(ws, c, x + a * d, e - a, row0 + (int64_t)a, l2 + a, b2 + a);
        }
        CU_ASSERT(memcmp(l1, l2, n * sizeof(int32_t)) == 0);
        CU_ASSERT(memcmp(b1, b2, n * sizeof(double)) == 0); /* bit for bit */
    }
    free(x);
    free(cc);
    free(l1);
    free(l2);
    free(b1);
    free(b2);
    adk_centres_free(c);
    adk_dist_ws_free(ws);
}

static void test_small_values(void)
{
    double a[3] = {1, 2, 3}, b[3] = {4, 6, 3};
    CU_ASSERT_EQUAL(adk_dist_sq(a, b, 3), 25.0);
    CU_ASSERT_EQUAL(adk_dist_norm2(a, 3), 14.0);
    /* ties: the first of equal centres wins */
    adk_centres_t *c = NULL;
    adk_dist_ws_t *ws = NULL;
    adk_centres_alloc(3, 1, &c);
    adk_dist_ws_alloc(3, 1, &ws);
    double cc[3] = {2.0, 0.0, 2.0}, x[2] = {1.0, 2.0};
    adk_centres_set(c, cc);
    for (int kern = ADK_KERNEL_BLAS; kern <= ADK_KERNEL_AVX2; kern++) {
        int32_t lab[2] = {-1, -1};
        adk_dist_ws_set_kernel(ws, (adk_kernel_t)kern);
        adk_dist_nearest(ws, c, x, 2, 0, lab, NULL);
        CU_ASSERT_EQUAL(lab[0], 0); /* 1 is equidistant from 0 and 2: first centre */
        CU_ASSERT_EQUAL(lab[1], 0);
    }
    adk_centres_free(c);
    adk_dist_ws_free(ws);
}

/* Ties across the 8-centre lanes and panels of the AVX-512 kernel: the lowest index wins. */
static void test_ties_across_panels(void)
{
    const size_t k = 50, d = 2;
    double *cc = calloc(k * d, sizeof(double));
    for (size_t j = 0; j < k; j++) { /* centres at distance 1 from the origin, some repeated */
        cc[j * d] = (j % 7 == 3) ? 1.0 : 5.0 + (double)j;
        cc[j * d + 1] = 0.0;
    }
    adk_centres_t *c = NULL;
    adk_dist_ws_t *ws = NULL;
    adk_centres_alloc(k, d, &c);
    adk_dist_ws_alloc(k, d, &ws);
    adk_centres_set(c, cc);
    double x[2] = {0.0, 0.0};
    for (int kern = ADK_KERNEL_BLAS; kern <= ADK_KERNEL_AVX2; kern++) {
        int32_t lab = -1;
        adk_dist_ws_set_kernel(ws, (adk_kernel_t)kern);
        adk_dist_nearest(ws, c, x, 1, 123, &lab, NULL);
        CU_ASSERT_EQUAL(lab, 3);
    }
    adk_centres_free(c);
    adk_dist_ws_free(ws);
    free(cc);
}

typedef struct {
    int32_t *lab;
    double *best, *rows;
    size_t d;
} shifted_t;

static void keep_chunk(void *ud, size_t first, size_t count, const double *rows,
                       const int32_t *label, const double *best)
{
    shifted_t *s = ud;
    memcpy(s->lab + first, label, count * sizeof(int32_t));
    memcpy(s->best + first, best, count * sizeof(double));
    memcpy(s->rows + first * s->d, rows, count * s->d * sizeof(double));
}

/* The shifted driver (rows staged tile by tile) equals the plain one on a shifted copy. */
static void test_shifted_blocks(void)
{
    const size_t n = 301, d = 11, k = 19;
    double *x = random_matrix(n, d, 5), *cc = random_matrix(k, d, 6),
           *shift = random_matrix(1, d, 7);
    double *xs = malloc(n * d * sizeof(double)), *rows = malloc(n * d * sizeof(double));
    for (size_t i = 0; i < n * d; i++) {
        xs[i] = x[i] - shift[i % d];
    }
    adk_centres_t *c = NULL;
    adk_dist_ws_t *ws = NULL;
    adk_centres_alloc(k, d, &c);
    adk_dist_ws_alloc(k, d, &ws);
    adk_centres_set(c, cc);
    int32_t *l1 = malloc(n * sizeof(int32_t)), *l2 = malloc(n * sizeof(int32_t));
    double *b1 = malloc(n * sizeof(double)), *b2 = malloc(n * sizeof(double));
    for (int kern = ADK_KERNEL_BLAS; kern <= ADK_KERNEL_AVX2; kern++) {
        adk_dist_ws_set_kernel(ws, (adk_kernel_t)kern);
        adk_dist_nearest(ws, c, xs, n, 77, l1, b1);
        shifted_t st = {l2, b2, rows, d};
        adk_dist_nearest_blocks(ws, c, x, n, 77, shift, keep_chunk, &st);
        CU_ASSERT(memcmp(l1, l2, n * sizeof(int32_t)) == 0);
        CU_ASSERT(memcmp(b1, b2, n * sizeof(double)) == 0);
        CU_ASSERT(memcmp(xs, rows, n * d * sizeof(double)) == 0); /* the rows handed on */
    }
    free(x);
    free(cc);
    free(shift);
    free(xs);
    free(rows);
    free(l1);
    free(l2);
    free(b1);
    free(b2);
    adk_centres_free(c);
    adk_dist_ws_free(ws);
}

/* Squared distances to assigned centres: every kernel against adk_dist_sq, widths around 8. */
static void test_sq_assigned(void)
{
    const size_t n = 7, k = 3;
    const size_t widths[] = {1, 3, 7, 8, 9, 13, 32};
    for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
        size_t d = widths[w];
        double *x = random_matrix(n, d, 8 + w), *cc = random_matrix(k, d, 20 + w);
        int32_t lab[7] = {0, 2, 1, 1, 0, 2, 2};
        double out[7];
        adk_dist_ws_t *ws = NULL;
        adk_dist_ws_alloc(k, d, &ws);
        for (int kern = ADK_KERNEL_BLAS; kern <= ADK_KERNEL_AVX2; kern++) {
            adk_dist_ws_set_kernel(ws, (adk_kernel_t)kern);
            adk_dist_sq_assigned(ws, x, lab, n, cc, out);
            for (size_t i = 0; i < n; i++) {
                double ref = adk_dist_sq(x + i * d, cc + (size_t)lab[i] * d, d);
                if (kern == ADK_KERNEL_BLAS) {
                    CU_ASSERT_EQUAL(out[i], ref); /* same order, same bits */
                } else {
                    CU_ASSERT(fabs(out[i] - ref) <= 1e-14 * ref);
                }
            }
        }
        adk_dist_ws_free(ws);
        free(x);
        free(cc);
    }
}

/* The row numbers of the tests below start at odd positions of a chunk and of a tile. */
static const int64_t ROW0S[] = {0, 1, 3, 254};

/* The AVX2 kernel against the BLAS one on random data: distances (||x||^2 + best) within 1e-12 of
 * the GEMM form's magnitude ||x||^2 + ||c||^2, the same labels wherever the two nearest centres
 * are not a near-tie (checked with the direct distances); widths and centre counts that are and
 * are not multiples of the vector (4) and of the tile, and K = 1. */
static void test_avx2_vs_blas(void)
{
    if (!adk_dist_have_avx2()) {
        adk_test_skip("this CPU lacks AVX2 and FMA");
        return;
    }
    const size_t n = 300, dims[] = {1, 3, 4, 7, 32, 33}, ks[] = {1, 2, 5, 12, 13, 64, 67};
    int32_t *la = malloc(n * sizeof(int32_t)), *lb = malloc(n * sizeof(int32_t));
    double *ba = malloc(n * sizeof(double)), *bb = malloc(n * sizeof(double));
    for (size_t a = 0; a < sizeof(dims) / sizeof(dims[0]); a++) {
        for (size_t b = 0; b < sizeof(ks) / sizeof(ks[0]); b++) {
            size_t d = dims[a], k = ks[b];
            double *x = random_matrix(n, d, 100 + a), *cc = random_matrix(k, d, 200 + b);
            adk_centres_t *c = NULL;
            adk_dist_ws_t *ws = NULL;
            CU_ASSERT_FATAL(adk_centres_alloc(k, d, &c) == ADK_OK);
            CU_ASSERT_FATAL(adk_dist_ws_alloc(k, d, &ws) == ADK_OK);
            adk_centres_set(c, cc);
            int64_t row0 = ROW0S[(a + b) % 4];
            CU_ASSERT_EQUAL(adk_dist_ws_set_kernel(ws, ADK_KERNEL_BLAS), ADK_KERNEL_BLAS);
            adk_dist_nearest(ws, c, x, n, row0, lb, bb);
            CU_ASSERT_EQUAL(adk_dist_ws_set_kernel(ws, ADK_KERNEL_AVX2), ADK_KERNEL_AVX2);
            adk_dist_nearest(ws, c, x, n, row0, la, ba);
            size_t far = 0, bad_d = 0, bad_l = 0;
            for (size_t i = 0; i < n; i++) {
                const double *xi = x + i * d;
                double nx = adk_dist_norm2(xi, d), scale = nx + c->cn[lb[i]];
                bad_d += fabs((nx + ba[i]) - (nx + bb[i])) > 1e-12 * scale;
                double d1 = INFINITY, d2 = INFINITY; /* the two smallest direct distances */
                for (size_t j = 0; j < k; j++) {
                    double v = adk_dist_sq(xi, cc + j * d, d);
                    if (v < d1) {
                        d2 = d1;
                        d1 = v;
                    } else if (v < d2) {
                        d2 = v;
                    }
                }
                if (d2 - d1 > 1e-9 * scale) {
                    far++;
                    bad_l += la[i] != lb[i];
                }
            }
            CU_ASSERT_EQUAL(bad_d, 0);
            CU_ASSERT_EQUAL(bad_l, 0);
            CU_ASSERT(far >= n * 9 / 10); /* the label comparison is not vacuous */
            if (bad_d || bad_l) {
                printf("# d=%zu k=%zu: %zu distances, %zu labels differ\n", d, k, bad_d, bad_l);
            }
            adk_centres_free(c);
            adk_dist_ws_free(ws);
            free(x);
            free(cc);
        }
    }
    free(la);
    free(lb);
    free(ba);
    free(bb);
}

/* The AVX2 kernel sums each dot product in the AVX-512 kernel's order (feature order, FMA) and the
 * direct distances in its eight lanes and tree: the two give the same bits, also when shifted. */
static void test_avx2_equals_avx512(void)
{
    if (!adk_dist_have_avx2() || !adk_dist_have_avx512()) {
        adk_test_skip("this CPU lacks AVX-512 or AVX2");
        return;
    }
    const size_t n = 257, dims[] = {1, 5, 8, 32, 37}, ks[] = {1, 7, 48, 64, 71};
    int32_t *l1 = malloc(n * sizeof(int32_t)), *l2 = malloc(n * sizeof(int32_t));
    double *b1 = malloc(n * sizeof(double)), *b2 = malloc(n * sizeof(double));
    double *q1 = malloc(n * sizeof(double)), *q2 = malloc(n * sizeof(double));
    for (size_t a = 0; a < sizeof(dims) / sizeof(dims[0]); a++) {
        size_t d = dims[a], k = ks[a];
        double *x = random_matrix(n, d, 300 + a), *cc = random_matrix(k, d, 400 + a);
        double *shift = random_matrix(1, d, 500 + a), *rows = malloc(n * d * sizeof(double));
        adk_centres_t *c = NULL;
        adk_dist_ws_t *ws = NULL;
        CU_ASSERT_FATAL(adk_centres_alloc(k, d, &c) == ADK_OK);
        CU_ASSERT_FATAL(adk_dist_ws_alloc(k, d, &ws) == ADK_OK);
        adk_centres_set(c, cc);
        int64_t row0 = ROW0S[a % 4];
        adk_dist_ws_set_kernel(ws, ADK_KERNEL_AVX512);
        shifted_t st1 = {l1, b1, rows, d};
        adk_dist_nearest_blocks(ws, c, x, n, row0, shift, keep_chunk, &st1);
        adk_dist_sq_assigned(ws, rows, l1, n, cc, q1);
        adk_dist_ws_set_kernel(ws, ADK_KERNEL_AVX2);
        shifted_t st2 = {l2, b2, rows, d};
        adk_dist_nearest_blocks(ws, c, x, n, row0, shift, keep_chunk, &st2);
        adk_dist_sq_assigned(ws, rows, l2, n, cc, q2);
        CU_ASSERT(memcmp(l1, l2, n * sizeof(int32_t)) == 0);
        CU_ASSERT(memcmp(b1, b2, n * sizeof(double)) == 0);
        CU_ASSERT(memcmp(q1, q2, n * sizeof(double)) == 0);
        adk_centres_free(c);
        adk_dist_ws_free(ws);
        free(x);
        free(cc);
        free(shift);
        free(rows);
    }
    free(l1);
    free(l2);
    free(b1);
    free(b2);
    free(q1);
    free(q2);
}

/* Exact ties at every row position of a tile and across lanes, panels and tiles: centre j is a copy
 * of point P[j % 5], so the copies give equal bits; rows near P[q] must get centre q, the lowest
 * of its copies, with every kernel. */
static void test_ties_lowest_index(void)
{
    const size_t d = 6, k = 61, n = 40, np = 5;
    double *p = random_matrix(np, d, 600), *cc = malloc(k * d * sizeof(double));
    double *x = random_matrix(n, d, 601);
    for (size_t i = 0; i < np * d; i++) {
        p[i] *= 10.0; /* far apart beside the rows' spread of 0.03 */
    }
    for (size_t j = 0; j < k; j++) {
        memcpy(cc + j * d, p + (j % np) * d, d * sizeof(double));
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) {
            x[i * d + j] = p[(i % np) * d + j] + 0.01 * (x[i * d + j] - 1.0);
        }
    }
    adk_centres_t *c = NULL;
    adk_dist_ws_t *ws = NULL;
    adk_centres_alloc(k, d, &c);
    adk_dist_ws_alloc(k, d, &ws);
    adk_centres_set(c, cc);
    int32_t lab[40];
    for (int kern = ADK_KERNEL_BLAS; kern <= ADK_KERNEL_AVX2; kern++) {
        adk_dist_ws_set_kernel(ws, (adk_kernel_t)kern);
        for (size_t r = 0; r < 4; r++) {
            adk_dist_nearest(ws, c, x, n, ROW0S[r], lab, NULL);
            int bad = 0;
            for (size_t i = 0; i < n; i++) {
                bad += lab[i] != (int32_t)(i % np);
            }
            CU_ASSERT_EQUAL(bad, 0);
        }
    }
    adk_centres_free(c);
    adk_dist_ws_free(ws);
    free(p);
    free(cc);
    free(x);
}

/* Restore ADK_CPU_FEATURES as it was before a test forced it. */
static void restore_features(const char *saved)
{
    if (saved) {
        setenv("ADK_CPU_FEATURES", saved, 1);
    } else {
        unsetenv("ADK_CPU_FEATURES");
    }
}

/* Forced detection: the hook hides features and never adds one; AUTO takes the widest the CPU
 * (then every rank) has; an explicit kernel some rank lacks is refused naming that rank; with
 * rank 1 made to lack AVX-512, every rank agrees on AVX2. */
static void test_forced_features(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const char *env = getenv("ADK_CPU_FEATURES");
    char *saved = env ? strdup(env) : NULL;
    unsetenv("ADK_CPU_FEATURES");
    int real512 = adk_dist_have_avx512(), real2 = adk_dist_have_avx2();
    adk_dist_ws_t *ws = NULL;
    adk_dist_ws_alloc(3, 2, &ws);

    setenv("ADK_CPU_FEATURES", "none", 1);
    CU_ASSERT(!adk_dist_have_avx512() && !adk_dist_have_avx2());
    CU_ASSERT_EQUAL(adk_dist_ws_set_kernel(ws, ADK_KERNEL_AUTO), ADK_KERNEL_BLAS);
    CU_ASSERT_EQUAL(adk_dist_ws_set_kernel(ws, ADK_KERNEL_AVX2), ADK_KERNEL_BLAS);
    CU_ASSERT_EQUAL(adk_dist_agree_kernel(ctx, ws, ADK_KERNEL_AUTO), ADK_OK);
    CU_ASSERT_EQUAL(adk_dist_ws_kernel(ws), ADK_KERNEL_BLAS);
    CU_ASSERT_EQUAL(adk_dist_agree_kernel(ctx, ws, ADK_KERNEL_AVX2), ADK_EINVAL);
    CU_ASSERT(adk_test_message_has("the avx2 kernel was asked for, but the CPU of rank 0 lacks "
                                   "AVX2 and FMA"));
    adk_ctx_clear(ctx);

    setenv("ADK_CPU_FEATURES", "avx2", 1);
    CU_ASSERT(!adk_dist_have_avx512());
    CU_ASSERT_EQUAL(adk_dist_have_avx2(), real2);
    CU_ASSERT_EQUAL(adk_dist_ws_set_kernel(ws, ADK_KERNEL_AUTO),
                    real2 ? ADK_KERNEL_AVX2 : ADK_KERNEL_BLAS);
    CU_ASSERT_EQUAL(adk_dist_ws_set_kernel(ws, ADK_KERNEL_AVX512),
                    real2 ? ADK_KERNEL_AVX2 : ADK_KERNEL_BLAS);
    CU_ASSERT_EQUAL(adk_dist_agree_kernel(ctx, ws, ADK_KERNEL_AVX512), ADK_EINVAL);
    CU_ASSERT(adk_test_message_has("the avx512 kernel was asked for, but the CPU of rank 0 lacks "
                                   "AVX-512"));
    adk_ctx_clear(ctx);

    setenv("ADK_CPU_FEATURES", "avx512,avx2,unknown", 1); /* never more than the CPU has */
    CU_ASSERT_EQUAL(adk_dist_have_avx512(), real512);
    CU_ASSERT_EQUAL(adk_dist_have_avx2(), real2);
    CU_ASSERT_EQUAL(adk_dist_ws_set_kernel(ws, ADK_KERNEL_AUTO), real512 ? ADK_KERNEL_AVX512
                                                                 : real2 ? ADK_KERNEL_AVX2
                                                                         : ADK_KERNEL_BLAS);
    setenv("ADK_CPU_FEATURES", "avx512", 1);
    CU_ASSERT_EQUAL(adk_dist_ws_set_kernel(ws, ADK_KERNEL_AUTO),
                    real512 ? ADK_KERNEL_AVX512 : ADK_KERNEL_BLAS);

    /* per rank: rank 1 (the last rank on fewer) lacks AVX-512; the others have what the CPU has */
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx), odd = size > 1 ? 1 : 0;
    if (rank == odd) {
        setenv("ADK_CPU_FEATURES", "avx2", 1);
    } else {
        unsetenv("ADK_CPU_FEATURES");
    }
    CU_ASSERT_EQUAL(adk_dist_agree_kernel(ctx, ws, ADK_KERNEL_AUTO), ADK_OK);
    CU_ASSERT_EQUAL(adk_dist_ws_kernel(ws), real2 ? ADK_KERNEL_AVX2 : ADK_KERNEL_BLAS);
    CU_ASSERT(adk_dist_kernel_available(adk_dist_ws_kernel(ws))); /* on this rank, forced or not */
    if (real512) {
        CU_ASSERT_EQUAL(adk_dist_agree_kernel(ctx, ws, ADK_KERNEL_AVX512), ADK_EINVAL);
        char want[80];
        snprintf(want, sizeof(want), "the CPU of rank %d lacks AVX-512", odd);
        CU_ASSERT(adk_test_message_has(want));
        adk_ctx_clear(ctx);
    }
    if (real2) { /* every rank has AVX2: asking for it is fine */
        CU_ASSERT_EQUAL(adk_dist_agree_kernel(ctx, ws, ADK_KERNEL_AVX2), ADK_OK);
        CU_ASSERT_EQUAL(adk_dist_ws_kernel(ws), ADK_KERNEL_AVX2);
    }

    restore_features(saved);
    free(saved);
    adk_dist_ws_free(ws);
}

static void test_kernel_names(void)
{
    const char *names[] = {"auto", "blas", "avx512", "avx2"};
    for (int k = ADK_KERNEL_AUTO; k <= ADK_KERNEL_AVX2; k++) {
        CU_ASSERT_STRING_EQUAL(adk_dist_kernel_name((adk_kernel_t)k), names[k]);
        CU_ASSERT_EQUAL(adk_dist_kernel_parse(names[k]), k);
    }
    CU_ASSERT_EQUAL(adk_dist_kernel_parse("avx"), -1);
    CU_ASSERT_EQUAL(adk_dist_kernel_parse("AVX2"), -1);
}

typedef struct {
    int32_t *lab;
    double *best, *gmin, *rows;
    size_t d, ng;
} bounds_t;

static void keep_bounds(void *ud, size_t first, size_t count, const double *rows,
                        const int32_t *label, const double *best, const double *gmin)
{
    bounds_t *s = ud;
    memcpy(s->lab + first, label, count * sizeof(int32_t));
    memcpy(s->best + first, best, count * sizeof(double));
    memcpy(s->gmin + first * s->ng, gmin, count * s->ng * sizeof(double));
    memcpy(s->rows + first * s->d, rows, count * s->d * sizeof(double));
}

/*
 * The selective driver (accelerated Lloyd): computed rows get Lloyd's label and minimum bit for
 * bit, the rows handed on are the staged rows, group minimums match brute force over the other
 * centres, and with AVX-512 and AVX2 exactly the needed rows are computed (BLAS: whole chunks).
 * Several panel counts (k 7, 13, 50), three groups and one (AVX-512: fused), row starts that split
 * chunks; sparse: chunks without a needed row are not handed on, and the computed rows' staging
 * is still right.
 */
static void test_nearest_bounds(void)
{
    const size_t n = 700, d = 9, ks[] = {7, 13, 50, 7, 13, 50};
    double *x = random_matrix(n, d, 31), *shift = random_matrix(1, d, 32);
    double *xs = malloc(n * d * sizeof(double)), *rows = malloc(n * d * sizeof(double));
    for (size_t i = 0; i < n * d; i++) {
        xs[i] = x[i] - shift[i % d];
    }
    int32_t *l1 = malloc(n * sizeof(int32_t)), *l2 = malloc(n * sizeof(int32_t));
    double *b1 = malloc(n * sizeof(double)), *b2 = malloc(n * sizeof(double));
    double *gm = malloc(n * 3 * sizeof(double)), *scratch = malloc(ADK_DIST_CHUNK * 3 * 8);
    uint8_t *need = malloc(n);
    for (size_t i = 0; i < n; i++) { /* chunk 0 (from start 100) needs nothing */
        need[i] = i >= 156 && (i * 7919) % 5 == 0;
    }
    for (size_t t = 0; t < 6; t++) {
        size_t k = ks[t], ng = t < 3 ? 3 : 1; /* one group: the fused AVX-512 path */
        double *cc = random_matrix(k, d, 40 + t);
        int32_t group[50];
        for (size_t j = 0; j < k; j++) {
            group[j] = (int32_t)(j % ng);
        }
        const int32_t *grp = ng > 1 ? group : NULL;
        adk_centres_t *c = NULL;
        adk_dist_ws_t *ws = NULL;
        adk_centres_alloc(k, d, &c);
        adk_dist_ws_alloc(k, d, &ws);
        adk_centres_set(c, cc);
        for (int run = 0; run < 6; run++) {
            int kern = ADK_KERNEL_BLAS + run / 2, sparse = run % 2;
            adk_kernel_t used = adk_dist_ws_set_kernel(ws, (adk_kernel_t)kern);
            adk_dist_nearest(ws, c, xs, n, 100, l1, b1);
            bounds_t st = {l2, b2, gm, rows, d, ng};
            for (size_t i = 0; i < n; i++) {
                l2[i] = -2; /* never handed on */
            }
            adk_dist_nearest_bounds(ws, c, x, n, 100, shift, need, sparse, ng, grp, scratch,
                                    keep_bounds, &st);
            if (!sparse) {
                CU_ASSERT(memcmp(xs, rows, n * d * sizeof(double)) == 0);
            }
            int bad = 0, computed = 0;
            for (size_t i = 0; i < n; i++) {
                bad += sparse ? (i < 156) != (l2[i] == -2) : l2[i] == -2; /* chunk 0: no need */
                if (l2[i] < 0) {
                    bad += need[i] != 0; /* a needed row was not computed */
                    continue;
                }
                computed++;
                bad += memcmp(xs + i * d, rows + i * d, d * sizeof(double)) != 0;
                bad += l2[i] != l1[i] || b2[i] != b1[i];
                double want[3] = {INFINITY, INFINITY, INFINITY};
                for (size_t j = 0; j < k; j++) {
                    double dot = 0.0;
                    for (size_t q = 0; q < d; q++) {
                        dot += xs[i * d + q] * cc[j * d + q];
                    }
                    double v = c->cn[j] - 2.0 * dot;
                    if ((int32_t)j != l1[i] && v < want[group[j]]) {
                        want[group[j]] = v;
                    }
                }
                for (size_t g = 0; g < ng; g++) {
                    bad += !(fabs(gm[i * ng + g] - want[g]) <= 1e-10 * (1.0 + fabs(want[g])));
                    bad += !(gm[i * ng + g] >= b2[i]); /* the label's value is the smallest */
                }
            }
            CU_ASSERT_EQUAL(bad, 0);
            if (used == ADK_KERNEL_AVX512 || used == ADK_KERNEL_AVX2) { /* only what was asked */
                size_t want = 0;
                for (size_t i = 0; i < n; i++) {
                    want += need[i] != 0;
                }
                CU_ASSERT_EQUAL((size_t)computed, want);
            } else { /* whole chunks: none of chunk 0's 156 rows, every row after it */
                CU_ASSERT_EQUAL((size_t)computed, n - 156);
            }
        }
        adk_centres_free(c);
        adk_dist_ws_free(ws);
        free(cc);
    }
    free(x);
    free(shift);
    free(xs);
    free(rows);
    free(l1);
    free(l2);
    free(b1);
    free(b2);
    free(gm);
    free(scratch);
    free(need);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"nearest centre vs brute force", test_nearest_brute_force},
        {"labels and values independent of the split", test_split_invariance},
        {"small cases and ties", test_small_values},
        {"ties across kernel lanes and panels", test_ties_across_panels},
        {"shifted driver equals a shifted copy", test_shifted_blocks},
        {"squared distances to assigned centres", test_sq_assigned},
        {"AVX2 kernel against the BLAS kernel", test_avx2_vs_blas},
        {"AVX2 kernel equals the AVX-512 kernel bit for bit", test_avx2_equals_avx512},
        {"exact ties go to the lowest index", test_ties_lowest_index},
        {"forced CPU features: kernel choice and agreement", test_forced_features},
        {"kernel names", test_kernel_names},
        {"selected rows with group minimums", test_nearest_bounds},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_dist", tests);
}
