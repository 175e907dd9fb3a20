/*
 * adk_kinit: the initial centres of a k-means run. Greedy k-means++ as scikit-learn draws it,
 * with candidates sampled exactly (an integer prefix over all rows in global order, so the
 * pick does not depend on the split), and random init (k distinct rows by Floyd's algorithm).
 * Internal to adk_kmeans (not installed).
 */
#include "adk_kinit.h"
#include "adk_mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "adk_repro.h"

/* k-means++ state: closest squared distance of every local row to the chosen centres. */
typedef struct {
    fit_t *f;
    double *closest; /* nloc */
    int ntrial;
    double *ppart;     /* ntrial block partial potentials */
    adk_racc_t *pacc;  /* ntrial potentials */
    int mode;          /* 0: set closest, 1: trial potentials, 2: update closest */
    adk_centres_t *cc; /* the centres of the pass */
} kpp_t;

static void kpp_chunk(void *ud, size_t first, size_t count, const double *rows, const double *dist,
                      size_t ldd)
{
    kpp_t *kp = ud;
    fit_t *f = kp->f;
    for (size_t i = 0; i < count; i++) {
        size_t li = f->woff + first + i;
        double xn = adk_dist_norm2(rows + i * f->d, f->d);
        const double *r = dist + i * ldd;
        if (kp->mode == 0 || kp->mode == 2) {
            /* GEMM-form squared distance clipped at 0, as scikit-learn's _euclidean_distances */
            double v = r[0] + xn;
            v = v > 0.0 ? v : 0.0;
            kp->closest[li] = (kp->mode == 0 || v < kp->closest[li]) ? v : kp->closest[li];
            continue;
        }
        for (int t = 0; t < kp->ntrial; t++) {
            double v = r[t] + xn;
            v = v > 0.0 ? v : 0.0;
            kp->ppart[t] += v < kp->closest[li] ? v : kp->closest[li];
        }
        int64_t g = f->row0 + (int64_t)li;
        if ((g + 1) % f->block == 0 || g + 1 == f->n) {
            for (int t = 0; t < kp->ntrial; t++) {
                adk_racc_add(kp->pacc, (size_t)t, kp->ppart[t]);
                kp->ppart[t] = 0.0;
            }
        }
    }
}

/* A window of a k-means++ pass (as estep_window). */
static int kpp_window(void *ud, const adk_rows_t *w, size_t off)
{
    kpp_t *kp = ud;
    kp->f->woff = off;
    adk_dist_blocks_shifted(kp->f->ws, kp->cc, w->x, w->nloc, w->row0, kp->f->mean, kpp_chunk, kp);
    return ADK_OK;
}

/* Fixed-point image of a squared distance on a grid below 2^e: < 2^62, truncated. */
static uint64_t kpp_q(double v, int e)
{
    double y = ldexp(v, 62 - e);
    return y >= 1.0 ? (uint64_t)y : 0;
}

/* u128 <-> four 32-bit digits in u64 slots, so MPI can sum them exactly. */
static void u128_digits(unsigned __int128 v, uint64_t dg[4])
{
    for (int i = 3; i >= 0; i--) {
        dg[i] = (uint64_t)(v & 0xffffffffu);
        v >>= 32;
    }
}

static unsigned __int128 digits_u128(const uint64_t dg[4])
{
    unsigned __int128 v = 0;
    for (int i = 0; i < 4; i++) {
        v = (v << 32) + dg[i]; /* carries propagate: digits may exceed 32 bits after a sum */
    }
    return v;
}

/*
 * Draw ntrial candidates with probability proportional to closest: an exact integer prefix over
 * all rows in global order (truncated fixed point), so the pick is the same for any split.
 */
static int kpp_sample(kpp_t *kp, adk_rng_t *rng, int64_t *cand)
{
    fit_t *f = kp->f;
    MPI_Comm comm = adk_ctx_comm(f->ctx);
    double mx = 0.0;
    for (size_t i = 0; i < f->nloc; i++) {
        mx = kp->closest[i] > mx ? kp->closest[i] : mx;
    }
    int st = adk_ctx_allreduce(f->ctx, MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX);
    if (st != ADK_OK) {
        return st;
    }
    int e = adk_repro_exponent(mx);
    unsigned __int128 loc = 0;
    for (size_t i = 0; i < f->nloc; i++) {
        loc += kpp_q(kp->closest[i], e);
    }
    uint64_t dl[4], pre[4] = {0, 0, 0, 0}, tot[4];
    u128_digits(loc, dl);
    st = ADK_MPI_CALL(f->ctx, 4, MPI_UINT64_T,
                      MPI_Exscan(dl, pre, 4, MPI_UINT64_T, MPI_SUM, comm)) == MPI_SUCCESS
             ? ADK_OK
             : ADK_ERR(f->ctx, ADK_EMPI, "MPI_Exscan failed");
    st = adk_ctx_agree(f->ctx, st);
    if (st == ADK_OK) {
        st = adk_ctx_allreduce(f->ctx, dl, tot, 4, MPI_UINT64_T, MPI_SUM);
    }
    if (st != ADK_OK) {
        return st;
    }
    if (adk_ctx_rank(f->ctx) == 0) {
        memset(pre, 0, sizeof(pre));
    }
    unsigned __int128 start = digits_u128(pre), total = digits_u128(tot);
    for (int t = 0; t < kp->ntrial; t++) {
        uint64_t r = adk_rng_u64(rng);
        /* target = floor(total * r / 2^64), exactly */
        uint64_t thi = (uint64_t)(total >> 64), tlo = (uint64_t)total;
        unsigned __int128 target =
            (unsigned __int128)thi * r + (((unsigned __int128)tlo * r) >> 64);
        cand[t] = INT64_MAX;
        if (total == 0) {
            cand[t] = 0; /* all mass zero: scikit-learn's searchsorted gives the first row */
        } else if (target >= start && target < start + loc) {
            unsigned __int128 acc = start;
            for (size_t i = 0; i < f->nloc; i++) {
                acc += kpp_q(kp->closest[i], e);
                if (target < acc) {
                    cand[t] = f->row0 + (int64_t)i;
                    break;
                }
            }
        }
    }
    return adk_ctx_allreduce(f->ctx, MPI_IN_PLACE, cand, kp->ntrial, MPI_INT64_T, MPI_MIN);
}

/* Greedy k-means++ (scikit-learn's _kmeans_plusplus): 2 + floor(ln k) trials per centre. */
int adk_kinit_kmeanspp(fit_t *f, adk_rng_t *rng, double *centres)
{
    size_t k = f->k, d = f->d;
    int ntrial = 2 + (int)log((double)k);
    kpp_t kp = {f, NULL, ntrial, NULL, NULL, 0, NULL};
    adk_centres_t *cc = NULL;
    int64_t *cand = adk_malloc((size_t)ntrial * sizeof(int64_t));
    double *crow = adk_malloc((size_t)ntrial * d * sizeof(double));
    kp.closest = adk_malloc((f->nloc ? f->nloc : 1) * sizeof(double));
    kp.ppart = adk_calloc((size_t)ntrial, sizeof(double));
    int st = (cand && crow && kp.closest && kp.ppart) ? ADK_OK : ADK_ENOMEM;
    if (st == ADK_OK) {
        st = adk_centres_alloc((size_t)ntrial, d, &cc);
        kp.cc = cc;
    }
    if (st == ADK_OK) {
        st = adk_racc_alloc((size_t)ntrial, 0, &kp.pacc);
    }
    if (st != ADK_OK) {
        st = ADK_ERR(f->ctx, st, "out of memory in k-means++");
    }
    st = adk_ctx_agree(f->ctx, st);
    if (st == ADK_OK) { /* first centre: uniform over rows */
        int64_t g0 = (int64_t)adk_rng_below(rng, (uint64_t)f->n);
        st = adk_kfit_fetch_rows(f, &g0, 1, centres);
    }
    if (st == ADK_OK) {
        cc->k = 1;
        adk_centres_set(cc, centres);
        kp.mode = 0;
        st = adk_rowsrc_pass(f->src, kpp_window, &kp);
    }
    for (size_t c = 1; c < k && st == ADK_OK; c++) {
        st = kpp_sample(&kp, rng, cand);
        if (st == ADK_OK) {
            st = adk_kfit_fetch_rows(f, cand, (size_t)ntrial, crow);
        }
        if (st != ADK_OK) {
            break;
        }
        /* potential of each candidate: sum of min(closest, d^2(x, candidate)) */
        double mx = 0.0;
        for (size_t i = 0; i < f->nloc; i++) {
            mx = kp.closest[i] > mx ? kp.closest[i] : mx;
        }
        st = adk_ctx_allreduce(f->ctx, MPI_IN_PLACE, &mx, 1, MPI_DOUBLE, MPI_MAX);
        if (st != ADK_OK) {
            break;
        }
        adk_racc_zero(kp.pacc);
        for (int t = 0; t < ntrial; t++) {
            adk_racc_set_scale(kp.pacc, (size_t)t, adk_repro_exponent(mx * (double)f->block) + 1);
            kp.ppart[t] = 0.0;
        }
        cc->k = (size_t)ntrial;
        adk_centres_set(cc, crow);
        kp.mode = 1;
        st = adk_rowsrc_pass(f->src, kpp_window, &kp);
        if (st == ADK_OK) {
            st = adk_racc_allreduce(f->ctx, kp.pacc);
        }
        if (st != ADK_OK) {
            break;
        }
        int best = 0;
        double bpot = adk_racc_get(kp.pacc, 0);
        for (int t = 1; t < ntrial; t++) {
            double p = adk_racc_get(kp.pacc, (size_t)t);
            if (p < bpot) {
                bpot = p;
                best = t;
            }
        }
        memcpy(centres + c * d, crow + (size_t)best * d, d * sizeof(double));
        cc->k = 1;
        adk_centres_set(cc, crow + (size_t)best * d);
        kp.mode = 2;
        st = adk_rowsrc_pass(f->src, kpp_window, &kp);
    }
    if (cc) {
        cc->k = (size_t)ntrial;
    }
    adk_centres_free(cc);
    adk_racc_free(kp.pacc);
    free(kp.ppart);
    free(kp.closest);
    free(crow);
    free(cand);
    return st;
}

/* k distinct rows, uniformly (Floyd's algorithm on one global stream). */
int adk_kinit_random(fit_t *f, adk_rng_t *rng, double *centres)
{
    size_t k = f->k;
    int64_t *g = adk_malloc(k * sizeof(int64_t));
    int st = adk_ctx_agree(f->ctx, g ? ADK_OK : ADK_ERR(f->ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        free(g);
        return st;
    }
    size_t m = 0;
    for (int64_t j = f->n - (int64_t)k; j < f->n; j++) {
        int64_t t = (int64_t)adk_rng_below(rng, (uint64_t)j + 1);
        int seen = 0;
        for (size_t q = 0; q < m && !seen; q++) {
            seen = g[q] == t;
        }
        g[m++] = seen ? j : t;
    }
    st = adk_kfit_fetch_rows(f, g, k, centres);
    free(g);
    return st;
}
