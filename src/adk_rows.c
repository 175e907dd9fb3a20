/*
 * adk_rows: allocation and checks of row blocks (see adk_rows.h).
 */
#include "adk_rows.h"
#include "adk_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int adk_rows_alloc(adk_ctx_t *ctx, int64_t n, size_t d, int64_t align, const char *spec, int labels,
                   adk_rows_t **out)
{
    *out = NULL;
    adk_rows_t *r = adk_calloc(1, sizeof(*r));
    if (!r) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    r->n = n;
    r->d = d;
    r->align = adk_part_align(n, align);
    adk_range_t rg = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), r->align);
    r->row0 = rg.start;
    r->nloc = (size_t)rg.count;
    if (d > 0 && r->nloc > SIZE_MAX / sizeof(double) / d) { /* the byte count would wrap */
        size_t nloc = r->nloc;
        adk_rows_free(r);
        return ADK_ERR(ctx, ADK_ENOMEM, "%zu x %zu rows cannot be held in memory", nloc, d);
    }
    /* never a zero-byte allocation: a rank without rows still has a valid pointer */
    size_t cnt = r->nloc * d;
    r->x = adk_calloc(cnt > 0 ? cnt : 1, sizeof(double));
    int st =
        r->x ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory for %zu x %zu rows", r->nloc, d);
    if (st == ADK_OK && spec) {
        r->spec = adk_strdup(spec);
        st = r->spec ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    if (st == ADK_OK && labels) {
        st = adk_rows_alloc_labels(ctx, r);
    }
    if (st != ADK_OK) {
        adk_rows_free(r);
        return st;
    }
    *out = r;
    return ADK_OK;
}

int adk_rows_alloc_labels(adk_ctx_t *ctx, adk_rows_t *r)
{
    free(r->labels);
    r->labels = adk_calloc(r->nloc ? r->nloc : 1, sizeof(int64_t));
    return r->labels ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory for %zu labels", r->nloc);
}

void adk_rows_free(adk_rows_t *rows)
{
    if (!rows) {
        return;
    }
    free(rows->x);
    free(rows->labels);
    free(rows->spec);
    free(rows);
}

int adk_rows_check_finite(adk_ctx_t *ctx, const adk_rows_t *r)
{
    for (size_t i = 0; i < r->nloc; i++) {
        for (size_t j = 0; j < r->d; j++) {
            double v = r->x[i * r->d + j];
            if (!isfinite(v)) {
                return ADK_ERR(ctx, ADK_EDATA, "%s row %lld: %s in column %zu",
                               r->spec ? r->spec : "data", (long long)(r->row0 + (int64_t)i),
                               isnan(v) ? "NaN" : "Inf", j);
            }
        }
    }
    return ADK_OK;
}

int adk_rows_check_range(adk_ctx_t *ctx, const adk_rows_t *r, double limit)
{
    for (size_t i = 0; i < r->nloc; i++) {
        for (size_t j = 0; j < r->d; j++) {
            double v = r->x[i * r->d + j];
            if (!(fabs(v) <= limit)) {
                return ADK_ERR(ctx, ADK_EDATA,
                               "%s row %lld: value %g in column %zu is too large (squared "
                               "distances need |x| <= %g)",
                               r->spec ? r->spec : "data", (long long)(r->row0 + (int64_t)i), v, j,
                               limit);
            }
        }
    }
    return ADK_OK;
}
