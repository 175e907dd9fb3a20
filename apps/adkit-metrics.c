/*
 * adkit-metrics: cluster quality of a fitted k-means model on its data: inertia, silhouette
 * (exact by a ring pass of row blocks, or on a seeded sample), Davies-Bouldin, Calinski-Harabasz.
 *
 *   mpiexec -n 4 adkit-metrics --model model.h5 --assign a.h5 --json q.json data.h5:/data
 *
 * Labels come from the assignment file (/cluster) when given, otherwise from the model's nearest
 * centroids. Prints a table on stdout (rank 0); the same numbers for any number of ranks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_io.h"
#include "adk_json.h"
#include "adk_kmeans.h"
#include "adk_metrics.h"

typedef struct {
    const char *model, *assign, *json, *label_col;
    int64_t sample;
    uint64_t seed;
    int force;
} opts_t;

/* Labels of the local rows: the assignment file's (checked against k) or the model's. */
static int get_labels(adk_ctx_t *ctx, const opts_t *o, const adk_kmeans_model_t *m, adk_rows_t *x,
                      int32_t *lab, char *src, size_t srclen)
{
    if (!o->assign) {
        snprintf(src, srclen, "nearest centroid of %s", o->model);
        return adk_kmeans_predict(ctx, m, x, lab, NULL);
    }
    /* "A.h5" means A.h5:/cluster, as adkit-kmeans --assign writes it */
    snprintf(src, srclen, strstr(o->assign, ":/") ? "%s" : "%s:/cluster", o->assign);
    ADK_CHECK(adk_io_read_labels(ctx, src, x));
    int st = ADK_OK;
    for (size_t i = 0; i < x->nloc && st == ADK_OK; i++) {
        if (x->labels[i] < 0 || x->labels[i] >= (int64_t)m->k) {
            st = ADK_ERR(
                ctx, ADK_EDATA, "labels %s row %lld: %lld is not a cluster of %s (k = %zu)", src,
                (long long)(x->row0 + (int64_t)i), (long long)x->labels[i], o->model, m->k);
        } else {
            lab[i] = (int32_t)x->labels[i];
        }
    }
    return adk_ctx_agree(ctx, st);
}

static int write_json(adk_ctx_t *ctx, const opts_t *o, const char *data, const char *src,
                      const adk_metrics_t *r, double sil, int64_t used, size_t d)
{
    cJSON *j = cJSON_CreateObject();
    int ok = j != NULL;
    ok = ok && cJSON_AddStringToObject(j, "adkit_version", adk_version());
    ok = ok && cJSON_AddStringToObject(j, "data", data);
    ok = ok && cJSON_AddStringToObject(j, "model", o->model);
    ok = ok && cJSON_AddStringToObject(j, "labels", src);
    ok = ok && cJSON_AddNumberToObject(j, "n", (double)r->n);
    ok = ok && cJSON_AddNumberToObject(j, "d", (double)d);
    ok = ok && cJSON_AddNumberToObject(j, "k", (double)r->k);
    ok = ok && cJSON_AddNumberToObject(j, "n_labels", (double)r->n_labels);
    ok = ok && cJSON_AddNumberToObject(j, "inertia", r->inertia);
    ok = ok && cJSON_AddNumberToObject(j, "silhouette", sil);
    ok = ok && cJSON_AddNumberToObject(j, "silhouette_rows", (double)used);
    ok = ok && cJSON_AddNumberToObject(j, "sample_size", (double)o->sample);
    char seed[32]; /* raw: a 64-bit seed does not fit a JSON double */
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)o->seed);
    ok = ok && cJSON_AddRawToObject(j, "seed", seed);
    ok = ok && cJSON_AddNumberToObject(j, "davies_bouldin", r->davies_bouldin);
    ok = ok && cJSON_AddNumberToObject(j, "calinski_harabasz", r->calinski_harabasz);
    ok = ok && cJSON_AddNumberToObject(j, "mpi_ranks", adk_ctx_size(ctx));
    char *text = ok ? adk_json_text(j) : NULL;
    cJSON_Delete(j);
    int st = text ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = adk_out_text_file(ctx, o->json, o->force ? ADK_OUT_FORCE : 0, text);
    }
    free(text);
    return st;
}

static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    const opts_t *o = opts;
    const char *data = pos[0]; /* the table allows exactly one */
    (void)npos;
    if (!o->model) {
        return ADK_ERR(ctx, ADK_EINVAL, "--model MODEL.h5 is required");
    }
    if (o->sample < 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "--sample-size: %lld is negative", (long long)o->sample);
    }
    if (o->json) {
        ADK_CHECK(adk_out_check(ctx, o->json, o->force ? ADK_OUT_FORCE : 0));
    }
    if (o->sample > 0) {
        adk_ctx_set_seed(ctx, o->seed);
    }
    adk_kmeans_model_t *m = NULL;
    ADK_CHECK(adk_kmeans_model_read(ctx, o->model, &m));
    adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, o->label_col};
    adk_rows_t *x = NULL;
    int st = adk_io_read(ctx, data, &ro, &x);
    if (st == ADK_OK) { /* squared distances of every pair must stay finite */
        st = adk_ctx_agree(ctx, adk_rows_check_range(ctx, x, ADK_ROWS_MAX_ABS));
    }
    if (st == ADK_OK && x->d != m->d) { /* same on every rank */
        st = ADK_ERR(ctx, ADK_EDATA, "%s has %zu columns but the model %s has %zu", data, x->d,
                     o->model, m->d);
    }
    int32_t *lab = NULL;
    char src[4200];
    if (st == ADK_OK) {
        lab = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(int32_t));
        st = adk_ctx_agree(ctx, lab ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        st = get_labels(ctx, o, m, x, lab, src, sizeof(src));
    }
    adk_metrics_t r;
    double sil = 0.0, t0 = adk_now(), t_sil = 0.0;
    int64_t used = 0;
    if (st == ADK_OK) {
        st = adk_metrics_clusters(ctx, x, lab, m->k, m->centroids, &r);
    }
    if (st == ADK_OK) {
        t0 = adk_now();
        st = adk_metrics_silhouette(ctx, x, lab, m->k, o->sample, o->seed, &sil, &used, NULL);
        t_sil = adk_now() - t0;
    }
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0) {
        printf("adkit-metrics: %lld rows x %zu features, k = %zu (%lld with rows), %d rank%s\n",
               (long long)r.n, x->d, r.k, (long long)r.n_labels, adk_ctx_size(ctx),
               adk_ctx_size(ctx) > 1 ? "s" : "");
        printf("  labels             %s\n", src);
        printf("  inertia            %.17g\n", r.inertia);
        printf("  silhouette         %.17g  (%s, %lld rows, %.3f s)\n", sil,
               used < r.n ? "sample" : "exact", (long long)used, t_sil);
        printf("  davies-bouldin     %.17g\n", r.davies_bouldin);
        printf("  calinski-harabasz  %.17g\n", r.calinski_harabasz);
        fflush(stdout);
    }
    if (st == ADK_OK && o->json) {
        st = write_json(ctx, o, data, src, &r, sil, used, x->d);
    }
    free(lab);
    adk_rows_free(x);
    adk_kmeans_model_free(m);
    return st;
}

ADK_CLI_MAIN(metrics)
{
    opts_t o = {NULL, NULL, NULL, NULL, 0, 0, 0};
    const adk_opt_t tab[] = {
        {"model", ADK_OPT_STR, &o.model, "MODEL.h5", "k-means model file (/centroids), required"},
        {"assign", ADK_OPT_STR, &o.assign, "A.h5[:/DSET]",
         "labels per row (default dataset /cluster); without it, each row's nearest centroid"},
        {"sample-size", ADK_OPT_I64, &o.sample, "S",
         "silhouette on S rows picked by --seed (0: exact, every row)"},
        {"seed", ADK_OPT_U64, &o.seed, "SEED", "seed of the silhouette sample"},
        {"json", ADK_OPT_STR, &o.json, "OUT.json", "also write the results as JSON"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV input: column to leave out (labels)"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace an existing JSON file"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "--model MODEL.h5 [OPTIONS] INPUT",
        "Cluster quality of labelled rows, as scikit-learn defines it: inertia (squared distances\n"
        "to the model's centroids), silhouette score, Davies-Bouldin and Calinski-Harabasz\n"
        "indices (these three use the labels only). INPUT is FILE.h5:/dataset or FILE.csv.\n"
        "The exact silhouette passes row blocks around the ranks in a ring: O(N^2 D / P) work and\n"
        "O(N (D + K) / P) memory per rank. --sample-size S scores S rows chosen by --seed (not\n"
        "scikit-learn's random subset). Results are bitwise identical for any number of ranks.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 4 adkit-metrics --model model.h5 --assign a.h5 --json q.json "
        "data.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
