/*
 * Unit tests for adk_io, the dispatcher: HDF5 and CSV round trips through adk_io_read at any rank
 * count, partition of the rows read, bad input (one agreed status and a message naming file,
 * line/row and column). Outputs are tested in test_adk_out, the rooms below in their own suites.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adk_io.h"
#include "adk_out.h"
#include "adk_part.h"
#include "adk_test.h"

static double val(int64_t g, size_t j)
{
    return (double)g * 0.5 - (double)j * 3.25 + 1e-3 * (double)(g % 7);
}

/* Write an n x d matrix f(g, j) (and labels g % 5) collectively to path. */
static int write_matrix(const char *path, int64_t n, size_t d, int as_f32)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_range_t rg = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), 1);
    double *x = malloc(((size_t)rg.count * d + 1) * sizeof(double));
    float *xf = malloc(((size_t)rg.count * d + 1) * sizeof(float));
    int64_t *lab = malloc(((size_t)rg.count + 1) * sizeof(int64_t));
    for (int64_t i = 0; i < rg.count; i++) {
        for (size_t j = 0; j < d; j++) {
            x[i * d + j] = val(rg.start + i, j);
            xf[i * d + j] = (float)x[i * d + j];
        }
        lab[i] = (rg.start + i) % 5;
    }
    adk_out_t *o = NULL;
    int st = adk_out_create(ctx, path, ADK_OUT_FORCE, &o);
    if (st == ADK_OK) {
        st = as_f32 ? adk_out_rows(o, "/data", ADK_F32, xf, n, rg.start, (size_t)rg.count, d)
                    : adk_out_rows(o, "/data", ADK_F64, x, n, rg.start, (size_t)rg.count, d);
        if (st == ADK_OK) {
            st = adk_out_rows(o, "/labels", ADK_I64, lab, n, rg.start, (size_t)rg.count, 0);
        }
        if (st == ADK_OK) {
            st = adk_out_rows(o, "/flat", ADK_F64, x, n, rg.start, (size_t)rg.count, 0);
        }
        st = adk_out_commit(o, st);
    }
    free(x);
    free(xf);
    free(lab);
    return st;
}

static int rows_match(const adk_rows_t *r, int as_f32)
{
    int ok = 1;
    for (size_t i = 0; i < r->nloc; i++) {
        for (size_t j = 0; j < r->d; j++) {
            double want = val(r->row0 + (int64_t)i, j);
            if (as_f32) {
                want = (double)(float)want;
            }
            ok &= r->x[i * r->d + j] == want;
        }
        if (r->labels) {
            ok &= r->labels[i] == (r->row0 + (int64_t)i) % 5;
        }
    }
    return ok;
}

static void test_h5_round_trip(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char path[512];
    snprintf(path, sizeof(path), "%s", adk_test_path("io_rt.h5"));
    int64_t sizes[] = {1, 3, 37, 1000};
    for (size_t s = 0; s < 4; s++) {
        for (int f32 = 0; f32 < 2; f32++) {
            CU_ASSERT_FATAL(write_matrix(path, sizes[s], 3, f32) == ADK_OK);
            int64_t aligns[] = {1, ADK_ALIGN_REPRO, 7};
            for (size_t a = 0; a < 3; a++) {
                char lspec[1024];
                snprintf(lspec, sizeof(lspec), "%s:/labels", path);
                adk_read_opts_t ro = {aligns[a], lspec, NULL};
                char spec[1024];
                snprintf(spec, sizeof(spec), "%s:/data", path);
                adk_rows_t *r = NULL;
                CU_ASSERT_FATAL(adk_io_read(ctx, spec, &ro, &r) == ADK_OK);
                adk_range_t rg =
                    adk_part_rows(sizes[s], adk_ctx_size(ctx), adk_ctx_rank(ctx), aligns[a]);
                CU_ASSERT_EQUAL(r->n, sizes[s]);
                CU_ASSERT_EQUAL(r->d, 3);
                CU_ASSERT_EQUAL(r->row0, rg.start);
                CU_ASSERT_EQUAL((int64_t)r->nloc, rg.count);
                CU_ASSERT(rows_match(r, f32));
                adk_rows_free(r);
            }
        }
    }
    /* default dataset name for FILE.h5 */
    adk_rows_t *r = NULL;
    CU_ASSERT_EQUAL(adk_io_read(ctx, path, NULL, &r), ADK_OK);
    adk_rows_free(r);
}

static void expect_fail(const char *spec, const adk_read_opts_t *ro, int code, const char *needle)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_ctx_clear(ctx);
    adk_rows_t *r = NULL;
    int st = adk_io_read(ctx, spec, ro, &r);
    CU_ASSERT_EQUAL(st, code);
    CU_ASSERT_PTR_NULL(r);
    /* the message is held by at least one rank (the lowest failing one is reported) */
    int mine = strstr(adk_ctx_message(ctx), needle) != NULL, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CU_ASSERT(any);
    if (!any && adk_ctx_rank(ctx) == 0) {
        printf("# expected '%s', got '%s'\n", needle, adk_ctx_message(ctx));
    }
    adk_ctx_clear(ctx);
}

static void test_h5_errors(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char path[512];
    snprintf(path, sizeof(path), "%s", adk_test_path("io_err.h5"));
    CU_ASSERT_FATAL(write_matrix(path, 20, 2, 0) == ADK_OK);
    char spec[1024];
    expect_fail("does-not-exist.h5:/data", NULL, ADK_EIO, "cannot open 'does-not-exist.h5'");
    snprintf(spec, sizeof(spec), "%s:/nope", path);
    expect_fail(spec, NULL, ADK_EDATA, "no dataset '/nope'");
    snprintf(spec, sizeof(spec), "%s:/no/such/group", path);
    expect_fail(spec, NULL, ADK_EDATA, "no dataset");
    snprintf(spec, sizeof(spec), "%s:/flat", path);
    expect_fail(spec, NULL, ADK_EDATA, "expected a 2-D");
    expect_fail("noformat.dat", NULL, ADK_EINVAL, "cannot tell the format");
    /* labels of the wrong length */
    char lspec[1024];
    snprintf(lspec, sizeof(lspec), "%s:/labels", adk_test_path("io_rt.h5"));
    adk_read_opts_t ro = {1, lspec, NULL};
    snprintf(spec, sizeof(spec), "%s:/data", path);
    expect_fail(spec, &ro, ADK_EDATA, "values for 20 data rows");
    /* NaN in row 13, column 1 */
    int64_t n = 20;
    adk_range_t rg = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), 1);
    double *x = calloc((size_t)rg.count * 2 + 1, sizeof(double));
    for (int64_t i = 0; i < rg.count; i++) {
        if (rg.start + i == 13) {
            x[i * 2 + 1] = NAN;
        }
        if (rg.start + i == 17) {
            x[i * 2] = INFINITY;
        }
    }
    adk_out_t *o = NULL;
    CU_ASSERT_FATAL(adk_out_create(ctx, path, ADK_OUT_FORCE, &o) == ADK_OK);
    int st = adk_out_rows(o, "/data", ADK_F64, x, n, rg.start, (size_t)rg.count, 2);
    CU_ASSERT_EQUAL(adk_out_commit(o, st), ADK_OK);
    free(x);
    snprintf(spec, sizeof(spec), "%s:/data", path);
    expect_fail(spec, NULL, ADK_EDATA, "row 13: NaN in column 1");
}

/* Rank 0 writes a text file; everyone waits. */
static void put_file(const char *path, const char *text)
{
    if (adk_ctx_rank(adk_test_ctx()) == 0) {
        FILE *f = fopen(path, "wb");
        fputs(text, f);
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void test_csv_basic(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char path[512];
    snprintf(path, sizeof(path), "%s", adk_test_path("io_basic.csv"));
    put_file(path, "# a comment\r\n"
                   "x, y ,label\r\n"
                   "\r\n"
                   "1.5, -2, 3\r\n"
                   "  # indented comment\n"
                   "4,5e-1,0\n"
                   "\n"
                   "7 ,8,-1"); /* no final newline */
    adk_rows_t *r = NULL;
    adk_read_opts_t ro = {1, NULL, "label"};
    int st = adk_io_read(ctx, path, &ro, &r);
    if (st != ADK_OK) {
        printf("# %s\n", adk_ctx_message(ctx));
    }
    CU_ASSERT_FATAL(st == ADK_OK);
    double want[3][2] = {{1.5, -2}, {4, 0.5}, {7, 8}};
    int64_t wl[3] = {3, 0, -1};
    CU_ASSERT_EQUAL(r->n, 3);
    CU_ASSERT_EQUAL(r->d, 2);
    for (size_t i = 0; i < r->nloc; i++) {
        int64_t g = r->row0 + (int64_t)i;
        CU_ASSERT(r->x[i * 2] == want[g][0] && r->x[i * 2 + 1] == want[g][1]);
        CU_ASSERT(r->labels && r->labels[i] == wl[g]);
    }
    adk_rows_free(r);
    /* label column by index (negative counts from the end); no header */
    put_file(path, "1,2,3\n4,5,6\n");
    adk_read_opts_t ri = {1, NULL, "-1"};
    CU_ASSERT_FATAL(adk_io_read(ctx, path, &ri, &r) == ADK_OK);
    CU_ASSERT_EQUAL(r->n, 2);
    CU_ASSERT_EQUAL(r->d, 2);
    for (size_t i = 0; i < r->nloc; i++) {
        CU_ASSERT_EQUAL(r->labels[i], r->row0 == 0 && i == 0 ? 3 : 6);
    }
    adk_rows_free(r);
    CU_ASSERT_FATAL(adk_io_read(ctx, path, NULL, &r) == ADK_OK);
    CU_ASSERT(r->d == 3 && r->labels == NULL);
    adk_rows_free(r);
}

static void test_csv_errors(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s", adk_test_path("io_bad.csv"));
    put_file(path, "a,b\n1,2\n3,4\n5\n6,7\n");
    expect_fail(path, NULL, ADK_EDATA, "line 4 (row 2): 1 fields, expected 2");
    put_file(path, "1,2\n3,abc\n");
    expect_fail(path, NULL, ADK_EDATA, "line 2 (row 1): non-numeric value 'abc' in column 1");
    put_file(path, "1,2\n3,\n");
    expect_fail(path, NULL, ADK_EDATA, "non-numeric value '' in column 1");
    put_file(path, "1,2\n#c\n3,nan\n");
    expect_fail(path, NULL, ADK_EDATA, "line 3 (row 1): NaN in column 1");
    put_file(path, "1,2\n-inf,4\n");
    expect_fail(path, NULL, ADK_EDATA, "Inf in column 0");
    put_file(path, "");
    expect_fail(path, NULL, ADK_EDATA, "no data rows");
    put_file(path, "# only comments\n\n");
    expect_fail(path, NULL, ADK_EDATA, "no data rows");
    put_file(path, "x,y\n");
    expect_fail(path, NULL, ADK_EDATA, "only a header");
    put_file(path, "x,y\n1,2\n");
    adk_read_opts_t ro = {1, NULL, "z"};
    expect_fail(path, &ro, ADK_EINVAL, "no column 'z'");
    put_file(path, "1,2.5\n");
    adk_read_opts_t rl = {1, NULL, "1"};
    expect_fail(path, &rl, ADK_EDATA, "label 2.5 is not an integer");
    expect_fail("missing.csv", NULL, ADK_EIO, "cannot open 'missing.csv'");
}

static void test_csv_many_rows(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char path[512];
    snprintf(path, sizeof(path), "%s", adk_test_path("io_many.csv"));
    const int64_t n = 1237;
    if (adk_ctx_rank(ctx) == 0) {
        FILE *f = fopen(path, "w");
        fprintf(f, "c0,c1,c2\n");
        for (int64_t g = 0; g < n; g++) {
            if (g % 97 == 5) {
                fprintf(f, "# comment %lld with, commas\n\n", (long long)g);
            }
            /* widely varying line lengths move the byte-range cuts around */
            fprintf(f, "%.17g,%*s%.17g,%.17g\n", val(g, 0), (int)(g % 41), "", val(g, 1),
                    val(g, 2));
        }
        fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    int64_t aligns[] = {1, 16, ADK_ALIGN_REPRO};
    for (int a = 0; a < 3; a++) {
        adk_rows_t *r = NULL;
        adk_read_opts_t ro = {aligns[a], NULL, NULL};
        CU_ASSERT_FATAL(adk_io_read(ctx, path, &ro, &r) == ADK_OK);
        adk_range_t rg = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), aligns[a]);
        CU_ASSERT(r->n == n && r->d == 3 && r->row0 == rg.start && (int64_t)r->nloc == rg.count);
        CU_ASSERT(rows_match(r, 0));
        int64_t sum = (int64_t)r->nloc, tot = 0;
        MPI_Allreduce(&sum, &tot, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
        CU_ASSERT_EQUAL(tot, n);
        adk_rows_free(r);
    }
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {{"HDF5 round trip, f64/f32, alignments", test_h5_round_trip},
                                       {"HDF5 bad input", test_h5_errors},
                                       {"CSV header, comments, CRLF, labels", test_csv_basic},
                                       {"CSV bad input", test_csv_errors},
                                       {"CSV byte-range split over many rows", test_csv_many_rows},
                                       {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_io", tests);
}
