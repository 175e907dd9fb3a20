/*
 * adkit-kmeans: fit k-means on a distributed matrix; write the model (and per-row assignments).
 *
 *   mpiexec -n 4 adkit-kmeans --k 8 --seed 0 --out model.h5 --assign assign.h5 data.h5:/data
 *
 * Prints one progress line per iteration on stderr (rank 0) and a summary on stdout. With
 * --checkpoint, SIGTERM and SIGUSR1 make it save the fit's state and exit 75 (--resume goes on).
 * With --stream (or --mem-limit) the rows stay in the file and are read window by window at every
 * pass: the same results, for data larger than memory.
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
    int stream;
    const char *mem_limit;
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
                      adk_rowsrc_t *src, adk_kmeans_state_t **from)
{
    adk_h5_t *f = NULL;
    int st = adk_ckpt_identify(ck, o->tab, CKPT_PARAMS, input, NULL, src, o->resume, &f);
    if (st == ADK_OK && f) {
        st = adk_kmeans_state_read(ctx, f, from);
    }
    adk_h5_close(f);
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

/* The rows: read whole, or opened for streamed passes with the window --mem-limit leaves. */
static int stream_open(adk_ctx_t *ctx, const opts_t *o, const char *input, adk_rows_t **x,
                       adk_rowsrc_t **src)
{
    uint64_t limit = 0;
    int st = ADK_OK;
    if (o->mem_limit) {
        ADK_CHECK(adk_cli_parse_bytes(ctx, "mem-limit", o->mem_limit, &limit));
    }
    if (!o->stream && !o->mem_limit) {
        adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, o->label_col};
        st = adk_io_read(ctx, input, &ro, x);
        if (st == ADK_OK) {
            st = adk_ctx_agree(ctx, adk_rowsrc_mem(ctx, *x, src));
        }
        return st;
    }
    if (o->label_col) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "--label-col applies to CSV input, which cannot be "
                       "streamed (--stream, --mem-limit)");
    }
    st = adk_rowsrc_open(ctx, input, src);
    size_t rows = 0;
    if (st == ADK_OK) {
        st = adk_kmeans_stream_window(ctx, &o->km, adk_rowsrc_shape(*src), o->assign ? 12 : 0,
                                      limit, &rows, NULL);
    }
    if (st == ADK_OK) {
        st = adk_rowsrc_set_window(*src, rows);
    }
    if (st == ADK_OK) {
        size_t w = adk_rowsrc_window(*src);
        adk_ctx_info(ctx, "streaming %s: windows of %zu rows (%.1f MiB) per rank", input, w,
                     (double)w * (double)adk_rowsrc_shape(*src)->d * 8.0 / 1048576.0);
    }
    return st;
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
        return ADK_ERR(ctx, ADK_EINVAL, "--kernel: '%s' is not auto, blas, avx2 or avx512",
                       o->kernel);
    }
    o->km.algorithm = adk_kmeans_algorithm_parse(o->algorithm);
    if (o->km.algorithm < 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "--algorithm: '%s' is not auto, lloyd, hamerly or yinyang",
                       o->algorithm);
    }
    const char *ckpath = NULL, *outs[] = {o->out, o->assign};
    ADK_CHECK(
        adk_ckpt_check_options(ctx, o->checkpoint, o->resume, o->ckpt_every, outs, 2, &ckpath));
    ADK_CHECK(adk_out_check(ctx, o->out, fl));
    if (o->assign) {
        ADK_CHECK(adk_out_check(ctx, o->assign, fl));
    }
    adk_ckpt_t *ck = NULL; /* from here on SIGTERM and SIGUSR1 ask for a checkpoint */
    if (ckpath) {
        ADK_CHECK(adk_ckpt_create(ctx, "adkit-kmeans", ckpath, ckpath == o->resume, &ck));
    }
    adk_ctx_set_seed(ctx, o->km.seed);
    adk_rows_t *x = NULL; /* in memory; streamed: the rows stay in the file */
    adk_rowsrc_t *src = NULL;
    int st = stream_open(ctx, o, input, &x, &src);
    if (st != ADK_OK) {
        adk_rowsrc_free(src);
        adk_rows_free(x);
        adk_ckpt_free(ck);
        return st;
    }
    const adk_rows_t *sh = adk_rowsrc_shape(src);
    int32_t *lab = NULL; /* streamed: per-row outputs only when written */
    double *dist = NULL;
    int per_row = !adk_rowsrc_streamed(src) || o->assign;
    if (per_row) {
        lab = adk_malloc((sh->nloc ? sh->nloc : 1) * sizeof(int32_t));
        dist = adk_malloc((sh->nloc ? sh->nloc : 1) * sizeof(double));
    }
    st = adk_ctx_agree(ctx, !per_row || (lab && dist) ? ADK_OK
                                                      : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    adk_kmeans_state_t *from = NULL;
    adk_kmeans_ckpt_t hooks = {o->ckpt_every, ck_stop, ck_save, ck, NULL};
    adk_kmeans_params_t km = o->km;
    if (st == ADK_OK && ck) {
        st = ckpt_setup(ctx, ck, o, input, src, &from);
        hooks.resume = from;
        km.ckpt = &hooks;
    }
    adk_kmeans_model_t *m = NULL;
    double t0 = adk_now();
    if (st == ADK_OK) {
        st = adk_kmeans_fit_src(ctx, &km, src, &m, lab, dist);
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
        st = write_outputs(ctx, o, sh, m, lab, dist);
    }
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0) {
        printf("adkit-kmeans: %lld rows x %zu features, k = %zu, %d rank%s\n", (long long)sh->n,
               sh->d, m->k, adk_ctx_size(ctx), adk_ctx_size(ctx) > 1 ? "s" : "");
        printf("  inertia %.17g  iterations %d  converged %s  kernel %s  fit %.3f s\n", m->inertia,
               m->n_iter, m->converged ? "yes" : "no",
               adk_dist_kernel_name((adk_kernel_t)m->kernel), secs);
        printf("  algorithm %s  distances skipped %.4f  incremental sums %lld of %lld iterations\n",
               adk_kmeans_algorithm_name((adk_kmeans_algo_t)m->algorithm), m->skipped,
               (long long)m->iters_incr, (long long)m->iters_all);
        fflush(stdout);
    }
    adk_kmeans_model_free(m);
    adk_kmeans_state_free(from);
    adk_ckpt_free(ck);
    free(lab);
    free(dist);
    adk_rowsrc_free(src);
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
                .ckpt_every = 0,
                .stream = 0,
                .mem_limit = NULL};
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
         "nearest-centre kernel: auto (the widest every rank has), avx512, avx2, blas"},
        {"algorithm", ADK_OPT_STR, &o.algorithm, "ALG",
         "lloyd, hamerly or yinyang (skip rows whose distance bounds prove their label; the same "
         "bits as lloyd), or auto (hamerly for k d >= 1024, d >= 16, n >= 1000 k, not blas; "
         "else lloyd)"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace existing output files"},
        {"require-convergence", ADK_OPT_FLAG, &o.require_conv, NULL,
         "exit with code 4 when max-iter is reached without convergence"},
        {"checkpoint", ADK_OPT_STR, &o.checkpoint, "FILE",
         "on SIGTERM or SIGUSR1 save the fit's state to FILE and exit with code 75"},
        {"checkpoint-every", ADK_OPT_INT, &o.ckpt_every, "N",
         "also save it every N Lloyd iterations (0: only when stopped)"},
        {"stream", ADK_OPT_FLAG, &o.stream, NULL,
         "out of core: keep the rows in the HDF5 input and read them window by window at every "
         "pass (64 MiB of rows per rank), with the same results"},
        {"mem-limit", ADK_OPT_STR, &o.mem_limit, "BYTES",
         "--stream with windows sized so each rank's data memory stays under BYTES (suffixes K, "
         "M, G, T: powers of 1024)"},
        {"resume", ADK_OPT_STR, &o.resume, "FILE",
         "go on from checkpoint FILE (same input and parameters, any number of ranks); "
         "checkpoints go to FILE unless --checkpoint"},
        {NULL, 0, NULL, NULL, NULL}};
    o.tab = tab;
    const adk_cli_t cli = {
        "[OPTIONS] --out MODEL.h5 INPUT",
        "Distributed Lloyd k-means (scikit-learn's rules: greedy k-means++, tolerance relative to\n"
        "the mean feature variance, empty clusters relocated). INPUT is FILE.h5:/dataset or\n"
        "FILE.csv. Results are bitwise identical for any number of MPI ranks, and with --stream\n"
        "(HDF5 input read window by window, for data larger than memory) the same as without.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 2 adkit-kmeans --k 3 --seed 0 --out model.h5 --assign a.h5 "
        "blobs.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
