/*
 * adk_dist: chunked GEMM distance blocks and nearest-centre search (see adk_dist.h).
 */
#include "adk_dist.h"

#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cblas.h>

#include "adk_ctx.h"

struct adk_dist_ws {
    size_t kmax, d;
    double *rows; /* ADK_DIST_CHUNK x d padded (and optionally shifted) rows */
    double *dist; /* ADK_DIST_CHUNK x kmax distance block */
};

int adk_centres_alloc(size_t k, size_t d, adk_centres_t **out)
{
    *out = NULL;
    adk_centres_t *c = calloc(1, sizeof(*c));
    if (!c) {
        return ADK_ENOMEM;
    }
    c->k = k;
    c->d = d;
    c->c = calloc(k > 0 && d > 0 ? k * d : 1, sizeof(double));
    c->cn = calloc(k ? k : 1, sizeof(double));
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
        c->cn[j] = adk_dist_norm2(c->c + j * c->d, c->d);
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
    adk_dist_ws_t *ws = calloc(1, sizeof(*ws));
    if (!ws) {
        return ADK_ENOMEM;
    }
    ws->kmax = k;
    ws->d = d;
    ws->rows = calloc(ADK_DIST_CHUNK * (d ? d : 1), sizeof(double));
    ws->dist = calloc(ADK_DIST_CHUNK * (k ? k : 1), sizeof(double));
    if (!ws->rows || !ws->dist) {
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
    free(ws);
}

double adk_dist_sq(const double *x, const double *c, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double t = x[j] - c[j];
        s += t * t;
    }
    return s;
}

double adk_dist_norm2(const double *x, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        s += x[j] * x[j];
    }
    return s;
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

typedef struct {
    int32_t *label;
    double *best;
} nearest_t;

static void nearest_fn(void *ud, size_t first, size_t count, const double *rows, const double *dist,
                       size_t ldd)
{
    (void)rows;
    nearest_t *nt = ud;
    for (size_t i = 0; i < count; i++) {
        const double *r = dist + i * ldd;
        double m = r[0];
        int32_t a = 0;
        for (size_t j = 1; j < ldd; j++) {
            if (r[j] < m) { /* strict: the first minimum wins ties */
                m = r[j];
                a = (int32_t)j;
            }
        }
        nt->label[first + i] = a;
        if (nt->best) {
            nt->best[first + i] = m;
        }
    }
}

void adk_dist_nearest(adk_dist_ws_t *ws, const adk_centres_t *c, const double *x, size_t n,
                      int64_t row0, int32_t *label, double *best)
{
    nearest_t nt = {label, best};
    blocks(ws, c, x, n, row0, NULL, nearest_fn, &nt);
}
