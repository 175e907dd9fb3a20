/*
 * adk_threshold: anomaly boundaries from training distances (rules and numerics in
 * adk_threshold.h), and the reader of assignment files.
 */
#include "adk_threshold.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "adk_part.h"
#include "adk_repro.h"

/* Rows per collective read round, so no single MPI-IO request nears 2 GiB. */
#define READ_SLAB ((size_t)1 << 24)

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

int adk_threshold_assign_alloc(adk_ctx_t *ctx, int64_t n, int64_t align, adk_assign_t **out)
{
    *out = NULL;
    adk_assign_t *a = calloc(1, sizeof(*a));
    if (!a) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    a->n = n;
    a->align = adk_part_align(n, align);
    adk_range_t rg = adk_part_rows(n, adk_ctx_size(ctx), adk_ctx_rank(ctx), a->align);
    a->row0 = rg.start;
    a->nloc = (size_t)rg.count;
    size_t m = a->nloc ? a->nloc : 1; /* a rank without rows still has valid pointers */
    a->cluster = malloc(m * sizeof(int32_t));
    a->dist = malloc(m * sizeof(double));
    if (!a->cluster || !a->dist) {
        adk_threshold_assign_free(a);
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory for %zu assignment rows", m);
    }
    *out = a;
    return ADK_OK;
}

void adk_threshold_assign_free(adk_assign_t *a)
{
    if (!a) {
        return;
    }
    free(a->cluster);
    free(a->dist);
    free(a->spec);
    free(a);
}

/* Open a 1-D numeric dataset and return its length (collective, agreed). */
static int open_vec(adk_ctx_t *ctx, hid_t fid, const char *file, const char *name, hid_t *ds,
                    int64_t *len)
{
    *ds = -1;
    *len = 0;
    int st = ADK_OK;
    if (H5Lexists(fid, name, H5P_DEFAULT) > 0) {
        *ds = H5Dopen2(fid, name, H5P_DEFAULT);
    }
    if (*ds < 0) {
        st = ADK_ERR(ctx, ADK_EDATA,
                     "%s: no dataset '%s' (expected an assignment file from adkit-kmeans --assign)",
                     file, name);
    } else {
        hid_t sp = H5Dget_space(*ds), ty = H5Dget_type(*ds);
        int nd = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        hsize_t dims[H5S_MAX_RANK];
        if (nd >= 1 && nd <= H5S_MAX_RANK) {
            H5Sget_simple_extent_dims(sp, dims, NULL);
        }
        H5T_class_t cls = ty >= 0 ? H5Tget_class(ty) : H5T_NO_CLASS;
        if (nd != 1) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s:%s is %d-D, expected one value per row", file, name,
                         nd);
        } else if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s:%s is not numeric", file, name);
        } else {
            *len = (int64_t)dims[0];
        }
        if (sp >= 0) {
            H5Sclose(sp);
        }
        if (ty >= 0) {
            H5Tclose(ty);
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st != ADK_OK && *ds >= 0) {
        H5Dclose(*ds);
        *ds = -1;
    }
    return st;
}

/* Collective read of rows [row0, row0 + nloc) of a 1-D dataset as doubles, in slabs. */
static int read_vec(adk_ctx_t *ctx, hid_t ds, const char *what, double *buf, int64_t row0,
                    size_t nloc)
{
    long long mine = (long long)((nloc + READ_SLAB - 1) / READ_SLAB), rounds = 0;
    if (MPI_Allreduce(&mine, &rounds, 1, MPI_LONG_LONG, MPI_MAX, adk_ctx_comm(ctx)) !=
        MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce failed"));
    }
    hid_t fs = H5Dget_space(ds), dxpl = H5Pcreate(H5P_DATASET_XFER);
    int st = (fs < 0 || dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0)
                 ? ADK_ERR(ctx, ADK_EHDF5, "%s: cannot set up the read", what)
                 : ADK_OK;
    st = adk_ctx_agree(ctx, st);
    for (long long r = 0; r < rounds && st == ADK_OK; r++) {
        size_t off = (size_t)r * READ_SLAB;
        hsize_t cnt = off < nloc ? (nloc - off < READ_SLAB ? nloc - off : READ_SLAB) : 0;
        hsize_t start = (hsize_t)row0 + off, one = 1;
        herr_t e = cnt ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL)
                       : H5Sselect_none(fs);
        hid_t ms = H5Screate_simple(1, cnt ? &cnt : &one, NULL);
        if (ms >= 0 && !cnt && H5Sselect_none(ms) < 0) {
            e = -1;
        }
        if (e >= 0 && ms >= 0) {
            e = H5Dread(ds, H5T_NATIVE_DOUBLE, ms, fs, dxpl, buf + off);
        }
        if (ms >= 0) {
            H5Sclose(ms);
        }
        if (e < 0 || ms < 0) {
            st = ADK_ERR(ctx, ADK_EHDF5, "%s: collective read failed", what);
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (dxpl >= 0) {
        H5Pclose(dxpl);
    }
    if (fs >= 0) {
        H5Sclose(fs);
    }
    return st;
}

int adk_threshold_read_assign(adk_ctx_t *ctx, const char *file, adk_assign_t **out)
{
    *out = NULL;
    int ex = 0;
    /* adk_io_exists opens the file collectively: missing or non-HDF5 files fail here, agreed */
    int st = adk_io_exists(ctx, file, "/cluster", &ex);
    if (st != ADK_OK) {
        return st;
    }
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fid = -1, dc = -1, dd = -1;
    if (fapl >= 0 && H5Pset_fapl_mpio(fapl, adk_ctx_comm(ctx), MPI_INFO_NULL) >= 0 &&
        H5Pset_all_coll_metadata_ops(fapl, 1) >= 0) {
        fid = H5Fopen(file, H5F_ACC_RDONLY, fapl);
    }
    if (fapl >= 0) {
        H5Pclose(fapl);
    }
    st = adk_ctx_agree(ctx, fid < 0 ? ADK_ERR(ctx, ADK_EIO, "cannot open '%s'", file) : ADK_OK);
    int64_t nc = 0, nd = 0;
    if (st == ADK_OK) {
        st = open_vec(ctx, fid, file, "/cluster", &dc, &nc);
    }
    if (st == ADK_OK) {
        st = open_vec(ctx, fid, file, "/distance", &dd, &nd);
    }
    if (st == ADK_OK && nc != nd) { /* same metadata everywhere: a common verdict */
        st = ADK_ERR(ctx, ADK_EDATA, "%s: /cluster has %lld rows but /distance has %lld", file,
                     (long long)nc, (long long)nd);
    } else if (st == ADK_OK && nc == 0) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: no rows", file);
    }
    adk_assign_t *a = NULL;
    double *tmp = NULL;
    if (st == ADK_OK) {
        st = adk_threshold_assign_alloc(ctx, nc, ADK_ALIGN_REPRO, &a);
        if (st == ADK_OK) {
            a->spec = strdup(file);
            tmp = malloc((a->nloc ? a->nloc : 1) * sizeof(double));
            if (!a->spec || !tmp) {
                st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
            }
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) {
        char what[1024];
        snprintf(what, sizeof(what), "%s:/cluster", file);
        st = read_vec(ctx, dc, what, tmp, a->row0, a->nloc);
        snprintf(what, sizeof(what), "%s:/distance", file);
        if (st == ADK_OK) {
            st = read_vec(ctx, dd, what, a->dist, a->row0, a->nloc);
        }
    }
    if (st == ADK_OK) {
        int lst = ADK_OK;
        for (size_t i = 0; i < a->nloc && lst == ADK_OK; i++) {
            /* range checks against K come later; here only "is it an int32 at all" */
            if (!(tmp[i] == floor(tmp[i])) || fabs(tmp[i]) > 2147483647.0) {
                lst = ADK_ERR(ctx, ADK_EDATA, "%s row %lld: cluster %g is not an integer", file,
                              (long long)(a->row0 + (int64_t)i), tmp[i]);
            } else {
                a->cluster[i] = (int32_t)tmp[i];
            }
        }
        st = adk_ctx_agree(ctx, lst);
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_ctx_add_input(ctx, file));
    }
    free(tmp);
    if (dc >= 0) {
        H5Dclose(dc);
    }
    if (dd >= 0) {
        H5Dclose(dd);
    }
    if (fid >= 0) {
        H5Fclose(fid);
    }
    if (st != ADK_OK) {
        adk_threshold_assign_free(a);
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
static int check_rows(adk_ctx_t *ctx, const adk_assign_t *a, size_t k)
{
    const char *src = a->spec ? a->spec : "assignment";
    for (size_t i = 0; i < a->nloc; i++) {
        long long row = (long long)(a->row0 + (int64_t)i);
        int32_t c = a->cluster[i];
        double d = a->dist[i];
        if (c < 0 || (size_t)c >= k) {
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
static int cluster_counts(adk_ctx_t *ctx, const adk_assign_t *a, size_t k, int64_t *n)
{
    memset(n, 0, k * sizeof(int64_t));
    for (size_t i = 0; i < a->nloc; i++) {
        n[a->cluster[i]]++;
    }
    if (MPI_Allreduce(MPI_IN_PLACE, n, (int)k, MPI_INT64_T, MPI_SUM, adk_ctx_comm(ctx)) !=
        MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of counts failed"));
    }
    return ADK_OK;
}

/*
 * Exact per-group sums of f(d) over the fixed blocks of a->align rows: a block's partial sums are
 * formed in row order, then added exactly (adk_repro), so the result is the same for any rank
 * count. f(d) = d when mean is NULL, else (d - mean[g])^2. g = cluster, or 0 when !per_cluster.
 */
static int block_sums(adk_ctx_t *ctx, const adk_assign_t *a, size_t ngr, int per_cluster,
                      const double *bound, const double *mean, double *sum)
{
    adk_racc_t *acc = NULL;
    double *part = calloc(ngr, sizeof(double));
    size_t *touched = malloc(ngr * sizeof(size_t));
    char *seen = calloc(ngr, 1);
    int st = part && touched && seen ? adk_racc_alloc(ngr, 0, &acc) : ADK_ENOMEM;
    st = adk_ctx_agree(ctx, st == ADK_OK ? ADK_OK : ADK_ERR(ctx, st, "out of memory"));
    if (st == ADK_OK) {
        for (size_t g = 0; g < ngr; g++) {
            /* a block partial is below align * bound; the extra bit absorbs its rounding */
            adk_racc_set_scale(acc, g, adk_repro_exponent(bound[g] * (double)a->align) + 1);
        }
        size_t r = 0;
        while (r < a->nloc) {
            int64_t gr = a->row0 + (int64_t)r;
            size_t end = r + (size_t)(a->align - gr % a->align);
            end = end < a->nloc ? end : a->nloc;
            size_t nt = 0;
            for (; r < end; r++) {
                size_t g = per_cluster ? (size_t)a->cluster[r] : 0;
                double v = a->dist[r];
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
static int sigma_rule(adk_ctx_t *ctx, const adk_assign_t *a, int per_cluster, double nsd,
                      adk_thr_t *t)
{
    size_t k = t->k, ngr = per_cluster ? k : 1;
    double *mx = calloc(ngr * 3, sizeof(double));
    int st = adk_ctx_agree(ctx, mx ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        return st;
    }
    double *mean = mx + ngr, *s2 = mx + 2 * ngr;
    for (size_t i = 0; i < a->nloc; i++) {
        size_t g = per_cluster ? (size_t)a->cluster[i] : 0;
        mx[g] = a->dist[i] > mx[g] ? a->dist[i] : mx[g];
    }
    /* a maximum is exact and order-free, so MPI_MAX is reproducible */
    t->rounds++;
    if (MPI_Allreduce(MPI_IN_PLACE, mx, (int)ngr, MPI_DOUBLE, MPI_MAX, adk_ctx_comm(ctx)) !=
        MPI_SUCCESS) {
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

int adk_threshold_compute(adk_ctx_t *ctx, const adk_thr_params_t *p, size_t k,
                          const adk_assign_t *a, adk_thr_t **out)
{
    *out = NULL;
    double t0 = adk_now();
    int st = adk_threshold_check(ctx, p);
    if (st == ADK_OK && (k < 1 || k > (size_t)INT32_MAX)) {
        st = ADK_ERR(ctx, ADK_EINVAL, "%zu clusters", k);
    }
    adk_thr_t *t = NULL;
    if (st == ADK_OK) {
        t = calloc(1, sizeof(*t));
        if (t) {
            t->k = k;
            t->method = p->method;
            t->q = p->q;
            t->value = malloc(k * sizeof(double));
            t->n = calloc(k, sizeof(int64_t));
        }
        if (!t || !t->value || !t->n) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
    }
    if (st == ADK_OK) {
        st = check_rows(ctx, a, k);
    }
    st = adk_ctx_agree(ctx, st);
    adk_select_opts_t so = {p->bits};
    if (st == ADK_OK && p->method == ADK_THR_PERCENTILE) {
        st = adk_select_percentile(ctx, a->dist, a->cluster, a->nloc, k, 1, &p->q, &so, INFINITY,
                                   t->value, t->n, &t->stats);
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
        st = adk_select_percentile(ctx, a->dist, NULL, a->nloc, 1, 1, &p->q, &so, INFINITY, &v,
                                   NULL, &t->stats);
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
        if (MPI_Allreduce(&dt, &t->seconds, 1, MPI_DOUBLE, MPI_MAX, adk_ctx_comm(ctx)) !=
            MPI_SUCCESS) {
            st = adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of timings failed"));
        }
    }
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
