/*
 * adkit-elbow: fit k-means for K = k-min..k-max, write the K/inertia curve as CSV and name its
 * elbow by Kneedle (Satopaa et al. 2011; the curve is convex and decreasing).
 *
 *   mpiexec -n 4 adkit-elbow --k-min 1 --k-max 10 --seed 0 --out curve.csv data.h5:/data
 *   /usr/bin/python3 scripts/plot_elbow.py curve.csv elbow.png
 *
 * The data are read once; every fit is bitwise identical for any number of ranks, so the curve
 * and the elbow are too. The CSV starts with comment lines, "# elbow_k=K" (or "none") among them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_elbow.h"
#include "adk_io.h"
#include "adk_kmeans.h"

typedef struct {
    adk_kmeans_params_t km;
    int k_min, k_max, force;
    double s;
    const char *out, *label_col;
} opts_t;

/* The CSV text (the same on every rank: every value is). */
static char *curve_csv(const opts_t *o, const double *inertia, const int *iters, int64_t elbow,
                       const char *cmd)
{
    size_t nk = (size_t)(o->k_max - o->k_min + 1);
    size_t len = strlen(cmd) + 512 + nk * 64;
    char *t = adk_malloc(len);
    if (!t) {
        return NULL;
    }
    size_t p = (size_t)snprintf(t, len,
                                "# adkit-elbow: k-means inertia per K; elbow by Kneedle "
                                "(convex, decreasing)\n# command=%s\n# sensitivity=%.17g\n",
                                cmd, o->s);
    if (elbow >= 0) {
        p += (size_t)snprintf(t + p, len - p, "# elbow_k=%lld\n", (long long)elbow);
    } else {
        p += (size_t)snprintf(t + p, len - p, "# elbow_k=none\n");
    }
    p += (size_t)snprintf(t + p, len - p, "k,inertia,n_iter\n");
    for (size_t i = 0; i < nk; i++) {
        p += (size_t)snprintf(t + p, len - p, "%d,%.17g,%d\n", o->k_min + (int)i, inertia[i],
                              iters[i]);
    }
    return t;
}

static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    opts_t *o = opts;
    const char *input = pos[0]; /* the table allows exactly one */
    (void)npos;
    unsigned fl = o->force ? ADK_OUT_FORCE : 0;
    if (o->k_min < 1 || o->k_max < o->k_min) {
        return ADK_ERR(ctx, ADK_EINVAL, "need 1 <= --k-min <= --k-max (got %d and %d)", o->k_min,
                       o->k_max);
    }
    if (strcmp(o->km.init, "k-means++") != 0 && strcmp(o->km.init, "random") != 0) {
        return ADK_ERR(ctx, ADK_EINVAL, "--init: '%s' is not k-means++ or random", o->km.init);
    }
    if (!(o->s >= 0.0)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--sensitivity: %g is negative", o->s);
    }
    if (o->out) {
        ADK_CHECK(adk_out_check(ctx, o->out, fl));
    }
    adk_ctx_set_seed(ctx, o->km.seed);
    adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, o->label_col};
    adk_rows_t *x = NULL;
    ADK_CHECK(adk_io_read(ctx, input, &ro, &x));
    size_t nk = (size_t)(o->k_max - o->k_min + 1);
    double *ks = adk_malloc(nk * sizeof(double)), *inertia = adk_malloc(nk * sizeof(double));
    int *iters = adk_malloc(nk * sizeof(int));
    int st = ks && inertia && iters ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    if (st == ADK_OK && o->k_max > x->n) { /* same on every rank */
        st = ADK_ERR(ctx, ADK_EDATA, "--k-max %d exceeds the %lld rows of %s", o->k_max,
                     (long long)x->n, input);
    }
    st = adk_ctx_agree(ctx, st);
    for (size_t i = 0; st == ADK_OK && i < nk; i++) {
        adk_kmeans_model_t *m = NULL;
        o->km.k = o->k_min + (int)i;
        double t0 = adk_now();
        st = adk_kmeans_fit(ctx, &o->km, x, &m, NULL, NULL);
        if (st == ADK_OK) {
            ks[i] = o->km.k;
            inertia[i] = m->inertia;
            iters[i] = m->n_iter;
            adk_ctx_info(ctx, "k = %d: inertia %.10g, %d iterations%s, %.3f s", o->km.k, m->inertia,
                         m->n_iter, m->converged ? "" : " (not converged)", adk_now() - t0);
        }
        adk_kmeans_model_free(m);
    }
    int64_t knee = -1;
    if (st == ADK_OK) { /* the same curve on every rank, but Kneedle allocates: agree */
        int kst = adk_elbow_kneedle(ks, inertia, nk, ADK_KNEE_CONVEX_DECREASING, o->s, NULL, &knee);
        if (kst == ADK_ENOMEM) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        } else if (kst != ADK_OK) {
            st = ADK_ERR(ctx, ADK_EINTERNAL, "Kneedle rejected the inertia curve");
        }
        st = adk_ctx_agree(ctx, st);
    }
    int64_t elbow = knee >= 0 ? o->k_min + knee : -1;
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0) {
        printf("adkit-elbow: %lld rows x %zu features, K = %d..%d, %d rank%s\n", (long long)x->n,
               x->d, o->k_min, o->k_max, adk_ctx_size(ctx), adk_ctx_size(ctx) > 1 ? "s" : "");
        printf("  %4s  %24s  %6s\n", "k", "inertia", "n_iter");
        for (size_t i = 0; i < nk; i++) {
            printf("  %4d  %24.17g  %6d%s\n", o->k_min + (int)i, inertia[i], iters[i],
                   (int64_t)i == knee ? "  <- elbow" : "");
        }
        if (elbow >= 0) {
            printf("  elbow (Kneedle, S = %g): k = %lld\n", o->s, (long long)elbow);
        } else {
            printf("  elbow (Kneedle, S = %g): none found\n", o->s);
        }
        fflush(stdout);
    }
    if (st == ADK_OK && o->out) {
        char *csv = curve_csv(o, inertia, iters, elbow, adk_ctx_cmdline(ctx));
        st = adk_ctx_agree(ctx, csv ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
        if (st == ADK_OK) {
            st = adk_out_text_file(ctx, o->out, fl, csv);
        }
        free(csv);
    }
    free(ks);
    free(inertia);
    free(iters);
    adk_rows_free(x);
    return st;
}

ADK_CLI_MAIN(elbow)
{
    opts_t o = {.k_min = 1, .k_max = 10, .force = 0, .s = 1.0, .out = NULL, .label_col = NULL};
    adk_kmeans_params_default(&o.km);
    const adk_opt_t tab[] = {
        {"k-min", ADK_OPT_INT, &o.k_min, "A", "smallest K"},
        {"k-max", ADK_OPT_INT, &o.k_max, "B", "largest K"},
        {"seed", ADK_OPT_U64, &o.km.seed, "S", "random seed of every fit"},
        {"n-init", ADK_OPT_INT, &o.km.n_init, "N",
         "runs per K, keep the lowest inertia (0: 1, or 10 for random)"},
        {"init", ADK_OPT_STR, &o.km.init, "HOW", "k-means++ or random"},
        {"max-iter", ADK_OPT_INT, &o.km.max_iter, "N", "iterations per run"},
        {"tol", ADK_OPT_DOUBLE, &o.km.tol, "T",
         "centre shift tolerance, relative to the mean variance"},
        {"sensitivity", ADK_OPT_DOUBLE, &o.s, "S",
         "Kneedle sensitivity (larger: fewer, surer elbows)"},
        {"out", ADK_OPT_STR, &o.out, "CURVE.csv", "write k,inertia,n_iter (and the elbow) as CSV"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV input: column to leave out (labels)"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace an existing CSV file"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "[--k-min A] [--k-max B] [OPTIONS] INPUT",
        "Fit k-means for every K from A to B (scikit-learn's rules, as adkit-kmeans), print the\n"
        "K/inertia curve and its elbow by Kneedle (Satopaa et al. 2011, as kneed 0.8.6 with\n"
        "curve='convex', direction='decreasing'), optionally write it as CSV. INPUT is\n"
        "FILE.h5:/dataset or FILE.csv. Draw the curve with scripts/plot_elbow.py.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 4 adkit-elbow --k-min 1 --k-max 10 --out curve.csv data.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
