/*
 * adkit-knn: exact k nearest neighbours of every row among all rows, and the kNN-distance outlier
 * score (distance to the k-th neighbour, or the mean over the k), with its evaluation against
 * labels: ROC AUC and average precision of the score, and precision, recall and F1 of the flags
 * score > epsilon (epsilon given, or the F1-best of the reference sweep over 1000 candidates).
 *
 *   mpiexec -n 4 adkit-knn --k 5 --labels d.h5:/labels --positive 0,1 --out nn.h5 d.h5:/data
 *
 * Every output is the same bits for any number of ranks (src/adk_knn.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_io.h"
#include "adk_json.h"
#include "adk_knn.h"
#include "adk_mem.h"
#include "adk_score.h"
#include "adk_sweep.h"

typedef struct {
    int64_t k;
    const char *score, *out, *labels, *label_col, *positive, *json, *reference;
    double threshold; /* NaN: none given */
    int force;
} opts_t;

/* What one run computed, for the outputs. */
typedef struct {
    adk_knn_t *nn;
    double *score;
    uint8_t *flag, *truth; /* NULL without flags / labels */
    double epsilon;
    const char *eps_from; /* "--threshold", "F1 sweep" or NULL */
    adk_score_summary_t sum;
} result_t;

static int check_opts(adk_ctx_t *ctx, const opts_t *o, adk_knn_score_t *how)
{
    if (!o->out) {
        return ADK_ERR(ctx, ADK_EINVAL, "--out NN.h5 is required");
    }
    if (o->k < 1) {
        return ADK_ERR(ctx, ADK_EINVAL, "--k: %lld is not a positive number of neighbours",
                       (long long)o->k);
    }
    if (adk_knn_score_parse(o->score, how) != 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "--score: '%s' is not kth or mean", o->score);
    }
    if (o->labels && o->label_col) {
        return ADK_ERR(ctx, ADK_EINVAL, "give --labels or --label-col, not both");
    }
    if (o->positive && !o->labels && !o->label_col) {
        return ADK_ERR(ctx, ADK_EINVAL, "--positive needs --labels or --label-col");
    }
    if (o->json && strcmp(o->json, o->out) == 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "--json and --out name the same file '%s'", o->out);
    }
    return ADK_OK;
}

/* epsilon by the F1 sweep over the labelled rows (score > epsilon flags an anomaly). */
static int sweep_epsilon(adk_ctx_t *ctx, const adk_rows_t *x, result_t *r)
{
    int64_t *lab = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(int64_t));
    int st = adk_ctx_agree(ctx, lab ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    adk_sweep_t *s = NULL;
    if (st == ADK_OK) {
        for (size_t i = 0; i < x->nloc; i++) {
            lab[i] = r->truth[i] != 0;
        }
        adk_sweep_params_t sp = {ADK_SWEEP_ABOVE, 0, 0, x->spec, "kNN score"};
        st = adk_sweep_run(ctx, &sp, r->score, lab, x->nloc, x->row0, &s);
    }
    if (st == ADK_OK) {
        r->epsilon = s->epsilon;
        r->eps_from = "F1 sweep";
    }
    adk_sweep_free(s);
    free(lab);
    return st;
}

static int evaluate(adk_ctx_t *ctx, const opts_t *o, const adk_rows_t *x, result_t *r)
{
    size_t m = x->nloc ? x->nloc : 1;
    int labelled = o->labels || o->label_col;
    int64_t *pos = NULL;
    size_t npos = 0;
    int st = adk_score_parse_labels(ctx, "positive", o->positive ? o->positive : "1", &pos, &npos);
    r->flag = adk_calloc(m, 1);
    r->truth = labelled ? adk_calloc(m, 1) : NULL;
    if (st == ADK_OK && (!r->flag || (labelled && !r->truth))) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK && labelled) {
        adk_score_truth(x->labels, x->nloc, pos, npos, r->truth);
    }
    r->epsilon = o->threshold;
    r->eps_from = isnan(o->threshold) ? NULL : "--threshold";
    if (st == ADK_OK && !r->eps_from && labelled) {
        st = sweep_epsilon(ctx, x, r);
    }
    for (size_t i = 0; st == ADK_OK && r->eps_from && i < x->nloc; i++) {
        r->flag[i] = r->score[i] > r->epsilon;
    }
    if (st == ADK_OK) {
        st = adk_score_evaluate(ctx, r->flag, r->score, r->truth, x->nloc, x->row0, &r->sum);
    }
    free(pos);
    return st;
}

static int write_nn(adk_ctx_t *ctx, adk_out_group_t *g, const opts_t *o, const adk_rows_t *x,
                    const result_t *r)
{
    const adk_knn_t *nn = r->nn;
    size_t nk = (x->nloc ? x->nloc : 1) * nn->k;
    double *dist = adk_malloc(nk * sizeof(double));
    int st = adk_ctx_agree(ctx, dist ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    adk_out_t *out = NULL;
    if (st == ADK_OK) {
        for (size_t i = 0; i < x->nloc * nn->k; i++) {
            dist[i] = sqrt(nn->dist2[i]);
        }
        st = adk_out_h5_create(g, o->out, &out);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/knn_index", ADK_I64, nn->index, x->n, x->row0, x->nloc, nn->k);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/knn_distance", ADK_F64, dist, x->n, x->row0, x->nloc, nn->k);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/score", ADK_F64, r->score, x->n, x->row0, x->nloc, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(out, "/", "k", (int64_t)nn->k);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(out, "/score", "method", o->score);
    }
    if (st == ADK_OK && o->reference) {
        st = adk_out_attr_str(out, "/", "reference", o->reference);
    }
    if (st == ADK_OK && r->eps_from) {
        st = adk_out_rows(out, "/anomaly", ADK_U8, r->flag, x->n, x->row0, x->nloc, 0);
        if (st == ADK_OK) {
            st = adk_out_attr_f64(out, "/anomaly", "epsilon", r->epsilon);
        }
        if (st == ADK_OK) {
            st = adk_out_attr_str(out, "/anomaly", "epsilon_from", r->eps_from);
        }
    }
    if (st == ADK_OK) {
        st = adk_score_write_attrs(out, &r->sum);
    }
    free(dist);
    return st;
}

static int write_json(adk_ctx_t *ctx, adk_out_group_t *g, const opts_t *o, const char *input,
                      const result_t *r)
{
    cJSON *j = cJSON_CreateObject();
    int ok = j != NULL;
    ok = ok && cJSON_AddStringToObject(j, "adkit_version", adk_version());
    ok = ok && cJSON_AddStringToObject(j, "data", input);
    ok = ok && cJSON_AddNumberToObject(j, "k", (double)r->nn->k);
    ok = ok && cJSON_AddStringToObject(j, "score", o->score);
    ok = ok && (o->reference ? cJSON_AddStringToObject(j, "reference", o->reference) != NULL
                             : cJSON_AddNullToObject(j, "reference") != NULL);
    if (ok) {
        adk_score_json_add(j, &r->sum);
    }
    ok = ok && (r->eps_from ? cJSON_AddNumberToObject(j, "epsilon", r->epsilon) != NULL
                            : cJSON_AddNullToObject(j, "epsilon") != NULL);
    ok = ok && (r->eps_from ? cJSON_AddStringToObject(j, "epsilon_from", r->eps_from) != NULL
                            : cJSON_AddNullToObject(j, "epsilon_from") != NULL);
    ok = ok && cJSON_AddNumberToObject(j, "mpi_ranks", adk_ctx_size(ctx));
    char *text = ok ? adk_json_text(j) : NULL;
    cJSON_Delete(j);
    int st = adk_ctx_agree(ctx, text ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st == ADK_OK) {
        st = adk_out_text(g, o->json, text);
    }
    free(text);
    return st;
}

static void print_summary(adk_ctx_t *ctx, const opts_t *o, const char *input, const adk_rows_t *x,
                          const result_t *r, double secs)
{
    if (adk_ctx_rank(ctx) != 0 || adk_ctx_quiet(ctx)) {
        return;
    }
    printf("adkit-knn: %s, %lld rows x %zu features, k = %zu, score %s, %d rank%s, %.3f s\n", input,
           (long long)x->n, x->d, r->nn->k, o->score, adk_ctx_size(ctx),
           adk_ctx_size(ctx) > 1 ? "s" : "", secs);
    if (r->eps_from) {
        printf("  epsilon (%s)  %.17g\n", r->eps_from, r->epsilon);
    }
    adk_score_print(stdout, &r->sum);
    fflush(stdout);
}

static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    const opts_t *o = opts;
    const char *input = pos[0]; /* the table allows exactly one */
    (void)npos;
    unsigned fl = o->force ? ADK_OUT_FORCE : 0;
    adk_knn_score_t how = ADK_KNN_KTH;
    ADK_CHECK(check_opts(ctx, o, &how));
    ADK_CHECK(adk_out_check(ctx, o->out, fl));
    if (o->json) {
        ADK_CHECK(adk_out_check(ctx, o->json, fl));
    }
    adk_read_opts_t ro = {1, o->labels, o->label_col};
    adk_rows_t *x = NULL;
    ADK_CHECK(adk_io_read(ctx, input, &ro, &x));
    /* squared distances of every pair must stay finite */
    int st = adk_ctx_agree(ctx, adk_rows_check_range(ctx, x, ADK_ROWS_MAX_ABS));
    adk_rows_t *ref = NULL;
    if (st == ADK_OK && o->reference) {
        st = adk_io_read(ctx, o->reference, NULL, &ref);
        if (st == ADK_OK) {
            st = adk_ctx_agree(ctx, adk_rows_check_range(ctx, ref, ADK_ROWS_MAX_ABS));
        }
    }
    result_t r = {NULL, NULL, NULL, NULL, NAN, NULL, {0}};
    double t0 = adk_now();
    if (st == ADK_OK) {
        st = ref ? adk_knn_query(ctx, x, ref, (size_t)o->k, 0, &r.nn)
                 : adk_knn_compute(ctx, x, (size_t)o->k, &r.nn);
    }
    if (st == ADK_OK) {
        r.score = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(double));
        st = adk_ctx_agree(ctx, r.score ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        adk_knn_score(r.nn, how, r.score);
        st = evaluate(ctx, o, x, &r);
    }
    double secs = adk_now() - t0;
    /* the neighbours and the JSON summary are one group: both appear, or neither does */
    adk_out_group_t *g = NULL;
    if (st == ADK_OK) {
        st = adk_out_group_create(ctx, fl, &g);
    }
    if (st == ADK_OK) {
        st = write_nn(ctx, g, o, x, &r);
    }
    if (st == ADK_OK && o->json) {
        st = write_json(ctx, g, o, input, &r);
    }
    st = adk_out_group_commit(g, st);
    if (st == ADK_OK) {
        print_summary(ctx, o, input, x, &r, secs);
    }
    adk_knn_free(r.nn);
    free(r.score);
    free(r.flag);
    free(r.truth);
    adk_rows_free(x);
    adk_rows_free(ref);
    return st;
}

ADK_CLI_MAIN(knn)
{
    opts_t o = {5, "kth", NULL, NULL, NULL, NULL, NULL, NULL, NAN, 0};
    const adk_opt_t tab[] = {
        {"k", ADK_OPT_I64, &o.k, "K", "neighbours per row (default 5), 1 <= K <= N - 1"},
        {"score", ADK_OPT_STR, &o.score, "kth|mean",
         "outlier score: distance to the K-th neighbour (default) or mean over the K"},
        {"out", ADK_OPT_STR, &o.out, "NN.h5",
         "write /knn_index, /knn_distance (N x K), /score (and /anomaly)"},
        {"reference", ADK_OPT_STR, &o.reference, "REF.h5:/data",
         "neighbours among these rows (e.g. normal training rows), not INPUT's own"},
        {"labels", ADK_OPT_STR, &o.labels, "F.h5:/labels", "known labels (one per row)"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV input: column holding the labels"},
        {"positive", ADK_OPT_STR, &o.positive, "V[,V...]",
         "label values that mean 'anomaly' (default: 1)"},
        {"threshold", ADK_OPT_DOUBLE, &o.threshold, "EPS",
         "flag score > EPS (default with labels: the F1-best of 1000 candidates)"},
        {"json", ADK_OPT_STR, &o.json, "FILE.json", "also write the counts and metrics as JSON"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace existing output files"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "[OPTIONS] --out NN.h5 INPUT",
        "Exact K nearest neighbours of every row among all rows (Euclidean, self excluded, ties\n"
        "to the lower row), or among the rows of --reference (PyOD's KNN fitted on them), and\n"
        "the kNN-distance outlier score. With labels, report the ROC AUC\n"
        "and average precision of the score and TP/FP/TN/FN, precision, recall, F1 of the flags\n"
        "score > EPS; EPS chosen on the same labelled rows is optimistic: give --threshold to\n"
        "judge a threshold fixed beforehand. INPUT is FILE.h5:/dataset or FILE.csv. Results are\n"
        "identical for any number of MPI ranks.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 4 adkit-knn --k 5 --labels d.h5:/labels --positive 0,1 --out nn.h5 "
        "d.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
