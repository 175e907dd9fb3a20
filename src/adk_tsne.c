/*
 * adk_tsne: distributed t-SNE (see adk_tsne.h).
 */
#include "adk_tsne.h"
#include "adk_knn.h"
#include "adk_mem.h"
#include "adk_moments.h"
#include "adk_msg.h"
#include "adk_pca.h"
#include "adk_repro.h"
#include "adk_ring.h"
#include "adk_rng.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPLORATION_ITERS 250 /* scikit-learn's _EXPLORATION_N_ITER */
#define CHECK_EVERY 50        /* scikit-learn's _N_ITER_CHECK */
#define SEARCH_STEPS 100
#define SEARCH_TOL 1e-5
#define TREE_DEPTH 48 /* deeper cells keep several distinct points in one list */

void adk_tsne_params_default(adk_tsne_params_t *p)
{
    *p = (adk_tsne_params_t){.dim = 2,
                             .perplexity = 30.0,
                             .early_exaggeration = 12.0,
                             .learning_rate = 0.0,
                             .max_iter = 1000,
                             .n_iter_without_progress = 300,
                             .min_grad_norm = 1e-7,
                             .exact = 0,
                             .angle = 0.5,
                             .init_pca = 0,
                             .seed = 0,
                             .verbose = 1};
}

int adk_tsne_check(adk_ctx_t *ctx, const adk_tsne_params_t *p, int64_t n, size_t d)
{
    if (p->dim != 2 && p->dim != 3) {
        return ADK_ERR(ctx, ADK_EINVAL, "--n-components: %d is not 2 or 3", p->dim);
    }
    if (n < 4) {
        return ADK_ERR(ctx, ADK_EINVAL, "t-SNE needs at least 4 rows (got %lld)", (long long)n);
    }
    if ((size_t)p->dim > d && p->init_pca) {
        return ADK_ERR(ctx, ADK_EINVAL, "--init pca: %d components from %zu features", p->dim, d);
    }
    if (!(p->perplexity > 0.0) || !(p->perplexity < (double)n)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--perplexity: %g must be above 0 and below N = %lld",
                       p->perplexity, (long long)n);
    }
    if (!(p->early_exaggeration >= 1.0) || !isfinite(p->early_exaggeration)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--early-exaggeration: %g is below 1",
                       p->early_exaggeration);
    }
    if (!isfinite(p->learning_rate)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--learning-rate: %g is not finite", p->learning_rate);
    }
    if (p->max_iter < EXPLORATION_ITERS) {
        return ADK_ERR(ctx, ADK_EINVAL, "--max-iter: %d is below %d (the exaggeration phase)",
                       p->max_iter, EXPLORATION_ITERS);
    }
    if (p->n_iter_without_progress < 1) {
        return ADK_ERR(ctx, ADK_EINVAL, "--n-iter-without-progress: %d is below 1",
                       p->n_iter_without_progress);
    }
    if (!(p->angle >= 0.0 && p->angle <= 1.0)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--angle: %g is not in [0, 1]", p->angle);
    }
    if (!(p->min_grad_norm >= 0.0)) {
        return ADK_ERR(ctx, ADK_EINVAL, "--min-grad-norm: %g is negative", p->min_grad_norm);
    }
    return ADK_OK;
}

/* ---- perplexity search ------------------------------------------------------------------- */

int adk_tsne_search_row(const double *d2, size_t m, int64_t skip, double perplexity, double *p,
                        double *beta_out)
{
    double beta = 1.0, lo = -INFINITY, hi = INFINITY, want = log(perplexity);
    int step = 0;
    while (step < SEARCH_STEPS) {
        step++;
        double sum = 0.0;
        for (size_t j = 0; j < m; j++) {
            p[j] = (int64_t)j == skip ? 0.0 : exp(-d2[j] * beta);
            sum += p[j];
        }
        if (sum == 0.0) {
            sum = 1e-8; /* scikit-learn's EPSILON_DBL */
        }
        double sd = 0.0;
        for (size_t j = 0; j < m; j++) {
            p[j] /= sum;
            sd += d2[j] * p[j];
        }
        double diff = log(sum) + beta * sd - want;
        if (fabs(diff) <= SEARCH_TOL) {
            break;
        }
        if (diff > 0.0) {
            lo = beta;
            beta = hi == INFINITY ? beta * 2.0 : (beta + hi) / 2.0;
        } else {
            hi = beta;
            beta = lo == -INFINITY ? beta / 2.0 : (beta + lo) / 2.0;
        }
    }
    *beta_out = beta;
    return step;
}

/* ---- reproducible sums of per-row values --------------------------------------------------- */

/*
 * The sum over all rows of the per-row values v, exactly rounded once: the values are the
 * contributions (adk_repro), so the result is the same for any split of the rows. Two allreduces
 * (the bound, the sum), or one when @p known > 0 bounds every |v| in advance. @p acc: an
 * accumulator of one real to reuse, or NULL.
 */
static int row_sum(adk_ctx_t *ctx, const double *v, size_t nloc, adk_racc_t *acc, double known,
                   double *out)
{
    double bound = known;
    for (size_t i = 0; known <= 0.0 && i < nloc; i++) {
        bound = fabs(v[i]) > bound ? fabs(v[i]) : bound;
    }
    if (known <= 0.0) {
        ADK_CHECK(adk_ctx_allreduce(ctx, MPI_IN_PLACE, &bound, 1, MPI_DOUBLE, MPI_MAX));
    }
    adk_racc_t *a = acc;
    if (!a) { /* a workspace of the caller's needs no agreement */
        int st =
            adk_racc_alloc(1, 0, &a) == ADK_OK ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        ADK_CHECK(adk_ctx_agree(ctx, st));
    }
    adk_racc_zero(a);
    adk_racc_set_scale(a, 0, adk_repro_exponent(bound) + 1);
    for (size_t i = 0; i < nloc; i++) {
        adk_racc_add(a, 0, v[i]);
    }
    int st = adk_racc_allreduce(ctx, a);
    if (st == ADK_OK) {
        *out = adk_racc_get(a, 0);
    }
    if (a != acc) {
        adk_racc_free(a);
    }
    return st;
}

/* ---- joint probabilities ------------------------------------------------------------------- */

void adk_tsne_p_free(adk_tsne_p_t *p)
{
    if (p) {
        free(p->ptr);
        free(p->col);
        free(p->val);
        free(p->beta);
        free(p);
    }
}

/* One stored entry of C or C^T on its way to the owner of its row. */
typedef struct {
    int64_t row, col;
    double val;
} entry_t;

static int entry_cmp(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->row != y->row) {
        return x->row < y->row ? -1 : 1;
    }
    return x->col < y->col ? -1 : x->col > y->col;
}

/*
 * Where rows live: ends[r] = one past the last global row of rank r, ranks holding ascending rows
 * (adk_part); a rank without rows gets the previous rank's end, so the owner of row g is the
 * first rank whose end exceeds g.
 */
static int row_ends(adk_ctx_t *ctx, int64_t row0, size_t nloc, int64_t **out)
{
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    int64_t *f = adk_calloc(2 * (size_t)size, sizeof(int64_t));
    int st = adk_ctx_agree(ctx, f ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        return st;
    }
    f[2 * rank] = row0;
    f[2 * rank + 1] = (int64_t)nloc;
    st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, f, 2 * size, MPI_INT64_T, MPI_SUM);
    if (st != ADK_OK) {
        free(f);
        return st;
    }
    int64_t end = 0;
    for (int r = 0; r < size; r++) {
        end = f[2 * r + 1] > 0 ? f[2 * r] + f[2 * r + 1] : end;
        f[r] = end; /* f[r] is read before being overwritten: 2r >= r */
    }
    *out = f;
    return ADK_OK;
}

static int owner_of(const int64_t *ends, int size, int64_t g)
{
    int lo = 0, hi = size - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ends[mid] > g) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

/*
 * Send every local entry (i, j, c_ij) to the owner of row j as (j, i, c_ij); return the local
 * entries and the received ones together, sorted by (row, column): the rows of C and of C^T.
 */
static int transpose_merge(adk_ctx_t *ctx, const int64_t *ends, entry_t *mine, size_t nmine,
                           entry_t **out, size_t *nout)
{
    int size = adk_ctx_size(ctx);
    size_t *sb = adk_calloc(2 * (size_t)size, sizeof(size_t));
    entry_t *send = adk_malloc((nmine ? nmine : 1) * sizeof(entry_t));
    int st = sb && send ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory for P");
    st = adk_ctx_agree(ctx, st);
    size_t *rb = sb ? sb + size : NULL, total = 0;
    if (st == ADK_OK) { /* bucket the transposed entries by the owner of their new row */
        size_t *at = rb;
        for (size_t e = 0; e < nmine; e++) {
            sb[owner_of(ends, size, mine[e].col)] += sizeof(entry_t);
        }
        size_t off = 0;
        for (int r = 0; r < size; r++) {
            at[r] = off;
            off += sb[r] / sizeof(entry_t);
        }
        for (size_t e = 0; e < nmine; e++) {
            int r = owner_of(ends, size, mine[e].col);
            send[at[r]++] = (entry_t){mine[e].col, mine[e].row, mine[e].val};
        }
        if (ADK_MPI_CALL(ctx, (int64_t)(size - 1) * (int64_t)sizeof(size_t), MPI_BYTE,
                         MPI_Alltoall(sb, sizeof(size_t), MPI_BYTE, rb, sizeof(size_t), MPI_BYTE,
                                      adk_ctx_comm(ctx))) != MPI_SUCCESS) {
            st = ADK_ERR(ctx, ADK_EMPI, "t-SNE: MPI_Alltoall of counts failed");
        }
        st = adk_ctx_agree(ctx, st);
    }
    entry_t *all = NULL;
    if (st == ADK_OK) {
        for (int r = 0; r < size; r++) {
            total += rb[r] / sizeof(entry_t);
        }
        all = adk_malloc((nmine + total + 1) * sizeof(entry_t));
        st = adk_ctx_agree(ctx, all ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory"));
    }
    if (st == ADK_OK) {
        st = adk_msg_alltoallv(ctx, send, sb, all + nmine, rb);
    }
    if (st == ADK_OK) {
        memcpy(all, mine, nmine * sizeof(entry_t));
        qsort(all, nmine + total, sizeof(entry_t), entry_cmp);
        *out = all;
        *nout = nmine + total;
        all = NULL;
    }
    free(all);
    free(send);
    free(sb);
    return st;
}

/* P's arrays for the local rows; ADK_ENOMEM (not agreed) on failure. */
static int p_alloc(adk_ctx_t *ctx, const adk_rows_t *x, size_t nnz, adk_tsne_p_t **out)
{
    adk_tsne_p_t *P = adk_calloc(1, sizeof(*P));
    *out = P;
    if (!P) {
        return ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory for P");
    }
    P->n = x->n;
    P->row0 = x->row0;
    P->nloc = x->nloc;
    P->ptr = adk_calloc(x->nloc + 1, sizeof(size_t));
    P->col = adk_malloc((nnz ? nnz : 1) * sizeof(int64_t));
    P->val = adk_malloc((nnz ? nnz : 1) * sizeof(double));
    P->beta = adk_malloc((x->nloc ? x->nloc : 1) * sizeof(double));
    if (!P->ptr || !P->col || !P->val || !P->beta) {
        return ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory for P (%zu entries)", nnz);
    }
    return ADK_OK;
}

/*
 * From the merged, sorted entries of C and C^T: p_ij = c_ij + c_ji (one addition, commutative, so
 * the same bits whichever arrived first), then divided by the sum of all p_ij (a reproducible sum
 * of row sums, each in column order), floored at @p floor.
 */
static int p_finish(adk_ctx_t *ctx, adk_tsne_p_t *P, const entry_t *e, size_t ne, double floor)
{
    size_t q = 0;
    for (size_t a = 0; a < ne; q++) {
        size_t b = a + 1;
        double v = e[a].val;
        if (b < ne && e[b].row == e[a].row && e[b].col == e[a].col) {
            v += e[b].val;
            b++;
        }
        P->ptr[e[a].row - P->row0 + 1]++;
        P->col[q] = e[a].col;
        P->val[q] = v;
        a = b;
    }
    for (size_t i = 0; i < P->nloc; i++) {
        P->ptr[i + 1] += P->ptr[i];
    }
    double *rs = adk_malloc((P->nloc ? P->nloc : 1) * sizeof(double)), sum = 0.0;
    int st = adk_ctx_agree(ctx, rs ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        return st;
    }
    for (size_t i = 0; i < P->nloc; i++) {
        double s = 0.0;
        for (size_t t = P->ptr[i]; t < P->ptr[i + 1]; t++) {
            s += P->val[t];
        }
        rs[i] = s;
    }
    st = row_sum(ctx, rs, P->nloc, NULL, 0.0, &sum);
    free(rs);
    if (st == ADK_OK) {
        sum = sum > DBL_EPSILON ? sum : DBL_EPSILON; /* scikit-learn's MACHINE_EPSILON floor */
        for (size_t t = 0; t < P->ptr[P->nloc]; t++) {
            double v = P->val[t] / sum;
            P->val[t] = v > floor ? v : floor;
        }
    }
    return st;
}

/* Conditional rows over the k nearest neighbours: the entries (i, j, c_ij). */
static int cond_knn(adk_ctx_t *ctx, const adk_rows_t *x, double perp, adk_tsne_p_t *P,
                    entry_t **out, size_t *nout, double *t_knn)
{
    size_t k = (size_t)floor(3.0 * perp + 1.0);
    k = (int64_t)k > x->n - 1 ? (size_t)(x->n - 1) : k;
    double t0 = adk_now();
    adk_knn_t *nn = NULL;
    ADK_CHECK(adk_knn_compute(ctx, x, k, &nn));
    if (t_knn) {
        *t_knn = adk_now() - t0;
    }
    entry_t *e = adk_malloc((x->nloc ? x->nloc : 1) * k * sizeof(entry_t));
    double *c = adk_malloc(k * sizeof(double));
    int st = adk_ctx_agree(ctx, e && c ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    for (size_t i = 0; st == ADK_OK && i < x->nloc; i++) {
        adk_tsne_search_row(nn->dist2 + i * k, k, -1, perp, c, &P->beta[i]);
        for (size_t q = 0; q < k; q++) {
            e[i * k + q] = (entry_t){x->row0 + (int64_t)i, nn->index[i * k + q], c[q]};
        }
    }
    adk_knn_free(nn);
    free(c);
    if (st != ADK_OK) {
        free(e);
        return st;
    }
    *out = e;
    *nout = x->nloc * k;
    return ADK_OK;
}

/* The exact method's distance rows: every pair, by a ring pass. */
typedef struct {
    const adk_rows_t *x;
    double *d2; /* nloc x N */
} dense_ws_t;

static int dense_visit(void *ud, const adk_ring_block_t *b)
{
    dense_ws_t *w = ud;
    size_t d = w->x->d, n = (size_t)w->x->n;
    for (size_t i = 0; i < w->x->nloc; i++) {
        for (size_t j = 0; j < b->rows; j++) {
            w->d2[i * n + (size_t)b->row0 + j] =
                adk_knn_sqdist(w->x->x + i * d, b->data + j * d, d);
        }
    }
    return ADK_OK;
}

/* Conditional rows over all other rows (exact method): the entries (i, j, c_ij), j != i. */
static int cond_dense(adk_ctx_t *ctx, const adk_rows_t *x, double perp, adk_tsne_p_t *P,
                      entry_t **out, size_t *nout, double *t_knn)
{
    size_t n = (size_t)x->n, m = x->nloc;
    double t0 = adk_now();
    dense_ws_t w = {x, adk_malloc((m ? m : 1) * n * sizeof(double))};
    entry_t *e = adk_malloc((m ? m : 1) * (n - 1) * sizeof(entry_t));
    double *c = adk_malloc(n * sizeof(double));
    int st = w.d2 && e && c ? ADK_OK
                            : ADK_ERR(ctx, ADK_ENOMEM,
                                      "t-SNE: out of memory for %zu x %zu distances (the exact "
                                      "method holds N per row: use more ranks or Barnes-Hut)",
                                      m, n);
    st = adk_ctx_agree(ctx, st);
    adk_ring_t *ring = NULL;
    if (st == ADK_OK) {
        st = adk_ring_create(ctx, "t-SNE distances", x->row0, m, x->d, &ring);
    }
    if (st == ADK_OK) {
        if (m) {
            memcpy(adk_ring_payload(ring), x->x, m * x->d * sizeof(double));
        }
        st = adk_ring_pass(ring, dense_visit, &w);
    }
    adk_ring_free(ring);
    if (t_knn) {
        *t_knn = adk_now() - t0;
    }
    for (size_t i = 0; st == ADK_OK && i < m; i++) {
        int64_t self = x->row0 + (int64_t)i;
        adk_tsne_search_row(w.d2 + i * n, n, self, perp, c, &P->beta[i]);
        size_t q = 0;
        for (size_t j = 0; j < n; j++) {
            if ((int64_t)j != self) {
                e[i * (n - 1) + q++] = (entry_t){self, (int64_t)j, c[j]};
            }
        }
    }
    free(w.d2);
    free(c);
    if (st != ADK_OK) {
        free(e);
        return st;
    }
    *out = e;
    *nout = m * (n - 1);
    return ADK_OK;
}

int adk_tsne_joint_p(adk_ctx_t *ctx, const adk_rows_t *x, double perplexity, int exact,
                     adk_tsne_p_t **out, double *t_knn)
{
    *out = NULL;
    adk_tsne_p_t *P = NULL;
    int64_t *ends = NULL;
    entry_t *mine = NULL, *all = NULL;
    size_t nmine = 0, nall = 0;
    int st = adk_ctx_agree(ctx, p_alloc(ctx, x, 0, &P));
    if (st == ADK_OK) {
        st = row_ends(ctx, x->row0, x->nloc, &ends);
    }
    if (st == ADK_OK) {
        st = exact ? cond_dense(ctx, x, perplexity, P, &mine, &nmine, t_knn)
                   : cond_knn(ctx, x, perplexity, P, &mine, &nmine, t_knn);
    }
    if (st == ADK_OK) {
        st = transpose_merge(ctx, ends, mine, nmine, &all, &nall);
    }
    free(mine);
    if (st == ADK_OK) { /* at most nall distinct entries */
        free(P->col);
        free(P->val);
        P->col = adk_malloc((nall ? nall : 1) * sizeof(int64_t));
        P->val = adk_malloc((nall ? nall : 1) * sizeof(double));
        st = adk_ctx_agree(ctx,
                           P->col && P->val ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        st = p_finish(ctx, P, all, nall, exact ? DBL_EPSILON : 0.0);
    }
    free(all);
    free(ends);
    if (st != ADK_OK) {
        adk_tsne_p_free(P);
        return st;
    }
    *out = P;
    return ADK_OK;
}

/* ---- the Barnes-Hut tree -------------------------------------------------------------------- */

/* A cell of the 2^dim-ary tree over the gathered embedding. */
typedef struct {
    double c[3], hw[3]; /* centre and half widths */
    double com[3];      /* centre of mass of the points below */
    int64_t count;      /* points below */
    int64_t child;      /* first of 2^dim children, -1 for a leaf */
    int64_t first;      /* leaf: first point of its list, -1 when empty */
    int depth;
} cell_t;

/*
 * What the traversal reads of a non-empty cell, 56 bytes, laid out in depth-first order: a cell
 * that is opened goes on to the next node (its first child), one that is not jumps to skip.
 */
typedef struct {
    double com[3];
    double w2;     /* squared largest width of the cell */
    double count;  /* points below */
    int64_t first; /* a leaf's first point; -1 for a cell with children */
    int64_t skip;  /* the node after this cell's subtree */
} node_t;

typedef struct {
    int dim;
    int64_t n, ncell, cap;
    cell_t *cell;
    node_t *node; /* nnode non-empty cells in depth-first order, after tree_mass */
    int64_t nnode;
    int64_t *next; /* n: the next point in the same leaf, -1 at the end */
    const double *y;
} tree_t;

static void tree_free(tree_t *t)
{
    free(t->cell);
    free(t->node);
    free(t->next);
}

static int which_child(const tree_t *t, const cell_t *c, const double *p)
{
    int q = 0;
    for (int a = 0; a < t->dim; a++) {
        q |= (p[a] > c->c[a]) << a;
    }
    return q;
}

static int64_t new_cells(tree_t *t, const cell_t *parent)
{
    int nc = 1 << t->dim;
    int64_t at = t->ncell;
    for (int q = 0; q < nc; q++) {
        cell_t *c = &t->cell[at + q];
        for (int a = 0; a < t->dim; a++) {
            c->hw[a] = parent->hw[a] / 2.0;
            c->c[a] = parent->c[a] + ((q >> a) & 1 ? c->hw[a] : -c->hw[a]);
        }
        c->count = 0;
        c->child = -1;
        c->first = -1;
        c->depth = parent->depth + 1;
    }
    t->ncell += nc;
    return at;
}

static int same_point(const tree_t *t, int64_t a, int64_t b)
{
    for (int d = 0; d < t->dim; d++) {
        if (t->y[a * t->dim + d] != t->y[b * t->dim + d]) {
            return 0;
        }
    }
    return 1;
}

/* Insert point i (points arrive in row order, so every rank builds the same tree). */
static void tree_insert(tree_t *t, int64_t i)
{
    const double *p = t->y + i * t->dim;
    int64_t at = 0;
    for (;;) {
        cell_t *c = &t->cell[at];
        c->count++;
        if (c->child >= 0) {
            at = c->child + which_child(t, c, p);
            continue;
        }
        if (c->first < 0) {
            c->first = i;
            t->next[i] = -1;
            return;
        }
        if (c->depth >= TREE_DEPTH || same_point(t, c->first, i)) {
            t->next[i] = c->first; /* a list of equal (or nearly) points */
            c->first = i;
            return;
        }
        /* split: the points already here (all equal) move to one child, then go on with i */
        int64_t kids = new_cells(t, c);
        c = &t->cell[at];
        cell_t *dst = &t->cell[kids + which_child(t, c, t->y + c->first * t->dim)];
        dst->first = c->first;
        dst->count = c->count - 1;
        c->first = -1;
        c->child = kids;
        at = kids + which_child(t, c, p);
    }
}

/* Centres of mass, children before parents (they were created after them). */
static void tree_mass(tree_t *t)
{
    int nc = 1 << t->dim;
    for (int64_t at = t->ncell - 1; at >= 0; at--) {
        cell_t *c = &t->cell[at];
        double s[3] = {0.0, 0.0, 0.0};
        if (c->child < 0) {
            for (int64_t q = c->first; q >= 0; q = t->next[q]) {
                for (int a = 0; a < t->dim; a++) {
                    s[a] += t->y[q * t->dim + a];
                }
            }
        } else {
            for (int q = 0; q < nc; q++) {
                const cell_t *k = &t->cell[c->child + q];
                for (int a = 0; a < t->dim; a++) {
                    s[a] += (double)k->count * k->com[a];
                }
            }
        }
        for (int a = 0; a < t->dim; a++) {
            c->com[a] = c->count ? s[a] / (double)c->count : c->c[a];
        }
    }
}

/* Write cell @p at and its non-empty descendants from node k on; returns the node after them. */
static int64_t lay_out(tree_t *t, int64_t at, int64_t k)
{
    const cell_t *c = &t->cell[at];
    node_t *v = &t->node[k];
    double mw = 0.0;
    for (int a = 0; a < t->dim; a++) {
        mw = 2.0 * c->hw[a] > mw ? 2.0 * c->hw[a] : mw;
    }
    memcpy(v->com, c->com, sizeof(v->com));
    v->w2 = mw * mw;
    v->count = (double)c->count;
    v->first = c->child < 0 ? c->first : -1;
    int64_t next = k + 1;
    for (int q = 0; c->child >= 0 && q < (1 << t->dim); q++) {
        if (t->cell[c->child + q].count > 0) {
            next = lay_out(t, c->child + q, next);
        }
    }
    t->node[k].skip = next;
    return next;
}

/* Cells and nodes for @p cap cells (kept from one iteration to the next). */
static int tree_reserve(adk_ctx_t *ctx, tree_t *t, int64_t cap)
{
    cell_t *c = adk_realloc(t->cell, (size_t)cap * sizeof(cell_t));
    t->cell = c ? c : t->cell;
    node_t *v = c ? adk_realloc(t->node, (size_t)cap * sizeof(node_t)) : NULL;
    t->node = v ? v : t->node;
    if (!c || !v) {
        return ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory for the Barnes-Hut tree");
    }
    t->cap = cap;
    return ADK_OK;
}

/* Build the tree of the n points y (reusing the arrays of an earlier build). Local. */
static int tree_build(adk_ctx_t *ctx, tree_t *t, const double *y, int64_t n, int dim)
{
    t->dim = dim;
    t->n = n;
    t->y = y;
    if (!t->next) { /* at most 2^dim new cells per insertion, plus the root */
        t->next = adk_malloc((size_t)n * sizeof(int64_t));
        if (!t->next) {
            return ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory for the Barnes-Hut tree");
        }
        ADK_CHECK(tree_reserve(ctx, t, 1 + (int64_t)(1 << dim) * (n < 64 ? 64 : n) * 2));
    }
    double lo[3], hi[3];
    for (int a = 0; a < dim; a++) {
        lo[a] = INFINITY;
        hi[a] = -INFINITY;
    }
    for (int64_t i = 0; i < n; i++) {
        for (int a = 0; a < dim; a++) {
            double v = y[i * dim + a];
            lo[a] = v < lo[a] ? v : lo[a];
            hi[a] = v > hi[a] ? v : hi[a];
        }
    }
    cell_t *root = &t->cell[0];
    for (int a = 0; a < dim; a++) {
        root->c[a] = (lo[a] + hi[a]) / 2.0;
        root->hw[a] = fmax((hi[a] - lo[a]) / 2.0, 1e-5) * (1.0 + 1e-3);
    }
    root->count = 0;
    root->child = -1;
    root->first = -1;
    root->depth = 0;
    t->ncell = 1;
    for (int64_t i = 0; i < n; i++) {
        if (t->ncell + (1 << dim) * TREE_DEPTH > t->cap) { /* grow before a deep split */
            ADK_CHECK(tree_reserve(ctx, t, t->cap * 2));
        }
        tree_insert(t, i);
    }
    tree_mass(t);
    t->nnode = lay_out(t, 0, 0);
    return ADK_OK;
}

/* ---- gradient ------------------------------------------------------------------------------- */

/* Student-t kernel with dof degrees of freedom at squared distance d2: (1 + d2/dof)^-((dof+1)/2).
 */
static inline double kern(double d2, double dof)
{
    return dof == 1.0 ? 1.0 / (1.0 + d2) : pow(1.0 + d2 / dof, -(dof + 1.0) / 2.0);
}

static inline double sqd(const double *a, const double *b, int dim)
{
    double s = 0.0;
    for (int q = 0; q < dim; q++) {
        s += (a[q] - b[q]) * (a[q] - b[q]);
    }
    return s;
}

/*
 * Barnes-Hut by groups (Barnes 1990). The points of a small cell (at most GROUP_MAX) share one
 * interaction list: a cell enters it as one mass when its width is below angle times the distance
 * from its centre of mass to the group's bounding box, so the opening criterion holds for every
 * point of the group (it is stricter than testing each point alone); otherwise it is opened, down
 * to single points. Each point then sums over the list in list order. Groups and lists depend
 * only on the tree, which every rank builds alike, so a point's repulsion is the same whichever
 * rank computes it.
 */
#ifndef GROUP_MAX
#define GROUP_MAX 32
#endif

/*
 * An interaction list, coordinate by coordinate: masses (count > 0) and single points (count 1;
 * the point being summed for counts 0).
 */
typedef struct {
    double *c[3]; /* cap coordinates per dimension */
    double *cnt;  /* cap */
    int64_t *idx; /* cap: the row of a single point, -1 for a mass */
    size_t len, cap;
} ilist_t;

static void ilist_free(ilist_t *l)
{
    for (int a = 0; a < 3; a++) {
        free(l->c[a]);
    }
    free(l->cnt);
    free(l->idx);
}

static int ilist_reserve(ilist_t *l, size_t cap)
{
    double **arr[4] = {&l->c[0], &l->c[1], &l->c[2], &l->cnt};
    for (int a = 0; a < 4; a++) {
        double *p = adk_realloc(*arr[a], cap * sizeof(double));
        if (!p) {
            return ADK_ENOMEM;
        }
        *arr[a] = p;
    }
    int64_t *x = adk_realloc(l->idx, cap * sizeof(int64_t));
    if (!x) {
        return ADK_ENOMEM;
    }
    l->idx = x;
    l->cap = cap;
    return ADK_OK;
}

static void ilist_add(ilist_t *l, const double *pos, double cnt, int64_t idx, int dim)
{
    for (int a = 0; a < 3; a++) {
        l->c[a][l->len] = a < dim ? pos[a] : 0.0;
    }
    l->cnt[l->len] = cnt;
    l->idx[l->len++] = idx;
}

/* The list of a group with bounding box [lo, hi]. ADK_ENOMEM when it cannot grow. */
static int group_list(const tree_t *t, const double *lo, const double *hi, double a2, ilist_t *l)
{
    int dim = t->dim;
    l->len = 0;
    int64_t k = 0;
    while (k < t->nnode) {
        const node_t *c = &t->node[k];
        size_t need = c->first >= 0 ? (size_t)c->count : 1;
        if (l->len + need > l->cap && ilist_reserve(l, 2 * (l->cap + need)) != ADK_OK) {
            return ADK_ENOMEM;
        }
        if (c->first >= 0) {
            for (int64_t q = c->first; q >= 0; q = t->next[q]) {
                ilist_add(l, t->y + q * dim, 1.0, q, dim);
            }
            k = c->skip;
            continue;
        }
        double d2 = 0.0;
        for (int a = 0; a < dim; a++) {
            double v = c->com[a], e = v < lo[a] ? lo[a] - v : v > hi[a] ? v - hi[a] : 0.0;
            d2 += e * e;
        }
        if (c->w2 < a2 * d2) {
            ilist_add(l, c->com, c->count, -1, dim);
            k = c->skip;
        } else {
            k++;
        }
    }
    return ADK_OK;
}

/*
 * Repulsion of point i over a list: rep = sum cnt w^2 (y_i - y), returns sum cnt w. Four
 * independent running sums (entries e, e+1, e+2, e+3), added in a fixed order at the end, keep
 * the divisions pipelined; the point itself contributes with count 0 instead of a branch.
 */
static inline __attribute__((always_inline)) double
list_walk(const ilist_t *l, const double *yi, int64_t i, double dof, double *rep, const int dim)
{
    double z[4] = {0.0, 0.0, 0.0, 0.0}, r[3][4] = {{0.0}};
    size_t n = l->len, e = 0;
    for (; e + 4 <= n; e += 4) {
        for (int u = 0; u < 4; u++) {
            double d2 = 0.0, dv[3];
            for (int a = 0; a < dim; a++) {
                dv[a] = yi[a] - l->c[a][e + u];
                d2 += dv[a] * dv[a];
            }
            double w = kern(d2, dof), cw = (l->idx[e + u] == i ? 0.0 : l->cnt[e + u]) * w;
            z[u] += cw;
            for (int a = 0; a < dim; a++) {
                r[a][u] += cw * w * dv[a];
            }
        }
    }
    for (; e < n; e++) {
        double d2 = 0.0, dv[3];
        for (int a = 0; a < dim; a++) {
            dv[a] = yi[a] - l->c[a][e];
            d2 += dv[a] * dv[a];
        }
        double w = kern(d2, dof), cw = (l->idx[e] == i ? 0.0 : l->cnt[e]) * w;
        z[0] += cw;
        for (int a = 0; a < dim; a++) {
            r[a][0] += cw * w * dv[a];
        }
    }
    for (int a = 0; a < dim; a++) {
        rep[a] = (r[a][0] + r[a][1]) + (r[a][2] + r[a][3]);
    }
    return (z[0] + z[1]) + (z[2] + z[3]);
}

/*
 * list_walk for 2-D embeddings (dof 1), the common case, with the four running sums as the four
 * lanes of vectors: the same operations in the same order on each lane, so the same bits as
 * list_walk, whichever instruction set the compiler uses for the vectors.
 */
typedef double adk_v4d __attribute__((vector_size(32)));
typedef int64_t adk_v4l __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) double walk2_body(const ilist_t *l, const double *yi,
                                                               int64_t i, double *rep)
{
    const adk_v4d one = {1.0, 1.0, 1.0, 1.0};
    const adk_v4d y0 = {yi[0], yi[0], yi[0], yi[0]}, y1 = {yi[1], yi[1], yi[1], yi[1]};
    const adk_v4l self = {i, i, i, i};
    adk_v4d z = {0.0, 0.0, 0.0, 0.0}, r0 = z, r1 = z;
    size_t n = l->len, e = 0;
    for (; e + 4 <= n; e += 4) {
        adk_v4d c0, c1, cnt;
        adk_v4l idx;
        memcpy(&c0, l->c[0] + e, sizeof(c0));
        memcpy(&c1, l->c[1] + e, sizeof(c1));
        memcpy(&cnt, l->cnt + e, sizeof(cnt));
        memcpy(&idx, l->idx + e, sizeof(idx));
        adk_v4d d0 = y0 - c0, d1 = y1 - c1;
        adk_v4d w = one / (one + (d0 * d0 + d1 * d1));
        adk_v4d cw = (adk_v4d)((adk_v4l)cnt & ~(idx == self)) * w; /* count 0 for the point */
        z += cw;
        adk_v4d cww = cw * w;
        r0 += cww * d0;
        r1 += cww * d1;
    }
    double zs[4], rs0[4], rs1[4];
    memcpy(zs, &z, sizeof(zs));
    memcpy(rs0, &r0, sizeof(rs0));
    memcpy(rs1, &r1, sizeof(rs1));
    for (; e < n; e++) { /* the rest into lane 0, as list_walk does */
        double d0 = yi[0] - l->c[0][e], d1 = yi[1] - l->c[1][e];
        double w = 1.0 / (1.0 + (d0 * d0 + d1 * d1)), cw = (l->idx[e] == i ? 0.0 : l->cnt[e]) * w;
        zs[0] += cw;
        rs0[0] += cw * w * d0;
        rs1[0] += cw * w * d1;
    }
    rep[0] = (rs0[0] + rs0[1]) + (rs0[2] + rs0[3]);
    rep[1] = (rs1[0] + rs1[1]) + (rs1[2] + rs1[3]);
    return (zs[0] + zs[1]) + (zs[2] + zs[3]);
}

static double walk2(const ilist_t *l, const double *yi, int64_t i, double *rep)
{
    return walk2_body(l, yi, i, rep);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* The same with 256-bit AVX vectors where the CPU has them (one vector per four lanes). */
__attribute__((target("avx2"))) static double walk2_avx2(const ilist_t *l, const double *yi,
                                                         int64_t i, double *rep)
{
    return walk2_body(l, yi, i, rep);
}
#endif

static double list_repulse(const ilist_t *l, const double *y, int64_t i, int dim, double dof,
                           double *rep)
{
    if (dim == 2) {
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("avx2")) {
            return walk2_avx2(l, y + i * 2, i, rep);
        }
#endif
        return walk2(l, y + i * 2, i, rep);
    }
    return list_walk(l, y + i * dim, i, dof, rep, dim);
}

/*
 * Repulsion and z of every point of the groups this rank takes: the groups in depth-first order
 * are dealt out to the ranks in runs of about N / P points (rank r takes a group when the points
 * before it number from r N / P on), so the lists are built and walked once in all. Out:
 * zr[q * (dim + 1)] = z and then rep of point q, for the points of the rank's groups (others
 * untouched). ADK_ENOMEM (not agreed) on failure.
 */
static int bh_repulse_groups(const tree_t *t, int rank, int size, double angle, double dof,
                             ilist_t *l, double *zr)
{
    int dim = t->dim;
    int64_t k = 0, seen = 0;
    while (k < t->nnode) {
        const node_t *c = &t->node[k];
        if (c->first < 0 && c->count > GROUP_MAX) {
            k++; /* too big for a group: its children are */
            continue;
        }
        int64_t owner = (int64_t)((__int128)seen * size / t->n);
        seen += (int64_t)c->count;
        if (owner != rank) {
            k = c->skip;
            continue;
        }
        double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
        for (int64_t g = k; g < c->skip; g++) { /* the group's leaves */
            for (int64_t q = t->node[g].first; t->node[g].first >= 0 && q >= 0; q = t->next[q]) {
                for (int a = 0; a < dim; a++) {
                    lo[a] = fmin(lo[a], t->y[q * dim + a]);
                    hi[a] = fmax(hi[a], t->y[q * dim + a]);
                }
            }
        }
        ADK_CHECK(group_list(t, lo, hi, angle * angle, l));
        for (int64_t g = k; g < c->skip; g++) {
            for (int64_t q = t->node[g].first; t->node[g].first >= 0 && q >= 0; q = t->next[q]) {
                double *o = zr + q * (dim + 1);
                o[0] = list_repulse(l, t->y, q, dim, dof, o + 1);
            }
        }
        k = c->skip;
    }
    return ADK_OK;
}

/*
 * Barnes-Hut repulsion of the local rows: each rank computes its share of the groups for all
 * their points, and one sum over the ranks of the N x (dim + 1) values, in which every value has
 * exactly one non-zero contributor, hands every rank its rows' values exactly (x + 0 = x; + 0.0
 * also makes a -0.0 the +0.0 it is on one rank). @p st is the status so far (the tree's build),
 * agreed here together with this function's own.
 */
static int bh_repulse(adk_ctx_t *ctx, int st, tree_t *t, ilist_t *l, double **zrp, int64_t row0,
                      size_t m, double angle, double dof, double *z, double *rep)
{
    int dim = t->dim;
    size_t w = (size_t)dim + 1, n = (size_t)t->n;
    if (st == ADK_OK && !*zrp) {
        *zrp = adk_malloc(n * w * sizeof(double));
    }
    double *zr = *zrp;
    if (st == ADK_OK && !zr) {
        st = ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory for the repulsion");
    }
    if (st == ADK_OK) {
        memset(zr, 0, n * w * sizeof(double));
        if (bh_repulse_groups(t, adk_ctx_rank(ctx), adk_ctx_size(ctx), angle, dof, l, zr) !=
            ADK_OK) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory for an interaction list");
        }
    }
    ADK_CHECK(adk_ctx_agree(ctx, st));
    ADK_CHECK(adk_msg_allreduce(ctx, zr, n * w, sizeof(double), MPI_DOUBLE, MPI_SUM));
    for (size_t i = 0; i < m; i++) {
        const double *o = zr + ((size_t)row0 + i) * w;
        z[i] = o[0] + 0.0;
        for (int a = 0; a < dim; a++) {
            rep[i * (size_t)dim + (size_t)a] = o[1 + a] + 0.0;
        }
    }
    return ADK_OK;
}

/* Exact repulsion of point i by every other point; returns sum_j w_ij. */
static double exact_repulse(const double *y, int64_t n, int dim, int64_t i, double dof, double *rep)
{
    const double *yi = y + i * dim;
    double z = 0.0;
    for (int64_t j = 0; j < n; j++) {
        if (j == i) {
            continue;
        }
        double w = kern(sqd(yi, y + j * dim, dim), dof);
        z += w;
        for (int a = 0; a < dim; a++) {
            rep[a] += w * w * (yi[a] - y[j * dim + a]);
        }
    }
    return z;
}

/* What a gradient needs besides P and the embedding, kept across iterations. */
typedef struct {
    tree_t t;
    ilist_t list;    /* a group's interaction list */
    double *zr;      /* N x (dim + 1): every point's z and repulsion (Barnes-Hut) */
    double *z, *rep; /* nloc; nloc x dim */
    adk_racc_t *acc; /* one real, for the sums over rows */
} grad_ws_t;

static void grad_ws_free(grad_ws_t *w)
{
    tree_free(&w->t);
    ilist_free(&w->list);
    free(w->zr);
    free(w->z);
    free(w->rep);
    adk_racc_free(w->acc);
}

/* The workspace for @p m local rows; ADK_ENOMEM (not agreed) on failure. */
static int grad_ws_init(adk_ctx_t *ctx, grad_ws_t *w, size_t m, int dim)
{
    memset(w, 0, sizeof(*w));
    w->z = adk_malloc((m ? m : 1) * sizeof(double));
    w->rep = adk_malloc((m ? m : 1) * (size_t)dim * sizeof(double));
    if (!w->z || !w->rep || adk_racc_alloc(1, 0, &w->acc) != ADK_OK) {
        return ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory");
    }
    return ADK_OK;
}

/*
 * Attraction of local row i over its P row: att = sum p w (y_i - y_j), in four running sums
 * (entries e, e+1, e+2, e+3 of the row; the last entries into the first sum) added in a fixed
 * order, the lanes of vectors for 2-D embeddings. A row's sums depend only on its P row and the
 * embedding, never on the rank count.
 */
static inline __attribute__((always_inline)) void
attract2_body(const adk_tsne_p_t *P, size_t i, const double *yall, double exag, double *att)
{
    const double *yi = yall + (P->row0 + (int64_t)i) * 2;
    const adk_v4d one = {1.0, 1.0, 1.0, 1.0}, ex = {exag, exag, exag, exag};
    const adk_v4d y0 = {yi[0], yi[0], yi[0], yi[0]}, y1 = {yi[1], yi[1], yi[1], yi[1]};
    adk_v4d r0 = {0.0, 0.0, 0.0, 0.0}, r1 = r0;
    size_t e = P->ptr[i], end = P->ptr[i + 1];
    for (; e + 4 <= end; e += 4) {
        const int64_t *c = P->col + e;
        adk_v4d j0 = {yall[c[0] * 2], yall[c[1] * 2], yall[c[2] * 2], yall[c[3] * 2]};
        adk_v4d j1 = {yall[c[0] * 2 + 1], yall[c[1] * 2 + 1], yall[c[2] * 2 + 1],
                      yall[c[3] * 2 + 1]};
        adk_v4d v;
        memcpy(&v, P->val + e, sizeof(v));
        adk_v4d d0 = y0 - j0, d1 = y1 - j1;
        adk_v4d pw = (v * ex) * (one / (one + (d0 * d0 + d1 * d1)));
        r0 += pw * d0;
        r1 += pw * d1;
    }
    double a0[4], a1[4];
    memcpy(a0, &r0, sizeof(a0));
    memcpy(a1, &r1, sizeof(a1));
    for (; e < end; e++) {
        const double *yj = yall + P->col[e] * 2;
        double d0 = yi[0] - yj[0], d1 = yi[1] - yj[1];
        double pw = (P->val[e] * exag) * (1.0 / (1.0 + (d0 * d0 + d1 * d1)));
        a0[0] += pw * d0;
        a1[0] += pw * d1;
    }
    att[0] = (a0[0] + a0[1]) + (a0[2] + a0[3]);
    att[1] = (a1[0] + a1[1]) + (a1[2] + a1[3]);
}

static void attract2(const adk_tsne_p_t *P, size_t i, const double *yall, double exag, double *att)
{
    attract2_body(P, i, yall, exag, att);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) static void
attract2_avx2(const adk_tsne_p_t *P, size_t i, const double *yall, double exag, double *att)
{
    attract2_body(P, i, yall, exag, att);
}
#endif

/* Any dimension, the same four sums in scalar code. */
static void attract_any(const adk_tsne_p_t *P, size_t i, const double *yall, double dof,
                        double exag, double *att, int dim)
{
    const double *yi = yall + (P->row0 + (int64_t)i) * dim;
    double r[3][4] = {{0.0}};
    size_t e0 = P->ptr[i], end = P->ptr[i + 1], full = e0 + (end - e0) / 4 * 4;
    for (size_t e = e0; e < end; e++) {
        const double *yj = yall + P->col[e] * dim;
        double dv[3], d2 = 0.0;
        for (int a = 0; a < dim; a++) {
            dv[a] = yi[a] - yj[a];
            d2 += dv[a] * dv[a];
        }
        double pw = (P->val[e] * exag) * kern(d2, dof);
        size_t lane = e < full ? (e - e0) % 4 : 0;
        for (int a = 0; a < dim; a++) {
            r[a][lane] += pw * dv[a];
        }
    }
    for (int a = 0; a < dim; a++) {
        att[a] = (r[a][0] + r[a][1]) + (r[a][2] + r[a][3]);
    }
}

static void attract(const adk_tsne_p_t *P, size_t i, const double *yall, double dof, double exag,
                    double *att, int dim)
{
    if (dim == 2) {
#if defined(__x86_64__) && defined(__GNUC__)
        if (__builtin_cpu_supports("avx2")) {
            attract2_avx2(P, i, yall, exag, att);
            return;
        }
#endif
        attract2(P, i, yall, exag, att);
        return;
    }
    attract_any(P, i, yall, dof, exag, att, dim);
}

/* The KL terms of local row i: sum p log(p / q) over its P row. */
static double kl_row(const adk_tsne_p_t *P, size_t i, const double *yall, double dof, double exag,
                     double Z, int dim)
{
    const double *yi = yall + (P->row0 + (int64_t)i) * dim;
    double k = 0.0;
    for (size_t e = P->ptr[i]; e < P->ptr[i + 1]; e++) {
        double pe = P->val[e] * exag, wij = kern(sqd(yi, yall + P->col[e] * dim, dim), dof);
        k += pe * log(fmax(pe, DBL_MIN) / fmax(wij / Z, DBL_MIN));
    }
    return k;
}

static int gradient(adk_ctx_t *ctx, grad_ws_t *w, const adk_tsne_p_t *P, const double *yall,
                    int dim, double exaggeration, int exact, double angle, double *grad, double *kl)
{
    size_t m = P->nloc;
    double dof = dim - 1 > 1 ? (double)(dim - 1) : 1.0, c = 2.0 * (dof + 1.0) / dof;
    double *z = w->z, *rep = w->rep;
    int st = ADK_OK;
    if (!exact) { /* bh_repulse agrees on the tree's status and its own in one */
        st = tree_build(ctx, &w->t, yall, P->n, dim);
        st = bh_repulse(ctx, st, &w->t, &w->list, &w->zr, P->row0, m, angle, dof, z, rep);
    }
    for (size_t i = 0; st == ADK_OK && exact && i < m; i++) {
        memset(rep + i * dim, 0, (size_t)dim * sizeof(double));
        z[i] = exact_repulse(yall, P->n, dim, P->row0 + (int64_t)i, dof, rep + i * dim);
    }
    double Z = 0.0;
    if (st == ADK_OK) {
        /* every kernel value is at most 1, so a row's z is below N: one allreduce */
        st = row_sum(ctx, z, m, w->acc, (double)P->n, &Z);
    }
    for (size_t i = 0; st == ADK_OK && i < m; i++) { /* attraction over the row's P, and KL */
        double att[3] = {0.0, 0.0, 0.0};
        attract(P, i, yall, dof, exaggeration, att, dim);
        for (int a = 0; a < dim; a++) {
            grad[i * dim + a] = c * (att[a] - rep[i * dim + a] / Z);
        }
        if (kl) { /* z[i] is reused for this row's KL terms */
            z[i] = kl_row(P, i, yall, dof, exaggeration, Z, dim);
        }
    }
    if (st == ADK_OK && kl) {
        st = row_sum(ctx, z, m, w->acc, 0.0, kl);
    }
    return st;
}

int adk_tsne_gradient(adk_ctx_t *ctx, const adk_tsne_p_t *P, const double *yall, int dim,
                      double exaggeration, int exact, double angle, double *grad, double *kl)
{
    grad_ws_t w;
    int st = adk_ctx_agree(ctx, grad_ws_init(ctx, &w, P->nloc, dim));
    if (st == ADK_OK) {
        st = gradient(ctx, &w, P, yall, dim, exaggeration, exact, angle, grad, kl);
    }
    grad_ws_free(&w);
    return st;
}

/* ---- the optimiser -------------------------------------------------------------------------- */

void adk_tsne_result_free(adk_tsne_result_t *r)
{
    if (r) {
        free(r->y);
        free(r);
    }
}

/* Optimiser state shared by the two phases. */
typedef struct {
    adk_ctx_t *ctx;
    const adk_tsne_params_t *prm;
    adk_tsne_p_t *P;
    const adk_tsne_state_t *from; /* the state resumed from, or NULL */
    int64_t *counts, *displs;     /* rows and first row of every rank, for the gather */
    double *yall;                 /* N x dim, gathered every iteration */
    double *y;                    /* nloc x dim: the local rows (inside yall) */
    double *grad, *update, *gains;
    double lr, t0;
    grad_ws_t ws;
} opt_t;

/* Gather the embedding of every rank's rows into yall. */
static int gather(opt_t *o)
{
    return adk_msg_allgather_rows(o->ctx, o->yall, o->counts, o->displs,
                                  (size_t)o->prm->dim * sizeof(double));
}

/*
 * The iteration boundary after iteration @p it of phase @p phase: save when the checkpoint hooks
 * ask (a stop wanted on any rank, or every ckpt->every iterations), and return ADK_ESTOPPED when
 * stopping. Not after the run's last iteration: the run is done. Collective.
 */
static int boundary(opt_t *o, int phase, int it, double err, double best, int best_it)
{
    const adk_tsne_ckpt_t *ck = o->prm->ckpt;
    if (!ck || it + 1 >= o->prm->max_iter) {
        return ADK_OK;
    }
    int stop = ck->stop_wanted && ck->stop_wanted(ck->ud, it + 1) ? 1 : 0;
    ADK_CHECK(adk_ctx_allreduce(o->ctx, MPI_IN_PLACE, &stop, 1, MPI_INT, MPI_MAX));
    if (!stop && !(ck->every > 0 && (it + 1) % ck->every == 0)) {
        return ADK_OK;
    }
    adk_tsne_state_t s = {o->P->n, o->P->row0, o->P->nloc, o->prm->dim, phase,
                          it,      stop,       err,        best,        best_it,
                          o->lr,   o->y,       o->update,  o->gains,    o->P};
    int st = ck->save(ck->ud, &s);
    if (st == ADK_OK && stop) {
        st = ADK_ERR(o->ctx, ADK_ESTOPPED, "stopped at iteration %d", it + 1);
    }
    return st;
}

/*
 * scikit-learn's _gradient_descent from iteration it0 to n_iter - 1 with this momentum,
 * exaggeration and patience; the update and gains start afresh, unless the run resumes in this
 * phase: then from the state's next iteration, with its update, gains (already in place) and
 * stopping rule's memory. *last is the last iteration run, *kl the KL of the last iteration that
 * computed it (every CHECK_EVERY-th and the final one).
 */
static int descend(opt_t *o, int phase, int it0, int n_iter, double momentum, double exag,
                   int patience, int *last, double *kl)
{
    const adk_tsne_params_t *p = o->prm;
    size_t ne = o->P->nloc * (size_t)p->dim;
    double best = DBL_MAX, err = DBL_MAX;
    int best_it = it0, it = it0;
    const adk_tsne_state_t *rs = o->from && o->from->phase == phase ? o->from : NULL;
    if (rs) {
        it0 = rs->iter + 1;
        err = rs->err;
        best = rs->best;
        best_it = rs->best_iter;
    }
    for (size_t e = 0; !rs && e < ne; e++) {
        o->update[e] = 0.0;
        o->gains[e] = 1.0;
    }
    for (it = it0; it < n_iter; it++) {
        int check = (it + 1) % CHECK_EVERY == 0, want = check || it == n_iter - 1;
        ADK_CHECK(gather(o));
        ADK_CHECK(gradient(o->ctx, &o->ws, o->P, o->yall, p->dim, exag, p->exact, p->angle, o->grad,
                           want ? &err : NULL));
        for (size_t e = 0; e < ne; e++) {
            int inc = o->update[e] * o->grad[e] < 0.0;
            double gn = inc ? o->gains[e] + 0.2 : o->gains[e] * 0.8;
            o->gains[e] = gn < 0.01 ? 0.01 : gn;
            o->grad[e] *= o->gains[e];
            o->update[e] = momentum * o->update[e] - o->lr * o->grad[e];
            o->y[e] += o->update[e];
        }
        if (!check) {
            ADK_CHECK(boundary(o, phase, it, err, best, best_it));
            continue;
        }
        double *sq = o->ws.z, gnorm = 0.0; /* free until the next gradient */
        for (size_t i = 0; i < o->P->nloc; i++) {
            sq[i] = 0.0;
            for (int a = 0; a < p->dim; a++) {
                sq[i] += o->grad[i * p->dim + a] * o->grad[i * p->dim + a];
            }
        }
        ADK_CHECK(row_sum(o->ctx, sq, o->P->nloc, o->ws.acc, 0.0, &gnorm));
        gnorm = sqrt(gnorm);
        if (p->verbose) {
            adk_ctx_info(o->ctx, "iteration %d: KL %.6f, gradient norm %.7f, %.2f s", it + 1, err,
                         gnorm, adk_now() - o->t0);
        }
        if (err < best) {
            best = err;
            best_it = it;
        } else if (it - best_it > patience) {
            break;
        }
        if (gnorm <= p->min_grad_norm) {
            break;
        }
        ADK_CHECK(boundary(o, phase, it, err, best, best_it));
    }
    *last = it < n_iter ? it : n_iter - 1;
    *kl = err;
    return ADK_OK;
}

/* The initial embedding of the local rows: N(0, 1e-4^2) per row's stream, or scaled PCA. */
static int init_y(adk_ctx_t *ctx, const adk_tsne_params_t *p, const adk_rows_t *x, double *y)
{
    int dim = p->dim;
    if (!p->init_pca) {
        for (size_t i = 0; i < x->nloc; i++) {
            adk_rng_t r;
            adk_rng_init(&r, p->seed, ADK_RNG_TSNE, (uint64_t)(x->row0 + (int64_t)i), 0);
            for (int a = 0; a < dim; a++) {
                y[i * dim + a] = 1e-4 * adk_rng_normal(&r);
            }
        }
        return ADK_OK;
    }
    /* scikit-learn: the PCA projection divided by the standard deviation of its first column,
     * times 1e-4 */
    adk_pca_t *pca = NULL;
    ADK_CHECK(adk_pca_fit(ctx, x, (size_t)dim, &pca));
    adk_pca_transform(pca, x->x, x->nloc, 0, y);
    adk_rows_t col = {x->n, x->row0, x->nloc, (size_t)dim, x->align, y, NULL, x->spec};
    double mu[3], var[3];
    int st = adk_moments_compute(ctx, &col, ADK_MOMENTS_VAR, mu, var);
    if (st == ADK_OK && !(var[0] > 0.0)) {
        st = ADK_ERR(ctx, ADK_EDATA, "--init pca: the first principal component of %s is constant",
                     x->spec ? x->spec : "the data");
    }
    if (st == ADK_OK) {
        double s = 1e-4 / sqrt(var[0]);
        for (size_t e = 0; e < x->nloc * (size_t)dim; e++) {
            y[e] *= s;
        }
    }
    adk_pca_free(pca);
    return st;
}

/* All rows identical leave nothing to embed (every distance 0): ADK_EDATA, agreed. */
static int check_spread(adk_ctx_t *ctx, const adk_rows_t *x)
{
    size_t d = x->d;
    double *mm = adk_malloc(2 * d * sizeof(double));
    int st = adk_ctx_agree(ctx, mm ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        return st;
    }
    for (size_t j = 0; j < 2 * d; j++) {
        mm[j] = -INFINITY;
    }
    for (size_t i = 0; i < x->nloc; i++) { /* column maxima of x and of -x */
        for (size_t j = 0; j < d; j++) {
            mm[j] = fmax(mm[j], x->x[i * d + j]);
            mm[d + j] = fmax(mm[d + j], -x->x[i * d + j]);
        }
    }
    st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, mm, (int)(2 * d), MPI_DOUBLE, MPI_MAX);
    int spread = 0;
    for (size_t j = 0; st == ADK_OK && j < d; j++) {
        spread |= mm[j] != -mm[d + j];
    }
    free(mm);
    if (st == ADK_OK && !spread) { /* the same verdict on every rank */
        st = ADK_ERR(ctx, ADK_EDATA, "t-SNE: all %lld rows of %s are identical: nothing to embed",
                     (long long)x->n, x->spec ? x->spec : "the data");
    }
    return st;
}

/* The optimiser's arrays; ADK_ENOMEM (not agreed) on failure. */
static int opt_alloc(adk_ctx_t *ctx, opt_t *o, const adk_rows_t *x, int dim)
{
    int size = adk_ctx_size(ctx);
    size_t ne = (x->nloc ? x->nloc : 1) * (size_t)dim;
    o->counts = adk_calloc(2 * (size_t)size, sizeof(int64_t));
    o->yall = adk_malloc((size_t)x->n * (size_t)dim * sizeof(double));
    o->grad = adk_malloc(ne * sizeof(double));
    o->update = adk_malloc(ne * sizeof(double));
    o->gains = adk_malloc(ne * sizeof(double));
    if (!o->counts || !o->yall || !o->grad || !o->update || !o->gains) {
        return ADK_ERR(ctx, ADK_ENOMEM, "t-SNE: out of memory for the embedding of %lld rows",
                       (long long)x->n);
    }
    o->displs = o->counts + size;
    o->y = o->yall + x->row0 * dim;
    return grad_ws_init(ctx, &o->ws, x->nloc, dim);
}

static void opt_free(opt_t *o)
{
    free(o->counts);
    free(o->yall);
    free(o->grad);
    free(o->update);
    free(o->gains);
    grad_ws_free(&o->ws);
}

/* Take up a resumed run's state: its P, embedding (all rows gathered by the first iteration),
 * update and gains. Local (the state was read for these rows and this dimension). */
static int resume_from(adk_ctx_t *ctx, opt_t *o, const adk_tsne_state_t *from, const adk_rows_t *x)
{
    int dim = o->prm->dim;
    if (from->n != x->n || from->row0 != x->row0 || from->nloc != x->nloc || from->dim != dim ||
        !from->P) {
        return ADK_ERR(ctx, ADK_EINTERNAL, "t-SNE: the resume state is not of these rows");
    }
    size_t ne = x->nloc * (size_t)dim;
    memcpy(o->y, from->y, ne * sizeof(double));
    memcpy(o->update, from->update, ne * sizeof(double));
    memcpy(o->gains, from->gains, ne * sizeof(double));
    o->P = from->P;
    o->from = from;
    return ADK_OK;
}

/* Both phases as scikit-learn runs them: exaggerated with momentum 0.5, then 0.8. */
static int optimise(opt_t *o, adk_tsne_result_t *r)
{
    const adk_tsne_params_t *p = o->prm;
    int last = 0;
    double kl = 0.0;
    int later = o->from && o->from->phase == 1; /* resumed after the exaggeration */
    if (!later) {
        ADK_CHECK(descend(o, 0, 0, EXPLORATION_ITERS, 0.5, p->early_exaggeration, EXPLORATION_ITERS,
                          &last, &kl));
    }
    if (later || last < EXPLORATION_ITERS - 1 || p->max_iter > EXPLORATION_ITERS) {
        ADK_CHECK(
            descend(o, 1, last + 1, p->max_iter, 0.8, 1.0, p->n_iter_without_progress, &last, &kl));
    }
    ADK_CHECK(gather(o)); /* the final embedding */
    r->kl = kl;
    r->n_iter = last;
    return ADK_OK;
}

int adk_tsne_run(adk_ctx_t *ctx, const adk_tsne_params_t *p, const adk_rows_t *x,
                 adk_tsne_result_t **out)
{
    *out = NULL;
    ADK_CHECK(adk_tsne_check(ctx, p, x->n, x->d));
    ADK_CHECK(check_spread(ctx, x));
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx), dim = p->dim;
    adk_tsne_result_t *r = adk_calloc(1, sizeof(*r));
    opt_t o = {.ctx = ctx, .prm = p, .t0 = adk_now()};
    int st = r ? opt_alloc(ctx, &o, x, dim) : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        *r = (adk_tsne_result_t){x->n, x->row0, x->nloc, dim, NULL, 0.0, 0, 0.0, 0.0, 0.0, 0.0};
        o.counts[rank] = (int64_t)x->nloc;
        o.displs[rank] = x->row0;
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, o.counts, 2 * size, MPI_INT64_T, MPI_SUM);
    }
    adk_tsne_p_t *P = NULL; /* computed here (a resumed run's comes with its state) */
    const adk_tsne_state_t *from = p->ckpt ? p->ckpt->resume : NULL;
    double t0 = adk_now();
    if (st == ADK_OK && from) {
        st = adk_ctx_agree(ctx, resume_from(ctx, &o, from, x));
    } else if (st == ADK_OK) {
        st = adk_tsne_joint_p(ctx, x, p->perplexity, p->exact, &P, &r->t_knn);
        r->t_p = adk_now() - t0 - r->t_knn;
        if (st == ADK_OK) {
            st = adk_ctx_agree(ctx, init_y(ctx, p, x, o.y));
        }
        o.P = P;
    }
    if (st == ADK_OK) {
        double auto_lr = fmax((double)x->n / p->early_exaggeration / 4.0, 50.0);
        o.lr = p->learning_rate > 0.0 ? p->learning_rate : auto_lr;
        r->learning_rate = o.lr;
        o.t0 = adk_now();
        st = optimise(&o, r);
        r->t_opt = adk_now() - o.t0;
    }
    if (st == ADK_OK) {
        r->y = adk_malloc((x->nloc ? x->nloc : 1) * (size_t)dim * sizeof(double));
        st = adk_ctx_agree(ctx, r->y ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        memcpy(r->y, o.y, x->nloc * (size_t)dim * sizeof(double));
        double t[3] = {r->t_knn, r->t_p, r->t_opt};
        st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, t, 3, MPI_DOUBLE, MPI_MAX);
        r->t_knn = t[0];
        r->t_p = t[1];
        r->t_opt = t[2];
    }
    adk_tsne_p_free(P);
    opt_free(&o);
    if (st != ADK_OK) {
        adk_tsne_result_free(r);
        return st;
    }
    *out = r;
    return ADK_OK;
}

/* ---- checkpoint state ----------------------------------------------------------------------- */

/* The stored pairs of the ranks before this one (*off) and of all (*total): the local pairs'
 * place in the flat /p_col and /p_val (ranks hold ascending rows). Collective. */
static int pair_offset(adk_ctx_t *ctx, int64_t mine, int64_t *off, int64_t *total)
{
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    int64_t *c = adk_calloc((size_t)size, sizeof(int64_t));
    int st = adk_ctx_agree(ctx, c ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        return st;
    }
    c[rank] = mine;
    st = adk_ctx_allreduce(ctx, MPI_IN_PLACE, c, size, MPI_INT64_T, MPI_SUM);
    *off = 0;
    *total = 0;
    for (int r = 0; st == ADK_OK && r < size; r++) {
        *off += r < rank ? c[r] : 0;
        *total += c[r];
    }
    free(c);
    return st;
}

int adk_tsne_state_write(adk_ctx_t *ctx, adk_out_t *o, const adk_tsne_state_t *s)
{
    const adk_tsne_p_t *P = s->P;
    size_t m = s->nloc, dim = (size_t)s->dim, nnz = P->ptr[m];
    int64_t *cnt = adk_malloc((m ? m : 1) * sizeof(int64_t)), off = 0, total = 0;
    int st = adk_ctx_agree(ctx, cnt ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    for (size_t i = 0; st == ADK_OK && i < m; i++) {
        cnt[i] = (int64_t)(P->ptr[i + 1] - P->ptr[i]);
    }
    if (st == ADK_OK) {
        st = pair_offset(ctx, (int64_t)nnz, &off, &total);
    }
    const char *rows[] = {"/y", "/update", "/gains"};
    const double *v[] = {s->y, s->update, s->gains};
    for (int a = 0; st == ADK_OK && a < 3; a++) {
        st = adk_out_rows(o, rows[a], ADK_F64, v[a], s->n, s->row0, m, dim);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/p_count", ADK_I64, cnt, s->n, s->row0, m, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/p_col", ADK_I64, P->col, total, off, nnz, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(o, "/p_val", ADK_F64, P->val, total, off, nnz, 0);
    }
    free(cnt);
    const struct {
        const char *name;
        int64_t v;
    } iv[] = {{"n_components", s->dim},
              {"phase", s->phase},
              {"iter", s->iter},
              {"best_iter", s->best_iter}};
    for (size_t i = 0; st == ADK_OK && i < sizeof(iv) / sizeof(iv[0]); i++) {
        st = adk_out_attr_i64(o, "/", iv[i].name, iv[i].v);
    }
    const struct {
        const char *name;
        double v;
    } dv[] = {{"kl", s->err}, {"best_kl", s->best}, {"learning_rate", s->lr}};
    for (size_t i = 0; st == ADK_OK && i < sizeof(dv) / sizeof(dv[0]); i++) {
        st = adk_out_attr_f64(o, "/", dv[i].name, dv[i].v);
    }
    return st;
}

void adk_tsne_state_free(adk_tsne_state_t *s)
{
    if (s) {
        free(s->y);
        free(s->update);
        free(s->gains);
        adk_tsne_p_free(s->P);
        free(s);
    }
}

/* The state's N x dim dataset @p name, rows as those of @p x, into @p dst. Collective. */
static int state_rows(adk_ctx_t *ctx, adk_h5_t *f, const char *name, const adk_rows_t *x,
                      size_t dim, double *dst)
{
    adk_rows_t *r = NULL;
    int st = adk_h5_read_rows(f, name, NULL, x->align, dim == 1, 1, &r);
    if (st == ADK_OK && (r->n != x->n || r->d != dim)) { /* the same shape on every rank */
        st = ADK_ERR(ctx, ADK_EDATA, "%s: %s is %lld x %zu, this run has %lld x %zu",
                     adk_h5_name(f), name, (long long)r->n, r->d, (long long)x->n, dim);
    }
    if (st == ADK_OK && (r->row0 != x->row0 || r->nloc != x->nloc)) {
        st = ADK_ERR(ctx, ADK_EINTERNAL, "%s: %s read in another partition", adk_h5_name(f), name);
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        memcpy(dst, r->x, x->nloc * dim * sizeof(double));
    }
    adk_rows_free(r);
    return st;
}

/* The scalar attributes of a state; counts checked. Collective (common verdicts). */
static int state_attrs(adk_ctx_t *ctx, adk_h5_t *f, int dim, adk_tsne_state_t *s)
{
    const char *names[] = {"n_components", "phase", "iter", "best_iter"};
    double v[4] = {0};
    int st = ADK_OK;
    for (size_t i = 0; st == ADK_OK && i < 4; i++) {
        st = adk_h5_attr(f, "/", names[i], ADK_ATTR_F64, &v[i], 0, NULL);
        if (st == ADK_OK && !(v[i] >= 0 && v[i] <= INT32_MAX && v[i] == floor(v[i]))) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: attribute %s = %g is not a count", adk_h5_name(f),
                         names[i], v[i]);
        }
    }
    if (st == ADK_OK && (v[0] != dim || v[1] > 1)) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: a state of %g components in phase %g, not of %d",
                     adk_h5_name(f), v[0], v[1], dim);
    }
    if (st == ADK_OK) {
        s->dim = dim;
        s->phase = (int)v[1];
        s->iter = (int)v[2];
        s->best_iter = (int)v[3];
        st = adk_h5_attr(f, "/", "kl", ADK_ATTR_F64, &s->err, 0, NULL);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", "best_kl", ADK_ATTR_F64, &s->best, 0, NULL);
    }
    if (st == ADK_OK) {
        st = adk_h5_attr(f, "/", "learning_rate", ADK_ATTR_F64, &s->lr, 0, NULL);
    }
    return st;
}

/* This rank's rows of the stored P: counts, then the pairs at their place in the flat arrays,
 * each row's columns ascending and in range, values finite. Collective. */
static int state_p(adk_ctx_t *ctx, adk_h5_t *f, const adk_rows_t *x, adk_tsne_state_t *s)
{
    size_t m = x->nloc;
    adk_tsne_p_t *P = adk_calloc(1, sizeof(*P));
    double *cnt = adk_malloc((m ? m : 1) * sizeof(double));
    int st = P && cnt ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    s->P = P;
    if (P) {
        *P = (adk_tsne_p_t){x->n, x->row0, m, NULL, NULL, NULL, NULL};
        P->ptr = adk_calloc(m + 1, sizeof(size_t));
        P->beta = adk_calloc(m ? m : 1, sizeof(double)); /* the search's result: not kept */
        st = P->ptr && P->beta ? st : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = state_rows(ctx, f, "/p_count", x, 1, cnt);
    }
    for (size_t i = 0; st == ADK_OK && i < m; i++) {
        if (!(cnt[i] >= 1 && cnt[i] < (double)x->n && cnt[i] == floor(cnt[i]))) {
            st = ADK_ERR(ctx, ADK_EDATA, "%s: /p_count row %lld: %g pairs", adk_h5_name(f),
                         (long long)(x->row0 + (int64_t)i), cnt[i]);
            break;
        }
        P->ptr[i + 1] = P->ptr[i] + (size_t)cnt[i];
    }
    st = adk_ctx_agree(ctx, st);
    int64_t off = 0, total = 0, have = 0;
    size_t nnz = st == ADK_OK ? P->ptr[m] : 0;
    if (st == ADK_OK) {
        st = pair_offset(ctx, (int64_t)nnz, &off, &total);
    }
    if (st == ADK_OK) {
        P->col = adk_malloc((nnz ? nnz : 1) * sizeof(int64_t));
        P->val = adk_malloc((nnz ? nnz : 1) * sizeof(double));
        st = adk_ctx_agree(ctx,
                           P->col && P->val ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    }
    if (st == ADK_OK) {
        st = adk_h5_read_range(f, "/p_col", 1, off, nnz, P->col, &have);
    }
    if (st == ADK_OK && have != total) { /* the same on every rank */
        st = ADK_ERR(ctx, ADK_EDATA, "%s: /p_col holds %lld pairs, /p_count says %lld",
                     adk_h5_name(f), (long long)have, (long long)total);
    }
    if (st == ADK_OK) {
        st = adk_h5_read_range(f, "/p_val", 0, off, nnz, P->val, &have);
    }
    if (st == ADK_OK && have != total) {
        st = ADK_ERR(ctx, ADK_EDATA, "%s: /p_val holds %lld pairs, /p_count says %lld",
                     adk_h5_name(f), (long long)have, (long long)total);
    }
    for (size_t i = 0; st == ADK_OK && i < m; i++) {
        for (size_t e = P->ptr[i]; st == ADK_OK && e < P->ptr[i + 1]; e++) {
            if (P->col[e] < 0 || P->col[e] >= x->n ||
                (e > P->ptr[i] && P->col[e] <= P->col[e - 1]) || !isfinite(P->val[e])) {
                st = ADK_ERR(ctx, ADK_EDATA, "%s: pair %lld of P (row %lld) is not valid",
                             adk_h5_name(f), (long long)(off + (int64_t)e),
                             (long long)(x->row0 + (int64_t)i));
            }
        }
    }
    free(cnt);
    return adk_ctx_agree(ctx, st);
}

int adk_tsne_state_read(adk_ctx_t *ctx, adk_h5_t *f, const adk_rows_t *x, int dim,
                        adk_tsne_state_t **out)
{
    *out = NULL;
    size_t ne = (x->nloc ? x->nloc : 1) * (size_t)dim;
    adk_tsne_state_t *s = adk_calloc(1, sizeof(*s));
    int st = s ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    if (s) {
        s->n = x->n;
        s->row0 = x->row0;
        s->nloc = x->nloc;
        s->y = adk_malloc(ne * sizeof(double));
        s->update = adk_malloc(ne * sizeof(double));
        s->gains = adk_malloc(ne * sizeof(double));
        st = s->y && s->update && s->gains ? st : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    st = adk_ctx_agree(ctx, st);
    if (st == ADK_OK) {
        st = state_attrs(ctx, f, dim, s);
    }
    if (st == ADK_OK) {
        st = state_rows(ctx, f, "/y", x, (size_t)dim, s->y);
    }
    if (st == ADK_OK) {
        st = state_rows(ctx, f, "/update", x, (size_t)dim, s->update);
    }
    if (st == ADK_OK) {
        st = state_rows(ctx, f, "/gains", x, (size_t)dim, s->gains);
    }
    if (st == ADK_OK) {
        st = state_p(ctx, f, x, s);
    }
    if (st != ADK_OK) {
        adk_tsne_state_free(s);
        return st;
    }
    *out = s;
    return ADK_OK;
}
