/* Unit tests for adk_cli: option table parsing, strict numbers, positional arguments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_test.h"

typedef struct {
    int k, flag;
    int64_t big;
    uint64_t seed;
    double tol;
    const char *init;
} opts_t;

static int parse(opts_t *o, int argc, char **argv, int *npos, char ***pos)
{
    const adk_opt_t tab[] = {{"k", ADK_OPT_INT, &o->k, "K", "clusters"},
                             {"flag", ADK_OPT_FLAG, &o->flag, NULL, "a flag"},
                             {"big", ADK_OPT_I64, &o->big, "N", "rows"},
                             {"seed", ADK_OPT_U64, &o->seed, "S", "seed"},
                             {"tol", ADK_OPT_DOUBLE, &o->tol, "T", "tolerance"},
                             {"init", ADK_OPT_STR, &o->init, "HOW", "init"},
                             {NULL, 0, NULL, NULL, NULL}};
    adk_cli_t cli = {"[OPTIONS] INPUT", "test program", tab, 1, 2, NULL};
    adk_ctx_clear(adk_test_ctx());
    return adk_cli_parse(adk_test_ctx(), &cli, argc, argv, npos, pos);
}

static void test_values(void)
{
    opts_t o = {8, 0, 0, 0, 1e-4, "k-means++"};
    char *argv[] = {"prog",
                    "--k",
                    "5",
                    "--flag",
                    "--big=12345678901",
                    "--seed",
                    "18446744073709551615",
                    "--tol=0.5",
                    "in.h5:/data",
                    "--init",
                    "random"};
    int npos;
    char **pos;
    CU_ASSERT_EQUAL(parse(&o, 11, argv, &npos, &pos), ADK_OK);
    CU_ASSERT_EQUAL(o.k, 5);
    CU_ASSERT_EQUAL(o.flag, 1);
    CU_ASSERT_EQUAL(o.big, INT64_C(12345678901));
    CU_ASSERT_EQUAL(o.seed, UINT64_MAX);
    CU_ASSERT_EQUAL(o.tol, 0.5);
    CU_ASSERT_STRING_EQUAL(o.init, "random");
    CU_ASSERT_EQUAL(npos, 1);
    CU_ASSERT_STRING_EQUAL(pos[0], "in.h5:/data");
    free(pos);
}

static void expect_usage(char **argv, int argc, const char *needle)
{
    opts_t o = {8, 0, 0, 0, 1e-4, NULL};
    int npos;
    char **pos = NULL;
    CU_ASSERT_EQUAL(parse(&o, argc, argv, &npos, &pos), ADK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(adk_test_ctx()), needle));
    free(pos);
}

static void test_errors(void)
{
    char *a1[] = {"prog", "--k", "3x", "in"};
    expect_usage(a1, 4, "not an integer");
    char *a2[] = {"prog", "--nope", "in"};
    expect_usage(a2, 3, "unknown option '--nope'");
    char *a3[] = {"prog", "in", "--k"};
    expect_usage(a3, 3, "needs a value");
    char *a4[] = {"prog", "--tol", "nan", "in"};
    expect_usage(a4, 4, "not a finite number");
    char *a5[] = {"prog", "--seed", "-1", "in"};
    expect_usage(a5, 4, "must not be negative");
    char *a6[] = {"prog"};
    expect_usage(a6, 1, "missing argument");
    char *a7[] = {"prog", "a", "b", "c"};
    expect_usage(a7, 4, "unexpected argument 'c'");
    char *a8[] = {"prog", "--flag=1", "in"};
    expect_usage(a8, 3, "takes no value");
    char *a9[] = {"prog", "-k", "3", "in"};
    expect_usage(a9, 4, "unknown option '-k'");
    /* a number too large for its type is out of range, not "not an integer" */
    char *a10[] = {"prog", "--k", "99999999999999999999", "in"};
    expect_usage(a10, 4, "--k: 99999999999999999999 is out of range");
    char *a11[] = {"prog", "--k", "3000000000", "in"};
    expect_usage(a11, 4, "is out of range (-2147483648 to 2147483647)");
    char *a12[] = {"prog", "--seed", "99999999999999999999999", "in"};
    expect_usage(a12, 4, "is out of range (at most 18446744073709551615)");
    adk_ctx_clear(adk_test_ctx());
}

static void test_double_dash_and_help(void)
{
    opts_t o = {8, 0, 0, 0, 1e-4, NULL};
    char *argv[] = {"prog", "--", "--k"};
    int npos;
    char **pos;
    CU_ASSERT_EQUAL(parse(&o, 3, argv, &npos, &pos), ADK_OK);
    CU_ASSERT_EQUAL(npos, 1);
    CU_ASSERT_STRING_EQUAL(pos[0], "--k");
    CU_ASSERT_EQUAL(o.k, 8);
    free(pos);
    char *h[] = {"prog", "--version"};
    CU_ASSERT_EQUAL(parse(&o, 2, h, &npos, &pos), ADK_EXIT);
    free(pos);
}

static void test_list(void)
{
    double *v = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(adk_cli_parse_list(adk_test_ctx(), "x", "1,2.5,-3e2", &v, &n), ADK_OK);
    CU_ASSERT_EQUAL(n, 3);
    if (n == 3) {
        CU_ASSERT_EQUAL(v[2], -300.0);
    }
    free(v);
    CU_ASSERT_EQUAL(adk_cli_parse_list(adk_test_ctx(), "x", "1,,2", &v, &n), ADK_EINVAL);
    adk_ctx_clear(adk_test_ctx());
}

static void test_bytes(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const struct {
        const char *s;
        uint64_t v;
    } good[] = {{"1", 1},
                {"4096", 4096},
                {"8K", 8192},
                {"3m", 3u << 20},
                {"2GiB", (uint64_t)2 << 30},
                {"5MB", (uint64_t)5 << 20},
                {"7B", 7},
                {"1T", (uint64_t)1 << 40},
                {"18446744073709551606", 18446744073709551606ULL}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint64_t v = 0;
        CU_ASSERT_EQUAL(adk_cli_parse_bytes(ctx, "m", good[i].s, &v), ADK_OK);
        CU_ASSERT_EQUAL(v, good[i].v);
    }
    const char *bad[] = {"",         "0",   "0K",  "-1", "1.5G", "K",
                         "12X",      "4Ki", "1KK", " 1", "1 ",   "99999999999999999999",
                         "16777216T"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 1;
        CU_ASSERT_EQUAL(adk_cli_parse_bytes(ctx, "m", bad[i], &v), ADK_EINVAL);
        CU_ASSERT_EQUAL(v, 0);
        adk_ctx_clear(ctx);
    }
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {{"typed values", test_values},
                                       {"usage errors", test_errors},
                                       {"-- and --version", test_double_dash_and_help},
                                       {"number lists", test_list},
                                       {"byte counts", test_bytes},
                                       {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_cli", tests);
}
