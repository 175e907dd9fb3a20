/*
 * adk_sweep: choose the threshold epsilon of a per-row anomaly score that maximises F1 on
 * labelled rows, by the reference sweep of the Gaussian recipe:
 *
 *     best_epsilon = best_f1 = 0
 *     for epsilon in np.linspace(score.min(), score.max(), 1000):
 *         predictions = score < epsilon          # or score > epsilon (ADK_SWEEP_ABOVE)
 *         ... precision, recall, f1 (0 for an empty denominator)
 *         if f1 > best_f1: best_f1, best_epsilon = f1, epsilon
 *
 * (candidates in ascending order, the first strictly greater F1 wins, an F1 of 0 everywhere gives
 * epsilon = 0). The score can be anything per row: a density, where low means anomalous
 * (ADK_SWEEP_BELOW, adkit-gauss), or a distance, where high means anomalous (ADK_SWEEP_ABOVE).
 *
 * Method: each rank maps its scores to order-preserving keys (adk_key, -0.0 = +0.0), radix-sorts
 * the anomalies' and the normals' keys once, and counts the flagged rows of every candidate by
 * binary search; ONE allreduce of integer counts gives the global confusion table of every
 * candidate. Only integers and exact MIN/MAX are reduced, so the result is the same bits for any
 * rank count and any split of the rows. Work O(m log m) per rank for m rows (sorting is O(m)
 * per radix pass, the search O(ncand log m)); memory 16 bytes per local row.
 */
#ifndef ADK_SWEEP_H
#define ADK_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_out.h"
#include "adk_rows.h"
#include "adk_score.h"

/* Number of candidate thresholds of the reference sweep. */
#define ADK_SWEEP_NCAND 1000

/* Which side of epsilon is flagged as an anomaly. */
typedef enum {
    ADK_SWEEP_BELOW = 0, /* score < epsilon: densities (the Gaussian recipe) */
    ADK_SWEEP_ABOVE = 1  /* score > epsilon: distances, outlier scores */
} adk_sweep_dir_t;

/* How to sweep. Zero-initialise for the Gaussian case with the defaults. */
typedef struct {
    adk_sweep_dir_t dir;
    size_t ncand;           /* candidates, 0: ADK_SWEEP_NCAND */
    int log;                /* the scores are logarithms: recorded as the "log" attributes */
    const char *what;       /* names the labels or data in messages; NULL: "data" */
    const char *score_name; /* what one score is, in messages ("density"); NULL: "score" */
} adk_sweep_params_t;

/* The sweep over the candidates, identical on every rank. */
typedef struct {
    adk_sweep_dir_t dir;
    int log;         /* as in the parameters */
    int64_t n, npos; /* rows swept, rows labelled 1 */
    double vmin, vmax;
    size_t ncand;
    double *eps;           /* ncand candidates, ascending */
    adk_confusion_t *conf; /* ncand confusion tables of the flags at each candidate */
    adk_prf_t *prf;        /* ncand precision, recall, F1 (adk_score_prf) */
    int64_t best;          /* index of the chosen candidate, -1 when F1 is 0 everywhere */
    double epsilon, f1;    /* the reference's result: eps[best] and its F1, or 0 and 0 */
} adk_sweep_t;

/**
 * np.linspace(start, stop, num) bit for bit (numpy 1.24): step = (stop - start)/(num - 1) and
 * values start + i*step, or (i/(num - 1))*(stop - start) + start when the step is 0 (numpy's
 * subnormal rule), with the last value set to stop exactly. num = 1 gives start. Local, pure.
 */
void adk_sweep_linspace(double start, double stop, size_t num, double *out);

/**
 * The reference F1 sweep (file comment) over this rank's rows.
 * @param p       direction, candidates, names for messages (NULL: all defaults)
 * @param score   nloc finite scores
 * @param labels  nloc labels, each 0 (normal) or 1 (anomaly)
 * @param row0    global row of score[0], for messages
 * @param out     the sweep, identical on every rank (free with adk_sweep_free)
 * @return ADK_OK; ADK_EINVAL (ncand too large for the counts); ADK_EDATA (a label not 0/1, a
 *         non-finite score, no rows at all, a score range too wide to space candidates over; the
 *         message names the row), ADK_ENOMEM, ADK_EMPI. Collective; the status is agreed.
 */
int adk_sweep_run(adk_ctx_t *ctx, const adk_sweep_params_t *p, const double *score,
                  const int64_t *labels, size_t nloc, int64_t row0, adk_sweep_t **out);

/** Free a sweep (NULL: no-op). Local. */
void adk_sweep_free(adk_sweep_t *s);

/**
 * Add the sweep to an output being written: /epsilon and /f1 (one value each; /epsilon carries
 * attributes log, f1, precision, recall, index, n, n_anomalies, command_line) and /curve
 * (ncand x 4: epsilon, precision, recall, F1, attributes columns and log). @p ctx gives the
 * command line.
 * @return ADK_OK or the first failing status (ADK_ENOMEM, ADK_EHDF5, ...). Collective.
 */
int adk_sweep_save(adk_ctx_t *ctx, adk_out_t *o, const adk_sweep_t *s);

/**
 * The curve as CSV text: the header "epsilon,precision,recall,f1", then one line per candidate
 * with every value as %.17g (reads back as the same double). malloc'd; NULL when out of memory.
 * Local.
 */
char *adk_sweep_csv(const adk_sweep_t *s);

#endif
