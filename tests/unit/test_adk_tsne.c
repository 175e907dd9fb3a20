/*
 * Unit tests for adk_tsne against scikit-learn 1.2.1 fixtures
 * (tests/fixtures/make_tsne_fixtures.py): the perplexity search (betas bit for bit with the
 * fixture's float64 search, P within 1e-6 of scikit-learn's float32 one), the joint P of both
 * methods at any rank count, the KL and exact gradient against _kl_divergence (dof 1 and 2), the
 * exact gradient against finite differences of our own KL, Barnes-Hut at angle 0 against the exact
 * gradient; whole runs the same bits whichever rank holds which rows; bad parameters and data.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_io.h"
#include "adk_part.h"
#include "adk_test.h"
#include "adk_tsne.h"

static const char *fix(const char *name)
{
    static char buf[4][1024];
    static int at = 0;
    const char *src = getenv("ADK_SRCDIR");
    at = (at + 1) % 4;
    snprintf(buf[at], sizeof(buf[at]), "%s/tests/fixtures/tsne/%s", src && *src ? src : ".", name);
    return buf[at];
}

/* A whole small dataset of a fixture (replicated), with its shape. */
static double *load(const char *file, const char *dset, int64_t *rows, int64_t *cols)
{
    char spec[1200];
    snprintf(spec, sizeof(spec), "%s:%s", fix(file), dset);
    double *v = NULL;
    int nd = 0;
    int64_t r = 0, c = 0;
    CU_ASSERT_EQUAL_FATAL(adk_io_read_small(adk_test_ctx(), spec, 1 << 22, &v, &r, &c, &nd),
                          ADK_OK);
    if (rows) {
        *rows = r;
    }
    if (cols) {
        *cols = nd == 1 ? 1 : c;
    }
    return v;
}

/* Rows of a fixture as a reader gives them (plain split, or all on the last rank when skewed). */
static adk_rows_t *rows_of(const char *file, const char *dset, int skew)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int64_t n = 0, d = 0;
    double *all = load(file, dset, &n, &d);
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    adk_range_t p = adk_part_rows(n, size, rank, 1);
    if (skew) {
        p.start = rank == size - 1 ? 0 : n;
        p.count = rank == size - 1 ? n : 0;
    }
    adk_rows_t *x = calloc(1, sizeof(*x));
    CU_ASSERT_FATAL(x != NULL);
    *x = (adk_rows_t){n, p.start, (size_t)p.count, (size_t)d, 1, NULL, NULL, NULL};
    x->x = malloc(((size_t)p.count + 1) * (size_t)d * sizeof(double));
    CU_ASSERT_FATAL(x->x != NULL);
    memcpy(x->x, all + p.start * d, (size_t)p.count * (size_t)d * sizeof(double));
    free(all);
    return x;
}

static void free_rows(adk_rows_t *x)
{
    free(x->x);
    free(x);
}

static void test_search(void)
{
    const char *perps[] = {"5", "10"};
    for (int c = 0; c < 2; c++) {
        char g[64];
        int64_t n = 0;
        double *d2 = load("small.h5", "/sqdist", &n, NULL);
        snprintf(g, sizeof(g), "/exact/perp%s/cond_ref64", perps[c]);
        double *ref = load("small.h5", g, NULL, NULL);
        snprintf(g, sizeof(g), "/exact/perp%s/cond_sklearn", perps[c]);
        double *sk = load("small.h5", g, NULL, NULL);
        snprintf(g, sizeof(g), "/exact/perp%s/beta_ref64", perps[c]);
        double *bref = load("small.h5", g, NULL, NULL);
        double *p = malloc((size_t)n * sizeof(double)), perp = atof(perps[c]);
        int bad_beta = 0, bad_ref = 0, bad_sk = 0, bad_h = 0;
        for (int64_t i = 0; i < n; i++) {
            double beta = 0.0;
            adk_tsne_search_row(d2 + i * n, (size_t)n, i, perp, p, &beta);
            bad_beta += !adk_test_same_bits(beta, bref[i]);
            double h = 0.0, s = 0.0;
            for (int64_t j = 0; j < n; j++) {
                bad_ref += fabs(p[j] - ref[i * n + j]) > 1e-12;
                bad_sk += fabs(p[j] - sk[i * n + j]) > 1e-6;
                h -= p[j] > 0.0 ? p[j] * log(p[j]) : 0.0;
                s += p[j];
            }
            bad_h += fabs(h - log(perp)) > 1e-5 || fabs(s - 1.0) > 1e-12 || p[i] != 0.0;
        }
        CU_ASSERT_EQUAL(bad_beta, 0);
        CU_ASSERT_EQUAL(bad_ref, 0);
        CU_ASSERT_EQUAL(bad_sk, 0);
        CU_ASSERT_EQUAL(bad_h, 0); /* the entropy is the perplexity's, independently of sklearn */
        free(d2);
        free(ref);
        free(sk);
        free(bref);
        free(p);
    }
}

/* The local rows of P against a dense reference (zero where P stores nothing). */
static int p_differs(const adk_tsne_p_t *P, const double *ref, double tol)
{
    int64_t n = P->n;
    int bad = 0;
    for (size_t i = 0; i < P->nloc; i++) {
        int64_t gi = P->row0 + (int64_t)i;
        double *row = calloc((size_t)n, sizeof(double));
        for (size_t e = P->ptr[i]; e < P->ptr[i + 1]; e++) {
            bad += e > P->ptr[i] && P->col[e] <= P->col[e - 1]; /* sorted, distinct */
            row[P->col[e]] = P->val[e];
        }
        for (int64_t j = 0; j < n; j++) {
            bad += fabs(row[j] - ref[gi * n + j]) > tol;
        }
        free(row);
    }
    return bad;
}

static void test_joint_p(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const char *perps[] = {"5", "10"};
    for (int exact = 0; exact < 2; exact++) {
        for (int c = 0; c < 2; c++) {
            char g[64];
            snprintf(g, sizeof(g), "/%s/perp%s/joint_ref64", exact ? "exact" : "nn", perps[c]);
            double *ref = load("small.h5", g, NULL, NULL);
            snprintf(g, sizeof(g), "/%s/perp%s/joint_sklearn", exact ? "exact" : "nn", perps[c]);
            double *sk = load("small.h5", g, NULL, NULL);
            for (int skew = 0; skew < 2; skew++) {
                adk_rows_t *x = rows_of("small.h5", "/data", skew);
                adk_tsne_p_t *P = NULL;
                CU_ASSERT_EQUAL_FATAL(adk_tsne_joint_p(ctx, x, atof(perps[c]), exact, &P, NULL),
                                      ADK_OK);
                CU_ASSERT_EQUAL(p_differs(P, ref, 1e-12), 0);
                CU_ASSERT_EQUAL(p_differs(P, sk, 1e-6), 0);
                adk_tsne_p_free(P);
                free_rows(x);
            }
            free(ref);
            free(sk);
        }
    }
}

/* P of the local rows from a dense symmetric matrix (entries > 0 off the diagonal). */
static adk_tsne_p_t *p_from_dense(const double *d, int64_t n)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_range_t r = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), 1);
    adk_tsne_p_t *P = calloc(1, sizeof(*P));
    P->n = n;
    P->row0 = r.start;
    P->nloc = (size_t)r.count;
    P->ptr = calloc(P->nloc + 1, sizeof(size_t));
    P->col = malloc((size_t)(n * n + 1) * sizeof(int64_t));
    P->val = malloc((size_t)(n * n + 1) * sizeof(double));
    P->beta = malloc((P->nloc + 1) * sizeof(double));
    size_t q = 0;
    for (size_t i = 0; i < P->nloc; i++) {
        int64_t gi = P->row0 + (int64_t)i;
        for (int64_t j = 0; j < n; j++) {
            if (j != gi && d[gi * n + j] > 0.0) {
                P->col[q] = j;
                P->val[q++] = d[gi * n + j];
            }
        }
        P->ptr[i + 1] = q;
    }
    return P;
}

/* KL and gradient against scikit-learn's _kl_divergence for one case of kl.h5. */
static void kl_case(const char *name, const char *pname, int dim)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char g[64];
    int64_t n = 0;
    double *pd = load("kl.h5", pname, &n, NULL);
    snprintf(g, sizeof(g), "/%s/Y", name);
    double *y = load("kl.h5", g, NULL, NULL);
    snprintf(g, sizeof(g), "/%s/grad", name);
    double *ref = load("kl.h5", g, NULL, NULL);
    double want = 0.0;
    char obj[64];
    snprintf(obj, sizeof(obj), "/%s", name);
    CU_ASSERT_EQUAL_FATAL(adk_io_attr_f64(ctx, fix("kl.h5"), obj, "kl", &want), ADK_OK);
    adk_tsne_p_t *P = p_from_dense(pd, n);
    double *grad = malloc((P->nloc + 1) * (size_t)dim * sizeof(double)), kl = 0.0, gmax = 0.0;
    CU_ASSERT_EQUAL_FATAL(adk_tsne_gradient(ctx, P, y, dim, 1.0, 1, 0.0, grad, &kl), ADK_OK);
    ADK_ASSERT_REL(kl, want, 1e-10);
    for (int64_t e = 0; e < n * dim; e++) {
        gmax = fmax(gmax, fabs(ref[e]));
    }
    int bad = 0;
    for (size_t e = 0; e < P->nloc * (size_t)dim; e++) {
        bad += fabs(grad[e] - ref[P->row0 * dim + (int64_t)e]) > 1e-10 * gmax;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* Barnes-Hut at angle 0 opens every cell: the exact sums in another order */
    double kl0 = 0.0;
    double *g0 = malloc((P->nloc + 1) * (size_t)dim * sizeof(double));
    CU_ASSERT_EQUAL(adk_tsne_gradient(ctx, P, y, dim, 1.0, 0, 0.0, g0, &kl0), ADK_OK);
    ADK_ASSERT_REL(kl0, kl, 1e-12);
    bad = 0;
    for (size_t e = 0; e < P->nloc * (size_t)dim; e++) {
        bad += fabs(g0[e] - grad[e]) > 1e-12 * gmax;
    }
    CU_ASSERT_EQUAL(bad, 0);
    adk_tsne_p_free(P);
    free(pd);
    free(y);
    free(ref);
    free(grad);
    free(g0);
}

static void test_kl_sklearn(void)
{
    kl_case("exact_2d", "/P_exact", 2);
    kl_case("exact_2d_small", "/P_exact", 2);
    kl_case("nn_2d", "/P_nn", 2);
    kl_case("exact_3d_dof2", "/P_exact", 3);
}

/* Central differences of our own KL against our gradient, every coordinate of every row. */
static void test_finite_differences(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int64_t n = 0;
    double *pd = load("kl.h5", "/P_exact", &n, NULL);
    double *y = load("kl.h5", "/exact_2d/Y", NULL, NULL);
    adk_tsne_p_t *P = p_from_dense(pd, n);
    double *grad = malloc((P->nloc + 1) * 2 * sizeof(double));
    double *scratch = malloc((P->nloc + 1) * 2 * sizeof(double));
    CU_ASSERT_EQUAL_FATAL(adk_tsne_gradient(ctx, P, y, 2, 1.0, 1, 0.0, grad, NULL), ADK_OK);
    int bad = 0;
    for (int64_t e = 0; e < n * 2; e++) { /* every rank perturbs the same coordinate */
        double h = 1e-5, keep = y[e], kp = 0.0, km = 0.0;
        y[e] = keep + h;
        CU_ASSERT_EQUAL(adk_tsne_gradient(ctx, P, y, 2, 1.0, 1, 0.0, scratch, &kp), ADK_OK);
        y[e] = keep - h;
        CU_ASSERT_EQUAL(adk_tsne_gradient(ctx, P, y, 2, 1.0, 1, 0.0, scratch, &km), ADK_OK);
        y[e] = keep;
        int64_t li = e / 2 - P->row0;
        if (li >= 0 && li < (int64_t)P->nloc) {
            double fd = (kp - km) / (2.0 * h), an = grad[li * 2 + e % 2];
            bad += fabs(fd - an) > 1e-6 * fmax(1.0, fabs(an));
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    adk_tsne_p_free(P);
    free(pd);
    free(y);
    free(grad);
    free(scratch);
}

/* A whole run's embedding digest (rows in global order) on every rank. */
static uint64_t run_digest(adk_tsne_params_t *p, int skew, double *kl)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_rows_t *x = rows_of("small.h5", "/data", skew);
    adk_tsne_result_t *r = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_tsne_run(ctx, p, x, &r), ADK_OK);
    uint64_t mine = 0, all = 0;
    for (size_t e = 0; e < r->nloc * (size_t)r->dim; e++) {
        uint64_t bits;
        memcpy(&bits, &r->y[e], sizeof(bits));
        mine += bits * (2 * ((uint64_t)r->row0 * (uint64_t)r->dim + e) + 1);
    }
    CU_ASSERT_EQUAL(adk_ctx_allreduce(ctx, &mine, &all, 1, MPI_UINT64_T, MPI_SUM), ADK_OK);
    *kl = r->kl;
    CU_ASSERT(r->n_iter >= 249 && r->n_iter <= p->max_iter - 1);
    CU_ASSERT(isfinite(r->kl) && r->kl > 0.0);
    adk_tsne_result_free(r);
    free_rows(x);
    return all;
}

static void test_any_split(void)
{
    adk_tsne_params_t p;
    adk_tsne_params_default(&p);
    p.verbose = 0;
    p.max_iter = 300;
    p.perplexity = 10.0;
    for (int c = 0; c < 3; c++) { /* Barnes-Hut 2-D, exact 2-D with PCA start, Barnes-Hut 3-D */
        p.exact = c == 1;
        p.init_pca = c == 1;
        p.dim = c == 2 ? 3 : 2;
        double k0 = 0.0, k1 = 0.0;
        uint64_t h0 = run_digest(&p, 0, &k0), h1 = run_digest(&p, 1, &k1);
        CU_ASSERT_EQUAL(h0, h1);
        CU_ASSERT(adk_test_same_bits(k0, k1));
    }
}

static void test_bad(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_tsne_params_t p;
    adk_tsne_params_default(&p);
    CU_ASSERT_EQUAL(adk_tsne_check(ctx, &p, 100, 5), ADK_OK);
    struct {
        const char *field;
        double v;
        int64_t n;
        const char *msg;
    } bad[] = {{"perplexity", 100.0, 100, "--perplexity: 100 must be above 0 and below N = 100"},
               {"perplexity", 0.0, 100, "--perplexity: 0"},
               {"dim", 0, 100, "--n-components: 0 is not 2 or 3"},
               {"dim", 4, 100, "--n-components: 4 is not 2 or 3"},
               {"n", 0, 3, "at least 4 rows (got 3)"},
               {"max_iter", 249, 100, "--max-iter: 249 is below 250"},
               {"angle", 1.5, 100, "--angle: 1.5 is not in [0, 1]"},
               {"exaggeration", 0.5, 100, "--early-exaggeration: 0.5 is below 1"}};
    for (size_t c = 0; c < sizeof(bad) / sizeof(bad[0]); c++) {
        adk_tsne_params_t q = p;
        if (strcmp(bad[c].field, "perplexity") == 0) {
            q.perplexity = bad[c].v;
        } else if (strcmp(bad[c].field, "dim") == 0) {
            q.dim = (int)bad[c].v;
        } else if (strcmp(bad[c].field, "max_iter") == 0) {
            q.max_iter = (int)bad[c].v;
        } else if (strcmp(bad[c].field, "angle") == 0) {
            q.angle = bad[c].v;
        } else if (strcmp(bad[c].field, "exaggeration") == 0) {
            q.early_exaggeration = bad[c].v;
        }
        CU_ASSERT_EQUAL(adk_tsne_check(ctx, &q, bad[c].n, 5), ADK_EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(adk_ctx_message(ctx), bad[c].msg));
        adk_ctx_clear(ctx);
    }
    /* identical rows: nothing to embed, agreed on every rank */
    adk_rows_t *x = rows_of("small.h5", "/data", 0);
    for (size_t i = 0; i < x->nloc * x->d; i++) {
        x->x[i] = 3.0;
    }
    adk_tsne_result_t *r = (adk_tsne_result_t *)x;
    p.verbose = 0;
    p.perplexity = 5.0;
    CU_ASSERT_EQUAL(adk_tsne_run(ctx, &p, x, &r), ADK_EDATA);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT(adk_test_message_has("all 60 rows of the data are identical"));
    adk_ctx_clear(ctx);
    free_rows(x);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"perplexity search = fixture bit for bit, sklearn within 1e-6", test_search},
        {"joint P (exact, kNN) = fixture, sklearn within 1e-6, any split", test_joint_p},
        {"KL and gradient = sklearn _kl_divergence; BH angle 0 = exact", test_kl_sklearn},
        {"exact gradient = finite differences of the KL", test_finite_differences},
        {"whole runs: the same bits whichever rank holds the rows", test_any_split},
        {"bad parameters and identical rows refused", test_bad},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_tsne", tests);
}
