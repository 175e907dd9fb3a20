/*
 * adk_ctx: the run context every library call takes.
 * It owns a duplicated communicator, one stored error message, the agreement step that keeps
 * every rank on the same path after a local failure, rank-0 messages, phase timers and the
 * provenance of the run (command line, seed, inputs).
 */
#ifndef ADK_CTX_H
#define ADK_CTX_H

#include <mpi.h>
#include <stdint.h>

/* Status codes returned by every library function. */
enum {
    ADK_OK = 0,
    ADK_EINVAL = 1,    /* bad argument or option value */
    ADK_EDATA = 2,     /* input data malformed or inconsistent (NaN, ragged, K > N, ...) */
    ADK_EIO = 3,       /* file missing, unreadable or unwritable */
    ADK_EHDF5 = 4,     /* HDF5 library failure */
    ADK_EEXIST = 5,    /* output exists and replacing it was not asked for */
    ADK_ENOCONV = 6,   /* an iteration did not converge where convergence was required */
    ADK_ENOMEM = 7,    /* allocation failed */
    ADK_EMPI = 8,      /* MPI call failed */
    ADK_EINTERNAL = 9, /* broken invariant: a bug */
    ADK_EXIT = 10      /* not an error: stop now with exit code 0 (--help, --version) */
};

/* Process exit codes (README "Exit codes"). */
enum {
    ADK_EXIT_OK = 0,
    ADK_EXIT_USAGE = 1,
    ADK_EXIT_DATA = 2,
    ADK_EXIT_IO = 3,
    ADK_EXIT_NOCONV = 4,
    ADK_EXIT_INTERNAL = 70
};

/* Phase timers, MAX-reduced over ranks when reported. */
enum { ADK_T_IO = 0, ADK_T_COMPUTE, ADK_T_MPI, ADK_T_NPHASE };

typedef struct adk_ctx adk_ctx_t;

#if defined(__GNUC__)
#define ADK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ADK_PRINTF(f, a)
#endif

/**
 * Create a context on a duplicate of @p comm (errors returned, not fatal).
 * @param comm  communicator of the job; duplicated, never used directly afterwards
 * @param argc,argv  the program's arguments: argv[0] names the program in messages and the
 *                   whole line is recorded as provenance
 * @param out   new context
 * @return ADK_OK, ADK_ENOMEM, ADK_EMPI. Collective over @p comm.
 */
int adk_ctx_create(MPI_Comm comm, int argc, char **argv, adk_ctx_t **out);

/** Free a context (NULL is a no-op). Collective unless NULL. */
void adk_ctx_free(adk_ctx_t *ctx);

/* Largest single MPI message adk_msg sends, in bytes: 1 GiB (2^30) by default, below the 2^31
 * where int counts end and some transports fail; ADK_MSG_PIECE=BYTES in the environment lowers
 * it for testing (the smallest value of any rank is taken). */
#define ADK_MSG_PIECE_DEFAULT ((size_t)1 << 30)
size_t adk_ctx_msg_piece(const adk_ctx_t *ctx);
/** Set the piece size (1 .. ADK_MSG_PIECE_DEFAULT, else the default). Local, but every rank must
 * set the same value before the next transfer. */
void adk_ctx_set_msg_piece(adk_ctx_t *ctx, size_t bytes);

/* Accessors. Local. */
MPI_Comm adk_ctx_comm(const adk_ctx_t *ctx);
int adk_ctx_rank(const adk_ctx_t *ctx);
int adk_ctx_size(const adk_ctx_t *ctx);
const char *adk_ctx_prog(const adk_ctx_t *ctx);
const char *adk_ctx_cmdline(const adk_ctx_t *ctx);

/**
 * Record an error: keeps the first message (the root cause) with file and line, returns @p code.
 * Local; use through ADK_ERR.
 */
int adk_ctx_err(adk_ctx_t *ctx, int code, const char *file, int line, const char *fmt, ...)
    ADK_PRINTF(5, 6);

#define ADK_ERR(ctx, code, ...) adk_ctx_err((ctx), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Pass a failure up unchanged. */
#define ADK_CHECK(call)                                                                            \
    do {                                                                                           \
        int adk_check_st_ = (call);                                                                \
        if (adk_check_st_ != ADK_OK) {                                                             \
            return adk_check_st_;                                                                  \
        }                                                                                          \
    } while (0)

/**
 * Agree on a status before a collective that could otherwise hang.
 * Every rank passes its local status; every rank gets back the status of the lowest failing
 * rank that recorded a message (else of the lowest failing rank; ADK_OK when none failed), and
 * the context remembers which rank that was, so adk_ctx_report can print its message. Agreeing
 * again on an agreed failure therefore keeps the rank that explains it.
 * Collective.
 */
int adk_ctx_agree(adk_ctx_t *ctx, int st);

/**
 * MPI_Allreduce over the context's communicator (@p in may be MPI_IN_PLACE), checked: a failure
 * is recorded as ADK_EMPI and the status agreed, so every rank takes the same path afterwards.
 * @return ADK_OK or ADK_EMPI, agreed. Collective.
 */
int adk_ctx_allreduce(adk_ctx_t *ctx, const void *in, void *out, int n, MPI_Datatype type,
                      MPI_Op op);

/** MPI_Bcast from @p root, checked and agreed like adk_ctx_allreduce. Collective. */
int adk_ctx_bcast(adk_ctx_t *ctx, void *buf, int n, MPI_Datatype type, int root);

/**
 * Print the message of an agreed failure once, from rank 0, as "prog: message".
 * Does nothing for ADK_OK and ADK_EXIT. Collective; @p st must be agreed.
 */
void adk_ctx_report(adk_ctx_t *ctx, int st);

/** The stored message of this rank ("" when none). Local. */
const char *adk_ctx_message(const adk_ctx_t *ctx);

/** Forget the stored message (after an expected, handled failure). Local. */
void adk_ctx_clear(adk_ctx_t *ctx);

/** Progress/informational line on stderr from rank 0 unless quiet. Local (prints on rank 0). */
void adk_ctx_info(const adk_ctx_t *ctx, const char *fmt, ...) ADK_PRINTF(2, 3);

/** Warning on stderr from rank 0 ("prog: warning: ..."), even when quiet. Local. */
void adk_ctx_warn(const adk_ctx_t *ctx, const char *fmt, ...) ADK_PRINTF(2, 3);

/* Quiet mode (no progress lines). Local. */
void adk_ctx_set_quiet(adk_ctx_t *ctx, int quiet);
int adk_ctx_quiet(const adk_ctx_t *ctx);

/* Provenance recorded into every output file (adk_prov). Local. */
void adk_ctx_set_seed(adk_ctx_t *ctx, uint64_t seed);
int adk_ctx_seed(const adk_ctx_t *ctx, uint64_t *seed); /* 1 if a seed was set */
/** Append an input spec to the provenance list. Local. */
int adk_ctx_add_input(adk_ctx_t *ctx, const char *spec);
const char *adk_ctx_inputs(const adk_ctx_t *ctx);

/** Map a status to the documented process exit code. Local. */
int adk_exit_code(int st);

/** Human name of a status code ("bad data", ...). Local. */
const char *adk_strerror(int st);

/* Wall-clock seconds (MPI_Wtime) and the phase timers. Local. */
double adk_now(void);
void adk_ctx_tic(adk_ctx_t *ctx, int phase);
void adk_ctx_toc(adk_ctx_t *ctx, int phase);
/** MAX over ranks of each phase's accumulated seconds. Collective. */
int adk_ctx_timings(adk_ctx_t *ctx, double out[ADK_T_NPHASE]);

/** Version string "adkit X.Y.Z (commit)". Local. */
const char *adk_version(void);

#endif
