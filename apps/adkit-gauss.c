/*
 * adkit-gauss: Gaussian anomaly detection in three steps.
 *   adkit-gauss fit    [--full] [--min-var V] [--ridge R] TRAIN MODEL.h5
 *   adkit-gauss select --labels VAL.h5:/labels [--log] [--curve C.csv] MODEL.h5 VAL.h5:/data
 *   adkit-gauss score  [--labels TEST.h5:/labels] [--json S.json] MODEL.h5 TEST.h5:/data OUT.h5
 * Run with mpiexec -n P; results are the same bits for any P. The model is adk_gauss, the
 * threshold sweep adk_sweep, the counts and reports adk_score; this file wires them together.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_gauss.h"
#include "adk_io.h"
#include "adk_json.h"
#include "adk_score.h"
#include "adk_sweep.h"

typedef struct {
    const char *input;     /* TRAIN / VALIDATION / TEST spec */
    const char *model;     /* model file */
    const char *out;       /* score: output file */
    const char *labels;    /* --labels FILE.h5:/labels */
    const char *label_col; /* --label-col COL (CSV) */
    const char *curve;     /* select: --curve FILE.csv */
    const char *json;      /* score: --json FILE */
    adk_gauss_params_t fit;
    int log;        /* select: sweep log p; score: --epsilon is a log-density threshold */
    int density;    /* score: also write /p */
    int has_eps;    /* score: --epsilon given */
    double eps;     /* score: threshold override */
    unsigned flags; /* ADK_OUT_FORCE */
} cmd_t;

static const char *const overview =
    "Usage: adkit-gauss COMMAND [OPTIONS] ARGS...\n\n"
    "Gaussian anomaly detection: a row is an anomaly when its density p(x) under a normal model\n"
    "of the training data is below a threshold epsilon chosen for the best F1 on labelled\n"
    "validation rows.\n\n"
    "Commands:\n"
    "  fit     per-feature means and variances (or --full covariance) -> MODEL.h5\n"
    "  select  sweep 1000 thresholds over validation densities, keep the best F1 -> MODEL.h5\n"
    "  score   log densities and anomaly flags of new rows -> OUT.h5 (+ P/R/F1 with labels)\n\n"
    "'adkit-gauss COMMAND --help' shows the options of a command.\n"
    "Exit codes: 0 ok, 1 usage, 2 bad data, 3 I/O, 4 no convergence, 70 internal.\n";

/* Strict parse of a finite number given as text (--epsilon, which has no default). */
static int parse_double(adk_ctx_t *ctx, const char *opt, const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--%s: '%s' is not a finite number", opt, s);
    }
    *out = v;
    return ADK_OK;
}

/* fit: TRAIN (read with the reproducible alignment) -> MODEL.h5. */
static int cmd_fit(adk_ctx_t *ctx, const cmd_t *c)
{
    adk_rows_t *x = NULL;
    adk_gauss_t *g = NULL;
    adk_out_t *o = NULL;
    int st = adk_out_check(ctx, c->model, c->flags);
    if (st == ADK_OK) {
        adk_read_opts_t ro = {ADK_ALIGN_REPRO, NULL, NULL};
        st = adk_io_read(ctx, c->input, &ro, &x);
    }
    if (st == ADK_OK) {
        st = adk_gauss_fit(ctx, x, &c->fit, &g);
    }
    if (st == ADK_OK) {
        st = adk_out_create(ctx, c->model, c->flags, &o);
    }
    if (st == ADK_OK) {
        st = adk_out_commit(o, adk_gauss_save(o, g));
    }
    if (st == ADK_OK) {
        adk_ctx_info(ctx, "fit: %lld rows x %zu features, %s covariance -> %s", (long long)x->n,
                     x->d, g->kind == ADK_GAUSS_FULL ? "full" : "diagonal", c->model);
        if (g->nfloored > 0) {
            adk_ctx_info(ctx, "fit: %lld variances floored at %g", (long long)g->nfloored,
                         g->min_var);
        }
    }
    adk_gauss_free(g);
    adk_rows_free(x);
    return st;
}

/* Rows of the data set named by c->input, with labels when asked, checked against the model. */
static int read_rows(adk_ctx_t *ctx, const cmd_t *c, const adk_gauss_t *g, adk_rows_t **x)
{
    adk_read_opts_t ro = {1, c->labels, c->label_col};
    int st = adk_io_read(ctx, c->input, &ro, x);
    if (st == ADK_OK && (*x)->d != g->d) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s has %zu columns but the model %s has %zu features",
                     c->input, (*x)->d, c->model, g->d);
        /* same shape on every rank: already agreed */
        adk_rows_free(*x);
        *x = NULL;
    }
    return st;
}

/* select: the F1 sweep over the validation densities, added to MODEL.h5 (and --curve). */
static int cmd_select(adk_ctx_t *ctx, const cmd_t *c)
{
    if (!c->labels && !c->label_col) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "select needs the validation labels: --labels FILE.h5:/dataset or "
                       "--label-col COL");
    }
    adk_gauss_t *g = NULL;
    adk_rows_t *x = NULL;
    adk_sweep_t *s = NULL;
    adk_out_t *o = NULL;
    double *v = NULL;
    char *csv = NULL;
    int64_t under = 0;       /* densities below DBL_MIN (underflowed), when sweeping p */
    double t[3] = {0, 0, 0}; /* read, density, sweep */
    int st = c->curve ? adk_out_check(ctx, c->curve, c->flags) : ADK_OK;
    if (st == ADK_OK) {
        st = adk_gauss_load(ctx, c->model, &g);
    }
    if (st == ADK_OK && g->has_eps && !(c->flags & ADK_OUT_FORCE)) {
        st = ADK_ERR(ctx, ADK_EEXIST, "%s already has /epsilon; use --force to replace it",
                     c->model);
    }
    t[0] = adk_now();
    if (st == ADK_OK) {
        st = read_rows(ctx, c, g, &x);
    }
    t[0] = adk_now() - t[0];
    t[1] = adk_now();
    if (st == ADK_OK) {
        v = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(double));
        st = v ? adk_gauss_logpdf(ctx, g, x->x, x->nloc, v)
               : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        for (size_t i = 0; st == ADK_OK && !c->log && i < x->nloc; i++) {
            v[i] = exp(v[i]);
            under += v[i] < DBL_MIN;
        }
        st = adk_ctx_agree(ctx, st);
    }
    t[1] = adk_now() - t[1];
    t[2] = adk_now();
    if (st == ADK_OK) {
        adk_sweep_params_t sp = {ADK_SWEEP_BELOW, ADK_SWEEP_NCAND, c->log,
                                 c->labels ? c->labels : c->input,
                                 c->log ? "log density" : "density"};
        st = adk_sweep_run(ctx, &sp, v, x->labels, x->nloc, x->row0, &s);
    }
    t[2] = adk_now() - t[2];
    /* the model's /epsilon and the --curve table are one group: both appear, or neither does */
    adk_out_group_t *grp = NULL;
    if (st == ADK_OK) {
        st = adk_out_group_create(ctx, c->flags, &grp);
    }
    if (st == ADK_OK && c->curve) {
        csv = adk_sweep_csv(s);
        st = adk_ctx_agree(ctx, csv ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
        if (st == ADK_OK) {
            st = adk_out_text(grp, c->curve, csv);
        }
    }
    if (st == ADK_OK) {
        st = adk_out_h5_update(grp, c->model, &o);
    }
    if (st == ADK_OK) {
        st = adk_sweep_save(ctx, o, s);
    }
    st = adk_out_group_commit(grp, st);
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, t, 3, MPI_DOUBLE, MPI_MAX);
    }
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, &under, 1, MPI_INT64_T, MPI_SUM);
    }
    if (st == ADK_OK) {
        if (under > 0) {
            adk_ctx_warn(ctx,
                         "%lld of %lld validation densities underflow below %g; --log sweeps "
                         "log p instead",
                         (long long)under, (long long)s->n, DBL_MIN);
        }
        if (s->best < 0) {
            adk_ctx_warn(ctx,
                         "F1 is 0 at every candidate (%lld anomalies among %lld rows): "
                         "epsilon = 0 as in the reference rule",
                         (long long)s->npos, (long long)s->n);
        }
        if (adk_ctx_rank(ctx) == 0) {
            adk_prf_t b = s->best >= 0 ? s->prf[s->best] : (adk_prf_t){0, 0, 0};
            printf("epsilon %.17g (threshold on %s)\n", s->epsilon, s->log ? "log p" : "p");
            printf("F1 %.6f  precision %.6f  recall %.6f  (candidate %lld of %zu in [%.6g, %.6g]; "
                   "%lld rows, %lld anomalies)\n",
                   s->f1, b.precision, b.recall, (long long)s->best, s->ncand, s->vmin, s->vmax,
                   (long long)s->n, (long long)s->npos);
            fflush(stdout);
        }
        adk_ctx_info(ctx,
                     "select: %d ranks, max over ranks: read %.3f s, density %.3f s, sweep %.3f s",
                     adk_ctx_size(ctx), t[0], t[1], t[2]);
    }
    free(csv);
    free(v);
    adk_sweep_free(s);
    adk_rows_free(x);
    adk_gauss_free(g);
    return st;
}

/* The summary of a scored data set as JSON: adkit-score's count keys, then the threshold. */
static char *score_json(const cmd_t *c, const adk_score_summary_t *s, double eps, int log)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) {
        return NULL;
    }
    adk_score_json_add(j, s);
    adk_json_num(j, "epsilon", eps);
    cJSON_AddBoolToObject(j, "log", log);
    cJSON_AddStringToObject(j, "model", c->model);
    cJSON_AddStringToObject(j, "data", c->input);
    char *text = adk_json_text(j);
    cJSON_Delete(j);
    return text;
}

/* score: /logp, /anomaly (p < epsilon) and --density /p of TEST -> OUT.h5; P/R/F1 with labels. */
static int cmd_score(adk_ctx_t *ctx, const cmd_t *c)
{
    if (c->log && !c->has_eps) {
        return ADK_ERR(ctx, ADK_EINVAL, "--log says how to read --epsilon E; give --epsilon too");
    }
    static const int64_t anomaly = 1; /* the label of an anomaly */
    adk_gauss_t *g = NULL;
    adk_rows_t *x = NULL;
    adk_out_t *o = NULL;
    double *logp = NULL, *p = NULL;
    uint8_t *anom = NULL, *truth = NULL;
    char *json = NULL;
    double eps = c->eps;
    int log = c->log;
    int64_t under = 0; /* densities below DBL_MIN in /p */
    adk_score_summary_t sum;
    int st = adk_out_check(ctx, c->out, c->flags);
    if (st == ADK_OK && c->json) {
        st = adk_out_check(ctx, c->json, c->flags);
    }
    if (st == ADK_OK) {
        st = adk_gauss_load(ctx, c->model, &g);
    }
    if (st == ADK_OK && !c->has_eps) {
        if (!g->has_eps) {
            st = ADK_ERR(ctx, ADK_EDATA,
                         "%s has no /epsilon: run 'adkit-gauss select' first or give --epsilon",
                         c->model);
        }
        eps = g->eps;
        log = g->eps_log;
    }
    if (st == ADK_OK) {
        st = read_rows(ctx, c, g, &x);
    }
    if (st == ADK_OK) {
        size_t nb = x->nloc ? x->nloc : 1;
        logp = adk_malloc(nb * sizeof(double));
        p = adk_malloc(nb * sizeof(double));
        anom = adk_malloc(nb);
        truth = x->labels ? adk_malloc(nb) : NULL;
        st = (logp && p && anom && (truth || !x->labels))
                 ? adk_gauss_logpdf(ctx, g, x->x, x->nloc, logp)
                 : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    const char *what = c->labels ? c->labels : c->input;
    for (size_t i = 0; st == ADK_OK && i < x->nloc; i++) {
        p[i] = exp(logp[i]);
        anom[i] = (log ? logp[i] : p[i]) < eps; /* the rule select optimised */
        under += p[i] < DBL_MIN;
        if (x->labels && x->labels[i] != 0 && x->labels[i] != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: label %lld is not 0 (normal) or 1 (anomaly)",
                         what, (long long)(x->row0 + (int64_t)i), (long long)x->labels[i]);
        }
    }
    if (st == ADK_OK && truth) {
        adk_score_truth(x->labels, x->nloc, &anomaly, 1, truth);
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = adk_score_count(ctx, anom, truth, x->nloc, &sum);
    }
    if (st == ADK_OK && c->density) {
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, &under, 1, MPI_INT64_T, MPI_SUM);
    }
    /* the scores and the --json summary are one group: both appear, or neither does */
    adk_out_group_t *grp = NULL;
    if (st == ADK_OK) {
        st = adk_out_group_create(ctx, c->flags, &grp);
    }
    if (st == ADK_OK && c->json) {
        json = score_json(c, &sum, eps, log);
        st = adk_ctx_agree(ctx, json ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
        if (st == ADK_OK) {
            st = adk_out_text(grp, c->json, json);
        }
    }
    if (st == ADK_OK) {
        st = adk_out_h5_create(grp, c->out, &o);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/logp", ADK_F64, logp, x->n, x->row0, x->nloc, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/anomaly", ADK_U8, anom, x->n, x->row0, x->nloc, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/anomaly", "epsilon", eps);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/anomaly", "log", log);
    }
    if (st == ADK_OK && c->density) {
        st = adk_out_rows(o, "/p", ADK_F64, p, x->n, x->row0, x->nloc, 0);
        if (st == ADK_OK) {
            st = adk_out_attr_i64(o, "/p", "n_underflow", under);
        }
    }
    st = adk_out_group_commit(grp, st);
    if (st == ADK_OK) {
        if (c->density && under > 0) {
            adk_ctx_warn(ctx, "%lld of %lld densities underflow below %g in /p; /logp keeps them",
                         (long long)under, (long long)sum.n, DBL_MIN);
        }
        if (adk_ctx_rank(ctx) == 0) {
            int size = adk_ctx_size(ctx);
            printf("adkit-gauss score: %s against %s (%s model, epsilon %.17g on %s), %d rank%s\n",
                   c->input, c->model, g->kind == ADK_GAUSS_FULL ? "full" : "diag", eps,
                   log ? "log p" : "p", size, size > 1 ? "s" : "");
            adk_score_print(stdout, &sum);
            fflush(stdout);
        }
    }
    free(json);
    free(logp);
    free(p);
    free(anom);
    free(truth);
    adk_rows_free(x);
    adk_gauss_free(g);
    return st;
}

ADK_CLI_MAIN(gauss)
{
    adk_ctx_t *ctx = NULL;
    int st = adk_cli_begin(&argc, &argv, &ctx);
    if (st != ADK_OK) {
        return adk_cli_end(ctx, st);
    }
    const char *cmd = argc > 1 ? argv[1] : "";
    cmd_t c;
    memset(&c, 0, sizeof(c));
    int full = 0, force = 0;
    const char *eps = NULL;
    const adk_opt_t fit_opts[] = {
        {"full", ADK_OPT_FLAG, &full, NULL,
         "full covariance matrix instead of per-feature variances"},
        {"min-var", ADK_OPT_DOUBLE, &c.fit.min_var, "V",
         "floor every variance at V (0: a zero variance is an error)"},
        {"ridge", ADK_OPT_DOUBLE, &c.fit.ridge, "R",
         "add R to every variance (Sigma + R I), e.g. for a singular covariance"},
        {"force", ADK_OPT_FLAG, &force, NULL, "replace MODEL.h5 if it exists"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_opt_t select_opts[] = {
        {"labels", ADK_OPT_STR, &c.labels, "SPEC", "validation labels 0/1 (FILE.h5:/labels)"},
        {"label-col", ADK_OPT_STR, &c.label_col, "COL", "CSV input: column holding the labels"},
        {"log", ADK_OPT_FLAG, &c.log, NULL, "sweep log p instead of p (when p underflows)"},
        {"curve", ADK_OPT_STR, &c.curve, "FILE.csv", "write epsilon, precision, recall, F1"},
        {"force", ADK_OPT_FLAG, &force, NULL, "replace an existing /epsilon and curve file"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_opt_t score_opts[] = {
        {"labels", ADK_OPT_STR, &c.labels, "SPEC", "true labels 0/1: print P/R/F1"},
        {"label-col", ADK_OPT_STR, &c.label_col, "COL", "CSV input: column holding the labels"},
        {"epsilon", ADK_OPT_STR, &eps, "E", "threshold instead of the model's /epsilon"},
        {"log", ADK_OPT_FLAG, &c.log, NULL, "--epsilon is a threshold on log p"},
        {"density", ADK_OPT_FLAG, &c.density, NULL, "also write /p = exp(/logp)"},
        {"json", ADK_OPT_STR, &c.json, "FILE", "write the counts and P/R/F1 as JSON"},
        {"force", ADK_OPT_FLAG, &force, NULL, "replace existing output files"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t clis[] = {
        {"fit [OPTIONS] TRAIN MODEL.h5",
         "Fit per-feature means and population variances (np.var), or with --full the mean and\n"
         "covariance (1/m), with exact sums: the model is the same bits at any rank count.\n"
         "TRAIN is FILE.h5:/dataset or FILE.csv of normal rows.",
         fit_opts, 2, 2, "Example: mpiexec -n 4 adkit-gauss fit train.h5:/data model.h5"},
        {"select [OPTIONS] MODEL.h5 VALIDATION",
         "Choose epsilon by the reference F1 sweep: 1000 candidates evenly spaced from min(p) to\n"
         "max(p), prediction p < epsilon, the first best F1 wins. Adds /epsilon, /f1 and /curve\n"
         "to MODEL.h5.",
         select_opts, 2, 2,
         "Example: mpiexec -n 4 adkit-gauss select --labels val.h5:/labels model.h5 val.h5:/data"},
        {"score [OPTIONS] MODEL.h5 TEST OUT.h5",
         "Write /logp and /anomaly (p < epsilon) for every row of TEST in input order.", score_opts,
         3, 3,
         "Example: mpiexec -n 4 adkit-gauss score --labels t.h5:/labels model.h5 t.h5:/data o.h5"},
    };
    const char *names[] = {"fit", "select", "score"};
    int which = -1;
    for (int i = 0; i < 3; i++) {
        which = strcmp(cmd, names[i]) == 0 ? i : which;
    }
    if (which < 0) {
        if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
            st = ADK_EXIT;
            if (adk_ctx_rank(ctx) == 0) {
                fputs(overview, stdout);
            }
        } else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
            st = ADK_EXIT;
            if (adk_ctx_rank(ctx) == 0) {
                printf("adkit-gauss %s\n", adk_version());
            }
        } else if (!cmd[0]) {
            st = ADK_ERR(ctx, ADK_EINVAL, "missing command: fit, select or score (see --help)");
        } else {
            st = ADK_ERR(ctx, ADK_EINVAL, "unknown command '%s': fit, select or score", cmd);
        }
        return adk_cli_end(ctx, st);
    }
    int npos = 0;
    char **pos = NULL;
    st = adk_cli_parse(ctx, &clis[which], argc - 1, argv + 1, &npos, &pos);
    if (st == ADK_OK && eps) {
        st = parse_double(ctx, "epsilon", eps, &c.eps);
        c.has_eps = 1;
    }
    if (st == ADK_OK) {
        c.flags = force ? ADK_OUT_FORCE : 0;
        c.fit.kind = full ? ADK_GAUSS_FULL : ADK_GAUSS_DIAG;
        if (which == 0) {
            c.input = pos[0];
            c.model = pos[1];
            st = cmd_fit(ctx, &c);
        } else {
            c.model = pos[0];
            c.input = pos[1];
            c.out = which == 2 ? pos[2] : NULL;
            st = which == 1 ? cmd_select(ctx, &c) : cmd_score(ctx, &c);
        }
    }
    free(pos);
    return adk_cli_end(ctx, st);
}
