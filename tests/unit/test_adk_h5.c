/*
 * Unit tests for adk_h5: one open handle serving many reads (row blocks at several alignments,
 * vectors, labels, small replicated arrays, attributes, existence and shape), values compared
 * exactly with the analytic values written; bad input gives one agreed code and a message naming
 * file, dataset, row and column; input specs.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_h5.h"
#include "adk_out.h"
#include "adk_part.h"
#include "adk_test.h"

#define N 37
#define D 3

static char in_path[1024]; /* the input file every test reads */

static double val(int64_t g, size_t j)
{
    return (double)g * 0.5 - (double)j * 3.25 + 1e-3 * (double)(g % 7);
}

static double vec(int64_t g)
{
    return (double)g * 1.5 - 4.0 + 1.0 / 3.0;
}

static int64_t lab(int64_t g)
{
    return g % 5 - 2;
}

static const double small1[5] = {0.1, -2.5, 1e300, 4.0, -0.0};
static const double small2[6] = {1, 2, 3, 4, 5, 6.5};
static const uint64_t big_u64 = 9007199254740993ULL; /* 2^53 + 1: not a double */

/* Write the input file (a group of one, replacing an old copy). */
static int write_input(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    snprintf(in_path, sizeof(in_path), "%s", adk_test_path("h5_in.h5"));
    adk_range_t rg = adk_part_rows(N, adk_ctx_size(ctx), adk_ctx_rank(ctx), 1);
    size_t nl = (size_t)rg.count;
    double *x = calloc(nl * D + 1, sizeof(double));
    float *xf = calloc(nl * D + 1, sizeof(float));
    double *v = calloc(nl + 1, sizeof(double));
    double *nan2 = calloc(nl * 2 + 1, sizeof(double));
    int64_t *l = calloc(nl + 1, sizeof(int64_t));
    int64_t *lbig = calloc(nl + 1, sizeof(int64_t));
    double *lbad = calloc(nl + 1, sizeof(double));
    for (size_t i = 0; i < nl; i++) {
        int64_t g = rg.start + (int64_t)i;
        for (size_t j = 0; j < D; j++) {
            x[i * D + j] = val(g, j);
            xf[i * D + j] = (float)val(g, j);
        }
        v[i] = vec(g);
        l[i] = lab(g);
        lbig[i] = g == 11 ? 1000 : lab(g);
        lbad[i] = g == 23 ? 2.5 : (double)lab(g);
        nan2[i * 2] = (double)g;
        nan2[i * 2 + 1] = g == 13 ? NAN : (g == 17 ? INFINITY : 1.0);
    }
    adk_out_group_t *grp = NULL;
    adk_out_t *o = NULL;
    int st = adk_out_group_create(ctx, ADK_OUT_FORCE, &grp);
    if (st == ADK_OK) {
        st = adk_out_h5_create(grp, in_path, &o);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/m", ADK_F64, x, N, rg.start, nl, D);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/m32", ADK_F32, xf, N, rg.start, nl, D);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/grp/v", ADK_F64, v, N, rg.start, nl, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/lab", ADK_I64, l, N, rg.start, nl, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/labbig", ADK_I64, lbig, N, rg.start, nl, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/labbad", ADK_F64, lbad, N, rg.start, nl, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/nan", ADK_F64, nan2, N, rg.start, nl, 2);
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/small1", ADK_F64, small1, 5, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/small2", ADK_F64, small2, 2, 3);
    }
    if (st == ADK_OK) {
        const double inf3[3] = {1.0, INFINITY, -INFINITY};
        st = adk_out_small(o, "/smallinf", ADK_F64, inf3, 3, 0);
    }
    if (st == ADK_OK) {
        const double nan3[3] = {1.0, 2.0, NAN};
        st = adk_out_small(o, "/smallnan", ADK_F64, nan3, 3, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/", "alpha", 0.125);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_u64(o, "/", "count", big_u64);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/", "title", "hello, world");
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/m", "units", "metres");
    }
    st = adk_out_group_commit(grp, st);
    free(x);
    free(xf);
    free(v);
    free(nan2);
    free(l);
    free(lbig);
    free(lbad);
    return st;
}

/* Whether some rank holds a message containing @p needle (the lowest failing one is reported). */
static int message_seen(const char *needle)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int mine = strstr(adk_ctx_message(ctx), needle) != NULL, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (!any) {
        printf("# rank %d: expected '%s', got '%s'\n", adk_ctx_rank(ctx), needle,
               adk_ctx_message(ctx));
    }
    return any;
}

/* Whether every rank got the same status @p st. */
static int same_everywhere(int st)
{
    int lo = 0, hi = 0;
    MPI_Allreduce(&st, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&st, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

static int open_input(adk_h5_t **f)
{
    int st = write_input();
    if (st == ADK_OK) {
        st = adk_h5_open(adk_test_ctx(), in_path, f);
    }
    return st;
}

static void test_rows_many_reads(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(open_input(&f) == ADK_OK);
    CU_ASSERT_STRING_EQUAL(adk_h5_name(f), in_path);
    const int64_t aligns[] = {1, ADK_ALIGN_REPRO, 7, 64};
    for (int a = 0; a < 4; a++) {
        for (int f32 = 0; f32 < 2; f32++) {
            adk_rows_t *r = NULL;
            CU_ASSERT_FATAL(adk_h5_read_rows(f, f32 ? "/m32" : "/m", NULL, aligns[a], 0, 1, &r) ==
                            ADK_OK);
            adk_range_t rg = adk_part_rows(N, size, rank, aligns[a]);
            CU_ASSERT_EQUAL(r->n, N);
            CU_ASSERT_EQUAL(r->d, D);
            CU_ASSERT_EQUAL(r->row0, rg.start);
            CU_ASSERT_EQUAL((int64_t)r->nloc, rg.count);
            CU_ASSERT_EQUAL(r->align, adk_part_align(N, aligns[a]));
            CU_ASSERT_PTR_NULL(r->labels);
            int ok = 1;
            for (size_t i = 0; i < r->nloc; i++) {
                for (size_t j = 0; j < D; j++) {
                    double want = val(r->row0 + (int64_t)i, j);
                    ok &= r->x[i * D + j] == (f32 ? (double)(float)want : want);
                }
            }
            CU_ASSERT(ok);
            int64_t cnt = (int64_t)r->nloc, tot = 0;
            MPI_Allreduce(&cnt, &tot, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
            CU_ASSERT_EQUAL(tot, N);
            char spec[1200];
            snprintf(spec, sizeof(spec), "%s:%s", in_path, f32 ? "/m32" : "/m");
            CU_ASSERT_PTR_NOT_NULL_FATAL(r->spec);
            CU_ASSERT_STRING_EQUAL(r->spec, spec);
            adk_rows_free(r);
        }
    }
    /* a named source */
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_h5_read_rows(f, "/m", "training data", 1, 0, 0, &r) == ADK_OK);
    CU_ASSERT_STRING_EQUAL(r->spec, "training data");
    adk_rows_free(r);
    /* vector mode: a 1-D dataset is one column */
    for (int a = 0; a < 3; a++) {
        CU_ASSERT_FATAL(adk_h5_read_rows(f, "/grp/v", NULL, aligns[a], 1, 1, &r) == ADK_OK);
        adk_range_t rg = adk_part_rows(N, size, rank, aligns[a]);
        CU_ASSERT_EQUAL(r->n, N);
        CU_ASSERT_EQUAL(r->d, 1);
        CU_ASSERT_EQUAL(r->row0, rg.start);
        CU_ASSERT_EQUAL((int64_t)r->nloc, rg.count);
        int ok = 1;
        for (size_t i = 0; i < r->nloc; i++) {
            ok &= r->x[i] == vec(r->row0 + (int64_t)i);
        }
        CU_ASSERT(ok);
        adk_rows_free(r);
    }
    /* an integer dataset read as doubles */
    CU_ASSERT_FATAL(adk_h5_read_rows(f, "/lab", NULL, 7, 1, 1, &r) == ADK_OK);
    int ok = 1;
    for (size_t i = 0; i < r->nloc; i++) {
        ok &= r->x[i] == (double)lab(r->row0 + (int64_t)i);
    }
    CU_ASSERT(ok);
    adk_rows_free(r);
    /* without finite, NaN and Inf are read as they are */
    CU_ASSERT_FATAL(adk_h5_read_rows(f, "/nan", NULL, 1, 0, 0, &r) == ADK_OK);
    ok = 1;
    for (size_t i = 0; i < r->nloc; i++) {
        int64_t g = r->row0 + (int64_t)i;
        double y = r->x[i * 2 + 1];
        ok &= r->x[i * 2] == (double)g;
        ok &= g == 13 ? isnan(y) : (g == 17 ? y == INFINITY : y == 1.0);
    }
    CU_ASSERT(ok);
    adk_rows_free(r);
    adk_h5_close(f);
    adk_h5_close(NULL);
}

static void test_labels(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(open_input(&f) == ADK_OK);
    const int64_t aligns[] = {1, ADK_ALIGN_REPRO, 7};
    for (int a = 0; a < 3; a++) {
        adk_rows_t *r = NULL;
        CU_ASSERT_FATAL(adk_h5_read_rows(f, "/m", NULL, aligns[a], 0, 1, &r) == ADK_OK);
        CU_ASSERT_FATAL(adk_h5_read_labels(f, "/lab", "labels", 2, r) == ADK_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r->labels);
        int ok = 1;
        for (size_t i = 0; i < r->nloc; i++) {
            ok &= r->labels[i] == lab(r->row0 + (int64_t)i);
        }
        CU_ASSERT(ok);
        /* another noun and a larger limit; the labels are replaced */
        CU_ASSERT_FATAL(adk_h5_read_labels(f, "/labbig", "cluster", 1000, r) == ADK_OK);
        ok = 1;
        for (size_t i = 0; i < r->nloc; i++) {
            int64_t g = r->row0 + (int64_t)i;
            ok &= r->labels[i] == (g == 11 ? 1000 : lab(g));
        }
        CU_ASSERT(ok);
        adk_rows_free(r);
    }
    /* the magnitude limit, with both wordings */
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_h5_read_rows(f, "/m", NULL, 1, 0, 1, &r) == ADK_OK);
    adk_ctx_clear(ctx);
    int st = adk_h5_read_labels(f, "/labbig", "labels", 999, r);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT(message_seen("row 11"));
    CU_ASSERT(message_seen("/labbig"));
    CU_ASSERT(message_seen("1000 is not an integer label"));
    adk_ctx_clear(ctx);
    st = adk_h5_read_labels(f, "/labbig", "cluster", 999.5, r);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(same_everywhere(st));
    char want[1200];
    snprintf(want, sizeof(want), "%s row 11: cluster 1000 is not an integer", in_path);
    CU_ASSERT(message_seen(want));
    adk_ctx_clear(ctx);
    /* a non-integer value names its row */
    st = adk_h5_read_labels(f, "/labbad", "labels", 100, r);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(same_everywhere(st));
    snprintf(want, sizeof(want), "labels %s:/labbad row 23: 2.5 is not an integer label", in_path);
    CU_ASSERT(message_seen(want));
    adk_ctx_clear(ctx);
    st = adk_h5_read_labels(f, "/labbad", "cluster", 100, r);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    snprintf(want, sizeof(want), "%s row 23: cluster 2.5 is not an integer", in_path);
    CU_ASSERT(message_seen(want));
    adk_ctx_clear(ctx);
    /* wrong length and wrong dimensionality */
    st = adk_h5_read_labels(f, "/small1", "labels", 100, r);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(message_seen("5 values for 37 data rows"));
    adk_ctx_clear(ctx);
    st = adk_h5_read_labels(f, "/m", "labels", 100, r);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(message_seen("expected 1-D"));
    adk_ctx_clear(ctx);
    st = adk_h5_read_labels(f, "/nolabels", "labels", 100, r);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(message_seen("no dataset '/nolabels'"));
    adk_ctx_clear(ctx);
    /* the handle still serves reads after failures */
    CU_ASSERT_EQUAL(adk_h5_read_labels(f, "/lab", "labels", 2, r), ADK_OK);
    int ok = r->labels != NULL;
    for (size_t i = 0; ok && i < r->nloc; i++) {
        ok &= r->labels[i] == lab(r->row0 + (int64_t)i);
    }
    CU_ASSERT(ok);
    adk_rows_free(r);
    adk_h5_close(f);
}

static void test_small(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(open_input(&f) == ADK_OK);
    double *s = NULL;
    int64_t rows = -1, cols = -1;
    int nd = -1;
    CU_ASSERT_FATAL(adk_h5_read_small(f, "/small1", 5, &s, &rows, &cols, &nd) == ADK_OK);
    CU_ASSERT(rows == 5 && cols == 1 && nd == 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT(memcmp(s, small1, sizeof(small1)) == 0); /* bitwise, -0.0 included */
    free(s);
    CU_ASSERT_FATAL(adk_h5_read_small(f, "/small2", 6, &s, &rows, &cols, &nd) == ADK_OK);
    CU_ASSERT(rows == 2 && cols == 3 && nd == 2);
    CU_ASSERT(memcmp(s, small2, sizeof(small2)) == 0);
    free(s);
    /* +-Inf passes */
    CU_ASSERT_FATAL(adk_h5_read_small(f, "/smallinf", 10, &s, &rows, &cols, &nd) == ADK_OK);
    CU_ASSERT(rows == 3 && s[0] == 1.0 && s[1] == INFINITY && s[2] == -INFINITY);
    free(s);
    /* a distributed dataset read whole on every rank */
    CU_ASSERT_FATAL(adk_h5_read_small(f, "/m", N * D, &s, &rows, &cols, &nd) == ADK_OK);
    CU_ASSERT(rows == N && cols == D && nd == 2);
    int ok = 1;
    for (int64_t g = 0; g < N; g++) {
        for (size_t j = 0; j < D; j++) {
            ok &= s[g * D + (int64_t)j] == val(g, j);
        }
    }
    CU_ASSERT(ok);
    free(s);
    /* too large, NaN, missing */
    adk_ctx_clear(ctx);
    s = (double *)&ok;
    int st = adk_h5_read_small(f, "/small2", 5, &s, &rows, &cols, &nd);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT(message_seen("/small2"));
    CU_ASSERT(message_seen("too large"));
    adk_ctx_clear(ctx);
    st = adk_h5_read_small(f, "/smallnan", 10, &s, &rows, &cols, &nd);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT(message_seen("/smallnan row 2: NaN"));
    adk_ctx_clear(ctx);
    st = adk_h5_read_small(f, "/nothere", 10, &s, &rows, &cols, &nd);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT(message_seen("no dataset '/nothere'"));
    adk_ctx_clear(ctx);
    adk_h5_close(f);
}

static void test_attr_exists_shape(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(open_input(&f) == ADK_OK);
    double a = 0;
    uint64_t u = 0;
    char buf[64];
    int found = -1;
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "alpha", ADK_ATTR_F64, &a, 0, NULL), ADK_OK);
    CU_ASSERT_EQUAL(a, 0.125);
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "count", ADK_ATTR_U64, &u, 0, &found), ADK_OK);
    CU_ASSERT_EQUAL(u, big_u64);
    CU_ASSERT_EQUAL(found, 1);
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "title", ADK_ATTR_STR, buf, sizeof(buf), NULL), ADK_OK);
    CU_ASSERT_STRING_EQUAL(buf, "hello, world");
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/m", "units", ADK_ATTR_STR, buf, sizeof(buf), NULL), ADK_OK);
    CU_ASSERT_STRING_EQUAL(buf, "metres");
    /* truncated to the buffer, terminated */
    memset(buf, 'x', sizeof(buf));
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "title", ADK_ATTR_STR, buf, 6, NULL), ADK_OK);
    CU_ASSERT_STRING_EQUAL(buf, "hello");
    /* provenance written by adk_out, read through the same handle */
    uint64_t ranks = 0;
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "mpi_ranks", ADK_ATTR_U64, &ranks, 0, NULL), ADK_OK);
    CU_ASSERT_EQUAL(ranks, (uint64_t)adk_ctx_size(ctx));
    /* missing: found = 0 and OK, or ADK_EDATA naming it */
    found = -1;
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "nope", ADK_ATTR_F64, &a, 0, &found), ADK_OK);
    CU_ASSERT_EQUAL(found, 0);
    found = -1;
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/m", "nope", ADK_ATTR_STR, buf, sizeof(buf), &found), ADK_OK);
    CU_ASSERT_EQUAL(found, 0);
    adk_ctx_clear(ctx);
    int st = adk_h5_attr(f, "/", "nope", ADK_ATTR_F64, &a, 0, NULL);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT(message_seen("no attribute 'nope'"));
    adk_ctx_clear(ctx);
    /* a string is not a number, a number is not a string */
    st = adk_h5_attr(f, "/", "title", ADK_ATTR_F64, &a, 0, NULL);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    adk_ctx_clear(ctx);
    st = adk_h5_attr(f, "/", "alpha", ADK_ATTR_STR, buf, sizeof(buf), NULL);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    CU_ASSERT(message_seen("not a string"));
    adk_ctx_clear(ctx);

    int ex = -1;
    const char *present[] = {"/m", "/grp", "/grp/v", "/small2"};
    for (int k = 0; k < 4; k++) {
        ex = -1;
        CU_ASSERT_EQUAL(adk_h5_exists(f, present[k], &ex), ADK_OK);
        CU_ASSERT_EQUAL(ex, 1);
    }
    const char *absent[] = {"/nope", "/grp/w", "/no/such/group"};
    for (int k = 0; k < 3; k++) {
        ex = -1;
        CU_ASSERT_EQUAL(adk_h5_exists(f, absent[k], &ex), ADK_OK);
        CU_ASSERT_EQUAL(ex, 0);
    }

    int nd = -1, num = -1;
    int64_t dims[2] = {-1, -1};
    CU_ASSERT_EQUAL(adk_h5_shape(f, "/m", &ex, &nd, dims, &num), ADK_OK);
    CU_ASSERT(ex == 1 && nd == 2 && dims[0] == N && dims[1] == D && num == 1);
    CU_ASSERT_EQUAL(adk_h5_shape(f, "/grp/v", &ex, &nd, dims, &num), ADK_OK);
    CU_ASSERT(ex == 1 && nd == 1 && dims[0] == N && dims[1] == 0 && num == 1);
    CU_ASSERT_EQUAL(adk_h5_shape(f, "/lab", &ex, &nd, dims, &num), ADK_OK);
    CU_ASSERT(ex == 1 && nd == 1 && dims[0] == N && dims[1] == 0 && num == 1);
    CU_ASSERT_EQUAL(adk_h5_shape(f, "/small2", &ex, &nd, dims, &num), ADK_OK);
    CU_ASSERT(ex == 1 && nd == 2 && dims[0] == 2 && dims[1] == 3 && num == 1);
    CU_ASSERT_EQUAL(adk_h5_shape(f, "/missing", &ex, &nd, dims, &num), ADK_OK);
    CU_ASSERT(ex == 0 && nd == 0 && dims[0] == 0 && dims[1] == 0 && num == 0);
    CU_ASSERT_EQUAL(adk_h5_shape(f, "/no/such/group", &ex, &nd, dims, &num), ADK_OK);
    CU_ASSERT_EQUAL(ex, 0);
    /* a string dataset (numeric = 0) cannot be written with adk_out: not tested here */
    /* every rank got the same answer */
    int64_t mine = dims[0] + 10 * ex, lo = 0, hi = 0;
    MPI_Allreduce(&mine, &lo, 1, MPI_INT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &hi, 1, MPI_INT64_T, MPI_MAX, MPI_COMM_WORLD);
    CU_ASSERT_EQUAL(lo, hi);
    CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "");
    adk_h5_close(f);
}

/* Read @p dset expecting failure with @p code and a message containing @p needle. */
static void expect_rows_fail(adk_h5_t *f, const char *dset, int vector, int finite, int code,
                             const char *needle)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_ctx_clear(ctx);
    adk_rows_t *r = (adk_rows_t *)&code;
    int st = adk_h5_read_rows(f, dset, NULL, 1, vector, finite, &r);
    CU_ASSERT_EQUAL(st, code);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT(message_seen(needle));
    adk_ctx_clear(ctx);
}

static void test_errors(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx);
    adk_h5_t *f = (adk_h5_t *)&rank;
    /* a missing file: errno's words, the name */
    char missing[1024];
    snprintf(missing, sizeof(missing), "%s", adk_test_path("no-such-file.h5"));
    adk_ctx_clear(ctx);
    int st = adk_h5_open(ctx, missing, &f);
    CU_ASSERT_EQUAL(st, ADK_EIO);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT(message_seen(missing));
    CU_ASSERT(message_seen("No such file"));
    adk_ctx_clear(ctx);
    /* a file that is not HDF5 */
    char bogus[1024];
    snprintf(bogus, sizeof(bogus), "%s", adk_test_path("not-hdf5.h5"));
    if (rank == 0) {
        FILE *fp = fopen(bogus, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
        fputs("this is plain text, not an HDF5 file\n", fp);
        fclose(fp);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    f = (adk_h5_t *)&rank;
    st = adk_h5_open(ctx, bogus, &f);
    CU_ASSERT_EQUAL(st, ADK_EIO);
    CU_ASSERT(same_everywhere(st));
    CU_ASSERT_PTR_NULL(f);
    CU_ASSERT(message_seen(bogus));
    CU_ASSERT(message_seen("not a readable HDF5 file"));
    adk_ctx_clear(ctx);

    CU_ASSERT_FATAL(open_input(&f) == ADK_OK);
    expect_rows_fail(f, "/nope", 0, 1, ADK_EDATA, "no dataset '/nope'");
    expect_rows_fail(f, "/no/such/group", 0, 1, ADK_EDATA, "no dataset '/no/such/group'");
    expect_rows_fail(f, "/grp", 0, 1, ADK_EDATA, "no dataset '/grp'");
    /* wrong dimensionality, both ways */
    expect_rows_fail(f, "/grp/v", 0, 1, ADK_EDATA, "expected a 2-D");
    expect_rows_fail(f, "/m", 1, 1, ADK_EDATA, "expected one value per row");
    /* NaN in row 13, column 1 (Inf in row 17 comes later) */
    char want[1200];
    snprintf(want, sizeof(want), "%s:/nan row 13: NaN in column 1", in_path);
    expect_rows_fail(f, "/nan", 0, 1, ADK_EDATA, want);
    /* and the handle is still good */
    adk_rows_t *r = NULL;
    CU_ASSERT_EQUAL(adk_h5_read_rows(f, "/grp/v", NULL, 1, 1, 1, &r), ADK_OK);
    CU_ASSERT(r && r->n == N && r->d == 1);
    adk_rows_free(r);
    adk_h5_close(f);
}

static void test_split_spec(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    struct {
        const char *spec;
        int st;
        const char *file, *dset;
        int csv;
    } cases[] = {
        {"f.h5:/a/b", ADK_OK, "f.h5", "/a/b", 0}, {"dir/f.h5", ADK_OK, "dir/f.h5", "/data", 0},
        {"f.hdf5", ADK_OK, "f.hdf5", "/data", 0}, {"f.he5", ADK_OK, "f.he5", "/data", 0},
        {"F.H5", ADK_OK, "F.H5", "/data", 0},     {"f.csv", ADK_OK, "f.csv", NULL, 1},
        {"F.CSV", ADK_OK, "F.CSV", NULL, 1},      {"table.txt", ADK_OK, "table.txt", NULL, 1},
        {"x.dat", ADK_EINVAL, NULL, NULL, 0},     {"h5", ADK_EINVAL, NULL, NULL, 0},
        {":/x", ADK_EINVAL, NULL, NULL, 0},       {"", ADK_EINVAL, NULL, NULL, 0},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char *file = (char *)"junk", *dset = (char *)"junk";
        int csv = -1;
        adk_ctx_clear(ctx);
        int st = adk_h5_split_spec(ctx, cases[k].spec, &file, &dset, &csv);
        CU_ASSERT_EQUAL(st, cases[k].st);
        if (st != cases[k].st) {
            printf("# '%s': %d\n", cases[k].spec, st);
        }
        if (cases[k].st != ADK_OK) {
            CU_ASSERT_PTR_NULL(file);
            CU_ASSERT_PTR_NULL(dset);
            CU_ASSERT(adk_ctx_message(ctx)[0] != '\0');
            continue;
        }
        CU_ASSERT_EQUAL(csv, cases[k].csv);
        CU_ASSERT(file && strcmp(file, cases[k].file) == 0);
        if (cases[k].dset) {
            CU_ASSERT(dset && strcmp(dset, cases[k].dset) == 0);
        } else {
            CU_ASSERT_PTR_NULL(dset);
        }
        free(file);
        free(dset);
    }
    char *file = NULL, *dset = NULL;
    int csv = 0;
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_h5_split_spec(ctx, "x.dat", &file, &dset, &csv), ADK_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "'x.dat'"));
    adk_ctx_clear(ctx);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"one handle: row blocks at several alignments, vectors", test_rows_many_reads},
        {"labels: values, nouns, magnitude limit, bad rows", test_labels},
        {"read_small: 1-D, 2-D, Inf, limit, NaN", test_small},
        {"attributes, exists, shape", test_attr_exists_shape},
        {"bad input: missing, not HDF5, no dataset, shape, NaN", test_errors},
        {"split_spec", test_split_spec},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_h5", tests);
}
