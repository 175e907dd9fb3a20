/*
 * adk_subset: rows chosen by label and seeded split (see adk_subset.h).
 */
#include "adk_subset.h"
#include "adk_mem.h"
#include "adk_rng.h"

#include <stdlib.h>
#include <string.h>

static int in_list(const int64_t *v, size_t n, int64_t x)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i] == x) {
            return 1;
        }
    }
    return 0;
}

adk_part_name_t adk_subset_part(const adk_subset_rule_t *r, int64_t row, int64_t label)
{
    adk_rng_t g;
    adk_rng_init(&g, r->seed, ADK_RNG_SPLIT, (uint64_t)row, 0);
    double u = adk_rng_uniform(&g);
    if (in_list(r->anomaly, r->nanomaly, label)) {
        return u < 0.5 ? ADK_PART_VAL : ADK_PART_TEST;
    }
    return u < r->f_train              ? ADK_PART_TRAIN
           : u < r->f_train + r->f_val ? ADK_PART_VAL
                                       : ADK_PART_TEST;
}

int adk_subset_keeps(const adk_subset_rule_t *r, int64_t row, int64_t label)
{
    if (r->keep && !in_list(r->keep, r->nkeep, label)) {
        return 0;
    }
    return r->part == ADK_PART_ALL || adk_subset_part(r, row, label) == r->part;
}

static int check_rule(adk_ctx_t *ctx, const adk_subset_rule_t *r, const adk_rows_t *x)
{
    if ((r->keep || r->anomaly) && !x->labels) {
        return ADK_ERR(ctx, ADK_EINVAL, "choosing rows by label needs labels (--labels)");
    }
    if (!(r->f_train >= 0.0 && r->f_val >= 0.0 && r->f_train + r->f_val <= 1.0)) {
        return ADK_ERR(ctx, ADK_EINVAL,
                       "--split-fractions: %g and %g must be at least 0 and sum to at most 1",
                       r->f_train, r->f_val);
    }
    return ADK_OK;
}

int adk_subset_rows(adk_ctx_t *ctx, const adk_subset_rule_t *r, const adk_rows_t *x,
                    adk_rows_t **out, int64_t **orig)
{
    *out = NULL;
    *orig = NULL;
    ADK_CHECK(check_rule(ctx, r, x)); /* the same verdict everywhere */
    size_t m = 0, d = x->d;
    for (size_t i = 0; i < x->nloc; i++) {
        m += adk_subset_keeps(r, x->row0 + (int64_t)i, x->labels ? x->labels[i] : 0);
    }
    int64_t mine = (int64_t)m, before = 0, total = 0;
    if (ADK_MPI_CALL(ctx, 1, MPI_INT64_T,
                     MPI_Exscan(&mine, &before, 1, MPI_INT64_T, MPI_SUM, adk_ctx_comm(ctx))) !=
        MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Exscan of row counts failed"));
    }
    before = adk_ctx_rank(ctx) == 0 ? 0 : before; /* undefined on rank 0 */
    ADK_CHECK(adk_ctx_allreduce(ctx, &mine, &total, 1, MPI_INT64_T, MPI_SUM));
    adk_rows_t *y = adk_calloc(1, sizeof(*y));
    int64_t *o = adk_malloc((m ? m : 1) * sizeof(int64_t));
    int st = y && o ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    if (st == ADK_OK) {
        *y = (adk_rows_t){total, before, m, d, 1, NULL, NULL, NULL};
        y->x = adk_malloc((m ? m : 1) * (d ? d : 1) * sizeof(double));
        y->labels = x->labels ? adk_malloc((m ? m : 1) * sizeof(int64_t)) : NULL;
        y->spec = x->spec ? adk_strdup(x->spec) : NULL;
        if (!y->x || (x->labels && !y->labels) || (x->spec && !y->spec)) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for %zu rows", m);
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK) {
        adk_rows_free(y);
        free(o);
        return st;
    }
    size_t q = 0;
    for (size_t i = 0; i < x->nloc; i++) {
        int64_t g = x->row0 + (int64_t)i, lab = x->labels ? x->labels[i] : 0;
        if (adk_subset_keeps(r, g, lab)) {
            memcpy(y->x + q * d, x->x + i * d, d * sizeof(double));
            if (y->labels) {
                y->labels[q] = lab;
            }
            o[q++] = g;
        }
    }
    *out = y;
    *orig = o;
    return ADK_OK;
}
