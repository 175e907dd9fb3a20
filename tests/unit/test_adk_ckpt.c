/*
 * Unit tests for adk_ckpt and the k-means checkpoint state (any rank count): identity attributes
 * and states read back bit for bit, every mismatch refused with a message naming it, a failing
 * write leaving the previous checkpoint as it was, the checksum independent of the partition and
 * sensitive to one changed bit, the stop requests (test hook on one rank, real signals), a
 * k-means fit and a t-SNE run stopped and resumed (the t-SNE state through a file) giving the bits
 * of uninterrupted ones, and the option checks both programs share.
 */
#include <dirent.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adk_ckpt.h"
#include "adk_dist.h"
#include "adk_kmeans.h"
#include "adk_rng.h"
#include "adk_sig.h"
#include "adk_test.h"
#include "adk_tsne.h"

#define N 37
#define D 3

/* The parameters of a pretend program (an option table, as adkit programs have). */
typedef struct {
    int k;
    double tol;
    uint64_t seed;
    const char *init, *extra;
} params_t;

static void table(params_t *p, adk_opt_t tab[6])
{
    const adk_opt_t t[6] = {
        {"k", ADK_OPT_INT, &p->k, "K", ""},         {"tol", ADK_OPT_DOUBLE, &p->tol, "T", ""},
        {"seed", ADK_OPT_U64, &p->seed, "S", ""},   {"init", ADK_OPT_STR, &p->init, "HOW", ""},
        {"extra", ADK_OPT_STR, &p->extra, "X", ""}, {NULL, 0, NULL, NULL, NULL}};
    memcpy(tab, t, sizeof(t));
}

static const params_t P0 = {8, 1e-4, 12345678901234567ULL, "k-means++", NULL};

static adk_rows_t *make_rows(adk_ctx_t *ctx, int64_t n, size_t d, int64_t bad_row)
{
    adk_rows_t *r = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, n, d, ADK_ALIGN_REPRO, "data.h5:/x", 0, &r) == ADK_OK);
    for (size_t i = 0; i < r->nloc; i++) {
        for (size_t j = 0; j < d; j++) {
            int64_t g = r->row0 + (int64_t)i;
            r->x[i * d + j] = adk_test_hash01(g, (int64_t)j) - 0.5;
            if (g == bad_row && j == 1) {
                r->x[i * d + j] = nextafter(r->x[i * d + j], 1.0); /* one bit */
            }
        }
    }
    return r;
}

/* Entries of @p dir other than "." and "..", once every rank is done. */
static int count_entries(const char *dir)
{
    MPI_Barrier(MPI_COMM_WORLD);
    DIR *dp = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (dp && (e = readdir(dp)) != NULL) {
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    }
    if (dp) {
        closedir(dp);
    }
    return n;
}

/* A checkpoint object for @p p and @p x at @p path (asserted to succeed). */
static adk_ckpt_t *ckpt_for(const char *path, params_t *p, const adk_rows_t *x)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_opt_t tab[6];
    table(p, tab);
    adk_ckpt_t *ck = NULL;
    CU_ASSERT_FATAL(adk_ckpt_create(ctx, "adkit-test", path, 0, &ck) == ADK_OK);
    CU_ASSERT_FATAL(adk_ckpt_options(ck, tab, "k,tol,seed,init,extra") == ADK_OK);
    CU_ASSERT_FATAL(adk_ckpt_input(ck, "data.h5:/x", x) == ADK_OK);
    return ck;
}

/* Values whose bits a text or float round trip would lose. */
static const double ODD[6] = {0.1, -0.0, 1e-310, DBL_MAX, -1.0 / 3.0, 4503599627370497.0};

/* Write a checkpoint holding /odd (ODD, with ODD[0] replaced by @p first); returns the status. */
static int write_odd(adk_ckpt_t *ck, double first, int fail)
{
    double v[6];
    memcpy(v, ODD, sizeof(v));
    v[0] = first;
    adk_out_t *o = NULL;
    int st = adk_ckpt_begin(ck, &o);
    if (st == ADK_OK) {
        st = adk_out_small(o, "/odd", ADK_F64, v, 6, 0);
    }
    if (st == ADK_OK) {
        adk_ctx_t *ctx = adk_test_ctx();
        st = fail && adk_ctx_rank(ctx) == adk_ctx_size(ctx) - 1
                 ? ADK_ERR(ctx, ADK_EIO, "disk full (pretend)")
                 : ADK_OK;
    }
    return adk_ckpt_commit(o, st);
}

/* Whether checkpoint @p path opens for @p ck and holds /odd with @p first. Collective. */
static int holds_odd(adk_ckpt_t *ck, const char *path, double first)
{
    adk_h5_t *f = NULL;
    if (adk_ckpt_open(ck, path, &f) != ADK_OK) {
        adk_ctx_clear(adk_test_ctx());
        return 0;
    }
    double *v = NULL;
    int64_t r = 0, c = 0;
    int nd = 0, ok = adk_h5_read_small(f, "/odd", 100, &v, &r, &c, &nd) == ADK_OK && r == 6;
    for (int i = 0; ok && i < 6; i++) {
        ok = adk_test_same_bits(v[i], i == 0 ? first : ODD[i]);
    }
    free(v);
    adk_h5_close(f);
    return ok;
}

static void test_round_trip(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], path[1200];
    adk_test_fresh_dir("ckpt_rt", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/ck.h5", dir);
    adk_rows_t *x = make_rows(ctx, N, D, -1);
    params_t p = P0;
    adk_ckpt_t *ck = ckpt_for(path, &p, x);
    CU_ASSERT_STRING_EQUAL(adk_ckpt_path(ck), path);
    CU_ASSERT_EQUAL(write_odd(ck, 0.1, 0), ADK_OK);
    CU_ASSERT(holds_odd(ck, path, 0.1));
    /* the same run again (a new object, as a resumed job makes) accepts it; rewriting replaces */
    adk_ckpt_t *again = ckpt_for(path, &p, x);
    CU_ASSERT(holds_odd(again, path, 0.1));
    CU_ASSERT_EQUAL(write_odd(again, 0.2, 0), ADK_OK);
    CU_ASSERT(holds_odd(again, path, 0.2));
    CU_ASSERT_EQUAL(count_entries(dir), 1); /* no temporary left */
    /* the identity attributes as written */
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(adk_h5_open(ctx, path, &f) == ADK_OK);
    char params[512] = "", prog[64] = "";
    double fmt = 0, rows = 0, cols = 0;
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "params", ADK_ATTR_STR, params, sizeof(params), NULL),
                    ADK_OK);
    CU_ASSERT_STRING_EQUAL(params,
                           "--k 8\n--tol 0.0001\n--seed 12345678901234567\n--init k-means++\n");
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "program", ADK_ATTR_STR, prog, sizeof(prog), NULL), ADK_OK);
    CU_ASSERT_STRING_EQUAL(prog, "adkit-test");
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "adkit_checkpoint", ADK_ATTR_F64, &fmt, 0, NULL), ADK_OK);
    CU_ASSERT_EQUAL(fmt, ADK_CKPT_FORMAT);
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "input_rows", ADK_ATTR_F64, &rows, 0, NULL), ADK_OK);
    CU_ASSERT_EQUAL(adk_h5_attr(f, "/", "input_cols", ADK_ATTR_F64, &cols, 0, NULL), ADK_OK);
    CU_ASSERT(rows == N && cols == D);
    adk_h5_close(f);
    adk_ckpt_free(again);
    adk_ckpt_free(ck);
    adk_rows_free(x);
}

/* adk_ckpt_open on @p path must fail with @p code and a message containing @p needle. */
static void expect_refused(adk_ckpt_t *ck, const char *path, int code, const char *needle)
{
    adk_h5_t *f = NULL;
    int st = adk_ckpt_open(ck, path, &f);
    CU_ASSERT_EQUAL(st, code);
    CU_ASSERT(f == NULL);
    CU_ASSERT(adk_test_message_has(needle));
    adk_h5_close(f);
    adk_ctx_clear(adk_test_ctx());
}

static void test_mismatch(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], path[1200], plain[1200], text[1200];
    adk_test_fresh_dir("ckpt_mm", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/ck.h5", dir);
    snprintf(plain, sizeof(plain), "%s/plain.h5", dir);
    snprintf(text, sizeof(text), "%s/notes.txt", dir);
    adk_rows_t *x = make_rows(ctx, N, D, -1);
    params_t p = P0;
    adk_ckpt_t *ck = ckpt_for(path, &p, x);
    CU_ASSERT_FATAL(write_odd(ck, 0.1, 0) == ADK_OK);

    params_t q = P0;
    q.k = 5;
    adk_ckpt_t *o = ckpt_for(path, &q, x);
    expect_refused(o, path, ADK_EINVAL, "the checkpoint was made with --k 8, this run has --k 5");
    adk_ckpt_free(o);
    q = P0;
    q.tol = nextafter(1e-4, 1.0); /* one bit: %.17g tells them apart */
    o = ckpt_for(path, &q, x);
    expect_refused(o, path, ADK_EINVAL,
                   "with --tol 0.0001, this run has --tol 0.00010000000000000");
    adk_ckpt_free(o);
    q = P0;
    q.extra = "yes";
    o = ckpt_for(path, &q, x);
    expect_refused(o, path, ADK_EINVAL, "made without --extra, this run has --extra yes");
    adk_ckpt_free(o);
    q = P0;
    q.init = NULL;
    o = ckpt_for(path, &q, x);
    expect_refused(o, path, ADK_EINVAL, "made with --init k-means++, this run has no --init");
    adk_ckpt_free(o);

    /* other data: one value one bit off (on whichever rank holds row 17), or another shape */
    adk_rows_t *y = make_rows(ctx, N, D, 17);
    o = ckpt_for(path, &p, y);
    expect_refused(o, path, ADK_EDATA, "made from other data");
    adk_ckpt_free(o);
    adk_rows_free(y);
    y = make_rows(ctx, N - 1, D, -1);
    o = ckpt_for(path, &p, y);
    expect_refused(o, path, ADK_EDATA, "(37 x 3), this run reads data.h5:/x (36 x 3)");
    adk_ckpt_free(o);
    adk_rows_free(y);

    /* another program's checkpoint, a plain HDF5 file, a missing file */
    o = NULL;
    CU_ASSERT_FATAL(adk_ckpt_create(ctx, "adkit-other", path, 0, &o) == ADK_EEXIST);
    CU_ASSERT(adk_test_message_has("is not a checkpoint of adkit-other"));
    adk_ctx_clear(ctx);
    adk_out_t *out = NULL;
    CU_ASSERT_FATAL(adk_out_create(ctx, plain, 0, &out) == ADK_OK);
    CU_ASSERT_FATAL(adk_out_commit(out, ADK_OK) == ADK_OK);
    expect_refused(ck, plain, ADK_EDATA, "not an adkit checkpoint");
    expect_refused(ck, text, ADK_EIO, "notes.txt");
    adk_ckpt_free(ck);

    /* creating checkpoints where something else is: refused, and it is left alone */
    CU_ASSERT_EQUAL(adk_ckpt_create(ctx, "adkit-test", plain, 0, &o), ADK_EEXIST);
    CU_ASSERT(adk_test_message_has("is not a checkpoint of adkit-test"));
    adk_ctx_clear(ctx);
    if (adk_ctx_rank(ctx) == 0) {
        FILE *t = fopen(text, "w");
        fputs("my notes\n", t);
        fclose(t);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    CU_ASSERT_EQUAL(adk_ckpt_create(ctx, "adkit-test", text, 0, &o), ADK_EEXIST);
    CU_ASSERT(adk_test_message_has("refusing to replace it"));
    adk_ctx_clear(ctx);
    CU_ASSERT(o == NULL);
    struct stat sb;
    CU_ASSERT(stat(text, &sb) == 0 && sb.st_size == 9);
    adk_rows_free(x);
}

static void test_atomic(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], path[1200];
    adk_test_fresh_dir("ckpt_atomic", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/ck.h5", dir);
    adk_rows_t *x = make_rows(ctx, N, D, -1);
    params_t p = P0;
    adk_ckpt_t *ck = ckpt_for(path, &p, x);
    CU_ASSERT_FATAL(write_odd(ck, 1.5, 0) == ADK_OK);
    /* a write failing on one rank: the old checkpoint stays, bit for bit, nothing else is left */
    CU_ASSERT_EQUAL(write_odd(ck, 2.5, 1), ADK_EIO);
    CU_ASSERT(adk_test_message_has("disk full (pretend)"));
    adk_ctx_clear(ctx);
    CU_ASSERT(holds_odd(ck, path, 1.5));
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    /* and the first checkpoint failing leaves nothing at all */
    char other[1200];
    snprintf(other, sizeof(other), "%s/first.h5", dir);
    adk_ckpt_t *c2 = ckpt_for(other, &p, x);
    CU_ASSERT_EQUAL(write_odd(c2, 2.5, 1), ADK_EIO);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(count_entries(dir), 1);
    adk_ckpt_free(c2);
    adk_ckpt_free(ck);
    adk_rows_free(x);
}

static void test_checksum(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = make_rows(ctx, N, D, -1);
    uint64_t dist = 0, whole = 0, other = 0;
    CU_ASSERT_EQUAL(adk_ckpt_checksum(ctx, x, &dist), ADK_OK);
    /* every row on one rank (a context of its own) gives the same sum */
    adk_ctx_t *self = NULL;
    char *argv[] = {"test", NULL};
    CU_ASSERT_FATAL(adk_ctx_create(MPI_COMM_SELF, 1, argv, &self) == ADK_OK);
    adk_rows_t *all = make_rows(self, N, D, -1);
    CU_ASSERT_FATAL(all->nloc == N);
    CU_ASSERT_EQUAL(adk_ckpt_checksum(self, all, &whole), ADK_OK);
    CU_ASSERT_EQUAL(dist, whole);
    /* a swap of two values, a zero's sign: other sums */
    double t = all->x[3];
    all->x[3] = all->x[4];
    all->x[4] = t;
    CU_ASSERT_EQUAL(adk_ckpt_checksum(self, all, &other), ADK_OK);
    CU_ASSERT(other != whole);
    all->x[4] = all->x[3];
    all->x[3] = t;
    all->x[0] = 0.0;
    CU_ASSERT_EQUAL(adk_ckpt_checksum(self, all, &whole), ADK_OK);
    all->x[0] = -0.0;
    CU_ASSERT_EQUAL(adk_ckpt_checksum(self, all, &other), ADK_OK);
    CU_ASSERT(other != whole);
    adk_rows_free(all);
    adk_ctx_free(self);
    adk_rows_free(x);
}

static void test_stop_requests(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], path[1200];
    adk_test_fresh_dir("ckpt_stop", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/ck.h5", dir);
    adk_rows_t *x = make_rows(ctx, N, D, -1);
    params_t p = P0;
    int last = adk_ctx_rank(ctx) == adk_ctx_size(ctx) - 1;
    setenv("ADK_CKPT_TEST_STOP_AT", "2:3", 1);
    adk_ckpt_t *ck = ckpt_for(path, &p, x);
    unsetenv("ADK_CKPT_TEST_STOP_AT");
    CU_ASSERT_EQUAL(adk_ckpt_stop_wanted(ck, 0, 1000), 0);
    CU_ASSERT_EQUAL(adk_ckpt_stop_wanted(ck, 1, 2), 0);
    CU_ASSERT_EQUAL(adk_ckpt_stop_wanted(ck, 1, 3), last); /* only the last rank asks */
    CU_ASSERT_EQUAL(adk_ckpt_stop_wanted(ck, 2, 1), last);
    CU_ASSERT_EQUAL(adk_ckpt_stopped(ck, "run %d", 2), ADK_ESTOPPED);
    CU_ASSERT(strstr(adk_ctx_message(ctx), "stopped on request at run 2: checkpoint") != NULL);
    CU_ASSERT(strstr(adk_ctx_message(ctx), "resume with --resume") != NULL);
    adk_ctx_clear(ctx);
    adk_ckpt_free(ck);
    /* a real SIGUSR1, then SIGTERM: the process goes on, the request is seen; plain ITER hook */
    setenv("ADK_CKPT_TEST_STOP_AT", "4", 1);
    ck = ckpt_for(path, &p, x);
    unsetenv("ADK_CKPT_TEST_STOP_AT");
    CU_ASSERT_EQUAL(adk_ckpt_stop_wanted(ck, 0, 3), 0);
    CU_ASSERT_EQUAL(adk_ckpt_stop_wanted(ck, 0, 4), last);
    raise(SIGUSR1);
    CU_ASSERT_EQUAL(adk_sig_stop_requested(), SIGUSR1);
    CU_ASSERT_EQUAL(adk_ckpt_stop_wanted(ck, 0, 0), 1);
    CU_ASSERT_EQUAL(adk_ckpt_stopped(ck, "x"), ADK_ESTOPPED);
    CU_ASSERT(strstr(adk_ctx_message(ctx), "stopped by SIGUSR1 at x") != NULL);
    adk_ctx_clear(ctx);
    raise(SIGTERM);
    CU_ASSERT_EQUAL(adk_sig_stop_requested(), SIGTERM);
    adk_ckpt_free(ck); /* checkpoint mode off: the request is forgotten */
    CU_ASSERT_EQUAL(adk_sig_stop_requested(), 0);
    adk_rows_free(x);
}

/* ------------------------------------------------------------------------------------------ */
/* k-means states and fits                                                                    */

static adk_kmeans_state_t *state_copy(const adk_kmeans_state_t *s)
{
    adk_kmeans_state_t *c = NULL;
    CU_ASSERT_FATAL(adk_kmeans_state_alloc(s->k, s->d, &c) == ADK_OK);
    double *keep[4] = {c->mean, c->centres, c->prev, c->best};
    *c = *s;
    c->mean = keep[0];
    c->centres = keep[1];
    c->prev = keep[2];
    c->best = keep[3];
    memcpy(c->mean, s->mean, s->d * sizeof(double));
    memcpy(c->centres, s->centres, s->k * s->d * sizeof(double));
    memcpy(c->prev, s->prev, s->k * s->d * sizeof(double));
    memcpy(c->best, s->best, s->k * s->d * sizeof(double));
    return c;
}

static int same_doubles(const double *a, const double *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!adk_test_same_bits(a[i], b[i])) {
            return 0;
        }
    }
    return 1;
}

static int same_state(const adk_kmeans_state_t *a, const adk_kmeans_state_t *b)
{
    size_t kd = a->k * a->d;
    return a->k == b->k && a->d == b->d && a->n_init == b->n_init && a->run == b->run &&
           a->iter == b->iter && a->total_iter == b->total_iter && a->kernel == b->kernel &&
           a->have_best == b->have_best && a->best_n_iter == b->best_n_iter &&
           a->best_converged == b->best_converged &&
           adk_test_same_bits(a->best_inertia, b->best_inertia) &&
           same_doubles(a->mean, b->mean, a->d) && same_doubles(a->centres, b->centres, kd) &&
           same_doubles(a->prev, b->prev, kd) && same_doubles(a->best, b->best, kd);
}

static void test_state_round_trip(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], path[1200];
    adk_test_fresh_dir("ckpt_state", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/ck.h5", dir);
    adk_rows_t *x = make_rows(ctx, N, D, -1);
    params_t p = P0;
    adk_ckpt_t *ck = ckpt_for(path, &p, x);
    adk_kmeans_state_t *s = NULL, *r = NULL;
    CU_ASSERT_FATAL(adk_kmeans_state_alloc(2, 3, &s) == ADK_OK);
    for (int i = 0; i < 6; i++) {
        s->centres[i] = ODD[i];
        s->prev[i] = -ODD[5 - i];
        s->best[i] = ODD[i] / 3.0;
    }
    memcpy(s->mean, ODD + 1, 3 * sizeof(double));
    s->n_init = 3;
    s->run = 2;
    s->iter = 17;
    s->total_iter = 5000000000LL;
    s->kernel = ADK_KERNEL_BLAS;
    s->have_best = 1;
    s->best_inertia = 0.1 + 0.2;
    s->best_n_iter = 9;
    s->best_converged = 1;
    adk_out_t *o = NULL;
    CU_ASSERT_FATAL(adk_ckpt_begin(ck, &o) == ADK_OK);
    CU_ASSERT_FATAL(adk_ckpt_commit(o, adk_kmeans_state_write(o, s)) == ADK_OK);
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(adk_ckpt_open(ck, path, &f) == ADK_OK);
    CU_ASSERT_FATAL(adk_kmeans_state_read(ctx, f, &r) == ADK_OK);
    adk_h5_close(f);
    CU_ASSERT(same_state(s, r));
    adk_kmeans_state_free(r);
    adk_kmeans_state_free(s);
    adk_ckpt_free(ck);
    adk_rows_free(x);
}

/* Three noisy groups, 5 clusters: k-means needs several iterations per run. */
static double noisy(int64_t g, size_t j)
{
    adk_rng_t r;
    adk_rng_init(&r, 7, ADK_RNG_GEN, (uint64_t)g, 0);
    double z = adk_rng_normal(&r);
    return (double)((g % 3) * 3) + (j == 0 ? z : 0.7 * z) + (double)j;
}

typedef struct {
    int stop_run, stop_iter; /* the last rank asks from here on (-1: never) */
    int nsave, keep;         /* saves so far; which one to keep (1-based; 0: the last) */
    adk_kmeans_state_t *kept;
} hook_t;

static int hk_stop(void *ud, int run, int iter)
{
    hook_t *h = ud;
    adk_ctx_t *ctx = adk_test_ctx();
    return h->stop_run >= 0 && adk_ctx_rank(ctx) == adk_ctx_size(ctx) - 1 &&
           (run > h->stop_run || (run == h->stop_run && iter >= h->stop_iter));
}

static int hk_save(void *ud, const adk_kmeans_state_t *s)
{
    hook_t *h = ud;
    h->nsave++;
    if (h->keep == 0 || h->nsave == h->keep) {
        adk_kmeans_state_free(h->kept);
        h->kept = state_copy(s);
    }
    return ADK_OK;
}

typedef struct {
    adk_kmeans_model_t *m;
    int32_t *lab;
    int st;
} fit_out_t;

static fit_out_t fit(const adk_rows_t *x, const adk_kmeans_ckpt_t *ck)
{
    adk_kmeans_params_t p;
    adk_kmeans_params_default(&p);
    p.k = 5;
    p.n_init = 3;
    p.seed = 21;
    p.tol = 0.0;
    p.ckpt = ck;
    fit_out_t r = {NULL, malloc((x->nloc + 1) * sizeof(int32_t)), 0};
    r.st = adk_kmeans_fit(adk_test_ctx(), &p, x, &r.m, r.lab, NULL);
    return r;
}

static int same_fit(const fit_out_t *a, const fit_out_t *b, size_t nloc)
{
    int ok = a->st == ADK_OK && b->st == ADK_OK && a->m && b->m;
    ok = ok && same_doubles(a->m->centroids, b->m->centroids, a->m->k * a->m->d) &&
         adk_test_same_bits(a->m->inertia, b->m->inertia) && a->m->n_iter == b->m->n_iter &&
         a->m->converged == b->m->converged && memcmp(a->lab, b->lab, nloc * 4) == 0;
    return ok;
}

static void fit_free(fit_out_t *r)
{
    adk_kmeans_model_free(r->m);
    free(r->lab);
}

static void test_kmeans_resume(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = NULL;
    CU_ASSERT_FATAL(adk_rows_alloc(ctx, 900, 2, ADK_ALIGN_REPRO, NULL, 0, &x) == ADK_OK);
    for (size_t i = 0; i < x->nloc; i++) {
        for (size_t j = 0; j < 2; j++) {
            x->x[i * 2 + j] = noisy(x->row0 + (int64_t)i, j);
        }
    }
    fit_out_t ref = fit(x, NULL);
    CU_ASSERT_FATAL(ref.st == ADK_OK);
    /* saving every 2 iterations changes nothing */
    hook_t every = {-1, 0, 0, 3, NULL};
    adk_kmeans_ckpt_t ck = {2, hk_stop, hk_save, &every, NULL};
    fit_out_t a = fit(x, &ck);
    CU_ASSERT(same_fit(&a, &ref, x->nloc));
    CU_ASSERT(every.nsave >= 3);
    CU_ASSERT_FATAL(every.kept != NULL);
    CU_ASSERT(every.kept->total_iter % 2 == 0 && every.kept->total_iter >= 6);
    CU_ASSERT_EQUAL(every.kept->stop, 0);
    /* resumed from the third save: the same bits */
    adk_kmeans_ckpt_t rs = {0, NULL, NULL, NULL, every.kept};
    fit_out_t b = fit(x, &rs);
    CU_ASSERT(same_fit(&b, &ref, x->nloc));
    /* a stop asked by the last rank only in the second run: every rank stops, saves once */
    hook_t stop = {1, 2, 0, 0, NULL};
    adk_kmeans_ckpt_t cs = {0, hk_stop, hk_save, &stop, NULL};
    fit_out_t c = fit(x, &cs);
    CU_ASSERT_EQUAL(c.st, ADK_ESTOPPED);
    CU_ASSERT(c.m == NULL);
    CU_ASSERT(adk_test_message_has("stopped at run"));
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(stop.nsave, 1);
    CU_ASSERT_FATAL(stop.kept != NULL);
    CU_ASSERT(stop.kept->stop == 1 && stop.kept->run >= 1 && stop.kept->have_best == 1);
    /* resumed, with saves again: the same bits, and a resumed state that is the same again */
    hook_t again = {-1, 0, 0, 1, NULL};
    adk_kmeans_ckpt_t rc = {1, hk_stop, hk_save, &again, stop.kept};
    fit_out_t d = fit(x, &rc);
    CU_ASSERT(same_fit(&d, &ref, x->nloc));
    CU_ASSERT_FATAL(again.kept != NULL);
    CU_ASSERT(again.kept->total_iter > stop.kept->total_iter);
    /* a state of another fit is refused */
    stop.kept->mean[0] = nextafter(stop.kept->mean[0], 1e300);
    adk_kmeans_ckpt_t bad = {0, NULL, NULL, NULL, stop.kept};
    fit_out_t e = fit(x, &bad);
    CU_ASSERT_EQUAL(e.st, ADK_EDATA);
    CU_ASSERT(adk_test_message_has("other column means"));
    adk_ctx_clear(ctx);
    fit_free(&ref);
    fit_free(&a);
    fit_free(&b);
    fit_free(&c);
    fit_free(&d);
    fit_free(&e);
    adk_kmeans_state_free(every.kept);
    adk_kmeans_state_free(stop.kept);
    adk_kmeans_state_free(again.kept);
    adk_rows_free(x);
}

/* A t-SNE run's hooks: stop when @c stop_at iterations are done (0: never); each save goes to
 * @c path (a plain adk_out file) and is counted. */
typedef struct {
    int stop_at, nsave, last_iter, last_stop;
    const char *path;
} tsne_hook_t;

static int th_stop(void *ud, int done)
{
    const tsne_hook_t *h = ud;
    adk_ctx_t *ctx = adk_test_ctx();
    /* the last rank only: the run must combine the answers */
    return h->stop_at > 0 && done >= h->stop_at && adk_ctx_rank(ctx) == adk_ctx_size(ctx) - 1;
}

static int th_save(void *ud, const adk_tsne_state_t *s)
{
    tsne_hook_t *h = ud;
    adk_ctx_t *ctx = adk_test_ctx();
    adk_out_t *o = NULL;
    int st = adk_out_create(ctx, h->path, ADK_OUT_FORCE, &o);
    if (st == ADK_OK) {
        st = adk_tsne_state_write(ctx, o, s);
    }
    st = adk_out_commit(o, st);
    h->nsave++;
    h->last_iter = s->iter;
    h->last_stop = s->stop;
    return st;
}

/* The state saved at @p path, for the rows of @p x. */
static adk_tsne_state_t *tsne_state(const char *path, const adk_rows_t *x)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_h5_t *f = NULL;
    adk_tsne_state_t *s = NULL;
    CU_ASSERT_FATAL(adk_h5_open(ctx, path, &f) == ADK_OK);
    CU_ASSERT(adk_tsne_state_read(ctx, f, x, 2, &s) == ADK_OK);
    adk_h5_close(f);
    return s;
}

/* One run with hooks @p ck (NULL: none); its status in *st. */
static adk_tsne_result_t *tsne_run(const adk_rows_t *x, const adk_tsne_ckpt_t *ck, int max_iter,
                                   int patience, int *st)
{
    adk_tsne_params_t p;
    adk_tsne_params_default(&p);
    p.perplexity = 5.0;
    p.max_iter = max_iter;
    p.n_iter_without_progress = patience;
    p.seed = 3;
    p.verbose = 0;
    p.ckpt = ck;
    adk_tsne_result_t *r = NULL;
    *st = adk_tsne_run(adk_test_ctx(), &p, x, &r);
    return r;
}

static int same_embedding(const adk_tsne_result_t *a, const adk_tsne_result_t *b)
{
    int ok =
        a && b && a->nloc == b->nloc && a->n_iter == b->n_iter && adk_test_same_bits(a->kl, b->kl);
    for (size_t e = 0; ok && e < a->nloc * 2; e++) {
        ok = adk_test_same_bits(a->y[e], b->y[e]);
    }
    return ok;
}

static void test_tsne_resume(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char dir[1024], path[1200];
    adk_test_fresh_dir("ckpt_tsne", dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/ck.h5", dir);
    adk_rows_t *x = make_rows(ctx, 40, 3, -1);
    int st = 0;
    adk_tsne_result_t *ref = tsne_run(x, NULL, 400, 300, &st);
    CU_ASSERT_FATAL(st == ADK_OK);
    CU_ASSERT_EQUAL(ref->n_iter, 399);
    /* saving every 70 iterations changes nothing; the last save (after 350) resumes to the same */
    tsne_hook_t every = {0, 0, 0, 0, path};
    adk_tsne_ckpt_t ck = {70, th_stop, th_save, &every, NULL};
    adk_tsne_result_t *a = tsne_run(x, &ck, 400, 300, &st);
    CU_ASSERT(st == ADK_OK && same_embedding(a, ref));
    CU_ASSERT(every.nsave == 5 && every.last_iter == 349 && every.last_stop == 0);
    adk_tsne_state_t *s = tsne_state(path, x);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(s->phase == 1 && s->iter == 349 && s->best_iter == 299);
    adk_tsne_ckpt_t rs = {0, NULL, NULL, NULL, s};
    adk_tsne_result_t *b = tsne_run(x, &rs, 400, 300, &st);
    CU_ASSERT(st == ADK_OK && same_embedding(b, ref));
    adk_tsne_state_free(s);
    /* a stop asked by the last rank only, in the exaggeration: saved once, ADK_ESTOPPED */
    tsne_hook_t stop = {123, 0, 0, 0, path};
    adk_tsne_ckpt_t cs = {0, th_stop, th_save, &stop, NULL};
    adk_tsne_result_t *c = tsne_run(x, &cs, 400, 300, &st);
    CU_ASSERT(st == ADK_ESTOPPED && c == NULL && stop.nsave == 1 && stop.last_iter == 122 &&
              stop.last_stop == 1);
    adk_ctx_clear(ctx);
    s = tsne_state(path, x);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(s->phase == 0 && s->iter == 122);
    adk_tsne_ckpt_t rc = {0, NULL, NULL, NULL, s};
    adk_tsne_result_t *d = tsne_run(x, &rc, 400, 300, &st);
    CU_ASSERT(st == ADK_OK && same_embedding(d, ref));
    adk_tsne_state_free(s);
    /* after the exaggeration, the stopping rule's memory is the state's: a best KL no run
     * reaches, 20 iterations back, ends the resumed run at its first check (patience 10) */
    tsne_hook_t late = {270, 0, 0, 0, path};
    adk_tsne_ckpt_t cl = {0, th_stop, th_save, &late, NULL};
    adk_tsne_result_t *e = tsne_run(x, &cl, 400, 10, &st);
    CU_ASSERT(st == ADK_ESTOPPED && e == NULL);
    adk_ctx_clear(ctx);
    s = tsne_state(path, x);
    CU_ASSERT_FATAL(s != NULL);
    adk_tsne_ckpt_t rl = {0, NULL, NULL, NULL, s};
    adk_tsne_result_t *g = tsne_run(x, &rl, 400, 10, &st);
    CU_ASSERT(st == ADK_OK && g && g->n_iter == 349); /* as the uninterrupted run (below) */
    adk_tsne_result_t *h = tsne_run(x, NULL, 400, 10, &st);
    CU_ASSERT(st == ADK_OK && same_embedding(g, h));
    s->best = -1.0;
    adk_tsne_result_t *k = tsne_run(x, &rl, 400, 10, &st);
    CU_ASSERT(st == ADK_OK && k && k->n_iter == 299);
    adk_tsne_state_free(s);
    /* a state of other rows is refused */
    adk_rows_t *y = make_rows(ctx, 41, 3, -1);
    adk_h5_t *f = NULL;
    CU_ASSERT_FATAL(adk_h5_open(ctx, path, &f) == ADK_OK);
    s = NULL;
    CU_ASSERT_EQUAL(adk_tsne_state_read(ctx, f, y, 2, &s), ADK_EDATA);
    CU_ASSERT(s == NULL && adk_test_message_has("/y is 40 x 2, this run has 41 x 2"));
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_tsne_state_read(ctx, f, x, 3, &s), ADK_EDATA);
    CU_ASSERT(s == NULL && adk_test_message_has("a state of 2 components"));
    adk_ctx_clear(ctx);
    /* ranges: the last element, one past the end asked by the last rank only, a 2-D dataset */
    int64_t tot = 0, v[2] = {-1, -1};
    int mine = adk_ctx_rank(ctx) == adk_ctx_size(ctx) - 1;
    CU_ASSERT_EQUAL(adk_h5_read_range(f, "/p_col", 1, 0, 1, v, &tot), ADK_OK);
    CU_ASSERT(tot > 40 && v[0] >= 0 && v[0] < 40);
    CU_ASSERT_EQUAL(adk_h5_read_range(f, "/p_col", 1, tot - 1, mine ? 2 : 0, v, NULL), ADK_EDATA);
    CU_ASSERT(adk_test_message_has("asked for, it has"));
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_h5_read_range(f, "/y", 0, 0, 1, v, NULL), ADK_EDATA);
    CU_ASSERT(adk_test_message_has("expected 1-D"));
    adk_ctx_clear(ctx);
    adk_h5_close(f);
    adk_rows_free(y);
    adk_tsne_result_free(ref);
    adk_tsne_result_free(a);
    adk_tsne_result_free(b);
    adk_tsne_result_free(d);
    adk_tsne_result_free(g);
    adk_tsne_result_free(h);
    adk_tsne_result_free(k);
    adk_rows_free(x);
}

static void test_check_options(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const char *outs[] = {"out.h5", NULL, "a.h5"}, *path = "x";
    CU_ASSERT_EQUAL(adk_ckpt_check_options(ctx, NULL, NULL, 0, outs, 3, &path), ADK_OK);
    CU_ASSERT(path == NULL);
    CU_ASSERT_EQUAL(adk_ckpt_check_options(ctx, "ck.h5", "r.h5", 5, outs, 3, &path), ADK_OK);
    CU_ASSERT_STRING_EQUAL(path, "ck.h5");
    CU_ASSERT_EQUAL(adk_ckpt_check_options(ctx, NULL, "r.h5", 5, outs, 3, &path), ADK_OK);
    CU_ASSERT_STRING_EQUAL(path, "r.h5"); /* a resumed run saves where it resumed from */
    CU_ASSERT_EQUAL(adk_ckpt_check_options(ctx, NULL, NULL, 5, outs, 3, &path), ADK_EINVAL);
    CU_ASSERT(adk_test_message_has("--checkpoint-every 5: needs N >= 0 and --checkpoint FILE"));
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_ckpt_check_options(ctx, "ck.h5", NULL, -1, outs, 3, &path), ADK_EINVAL);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_ckpt_check_options(ctx, NULL, "a.h5", 0, outs, 3, &path), ADK_EINVAL);
    CU_ASSERT(adk_test_message_has("--checkpoint a.h5 is also an output file"));
    adk_ctx_clear(ctx);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"checkpoint written and read back bit for bit, rewritten in place", test_round_trip},
        {"other parameters, input, program, file: refused, named", test_mismatch},
        {"a failing write leaves the previous checkpoint as it was", test_atomic},
        {"input checksum: any partition, one bit, a swap", test_checksum},
        {"stop requests: test hook on the last rank, SIGUSR1, SIGTERM", test_stop_requests},
        {"k-means state written and read back bit for bit", test_state_round_trip},
        {"k-means stopped and resumed: the bits of an uninterrupted fit", test_kmeans_resume},
        {"t-SNE stopped and resumed through a file: the bits of an uninterrupted run",
         test_tsne_resume},
        {"checkpoint options: periods, paths, outputs", test_check_options},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_ckpt", tests);
}
