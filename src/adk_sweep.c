/*
 * adk_sweep: the reference F1 threshold sweep over any per-row score, as one allreduce of integer
 * confusion counts over sorted order-preserving keys (see adk_sweep.h).
 */
#include "adk_sweep.h"
#include "adk_mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "adk_key.h"
#include "adk_repro.h"

/* Most candidates: 2 ncand + 2 counters must fit the accumulator and the count of an MPI call. */
#define ADK_SWEEP_MAX_CAND ((size_t)1 << 26)

void adk_sweep_linspace(double start, double stop, size_t num, double *out)
{
    if (num == 0) {
        return;
    }
    if (num == 1) {
        out[0] = start;
        return;
    }
    double div = (double)(num - 1);
    double delta = stop - start;
    double step = delta / div;
    for (size_t i = 0; i < num; i++) {
        /* numpy: y = arange(num) * step, or (arange / div) * delta when step == 0, then + start */
        double y = step == 0.0 ? ((double)i / div) * delta : (double)i * step;
        out[i] = y + start;
    }
    out[num - 1] = stop;
}

void adk_sweep_free(adk_sweep_t *s)
{
    if (!s) {
        return;
    }
    free(s->eps);
    free(s->conf);
    free(s->prf);
    free(s);
}

int adk_sweep_run(adk_ctx_t *ctx, const adk_sweep_params_t *p, const double *score,
                  const int64_t *labels, size_t nloc, int64_t row0, adk_sweep_t **out)
{
    static const adk_sweep_params_t defaults = {ADK_SWEEP_BELOW, 0, 0, NULL, NULL};
    *out = NULL;
    if (!p) {
        p = &defaults;
    }
    const size_t ncand = p->ncand ? p->ncand : ADK_SWEEP_NCAND;
    const char *what = p->what ? p->what : "data";
    const char *name = p->score_name ? p->score_name : "score";
    int st = ADK_OK;
    adk_sweep_t *s = adk_calloc(1, sizeof(*s));
    /* keys: anomalies from the front, normals from the back; tmp: radix sort scratch */
    uint64_t *keys = adk_malloc((nloc ? 2 * nloc : 1) * sizeof(uint64_t));
    uint64_t *tmp = keys ? keys + nloc : NULL;
    adk_racc_t *a = NULL;
    if (ncand > ADK_SWEEP_MAX_CAND) {
        st = ADK_ERR(ctx, ADK_EINVAL, "the sweep takes at most %zu candidates, not %zu",
                     ADK_SWEEP_MAX_CAND, ncand);
    } else if (!s || !keys || adk_racc_alloc(0, 2 * ncand + 2, &a) != ADK_OK) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory for the sweep of %zu values", nloc);
    } else {
        s->eps = adk_malloc(ncand * sizeof(double));
        s->conf = adk_calloc(ncand, sizeof(adk_confusion_t));
        s->prf = adk_calloc(ncand, sizeof(adk_prf_t));
        if (!s->eps || !s->conf || !s->prf) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
    }
    /* Local: check, split the keys by label, min and max. */
    double lim[2] = {-INFINITY, -INFINITY}; /* -min, max: one MPI_MAX gives both */
    size_t np = 0, nn = 0;
    for (size_t i = 0; i < nloc && st == ADK_OK; i++) {
        if (labels[i] != 0 && labels[i] != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: label %lld is not 0 (normal) or 1 (anomaly)",
                         what, (long long)(row0 + (int64_t)i), (long long)labels[i]);
        } else if (!isfinite(score[i])) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: %s %s is not finite", what,
                         (long long)(row0 + (int64_t)i), name, isnan(score[i]) ? "NaN" : "Inf");
        } else {
            if (labels[i]) {
                keys[np++] = adk_key_from_value(score[i]);
            } else {
                keys[nloc - ++nn] = adk_key_from_value(score[i]);
            }
            double w = score[i] + 0.0; /* -0 as +0: MPI_MAX may return either zero */
            lim[0] = -w > lim[0] ? -w : lim[0];
            lim[1] = w > lim[1] ? w : lim[1];
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        /* MPI MIN/MAX are exact: the range is the same bits for any rank count */
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, lim, 2, MPI_DOUBLE, MPI_MAX);
    }
    if (st == ADK_OK) {
        s->dir = p->dir;
        s->log = p->log;
        s->ncand = ncand;
        s->vmin = -lim[0];
        s->vmax = lim[1];
        if (!(s->vmax >= s->vmin)) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: no rows to sweep", what);
        } else if (!isfinite(s->vmax - s->vmin)) {
            st = ADK_ERR(ctx, ADK_EDATA,
                         "%s: values span [%g, %g], too wide to space %zu candidates", what,
                         s->vmin, s->vmax, ncand);
        }
        /* global values on every rank: the verdict is common */
    }
    if (st == ADK_OK) {
        adk_sweep_linspace(s->vmin, s->vmax, ncand, s->eps);
        adk_key_sort(keys, tmp, np);
        adk_key_sort(keys + np, tmp, nn);
        /* Flagged rows of every candidate, anomalies then normals, in ONE allreduce. */
        for (size_t c = 0; c < ncand; c++) {
            uint64_t kc = adk_key_from_value(s->eps[c]);
            size_t tp, fp; /* anomalies flagged, normals flagged */
            if (p->dir == ADK_SWEEP_ABOVE) {
                tp = np - adk_key_count_at_most(keys, np, kc);
                fp = nn - adk_key_count_at_most(keys + np, nn, kc);
            } else {
                tp = adk_key_count_below(keys, np, kc);
                fp = adk_key_count_below(keys + np, nn, kc);
            }
            adk_racc_addi(a, c, (int64_t)tp);
            adk_racc_addi(a, ncand + c, (int64_t)fp);
        }
        adk_racc_addi(a, 2 * ncand, (int64_t)np);
        adk_racc_addi(a, 2 * ncand + 1, (int64_t)nn);
        st = adk_racc_allreduce(ctx, a);
    }
    if (st == ADK_OK) {
        int64_t npos = adk_racc_geti(a, 2 * ncand), nneg = adk_racc_geti(a, 2 * ncand + 1);
        s->npos = npos;
        s->n = npos + nneg;
        /* The reference loop: keep the first candidate whose F1 beats the best so far. */
        double best_f1 = 0.0, best_eps = 0.0;
        s->best = -1;
        for (size_t c = 0; c < ncand; c++) {
            adk_confusion_t *cf = &s->conf[c];
            cf->tp = adk_racc_geti(a, c);
            cf->fp = adk_racc_geti(a, ncand + c);
            cf->fn = npos - cf->tp;
            cf->tn = nneg - cf->fp;
            s->prf[c] = adk_score_prf(cf);
            if (s->prf[c].f1 > best_f1) {
                best_f1 = s->prf[c].f1;
                best_eps = s->eps[c];
                s->best = (int64_t)c;
            }
        }
        s->epsilon = best_eps;
        s->f1 = best_f1;
    }
    adk_racc_free(a);
    free(keys);
    if (st != ADK_OK) {
        adk_sweep_free(s);
        return st;
    }
    *out = s;
    return ADK_OK;
}

int adk_sweep_save(adk_ctx_t *ctx, adk_out_t *o, const adk_sweep_t *s)
{
    adk_prf_t best = {0.0, 0.0, 0.0};
    if (s->best >= 0) {
        best = s->prf[s->best];
    }
    int st = adk_out_small(o, "/epsilon", ADK_F64, &s->epsilon, 1, 0);
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/epsilon", "log", s->log);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/epsilon", "f1", s->f1);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/epsilon", "precision", best.precision);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/epsilon", "recall", best.recall);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/epsilon", "index", s->best);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/epsilon", "n", s->n);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/epsilon", "n_anomalies", s->npos);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/epsilon", "command_line", adk_ctx_cmdline(ctx));
    }
    if (st == ADK_OK) {
        st = adk_out_small(o, "/f1", ADK_F64, &s->f1, 1, 0);
    }
    double *curve = adk_malloc(s->ncand * 4 * sizeof(double));
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, curve ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        for (size_t c = 0; c < s->ncand; c++) {
            curve[4 * c] = s->eps[c];
            curve[4 * c + 1] = s->prf[c].precision;
            curve[4 * c + 2] = s->prf[c].recall;
            curve[4 * c + 3] = s->prf[c].f1;
        }
        st = adk_out_small(o, "/curve", ADK_F64, curve, s->ncand, 4);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/curve", "columns", "epsilon,precision,recall,f1");
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/curve", "log", s->log);
    }
    free(curve);
    return st;
}

char *adk_sweep_csv(const adk_sweep_t *s)
{
    /* a %.17g value takes at most 24 characters; 26 leaves room for the separator */
    size_t cap = 64 + s->ncand * 4 * 26;
    char *t = adk_malloc(cap);
    if (!t) {
        return NULL;
    }
    size_t off = (size_t)snprintf(t, cap, "epsilon,precision,recall,f1\n");
    for (size_t c = 0; c < s->ncand && off < cap; c++) {
        off += (size_t)snprintf(t + off, cap - off, "%.17g,%.17g,%.17g,%.17g\n", s->eps[c],
                                s->prf[c].precision, s->prf[c].recall, s->prf[c].f1);
    }
    return t;
}
