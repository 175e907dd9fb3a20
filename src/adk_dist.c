/*
 * adk_dist: chunked GEMM distance blocks and nearest-centre search (see adk_dist.h).
 */
#include "adk_dist.h"
#include "adk_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define ADK_X86 1
#endif

#include "adk_ctx.h"
#include "adk_vec.h"

#define PANEL 8     /* centres per AVX-512 vector */
#define PANEL2 4    /* centres per AVX2 vector */
#define PREFETCH 16 /* rows ahead that staging asks the memory system for */

typedef double v8d __attribute__((vector_size(64)));

struct adk_dist_ws {
    size_t kmax, d;
    adk_kernel_t kernel;
    double *rows; /* ADK_DIST_CHUNK x d padded (and optionally shifted) rows */
    double *dist; /* ADK_DIST_CHUNK x kmax distance block (BLAS kernel) */
    double *pack; /* d x npanel x PANEL: centres transposed in panels (fused kernels; AVX2's
                     panels of PANEL2 fit in the same size) */
    double *pcn;  /* npanel x PANEL squared norms, +inf in the padding */
    int32_t *lab; /* ADK_DIST_CHUNK nearest centres */
    double *best; /* ADK_DIST_CHUNK minima */
};

int adk_centres_alloc(size_t k, size_t d, adk_centres_t **out)
{
    *out = NULL;
    adk_centres_t *c = adk_calloc(1, sizeof(*c));
    if (!c) {
        return ADK_ENOMEM;
    }
    c->k = k;
    c->d = d;
    c->c = adk_calloc(k > 0 && d > 0 ? k * d : 1, sizeof(double));
    c->cn = adk_calloc(k ? k : 1, sizeof(double));
    if (!c->c || !c->cn) {
        adk_centres_free(c);
        return ADK_ENOMEM;
    }
    *out = c;
    return ADK_OK;
}

void adk_centres_free(adk_centres_t *c)
{
    if (!c) {
        return;
    }
    free(c->c);
    free(c->cn);
    free(c);
}

void adk_centres_update_norms(adk_centres_t *c)
{
    for (size_t j = 0; j < c->k; j++) {
        c->cn[j] = adk_vec_norm2(c->c + j * c->d, c->d);
    }
}

void adk_centres_set(adk_centres_t *c, const double *src)
{
    memcpy(c->c, src, c->k * c->d * sizeof(double));
    adk_centres_update_norms(c);
}

int adk_dist_ws_alloc(size_t k, size_t d, adk_dist_ws_t **out)
{
    *out = NULL;
    adk_dist_ws_t *ws = adk_calloc(1, sizeof(*ws));
    if (!ws) {
        return ADK_ENOMEM;
    }
    size_t np = (k + PANEL - 1) / PANEL;
    ws->kmax = k;
    ws->d = d;
    ws->kernel = ADK_KERNEL_BLAS;
    ws->rows = adk_calloc(ADK_DIST_CHUNK * (d ? d : 1), sizeof(double));
    ws->dist = adk_calloc(ADK_DIST_CHUNK * (k ? k : 1), sizeof(double));
    ws->pack = adk_calloc((d ? d : 1) * (np ? np : 1) * PANEL, sizeof(double));
    ws->pcn = adk_calloc((np ? np : 1) * PANEL, sizeof(double));
    ws->lab = adk_calloc(ADK_DIST_CHUNK, sizeof(int32_t));
    ws->best = adk_calloc(ADK_DIST_CHUNK, sizeof(double));
    if (!ws->rows || !ws->dist || !ws->pack || !ws->pcn || !ws->lab || !ws->best) {
        adk_dist_ws_free(ws);
        return ADK_ENOMEM;
    }
    *out = ws;
    return ADK_OK;
}

void adk_dist_ws_free(adk_dist_ws_t *ws)
{
    if (!ws) {
        return;
    }
    free(ws->rows);
    free(ws->dist);
    free(ws->pack);
    free(ws->pcn);
    free(ws->lab);
    free(ws->best);
    free(ws);
}

/* The public names of adk_dist.h stay; the loops live once, in adk_vec, so k-means and the metrics
 * share their bits. */
double adk_dist_sq(const double *x, const double *c, size_t d)
{
    return adk_vec_sq_dist(x, c, d);
}

double adk_dist_norm2(const double *x, size_t d)
{
    return adk_vec_norm2(x, d);
}

/*
 * Stage one chunk in the workspace: rows go to their global positions within the chunk,
 * shifted when asked; unused positions stay zero. Returns the offset of the first row.
 */
static size_t stage_chunk(adk_dist_ws_t *ws, const double *x, size_t count, int64_t g,
                          const double *shift)
{
    size_t d = ws->d, off = (size_t)(g % ADK_DIST_CHUNK);
    if (count < ADK_DIST_CHUNK) {
        memset(ws->rows, 0, ADK_DIST_CHUNK * d * sizeof(double));
    }
    double *dst = ws->rows + off * d;
    if (shift) {
        for (size_t i = 0; i < count; i++) {
            for (size_t j = 0; j < d; j++) {
                dst[i * d + j] = x[i * d + j] - shift[j];
            }
        }
    } else {
        memcpy(dst, x, count * d * sizeof(double));
    }
    return off;
}

/* dist = ||c||^2 - 2 rows.c^T for the whole chunk: prefill the norms, then one GEMM. */
static void chunk_gemm(adk_dist_ws_t *ws, const adk_centres_t *c)
{
    size_t k = c->k;
    for (size_t i = 0; i < ADK_DIST_CHUNK; i++) {
        memcpy(ws->dist + i * k, c->cn, k * sizeof(double));
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, ADK_DIST_CHUNK, (int)k, (int)c->d, -2.0,
                ws->rows, (int)c->d, c->c, (int)c->d, 1.0, ws->dist, (int)k);
}

/* Shared driver: stage (optionally shifted) chunks, GEMM, hand the block to fn. */
static void blocks(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                   int64_t row0, const double *shift, adk_dist_chunk_fn fn, void *ud)
{
    size_t d = c->d, i = 0;
    while (i < n) {
        int64_t g = row0 + (int64_t)i;
        size_t count = (size_t)(ADK_DIST_CHUNK - g % ADK_DIST_CHUNK);
        if (count > n - i) {
            count = n - i;
        }
        size_t off = stage_chunk(ws, x + i * d, count, g, shift);
        chunk_gemm(ws, c);
        fn(ud, i, count, ws->rows + off * d, ws->dist + off * c->k, c->k);
        i += count;
    }
}

void adk_dist_blocks(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                     int64_t row0, adk_dist_chunk_fn fn, void *ud)
{
    blocks(ws, c, x, n, row0, NULL, fn, ud);
}

void adk_dist_blocks_shifted(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                             int64_t row0, const double *shift, adk_dist_chunk_fn fn, void *ud)
{
    blocks(ws, c, x, n, row0, shift, fn, ud);
}

/* ------------------------------------------------------------------------------------------ */
/* Nearest-centre kernels                                                                     */

/* What the fused kernels need from the CPU (bits), less what the ADK_CPU_FEATURES test hook hides.
 * The hook is read here only, at every call, so a test can change it on one rank. */
enum { FEAT_AVX2 = 1, FEAT_AVX512 = 2 };

static int cpu_features(void)
{
    int f = 0;
#ifdef ADK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        f |= FEAT_AVX2;
    }
    if (__builtin_cpu_supports("avx512f")) {
        f |= FEAT_AVX512;
    }
#endif
    const char *env = getenv("ADK_CPU_FEATURES");
    if (env) { /* a list of names to keep: it can only hide, never add what would fault */
        int keep = 0;
        for (const char *t = env; *t;) {
            size_t len = strcspn(t, ",");
            if (len == 6 && strncmp(t, "avx512", 6) == 0) {
                keep |= FEAT_AVX512;
            } else if (len == 4 && strncmp(t, "avx2", 4) == 0) {
                keep |= FEAT_AVX2;
            }
            t += len + (t[len] == ',');
        }
        f &= keep;
    }
    return f;
}

int adk_dist_have_avx512(void)
{
    return (cpu_features() & FEAT_AVX512) != 0;
}

int adk_dist_have_avx2(void)
{
    return (cpu_features() & FEAT_AVX2) != 0;
}

/* The feature bit a kernel needs (0: none). */
static int kernel_feature(adk_kernel_t k)
{
    return k == ADK_KERNEL_AVX512 ? FEAT_AVX512 : k == ADK_KERNEL_AVX2 ? FEAT_AVX2 : 0;
}

/* The widest kernel a feature set allows. */
static adk_kernel_t widest(int f)
{
    return f & FEAT_AVX512 ? ADK_KERNEL_AVX512 : f & FEAT_AVX2 ? ADK_KERNEL_AVX2 : ADK_KERNEL_BLAS;
}

int adk_dist_kernel_available(adk_kernel_t k)
{
    int need = kernel_feature(k);
    return (cpu_features() & need) == need;
}

adk_kernel_t adk_dist_ws_set_kernel(adk_dist_ws_t *ws, adk_kernel_t kern)
{
    int f = cpu_features(), need = kernel_feature(kern);
    if (kern == ADK_KERNEL_AUTO || (f & need) != need) {
        kern = widest(f);
    }
    ws->kernel = kern;
    return kern;
}

int adk_dist_agree_kernel(adk_ctx_t *ctx, adk_dist_ws_t *ws, adk_kernel_t kern)
{
    /* per feature, the lowest rank whose CPU lacks it (the rank count when none does) */
    int f = cpu_features(), size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    int mine[2] = {f & FEAT_AVX2 ? size : rank, f & FEAT_AVX512 ? size : rank}, low[2] = {0, 0};
    if (ADK_MPI_CALL(ctx, 2, MPI_INT,
                     MPI_Allreduce(mine, low, 2, MPI_INT, MPI_MIN, adk_ctx_comm(ctx))) !=
        MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce failed"));
    }
    int all = (low[0] == size ? FEAT_AVX2 : 0) | (low[1] == size ? FEAT_AVX512 : 0);
    int need = kernel_feature(kern);
    if ((all & need) != need) {
        int who = low[need == FEAT_AVX512];
        return ADK_ERR(
            ctx, ADK_EINVAL, "the %s kernel was asked for, but the CPU of rank %d lacks %s",
            adk_dist_kernel_name(kern), who, need == FEAT_AVX512 ? "AVX-512" : "AVX2 and FMA");
    }
    ws->kernel = kern == ADK_KERNEL_AUTO ? widest(all) : kern;
    return ADK_OK;
}

adk_kernel_t adk_dist_ws_kernel(const adk_dist_ws_t *ws)
{
    return ws->kernel;
}

int adk_dist_kernel_parse(const char *s)
{
    if (strcmp(s, "auto") == 0) {
        return ADK_KERNEL_AUTO;
    }
    if (strcmp(s, "blas") == 0) {
        return ADK_KERNEL_BLAS;
    }
    if (strcmp(s, "avx512") == 0) {
        return ADK_KERNEL_AVX512;
    }
    if (strcmp(s, "avx2") == 0) {
        return ADK_KERNEL_AVX2;
    }
    return -1;
}

const char *adk_dist_kernel_name(adk_kernel_t k)
{
    switch (k) {
    case ADK_KERNEL_AVX512:
        return "avx512";
    case ADK_KERNEL_AVX2:
        return "avx2";
    case ADK_KERNEL_BLAS:
        return "blas";
    default:
        return "auto";
    }
}

/* BLAS kernel: distance block, then the first minimum of each row. */
static void argmin_blas(adk_dist_ws_t *ws, const adk_centres_t *c, size_t lo, size_t hi)
{
    chunk_gemm(ws, c);
    size_t k = c->k;
    for (size_t i = lo; i < hi; i++) {
        const double *r = ws->dist + i * k;
        double m = r[0];
        int32_t a = 0;
        for (size_t j = 1; j < k; j++) {
            if (r[j] < m) { /* strict: the first minimum wins ties */
                m = r[j];
                a = (int32_t)j;
            }
        }
        ws->lab[i] = a;
        ws->best[i] = m;
    }
}

/* Pack the centres for a fused kernel with panels of w centres (8: AVX-512, 4: AVX2):
 * pack[(j * npanel + p) * w + l] = c[p*w + l][j]. */
static void pack_centres(adk_dist_ws_t *ws, const adk_centres_t *c, size_t w)
{
    size_t np = (c->k + w - 1) / w, d = c->d;
    for (size_t p = 0; p < np; p++) {
        for (size_t l = 0; l < w; l++) {
            size_t q = p * w + l;
            ws->pcn[p * w + l] = q < c->k ? c->cn[q] : INFINITY; /* padding never wins */
            for (size_t j = 0; j < d; j++) {
                ws->pack[(j * np + p) * w + l] = q < c->k ? c->c[q * d + j] : 0.0;
            }
        }
    }
}

#ifdef ADK_X86
#define ADK_AVX512 __attribute__((target("avx512f")))

/*
 * The dot products of one tile: acc[r][v] = rows r (R0..R3, 4 rows of d values) . panel p0 + v,
 * one FMA chain per lane in feature order. Every tile kind (argmin, values, second minimum) forms
 * them by this one text, so the values they compare are the same bits.
 */
#define ADK_TILE_DOTS(V, R0, R1, R2, R3)                                                           \
    __m512d acc[4][V];                                                                             \
    _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                            \
    {                                                                                              \
        acc[0][v] = acc[1][v] = acc[2][v] = acc[3][v] = _mm512_setzero_pd();                       \
    }                                                                                              \
    for (size_t j = 0; j < d; j++) {                                                               \
        const double *pj = pack + (j * np + p0) * PANEL;                                           \
        __m512d b0 = _mm512_set1_pd((R0)[j]), b1 = _mm512_set1_pd((R1)[j]);                        \
        __m512d b2 = _mm512_set1_pd((R2)[j]), b3 = _mm512_set1_pd((R3)[j]);                        \
        _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                        \
        {                                                                                          \
            __m512d cv = _mm512_loadu_pd(pj + v * PANEL);                                          \
            acc[0][v] = _mm512_fmadd_pd(b0, cv, acc[0][v]);                                        \
            acc[1][v] = _mm512_fmadd_pd(b1, cv, acc[1][v]);                                        \
            acc[2][v] = _mm512_fmadd_pd(b2, cv, acc[2][v]);                                        \
            acc[3][v] = _mm512_fmadd_pd(b3, cv, acc[3][v]);                                        \
        }                                                                                          \
    }

/*
 * One tile: 4 rows against V panels (8 centres each) from panel p0. The 4V dot products stay in
 * registers over the whole feature loop (summed in feature order with FMA); then each becomes
 * ||c||^2 - 2 x.c and updates the per-lane running minimum and its centre index. Strict less-than
 * keeps the lower index on ties, lane by lane.
 */
#define ADK_TILE(V)                                                                                \
    ADK_AVX512 static void tile_##V(const double *x, size_t d, const double *pack, size_t np,      \
                                    const double *pcn, size_t p0, __m512d *mv, __m512i *mi)        \
    {                                                                                              \
        ADK_TILE_DOTS(V, x, x + d, x + 2 * d, x + 3 * d);                                          \
        const __m512d two = _mm512_set1_pd(2.0);                                                   \
        const __m512i iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);                             \
        _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                        \
        {                                                                                          \
            __m512d cn = _mm512_loadu_pd(pcn + (p0 + v) * PANEL);                                  \
            __m512i id = _mm512_add_epi64(iota, _mm512_set1_epi64((long long)((p0 + v) * PANEL))); \
            _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++)                                    \
            {                                                                                      \
                __m512d dv = _mm512_fnmadd_pd(two, acc[r][v], cn);                                 \
                __mmask8 lt = _mm512_cmp_pd_mask(dv, mv[r], _CMP_LT_OQ);                           \
                mv[r] = _mm512_mask_mov_pd(mv[r], lt, dv);                                         \
                mi[r] = _mm512_mask_mov_epi64(mi[r], lt, id);                                      \
            }                                                                                      \
        }                                                                                          \
    }

ADK_TILE(1)
ADK_TILE(2)
ADK_TILE(3)
ADK_TILE(4)
ADK_TILE(5)
ADK_TILE(6)

/* tile_fns[V]: the V-panel tile, for the panels left after the groups of 6 */
typedef void (*tile_fn)(const double *, size_t, const double *, size_t, const double *, size_t,
                        __m512d *, __m512i *);
static const tile_fn tile_fns[7] = {NULL, tile_1, tile_2, tile_3, tile_4, tile_5, tile_6};

/*
 * Stage the rows of one nr-row tile that belong to the chunk ([off, off + count) of the staging
 * area; src is the chunk's first row), shifted when asked. Staging tile by tile, right before the
 * tile's arithmetic, lets the loads from memory overlap the FMAs of the tile before.
 */
static void stage_tile(adk_dist_ws_t *ws, size_t i, size_t nr, const double *src, size_t off,
                       size_t count, const double *shift)
{
    size_t d = ws->d, a = i > off ? i : off, b = i + nr < off + count ? i + nr : off + count;
    for (size_t p = a; p < b; p++) {
        const double *xr = src + (p - off) * d;
        double *dst = ws->rows + p * d;
        /* ask for the row PREFETCH rows ahead now: the hardware prefetcher alone falls behind */
        const char *ahead = (const char *)(xr + PREFETCH * d);
        for (size_t o = 0; o < d * sizeof(double); o += 64) {
            __builtin_prefetch(ahead + o);
        }
        if (shift) {
            size_t j = 0;
            for (; j + 8 <= d; j += 8) { /* eight at a time: same bits as one at a time */
                v8d u, v;
                memcpy(&u, xr + j, sizeof(u));
                memcpy(&v, shift + j, sizeof(v));
                u -= v;
                memcpy(dst + j, &u, sizeof(u));
            }
            for (; j < d; j++) {
                dst[j] = xr[j] - shift[j];
            }
        } else {
            memcpy(dst, xr, d * sizeof(double));
        }
    }
}

/*
 * Stage rows [off, off + count) of a chunk from src and find their nearest centres, in whole tiles
 * of 4 staging positions (positions outside the chunk hold zeros and are ignored).
 */
ADK_AVX512 static void argmin_avx512(adk_dist_ws_t *ws, size_t k, const double *src, size_t off,
                                     size_t count, const double *shift)
{
    size_t d = ws->d, np = (k + PANEL - 1) / PANEL;
    size_t lo = off & ~(size_t)3, hi = (off + count + 3) & ~(size_t)3;
    for (size_t i = lo; i < hi; i += 4) {
        stage_tile(ws, i, 4, src, off, count, shift);
        const double *x = ws->rows + i * d;
        __m512d mv[4];
        __m512i mi[4];
        for (int r = 0; r < 4; r++) {
            mv[r] = _mm512_set1_pd(INFINITY);
            mi[r] = _mm512_setzero_si512();
        }
        size_t p0 = 0;
        for (; np - p0 >= 6; p0 += 6) {
            tile_6(x, d, ws->pack, np, ws->pcn, p0, mv, mi);
        }
        if (np > p0) {
            tile_fns[np - p0](x, d, ws->pack, np, ws->pcn, p0, mv, mi);
        }
        for (int r = 0; r < 4; r++) { /* lanes: smallest value, then smallest index among them */
            double m = _mm512_reduce_min_pd(mv[r]);
            __mmask8 at = _mm512_cmp_pd_mask(mv[r], _mm512_set1_pd(m), _CMP_EQ_OQ);
            ws->lab[i + (size_t)r] = (int32_t)_mm512_mask_reduce_min_epi64(at, mi[r]);
            ws->best[i + (size_t)r] = m;
        }
    }
}

/*
 * The kernel's values instead of its argmin (accelerated Lloyd): 4 rows (any 4 staged rows, by
 * pointer; a row may repeat) against V panels from p0, each value out[r][j] = ||c_j||^2 - 2 x.c_j
 * by exactly tile_V's operations (same FMA chain in feature order, same final fnmadd), so it is
 * bit for bit what tile_V compares. Masked stores keep the padding centres out of the k-wide rows.
 */
#define ADK_TILE_VALS(V)                                                                           \
    ADK_AVX512 static void tilev_##V(const double *const *x, size_t d, const double *pack,         \
                                     size_t np, const double *pcn, size_t p0, size_t k,            \
                                     double *const *out)                                           \
    {                                                                                              \
        ADK_TILE_DOTS(V, x[0], x[1], x[2], x[3]);                                                  \
        const __m512d two = _mm512_set1_pd(2.0);                                                   \
        _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                        \
        {                                                                                          \
            size_t j0 = (p0 + v) * PANEL;                                                          \
            __mmask8 m = k - j0 >= PANEL ? 0xff : (__mmask8)((1u << (k - j0)) - 1u);               \
            __m512d cn = _mm512_loadu_pd(pcn + j0);                                                \
            _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++)                                    \
            {                                                                                      \
                _mm512_mask_storeu_pd(out[r] + j0, m, _mm512_fnmadd_pd(two, acc[r][v], cn));       \
            }                                                                                      \
        }                                                                                          \
    }

ADK_TILE_VALS(1)
ADK_TILE_VALS(2)
ADK_TILE_VALS(3)
ADK_TILE_VALS(4)
ADK_TILE_VALS(5)
ADK_TILE_VALS(6)

typedef void (*tilev_fn)(const double *const *, size_t, const double *, size_t, const double *,
                         size_t, size_t, double *const *);
static const tilev_fn tilev_fns[7] = {NULL, tilev_1, tilev_2, tilev_3, tilev_4, tilev_5, tilev_6};

/* The values of the 4 staged rows x[] against all k centres into out[] (rows of width k). */
ADK_AVX512 static void values_avx512(const adk_dist_ws_t *ws, size_t k, const double *const *x,
                                     double *const *out)
{
    size_t d = ws->d, np = (k + PANEL - 1) / PANEL, p0 = 0;
    for (; np - p0 >= 6; p0 += 6) {
        tilev_6(x, d, ws->pack, np, ws->pcn, p0, k, out);
    }
    if (np > p0) {
        tilev_fns[np - p0](x, d, ws->pack, np, ws->pcn, p0, k, out);
    }
}

/*
 * One group of bounds (Hamerly): tile_V's argmin kept in registers, plus each lane's
 * second-smallest value, for 4 rows given by pointer. The FMA chains and the running minimum and
 * index are tile_V's to the instruction, so the label is the one Lloyd's kernel finds.
 */
#define ADK_TILE_SECOND(V)                                                                         \
    ADK_AVX512 static void tiles_##V(const double *const *x, size_t d, const double *pack,         \
                                     size_t np, const double *pcn, size_t p0, __m512d *mv,         \
                                     __m512i *mi, __m512d *m2)                                     \
    {                                                                                              \
        ADK_TILE_DOTS(V, x[0], x[1], x[2], x[3]);                                                  \
        const __m512d two = _mm512_set1_pd(2.0);                                                   \
        const __m512i iota = _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0);                             \
        _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                        \
        {                                                                                          \
            __m512d cn = _mm512_loadu_pd(pcn + (p0 + v) * PANEL);                                  \
            __m512i id = _mm512_add_epi64(iota, _mm512_set1_epi64((long long)((p0 + v) * PANEL))); \
            _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++)                                    \
            {                                                                                      \
                __m512d dv = _mm512_fnmadd_pd(two, acc[r][v], cn);                                 \
                __mmask8 lt = _mm512_cmp_pd_mask(dv, mv[r], _CMP_LT_OQ);                           \
                /* second: the old minimum where dv replaces it, else min(second, dv) */           \
                m2[r] = _mm512_mask_mov_pd(_mm512_min_pd(m2[r], dv), lt, mv[r]);                   \
                mv[r] = _mm512_mask_mov_pd(mv[r], lt, dv);                                         \
                mi[r] = _mm512_mask_mov_epi64(mi[r], lt, id);                                      \
            }                                                                                      \
        }                                                                                          \
    }

ADK_TILE_SECOND(1)
ADK_TILE_SECOND(2)
ADK_TILE_SECOND(3)
ADK_TILE_SECOND(4)
ADK_TILE_SECOND(5)
ADK_TILE_SECOND(6)

typedef void (*tiles_fn)(const double *const *, size_t, const double *, size_t, const double *,
                         size_t, __m512d *, __m512i *, __m512d *);
static const tiles_fn tiles_fns[7] = {NULL, tiles_1, tiles_2, tiles_3, tiles_4, tiles_5, tiles_6};

/*
 * Label, minimum and second-smallest value of 4 staged rows (one group): argmin_avx512's lane
 * reduction for the label; the second smallest is the smallest of every lane's second and of the
 * other lanes' minimums.
 */
ADK_AVX512 static void second_avx512(const adk_dist_ws_t *ws, size_t k, const double *const *x,
                                     int32_t *lab, double *best, double *second)
{
    size_t d = ws->d, np = (k + PANEL - 1) / PANEL, p0 = 0;
    __m512d mv[4], m2[4];
    __m512i mi[4];
    for (int r = 0; r < 4; r++) {
        mv[r] = m2[r] = _mm512_set1_pd(INFINITY);
        mi[r] = _mm512_setzero_si512();
    }
    for (; np - p0 >= 6; p0 += 6) {
        tiles_6(x, d, ws->pack, np, ws->pcn, p0, mv, mi, m2);
    }
    if (np > p0) {
        tiles_fns[np - p0](x, d, ws->pack, np, ws->pcn, p0, mv, mi, m2);
    }
    for (int r = 0; r < 4; r++) {
        double m = _mm512_reduce_min_pd(mv[r]);
        __mmask8 at = _mm512_cmp_pd_mask(mv[r], _mm512_set1_pd(m), _CMP_EQ_OQ);
        long long a = _mm512_mask_reduce_min_epi64(at, mi[r]);
        __mmask8 lane = _mm512_cmp_epi64_mask(mi[r], _mm512_set1_epi64(a), _MM_CMPINT_EQ) & at;
        lane &= (__mmask8)(lane & (~lane + 1u)); /* one lane holds the label */
        __m512d others = _mm512_mask_mov_pd(mv[r], lane, _mm512_set1_pd(INFINITY));
        lab[r] = (int32_t)a;
        best[r] = m;
        second[r] = _mm512_reduce_min_pd(_mm512_min_pd(others, m2[r]));
    }
}

/* Squared distance in lane order: eight partial sums over features j mod 8, then a fixed tree. */
ADK_AVX512 static double sq_avx512(const double *x, const double *c, size_t d)
{
    __m512d s = _mm512_setzero_pd();
    for (size_t j = 0; j < d; j += 8) {
        __mmask8 m = d - j >= 8 ? 0xff : (__mmask8)((1u << (d - j)) - 1u);
        __m512d t = _mm512_sub_pd(_mm512_maskz_loadu_pd(m, x + j), _mm512_maskz_loadu_pd(m, c + j));
        s = _mm512_add_pd(s, _mm512_mul_pd(t, t));
    }
    __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1));
    __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
}

ADK_AVX512 static void sq_assigned_avx512(const double *rows, const int32_t *label, size_t count,
                                          const double *cen, size_t d, double *out)
{
    for (size_t i = 0; i < count; i++) {
        out[i] = sq_avx512(rows + i * d, cen + (size_t)label[i] * d, d);
    }
}

#define ADK_AVX2 __attribute__((target("avx2,fma")))

/* The AVX2 tile: TROWS rows x up to TPANELS panels of 4 centres. 16 ymm registers hold the 12
 * accumulators of 4 rows x 12 centres, the 3 centre vectors and one broadcast row value (the
 * shapes timed at D = 32, K = 64 by experiments/bench-lloyd/shapes.sh: 4 x 12 and 4 x 8 ahead of
 * 2 x 24, 2 x 16 and 1 x 24). The row count divides ADK_DIST_CHUNK, so tiles never cross a chunk.
 * The -D overrides exist for shapes.sh only. */
#ifndef ADK_AVX2_ROWS
#define ADK_AVX2_ROWS 4
#endif
#ifndef ADK_AVX2_PANELS
#define ADK_AVX2_PANELS 3
#endif
#define TROWS ADK_AVX2_ROWS
#define TPANELS ADK_AVX2_PANELS
_Static_assert(ADK_DIST_CHUNK % TROWS == 0 && TPANELS >= 1 && TPANELS <= 6, "AVX2 tile shape");

/*
 * As tile_##V: TROWS rows against V panels of 4 centres from panel p0, the dot products summed in
 * feature order with FMA (the AVX-512 kernel's order, so both give the same bits), then the
 * per-lane running minimum (strict less-than keeps the lower index) with the index as a double.
 */
#define ADK_TILE2(V)                                                                               \
    ADK_AVX2 static void tile2_##V(const double *x, size_t d, const double *pack, size_t np,       \
                                   const double *pcn, size_t p0, __m256d *mv, __m256d *mi)         \
    {                                                                                              \
        __m256d acc[TROWS][V];                                                                     \
        _Pragma("GCC unroll 8") for (int r = 0; r < TROWS; r++)                                    \
        {                                                                                          \
            _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                    \
            {                                                                                      \
                acc[r][v] = _mm256_setzero_pd();                                                   \
            }                                                                                      \
        }                                                                                          \
        for (size_t j = 0; j < d; j++) {                                                           \
            const double *pj = pack + (j * np + p0) * PANEL2;                                      \
            if (V * (TROWS + 1) + 1 <= 16) { /* V centre vectors live, one broadcast at a time */  \
                __m256d cv[V];                                                                     \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                \
                {                                                                                  \
                    cv[v] = _mm256_loadu_pd(pj + v * PANEL2);                                      \
                }                                                                                  \
                _Pragma("GCC unroll 8") for (int r = 0; r < TROWS; r++)                            \
                {                                                                                  \
                    __m256d b = _mm256_broadcast_sd(x + (size_t)r * d + j);                        \
                    _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                            \
                    {                                                                              \
                        acc[r][v] = _mm256_fmadd_pd(b, cv[v], acc[r][v]);                          \
                    }                                                                              \
                }                                                                                  \
            } else { /* TROWS broadcasts live, one centre vector at a time */                      \
                __m256d b[TROWS];                                                                  \
                _Pragma("GCC unroll 8") for (int r = 0; r < TROWS; r++)                            \
                {                                                                                  \
                    b[r] = _mm256_broadcast_sd(x + (size_t)r * d + j);                             \
                }                                                                                  \
                _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                \
                {                                                                                  \
                    __m256d cv = _mm256_loadu_pd(pj + v * PANEL2);                                 \
                    _Pragma("GCC unroll 8") for (int r = 0; r < TROWS; r++)                        \
                    {                                                                              \
                        acc[r][v] = _mm256_fmadd_pd(b[r], cv, acc[r][v]);                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        const __m256d two = _mm256_set1_pd(2.0), iota = _mm256_set_pd(3.0, 2.0, 1.0, 0.0);         \
        _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                        \
        {                                                                                          \
            __m256d cn = _mm256_loadu_pd(pcn + (p0 + v) * PANEL2);                                 \
            __m256d id = _mm256_add_pd(iota, _mm256_set1_pd((double)((p0 + v) * PANEL2)));         \
            _Pragma("GCC unroll 8") for (int r = 0; r < TROWS; r++)                                \
            {                                                                                      \
                __m256d dv = _mm256_fnmadd_pd(two, acc[r][v], cn);                                 \
                __m256d lt = _mm256_cmp_pd(dv, mv[r], _CMP_LT_OQ);                                 \
                mv[r] = _mm256_min_pd(dv, mv[r]); /* dv < mv ? dv : mv, as lt */                   \
                mi[r] = _mm256_blendv_pd(mi[r], id, lt);                                           \
            }                                                                                      \
        }                                                                                          \
    }

ADK_TILE2(1)
ADK_TILE2(2)
ADK_TILE2(3)
ADK_TILE2(4)
ADK_TILE2(5)
ADK_TILE2(6)

typedef void (*tile2_fn)(const double *, size_t, const double *, size_t, const double *, size_t,
                         __m256d *, __m256d *);

/* As argmin_avx512, in tiles of TROWS staging positions and TPANELS panels (the rest last). */
ADK_AVX2 static void argmin_avx2(adk_dist_ws_t *ws, size_t k, const double *src, size_t off,
                                 size_t count, const double *shift)
{
    static const tile2_fn tiles[7] = {NULL, tile2_1, tile2_2, tile2_3, tile2_4, tile2_5, tile2_6};
    size_t d = ws->d, np = (k + PANEL2 - 1) / PANEL2;
    size_t lo = off - off % TROWS, hi = (off + count + TROWS - 1) / TROWS * TROWS;
    for (size_t i = lo; i < hi; i += TROWS) {
        stage_tile(ws, i, TROWS, src, off, count, shift);
        const double *x = ws->rows + i * d;
        __m256d mv[TROWS], mi[TROWS];
        for (int r = 0; r < TROWS; r++) {
            mv[r] = _mm256_set1_pd(INFINITY);
            mi[r] = _mm256_setzero_pd();
        }
        /* whole tiles; a last lone panel shares the tile before (its 4 chains alone would wait on
         * the FMA latency); the order of the tiles does not change a bit of the result */
        size_t p0 = 0, rest = np % TPANELS, split = rest == 1 && np > TPANELS;
        for (; np - p0 >= TPANELS + split * TPANELS; p0 += TPANELS) {
            tiles[TPANELS](x, d, ws->pack, np, ws->pcn, p0, mv, mi);
        }
        if (split) {
            size_t a = (TPANELS + 2) / 2;
            tiles[a](x, d, ws->pack, np, ws->pcn, p0, mv, mi);
            tiles[TPANELS + 1 - a](x, d, ws->pack, np, ws->pcn, p0 + a, mv, mi);
        } else if (np > p0) {
            tiles[np - p0](x, d, ws->pack, np, ws->pcn, p0, mv, mi);
        }
        /* lanes: smallest value, then smallest index among them */
        for (int r = 0; r < TROWS; r++) {
            double v[4], id[4];
            _mm256_storeu_pd(v, mv[r]);
            _mm256_storeu_pd(id, mi[r]);
            double m = v[0], a = id[0];
            for (int l = 1; l < 4; l++) {
                if (v[l] < m || (v[l] == m && id[l] < a)) {
                    m = v[l];
                    a = id[l];
                }
            }
            ws->lab[i + (size_t)r] = (int32_t)a;
            ws->best[i + (size_t)r] = m;
        }
    }
}

/* sq_avx512 in two 4-lane halves: the same eight partial sums (features j mod 8) and the same tree,
 * so the AVX2 and AVX-512 kernels give the same bits here too. */
ADK_AVX2 static double sq_avx2(const double *x, const double *c, size_t d)
{
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    const __m256i iota = _mm256_set_epi64x(3, 2, 1, 0), four = _mm256_set1_epi64x(4);
    for (size_t j = 0; j < d; j += 8) {
        __m256d t0, t1;
        if (d - j >= 8) {
            t0 = _mm256_sub_pd(_mm256_loadu_pd(x + j), _mm256_loadu_pd(c + j));
            t1 = _mm256_sub_pd(_mm256_loadu_pd(x + j + 4), _mm256_loadu_pd(c + j + 4));
        } else { /* the tail: lanes past d load as zero */
            __m256i rest = _mm256_set1_epi64x((long long)(d - j));
            __m256i m0 = _mm256_cmpgt_epi64(rest, iota);
            __m256i m1 = _mm256_cmpgt_epi64(rest, _mm256_add_epi64(iota, four));
            t0 = _mm256_sub_pd(_mm256_maskload_pd(x + j, m0), _mm256_maskload_pd(c + j, m0));
            t1 =
                _mm256_sub_pd(_mm256_maskload_pd(x + j + 4, m1), _mm256_maskload_pd(c + j + 4, m1));
        }
        s0 = _mm256_add_pd(s0, _mm256_mul_pd(t0, t0));
        s1 = _mm256_add_pd(s1, _mm256_mul_pd(t1, t1));
    }
    __m256d h = _mm256_add_pd(s0, s1);
    __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
}

ADK_AVX2 static void sq_assigned_avx2(const double *rows, const int32_t *label, size_t count,
                                      const double *cen, size_t d, double *out)
{
    for (size_t i = 0; i < count; i++) {
        out[i] = sq_avx2(rows + i * d, cen + (size_t)label[i] * d, d);
    }
}

/*
 * The AVX2 kernel's values instead of its argmin (accelerated Lloyd): 4 rows by pointer (a row
 * may repeat) against V panels of 4 centres from p0, out[r][j] = ||c_j||^2 - 2 x.c_j. Each lane is
 * tile2_V's FMA chain in feature order from zero and its final fnmadd, so the values are the bits
 * argmin_avx2 compares (the loop nest differs; the operations of each lane do not). Masked stores
 * keep the padding centres out of the k-wide rows.
 */
#define ADK_TILE2_VALS(V)                                                                          \
    ADK_AVX2 static void tile2v_##V(const double *const *x, size_t d, const double *pack,          \
                                    size_t np, const double *pcn, size_t p0, size_t k,             \
                                    double *const *out)                                            \
    {                                                                                              \
        __m256d acc[4][V];                                                                         \
        _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                        \
        {                                                                                          \
            acc[0][v] = acc[1][v] = acc[2][v] = acc[3][v] = _mm256_setzero_pd();                   \
        }                                                                                          \
        for (size_t j = 0; j < d; j++) {                                                           \
            const double *pj = pack + (j * np + p0) * PANEL2;                                      \
            __m256d b0 = _mm256_broadcast_sd(x[0] + j), b1 = _mm256_broadcast_sd(x[1] + j);        \
            __m256d b2 = _mm256_broadcast_sd(x[2] + j), b3 = _mm256_broadcast_sd(x[3] + j);        \
            _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                    \
            {                                                                                      \
                __m256d cv = _mm256_loadu_pd(pj + v * PANEL2);                                     \
                acc[0][v] = _mm256_fmadd_pd(b0, cv, acc[0][v]);                                    \
                acc[1][v] = _mm256_fmadd_pd(b1, cv, acc[1][v]);                                    \
                acc[2][v] = _mm256_fmadd_pd(b2, cv, acc[2][v]);                                    \
                acc[3][v] = _mm256_fmadd_pd(b3, cv, acc[3][v]);                                    \
            }                                                                                      \
        }                                                                                          \
        const __m256d two = _mm256_set1_pd(2.0);                                                   \
        const __m256i iota = _mm256_set_epi64x(3, 2, 1, 0);                                        \
        _Pragma("GCC unroll 8") for (int v = 0; v < V; v++)                                        \
        {                                                                                          \
            size_t j0 = (p0 + v) * PANEL2;                                                         \
            __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(k - j0)), iota);         \
            __m256d cn = _mm256_loadu_pd(pcn + j0);                                                \
            _Pragma("GCC unroll 4") for (int r = 0; r < 4; r++)                                    \
            {                                                                                      \
                _mm256_maskstore_pd(out[r] + j0, m, _mm256_fnmadd_pd(two, acc[r][v], cn));         \
            }                                                                                      \
        }                                                                                          \
    }

ADK_TILE2_VALS(1)
ADK_TILE2_VALS(2)

/* The values of the 4 staged rows x[] against all k centres into out[] (rows of width k). Two
 * panels a tile: 8 accumulators, 4 broadcasts and a centre vector fit the 16 registers. */
ADK_AVX2 static void values_avx2(const adk_dist_ws_t *ws, size_t k, const double *const *x,
                                 double *const *out)
{
    size_t d = ws->d, np = (k + PANEL2 - 1) / PANEL2, p0 = 0;
    for (; np - p0 >= 2; p0 += 2) {
        tile2v_2(x, d, ws->pack, np, ws->pcn, p0, k, out);
    }
    if (np > p0) {
        tile2v_1(x, d, ws->pack, np, ws->pcn, p0, k, out);
    }
}
#endif

void adk_dist_sq_assigned(const adk_dist_ws_t *ws, const double *rows, const int32_t *label,
                          size_t count, const double *cen, double *out)
{
    size_t d = ws->d, i = 0;
#ifdef ADK_X86
    if (ws->kernel == ADK_KERNEL_AVX512) {
        sq_assigned_avx512(rows, label, count, cen, d, out);
        return;
    }
    if (ws->kernel == ADK_KERNEL_AVX2) {
        sq_assigned_avx2(rows, label, count, cen, d, out);
        return;
    }
#endif
    for (; i + 4 <= count; i += 4) { /* four rows at a time: independent chains, same order */
        const double *x0 = rows + i * d, *x1 = x0 + d, *x2 = x1 + d, *x3 = x2 + d;
        const double *c0 = cen + (size_t)label[i] * d, *c1 = cen + (size_t)label[i + 1] * d;
        const double *c2 = cen + (size_t)label[i + 2] * d, *c3 = cen + (size_t)label[i + 3] * d;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        for (size_t j = 0; j < d; j++) {
            double t0 = x0[j] - c0[j], t1 = x1[j] - c1[j];
            double t2 = x2[j] - c2[j], t3 = x3[j] - c3[j];
            s0 += t0 * t0;
            s1 += t1 * t1;
            s2 += t2 * t2;
            s3 += t3 * t3;
        }
        out[i] = s0;
        out[i + 1] = s1;
        out[i + 2] = s2;
        out[i + 3] = s3;
    }
    for (; i < count; i++) {
        out[i] = adk_vec_sq_dist(rows + i * d, cen + (size_t)label[i] * d, d);
    }
}

void adk_dist_nearest_blocks(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                             int64_t row0, const double *shift, adk_dist_near_fn fn, void *ud)
{
    size_t d = c->d, i = 0, fused = 0; /* fused: the panel width of a fused kernel, 0 for BLAS */
#ifdef ADK_X86
    fused = ws->kernel == ADK_KERNEL_AVX512 ? PANEL : ws->kernel == ADK_KERNEL_AVX2 ? PANEL2 : 0;
    if (fused) {
        pack_centres(ws, c, fused);
    }
#endif
    while (i < n) {
        int64_t g = row0 + (int64_t)i;
        size_t count = (size_t)(ADK_DIST_CHUNK - g % ADK_DIST_CHUNK);
        if (count > n - i) {
            count = n - i;
        }
        size_t off = (size_t)(g % ADK_DIST_CHUNK);
        if (fused) {
#ifdef ADK_X86
            if (count < ADK_DIST_CHUNK) {
                memset(ws->rows, 0, ADK_DIST_CHUNK * d * sizeof(double));
            }
            if (fused == PANEL) {
                argmin_avx512(ws, c->k, x + i * d, off, count, shift);
            } else {
                argmin_avx2(ws, c->k, x + i * d, off, count, shift);
            }
#endif
        } else {
            stage_chunk(ws, x + i * d, count, g, shift);
            argmin_blas(ws, c, off, off + count);
        }
        fn(ud, i, count, ws->rows + off * d, ws->lab + off, ws->best + off);
        i += count;
    }
}

typedef struct {
    int32_t *label;
    double *best;
} nearest_t;

static void nearest_fn(void *ud, size_t first, size_t count, const double *rows,
                       const int32_t *label, const double *best)
{
    (void)rows;
    nearest_t *nt = ud;
    memcpy(nt->label + first, label, count * sizeof(int32_t));
    if (nt->best) {
        memcpy(nt->best + first, best, count * sizeof(double));
    }
}

void adk_dist_nearest(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                      int64_t row0, int32_t *label, double *best)
{
    nearest_t nt = {label, best};
    adk_dist_nearest_blocks(ws, c, x, n, row0, NULL, nearest_fn, &nt);
}

/* ------------------------------------------------------------------------------------------ */
/* Selected rows with bound information (accelerated Lloyd)                                   */

/*
 * From one row of kernel values: the first minimum (strict <, as argmin_blas and the fused
 * kernel's lane reduction: the smallest value, then the lowest index) and, per group, the smallest
 * value of the other centres.
 */
static void argmin_groups(const double *r, size_t k, size_t ng, const int32_t *group, int32_t *lab,
                          double *best, double *gmin)
{
    double m = r[0];
    int32_t a = 0;
    for (size_t j = 1; j < k; j++) {
        if (r[j] < m) {
            m = r[j];
            a = (int32_t)j;
        }
    }
    for (size_t g = 0; g < ng; g++) {
        gmin[g] = INFINITY;
    }
    for (size_t j = 0; j < k; j++) {
        size_t g = group ? (size_t)group[j] : 0;
        if (j != (size_t)a && r[j] < gmin[g]) {
            gmin[g] = r[j];
        }
    }
    *lab = a;
    *best = m;
}

#ifdef ADK_X86
typedef void (*values_fn)(const adk_dist_ws_t *, size_t, const double *const *, double *const *);

/* The kernel values of the needed rows among staging positions [off, off + count) into their
 * ws->dist rows, four rows a call (the last call repeats its last row). */
static void needed_values(adk_dist_ws_t *ws, size_t k, const uint8_t *need, size_t off,
                          size_t count, values_fn vals)
{
    size_t d = ws->d;
    const double *xp[4];
    double *op[4];
    int nt = 0;
    for (size_t i = 0; i < count; i++) {
        if (!need[i]) {
            continue;
        }
        xp[nt] = ws->rows + (off + i) * d;
        op[nt] = ws->dist + (off + i) * k;
        if (++nt == 4) {
            vals(ws, k, xp, op);
            nt = 0;
        }
    }
    if (nt > 0) {
        for (int t = nt; t < 4; t++) { /* repeats of the last row: the same values again */
            xp[t] = xp[nt - 1];
            op[t] = op[nt - 1];
        }
        vals(ws, k, xp, op);
    }
}
#endif

/*
 * The needed rows among staging positions [off, off + count): returns 0 (none), 1 (their kernel
 * values in ws->dist rows at their positions), 2 (the whole chunk's values) or 3 (one group with
 * AVX-512: their labels, minimums and second minimums already in ws->lab, ws->best and gmin).
 * A new kernel adds its case here.
 */
static int chunk_values(adk_dist_ws_t *ws, const adk_centres_t *c, const uint8_t *need, size_t off,
                        size_t count, size_t ngroups, double *gmin)
{
    size_t k = c->k, d = c->d, any = 0;
    (void)d; /* only the vector kernels address rows themselves */
    (void)k;
    for (size_t i = 0; i < count && !any; i++) {
        any = need[i] != 0;
    }
    if (!any) {
        return 0;
    }
    switch (ws->kernel) {
#ifdef ADK_X86
    case ADK_KERNEL_AVX512:
        if (ngroups == 1) { /* fused: label and second minimum in registers */
            const double *xp[4];
            size_t at[4];
            int nt = 0;
            int32_t lab[4];
            double best[4], sec[4];
            for (size_t i = 0; i <= count; i++) {
                if (i < count && !need[i]) {
                    continue;
                }
                if (i < count) {
                    at[nt] = i;
                    xp[nt++] = ws->rows + (off + i) * d;
                }
                if (nt == 4 || (i == count && nt > 0)) {
                    for (int t = nt; t < 4; t++) { /* repeats of the last row */
                        xp[t] = xp[nt - 1];
                    }
                    second_avx512(ws, k, xp, lab, best, sec);
                    for (int t = 0; t < nt; t++) {
                        ws->lab[off + at[t]] = lab[t];
                        ws->best[off + at[t]] = best[t];
                        gmin[at[t]] = sec[t];
                    }
                    nt = 0;
                }
            }
            return 3;
        }
        needed_values(ws, k, need, off, count, values_avx512);
        return 1;
    case ADK_KERNEL_AVX2:
        needed_values(ws, k, need, off, count, values_avx2);
        return 1;
#endif
    default: /* BLAS: the whole chunk, as argmin_blas computes it */
        chunk_gemm(ws, c);
        return 2;
    }
}

int adk_dist_bounds_supported(adk_kernel_t k)
{
    return k == ADK_KERNEL_BLAS || k == ADK_KERNEL_AVX512 ||
           k == ADK_KERNEL_AVX2; /* chunk_values */
}

void adk_dist_nearest_bounds(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                             int64_t row0, const double *shift, const uint8_t *need, int sparse,
                             size_t ngroups, const int32_t *group, double *gmin,
                             adk_dist_bound_fn fn, void *ud)
{
    size_t d = c->d, k = c->k, i = 0;
    int fused = 0; /* a kernel whose values for a row depend on that row alone */
#ifdef ADK_X86
    if (ws->kernel == ADK_KERNEL_AVX512) {
        pack_centres(ws, c, PANEL);
        fused = 1;
    } else if (ws->kernel == ADK_KERNEL_AVX2) {
        pack_centres(ws, c, PANEL2);
        fused = 1;
    }
#endif
    while (i < n) {
        int64_t g = row0 + (int64_t)i;
        size_t count = (size_t)(ADK_DIST_CHUNK - g % ADK_DIST_CHUNK);
        if (count > n - i) {
            count = n - i;
        }
        size_t off = (size_t)(g % ADK_DIST_CHUNK);
        if (sparse) {
            int any = 0;
            for (size_t r = 0; r < count && !any; r++) {
                any = need[i + r] != 0;
            }
            if (!any) { /* nothing to compute: neither staged nor handed on */
                i += count;
                continue;
            }
        }
        if (sparse && fused) { /* only the needed rows, each where the full staging puts it */
            for (size_t r = 0; r < count; r++) {
                if (need[i + r]) {
                    stage_tile(ws, off + r, 1, x + i * d, off, count, shift);
                }
            }
        } else {
            /* staged exactly as adk_dist_nearest_blocks stages (zeros around a partial chunk) */
#ifdef ADK_X86
            if (ws->kernel == ADK_KERNEL_AVX512) { /* tile by tile, prefetching, as argmin_avx512 */
                if (count < ADK_DIST_CHUNK) {
                    memset(ws->rows, 0, ADK_DIST_CHUNK * d * sizeof(double));
                }
                size_t hi = (off + count + 3) & ~(size_t)3;
                for (size_t t = off & ~(size_t)3; t < hi; t += 4) {
                    stage_tile(ws, t, 4, x + i * d, off, count, shift);
                }
            } else {
                stage_chunk(ws, x + i * d, count, g, shift);
            }
#else
            stage_chunk(ws, x + i * d, count, g, shift);
#endif
        }
        int how = chunk_values(ws, c, need + i, off, count, ngroups, gmin);
        for (size_t r = 0; r < count; r++) {
            size_t p = off + r;
            if (how == 3 && need[i + r]) {
                continue; /* done in registers */
            }
            if (how == 2 || (how == 1 && need[i + r])) {
                argmin_groups(ws->dist + p * k, k, ngroups, group, &ws->lab[p], &ws->best[p],
                              gmin + r * ngroups);
            } else {
                ws->lab[p] = -1;
            }
        }
        fn(ud, i, count, ws->rows + off * d, ws->lab + off, ws->best + off, gmin);
        i += count;
    }
}
