/*
 * adk_h5: HDF5 input through the MPI-IO driver with collective metadata (see adk_h5.h).
 * Every H5Dread is collective; a rank without rows selects none and still calls.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "adk_h5.h"
#include "adk_mem.h"

/* Bytes per rank per collective call: large I/O is split into rounds every rank joins. */
#define ADK_H5_SLAB_BYTES ((size_t)256 << 20)

struct adk_h5 {
    adk_ctx_t *ctx;
    hid_t fid;
    char *name;
};

void adk_h5_quiet(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (m > n) {
        return 0;
    }
    for (size_t i = 0; i < m; i++) {
        char a = s[n - m + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (a != b) {
            return 0;
        }
    }
    return 1;
}

int adk_h5_split_spec(adk_ctx_t *ctx, const char *spec, char **file, char **dset, int *is_csv)
{
    *file = NULL;
    *dset = NULL;
    *is_csv = 0;
    if (!spec || !spec[0]) {
        return ADK_ERR(ctx, ADK_EINVAL, "empty input specification");
    }
    const char *sep = strstr(spec, ":/");
    if (sep) {
        *file = adk_strndup(spec, (size_t)(sep - spec));
        *dset = adk_strdup(sep + 1);
    } else if (ends_with(spec, ".csv") || ends_with(spec, ".txt")) {
        *file = adk_strdup(spec);
        *is_csv = 1;
        return *file ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    } else if (ends_with(spec, ".h5") || ends_with(spec, ".hdf5") || ends_with(spec, ".he5")) {
        *file = adk_strdup(spec);
        *dset = adk_strdup("/data");
    } else {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "cannot tell the format of '%s': use FILE.h5:/dataset or FILE.csv", spec);
    }
    if (!*file || !*dset) {
        free(*file);
        free(*dset);
        *file = *dset = NULL;
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    if (!(*file)[0]) {
        free(*file);
        free(*dset);
        *file = *dset = NULL;
        return ADK_ERR(ctx, ADK_EINVAL, "no file name in '%s'", spec);
    }
    return ADK_OK;
}

/* Rank 0 checks that the file can be read; the verdict is broadcast so all ranks agree. */
static int check_readable(adk_ctx_t *ctx, const char *file)
{
    int err = 0;
    if (adk_ctx_rank(ctx) == 0) {
        struct stat sb;
        if (stat(file, &sb) != 0) {
            err = errno;
        } else if (S_ISDIR(sb.st_mode)) {
            err = EISDIR;
        } else if (access(file, R_OK) != 0) {
            err = errno;
        }
    }
    int st = adk_ctx_bcast(ctx, &err, 1, MPI_INT, 0);
    if (st != ADK_OK) {
        return st;
    }
    if (err) {
        return ADK_ERR(ctx, ADK_EIO, "cannot open '%s': %s", file, strerror(err));
    }
    return ADK_OK;
}

hid_t adk_h5_fapl(adk_ctx_t *ctx)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) {
        return fapl;
    }
    if (H5Pset_fapl_mpio(fapl, adk_ctx_comm(ctx), MPI_INFO_NULL) < 0 ||
        H5Pset_all_coll_metadata_ops(fapl, 1) < 0 || H5Pset_coll_metadata_write(fapl, 1) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

static int h5_open(adk_ctx_t *ctx, const char *file, adk_h5_t **out)
{
    *out = NULL;
    int st = check_readable(ctx, file);
    if (st != ADK_OK) {
        return st; /* agreed: every rank got the same broadcast verdict */
    }
    adk_h5_t *f = adk_calloc(1, sizeof(*f));
    if (f) {
        f->ctx = ctx;
        f->fid = -1;
        f->name = adk_strdup(file);
    }
    st = adk_ctx_agree(ctx, f && f->name ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st == ADK_OK) {
        hid_t fapl = adk_h5_fapl(ctx);
        if (fapl >= 0) {
            f->fid = H5Fopen(file, H5F_ACC_RDONLY, fapl);
            H5Pclose(fapl);
        }
        if (f->fid < 0) {
            st = ADK_ERR(ctx, ADK_EIO, "'%s' is not a readable HDF5 file", file);
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st != ADK_OK) {
        adk_h5_close(f);
        return st;
    }
    *out = f;
    return ADK_OK;
}

void adk_h5_close(adk_h5_t *f)
{
    if (!f) {
        return;
    }
    if (f->fid >= 0) {
        adk_ctx_tic(f->ctx, ADK_T_IO);
        H5Fclose(f->fid);
        adk_ctx_toc(f->ctx, ADK_T_IO);
    }
    free(f->name);
    free(f);
}

const char *adk_h5_name(const adk_h5_t *f)
{
    return f->name;
}

int adk_h5_exists(adk_h5_t *f, const char *dset, int *exists)
{
    /* H5Lexists fails (rather than saying no) when an intermediate group is missing. */
    *exists = ADK_TIMED(f->ctx, ADK_T_IO, H5Lexists(f->fid, dset, H5P_DEFAULT)) > 0;
    return ADK_OK; /* collective metadata: every rank reads the same answer */
}

/* Collective open of a numeric dataset, with its shape: missing or not numeric is ADK_EDATA. */
static int open_dset(adk_ctx_t *ctx, hid_t fid, const char *file, const char *dset, hid_t *ds,
                     int *ndims, hsize_t dims[2])
{
    *ds = -1;
    int st = ADK_OK;
    htri_t ex = H5Lexists(fid, dset, H5P_DEFAULT);
    /* H5Lexists fails (rather than saying no) when an intermediate group is missing. */
    if (ex > 0) {
        *ds = H5Dopen2(fid, dset, H5P_DEFAULT);
    }
    if (*ds < 0) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: no dataset '%s'", file, dset);
    } else {
        hid_t sp = H5Dget_space(*ds);
        *ndims = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        if (*ndims >= 1 && *ndims <= 2) {
            H5Sget_simple_extent_dims(sp, dims, NULL);
        }
        if (sp >= 0) {
            H5Sclose(sp);
        }
        hid_t t = H5Dget_type(*ds);
        H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
        if (t >= 0) {
            H5Tclose(t);
        }
        if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s:%s is not numeric (float or integer)", file, dset);
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK && *ds >= 0) {
        H5Dclose(*ds);
        *ds = -1;
    }
    return st;
}

static int xfer_rows(adk_ctx_t *ctx, hid_t ds, hid_t memtype, void *buf, int64_t row0, size_t nloc,
                     size_t d, int writing, const char *what)
{
    size_t esz = H5Tget_size(memtype);
    size_t width = d ? d : 1;
    size_t slab = ADK_H5_SLAB_BYTES / (width * esz);
    if (slab < 1) {
        slab = 1;
    }
    long long my_rounds = (long long)((nloc + slab - 1) / slab), rounds = 0;
    int st = adk_ctx_allreduce(ctx, &my_rounds, &rounds, 1, MPI_LONG_LONG, MPI_MAX);
    if (st != ADK_OK) {
        return st;
    }
    int rank = d ? 2 : 1;
    hid_t fspace = H5Dget_space(ds);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    st = (fspace < 0 || dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0)
             ? ADK_ERR(ctx, ADK_EHDF5, "%s: cannot set up the transfer", what)
             : ADK_OK;
    st = adk_ctx_agree(ctx, st);
    for (long long k = 0; k < rounds && st == ADK_OK; k++) {
        size_t off = (size_t)k * slab;
        size_t cnt = off < nloc ? (nloc - off < slab ? nloc - off : slab) : 0;
        hsize_t start[2] = {(hsize_t)(row0 + (int64_t)off), 0}, count[2] = {cnt, width};
        hid_t mspace;
        herr_t e;
        if (cnt > 0) {
            e = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
            mspace = H5Screate_simple(rank, count, NULL);
        } else {
            hsize_t one = 1;
            e = H5Sselect_none(fspace);
            mspace = H5Screate_simple(1, &one, NULL);
            if (mspace >= 0 && H5Sselect_none(mspace) < 0) {
                e = -1;
            }
        }
        char *p = (char *)buf + off * width * esz;
        if (e >= 0 && mspace >= 0) {
            e = writing ? H5Dwrite(ds, memtype, mspace, fspace, dxpl, p)
                        : H5Dread(ds, memtype, mspace, fspace, dxpl, p);
        }
        if (mspace >= 0) {
            H5Sclose(mspace);
        }
        if (e < 0 || mspace < 0) {
            st = ADK_ERR(ctx, writing ? ADK_EIO : ADK_EHDF5, "%s: collective %s failed", what,
                         writing ? "write" : "read");
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (dxpl >= 0) {
        H5Pclose(dxpl);
    }
    if (fspace >= 0) {
        H5Sclose(fspace);
    }
    return st;
}

/* Number of values an attribute holds (1 for a scalar), or -1. */
static hssize_t attr_npoints(hid_t a)
{
    hid_t sp = H5Aget_space(a);
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (sp >= 0) {
        H5Sclose(sp);
    }
    return n;
}

static int h5_attr(adk_h5_t *f, const char *obj, const char *name, adk_attr_kind_t kind, void *out,
                   size_t len, int *found)
{
    adk_ctx_t *ctx = f->ctx;
    const char *file = f->name;
    hid_t fid = f->fid, a = -1, t = -1;
    int st = ADK_OK;
    if (found) {
        *found = 0;
    }
    if (H5Aexists_by_name(fid, obj, name, H5P_DEFAULT) > 0) {
        a = H5Aopen_by_name(fid, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    }
    if (a < 0) {
        if (!found) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: no attribute '%s' on '%s'", file, name, obj);
        }
    } else if (attr_npoints(a) != 1) {
        /* H5Aread writes every element: an array attribute would overflow the one value */
        st = ADK_ERR(ctx, ADK_EDATA, "%s: attribute '%s' on '%s' is not a single value", file, name,
                     obj);
    } else if (kind != ADK_ATTR_STR) {
        hid_t mt = kind == ADK_ATTR_F64 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_UINT64;
        if (H5Aread(a, mt, out) < 0) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: attribute '%s' on '%s' is not a number", file, name,
                         obj);
        }
    } else {
        char *buf = out;
        t = H5Aget_type(a);
        if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
            char *s = NULL;
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(t)); /* HDF5 does not convert ASCII <-> UTF-8 */
            if (H5Aread(a, mt, &s) >= 0 && s) {
                snprintf(buf, len, "%s", s);
                H5free_memory(s);
            } else {
                st = ADK_ERR(ctx, ADK_EHDF5, "%s: cannot read attribute '%s'", file, name);
            }
            H5Tclose(mt);
        } else if (t >= 0 && H5Tget_class(t) == H5T_STRING) {
            size_t sz = H5Tget_size(t);
            char *s = adk_calloc(sz + 1, 1);
            if (s && H5Aread(a, t, s) >= 0) {
                snprintf(buf, len, "%s", s);
            } else {
                st = ADK_ERR(ctx, ADK_EHDF5, "%s: cannot read attribute '%s'", file, name);
            }
            free(s);
        } else {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: attribute '%s' is not a string", file, name);
        }
    }
    if (a >= 0 && found && st == ADK_OK) {
        *found = 1;
    }
    if (t >= 0) {
        H5Tclose(t);
    }
    if (a >= 0) {
        H5Aclose(a);
    }
    return adk_ctx_agree(ctx, st);
}

static int h5_shape(adk_h5_t *f, const char *dset, int *exists, int *ndims, int64_t dims[2],
                    int *numeric)
{
    *exists = 0;
    *ndims = 0;
    dims[0] = dims[1] = 0;
    *numeric = 0;
    hid_t ds = H5Lexists(f->fid, dset, H5P_DEFAULT) > 0 ? H5Dopen2(f->fid, dset, H5P_DEFAULT) : -1;
    if (ds < 0) {
        return ADK_OK; /* collective metadata: the same answer on every rank */
    }
    *exists = 1;
    hid_t sp = H5Dget_space(ds), ty = H5Dget_type(ds);
    *ndims = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t all[H5S_MAX_RANK];
    if (*ndims >= 1 && *ndims <= H5S_MAX_RANK && H5Sget_simple_extent_dims(sp, all, NULL) >= 0) {
        dims[0] = (int64_t)all[0];
        dims[1] = *ndims >= 2 ? (int64_t)all[1] : 0;
    }
    H5T_class_t cls = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
    *numeric = cls == H5T_FLOAT || cls == H5T_INTEGER;
    if (ty >= 0) {
        H5Tclose(ty);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    H5Dclose(ds);
    return ADK_OK;
}

/* Whether the dataset holds integers wider than a double's 53-bit significand can always hold. */
static int wide_integers(hid_t ds)
{
    hid_t t = H5Dget_type(ds);
    int wide = t >= 0 && H5Tget_class(t) == H5T_INTEGER && H5Tget_size(t) > 4;
    if (t >= 0) {
        H5Tclose(t);
    }
    return wide;
}

/* The first integer beyond 2^53 in magnitude: HDF5 rounded it on conversion. Local. */
static int check_exact(adk_ctx_t *ctx, const adk_rows_t *r)
{
    const double lim = 9007199254740992.0; /* 2^53 */
    for (size_t i = 0; i < r->nloc; i++) {
        for (size_t j = 0; j < r->d; j++) {
            double v = r->x[i * r->d + j];
            if (fabs(v) > lim) {
                return ADK_ERR(ctx, ADK_EDATA,
                               "%s row %lld: integer %.17g in column %zu is beyond 2^53 and cannot "
                               "be held exactly by a double",
                               r->spec, (long long)(r->row0 + (int64_t)i), v, j);
            }
        }
    }
    return ADK_OK;
}

static int read_rows(adk_h5_t *f, const char *dset, const char *what, int64_t align, int vector,
                     int finite, adk_rows_t **out)
{
    adk_ctx_t *ctx = f->ctx;
    *out = NULL;
    char name[4096];
    if (!what) {
        snprintf(name, sizeof(name), "%s:%s", f->name, dset);
        what = name;
    }
    hid_t ds = -1;
    int ndims = 0;
    hsize_t dims[2] = {0, 0};
    adk_rows_t *r = NULL;
    int st = open_dset(ctx, f->fid, f->name, dset, &ds, &ndims, dims);
    if (st == ADK_OK) { /* shape checks: every rank sees the same metadata */
        if (vector && ndims != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: dataset is %d-D, expected one value per row", what,
                         ndims);
        } else if (!vector && ndims != 2) {
            st = ADK_ERR(ctx, ADK_EDATA,
                         "%s: dataset is %d-D, expected a 2-D rows x columns matrix", what, ndims);
        } else if (vector) {
            dims[1] = 1;
        }
        if (st == ADK_OK && (dims[0] == 0 || dims[1] == 0)) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: empty data (%llu x %llu)", what,
                         (unsigned long long)dims[0], (unsigned long long)dims[1]);
        } else if (st == ADK_OK && (dims[0] > (hsize_t)INT64_MAX ||
                                    dims[1] > SIZE_MAX / sizeof(double) / dims[0])) {
            /* a declared size (a tiny file can declare any) whose bytes overflow size_t would
             * wrap the row block's allocation to a few bytes */
            st = ADK_ERR(ctx, ADK_EDATA, "%s: %llu x %llu values cannot be held in memory", what,
                         (unsigned long long)dims[0], (unsigned long long)dims[1]);
        }
    }
    if (st == ADK_OK) {
        st = adk_rows_alloc(ctx, (int64_t)dims[0], (size_t)dims[1], align, what, 0, &r);
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = adk_h5_xfer_rows(ctx, ds, H5T_NATIVE_DOUBLE, r->x, r->row0, r->nloc, vector ? 0 : r->d,
                              0, what);
    }
    if (st == ADK_OK && finite) {
        st = adk_ctx_agree(ctx, adk_rows_check_finite(ctx, r));
    }
    if (st == ADK_OK && wide_integers(ds)) {
        st = adk_ctx_agree(ctx, check_exact(ctx, r));
    }
    if (ds >= 0) {
        H5Dclose(ds);
    }
    if (st != ADK_OK) {
        adk_rows_free(r);
        return st;
    }
    *out = r;
    return ADK_OK;
}

static int read_labels(adk_h5_t *f, const char *dset, const char *noun, double max_abs,
                       adk_rows_t *rows)
{
    adk_ctx_t *ctx = f->ctx;
    char spec[4096];
    snprintf(spec, sizeof(spec), "%s:%s", f->name, dset);
    const int as_labels = strcmp(noun, "labels") == 0;
    hid_t ds = -1;
    int ndims = 0;
    hsize_t dims[2] = {0, 0};
    double *tmp = NULL;
    int st = open_dset(ctx, f->fid, f->name, dset, &ds, &ndims, dims);
    if (st == ADK_OK) {
        if (ndims != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "labels %s: dataset is %d-D, expected 1-D", spec, ndims);
        } else if ((int64_t)dims[0] != rows->n) {
            st = ADK_ERR(ctx, ADK_EDATA, "labels %s: %llu values for %lld data rows", spec,
                         (unsigned long long)dims[0], (long long)rows->n);
        }
    }
    if (st == ADK_OK) {
        tmp = adk_malloc((rows->nloc ? rows->nloc : 1) * sizeof(double));
        st = tmp ? adk_rows_alloc_labels(ctx, rows) : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = adk_h5_xfer_rows(ctx, ds, H5T_NATIVE_DOUBLE, tmp, rows->row0, rows->nloc, 0, 0, spec);
    }
    if (st == ADK_OK) {
        int lst = ADK_OK;
        for (size_t i = 0; i < rows->nloc && lst == ADK_OK; i++) {
            double v = tmp[i];
            long long row = (long long)(rows->row0 + (int64_t)i);
            if (v == floor(v) && fabs(v) <= max_abs) {
                rows->labels[i] = (int64_t)v;
            } else if (as_labels) {
                lst = ADK_ERR(ctx, ADK_EDATA, "labels %s row %lld: %g is not an integer label",
                              spec, row, v);
            } else {
                lst = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: %s %g is not an integer", f->name, row,
                              noun, v);
            }
        }
        st = adk_ctx_agree(ctx, lst);
    }
    if (st != ADK_OK) {
        free(rows->labels);
        rows->labels = NULL;
    }
    free(tmp);
    if (ds >= 0) {
        H5Dclose(ds);
    }
    return st;
}

static int read_small(adk_h5_t *f, const char *dset, size_t max_elems, double **out, int64_t *rows,
                      int64_t *cols, int *ndims)
{
    adk_ctx_t *ctx = f->ctx;
    *out = NULL;
    char spec[4096];
    snprintf(spec, sizeof(spec), "%s:%s", f->name, dset);
    hid_t ds = -1;
    hsize_t dims[2] = {0, 0};
    int st = open_dset(ctx, f->fid, f->name, dset, &ds, ndims, dims);
    if (st == ADK_OK) {
        if (*ndims < 1 || *ndims > 2) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: dataset is %d-D, expected 1-D or 2-D", spec, *ndims);
        } else {
            hsize_t r = dims[0], c = *ndims == 2 ? dims[1] : 1;
            *rows = (int64_t)r;
            *cols = (int64_t)c;
            /* divide rather than multiply: the declared extents may overflow any product */
            if (r == 0 || c == 0) {
                st = ADK_ERR(ctx, ADK_EDATA, "%s: empty dataset", spec);
            } else if (r > max_elems / c) {
                st = ADK_ERR(ctx, ADK_EDATA, "%s: %llu x %llu is too large (limit %zu values)",
                             spec, (unsigned long long)r, (unsigned long long)c, max_elems);
            }
        }
    }
    if (st == ADK_OK) {
        *out = adk_malloc((size_t)(*rows * *cols) * sizeof(double));
        st = adk_ctx_agree(ctx, *out ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        /* every rank reads everything: a collective read with full selections */
        hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
        herr_t e = dxpl >= 0 ? H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) : -1;
        if (e >= 0) {
            e = H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, dxpl, *out);
        }
        if (dxpl >= 0) {
            H5Pclose(dxpl);
        }
        st = adk_ctx_agree(ctx, e < 0 ? ADK_ERR(ctx, ADK_EHDF5, "%s: read failed", spec) : ADK_OK);
    }
    /* +-Inf is legitimate (the threshold of an empty cluster); identical data on every rank, so
     * the verdict is already common */
    for (int64_t i = 0; st == ADK_OK && i < *rows * *cols; i++) {
        if (isnan((*out)[i])) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: NaN", spec, (long long)(i / *cols));
        }
    }
    if (ds >= 0) {
        H5Dclose(ds);
    }
    if (st != ADK_OK) {
        free(*out);
        *out = NULL;
    }
    return st;
}

static int read_range(adk_h5_t *f, const char *dset, int as_i64, int64_t start, size_t count,
                      void *buf, int64_t *total)
{
    adk_ctx_t *ctx = f->ctx;
    char spec[4096];
    snprintf(spec, sizeof(spec), "%s:%s", f->name, dset);
    hid_t ds = -1;
    hsize_t dims[2] = {0, 0};
    int nd = 0;
    int st = open_dset(ctx, f->fid, f->name, dset, &ds, &nd, dims);
    if (st == ADK_OK && nd != 1) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: dataset is %d-D, expected 1-D", spec, nd);
    } else if (st == ADK_OK && (start < 0 || (uint64_t)start + count > (uint64_t)dims[0])) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: elements %lld to %lld asked for, it has %llu", spec,
                     (long long)start, (long long)start + (long long)count - 1,
                     (unsigned long long)dims[0]);
    }
    st = adk_ctx_agree(ctx, st); /* ranges differ by rank: so may the verdicts */
    if (st == ADK_OK) {
        if (total) {
            *total = (int64_t)dims[0];
        }
        st = xfer_rows(ctx, ds, as_i64 ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE, buf, start, count, 0,
                       0, spec);
    }
    if (ds >= 0) {
        H5Dclose(ds);
    }
    return st;
}

/* ---- the public calls: each one an I/O region of the run's accounting (adk_ctx.h) ---- */

int adk_h5_open(adk_ctx_t *ctx, const char *file, adk_h5_t **out)
{
    return ADK_TIMED(ctx, ADK_T_IO, h5_open(ctx, file, out));
}

int adk_h5_xfer_rows(adk_ctx_t *ctx, hid_t ds, hid_t memtype, void *buf, int64_t row0, size_t nloc,
                     size_t d, int writing, const char *what)
{
    return ADK_TIMED(ctx, ADK_T_IO, xfer_rows(ctx, ds, memtype, buf, row0, nloc, d, writing, what));
}

int adk_h5_attr(adk_h5_t *f, const char *obj, const char *name, adk_attr_kind_t kind, void *out,
                size_t len, int *found)
{
    return ADK_TIMED(f->ctx, ADK_T_IO, h5_attr(f, obj, name, kind, out, len, found));
}

int adk_h5_shape(adk_h5_t *f, const char *dset, int *exists, int *ndims, int64_t dims[2],
                 int *numeric)
{
    return ADK_TIMED(f->ctx, ADK_T_IO, h5_shape(f, dset, exists, ndims, dims, numeric));
}

int adk_h5_read_rows(adk_h5_t *f, const char *dset, const char *what, int64_t align, int vector,
                     int finite, adk_rows_t **out)
{
    return ADK_TIMED(f->ctx, ADK_T_IO, read_rows(f, dset, what, align, vector, finite, out));
}

struct adk_h5_dset {
    adk_ctx_t *ctx;
    hid_t ds;
    char *what;
    size_t cols;
    int wide; /* wide integers: values must be checked for exactness */
};

static int dset_open(adk_h5_t *f, const char *dset, const char *what, int64_t *rows, size_t *cols,
                     adk_h5_dset_t **out)
{
    adk_ctx_t *ctx = f->ctx;
    *out = NULL;
    *rows = 0;
    *cols = 0;
    char name[4096];
    if (!what) {
        snprintf(name, sizeof(name), "%s:%s", f->name, dset);
        what = name;
    }
    hid_t ds = -1;
    int ndims = 0;
    hsize_t dims[2] = {0, 0};
    int st = open_dset(ctx, f->fid, f->name, dset, &ds, &ndims, dims);
    if (st == ADK_OK && ndims != 2) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: dataset is %d-D, expected a 2-D rows x columns matrix",
                     what, ndims);
    } else if (st == ADK_OK && (dims[0] == 0 || dims[1] == 0)) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: empty data (%llu x %llu)", what,
                     (unsigned long long)dims[0], (unsigned long long)dims[1]);
    } else if (st == ADK_OK && (dims[0] > (hsize_t)INT64_MAX ||
                                dims[1] > SIZE_MAX / sizeof(double) / ((size_t)1 << 20))) {
        /* a window holds at least a few hundred rows: their bytes must not overflow size_t */
        st = ADK_ERR(ctx, ADK_EDATA, "%s: %llu x %llu values cannot be read in windows", what,
                     (unsigned long long)dims[0], (unsigned long long)dims[1]);
    }
    adk_h5_dset_t *h = NULL;
    if (st == ADK_OK) {
        h = adk_calloc(1, sizeof(*h));
        if (h) {
            h->ctx = ctx;
            h->ds = -1;
            h->what = adk_strdup(what);
        }
        st = adk_ctx_agree(ctx, h && h->what ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st != ADK_OK) {
        if (h) {
            free(h->what);
            free(h);
        }
        if (ds >= 0) {
            H5Dclose(ds);
        }
        return st;
    }
    h->ds = ds;
    h->cols = (size_t)dims[1];
    h->wide = wide_integers(ds);
    *rows = (int64_t)dims[0];
    *cols = h->cols;
    *out = h;
    return ADK_OK;
}

int adk_h5_dset_open(adk_h5_t *f, const char *dset, const char *what, int64_t *rows, size_t *cols,
                     adk_h5_dset_t **out)
{
    return ADK_TIMED(f->ctx, ADK_T_IO, dset_open(f, dset, what, rows, cols, out));
}

static int dset_read(adk_h5_dset_t *h, int64_t row0, size_t nloc, double *buf)
{
    int st =
        adk_h5_xfer_rows(h->ctx, h->ds, H5T_NATIVE_DOUBLE, buf, row0, nloc, h->cols, 0, h->what);
    if (st == ADK_OK && h->wide) {
        adk_rows_t v = {0};
        v.row0 = row0;
        v.nloc = nloc;
        v.d = h->cols;
        v.x = buf;
        v.spec = h->what;
        st = adk_ctx_agree(h->ctx, check_exact(h->ctx, &v));
    }
    return st;
}

int adk_h5_dset_read(adk_h5_dset_t *ds, int64_t row0, size_t nloc, double *buf)
{
    return ADK_TIMED(ds->ctx, ADK_T_IO, dset_read(ds, row0, nloc, buf));
}

void adk_h5_dset_close(adk_h5_dset_t *ds)
{
    if (!ds) {
        return;
    }
    if (ds->ds >= 0) {
        adk_ctx_tic(ds->ctx, ADK_T_IO);
        H5Dclose(ds->ds);
        adk_ctx_toc(ds->ctx, ADK_T_IO);
    }
    free(ds->what);
    free(ds);
}

int adk_h5_read_labels(adk_h5_t *f, const char *dset, const char *noun, double max_abs,
                       adk_rows_t *rows)
{
    return ADK_TIMED(f->ctx, ADK_T_IO, read_labels(f, dset, noun, max_abs, rows));
}

int adk_h5_read_range(adk_h5_t *f, const char *dset, int as_i64, int64_t start, size_t count,
                      void *buf, int64_t *total)
{
    return ADK_TIMED(f->ctx, ADK_T_IO, read_range(f, dset, as_i64, start, count, buf, total));
}

int adk_h5_read_small(adk_h5_t *f, const char *dset, size_t max_elems, double **out, int64_t *rows,
                      int64_t *cols, int *ndims)
{
    return ADK_TIMED(f->ctx, ADK_T_IO, read_small(f, dset, max_elems, out, rows, cols, ndims));
}
