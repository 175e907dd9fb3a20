/*
 * adk_tsne: t-SNE (van der Maaten and Hinton 2008; Barnes-Hut: van der Maaten 2014) of rows
 * spread over ranks, with scikit-learn 1.2's parameters and optimiser, the same bits at any rank
 * count.
 *
 * Shape. Each rank owns a block of rows and everything that belongs to them: their neighbours
 * (adk_knn, a ring pass) or their full distance rows (exact method), their rows of the conditional
 * and joint P (symmetrisation sends every entry c_ij to the owner of row j as c_ji), their
 * attractive forces, gradient, gains and update. Each iteration the small N x dim embedding is
 * gathered, so every rank builds the same Barnes-Hut tree (points inserted in row order) and
 * computes the repulsion of its own rows, by groups of at most 32 points sharing one interaction
 * list (a cell is one mass when its width is below angle times its distance to the group's box).
 * Every per-row quantity is summed in a fixed order that depends only on the row; the global sums
 * (the normalisation Z, sum P, the KL, the gradient norm) are exact fixed-point sums (adk_repro) of
 * per-row values. So the embedding does not depend on how rows are split over ranks.
 *
 * Memory per rank: O(rows per rank x k) for Barnes-Hut (k = min(N - 1, 3 perplexity + 1)) plus
 * the gathered embedding and its tree, O(N x dim); O(rows per rank x N) for the exact method.
 */
#ifndef ADK_TSNE_H
#define ADK_TSNE_H

#include <stddef.h>
#include <stdint.h>

#include "adk_ctx.h"
#include "adk_h5.h"
#include "adk_out.h"
#include "adk_rows.h"

typedef struct adk_tsne_ckpt adk_tsne_ckpt_t;

/* Parameters, with scikit-learn 1.2's meaning (TSNE's argument names in brackets). */
typedef struct {
    int dim;                     /* output dimensions, 2 or 3 [n_components] */
    double perplexity;           /* [perplexity] 30 */
    double early_exaggeration;   /* [early_exaggeration] 12, for the first 250 iterations */
    double learning_rate;        /* [learning_rate]; <= 0: 'auto' = max(N / exaggeration / 4, 50) */
    int max_iter;                /* [n_iter] 1000, at least 250 */
    int n_iter_without_progress; /* [n_iter_without_progress] 300 */
    double min_grad_norm;        /* [min_grad_norm] 1e-7 */
    int exact;                   /* [method] 0: 'barnes_hut', 1: 'exact' */
    double angle;                /* [angle] 0.5, Barnes-Hut only */
    int init_pca;                /* [init] 0: 'random' N(0, 1e-4^2), 1: 'pca' */
    uint64_t seed;               /* [random_state], through adk_rng (ADK_RNG_TSNE, global row) */
    int verbose;                 /* rank 0 prints progress every 50 iterations */
    const adk_tsne_ckpt_t *ckpt; /* checkpoint hooks and the state to resume from (NULL: none) */
} adk_tsne_params_t;

/* Fill @p p with the defaults above. Local. */
void adk_tsne_params_default(adk_tsne_params_t *p);

/* This rank's rows of the joint probabilities P (CSR over global columns, sorted). */
typedef struct adk_tsne_p {
    int64_t n;    /* global rows */
    int64_t row0; /* first local row */
    size_t nloc;  /* local rows */
    size_t *ptr;  /* nloc + 1 offsets */
    int64_t *col; /* ptr[nloc] global columns, ascending in each row */
    double *val;  /* ptr[nloc] values p_ij (symmetric, all of them summing to 1) */
    double *beta; /* nloc precisions 1 / (2 sigma_i^2) of the perplexity search */
} adk_tsne_p_t;

/*
 * Checkpoints. At the boundary after an iteration that the optimisation goes on from, this state
 * holds everything the rest of it depends on, so a run resumed from it performs exactly the
 * floating-point operations of an uninterrupted one, at any rank count: the phase (exaggerated
 * with momentum 0.5, or the rest with 0.8; the phase's update and gains start afresh), the last
 * iteration done, the embedding, update and gains of the local rows, the stopping rule's memory
 * (the KL last computed, the phase's best KL and its iteration) and P. No random stream is drawn
 * after the initial embedding. P is kept rather than recomputed: at scale the neighbours are most
 * of a run (70,000 x 784 on 2 ranks: kNN 360 s of 458 s), which every resume would pay again;
 * P is about 16 bytes per stored pair, under 2 N k pairs (k = 3 perplexity + 1).
 */
typedef struct adk_tsne_state {
    int64_t n, row0;
    size_t nloc;
    int dim;
    int phase;                  /* 0: early exaggeration, 1: the rest */
    int iter;                   /* the last iteration done, 0-based (n_iter's numbering) */
    int stop;                   /* save(): 1 when the run stops after this save */
    double err;                 /* the KL of the last iteration that computed it (DBL_MAX: none) */
    double best;                /* the phase's lowest KL so far (DBL_MAX: none) */
    int best_iter;              /* and its iteration */
    double lr;                  /* the learning rate in use */
    double *y, *update, *gains; /* nloc x dim, the local rows */
    adk_tsne_p_t *P;            /* this rank's rows of P */
} adk_tsne_state_t;

/* Checkpoint hooks of a run (adk_tsne_params_t.ckpt). */
struct adk_tsne_ckpt {
    int every; /* save every this many iterations; 0: only when stopping */
    /* Local: called on every rank at the end of every iteration (@p done iterations done) that the
     * optimisation goes on from; the answers are combined over the ranks (one small allreduce
     * each iteration): if any rank says yes, every rank saves and the run returns ADK_ESTOPPED.
     * At an iteration that ends the run, the run ends first. NULL: never. */
    int (*stop_wanted)(void *ud, int done);
    /* Collective: save the state. Not ADK_OK: the run ends with that status (a message stored
     * here, such as adk_ckpt_stopped's when s->stop, is the one reported). */
    int (*save)(void *ud, const adk_tsne_state_t *s);
    void *ud;
    /* State to go on from (NULL: start afresh); its P is used, not recomputed. */
    const adk_tsne_state_t *resume;
};

/**
 * Write a state into an open output: datasets /y, /update, /gains (N x dim), /p_count (N: stored
 * pairs per row), /p_col and /p_val (the pairs, row by row) and attributes on "/" (see README
 * "adkit-tsne"). Collective.
 */
int adk_tsne_state_write(adk_ctx_t *ctx, adk_out_t *o, const adk_tsne_state_t *s);

/**
 * Read a state written by adk_tsne_state_write, the local rows being those of @p x (any rank
 * count: the file is by global row).
 * @return ADK_OK, ADK_EDATA (missing or misshapen parts, another N or dim: named), ADK_EHDF5,
 *         ADK_ENOMEM; agreed. Collective.
 */
int adk_tsne_state_read(adk_ctx_t *ctx, adk_h5_t *f, const adk_rows_t *x, int dim,
                        adk_tsne_state_t **out);

/** Free a state from adk_tsne_state_read (NULL: no-op). Local. */
void adk_tsne_state_free(adk_tsne_state_t *s);

/* What a run gives back. */
typedef struct {
    int64_t n, row0;
    size_t nloc;
    int dim;
    double *y;                /* nloc x dim embedding of the local rows */
    double kl;                /* KL divergence as scikit-learn reports it (kl_divergence_) */
    int n_iter;               /* index of the last iteration, as scikit-learn's n_iter_ */
    double learning_rate;     /* the rate used ('auto' resolved) */
    double t_knn, t_p, t_opt; /* seconds: neighbours/distances, P, optimisation (max over ranks) */
} adk_tsne_result_t;

/**
 * Check parameters against the data size: dim 2 or 3, perplexity > 0 and < N, N >= 4,
 * exaggeration >= 1, max_iter >= 250, angle in [0, 1], learning rate finite.
 * @return ADK_OK or ADK_EINVAL with a message naming the option. Local (same verdict everywhere).
 */
int adk_tsne_check(adk_ctx_t *ctx, const adk_tsne_params_t *p, int64_t n, size_t d);

/**
 * Conditional probabilities of one row by scikit-learn's binary search on beta = 1 / (2 sigma^2)
 * (start 1, double or halve until bracketed, then bisect; at most 100 steps; stop when the
 * entropy is within 1e-5 of log(perplexity)).
 * @param d2    m squared distances
 * @param skip  an index of d2 to leave out (the row itself), or -1
 * @param p     out: m probabilities summing to 1 (0 at skip)
 * @param beta  out: the precision found
 * @return the steps taken. Local, pure.
 */
int adk_tsne_search_row(const double *d2, size_t m, int64_t skip, double perplexity, double *p,
                        double *beta);

/**
 * The joint P of the local rows: Barnes-Hut (exact = 0) from the k = min(N - 1, floor(3
 * perplexity + 1)) nearest neighbours, P = (C + C^T) / sum; exact from all pairs, floored at
 * DBL_EPSILON as scikit-learn does.
 * @param t_knn  out (may be NULL): seconds spent on neighbours or distances
 * @return ADK_OK, ADK_EINVAL, ADK_ENOMEM, ADK_EMPI; agreed. Collective. Identical at any rank
 * count.
 */
int adk_tsne_joint_p(adk_ctx_t *ctx, const adk_rows_t *x, double perplexity, int exact,
                     adk_tsne_p_t **out, double *t_knn);

/** Free P (NULL is a no-op). Local. */
void adk_tsne_p_free(adk_tsne_p_t *p);

/**
 * The gradient of KL(P || Q) at the embedding @p yall (all N rows x dim, the same on every rank)
 * for the local rows, with P multiplied by @p exaggeration; exact (all pairs) or Barnes-Hut with
 * @p angle. Q is Student-t with dof = max(dim - 1, 1) degrees of freedom.
 * @param grad  out: nloc x dim
 * @param kl    out (NULL: not computed, saving two allreduces): the KL divergence, summed over
 *              the pairs stored in P (every pair for the exact method)
 * @return ADK_OK, ADK_ENOMEM, ADK_EMPI; agreed. Collective.
 */
int adk_tsne_gradient(adk_ctx_t *ctx, const adk_tsne_p_t *P, const double *yall, int dim,
                      double exaggeration, int exact, double angle, double *grad, double *kl);

/**
 * Run t-SNE on the rows @p x (values finite, checked by the reader).
 * @param out  the local rows' embedding and the run's figures (free with adk_tsne_result_free)
 * With p->ckpt: saves and stops as its hooks say, and goes on from p->ckpt->resume (made from
 * the same rows and parameters, at any rank count: the embedding is then the same bits as an
 * uninterrupted run's; t_knn and t_p are 0, nothing being recomputed).
 * @return ADK_OK, ADK_EINVAL (parameters, with adk_tsne_check's message), ADK_EDATA (all rows
 *         identical: nothing to embed; a resume state of other rows), ADK_ENOMEM, ADK_EMPI,
 *         ADK_ESTOPPED (stopped after a save), or a save's status; agreed. Collective.
 */
int adk_tsne_run(adk_ctx_t *ctx, const adk_tsne_params_t *p, const adk_rows_t *x,
                 adk_tsne_result_t **out);

/** Free a result (NULL is a no-op). Local. */
void adk_tsne_result_free(adk_tsne_result_t *r);

#endif
