/*
 * Unit tests for adk_score: strict flags, truth from label sets, confusion counts, and the exact
 * distributed ROC AUC / average precision against scikit-learn fixtures
 * (tests/fixtures/score/ranking.h5), against brute-force pair counting, and bitwise across
 * different distributions of the same rows over the ranks. JSON summary and label parsing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "adk_io.h"
#include "adk_part.h"
#include "adk_score.h"
#include "adk_test.h"

/* Fixtures: sklearn's metrics are compared at this relative tolerance. */
#define SK_RTOL 1e-12

static const char *fixture(const char *name)
{
    static char buf[4096];
    const char *src = getenv("ADK_SRCDIR");
    snprintf(buf, sizeof(buf), "%s/tests/fixtures/score/%s", src && *src ? src : ".", name);
    return buf;
}

static int same_rank(const adk_score_rank_t *a, const adk_score_rank_t *b)
{
    /* max_held is left out: it depends on the distribution by design */
    return a->n == b->n && a->n_positive == b->n_positive && a->n_distinct == b->n_distinct &&
           a->auc_defined == b->auc_defined && a->ap_defined == b->ap_defined &&
           memcmp(&a->roc_auc, &b->roc_auc, sizeof(double)) == 0 &&
           memcmp(&a->average_precision, &b->average_precision, sizeof(double)) == 0;
}

/*
 * Rank metrics of the n global rows (given in full on every rank) under one of three
 * distributions: 0 plain blocks, 1 everything on the last rank, 2 strided and reversed.
 */
static int rank_dist(const double *s, const uint8_t *t, int64_t n, int how, adk_score_rank_t *out)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    double *ls = malloc(((size_t)n + 1) * sizeof(double));
    uint8_t *lt = malloc((size_t)n + 1);
    size_t m = 0;
    int64_t row0 = 0;
    if (how == 0) {
        adk_range_t rg = adk_part_rows(n, size, rank, 1);
        row0 = rg.start;
        for (int64_t i = rg.start; i < rg.start + rg.count; i++, m++) {
            ls[m] = s[i];
            lt[m] = t[i];
        }
    } else {
        for (int64_t i = n - 1; i >= 0; i--) {
            if ((how == 1 && rank == size - 1) || (how == 2 && i % size == rank)) {
                ls[m] = s[i];
                lt[m++] = t[i];
            }
        }
    }
    int st = adk_score_rank(ctx, ls, lt, m, row0, out);
    free(ls);
    free(lt);
    return st;
}

static void test_flags_strict(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const double thr[2] = {1.5, 2.0};
    const int32_t cl[6] = {0, 0, 0, 1, 1, 1};
    const double d[6] = {1.4999999999999998, 1.5, 1.5000000000000002, 2.0, 0.0, 7.0};
    const uint8_t want[6] = {0, 0, 1, 0, 0, 1};
    uint8_t f[6];
    CU_ASSERT_EQUAL(adk_score_flags(ctx, cl, d, 6, 0, thr, 2, f), ADK_OK);
    CU_ASSERT(memcmp(f, want, 6) == 0);

    const int32_t bad[2] = {1, 2};
    CU_ASSERT_EQUAL(adk_score_flags(ctx, bad, d, 2, 40, thr, 2, f), ADK_EDATA);
    CU_ASSERT(strstr(adk_ctx_message(ctx), "row 41") != NULL);
    adk_ctx_clear(ctx);
    const double nan_d[1] = {NAN};
    CU_ASSERT_EQUAL(adk_score_flags(ctx, cl, nan_d, 1, 0, thr, 2, f), ADK_EDATA);
    adk_ctx_clear(ctx);
    /* +inf (a cluster without training rows) never flags; NaN and -inf are refused */
    const double inf_thr[2] = {INFINITY, INFINITY};
    CU_ASSERT_EQUAL(adk_score_flags(ctx, cl, d, 6, 0, inf_thr, 2, f), ADK_OK);
    CU_ASSERT(memchr(f, 1, 6) == NULL);
    const double bad_thr[2] = {1.0, NAN}, neg_thr[2] = {-INFINITY, 1.0};
    CU_ASSERT_EQUAL(adk_score_flags(ctx, cl, d, 6, 0, bad_thr, 2, f), ADK_EDATA);
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_score_flags(ctx, cl, d, 6, 0, neg_thr, 2, f), ADK_EDATA);
    adk_ctx_clear(ctx);
}

static void test_truth_and_labels(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int64_t *v = NULL;
    size_t n = 0;
    CU_ASSERT_EQUAL(adk_score_parse_labels(ctx, "positive", "2,-3,9", &v, &n), ADK_OK);
    CU_ASSERT_EQUAL(n, 3);
    if (n == 3) {
        CU_ASSERT(v[0] == 2 && v[1] == -3 && v[2] == 9);
    }
    const int64_t lab[7] = {0, 2, 9, -3, 1, 3, 2};
    const uint8_t want[7] = {0, 1, 1, 1, 0, 0, 1};
    uint8_t t[7];
    adk_score_truth(lab, 7, v, n, t);
    CU_ASSERT(memcmp(t, want, 7) == 0);
    free(v);
    const char *bad[] = {"", "x", "1,,2", "1.5", "1,", "2 ", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CU_ASSERT_EQUAL(adk_score_parse_labels(ctx, "positive", bad[i], &v, &n), ADK_EINVAL);
        CU_ASSERT(v == NULL);
        CU_ASSERT(strstr(adk_ctx_message(ctx), "--positive") != NULL);
        adk_ctx_clear(ctx);
    }
}

/* Confusion counts and the summary over a partition, against serial counts. */
static void test_confusion_summary(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    const int64_t n = 1001;
    adk_confusion_t ref = {0, 0, 0, 0};
    int64_t nflag = 0;
    for (int64_t g = 0; g < n; g++) {
        int f = g % 7 < 2, t = g % 5 == 1;
        ref.tp += f && t;
        ref.fp += f && !t;
        ref.tn += !f && !t;
        ref.fn += !f && t;
        nflag += f;
    }
    adk_range_t rg = adk_part_rows(n, size, rank, 1);
    size_t m = (size_t)rg.count;
    uint8_t *f = malloc(m + 1), *t = malloc(m + 1);
    double *s = malloc((m + 1) * sizeof(double));
    for (size_t i = 0; i < m; i++) {
        int64_t g = rg.start + (int64_t)i;
        f[i] = g % 7 < 2;
        t[i] = g % 5 == 1;
        s[i] = (double)(g % 7 < 2) + (double)(g % 13) * 0.01;
    }
    adk_confusion_t cm;
    CU_ASSERT_EQUAL(adk_score_confusion(ctx, f, t, m, &cm), ADK_OK);
    CU_ASSERT(cm.tp == ref.tp && cm.fp == ref.fp && cm.tn == ref.tn && cm.fn == ref.fn);

    adk_score_summary_t sum;
    CU_ASSERT_EQUAL(adk_score_evaluate(ctx, f, s, t, m, rg.start, &sum), ADK_OK);
    CU_ASSERT(sum.n == n && sum.n_flagged == nflag && sum.has_truth);
    CU_ASSERT(sum.cm.tp == ref.tp && sum.cm.fp == ref.fp && sum.cm.tn == ref.tn &&
              sum.cm.fn == ref.fn);
    CU_ASSERT_EQUAL(sum.n_positive, ref.tp + ref.fn);
    CU_ASSERT_EQUAL(sum.rank.n_positive, ref.tp + ref.fn);
    adk_prf_t p = adk_score_prf(&ref);
    CU_ASSERT(sum.prf.precision == p.precision && sum.prf.recall == p.recall && sum.prf.f1 == p.f1);

    CU_ASSERT_EQUAL(adk_score_evaluate(ctx, f, s, NULL, m, rg.start, &sum), ADK_OK);
    CU_ASSERT(sum.n == n && sum.n_flagged == nflag && !sum.has_truth);
    free(f);
    free(t);
    free(s);
}

/* The example of sklearn's average_precision_score docstring: AUC 3/4, AP (1 + 2/3) / 2. */
static void test_sklearn_doc_example(void)
{
    const double s[4] = {0.1, 0.4, 0.35, 0.8};
    const uint8_t t[4] = {0, 0, 1, 1};
    for (int how = 0; how < 3; how++) {
        adk_score_rank_t r;
        CU_ASSERT_EQUAL(rank_dist(s, t, 4, how, &r), ADK_OK);
        CU_ASSERT(r.auc_defined && r.ap_defined);
        CU_ASSERT_EQUAL(r.roc_auc, 0.75);
        CU_ASSERT_EQUAL(r.average_precision, 0.8333333333333333); /* sklearn's repr, not 5/6 */
        CU_ASSERT_EQUAL(r.n_distinct, 4);
    }
}

/* Every case of ranking.h5, under three distributions: sklearn's values, bitwise agreement. */
static void test_sklearn_fixtures(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    char path[4096], cases[2048];
    snprintf(path, sizeof(path), "%s", fixture("ranking.h5"));
    CU_ASSERT_FATAL(adk_io_attr_str(ctx, path, "/", "cases", cases, sizeof(cases)) == ADK_OK);
    int ncase = 0;
    for (char *save = NULL, *name = strtok_r(cases, ",", &save); name;
         name = strtok_r(NULL, ",", &save), ncase++) {
        char spec[4352], grp[256];
        double *s = NULL, *tv = NULL;
        int64_t n = 0, nt = 0, cols = 0;
        int nd = 0;
        snprintf(spec, sizeof(spec), "%s:/%s/score", path, name);
        CU_ASSERT_FATAL(adk_io_read_small(ctx, spec, 1 << 20, &s, &n, &cols, &nd) == ADK_OK);
        snprintf(spec, sizeof(spec), "%s:/%s/truth", path, name);
        CU_ASSERT_FATAL(adk_io_read_small(ctx, spec, 1 << 20, &tv, &nt, &cols, &nd) == ADK_OK);
        CU_ASSERT_FATAL(n == nt);
        snprintf(grp, sizeof(grp), "/%s", name);
        double auc = 0, ap = 0, auc_def = 0, ap_def = 0, npos = 0, ndist = 0;
        CU_ASSERT(adk_io_attr_f64(ctx, path, grp, "roc_auc", &auc) == ADK_OK);
        CU_ASSERT(adk_io_attr_f64(ctx, path, grp, "average_precision", &ap) == ADK_OK);
        CU_ASSERT(adk_io_attr_f64(ctx, path, grp, "auc_defined", &auc_def) == ADK_OK);
        CU_ASSERT(adk_io_attr_f64(ctx, path, grp, "ap_defined", &ap_def) == ADK_OK);
        CU_ASSERT(adk_io_attr_f64(ctx, path, grp, "n_positive", &npos) == ADK_OK);
        CU_ASSERT(adk_io_attr_f64(ctx, path, grp, "n_distinct", &ndist) == ADK_OK);
        uint8_t *t = malloc((size_t)n + 1);
        for (int64_t i = 0; i < n; i++) {
            t[i] = tv[i] != 0.0;
        }
        adk_score_rank_t r[3];
        for (int how = 0; how < 3; how++) {
            CU_ASSERT_EQUAL(rank_dist(s, t, n, how, &r[how]), ADK_OK);
        }
        int ok = same_rank(&r[0], &r[1]) && same_rank(&r[0], &r[2]);
        ok &= r[0].n == n && r[0].n_positive == (int64_t)npos && r[0].n_distinct == (int64_t)ndist;
        ok &= r[0].auc_defined == (int)auc_def && r[0].ap_defined == (int)ap_def;
        for (int how = 0; how < 3; how++) { /* memory: at most ceil(M/R) + R - 1 records, M <= n */
            int size = adk_ctx_size(ctx);
            ok &= r[how].max_held <= (n + size - 1) / size + size - 1;
        }
        if (r[0].auc_defined) {
            ok &= fabs(r[0].roc_auc - auc) <= SK_RTOL * fabs(auc);
        }
        if (r[0].ap_defined) {
            ok &= fabs(r[0].average_precision - ap) <= SK_RTOL * fabs(ap);
        }
        if (!ok) {
            printf("# case %s: auc %.17g (sklearn %.17g) ap %.17g (sklearn %.17g) distinct %lld\n",
                   name, r[0].roc_auc, auc, r[0].average_precision, ap, (long long)r[0].n_distinct);
        }
        CU_ASSERT(ok);
        free(t);
        free(s);
        free(tv);
    }
    CU_ASSERT(ncase >= 13);
}

/* Brute force: AUC is the pair count with ties as halves (exact integer); AP per positive row. */
static void brute(const double *s, const uint8_t *t, int64_t n, double *auc, double *ap)
{
    long long u2 = 0, p = 0, q = 0;
    long double apsum = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!t[i]) {
            q++;
            continue;
        }
        p++;
        long long tge = 0, fge = 0;
        for (int64_t j = 0; j < n; j++) {
            if (!t[j]) {
                u2 += s[i] > s[j] ? 2 : s[i] == s[j];
            }
            tge += t[j] && s[j] >= s[i];
            fge += !t[j] && s[j] >= s[i];
        }
        apsum += (long double)tge / (long double)(tge + fge);
    }
    *auc = (double)u2 / (double)(2 * p * q);
    *ap = (double)(apsum / p);
}

static void test_brute_force(void)
{
    const int64_t n = 2500;
    double *s = malloc((size_t)n * sizeof(double));
    uint8_t *t = malloc((size_t)n);
    for (int pass = 0; pass < 3; pass++) {
        for (int64_t i = 0; i < n; i++) {
            int64_t h = (i * 7919 + 13) % 10007;
            t[i] = (h % 7) < 2 + pass;
            if (pass == 0) { /* a few values: many ties across the classes */
                s[i] = (double)(h % 11) * 0.25 - 1.0 + 0.25 * t[i];
            } else if (pass == 1) { /* mostly distinct */
                s[i] = sin((double)h) + 0.3 * t[i];
            } else { /* negative zeros, zeros and one huge outlier */
                s[i] = (h % 3 == 0) ? -0.0 : (h % 3 == 1 ? 0.0 : (double)(h % 5) - 2.0);
                if (i == 17) {
                    s[i] = 1e308;
                }
            }
        }
        double auc, ap;
        brute(s, t, n, &auc, &ap);
        for (int how = 0; how < 3; how++) {
            adk_score_rank_t r;
            CU_ASSERT_EQUAL(rank_dist(s, t, n, how, &r), ADK_OK);
            CU_ASSERT_EQUAL(r.roc_auc, auc); /* both are the exact ratio rounded once */
            ADK_ASSERT_REL(r.average_precision, ap, 1e-14);
        }
    }
    free(s);
    free(t);
}

/* Degenerate inputs: no rows anywhere, all rows on one rank, one class only. */
static void test_degenerate(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    adk_score_rank_t r;
    CU_ASSERT_EQUAL(adk_score_rank(ctx, NULL, NULL, 0, 0, &r), ADK_OK);
    CU_ASSERT(r.n == 0 && !r.auc_defined && !r.ap_defined && r.n_distinct == 0);
    const double s[5] = {3, 1, 2, 2, 5};
    const uint8_t ones[5] = {1, 1, 1, 1, 1}, zeros[5] = {0, 0, 0, 0, 0};
    for (int how = 0; how < 3; how++) {
        CU_ASSERT_EQUAL(rank_dist(s, ones, 5, how, &r), ADK_OK);
        CU_ASSERT(!r.auc_defined && r.ap_defined && r.average_precision == 1.0);
        CU_ASSERT_EQUAL(r.n_distinct, 4);
        CU_ASSERT_EQUAL(rank_dist(s, zeros, 5, how, &r), ADK_OK);
        CU_ASSERT(!r.auc_defined && !r.ap_defined && r.n == 5 && r.n_positive == 0);
    }
}

/* A non-finite score on one rank: the same status everywhere, the message names the row. */
static void test_bad_score(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    const int64_t n = 40;
    adk_range_t rg = adk_part_rows(n, size, rank, 1);
    double *s = malloc(((size_t)rg.count + 1) * sizeof(double));
    uint8_t *t = calloc((size_t)rg.count + 1, 1);
    for (int64_t i = 0; i < rg.count; i++) {
        s[i] = (rg.start + i == 33) ? INFINITY : (double)i;
    }
    adk_score_rank_t r;
    int st = adk_score_rank(ctx, s, t, (size_t)rg.count, rg.start, &r);
    CU_ASSERT_EQUAL(st, ADK_EDATA);
    if (rg.start <= 33 && 33 < rg.start + rg.count) {
        CU_ASSERT(strstr(adk_ctx_message(ctx), "row 33") != NULL);
    }
    adk_ctx_clear(ctx);
    free(s);
    free(t);
}

static void test_json(void)
{
    adk_score_summary_t s;
    memset(&s, 0, sizeof(s));
    s.n = 600;
    s.n_flagged = 286;
    s.has_truth = 1;
    s.n_positive = 300;
    s.cm = (adk_confusion_t){283, 3, 297, 17};
    s.prf = adk_score_prf(&s.cm);
    s.ranked = 1;
    s.rank.auc_defined = 1;
    s.rank.roc_auc = 0.1 + 0.2; /* needs 17 digits to round-trip */
    const int64_t pos[2] = {1, 7};
    adk_score_meta_t meta = {"m.h5", "d.h5:/data", "percentile", pos, 2};
    char *text = NULL;
    CU_ASSERT_FATAL(adk_score_json(&s, &meta, &text) == ADK_OK);
    cJSON *o = cJSON_Parse(text);
    CU_ASSERT_FATAL(o != NULL);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "fp")->valuedouble, 3);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "fn")->valuedouble, 17);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "tp")->valuedouble, 283);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "n_negative")->valuedouble, 300);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "precision")->valuedouble, s.prf.precision);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "f1")->valuedouble, s.prf.f1);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "roc_auc")->valuedouble, 0.1 + 0.2);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(o, "average_precision")));
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(o, "threshold_method")->valuestring, "percentile");
    CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(o, "positive_labels")), 2);
    cJSON_Delete(o);
    free(text);

    s.has_truth = 0; /* without labels: counts of the flags only, the rest null */
    CU_ASSERT_FATAL(adk_score_json(&s, NULL, &text) == ADK_OK);
    o = cJSON_Parse(text);
    CU_ASSERT_FATAL(o != NULL);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(o, "n_flagged")->valuedouble, 286);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(o, "tp")));
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(o, "roc_auc")));
    CU_ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(o, "labelled")));
    cJSON_Delete(o);
    free(text);
}

/* Precision, recall and F1 in the reference order, 0 for an empty denominator. */
static void test_prf(void)
{
    adk_confusion_t c = {283, 3, 297, 17};
    adk_prf_t r = adk_score_prf(&c);
    double p = 283.0 / 286.0, q = 283.0 / 300.0;
    CU_ASSERT(r.precision == p && r.recall == q && r.f1 == 2.0 * p * q / (p + q));
    c = (adk_confusion_t){0, 0, 5, 4}; /* nothing flagged */
    r = adk_score_prf(&c);
    CU_ASSERT(r.precision == 0.0 && r.recall == 0.0 && r.f1 == 0.0);
    c = (adk_confusion_t){0, 3, 5, 0}; /* no positives */
    r = adk_score_prf(&c);
    CU_ASSERT(r.precision == 0.0 && r.recall == 0.0 && r.f1 == 0.0);
    c = (adk_confusion_t){2, 0, 5, 0};
    r = adk_score_prf(&c);
    CU_ASSERT(r.precision == 1.0 && r.recall == 1.0 && r.f1 == 1.0);
}

/* A summary of flags only (adk_score_count): no ranking keys or lines; counted over ranks. */
static void test_unranked_reports(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    const int64_t n = 30;
    adk_range_t rg = adk_part_rows(n, size, rank, 1);
    uint8_t f[30], t[30];
    for (int64_t i = 0; i < rg.count; i++) {
        int64_t g = rg.start + i;
        f[i] = g % 3 == 0; /* 10 flagged */
        t[i] = g % 5 == 0; /* 6 positive: 0, 15 flagged */
    }
    adk_score_summary_t s;
    CU_ASSERT_FATAL(adk_score_count(ctx, f, t, (size_t)rg.count, &s) == ADK_OK);
    CU_ASSERT(s.n == 30 && s.n_flagged == 10 && s.has_truth && !s.ranked && s.n_positive == 6);
    CU_ASSERT(s.cm.tp == 2 && s.cm.fp == 8 && s.cm.fn == 4 && s.cm.tn == 16);
    CU_ASSERT(s.prf.precision == 0.2 && s.prf.recall == 2.0 / 6.0);
    cJSON *o = cJSON_CreateObject();
    CU_ASSERT_FATAL(o != NULL);
    adk_score_json_add(o, &s);
    char *text = cJSON_PrintUnformatted(o);
    CU_ASSERT_FATAL(text != NULL);
    CU_ASSERT_STRING_EQUAL(text, "{\"n\":30,\"n_flagged\":10,\"labelled\":true,\"n_positive\":6,"
                                 "\"n_negative\":24,\"tp\":2,\"fp\":8,\"tn\":16,\"fn\":4,"
                                 "\"precision\":0.2,\"recall\":0.3333333333333333,"
                                 "\"f1\":0.25}");
    free(text);
    cJSON_Delete(o);
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    CU_ASSERT_FATAL(mf != NULL);
    adk_score_print(mf, &s);
    fclose(mf);
    CU_ASSERT_STRING_EQUAL(buf, "rows                                         30\n"
                                "anomalies flagged                            10\n"
                                "labelled anomalous                            6\n"
                                "TP (anomalous, flagged)                       2\n"
                                "FP (normal, flagged)                          8\n"
                                "TN (normal, not flagged)                     16\n"
                                "FN (anomalous, not flagged)                   4\n"
                                "precision                              0.200000\n"
                                "recall                                 0.333333\n"
                                "F1                                     0.250000\n");
    free(buf);
    /* ranked (adkit-score): the two ranking lines follow */
    s.ranked = 1;
    s.rank.auc_defined = 1;
    s.rank.roc_auc = 0.75;
    mf = open_memstream(&buf, &len);
    CU_ASSERT_FATAL(mf != NULL);
    adk_score_print(mf, &s);
    fclose(mf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "F1                                     0.250000\n"
                                       "ROC AUC (distance as score)            0.750000\n"
                                       "average precision (distance)          undefined\n"));
    free(buf);
    CU_ASSERT_FATAL(adk_score_count(ctx, f, NULL, (size_t)rg.count, &s) == ADK_OK);
    CU_ASSERT(s.n == 30 && s.n_flagged == 10 && !s.has_truth && s.cm.tp == 0);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"flags: strict, bad cluster/distance/threshold", test_flags_strict},
        {"truth from label sets, --positive parsing", test_truth_and_labels},
        {"confusion counts and summary", test_confusion_summary},
        {"sklearn docstring example", test_sklearn_doc_example},
        {"AUC/AP = sklearn on fixtures, bitwise over distributions", test_sklearn_fixtures},
        {"AUC/AP = brute-force pair counts", test_brute_force},
        {"degenerate: no rows, one class", test_degenerate},
        {"non-finite score: agreed error naming the row", test_bad_score},
        {"JSON summary", test_json},
        {"precision, recall, F1", test_prf},
        {"flag counts without ranking: JSON keys and table", test_unranked_reports},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_score", tests);
}
