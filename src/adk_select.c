/*
 * adk_select: exact distributed selection by radix refinement of order-preserving keys, all
 * groups and targets in one MPI_Allreduce per round (method and costs in adk_select.h).
 */
#include "adk_select.h"
#include "adk_mem.h"

#include "adk_key.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_KEY UINT64_MAX /* never the key of a finite double (that would be a NaN's) */
/* Histogram buffer bound per round: the radix narrows when many targets are still open. */
#define HIST_LIMIT_BYTES ((size_t)16 << 20)

/* One histogram bin as reduced: count (summed), largest key, complement of the smallest key
 * (both maxed), so an empty bin (0, 0, 0) is the identity. */
enum { B_CNT = 0, B_MAX = 1, B_NMIN = 2, B_LEN = 3 };

typedef struct {
    int64_t k;     /* wanted 0-based rank in the group; -1: no value wanted */
    int64_t n;     /* values in the group (global) */
    int64_t below; /* group values with key < lo (global) */
    int64_t cnt;   /* group values with key in [lo, hi] (global) */
    uint64_t lo;   /* the answer lies in [lo, hi] */
    uint64_t hi;
    uint64_t succ; /* smallest key above hi seen so far, NO_KEY if none */
    int done;
    int shift, bits; /* this round's bins: key bits [shift, shift+bits) */
    size_t off;      /* this round's first bin in the buffers */
    uint64_t *cand;  /* this rank's keys in [lo, hi] once few enough, else NULL (read the input) */
    size_t ncand, cap;
    int filling; /* cand allocated this round, to be filled from the input */
} target_t;

/* Returns the wanted rank for (group g, slot j) of a group with @p count values, or -1. */
typedef int64_t (*rank_fn)(const void *ud, size_t g, size_t j, int64_t count);

void adk_select_linear_index(int64_t n, double q, int64_t *lo, int64_t *hi, double *gamma)
{
    /* numpy 1.24: q/100 (true_divide), v = (n-1)*q, then _get_indexes and _get_gamma */
    double qf = q / 100.0;
    double v = (double)(n - 1) * qf;
    double used;
    if (v >= (double)(n - 1)) {
        *lo = *hi = n - 1;
        used = -1.0; /* numpy indexes the last element as -1 and subtracts that */
    } else if (v < 0.0) {
        *lo = *hi = 0;
        used = 0.0;
    } else {
        *lo = (int64_t)floor(v);
        *hi = *lo + 1;
        used = (double)*lo; /* through the integer, as numpy's intp index: floor(-0.0) is 0 */
    }
    *gamma = v - used;
}

double adk_select_lerp(double a, double b, double g)
{
    double d = b - a;
    double r = a + d * g;
    if (g >= 0.5) {
        r = b - d * (1.0 - g);
    }
    return r;
}

static void bin_reduce(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const uint64_t *a = in;
    uint64_t *b = inout;
    for (int i = 0; i < *len; i++, a += B_LEN, b += B_LEN) {
        b[B_CNT] += a[B_CNT];
        if (a[B_MAX] > b[B_MAX]) {
            b[B_MAX] = a[B_MAX];
        }
        if (a[B_NMIN] > b[B_NMIN]) {
            b[B_NMIN] = a[B_NMIN];
        }
    }
}

static void bin_add(uint64_t *bin, uint64_t key)
{
    bin[B_CNT]++;
    if (key > bin[B_MAX]) {
        bin[B_MAX] = key;
    }
    if (~key > bin[B_NMIN]) {
        bin[B_NMIN] = ~key;
    }
}

/* Number of key bits below the common prefix of lo < hi. */
static int free_bits(uint64_t lo, uint64_t hi)
{
    return 64 - __builtin_clzll(lo ^ hi);
}

typedef struct {
    MPI_Datatype type;
    MPI_Op op;
    uint64_t *send, *recv;
    size_t cap; /* bins allocated in send and recv */
} comm_t;

static int comm_setup(adk_ctx_t *ctx, comm_t *c)
{
    c->type = MPI_DATATYPE_NULL;
    c->op = MPI_OP_NULL;
    c->send = c->recv = NULL;
    c->cap = 0;
    if (MPI_Type_contiguous(B_LEN, MPI_UINT64_T, &c->type) != MPI_SUCCESS ||
        MPI_Type_commit(&c->type) != MPI_SUCCESS) {
        return ADK_ERR(ctx, ADK_EMPI, "selection: cannot create the histogram datatype");
    }
    if (MPI_Op_create(bin_reduce, 1, &c->op) != MPI_SUCCESS) {
        return ADK_ERR(ctx, ADK_EMPI, "selection: cannot create the histogram reduction");
    }
    return ADK_OK;
}

static void comm_free(comm_t *c)
{
    if (c->op != MPI_OP_NULL) {
        MPI_Op_free(&c->op);
    }
    if (c->type != MPI_DATATYPE_NULL) {
        MPI_Type_free(&c->type);
    }
    free(c->send);
    free(c->recv);
}

/* Make room for @p bins bins, zeroed in send. Local. */
static int comm_reserve(adk_ctx_t *ctx, comm_t *c, size_t bins)
{
    if (bins > (size_t)INT_MAX) {
        return ADK_ERR(ctx, ADK_EINVAL, "selection: too many groups for one call (%zu bins)", bins);
    }
    if (bins > c->cap) {
        uint64_t *s = adk_realloc(c->send, bins * B_LEN * sizeof(uint64_t));
        if (s) {
            c->send = s;
        }
        uint64_t *r = s ? adk_realloc(c->recv, bins * B_LEN * sizeof(uint64_t)) : NULL;
        if (r) {
            c->recv = r;
        }
        if (!s || !r) {
            return ADK_ERR(ctx, ADK_ENOMEM, "selection: out of memory for %zu histogram bins",
                           bins);
        }
        c->cap = bins;
    }
    memset(c->send, 0, bins * B_LEN * sizeof(uint64_t));
    return ADK_OK;
}

static int comm_allreduce(adk_ctx_t *ctx, comm_t *c, size_t bins, adk_select_stats_t *stats)
{
    stats->rounds++;
    stats->bytes += (int64_t)(bins * B_LEN * sizeof(uint64_t));
    if (ADK_MPI_CALL(ctx, (int64_t)bins, c->type,
                     MPI_Allreduce(c->send, c->recv, (int)bins, c->type, c->op,
                                   adk_ctx_comm(ctx))) != MPI_SUCCESS) {
        return adk_ctx_agree(ctx, ADK_ERR(ctx, ADK_EMPI, "selection: MPI_Allreduce failed"));
    }
    return ADK_OK;
}

/* Round 0: per group count, min and max of this rank's values, with the input checks. */
static int local_group_stats(adk_ctx_t *ctx, const double *v, const int32_t *group, size_t n,
                             size_t ngroups, uint64_t *bins)
{
    for (size_t i = 0; i < n; i++) {
        int64_t g = group ? group[i] : 0;
        if (g < 0) {
            continue;
        }
        if ((size_t)g >= ngroups) {
            return ADK_ERR(ctx, ADK_EINVAL, "selection: value %zu has group %lld, not in [0, %zu)",
                           i, (long long)g, ngroups);
        }
        if (!isfinite(v[i])) {
            return ADK_ERR(ctx, ADK_EDATA, "selection: value %zu (group %lld) is %s", i,
                           (long long)g, isnan(v[i]) ? "NaN" : "infinite");
        }
        bin_add(bins + (size_t)g * B_LEN, adk_key_from_double(v[i]));
    }
    return ADK_OK;
}

/* Pick the bin of target t from the reduced histogram and narrow its interval. */
static int narrow(adk_ctx_t *ctx, target_t *t, const uint64_t *recv, const uint64_t *send,
                  size_t *local_left)
{
    size_t nb = (size_t)1 << t->bits;
    int64_t r = t->k - t->below, cum = 0;
    size_t j = 0;
    for (; j < nb; j++) {
        int64_t c = (int64_t)recv[(t->off + j) * B_LEN + B_CNT];
        if (cum + c > r) {
            break;
        }
        cum += c;
    }
    if (j == nb) {
        return ADK_ERR(ctx, ADK_EINTERNAL, "selection: rank %lld not found in its interval",
                       (long long)t->k);
    }
    const uint64_t *b = recv + (t->off + j) * B_LEN;
    for (size_t j2 = j + 1; j2 < nb; j2++) {
        const uint64_t *b2 = recv + (t->off + j2) * B_LEN;
        if (b2[B_CNT] > 0) {
            t->succ = ~b2[B_NMIN];
            break;
        }
    }
    t->below += cum;
    t->cnt = (int64_t)b[B_CNT];
    t->lo = ~b[B_NMIN];
    t->hi = b[B_MAX];
    t->done = t->lo == t->hi;
    *local_left = (size_t)send[(t->off + j) * B_LEN + B_CNT];
    return ADK_OK;
}

/*
 * The engine: targets ngroups x nk, ranks from @p fn once the group sizes are known; @p st0 is
 * the caller's local status so far (agreed together with the input checks).
 * key[t]: the key of x_(k) (NO_KEY when no value was wanted); nextkey[t]: of x_(k+1), or of x_(k)
 * when k is the group's last rank.
 */
static int select_run(adk_ctx_t *ctx, int st0, const double *v, const int32_t *group, size_t n,
                      size_t ngroups, size_t nk, const adk_select_opts_t *opts, rank_fn fn,
                      const void *ud, uint64_t *key, uint64_t *nextkey, int64_t *counts,
                      adk_select_stats_t *stats)
{
    int bits = opts && opts->bits ? opts->bits : ADK_SELECT_BITS;
    adk_select_stats_t dummy;
    if (!stats) {
        stats = &dummy;
    }
    memset(stats, 0, sizeof(*stats));
    size_t nt = ngroups * nk;
    comm_t c;
    int st = comm_setup(ctx, &c);
    if (st0 != ADK_OK) { /* the caller's own checks join the first agreement */
        st = st0;
    }
    target_t *tg = NULL;
    if (st == ADK_OK && (bits < 1 || bits > 16)) {
        st = ADK_ERR(ctx, ADK_EINVAL, "selection: radix bits %d not in [1, 16]", bits);
    }
    if (st == ADK_OK && (ngroups < 1 || nk < 1 || nt / nk != ngroups)) {
        st = ADK_ERR(ctx, ADK_EINVAL, "selection: %zu groups x %zu ranks", ngroups, nk);
    }
    size_t *lcount = NULL; /* this rank's values per group */
    if (st == ADK_OK) {
        /* the buffers of the largest round, so the rounds need no further agreement */
        size_t most = nt <= (HIST_LIMIT_BYTES / (B_LEN * sizeof(uint64_t))) >> bits
                          ? nt << bits
                          : HIST_LIMIT_BYTES / (B_LEN * sizeof(uint64_t));
        most = most > 2 * nt ? most : 2 * nt;
        tg = adk_calloc(nt, sizeof(*tg));
        lcount = adk_calloc(ngroups, sizeof(size_t));
        st = tg && lcount ? comm_reserve(ctx, &c, most > ngroups ? most : ngroups)
                          : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    if (st == ADK_OK) {
        st = local_group_stats(ctx, v, group, n, ngroups, c.send);
        for (size_t g = 0; g < ngroups; g++) {
            lcount[g] = (size_t)c.send[g * B_LEN + B_CNT];
        }
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = comm_allreduce(ctx, &c, ngroups, stats);
    }
    size_t open = 0;
    for (size_t g = 0; st == ADK_OK && g < ngroups; g++) {
        const uint64_t *b = c.recv + g * B_LEN;
        int64_t cnt = (int64_t)b[B_CNT];
        if (counts) {
            counts[g] = cnt;
        }
        for (size_t j = 0; j < nk; j++) {
            target_t *t = &tg[g * nk + j];
            t->k = cnt > 0 ? fn(ud, g, j, cnt) : -1;
            t->succ = NO_KEY;
            if (t->k < 0 || t->k >= cnt) {
                t->k = -1;
                t->done = 1;
                continue;
            }
            stats->targets++;
            t->n = cnt;
            t->cnt = cnt;
            t->lo = ~b[B_NMIN];
            t->hi = b[B_MAX];
            t->done = t->lo == t->hi;
            open += !t->done;
        }
    }
    /* A local failure must not break the rounds, which every rank runs in step: it is kept in
     * lerr and agreed on once at the end. */
    int lerr = ADK_OK;
    for (int round = 1; st == ADK_OK && open > 0; round++) {
        if (round > 64) { /* each round fixes at least one more key bit: never reached */
            st = ADK_ERR(ctx, ADK_EINTERNAL, "selection: no convergence after 64 rounds");
            break;
        }
        /* Bin layout, identical on every rank (it depends on reduced values only). */
        int rb = bits;
        while (rb > 1 && open * ((size_t)1 << rb) * B_LEN * sizeof(uint64_t) > HIST_LIMIT_BYTES) {
            rb--;
        }
        size_t bins = 0;
        int scan_input = 0;
        for (size_t i = 0; i < nt; i++) {
            target_t *t = &tg[i];
            if (t->done) {
                continue;
            }
            int fb = free_bits(t->lo, t->hi);
            t->bits = fb < rb ? fb : rb;
            t->shift = fb - t->bits;
            t->off = bins;
            bins += (size_t)1 << t->bits;
            scan_input |= t->cand == NULL;
        }
        memset(c.send, 0, bins * B_LEN * sizeof(uint64_t)); /* reserved for the largest round */
        /* Local histograms, from the kept candidates or else from the input. */
        if (scan_input) {
            for (size_t i = 0; i < n; i++) {
                int64_t g = group ? group[i] : 0;
                if (g < 0) {
                    continue;
                }
                uint64_t kx = adk_key_from_double(v[i]);
                for (size_t j = 0; j < nk; j++) {
                    target_t *t = &tg[(size_t)g * nk + j];
                    if (!t->done && !t->cand && kx >= t->lo && kx <= t->hi) {
                        uint64_t mask = ((uint64_t)1 << t->bits) - 1;
                        bin_add(c.send + (t->off + ((kx >> t->shift) & mask)) * B_LEN, kx);
                    }
                }
            }
        }
        for (size_t i = 0; i < nt; i++) {
            target_t *t = &tg[i];
            if (t->done || !t->cand) {
                continue;
            }
            uint64_t mask = ((uint64_t)1 << t->bits) - 1;
            for (size_t m = 0; m < t->ncand; m++) {
                uint64_t kx = t->cand[m];
                bin_add(c.send + (t->off + ((kx >> t->shift) & mask)) * B_LEN, kx);
            }
        }
        st = comm_allreduce(ctx, &c, bins, stats);
        /* Narrow every open target. A rank keeps a private copy of a target's candidates once
         * they are few (a quarter of its values of the group), so later rounds stop reading the
         * whole input; copying more would cost more memory traffic than it saves. */
        open = 0;
        int fill = 0;
        for (size_t i = 0; st == ADK_OK && i < nt; i++) {
            target_t *t = &tg[i];
            if (t->done) {
                continue;
            }
            size_t left = 0;
            st = narrow(ctx, t, c.recv, c.send, &left);
            if (st != ADK_OK || t->done) {
                free(t->cand);
                t->cand = NULL;
                continue;
            }
            open++;
            if (t->cand) {
                size_t m2 = 0;
                for (size_t m = 0; m < t->ncand; m++) {
                    if (t->cand[m] >= t->lo && t->cand[m] <= t->hi) {
                        t->cand[m2++] = t->cand[m];
                    }
                }
                t->ncand = m2;
            } else if (left <= lcount[i / nk] / 4) {
                /* no memory: keep reading the input, which gives the same histograms */
                t->cand = adk_malloc((left ? left : 1) * sizeof(uint64_t));
                t->ncand = 0;
                t->cap = left;
                t->filling = t->cand != NULL;
                fill |= t->filling;
            }
        }
        for (size_t i = 0; fill && i < n; i++) {
            int64_t g = group ? group[i] : 0;
            if (g < 0) {
                continue;
            }
            uint64_t kx = adk_key_from_double(v[i]);
            for (size_t j = 0; j < nk; j++) {
                target_t *t = &tg[(size_t)g * nk + j];
                if (t->filling && kx >= t->lo && kx <= t->hi) {
                    if (t->ncand == t->cap) { /* the interval is one bin: never happens */
                        lerr = ADK_ERR(ctx, ADK_EINTERNAL, "selection: candidate count mismatch");
                        t->filling = 0;
                        continue;
                    }
                    t->cand[t->ncand++] = kx;
                }
            }
        }
        for (size_t i = 0; fill && i < nt; i++) {
            tg[i].filling = 0;
        }
    }
    if (st == ADK_OK) { /* st itself is common: reduced data decide every branch above */
        st = adk_ctx_agree(ctx, lerr);
    }
    for (size_t i = 0; st == ADK_OK && i < nt; i++) {
        target_t *t = &tg[i];
        key[i] = nextkey[i] = NO_KEY;
        if (t->k < 0) {
            continue;
        }
        key[i] = t->lo;
        /* values <= x_(k): those below the final interval and the interval itself (all equal) */
        int64_t count_le = t->below + t->cnt;
        if (t->k + 1 < count_le || t->k + 1 >= t->n) {
            nextkey[i] = t->lo;
        } else if (t->succ != NO_KEY) {
            nextkey[i] = t->succ;
        } else {
            st = ADK_ERR(ctx, ADK_EINTERNAL, "selection: no successor of rank %lld of %lld",
                         (long long)t->k, (long long)t->n);
        }
    }
    for (size_t i = 0; tg && i < nt; i++) {
        free(tg[i].cand);
    }
    free(tg);
    free(lcount);
    comm_free(&c);
    return st;
}

typedef struct {
    size_t nk;
    const int64_t *k;
} kth_ud_t;

static int64_t kth_rank(const void *ud, size_t g, size_t j, int64_t count)
{
    const kth_ud_t *u = ud;
    int64_t k = u->k[g * u->nk + j];
    if (k < 0) {
        k += count;
    }
    return k >= 0 && k < count ? k : -1;
}

int adk_select_kth(adk_ctx_t *ctx, const double *v, const int32_t *group, size_t n, size_t ngroups,
                   size_t nk, const int64_t *k, const adk_select_opts_t *opts, double empty,
                   double *kth, double *next, int64_t *counts, adk_select_stats_t *stats)
{
    size_t nt = ngroups * nk;
    uint64_t *key = adk_malloc((nt ? nt : 1) * 2 * sizeof(uint64_t));
    int st = key ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    kth_ud_t ud = {nk, k};
    st = select_run(ctx, st, v, group, n, ngroups, nk, opts, kth_rank, &ud, key, key + nt, counts,
                    stats);
    for (size_t i = 0; st == ADK_OK && i < nt; i++) {
        int has = key[i] != NO_KEY;
        kth[i] = has ? adk_key_to_double(key[i]) : empty;
        if (next) {
            next[i] = has ? adk_key_to_double(key[nt + i]) : empty;
        }
    }
    free(key);
    return st;
}

typedef struct {
    size_t nq;
    const double *q;
} pct_ud_t;

static int64_t pct_rank(const void *ud, size_t g, size_t j, int64_t count)
{
    (void)g;
    const pct_ud_t *u = ud;
    int64_t lo, hi;
    double gamma;
    adk_select_linear_index(count, u->q[j], &lo, &hi, &gamma);
    return lo;
}

int adk_select_percentile(adk_ctx_t *ctx, const double *v, const int32_t *group, size_t n,
                          size_t ngroups, size_t nq, const double *q, const adk_select_opts_t *opts,
                          double empty, double *out, int64_t *counts, adk_select_stats_t *stats)
{
    size_t nt = ngroups * nq;
    int st = ADK_OK;
    for (size_t j = 0; j < nq && st == ADK_OK; j++) {
        if (!(q[j] >= 0.0 && q[j] <= 100.0)) { /* also rejects NaN */
            st = ADK_ERR(ctx, ADK_EINVAL, "percentile %g is outside [0, 100]", q[j]);
        }
    }
    uint64_t *key = adk_malloc((nt ? nt : 1) * 2 * sizeof(uint64_t));
    int64_t *cnt = adk_malloc((ngroups ? ngroups : 1) * sizeof(int64_t));
    if (st == ADK_OK && (!key || !cnt)) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    pct_ud_t ud = {nq, q};
    st = select_run(ctx, st, v, group, n, ngroups, nq, opts, pct_rank, &ud, key, key + nt, cnt,
                    stats);
    /* Every rank holds the same keys, so the checks below agree without communication. */
    for (size_t i = 0; st == ADK_OK && i < nt; i++) {
        size_t g = i / nq, j = i % nq;
        if (cnt[g] == 0) {
            out[i] = empty;
            continue;
        }
        int64_t lo, hi;
        double gamma;
        adk_select_linear_index(cnt[g], q[j], &lo, &hi, &gamma);
        double a = adk_key_to_double(key[i]);
        double b = hi != lo ? adk_key_to_double(key[nt + i]) : a;
        out[i] = adk_select_lerp(a, b, gamma);
        if (!isfinite(out[i])) {
            st = ADK_ERR(ctx, ADK_EDATA,
                         "percentile %g of group %zu: interpolating between %g and %g overflows",
                         q[j], g, a, b);
        }
    }
    if (st == ADK_OK && counts) {
        memcpy(counts, cnt, ngroups * sizeof(int64_t));
    }
    free(key);
    free(cnt);
    return st;
}
