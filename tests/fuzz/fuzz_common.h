/*
 * fuzz_common.h: what the libFuzzer harnesses of tests/fuzz share. MPI is initialised once per
 * process as a singleton (1 rank, no mpiexec needed), the library's error handlers are turned off
 * as adk_cli_begin does, one adk_ctx serves every input, and inputs that must be files are written
 * into a private temporary directory (FUZZ_TMPDIR, else TMPDIR, else /tmp) removed at exit.
 * Header-only (static functions) so that every harness is one translation unit.
 */
#ifndef ADK_FUZZ_COMMON_H
#define ADK_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_errno.h>
#include <hdf5.h>
#include <sanitizer/lsan_interface.h>

#include "adk_ctx.h"
#include "adk_h5.h"

/* The process-wide state of one harness (a test program, not the library: the house rule
 * against mutable statics is about src/). */
static adk_ctx_t *fz_ctx;
static int fz_argc;
static char **fz_argv;
static char fz_dir[4096];

/* A harness's own invariant was broken: report like a sanitizer would, then abort so libFuzzer
 * records the input as a crash. */
#define FZ_ASSERT(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant failed (%s:%d): %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void fz_die(const char *what)
{
    fprintf(stderr, "fuzz harness set-up failed: %s\n", what);
    exit(2);
}

static void fz_ctx_new(void)
{
    if (adk_ctx_create(MPI_COMM_WORLD, fz_argc, fz_argv, &fz_ctx) != ADK_OK) {
        fz_die("adk_ctx_create");
    }
}

/* Every failure must leave a message, and only the documented codes may come back. After a
 * check, the stored message is forgotten so the next input starts clean. */
static void fz_check_status(int st, const char *what)
{
    FZ_ASSERT(st >= ADK_OK && st <= ADK_EXIT, "%s: status %d out of range", what, st);
    FZ_ASSERT(st != ADK_EINTERNAL, "%s: internal error: %s", what, adk_ctx_message(fz_ctx));
    if (st != ADK_OK && st != ADK_EXIT) {
        FZ_ASSERT(adk_ctx_message(fz_ctx)[0] != '\0', "%s: status %d without a message", what, st);
    }
    adk_ctx_clear(fz_ctx);
    /* adk_io_read appends every input it read to the run's provenance: a context reused for
     * millions of inputs would copy an ever longer list, so start a fresh one now and then. */
    if (strlen(adk_ctx_inputs(fz_ctx)) > 65536) {
        adk_ctx_free(fz_ctx);
        fz_ctx_new();
    }
}

static char *fz_path(const char *name)
{
    static char buf[4200];
    snprintf(buf, sizeof(buf), "%s/%s", fz_dir, name);
    return buf;
}

/* At exit: only the temporary directory. Neither MPI_Finalize nor HDF5's termination (which
 * MPI_Finalize would run, H5dont_atexit having turned off HDF5's atexit handler): HDF5 crashes
 * when it ends with a file open that its own error paths left half-closed (fuzz_h5.c). */
static void fz_fini(void)
{
    static const char *const names[] = {"in.csv", "in.h5", NULL};
    for (int i = 0; names[i]; i++) {
        unlink(fz_path(names[i]));
    }
    rmdir(fz_dir);
}

/* Write the input bytes to a file of the temporary directory; returns its path. */
static inline const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
    const char *p = fz_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        fz_die("cannot write the input file");
    }
    return p;
}

static void fz_init(int *argc, char ***argv)
{
    /* As adk_cli_begin: Open MPI's lockedfile component aborts on long paths. */
    setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
    /* No Open MPI handlers for SIGABRT, SIGSEGV...: libFuzzer's must see a crash to save it. */
    setenv("OMPI_MCA_opal_signal", "", 0);
    /* fuzz_h5 forks a child that uses HDF5 only, never MPI */
    setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
    /* Open MPI keeps what MPI_Init allocates until exit, some of it unreachable: not ours to
     * report (nor HDF5's start-up), and with the fast unwinder (the slow one costs 5 times the
     * executions) its stacks are too short for tests/lsan.supp to recognise. Allocations made
     * while fuzzing are all checked; HDF5's own leaks there are suppressed by that file. */
    __lsan_disable();
    int ok = MPI_Init(argc, argv) == MPI_SUCCESS;
    if (ok) {
        H5dont_atexit();
        adk_h5_quiet(); /* also HDF5's own start-up, whose caches live until exit */
    }
    __lsan_enable();
    if (!ok) {
        fz_die("MPI_Init");
    }
    gsl_set_error_handler_off();
    fz_argc = 1;
    fz_argv = *argv;
    fz_ctx_new();
    const char *tmp = getenv("FUZZ_TMPDIR");
    if (!tmp || !tmp[0]) {
        tmp = getenv("TMPDIR");
    }
    snprintf(fz_dir, sizeof(fz_dir), "%s/adk-fuzz.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(fz_dir)) {
        fz_die("mkdtemp");
    }
    atexit(fz_fini);
}

#endif
