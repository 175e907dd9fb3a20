/*
 * adk_kfit: what the pieces of a k-means fit share (internal to adk_kmeans, not installed): the
 * fit's state fit_t, which adk_kmeans (the driver), adk_kstep (Lloyd's E- and M-step), adk_kbound
 * (the exact bounds and the incremental M-step) and adk_kinit (initialisation) all work on, its
 * set-up, and the row sum both M-steps form partials with.
 */
#ifndef ADK_KFIT_H
#define ADK_KFIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "adk_ctx.h"
#include "adk_dist.h"
#include "adk_kmeans.h"
#include "adk_repro.h"
#include "adk_rows.h"
#include "adk_rowsrc.h"

/* Everything one fit shares between initialisation, Lloyd steps and relocation. */
typedef struct {
    adk_ctx_t *ctx;
    adk_rowsrc_t *src; /* the rows, in memory or read window by window at every pass */
    size_t woff;       /* local index of the first row of the window being visited */
    size_t k, d, nloc;
    int64_t n, row0, block;
    double *mean;   /* d: column means; the fit works on x - mean */
    double *colmax; /* d: global max |x - mean| per column */
    double maxnorm; /* global max ||x - mean|| */
    adk_dist_ws_t *ws;
    adk_centres_t *cen; /* current centres, centred frame */
    adk_racc_t *acc;    /* k*d sums + inertia (reals) | k counts + changed (integers) */
    double *part;       /* k*d block partial sums */
    int64_t *pcount;    /* k block counts */
    int32_t *touched;   /* clusters with rows in the current block */
    size_t ntouched;
    double pinert;   /* block partial inertia */
    int32_t *labels; /* nloc, current run */
    int64_t changed;
    int64_t next_flush; /* global row after which the current block ends */
    int update;         /* accumulate sums (M-step) or only label */
    double tol_abs;
    double mean_var;
    const adk_kmeans_ckpt_t *ck; /* checkpoint hooks (NULL: none) */
    adk_kmeans_state_t *snap;    /* with ck: what a save hands over */
    int run, iter;               /* the Lloyd iteration under way (asked of ck->stop_wanted) */
    int64_t total_iter;          /* Lloyd iterations of every run so far */
    /* exact acceleration (algo HAMERLY): per local row, bounds on distances in the centred frame */
    int algo;       /* adk_kmeans_algo_t, resolved */
    double *ub;     /* nloc: >= distance to the centre of its label */
    double *lb;     /* nloc x ngroups: <= distance to every other centre of the group */
    size_t ngroups; /* 1 (hamerly), or about k / 10 groups of centres (yinyang) */
    int32_t *group; /* k: group of each centre (yinyang; NULL: one group) */
    double *gdrift; /* ngroups: the largest drift in each group */
    double *xn;     /* nloc: >= ||x - mean|| */
    uint8_t *need;  /* nloc: the bounds prove nothing, the kernel must see the row */
    double *bc;     /* k x d: the centres the bounds refer to */
    int bvalid;     /* bounds and labels belong to bc */
    double *drift;  /* k: >= distance each centre moved from bc */
    double *sep;    /* k: <= distance from each centre to its nearest other centre */
    double drift1;  /* the largest drift, of centre drift1_of */
    double drift2;  /* the second largest drift */
    size_t drift1_of;
    double *gmin;     /* ADK_DIST_CHUNK x ngroups: the kernel's smallest values per group */
    double bslack;    /* relative slack of every bound (adk_kbound_slack) */
    double bcmax;     /* >= the largest centre norm, this pass */
    int64_t ncomp;    /* rows the kernel computed, this pass (local) */
    int64_t ntight;   /* rows whose upper bound was recomputed directly, this pass (local) */
    double dist_done; /* row-centre distances computed over the fit (global) */
    double dist_all;  /* those Lloyd computes over the fit */
    /*
     * Exact incremental M-step (accelerated algorithms). The accumulator's scales are fixed for the
     * whole fit (set_scales), so the exact sum of a cluster is the sum of its per-block float
     * partials' fixed-point images, whatever the order. lacc keeps this rank's share (its blocks)
     * across iterations; when rows change cluster, the two block partials they move between are
     * re-summed from the block's rows under the old and the new labels, in row order with Lloyd's
     * adk_kfit_add_row, and swapped in: old image out, new image in, exactly. Rows that keep their
     * cluster touch nothing, and lacc is merged into acc before the iteration's one allreduce.
     */
    adk_racc_t *lacc;     /* as acc: this rank's block sums and counts of the current labels */
    adk_racc_t *sacc;     /* where a full pass puts block sums and counts: acc (lloyd) or lacc */
    int svalid;           /* lacc holds the sums and counts of the current labels */
    int incr_ok;          /* no reproducibility block crosses a window (always so in memory) */
    int incr;             /* this pass updates lacc incrementally */
    int incr_always;      /* ADK_KMEANS_INCR_ALWAYS (tests): whenever lacc is valid */
    int64_t prev_changed; /* labels the last pass changed, all ranks */
    const double *wx;     /* the rows of the window being visited */
    size_t *chg_row;      /* local rows whose label changed, their blocks not yet re-summed */
    int32_t *chg_old;     /* their labels before */
    size_t nchg;          /* at most a block and a chunk of them */
    double *opart;        /* k x d: a block's partials under the labels before */
    double *xrow;         /* d: one centred row */
    int32_t *rs_row;      /* block: the rows a re-sum adds (offsets in the block) */
    int32_t *rs_before;   /* block: their labels before */
    uint8_t *mark;        /* k: the clusters of the block being re-summed */
    int64_t n_update;     /* Lloyd iterations of the fit (M-step passes) */
    int64_t n_incr;       /* of them, those whose sums were updated incrementally */
} fit_t;

/* s += x elementwise, two at a time in SSE2 registers (same bits as the scalar loop). Inline: it
 * runs once per row in the Lloyd chunk and in the incremental re-sum alike. */
static inline void adk_kfit_add_row(double *s, const double *x, size_t d)
{
    typedef double v2d __attribute__((vector_size(16)));
    size_t j = 0;
    for (; j + 2 <= d; j += 2) {
        v2d a, b;
        memcpy(&a, s + j, sizeof(a));
        memcpy(&b, x + j, sizeof(b));
        a += b;
        memcpy(s + j, &a, sizeof(a));
    }
    for (; j < d; j++) {
        s[j] += x[j];
    }
}

/**
 * Allocate f's buffers for f->k, f->d, f->nloc, f->block and f->algo (the bounds and the
 * incremental M-step's buffers only for an accelerated algorithm).
 * @return ADK_OK, ADK_ENOMEM (agreed). Collective over f->ctx.
 */
int adk_kfit_alloc(fit_t *f);

/** Free what adk_kfit_alloc (and a checkpoint set-up) allocated; f itself stays. Local. */
void adk_kfit_free(fit_t *f);

/**
 * Column means, column max |x - mean|, max centred row norm and the mean feature variance of
 * f->src into f->mean, f->colmax, f->maxnorm and f->mean_var: four passes, exact sums over the
 * reproducibility blocks. @return ADK_OK or an agreed error. Collective over f->ctx.
 */
int adk_kfit_stats(fit_t *f);

/**
 * Read the k x d initial centroids of an init file spec ("FILE.h5" means FILE.h5:/centroids) into
 * *out (allocated, the caller frees). @return ADK_OK, ADK_EDATA (shape, Inf), ADK_EIO, ADK_EHDF5.
 * Collective over ctx.
 */
int adk_kfit_read_init(adk_ctx_t *ctx, const char *spec, size_t k, size_t d, double **out);

/**
 * Check every value of src: NaN/Inf first, then values whose squares overflow.
 * @return ADK_OK or ADK_EDATA (agreed). Collective over ctx (one pass).
 */
int adk_kfit_check_values(adk_ctx_t *ctx, adk_rowsrc_t *src);

/**
 * The rows of global indices g[0..m), centred (minus f->mean), into out (m x d) on every rank.
 * @return ADK_OK or an agreed error. Collective over f->ctx.
 */
int adk_kfit_fetch_rows(fit_t *f, const int64_t *g, size_t m, double *out);

#endif
