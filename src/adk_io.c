/*
 * adk_io: the input dispatcher between HDF5 (adk_h5) and CSV (adk_csv); see adk_io.h.
 */
#include "adk_io.h"

#include <stdlib.h>

#include "adk_csv.h"

/* The spec split, or ADK_EINVAL for a CSV spec where only HDF5 will do. Local. */
static int split_h5(adk_ctx_t *ctx, const char *spec, int labels, char **file, char **dset)
{
    int is_csv = 0;
    int st = adk_h5_split_spec(ctx, spec, file, dset, &is_csv);
    if (st == ADK_OK && is_csv && labels) {
        st = ADK_ERR(ctx, ADK_EINVAL,
                     "labels '%s': give an HDF5 dataset (FILE.h5:/labels), or --label-col for CSV",
                     spec);
    } else if (st == ADK_OK && is_csv) {
        st = ADK_ERR(ctx, ADK_EINVAL, "'%s': expected an HDF5 dataset (FILE.h5:/path)", spec);
    }
    return adk_ctx_agree(ctx, st);
}

int adk_io_read(adk_ctx_t *ctx, const char *spec, const adk_read_opts_t *opts, adk_rows_t **out)
{
    adk_ctx_tic(ctx, ADK_T_IO);
    adk_read_opts_t none = {1, NULL, NULL};
    if (!opts) {
        opts = &none;
    }
    *out = NULL;
    char *file = NULL, *dset = NULL;
    int is_csv = 0;
    /* the same spec on every rank, but its copies can fail to allocate on one */
    int st = adk_ctx_agree(ctx, adk_h5_split_spec(ctx, spec, &file, &dset, &is_csv));
    if (st == ADK_OK && is_csv) {
        st = adk_csv_read(ctx, file, opts->align, opts->label_col, out);
    } else if (st == ADK_OK && opts->label_col) {
        st = ADK_ERR(ctx, ADK_EINVAL, "--label-col applies to CSV input only; '%s' is HDF5", spec);
    } else if (st == ADK_OK) {
        adk_h5_t *f = NULL;
        st = adk_h5_open(ctx, file, &f);
        if (st == ADK_OK) {
            st = adk_h5_read_rows(f, dset, spec, opts->align, 0, 1, out);
        }
        adk_h5_close(f);
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_ctx_add_input(ctx, spec));
    }
    if (st == ADK_OK && opts->labels) {
        st = adk_io_read_labels(ctx, opts->labels, *out);
    }
    if (st != ADK_OK) {
        adk_rows_free(*out);
        *out = NULL;
    }
    free(file);
    free(dset);
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

int adk_io_read_labels(adk_ctx_t *ctx, const char *spec, adk_rows_t *rows)
{
    adk_ctx_tic(ctx, ADK_T_IO);
    char *file = NULL, *dset = NULL;
    adk_h5_t *f = NULL;
    int st = split_h5(ctx, spec, 1, &file, &dset);
    if (st == ADK_OK) {
        st = adk_h5_open(ctx, file, &f);
    }
    if (st == ADK_OK) {
        /* integers beyond 2^53 would not survive the trip through double */
        st = adk_h5_read_labels(f, dset, "labels", 9.0e15, rows);
    }
    adk_h5_close(f);
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_ctx_add_input(ctx, spec));
    }
    free(file);
    free(dset);
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

int adk_io_read_small(adk_ctx_t *ctx, const char *spec, size_t max_elems, double **out,
                      int64_t *rows, int64_t *cols, int *ndims)
{
    adk_ctx_tic(ctx, ADK_T_IO);
    *out = NULL;
    char *file = NULL, *dset = NULL;
    adk_h5_t *f = NULL;
    int st = split_h5(ctx, spec, 0, &file, &dset);
    if (st == ADK_OK) {
        st = adk_h5_open(ctx, file, &f);
    }
    if (st == ADK_OK) {
        st = adk_h5_read_small(f, dset, max_elems, out, rows, cols, ndims);
    }
    adk_h5_close(f);
    free(file);
    free(dset);
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

int adk_io_exists(adk_ctx_t *ctx, const char *file, const char *dset, int *exists)
{
    adk_ctx_tic(ctx, ADK_T_IO);
    adk_h5_t *f = NULL;
    *exists = 0;
    int st = adk_h5_open(ctx, file, &f);
    if (st == ADK_OK) {
        st = adk_h5_exists(f, dset, exists);
    }
    adk_h5_close(f);
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

int adk_io_attr_f64(adk_ctx_t *ctx, const char *file, const char *obj, const char *name,
                    double *out)
{
    adk_ctx_tic(ctx, ADK_T_IO);
    adk_h5_t *f = NULL;
    int st = adk_h5_open(ctx, file, &f);
    if (st == ADK_OK) {
        st = adk_h5_attr(f, obj, name, ADK_ATTR_F64, out, 0, NULL);
    }
    adk_h5_close(f);
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}

int adk_io_attr_str(adk_ctx_t *ctx, const char *file, const char *obj, const char *name, char *buf,
                    size_t len)
{
    adk_ctx_tic(ctx, ADK_T_IO);
    adk_h5_t *f = NULL;
    int st = adk_h5_open(ctx, file, &f);
    if (st == ADK_OK) {
        st = adk_h5_attr(f, obj, name, ADK_ATTR_STR, buf, len, NULL);
    }
    adk_h5_close(f);
    adk_ctx_toc(ctx, ADK_T_IO);
    return st;
}
