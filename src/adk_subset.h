/*
 * adk_subset: choose rows of a distributed matrix by label and by a seeded split, keeping their
 * order. A row's fate depends only on its global row number, its label and the rule, never on the
 * rank that holds it, so a subset is the same rows at any rank count.
 *
 * The split (--split): u is a uniform number in [0, 1) drawn for the global row from the seed
 * (adk_rng, purpose ADK_RNG_SPLIT). A row whose label is an anomaly label goes to validation when
 * u < 1/2 and to test otherwise, never to training; any other row goes to training when
 * u < f_train, to validation when u < f_train + f_val, and to test otherwise.
 */
#ifndef ADK_SUBSET_H
#define ADK_SUBSET_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_rows.h"

typedef enum { ADK_PART_ALL = 0, ADK_PART_TRAIN, ADK_PART_VAL, ADK_PART_TEST } adk_part_name_t;

/* Which rows to keep. Zero-initialised: every row. */
typedef struct {
    const int64_t *keep; /* labels to keep (applied first), or NULL for any label */
    size_t nkeep;
    adk_part_name_t part;   /* the part of the split to keep, or ADK_PART_ALL */
    uint64_t seed;          /* the split's seed */
    double f_train, f_val;  /* fractions of the non-anomalous rows for training and validation */
    const int64_t *anomaly; /* labels of anomalies (validation or test only), or NULL */
    size_t nanomaly;
} adk_subset_rule_t;

/** The part of the split global row @p row with @p label falls in. Local, pure. */
adk_part_name_t adk_subset_part(const adk_subset_rule_t *r, int64_t row, int64_t label);

/** Whether the rule keeps global row @p row with @p label. Local, pure. */
int adk_subset_keeps(const adk_subset_rule_t *r, int64_t row, int64_t label);

/**
 * The kept rows of @p x as a new row block (global numbering of the subset, order kept, labels
 * copied when @p x has them) and, in @p orig, their global row numbers in @p x.
 * @param x  rows; labels are needed when the rule names labels (x->labels may be NULL otherwise)
 * @return ADK_OK; ADK_EINVAL (the rule needs labels, fractions outside [0, 1] or summing above
 *         1); ADK_ENOMEM; ADK_EMPI; agreed. Collective (one exclusive scan, one allreduce).
 */
int adk_subset_rows(adk_ctx_t *ctx, const adk_subset_rule_t *r, const adk_rows_t *x,
                    adk_rows_t **out, int64_t **orig);

#endif
