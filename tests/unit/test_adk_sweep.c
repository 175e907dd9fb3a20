/*
 * Unit tests for adk_sweep against references that do not come from adkit: numpy fixtures made by
 * tests/fixtures/make_gauss_fixtures.py (the recipe's select_threshold loop, np.linspace), and a
 * brute-force transcription of the reference Python loop computed here over all rows (direct
 * comparisons, no keys, no sorting). Every case runs on several splits of the same rows (even,
 * everything on one rank, one-row shards, skewed) and at every rank count of the suite: all must
 * give the reference bits.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_io.h"
#include "adk_part.h"
#include "adk_sweep.h"
#include "adk_test.h"

/* Path of a fixture: $ADK_SRCDIR/tests/fixtures/gauss/NAME (make check sets ADK_SRCDIR). */
static const char *fix(const char *name)
{
    static char buf[4096];
    const char *src = getenv("ADK_SRCDIR");
    snprintf(buf, sizeof(buf), "%s/tests/fixtures/gauss/%s", src && *src ? src : "..", name);
    return buf;
}

/* A whole small dataset of select.h5 on every rank, or NULL (the test then fails). */
static double *read_all(const char *dset, int64_t *rows, int64_t *cols)
{
    char spec[4200];
    snprintf(spec, sizeof(spec), "%s:%s", fix("select.h5"), dset);
    double *v = NULL;
    int nd = 0;
    int64_t r = 0, c = 0;
    int st = adk_io_read_small(adk_test_ctx(), spec, (size_t)1 << 24, &v, &r, &c, &nd);
    CU_ASSERT_EQUAL(st, ADK_OK);
    if (st != ADK_OK && adk_ctx_rank(adk_test_ctx()) == 0) {
        printf("# %s: %s\n", spec, adk_ctx_message(adk_test_ctx()));
    }
    if (rows) {
        *rows = r;
    }
    if (cols) {
        *cols = c;
    }
    return v;
}

/* Rows [start, start+count) of n for this rank under split scheme s (0..3). */
static void split(int s, int64_t n, int size, int rank, int64_t *start, int64_t *count)
{
    if (s == 0) { /* the usual contiguous split */
        adk_range_t rg = adk_part_rows(n, size, rank, 1);
        *start = rg.start;
        *count = rg.count;
    } else if (s == 1) { /* everything on the last rank */
        *start = rank == size - 1 ? 0 : n;
        *count = rank == size - 1 ? n : 0;
    } else if (s == 2) { /* one-row shards, the rest on the last rank */
        int64_t r = rank < n ? rank : n;
        *start = r;
        *count = rank == size - 1 ? n - r : (rank < n ? 1 : 0);
    } else { /* skewed: shares growing as (rank + 1)^2 */
        int64_t w = 0, wr = 0;
        for (int i = 0; i < size; i++) {
            wr += i < rank ? (int64_t)(i + 1) * (i + 1) : 0;
            w += (int64_t)(i + 1) * (i + 1);
        }
        *start = n * wr / w;
        int64_t end = n * (wr + (int64_t)(rank + 1) * (rank + 1)) / w;
        *count = end - *start;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The brute-force reference: the recipe's loop, transcribed.                                   */

typedef struct {
    double epsilon, f1;
    int64_t best;
    double *eps, *prec, *rec, *f1s; /* ncand each */
    int64_t *tp, *fp;
} ref_t;

/*
 *   best_epsilon = best_f1 = 0
 *   for epsilon in np.linspace(v.min(), v.max(), ncand):
 *       predictions = v < epsilon            (v > epsilon when above)
 *       tp, fp, fn = ...
 *       precision = tp / (tp + fp) if (tp + fp) else 0
 *       recall = tp / (tp + fn) if (tp + fn) else 0
 *       f1 = 2 * precision * recall / (precision + recall) if (precision + recall) else 0
 *       if f1 > best_f1: best_f1, best_epsilon = f1, epsilon
 * The candidates are start + i*step with the last one stop (numpy's rule for a non-zero step;
 * the cases here keep the step normal).
 */
static void ref_sweep(const double *v, const int64_t *y, size_t n, int above, size_t ncand,
                      ref_t *r)
{
    double lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    double step = ncand > 1 ? (hi - lo) / (double)(ncand - 1) : 0.0;
    r->epsilon = 0.0;
    r->f1 = 0.0;
    r->best = -1;
    for (size_t c = 0; c < ncand; c++) {
        double e = c == ncand - 1 && ncand > 1 ? hi : (double)c * step + lo;
        int64_t tp = 0, fp = 0, fn = 0;
        for (size_t i = 0; i < n; i++) {
            int pred = above ? v[i] > e : v[i] < e;
            tp += pred && y[i] == 1;
            fp += pred && y[i] == 0;
            fn += !pred && y[i] == 1;
        }
        double prec = tp + fp ? (double)tp / (double)(tp + fp) : 0.0;
        double rec = tp + fn ? (double)tp / (double)(tp + fn) : 0.0;
        double f1 = prec + rec != 0.0 ? 2.0 * prec * rec / (prec + rec) : 0.0;
        r->eps[c] = e;
        r->prec[c] = prec;
        r->rec[c] = rec;
        r->f1s[c] = f1;
        r->tp[c] = tp;
        r->fp[c] = fp;
        if (f1 > r->f1) {
            r->f1 = f1;
            r->epsilon = e;
            r->best = (int64_t)c;
        }
    }
}

/*
 * Sweep all n rows on every split scheme and compare everything with the brute force: epsilon,
 * F1, best index, candidates, counts and the whole curve, bit for bit. Returns the mismatches.
 */
static int check_against_ref(const char *name, const double *v, const int64_t *y, size_t n,
                             adk_sweep_dir_t dir, size_t ncand)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    ref_t r;
    r.eps = malloc(ncand * sizeof(double));
    r.prec = malloc(ncand * sizeof(double));
    r.rec = malloc(ncand * sizeof(double));
    r.f1s = malloc(ncand * sizeof(double));
    r.tp = malloc(ncand * sizeof(int64_t));
    r.fp = malloc(ncand * sizeof(int64_t));
    CU_ASSERT_FATAL(r.eps && r.prec && r.rec && r.f1s && r.tp && r.fp);
    ref_sweep(v, y, n, dir == ADK_SWEEP_ABOVE, ncand, &r);
    int64_t npos = 0;
    for (size_t i = 0; i < n; i++) {
        npos += y[i];
    }
    int nbad = 0;
    for (int s = 0; s < 4; s++) {
        int64_t start, count;
        split(s, (int64_t)n, size, rank, &start, &count);
        adk_sweep_params_t p = {dir, ncand, 0, name, NULL};
        adk_sweep_t *sw = NULL;
        int st = adk_sweep_run(ctx, &p, v + start, y + start, (size_t)count, start, &sw);
        CU_ASSERT_EQUAL_FATAL(st, ADK_OK);
        int ok = adk_test_same_bits(sw->epsilon, r.epsilon) && adk_test_same_bits(sw->f1, r.f1) &&
                 sw->best == r.best && sw->n == (int64_t)n && sw->npos == npos &&
                 sw->ncand == ncand && sw->dir == dir;
        for (size_t c = 0; c < ncand; c++) {
            ok &= adk_test_same_bits(sw->eps[c], r.eps[c]) &&
                  adk_test_same_bits(sw->prf[c].f1, r.f1s[c]) &&
                  adk_test_same_bits(sw->prf[c].precision, r.prec[c]) &&
                  adk_test_same_bits(sw->prf[c].recall, r.rec[c]) && sw->conf[c].tp == r.tp[c] &&
                  sw->conf[c].fp == r.fp[c] && sw->conf[c].fn == npos - r.tp[c] &&
                  sw->conf[c].tn == (int64_t)n - npos - r.fp[c];
        }
        if (!ok) {
            nbad++;
            if (rank == 0) {
                printf("# %s split %d: epsilon %.17g f1 %.17g best %lld, reference %.17g %.17g "
                       "%lld\n",
                       name, s, sw->epsilon, sw->f1, (long long)sw->best, r.epsilon, r.f1,
                       (long long)r.best);
            }
        }
        adk_sweep_free(sw);
    }
    free(r.eps);
    free(r.prec);
    free(r.rec);
    free(r.f1s);
    free(r.tp);
    free(r.fp);
    return nbad;
}

/* xorshift64*: a fixed stream, the same on every rank. */
static uint64_t next_u64(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static double uniform(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * 0x1.0p-53;
}

/* Random scores, anomalies lower (below) or higher (above), about one in eight anomalous. */
static void test_random_both_directions(void)
{
    const size_t n = 997;
    double *v = malloc(n * sizeof(double));
    int64_t *y = malloc(n * sizeof(int64_t));
    CU_ASSERT_FATAL(v && y);
    uint64_t s = 2024;
    for (size_t i = 0; i < n; i++) {
        y[i] = next_u64(&s) % 8 == 0;
        double u = uniform(&s);
        v[i] = y[i] ? 0.6 * u : 0.3 + 0.7 * u; /* overlapping classes */
    }
    CU_ASSERT_EQUAL(check_against_ref("random below", v, y, n, ADK_SWEEP_BELOW, 1000), 0);
    for (size_t i = 0; i < n; i++) {
        v[i] = 1.0 - v[i] + 3.0; /* now anomalies are high */
    }
    CU_ASSERT_EQUAL(check_against_ref("random above", v, y, n, ADK_SWEEP_ABOVE, 1000), 0);
    /* the other direction on the same data: a poor but well-defined result */
    CU_ASSERT_EQUAL(check_against_ref("random wrong way", v, y, n, ADK_SWEEP_BELOW, 1000), 0);
    free(v);
    free(y);
}

/* Integer scores with many ties; 11 candidates land exactly on the scores, so < and <= differ
 * and equal F1 values at several candidates test "the first strictly greater wins". */
static void test_ties(void)
{
    const size_t n = 203;
    double v[203];
    int64_t y[203];
    for (size_t i = 0; i < n; i++) {
        v[i] = (double)((i * 7) % 11); /* 0..10, each about 18 times */
        y[i] = v[i] <= 2.0 || i % 17 == 0;
    }
    CU_ASSERT_EQUAL(check_against_ref("ties below", v, y, n, ADK_SWEEP_BELOW, 11), 0);
    CU_ASSERT_EQUAL(check_against_ref("ties above", v, y, n, ADK_SWEEP_ABOVE, 11), 0);
    CU_ASSERT_EQUAL(check_against_ref("ties below 1000", v, y, n, ADK_SWEEP_BELOW, 1000), 0);
    /* two candidates with the same best F1: the first one is kept */
    const double w[5] = {1.0, 2.0, 3.0, 4.0, 5.0};
    const int64_t yw[5] = {1, 0, 0, 1, 0}; /* eps 2: tp 1, fp 0, fn 1; eps 5: tp 2, fp 2, fn 0 */
    adk_sweep_params_t p = {ADK_SWEEP_BELOW, 5, 0, "w", NULL};
    adk_sweep_t *s = NULL;
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx);
    CU_ASSERT_FATAL(adk_sweep_run(ctx, &p, w, yw, rank == 0 ? 5 : 0, 0, &s) == ADK_OK);
    CU_ASSERT(s->prf[1].f1 == s->prf[4].f1 && s->prf[1].f1 > s->prf[2].f1);
    CU_ASSERT_EQUAL(s->best, 1);
    CU_ASSERT_EQUAL(s->epsilon, 2.0);
    adk_sweep_free(s);
}

/* One class only, a single distinct value, and a single row. */
static void test_degenerate(void)
{
    const size_t n = 40;
    double v[40];
    int64_t y0[40], y1[40];
    for (size_t i = 0; i < n; i++) {
        v[i] = 0.25 * (double)(i % 9);
        y0[i] = 0;
        y1[i] = 1;
    }
    for (int dir = 0; dir < 2; dir++) {
        CU_ASSERT_EQUAL(check_against_ref("all normal", v, y0, n, (adk_sweep_dir_t)dir, 1000), 0);
        CU_ASSERT_EQUAL(check_against_ref("all anomalous", v, y1, n, (adk_sweep_dir_t)dir, 1000),
                        0);
    }
    /* all normal: F1 0 everywhere, epsilon 0 by the reference rule */
    adk_ctx_t *ctx = adk_test_ctx();
    adk_sweep_t *s = NULL;
    int rank = adk_ctx_rank(ctx);
    CU_ASSERT_FATAL(adk_sweep_run(ctx, NULL, v, y0, rank == 0 ? n : 0, 0, &s) == ADK_OK);
    CU_ASSERT(s->best == -1 && s->epsilon == 0.0 && s->f1 == 0.0 && s->npos == 0 &&
              s->ncand == ADK_SWEEP_NCAND && s->dir == ADK_SWEEP_BELOW);
    adk_sweep_free(s);
    /* one distinct value: every candidate equals it, nothing is flagged either way */
    double c[5] = {3.5, 3.5, 3.5, 3.5, 3.5};
    int64_t yc[5] = {1, 0, 1, 0, 0};
    for (int dir = 0; dir < 2; dir++) {
        adk_sweep_params_t p = {(adk_sweep_dir_t)dir, 0, 0, "c", NULL};
        CU_ASSERT_FATAL(adk_sweep_run(ctx, &p, c, yc, rank == 0 ? 5 : 0, 0, &s) == ADK_OK);
        CU_ASSERT(s->vmin == 3.5 && s->vmax == 3.5 && s->eps[0] == 3.5 && s->eps[999] == 3.5);
        CU_ASSERT(s->best == -1 && s->conf[500].tp == 0 && s->conf[500].fp == 0 &&
                  s->conf[500].fn == 2 && s->conf[500].tn == 3);
        adk_sweep_free(s);
    }
    /* one row, on the last rank */
    double one = -2.0;
    int64_t yone = 1;
    CU_ASSERT_FATAL(adk_sweep_run(ctx, NULL, &one, &yone, rank == adk_ctx_size(ctx) - 1, 0, &s) ==
                    ADK_OK);
    CU_ASSERT(s->n == 1 && s->npos == 1 && s->best == -1 && s->vmin == -2.0);
    adk_sweep_free(s);
}

/* -0.0 and +0.0 are one value: a candidate 0 flags neither (below) and both count as 0. */
static void test_signed_zeros(void)
{
    const double v[6] = {-1.0, -0.0, 0.0, -0.0, 1.0, 0.0};
    const int64_t y[6] = {1, 1, 0, 1, 0, 0};
    CU_ASSERT_EQUAL(check_against_ref("zeros below", v, y, 6, ADK_SWEEP_BELOW, 3), 0);
    CU_ASSERT_EQUAL(check_against_ref("zeros above", v, y, 6, ADK_SWEEP_ABOVE, 3), 0);
}

/* ------------------------------------------------------------------------------------------ */
/* numpy fixtures                                                                               */

static void test_linspace(void)
{
    int64_t np_ = 0, ni = 0, nv = 0, cv = 0;
    double *pairs = read_all("/linspace/pairs", &np_, NULL);
    double *idx = read_all("/linspace/idx", &ni, NULL);
    double *vals = read_all("/linspace/values", &nv, &cv);
    CU_ASSERT_FATAL(pairs && idx && vals && nv == np_ && cv == ni && np_ > 0);
    double eps[ADK_SWEEP_NCAND];
    int bad = 0;
    for (int64_t k = 0; k < np_; k++) {
        adk_sweep_linspace(pairs[2 * k], pairs[2 * k + 1], ADK_SWEEP_NCAND, eps);
        for (int64_t i = 0; i < ni; i++) {
            bad += !adk_test_same_bits(eps[(size_t)idx[i]], vals[k * ni + i]); /* bit for bit */
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    adk_sweep_linspace(2.0, 3.0, 1, eps); /* num = 1: start */
    CU_ASSERT_EQUAL(eps[0], 2.0);
    free(pairs);
    free(idx);
    free(vals);
}

/* The recipe's select_threshold (numpy) on the fixture cases, on four splits. */
static void test_numpy_cases(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int64_t nv = 0, nc = 0, rc = 0;
    double *v = read_all("/v", &nv, NULL);
    double *yd = read_all("/y", NULL, NULL);
    double *off = read_all("/offsets", &nc, NULL);
    double *res = read_all("/results", &rc, NULL);
    double *curve = read_all("/curve_f1_random", NULL, NULL);
    double *sub = read_all("/eps_subnormal", NULL, NULL);
    CU_ASSERT_FATAL(v && yd && off && res && curve && sub && rc == nc - 1 && rc >= 12);
    int64_t *y = malloc((size_t)nv * sizeof(int64_t));
    for (int64_t i = 0; i < nv; i++) {
        y[i] = (int64_t)yd[i];
    }
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    int nbad = 0;
    for (int64_t k = 0; k < rc; k++) {
        int64_t o = (int64_t)off[k], n = (int64_t)off[k + 1] - o;
        for (int s = 0; s < 4; s++) {
            int64_t start, count;
            split(s, n, size, rank, &start, &count);
            adk_sweep_t *sw = NULL;
            adk_sweep_params_t p = {ADK_SWEEP_BELOW, 0, (int)res[4 * k + 3], "case", NULL};
            int st =
                adk_sweep_run(ctx, &p, v + o + start, y + o + start, (size_t)count, start, &sw);
            CU_ASSERT_EQUAL_FATAL(st, ADK_OK);
            int ok = adk_test_same_bits(sw->epsilon, res[4 * k]) &&
                     adk_test_same_bits(sw->f1, res[4 * k + 1]) &&
                     (double)sw->best == res[4 * k + 2] && sw->n == n && sw->ncand == 1000 &&
                     sw->log == (int)res[4 * k + 3];
            if (k == 0) { /* "random": the whole F1 curve */
                for (size_t c = 0; c < sw->ncand; c++) {
                    ok &= adk_test_same_bits(sw->prf[c].f1, curve[c]);
                }
            }
            if (k == 7) { /* "subnormal": numpy's step == 0 rule for every candidate */
                for (size_t c = 0; c < sw->ncand; c++) {
                    ok &= adk_test_same_bits(sw->eps[c], sub[c]);
                }
            }
            if (!ok) {
                nbad++;
                if (rank == 0) {
                    printf("# case %lld split %d: epsilon %.17g f1 %.17g best %lld, reference "
                           "%.17g %.17g %.0f\n",
                           (long long)k, s, sw->epsilon, sw->f1, (long long)sw->best, res[4 * k],
                           res[4 * k + 1], res[4 * k + 2]);
                }
            }
            adk_sweep_free(sw);
        }
    }
    CU_ASSERT_EQUAL(nbad, 0);
    free(y);
    free(v);
    free(yd);
    free(off);
    free(res);
    free(curve);
    free(sub);
}

/* The curve file's text: the lines of numpy's loop on these rows, printed with %.17g. */
static void test_csv(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const double v[] = {0.5, 0.1, 0.1, 0.9, 0.3, 0.7, 0.2, 0.1};
    const int64_t y[] = {0, 1, 0, 0, 1, 0, 1, 1};
    const size_t n = 8;
    int64_t start, count;
    split(0, (int64_t)n, adk_ctx_size(ctx), adk_ctx_rank(ctx), &start, &count);
    adk_sweep_params_t p = {ADK_SWEEP_BELOW, 5, 0, "t", NULL}; /* 0.1, 0.3, 0.5, 0.7, 0.9 */
    adk_sweep_t *s = NULL;
    CU_ASSERT_FATAL(adk_sweep_run(ctx, &p, v + start, y + start, (size_t)count, start, &s) ==
                    ADK_OK);
    /* 0.1 + 0.2 rounds to 0.30000000000000004, so the row at 0.3 counts: candidates 1 and 2
     * both give tp 4, fp 1 (F1 8/9); the first one wins the tie */
    CU_ASSERT_EQUAL(s->best, 1);
    CU_ASSERT(adk_test_same_bits(s->epsilon, 0.1 + 0.2));
    char *csv = adk_sweep_csv(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_STRING_EQUAL(csv, "epsilon,precision,recall,f1\n"
                                "0.10000000000000001,0,0,0\n"
                                "0.30000000000000004,0.80000000000000004,1,0.88888888888888895\n"
                                "0.5,0.80000000000000004,1,0.88888888888888895\n"
                                "0.70000000000000007,0.5714285714285714,1,0.72727272727272729\n"
                                "0.90000000000000002,0.5714285714285714,1,0.72727272727272729\n");
    free(csv);
    adk_sweep_free(s);
}

static void test_errors(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int rank = adk_ctx_rank(ctx), size = adk_ctx_size(ctx);
    double v[3] = {0.1, 0.2, 0.3};
    int64_t y[3] = {0, 1, 0};
    adk_sweep_t *s = NULL;
    /* a bad label on the last rank only: every rank gets the status */
    int64_t yb[3] = {0, rank == size - 1 ? 2 : 1, 0};
    adk_sweep_params_t p = {ADK_SWEEP_BELOW, 0, 0, "val.h5:/labels", NULL};
    adk_ctx_clear(ctx);
    CU_ASSERT_EQUAL(adk_sweep_run(ctx, &p, v, yb, 3, 3 * rank, &s), ADK_EDATA);
    CU_ASSERT_PTR_NULL(s);
    char want[64];
    snprintf(want, sizeof(want), "val.h5:/labels row %d: label 2 is not 0", 3 * (size - 1) + 1);
    CU_ASSERT(adk_test_message_has(want));
    adk_ctx_clear(ctx);
    double vn[3] = {0.1, NAN, 0.3};
    adk_sweep_params_t pl = {ADK_SWEEP_BELOW, 0, 1, "v", "log density"};
    CU_ASSERT_EQUAL(adk_sweep_run(ctx, &pl, vn, y, 3, 0, &s), ADK_EDATA);
    CU_ASSERT(adk_test_message_has("v row 1: log density NaN is not finite"));
    adk_ctx_clear(ctx);
    double vi[3] = {0.1, 0.2, -INFINITY};
    CU_ASSERT_EQUAL(adk_sweep_run(ctx, NULL, vi, y, 3, 10, &s), ADK_EDATA);
    CU_ASSERT(adk_test_message_has("data row 12: score Inf is not finite"));
    adk_ctx_clear(ctx);
    adk_sweep_params_t pe = {ADK_SWEEP_ABOVE, 0, 0, "empty", NULL};
    CU_ASSERT_EQUAL(adk_sweep_run(ctx, &pe, v, y, 0, 0, &s), ADK_EDATA);
    CU_ASSERT(adk_test_message_has("empty: no rows"));
    adk_ctx_clear(ctx);
    double vw[2] = {-DBL_MAX, DBL_MAX};
    CU_ASSERT_EQUAL(adk_sweep_run(ctx, NULL, vw, y, 2, 0, &s), ADK_EDATA);
    CU_ASSERT(adk_test_message_has("too wide"));
    adk_ctx_clear(ctx);
    adk_sweep_params_t pc = {ADK_SWEEP_BELOW, (size_t)1 << 40, 0, NULL, NULL};
    CU_ASSERT_EQUAL(adk_sweep_run(ctx, &pc, v, y, 3, 0, &s), ADK_EINVAL);
    adk_ctx_clear(ctx);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"random scores, both directions = brute-force loop", test_random_both_directions},
        {"ties and candidates on the scores = brute force", test_ties},
        {"one class, one value, one row", test_degenerate},
        {"-0.0 and +0.0 are one score", test_signed_zeros},
        {"linspace equals np.linspace", test_linspace},
        {"numpy select_threshold cases on four splits", test_numpy_cases},
        {"curve as CSV text", test_csv},
        {"bad input: agreed error naming the row", test_errors},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_sweep", tests);
}
