/*
 * Seconds per pass of the nearest-centre kernels over N x 32 rows (shifted, as a Lloyd step stages
 * them) against 64 centres, one core: the AVX2 tile shape is chosen from this (see shapes.sh,
 * which builds adk_dist.c once per shape with -DADK_AVX2_ROWS=R -DADK_AVX2_PANELS=V).
 *
 *   avx2_shapes N KERNEL...   (KERNEL: blas, avx2, avx512); prints "KERNEL seconds" per kernel,
 *                             the best of 5 passes in CPU seconds
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adk_dist.h"
#include "adk_rng.h"

/* CPU time of this thread, not wall time: on a loaded machine the time other processes hold the
 * core does not count (their cache traffic still does). */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void sink(void *ud, size_t first, size_t count, const double *rows, const int32_t *label,
                 const double *best)
{
    (void)rows;
    (void)best;
    long *sum = ud; /* keep the labels alive */
    for (size_t i = 0; i < count; i++) {
        *sum += label[i] + (long)first;
    }
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 200000, d = 32, k = 64;
    adk_rng_t r;
    adk_rng_init(&r, 1, ADK_RNG_GEN, 0, 0);
    double *x = malloc(n * d * sizeof(double)), *cc = malloc(k * d * sizeof(double));
    double shift[32];
    for (size_t i = 0; i < n * d; i++) {
        x[i] = adk_rng_normal(&r) * 8.0;
    }
    for (size_t i = 0; i < k * d; i++) {
        cc[i] = adk_rng_normal(&r) * 8.0;
    }
    for (size_t j = 0; j < d; j++) {
        shift[j] = 0.5;
    }
    adk_centres_t *c = NULL;
    adk_dist_ws_t *ws = NULL;
    if (adk_centres_alloc(k, d, &c) != ADK_OK || adk_dist_ws_alloc(k, d, &ws) != ADK_OK) {
        return 1;
    }
    adk_centres_set(c, cc);
    for (int a = 2; a < argc; a++) {
        int kern = adk_dist_kernel_parse(argv[a]);
        if (kern < 0 || (int)adk_dist_ws_set_kernel(ws, (adk_kernel_t)kern) != kern) {
            printf("%s unavailable\n", argv[a]);
            continue;
        }
        double best = 1e30;
        long sum = 0;
        for (int rep = 0; rep < 5; rep++) {
            double t = now();
            adk_dist_nearest_blocks(ws, c, x, n, 0, shift, sink, &sum);
            t = now() - t;
            best = t < best ? t : best;
        }
        printf("%s %.4f (checksum %ld)\n", argv[a], best, sum);
    }
    adk_centres_free(c);
    adk_dist_ws_free(ws);
    free(x);
    free(cc);
    return 0;
}
