/*
 * adk_gen: the blobs generator. Row g depends only on (seed, g): its class comes from a keyed
 * permutation of [0, n) and its values from its own Philox stream, so any rank can produce any
 * row. A rank produces its block one slab at a time and writes each slab collectively before
 * generating the next, which keeps memory at one slab whatever the number of rows.
 */
#include "adk_gen.h"
#include "adk_mem.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_io.h"
#include "adk_part.h"
#include "adk_rng.h"

/*
 * Largest |z| adk_rng_normal can return: Box-Muller's radius sqrt(-2 ln u1) with u1 >= 2^-53 is at
 * most sqrt(106 ln 2) = 8.5717; 9 leaves room for the rounding of c + s * z.
 */
#define ADK_GEN_ZMAX 9.0

void adk_gen_blobs_params_default(adk_gen_blobs_params_t *p)
{
    static const double one = 1.0;
    memset(p, 0, sizeof(*p));
    p->n = 100;
    p->d = 2;
    p->k = 3;
    p->std = &one;
    p->nstd = 1;
    p->box_lo = -10.0;
    p->box_hi = 10.0;
    p->seed = 0;
    p->dtype = ADK_F64;
    p->slab_rows = ADK_GEN_SLAB_ROWS;
}

void adk_gen_blobs_free(adk_gen_blobs_t *b)
{
    if (!b) {
        return;
    }
    free(b->centers);
    free(b->std);
    free(b->centers_spec);
    free(b);
}

/* The checks that need no allocation; every rank reaches the same verdict. */
static int check_params(adk_ctx_t *ctx, const adk_gen_blobs_params_t *p)
{
    if (p->n < 1) {
        return ADK_ERR(ctx, ADK_EINVAL, "--n: need at least 1 row (got %lld)", (long long)p->n);
    }
    if (p->d < 1) {
        return ADK_ERR(ctx, ADK_EINVAL, "--d: need at least 1 feature (got %lld)", (long long)p->d);
    }
    if (p->k < 1) {
        return ADK_ERR(ctx, ADK_EINVAL, "--centers: need at least 1 centre (got %lld)",
                       (long long)p->k);
    }
    if (p->k > ADK_GEN_MAX_CENTER_VALUES / p->d) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "%lld centres x %lld features: more than the %lld centre values allowed",
                       (long long)p->k, (long long)p->d, (long long)ADK_GEN_MAX_CENTER_VALUES);
    }
    if (p->nstd != 1 && p->nstd != (size_t)p->k) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "--cluster-std: %zu values for %lld centres (give one value, or one per "
                       "centre)",
                       p->nstd, (long long)p->k);
    }
    for (size_t i = 0; i < p->nstd; i++) {
        if (!(p->std[i] >= 0.0) || !isfinite(p->std[i])) {
            return ADK_ERR(ctx, ADK_EINVAL,
                           "--cluster-std: value %zu is %g; a standard deviation must be finite "
                           "and >= 0",
                           i + 1, p->std[i]);
        }
    }
    if (!p->centers &&
        (!(p->box_lo < p->box_hi) || !isfinite(p->box_lo) || !isfinite(p->box_hi - p->box_lo))) {
        return ADK_ERR(ctx, ADK_EINVAL, "--center-box: need finite LO < HI (got %g,%g)", p->box_lo,
                       p->box_hi);
    }
    if (p->dtype != ADK_F64 && p->dtype != ADK_F32) {
        return ADK_ERR(ctx, ADK_EINVAL, "--dtype: data can be written as float64 or float32 only");
    }
    if (p->slab_rows < 1) {
        return ADK_ERR(ctx, ADK_EINVAL, "--slab-rows: need at least 1 row per round (got %lld)",
                       (long long)p->slab_rows);
    }
    /* room for the slab buffers (doubles, floats, labels) without size_t overflow */
    if ((uint64_t)p->slab_rows > (uint64_t)(SIZE_MAX / 16) / (uint64_t)p->d) {
        return ADK_ERR(ctx, ADK_EINVAL, "--slab-rows: %lld rows x %lld features is too large",
                       (long long)p->slab_rows, (long long)p->d);
    }
    return ADK_OK;
}

/* Every generated value is bounded by max|centre| + max(std) * ZMAX: refuse overflow up front. */
static int check_range(adk_ctx_t *ctx, const adk_gen_blobs_t *b)
{
    size_t kd = (size_t)b->k * (size_t)b->d;
    double cmax = 0.0, smax = 0.0;
    for (size_t i = 0; i < kd; i++) {
        if (!isfinite(b->centers[i])) {
            return ADK_ERR(ctx, ADK_EDATA, "centre %zu, column %zu is not finite", i / (size_t)b->d,
                           i % (size_t)b->d);
        }
        cmax = fmax(cmax, fabs(b->centers[i]));
    }
    for (int64_t c = 0; c < b->k; c++) {
        smax = fmax(smax, b->std[c]);
    }
    double bound = cmax + smax * ADK_GEN_ZMAX;
    double limit = b->dtype == ADK_F32 ? (double)FLT_MAX : DBL_MAX;
    if (!(bound <= limit)) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "values up to %g would overflow %s: reduce --cluster-std or the centres",
                       bound, b->dtype == ADK_F32 ? "float32" : "float64");
    }
    return ADK_OK;
}

int adk_gen_blobs_alloc(adk_ctx_t *ctx, const adk_gen_blobs_params_t *p, adk_gen_blobs_t **out)
{
    *out = NULL;
    ADK_CHECK(check_params(ctx, p));
    size_t kd = (size_t)p->k * (size_t)p->d;
    adk_gen_blobs_t *b = adk_calloc(1, sizeof(*b));
    if (b) {
        b->centers = adk_malloc(kd * sizeof(double));
        b->std = adk_malloc((size_t)p->k * sizeof(double));
        b->centers_spec = p->centers && p->centers_spec ? adk_strdup(p->centers_spec) : NULL;
    }
    if (!b || !b->centers || !b->std || (p->centers && p->centers_spec && !b->centers_spec)) {
        adk_gen_blobs_free(b);
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory (%lld centres x %lld features)",
                       (long long)p->k, (long long)p->d);
    }
    b->n = p->n;
    b->d = p->d;
    b->k = p->k;
    b->box_lo = p->box_lo;
    b->box_hi = p->box_hi;
    b->seed = p->seed;
    b->dtype = p->dtype;
    b->slab_rows = p->slab_rows;
    for (int64_t c = 0; c < p->k; c++) {
        b->std[c] = p->std[p->nstd == 1 ? 0 : c];
    }
    if (p->centers) {
        memcpy(b->centers, p->centers, kd * sizeof(double));
    } else {
        /* numpy's uniform(lo, hi) rule, one stream per centre so K can grow without reshuffling */
        double w = p->box_hi - p->box_lo;
        for (int64_t c = 0; c < p->k; c++) {
            adk_rng_t r;
            adk_rng_init(&r, p->seed, ADK_RNG_CENTERS, (uint64_t)c, 0);
            for (int64_t j = 0; j < p->d; j++) {
                b->centers[c * p->d + j] = p->box_lo + w * adk_rng_uniform(&r);
            }
        }
    }
    adk_rng_t r;
    adk_rng_init(&r, p->seed, ADK_RNG_GEN, 0, 1);
    b->perm_key = adk_rng_u64(&r);
    int st = check_range(ctx, b);
    if (st != ADK_OK) {
        adk_gen_blobs_free(b);
        return st;
    }
    *out = b;
    return ADK_OK;
}

int32_t adk_gen_blobs_label(const adk_gen_blobs_t *b, int64_t g)
{
    uint64_t p = adk_rng_permute(b->perm_key, (uint64_t)b->n, (uint64_t)g);
    return (int32_t)(p % (uint64_t)b->k);
}

void adk_gen_blobs_row(const adk_gen_blobs_t *b, int64_t g, double *x, int32_t *label)
{
    int32_t c = adk_gen_blobs_label(b, g);
    const double *mu = b->centers + (size_t)c * (size_t)b->d;
    double s = b->std[c];
    adk_rng_t r;
    adk_rng_init(&r, b->seed, ADK_RNG_GEN, (uint64_t)g, 0);
    for (int64_t j = 0; j < b->d; j++) {
        x[j] = mu[j] + s * adk_rng_normal(&r);
    }
    if (label) {
        *label = c;
    }
}

/* Parameters as attributes on "/", after the provenance adk_out_create wrote. */
static int write_attrs(adk_out_t *o, const adk_gen_blobs_t *b)
{
    int st = adk_out_attr_str(o, "/", "generator", "blobs");
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "n", b->n);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "d", b->d);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "centers", b->k);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "dtype", b->dtype == ADK_F32 ? "float32" : "float64");
    }
    /* An attribute must fit in a 64 KiB object header message: beyond that the values are only in
     * the /cluster_std dataset. */
    if (st == ADK_OK && b->k <= 4096) {
        st = adk_out_attr_f64v(o, "/", "cluster_std", b->std, (size_t)b->k);
    }
    if (st == ADK_OK && b->centers_spec) {
        st = adk_out_attr_str(o, "/", "centers_file", b->centers_spec);
    } else if (st == ADK_OK) {
        double box[2] = {b->box_lo, b->box_hi};
        st = adk_out_attr_f64v(o, "/", "center_box", box, 2);
    }
    return st;
}

int adk_gen_blobs_write(adk_ctx_t *ctx, const adk_gen_blobs_t *b, const char *path, unsigned flags)
{
    int size = adk_ctx_size(ctx);
    adk_range_t mine = adk_part_rows(b->n, size, adk_ctx_rank(ctx), 1);
    /* Rank 0 holds the largest block (remainders go to the lowest ranks), so every rank knows the
     * number of rounds without communicating, and the buffer never exceeds the largest block. */
    int64_t most = adk_part_rows(b->n, size, 0, 1).count;
    int64_t slab = b->slab_rows < most ? b->slab_rows : most;
    int64_t rounds = (most + slab - 1) / slab;
    size_t d = (size_t)b->d, vals = (size_t)slab * d;
    int f32 = b->dtype == ADK_F32;
    double *x = adk_malloc(vals * sizeof(double));
    float *xf = f32 ? adk_malloc(vals * sizeof(float)) : NULL;
    int32_t *lab = adk_malloc((size_t)slab * sizeof(int32_t));
    adk_out_t *o = NULL;
    adk_odset_t *dx = NULL, *dl = NULL;
    int st = ADK_OK;
    adk_ctx_set_seed(ctx, b->seed); /* provenance: the seed attribute on "/" */
    if (!x || !lab || (f32 && !xf)) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for a slab of %lld rows x %zu features",
                     (long long)slab, d);
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = adk_out_create(ctx, path, flags, &o);
    }
    if (st == ADK_OK) {
        st = adk_out_dset(o, "/data", b->dtype, b->n, d, &dx);
    }
    if (st == ADK_OK) {
        st = adk_out_dset(o, "/labels", ADK_I32, b->n, 0, &dl);
    }
    for (int64_t r = 0; r < rounds && st == ADK_OK; r++) {
        int64_t off = r * slab;
        int64_t cnt = mine.count - off;
        cnt = cnt < 0 ? 0 : (cnt > slab ? slab : cnt);
        int64_t row0 = mine.start + (cnt > 0 ? off : 0);
        for (int64_t i = 0; i < cnt; i++) {
            adk_gen_blobs_row(b, row0 + i, x + (size_t)i * d, lab + i);
        }
        if (f32) {
            /* the one rounding to float32 (values were checked to fit) */
            for (size_t i = 0; i < (size_t)cnt * d; i++) {
                xf[i] = (float)x[i];
            }
        }
        adk_ctx_tic(ctx, ADK_T_IO); /* the rest of the loop is compute */
        st = adk_odset_write(dx, f32 ? (const void *)xf : (const void *)x, row0, (size_t)cnt);
        if (st == ADK_OK) {
            st = adk_odset_write(dl, lab, row0, (size_t)cnt);
        }
        adk_ctx_toc(ctx, ADK_T_IO);
    }
    adk_odset_close(dl);
    adk_odset_close(dx);
    if (st == ADK_OK) {
        st = adk_out_small(o, "/centers", ADK_F64, b->centers, (size_t)b->k, d);
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/cluster_std", ADK_F64, b->std, (size_t)b->k, 0);
    }
    if (st == ADK_OK) {
        st = write_attrs(o, b);
    }
    if (o) {
        adk_ctx_tic(ctx, ADK_T_IO);
        st = adk_out_commit(o, st);
        adk_ctx_toc(ctx, ADK_T_IO);
    }
    free(x);
    free(xf);
    free(lab);
    return st;
}

int adk_gen_read_centers(adk_ctx_t *ctx, const char *spec, double **c, int64_t *k, int64_t *d)
{
    *c = NULL;
    *k = *d = 0;
    double *v = NULL;
    int64_t rows = 0, cols = 0;
    int nd = 0;
    int st = adk_io_read_small(ctx, spec, (size_t)ADK_GEN_MAX_CENTER_VALUES, &v, &rows, &cols, &nd);
    if (st != ADK_OK) {
        return st; /* agreed by adk_io_read_small */
    }
    if (nd != 2) {
        /* the same file was read by every rank, so the verdict is common */
        free(v);
        return ADK_ERR(ctx, ADK_EDATA, "%s: centres must be a K x D (2-D) dataset, not %d-D", spec,
                       nd);
    }
    /* adk_io_read_small lets +-Inf through; a centre must be finite (every rank sees the same) */
    for (int64_t i = 0; i < rows * cols; i++) {
        if (!isfinite(v[i])) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: centre column %lld is %g", spec,
                         (long long)(i / cols), (long long)(i % cols), v[i]);
            free(v);
            return st;
        }
    }
    *c = v;
    *k = rows;
    *d = cols;
    return ADK_OK;
}
