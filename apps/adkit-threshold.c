/*
 * adkit-threshold: the anomaly boundary of a k-means model, from its training rows' distances;
 * written into the model file as /thresholds (one value per cluster).
 *
 *   mpiexec -n 4 adkit-threshold --model model.h5 --assign assign.h5        (99th percentile)
 *   mpiexec -n 4 adkit-threshold --model model.h5 --global-percentile 95 train.h5:/data
 *
 * Prints a summary on stdout (rank 0), warnings on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_io.h"
#include "adk_kmeans.h"
#include "adk_threshold.h"

typedef struct {
    const char *model, *assign, *label_col, *out;
    const char *rule[4]; /* the value given to each method's option, in adk_thr_method_t order */
    int force, bits;
} opts_t;

static const char *const rule_opt[4] = {"per-cluster-percentile", "global-percentile", "sigma",
                                        "global-sigma"};

/* The one rule asked for (per-cluster 99th percentile by default). */
static int pick_rule(adk_ctx_t *ctx, const opts_t *o, adk_thr_params_t *p)
{
    int given = 0;
    p->method = ADK_THR_PERCENTILE;
    p->q = 99.0;
    p->bits = o->bits;
    if (o->bits < 1 || o->bits > 16) { /* 0 would mean the library's default: not a user value */
        return ADK_ERR(ctx, ADK_EINVAL, "--radix-bits: %d is not in [1, 16]", o->bits);
    }
    for (int m = 0; m < 4; m++) {
        if (!o->rule[m]) {
            continue;
        }
        if (given++) {
            return ADK_ERR(ctx, ADK_EINVAL, "give only one of --%s, --%s, --%s, --%s", rule_opt[0],
                           rule_opt[1], rule_opt[2], rule_opt[3]);
        }
        double *v = NULL;
        size_t n = 0;
        ADK_CHECK(adk_cli_parse_list(ctx, rule_opt[m], o->rule[m], &v, &n));
        p->method = (adk_thr_method_t)m;
        p->q = v[0];
        free(v);
        if (n != 1) {
            return ADK_ERR(ctx, ADK_EINVAL, "--%s takes one number, not '%s'", rule_opt[m],
                           o->rule[m]);
        }
    }
    return adk_threshold_check(ctx, p);
}

/* Cluster and distance of every training row: from an assignment file, or predicted. */
static int training_rows(adk_ctx_t *ctx, const opts_t *o, const char *data,
                         const adk_kmeans_model_t *m, adk_rows_t **a)
{
    if (o->assign) {
        return adk_threshold_read_assign(ctx, o->assign, a);
    }
    adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, o->label_col};
    adk_rows_t *x = NULL;
    ADK_CHECK(adk_io_read(ctx, data, &ro, &x));
    int st = ADK_OK;
    if (x->d != m->d) { /* the same shapes on every rank: a common verdict */
        st = ADK_ERR(ctx, ADK_EDATA, "%s has %zu columns but the model %s has %zu features", data,
                     x->d, o->model, m->d);
    }
    int32_t *cl = NULL;
    if (st == ADK_OK) { /* the same n and alignment: the data's partition */
        st = adk_rows_alloc(ctx, x->n, 1, x->align, data, 1, a);
        cl = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(int32_t));
        st = adk_ctx_agree(ctx,
                           st == ADK_OK && !cl ? ADK_ERR(ctx, ADK_ENOMEM, "out of memory") : st);
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_kmeans_predict(ctx, m, x, cl, (*a)->x));
    }
    for (size_t i = 0; st == ADK_OK && i < x->nloc; i++) {
        (*a)->labels[i] = cl[i];
    }
    if (st != ADK_OK) {
        adk_rows_free(*a);
        *a = NULL;
    }
    free(cl);
    adk_rows_free(x);
    return st;
}

static void report(adk_ctx_t *ctx, const adk_thr_t *t, const char *src)
{
    adk_threshold_warn_small(ctx, t);
    if (adk_ctx_rank(ctx) != 0) {
        return;
    }
    printf("adkit-threshold: %s %g of %lld training distances (%s), %zu clusters, %d rank%s\n",
           adk_threshold_method_name(t->method), t->q, (long long)t->n_total, src, t->k,
           adk_ctx_size(ctx), adk_ctx_size(ctx) > 1 ? "s" : "");
    if (t->stats.rounds > 0) {
        printf("  selection: %d allreduce rounds, %lld bytes per rank; %d rounds in all, %.4f s\n",
               t->stats.rounds, (long long)t->stats.bytes, t->rounds, t->seconds);
    } else {
        printf("  exact sums: %d allreduce rounds, %.4f s\n", t->rounds, t->seconds);
    }
    for (size_t c = 0; c < t->k && c < 32; c++) {
        printf("  cluster %zu: %lld rows, threshold %.17g\n", c, (long long)t->n[c], t->value[c]);
    }
    if (t->k > 32) {
        printf("  ... (%zu more clusters in /thresholds)\n", t->k - 32);
    }
    fflush(stdout);
}

static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    const opts_t *o = opts;
    adk_thr_params_t p;
    ADK_CHECK(adk_ctx_agree(ctx, pick_rule(ctx, o, &p))); /* it allocates: agree */
    if (!o->model) {
        return ADK_ERR(ctx, ADK_EINVAL, "--model M.h5 is required");
    }
    if ((o->assign != NULL) == (npos == 1)) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "give the training rows either as DATA or as --assign A.h5"
                       " (exactly one of them)");
    }
    unsigned flags = o->force ? ADK_OUT_FORCE : 0;
    if (o->out) { /* before any work */
        ADK_CHECK(adk_out_check(ctx, o->out, flags));
    }
    adk_kmeans_model_t *m = NULL;
    ADK_CHECK(adk_kmeans_model_read(ctx, o->model, &m));
    int st = ADK_OK;
    /* the same file on every rank: a common verdict; a copy's thresholds are nobody's yet */
    if (m->thresholds && !o->force && !o->out) {
        st = ADK_ERR(ctx, ADK_EEXIST,
                     "model '%s' already has /thresholds; use --force to replace "
                     "them",
                     o->model);
    }
    adk_rows_t *a = NULL;
    adk_thr_t *t = NULL;
    if (st == ADK_OK) {
        st = training_rows(ctx, o, npos ? pos[0] : NULL, m, &a);
    }
    if (st == ADK_OK) {
        st = adk_threshold_compute(ctx, &p, m->k, a, &t);
    }
    adk_out_t *out = NULL;
    if (st == ADK_OK) {
        st = o->out ? adk_out_derive(ctx, o->model, o->out, flags, &out)
                    : adk_out_update(ctx, o->model, &out);
    }
    if (st == ADK_OK) {
        st = adk_out_commit(out, adk_threshold_write(ctx, out, t));
    }
    if (st == ADK_OK) {
        report(ctx, t, o->assign ? o->assign : pos[0]);
    }
    adk_threshold_free(t);
    adk_rows_free(a);
    adk_kmeans_model_free(m);
    return st;
}

ADK_CLI_MAIN(threshold)
{
    opts_t o = {
        .model = NULL, .assign = NULL, .label_col = NULL, .out = NULL, .force = 0, .bits = 8};
    const adk_opt_t tab[] = {
        {"model", ADK_OPT_STR, &o.model, "M.h5", "k-means model (/centroids); gets /thresholds"},
        {"assign", ADK_OPT_STR, &o.assign, "A.h5",
         "training rows' /cluster, /distance (adkit-kmeans --assign) instead of DATA"},
        {"per-cluster-percentile", ADK_OPT_STR, &o.rule[0], "Q",
         "Q-th percentile of each cluster's distances (default rule, Q = 99)"},
        {"global-percentile", ADK_OPT_STR, &o.rule[1], "Q", "Q-th percentile of all distances"},
        {"sigma", ADK_OPT_STR, &o.rule[2], "N", "each cluster's mean + N sd (population sd)"},
        {"global-sigma", ADK_OPT_STR, &o.rule[3], "N", "mean + N sd of all distances"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV DATA: column to leave out (labels)"},
        {"radix-bits", ADK_OPT_INT, &o.bits, "B", "key bits resolved per selection round (1-16)"},
        {"out", ADK_OPT_STR, &o.out, "OUT.h5",
         "write the model with its thresholds to OUT.h5; M.h5 stays as it is"},
        {"force", ADK_OPT_FLAG, &o.force, NULL,
         "replace thresholds the model already has (an existing OUT.h5 with --out)"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "--model M.h5 (--assign A.h5 | DATA) [RULE] [OPTIONS]",
        "Anomaly boundary of a k-means model from its training rows: a row is anomalous when its\n"
        "distance to the nearest centroid exceeds that cluster's threshold. DATA "
        "(FILE.h5:/dataset\n"
        "or FILE.csv) is assigned with the model; or give adkit-kmeans's --assign file. Writes\n"
        "/thresholds (attributes method, q, n) into M.h5 (or a copy, --out). Percentiles equal "
        "numpy's np.percentile\n"
        "bit for bit; all results are identical for any number of MPI ranks. A cluster without\n"
        "training rows gets +inf; one with a single row gets that row's distance.",
        tab,
        0,
        1,
        "Example:\n  mpiexec -n 2 adkit-threshold --model model.h5 --assign a.h5 "
        "--per-cluster-percentile 99"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
