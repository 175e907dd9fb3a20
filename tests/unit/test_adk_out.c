/*
 * Unit tests for adk_out: groups of outputs committed all-or-nothing (several HDF5 and text
 * files renamed together, a failure on one rank removing every temporary file and leaving
 * existing files byte-identical even with ADK_OUT_FORCE), no overwrite without --force, updates,
 * provenance, slab-wise datasets and exact text. Everything is read back with adk_h5.
 */
#include "config.h"

#include "adk_gitversion.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adk_h5.h"
#include "adk_out.h"
#include "adk_part.h"
#include "adk_test.h"

#define N 37
#define D 2

/* Number of "*.tmp-*" entries in @p dir, after every rank has left the commit. */
static int count_tmps(const char *dir)
{
    MPI_Barrier(MPI_COMM_WORLD);
    DIR *dp = opendir(dir);
    if (!dp) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        n += strstr(e->d_name, ".tmp-") != NULL;
    }
    closedir(dp);
    return n;
}

static int exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* The whole file, malloc'd (NULL if unreadable); *len its size. */
static char *slurp(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
            }
            buf = nb;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static int same_bytes(const char *path, const char *want, size_t wlen)
{
    size_t len;
    char *got = slurp(path, &len);
    int same = got && len == wlen && memcmp(got, want, len) == 0;
    free(got);
    return same;
}

static double xval(int tag, int64_t g, size_t j)
{
    return (double)tag * 1000.0 + (double)g * 0.25 - (double)j;
}

/* Stage an HDF5 output holding /x (N x D, xval(tag)) and an attribute "tag". */
static int stage_h5(adk_out_group_t *g, const char *path, int tag)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_range_t rg = adk_part_rows(N, adk_ctx_size(ctx), adk_ctx_rank(ctx), 1);
    double *x = calloc((size_t)rg.count * D + 1, sizeof(double));
    for (int64_t i = 0; i < rg.count; i++) {
        for (size_t j = 0; j < D; j++) {
            x[(size_t)i * D + j] = xval(tag, rg.start + i, j);
        }
    }
    adk_out_t *o = NULL;
    int st = adk_out_h5_create(g, path, &o);
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/x", ADK_F64, x, N, rg.start, (size_t)rg.count, D);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/", "tag", tag);
    }
    free(x);
    return st;
}

/* Whether @p path is a complete HDF5 output of stage_h5 with @p tag (collective). */
static int h5_has_tag(const char *path, int tag)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_h5_t *f = NULL;
    if (adk_h5_open(ctx, path, &f) != ADK_OK) {
        adk_ctx_clear(ctx);
        return 0;
    }
    int ok = 1;
    double *s = NULL;
    int64_t rows = 0, cols = 0;
    int nd = 0;
    if (adk_h5_read_small(f, "/x", N * D, &s, &rows, &cols, &nd) == ADK_OK) {
        ok &= rows == N && cols == D && nd == 2;
        for (int64_t g = 0; ok && g < N; g++) {
            for (size_t j = 0; j < D; j++) {
                ok &= s[(size_t)g * D + j] == xval(tag, g, j);
            }
        }
        free(s);
    } else {
        ok = 0;
    }
    uint64_t t = 0;
    ok &= adk_h5_attr(f, "/", "tag", ADK_ATTR_U64, &t, 0, NULL) == ADK_OK && t == (uint64_t)tag;
    adk_h5_close(f);
    adk_ctx_clear(ctx);
    return ok;
}

/* The status the last rank reports, ADK_OK elsewhere: a failure on one rank only. */
static int last_rank_fails(int code)
{
    adk_ctx_t *ctx = adk_test_ctx();
    return adk_ctx_rank(ctx) == adk_ctx_size(ctx) - 1 ? code : ADK_OK;
}

/* Stage the three outputs of one run: two HDF5 files and a text file. */
static int stage_three(adk_out_group_t *g, const char *h1, const char *h2, const char *txt, int tag,
                       const char *text)
{
    int st = stage_h5(g, h1, tag);
    if (st == ADK_OK) {
        st = stage_h5(g, h2, tag + 1);
    }
    if (st == ADK_OK) {
        st = adk_out_text(g, txt, adk_ctx_rank(adk_test_ctx()) == 0 ? text : NULL);
    }
    return st;
}

static void test_group_commit(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], h1[1200], h2[1200], txt[1200];
    adk_test_fresh_dir("out_group", dir, sizeof(dir));
    snprintf(h1, sizeof(h1), "%s/one.h5", dir);
    snprintf(h2, sizeof(h2), "%s/two.h5", dir);
    snprintf(txt, sizeof(txt), "%s/summary.json", dir);
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    int st = stage_three(g, h1, h2, txt, 1, "{\"k\": 3}\n");
    CU_ASSERT_EQUAL(st, ADK_OK);
    /* staged under temporary names only */
    CU_ASSERT_EQUAL(count_tmps(dir), 3);
    CU_ASSERT(!exists(h1) && !exists(h2) && !exists(txt));
    MPI_Barrier(MPI_COMM_WORLD);
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_OK);
    CU_ASSERT(exists(h1) && exists(h2) && exists(txt));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
    CU_ASSERT(h5_has_tag(h1, 1));
    CU_ASSERT(h5_has_tag(h2, 2));
    CU_ASSERT(same_bytes(txt, "{\"k\": 3}\n", 9));
    /* NULL group: the status passes through */
    CU_ASSERT_EQUAL(adk_out_group_commit(NULL, ADK_EDATA), ADK_EDATA);
    CU_ASSERT_EQUAL(adk_out_group_commit(NULL, ADK_OK), ADK_OK);
}

static void test_group_fail_one_rank(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], h1[1200], h2[1200], txt[1200];
    adk_test_fresh_dir("out_fail", dir, sizeof(dir));
    snprintf(h1, sizeof(h1), "%s/one.h5", dir);
    snprintf(h2, sizeof(h2), "%s/two.h5", dir);
    snprintf(txt, sizeof(txt), "%s/table.csv", dir);
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    int st = stage_three(g, h1, h2, txt, 1, "a,b\n");
    CU_ASSERT_EQUAL(st, ADK_OK);
    CU_ASSERT_EQUAL(count_tmps(dir), 3);
    MPI_Barrier(MPI_COMM_WORLD);
    st = adk_out_group_commit(g, last_rank_fails(ADK_EDATA));
    CU_ASSERT_EQUAL(st, ADK_EDATA); /* on every rank */
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
    CU_ASSERT(!exists(h1));
    CU_ASSERT(!exists(h2));
    CU_ASSERT(!exists(txt));
    /* a failing member in the middle of staging: what was staged before goes too */
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    st = stage_h5(g, h1, 5);
    CU_ASSERT_EQUAL(st, ADK_OK);
    adk_out_t *o = NULL;
    char nodir[1400];
    snprintf(nodir, sizeof(nodir), "%s/no-such-dir/x.h5", dir);
    adk_ctx_clear(ctx);
    st = adk_out_h5_create(g, nodir, &o);
    CU_ASSERT_EQUAL(st, ADK_EIO);
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_EIO);
    adk_ctx_clear(ctx);
    CU_ASSERT(!exists(h1));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
}

static void test_force_keeps_on_failure(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], h1[1200], h2[1200], txt[1200];
    adk_test_fresh_dir("out_force", dir, sizeof(dir));
    snprintf(h1, sizeof(h1), "%s/one.h5", dir);
    snprintf(h2, sizeof(h2), "%s/two.h5", dir);
    snprintf(txt, sizeof(txt), "%s/notes.txt", dir);
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    CU_ASSERT_FATAL(adk_out_group_commit(g, stage_three(g, h1, h2, txt, 1, "old\n")) == ADK_OK);
    size_t l1, l2, l3;
    char *b1 = slurp(h1, &l1), *b2 = slurp(h2, &l2), *b3 = slurp(txt, &l3);
    CU_ASSERT_FATAL(b1 && b2 && b3);
    CU_ASSERT(l3 == 4 && memcmp(b3, "old\n", 4) == 0);
    /* a failing run with --force: the old files stay, byte for byte */
    CU_ASSERT_FATAL(adk_out_group_create(ctx, ADK_OUT_FORCE, &g) == ADK_OK);
    int st = stage_three(g, h1, h2, txt, 10, "new text\n");
    CU_ASSERT_EQUAL(st, ADK_OK);
    CU_ASSERT_EQUAL(count_tmps(dir), 3);
    /* nothing is replaced before the commit */
    CU_ASSERT(same_bytes(h1, b1, l1) && same_bytes(h2, b2, l2) && same_bytes(txt, b3, l3));
    MPI_Barrier(MPI_COMM_WORLD);
    CU_ASSERT_EQUAL(adk_out_group_commit(g, last_rank_fails(ADK_ENOCONV)), ADK_ENOCONV);
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
    CU_ASSERT(same_bytes(h1, b1, l1));
    CU_ASSERT(same_bytes(h2, b2, l2));
    CU_ASSERT(same_bytes(txt, b3, l3));
    CU_ASSERT(h5_has_tag(h1, 1));
    /* a succeeding one replaces all three */
    CU_ASSERT_FATAL(adk_out_group_create(ctx, ADK_OUT_FORCE, &g) == ADK_OK);
    st = stage_three(g, h1, h2, txt, 10, "new text\n");
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_OK);
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
    CU_ASSERT(!same_bytes(h1, b1, l1));
    CU_ASSERT(!same_bytes(h2, b2, l2));
    CU_ASSERT(h5_has_tag(h1, 10));
    CU_ASSERT(h5_has_tag(h2, 11));
    CU_ASSERT(same_bytes(txt, "new text\n", 9));
    free(b1);
    free(b2);
    free(b3);
}

/* Rank 0 writes @p text to @p path; everyone waits. */
static void put_text(const char *path, const char *text)
{
    if (adk_ctx_rank(adk_test_ctx()) == 0) {
        FILE *f = fopen(path, "w");
        if (f) {
            fputs(text, f);
            fclose(f);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* The commit itself fails half way (the second file cannot be put in place): the first is put
 * back, byte for byte; a path that appears after the check is never replaced without --force. */
static void test_publish_all_or_nothing(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], a[1200], b[1200], inner[1300];
    adk_test_fresh_dir("out_publish", dir, sizeof(dir));
    snprintf(a, sizeof(a), "%s/a.txt", dir);
    snprintf(b, sizeof(b), "%s/b.txt", dir);
    snprintf(inner, sizeof(inner), "%s/keep", b);
    put_text(a, "OLD-A");
    if (adk_ctx_rank(ctx) == 0) {
        mkdir(b, 0755); /* a non-empty directory: rename(2) onto it fails */
    }
    put_text(inner, "x");
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, ADK_OUT_FORCE, &g) == ADK_OK);
    int st = adk_out_text(g, a, "NEW-A");
    if (st == ADK_OK) {
        st = adk_out_text(g, b, "NEW-B");
    }
    CU_ASSERT_EQUAL(st, ADK_OK);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_EIO);
    adk_ctx_clear(ctx);
    CU_ASSERT(same_bytes(a, "OLD-A", 5));
    CU_ASSERT(same_bytes(inner, "x", 1));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
    int backups = 0;
    if (adk_ctx_rank(ctx) == 0) {
        DIR *dp = opendir(dir);
        struct dirent *e;
        while (dp && (e = readdir(dp)) != NULL) {
            backups += strstr(e->d_name, ".old-") != NULL;
        }
        if (dp) {
            closedir(dp);
        }
    }
    CU_ASSERT_EQUAL(backups, 0);
    /* without --force, a file created between the check and the commit survives */
    char c[1200];
    snprintf(c, sizeof(c), "%s/c.txt", dir);
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    CU_ASSERT_EQUAL(adk_out_text(g, c, "MINE"), ADK_OK);
    put_text(c, "THEIRS");
    CU_ASSERT_EQUAL(adk_out_group_commit(g, ADK_OK), ADK_EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "--force"));
    adk_ctx_clear(ctx);
    CU_ASSERT(same_bytes(c, "THEIRS", 6));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
}

static void test_no_force(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], h1[1200], txt[1200], fresh[1200];
    adk_test_fresh_dir("out_noforce", dir, sizeof(dir));
    snprintf(h1, sizeof(h1), "%s/exists.h5", dir);
    snprintf(txt, sizeof(txt), "%s/exists.txt", dir);
    snprintf(fresh, sizeof(fresh), "%s/fresh.h5", dir);
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    int st = stage_h5(g, h1, 1);
    if (st == ADK_OK) {
        st = adk_out_text(g, txt, "keep me\n");
    }
    CU_ASSERT_FATAL(adk_out_group_commit(g, st) == ADK_OK);
    size_t l1;
    char *b1 = slurp(h1, &l1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b1);

    CU_ASSERT_EQUAL(adk_out_check(ctx, h1, 0), ADK_EEXIST);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_out_check(ctx, h1, ADK_OUT_FORCE), ADK_OK);
    CU_ASSERT_EQUAL(adk_out_check(ctx, fresh, 0), ADK_OK);
    CU_ASSERT_STRING_EQUAL(adk_ctx_message(ctx), "");

    /* an HDF5 output over an existing file */
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    st = stage_h5(g, fresh, 3); /* staged before the refusal: must not survive it */
    CU_ASSERT_EQUAL(st, ADK_OK);
    adk_out_t *o = (adk_out_t *)&st;
    adk_ctx_clear(ctx);
    st = adk_out_h5_create(g, h1, &o);
    CU_ASSERT_EQUAL(st, ADK_EEXIST);
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "--force"));
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), h1));
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_EEXIST);
    adk_ctx_clear(ctx);
    CU_ASSERT(!exists(fresh));
    CU_ASSERT(same_bytes(h1, b1, l1));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);

    /* a text output over an existing file */
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    st = adk_out_text(g, txt, "replaced\n");
    CU_ASSERT_EQUAL(st, ADK_EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "--force"));
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), txt));
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_EEXIST);
    adk_ctx_clear(ctx);
    CU_ASSERT(same_bytes(txt, "keep me\n", 8));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);

    /* the one-file shorthands refuse the same way */
    st = adk_out_create(ctx, h1, 0, &o);
    CU_ASSERT_EQUAL(st, ADK_EEXIST);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), "--force"));
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_out_text_file(ctx, txt, 0, "x"), ADK_EEXIST);
    adk_ctx_clear(ctx);
    CU_ASSERT(same_bytes(h1, b1, l1));
    CU_ASSERT(same_bytes(txt, "keep me\n", 8));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
    free(b1);
}

static void test_update(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], path[1200], missing[1200];
    adk_test_fresh_dir("out_update", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/model.h5", dir);
    snprintf(missing, sizeof(missing), "%s/missing.h5", dir);
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    CU_ASSERT_FATAL(adk_out_group_commit(g, stage_h5(g, path, 4)) == ADK_OK);
    size_t l0;
    char *b0 = slurp(path, &l0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b0);

    const double y[3] = {7.5, -8, 9e10};
    for (int pass = 0; pass < 2; pass++) { /* a failing update, then a good one */
        CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
        adk_out_t *o = NULL;
        int st = adk_out_h5_update(g, path, &o);
        CU_ASSERT_EQUAL(st, ADK_OK);
        if (st == ADK_OK) {
            st = adk_out_small(o, "/y", ADK_F64, y, 3, 0);
            CU_ASSERT_EQUAL(st, ADK_OK);
            CU_ASSERT_EQUAL(adk_out_attr_f64(o, "/y", "scale", 0.5), ADK_OK);
        }
        /* until the commit the original is untouched and has no /y */
        CU_ASSERT_EQUAL(count_tmps(dir), 1);
        CU_ASSERT(same_bytes(path, b0, l0));
        adk_h5_t *f = NULL;
        CU_ASSERT_FATAL(adk_h5_open(ctx, path, &f) == ADK_OK);
        int ex = -1;
        CU_ASSERT_EQUAL(adk_h5_exists(f, "/y", &ex), ADK_OK);
        CU_ASSERT_EQUAL(ex, 0);
        adk_h5_close(f);
        MPI_Barrier(MPI_COMM_WORLD);
        st = adk_out_group_commit(g, pass == 0 ? last_rank_fails(ADK_EDATA) : st);
        CU_ASSERT_EQUAL(st, pass == 0 ? ADK_EDATA : ADK_OK);
        CU_ASSERT_EQUAL(count_tmps(dir), 0);
        if (pass == 0) {
            CU_ASSERT(same_bytes(path, b0, l0));
        }
    }
    /* the old content and the new dataset */
    CU_ASSERT(h5_has_tag(path, 4));
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(adk_h5_open(ctx, path, &f) == ADK_OK);
    double *s = NULL;
    int64_t rows = 0, cols = 0;
    int nd = 0;
    CU_ASSERT_FATAL(adk_h5_read_small(f, "/y", 3, &s, &rows, &cols, &nd) == ADK_OK);
    CU_ASSERT(rows == 3 && cols == 1 && nd == 1);
    CU_ASSERT(s[0] == y[0] && s[1] == y[1] && s[2] == y[2]);
    free(s);
    double scale = 0;
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/y", "scale", ADK_ATTR_F64, &scale, 0, NULL), ADK_OK);
    CU_ASSERT_EQUAL(scale, 0.5);
    adk_h5_close(f);
    /* updating a missing file fails and leaves nothing */
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    adk_out_t *o = NULL;
    adk_ctx_clear(ctx);
    int st = adk_out_h5_update(g, missing, &o);
    CU_ASSERT_EQUAL(st, ADK_EIO);
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), missing));
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_EIO);
    adk_ctx_clear(ctx);
    CU_ASSERT(!exists(missing));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
    free(b0);
}

/* A new file from an existing one: the source never changes; the new path obeys --force. */
static void test_derive(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], src[1200], dst[1200], missing[1200];
    adk_test_fresh_dir("out_derive", dir, sizeof(dir));
    snprintf(src, sizeof(src), "%s/model.h5", dir);
    snprintf(dst, sizeof(dst), "%s/copy.h5", dir);
    snprintf(missing, sizeof(missing), "%s/missing.h5", dir);
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    CU_ASSERT_FATAL(adk_out_group_commit(g, stage_h5(g, src, 4)) == ADK_OK);
    size_t l0;
    char *b0 = slurp(src, &l0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b0);
    const double y[2] = {1.25, -3};
    /* pass 0: new file; 1: exists, no force; 2: force, failing commit; 3: force, good commit */
    for (int pass = 0; pass < 4; pass++) {
        size_t l1 = 0;
        char *b1 = pass > 0 ? slurp(dst, &l1) : NULL;
        CU_ASSERT_FATAL(adk_out_group_create(ctx, pass >= 2 ? ADK_OUT_FORCE : 0, &g) == ADK_OK);
        adk_out_t *o = NULL;
        adk_ctx_clear(ctx);
        int st = adk_out_h5_derive(g, src, dst, &o);
        CU_ASSERT_EQUAL(st, pass == 1 ? ADK_EEXIST : ADK_OK);
        if (st == ADK_OK) {
            st = adk_out_small(o, "/y", ADK_F64, y, 2, 0);
            CU_ASSERT_EQUAL(st, ADK_OK);
            CU_ASSERT(same_bytes(src, b0, l0));
        }
        MPI_Barrier(MPI_COMM_WORLD);
        st = adk_out_group_commit(g, pass == 2 && st == ADK_OK ? last_rank_fails(ADK_EDATA) : st);
        CU_ASSERT_EQUAL(st, pass == 1 ? ADK_EEXIST : pass == 2 ? ADK_EDATA : ADK_OK);
        adk_ctx_clear(ctx);
        CU_ASSERT_EQUAL(count_tmps(dir), 0);
        CU_ASSERT(same_bytes(src, b0, l0)); /* the source, always */
        if (pass == 1 || pass == 2) {
            CU_ASSERT(same_bytes(dst, b1, l1)); /* refused or failed: the copy as it was */
        }
        free(b1);
    }
    /* the copy: the source's content and the new dataset */
    CU_ASSERT(h5_has_tag(dst, 4));
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(adk_h5_open(ctx, dst, &f) == ADK_OK);
    double *v = NULL;
    int64_t rows = 0, cols = 0;
    int nd = 0;
    CU_ASSERT_FATAL(adk_h5_read_small(f, "/y", 2, &v, &rows, &cols, &nd) == ADK_OK);
    CU_ASSERT(rows == 2 && v[0] == y[0] && v[1] == y[1]);
    free(v);
    adk_h5_close(f);
    /* from a missing source: an error naming it, nothing created */
    CU_ASSERT_FATAL(adk_out_group_create(ctx, ADK_OUT_FORCE, &g) == ADK_OK);
    adk_out_t *o = NULL;
    char other[1300];
    snprintf(other, sizeof(other), "%s/other.h5", dir);
    int st = adk_out_h5_derive(g, missing, other, &o);
    CU_ASSERT_EQUAL(st, ADK_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), missing));
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_EIO);
    adk_ctx_clear(ctx);
    CU_ASSERT(!exists(other));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
    free(b0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ", or -1 if it is not exactly that. */
static long long parse_utc(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof(pat) - 1) {
        return -1;
    }
    for (size_t i = 0; pat[i]; i++) {
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i]) {
            return -1;
        }
    }
    int y, mo, d, h, mi, se;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &h, &mi, &se) != 6 || mo < 1 ||
        mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) {
        return -1;
    }
    return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
}

static void test_provenance(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], p1[1200], p2[1200];
    adk_test_fresh_dir("out_prov", dir, sizeof(dir));
    snprintf(p1, sizeof(p1), "%s/noseed.h5", dir);
    snprintf(p2, sizeof(p2), "%s/seed.h5", dir);
    CU_ASSERT_EQUAL(adk_ctx_add_input(ctx, "points.h5:/data"), ADK_OK);
    CU_ASSERT_EQUAL(adk_ctx_add_input(ctx, "labels.csv"), ADK_OK);
    const uint64_t seed = 18446744073709551557ULL; /* above 2^63 */
    for (int pass = 0; pass < 2; pass++) {
        const char *path = pass ? p2 : p1;
        if (pass) {
            adk_ctx_set_seed(ctx, seed);
        } else {
            CU_ASSERT_FATAL(!adk_ctx_seed(ctx, NULL)); /* the seed case needs a seedless start */
        }
        long long before = (long long)time(NULL);
        adk_out_group_t *g = NULL;
        CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
        adk_out_t *o = NULL;
        int st = adk_out_h5_create(g, path, &o);
        CU_ASSERT_FATAL(adk_out_group_commit(g, st) == ADK_OK);
        long long after = (long long)time(NULL);

        adk_h5_t *f = NULL;
        CU_ASSERT_FATAL(adk_h5_open(ctx, path, &f) == ADK_OK);
        char buf[512];
        CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "adkit_version", ADK_ATTR_STR, buf, sizeof(buf), NULL),
                        ADK_OK);
        CU_ASSERT_STRING_EQUAL(buf, PACKAGE_VERSION);
        CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "git_commit", ADK_ATTR_STR, buf, sizeof(buf), NULL),
                        ADK_OK);
        CU_ASSERT_STRING_EQUAL(buf, ADK_GIT_DESCRIBE);
        CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "command_line", ADK_ATTR_STR, buf, sizeof(buf), NULL),
                        ADK_OK);
        CU_ASSERT_STRING_EQUAL(buf, adk_ctx_cmdline(ctx));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "test_adk_out"));
        uint64_t ranks = 0;
        CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "mpi_ranks", ADK_ATTR_U64, &ranks, 0, NULL), ADK_OK);
        CU_ASSERT_EQUAL(ranks, (uint64_t)adk_ctx_size(ctx));
        CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "created_utc", ADK_ATTR_STR, buf, sizeof(buf), NULL),
                        ADK_OK);
        long long t = parse_utc(buf);
        CU_ASSERT(t >= 0);
        /* rank 0's clock; the ranks share this machine's clock */
        CU_ASSERT(t >= before - 5 && t <= after + 5);
        CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "inputs", ADK_ATTR_STR, buf, sizeof(buf), NULL),
                        ADK_OK);
        CU_ASSERT_STRING_EQUAL(buf, adk_ctx_inputs(ctx));
        const char *a = strstr(buf, "points.h5:/data"), *b = strstr(buf, "labels.csv");
        CU_ASSERT(a && b && a < b);
        uint64_t got = 0;
        int found = -1;
        CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "seed", ADK_ATTR_U64, &got, 0, &found), ADK_OK);
        CU_ASSERT_EQUAL(found, pass);
        if (pass) {
            CU_ASSERT_EQUAL(got, seed);
        }
        adk_h5_close(f);
    }
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
}

static void test_dset_slabs(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    char dir[1024], path[1200];
    adk_test_fresh_dir("out_slabs", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/slabs.h5", dir);
    /* each rank writes another rank's block (rows are not tied to the writer), 4 rows a call */
    adk_range_t rg = adk_part_rows(N, size, size - 1 - rank, 1);
    size_t nl = (size_t)rg.count;
    const size_t slab = 4;
    double *x = calloc(nl * 3 + 1, sizeof(double));
    float *xf = calloc(nl * 3 + 1, sizeof(float));
    int32_t *v = calloc(nl + 1, sizeof(int32_t));
    for (size_t i = 0; i < nl; i++) {
        int64_t g = rg.start + (int64_t)i;
        for (size_t j = 0; j < 3; j++) {
            x[i * 3 + j] = xval(2, g, j) + 1.0 / 7.0;
            xf[i * 3 + j] = (float)x[i * 3 + j];
        }
        v[i] = (int32_t)(g * g) - 100;
    }
    long long mine = (long long)((nl + slab - 1) / slab), calls = 0;
    MPI_Allreduce(&mine, &calls, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    adk_out_t *o = NULL;
    int st = adk_out_h5_create(g, path, &o);
    CU_ASSERT_FATAL(st == ADK_OK);
    adk_odset_t *w2 = NULL, *w1 = NULL, *w3 = NULL;
    st = adk_out_dset(o, "/grp/x", ADK_F64, N, 3, &w2);
    CU_ASSERT_EQUAL(st, ADK_OK);
    if (st == ADK_OK) {
        st = adk_out_dset(o, "/v", ADK_I32, N, 0, &w1);
        CU_ASSERT_EQUAL(st, ADK_OK);
    }
    if (st == ADK_OK) {
        st = adk_out_dset(o, "/xf", ADK_F32, N, 3, &w3);
        CU_ASSERT_EQUAL(st, ADK_OK);
    }
    for (long long k = 0; k < calls + 1 && st == ADK_OK; k++) { /* one empty call for all */
        size_t off = (size_t)k * slab;
        size_t cnt = off < nl ? (nl - off < slab ? nl - off : slab) : 0;
        size_t o0 = cnt ? off : 0;
        int64_t r0 = rg.start + (int64_t)o0;
        st = adk_odset_write(w2, x + o0 * 3, r0, cnt);
        if (st == ADK_OK) {
            st = adk_odset_write(w1, v + o0, r0, cnt);
        }
        if (st == ADK_OK) {
            st = adk_odset_write(w3, xf + o0 * 3, r0, cnt);
        }
    }
    CU_ASSERT_EQUAL(st, ADK_OK);
    adk_odset_close(w2);
    adk_odset_close(w1);
    adk_odset_close(w3);
    adk_odset_close(NULL);
    /* adk_out_rows replaces a dataset of the same name */
    const double one[2] = {1, 2};
    if (st == ADK_OK) {
        st = adk_out_small(o, "/r", ADK_F64, one, 2, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/r", ADK_F64, x, N, rg.start, nl, 3);
    }
    CU_ASSERT_FATAL(adk_out_group_commit(g, st) == ADK_OK);
    free(xf);

    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(adk_h5_open(ctx, path, &f) == ADK_OK);
    const char *names[] = {"/grp/x", "/xf", "/r"};
    for (int k = 0; k < 3; k++) {
        adk_rows_t *r = NULL;
        CU_ASSERT_FATAL(adk_h5_read_rows(f, names[k], NULL, 7, 0, 1, &r) == ADK_OK);
        CU_ASSERT(r->n == N && r->d == 3);
        int ok = 1;
        for (size_t i = 0; i < r->nloc; i++) {
            for (size_t j = 0; j < 3; j++) {
                double want = xval(2, r->row0 + (int64_t)i, j) + 1.0 / 7.0;
                ok &= r->x[i * 3 + j] == (k == 1 ? (double)(float)want : want);
            }
        }
        CU_ASSERT(ok);
        adk_rows_free(r);
    }
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_h5_read_rows(f, "/v", NULL, 1, 1, 1, &r) == ADK_OK);
    CU_ASSERT(r->n == N && r->d == 1);
    int ok = 1;
    for (size_t i = 0; i < r->nloc; i++) {
        int64_t gr = r->row0 + (int64_t)i;
        ok &= r->x[i] == (double)(gr * gr - 100);
    }
    CU_ASSERT(ok);
    adk_rows_free(r);
    adk_h5_close(f);
    free(x);
    free(v);
}

static void test_text_exact(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx);
    char dir[1024], p1[1200], p2[1200], p3[1200];
    adk_test_fresh_dir("out_text", dir, sizeof(dir));
    snprintf(p1, sizeof(p1), "%s/a.csv", dir);
    snprintf(p2, sizeof(p2), "%s/b.json", dir);
    snprintf(p3, sizeof(p3), "%s/empty.txt", dir);
    const char *t1 = "k,inertia\n2,1.5e+03\n3,\"x, y\"\n";
    const char *t2 = "{\"a\": [1, 2],\n \"b\": \"\\u00e9\"}"; /* no final newline */
    adk_out_group_t *g = NULL;
    CU_ASSERT_FATAL(adk_out_group_create(ctx, 0, &g) == ADK_OK);
    /* rank 0's text is the one written */
    int st = adk_out_text(g, p1, rank == 0 ? t1 : "WRONG");
    if (st == ADK_OK) {
        st = adk_out_text(g, p2, rank == 0 ? t2 : NULL);
    }
    if (st == ADK_OK) {
        st = adk_out_text(g, p3, rank == 0 ? "" : "WRONG");
    }
    CU_ASSERT_EQUAL(adk_out_group_commit(g, st), ADK_OK);
    CU_ASSERT(same_bytes(p1, t1, strlen(t1)));
    CU_ASSERT(same_bytes(p2, t2, strlen(t2)));
    CU_ASSERT(same_bytes(p3, "", 0));
    CU_ASSERT(exists(p3));
    /* the one-file shorthand, with --force */
    CU_ASSERT_EQUAL(adk_out_text_file(ctx, p1, ADK_OUT_FORCE, rank == 0 ? "short\n" : NULL),
                    ADK_OK);
    CU_ASSERT(same_bytes(p1, "short\n", 6));
    CU_ASSERT_EQUAL(count_tmps(dir), 0);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"group: two HDF5 + one text committed together", test_group_commit},
        {"group: failure on one rank removes every temp", test_group_fail_one_rank},
        {"force: failing commit keeps old bytes, good one replaces", test_force_keeps_on_failure},
        {"no force: EEXIST naming --force, nothing staged survives", test_no_force},
        {"commit failing half way puts every old file back", test_publish_all_or_nothing},
        {"update: original untouched until commit", test_update},
        {"derive: a new file from an old one, which stays as it was", test_derive},
        {"provenance attributes on /", test_provenance},
        {"datasets written in slabs, replaced datasets", test_dset_slabs},
        {"text outputs: exact bytes", test_text_exact},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_out", tests);
}
