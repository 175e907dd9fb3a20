/*
 * adk_score: anomaly flags, confusion counts, precision/recall/F1, exact distributed ROC AUC /
 * average precision, and their reports (see adk_score.h for the definitions, the method and its
 * cost).
 */
#include "adk_score.h"
#include "adk_mem.h"
#include "adk_msg.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_json.h"
#include "adk_key.h"
#include "adk_repro.h"

/* One distinct score value with its positive and negative row counts. */
typedef struct {
    uint64_t key; /* order-preserving image of the score */
    int64_t pos, neg;
} rec_t;

_Static_assert(sizeof(rec_t) == 3 * sizeof(uint64_t), "rec_t travels as 3 x MPI_UINT64_T");

#define ADK_SCORE_MAX_ROWS (INT64_C(1) << 40)
#define ADK_SCORE_MAX_POS (INT64_C(1) << 30)

adk_prf_t adk_score_prf(const adk_confusion_t *c)
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

int adk_score_flags(adk_ctx_t *ctx, const int32_t *cluster, const double *dist, size_t nloc,
                    int64_t row0, const double *thr, size_t k, uint8_t *flag)
{
    for (size_t j = 0; j < k; j++) {
        /* +inf is legitimate: a cluster without training rows never flags a row */
        if (isnan(thr[j]) || thr[j] == -INFINITY) {
            return ADK_ERR(ctx, ADK_EDATA, "threshold of cluster %zu is %g", j, thr[j]);
        }
    }
    for (size_t i = 0; i < nloc; i++) {
        int32_t c = cluster[i];
        if (c < 0 || (size_t)c >= k) {
            return ADK_ERR(ctx, ADK_EDATA, "row %lld: cluster %d outside the model's %zu clusters",
                           (long long)(row0 + (int64_t)i), (int)c, k);
        }
        if (isnan(dist[i])) {
            return ADK_ERR(ctx, ADK_EDATA, "row %lld: distance is NaN",
                           (long long)(row0 + (int64_t)i));
        }
        flag[i] = dist[i] > thr[c];
    }
    return ADK_OK;
}

void adk_score_truth(const int64_t *labels, size_t nloc, const int64_t *pos, size_t npos,
                     uint8_t *truth)
{
    for (size_t i = 0; i < nloc; i++) {
        uint8_t t = 0;
        for (size_t j = 0; j < npos && !t; j++) {
            t = labels[i] == pos[j];
        }
        truth[i] = t;
    }
}

/* Sum @p n int64 counters over the ranks, in place (integer sums are exact in any order). */
static int sum_i64(adk_ctx_t *ctx, int64_t *v, int n)
{
    if (adk_ctx_size(ctx) > 1 &&
        ADK_MPI_CALL(ctx, n, MPI_INT64_T,
                     MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM, adk_ctx_comm(ctx))) !=
            MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of counts failed"));
    }
    return ADK_OK;
}

int adk_score_confusion(adk_ctx_t *ctx, const uint8_t *flag, const uint8_t *truth, size_t nloc,
                        adk_confusion_t *cm)
{
    int64_t v[4] = {0, 0, 0, 0}; /* tp, fp, tn, fn */
    for (size_t i = 0; i < nloc; i++) {
        int f = flag[i] != 0, t = truth[i] != 0;
        v[f ? (t ? 0 : 1) : (t ? 3 : 2)]++;
    }
    ADK_CHECK(sum_i64(ctx, v, 4));
    cm->tp = v[0];
    cm->fp = v[1];
    cm->tn = v[2];
    cm->fn = v[3];
    return ADK_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Ranking metrics                                                                             */

static int rec_cmp(const void *a, const void *b)
{
    uint64_t x = ((const rec_t *)a)->key, y = ((const rec_t *)b)->key;
    return (x > y) - (x < y);
}

/* Sort by key and merge records of equal keys; returns the new count. */
static size_t sort_merge(rec_t *r, size_t m)
{
    if (m == 0) {
        return 0;
    }
    qsort(r, m, sizeof(rec_t), rec_cmp);
    size_t w = 0;
    for (size_t i = 1; i < m; i++) {
        if (r[i].key == r[w].key) {
            r[w].pos += r[i].pos;
            r[w].neg += r[i].neg;
        } else {
            r[++w] = r[i];
        }
    }
    return w + 1;
}

/* Number of records (sorted by key) with key <= k. */
static size_t count_le(const rec_t *r, size_t m, uint64_t k)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].key <= k) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/*
 * Splitters for exact load balance over R ranks: split[j] is the smallest key v with at least
 * ceil((j+1) M / R) records of key <= v over all ranks. Bisection over the key space for all
 * targets at once; every rank holds the same brackets, so all take the same number of rounds.
 */
static int find_splitters(adk_ctx_t *ctx, const rec_t *r, size_t m, int64_t mtot, uint64_t *split)
{
    int np = adk_ctx_size(ctx) - 1;
    uint64_t *hi = adk_malloc((size_t)np * sizeof(uint64_t));
    int64_t *tgt = adk_malloc((size_t)np * sizeof(int64_t));
    int64_t *cnt = adk_malloc((size_t)np * sizeof(int64_t));
    int st = hi && tgt && cnt ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        for (int j = 0; j < np; j++) {
            split[j] = 0; /* the low end of the bracket; the answer at the end */
            hi[j] = UINT64_MAX;
            tgt[j] = ((int64_t)(j + 1) * mtot + np) / (np + 1);
        }
    }
    while (st == ADK_OK) {
        int active = 0;
        for (int j = 0; j < np; j++) {
            cnt[j] = 0;
            if (split[j] < hi[j]) {
                uint64_t mid = split[j] + (hi[j] - split[j]) / 2;
                cnt[j] = (int64_t)count_le(r, m, mid);
                active = 1;
            }
        }
        if (!active) {
            break;
        }
        st = sum_i64(ctx, cnt, np);
        for (int j = 0; j < np && st == ADK_OK; j++) {
            if (split[j] < hi[j]) {
                uint64_t mid = split[j] + (hi[j] - split[j]) / 2;
                if (cnt[j] >= tgt[j]) {
                    hi[j] = mid;
                } else {
                    split[j] = mid + 1;
                }
            }
        }
    }
    free(hi);
    free(tgt);
    free(cnt);
    return st;
}

/* Send every record to the rank owning its key range; *out receives the merged records. */
static int redistribute(adk_ctx_t *ctx, const rec_t *r, size_t m, int64_t mtot, rec_t **out,
                        size_t *mout)
{
    int size = adk_ctx_size(ctx);
    MPI_Comm comm = adk_ctx_comm(ctx);
    uint64_t *split = adk_malloc((size_t)size * sizeof(uint64_t));
    uint64_t *sc = adk_malloc(2 * (size_t)size * sizeof(uint64_t));
    size_t *sb = adk_malloc(2 * (size_t)size * sizeof(size_t));
    rec_t *recv = NULL;
    int st = split && sc && sb ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = find_splitters(ctx, r, m, mtot, split);
    }
    uint64_t *rc = sc + size;
    size_t *rb = sb + size;
    if (st == ADK_OK) {
        size_t prev = 0;
        for (int j = 0; j < size; j++) {
            size_t end = j < size - 1 ? count_le(r, m, split[j]) : m;
            sc[j] = (uint64_t)(end - prev);
            prev = end;
        }
        if (ADK_MPI_CALL(ctx, size - 1, MPI_UINT64_T, /* one count for every other rank */
                         MPI_Alltoall(sc, 1, MPI_UINT64_T, rc, 1, MPI_UINT64_T, comm)) !=
            MPI_SUCCESS) {
            st = adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Alltoall of counts failed"));
        }
    }
    size_t total = 0;
    if (st == ADK_OK) {
        for (int j = 0; j < size; j++) {
            total += (size_t)rc[j];
            sb[j] = (size_t)sc[j] * sizeof(rec_t);
            rb[j] = (size_t)rc[j] * sizeof(rec_t);
        }
        if (!(recv = adk_malloc((total ? total : 1) * sizeof(rec_t)))) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        }
        st = adk_ctx_agree(ctx, st);
    }
    if (st == ADK_OK) { /* byte ranges in pieces: no int count limit (adk_msg) */
        st = adk_msg_alltoallv(ctx, r, sb, recv, rb);
    }
    free(split);
    free(sc);
    free(sb);
    if (st != ADK_OK) {
        free(recv);
        return st;
    }
    *out = recv;
    *mout = sort_merge(recv, total);
    return ADK_OK;
}

/* a / b for b > 0: one rounding when both convert exactly, else through long double. */
static double ratio_u128(unsigned __int128 a, unsigned __int128 b)
{
    const unsigned __int128 exact = (unsigned __int128)1 << 53;
    if (a <= exact && b <= exact) {
        return (double)a / (double)b;
    }
    return (double)((long double)a / (long double)b);
}

int adk_score_rank(adk_ctx_t *ctx, const double *score, const uint8_t *truth, size_t nloc,
                   int64_t row0, adk_score_rank_t *out)
{
    memset(out, 0, sizeof(*out));
    rec_t *r = adk_malloc((nloc ? nloc : 1) * sizeof(rec_t));
    rec_t *g = NULL; /* records after redistribution: whole score groups */
    adk_racc_t *acc = NULL;
    int st = r ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    int64_t tot[3] = {0, 0, 0}; /* records, positives, negatives */
    for (size_t i = 0; i < nloc && st == ADK_OK; i++) {
        if (!isfinite(score[i])) {
            st = ADK_ERR(ctx, ADK_EDATA, "row %lld: score %g is not finite",
                         (long long)(row0 + (int64_t)i), score[i]);
            break;
        }
        int t = truth[i] != 0;
        r[i].key = adk_key_from_value(score[i]); /* -0.0 and +0.0: one score, as numpy's diff */
        r[i].pos = t;
        r[i].neg = !t;
        tot[1] += t;
        tot[2] += !t;
    }
    size_t m = st == ADK_OK ? sort_merge(r, nloc) : 0;
    tot[0] = (int64_t)m;
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = sum_i64(ctx, tot, 3);
    }
    const int64_t npos = tot[1], nneg = tot[2];
    if (st == ADK_OK && (npos + nneg >= ADK_SCORE_MAX_ROWS || npos >= ADK_SCORE_MAX_POS)) {
        /* the totals are global, so every rank takes this branch */
        st = ADK_ERR(ctx, ADK_EINVAL,
                     "ranking metrics: %lld rows, %lld positive: beyond the supported 2^40 rows "
                     "and 2^30 positives",
                     (long long)(npos + nneg), (long long)npos);
    }
    size_t mg = 0;
    if (st == ADK_OK && adk_ctx_size(ctx) > 1) {
        st = redistribute(ctx, r, m, tot[0], &g, &mg);
        free(r);
        r = NULL;
    } else if (st == ADK_OK) {
        g = r; /* one rank: the local groups are the global ones */
        r = NULL;
        mg = m;
    }
    int64_t above[2] = {0, 0}; /* positives and negatives on higher ranks (higher scores) */
    if (st == ADK_OK) {
        int64_t loc[2] = {0, 0}, inc[2] = {0, 0};
        for (size_t i = 0; i < mg; i++) {
            loc[0] += g[i].pos;
            loc[1] += g[i].neg;
        }
        if (ADK_MPI_CALL(ctx, 2, MPI_INT64_T,
                         MPI_Scan(loc, inc, 2, MPI_INT64_T, MPI_SUM, adk_ctx_comm(ctx))) !=
            MPI_SUCCESS) {
            st = adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Scan of counts failed"));
        } else {
            above[0] = npos - inc[0];
            above[1] = nneg - inc[1];
        }
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, adk_racc_alloc(1, 3, &acc) == ADK_OK
                                    ? ADK_OK
                                    : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        /* every AP term is at most npos < 2^e */
        adk_racc_set_scale(acc, 0, adk_repro_exponent((double)npos) + 1);
        int64_t tp = above[0], fp = above[1];
        unsigned __int128 u2 = 0; /* 2 x Mann-Whitney U of this rank's groups */
        for (size_t i = mg; i-- > 0;) {
            u2 += (unsigned __int128)g[i].neg * (unsigned __int128)(2 * tp + g[i].pos);
            tp += g[i].pos;
            fp += g[i].neg;
            if (g[i].pos > 0) {
                adk_racc_add(acc, 0, (double)g[i].pos * (double)tp / (double)(tp + fp));
            }
        }
        adk_racc_addi(acc, 0, (int64_t)(u2 >> 32));
        adk_racc_addi(acc, 1, (int64_t)(u2 & 0xffffffffu));
        adk_racc_addi(acc, 2, (int64_t)mg);
        st = adk_racc_allreduce(ctx, acc);
    }
    int64_t held = (int64_t)mg;
    if (st == ADK_OK && adk_ctx_size(ctx) > 1 &&
        ADK_MPI_CALL(ctx, 1, MPI_INT64_T,
                     MPI_Allreduce(MPI_IN_PLACE, &held, 1, MPI_INT64_T, MPI_MAX,
                                   adk_ctx_comm(ctx))) != MPI_SUCCESS) {
        st = adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "MPI_Allreduce of counts failed"));
    }
    if (st == ADK_OK) {
        out->n = npos + nneg;
        out->n_positive = npos;
        out->n_distinct = adk_racc_geti(acc, 2);
        out->max_held = held;
        unsigned __int128 u2 = ((unsigned __int128)adk_racc_geti(acc, 0) << 32) +
                               (unsigned __int128)adk_racc_geti(acc, 1);
        if (npos > 0 && nneg > 0) {
            out->auc_defined = 1;
            out->roc_auc = ratio_u128(u2, (unsigned __int128)2 * (unsigned __int128)npos *
                                              (unsigned __int128)nneg);
        }
        if (npos > 0) {
            out->ap_defined = 1;
            out->average_precision = adk_racc_get(acc, 0) / (double)npos;
        }
    }
    adk_racc_free(acc);
    free(r);
    free(g);
    return st;
}

int adk_score_count(adk_ctx_t *ctx, const uint8_t *flag, const uint8_t *truth, size_t nloc,
                    adk_score_summary_t *out)
{
    memset(out, 0, sizeof(*out));
    int64_t v[6] = {(int64_t)nloc, 0, 0, 0, 0, 0}; /* n, flagged, tp, fp, tn, fn */
    for (size_t i = 0; i < nloc; i++) {
        int f = flag[i] != 0;
        v[1] += f;
        if (truth) {
            int t = truth[i] != 0;
            v[f ? (t ? 2 : 3) : (t ? 5 : 4)]++;
        }
    }
    ADK_CHECK(sum_i64(ctx, v, 6));
    out->n = v[0];
    out->n_flagged = v[1];
    if (!truth) {
        return ADK_OK;
    }
    out->has_truth = 1;
    out->cm.tp = v[2];
    out->cm.fp = v[3];
    out->cm.tn = v[4];
    out->cm.fn = v[5];
    out->n_positive = v[2] + v[5];
    out->prf = adk_score_prf(&out->cm);
    return ADK_OK;
}

int adk_score_evaluate(adk_ctx_t *ctx, const uint8_t *flag, const double *score,
                       const uint8_t *truth, size_t nloc, int64_t row0, adk_score_summary_t *out)
{
    ADK_CHECK(adk_score_count(ctx, flag, truth, nloc, out));
    out->ranked = 1;
    if (!truth) {
        return ADK_OK;
    }
    return adk_score_rank(ctx, score, truth, nloc, row0, &out->rank);
}

/* ------------------------------------------------------------------------------------------ */
/* Options and reports                                                                         */

int adk_score_parse_labels(adk_ctx_t *ctx, const char *opt, const char *s, int64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++) {
        cap += *p == ',';
    }
    int64_t *v = adk_malloc(cap * sizeof(int64_t));
    if (!v) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    const char *p = s;
    for (;;) {
        char *end = NULL;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno || (*end != ',' && *end != '\0')) {
            free(v);
            return ADK_ERR(ctx, ADK_EINVAL,
                           "--%s: '%s' is not a comma-separated list of integer labels", opt, s);
        }
        v[(*n)++] = (int64_t)x;
        if (*end == '\0') {
            break;
        }
        p = end + 1;
    }
    *out = v;
    return ADK_OK;
}

static void add_str(cJSON *o, const char *name, const char *v)
{
    if (v) {
        cJSON_AddStringToObject(o, name, v);
    } else {
        cJSON_AddNullToObject(o, name);
    }
}

void adk_score_json_add(cJSON *o, const adk_score_summary_t *s)
{
    int lab = s->has_truth;
    adk_json_count(o, "n", 1, s->n);
    adk_json_count(o, "n_flagged", 1, s->n_flagged);
    cJSON_AddBoolToObject(o, "labelled", lab);
    adk_json_count(o, "n_positive", lab, s->n_positive);
    adk_json_count(o, "n_negative", lab, s->n - s->n_positive);
    adk_json_count(o, "tp", lab, s->cm.tp);
    adk_json_count(o, "fp", lab, s->cm.fp);
    adk_json_count(o, "tn", lab, s->cm.tn);
    adk_json_count(o, "fn", lab, s->cm.fn);
    adk_json_real(o, "precision", lab, s->prf.precision);
    adk_json_real(o, "recall", lab, s->prf.recall);
    adk_json_real(o, "f1", lab, s->prf.f1);
    if (s->ranked) {
        adk_json_real(o, "roc_auc", lab && s->rank.auc_defined, s->rank.roc_auc);
        adk_json_real(o, "average_precision", lab && s->rank.ap_defined, s->rank.average_precision);
    }
}

int adk_score_json(const adk_score_summary_t *s, const adk_score_meta_t *meta, char **text)
{
    static const adk_score_meta_t none = {NULL, NULL, NULL, NULL, 0};
    *text = NULL;
    if (!meta) {
        meta = &none;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        return ADK_ENOMEM;
    }
    int lab = s->has_truth;
    adk_score_json_add(o, s);
    add_str(o, "threshold_method", meta->threshold_method);
    add_str(o, "model", meta->model);
    add_str(o, "data", meta->data);
    if (lab && meta->positive) {
        cJSON *a = cJSON_AddArrayToObject(o, "positive_labels");
        for (size_t i = 0; a && i < meta->npositive; i++) {
            char buf[32];
            snprintf(buf, sizeof(buf), "%lld", (long long)meta->positive[i]);
            cJSON_AddItemToArray(a, cJSON_CreateRaw(buf));
        }
    } else {
        cJSON_AddNullToObject(o, "positive_labels");
    }
    *text = adk_json_text(o);
    cJSON_Delete(o);
    return *text ? ADK_OK : ADK_ENOMEM;
}

void adk_score_print(FILE *f, const adk_score_summary_t *s)
{
    fprintf(f, "%-34s %12lld\n", "rows", (long long)s->n);
    fprintf(f, "%-34s %12lld\n", "anomalies flagged", (long long)s->n_flagged);
    if (!s->has_truth) {
        return;
    }
    fprintf(f, "%-34s %12lld\n", "labelled anomalous", (long long)s->n_positive);
    fprintf(f, "%-34s %12lld\n", "TP (anomalous, flagged)", (long long)s->cm.tp);
    fprintf(f, "%-34s %12lld\n", "FP (normal, flagged)", (long long)s->cm.fp);
    fprintf(f, "%-34s %12lld\n", "TN (normal, not flagged)", (long long)s->cm.tn);
    fprintf(f, "%-34s %12lld\n", "FN (anomalous, not flagged)", (long long)s->cm.fn);
    fprintf(f, "%-34s %12.6f\n", "precision", s->prf.precision);
    fprintf(f, "%-34s %12.6f\n", "recall", s->prf.recall);
    fprintf(f, "%-34s %12.6f\n", "F1", s->prf.f1);
    if (!s->ranked) {
        return;
    }
    if (s->rank.auc_defined) {
        fprintf(f, "%-34s %12.6f\n", "ROC AUC (distance as score)", s->rank.roc_auc);
    } else {
        fprintf(f, "%-34s %12s\n", "ROC AUC (distance as score)", "undefined");
    }
    if (s->rank.ap_defined) {
        fprintf(f, "%-34s %12.6f\n", "average precision (distance)", s->rank.average_precision);
    } else {
        fprintf(f, "%-34s %12s\n", "average precision (distance)", "undefined");
    }
}

int adk_score_write_attrs(adk_out_t *o, const adk_score_summary_t *s)
{
    ADK_CHECK(adk_out_attr_i64(o, "/", "n", s->n));
    ADK_CHECK(adk_out_attr_i64(o, "/", "n_flagged", s->n_flagged));
    if (!s->has_truth) {
        return ADK_OK;
    }
    ADK_CHECK(adk_out_attr_i64(o, "/", "n_positive", s->n_positive));
    ADK_CHECK(adk_out_attr_i64(o, "/", "tp", s->cm.tp));
    ADK_CHECK(adk_out_attr_i64(o, "/", "fp", s->cm.fp));
    ADK_CHECK(adk_out_attr_i64(o, "/", "tn", s->cm.tn));
    ADK_CHECK(adk_out_attr_i64(o, "/", "fn", s->cm.fn));
    ADK_CHECK(adk_out_attr_f64(o, "/", "precision", s->prf.precision));
    ADK_CHECK(adk_out_attr_f64(o, "/", "recall", s->prf.recall));
    ADK_CHECK(adk_out_attr_f64(o, "/", "f1", s->prf.f1));
    if (s->rank.auc_defined) {
        ADK_CHECK(adk_out_attr_f64(o, "/", "roc_auc", s->rank.roc_auc));
    }
    if (s->rank.ap_defined) {
        ADK_CHECK(adk_out_attr_f64(o, "/", "average_precision", s->rank.average_precision));
    }
    return ADK_OK;
}
