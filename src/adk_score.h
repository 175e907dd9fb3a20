/*
 * adk_score: judging anomaly flags and scores against known labels, for every program that does
 * (adkit-score, adkit-gauss, the threshold sweep of adk_sweep). Flags of a clustering model
 * (distance strictly above the cluster's threshold), exact confusion counts, the one definition
 * of precision, recall and F1 (adk_score_prf), the threshold-free ROC AUC and average precision
 * of a score computed exactly as scikit-learn defines them, and the printed table and JSON
 * summary of the results. Results are bitwise identical at any rank count and for any
 * distribution of the rows over the ranks.
 *
 * Precision, recall and F1 are 0 wherever their denominator is 0 and are evaluated in the
 * reference order prec = tp/(tp+fp), rec = tp/(tp+fn), f1 = 2 prec rec / (prec + rec), so ties
 * between thresholds break exactly as in the reference Python.
 *
 * Ranking metrics (adk_score_rank). Both metrics depend only on, for every distinct score value s
 * (descending), the numbers pos(s), neg(s) of positive and negative rows scoring exactly s, and
 * T(s), F(s), the positives and negatives scoring >= s. With P positives and N negatives:
 *
 *   ROC AUC = sum_s neg(s) (2 T>(s) + pos(s)) / (2 P N),  T>(s) = T(s) - pos(s)
 *     the trapezoid rule over sklearn's ROC points (one point per distinct score, ties grouped)
 *     is exactly the Mann-Whitney count with ties as halves; the numerator is an exact integer.
 *   AP = (1/P) sum_s pos(s) T(s) / (T(s) + F(s))
 *     sklearn's step sum over distinct thresholds of (R_k - R_{k-1}) P_k, since the recall grows
 *     by pos(s)/P at the threshold s and the precision there is T(s)/(T(s)+F(s)).
 *
 * Method (exact, O(rows per rank) memory, no rank ever holds all scores):
 *   1. each rank maps its scores to order-preserving 64-bit keys (-0.0 = +0.0), sorts them and
 *      collapses equal keys into records (key, pos, neg);
 *   2. R-1 splitter keys (R ranks) are found by exact distributed selection: for every target
 *      rank r, the smallest key v_r with #records{key <= v_r} >= ceil((r+1) M / R) (M = records
 *      over all ranks), by bisection over the 64-bit key space, all targets at once: at most 64
 *      rounds of local binary searches and one MPI_Allreduce of R-1 int64 counts;
 *   3. records with key in (v_{r-1}, v_r] go to rank r (MPI_Alltoall of counts, one
 *      MPI_Alltoallv), so every distinct score lands on exactly one rank, which merges it into
 *      its global (pos, neg); a rank receives at most ceil(M/R) + R - 1 records;
 *   4. an MPI_Scan of (pos, neg) totals gives each rank the counts above its key range, so it
 *      knows T(s) and F(s) exactly for its scores;
 *   5. the integer AUC numerator (128-bit, split into two int64 counters) and the AP terms
 *      pos(s) T(s) / (T(s) + F(s)) (each a double computed from exact integers, so the same
 *      double whatever the rank count) are summed in one adk_repro allreduce (exact fixed-point
 *      sum, rounded once). AUC = numerator / (2 P N) (one rounding below 2^53), AP = sum / P.
 * Communication: at most 64 allreduces of 8 bytes (splitters), about 8 collectives of a few
 * words (totals, status agreement, the scan, the final sums), one all-to-all of counts and one
 * all-to-all moving at most 24 (ceil(M/R) + R) bytes into each rank. One rank: no exchange.
 * Work: O(m log m) per rank for m local rows. The metrics agree with sklearn 1.2.1 to about
 * 1e-15 relative (sklearn rounds its cumulative rates and sums them in floating point; this
 * module rounds about twice); the tests require 1e-12. Limits: fewer than 2^30 positive rows and
 * 2^40 rows in all.
 *
 * Undefined cases, decided here (sklearn raises or warns): ROC AUC needs both classes; AP needs
 * at least one positive (sklearn 1.2 returns 0 with a warning; this module calls it undefined).
 * With no negatives AP is 1, as in sklearn.
 */
#ifndef ADK_SCORE_H
#define ADK_SCORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "adk_ctx.h"
#include "adk_out.h"
#include "adk_rows.h"

/* Confusion counts of flags against binary truth. */
typedef struct {
    int64_t tp, fp, tn, fn;
} adk_confusion_t;

typedef struct {
    double precision, recall, f1;
} adk_prf_t;

/* Threshold-free ranking quality of a score against binary truth (higher score = positive). */
typedef struct {
    int64_t n;          /* rows over all ranks */
    int64_t n_positive; /* rows with truth 1 */
    int64_t n_distinct; /* distinct score values */
    int64_t max_held;   /* most score records one rank held after the exchange (memory check) */
    int auc_defined;    /* 0 when only one class is present */
    int ap_defined;     /* 0 when there is no positive row */
    double roc_auc;     /* sklearn roc_auc_score (0 when undefined) */
    double average_precision; /* sklearn average_precision_score (0 when undefined) */
} adk_score_rank_t;

/* Everything adkit-score reports. */
typedef struct {
    int64_t n;          /* rows scored */
    int64_t n_flagged;  /* rows flagged as anomalies */
    int has_truth;      /* labels were given: the fields below are set */
    int64_t n_positive; /* rows labelled anomalous */
    adk_confusion_t cm; /* tp: anomalous and flagged, fp: normal but flagged, tn, fn */
    adk_prf_t prf;      /* precision, recall, F1 of the flags (adk_score_prf) */
    int ranked;         /* the ranking metrics of a score belong to the summary (set by
                           adk_score_evaluate, not by adk_score_count): JSON and table show them */
    adk_score_rank_t rank;
} adk_score_summary_t;

/* Context for the JSON summary (all optional). */
typedef struct {
    const char *model;            /* model file */
    const char *data;             /* data spec */
    const char *threshold_method; /* attribute "method" of /thresholds */
    const int64_t *positive;      /* label values counted as anomalies */
    size_t npositive;
} adk_score_meta_t;

/** Precision, recall and F1 of the counts, in the reference order (0 for an empty denominator).
 * Local, pure. */
adk_prf_t adk_score_prf(const adk_confusion_t *c);

/**
 * Anomaly flags: flag[i] = dist[i] > thr[cluster[i]] (strict, as in the reference study: a row
 * exactly on the boundary is normal).
 * @param cluster,dist  nloc nearest-centroid indices and Euclidean distances
 * @param row0          global number of the first row (for messages)
 * @param thr           k thresholds, finite
 * @param flag          out: nloc values 0/1
 * @return ADK_OK, ADK_EDATA (a threshold not finite, cluster index outside [0, k), NaN distance;
 *         the message names the row).
 * Local: callers agree on the status before the next collective.
 */
int adk_score_flags(adk_ctx_t *ctx, const int32_t *cluster, const double *dist, size_t nloc,
                    int64_t row0, const double *thr, size_t k, uint8_t *flag);

/**
 * Binary truth from labels: truth[i] = 1 when labels[i] is one of the @p npos values @p pos.
 * Local.
 */
void adk_score_truth(const int64_t *labels, size_t nloc, const int64_t *pos, size_t npos,
                     uint8_t *truth);

/**
 * Confusion counts of flags against truth over all ranks (exact int64 sums).
 * @param truth  nloc values 0/1 (any non-zero counts as 1)
 * @return ADK_OK, ADK_EMPI. Collective.
 */
int adk_score_confusion(adk_ctx_t *ctx, const uint8_t *flag, const uint8_t *truth, size_t nloc,
                        adk_confusion_t *cm);

/**
 * ROC AUC and average precision of @p score against @p truth, exactly as sklearn's
 * roc_auc_score and average_precision_score (method in the file comment). The rows may be
 * distributed over the ranks in any way, in any order: the result depends only on the multiset
 * of (score, truth) pairs and is bitwise the same for every rank count.
 * @param score  nloc finite values
 * @param truth  nloc values 0/1 (any non-zero counts as 1)
 * @param row0   global number of this rank's first row (for messages)
 * @param out    identical on every rank
 * @return ADK_OK, ADK_EDATA (NaN or infinite score; message names the row), ADK_EINVAL (beyond
 *         the limits above), ADK_ENOMEM, ADK_EMPI. Collective.
 */
int adk_score_rank(adk_ctx_t *ctx, const double *score, const uint8_t *truth, size_t nloc,
                   int64_t row0, adk_score_rank_t *out);

/**
 * Counts of flags over all ranks: rows and rows flagged, and with @p truth (may be NULL) the
 * confusion counts and precision/recall/F1 of the flags (no ranking metrics: out->ranked = 0).
 * @param truth  nloc values 0/1 (any non-zero counts as 1), or NULL
 * @return ADK_OK, ADK_EMPI. Collective (one allreduce of six integers).
 */
int adk_score_count(adk_ctx_t *ctx, const uint8_t *flag, const uint8_t *truth, size_t nloc,
                    adk_score_summary_t *out);

/**
 * All counts and metrics of adkit-score: rows and rows flagged, and with @p truth (may be NULL)
 * the confusion counts, precision/recall/F1 of the flags and the ranking metrics of @p score.
 * @return as adk_score_rank. Collective.
 */
int adk_score_evaluate(adk_ctx_t *ctx, const uint8_t *flag, const double *score,
                       const uint8_t *truth, size_t nloc, int64_t row0, adk_score_summary_t *out);

/**
 * Parse a comma-separated list of integer label values ("1" or "0,1,7") strictly.
 * @param opt  option name for messages
 * @param out  malloc'd values (caller frees)
 * @return ADK_OK, ADK_EINVAL (message names the option), ADK_ENOMEM. Local.
 */
int adk_score_parse_labels(adk_ctx_t *ctx, const char *opt, const char *s, int64_t **out,
                           size_t *n);

/**
 * Add the counts and metrics of @p s to the JSON object @p o, in this order: n, n_flagged,
 * labelled, n_positive, n_negative, tp, fp, tn, fn, precision, recall, f1, and when s->ranked
 * roc_auc, average_precision. Metrics that are undefined (or not available without labels) are
 * null. For programs that follow them with keys of their own (adkit-gauss: epsilon, log).
 * Local.
 */
void adk_score_json_add(cJSON *o, const adk_score_summary_t *s);

/**
 * JSON summary: the keys of adk_score_json_add, then threshold_method, model, data,
 * positive_labels (null when not given or without labels).
 * @param text  malloc'd, NUL-terminated (caller frees)
 * @return ADK_OK, ADK_ENOMEM. Local.
 */
int adk_score_json(const adk_score_summary_t *s, const adk_score_meta_t *meta, char **text);

/**
 * Print the summary as one compact table to @p f (the caller decides which rank and prints its
 * own title line): rows, anomalies flagged; with labels the confusion counts, precision, recall,
 * F1, and when s->ranked the ROC AUC and average precision of the distance. Local.
 */
void adk_score_print(FILE *f, const adk_score_summary_t *s);

/**
 * Write the counts and metrics as attributes of "/" (n, n_flagged; with labels also n_positive,
 * tp, fp, tn, fn, precision, recall, f1, and roc_auc / average_precision where defined).
 * @return ADK_OK or the first failing status. Collective.
 */
int adk_score_write_attrs(adk_out_t *o, const adk_score_summary_t *s);

#endif
