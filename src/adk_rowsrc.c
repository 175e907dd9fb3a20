/*
 * adk_rowsrc: in-memory blocks and windowed HDF5 reads behind one pass interface (adk_rowsrc.h).
 */
#include "adk_rowsrc.h"
#include "adk_mem.h"

#include <stdlib.h>
#include <string.h>

#include "adk_h5.h"
#include "adk_part.h"

struct adk_rowsrc {
    adk_ctx_t *ctx;
    adk_rows_t shape;      /* this rank's block; x is the data in memory, NULL when streamed */
    const adk_rows_t *mem; /* in memory: the block */
    adk_h5_t *file;        /* streamed: the open file and dataset */
    adk_h5_dset_t *ds;
    size_t window; /* rows per window (multiple of ADK_ROWSRC_QUANTUM when streamed) */
    double *buf;   /* streamed: one window */
    int64_t nwin;  /* streamed: the most windows any rank has (reads per pass) */
    char *spec;
};

int adk_rowsrc_mem(adk_ctx_t *ctx, const adk_rows_t *x, adk_rowsrc_t **out)
{
    *out = NULL;
    adk_rowsrc_t *s = adk_calloc(1, sizeof(*s));
    if (!s) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    s->ctx = ctx;
    s->shape = *x;
    s->mem = x;
    s->window = x->nloc;
    *out = s;
    return ADK_OK;
}

int adk_rowsrc_open(adk_ctx_t *ctx, const char *spec, adk_rowsrc_t **out)
{
    *out = NULL;
    char *file = NULL, *dset = NULL;
    int is_csv = 0;
    int st = adk_ctx_agree(ctx, adk_h5_split_spec(ctx, spec, &file, &dset, &is_csv));
    if (st == ADK_OK && is_csv) {
        st = ADK_ERR(ctx, ADK_EINVAL,
                     "%s: streamed input must be HDF5 (FILE.h5:/dataset); CSV rows cannot be read "
                     "window by window",
                     spec); /* the same spec on every rank: the same verdict */
    }
    adk_rowsrc_t *s = NULL;
    if (st == ADK_OK) {
        s = adk_calloc(1, sizeof(*s));
        if (s) {
            s->ctx = ctx;
            s->spec = adk_strdup(spec);
        }
        st = adk_ctx_agree(ctx, s && s->spec ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        st = adk_h5_open(ctx, file, &s->file);
    }
    int64_t n = 0;
    size_t d = 0;
    if (st == ADK_OK) {
        st = adk_h5_dset_open(s->file, dset, spec, &n, &d, &s->ds);
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_ctx_add_input(ctx, spec));
    }
    free(file);
    free(dset);
    if (st != ADK_OK) {
        adk_rowsrc_free(s);
        return st;
    }
    adk_rows_t *r = &s->shape;
    r->n = n;
    r->d = d;
    r->align = adk_part_align(n, ADK_ALIGN_REPRO);
    adk_range_t rg = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), r->align);
    r->row0 = rg.start;
    r->nloc = (size_t)rg.count;
    r->spec = s->spec;
    *out = s;
    return ADK_OK;
}

/* Local rows [*a, *b) of window slot w of this rank (empty past its last window). */
static void window_range(const adk_rowsrc_t *s, int64_t w, size_t *a, size_t *b)
{
    const adk_rows_t *r = &s->shape;
    int64_t W = (int64_t)s->window, first = r->row0 / W;
    int64_t g0 = (first + w) * W, g1 = g0 + W, end = r->row0 + (int64_t)r->nloc;
    g0 = g0 > r->row0 ? g0 : r->row0;
    g1 = g1 < end ? g1 : end;
    if (r->nloc == 0 || g0 >= g1) {
        *a = *b = 0;
        return;
    }
    *a = (size_t)(g0 - r->row0);
    *b = (size_t)(g1 - r->row0);
}

int adk_rowsrc_set_window(adk_rowsrc_t *s, size_t rows)
{
    if (!s->ds) {
        return ADK_OK; /* in memory: one window, the block */
    }
    adk_ctx_t *ctx = s->ctx;
    const adk_rows_t *r = &s->shape;
    rows -= rows % ADK_ROWSRC_QUANTUM;
    s->window = rows > 0 ? rows : ADK_ROWSRC_QUANTUM;
    size_t cap = s->window < r->nloc ? s->window : r->nloc;
    free(s->buf);
    s->buf = adk_malloc((cap > 0 ? cap : 1) * r->d * sizeof(double));
    int st = s->buf ? ADK_OK
                    : ADK_ERR(ctx, ADK_ENOMEM, "out of memory for a window of %zu x %zu values",
                              cap, r->d);
    /* slots from the one holding row0 to the one holding the last row */
    long long mine = 0;
    if (r->nloc > 0) {
        int64_t W = (int64_t)s->window;
        mine = (long long)((r->row0 + (int64_t)r->nloc - 1) / W - r->row0 / W + 1);
    }
    long long most = 0;
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(ctx, &mine, &most, 1, MPI_LONG_LONG, MPI_MAX);
    }
    s->nwin = most;
    return st;
}

const adk_rows_t *adk_rowsrc_shape(const adk_rowsrc_t *s)
{
    return &s->shape;
}

int adk_rowsrc_streamed(const adk_rowsrc_t *s)
{
    return s->ds != NULL;
}

size_t adk_rowsrc_window(const adk_rowsrc_t *s)
{
    return s->window;
}

int adk_rowsrc_pass(adk_rowsrc_t *s, adk_rowsrc_fn fn, void *ud)
{
    int st = ADK_OK;
    if (!s->ds) {
        if (s->mem->nloc > 0) {
            st = fn(ud, s->mem, 0);
        }
        return adk_ctx_agree(s->ctx, st);
    }
    if (!s->buf) {
        return ADK_ERR(s->ctx, ADK_EINVAL, "internal: streamed source without a window");
    }
    adk_rows_t win = s->shape;
    win.x = s->buf;
    int fst = ADK_OK; /* fn's first failure: the reads go on so no rank is left in one */
    for (int64_t w = 0; w < s->nwin && st == ADK_OK; w++) {
        size_t a = 0, b = 0;
        window_range(s, w, &a, &b);
        st = adk_h5_dset_read(s->ds, s->shape.row0 + (int64_t)a, b - a, s->buf);
        if (st == ADK_OK && fst == ADK_OK && b > a) {
            win.row0 = s->shape.row0 + (int64_t)a;
            win.nloc = b - a;
            fst = fn(ud, &win, a);
        }
    }
    return adk_ctx_agree(s->ctx, st != ADK_OK ? st : fst);
}

int adk_rowsrc_fetch(adk_rowsrc_t *s, const int64_t *g, size_t m, double *out)
{
    adk_ctx_t *ctx = s->ctx;
    const adk_rows_t *r = &s->shape;
    size_t d = r->d;
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    for (size_t t = 0; t < m; t++) {
        double *dst = out + t * d;
        if (s->ds) { /* every rank reads the row: one collective read, no broadcast */
            int st = adk_h5_dset_read(s->ds, g[t], 1, dst);
            if (st != ADK_OK) {
                return st;
            }
            continue;
        }
        int owner = adk_part_owner(r->n, size, r->align, g[t]);
        if (owner == rank) {
            memcpy(dst, s->mem->x + (size_t)(g[t] - r->row0) * d, d * sizeof(double));
        }
        if (size > 1 && ADK_MPI_CALL(ctx, owner == rank ? (int64_t)d : 0, MPI_DOUBLE,
                                     MPI_Bcast(dst, (int)d, MPI_DOUBLE, owner,
                                               adk_ctx_comm(ctx))) != MPI_SUCCESS) {
            return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Bcast of a row failed"));
        }
    }
    return ADK_OK;
}

void adk_rowsrc_free(adk_rowsrc_t *s)
{
    if (!s) {
        return;
    }
    adk_h5_dset_close(s->ds);
    adk_h5_close(s->file);
    free(s->buf);
    free(s->spec);
    free(s);
}
