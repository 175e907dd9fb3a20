/*
 * adkit-pca: principal component analysis of a distributed matrix (adk_pca); writes the model and
 * every row's projection, in input row order, into one HDF5 file.
 *
 *   mpiexec -n 4 adkit-pca --n-components 2 --whiten --out pca.h5 data.h5:/data
 *
 * Prints the explained variance ratios on stdout (rank 0); the same bits for any number of ranks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_io.h"
#include "adk_pca.h"

typedef struct {
    const char *out, *ncomp, *label_col;
    int whiten, force;
} opts_t;

/* --n-components: "all" (0 here, resolved to D once the data are read) or an integer >= 1. */
static int parse_ncomp(adk_ctx_t *ctx, const char *s, int64_t *k)
{
    if (strcmp(s, "all") == 0) {
        *k = 0;
        return ADK_OK;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < 1) {
        return ADK_ERR(ctx, ADK_EINVAL, "--n-components: '%s' is not 'all' or an integer >= 1", s);
    }
    *k = v;
    return ADK_OK;
}

/* The model, its parameters and the projection: one file, written whole or not at all. */
static int write_output(adk_ctx_t *ctx, const opts_t *o, const adk_rows_t *x, const adk_pca_t *p,
                        const double *y)
{
    adk_out_t *out = NULL;
    /* a failed create has already cleaned up (and agreed) */
    ADK_CHECK(adk_out_create(ctx, o->out, o->force ? ADK_OUT_FORCE : 0, &out));
    int st = adk_pca_save(out, p);
    if (st == ADK_OK) {
        st = adk_out_attr_i64(out, "/", "whiten", o->whiten);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/projection", ADK_F64, y, x->n, x->row0, x->nloc, p->k);
    }
    return adk_out_commit(out, st);
}

static void print_summary(adk_ctx_t *ctx, const adk_rows_t *x, const adk_pca_t *p)
{
    double cum = 0.0;
    printf("adkit-pca: %lld rows x %zu features, %zu component%s, %d rank%s\n", (long long)x->n,
           x->d, p->k, p->k > 1 ? "s" : "", adk_ctx_size(ctx), adk_ctx_size(ctx) > 1 ? "s" : "");
    printf("  %4s  %24s  %12s  %12s\n", "pc", "explained_variance", "ratio", "cumulative");
    for (size_t j = 0; j < p->k; j++) {
        cum += p->ratio[j];
        printf("  %4zu  %24.17g  %12.6f  %12.6f\n", j + 1, p->var[j], p->ratio[j], cum);
    }
    fflush(stdout);
}

static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    const opts_t *o = opts;
    const char *input = pos[0]; /* the table allows exactly one */
    (void)npos;
    int64_t k = 0;
    if (!o->out) {
        return ADK_ERR(ctx, ADK_EINVAL, "--out OUT.h5 is required");
    }
    ADK_CHECK(parse_ncomp(ctx, o->ncomp, &k));
    ADK_CHECK(adk_out_check(ctx, o->out, o->force ? ADK_OUT_FORCE : 0));
    adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, o->label_col};
    adk_rows_t *x = NULL;
    ADK_CHECK(adk_io_read(ctx, input, &ro, &x));
    int st = ADK_OK;
    if (k > (int64_t)x->d) { /* same on every rank */
        st = ADK_ERR(ctx, ADK_EINVAL, "--n-components %lld exceeds the %zu features of %s",
                     (long long)k, x->d, input);
    }
    adk_pca_t *p = NULL;
    if (st == ADK_OK) {
        st = adk_pca_fit(ctx, x, k ? (size_t)k : x->d, &p);
    }
    double *y = NULL;
    if (st == ADK_OK) {
        y = adk_malloc((x->nloc ? x->nloc : 1) * p->k * sizeof(double));
        st = adk_ctx_agree(ctx, y ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        if (p->total_var == 0.0) {
            adk_ctx_warn(ctx, "every row of %s is the same: explained variances and ratios are 0",
                         input);
        }
        adk_pca_transform(p, x->x, x->nloc, o->whiten, y);
        st = write_output(ctx, o, x, p, y);
    }
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0 && !adk_ctx_quiet(ctx)) {
        print_summary(ctx, x, p);
    }
    free(y);
    adk_pca_free(p);
    adk_rows_free(x);
    return st;
}

ADK_CLI_MAIN(pca)
{
    opts_t o = {.out = NULL, .ncomp = "all", .label_col = NULL, .whiten = 0, .force = 0};
    const adk_opt_t tab[] = {
        {"n-components", ADK_OPT_STR, &o.ncomp, "N", "components to keep, 1..D, or all"},
        {"whiten", ADK_OPT_FLAG, &o.whiten, NULL,
         "divide each projected column by the square root of its explained variance"},
        {"out", ADK_OPT_STR, &o.out, "OUT.h5", "output file (model and /projection), required"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV input: column to leave out (labels)"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace an existing output file"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "[OPTIONS] --out OUT.h5 INPUT",
        "Principal component analysis, as scikit-learn's PCA: mean and covariance of the rows\n"
        "(exact reproducible sums), its eigenvectors (GSL) by decreasing variance, each with its\n"
        "largest absolute entry positive. Writes /components (N_COMPONENTS x D),\n"
        "/explained_variance (divisor N - 1), /explained_variance_ratio, /mean and /projection\n"
        "(N x N_COMPONENTS, input row order). INPUT is FILE.h5:/dataset or FILE.csv. Results are\n"
        "bitwise identical for any number of MPI ranks.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 4 adkit-pca --n-components 2 --out pca.h5 data.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
