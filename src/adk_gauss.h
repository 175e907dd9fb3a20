/*
 * adk_gauss: Gaussian anomaly detection. Fit per-feature means and variances (or the full
 * covariance) on normal training rows with exact reproducible sums, evaluate log densities, and
 * choose the density threshold epsilon that maximises F1 on labelled validation rows by the
 * reference sweep (1000 candidates from np.linspace(min, max), prediction p < epsilon, first best
 * F1 wins), distributed as one allreduce of integer confusion counts.
 *
 * Density. The univariate model is the product of per-feature normal densities
 *   log p(x) = -1/2 sum_j [ log(2 pi var_j) + (x_j - mu_j)^2 / var_j ],
 * the full model the multivariate normal with a Cholesky factor L of the covariance (GSL):
 *   log p(x) = -1/2 [ d log(2 pi) + 2 sum_j log L_jj + |L^-1 (x - mu)|^2 ].
 * Both are computed in log space, so 64 features do not underflow. (The recipe's formula divides by
 * sqrt(2 pi) var_j instead of sqrt(2 pi var_j); that rescales p by a constant factor, so it selects
 * the same predictions and F1. adkit implements the correct density.)
 */
#ifndef ADK_GAUSS_H
#define ADK_GAUSS_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_eval.h"
#include "adk_io.h"

/* Number of candidate thresholds of the reference sweep. */
#define ADK_GAUSS_NCAND 1000

/*
 * A covariance is treated as singular when a Cholesky pivot L_jj^2 falls below this fraction of
 * the variance of feature j: feature j is then, to about ten digits, a linear combination of the
 * features before it, and its log density would be dominated by rounding.
 */
#define ADK_GAUSS_PIVOT_TOL 1e-10

typedef enum { ADK_GAUSS_DIAG = 0, ADK_GAUSS_FULL = 1 } adk_gauss_kind_t;

/* How to fit. Zero-initialise for the plain fit (diag, no regularisation). */
typedef struct {
    adk_gauss_kind_t kind;
    double min_var; /* > 0: every variance (diag) / covariance diagonal entry floored at min_var */
    double ridge;   /* > 0: ridge added to every variance, i.e. Sigma + ridge I (after the floor) */
} adk_gauss_params_t;

/* A fitted model, identical on every rank. */
typedef struct adk_gauss {
    adk_gauss_kind_t kind;
    size_t d;
    int64_t m;        /* training rows (0 when unknown, e.g. a hand-made model file) */
    double *mu;       /* d means */
    double *var;      /* d variances: the model's (diag) or the covariance diagonal (full) */
    double *cov;      /* full: d x d covariance, row-major (lower triangle used); diag: NULL */
    double min_var;   /* regularisation applied (0: none) */
    double ridge;     /* regularisation applied (0: none) */
    int64_t nfloored; /* variances raised to min_var */
    /* derived (adk_gauss_from_moments) */
    double *chol;   /* full: lower Cholesky factor L of cov, row-major; diag: NULL */
    double lognorm; /* -1/2 (d log 2 pi + log det Sigma) */
    /* threshold, when the model file has one (adk_gauss_load) */
    int has_eps;
    double eps;
    int eps_log; /* eps is a threshold on log p rather than on p */
} adk_gauss_t;

/**
 * Fit the model on this rank's training rows.
 * Means are exact column sums (adk_repro) divided by m; variances and covariances are a second pass
 * over the centred values (x - mu)^2 and (x_j - mu_j)(x_k - mu_k), summed exactly and divided by m
 * (population moments, as np.var and np.cov(bias=True)). Block partials follow the rows'
 * alignment, so the model is bitwise identical for any rank count when @p x was read with
 * ADK_ALIGN_REPRO. A constant column gets its value as mean and variance exactly 0.
 * @param x    this rank's rows (x->spec names the data in messages)
 * @param p    kind and regularisation (floor at min_var, then add ridge)
 * @param out  the model (free with adk_gauss_free)
 * @return ADK_OK; ADK_EINVAL (negative min_var or ridge); ADK_EDATA: zero variances left after
 *         regularisation (the message lists the feature indices), a singular covariance (names
 *         the first dependent feature), values too large to square; ADK_ENOMEM, ADK_EMPI.
 * Collective (four allreduces).
 */
int adk_gauss_fit(adk_ctx_t *ctx, const adk_rows_t *x, const adk_gauss_params_t *p,
                  adk_gauss_t **out);

/**
 * Build a model from its moments (a loaded model file) and derive the density constants:
 * diag requires every variance > 0, full a positive definite covariance (Cholesky with the
 * ADK_GAUSS_PIVOT_TOL test).
 * @param what  names the source in messages ("model.h5")
 * @param mu    d means; @p s: d variances (diag) or d x d covariance (full); both copied
 * @return ADK_OK, ADK_EDATA (message names the feature), ADK_ENOMEM. Local (deterministic, so
 *         every rank given the same arrays gets the same status).
 */
int adk_gauss_from_moments(adk_ctx_t *ctx, const char *what, adk_gauss_kind_t kind, size_t d,
                           const double *mu, const double *s, adk_gauss_t **out);

/** Free a model (NULL: no-op). Local. */
void adk_gauss_free(adk_gauss_t *g);

/**
 * Log density of @p n rows (n x g->d, row-major) into @p logp. Each row is computed on its own in
 * a fixed order, so its value does not depend on the rank count.
 * @return ADK_OK, ADK_ENOMEM. Local.
 */
int adk_gauss_logpdf(adk_ctx_t *ctx, const adk_gauss_t *g, const double *x, size_t n, double *logp);

/**
 * Write the model: /mu and /var (diag) or /cov (full); attributes on "/": model = "gauss",
 * kind = "diag"/"full", m, d, and min_var, ridge, n_floored when regularised. Collective.
 */
int adk_gauss_save(adk_out_t *o, const adk_gauss_t *g);

/**
 * Read a model file written by adk_gauss_save (or by hand: /mu with /var or /cov), and /epsilon
 * with its "log" attribute when present.
 * @return ADK_OK, ADK_EIO, ADK_EHDF5, ADK_EDATA (shapes, variances, not positive definite).
 * Collective.
 */
int adk_gauss_load(adk_ctx_t *ctx, const char *file, adk_gauss_t **out);

/**
 * np.linspace(start, stop, num) bit for bit (numpy 1.24): step = (stop - start)/(num - 1) and
 * values start + i*step, or (i/(num - 1))*(stop - start) + start when the step is 0 (numpy's
 * subnormal rule), with the last value set to stop exactly. num = 1 gives start. Local.
 */
void adk_gauss_linspace(double start, double stop, size_t num, double *out);

/* The threshold sweep over the candidates, identical on every rank. */
typedef struct {
    int log;         /* the values were log densities */
    int64_t n, npos; /* rows swept, rows labelled 1 */
    int64_t nunder;  /* p values below DBL_MIN (underflowed), counted when !log */
    double vmin, vmax;
    size_t ncand;
    double *eps;           /* ncand candidates */
    adk_confusion_t *conf; /* ncand confusion tables of prediction v < eps */
    adk_prf_t *prf;        /* ncand precision, recall, F1 */
    int64_t best;          /* index of the chosen candidate, -1 when F1 is 0 everywhere */
    double epsilon, f1;    /* the reference's result: eps[best] and its F1, or 0 and 0 */
} adk_gauss_sweep_t;

/**
 * The reference F1 sweep: candidates adk_gauss_linspace(min v, max v, ncand) over all ranks'
 * values, prediction v < eps, precision/recall/F1 by adk_eval_prf, and the first candidate whose F1
 * is strictly greater than the best so far (starting from epsilon = 0, F1 = 0, so an all-zero F1
 * curve gives epsilon = 0). Each rank sorts its values once (radix sort of order-preserving keys)
 * and counts by binary search; ONE allreduce of integer counts gives the global table, so the
 * result is the same bits for any rank count and any split of the rows.
 * @param v       this rank's nloc values (densities, or log densities with @p log)
 * @param labels  nloc labels, each 0 (normal) or 1 (anomaly)
 * @param row0    global row of v[0], and @p what names the data, for messages
 * @param ncand   number of candidates (ADK_GAUSS_NCAND for the reference), >= 1
 * @return ADK_OK; ADK_EDATA (a label not 0/1, a non-finite value, no rows at all, a value range
 *         too wide to space candidates over), ADK_ENOMEM, ADK_EMPI. Collective.
 */
int adk_gauss_select(adk_ctx_t *ctx, const double *v, const int64_t *labels, size_t nloc,
                     int64_t row0, const char *what, int log, size_t ncand,
                     adk_gauss_sweep_t **out);

void adk_gauss_sweep_free(adk_gauss_sweep_t *s);

/**
 * Add the sweep to a model being updated: /epsilon and /f1 (one value each; /epsilon carries
 * attributes log, f1, precision, recall, index, n, n_anomalies, command_line) and /curve
 * (ncand x 4: epsilon, precision, recall, F1). @p ctx gives the command line. Collective.
 */
int adk_gauss_sweep_save(adk_ctx_t *ctx, adk_out_t *o, const adk_gauss_sweep_t *s);

/** The curve as CSV text with a header line (malloc'd; NULL when out of memory). Local. */
char *adk_gauss_sweep_csv(const adk_gauss_sweep_t *s);

/* ------------------------------------------------------------------------------------------ */
/* The three commands of adkit-gauss, as library calls (the app only parses options).          */

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
} adk_gauss_cmd_t;

/**
 * fit: read c->input (ADK_ALIGN_REPRO), fit with c->fit, write c->model (refused when it exists
 * without ADK_OUT_FORCE). Collective; returns an agreed status.
 */
int adk_gauss_cmd_fit(adk_ctx_t *ctx, const adk_gauss_cmd_t *c);

/**
 * select: log densities of the labelled validation rows c->input under the model, the sweep over
 * p (or log p with c->log), result added to the model in place (temp copy + rename; an existing
 * /epsilon is replaced only with ADK_OUT_FORCE) and the curve written to c->curve. Prints the
 * result from rank 0. Collective.
 */
int adk_gauss_cmd_select(adk_ctx_t *ctx, const adk_gauss_cmd_t *c);

/**
 * score: /logp and /anomaly (uint8, p < epsilon; /p too with c->density) for the rows of
 * c->input into c->out in input row order; with labels, prints the confusion counts and P/R/F1
 * from rank 0 and writes them to c->json when given. Collective.
 */
int adk_gauss_cmd_score(adk_ctx_t *ctx, const adk_gauss_cmd_t *c);

#endif
