/*
 * adk_eval: detection quality from confusion counts. One definition of precision, recall and F1
 * for every program (score, gauss select/score), with 0 wherever a denominator is 0, evaluated in
 * the reference order prec = tp/(tp+fp), rec = tp/(tp+fn), f1 = 2 prec rec / (prec + rec), so
 * ties between thresholds break exactly as in the reference Python.
 */
#ifndef ADK_EVAL_H
#define ADK_EVAL_H

#include <stdint.h>

typedef struct {
    int64_t tp, fp, tn, fn;
} adk_confusion_t;

typedef struct {
    double precision, recall, f1;
} adk_prf_t;

/** Precision, recall and F1 of the counts (0 for an empty denominator). */
adk_prf_t adk_eval_prf(const adk_confusion_t *c);

#endif
