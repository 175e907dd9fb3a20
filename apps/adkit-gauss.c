/*
 * adkit-gauss: Gaussian anomaly detection in three steps.
 *   adkit-gauss fit    [--full] [--min-var V] [--ridge R] TRAIN MODEL.h5
 *   adkit-gauss select --labels VAL.h5:/labels [--log] [--curve C.csv] MODEL.h5 VAL.h5:/data
 *   adkit-gauss score  [--labels TEST.h5:/labels] [--json S.json] MODEL.h5 TEST.h5:/data OUT.h5
 * Run with mpiexec -n P; results are the same bits for any P. The work is in adk_gauss.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_gauss.h"

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

int main(int argc, char **argv)
{
    adk_ctx_t *ctx = NULL;
    int st = adk_cli_begin(&argc, &argv, &ctx);
    if (st != ADK_OK) {
        return adk_cli_end(ctx, st);
    }
    const char *cmd = argc > 1 ? argv[1] : "";
    adk_gauss_cmd_t c;
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
            st = adk_gauss_cmd_fit(ctx, &c);
        } else {
            c.model = pos[0];
            c.input = pos[1];
            c.out = which == 2 ? pos[2] : NULL;
            st = which == 1 ? adk_gauss_cmd_select(ctx, &c) : adk_gauss_cmd_score(ctx, &c);
        }
    }
    free(pos);
    return adk_cli_end(ctx, st);
}
