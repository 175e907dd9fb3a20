/*
 * adk_cli: table-driven option parsing and program start/end shared by all apps.
 */
#include "adk_cli.h"
#include "adk_mem.h"

#include "adk_h5.h"
#include "adk_sig.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

static const adk_opt_t *find_opt(const adk_opt_t *opts, const char *name, size_t len)
{
    for (const adk_opt_t *o = opts; o && o->name; o++) {
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) {
            return o;
        }
    }
    return NULL;
}

static int set_value(adk_ctx_t *ctx, const adk_opt_t *o, const char *v)
{
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case ADK_OPT_INT: {
        long x = strtol(v, &end, 10);
        if (end == v || *end) {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: '%s' is not an integer", o->name, v);
        }
        if (errno == ERANGE || x < INT_MIN || x > INT_MAX) {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: %s is out of range (%d to %d)", o->name, v,
                           INT_MIN, INT_MAX);
        }
        *(int *)o->target = (int)x;
        return ADK_OK;
    }
    case ADK_OPT_I64: {
        long long x = strtoll(v, &end, 10);
        if (end == v || *end) {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: '%s' is not an integer", o->name, v);
        }
        if (errno == ERANGE) {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: %s is out of range (at most %lld)", o->name, v,
                           (long long)INT64_MAX);
        }
        *(int64_t *)o->target = (int64_t)x;
        return ADK_OK;
    }
    case ADK_OPT_U64: {
        if (v[0] == '-') {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: '%s' must not be negative", o->name, v);
        }
        unsigned long long x = strtoull(v, &end, 10);
        if (end == v || *end) {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: '%s' is not a non-negative integer", o->name, v);
        }
        if (errno == ERANGE) {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: %s is out of range (at most %llu)", o->name, v,
                           (unsigned long long)UINT64_MAX);
        }
        *(uint64_t *)o->target = (uint64_t)x;
        return ADK_OK;
    }
    case ADK_OPT_DOUBLE: {
        double x = strtod(v, &end);
        if (end == v || *end || !isfinite(x)) {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: '%s' is not a finite number", o->name, v);
        }
        *(double *)o->target = x;
        return ADK_OK;
    }
    case ADK_OPT_STR:
        *(const char **)o->target = v;
        return ADK_OK;
    default:
        return ADK_ERR(ctx, ADK_EINTERNAL, "--%s: bad option table", o->name);
    }
}

static void print_default(const adk_opt_t *o)
{
    switch (o->type) {
    case ADK_OPT_INT:
        printf(" (default: %d)", *(int *)o->target);
        break;
    case ADK_OPT_I64:
        printf(" (default: %" PRId64 ")", *(int64_t *)o->target);
        break;
    case ADK_OPT_U64:
        printf(" (default: %" PRIu64 ")", *(uint64_t *)o->target);
        break;
    case ADK_OPT_DOUBLE:
        printf(" (default: %g)", *(double *)o->target);
        break;
    case ADK_OPT_STR:
        if (*(const char **)o->target) {
            printf(" (default: %s)", *(const char **)o->target);
        }
        break;
    default:
        break;
    }
}

static void print_help(const adk_ctx_t *ctx, const adk_cli_t *cli)
{
    static const adk_opt_t common[] = {
        {"quiet", ADK_OPT_FLAG, NULL, NULL, "no progress lines on stderr"},
        {"timings", ADK_OPT_FLAG, NULL, NULL,
         "print the seconds in I/O, compute and MPI and the bytes sent (max and mean over ranks) "
         "at the end, and store them as attributes of the HDF5 outputs"},
        {"help", ADK_OPT_FLAG, NULL, NULL, "show this help and exit"},
        {"version", ADK_OPT_FLAG, NULL, NULL, "show the version and exit"},
        {NULL, 0, NULL, NULL, NULL}};
    printf("Usage: %s %s\n\n%s\n\nOptions:\n", adk_ctx_prog(ctx), cli->usage, cli->summary);
    int width = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int t = 0; t < 2; t++) {
            const adk_opt_t *tab = t == 0 ? cli->opts : common;
            for (const adk_opt_t *o = tab; o && o->name; o++) {
                int w = (int)strlen(o->name) + 2 + (o->arg ? (int)strlen(o->arg) + 1 : 0);
                if (pass == 0) {
                    width = w > width ? w : width;
                    continue;
                }
                printf("  --%s%s%s%*s  %s", o->name, o->arg ? " " : "", o->arg ? o->arg : "",
                       width - w, "", o->help);
                if (o->target && o->type != ADK_OPT_FLAG) {
                    print_default(o);
                }
                printf("\n");
            }
        }
    }
    if (cli->epilog) {
        printf("\n%s\n", cli->epilog);
    }
    printf(
        "\nExit codes: 0 ok, 1 usage, 2 bad data, 3 I/O, 4 no convergence, 70 internal, 75 stopped "
        "with a checkpoint.\n");
    fflush(stdout);
}

static int parse_local(adk_ctx_t *ctx, const adk_cli_t *cli, int argc, char **argv, int *npos,
                       char ***pos)
{
    *npos = 0;
    *pos = adk_calloc((size_t)(argc > 0 ? argc : 1), sizeof(char *));
    if (!*pos) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    int only_pos = 0, want_help = 0, want_version = 0, quiet = 0, timings = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            (*pos)[(*npos)++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0) {
            want_help = 1;
            continue;
        }
        if (strcmp(a, "-V") == 0) {
            want_version = 1;
            continue;
        }
        if (a[1] != '-') {
            return ADK_ERR(ctx, ADK_EINVAL, "unknown option '%s' (see --help)", a);
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const adk_opt_t *o = find_opt(cli->opts, name, len);
        if (!o) {
            int *flag = NULL;
            if (len == 4 && strncmp(name, "help", 4) == 0) {
                flag = &want_help;
            } else if (len == 7 && strncmp(name, "version", 7) == 0) {
                flag = &want_version;
            } else if (len == 5 && strncmp(name, "quiet", 5) == 0) {
                flag = &quiet;
            } else if (len == 7 && strncmp(name, "timings", 7) == 0) {
                flag = &timings;
            }
            if (!flag) {
                return ADK_ERR(ctx, ADK_EINVAL, "unknown option '--%.*s' (see --help)", (int)len,
                               name);
            }
            if (eq) {
                return ADK_ERR(ctx, ADK_EINVAL, "option '--%.*s' takes no value", (int)len, name);
            }
            *flag = 1;
            continue;
        }
        if (o->type == ADK_OPT_FLAG) {
            if (eq) {
                return ADK_ERR(ctx, ADK_EINVAL, "option '--%s' takes no value", o->name);
            }
            *(int *)o->target = 1;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) {
            return ADK_ERR(ctx, ADK_EINVAL, "option '--%s' needs a value (%s)", o->name,
                           o->arg ? o->arg : "VALUE");
        }
        ADK_CHECK(set_value(ctx, o, v));
    }
    if (want_help || want_version) {
        if (adk_ctx_rank(ctx) == 0) {
            if (want_help) {
                print_help(ctx, cli);
            } else {
                printf("%s %s\n", adk_ctx_prog(ctx), adk_version());
                fflush(stdout);
            }
        }
        return ADK_EXIT;
    }
    adk_ctx_set_quiet(ctx, quiet);
    adk_ctx_set_timings(ctx, timings);
    if (*npos < cli->min_pos) {
        return ADK_ERR(ctx, ADK_EINVAL, "missing argument: usage: %s %s", adk_ctx_prog(ctx),
                       cli->usage);
    }
    if (*npos > cli->max_pos) {
        return ADK_ERR(ctx, ADK_EINVAL, "unexpected argument '%s' (see --help)",
                       (*pos)[cli->max_pos]);
    }
    return ADK_OK;
}

int adk_cli_parse(adk_ctx_t *ctx, const adk_cli_t *cli, int argc, char **argv, int *npos,
                  char ***pos)
{
    /* every rank parses the same argv, but an allocation can still fail on one of them */
    return adk_ctx_agree(ctx, parse_local(ctx, cli, argc, argv, npos, pos));
}

int adk_cli_parse_list(adk_ctx_t *ctx, const char *opt, const char *s, double **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) {
        cap += *p == ',';
    }
    double *v = adk_malloc(cap * sizeof(double));
    if (!v) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    const char *p = s;
    for (;;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !isfinite(x) || (*end != ',' && *end != '\0')) {
            free(v);
            return ADK_ERR(ctx, ADK_EINVAL, "--%s: '%s' is not a comma-separated list of numbers",
                           opt, s);
        }
        v[(*n)++] = x;
        if (*end == '\0') {
            break;
        }
        p = end + 1;
    }
    *out = v;
    return ADK_OK;
}

int adk_cli_parse_bytes(adk_ctx_t *ctx, const char *opt, const char *s, uint64_t *out)
{
    *out = 0;
    const char *p = s;
    uint64_t v = 0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (v > (UINT64_MAX - 9) / 10) {
            digits = -1;
            break;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    int shift = 0;
    if (digits > 0 && *p) {
        const char *units = "KMGT", *u = strchr(units, *p >= 'a' ? *p - 'a' + 'A' : *p);
        if (u && *u) {
            shift = 10 * (int)(u - units + 1);
            p++;
            p += (*p == 'i' && p[1] == 'B') ? 2 : (*p == 'B');
        } else if (*p == 'B') {
            p++;
        }
    }
    if (digits <= 0 || *p || v == 0 || (shift && v > (UINT64_MAX >> shift))) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "--%s: '%s' is not a positive byte count (a whole number with an optional "
                       "K, M, G or T suffix)",
                       opt, s);
    }
    *out = v << shift;
    return ADK_OK;
}

/* Set while a driver (adkit run) runs several programs in one MPI job: MPI is started and
 * finished once, by the driver, not by each program. */
static int cli_hosted;

/* MPI_Init and the library's process-wide settings; shared by programs and the driver. */
static int start_mpi(int *argc, char ***argv)
{
    /* adkit never uses shared file pointers, but Open MPI 4.1 probes its components at every
     * MPI_File_open, and "lockedfile" overflows a 256-byte buffer (SIGABRT) for a path of 233
     * characters or more; "sm" (chosen instead) needs a file name under 230 characters, which
     * adk_out's temporary names keep. A user's own choice of components is kept. */
    setenv("OMPI_MCA_sharedfp", "^lockedfile", 0);
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "adkit: MPI_Init failed\n");
        return ADK_EMPI;
    }
    /* The library reports errors itself: no aborting GSL handler, no HDF5 stack dumps. */
    gsl_set_error_handler_off();
    adk_h5_quiet();
    return ADK_OK;
}

int adk_cli_host_begin(int *argc, char ***argv)
{
    int st = start_mpi(argc, argv);
    cli_hosted = st == ADK_OK;
    return st;
}

void adk_cli_host_end(void)
{
    cli_hosted = 0;
    MPI_Finalize();
}

int adk_cli_begin(int *argc, char ***argv, adk_ctx_t **ctx)
{
    *ctx = NULL;
    if (!cli_hosted) {
        ADK_CHECK(start_mpi(argc, argv));
    }
    const char *slash = strrchr((*argv)[0], '/'), *prog = slash ? slash + 1 : (*argv)[0];
    adk_sig_install(prog);
    int st = adk_ctx_create(MPI_COMM_WORLD, *argc, *argv, ctx);
    if (st != ADK_OK) {
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        if (rank == 0) {
            fprintf(stderr, "%s: cannot set up the run: %s\n", prog, adk_strerror(st));
        }
    }
    return st;
}

/* "812 B", "1.23 kB", "4.56 MB", ...: decimal units, three significant digits. */
static void human_bytes(double b, char *buf, size_t len)
{
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int u = 0;
    while (b >= 999.5 && u < 5) {
        b /= 1000.0;
        u++;
    }
    snprintf(buf, len, u == 0 ? "%.0f %s" : "%.3g %s", b, unit[u]);
}

/* --timings: the run's accounting, one line from rank 0 (also when quiet: it was asked for).
 * Collective; only after an agreed success, when every rank has parsed the same options. */
static void print_timings(adk_ctx_t *ctx)
{
    adk_usage_t u;
    if (adk_ctx_usage(ctx, &u) != ADK_OK || adk_ctx_rank(ctx) != 0) {
        return;
    }
    char bmax[32], bmean[32], btot[32];
    human_bytes((double)u.bytes_max, bmax, sizeof(bmax));
    human_bytes(u.bytes_mean, bmean, sizeof(bmean));
    human_bytes((double)u.bytes_total, btot, sizeof(btot));
    fprintf(stderr,
            "%s: timings over %d rank%s (max / mean): I/O %.3f / %.3f s, compute %.3f / %.3f s, "
            "MPI %.3f / %.3f s, sent %s / %s (total %s)\n",
            adk_ctx_prog(ctx), u.ranks, u.ranks == 1 ? "" : "s", u.max[ADK_T_IO], u.mean[ADK_T_IO],
            u.max[ADK_T_COMPUTE], u.mean[ADK_T_COMPUTE], u.max[ADK_T_MPI], u.mean[ADK_T_MPI], bmax,
            bmean, btot);
    fflush(stderr);
}

int adk_cli_end(adk_ctx_t *ctx, int st)
{
    if (ctx && st == ADK_OK && adk_ctx_timings_on(ctx)) {
        print_timings(ctx);
    }
    adk_sig_finishing(); /* a failing rank's exit makes mpiexec stop the others: no news */
    if (ctx) {
        adk_ctx_report(ctx, st);
        adk_ctx_free(ctx);
    }
    if (!cli_hosted) {
        MPI_Finalize();
    }
    return adk_exit_code(st);
}

int adk_cli_main(int argc, char **argv, const adk_cli_t *cli, void *opts, adk_cli_run_t run)
{
    adk_ctx_t *ctx = NULL;
    int st = adk_cli_begin(&argc, &argv, &ctx);
    if (st != ADK_OK) {
        return adk_cli_end(ctx, st);
    }
    int npos = 0;
    char **pos = NULL;
    st = adk_cli_parse(ctx, cli, argc, argv, &npos, &pos);
    if (st == ADK_OK) {
        st = run(ctx, opts, npos, pos);
    }
    free(pos);
    return adk_cli_end(ctx, st);
}
