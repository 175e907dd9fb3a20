/*
 * Unit suite of adk_ctx: agreement on the lowest failing rank's status, the first message kept as
 * the root cause, clearing, one report printed by rank 0 (stderr captured through a temp file),
 * the exit-code mapping, and the checked collectives. Written for any rank count: "the last rank
 * fails" is rank 0 alone at one rank.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adk_test.h"

/* The code rank r fails with in the agreement tests: neighbours differ. */
static int code_of(int r)
{
    return r % 2 ? ADK_EIO : ADK_EDATA;
}

/* Same value on every rank? */
static int same_everywhere(int v)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int lo = v, hi = v;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_INT, MPI_MIN, adk_ctx_comm(ctx));
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_INT, MPI_MAX, adk_ctx_comm(ctx));
    return lo == hi;
}

static void test_agree(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    CU_ASSERT_EQUAL(adk_ctx_agree(ctx, ADK_OK), ADK_OK);
    /* ranks f..P-1 fail, each with its own code: all get rank f's */
    for (int f = 0; f < size; f++) {
        int st = adk_ctx_agree(ctx, rank >= f ? code_of(rank) : ADK_OK);
        CU_ASSERT_EQUAL(st, code_of(f));
    }
    /* only the last rank fails */
    CU_ASSERT_EQUAL(adk_ctx_agree(ctx, rank == size - 1 ? ADK_ENOCONV : ADK_OK), ADK_ENOCONV);
    /* a lower rank's code wins over a larger code on a higher rank */
    int st = adk_ctx_agree(ctx, rank == 0 ? ADK_EINVAL : ADK_EINTERNAL);
    CU_ASSERT_EQUAL(st, ADK_EINVAL);
    /* after failures, agreement on success is success again */
    CU_ASSERT_EQUAL(adk_ctx_agree(ctx, ADK_OK), ADK_OK);
    adk_ctx_clear(ctx);
}

static void test_first_message(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_ctx_clear(ctx);
    CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "");
    CU_ASSERT_EQUAL(ADK_ERR(ctx, ADK_EDATA, "root cause in row %d", 17), ADK_EDATA);
    CU_ASSERT_EQUAL(ADK_ERR(ctx, ADK_EIO, "a consequence"), ADK_EIO);
    CU_ASSERT_EQUAL(ADK_ERR(ctx, ADK_EMPI, "another one"), ADK_EMPI);
    CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "root cause in row 17");
    /* ADK_OK records nothing */
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(ADK_ERR(ctx, ADK_OK, "not an error"), ADK_OK);
    CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "");
    /* after clear, the next error is stored again */
    CU_ASSERT_EQUAL(ADK_ERR(ctx, ADK_EIO, "second life"), ADK_EIO);
    CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "second life");
    adk_ctx_clear(ctx);
    CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "");
}

/* Run adk_ctx_report(ctx, st) on every rank with stderr going to a per-rank file; returns what this
 * rank printed (malloc'd). */
static char *captured_report(int st, const char *tag)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char name[64], path[4096];
    snprintf(name, sizeof(name), "ctx_report_%s_%d.txt", tag, adk_ctx_rank(ctx));
    snprintf(path, sizeof(path), "%s", adk_test_path(name));
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w+");
    CU_ASSERT_PTR_NOT_NULL(f);
    if (f && saved >= 0) {
        dup2(fileno(f), 2);
    }
    adk_ctx_report(ctx, st);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
    char *text = calloc(4096, 1);
    if (f) {
        rewind(f);
        size_t got = fread(text, 1, 4095, f);
        text[got] = '\0';
        fclose(f);
    }
    remove(path);
    return text;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) {
        n += *s == '\n';
    }
    return n;
}

static void test_report_once(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    const char *prog = adk_ctx_prog(ctx);
    char want[512];
    adk_ctx_clear(ctx);

    /* ranks 1.. fail (rank 0 alone at one rank): rank 1's message, once, from rank 0 */
    int first = size > 1 ? 1 : 0;
    int st = ADK_OK;
    if (rank >= first) {
        st = ADK_ERR(ctx, ADK_EDATA, "bad value on rank %d", rank);
        ADK_ERR(ctx, ADK_EIO, "later trouble on rank %d", rank); /* not the root cause */
    }
    st = adk_ctx_agree(ctx, st);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    char *out = captured_report(st, "fail");
    if (first == 0) {
        snprintf(want, sizeof(want), "%s: bad value on rank 0\n", prog);
    } else {
        snprintf(want, sizeof(want), "%s: bad value on rank 1 (rank 1)\n", prog);
    }
    if (rank == 0) {
        CU_ASSERT_STRING_EQUAL(out, want);
        CU_ASSERT_EQUAL(count_lines(out), 1);
    } else {
        CU_ASSERT_STRING_EQUAL(out, "");
    }
    free(out);
    adk_ctx_clear(ctx);

    /* a rank failing without a message: the status's name */
    st = adk_ctx_agree(ctx, rank == size - 1 ? ADK_ENOMEM : ADK_OK);
    out = captured_report(st, "nomsg");
    if (size - 1 == 0) {
        snprintf(want, sizeof(want), "%s: %s\n", prog, adk_strerror(ADK_ENOMEM));
    } else {
        snprintf(want, sizeof(want), "%s: %s (rank %d)\n", prog, adk_strerror(ADK_ENOMEM),
                 size - 1);
    }
    CU_ASSERT_STRING_EQUAL(out, rank == 0 ? want : "");
    free(out);

    /* success and ADK_EXIT print nothing anywhere */
    out = captured_report(adk_ctx_agree(ctx, ADK_OK), "ok");
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
    out = captured_report(ADK_EXIT, "exit");
    CU_ASSERT_STRING_EQUAL(out, "");
    free(out);
    adk_ctx_clear(ctx);
}

/* An internal error (a bug) is reported with the source line that raised it; others are not. */
static void test_report_location(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_ctx_clear(ctx);
    int last = adk_ctx_size(ctx) - 1;
    int st = adk_ctx_rank(ctx) == last ? ADK_ERR(ctx, ADK_EINTERNAL, "broken invariant") : ADK_OK;
    st = adk_ctx_agree(ctx, st);
    CU_ASSERT_EQUAL(st, ADK_EINTERNAL);
    char *text = captured_report(st, "loc");
    if (adk_ctx_rank(ctx) == 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "broken invariant [")); /* "[...test_adk_ctx.c:N]" */
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "test_adk_ctx.c:"));
    }
    free(text);
    adk_ctx_clear(ctx);
    st = adk_ctx_rank(ctx) == last ? ADK_ERR(ctx, ADK_EDATA, "bad row") : ADK_OK;
    st = adk_ctx_agree(ctx, st);
    text = captured_report(st, "noloc");
    if (adk_ctx_rank(ctx) == 0) {
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "bad row"));
        CU_ASSERT_PTR_NULL(strstr(text, "test_adk_ctx.c:"));
    }
    free(text);
    adk_ctx_clear(ctx);
}

static void test_exit_codes(void)
{
    static const int map[][2] = {{ADK_OK, 0},     {ADK_EXIT, 0},       {ADK_EINVAL, 1},
                                 {ADK_EDATA, 2},  {ADK_EIO, 3},        {ADK_EHDF5, 3},
                                 {ADK_EEXIST, 3}, {ADK_ENOCONV, 4},    {ADK_ENOMEM, 70},
                                 {ADK_EMPI, 70},  {ADK_EINTERNAL, 70}, {12345, 70}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        CU_ASSERT_EQUAL(adk_exit_code(map[i][0]), map[i][1]);
    }
    /* every status has a name, and distinct statuses distinct names */
    for (int a = ADK_OK; a <= ADK_EXIT; a++) {
        CU_ASSERT(adk_strerror(a)[0] != '\0');
        for (int b = a + 1; b <= ADK_EXIT; b++) {
            CU_ASSERT(strcmp(adk_strerror(a), adk_strerror(b)) != 0);
        }
    }
}

static void test_collectives(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    /* in place: exact integer sum and double max/min */
    int64_t v[2] = {rank + 1, (int64_t)1 << (40 + rank % 3)};
    CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, MPI_IN_PLACE, v, 2, MPI_INT64_T, MPI_SUM), ADK_OK);
    int64_t want1 = 0;
    for (int r = 0; r < size; r++) {
        want1 += (int64_t)1 << (40 + r % 3);
    }
    CU_ASSERT_EQUAL(v[0], (int64_t)size * (size + 1) / 2);
    CU_ASSERT_EQUAL(v[1], want1);
    double x = 0.5 * rank - 3.25, mx = 0.0, mn = 0.0;
    CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, &x, &mx, 1, MPI_DOUBLE, MPI_MAX), ADK_OK);
    CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, &x, &mn, 1, MPI_DOUBLE, MPI_MIN), ADK_OK);
    CU_ASSERT_EQUAL(mx, 0.5 * (size - 1) - 3.25);
    CU_ASSERT_EQUAL(mn, -3.25);
    CU_ASSERT_EQUAL(x, 0.5 * rank - 3.25); /* the input is left alone */
    /* broadcast from the last rank, bit for bit */
    double b[3] = {0.0, 0.0, 0.0};
    if (rank == size - 1) {
        b[0] = 1.0 / 3.0;
        b[1] = -0.0;
        b[2] = 4.9e-324;
    }
    CU_ASSERT_EQUAL(adk_ctx_bcast(ctx, b, 3, MPI_DOUBLE, size - 1), ADK_OK);
    CU_ASSERT_EQUAL(b[0], 1.0 / 3.0);
    CU_ASSERT(b[1] == 0.0 && signbit(b[1]));
    CU_ASSERT_EQUAL(b[2], 4.9e-324);
    CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "");
}

static void test_collective_failure(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    adk_ctx_clear(ctx);
    /* MPI refuses a negative count on every rank (errors return on the context's communicator):
     * ADK_EMPI everywhere, with a message, and the next collective still works */
    int v = 1;
    /* an earlier agreement blamed the last rank; the failed collective's own agreement must
     * replace that, so the report is rank 0's message (every rank failed) */
    CU_ASSERT_EQUAL(adk_ctx_agree(ctx, rank == size - 1 ? ADK_EDATA : ADK_OK), ADK_EDATA);
    int st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, &v, -1, MPI_INT, MPI_SUM);
    CU_ASSERT_EQUAL(st, ADK_EMPI);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "MPI_Allreduce"));
    char want[256];
    snprintf(want, sizeof(want), "%s: %s\n", adk_ctx_prog(ctx), adk_ctx_message(ctx));
    char *out = captured_report(st, "empi");
    CU_ASSERT_STRING_EQUAL(out, rank == 0 ? want : "");
    free(out);
    adk_ctx_clear(ctx);
    st = adk_ctx_bcast(ctx, &v, 1, MPI_INT, size); /* no such root */
    CU_ASSERT_EQUAL(st, ADK_EMPI);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "MPI_Bcast"));
    adk_ctx_clear(ctx);
    v = 2;
    CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, MPI_IN_PLACE, &v, 1, MPI_INT, MPI_SUM), ADK_OK);
    CU_ASSERT_EQUAL(v, 2 * size);
}

/* Spin for about @p sec seconds of wall time. */
static void spin(double sec)
{
    double t0 = MPI_Wtime();
    while (MPI_Wtime() - t0 < sec) {
    }
}

/* --timings accounting: regions nest and the outermost phase takes the time; compute is the
 * rest; bytes only at more than one rank; the usage over ranks. */
static void test_accounting(void)
{
    adk_ctx_t *ctx = NULL;
    char *argv[] = {"test_acct", NULL};
    CU_ASSERT_FATAL(adk_ctx_create(MPI_COMM_WORLD, 1, argv, &ctx) == ADK_OK);
    int size = adk_ctx_size(ctx);
    double t[ADK_T_NPHASE];
    adk_ctx_tic(ctx, ADK_T_IO);
    spin(0.02);
    adk_ctx_tic(ctx, ADK_T_MPI); /* inside I/O: I/O only */
    spin(0.02);
    adk_ctx_sent(ctx, 10, MPI_DOUBLE);
    adk_ctx_toc(ctx, ADK_T_MPI);
    adk_ctx_toc(ctx, ADK_T_IO);
    adk_ctx_phase_seconds(ctx, t);
    CU_ASSERT(t[ADK_T_IO] >= 0.04);
    CU_ASSERT_EQUAL(t[ADK_T_MPI], 0.0);
    CU_ASSERT(t[ADK_T_COMPUTE] >= 0.0);
    CU_ASSERT_EQUAL(adk_ctx_bytes_sent(ctx), size > 1 ? 80u : 0u);
    double io = t[ADK_T_IO];
    int rc = ADK_MPI_CALL(ctx, 3, MPI_INT, (spin(0.02), 7)); /* a region of its own */
    CU_ASSERT_EQUAL(rc, 7);
    spin(0.03); /* compute */
    adk_ctx_phase_seconds(ctx, t);
    CU_ASSERT_EQUAL(t[ADK_T_IO], io);
    CU_ASSERT(t[ADK_T_MPI] >= 0.02);
    CU_ASSERT(t[ADK_T_COMPUTE] >= 0.03);
    CU_ASSERT_EQUAL(adk_ctx_bytes_sent(ctx), size > 1 ? 92u : 0u);
    adk_usage_t u;
    CU_ASSERT_FATAL(adk_ctx_usage(ctx, &u) == ADK_OK);
    CU_ASSERT_EQUAL(u.ranks, size);
    CU_ASSERT_EQUAL(u.bytes_total, size > 1 ? 92u * (uint64_t)size : 0u);
    CU_ASSERT_EQUAL(u.bytes_max, size > 1 ? 92u : 0u);
    for (int ph = 0; ph < ADK_T_NPHASE; ph++) {
        CU_ASSERT(u.max[ph] >= u.mean[ph] && u.mean[ph] >= 0.0);
    }
    CU_ASSERT(u.max[ADK_T_IO] >= 0.04);
    adk_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"agree: lowest failing rank's code, ADK_OK when none", test_agree},
        {"the first message is kept; clear forgets it", test_first_message},
        {"report: the failing rank's message once, from rank 0", test_report_once},
        {"an internal error names its source line", test_report_location},
        {"exit codes and status names", test_exit_codes},
        {"checked allreduce and bcast", test_collectives},
        {"a failing collective is ADK_EMPI on every rank", test_collective_failure},
        {"--timings accounting: nested regions, compute, bytes, usage", test_accounting},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_ctx", tests);
}
