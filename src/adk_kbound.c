/*
 * adk_kbound: the exact acceleration of a k-means fit. Hamerly's and Yinyang's bounds on each
 * row's distances, made safe against the kernel's rounding, let a pass skip the rows they
 * settle, and the incremental M-step re-sums only the blocks whose rows changed cluster: the
 * same bits as Lloyd's full pass. Internal to adk_kmeans (not installed).
 */
#include "adk_kbound.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "adk_kstep.h"
#include "adk_vec.h"

/* ------------------------------------------------------------------------------------------ */
/* Exact acceleration: Hamerly's bounds, rigorous against the kernel's rounding                */

/*
 * Every quantity below is a bound on an exact distance between the doubles the kernel sees (the
 * staged rows x' = x - mean and the centres c_j), made safe against rounding:
 * - the kernel's value v_j = fl(||c_j||^2 - 2 x'.c_j) (cn_j itself rounded, a dot product of d
 *   terms in any order, one more operation for beta = 1) is within
 *   E = G (||x'|| + max ||c||)^2 + DBL_MIN of ||x' - c_j||^2 - ||x'||^2, with
 *   G = (4 d + 64) 2^-53 >= 2 gamma_{d+2} (Higham, Accuracy and Stability, sec. 3.1; DBL_MIN
 *   covers underflow in the products); G also covers every direct distance and norm below;
 * - a row keeps its label a without the kernel only if lb^2 - ub^2 > 2E (computed > 3E), lb a lower
 *   bound on the distance to every other centre and ub an upper bound on the distance to c_a: then
 *   v_a < v_j for every j != a, and the kernel's first minimum is a, as in Lloyd;
 * - sums, differences and square roots of bounds are rounded outwards by 2^-49 relative, which
 *   covers their own rounding (u = 2^-53 each).
 */
#define B_UP (1.0 + 0x1p-49)
#define B_DN (1.0 - 0x1p-49)

double adk_kbound_slack(size_t d)
{
    return ldexp(4.0 * (double)d + 64.0, -53);
}

/* The kernel's error bound E for a row of norm at most xn. */
static double kernel_err(const fit_t *f, double xn)
{
    double r = xn + f->bcmax;
    return f->bslack * r * r + DBL_MIN;
}

/* Whether ub (>= d(x, c_a)) and lb (<= d(x, c_j), j != a) prove the kernel keeps label a. */
static int proves(double ub, double lb, double e)
{
    return lb > ub && (lb - ub) * (lb + ub) > 3.0 * e;
}

/* Squared distance from a row, centred as the kernel stages it, to a centre. */
static double sq_centred(const double *x, const double *mean, const double *c, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double t = (x[j] - mean[j]) - c[j];
        s += t * t;
    }
    return s;
}

/*
 * Yinyang's groups (Ding et al., ICML 2015): the centres of a run's first pass clustered into
 * ngroups groups by five Lloyd steps on the centres themselves, from centres spread over the
 * index range (ties to the lowest index). The same on every rank: the centres are.
 */
static void make_groups(fit_t *f)
{
    size_t k = f->k, d = f->d, t = f->ngroups;
    const double *c = f->cen->c;
    double *gc = f->bc;     /* scratch until the pass ends (then it takes the centres) */
    double *cnt = f->drift; /* scratch too: k >= t values */
    for (size_t q = 0; q < t; q++) {
        memcpy(gc + q * d, c + (q * k / t) * d, d * sizeof(double));
    }
    for (int it = 0; it < 5; it++) {
        for (size_t j = 0; j < k; j++) {
            size_t b = 0;
            double bd = INFINITY;
            for (size_t q = 0; q < t; q++) {
                double v = adk_dist_sq(c + j * d, gc + q * d, d);
                if (v < bd) {
                    bd = v;
                    b = q;
                }
            }
            f->group[j] = (int32_t)b;
        }
        for (size_t q = 0; q < t; q++) {
            cnt[q] = 0.0;
        }
        for (size_t j = 0; j < k; j++) {
            cnt[f->group[j]] += 1.0;
        }
        for (size_t q = 0; q < t; q++) {
            if (cnt[q] > 0.0) { /* an empty group keeps its centre */
                memset(gc + q * d, 0, d * sizeof(double));
            }
        }
        for (size_t j = 0; j < k; j++) {
            size_t q = (size_t)f->group[j];
            for (size_t e = 0; e < d; e++) {
                gc[q * d + e] += c[j * d + e] / cnt[q];
            }
        }
    }
}

/*
 * Before a pass with new centres, what every row's bounds need: the centres' drift since bc (the
 * largest two for Hamerly, the largest of each group for Yinyang) and each centre's separation
 * from the others. Without valid bounds (a new run, a resumed one) every row is marked: one full
 * pass.
 */
void adk_kbound_prepare(fit_t *f)
{
    size_t k = f->k, d = f->d;
    const double *c = f->cen->c;
    double g = f->bslack, cm = 0.0;
    for (size_t j = 0; j < k; j++) {
        cm = f->cen->cn[j] > cm ? f->cen->cn[j] : cm;
    }
    f->bcmax = sqrt(cm) * (1.0 + g);
    f->ncomp = 0;
    f->ntight = 0;
    if (!f->bvalid) {
        if (f->group) {
            make_groups(f);
        }
        memset(f->need, 1, f->nloc);
        return;
    }
    for (size_t q = 0; f->group && q < f->ngroups; q++) {
        f->gdrift[q] = 0.0;
    }
    double p1 = 0.0, p2 = 0.0; /* the two largest drifts, p1 of centre i1 */
    size_t i1 = 0;
    for (size_t j = 0; j < k; j++) {
        double p = sqrt(adk_dist_sq(c + j * d, f->bc + j * d, d)) * (1.0 + g);
        f->drift[j] = p;
        if (f->group && p > f->gdrift[f->group[j]]) {
            f->gdrift[f->group[j]] = p;
        }
        if (p > p1) {
            p2 = p1;
            p1 = p;
            i1 = j;
        } else if (p > p2) {
            p2 = p;
        }
        f->sep[j] = INFINITY;
    }
    f->drift1 = p1;
    f->drift2 = p2;
    f->drift1_of = i1;
    for (size_t j = 0; j < k; j++) {
        for (size_t q = j + 1; q < k; q++) {
            double s = sqrt(adk_dist_sq(c + j * d, c + q * d, d)) * (1.0 - g);
            f->sep[j] = s < f->sep[j] ? s : f->sep[j];
            f->sep[q] = s < f->sep[q] ? s : f->sep[q];
        }
    }
}

/*
 * Rows [off, off + count) of a window (values x): move their bounds by the drifts (Hamerly: ub +
 * drift of its centre, lb - the largest drift of the others), use the centres' separation
 * (d(x, c_j) >= d(c_a, c_j) - ub), and mark the rows they do not settle even after ub is recomputed
 * directly from the row. Local.
 */
static void bounds_rows(fit_t *f, const double *x, size_t off, size_t count)
{
    size_t d = f->d, t = f->ngroups;
    const double *c = f->cen->c;
    double g = f->bslack;
    enum { BATCH = 64 };
    size_t at[BATCH];
    double lbs[BATCH];
    /* in batches: the rows the moved bounds leave open are read for the second chance after
     * their loads were all asked for (prefetched), not one cache miss at a time */
    for (size_t r0 = 0; r0 < count; r0 += BATCH) {
        size_t nb = count - r0 < BATCH ? count - r0 : BATCH, nt = 0;
        for (size_t r = r0; r < r0 + nb; r++) {
            size_t i = off + r;
            size_t a = (size_t)f->labels[i];
            double ub = (f->ub[i] + f->drift[a]) * B_UP, lb;
            if (!f->group) { /* Hamerly: the largest drift of the other centres */
                lb = f->lb[i] - (a == f->drift1_of ? f->drift2 : f->drift1);
                lb = lb > 0.0 ? lb * B_DN : 0.0;
                f->lb[i] = lb;
            } else { /* Yinyang: each group's bound by its largest drift; the smallest of them */
                double *l = f->lb + i * t;
                lb = INFINITY;
                for (size_t q = 0; q < t; q++) {
                    double v = l[q] - f->gdrift[q];
                    l[q] = v > 0.0 ? v * B_DN : 0.0;
                    lb = l[q] < lb ? l[q] : lb;
                }
            }
            double e = kernel_err(f, f->xn[i]);
            double sb = (f->sep[a] - ub) * B_DN; /* only used when positive: then rounded down */
            f->ub[i] = ub;
            f->need[i] = 0;
            if (!proves(ub, lb > sb ? lb : sb, e)) {
                const char *row = (const char *)(x + r * d);
                for (size_t o = 0; o < d * sizeof(double); o += 64) {
                    __builtin_prefetch(row + o);
                }
                at[nt] = r;
                lbs[nt++] = lb;
            }
        }
        for (size_t q = 0; q < nt; q++) { /* Hamerly's second chance: the exact distance */
            size_t r = at[q], i = off + r, a = (size_t)f->labels[i];
            double ub = sqrt(sq_centred(x + r * d, f->mean, c + a * d, d)) * (1.0 + g);
            double sb = (f->sep[a] - ub) * B_DN;
            f->ntight++;
            f->ub[i] = ub;
            f->need[i] = !proves(ub, lbs[q] > sb ? lbs[q] : sb, kernel_err(f, f->xn[i]));
        }
    }
}

/* Fresh bounds of local row li from the kernel's values: v_a (best) and the smallest of each
 * group's others (gmin), plus ||x'||^2 of the staged row, widened by 2E. */
static void fresh_bounds(fit_t *f, size_t li, const double *row, double best, const double *gmin)
{
    f->ncomp++;
    double xx = adk_vec_norm2(row, f->d);
    double xn = sqrt(xx) * (1.0 + f->bslack);
    double e = kernel_err(f, xn);
    double u2 = best + xx + 2.0 * e;
    f->xn[li] = xn;
    f->ub[li] = sqrt(u2 > 0.0 ? u2 : 0.0) * B_UP;
    for (size_t q = 0; q < f->ngroups; q++) {
        double l2 = gmin[q] + xx - 2.0 * e;
        f->lb[li * f->ngroups + q] = l2 > 0.0 ? sqrt(l2) * B_DN : 0.0;
    }
}

/*
 * One chunk of an accelerated pass: rows the kernel computed get its label and fresh bounds from
 * its values (v_a and the second smallest, plus ||x'||^2, widened by 2E), the others keep theirs;
 * then exactly Lloyd's accumulation.
 */
static void bounds_chunk(void *ud, size_t first, size_t count, const double *rows,
                         const int32_t *label, const double *best, const double *gmin)
{
    fit_t *f = ud;
    size_t d = f->d;
    int32_t lab[ADK_DIST_CHUNK];
    for (size_t i = 0; i < count; i++) {
        size_t li = f->woff + first + i;
        if (label[i] < 0) {
            lab[i] = f->labels[li];
            continue;
        }
        lab[i] = label[i];
        fresh_bounds(f, li, rows + i * d, best[i], gmin + i * f->ngroups);
    }
    adk_kstep_chunk(f, first, count, rows, lab, best);
}

/*
 * The incremental M-step's re-sum of one block [bs, be) (global; within the window), whose rows
 * chg_row[c0..c1) changed label: the partials of every cluster those rows left or joined, under
 * the labels before (opart) and after (part), each in row order with adk_kfit_add_row on the row
 * centred as the kernel stages it, so each is bit for bit the partial Lloyd's pass forms with those
 * labels. lacc then trades each old partial's image for the new one's (a cluster with no row in the
 * block has the partial 0, whose image is 0, as Lloyd, which adds nothing for it).
 */
static void resum_block(fit_t *f, int64_t bs, int64_t be, size_t c0, size_t c1)
{
    size_t d = f->d, nt = 0;
    for (size_t q = c0; q < c1; q++) {
        int32_t cs[2] = {f->chg_old[q], f->labels[f->chg_row[q]]};
        for (int t = 0; t < 2; t++) {
            if (!f->mark[cs[t]]) {
                f->mark[cs[t]] = 1;
                f->touched[nt++] = cs[t];
            }
        }
    }
    /* the rows to add, then their loads asked for a few rows ahead (they lie scattered) */
    size_t q = c0, m = 0, lo = (size_t)(bs - f->row0);
    for (size_t r = lo; r < (size_t)(be - f->row0); r++) {
        int32_t now = f->labels[r], before = now;
        if (q < c1 && f->chg_row[q] == r) {
            before = f->chg_old[q++];
        }
        if (f->mark[before] || f->mark[now]) {
            f->rs_row[m] = (int32_t)(r - lo);
            f->rs_before[m++] = before;
        }
    }
    const double *xb = f->wx + (lo - f->woff) * d;
    for (size_t p = 0; p < m; p++) {
        if (p + 8 < m) {
            const char *ahead = (const char *)(xb + (size_t)f->rs_row[p + 8] * d);
            for (size_t o = 0; o < d * sizeof(double); o += 64) {
                __builtin_prefetch(ahead + o);
            }
        }
        const double *x = xb + (size_t)f->rs_row[p] * d;
        int32_t before = f->rs_before[p], now = f->labels[lo + (size_t)f->rs_row[p]];
        for (size_t j = 0; j < d; j++) {
            f->xrow[j] = x[j] - f->mean[j];
        }
        if (f->mark[before]) {
            adk_kfit_add_row(f->opart + (size_t)before * d, f->xrow, d);
        }
        if (f->mark[now]) {
            adk_kfit_add_row(f->part + (size_t)now * d, f->xrow, d);
        }
    }
    for (size_t t = 0; t < nt; t++) {
        size_t c = (size_t)f->touched[t];
        for (size_t j = 0; j < d; j++) {
            adk_racc_add(f->lacc, c * d + j, -f->opart[c * d + j]);
            adk_racc_add(f->lacc, c * d + j, f->part[c * d + j]);
            f->opart[c * d + j] = 0.0;
            f->part[c * d + j] = 0.0;
        }
        f->mark[c] = 0;
    }
}

/* Re-sum the blocks with pending changes that end at or before global row @p upto. */
static void resum_pending(fit_t *f, int64_t upto)
{
    size_t done = 0;
    while (done < f->nchg) {
        int64_t g = f->row0 + (int64_t)f->chg_row[done];
        int64_t bs = g / f->block * f->block;
        int64_t be = bs + f->block < f->n ? bs + f->block : f->n;
        if (be > upto) {
            break;
        }
        size_t e = done;
        while (e < f->nchg && f->row0 + (int64_t)f->chg_row[e] < be) {
            e++;
        }
        resum_block(f, bs, be, done, e);
        done = e;
    }
    if (done > 0) {
        memmove(f->chg_row, f->chg_row + done, (f->nchg - done) * sizeof(size_t));
        memmove(f->chg_old, f->chg_old + done, (f->nchg - done) * sizeof(int32_t));
        f->nchg -= done;
    }
}

/*
 * One chunk of an incremental pass (only chunks with rows the bounds do not settle; only those
 * rows are staged): fresh bounds, and each changed label recorded with its count moved; the
 * blocks that end in the chunk are re-summed. No inertia: only the last pass reports it.
 */
static void incr_chunk(void *ud, size_t first, size_t count, const double *rows,
                       const int32_t *label, const double *best, const double *gmin)
{
    fit_t *f = ud;
    for (size_t i = 0; i < count; i++) {
        if (label[i] < 0) {
            continue;
        }
        size_t li = f->woff + first + i;
        fresh_bounds(f, li, rows + i * f->d, best[i], gmin + i * f->ngroups);
        int32_t a = label[i], o = f->labels[li];
        if (a != o) {
            f->chg_row[f->nchg] = li;
            f->chg_old[f->nchg++] = o;
            f->labels[li] = a;
            f->changed++;
            adk_racc_addi(f->lacc, (size_t)o, -1);
            adk_racc_addi(f->lacc, (size_t)a, 1);
        }
    }
    resum_pending(f, f->row0 + (int64_t)(f->woff + first + count));
}

/* A window of an accelerated pass (as estep_window): the bounds of its rows move first, then the
 * kernel sees the rows they do not settle. */
int adk_kbound_window(void *ud, const adk_rows_t *w, size_t off)
{
    fit_t *f = ud;
    size_t d = f->d, a = 0;
    /* piece by piece, each whole blocks and whole chunks (both powers of two), so the rows one
     * piece reads for its bounds, its kernel and its blocks' re-sums are still in cache */
    int64_t step = f->block > ADK_DIST_CHUNK ? f->block : ADK_DIST_CHUNK;
    while (a < w->nloc) {
        int64_t g = w->row0 + (int64_t)a;
        size_t b = a + (size_t)(step - g % step);
        b = b < w->nloc ? b : w->nloc;
        f->woff = off + a;
        f->wx = w->x + a * d;
        if (f->bvalid) {
            bounds_rows(f, f->wx, f->woff, b - a);
        }
        adk_dist_nearest_bounds(f->ws, f->cen, f->wx, b - a, g, f->mean, f->need + f->woff, f->incr,
                                f->ngroups, f->group, f->gmin, f->incr ? incr_chunk : bounds_chunk,
                                f);
        if (f->incr) { /* the piece ends with a block (incr_ok): its blocks are complete */
            resum_pending(f, INT64_MAX);
        }
        a = b;
    }
    return ADK_OK;
}

/* Fraction of the row-centre distances of the last pass that the bounds skipped. */
double adk_kbound_skipped(const fit_t *f)
{
    double done = (double)adk_racc_geti(f->acc, f->k + 2) * (double)f->k +
                  (double)adk_racc_geti(f->acc, f->k + 3);
    return 1.0 - done / ((double)f->n * (double)f->k);
}
