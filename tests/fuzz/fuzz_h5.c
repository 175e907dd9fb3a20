/*
 * fuzz_h5: libFuzzer harness of the HDF5 reader (adk_h5 through adk_io). The input bytes become
 * FILE.h5, then: adk_io_read of FILE.h5:/data with labels FILE.h5:/labels, adk_io_read_small of
 * FILE.h5:/data, and on one open handle the reads of a k-means model (adk_h5_shape and
 * adk_h5_read_small of /centroids, attributes as numbers and strings). HDF5 errors must come back
 * as status codes with a message, and every HDF5 identifier must be closed afterwards.
 *
 * One resource cap, not a correctness filter: a tiny file can declare a dataset of terabytes
 * (chunked, never written), which a reader must then hold in memory. adk_io_read of such a file
 * is skipped when /data declares more than FZ_MAX_ELEMS values that still fit in memory's
 * address space; a declared size whose bytes overflow size_t is always read, because the library
 * must refuse it. adk_io_read_small has its own limit and always runs. One input class is not
 * read at all: the one that crashes HDF5 itself (bad_compact).
 * Build and run: tests/fuzz/run.sh (make fuzz).
 */
#include "fuzz_common.h" /* includes hdf5.h before adk_h5.h, which then declares adk_h5_fapl */

#include <math.h>

#include "adk_io.h"
#include "adk_part.h"

#define FZ_MAX_ELEMS ((uint64_t)1 << 20)
#define FZ_SMALL_ELEMS ((size_t)1 << 16)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A compact dataset whose stored data size is not its number of values times its type size:
 * HDF5 1.10.8 reads it by memcpy from a NULL buffer (segfault inside H5Dread; h5dump and h5py
 * crash the same way: tests/fuzz/upstream/hdf5/, fuzz-2026-12-03.md). An HDF5 bug, excluded. */
static int bad_compact(hid_t ds)
{
    hid_t dcpl = H5Dget_create_plist(ds), t = H5Dget_type(ds), sp = H5Dget_space(ds);
    int bad = 0;
    if (dcpl >= 0 && t >= 0 && sp >= 0 && H5Pget_layout(dcpl) == H5D_COMPACT) {
        hssize_t n = H5Sget_simple_extent_npoints(sp);
        bad = n < 0 || H5Dget_storage_size(ds) != (hsize_t)n * H5Tget_size(t);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    if (t >= 0) {
        H5Tclose(t);
    }
    if (dcpl >= 0) {
        H5Pclose(dcpl);
    }
    return bad;
}

/* What the harness must know of a file before adkit reads it, read through the library's own
 * file access (MPI-IO; HDF5's default driver has further crashes of its own on some malformed
 * files that adkit never reaches). Every identifier is closed before adkit opens the file.
 *   *skip:    1 for an input of an HDF5 bug's class (bad_compact): not read at all
 *   *too_big: /data declares more than FZ_MAX_ELEMS values that still fit in a size_t */
static void precheck(const char *file, int *skip, int *too_big)
{
    static const char *const dsets[] = {"/data", "/labels", "/centroids"};
    *skip = *too_big = 0;
    hid_t fapl = adk_h5_fapl(fz_ctx);
    hid_t fid = fapl >= 0 ? H5Fopen(file, H5F_ACC_RDONLY, fapl) : -1;
    if (fapl >= 0) {
        H5Pclose(fapl);
    }
    if (fid < 0) {
        return;
    }
    for (int k = 0; k < 3; k++) {
        hid_t ds =
            H5Lexists(fid, dsets[k], H5P_DEFAULT) > 0 ? H5Dopen2(fid, dsets[k], H5P_DEFAULT) : -1;
        if (ds < 0) {
            continue;
        }
        *skip |= bad_compact(ds);
        hid_t sp = H5Dget_space(ds);
        int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        hsize_t dims[H5S_MAX_RANK];
        if (k == 0 && nd >= 1 && nd <= H5S_MAX_RANK &&
            H5Sget_simple_extent_dims(sp, dims, NULL) >= 0) {
            uint64_t n = 1;
            int overflow = 0;
            for (int i = 0; i < nd; i++) {
                if (dims[i] != 0 && n > UINT64_MAX / dims[i]) {
                    overflow = 1;
                    break;
                }
                n *= dims[i];
            }
            *too_big = !overflow && n > FZ_MAX_ELEMS && n <= SIZE_MAX / sizeof(double);
        }
        if (sp >= 0) {
            H5Sclose(sp);
        }
        H5Dclose(ds);
    }
    H5Fclose(fid);
}

/*
 * adkit must close every dataset, group, type and attribute it opens, and every file. Files are
 * counted at the calls (fuzz.mk links this harness with --wrap=H5Fopen,--wrap=H5Fclose), not by
 * asking HDF5 what is open: on some corrupt files HDF5's own error paths leave metadata-cache
 * entries protected, H5Fclose then fails ("Only protected entries left in cache") and the file
 * stays open whatever the caller does, and a second H5Fclose of it crashes inside HDF5
 * (experiments/results/fuzz-2026-12-03.md). Those files are counted and reported at exit.
 */
hid_t __real_H5Fopen(const char *name, unsigned flags, hid_t fapl);
herr_t __real_H5Fclose(hid_t fid);
hid_t __wrap_H5Fopen(const char *name, unsigned flags, hid_t fapl);
herr_t __wrap_H5Fclose(hid_t fid);

static long fz_files_open, fz_files_stuck;

hid_t __wrap_H5Fopen(const char *name, unsigned flags, hid_t fapl)
{
    hid_t fid = __real_H5Fopen(name, flags, fapl);
    fz_files_open += fid >= 0;
    return fid;
}

herr_t __wrap_H5Fclose(hid_t fid)
{
    herr_t e = __real_H5Fclose(fid);
    fz_files_open--;
    fz_files_stuck += e < 0;
    return e;
}

static void report_stuck(void)
{
    if (fz_files_stuck > 0) {
        fprintf(stderr, "fuzz_h5: HDF5 could not close %ld file(s) (corrupt metadata)\n",
                fz_files_stuck);
    }
}

/* With FUZZ_H5_STUCK_DIR set, keep the inputs after which HDF5 could not close a file. */
static void keep_stuck(const uint8_t *data, size_t size)
{
    const char *dir = getenv("FUZZ_H5_STUCK_DIR");
    if (dir && dir[0]) {
        char name[4200];
        snprintf(name, sizeof(name), "%s/stuck-%ld-%zu.h5", dir, fz_files_stuck, size);
        FILE *f = fopen(name, "wb");
        if (f) {
            fwrite(data, 1, size, f);
            fclose(f);
        }
    }
}

static void check_open_ids(const char *after)
{
    unsigned objs = H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR;
    ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, objs);
    FZ_ASSERT(n == 0, "%zd HDF5 objects left open after %s", n, after);
    FZ_ASSERT(fz_files_open == 0, "%ld file(s) left open after %s", fz_files_open, after);
}

static void read_rows(const char *spec, const char *labels)
{
    adk_read_opts_t o = {ADK_ALIGN_REPRO, labels, NULL};
    adk_rows_t *r = NULL;
    int st = adk_io_read(fz_ctx, spec, &o, &r);
    if (st == ADK_OK) {
        FZ_ASSERT(r && r->n >= 1 && r->d >= 1, "empty rows");
        FZ_ASSERT(r->row0 == 0 && (int64_t)r->nloc == r->n, "1 rank must hold every row");
        FZ_ASSERT(r->labels != NULL, "labels asked for but none returned");
        for (size_t i = 0; i < r->nloc * r->d; i++) {
            FZ_ASSERT(isfinite(r->x[i]), "non-finite value at %zu", i);
        }
    } else {
        FZ_ASSERT(r == NULL, "rows returned with status %d", st);
        FZ_ASSERT(st == ADK_EDATA || st == ADK_EIO || st == ADK_EHDF5 || st == ADK_ENOMEM,
                  "status %d: %s", st, adk_ctx_message(fz_ctx));
    }
    fz_check_status(st, "adk_io_read(h5)");
    adk_rows_free(r);
    check_open_ids("adk_io_read");
}

static void read_small(const char *spec)
{
    double *v = NULL;
    int64_t rows = -1, cols = -1;
    int nd = -1;
    int st = adk_io_read_small(fz_ctx, spec, FZ_SMALL_ELEMS, &v, &rows, &cols, &nd);
    if (st == ADK_OK) {
        FZ_ASSERT(v && rows >= 1 && cols >= 1 && (nd == 1 || nd == 2), "shape %lld x %lld, %d-D",
                  (long long)rows, (long long)cols, nd);
        FZ_ASSERT((uint64_t)rows <= FZ_SMALL_ELEMS / (uint64_t)cols, "over the limit");
        for (int64_t i = 0; i < rows * cols; i++) {
            FZ_ASSERT(!isnan(v[i]), "NaN at %lld", (long long)i);
        }
    } else {
        FZ_ASSERT(v == NULL, "values returned with status %d", st);
    }
    fz_check_status(st, "adk_io_read_small");
    free(v);
    check_open_ids("adk_io_read_small");
}

/* The reads of adk_kmeans_model_read, on one handle: /centroids (small read), numbers on "/",
 * strings on "/" and on a dataset, each attribute optional (found). */
static void read_meta(const char *file)
{
    adk_h5_t *f = NULL;
    int st = adk_h5_open(fz_ctx, file, &f);
    if (st == ADK_OK) {
        int exists = 0, nd = 0, numeric = 0, found = 0;
        int64_t dims[2];
        fz_check_status(adk_h5_shape(f, "/centroids", &exists, &nd, dims, &numeric), "shape");
        double *c = NULL;
        int64_t rows = 0, cols = 0;
        int cst = adk_h5_read_small(f, "/centroids", FZ_SMALL_ELEMS, &c, &rows, &cols, &nd);
        FZ_ASSERT(cst != ADK_OK || (uint64_t)rows <= FZ_SMALL_ELEMS / (uint64_t)cols, "too big");
        fz_check_status(cst, "adk_h5_read_small");
        free(c);
        double x = 0;
        fz_check_status(adk_h5_attr(f, "/", "inertia", ADK_ATTR_F64, &x, 0, &found), "attr f64");
        uint64_t u = 0;
        fz_check_status(adk_h5_attr(f, "/", "seed", ADK_ATTR_U64, &u, 0, &found), "attr u64");
        /* as the model reader: /thresholds's attribute only when the link exists */
        int thr = 0;
        fz_check_status(adk_h5_exists(f, "/thresholds", &thr), "exists");
        static const char *const strs[2][2] = {{"/", "init"}, {"/thresholds", "method"}};
        for (int i = 0; i < 1 + thr; i++) {
            char s[64];
            memset(s, 'x', sizeof(s));
            int sst = adk_h5_attr(f, strs[i][0], strs[i][1], ADK_ATTR_STR, s, sizeof(s), &found);
            FZ_ASSERT(sst != ADK_OK || !found || memchr(s, '\0', sizeof(s)) != NULL,
                      "string attribute not terminated");
            fz_check_status(sst, "attr str");
        }
    }
    fz_check_status(st, "adk_h5_open");
    adk_h5_close(f);
    check_open_ids("adk_h5_attr");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_init(argc, argv);
    atexit(report_stuck);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_write("in.h5", data, size);
    char file[4200], spec[4300], labels[4300];
    snprintf(file, sizeof(file), "%s", path);
    snprintf(spec, sizeof(spec), "%s:/data", file);
    snprintf(labels, sizeof(labels), "%s:/labels", file);
    long stuck = fz_files_stuck;
    int skip = 0, too_big = 0;
    precheck(file, &skip, &too_big);
    check_open_ids("the harness's own check");
    if (skip) {
        return 0;
    }
    if (!too_big) {
        read_rows(spec, labels);
    }
    read_small(spec);
    read_meta(file);
    if (fz_files_stuck > stuck) {
        keep_stuck(data, size);
    }
    return 0;
}
