/*
 * adk_ctx: run context, error agreement and rank-0 reporting.
 * The pattern every collective phase follows: do local work, adk_ctx_agree() on the status, and
 * only then enter the next collective, so one rank's failure never leaves the others blocked.
 */
#include "config.h"

#include "adk_ctx.h"
#include "adk_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
void openblas_set_num_threads(int n); /* OpenBLAS API; declared here to avoid a second cblas.h */
#endif

#define ADK_MSG_MAX 1024

struct adk_ctx {
    MPI_Comm comm;
    int rank, size;
    int quiet;
    int err_code;          /* first error recorded on this rank, 0 when none */
    int fail_rank;         /* lowest failing rank of the last failed agreement, -1 when none */
    char msg[ADK_MSG_MAX]; /* message of err_code */
    char prog[64];
    char *cmdline;
    char *inputs;
    int has_seed;
    uint64_t seed;
    double t_acc[ADK_T_NPHASE];
    double t_start[ADK_T_NPHASE];
};

const char *adk_version(void)
{
    return PACKAGE_NAME " " PACKAGE_VERSION " (" ADK_GIT_COMMIT ")";
}

double adk_now(void)
{
    return MPI_Wtime();
}

/* Join argv with single spaces, quoting arguments that contain blanks. */
static char *join_args(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++) {
        len += strlen(argv[i]) + 3;
    }
    char *s = adk_malloc(len);
    if (!s) {
        return NULL;
    }
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        int quote = strpbrk(argv[i], " \t") != NULL || argv[i][0] == '\0';
        if (i > 0) {
            strcat(s, " ");
        }
        if (quote) {
            strcat(s, "'");
        }
        strcat(s, argv[i]);
        if (quote) {
            strcat(s, "'");
        }
    }
    return s;
}

int adk_ctx_create(MPI_Comm comm, int argc, char **argv, adk_ctx_t **out)
{
    *out = NULL;
    adk_ctx_t *ctx = adk_calloc(1, sizeof(*ctx));
    int ok = ctx != NULL;
    if (ok) {
        ctx->comm = MPI_COMM_NULL;
        const char *p = (argc > 0 && argv && argv[0]) ? argv[0] : "adkit";
        const char *slash = strrchr(p, '/');
        snprintf(ctx->prog, sizeof(ctx->prog), "%s", slash ? slash + 1 : p);
        ctx->cmdline = argc > 0 ? join_args(argc, argv) : adk_strdup("");
        ctx->inputs = adk_strdup("");
        ctx->fail_rank = -1;
        ok = ctx->cmdline && ctx->inputs;
    }
    /* Agree on the allocation before duplicating the communicator (a collective). */
    int all_ok = 0;
    if (MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS || !all_ok) {
        adk_ctx_free(ctx);
        return ok ? ADK_EMPI : ADK_ENOMEM;
    }
    if (MPI_Comm_dup(comm, &ctx->comm) != MPI_SUCCESS) {
        ctx->comm = MPI_COMM_NULL;
        adk_ctx_free(ctx);
        return ADK_EMPI;
    }
    MPI_Comm_set_errhandler(ctx->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(ctx->comm, &ctx->rank);
    MPI_Comm_size(ctx->comm, &ctx->size);
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    /* One BLAS thread per rank: the ranks are the parallelism, and threaded BLAS reorders sums. */
    openblas_set_num_threads(1);
#endif
    *out = ctx;
    return ADK_OK;
}

void adk_ctx_free(adk_ctx_t *ctx)
{
    if (!ctx) {
        return;
    }
    if (ctx->comm != MPI_COMM_NULL) {
        MPI_Comm_free(&ctx->comm);
    }
    free(ctx->cmdline);
    free(ctx->inputs);
    free(ctx);
}

MPI_Comm adk_ctx_comm(const adk_ctx_t *ctx)
{
    return ctx->comm;
}

int adk_ctx_rank(const adk_ctx_t *ctx)
{
    return ctx->rank;
}

int adk_ctx_size(const adk_ctx_t *ctx)
{
    return ctx->size;
}

const char *adk_ctx_prog(const adk_ctx_t *ctx)
{
    return ctx->prog;
}

const char *adk_ctx_cmdline(const adk_ctx_t *ctx)
{
    return ctx->cmdline;
}

int adk_ctx_err(adk_ctx_t *ctx, int code, const char *file, int line, const char *fmt, ...)
{
    (void)file;
    (void)line;
    if (ctx->err_code == ADK_OK && code != ADK_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
        va_end(ap);
        ctx->err_code = code;
#ifdef ADK_DEBUG_ERRORS
        fprintf(stderr, "[%d] %s:%d: %s\n", ctx->rank, file, line, ctx->msg);
#endif
    }
    return code;
}

const char *adk_ctx_message(const adk_ctx_t *ctx)
{
    return ctx->msg;
}

void adk_ctx_clear(adk_ctx_t *ctx)
{
    ctx->err_code = ADK_OK;
    ctx->msg[0] = '\0';
}

int adk_ctx_agree(adk_ctx_t *ctx, int st)
{
    /* MINLOC over (where, status): the lowest failing rank that holds a message wins, then the
     * lowest failing rank. Agreeing again on an agreed failure (every rank passes it on) so keeps
     * the rank whose message explains it. */
    const int size = ctx->size;
    struct {
        int where;
        int code;
    } in = {2 * size, st}, res;
    if (st != ADK_OK) {
        in.where = ctx->err_code != ADK_OK ? ctx->rank : size + ctx->rank;
    }
    if (MPI_Allreduce(&in, &res, 1, MPI_2INT, MPI_MINLOC, ctx->comm) != MPI_SUCCESS) {
        return ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce failed while agreeing on a status");
    }
    if (res.where >= 2 * size) {
        return ADK_OK;
    }
    ctx->fail_rank = res.where % size;
    return res.code;
}

int adk_ctx_allreduce(adk_ctx_t *ctx, const void *in, void *out, int n, MPI_Datatype type,
                      MPI_Op op)
{
    int st = MPI_Allreduce(in, out, n, type, op, ctx->comm) == MPI_SUCCESS
                 ? ADK_OK
                 : ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce failed");
    return adk_ctx_agree(ctx, st);
}

int adk_ctx_bcast(adk_ctx_t *ctx, void *buf, int n, MPI_Datatype type, int root)
{
    int st = MPI_Bcast(buf, n, type, root, ctx->comm) == MPI_SUCCESS
                 ? ADK_OK
                 : ADK_ERR(ctx, ADK_EMPI, "MPI_Bcast failed");
    return adk_ctx_agree(ctx, st);
}

void adk_ctx_report(adk_ctx_t *ctx, int st)
{
    if (st == ADK_OK || st == ADK_EXIT) {
        return;
    }
    int from = ctx->fail_rank >= 0 ? ctx->fail_rank : 0;
    char buf[ADK_MSG_MAX];
    snprintf(buf, sizeof(buf), "%s", ctx->msg);
    if (from != 0) {
        if (ctx->rank == from) {
            MPI_Send(buf, ADK_MSG_MAX, MPI_CHAR, 0, 917, ctx->comm);
        } else if (ctx->rank == 0) {
            MPI_Recv(buf, ADK_MSG_MAX, MPI_CHAR, from, 917, ctx->comm, MPI_STATUS_IGNORE);
        }
    }
    if (ctx->rank == 0) {
        buf[ADK_MSG_MAX - 1] = '\0';
        if (buf[0] == '\0') {
            snprintf(buf, sizeof(buf), "%s", adk_strerror(st));
        }
        if (ctx->size > 1 && from != 0) {
            fprintf(stderr, "%s: %s (rank %d)\n", ctx->prog, buf, from);
        } else {
            fprintf(stderr, "%s: %s\n", ctx->prog, buf);
        }
        fflush(stderr);
    }
    ctx->fail_rank = -1;
}

void adk_ctx_info(const adk_ctx_t *ctx, const char *fmt, ...)
{
    if (ctx->rank != 0 || ctx->quiet) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void adk_ctx_warn(const adk_ctx_t *ctx, const char *fmt, ...)
{
    if (ctx->rank != 0) {
        return;
    }
    fprintf(stderr, "%s: warning: ", ctx->prog);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void adk_ctx_set_quiet(adk_ctx_t *ctx, int quiet)
{
    ctx->quiet = quiet;
}

int adk_ctx_quiet(const adk_ctx_t *ctx)
{
    return ctx->quiet;
}

void adk_ctx_set_seed(adk_ctx_t *ctx, uint64_t seed)
{
    ctx->has_seed = 1;
    ctx->seed = seed;
}

int adk_ctx_seed(const adk_ctx_t *ctx, uint64_t *seed)
{
    if (seed) {
        *seed = ctx->seed;
    }
    return ctx->has_seed;
}

int adk_ctx_add_input(adk_ctx_t *ctx, const char *spec)
{
    size_t len = strlen(ctx->inputs) + strlen(spec) + 2;
    char *s = adk_malloc(len);
    if (!s) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    snprintf(s, len, "%s%s%s", ctx->inputs, ctx->inputs[0] ? ";" : "", spec);
    free(ctx->inputs);
    ctx->inputs = s;
    return ADK_OK;
}

const char *adk_ctx_inputs(const adk_ctx_t *ctx)
{
    return ctx->inputs;
}

int adk_exit_code(int st)
{
    switch (st) {
    case ADK_OK:
    case ADK_EXIT:
        return ADK_EXIT_OK;
    case ADK_EINVAL:
        return ADK_EXIT_USAGE;
    case ADK_EDATA:
        return ADK_EXIT_DATA;
    case ADK_EIO:
    case ADK_EHDF5:
    case ADK_EEXIST:
        return ADK_EXIT_IO;
    case ADK_ENOCONV:
        return ADK_EXIT_NOCONV;
    default:
        return ADK_EXIT_INTERNAL;
    }
}

const char *adk_strerror(int st)
{
    switch (st) {
    case ADK_OK:
        return "success";
    case ADK_EINVAL:
        return "invalid argument";
    case ADK_EDATA:
        return "bad input data";
    case ADK_EIO:
        return "I/O error";
    case ADK_EHDF5:
        return "HDF5 error";
    case ADK_EEXIST:
        return "output exists";
    case ADK_ENOCONV:
        return "did not converge";
    case ADK_ENOMEM:
        return "out of memory";
    case ADK_EMPI:
        return "MPI error";
    case ADK_EXIT:
        return "exit requested";
    default:
        return "internal error";
    }
}

void adk_ctx_tic(adk_ctx_t *ctx, int phase)
{
    ctx->t_start[phase] = MPI_Wtime();
}

void adk_ctx_toc(adk_ctx_t *ctx, int phase)
{
    ctx->t_acc[phase] += MPI_Wtime() - ctx->t_start[phase];
}

int adk_ctx_timings(adk_ctx_t *ctx, double out[ADK_T_NPHASE])
{
    if (MPI_Allreduce(ctx->t_acc, out, ADK_T_NPHASE, MPI_DOUBLE, MPI_MAX, ctx->comm) !=
        MPI_SUCCESS) {
        return ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of timings failed");
    }
    return ADK_OK;
}
