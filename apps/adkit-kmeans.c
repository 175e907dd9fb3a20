/*
 * adkit-kmeans: fit k-means on a distributed matrix; write the model (and per-row assignments).
 *
 *   mpiexec -n 4 adkit-kmeans --k 8 --seed 0 --out model.h5 --assign assign.h5 data.h5:/data
 *
 * Prints one progress line per iteration on stderr (rank 0) and a summary on stdout.
 */
#include <stdio.h>
#include <stdlib.h>

#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_dist.h"
#include "adk_io.h"
#include "adk_kmeans.h"

typedef struct {
    adk_kmeans_params_t km;
    const char *out, *assign, *label_col, *kernel;
    int force, require_conv;
} opts_t;

/* The model and the assignments are one group: both appear, or neither does. */
static int write_outputs(adk_ctx_t *ctx, const opts_t *o, const adk_rows_t *x,
                         const adk_kmeans_model_t *m, const int32_t *lab, const double *dist)
{
    adk_out_group_t *g = NULL;
    adk_out_t *out = NULL;
    int st = adk_out_group_create(ctx, o->force ? ADK_OUT_FORCE : 0, &g);
    if (st == ADK_OK) {
        st = adk_out_h5_create(g, o->out, &out);
    }
    if (st == ADK_OK) {
        st = adk_kmeans_model_write(out, m);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(out, "/", "n_ranks", adk_ctx_size(ctx));
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(out, "/", "max_iter", o->km.max_iter);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(out, "/", "tol", o->km.tol);
    }
    if (st == ADK_OK && o->assign) {
        st = adk_out_h5_create(g, o->assign, &out);
        if (st == ADK_OK) {
            st = adk_out_rows(out, "/cluster", ADK_I32, lab, x->n, x->row0, x->nloc, 0);
        }
        if (st == ADK_OK) {
            st = adk_out_rows(out, "/distance", ADK_F64, dist, x->n, x->row0, x->nloc, 0);
        }
    }
    return adk_out_group_commit(g, st);
}

static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    opts_t *o = opts;
    const char *input = pos[0]; /* the table allows exactly one */
    (void)npos;
    o->km.verbose = !adk_ctx_quiet(ctx);
    unsigned fl = o->force ? ADK_OUT_FORCE : 0;
    if (!o->out) {
        return ADK_ERR(ctx, ADK_EINVAL, "--out MODEL.h5 is required");
    }
    o->km.kernel = adk_dist_kernel_parse(o->kernel);
    if (o->km.kernel < 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "--kernel: '%s' is not auto, blas or avx512", o->kernel);
    }
    ADK_CHECK(adk_out_check(ctx, o->out, fl));
    if (o->assign) {
        ADK_CHECK(adk_out_check(ctx, o->assign, fl));
    }
    adk_ctx_set_seed(ctx, o->km.seed);
    adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, o->label_col};
    adk_rows_t *x = NULL;
    ADK_CHECK(adk_io_read(ctx, input, &ro, &x));
    int32_t *lab = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(int32_t));
    double *dist = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(double));
    int st = adk_ctx_agree(ctx, lab && dist ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    adk_kmeans_model_t *m = NULL;
    double t0 = adk_now();
    if (st == ADK_OK) {
        st = adk_kmeans_fit(ctx, &o->km, x, &m, lab, dist);
    }
    double secs = adk_now() - t0;
    if (st == ADK_OK && !m->converged && o->require_conv) { /* an error: nothing is written */
        st = ADK_ERR(ctx, ADK_ENOCONV,
                     "k-means did not converge within --max-iter %d iterations "
                     "(--require-convergence); no output written",
                     o->km.max_iter);
    } else if (st == ADK_OK && !m->converged) {
        adk_ctx_warn(ctx, "no convergence within --max-iter %d iterations", o->km.max_iter);
    }
    if (st == ADK_OK) {
        st = write_outputs(ctx, o, x, m, lab, dist);
    }
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0) {
        printf("adkit-kmeans: %lld rows x %zu features, k = %zu, %d rank%s\n", (long long)x->n,
               x->d, m->k, adk_ctx_size(ctx), adk_ctx_size(ctx) > 1 ? "s" : "");
        printf("  inertia %.17g  iterations %d  converged %s  kernel %s  fit %.3f s\n", m->inertia,
               m->n_iter, m->converged ? "yes" : "no",
               adk_dist_kernel_name((adk_kernel_t)m->kernel), secs);
        fflush(stdout);
    }
    adk_kmeans_model_free(m);
    free(lab);
    free(dist);
    adk_rows_free(x);
    return st;
}

int main(int argc, char **argv)
{
    opts_t o = {.out = NULL,
                .assign = NULL,
                .label_col = NULL,
                .kernel = "auto",
                .force = 0,
                .require_conv = 0};
    adk_kmeans_params_default(&o.km);
    const adk_opt_t tab[] = {
        {"k", ADK_OPT_INT, &o.km.k, "K", "number of clusters (an init file must have K rows)"},
        {"init", ADK_OPT_STR, &o.km.init, "HOW", "k-means++, random, or FILE.h5:/centroids"},
        {"n-init", ADK_OPT_INT, &o.km.n_init, "N",
         "runs with different seeds, keep the lowest inertia (0: 1, or 10 for random)"},
        {"max-iter", ADK_OPT_INT, &o.km.max_iter, "N", "iterations per run"},
        {"tol", ADK_OPT_DOUBLE, &o.km.tol, "T",
         "centre shift tolerance, relative to the mean variance"},
        {"seed", ADK_OPT_U64, &o.km.seed, "S", "random seed"},
        {"out", ADK_OPT_STR, &o.out, "MODEL.h5", "model file to write (/centroids)"},
        {"assign", ADK_OPT_STR, &o.assign, "A.h5", "also write /cluster and /distance per row"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV input: column to leave out (labels)"},
        {"kernel", ADK_OPT_STR, &o.kernel, "KIND",
         "nearest-centre kernel: auto (AVX-512 when every rank has it), blas, avx512"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace existing output files"},
        {"require-convergence", ADK_OPT_FLAG, &o.require_conv, NULL,
         "exit with code 4 when max-iter is reached without convergence"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "[OPTIONS] --out MODEL.h5 INPUT",
        "Distributed Lloyd k-means (scikit-learn's rules: greedy k-means++, tolerance relative to\n"
        "the mean feature variance, empty clusters relocated). INPUT is FILE.h5:/dataset or\n"
        "FILE.csv. Results are bitwise identical for any number of MPI ranks.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 2 adkit-kmeans --k 3 --seed 0 --out model.h5 --assign a.h5 "
        "blobs.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
