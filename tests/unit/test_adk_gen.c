/*
 * Unit tests for adk_gen (blobs): the documented streams for centres, labels and rows (checked
 * with adk_rng directly), make_blobs' exact class sizes, per-class sample moments against the
 * requested centres and standard deviations, and written files equal to the row generator at the
 * running rank count for any slab size, float64 and float32.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_gen.h"
#include "adk_io.h"
#include "adk_part.h"
#include "adk_rng.h"
#include "adk_test.h"

static adk_gen_blobs_t *make(int64_t n, int64_t d, int64_t k, const double *std, size_t nstd,
                             uint64_t seed)
{
    adk_gen_blobs_params_t p;
    adk_gen_blobs_params_default(&p);
    p.n = n;
    p.d = d;
    p.k = k;
    if (std) {
        p.std = std;
        p.nstd = nstd;
    }
    p.seed = seed;
    adk_gen_blobs_t *b = NULL;
    int st = adk_gen_blobs_alloc(adk_test_ctx(), &p, &b);
    CU_ASSERT_EQUAL(st, ADK_OK);
    return b;
}

static void test_centers(void)
{
    adk_gen_blobs_params_t p;
    adk_gen_blobs_params_default(&p);
    p.n = 10;
    p.d = 3;
    p.k = 50;
    p.box_lo = -2.5;
    p.box_hi = 4.0;
    p.seed = 99;
    adk_gen_blobs_t *b = NULL;
    CU_ASSERT_FATAL(adk_gen_blobs_alloc(adk_test_ctx(), &p, &b) == ADK_OK);
    int exact = 1, inside = 1;
    double lo = 1e300, hi = -1e300;
    for (int64_t c = 0; c < p.k; c++) {
        adk_rng_t r;
        adk_rng_init(&r, 99, ADK_RNG_CENTERS, (uint64_t)c, 0);
        for (int64_t j = 0; j < p.d; j++) {
            double v = b->centers[c * p.d + j];
            exact &= v == -2.5 + 6.5 * adk_rng_uniform(&r);
            inside &= v >= -2.5 && v <= 4.0;
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        }
    }
    CU_ASSERT(exact);
    CU_ASSERT(inside);
    /* 150 uniform values spread over the box */
    CU_ASSERT(lo < -2.0 && hi > 3.5);
    adk_gen_blobs_free(b);
    /* default box [-10, 10]; another seed gives other centres */
    adk_gen_blobs_t *b1 = make(10, 2, 3, NULL, 0, 1), *b2 = make(10, 2, 3, NULL, 0, 2);
    int differ = 0;
    for (int i = 0; i < 6; i++) {
        CU_ASSERT(b1->centers[i] >= -10.0 && b1->centers[i] <= 10.0);
        differ += b1->centers[i] != b2->centers[i];
    }
    CU_ASSERT_EQUAL(differ, 6);
    adk_gen_blobs_free(b1);
    adk_gen_blobs_free(b2);
    /* given centres are used as they are; one std expands to every class */
    double cen[6] = {1, 2, 3, 4, 5, 6};
    double sd = 0.25;
    adk_gen_blobs_params_default(&p);
    p.centers = cen;
    p.k = 3;
    p.d = 2;
    p.std = &sd;
    CU_ASSERT_FATAL(adk_gen_blobs_alloc(adk_test_ctx(), &p, &b) == ADK_OK);
    CU_ASSERT(memcmp(b->centers, cen, sizeof(cen)) == 0);
    CU_ASSERT(b->std[0] == 0.25 && b->std[1] == 0.25 && b->std[2] == 0.25);
    adk_gen_blobs_free(b);
}

static void test_row_formula(void)
{
    double std[4] = {0.5, 1.0, 0.0, 3.0};
    adk_gen_blobs_t *b = make(1000, 5, 4, std, 4, 12345);
    CU_ASSERT_FATAL(b != NULL);
    adk_rng_t kr;
    adk_rng_init(&kr, 12345, ADK_RNG_GEN, 0, 1);
    uint64_t key = adk_rng_u64(&kr);
    CU_ASSERT_EQUAL(b->perm_key, key);
    int ok_label = 1, ok_val = 1, zero_std_exact = 1;
    int64_t rows[] = {0, 1, 2, 499, 998, 999};
    for (int i = 0; i < 6; i++) {
        int64_t g = rows[i];
        double x[5];
        int32_t lab = -1;
        adk_gen_blobs_row(b, g, x, &lab);
        int32_t want = (int32_t)(adk_rng_permute(key, 1000, (uint64_t)g) % 4);
        ok_label &= lab == want && adk_gen_blobs_label(b, g) == want;
        adk_rng_t r;
        adk_rng_init(&r, 12345, ADK_RNG_GEN, (uint64_t)g, 0);
        for (int j = 0; j < 5; j++) {
            ok_val &= x[j] == b->centers[want * 5 + j] + std[want] * adk_rng_normal(&r);
            if (want == 2) {
                zero_std_exact &= x[j] == b->centers[want * 5 + j];
            }
        }
    }
    CU_ASSERT(ok_label);
    CU_ASSERT(ok_val);
    CU_ASSERT(zero_std_exact);
    /* a function of (seed, g) only: a second generator gives the same bits, another seed not */
    adk_gen_blobs_t *same = make(1000, 5, 4, std, 4, 12345);
    adk_gen_blobs_t *other = make(1000, 5, 4, std, 4, 12346);
    int eq = 1, ne = 0;
    for (int64_t g = 0; g < 1000; g += 37) {
        double x1[5], x2[5], x3[5];
        adk_gen_blobs_row(b, g, x1, NULL);
        adk_gen_blobs_row(same, g, x2, NULL);
        adk_gen_blobs_row(other, g, x3, NULL);
        eq &= memcmp(x1, x2, sizeof(x1)) == 0;
        ne += memcmp(x1, x3, sizeof(x1)) != 0;
    }
    CU_ASSERT(eq);
    CU_ASSERT_EQUAL(ne, 28);
    adk_gen_blobs_free(b);
    adk_gen_blobs_free(same);
    adk_gen_blobs_free(other);
}

static void test_class_sizes(void)
{
    /* make_blobs: n // K per class, the first n % K classes one more; K > n leaves classes empty */
    int64_t cases[][2] = {{1, 1}, {10, 3}, {1000, 7}, {5, 8}, {100003, 10}, {65536, 3}, {17, 17}};
    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        int64_t n = cases[t][0], k = cases[t][1];
        adk_gen_blobs_t *b = make(n, 1, k, NULL, 0, (uint64_t)t + 5);
        CU_ASSERT_FATAL(b != NULL);
        int64_t *cnt = calloc((size_t)k, sizeof(int64_t));
        int64_t same_next = 0; /* adjacent rows of one class */
        int32_t prev = -1;
        int in_range = 1;
        for (int64_t g = 0; g < n; g++) {
            int32_t c = adk_gen_blobs_label(b, g);
            in_range &= c >= 0 && c < k;
            if (c >= 0 && c < k) {
                cnt[c]++;
            }
            same_next += c == prev;
            prev = c;
        }
        CU_ASSERT(in_range);
        int sizes_ok = 1;
        for (int64_t c = 0; c < k; c++) {
            sizes_ok &= cnt[c] == n / k + (c < n % k ? 1 : 0);
        }
        CU_ASSERT(sizes_ok);
        if (!sizes_ok && adk_ctx_rank(adk_test_ctx()) == 0) {
            printf("# n=%lld k=%lld: class sizes differ from make_blobs'\n", (long long)n,
                   (long long)k);
        }
        /* shuffled (neither sorted nor periodic): a row's successor shares its class with
         * probability about 1/K; 6 standard deviations of a binomial count */
        if (n >= 1000) {
            double e = (double)(n - 1) / (double)k;
            CU_ASSERT(fabs((double)same_next - e) < 6.0 * sqrt(e));
        }
        free(cnt);
        adk_gen_blobs_free(b);
    }
}

static void test_moments(void)
{
    enum { N = 60000, D = 4, K = 3 };
    double std[K] = {0.5, 1.0, 2.0};
    adk_gen_blobs_t *b = make(N, D, K, std, K, 2024);
    CU_ASSERT_FATAL(b != NULL);
    double s1[K][D] = {{0}}, s2[K][D] = {{0}}, cross[K] = {0};
    int64_t cnt[K] = {0};
    for (int64_t g = 0; g < N; g++) {
        double x[D];
        int32_t c;
        adk_gen_blobs_row(b, g, x, &c);
        cnt[c]++;
        for (int j = 0; j < D; j++) {
            double z = x[j] - b->centers[c * D + j];
            s1[c][j] += z;
            s2[c][j] += z * z;
        }
        cross[c] += (x[0] - b->centers[c * D]) * (x[1] - b->centers[c * D + 1]);
    }
    /* tolerances of 5 standard errors: mean s/sqrt(m), std s/sqrt(2m), correlation 1/sqrt(m) */
    int ok_mean = 1, ok_std = 1, ok_corr = 1;
    for (int c = 0; c < K; c++) {
        double m = (double)cnt[c];
        for (int j = 0; j < D; j++) {
            double mean = s1[c][j] / m;
            double sd = sqrt(s2[c][j] / m - mean * mean);
            ok_mean &= fabs(mean) < 5.0 * std[c] / sqrt(m);
            ok_std &= fabs(sd - std[c]) < 5.0 * std[c] / sqrt(2.0 * m);
        }
        ok_corr &= fabs(cross[c] / m / (std[c] * std[c])) < 5.0 / sqrt(m);
    }
    CU_ASSERT(ok_mean);
    CU_ASSERT(ok_std);
    CU_ASSERT(ok_corr);
    adk_gen_blobs_free(b);
}

/* Write with adk_gen_blobs_write, read back this rank's rows, compare with the row generator. */
static void write_and_compare(int64_t n, int64_t d, int64_t k, adk_dtype_t dtype, int64_t slab)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char path[512];
    snprintf(path, sizeof(path), "%s", adk_test_path("gen_rt.h5"));
    double std[3] = {0.1, 2.0, 0.7};
    adk_gen_blobs_params_t p;
    adk_gen_blobs_params_default(&p);
    p.n = n;
    p.d = d;
    p.k = k;
    p.std = std;
    p.nstd = k == 3 ? 3 : 1;
    p.seed = 77;
    p.dtype = dtype;
    p.slab_rows = slab;
    adk_gen_blobs_t *b = NULL;
    CU_ASSERT_FATAL(adk_gen_blobs_alloc(ctx, &p, &b) == ADK_OK);
    int st = adk_gen_blobs_write(ctx, b, path, ADK_OUT_FORCE);
    if (st != ADK_OK) {
        printf("# %s\n", adk_ctx_message(ctx));
    }
    CU_ASSERT_FATAL(st == ADK_OK);
    /* read in a different partition (reproducibility blocks) than the one written */
    char spec[600], lspec[600];
    snprintf(spec, sizeof(spec), "%s:/data", path);
    snprintf(lspec, sizeof(lspec), "%s:/labels", path);
    adk_read_opts_t ro = {ADK_ALIGN_REPRO, lspec, NULL};
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_io_read(ctx, spec, &ro, &r) == ADK_OK);
    CU_ASSERT(r->n == n && (int64_t)r->d == d);
    int same = 1;
    double *x = malloc((size_t)d * sizeof(double));
    for (size_t i = 0; i < r->nloc; i++) {
        int32_t lab;
        adk_gen_blobs_row(b, r->row0 + (int64_t)i, x, &lab);
        same &= r->labels[i] == lab;
        for (int64_t j = 0; j < d; j++) {
            double want = dtype == ADK_F32 ? (double)(float)x[j] : x[j];
            same &= r->x[i * r->d + (size_t)j] == want;
        }
    }
    free(x);
    CU_ASSERT(same);
    adk_rows_free(r);
    /* centres, per-class std and parameters */
    double *c = NULL;
    int64_t rows = 0, cols = 0;
    int nd = 0;
    snprintf(spec, sizeof(spec), "%s:/centers", path);
    CU_ASSERT_FATAL(adk_io_read_small(ctx, spec, 1000, &c, &rows, &cols, &nd) == ADK_OK);
    CU_ASSERT(rows == k && cols == d && nd == 2);
    CU_ASSERT(memcmp(c, b->centers, (size_t)(k * d) * sizeof(double)) == 0);
    free(c);
    double v = 0;
    CU_ASSERT(adk_io_attr_f64(ctx, path, "/", "n", &v) == ADK_OK && v == (double)n);
    CU_ASSERT(adk_io_attr_f64(ctx, path, "/", "d", &v) == ADK_OK && v == (double)d);
    CU_ASSERT(adk_io_attr_f64(ctx, path, "/", "centers", &v) == ADK_OK && v == (double)k);
    CU_ASSERT(adk_io_attr_f64(ctx, path, "/", "seed", &v) == ADK_OK && v == 77.0);
    char buf[64];
    CU_ASSERT(adk_io_attr_str(ctx, path, "/", "generator", buf, sizeof(buf)) == ADK_OK &&
              strcmp(buf, "blobs") == 0);
    adk_gen_blobs_free(b);
}

static void test_write_f64(void)
{
    /* slab sizes below, at and above the rows per rank; n = 3 leaves ranks without rows */
    write_and_compare(257, 3, 3, ADK_F64, 1);
    write_and_compare(257, 3, 3, ADK_F64, 7);
    write_and_compare(257, 3, 3, ADK_F64, ADK_GEN_SLAB_ROWS);
    write_and_compare(3, 2, 5, ADK_F64, 2);
    write_and_compare(1, 1, 1, ADK_F64, 1);
}

static void test_write_f32(void)
{
    write_and_compare(100, 4, 3, ADK_F32, 9);
    write_and_compare(2, 3, 1, ADK_F32, 64);
}

static void expect_bad(adk_gen_blobs_params_t *p, int code, const char *needle)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_ctx_clear(ctx);
    adk_gen_blobs_t *b = NULL;
    int st = adk_gen_blobs_alloc(ctx, p, &b);
    CU_ASSERT_EQUAL(st, code);
    CU_ASSERT_PTR_NULL(b);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), needle));
    if ((st != code || !strstr(adk_ctx_message(ctx), needle)) && adk_ctx_rank(ctx) == 0) {
        printf("# expected %d '%s', got %d '%s'\n", code, needle, st, adk_ctx_message(ctx));
    }
    adk_gen_blobs_free(b);
    adk_ctx_clear(ctx);
    adk_gen_blobs_params_default(p);
}

static void test_bad_params(void)
{
    adk_gen_blobs_params_t p;
    adk_gen_blobs_params_default(&p);
    p.n = 0;
    expect_bad(&p, ADK_EINVAL, "--n: need at least 1 row");
    p.d = 0;
    expect_bad(&p, ADK_EINVAL, "--d: need at least 1 feature");
    p.k = 0;
    expect_bad(&p, ADK_EINVAL, "--centers: need at least 1 centre");
    p.k = ADK_GEN_MAX_CENTER_VALUES / 2 + 1;
    expect_bad(&p, ADK_EINVAL, "centre values allowed");
    double two[2] = {1, 2};
    p.std = two;
    p.nstd = 2;
    expect_bad(&p, ADK_EINVAL, "--cluster-std: 2 values for 3 centres");
    double neg[3] = {1, -0.5, 1};
    p.std = neg;
    p.nstd = 3;
    expect_bad(&p, ADK_EINVAL, "value 2 is -0.5");
    p.box_lo = 1;
    p.box_hi = 1;
    expect_bad(&p, ADK_EINVAL, "--center-box: need finite LO < HI");
    p.box_lo = -1.7e308;
    p.box_hi = 1.7e308;
    expect_bad(&p, ADK_EINVAL, "--center-box");
    p.slab_rows = 0;
    expect_bad(&p, ADK_EINVAL, "--slab-rows: need at least 1");
    p.dtype = ADK_I32;
    expect_bad(&p, ADK_EINVAL, "--dtype");
    double big = 1e38;
    p.std = &big;
    p.dtype = ADK_F32;
    expect_bad(&p, ADK_EINVAL, "would overflow float32");
    double cen[2] = {0, NAN};
    p.centers = cen;
    p.k = 1;
    expect_bad(&p, ADK_EDATA, "centre 0, column 1 is not finite");
    /* K > n is allowed, as in make_blobs */
    p.n = 2;
    p.k = 5;
    adk_gen_blobs_t *b = NULL;
    CU_ASSERT_EQUAL(adk_gen_blobs_alloc(adk_test_ctx(), &p, &b), ADK_OK);
    adk_gen_blobs_free(b);
}

static void test_read_centers(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char path[512], spec[600];
    snprintf(path, sizeof(path), "%s", adk_test_path("gen_centers.h5"));
    double c[6] = {1.5, -2, 0, 3, 7, 8};
    adk_out_t *o = NULL;
    CU_ASSERT_FATAL(adk_out_create(ctx, path, ADK_OUT_FORCE, &o) == ADK_OK);
    int st = adk_out_small(o, "/c", ADK_F64, c, 3, 2);
    if (st == ADK_OK) {
        st = adk_out_small(o, "/flat", ADK_F64, c, 6, 0);
    }
    CU_ASSERT_FATAL(adk_out_commit(o, st) == ADK_OK);
    double *got = NULL;
    int64_t k = 0, d = 0;
    snprintf(spec, sizeof(spec), "%s:/c", path);
    CU_ASSERT_FATAL(adk_gen_read_centers(ctx, spec, &got, &k, &d) == ADK_OK);
    CU_ASSERT(k == 3 && d == 2 && memcmp(got, c, sizeof(c)) == 0);
    free(got);
    snprintf(spec, sizeof(spec), "%s:/flat", path);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_gen_read_centers(ctx, spec, &got, &k, &d), ADK_EDATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "K x D (2-D)"));
    CU_ASSERT_PTR_NULL(got);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_gen_read_centers(ctx, "no-such-file.h5:/c", &got, &k, &d), ADK_EIO);
    adk_ctx_clear(ctx);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"centres: documented streams, inside the box, given centres", test_centers},
        {"row g: documented label permutation and value streams", test_row_formula},
        {"class sizes exactly make_blobs' (n/K, first n%K one more), shuffled", test_class_sizes},
        {"per-class mean, std and independence of columns", test_moments},
        {"written float64 file = row generator, any slab size", test_write_f64},
        {"written float32 file = rounded row generator", test_write_f32},
        {"bad parameters", test_bad_params},
        {"centres from a file", test_read_centers},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_gen", tests);
}
