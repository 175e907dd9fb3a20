/*
 * adk_ctx: the run context every library call takes.
 * It owns a duplicated communicator, one stored error message, the agreement step that keeps
 * every rank on the same path after a local failure, rank-0 messages, the accounting of time and
 * bytes sent (--timings) and the provenance of the run (command line, seed, inputs).
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
    ADK_EXIT = 10,     /* not an error: stop now with exit code 0 (--help, --version) */
    ADK_ESTOPPED = 11  /* stopped on request after writing a checkpoint (adk_ckpt) */
};

/* Process exit codes (README "Exit codes"). */
enum {
    ADK_EXIT_OK = 0,
    ADK_EXIT_USAGE = 1,
    ADK_EXIT_DATA = 2,
    ADK_EXIT_IO = 3,
    ADK_EXIT_NOCONV = 4,
    ADK_EXIT_INTERNAL = 70,
    ADK_EXIT_STOPPED = 75 /* stopped with a checkpoint: resume with --resume FILE (EX_TEMPFAIL) */
};

/* Phases of the run's accounting (--timings; see "Accounting" below). */
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

/** Wall-clock seconds (MPI_Wtime). Local. */
double adk_now(void);

/*
 * Accounting. Every rank's context keeps, from adk_ctx_create on:
 *  - I/O seconds: wall time inside I/O regions: adk_h5 and adk_csv reads (and adk_io around
 *    them), every adk_out call (HDF5 and text writes, the commit), with the MPI that HDF5 and
 *    MPI-IO do inside and the library's own agreements and broadcasts there;
 *  - MPI seconds: wall time inside the library's communication outside I/O regions: the checked
 *    collectives below, adk_msg, the ring's exchanges, the modules' own MPI calls, time spent
 *    waiting for other ranks included;
 *  - compute seconds: the wall time since adk_ctx_create minus the two (everything else);
 *  - bytes sent: the payload this rank hands to MPI in the library's own calls, in or outside I/O
 *    regions: a point-to-point send's length, an all-to-all's blocks for the other ranks, a
 *    collective's input buffer once (count x type size: all-reduce, scan, the own part of an
 *    all-gather; a broadcast at its root only; an agreement 8 bytes). Nothing at 1 rank.
 *    HDF5's and MPI-IO's own traffic and a failed run's message (adk_ctx_report) are not counted.
 * Regions nest and the outermost decides: MPI inside an I/O region is I/O only. A region costs
 * two MPI_Wtime calls at its outermost level and nothing inside, so it belongs around calls,
 * never around rows.
 */

/** Enter a region of @p phase (ADK_T_IO or ADK_T_MPI; ADK_T_COMPUTE is ignored: compute is what
 * remains). Every tic is matched by a toc of the same phase on every path. Local. */
void adk_ctx_tic(adk_ctx_t *ctx, int phase);
/** Leave the region entered by the matching adk_ctx_tic. Local. */
void adk_ctx_toc(adk_ctx_t *ctx, int phase);
/** adk_ctx_toc, then return @p rc: ADK_TIMED wraps a call in a region. Local. */
int adk_ctx_toc_rc(adk_ctx_t *ctx, int phase, int rc);
/** Count @p count elements of @p type as sent by this rank (nothing at 1 rank). Local. */
void adk_ctx_sent(adk_ctx_t *ctx, int64_t count, MPI_Datatype type);

/* The value of @p call, evaluated inside a region of @p phase (ctx evaluated more than once). */
#define ADK_TIMED(ctx, phase, call)                                                                \
    adk_ctx_toc_rc((ctx), (phase), (adk_ctx_tic((ctx), (phase)), (call)))
/* The value of the MPI call @p call, accounted: an MPI region, @p count elements of @p type sent
 * by this rank (0 for a rank that only receives). */
#define ADK_MPI_CALL(ctx, count, type, call)                                                       \
    ADK_TIMED((ctx), ADK_T_MPI, (adk_ctx_sent((ctx), (count), (type)), (call)))

/** This rank's seconds per phase so far (an open region's time included). Local. */
void adk_ctx_phase_seconds(const adk_ctx_t *ctx, double out[ADK_T_NPHASE]);
/** This rank's bytes sent so far. Local. */
uint64_t adk_ctx_bytes_sent(const adk_ctx_t *ctx);

/** MAX over ranks of each phase's seconds so far. Collective (unchecked: ADK_EMPI, not agreed). */
int adk_ctx_timings(adk_ctx_t *ctx, double out[ADK_T_NPHASE]);

/* The run's accounting over all ranks (adk_ctx_usage). */
typedef struct {
    int ranks;
    double max[ADK_T_NPHASE];  /* seconds, largest over ranks */
    double mean[ADK_T_NPHASE]; /* seconds, mean over ranks */
    uint64_t bytes_max;        /* bytes sent, largest over ranks */
    double bytes_mean;         /* bytes sent, mean over ranks */
    uint64_t bytes_total;      /* bytes sent, all ranks together */
} adk_usage_t;

/**
 * The accounting of the run so far (up to this call), over all ranks: two MPI_Allreduce calls
 * (MAX, SUM), themselves not accounted.
 * @return ADK_OK or ADK_EMPI, agreed. Collective.
 */
int adk_ctx_usage(adk_ctx_t *ctx, adk_usage_t *out);

/* --timings: report the accounting at the end of the run and store it in the HDF5 outputs.
 * Local, but every rank must set the same value. */
void adk_ctx_set_timings(adk_ctx_t *ctx, int on);
int adk_ctx_timings_on(const adk_ctx_t *ctx);

/** Version string "adkit X.Y.Z (commit)". Local. */
const char *adk_version(void);

#endif
