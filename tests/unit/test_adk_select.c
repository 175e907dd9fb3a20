/*
 * Unit tests for adk_select: key order, numpy's index and interpolation rules (analytic cases),
 * percentiles bit for bit against numpy on the fixture (ties, empty and tiny groups, -0.0,
 * subnormals, huge values) for several radix widths and several ways of spreading the values over
 * the ranks, order statistics against a brute-force sort, round counts, and bad input.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_io.h"
#include "adk_key.h"
#include "adk_part.h"
#include "adk_select.h"
#include "adk_test.h"

static char fx_buf[4096];

/* tests/fixtures/threshold/select.h5:/name, from the source tree make check names. */
static const char *fixture(const char *dset)
{
    const char *src = getenv("ADK_SRCDIR");
    snprintf(fx_buf, sizeof(fx_buf), "%s/tests/fixtures/threshold/select.h5%s%s",
             src && *src ? src : "..", dset ? ":" : "", dset ? dset : "");
    return fx_buf;
}

/* The whole fixture on every rank (small; only the tests do this, never the library). */
typedef struct {
    size_t n, ngroups, nq;
    double *v;
    int32_t *group;
    double *q;
    double *expected; /* ngroups x nq */
    int64_t *counts;
} fixture_t;

static int load_fixture(fixture_t *f)
{
    adk_ctx_t *ctx = adk_test_ctx();
    double *g = NULL, *c = NULL;
    int64_t r, cols;
    int nd;
    memset(f, 0, sizeof(*f));
    int st = adk_io_read_small(ctx, fixture("/values"), 1 << 20, &f->v, &r, &cols, &nd);
    f->n = (size_t)r;
    if (st == ADK_OK) {
        st = adk_io_read_small(ctx, fixture("/groups"), 1 << 20, &g, &r, &cols, &nd);
    }
    if (st == ADK_OK) {
        st = adk_io_read_small(ctx, fixture("/q"), 1 << 20, &f->q, &r, &cols, &nd);
        f->nq = (size_t)r;
    }
    if (st == ADK_OK) {
        st = adk_io_read_small(ctx, fixture("/expected"), 1 << 20, &f->expected, &r, &cols, &nd);
        f->ngroups = (size_t)r;
    }
    if (st == ADK_OK) {
        st = adk_io_read_small(ctx, fixture("/counts"), 1 << 20, &c, &r, &cols, &nd);
    }
    if (st == ADK_OK) {
        f->group = malloc(f->n * sizeof(int32_t));
        f->counts = malloc(f->ngroups * sizeof(int64_t));
        for (size_t i = 0; i < f->n; i++) {
            f->group[i] = (int32_t)g[i];
        }
        for (size_t i = 0; i < f->ngroups; i++) {
            f->counts[i] = (int64_t)c[i];
        }
    }
    free(g);
    free(c);
    return st;
}

static void free_fixture(fixture_t *f)
{
    free(f->v);
    free(f->group);
    free(f->q);
    free(f->expected);
    free(f->counts);
}

/* This rank's share of the fixture under one of several layouts. */
enum { LAY_BLOCK, LAY_ROUND_ROBIN, LAY_LAST_RANK, LAY_REVERSED_BLOCKS, LAY_N };

static size_t share(const fixture_t *f, int layout, double *v, int32_t *grp)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int p = adk_ctx_size(ctx), me = adk_ctx_rank(ctx);
    size_t m = 0;
    if (layout == LAY_BLOCK || layout == LAY_REVERSED_BLOCKS) {
        int who = layout == LAY_BLOCK ? me : p - 1 - me;
        adk_range_t rg = adk_part_rows((int64_t)f->n, p, who, 1);
        for (int64_t i = rg.start; i < rg.start + rg.count; i++) {
            v[m] = f->v[i];
            grp[m++] = f->group[i];
        }
    } else {
        for (size_t i = 0; i < f->n; i++) {
            int owner = layout == LAY_ROUND_ROBIN ? (int)(i % (size_t)p) : p - 1;
            if (owner == me) {
                v[m] = f->v[i];
                grp[m++] = f->group[i];
            }
        }
    }
    return m;
}

static void test_linear_index(void)
{
    int64_t lo, hi;
    double g;
    adk_select_linear_index(1, 50.0, &lo, &hi, &g); /* n = 1: upper clamp, gamma = 0 - (-1) */
    CU_ASSERT(lo == 0 && hi == 0 && g == 1.0);
    adk_select_linear_index(5, 100.0, &lo, &hi, &g);
    CU_ASSERT(lo == 4 && hi == 4 && g == 5.0);
    adk_select_linear_index(5, 0.0, &lo, &hi, &g);
    CU_ASSERT(lo == 0 && hi == 1 && adk_test_same_bits(g, 0.0));
    adk_select_linear_index(5, -0.0, &lo, &hi, &g); /* numpy accepts -0.0: gamma is -0.0 */
    CU_ASSERT(lo == 0 && hi == 1 && adk_test_same_bits(g, -0.0));
    adk_select_linear_index(4, 50.0, &lo, &hi, &g);
    CU_ASSERT(lo == 1 && hi == 2 && g == 0.5);
    /* 29/100 rounds down, so v = 100 * 0.29 = 28.999999999999996: lo 28, not 29, and the
     * weight of x_(29) is just below 1 */
    adk_select_linear_index(101, 29.0, &lo, &hi, &g);
    CU_ASSERT(lo == 28 && hi == 29 && g == 100.0 * (29.0 / 100.0) - 28.0 && g < 1.0 && g > 0.99);
    adk_select_linear_index(101, 7.0, &lo, &hi, &g); /* 7.000000000000001: lo 7 */
    CU_ASSERT(lo == 7 && hi == 8 && g > 0.0 && g < 1e-14);
}

static void test_lerp(void)
{
    /* np.percentile([0.1, 0.7], 70) == 0.5199999999999999: the g >= 0.5 branch (b - d(1-g));
     * a + d g would give 0.52 */
    CU_ASSERT(adk_test_same_bits(adk_select_lerp(0.1, 0.7, 0.7), 0.5199999999999999));
    CU_ASSERT(!adk_test_same_bits(0.1 + (0.7 - 0.1) * 0.7, 0.5199999999999999));
    CU_ASSERT(adk_test_same_bits(adk_select_lerp(1.0, 2.0, 0.25), 1.25));
    /* signs of zero as numpy: [-0.0, -0.0] at q = 25 is +0.0, at q = 75 it is -0.0 */
    CU_ASSERT(adk_test_same_bits(adk_select_lerp(-0.0, -0.0, 0.25), 0.0));
    CU_ASSERT(adk_test_same_bits(adk_select_lerp(-0.0, -0.0, 0.75), -0.0));
    CU_ASSERT(adk_test_same_bits(adk_select_lerp(3.0, 3.0, 5.0), 3.0)); /* clamped: gamma > 1 */
}

/* Percentiles of the fixture under @p layout and @p bits, compared bit for bit with numpy. */
static void check_percentiles(const fixture_t *f, int layout, int bits)
{
    adk_ctx_t *ctx = adk_test_ctx();
    double *v = malloc((f->n + 1) * sizeof(double));
    int32_t *grp = malloc((f->n + 1) * sizeof(int32_t));
    double *out = malloc(f->ngroups * f->nq * sizeof(double));
    int64_t *cnt = malloc(f->ngroups * sizeof(int64_t));
    size_t m = share(f, layout, v, grp);
    adk_select_opts_t o = {bits};
    adk_select_stats_t s;
    int st =
        adk_select_percentile(ctx, v, grp, m, f->ngroups, f->nq, f->q, &o, INFINITY, out, cnt, &s);
    CU_ASSERT_EQUAL(st, ADK_OK);
    if (st != ADK_OK && adk_ctx_rank(ctx) == 0) {
        printf("# layout %d bits %d: %s\n", layout, bits, adk_ctx_message(ctx));
    }
    adk_ctx_clear(ctx);
    size_t bad = 0;
    for (size_t g = 0; st == ADK_OK && g < f->ngroups; g++) {
        CU_ASSERT_EQUAL(cnt[g], f->counts[g]);
        for (size_t j = 0; j < f->nq; j++) {
            double e = f->expected[g * f->nq + j], a = out[g * f->nq + j];
            if (!adk_test_same_bits(a, e)) {
                if (bad++ < 5 && adk_ctx_rank(ctx) == 0) {
                    printf("# layout %d bits %d group %zu q %g: got %.17g, numpy %.17g\n", layout,
                           bits, g, f->q[j], a, e);
                }
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(s.rounds >= 2 && s.rounds <= 1 + (64 + bits - 1) / bits);
    CU_ASSERT(s.bytes > 0);
    free(v);
    free(grp);
    free(out);
    free(cnt);
}

static void test_percentile_numpy(void)
{
    fixture_t f;
    CU_ASSERT_EQUAL_FATAL(load_fixture(&f), ADK_OK);
    CU_ASSERT_EQUAL(f.ngroups, 57);
    const int bits[] = {1, 3, 8, 11, 16};
    for (size_t b = 0; b < sizeof(bits) / sizeof(bits[0]); b++) {
        check_percentiles(&f, LAY_BLOCK, bits[b]);
    }
    free_fixture(&f);
}

static void test_percentile_layouts(void)
{
    fixture_t f;
    CU_ASSERT_EQUAL_FATAL(load_fixture(&f), ADK_OK);
    for (int lay = 0; lay < LAY_N; lay++) {
        check_percentiles(&f, lay, ADK_SELECT_BITS);
        check_percentiles(&f, lay, 5);
    }
    free_fixture(&f);
}

/* Compare two doubles by key (the order adk_select defines: -0.0 < +0.0). */
static int cmp_key(const void *a, const void *b)
{
    uint64_t x = adk_key_from_double(*(const double *)a),
             y = adk_key_from_double(*(const double *)b);
    return x < y ? -1 : x > y;
}

static void test_kth_bruteforce(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    fixture_t f;
    CU_ASSERT_EQUAL_FATAL(load_fixture(&f), ADK_OK);
    /* brute force: every group sorted on every rank */
    double *sorted = malloc(f.n * sizeof(double));
    size_t *start = calloc(f.ngroups + 1, sizeof(size_t));
    for (size_t i = 0; i < f.n; i++) {
        start[f.group[i] + 1]++;
    }
    for (size_t g = 0; g < f.ngroups; g++) {
        start[g + 1] += start[g];
    }
    size_t *fill = malloc(f.ngroups * sizeof(size_t));
    memcpy(fill, start, f.ngroups * sizeof(size_t));
    for (size_t i = 0; i < f.n; i++) {
        sorted[fill[f.group[i]]++] = f.v[i];
    }
    for (size_t g = 0; g < f.ngroups; g++) {
        qsort(sorted + start[g], start[g + 1] - start[g], sizeof(double), cmp_key);
    }
    const int64_t ks[] = {0, 1, -1, -2, 2, 7, 50, 99, 100, 599, 1199};
    size_t nk = sizeof(ks) / sizeof(ks[0]);
    int64_t *k = malloc(f.ngroups * nk * sizeof(int64_t));
    for (size_t i = 0; i < f.ngroups * nk; i++) {
        k[i] = ks[i % nk];
    }
    double *v = malloc((f.n + 1) * sizeof(double));
    int32_t *grp = malloc((f.n + 1) * sizeof(int32_t));
    double *kth = malloc(f.ngroups * nk * sizeof(double));
    double *next = malloc(f.ngroups * nk * sizeof(double));
    size_t m = share(&f, LAY_ROUND_ROBIN, v, grp);
    int st = adk_select_kth(ctx, v, grp, m, f.ngroups, nk, k, NULL, -7.5, kth, next, NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(st, ADK_OK);
    size_t bad = 0;
    for (size_t g = 0; g < f.ngroups; g++) {
        int64_t n = (int64_t)(start[g + 1] - start[g]);
        for (size_t j = 0; j < nk; j++) {
            int64_t r = ks[j] < 0 ? ks[j] + n : ks[j];
            double want = -7.5, want_next = -7.5;
            if (r >= 0 && r < n) {
                want = sorted[start[g] + (size_t)r];
                want_next = sorted[start[g] + (size_t)(r + 1 < n ? r + 1 : r)];
            }
            bad += !adk_test_same_bits(kth[g * nk + j], want) ||
                   !adk_test_same_bits(next[g * nk + j], want_next);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    free(sorted);
    free(start);
    free(fill);
    free(k);
    free(v);
    free(grp);
    free(kth);
    free(next);
    free_fixture(&f);
}

static void test_rounds(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int me = adk_ctx_rank(ctx);
    /* all equal: the counting round already pins the value */
    double v[64];
    int32_t g[64];
    for (int i = 0; i < 64; i++) {
        v[i] = 4.25;
        g[i] = i % 3;
    }
    double q[2] = {50.0, 99.0}, out[6];
    adk_select_stats_t s;
    CU_ASSERT_EQUAL(adk_select_percentile(ctx, v, g, 64, 3, 2, q, NULL, 0.0, out, NULL, &s),
                    ADK_OK);
    CU_ASSERT_EQUAL(s.rounds, 1);
    CU_ASSERT_EQUAL(s.targets, 6);
    CU_ASSERT_EQUAL(s.bytes, 3 * 24);
    for (int i = 0; i < 6; i++) {
        CU_ASSERT(out[i] == 4.25);
    }
    /* distinct values 0..999 spread over ranks: one counting round, then 8-bit splits below the
     * common prefix of min and max; 1000 < 256^2 values need at most 1 + 2 + 1 rounds */
    double w[1000];
    size_t m = 0;
    for (int i = 0; i < 1000; i++) {
        if (i % adk_ctx_size(ctx) == me) {
            w[m++] = (double)i;
        }
    }
    double median;
    CU_ASSERT_EQUAL(adk_select_percentile(ctx, w, NULL, m, 1, 1, q, NULL, 0.0, &median, NULL, &s),
                    ADK_OK);
    CU_ASSERT(median == 499.5);
    CU_ASSERT(s.rounds >= 2 && s.rounds <= 4);
    /* no values anywhere: counts only */
    int64_t cnt[2] = {-1, -1};
    double e[4];
    CU_ASSERT_EQUAL(adk_select_percentile(ctx, w, g, 0, 2, 2, q, NULL, INFINITY, e, cnt, &s),
                    ADK_OK);
    CU_ASSERT(cnt[0] == 0 && cnt[1] == 0 && s.rounds == 1);
    CU_ASSERT(isinf(e[0]) && isinf(e[3]));
}

static void test_ignored_groups(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    /* negative groups are skipped: the percentile of {1, 2, 3} whatever else is there */
    double v[6] = {1.0, 100.0, 2.0, -50.0, 3.0, 1e9};
    int32_t g[6] = {0, -1, 0, -3, 0, -1};
    double q = 50.0, out = 0.0;
    int64_t cnt = 0;
    size_t m = adk_ctx_rank(ctx) == 0 ? 6 : 0;
    CU_ASSERT_EQUAL(adk_select_percentile(ctx, v, g, m, 1, 1, &q, NULL, 0.0, &out, &cnt, NULL),
                    ADK_OK);
    CU_ASSERT(out == 2.0 && cnt == 3);
}

/* A call that must fail with @p code on every rank, with a message containing @p needle. */
static void expect_error(int st, int code, const char *needle)
{
    adk_ctx_t *ctx = adk_test_ctx();
    CU_ASSERT_EQUAL(st, code);
    int mine = strstr(adk_ctx_message(ctx), needle) != NULL, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CU_ASSERT(any);
    if (!any && adk_ctx_rank(ctx) == 0) {
        printf("# expected a message with '%s'\n", needle);
    }
    adk_ctx_clear(ctx);
}

static void test_bad_input(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int last = adk_ctx_rank(ctx) == adk_ctx_size(ctx) - 1;
    double v[4] = {1.0, 2.0, 3.0, 4.0}, q = 50.0, out[4];
    int32_t g[4] = {0, 0, 1, 1};
    adk_select_opts_t o = {0};
    /* NaN or Inf on one rank only: every rank fails, nobody hangs */
    v[2] = last ? NAN : 3.0;
    expect_error(adk_select_percentile(ctx, v, g, 4, 2, 1, &q, NULL, 0.0, out, NULL, NULL),
                 ADK_EDATA, "NaN");
    v[2] = last ? -INFINITY : 3.0;
    expect_error(
        adk_select_kth(ctx, v, g, 4, 2, 1, (int64_t[]){0, 0}, NULL, 0.0, out, NULL, NULL, NULL),
        ADK_EDATA, "infinite");
    v[2] = 3.0;
    g[1] = last ? 2 : 0; /* group outside [0, ngroups) */
    expect_error(adk_select_percentile(ctx, v, g, 4, 2, 1, &q, NULL, 0.0, out, NULL, NULL),
                 ADK_EINVAL, "group 2");
    g[1] = 0;
    double badq[3] = {100.5, -1.0, NAN};
    for (int i = 0; i < 3; i++) {
        expect_error(
            adk_select_percentile(ctx, v, g, 4, 2, 1, &badq[i], NULL, 0.0, out, NULL, NULL),
            ADK_EINVAL, "outside [0, 100]");
    }
    o.bits = 17;
    expect_error(adk_select_percentile(ctx, v, g, 4, 2, 1, &q, &o, 0.0, out, NULL, NULL),
                 ADK_EINVAL, "radix bits");
    /* finite input whose interpolation overflows: numpy gives NaN, adkit refuses */
    double big[2] = {-DBL_MAX, DBL_MAX};
    expect_error(
        adk_select_percentile(ctx, big, NULL, last ? 2 : 0, 1, 1, &q, NULL, 0.0, out, NULL, NULL),
        ADK_EDATA, "overflows");
    /* after the failures the same context still works */
    CU_ASSERT_EQUAL(adk_select_percentile(ctx, v, g, 4, 2, 1, &q, NULL, 0.0, out, NULL, NULL),
                    ADK_OK);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"numpy linear index rule", test_linear_index},
        {"numpy two-sided lerp", test_lerp},
        {"percentiles equal numpy's bit for bit", test_percentile_numpy},
        {"any spread of values over ranks", test_percentile_layouts},
        {"order statistics vs brute force", test_kth_bruteforce},
        {"round counts", test_rounds},
        {"negative groups ignored", test_ignored_groups},
        {"bad input agreed on every rank", test_bad_input},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_select", tests);
}
