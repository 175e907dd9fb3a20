/*
 * adk_threshold: anomaly boundaries from training distances (rules and numerics in
 * adk_threshold.h), and the reader of assignment files.
 */
#include "adk_threshold.h"
#include "adk_mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_h5.h"
#include "adk_part.h"
#include "adk_repro.h"

const char *adk_threshold_method_name(adk_thr_method_t m)
{
    switch (m) {
    case ADK_THR_PERCENTILE:
        return "per-cluster-percentile";
    case ADK_THR_GLOBAL_PERCENTILE:
        return "global-percentile";
    case ADK_THR_SIGMA:
        return "sigma";
    case ADK_THR_GLOBAL_SIGMA:
        return "global-sigma";
    default:
        return "unknown";
    }
}

int adk_threshold_read_assign(adk_ctx_t *ctx, const char *file, adk_rows_t **out)
{
    *out = NULL;
    adk_h5_t *f = NULL;
    int st = adk_h5_open(ctx, file, &f);
    int ex[2] = {0, 0}, nd[2] = {0, 0}, num[2] = {0, 0};
    int64_t dims[2][2] = {{0, 0}, {0, 0}};
    static const char *const names[2] = {"/cluster", "/distance"};
    for (int i = 0; i < 2 && st == ADK_OK; i++) {
        st = adk_h5_shape(f, names[i], &ex[i], &nd[i], dims[i], &num[i]);
        /* same metadata on every rank: the verdicts below are common */
        if (st == ADK_OK && !ex[i]) {
            st = ADK_ERR(ctx, ADK_EDATA,
                         "%s: no dataset '%s' (expected an assignment file from adkit-kmeans "
                         "--assign)",
                         file, names[i]);
        } else if (st == ADK_OK && nd[i] != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s:%s is %d-D, expected one value per row", file,
                         names[i], nd[i]);
        } else if (st == ADK_OK && !num[i]) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s:%s is not numeric", file, names[i]);
        }
    }
    if (st == ADK_OK && dims[0][0] != dims[1][0]) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: /cluster has %lld rows but /distance has %lld", file,
                     (long long)dims[0][0], (long long)dims[1][0]);
    } else if (st == ADK_OK && dims[0][0] == 0) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: no rows", file);
    }
    adk_rows_t *a = NULL;
    if (st == ADK_OK) {
        /* distances as a one-column row block, clusters as its labels; NaN and Inf are judged
         * against the model later (check_rows), with the cluster range */
        st = adk_h5_read_rows(f, "/distance", file, ADK_ALIGN_REPRO, 1, 0, &a);
    }
    if (st == ADK_OK) {
        /* range checks against K come later; here only "is it an int32 at all" */
        st = adk_h5_read_labels(f, "/cluster", "cluster", 2147483647.0, a);
    }
    adk_h5_close(f);
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_ctx_add_input(ctx, file));
    }
    if (st != ADK_OK) {
        adk_rows_free(a);
        return st;
    }
    *out = a;
    return ADK_OK;
}

void adk_threshold_free(adk_thr_t *t)
{
    if (!t) {
        return;
    }
    free(t->value);
    free(t->n);
    free(t);
}

/* First bad row of this rank's block (cluster outside [0, k), distance not finite or < 0). */
static int check_rows(adk_ctx_t *ctx, const adk_rows_t *a, size_t k)
{
    const char *src = a->spec ? a->spec : "assignment";
    for (size_t i = 0; i < a->nloc; i++) {
        long long row = (long long)(a->row0 + (int64_t)i);
        int64_t c = a->labels[i];
        double d = a->x[i];
        if (c < 0 || (uint64_t)c >= k) {
            return ADK_ERR(ctx, ADK_EDATA,
                           "%s row %lld: cluster %d is not in [0, %zu) (the model "
                           "has %zu centroids)",
                           src, row, (int)c, k, k);
        }
        if (isnan(d)) {
            return ADK_ERR(ctx, ADK_EDATA, "%s row %lld: distance is NaN", src, row);
        }
        if (!(d >= 0.0) || isinf(d)) {
            return ADK_ERR(ctx, ADK_EDATA, "%s row %lld: distance %g is not a finite value >= 0",
                           src, row, d);
        }
    }
    return ADK_OK;
}

/* Global rows per cluster (one integer allreduce). */
static int cluster_counts(adk_ctx_t *ctx, const adk_rows_t *a, size_t k, int64_t *n)
{
    memset(n, 0, k * sizeof(int64_t));
    for (size_t i = 0; i < a->nloc; i++) {
        n[a->labels[i]]++;
    }
    if (ADK_MPI_CALL(ctx, (int64_t)k, MPI_INT64_T,
                     MPI_Allreduce(MPI_IN_PLACE, n, (int)k, MPI_INT64_T, MPI_SUM,
                                   adk_ctx_comm(ctx))) != MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of counts failed"));
    }
    return ADK_OK;
}

/*
 * Exact per-group sums of f(d) over the fixed blocks of a->align rows: a block's partial sums are
 * formed in row order, then added exactly (adk_repro), so the result is the same for any rank
 * count. f(d) = d when mean is NULL, else (d - mean[g])^2. g = cluster, or 0 when !per_cluster.
 */
static int block_sums(adk_ctx_t *ctx, const adk_rows_t *a, size_t ngr, int per_cluster,
                      const double *bound, const double *mean, double *sum)
{
    adk_racc_t *acc = NULL;
    double *part = adk_calloc(ngr, sizeof(double));
    size_t *touched = adk_malloc(ngr * sizeof(size_t));
    char *seen = adk_calloc(ngr, 1);
    int st = part && touched && seen ? adk_racc_alloc(ngr, 0, &acc) : ADK_ENOMEM;
    st = adk_ctx_agree(ctx, st == ADK_OK ? ADK_OK : ADK_ERR(ctx, st, "out of memory"));
    if (st == ADK_OK) {
        for (size_t g = 0; g < ngr; g++) {
            /* a block partial is below align * bound; the extra bit absorbs its rounding */
            adk_racc_set_scale(acc, g, adk_repro_exponent(bound[g] * (double)a->align) + 1);
        }
        size_t r = 0;
        while (r < a->nloc) {
            size_t end = adk_part_block_end(a->row0, r, a->nloc, a->align);
            size_t nt = 0;
            for (; r < end; r++) {
                size_t g = per_cluster ? (size_t)a->labels[r] : 0;
                double v = a->x[r];
                if (mean) {
                    v = (v - mean[g]) * (v - mean[g]);
                }
                if (!seen[g]) {
                    seen[g] = 1;
                    touched[nt++] = g;
                }
                part[g] += v;
            }
            for (size_t j = 0; j < nt; j++) {
                size_t g = touched[j];
                adk_racc_add(acc, g, part[g]);
                part[g] = 0.0;
                seen[g] = 0;
            }
        }
        st = adk_racc_allreduce(ctx, acc);
    }
    for (size_t g = 0; st == ADK_OK && g < ngr; g++) {
        sum[g] = adk_racc_get(acc, g);
    }
    adk_racc_free(acc);
    free(part);
    free(touched);
    free(seen);
    return st;
}

/* mean + N sd (population) per cluster, or of all distances. */
static int sigma_rule(adk_ctx_t *ctx, const adk_rows_t *a, int per_cluster, double nsd,
                      adk_thr_t *t)
{
    size_t k = t->k, ngr = per_cluster ? k : 1;
    double *mx = adk_calloc(ngr * 3, sizeof(double));
    int st = adk_ctx_agree(ctx, mx ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        return st;
    }
    double *mean = mx + ngr, *s2 = mx + 2 * ngr;
    for (size_t i = 0; i < a->nloc; i++) {
        size_t g = per_cluster ? (size_t)a->labels[i] : 0;
        mx[g] = a->x[i] > mx[g] ? a->x[i] : mx[g];
    }
    /* a maximum is exact and order-free, so MPI_MAX is reproducible */
    t->rounds++;
    if (ADK_MPI_CALL(ctx, (int64_t)ngr, MPI_DOUBLE,
                     MPI_Allreduce(MPI_IN_PLACE, mx, (int)ngr, MPI_DOUBLE, MPI_MAX,
                                   adk_ctx_comm(ctx))) != MPI_SUCCESS) {
        st = adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of bounds failed"));
    }
    for (size_t g = 0; st == ADK_OK && g < ngr; g++) {
        if (!isfinite(mx[g] * mx[g] * (double)a->align)) { /* same on every rank */
            st = ADK_ERR(ctx, ADK_EDATA, "distances up to %g are too large for the sigma rule",
                         mx[g]);
        }
    }
    if (st == ADK_OK) {
        t->rounds++;
        st = block_sums(ctx, a, ngr, per_cluster, mx, NULL, mean);
    }
    for (size_t g = 0; st == ADK_OK && g < ngr; g++) {
        int64_t n = per_cluster ? t->n[g] : t->n_total;
        mean[g] = n > 0 ? mean[g] / (double)n : 0.0;
        mx[g] = mx[g] * mx[g]; /* (d - mean)^2 <= max^2, as 0 <= d, mean <= max */
    }
    if (st == ADK_OK) {
        t->rounds++;
        st = block_sums(ctx, a, ngr, per_cluster, mx, mean, s2);
    }
    for (size_t c = 0; st == ADK_OK && c < k; c++) {
        size_t g = per_cluster ? c : 0;
        int64_t n = per_cluster ? t->n[c] : t->n_total;
        if (n == 0) {
            t->value[c] = INFINITY;
        } else {
            double sd = sqrt(s2[g] / (double)n);
            t->value[c] = mean[g] + nsd * sd;
            if (isinf(t->value[c]) && st == ADK_OK) { /* the same values on every rank */
                st = ADK_ERR(ctx, ADK_EINVAL,
                             "--%s %g: mean %g + N x sd %g overflows for cluster %zu",
                             per_cluster ? "sigma" : "global-sigma", nsd, mean[g], sd, c);
            }
        }
    }
    free(mx);
    return st;
}

int adk_threshold_check(adk_ctx_t *ctx, const adk_thr_params_t *p)
{
    int pct = p->method == ADK_THR_PERCENTILE || p->method == ADK_THR_GLOBAL_PERCENTILE;
    if (p->method < ADK_THR_PERCENTILE || p->method > ADK_THR_GLOBAL_SIGMA) {
        return ADK_ERR(ctx, ADK_EINVAL, "unknown threshold method %d", (int)p->method);
    }
    if (pct && !(p->q >= 0.0 && p->q <= 100.0)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--%s: Q = %g is outside [0, 100]",
                       adk_threshold_method_name(p->method), p->q);
    }
    if (!pct && !(p->q >= 0.0 && isfinite(p->q))) {
        return ADK_ERR(ctx, ADK_EINVAL, "--%s: N = %g must be a finite number >= 0",
                       adk_threshold_method_name(p->method), p->q);
    }
    if (p->bits != 0 && (p->bits < 1 || p->bits > 16)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--radix-bits: %d is not in [1, 16]", p->bits);
    }
    return ADK_OK;
}

int adk_threshold_compute(adk_ctx_t *ctx, const adk_thr_params_t *p, size_t k, const adk_rows_t *a,
                          adk_thr_t **out)
{
    *out = NULL;
    double t0 = adk_now();
    int st = adk_threshold_check(ctx, p);
    if (st == ADK_OK && (k < 1 || k > (size_t)INT32_MAX)) {
        st = ADK_ERR(ctx, ADK_EINVAL, "%zu clusters", k);
    }
    adk_thr_t *t = NULL;
    if (st == ADK_OK) {
        t = adk_calloc(1, sizeof(*t));
        if (t) {
            t->k = k;
            t->method = p->method;
            t->q = p->q;
            t->value = adk_malloc(k * sizeof(double));
            t->n = adk_calloc(k, sizeof(int64_t));
        }
        if (!t || !t->value || !t->n) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
    }
    if (st == ADK_OK && (a->d != 1 || !a->labels)) {
        st = ADK_ERR(ctx, ADK_EINTERNAL, "an assignment is one distance and a cluster per row");
    }
    if (st == ADK_OK) {
        st = check_rows(ctx, a, k);
    }
    /* the selection groups rows by int32 cluster (checked to be in [0, k) above) */
    int32_t *group = NULL;
    if (st == ADK_OK && p->method == ADK_THR_PERCENTILE) {
        group = adk_malloc((a->nloc ? a->nloc : 1) * sizeof(int32_t));
        st = group ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        for (size_t i = 0; group && i < a->nloc; i++) {
            group[i] = (int32_t)a->labels[i];
        }
    }
    st = adk_ctx_agree(ctx, st);
    adk_select_opts_t so = {p->bits};
    if (st == ADK_OK && p->method == ADK_THR_PERCENTILE) {
        st = adk_select_percentile(ctx, a->x, group, a->nloc, k, 1, &p->q, &so, INFINITY, t->value,
                                   t->n, &t->stats);
        t->rounds = t->stats.rounds;
    } else if (st == ADK_OK) {
        st = cluster_counts(ctx, a, k, t->n);
        t->rounds = 1;
    }
    for (size_t c = 0; st == ADK_OK && c < k; c++) {
        t->n_total += t->n[c];
        t->n_empty += t->n[c] == 0;
        t->n_single += t->n[c] == 1;
    }
    if (st == ADK_OK && p->method == ADK_THR_GLOBAL_PERCENTILE) {
        double v = 0.0;
        st = adk_select_percentile(ctx, a->x, NULL, a->nloc, 1, 1, &p->q, &so, INFINITY, &v, NULL,
                                   &t->stats);
        t->rounds += t->stats.rounds;
        for (size_t c = 0; c < k; c++) {
            t->value[c] = v;
        }
    } else if (st == ADK_OK && (p->method == ADK_THR_SIGMA || p->method == ADK_THR_GLOBAL_SIGMA)) {
        st = sigma_rule(ctx, a, p->method == ADK_THR_SIGMA, p->q, t);
    }
    int per_cluster = p->method == ADK_THR_PERCENTILE || p->method == ADK_THR_SIGMA;
    for (size_t c = 0; st == ADK_OK && c < k; c++) {
        /* never a NaN threshold, and +inf only where there was no row to learn from */
        int64_t rows = per_cluster ? t->n[c] : t->n_total;
        if (isnan(t->value[c]) || (isinf(t->value[c]) && rows > 0)) {
            st = ADK_ERR(ctx, ADK_EINTERNAL, "threshold of cluster %zu is %g", c, t->value[c]);
        }
    }
    if (st == ADK_OK) {
        double dt = adk_now() - t0;
        if (ADK_MPI_CALL(ctx, 1, MPI_DOUBLE,
                         MPI_Allreduce(&dt, &t->seconds, 1, MPI_DOUBLE, MPI_MAX,
                                       adk_ctx_comm(ctx))) != MPI_SUCCESS) {
            st = adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of timings failed"));
        }
    }
    free(group);
    if (st != ADK_OK) {
        adk_threshold_free(t);
        return st;
    }
    *out = t;
    return ADK_OK;
}

int adk_threshold_write(adk_ctx_t *ctx, adk_out_t *o, const adk_thr_t *t)
{
    int st = adk_out_small(o, "/thresholds", ADK_F64, t->value, t->k, 0);
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/thresholds", "method", adk_threshold_method_name(t->method));
    }
    if (st == ADK_OK) {
        st = adk_out_attr_f64(o, "/thresholds", "q", t->q);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64v(o, "/thresholds", "n", t->n, t->k);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_i64(o, "/thresholds", "n_total", t->n_total);
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/thresholds", "command_line", adk_ctx_cmdline(ctx));
    }
    if (st == ADK_OK) {
        st = adk_out_attr_str(o, "/thresholds", "adkit_version", adk_version());
    }
    return st;
}

void adk_threshold_warn_small(adk_ctx_t *ctx, const adk_thr_t *t)
{
    int per_cluster = t->method == ADK_THR_PERCENTILE || t->method == ADK_THR_SIGMA;
    if (!per_cluster || (t->n_empty == 0 && t->n_single == 0)) {
        return;
    }
    char list[256] = "";
    size_t len = 0;
    for (size_t c = 0; c < t->k && len + 24 < sizeof(list); c++) {
        if (t->n[c] < 2) {
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%zu (%lld)", len ? ", " : "",
                                    c, (long long)t->n[c]);
        }
    }
    adk_ctx_warn(ctx,
                 "%zu cluster(s) without training rows get threshold +inf (never flagged), %zu "
                 "with one row get that row's distance; cluster (rows): %s%s",
                 t->n_empty, t->n_single, list, len + 24 >= sizeof(list) ? ", ..." : "");
}
