/*
 * adk_kmeans: distributed Lloyd k-means with scikit-learn's rules (greedy k-means++ or random
 * init, tolerance relative to the mean feature variance, strict convergence on unchanged labels,
 * empty clusters relocated to the farthest points, best of n_init by inertia), and the model file.
 *
 * Each iteration: every rank assigns its rows to the nearest centroid (blocked GEMM) and
 * accumulates per-cluster sums, counts, inertia and the changed-label count over fixed row blocks
 * into one exact fixed-point buffer; ONE MPI_Allreduce combines them. Results are bitwise
 * identical for any number of ranks.
 */
#ifndef ADK_KMEANS_H
#define ADK_KMEANS_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_h5.h"
#include "adk_out.h"
#include "adk_rows.h"
#include "adk_rowsrc.h"

/* More runs than this is a typing error, not a plan (each run is a whole fit). */
#define ADK_KMEANS_MAX_N_INIT 10000

/*
 * How each iteration finds the nearest centres. LLOYD computes every row's distances to every
 * centre. HAMERLY (Hamerly 2010: one upper bound on the distance to the row's centre, one lower
 * bound on the others, moved by the centres' drift, and half the distance from the centre to its
 * nearest other centre) skips rows whose bounds prove, with a margin for the kernel's rounding,
 * that the kernel would give the same label; the others go through the kernel as in Lloyd. So
 * labels, centroids, inertia and n_iter are bitwise those of LLOYD with the same kernel. YINYANG
 * (Ding et al. 2015) keeps one lower bound per group of about ten centres instead of one, each
 * moved by its own group's largest drift (k < 20: one group, as HAMERLY). AUTO chooses from k, d,
 * the rows and the kernel (adk_kmeans_algorithm_resolve).
 */
typedef enum {
    ADK_KMEANS_AUTO = 0,
    ADK_KMEANS_LLOYD = 1,
    ADK_KMEANS_HAMERLY = 2,
    ADK_KMEANS_YINYANG = 3
} adk_kmeans_algo_t;

/** Parse "auto", "lloyd", "hamerly", "yinyang" (-1 for anything else), and the name of one. Local.
 */
int adk_kmeans_algorithm_parse(const char *s);
const char *adk_kmeans_algorithm_name(adk_kmeans_algo_t a);

/**
 * The algorithm AUTO stands for with k centres of width d, n rows and the nearest-centre kernel
 * @p kernel (an adk_kernel_t; ADK_KERNEL_AUTO when not yet agreed: the answer for a fused kernel)
 * (README "adkit-kmeans": hamerly when k d >= 1024, d >= 16, n >= 1000 k and the kernel is not
 * BLAS; lloyd otherwise). Other values are returned unchanged. Local.
 */
adk_kmeans_algo_t adk_kmeans_algorithm_resolve(adk_kmeans_algo_t a, size_t k, size_t d, int64_t n,
                                               int kernel);

/* A fitted model as stored in a model file (HDF5). */
typedef struct adk_kmeans_model {
    size_t k, d;
    double *centroids; /* k x d: dataset /centroids */
    double inertia;    /* attributes on "/" */
    int n_iter;
    int converged;
    uint64_t seed;
    int n_init;           /* runs made (the best one is kept) */
    int kernel;           /* adk_kernel_t the fit used (distances differ in the last bits) */
    int algorithm;        /* adk_kmeans_algo_t the fit used (never changes the results) */
    double skipped;       /* fit only: fraction of row-centre distances the bounds skipped */
    int64_t iters_all;    /* fit only: Lloyd iterations over all runs */
    int64_t iters_incr;   /* fit only: of them, those whose sums were updated incrementally */
    char init[256];       /* "k-means++", "random" or the init file spec */
    double *thresholds;   /* k values: dataset /thresholds, or NULL when not (yet) computed */
    char thr_method[256]; /* attribute "method" of /thresholds ("" when absent or unreadable) */
} adk_kmeans_model_t;

/*
 * Checkpoints. At an iteration boundary where a run goes on, this state holds everything the rest
 * of the fit depends on, so a fit resumed from it performs exactly the floating-point operations of
 * an uninterrupted one, at any rank count: the run (which also fixes the random streams of the
 * runs to come, keyed by seed and run), the iterations done, the current centres, the centres the
 * current labels were assigned with (the labels are recomputed from them: one assignment pass,
 * never stored), the best finished run so far (its labels are recomputed too) and the kernel.
 * Centres are in the fit's centred frame: data minus the column means, which are kept as a check.
 */
typedef struct adk_kmeans_state {
    size_t k, d;
    int n_init;         /* runs in all (resolved, >= 1) */
    int run;            /* the run going on, 0-based */
    int iter;           /* its Lloyd iterations done (1 .. max_iter - 1) */
    int64_t total_iter; /* Lloyd iterations of all runs so far (what checkpoint_every counts) */
    int kernel;         /* adk_kernel_t in use (a resumed fit with kernel "auto" takes it) */
    int stop;           /* save(): 1 when the fit stops after this save */
    double *mean;       /* d: column means of the data */
    double *centres;    /* k x d: centres after iter iterations */
    double *prev;       /* k x d: the centres the current labels were assigned with */
    int have_best;      /* a run has finished: best_* hold the best one so far */
    double *best;       /* k x d: its final centres */
    double best_inertia;
    int best_n_iter, best_converged;
} adk_kmeans_state_t;

/* Checkpoint hooks of a fit (adk_kmeans_params_t.ckpt). */
typedef struct adk_kmeans_ckpt {
    int every; /* save every this many Lloyd iterations (total_iter); 0: only when stopping */
    /* Local: called on every rank in each Lloyd iteration (run 0-based, iter 1-based: the one
     * under way), before its allreduce, which carries the answers: if any rank says yes, every
     * rank saves at the end of the iteration and the fit returns ADK_ESTOPPED (a run that ends
     * there ends first; the request stands). NULL: never. */
    int (*stop_wanted)(void *ud, int run, int iter);
    /* Collective: save the state. Not ADK_OK: the fit ends with that status (a message stored
     * here, such as adk_ckpt_stopped's when s->stop, is the one reported). */
    int (*save)(void *ud, const adk_kmeans_state_t *s);
    void *ud;
    const adk_kmeans_state_t *resume; /* state to go on from (NULL: start afresh) */
} adk_kmeans_ckpt_t;

typedef struct {
    int k;            /* clusters (>= 1, <= rows) */
    const char *init; /* "k-means++", "random" or "FILE.h5:/dataset" with k x d centroids */
    int n_init;       /* runs with different seeds; 0 = auto (1, or 10 for "random") */
    int max_iter;     /* Lloyd iterations per run (300) */
    double tol;       /* relative to the mean per-feature variance (1e-4) */
    uint64_t seed;
    int verbose;   /* rank 0 prints one line per iteration to stderr */
    int kernel;    /* adk_kernel_t: nearest-centre kernel (ADK_KERNEL_AUTO) */
    int algorithm; /* adk_kmeans_algo_t (ADK_KMEANS_AUTO) */
    /* checkpoint hooks and the state to resume from (NULL: none) */
    const adk_kmeans_ckpt_t *ckpt;
} adk_kmeans_params_t;

/** Defaults as scikit-learn: k 8, k-means++, auto n_init, 300 iterations, tol 1e-4, seed 0.
 * Local. */
void adk_kmeans_params_default(adk_kmeans_params_t *p);

/**
 * Fit on the rows of @p x, which must be held in the reproducibility partition
 * (read with align = ADK_ALIGN_REPRO), the guarantee behind rank-count invariance.
 * @param labels  optional, x->nloc: final cluster of each local row (they match the centroids)
 * @param dist    optional, x->nloc: Euclidean distance of each local row to its centroid
 * @return ADK_OK, ADK_EINVAL (k < 1, bad init), ADK_EDATA (k > n, init shape, a resume state
 *         of another fit), ADK_ENOMEM, ADK_EMPI, ADK_ESTOPPED (stopped after a save, p->ckpt), or
 *         a save's status. Collective.
 */
int adk_kmeans_fit(adk_ctx_t *ctx, const adk_kmeans_params_t *p, const adk_rows_t *x,
                   adk_kmeans_model_t **model, int32_t *labels, double *dist);

/**
 * adk_kmeans_fit over a row source: a block in memory or an HDF5 dataset read window by window at
 * every pass (adk_rowsrc_open), with exactly the same results. A streamed fit keeps in memory one
 * window, the O(k x d) state and 4 bytes per local row (the labels; 8 more during k-means++
 * initialisation, 4 more with n_init > 1), besides @p labels and @p dist if given.
 * @return as adk_kmeans_fit, and a read's ADK_EHDF5. Collective.
 */
int adk_kmeans_fit_src(adk_ctx_t *ctx, const adk_kmeans_params_t *p, adk_rowsrc_t *src,
                       adk_kmeans_model_t **model, int32_t *labels, double *dist);

/* Default window of a streamed fit without a memory limit, bytes per rank. */
#define ADK_KMEANS_STREAM_WINDOW ((uint64_t)64 << 20)

/**
 * Rows per window of a streamed fit so that its data memory on any rank (the window, the per-row
 * arrays of adk_kmeans_fit_src, with p->algorithm's bounds, @p out_bytes_per_row of the caller's
 * per-row outputs, and the O(k x d) state) stays within @p limit bytes; limit 0:
 * ADK_KMEANS_STREAM_WINDOW of rows. The result is a multiple of ADK_ROWSRC_QUANTUM, and of the
 * reproducibility block when at least one block fits (what lets hamerly and yinyang update their
 * sums incrementally when streamed), and at most the largest rank's rows rounded up to both.
 * @param shape  the source's shape (n, d, align)
 * @param need   if not NULL: the smallest limit that fits (one quantum of rows)
 * @return ADK_OK, or ADK_EINVAL with a message when not even one quantum of rows fits. Local (the
 *         same inputs on every rank give the same answer).
 */
int adk_kmeans_stream_window(adk_ctx_t *ctx, const adk_kmeans_params_t *p, const adk_rows_t *shape,
                             size_t out_bytes_per_row, uint64_t limit, size_t *rows,
                             uint64_t *need);

/**
 * Nearest centroid and its Euclidean distance for rows in any partition (new data).
 * @return ADK_OK, ADK_EDATA (width differs from the model), ADK_ENOMEM. Collective.
 */
int adk_kmeans_predict(adk_ctx_t *ctx, const adk_kmeans_model_t *m, const adk_rows_t *x,
                       int32_t *labels, double *dist);

/** Read /centroids (+ attributes, + /thresholds if present). Collective. */
int adk_kmeans_model_read(adk_ctx_t *ctx, const char *path, adk_kmeans_model_t **out);

/** Write /centroids and the model attributes into an open output. Collective. */
int adk_kmeans_model_write(adk_out_t *o, const adk_kmeans_model_t *m);

/** Allocate a zeroed state for k x d centres. Local. */
int adk_kmeans_state_alloc(size_t k, size_t d, adk_kmeans_state_t **out);
void adk_kmeans_state_free(adk_kmeans_state_t *s);

/** Write a state into an open output (datasets /mean, /centres, /prev, /best and attributes on
 * "/"; see README "adkit-kmeans"). Collective. */
int adk_kmeans_state_write(adk_out_t *o, const adk_kmeans_state_t *s);

/**
 * Read a state written by adk_kmeans_state_write from an open file.
 * @return ADK_OK, ADK_EDATA (missing or misshapen parts, named), ADK_EHDF5, ADK_ENOMEM; agreed.
 *         Collective.
 */
int adk_kmeans_state_read(adk_ctx_t *ctx, adk_h5_t *f, adk_kmeans_state_t **out);

/** Allocate an empty k x d model. Local. */
int adk_kmeans_model_alloc(size_t k, size_t d, adk_kmeans_model_t **out);
void adk_kmeans_model_free(adk_kmeans_model_t *m);

#endif
