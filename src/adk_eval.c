/*
 * adk_eval: precision, recall, F1 (see adk_eval.h for the evaluation order).
 */
#include "adk_eval.h"

adk_prf_t adk_eval_prf(const adk_confusion_t *c)
{
    adk_prf_t r = {0.0, 0.0, 0.0};
    if (c->tp + c->fp > 0) {
        r.precision = (double)c->tp / (double)(c->tp + c->fp);
    }
    if (c->tp + c->fn > 0) {
        r.recall = (double)c->tp / (double)(c->tp + c->fn);
    }
    if (r.precision + r.recall > 0.0) {
        r.f1 = 2.0 * r.precision * r.recall / (r.precision + r.recall);
    }
    return r;
}
