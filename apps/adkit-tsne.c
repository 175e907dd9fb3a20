/*
 * adkit-tsne: t-SNE of distributed rows with scikit-learn 1.2's parameters, the same embedding
 * bits at any rank count (src/adk_tsne.h).
 *
 *   mpiexec -n 4 adkit-tsne --seed 0 --labels d.h5:/labels --out emb.h5 d.h5:/data
 *
 * With --checkpoint, SIGTERM and SIGUSR1 make it save the optimiser's state (P included) and exit
 * 75 (--resume goes on, at any rank count, to the uninterrupted run's bits).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_ckpt.h"
#include "adk_cli.h"
#include "adk_io.h"
#include "adk_mem.h"
#include "adk_out.h"
#include "adk_tsne.h"

typedef struct {
    adk_tsne_params_t t;
    const char *lr, *method, *init, *out, *labels, *label_col;
    int force;
    const char *checkpoint, *resume;
    int ckpt_every;
    const adk_opt_t *tab; /* the option table (the checkpoint records parameters from it) */
} opts_t;

/* The options a resumed run must share with the run that wrote its checkpoint: all that decide
 * the embedding (--labels only copies labels to the output). */
#define CKPT_PARAMS                                                                                \
    "n-components,perplexity,early-exaggeration,learning-rate,max-iter,n-iter-without-progress,"   \
    "min-grad-norm,method,angle,init,seed,label-col"

/* The run's checkpoint hooks (adk_tsne_ckpt_t): adk_ckpt asks and writes. */
typedef struct {
    adk_ctx_t *ctx;
    adk_ckpt_t *ck;
    int max_iter;
} ckud_t;

static int ck_stop(void *ud, int done)
{
    return adk_ckpt_stop_wanted(((ckud_t *)ud)->ck, 0, done);
}

static int ck_save(void *ud, const adk_tsne_state_t *s)
{
    ckud_t *u = ud;
    adk_out_t *out = NULL;
    int st = adk_ckpt_begin(u->ck, &out);
    if (st == ADK_OK) {
        st = adk_tsne_state_write(u->ctx, out, s);
    }
    st = adk_ckpt_commit(out, st);
    if (st == ADK_OK && s->stop) {
        st = adk_ckpt_stopped(u->ck, "iteration %d of %d", s->iter + 1, u->max_iter);
    }
    return st;
}

/* Once the input is read: the run's identity for its checkpoints, and the state to go on from. */
static int ckpt_setup(adk_ctx_t *ctx, adk_ckpt_t *ck, const opts_t *o, const char *input,
                      const adk_rows_t *x, adk_tsne_state_t **from)
{
    adk_h5_t *f = NULL;
    int st = adk_ckpt_identify(ck, o->tab, CKPT_PARAMS, input, x, NULL, o->resume, &f);
    if (st == ADK_OK && f) {
        st = adk_tsne_state_read(ctx, f, x, o->t.dim, from);
    }
    adk_h5_close(f);
    if (st == ADK_OK && *from) {
        adk_ctx_info(ctx, "resuming from %s after iteration %d of %d (%s)", o->resume,
                     (*from)->iter + 1, o->t.max_iter,
                     (*from)->phase ? "after the early exaggeration" : "early exaggeration");
    }
    return st;
}

/* --learning-rate, --method and --init into the parameters. */
static int parse_words(adk_ctx_t *ctx, opts_t *o)
{
    if (strcmp(o->lr, "auto") == 0) {
        o->t.learning_rate = 0.0;
    } else {
        char *end = NULL;
        double v = strtod(o->lr, &end);
        if (end == o->lr || *end != '\0' || !(v > 0.0) || !isfinite(v)) {
            return ADK_ERR(ctx, ADK_EINVAL,
                           "--learning-rate: '%s' is not auto or a positive number", o->lr);
        }
        o->t.learning_rate = v;
    }
    if (strcmp(o->method, "barnes-hut") == 0 || strcmp(o->method, "barnes_hut") == 0) {
        o->t.exact = 0;
    } else if (strcmp(o->method, "exact") == 0) {
        o->t.exact = 1;
    } else {
        return ADK_ERR(ctx, ADK_EINVAL, "--method: '%s' is not barnes-hut or exact", o->method);
    }
    if (strcmp(o->init, "random") == 0 || strcmp(o->init, "pca") == 0) {
        o->t.init_pca = o->init[0] == 'p';
    } else {
        return ADK_ERR(ctx, ADK_EINVAL, "--init: '%s' is not random or pca", o->init);
    }
    if (!o->out) {
        return ADK_ERR(ctx, ADK_EINVAL, "--out EMB.h5 is required");
    }
    if (o->labels && o->label_col) {
        return ADK_ERR(ctx, ADK_EINVAL, "give --labels or --label-col, not both");
    }
    return ADK_OK;
}

static int write_result(adk_ctx_t *ctx, const opts_t *o, const adk_rows_t *x,
                        const adk_tsne_result_t *r)
{
    const adk_tsne_params_t *t = &o->t;
    adk_out_group_t *g = NULL;
    adk_out_t *out = NULL;
    ADK_CHECK(adk_out_group_create(ctx, o->force ? ADK_OUT_FORCE : 0, &g));
    int st = adk_out_h5_create(g, o->out, &out);
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/embedding", ADK_F64, r->y, x->n, x->row0, x->nloc, (size_t)r->dim);
    }
    if (st == ADK_OK && x->labels) {
        st = adk_out_rows(out, "/labels", ADK_I64, x->labels, x->n, x->row0, x->nloc, 0);
    }
    const char *e = "/embedding";
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "kl_divergence", r->kl) : st;
    st = st == ADK_OK ? adk_out_attr_i64(out, e, "n_iter", r->n_iter) : st;
    st = st == ADK_OK ? adk_out_attr_i64(out, e, "n_components", t->dim) : st;
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "perplexity", t->perplexity) : st;
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "early_exaggeration", t->early_exaggeration) : st;
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "learning_rate", r->learning_rate) : st;
    st = st == ADK_OK ? adk_out_attr_str(out, e, "learning_rate_option", o->lr) : st;
    st = st == ADK_OK ? adk_out_attr_i64(out, e, "max_iter", t->max_iter) : st;
    st = st == ADK_OK
             ? adk_out_attr_i64(out, e, "n_iter_without_progress", t->n_iter_without_progress)
             : st;
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "min_grad_norm", t->min_grad_norm) : st;
    st = st == ADK_OK ? adk_out_attr_str(out, e, "method", t->exact ? "exact" : "barnes-hut") : st;
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "angle", t->angle) : st;
    st = st == ADK_OK ? adk_out_attr_str(out, e, "init", t->init_pca ? "pca" : "random") : st;
    st = st == ADK_OK ? adk_out_attr_u64(out, e, "seed", t->seed) : st;
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "seconds_neighbours", r->t_knn) : st;
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "seconds_p", r->t_p) : st;
    st = st == ADK_OK ? adk_out_attr_f64(out, e, "seconds_optimisation", r->t_opt) : st;
    return adk_out_group_commit(g, st);
}

static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    opts_t *o = opts;
    const char *input = pos[0]; /* the table allows exactly one */
    (void)npos;
    ADK_CHECK(parse_words(ctx, o));
    const char *ckpath = NULL;
    ADK_CHECK(
        adk_ckpt_check_options(ctx, o->checkpoint, o->resume, o->ckpt_every, &o->out, 1, &ckpath));
    ADK_CHECK(adk_out_check(ctx, o->out, o->force ? ADK_OUT_FORCE : 0));
    o->t.verbose = !adk_ctx_quiet(ctx);
    adk_ckpt_t *ck = NULL; /* from here on SIGTERM and SIGUSR1 ask for a checkpoint */
    if (ckpath) {
        ADK_CHECK(adk_ckpt_create(ctx, "adkit-tsne", ckpath, ckpath == o->resume, &ck));
    }
    adk_ctx_set_seed(ctx, o->t.seed);
    /* reproducibility blocks: the PCA initialisation's moments are the same at any rank count */
    adk_read_opts_t ro = {ADK_ALIGN_REPRO, o->labels, o->label_col};
    adk_rows_t *x = NULL;
    int st = adk_io_read(ctx, input, &ro, &x);
    if (st != ADK_OK) {
        adk_ckpt_free(ck);
        return st;
    }
    st = adk_ctx_agree(ctx, adk_rows_check_range(ctx, x, ADK_ROWS_MAX_ABS));
    adk_tsne_state_t *from = NULL;
    ckud_t ud = {ctx, ck, o->t.max_iter};
    adk_tsne_ckpt_t hooks = {o->ckpt_every, ck_stop, ck_save, &ud, NULL};
    adk_tsne_params_t tp = o->t;
    if (st == ADK_OK && ck) {
        st = ckpt_setup(ctx, ck, o, input, x, &from);
        hooks.resume = from;
        tp.ckpt = &hooks;
    }
    adk_tsne_result_t *r = NULL;
    double t0 = adk_now();
    if (st == ADK_OK) {
        st = adk_tsne_run(ctx, &tp, x, &r);
    }
    if (st == ADK_OK) {
        st = write_result(ctx, o, x, r);
    }
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0 && !adk_ctx_quiet(ctx)) {
        printf("adkit-tsne: %s, %lld rows x %zu features -> %d, %s, perplexity %g, %d rank%s\n",
               input, (long long)x->n, x->d, r->dim, o->t.exact ? "exact" : "Barnes-Hut",
               o->t.perplexity, adk_ctx_size(ctx), adk_ctx_size(ctx) > 1 ? "s" : "");
        printf("  KL divergence  %.17g\n", r->kl);
        printf("  iterations     %d (n_iter)\n", r->n_iter);
        printf("  learning rate  %.17g\n", r->learning_rate);
        printf("  seconds        %.3f (neighbours %.3f, P %.3f, optimisation %.3f)\n",
               adk_now() - t0, r->t_knn, r->t_p, r->t_opt);
        fflush(stdout);
    }
    adk_tsne_result_free(r);
    adk_tsne_state_free(from);
    adk_ckpt_free(ck);
    adk_rows_free(x);
    return st;
}

ADK_CLI_MAIN(tsne)
{
    opts_t o = {.lr = "auto", .method = "barnes-hut", .init = "random"};
    adk_tsne_params_default(&o.t);
    const adk_opt_t tab[] = {
        {"n-components", ADK_OPT_INT, &o.t.dim, "2|3", "embedding dimensions (default 2)"},
        {"perplexity", ADK_OPT_DOUBLE, &o.t.perplexity, "P", "effective neighbours (default 30)"},
        {"early-exaggeration", ADK_OPT_DOUBLE, &o.t.early_exaggeration, "E",
         "P multiplied by E for the first 250 iterations (default 12)"},
        {"learning-rate", ADK_OPT_STR, &o.lr, "auto|R",
         "step size; auto = max(N / E / 4, 50) (default)"},
        {"max-iter", ADK_OPT_INT, &o.t.max_iter, "N", "iterations, at least 250 (default 1000)"},
        {"n-iter-without-progress", ADK_OPT_INT, &o.t.n_iter_without_progress, "N",
         "stop after N iterations without a lower KL (default 300)"},
        {"min-grad-norm", ADK_OPT_DOUBLE, &o.t.min_grad_norm, "G",
         "stop when the gradient norm falls to G (default 1e-7)"},
        {"method", ADK_OPT_STR, &o.method, "barnes-hut|exact", "gradient (default barnes-hut)"},
        {"angle", ADK_OPT_DOUBLE, &o.t.angle, "A", "Barnes-Hut opening angle (default 0.5)"},
        {"init", ADK_OPT_STR, &o.init, "random|pca", "initial embedding (default random)"},
        {"seed", ADK_OPT_U64, &o.t.seed, "S", "random initialisation stream (default 0)"},
        {"out", ADK_OPT_STR, &o.out, "EMB.h5", "write /embedding (N x n-components)"},
        {"labels", ADK_OPT_STR, &o.labels, "F.h5:/labels", "copy these labels to /labels"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV input: column holding labels"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace an existing output file"},
        {"checkpoint", ADK_OPT_STR, &o.checkpoint, "FILE",
         "on SIGTERM or SIGUSR1 save the optimiser's state to FILE and exit with code 75"},
        {"checkpoint-every", ADK_OPT_INT, &o.ckpt_every, "N",
         "also save it every N iterations (0: only when stopped)"},
        {"resume", ADK_OPT_STR, &o.resume, "FILE",
         "go on from checkpoint FILE (same input and parameters, any number of ranks); "
         "checkpoints go to FILE unless --checkpoint"},
        {NULL, 0, NULL, NULL, NULL}};
    o.tab = tab;
    const adk_cli_t cli = {
        "[OPTIONS] --out EMB.h5 INPUT",
        "Embed the rows in 2 or 3 dimensions by t-SNE (van der Maaten and Hinton 2008) with\n"
        "scikit-learn 1.2's parameters and optimiser; Barnes-Hut (k = 3 perplexity + 1 exact\n"
        "neighbours) or the exact gradient. Rank 0 prints progress every 50 iterations unless\n"
        "--quiet. INPUT is FILE.h5:/dataset or FILE.csv. The embedding is the same bits for any\n"
        "number of MPI ranks. With --checkpoint, SIGTERM or SIGUSR1 saves the state and exits 75;\n"
        "--resume goes on, at any rank count, to the bits of an uninterrupted run.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 4 adkit-tsne --seed 0 --labels d.h5:/labels --out emb.h5 "
        "d.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
