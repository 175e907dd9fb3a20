/*
 * fuzz_h5: libFuzzer harness of the HDF5 reader (adk_h5 through adk_io). The input bytes become
 * FILE.h5, then: adk_io_read of FILE.h5:/data with labels FILE.h5:/labels, adk_io_read_small of
 * FILE.h5:/data, and on one open handle the reads of a k-means model in adk_kmeans_model_read's
 * order (adk_h5_shape and adk_h5_read_small of /centroids, attributes as numbers and strings).
 * HDF5 errors must come back as status codes with a message, and every HDF5 identifier must be
 * closed afterwards.
 *
 * HDF5 1.10.8 itself crashes, over-reads or hangs on many corrupt files (tests/fuzz/upstream/
 * hdf5/README). So that a run reports adkit's crashes, not HDF5's, every input is first read by
 * HDF5 alone, in a helper process: the same datasets and attributes, with plain HDF5 calls and
 * buffers of exactly the right size, no adkit code. An input that kills the helper (signal,
 * sanitizer report, or a hang) crashes HDF5 itself; it is counted, and not given to adkit.
 *
 * One resource cap, not a correctness filter: a tiny file can declare a dataset of terabytes
 * (chunked, never written), which a reader must then hold in memory. adk_io_read of such a file
 * is skipped when /data declares more than FZ_MAX_ELEMS values that still fit in memory's
 * address space; a declared size whose bytes overflow size_t is always read, because the library
 * must refuse it. adk_io_read_small has its own limit and always runs.
 * Build and run: tests/fuzz/run.sh (make fuzz).
 */
#include "fuzz_common.h" /* includes hdf5.h before adk_h5.h, which then declares adk_h5_fapl */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

#include <sanitizer/common_interface_defs.h>

#include "adk_io.h"
#include "adk_part.h"

#define FZ_MAX_ELEMS ((uint64_t)1 << 20)
#define FZ_SMALL_ELEMS ((size_t)1 << 16)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long fz_files_open, fz_files_stuck, fz_hdf5_crashes;

/* --- HDF5 alone (child process) --------------------------------------------------------- */

static void probe_dset(hid_t fid, const char *path)
{
    hid_t ds = H5Lexists(fid, path, H5P_DEFAULT) > 0 ? H5Dopen2(fid, path, H5P_DEFAULT) : -1;
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    if (n > 0 && (uint64_t)n <= FZ_MAX_ELEMS) {
        double *buf = malloc((size_t)n * sizeof(double));
        if (buf) {
            H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        }
        free(buf);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    if (ds >= 0) {
        H5Dclose(ds);
    }
}

/* As adk_h5_attr reads it: numbers (F64, U64) with a numeric memory type whatever the stored
 * type (HDF5 then refuses to convert a string), strings only from a string type. */
static void probe_attr(hid_t fid, const char *obj, const char *name, int numeric)
{
    if (H5Aexists_by_name(fid, obj, name, H5P_DEFAULT) <= 0) {
        return;
    }
    hid_t a = H5Aopen_by_name(fid, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : -1, sp = a >= 0 ? H5Aget_space(a) : -1;
    hssize_t n = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    if (n > 0 && n <= 4096 && numeric) {
        double buf[4096];
        H5Aread(a, H5T_NATIVE_DOUBLE, buf);
    } else if (n > 0 && n <= 4096 && cls == H5T_STRING && H5Tis_variable_str(t) > 0) {
        char *s[4096];
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, H5T_VARIABLE);
        H5Tset_cset(mt, H5Tget_cset(t));
        if (H5Aread(a, mt, s) >= 0) {
            H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, s);
        }
        H5Tclose(mt);
    } else if (n > 0 && n <= 4096 && cls == H5T_STRING) {
        size_t sz = H5Tget_size(t);
        char *buf = sz > 0 && sz <= ((size_t)1 << 20) ? malloc((size_t)n * sz) : NULL;
        if (buf) {
            H5Aread(a, t, buf);
        }
        free(buf);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    if (t >= 0) {
        H5Tclose(t);
    }
    if (a >= 0) {
        H5Aclose(a);
    }
}

/*
 * The child: a helper process forked once (again only after it died) that takes file names on a
 * pipe, reads each with probe(), and answers one byte. Forking for every input would cost more
 * than the reads. It uses HDF5's default driver (MPI cannot be used after fork), so the rare input
 * that crashes only that driver is left out too. A crash or a sanitizer report ends the child
 * (no libFuzzer handler, no artifact); a read that takes over 10 s counts as a hang.
 */
static pid_t fz_oracle = -1;
static int fz_oracle_to = -1, fz_oracle_from = -1;

static void probe(const char *file)
{
    hid_t fid = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fid >= 0) {
        probe_dset(fid, "/data");
        probe_dset(fid, "/labels");
        probe_dset(fid, "/centroids");
        probe_attr(fid, "/", "inertia", 1);
        probe_attr(fid, "/", "seed", 1);
        probe_attr(fid, "/", "init", 0);
        probe_attr(fid, "/thresholds", "method", 0);
        H5Fclose(fid);
    }
}

static int read_full(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static void oracle_loop(int from, int to)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGALRM, SIGPIPE};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        signal(sigs[i], SIG_DFL);
    }
    __sanitizer_set_death_callback(NULL);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, 1);
        dup2(null, 2);
    }
    char path[4200];
    size_t len;
    while (read_full(from, &len, sizeof(len)) == 0 && len < sizeof(path) &&
           read_full(from, path, len) == 0) {
        path[len] = '\0';
        alarm(10);
        probe(path);
        alarm(0);
        char ok = 1;
        if (write(to, &ok, 1) != 1) {
            break;
        }
    }
    _exit(0); /* never the parent's atexit handlers */
}

static void oracle_stop(void)
{
    if (fz_oracle > 0) {
        close(fz_oracle_to);
        close(fz_oracle_from);
        kill(fz_oracle, SIGKILL);
        while (waitpid(fz_oracle, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    fz_oracle = -1;
}

static int oracle_start(void)
{
    int to[2], from[2];
    if (pipe(to) != 0) {
        return -1;
    }
    if (pipe(from) != 0) {
        close(to[0]);
        close(to[1]);
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(to[1]);
        close(from[0]);
        oracle_loop(to[0], from[1]);
    }
    close(to[0]);
    close(from[1]);
    if (pid < 0) {
        close(to[1]);
        close(from[0]);
        return -1;
    }
    fz_oracle = pid;
    fz_oracle_to = to[1];
    fz_oracle_from = from[0];
    return 0;
}

/* Whether HDF5 alone survives the reads adkit is about to make (see the top of the file). */
static int hdf5_survives(const char *file)
{
    if (fz_oracle < 0 && oracle_start() != 0) {
        return 1; /* cannot tell: adkit reads it */
    }
    size_t len = strlen(file);
    char ok = 0;
    struct pollfd pfd = {fz_oracle_from, POLLIN, 0};
    if (write(fz_oracle_to, &len, sizeof(len)) != (ssize_t)sizeof(len) ||
        write(fz_oracle_to, file, len) != (ssize_t)len) {
        oracle_stop(); /* the child was gone: ask a new one */
        return hdf5_survives(file);
    }
    int r;
    while ((r = poll(&pfd, 1, 15000)) < 0 && errno == EINTR) {
    }
    if (r == 1 && read_full(fz_oracle_from, &ok, 1) == 0 && ok == 1) {
        return 1;
    }
    oracle_stop(); /* died (EOF) or hung (no answer in 15 s) */
    return 0;
}

/* --- the harness's own check and bookkeeping ------------------------------------------- */

/* 1 when /data declares more than FZ_MAX_ELEMS values whose bytes still fit in a size_t. Read
 * through the library's own file access (MPI-IO); every identifier is closed before adkit opens
 * the file. */
static int declared_too_big(const char *file)
{
    int big = 0;
    hid_t fapl = adk_h5_fapl(fz_ctx);
    hid_t fid = fapl >= 0 ? H5Fopen(file, H5F_ACC_RDONLY, fapl) : -1;
    if (fapl >= 0) {
        H5Pclose(fapl);
    }
    if (fid < 0) {
        return 0;
    }
    hid_t ds = H5Lexists(fid, "/data", H5P_DEFAULT) > 0 ? H5Dopen2(fid, "/data", H5P_DEFAULT) : -1;
    hid_t sp = ds >= 0 ? H5Dget_space(ds) : -1;
    int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    hsize_t dims[H5S_MAX_RANK];
    if (nd >= 1 && nd <= H5S_MAX_RANK && H5Sget_simple_extent_dims(sp, dims, NULL) >= 0) {
        uint64_t n = 1;
        int overflow = 0;
        for (int i = 0; i < nd; i++) {
            if (dims[i] != 0 && n > UINT64_MAX / dims[i]) {
                overflow = 1;
                break;
            }
            n *= dims[i];
        }
        big = !overflow && n > FZ_MAX_ELEMS && n <= SIZE_MAX / sizeof(double);
    }
    if (sp >= 0) {
        H5Sclose(sp);
    }
    if (ds >= 0) {
        H5Dclose(ds);
    }
    H5Fclose(fid);
    return big;
}

/*
 * adkit must close every dataset, group, type and attribute it opens, and every file. Files are
 * counted at the calls (fuzz.mk links this harness with --wrap=H5Fopen,--wrap=H5Fclose), not by
 * asking HDF5 what is open: on some corrupt files HDF5's own error paths leave metadata-cache
 * entries protected, H5Fclose then fails ("Only protected entries left in cache") and the file
 * stays open whatever the caller does, and a second H5Fclose of it crashes inside HDF5
 * (tests/fuzz/upstream/hdf5/README). Those files are counted and reported at exit.
 */
hid_t __real_H5Fopen(const char *name, unsigned flags, hid_t fapl);
herr_t __real_H5Fclose(hid_t fid);
hid_t __wrap_H5Fopen(const char *name, unsigned flags, hid_t fapl);
herr_t __wrap_H5Fclose(hid_t fid);

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

static void report(void)
{
    fprintf(stderr,
            "fuzz_h5: %ld input(s) crash HDF5 alone (not read by adkit); HDF5 could not close %ld "
            "file(s)\n",
            fz_hdf5_crashes, fz_files_stuck);
}

/* With FUZZ_H5_KEEP_DIR set, keep the inputs that crash HDF5 alone or leave a file open. */
static void keep(const char *why, const uint8_t *data, size_t size)
{
    const char *dir = getenv("FUZZ_H5_KEEP_DIR");
    if (dir && dir[0]) {
        char name[4200];
        snprintf(name, sizeof(name), "%s/%s-%ld-%zu.h5", dir, why, fz_hdf5_crashes + fz_files_stuck,
                 size);
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

/* --- adkit's reads ------------------------------------------------------------------------ */

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

/* The reads of adk_kmeans_model_read, on one handle and in its order, ending at the first
 * failure as it does: /centroids (small read), numbers on "/", strings on "/" and on
 * /thresholds, each attribute optional (found). Going on after a failure would test HDF5 more
 * than adkit: on corrupt metadata, further lookups leave files HDF5 cannot close. */
static void read_meta(const char *file)
{
    adk_h5_t *f = NULL;
    int st = adk_h5_open(fz_ctx, file, &f);
    int exists = 0, nd = 0, numeric = 0, found = 0, thr = 0;
    int64_t dims[2];
    double *c = NULL, x = 0;
    int64_t rows = 0, cols = 0;
    uint64_t u = 0;
    char s[64];
    if (st == ADK_OK) {
        st = adk_h5_shape(f, "/centroids", &exists, &nd, dims, &numeric);
    }
    if (st == ADK_OK) {
        st = adk_h5_read_small(f, "/centroids", FZ_SMALL_ELEMS, &c, &rows, &cols, &nd);
        FZ_ASSERT(st != ADK_OK || (uint64_t)rows <= FZ_SMALL_ELEMS / (uint64_t)cols, "too big");
        free(c);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", "inertia", ADK_ATTR_F64, &x, 0, &found);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", "seed", ADK_ATTR_U64, &u, 0, &found);
    }
    if (st == ADK_OK) {
        memset(s, 'x', sizeof(s));
        st = adk_h5_attr(f, "/", "init", ADK_ATTR_STR, s, sizeof(s), &found);
        FZ_ASSERT(st != ADK_OK || !found || memchr(s, '\0', sizeof(s)), "string not terminated");
    }
    if (st == ADK_OK) {
        st = adk_h5_exists(f, "/thresholds", &thr);
    }
    if (st == ADK_OK && thr) {
        memset(s, 'x', sizeof(s));
        st = adk_h5_attr(f, "/thresholds", "method", ADK_ATTR_STR, s, sizeof(s), &found);
        FZ_ASSERT(st != ADK_OK || !found || memchr(s, '\0', sizeof(s)), "string not terminated");
    }
    fz_check_status(st, "model reads");
    adk_h5_close(f);
    check_open_ids("the model reads");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_init(argc, argv);
    signal(SIGPIPE, SIG_IGN); /* a dead child's pipe is an answer, not the end */
    atexit(report);
    oracle_start(); /* while the process is small: forking is cheaper */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_write("in.h5", data, size);
    char file[4200], spec[4300], labels[4300];
    snprintf(file, sizeof(file), "%s", path);
    snprintf(spec, sizeof(spec), "%s:/data", file);
    snprintf(labels, sizeof(labels), "%s:/labels", file);
    if (!hdf5_survives(file)) {
        fz_hdf5_crashes++;
        keep("hdf5-crash", data, size);
        return 0;
    }
    long stuck = fz_files_stuck;
    int too_big = declared_too_big(file);
    check_open_ids("the harness's own check");
    if (!too_big) {
        read_rows(spec, labels);
    }
    read_small(spec);
    read_meta(file);
    if (fz_files_stuck > stuck) {
        keep("stuck", data, size);
    }
    return 0;
}
