/*
 * adkit-kmeans: fit k-means on a distributed matrix; write the model (and per-row assignments).
 *
 *   mpiexec -n 4 adkit-kmeans --k 8 --seed 0 --out model.h5 --assign assign.h5 data.h5:/data
 *
 * Prints one progress line per iteration on stderr (rank 0) and a summary on stdout. With
 * --checkpoint, SIGTERM and SIGUSR1 make it save the fit's state and exit 75 (--resume goes on).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_ckpt.h"
#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_dist.h"
#include "adk_io.h"
#include "adk_kmeans.h"

typedef struct {
    adk_kmeans_params_t km;
    const char *out, *assign, *label_col, *kernel, *algorithm;
    int force, require_conv;
    const char *checkpoint, *resume;
    int ckpt_every;
    const adk_opt_t *tab; /* the option table (the checkpoint records parameters from it) */
} opts_t;

/* The options a resumed run must share with the run that wrote its checkpoint. */
#define CKPT_PARAMS "k,init,n-init,max-iter,tol,seed,kernel,label-col"

/* The fit's checkpoint hooks (adk_kmeans_ckpt_t): adk_ckpt asks and writes. */
static int ck_stop(void *ud, int run, int iter)
{
    return adk_ckpt_stop_wanted(ud, run, iter);
}

static int ck_save(void *ud, const adk_kmeans_state_t *s)
{
    adk_out_t *out = NULL;
    int st = adk_ckpt_begin(ud, &out);
    if (st == ADK_OK) {
        st = adk_kmeans_state_write(out, s);
    }
    st = adk_ckpt_commit(out, st);
    if (st == ADK_OK && s->stop) {
        st = adk_ckpt_stopped(ud, "run %d of %d, iteration %d", s->run + 1, s->n_init, s->iter);
    }
    return st;
}

/* Once the input is read: the run's identity for its checkpoints, and the state to go on from. */
static int ckpt_setup(adk_ctx_t *ctx, adk_ckpt_t *ck, const opts_t *o, const char *input,
                      const adk_rows_t *x, adk_kmeans_state_t **from)
{
    adk_ckpt_options(ck, o->tab, CKPT_PARAMS); /* a failure is kept: adk_ckpt_input returns it */
    int st = adk_ckpt_input(ck, input, x);
    if (st == ADK_OK && o->resume) {
        adk_h5_t *f = NULL;
        st = adk_ckpt_open(ck, o->resume, &f);
        if (st == ADK_OK) {
            st = adk_kmeans_state_read(ctx, f, from);
        }
        adk_h5_close(f);
    }
    if (st == ADK_OK && *from) {
        adk_ctx_info(ctx, "resuming from %s: run %d of %d after iteration %d", o->resume,
                     (*from)->run + 1, (*from)->n_init, (*from)->iter);
    }
    return st;
}

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
    o->km.algorithm = adk_kmeans_algorithm_parse(o->algorithm);
    if (o->km.algorithm < 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "--algorithm: '%s' is not auto, lloyd, hamerly or yinyang",
                       o->algorithm);
    }
    const char *ckpath = o->checkpoint ? o->checkpoint : o->resume; /* --resume: there again */
    if (o->ckpt_every < 0 || (o->ckpt_every > 0 && !ckpath)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--checkpoint-every %d: needs N >= 0 and --checkpoint FILE",
                       o->ckpt_every);
    }
    if (ckpath && (!strcmp(ckpath, o->out) || (o->assign && !strcmp(ckpath, o->assign)))) {
        return ADK_ERR(ctx, ADK_EINVAL, "--checkpoint %s is also an output file", ckpath);
    }
    ADK_CHECK(adk_out_check(ctx, o->out, fl));
    if (o->assign) {
        ADK_CHECK(adk_out_check(ctx, o->assign, fl));
    }
    adk_ckpt_t *ck = NULL; /* from here on SIGTERM and SIGUSR1 ask for a checkpoint */
    if (ckpath) {
        ADK_CHECK(adk_ckpt_create(ctx, "adkit-kmeans", ckpath, ckpath == o->resume, &ck));
    }
    adk_ctx_set_seed(ctx, o->km.seed);
    adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, o->label_col};
    adk_rows_t *x = NULL;
    int st = adk_io_read(ctx, input, &ro, &x);
    if (st != ADK_OK) {
        adk_ckpt_free(ck);
        return st;
    }
    int32_t *lab = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(int32_t));
    double *dist = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(double));
    st = adk_ctx_agree(ctx, lab && dist ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    adk_kmeans_state_t *from = NULL;
    adk_kmeans_ckpt_t hooks = {o->ckpt_every, ck_stop, ck_save, ck, NULL};
    adk_kmeans_params_t km = o->km;
    if (st == ADK_OK && ck) {
        st = ckpt_setup(ctx, ck, o, input, x, &from);
        hooks.resume = from;
        km.ckpt = &hooks;
    }
    adk_kmeans_model_t *m = NULL;
    double t0 = adk_now();
    if (st == ADK_OK) {
        st = adk_kmeans_fit(ctx, &km, x, &m, lab, dist);
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
        printf("  algorithm %s  distances skipped %.4f\n",
               adk_kmeans_algorithm_name((adk_kmeans_algo_t)m->algorithm), m->skipped);
        fflush(stdout);
    }
    adk_kmeans_model_free(m);
    adk_kmeans_state_free(from);
    adk_ckpt_free(ck);
    free(lab);
    free(dist);
    adk_rows_free(x);
    return st;
}

ADK_CLI_MAIN(kmeans)
{
    opts_t o = {.out = NULL,
                .assign = NULL,
                .label_col = NULL,
                .kernel = "auto",
                .algorithm = "auto",
                .force = 0,
                .require_conv = 0,
                .checkpoint = NULL,
                .resume = NULL,
                .ckpt_every = 0};
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
        {"algorithm", ADK_OPT_STR, &o.algorithm, "ALG",
         "lloyd, hamerly or yinyang (skip rows whose distance bounds prove their label; the same "
         "bits as lloyd), or auto (lloyd: see the README)"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace existing output files"},
        {"require-convergence", ADK_OPT_FLAG, &o.require_conv, NULL,
         "exit with code 4 when max-iter is reached without convergence"},
        {"checkpoint", ADK_OPT_STR, &o.checkpoint, "FILE",
         "on SIGTERM or SIGUSR1 save the fit's state to FILE and exit with code 75"},
        {"checkpoint-every", ADK_OPT_INT, &o.ckpt_every, "N",
         "also save it every N Lloyd iterations (0: only when stopped)"},
        {"resume", ADK_OPT_STR, &o.resume, "FILE",
         "go on from checkpoint FILE (same input and parameters, any number of ranks); "
         "checkpoints go to FILE unless --checkpoint"},
        {NULL, 0, NULL, NULL, NULL}};
    o.tab = tab;
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
