/*
 * Unit suite of adk_csv: files written by the test, read at any rank count. Header detection,
 * comments and blank lines, CRLF, quoted fields refused, ragged rows, the label column by index,
 * negative index and header name, more ranks than rows, and values bitwise equal to strtod. Each
 * rank checks that it holds exactly its adk_part block; messages are checked with adk_ctx_message.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_csv.h"
#include "adk_part.h"
#include "adk_test.h"

/* Rank 0 writes @p text to a scratch file named @p name; every rank gets its path (static). */
static const char *put(const char *name, const char *text)
{
    static char path[4096];
    adk_ctx_t *ctx = adk_test_ctx();
    snprintf(path, sizeof(path), "%s", adk_test_path(name));
    int ok = 1;
    if (adk_ctx_rank(ctx) == 0) {
        FILE *f = fopen(path, "wb");
        ok = f && fputs(text, f) >= 0;
        ok = f && fclose(f) == 0 && ok;
    }
    /* the broadcast also keeps the other ranks from reading before the file is complete */
    CU_ASSERT_EQUAL(adk_ctx_bcast(ctx, &ok, 1, MPI_INT, 0), ADK_OK);
    CU_ASSERT(ok);
    return path;
}

/* Read @p text as a CSV file at alignment 1 (so every rank count splits rows differently). */
static int read_text(const char *name, const char *text, const char *label_col, adk_rows_t **out)
{
    return adk_csv_read(adk_test_ctx(), put(name, text), 1, label_col, out);
}

/* This rank holds exactly its block of an n x d matrix whose value (g, j) is want[g * d + j]. */
static void check_block(const adk_rows_t *r, int64_t n, size_t d, const double *want,
                        const int64_t *labels)
{
    adk_ctx_t *ctx = adk_test_ctx();
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    adk_range_t rg = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), r->align);
    CU_ASSERT_EQUAL(r->n, n);
    CU_ASSERT_EQUAL(r->d, d);
    CU_ASSERT_EQUAL(r->row0, rg.start);
    CU_ASSERT_EQUAL_FATAL(r->nloc, (size_t)rg.count);
    CU_ASSERT_EQUAL(r->labels != NULL, labels != NULL);
    for (size_t i = 0; i < r->nloc; i++) {
        int64_t g = r->row0 + (int64_t)i;
        /* bitwise: -0.0 and 0.0 must not be confused */
        CU_ASSERT(memcmp(r->x + i * d, want + g * (int64_t)d, d * sizeof(double)) == 0);
        if (labels && r->labels) {
            CU_ASSERT_EQUAL(r->labels[i], labels[g]);
        }
    }
}

/* The agreed status is @p code everywhere, and every rank holding a message has each of the
 * substrings (NULL-terminated) in it; at least one rank holds one. Clears the messages. */
static void check_fail(int st, int code, const char *const *subs)
{
    adk_ctx_t *ctx = adk_test_ctx();
    CU_ASSERT_EQUAL(st, code);
    const char *msg = adk_ctx_message(ctx);
    int have = msg[0] != '\0';
    for (const char *const *s = subs; have && *s; s++) {
        if (!strstr(msg, *s)) {
            fprintf(stdout, "# message '%s' lacks '%s'\n", msg, *s);
            CU_FAIL("message lacks a part");
        }
    }
    CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, MPI_IN_PLACE, &have, 1, MPI_INT, MPI_SUM), ADK_OK);
    CU_ASSERT(have >= 1);
    adk_ctx_clear(ctx);
}

static void test_header_detection(void)
{
    adk_rows_t *r = NULL;
    const double v[] = {1, 2, 3, 4, 5, 6};
    /* no number in the first line: a header */
    CU_ASSERT_EQUAL(read_text("h1.csv", "a,b,c\n1,2,3\n4,5,6\n", NULL, &r), ADK_OK);
    check_block(r, 2, 3, v, NULL);
    adk_rows_free(r);
    /* all numbers: data */
    CU_ASSERT_EQUAL(read_text("h2.csv", "1,2,3\n4,5,6\n", NULL, &r), ADK_OK);
    check_block(r, 2, 3, v, NULL);
    adk_rows_free(r);
    /* one number is enough to make it data, so a half-named header is a bad data row */
    int st = read_text("h3.csv", "x,2,3\n1,2,3\n", NULL, &r);
    check_fail(st, ADK_EDATA, (const char *[]){"h3.csv", "line 1 ", "'x'", "column 0", NULL});
    /* only a header */
    st = read_text("h4.csv", "a,b\n", NULL, &r);
    check_fail(st, ADK_EDATA, (const char *[]){"h4.csv", "no data rows", NULL});
}

static void test_comments_blank(void)
{
    adk_rows_t *r = NULL;
    const double v[] = {1, 2, 3, 4, 5, 6};
    const char *text = "# made by hand\n\n   \nx,y\n# between\n1,2\n\n3,4\n\t\n# end\n5,6\n";
    CU_ASSERT_EQUAL(read_text("c1.csv", text, NULL, &r), ADK_OK);
    check_block(r, 3, 2, v, NULL);
    adk_rows_free(r);
    /* line numbers count every physical line; row numbers only the data rows */
    int st = read_text("c2.csv", "# c\n1,2\n\n# c\n3,oops\n", NULL, &r);
    check_fail(st, ADK_EDATA,
               (const char *[]){"c2.csv", "line 5 (row 1)", "'oops'", "column 1", NULL});
    st = read_text("c3.csv", "# nothing\n\n", NULL, &r);
    check_fail(st, ADK_EDATA, (const char *[]){"c3.csv", "no data rows", NULL});
}

static void test_crlf(void)
{
    adk_rows_t *r = NULL;
    const double v[] = {1.5, -2, 3, 4.25, 5, 6e-3};
    CU_ASSERT_EQUAL(read_text("crlf.csv", "a,b\r\n1.5,-2\r\n\r\n3,4.25\r\n5,6e-3\r\n", NULL, &r),
                    ADK_OK);
    check_block(r, 3, 2, v, NULL);
    adk_rows_free(r);
    /* a last line without any line end */
    CU_ASSERT_EQUAL(read_text("noeol.csv", "1.5,-2\r\n3,4.25\n5,6e-3", NULL, &r), ADK_OK);
    check_block(r, 3, 2, v, NULL);
    adk_rows_free(r);
}

static void test_quoted(void)
{
    adk_rows_t *r = NULL;
    int st = read_text("q1.csv", "a,b,c\n1,2,3\n4,\"5\",6\n", NULL, &r);
    check_fail(st, ADK_EDATA,
               (const char *[]){"q1.csv", "line 3 (row 1)", "quoted", "column 1", NULL});
    /* a quoted comma is a quoted field, not a ragged row */
    st = read_text("q2.csv", "1,2\n\"3,5\",4\n", NULL, &r);
    check_fail(st, ADK_EDATA,
               (const char *[]){"q2.csv", "line 2 (row 1)", "quoted", "column 0", NULL});
    /* quoted numbers on the first line are data (refused), never a header */
    st = read_text("q3.csv", "\"1\",\"2\"\n3,4\n", NULL, &r);
    check_fail(st, ADK_EDATA, (const char *[]){"q3.csv", "line 1 (row 0)", "quoted", NULL});
    /* quoted names in a header are fine, and name the label column */
    const double v[] = {1, 3};
    const int64_t lab[] = {2, 4};
    CU_ASSERT_EQUAL(read_text("q4.csv", "\"a\",\"lab\"\n1,2\n3,4\n", "lab", &r), ADK_OK);
    check_block(r, 2, 1, v, lab);
    adk_rows_free(r);
}

static void test_ragged(void)
{
    adk_rows_t *r = NULL;
    int st = read_text("r1.csv", "a,b,c\n1,2,3\n4,5\n7,8,9\n", NULL, &r);
    check_fail(
        st, ADK_EDATA,
        (const char *[]){"r1.csv", "line 3 (row 1)", "2 fields, expected 3", "ragged", NULL});
    st = read_text("r2.csv", "1,2\n3,4,5\n", NULL, &r);
    check_fail(st, ADK_EDATA, (const char *[]){"r2.csv", "line 2 (row 1)", "ragged", NULL});
    /* a UTF-8 byte-order mark opening the file is not part of the first value */
    st = read_text("bom.csv",
                   "\xEF\xBB\xBF"
                   "1,2\n3,4\n",
                   NULL, &r);
    CU_ASSERT_EQUAL(st, ADK_OK);
    CU_ASSERT(r && r->n == 2 && r->d == 2);
    CU_ASSERT(r && (r->row0 != 0 || r->nloc == 0 || r->x[0] == 1.0));
    adk_rows_free(r);
    r = NULL;
    /* strtod would read "0x10" as 16: hexadecimal is not a CSV number */
    st = read_text("hex.csv", "a,b\n1,2\n0x10,3\n", NULL, &r);
    check_fail(st, ADK_EDATA, (const char *[]){"hex.csv", "line 3 (row 1)", "0x10", NULL});
}

static void test_label_col(void)
{
    adk_rows_t *r = NULL;
    const char *text = "id,x,y,lab\n0,1.5,2.5,3\n1,3.5,4.5,-1\n2,5.5,6.5,0\n";
    const double xyl[] = {0, 1.5, 2.5, 1, 3.5, 4.5, 2, 5.5, 6.5};
    const double xy[] = {1.5, 2.5, 3, 3.5, 4.5, -1, 5.5, 6.5, 0};
    const int64_t lab[] = {3, -1, 0}, ids[] = {0, 1, 2};
    const char *last[] = {"3", "-1", "lab"};
    for (int c = 0; c < 3; c++) { /* the last column by index, negative index and name */
        CU_ASSERT_EQUAL(read_text("l1.csv", text, last[c], &r), ADK_OK);
        check_block(r, 3, 3, xyl, lab);
        adk_rows_free(r);
        r = NULL;
    }
    /* the first column, by index and by negative index */
    CU_ASSERT_EQUAL(read_text("l2.csv", text, "0", &r), ADK_OK);
    check_block(r, 3, 3, xy, ids);
    adk_rows_free(r);
    CU_ASSERT_EQUAL(read_text("l3.csv", text, "-4", &r), ADK_OK);
    check_block(r, 3, 3, xy, ids);
    adk_rows_free(r);
    /* no such column: refused on every rank with the name */
    const char *bad[] = {"4", "-5", "nope"};
    for (int c = 0; c < 3; c++) {
        int st = read_text("l4.csv", text, bad[c], &r);
        check_fail(st, ADK_EINVAL, (const char *[]){"l4.csv", bad[c], NULL});
    }
    /* a name needs a header */
    int st = read_text("l5.csv", "1,2\n3,4\n", "lab", &r);
    check_fail(st, ADK_EINVAL, (const char *[]){"l5.csv", "'lab'", NULL});
    /* labels must be integers */
    st = read_text("l6.csv", "x,lab\n1,2\n3,2.5\n", "lab", &r);
    check_fail(st, ADK_EDATA, (const char *[]){"l6.csv", "line 3 (row 1)", "2.5", NULL});
}

static void test_more_ranks_than_rows(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx);
    adk_rows_t *r = NULL;
    const double one[] = {7, 8};
    CU_ASSERT_EQUAL(read_text("m1.csv", "# one row\na,b\n7,8\n", NULL, &r), ADK_OK);
    check_block(r, 1, 2, one, NULL);
    adk_rows_free(r);
    /* size + 1 rows in one block of the repro alignment: one rank holds them, the others none */
    int64_t n = size + 1;
    char *text = calloc((size_t)n * 32 + 16, 1);
    double *v = calloc((size_t)n * 2, sizeof(double));
    strcpy(text, "u,v\n");
    for (int64_t g = 0; g < n; g++) {
        v[2 * g] = (double)g;
        v[2 * g + 1] = -0.5 * (double)g;
        sprintf(text + strlen(text), "%lld,%.17g\n", (long long)g, v[2 * g + 1]);
    }
    CU_ASSERT_EQUAL(adk_csv_read(ctx, put("m2.csv", text), ADK_ALIGN_REPRO, NULL, &r), ADK_OK);
    check_block(r, n, 2, v, NULL);
    adk_rows_free(r);
    /* a bad value on the last row, owned by one rank: every rank fails alike */
    text[strlen(text) - 2] = 'z';
    int st = read_text("m3.csv", text, NULL, &r);
    char line[64];
    snprintf(line, sizeof(line), "line %lld (row %lld)", (long long)n + 1, (long long)n - 1);
    check_fail(st, ADK_EDATA, (const char *[]){"m3.csv", line, NULL});
    free(text);
    free(v);
}

static void test_strtod_bits(void)
{
    /* awkward spellings: every value must be strtod's, bit for bit */
    const char *f[] = {"0.1",
                       "-0.0",
                       "  3.25  ",
                       "1e-310",
                       "4.9406564584124654e-324",
                       "1.7976931348623157e308",
                       "2.2250738585072011e-308",
                       "0.30000000000000004",
                       "123456789012345678901234567890",
                       "+7",
                       ".5",
                       "5.",
                       "-1E+2",
                       "3.0e0", /* hexadecimal ("0x1.8p1") is refused: see test_ragged */
                       "9007199254740993",
                       "\t-2.5e-3"};
    size_t nf = sizeof(f) / sizeof(f[0]), d = 4, n = nf / d;
    char text[2048] = "";
    double want[sizeof(f) / sizeof(f[0])];
    for (size_t i = 0; i < nf; i++) {
        strcat(text, f[i]);
        strcat(text, (i + 1) % d ? "," : "\n");
        want[i] = strtod(f[i], NULL);
    }
    adk_rows_t *r = NULL;
    CU_ASSERT_EQUAL(read_text("bits.csv", text, NULL, &r), ADK_OK);
    check_block(r, (int64_t)n, d, want, NULL);
    adk_rows_free(r);
    /* non-finite values are refused with row and column */
    int st = read_text("nan.csv", "1,2\n3,nan\n", NULL, &r);
    check_fail(st, ADK_EDATA,
               (const char *[]){"nan.csv", "line 2 (row 1)", "NaN", "column 1", NULL});
    st = read_text("inf.csv", "1,2\n-inf,3\n", NULL, &r);
    check_fail(st, ADK_EDATA,
               (const char *[]){"inf.csv", "line 2 (row 1)", "Inf", "column 0", NULL});
}

static void test_missing_file(void)
{
    adk_rows_t *r = (adk_rows_t *)&r;
    int st = adk_csv_read(adk_test_ctx(), adk_test_path("no_such_file.csv"), 1, NULL, &r);
    check_fail(st, ADK_EIO, (const char *[]){"no_such_file.csv", NULL});
    CU_ASSERT_PTR_NULL(r);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"header: first line without numbers", test_header_detection},
        {"comments, blank lines, line numbers", test_comments_blank},
        {"CRLF line ends", test_crlf},
        {"quoted fields refused with file, line, column", test_quoted},
        {"ragged rows name line and row", test_ragged},
        {"label column by index, negative index, name", test_label_col},
        {"more ranks than rows", test_more_ranks_than_rows},
        {"values bitwise equal to strtod", test_strtod_bits},
        {"missing file", test_missing_file},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_csv", tests);
}
