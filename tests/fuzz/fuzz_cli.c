/*
 * fuzz_cli: libFuzzer harness of the option parser (adk_cli_parse, adk_cli_parse_list). The input
 * bytes, split at every NUL or newline, are the arguments after the program name; the table has
 * one option of every type and allows 1 to 2 positional arguments. --help and --version print to
 * stdout, which the initializer sends to /dev/null. A parse that succeeds must leave every target
 * in its type's range and the positional arguments pointing into argv.
 * Build and run: tests/fuzz/run.sh (make fuzz).
 */
#include "fuzz_common.h"

#include <math.h>

#include "adk_cli.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    int flag, i;
    int64_t i64;
    uint64_t u64;
    double x;
    const char *s, *list;
} opts_t;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_init(argc, argv);
    if (!freopen("/dev/null", "w", stdout)) {
        fz_die("freopen /dev/null");
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    opts_t o = {0, 3, -7, 42, 0.5, "default", NULL};
    const adk_opt_t tab[] = {{"flag", ADK_OPT_FLAG, &o.flag, NULL, "a flag"},
                             {"int", ADK_OPT_INT, &o.i, "N", "an int"},
                             {"i64", ADK_OPT_I64, &o.i64, "N", "an int64_t"},
                             {"seed", ADK_OPT_U64, &o.u64, "S", "a uint64_t"},
                             {"x", ADK_OPT_DOUBLE, &o.x, "X", "a double"},
                             {"name", ADK_OPT_STR, &o.s, "NAME", "a string"},
                             {"list", ADK_OPT_STR, &o.list, "L", "a list of numbers"},
                             {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {"[OPTIONS] IN [OUT]", "Fuzz target.", tab, 1, 2, "Epilog."};

    /* argv: the program name, then the pieces of an exact-size copy of the input */
    char *buf = malloc(size + 1);
    char **argv = malloc((size + 2) * sizeof(char *));
    if (!buf || !argv) {
        free(buf);
        free(argv);
        return 0;
    }
    memcpy(buf, data, size);
    buf[size] = '\0';
    int argc = 0;
    argv[argc++] = "fuzz_cli";
    char *a = buf;
    for (size_t k = 0; k <= size; k++) {
        if (k == size || buf[k] == '\0' || buf[k] == '\n') {
            buf[k] = '\0';
            if (k < size || a < buf + k) { /* no empty last piece after a final separator */
                argv[argc++] = a;
            }
            a = buf + k + 1;
        }
    }
    argv[argc] = NULL;

    int npos = -1;
    char **pos = NULL;
    int st = adk_cli_parse(fz_ctx, &cli, argc, argv, &npos, &pos);
    if (st == ADK_OK) {
        FZ_ASSERT(npos >= cli.min_pos && npos <= cli.max_pos, "npos = %d", npos);
        for (int i = 0; i < npos; i++) {
            int found = 0;
            for (int j = 1; j < argc && !found; j++) {
                found = pos[i] == argv[j];
            }
            FZ_ASSERT(found, "positional %d does not point into argv", i);
        }
        FZ_ASSERT(o.flag == 0 || o.flag == 1, "flag = %d", o.flag);
        FZ_ASSERT(isfinite(o.x), "--x is not finite");
        if (o.list) {
            double *v = NULL;
            size_t n = 0;
            int lst = adk_cli_parse_list(fz_ctx, "list", o.list, &v, &n);
            if (lst == ADK_OK) {
                FZ_ASSERT(v && n >= 1, "empty list from '%s'", o.list);
                for (size_t i = 0; i < n; i++) {
                    FZ_ASSERT(isfinite(v[i]), "list value %zu not finite", i);
                }
            } else {
                FZ_ASSERT(lst == ADK_EINVAL && !v, "list status %d", lst);
            }
            fz_check_status(lst, "adk_cli_parse_list");
            free(v);
        }
    } else {
        FZ_ASSERT(st == ADK_EXIT || st == ADK_EINVAL, "status %d: %s", st, adk_ctx_message(fz_ctx));
    }
    fz_check_status(st, "adk_cli_parse");
    adk_ctx_set_quiet(fz_ctx, 0);
    free(pos);
    free(argv);
    free(buf);
    return 0;
}
