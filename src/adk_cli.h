/*
 * adk_cli: one command-line style for every adkit program.
 * Each option is one table row (name, type, target, metavariable, help), so --help cannot drift
 * from parsing; the target's initial value is the default shown by --help. GNU long options
 * (--name VALUE or --name=VALUE), strict number parsing, --help, --version, --quiet and --timings
 * built in.
 */
#ifndef ADK_CLI_H
#define ADK_CLI_H

#include <stdint.h>

#include "adk_ctx.h"

typedef enum {
    ADK_OPT_FLAG,   /* int, set to 1 */
    ADK_OPT_INT,    /* int */
    ADK_OPT_I64,    /* int64_t */
    ADK_OPT_U64,    /* uint64_t (seeds) */
    ADK_OPT_DOUBLE, /* double, finite */
    ADK_OPT_STR     /* const char *, points into argv */
} adk_opt_type_t;

typedef struct {
    const char *name; /* long name without "--"; NULL ends the table */
    adk_opt_type_t type;
    void *target;
    const char *arg; /* metavariable shown in --help, e.g. "K" */
    const char *help;
} adk_opt_t;

typedef struct {
    const char *usage;   /* shown after the program name, e.g. "[OPTIONS] INPUT" */
    const char *summary; /* what the program does, one paragraph */
    const adk_opt_t *opts;
    int min_pos, max_pos; /* number of positional arguments allowed */
    const char *epilog;   /* extra text after the options (examples), or NULL */
} adk_cli_t;

/**
 * Parse argv against the table. Positional arguments are returned in order (pointers into argv).
 * @return ADK_OK; ADK_EXIT after printing --help/--version (exit 0); ADK_EINVAL for a usage error
 *         (message stored); ADK_ENOMEM; agreed. Collective (rank 0 prints the help).
 */
int adk_cli_parse(adk_ctx_t *ctx, const adk_cli_t *cli, int argc, char **argv, int *npos,
                  char ***pos);

/**
 * Program start: MPI_Init, library error handlers off (GSL, HDF5), context creation.
 * @return ADK_OK or a status; on failure *ctx may be NULL and the program should return
 *         adk_cli_end(NULL, st). Collective over MPI_COMM_WORLD.
 */
int adk_cli_begin(int *argc, char ***argv, adk_ctx_t **ctx);

/**
 * Program end: report an agreed failure once from rank 0, or after a success with --timings the
 * run's accounting (adk_ctx_usage) as one line on stderr from rank 0, even when quiet; free the
 * context, MPI_Finalize (unless hosted).
 * @return the process exit code for @p st (README "Exit codes"). Collective.
 */
int adk_cli_end(adk_ctx_t *ctx, int st);

/**
 * Hosting: a driver that runs several programs' mains one after another in one MPI job (adkit
 * run) starts MPI once with adk_cli_host_begin (as adk_cli_begin would) and ends it with
 * adk_cli_host_end; in between, adk_cli_begin/adk_cli_end leave MPI running. Collective.
 */
int adk_cli_host_begin(int *argc, char ***argv);
void adk_cli_host_end(void);

/*
 * A program's main, named for the driver: ADK_CLI_MAIN(kmeans) is main() in adkit-kmeans and
 * adk_app_kmeans_main() when compiled into the driver (with ADK_CLI_HOSTED defined).
 */
#ifdef ADK_CLI_HOSTED
#define ADK_CLI_MAIN(name)                                                                         \
    int adk_app_##name##_main(int argc, char **argv);                                              \
    int adk_app_##name##_main(int argc, char **argv)
#else
#define ADK_CLI_MAIN(name) int main(int argc, char **argv)
#endif

/**
 * What a program does once its options are parsed: @p opts is the struct the option table's
 * targets point into, @p pos the @p npos positional arguments. Returns a status.
 */
typedef int (*adk_cli_run_t)(adk_ctx_t *ctx, void *opts, int npos, char **pos);

/**
 * The whole main() of a program: adk_cli_begin, adk_cli_parse against @p cli, @p run with
 * @p opts, adk_cli_end.
 * @return the process exit code (README "Exit codes"). Collective over MPI_COMM_WORLD.
 */
int adk_cli_main(int argc, char **argv, const adk_cli_t *cli, void *opts, adk_cli_run_t run);

/** Parse a comma-separated list of doubles ("1,2.5,3") into a malloc'd array. Local. */
int adk_cli_parse_list(adk_ctx_t *ctx, const char *opt, const char *s, double **out, size_t *n);

/**
 * Parse a byte count: a whole number with an optional suffix K, M, G or T (powers of 1024; a
 * trailing "B" or "iB" is allowed: 512M, 2GiB). Zero, negative, fractional and overflowing values
 * are refused with a message naming --@p opt.
 * @return ADK_OK or ADK_EINVAL. Local (the same argv on every rank gives the same verdict).
 */
int adk_cli_parse_bytes(adk_ctx_t *ctx, const char *opt, const char *s, uint64_t *out);

#endif
