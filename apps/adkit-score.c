/*
 * adkit-score: score new rows against a k-means model with per-cluster thresholds: nearest
 * centroid, distance, anomaly flag (distance > the cluster's threshold); with labels, the
 * confusion counts, precision/recall/F1 and the ROC AUC / average precision of the distance.
 *
 *   mpiexec -n 4 adkit-score --model model.h5 test.h5:/data --labels test.h5:/labels \
 *       --out scores.h5 --json summary.json
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_io.h"
#include "adk_kmeans.h"
#include "adk_score.h"

typedef struct {
    const char *model, *out, *labels, *label_col, *positive, *json;
    int force;
} opts_t;

static int write_scores(adk_out_group_t *g, const opts_t *o, const adk_rows_t *x, const int32_t *cl,
                        const double *dist, const uint8_t *flag, const adk_score_summary_t *s,
                        const char *method)
{
    adk_out_t *out = NULL;
    int st = adk_out_h5_create(g, o->out, &out);
    if (st != ADK_OK) {
        return st;
    }
    st = adk_out_rows(out, "/cluster", ADK_I32, cl, x->n, x->row0, x->nloc, 0);
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/distance", ADK_F64, dist, x->n, x->row0, x->nloc, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/anomaly", ADK_U8, flag, x->n, x->row0, x->nloc, 0);
    }
    if (st == ADK_OK) {
        st = adk_score_write_attrs(out, s);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(out, "/", "model", o->model);
    }
    if (st == ADK_OK && method) {
        st = adk_out_attr_str(out, "/", "threshold_method", method);
    }
    return st;
}

static int run(adk_ctx_t *ctx, void *opts, int nargs, char **args)
{
    const opts_t *o = opts;
    const char *input = args[0]; /* the table allows exactly one */
    (void)nargs;
    unsigned fl = o->force ? ADK_OUT_FORCE : 0;
    int labelled = o->labels || o->label_col;
    if (!o->model || !o->out) {
        return ADK_ERR(ctx, ADK_EINVAL, "--model M.h5 and --out S.h5 are required");
    }
    if (o->labels && o->label_col) {
        return ADK_ERR(ctx, ADK_EINVAL, "give --labels or --label-col, not both");
    }
    if (o->positive && !labelled) {
        return ADK_ERR(ctx, ADK_EINVAL, "--positive needs --labels or --label-col");
    }
    if (o->json && strcmp(o->json, o->out) == 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "--json and --out name the same file '%s'", o->out);
    }
    int64_t *pos = NULL;
    size_t npos = 0;
    /* the same text on every rank, but the list is allocated: agree before the next collective */
    int st = adk_ctx_agree(
        ctx, adk_score_parse_labels(ctx, "positive", o->positive ? o->positive : "1", &pos, &npos));
    if (st == ADK_OK) {
        st = adk_out_check(ctx, o->out, fl);
    }
    if (st == ADK_OK && o->json) {
        st = adk_out_check(ctx, o->json, fl);
    }
    adk_kmeans_model_t *m = NULL;
    if (st == ADK_OK) {
        st = adk_kmeans_model_read(ctx, o->model, &m);
    }
    if (st == ADK_OK && !m->thresholds) { /* the same file on every rank: a common verdict */
        st = ADK_ERR(ctx, ADK_EDATA,
                     "model '%s' has no /thresholds: run adkit-threshold on it first", o->model);
    }
    const char *method = m ? m->thr_method : "";
    adk_rows_t *x = NULL;
    adk_read_opts_t ro = {1, o->labels, o->label_col};
    if (st == ADK_OK) {
        st = adk_io_read(ctx, input, &ro, &x);
    }
    if (st == ADK_OK && x->d != m->d) {
        st = ADK_ERR(ctx, ADK_EDATA, "model '%s' has %zu features but %s has %zu columns", o->model,
                     m->d, input, x->d);
    }
    size_t nl = x ? (x->nloc ? x->nloc : 1) : 1;
    int32_t *cl = adk_malloc(nl * sizeof(int32_t));
    double *dist = adk_malloc(nl * sizeof(double));
    uint8_t *flag = adk_malloc(nl), *truth = labelled ? adk_malloc(nl) : NULL;
    if (st == ADK_OK && (!cl || !dist || !flag || (labelled && !truth))) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = adk_kmeans_predict(ctx, m, x, cl, dist);
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(
            ctx, adk_score_flags(ctx, cl, dist, x->nloc, x->row0, m->thresholds, m->k, flag));
    }
    adk_score_summary_t s;
    if (st == ADK_OK) {
        if (truth) {
            adk_score_truth(x->labels, x->nloc, pos, npos, truth);
        }
        st = adk_score_evaluate(ctx, flag, dist, truth, x->nloc, x->row0, &s);
    }
    if (st == ADK_OK && labelled && !s.rank.auc_defined) {
        adk_ctx_warn(ctx, "ROC AUC undefined: every row is %s (reported as null)",
                     s.n_positive ? "anomalous" : "normal");
    }
    if (st == ADK_OK && labelled && !s.rank.ap_defined) {
        adk_ctx_warn(ctx, "average precision undefined: no anomalous row (reported as null)");
    }
    /* the scores and the JSON summary are one group: both appear, or neither does */
    adk_out_group_t *g = NULL;
    if (st == ADK_OK) {
        st = adk_out_group_create(ctx, fl, &g);
    }
    if (st == ADK_OK) {
        st = write_scores(g, o, x, cl, dist, flag, &s, method[0] ? method : NULL);
    }
    if (st == ADK_OK && o->json) {
        adk_score_meta_t meta = {o->model, input, method[0] ? method : NULL, pos, npos};
        char *text = NULL;
        st = adk_score_json(&s, &meta, &text);
        st = adk_ctx_agree(ctx, st == ADK_OK ? st : ADK_ERR(ctx, st, "out of memory"));
        if (st == ADK_OK) {
            st = adk_out_text(g, o->json, text);
        }
        free(text);
    }
    st = adk_out_group_commit(g, st);
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0) {
        printf("adkit-score: %s against %s (%zu clusters, thresholds: %s), %d rank%s\n", input,
               o->model, m->k, method[0] ? method : "unknown", adk_ctx_size(ctx),
               adk_ctx_size(ctx) > 1 ? "s" : "");
        adk_score_print(stdout, &s);
        fflush(stdout);
    }
    free(cl);
    free(dist);
    free(flag);
    free(truth);
    free(pos);
    adk_rows_free(x);
    adk_kmeans_model_free(m);
    return st;
}

ADK_CLI_MAIN(score)
{
    opts_t o = {NULL, NULL, NULL, NULL, NULL, NULL, 0};
    const adk_opt_t tab[] = {
        {"model", ADK_OPT_STR, &o.model, "M.h5", "model: /centroids and /thresholds"},
        {"out", ADK_OPT_STR, &o.out, "S.h5", "write /cluster, /distance, /anomaly per row"},
        {"labels", ADK_OPT_STR, &o.labels, "F.h5:/labels", "known labels (one per row)"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV input: column holding the labels"},
        {"positive", ADK_OPT_STR, &o.positive, "V[,V...]",
         "label values that mean 'anomaly' (default: 1)"},
        {"json", ADK_OPT_STR, &o.json, "FILE.json", "also write the counts and metrics as JSON"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace existing output files"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "[OPTIONS] --model M.h5 --out S.h5 INPUT",
        "Score rows against a k-means model: nearest centroid, Euclidean distance, and the\n"
        "anomaly flag distance > that cluster's threshold (from adkit-threshold). With labels,\n"
        "report TP/FP/TN/FN, precision, recall, F1, and the ROC AUC and average precision of\n"
        "the distance as a score (scikit-learn's definitions, ties grouped). INPUT is\n"
        "FILE.h5:/dataset or FILE.csv. Results are identical for any number of MPI ranks.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 4 adkit-score --model model.h5 --labels test.h5:/labels --out s.h5 "
        "test.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
