/*
 * adk_io: HDF5 row-block reading and writing through the MPI-IO driver, labels, small replicated
 * reads, and atomic output files with provenance. CSV input lives in adk_csv.c.
 * Every H5Dread/H5Dwrite is collective; a rank without rows selects none and still calls.
 */
#include "config.h"

#include "adk_io.h"

#include "adk_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>

/* Bytes per rank per collective call: large I/O is split into rounds every rank joins. */
#define ADK_IO_SLAB_BYTES ((size_t)256 << 20)

void adk_io_quiet_hdf5(void)
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

int adk_io_split_spec(adk_ctx_t *ctx, const char *spec, char **file, char **dset, int *is_csv)
{
    *file = NULL;
    *dset = NULL;
    *is_csv = 0;
    if (!spec || !spec[0]) {
        return ADK_ERR(ctx, ADK_EINVAL, "empty input specification");
    }
    const char *sep = strstr(spec, ":/");
    if (sep) {
        *file = strndup(spec, (size_t)(sep - spec));
        *dset = strdup(sep + 1);
    } else if (ends_with(spec, ".csv") || ends_with(spec, ".txt")) {
        *file = strdup(spec);
        *is_csv = 1;
        return *file ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    } else if (ends_with(spec, ".h5") || ends_with(spec, ".hdf5") || ends_with(spec, ".he5")) {
        *file = strdup(spec);
        *dset = strdup("/data");
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
    if (MPI_Bcast(&err, 1, MPI_INT, 0, adk_ctx_comm(ctx)) != MPI_SUCCESS) {
        return ADK_ERR(ctx, ADK_EMPI, "MPI_Bcast failed");
    }
    if (err) {
        return ADK_ERR(ctx, ADK_EIO, "cannot open '%s': %s", file, strerror(err));
    }
    return ADK_OK;
}

static hid_t mpio_fapl(adk_ctx_t *ctx)
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

/* Collective open of an existing HDF5 file. */
static int h5_open(adk_ctx_t *ctx, const char *file, unsigned mode, hid_t *fid)
{
    *fid = -1;
    int st = check_readable(ctx, file);
    if (st != ADK_OK) {
        return st; /* agreed: every rank got the same broadcast verdict */
    }
    hid_t fapl = mpio_fapl(ctx);
    if (fapl >= 0) {
        *fid = H5Fopen(file, mode, fapl);
        H5Pclose(fapl);
    }
    if (*fid < 0) {
        st = ADK_ERR(ctx, ADK_EIO, "'%s' is not a readable HDF5 file", file);
    }
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK && *fid >= 0) {
        H5Fclose(*fid);
        *fid = -1;
    }
    return st;
}

/* Collective open of a dataset, with its shape. */
static int h5_open_dset(adk_ctx_t *ctx, hid_t fid, const char *file, const char *dset, hid_t *ds,
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

/*
 * Collective transfer of this rank's rows [row0, row0+nloc) of a 1-D (d = 0) or 2-D dataset, in
 * rounds of at most ADK_IO_SLAB_BYTES per rank; ranks with fewer rounds select nothing.
 */
static int h5_xfer_rows(adk_ctx_t *ctx, hid_t ds, hid_t memtype, void *buf, int64_t row0,
                        size_t nloc, size_t d, int writing, const char *what)
{
    size_t esz = H5Tget_size(memtype);
    size_t width = d ? d : 1;
    size_t slab = ADK_IO_SLAB_BYTES / (width * esz);
    if (slab < 1) {
        slab = 1;
    }
    long long my_rounds = (long long)((nloc + slab - 1) / slab), rounds = 0;
    if (MPI_Allreduce(&my_rounds, &rounds, 1, MPI_LONG_LONG, MPI_MAX, adk_ctx_comm(ctx)) !=
        MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce failed"));
    }
    int rank = d ? 2 : 1;
    hid_t fspace = H5Dget_space(ds);
    hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
    int st = (fspace < 0 || dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0)
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

static int read_h5_rows(adk_ctx_t *ctx, const char *spec, const char *file, const char *dset,
                        int64_t align, adk_rows_t **out)
{
    hid_t fid = -1, ds = -1;
    int ndims = 0;
    hsize_t dims[2] = {0, 0};
    adk_rows_t *r = NULL;
    int st = h5_open(ctx, file, H5F_ACC_RDONLY, &fid);
    if (st == ADK_OK) {
        st = h5_open_dset(ctx, fid, file, dset, &ds, &ndims, dims);
    }
    if (st == ADK_OK) { /* shape checks: every rank sees the same metadata */
        if (ndims != 2) {
            st = ADK_ERR(ctx, ADK_EDATA,
                         "%s: dataset is %d-D, expected a 2-D rows x columns matrix", spec, ndims);
        } else if (dims[0] == 0 || dims[1] == 0) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: empty data (%llu x %llu)", spec,
                         (unsigned long long)dims[0], (unsigned long long)dims[1]);
        }
    }
    if (st == ADK_OK) {
        st = adk_rows_alloc(ctx, (int64_t)dims[0], (size_t)dims[1], align, spec, 0, &r);
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = h5_xfer_rows(ctx, ds, H5T_NATIVE_DOUBLE, r->x, r->row0, r->nloc, r->d, 0, spec);
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_rows_check_finite(ctx, r));
    }
    if (ds >= 0) {
        H5Dclose(ds);
    }
    if (fid >= 0) {
        H5Fclose(fid);
    }
    if (st != ADK_OK) {
        adk_rows_free(r);
        return st;
    }
    *out = r;
    return ADK_OK;
}

int adk_io_read(adk_ctx_t *ctx, const char *spec, const adk_read_opts_t *opts, adk_rows_t **out)
{
    adk_read_opts_t none = {1, NULL, NULL};
    if (!opts) {
        opts = &none;
    }
    *out = NULL;
    char *file = NULL, *dset = NULL;
    int is_csv = 0;
    /* Same spec on every rank, so the parse verdict is already agreed. */
    int st = adk_io_split_spec(ctx, spec, &file, &dset, &is_csv);
    if (st == ADK_OK && is_csv) {
        st = adk_csv_read(ctx, file, opts->align, opts->label_col, out);
    } else if (st == ADK_OK) {
        if (opts->label_col) {
            st = ADK_ERR(ctx, ADK_EINVAL, "--label-col applies to CSV input only; '%s' is HDF5",
                         spec);
        } else {
            st = read_h5_rows(ctx, spec, file, dset, opts->align, out);
        }
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
    return st;
}

int adk_io_read_labels(adk_ctx_t *ctx, const char *spec, adk_rows_t *rows)
{
    char *file = NULL, *dset = NULL;
    int is_csv = 0;
    hid_t fid = -1, ds = -1;
    int ndims = 0;
    hsize_t dims[2] = {0, 0};
    double *tmp = NULL;
    int st = adk_io_split_spec(ctx, spec, &file, &dset, &is_csv);
    if (st == ADK_OK && is_csv) {
        st = ADK_ERR(ctx, ADK_EINVAL,
                     "labels '%s': give an HDF5 dataset (FILE.h5:/labels), or --label-col for CSV",
                     spec);
    }
    if (st == ADK_OK) {
        st = h5_open(ctx, file, H5F_ACC_RDONLY, &fid);
    }
    if (st == ADK_OK) {
        st = h5_open_dset(ctx, fid, file, dset, &ds, &ndims, dims);
    }
    if (st == ADK_OK) {
        if (ndims != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "labels %s: dataset is %d-D, expected 1-D", spec, ndims);
        } else if ((int64_t)dims[0] != rows->n) {
            st = ADK_ERR(ctx, ADK_EDATA, "labels %s: %llu values for %lld data rows", spec,
                         (unsigned long long)dims[0], (long long)rows->n);
        }
    }
    if (st == ADK_OK) {
        tmp = malloc((rows->nloc ? rows->nloc : 1) * sizeof(double));
        free(rows->labels);
        rows->labels = malloc((rows->nloc ? rows->nloc : 1) * sizeof(int64_t));
        if (!tmp || !rows->labels) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = h5_xfer_rows(ctx, ds, H5T_NATIVE_DOUBLE, tmp, rows->row0, rows->nloc, 0, 0, spec);
    }
    if (st == ADK_OK) {
        int lst = ADK_OK;
        for (size_t i = 0; i < rows->nloc && lst == ADK_OK; i++) {
            double v = tmp[i];
            if (!(v == floor(v)) || fabs(v) > 9.0e15) {
                lst = ADK_ERR(ctx, ADK_EDATA, "labels %s row %lld: %g is not an integer label",
                              spec, (long long)(rows->row0 + (int64_t)i), v);
            } else {
                rows->labels[i] = (int64_t)v;
            }
        }
        st = adk_ctx_agree(ctx, lst);
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_ctx_add_input(ctx, spec));
    }
    if (st != ADK_OK && rows->labels) {
        free(rows->labels);
        rows->labels = NULL;
    }
    free(tmp);
    if (ds >= 0) {
        H5Dclose(ds);
    }
    if (fid >= 0) {
        H5Fclose(fid);
    }
    free(file);
    free(dset);
    return st;
}

int adk_io_read_small(adk_ctx_t *ctx, const char *spec, size_t max_elems, double **out,
                      int64_t *rows, int64_t *cols, int *ndims)
{
    *out = NULL;
    char *file = NULL, *dset = NULL;
    int is_csv = 0;
    hid_t fid = -1, ds = -1;
    hsize_t dims[2] = {0, 0};
    int st = adk_io_split_spec(ctx, spec, &file, &dset, &is_csv);
    if (st == ADK_OK && is_csv) {
        st = ADK_ERR(ctx, ADK_EINVAL, "'%s': expected an HDF5 dataset (FILE.h5:/path)", spec);
    }
    if (st == ADK_OK) {
        st = h5_open(ctx, file, H5F_ACC_RDONLY, &fid);
    }
    if (st == ADK_OK) {
        st = h5_open_dset(ctx, fid, file, dset, &ds, ndims, dims);
    }
    if (st == ADK_OK) {
        if (*ndims < 1 || *ndims > 2) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: dataset is %d-D, expected 1-D or 2-D", spec, *ndims);
        } else {
            *rows = (int64_t)dims[0];
            *cols = *ndims == 2 ? (int64_t)dims[1] : 1;
            if ((uint64_t)(*rows) * (uint64_t)(*cols) > max_elems) {
                st = ADK_ERR(ctx, ADK_EDATA, "%s: %lld x %lld is too large (limit %zu values)",
                             spec, (long long)*rows, (long long)*cols, max_elems);
            } else if (*rows == 0 || *cols == 0) {
                st = ADK_ERR(ctx, ADK_EDATA, "%s: empty dataset", spec);
            }
        }
    }
    if (st == ADK_OK) {
        *out = malloc((size_t)(*rows * *cols) * sizeof(double));
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
    if (st == ADK_OK) {
        for (int64_t i = 0; i < *rows * *cols && st == ADK_OK; i++) {
            if (isnan(
                    (*out)[i])) { /* +-Inf is legitimate (e.g. the threshold of an empty cluster) */
                st = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: NaN", spec, (long long)(i / *cols));
            }
        }
        /* identical data on all ranks: the verdict is already common */
    }
    if (ds >= 0) {
        H5Dclose(ds);
    }
    if (fid >= 0) {
        H5Fclose(fid);
    }
    if (st != ADK_OK) {
        free(*out);
        *out = NULL;
    }
    free(file);
    free(dset);
    return st;
}

int adk_io_exists(adk_ctx_t *ctx, const char *file, const char *dset, int *exists)
{
    hid_t fid = -1;
    *exists = 0;
    int st = h5_open(ctx, file, H5F_ACC_RDONLY, &fid);
    if (st == ADK_OK) {
        htri_t ex = H5Lexists(fid, dset, H5P_DEFAULT);
        *exists = ex > 0;
        H5Fclose(fid);
    }
    return st;
}

/* Read one attribute; found == NULL makes a missing attribute an error. */
static int read_attr(adk_ctx_t *ctx, const char *file, const char *obj, const char *name,
                     adk_attr_kind_t kind, void *out, size_t len, int *found)
{
    hid_t fid = -1, a = -1, t = -1;
    int st = h5_open(ctx, file, H5F_ACC_RDONLY, &fid);
    if (st != ADK_OK) {
        return st;
    }
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
            char *s = calloc(sz + 1, 1);
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
    H5Fclose(fid);
    return adk_ctx_agree(ctx, st);
}

int adk_io_attr_f64(adk_ctx_t *ctx, const char *file, const char *obj, const char *name,
                    double *out)
{
    return read_attr(ctx, file, obj, name, ADK_ATTR_F64, out, 0, NULL);
}

int adk_io_attr_str(adk_ctx_t *ctx, const char *file, const char *obj, const char *name, char *buf,
                    size_t len)
{
    return read_attr(ctx, file, obj, name, ADK_ATTR_STR, buf, len, NULL);
}

int adk_io_attr_read(adk_ctx_t *ctx, const char *file, const char *obj, const char *name,
                     adk_attr_kind_t kind, void *out, size_t len, int *found)
{
    return read_attr(ctx, file, obj, name, kind, out, len, found);
}

/* ------------------------------------------------------------------------------------------ */
/* Output files                                                                               */

struct adk_out {
    adk_ctx_t *ctx;
    hid_t fid;
    char *path; /* final name */
    char *tmp;  /* name while being written */
};

static int path_exists(adk_ctx_t *ctx, const char *path, int *exists)
{
    int ex = 0;
    if (adk_ctx_rank(ctx) == 0) {
        struct stat sb;
        ex = stat(path, &sb) == 0;
    }
    if (MPI_Bcast(&ex, 1, MPI_INT, 0, adk_ctx_comm(ctx)) != MPI_SUCCESS) {
        return ADK_ERR(ctx, ADK_EMPI, "MPI_Bcast failed");
    }
    *exists = ex;
    return ADK_OK;
}

int adk_out_check(adk_ctx_t *ctx, const char *path, unsigned flags)
{
    int ex = 0;
    int st = path_exists(ctx, path, &ex);
    if (st == ADK_OK && ex && !(flags & ADK_OUT_FORCE)) {
        st = ADK_ERR(ctx, ADK_EEXIST, "output '%s' exists; use --force to replace it", path);
    }
    return st; /* the broadcast made the verdict common */
}

static hid_t str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Write (or replace) an attribute; value and type are the same on every rank. */
static int put_attr(adk_out_t *o, const char *obj, const char *name, hid_t ftype, hid_t mtype,
                    const void *val, size_t n)
{
    adk_ctx_t *ctx = o->ctx;
    hid_t sp = -1, a = -1;
    herr_t e = 0;
    if (H5Aexists_by_name(o->fid, obj, name, H5P_DEFAULT) > 0) {
        e = H5Adelete_by_name(o->fid, obj, name, H5P_DEFAULT);
    }
    if (e >= 0) {
        hsize_t dim = n;
        sp = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
        a = sp >= 0 ? H5Acreate_by_name(o->fid, obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT,
                                        H5P_DEFAULT)
                    : -1;
        e = a >= 0 ? H5Awrite(a, mtype, val) : -1;
    }
    if (a >= 0) {
        H5Aclose(a);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    int st = e < 0 ? ADK_ERR(ctx, ADK_EHDF5, "%s: cannot write attribute '%s' on '%s'", o->path,
                             name, obj)
                   : ADK_OK;
    return adk_ctx_agree(ctx, st);
}

int adk_out_attr_f64(adk_out_t *o, const char *obj, const char *name, double v)
{
    return put_attr(o, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v, 0);
}

int adk_out_attr_i64(adk_out_t *o, const char *obj, const char *name, int64_t v)
{
    return put_attr(o, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &v, 0);
}

int adk_out_attr_f64v(adk_out_t *o, const char *obj, const char *name, const double *v, size_t n)
{
    return put_attr(o, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v, n ? n : 1);
}

int adk_out_attr_i64v(adk_out_t *o, const char *obj, const char *name, const int64_t *v, size_t n)
{
    return put_attr(o, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v, n ? n : 1);
}

int adk_out_attr_str(adk_out_t *o, const char *obj, const char *name, const char *v)
{
    hid_t t = str_type();
    if (t < 0) {
        return adk_ctx_agree(o->ctx, ADK_ERR(o->ctx, ADK_EHDF5, "cannot make a string type"));
    }
    int st = put_attr(o, obj, name, t, t, &v, 0);
    H5Tclose(t);
    return st;
}

static int write_provenance(adk_out_t *o)
{
    adk_ctx_t *ctx = o->ctx;
    /* One clock for all ranks: attributes are metadata and must be written identically. */
    long long now = 0;
    if (adk_ctx_rank(ctx) == 0) {
        now = (long long)time(NULL);
    }
    MPI_Bcast(&now, 1, MPI_LONG_LONG, 0, adk_ctx_comm(ctx));
    time_t tt = (time_t)now;
    struct tm tmv;
    char stamp[32];
    gmtime_r(&tt, &tmv);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tmv);
    uint64_t seed = 0;
    int has_seed = adk_ctx_seed(ctx, &seed);
    int st = adk_out_attr_str(o, "/", "adkit_version", PACKAGE_VERSION);
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "git_commit", ADK_GIT_COMMIT);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "command_line", adk_ctx_cmdline(ctx));
    }
    if (st == ADK_OK && has_seed) {
        hid_t t = H5T_STD_U64LE;
        st = put_attr(o, "/", "seed", t, H5T_NATIVE_UINT64, &seed, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "mpi_ranks", adk_ctx_size(ctx));
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "created_utc", stamp);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "inputs", adk_ctx_inputs(ctx));
    }
    return st;
}

/* Temporary name next to the final one (same file system, so rename is atomic). */
static int make_tmp_name(adk_out_t *o)
{
    long long id = 0;
    if (adk_ctx_rank(o->ctx) == 0) {
        id = (long long)getpid();
    }
    MPI_Bcast(&id, 1, MPI_LONG_LONG, 0, adk_ctx_comm(o->ctx));
    size_t len = strlen(o->path) + 32;
    o->tmp = malloc(len);
    if (!o->tmp) {
        return ADK_ERR(o->ctx, ADK_ENOMEM, "out of memory");
    }
    snprintf(o->tmp, len, "%s.tmp-%lld", o->path, id);
    return ADK_OK;
}

static adk_out_t *out_new(adk_ctx_t *ctx, const char *path)
{
    adk_out_t *o = calloc(1, sizeof(*o));
    if (o) {
        o->ctx = ctx;
        o->fid = -1;
        o->path = strdup(path);
        if (!o->path) {
            free(o);
            o = NULL;
        }
    }
    return o;
}

static void out_free(adk_out_t *o)
{
    free(o->path);
    free(o->tmp);
    free(o);
}

int adk_out_create(adk_ctx_t *ctx, const char *path, unsigned flags, adk_out_t **out)
{
    *out = NULL;
    int st = adk_out_check(ctx, path, flags);
    if (st != ADK_OK) {
        return st;
    }
    adk_out_t *o = out_new(ctx, path);
    st = o ? make_tmp_name(o) : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        hid_t fapl = mpio_fapl(ctx);
        o->fid = fapl >= 0 ? H5Fcreate(o->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl) : -1;
        if (fapl >= 0) {
            H5Pclose(fapl);
        }
        if (o->fid < 0) {
            st = ADK_ERR(ctx, ADK_EIO, "cannot create '%s' (is the directory writable?)", o->tmp);
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        st = write_provenance(o);
    }
    if (st != ADK_OK) {
        if (o) {
            adk_out_discard(o);
        }
        return st;
    }
    *out = o;
    return ADK_OK;
}

/* Byte copy of src to dst (rank 0 only). */
static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY);
    if (in < 0) {
        return errno;
    }
    int outfd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (outfd < 0) {
        int e = errno;
        close(in);
        return e;
    }
    char buf[1 << 16];
    int err = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n == 0) {
            break;
        }
        if (n < 0) {
            err = errno;
            break;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(outfd, buf + off, (size_t)(n - off));
            if (w < 0) {
                err = errno;
                break;
            }
            off += w;
        }
        if (err) {
            break;
        }
    }
    close(in);
    if (close(outfd) != 0 && !err) {
        err = errno;
    }
    return err;
}

int adk_out_update(adk_ctx_t *ctx, const char *path, adk_out_t **out)
{
    *out = NULL;
    int st = check_readable(ctx, path);
    if (st != ADK_OK) {
        return st;
    }
    adk_out_t *o = out_new(ctx, path);
    st = o ? make_tmp_name(o) : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        int err = 0;
        if (adk_ctx_rank(ctx) == 0) {
            err = copy_file(path, o->tmp);
        }
        MPI_Bcast(&err, 1, MPI_INT, 0, adk_ctx_comm(ctx));
        if (err) {
            st = ADK_ERR(ctx, ADK_EIO, "cannot copy '%s' to '%s': %s", path, o->tmp, strerror(err));
        }
    }
    if (st == ADK_OK) {
        hid_t fapl = mpio_fapl(ctx);
        o->fid = fapl >= 0 ? H5Fopen(o->tmp, H5F_ACC_RDWR, fapl) : -1;
        if (fapl >= 0) {
            H5Pclose(fapl);
        }
        if (o->fid < 0) {
            st = ADK_ERR(ctx, ADK_EIO, "'%s' is not a writable HDF5 file", path);
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st != ADK_OK) {
        if (o) {
            adk_out_discard(o);
        }
        return st;
    }
    *out = o;
    return ADK_OK;
}

static void dtype_of(adk_dtype_t t, hid_t *ftype, hid_t *mtype)
{
    switch (t) {
    case ADK_F32:
        *ftype = H5T_IEEE_F32LE;
        *mtype = H5T_NATIVE_FLOAT;
        break;
    case ADK_I32:
        *ftype = H5T_STD_I32LE;
        *mtype = H5T_NATIVE_INT32;
        break;
    case ADK_I64:
        *ftype = H5T_STD_I64LE;
        *mtype = H5T_NATIVE_INT64;
        break;
    case ADK_U8:
        *ftype = H5T_STD_U8LE;
        *mtype = H5T_NATIVE_UINT8;
        break;
    default:
        *ftype = H5T_IEEE_F64LE;
        *mtype = H5T_NATIVE_DOUBLE;
        break;
    }
}

/* Collective creation of a dataset (replacing one of the same name), intermediate groups made. */
static int create_dset(adk_out_t *o, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                       hid_t *ds)
{
    adk_ctx_t *ctx = o->ctx;
    herr_t e = 0;
    if (H5Lexists(o->fid, name, H5P_DEFAULT) > 0) {
        e = H5Ldelete(o->fid, name, H5P_DEFAULT);
    }
    hid_t sp = e >= 0 ? H5Screate_simple(rank, dims, NULL) : -1;
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    if (lcpl >= 0) {
        H5Pset_create_intermediate_group(lcpl, 1);
    }
    *ds = (sp >= 0 && lcpl >= 0)
              ? H5Dcreate2(o->fid, name, ftype, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT)
              : -1;
    if (lcpl >= 0) {
        H5Pclose(lcpl);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    int st =
        *ds < 0 ? ADK_ERR(ctx, ADK_EHDF5, "%s: cannot create dataset '%s'", o->path, name) : ADK_OK;
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK && *ds >= 0) {
        H5Dclose(*ds);
        *ds = -1;
    }
    return st;
}

struct adk_odset {
    adk_out_t *o;
    hid_t ds, mtype;
    size_t d;
    char what[512];
};

int adk_out_dset(adk_out_t *o, const char *name, adk_dtype_t type, int64_t n, size_t d,
                 adk_odset_t **out)
{
    *out = NULL;
    hid_t ftype, mtype, ds = -1;
    dtype_of(type, &ftype, &mtype);
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)d};
    int st = create_dset(o, name, ftype, d ? 2 : 1, dims, &ds);
    if (st != ADK_OK) {
        return st;
    }
    adk_odset_t *w = calloc(1, sizeof(*w));
    st = adk_ctx_agree(o->ctx, w ? ADK_OK : ADK_ERR(o->ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        free(w);
        H5Dclose(ds);
        return st;
    }
    w->o = o;
    w->ds = ds;
    w->mtype = mtype;
    w->d = d;
    snprintf(w->what, sizeof(w->what), "%s:%s", o->path, name);
    *out = w;
    return ADK_OK;
}

int adk_odset_write(adk_odset_t *w, const void *buf, int64_t row0, size_t nloc)
{
    return h5_xfer_rows(w->o->ctx, w->ds, w->mtype, (void *)buf, row0, nloc, w->d, 1, w->what);
}

void adk_odset_close(adk_odset_t *w)
{
    if (!w) {
        return;
    }
    H5Dclose(w->ds);
    free(w);
}

int adk_out_rows(adk_out_t *o, const char *name, adk_dtype_t type, const void *buf, int64_t n,
                 int64_t row0, size_t nloc, size_t d)
{
    adk_odset_t *w = NULL;
    int st = adk_out_dset(o, name, type, n, d, &w);
    if (st == ADK_OK) {
        st = adk_odset_write(w, buf, row0, nloc);
        adk_odset_close(w);
    }
    return st;
}

int adk_out_small(adk_out_t *o, const char *name, adk_dtype_t type, const void *buf, size_t rows,
                  size_t cols)
{
    /* rank 0 writes everything, the others join the collective call with empty selections */
    int rank0 = adk_ctx_rank(o->ctx) == 0;
    return adk_out_rows(o, name, type, buf, (int64_t)rows, 0, rank0 ? rows : 0, cols);
}

void adk_out_discard(adk_out_t *o)
{
    if (!o) {
        return;
    }
    if (o->fid >= 0) {
        H5Fclose(o->fid);
        o->fid = -1;
    }
    MPI_Barrier(adk_ctx_comm(o->ctx)); /* every rank closed before the file goes */
    if (adk_ctx_rank(o->ctx) == 0 && o->tmp) {
        unlink(o->tmp);
    }
    out_free(o);
}

int adk_out_commit(adk_out_t *o, int st)
{
    adk_ctx_t *ctx = o->ctx;
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK) {
        adk_out_discard(o);
        return st;
    }
    herr_t e = H5Fclose(o->fid);
    o->fid = -1;
    st = adk_ctx_agree(ctx, e < 0 ? ADK_ERR(ctx, ADK_EIO, "cannot close '%s'", o->tmp) : ADK_OK);
    if (st == ADK_OK) {
        int err = 0;
        if (adk_ctx_rank(ctx) == 0 && rename(o->tmp, o->path) != 0) {
            err = errno;
        }
        MPI_Bcast(&err, 1, MPI_INT, 0, adk_ctx_comm(ctx));
        if (err) {
            st = ADK_ERR(ctx, ADK_EIO, "cannot rename '%s' to '%s': %s", o->tmp, o->path,
                         strerror(err));
        }
    }
    if (st != ADK_OK) {
        adk_out_discard(o);
        return st;
    }
    out_free(o);
    return ADK_OK;
}

int adk_io_write_text(adk_ctx_t *ctx, const char *path, unsigned flags, const char *text)
{
    int st = adk_out_check(ctx, path, flags);
    if (st != ADK_OK) {
        return st;
    }
    int err = 0;
    if (adk_ctx_rank(ctx) == 0) {
        size_t len = strlen(path) + 32;
        char *tmp = malloc(len);
        if (!tmp) {
            err = ENOMEM;
        } else {
            snprintf(tmp, len, "%s.tmp-%lld", path, (long long)getpid());
            FILE *f = fopen(tmp, "w");
            if (!f) {
                err = errno;
            } else {
                if (fputs(text, f) == EOF) {
                    err = errno ? errno : EIO;
                }
                if (fclose(f) != 0 && !err) {
                    err = errno;
                }
                if (!err && rename(tmp, path) != 0) {
                    err = errno;
                }
                if (err) {
                    unlink(tmp);
                }
            }
            free(tmp);
        }
    }
    MPI_Bcast(&err, 1, MPI_INT, 0, adk_ctx_comm(ctx));
    if (err) {
        return ADK_ERR(ctx, ADK_EIO, "cannot write '%s': %s", path, strerror(err));
    }
    return ADK_OK;
}
