/*
 * adk-scaling-model: the scaling study's performance model. It reads the per-phase seconds that
 * experiments/scaling/run.sh measured (strong CSV), scales each phase's compute to a target size
 * by the phase's work formula, adds the phase's communication by a latency-bandwidth model of
 * MPI collectives on an InfiniBand cluster, and prints projected seconds and parallel efficiency
 * for P = 1, 2, 4, ..., PMAX in strong scaling (fixed N) and weak scaling (fixed N per rank).
 *
 *   adk-scaling-model [options] STRONG.csv          (--help lists them)
 *
 * Collective costs: Thakur, Rabenseifner and Gropp, "Optimization of Collective Communication
 * Operations in MPICH", Int. J. High Perf. Comput. Appl. 19(1), 2005, sections 4.4 (allgather)
 * and 4.5 (allreduce): recursive doubling lg p (alpha + n beta + n gamma) and Rabenseifner's
 * reduce-scatter + allgather 2 lg p alpha + 2 (p-1)/p n beta + (p-1)/p n gamma; allgather by
 * recursive doubling lg p alpha + (p-1)/p n beta (n = the gathered bytes). Applied in two levels:
 * within a node (shared memory) over the ranks of one node, then between the nodes.
 * Every number of the report is computed here; Python only draws the measured CSV.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_mem.h"

/* t-SNE's neighbours per row: scikit-learn's k = 3 perplexity + 1 at the default perplexity 30 */
#define TSNE_KNN 91
/* bytes of one Barnes-Hut cell in adk_tsne.c: cell_t (104) + node_t (56) */
#define TSNE_CELL_BYTES 160.0
/* t-SNE's small collectives per iteration (the sum Z and status agreements), counted as this
 * many 40-byte allreduces: 6 x 40 = 240 B matches the measured bytes beside the two big ones */
#define TSNE_SMALL 6
/* the status agreement adk_ctx_allreduce adds after every checked collective (MPI_2INT) */
#define AGREE 8.0

typedef struct {
    double alpha_net, bw_net;   /* between nodes: latency (s), link bandwidth (bytes/s) */
    double alpha_node, bw_node; /* within a node: latency, copy bandwidth per rank */
    double gamma;               /* local reduction cost, s per byte */
    int per_node;               /* ranks per node */
    double mem_rank;            /* memory per rank, bytes */
    double cells;               /* Barnes-Hut cells per point (assumption) */
    double n, d, k;             /* target size */
    double npr;                 /* weak scaling: rows per rank */
    int pmax;
    int tsne_iters; /* optimisation iterations of a whole t-SNE run */
    int csv;        /* machine-readable output */
} params_t;

/* One measured phase (the CSV's rows at 1 and 2 ranks). */
typedef struct {
    const char *name;
    const char *what;
    int have1, have2, over2;
    double n, d, k;          /* size measured at */
    double t1;               /* seconds per unit at 1 rank */
    double t2, mpi2, bytes2; /* at 2 ranks: seconds, MPI seconds (max), bytes sent (max) */
    double work2;            /* at 2 ranks: I/O + compute seconds of the slowest rank */
    double repeated;         /* the share of t1 every rank repeats (t-SNE), -1: estimate it */
    double knn1;             /* t-SNE: neighbour search seconds at 1 rank */
} phase_t;

enum { PH_KMEANS, PH_THRESHOLD, PH_F1, PH_TSNE, PH_TSNE_KNN, NPH };

static const char *const phase_names[NPH] = {"kmeans", "threshold", "f1", "tsne", "tsne_knn"};
static const char *const phase_what[NPH] = {
    "k-means, one Lloyd iteration", "per-cluster 99th percentile (adkit-threshold)",
    "F1 sweep (adkit-gauss select)", "t-SNE, one optimisation iteration",
    "t-SNE's exact kNN (once per run)"};

/* ---- collectives ------------------------------------------------------------------------- */

static double lg(double p)
{
    return ceil(log2(p));
}

/* Allreduce of n bytes over p ranks: the cheaper of recursive doubling and Rabenseifner. */
static double allreduce_flat(double p, double n, double a, double bw, double g)
{
    if (p <= 1) {
        return 0.0;
    }
    double rd = lg(p) * (a + n / bw + n * g);
    double rab = 2 * lg(p) * a + 2 * (p - 1) / p * n / bw + (p - 1) / p * n * g;
    return rd < rab ? rd : rab;
}

/* Allgather of n bytes in all (every rank ends with n) over p ranks, recursive doubling. */
static double allgather_flat(double p, double n, double a, double bw)
{
    return p <= 1 ? 0.0 : lg(p) * a + (p - 1) / p * n / bw;
}

static void layout(const params_t *m, double p, double *r, double *nodes)
{
    *r = p < m->per_node ? p : m->per_node;
    *nodes = ceil(p / m->per_node);
}

static double allreduce(const params_t *m, double p, double n)
{
    double r, nodes;
    layout(m, p, &r, &nodes);
    return allreduce_flat(r, n, m->alpha_node, m->bw_node, m->gamma) +
           allreduce_flat(nodes, n, m->alpha_net, m->bw_net, m->gamma);
}

static double allgather(const params_t *m, double p, double n)
{
    double r, nodes;
    layout(m, p, &r, &nodes);
    return allgather_flat(r, n, m->alpha_node, m->bw_node) +
           allgather_flat(nodes, n, m->alpha_net, m->bw_net);
}

/* ---- the phases' communication and work ----------------------------------------------------- */

/* adk_repro accumulator of nreal reals and nint counters: LIMBS int64 per real, one per counter,
 * one overflow flag (adk_repro.h). */
static double racc_bytes(double nreal, double nint)
{
    return 8.0 * (4.0 * nreal + nint + 1.0);
}

/* adk_select rounds for one target per group: the counting round, then about
 * log_256(values per group) + 1 refinement rounds (adk_select.h: 1 + about log_{2^b}(n) + 1). */
static double select_rounds(double n, double k)
{
    double per = n / k > 2 ? n / k : 2;
    return 2.0 + ceil(log(per) / log(256.0));
}

/* Communication seconds of one unit of phase @p ph at @p p ranks and @p n rows; @p bytes gets the
 * payload one rank hands to MPI (as --timings counts it). */
static double comm(const params_t *m, int ph, double p, double n, double d, double k, double *bytes)
{
    double t = 0.0, b = 0.0;
    if (p <= 1) {
        *bytes = 0.0;
        return 0.0;
    }
    switch (ph) {
    case PH_KMEANS: { /* sums K x D, inertia; counts K, changed labels, stop request, rows
                       * computed and bounds tightened; the agreements of the accumulator and of
                       * the pass over the rows */
        double s = racc_bytes(k * d + 1, k + 4);
        t = allreduce(m, p, s) + 2 * allreduce(m, p, AGREE);
        b = s + 2 * AGREE;
        break;
    }
    case PH_THRESHOLD: { /* counting round (K x 24 B), then K x 256 bins x 24 B per round */
        double rounds = select_rounds(n, k);
        t = allreduce(m, p, 24 * k) + (rounds - 1) * allreduce(m, p, 24 * 256 * k);
        b = 24 * k + (rounds - 1) * 24 * 256 * k;
        break;
    }
    case PH_F1: /* score range (2 doubles), then 2 x 1000 candidate counts + 2 totals */
        t = allreduce(m, p, 16) + allreduce(m, p, racc_bytes(0, 2 * 1000 + 2)) +
            2 * allreduce(m, p, AGREE);
        b = 16 + racc_bytes(0, 2 * 1000 + 2) + 2 * AGREE;
        break;
    case PH_TSNE: /* the Barnes-Hut repulsion's N x 3 sum, the N x 2 embedding gathered, the
                   * sum Z and the status agreements around them (small, latency only) */
        t = allreduce(m, p, 24 * n) + allgather(m, p, 16 * n) +
            TSNE_SMALL * allreduce(m, p, racc_bytes(1, 0));
        b = 24 * n + 16 * n / p + TSNE_SMALL * racc_bytes(1, 0);
        break;
    case PH_TSNE_KNN: /* the ring: P - 1 steps, each passing a block of N/P rows of D doubles */
    {                 /* across nodes every step waits for the slowest link of the ring */
        double bw = p > m->per_node && m->bw_net < m->bw_node ? m->bw_net : m->bw_node;
        t = (p - 1) * ((p > m->per_node ? m->alpha_net : m->alpha_node) + (n / p) * d * 8 / bw);
        b = (p - 1) * (n / p) * d * 8;
        break;
    }
    }
    *bytes = b;
    return t;
}

/* Work of one unit relative to the measured size: what each phase's compute grows with. */
static double work(int ph, double n, double d, double k)
{
    switch (ph) {
    case PH_KMEANS:
        return n * k * d; /* distances to every centre */
    case PH_THRESHOLD:
        return n; /* one pass over the distances per round */
    case PH_F1:
        return n * d; /* densities, then a radix sort */
    case PH_TSNE:
        return n * log2(n > 2 ? n : 2); /* Barnes-Hut: tree and walks */
    default:
        return n * n * d; /* all pairs */
    }
}

typedef struct {
    double t, compute, serial, comm, bytes, eff;
} proj_t;

/* Seconds of one unit at p ranks and n rows. Compute is the 1-rank measurement scaled by work:
 * the part that every rank repeats (t-SNE's tree over the gathered embedding) does not shrink
 * with p, the rest is divided by p. */
static proj_t project(const params_t *m, const phase_t *f, int ph, double serial_frac, double p,
                      double n)
{
    proj_t r;
    double t1 = ph == PH_TSNE_KNN ? f->knn1 : f->t1;
    double scale = work(ph, n, m->d, m->k) / work(ph, f->n, f->d, f->k);
    r.serial = serial_frac * t1 * scale;
    r.compute = (t1 - serial_frac * t1) * scale / p;
    r.comm = comm(m, ph, p, n, m->d, m->k, &r.bytes);
    r.t = r.serial + r.compute + r.comm;
    r.eff = 0.0;
    return r;
}

/* ---- input ----------------------------------------------------------------------------------- */

static int col_of(char **names, int nc, const char *want)
{
    for (int i = 0; i < nc; i++) {
        if (strcmp(names[i], want) == 0) {
            return i;
        }
    }
    return -1;
}

/* Split a CSV line in place (no quoting: run.sh writes none). */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *s = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        f[n++] = s;
        char *c = strchr(s, ',');
        if (!c) {
            break;
        }
        *c = '\0';
        s = c + 1;
    }
    return n;
}

static int num(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*v);
}

#define MAXCOL 64

static int read_csv(const char *path, phase_t *ph)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "adk-scaling-model: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char line[4096], hdr[4096];
    char *names[MAXCOL], *f[MAXCOL];
    int rc = 0, nc, lineno = 1;
    if (!fgets(hdr, sizeof(hdr), fp)) {
        fprintf(stderr, "adk-scaling-model: %s: empty\n", path);
        fclose(fp);
        return 1;
    }
    nc = split(hdr, names, MAXCOL);
    const char *need[] = {"ranks",          "n",       "d",     "k",
                          "phase",          "seconds", "mpi_s", "bytes_sent",
                          "oversubscribed", "knn_s",   "io_s",  "compute_s"};
    enum { NNEED = sizeof(need) / sizeof(need[0]) };
    int ci[NNEED];
    for (int i = 0; i < NNEED; i++) {
        ci[i] = col_of(names, nc, need[i]);
        if (ci[i] < 0) {
            fprintf(stderr, "adk-scaling-model: %s: no column %s\n", path, need[i]);
            fclose(fp);
            return 1;
        }
    }
    while (rc == 0 && fgets(line, sizeof(line), fp)) {
        lineno++;
        if (split(line, f, MAXCOL) != nc) {
            fprintf(stderr, "adk-scaling-model: %s line %d: %d columns expected\n", path, lineno,
                    nc);
            rc = 1;
            break;
        }
        int p = -1;
        for (int i = 0; i < NPH; i++) {
            if (strcmp(f[ci[4]], phase_names[i]) == 0) {
                p = i;
            }
        }
        if (p < 0) {
            continue; /* a phase the model does not cover */
        }
        double v[NNEED];
        for (int i = 0; i < NNEED; i++) {
            if (i == 4 || (i == 9 && p != PH_TSNE)) {
                v[i] = 0.0;
            } else if (!num(f[ci[i]], &v[i])) {
                fprintf(stderr, "adk-scaling-model: %s line %d: %s is not a number: '%s'\n", path,
                        lineno, need[i], f[ci[i]]);
                rc = 1;
                break;
            }
        }
        if (rc) {
            break;
        }
        phase_t *q = &ph[p];
        if (v[0] == 1) {
            q->have1 = 1;
            q->n = v[1];
            q->d = v[2];
            q->k = v[3];
            q->t1 = v[5];
            q->knn1 = v[9];
        } else if (v[0] == 2) {
            q->have2 = 1;
            q->t2 = v[5];
            q->mpi2 = v[6];
            q->bytes2 = v[7];
            q->over2 = v[8] != 0;
            q->work2 = v[10] + v[11];
        }
    }
    fclose(fp);
    if (rc == 0) {
        ph[PH_TSNE_KNN].have1 = ph[PH_TSNE].have1 && ph[PH_TSNE].knn1 > 0;
        ph[PH_TSNE_KNN].n = ph[PH_TSNE].n;
        ph[PH_TSNE_KNN].d = ph[PH_TSNE].d;
        ph[PH_TSNE_KNN].k = ph[PH_TSNE].k;
        ph[PH_TSNE_KNN].knn1 = ph[PH_TSNE].knn1;
        for (int i = 0; i < PH_TSNE_KNN; i++) {
            if (!ph[i].have1) {
                fprintf(stderr, "adk-scaling-model: %s: no 1-rank row of phase %s\n", path,
                        phase_names[i]);
                rc = 1;
            } else if (!(ph[i].t1 > 0) || !(ph[i].n >= 1)) {
                fprintf(stderr, "adk-scaling-model: %s: phase %s: 1-rank seconds %g at n %g\n",
                        path, phase_names[i], ph[i].t1, ph[i].n);
                rc = 1;
            }
        }
    }
    return rc;
}

/* ---- output ------------------------------------------------------------------------------- */

/* t-SNE: the fraction of a 1-rank iteration that every rank repeats (--tsne-repeated, or from
 * 1 and 2 ranks: the slowest rank's I/O + compute w2 = (s + (1 - s) / 2) t1 gives
 * s = 2 w2 / t1 - 1, clamped to [0, 1]; 0 without a 2-rank run on as many cores). */
static double tsne_serial(const phase_t *f)
{
    if (f->repeated >= 0) {
        return f->repeated;
    }
    if (!f->have2 || f->over2) {
        return 0.0;
    }
    double s = 2.0 * f->work2 / f->t1 - 1.0;
    return s < 0 ? 0 : (s > 1 ? 1 : s);
}

static double serial_of(const phase_t *ph, int i)
{
    return i == PH_TSNE ? tsne_serial(&ph[PH_TSNE]) : 0.0;
}

static const char *fmt_bytes(double b, char *buf, size_t len)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    int i = 0;
    while (b >= 1000 && i < 5) {
        b /= 1000;
        i++;
    }
    snprintf(buf, len, i ? "%.3g %s" : "%.0f %s", b, u[i]);
    return buf;
}

/* One scaling series: strong (n fixed) or weak (npr rows per rank). */
static void series(const params_t *m, const phase_t *ph, int i, int weak, proj_t *out, int *np)
{
    double s = serial_of(ph, i);
    int c = 0;
    proj_t base = project(m, &ph[i], i, s, 1, weak ? m->npr : m->n);
    for (int p = 1; p <= m->pmax; p *= 2) {
        double n = weak ? m->npr * p : m->n;
        proj_t r = project(m, &ph[i], i, s, p, n);
        r.eff = weak ? base.t / r.t : base.t / (p * r.t);
        out[c++] = r;
    }
    *np = c;
}

static void print_csv(const params_t *m, const phase_t *ph)
{
    proj_t r[32];
    int np;
    printf("mode,phase,p,n,seconds,compute_s,serial_s,comm_s,bytes_per_rank,efficiency\n");
    for (int w = 0; w < 2; w++) {
        for (int i = 0; i < NPH; i++) {
            if (!ph[i].have1) {
                continue;
            }
            series(m, ph, i, w, r, &np);
            for (int j = 0, p = 1; j < np; j++, p *= 2) {
                printf("%s,%s,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n",
                       w ? "weak" : "strong", phase_names[i], p, w ? m->npr * p : m->n, r[j].t,
                       r[j].compute, r[j].serial, r[j].comm, r[j].bytes, r[j].eff);
            }
        }
    }
}

/* Where a series stops scaling: the first P below 50 % efficiency and what dominates there;
 * past PMAX the doubling goes on (strong scaling while a rank has at least one row). */
typedef struct {
    double phalf;    /* first P below 50 %, 0: none */
    int within;      /* phalf <= PMAX */
    int slower;      /* strong: first P whose time is not below the previous one's, 0: none */
    double eff_last; /* efficiency at PMAX */
    proj_t h;        /* the projection at phalf */
    const char *why;
} stop_t;

static stop_t stops(const params_t *m, const phase_t *ph, int i, const proj_t *r, int np, int weak)
{
    stop_t v = {0, 0, 0, r[np - 1].eff, r[0], ""};
    double s = serial_of(ph, i);
    proj_t base = project(m, &ph[i], i, s, 1, weak ? m->npr : m->n);
    for (int j = 1; j < np; j++) {
        if (v.phalf == 0 && r[j].eff < 0.5) {
            v.phalf = (double)(1 << j);
            v.within = 1;
            v.h = r[j];
        }
        if (!weak && v.slower == 0 && r[j].t >= r[j - 1].t) {
            v.slower = 1 << j;
        }
    }
    for (double p = 2.0 * (1 << (np - 1)); v.phalf == 0 && p <= 1e12; p *= 2) {
        double n = weak ? m->npr * p : m->n;
        if (!weak && n / p < 1) {
            break;
        }
        proj_t x = project(m, &ph[i], i, s, p, n);
        x.eff = weak ? base.t / x.t : base.t / (p * x.t);
        if (x.eff < 0.5) {
            v.phalf = p;
            v.h = x;
        }
    }
    if (v.phalf > 0) {
        /* strong: what dominates the time there; weak: what grew most since P = 1 */
        double c = v.h.compute - (weak ? base.compute : 0);
        double sr = v.h.serial - (weak ? base.serial : 0), cm = v.h.comm;
        v.why = cm >= c && cm >= sr ? "communication"
                : sr >= c           ? "the work every rank repeats"
                : weak              ? "compute per rank (the work grows faster than N)"
                                    : "compute";
    }
    return v;
}

static void verdict(const params_t *m, const stop_t *v, int np, int weak)
{
    if (v->within) {
        printf("Efficiency falls below 50 %% at P = %.0f (%.1f %%)", v->phalf, 100 * v->h.eff);
    } else {
        printf("Efficiency stays at or above 50 %% up to P = %d (%.1f %% there); ", 1 << (np - 1),
               100 * v->eff_last);
        if (v->phalf > 0) {
            printf("it would fall below 50 %% at P = %.0f (N/P = %.3g rows)", v->phalf,
                   (weak ? m->npr * v->phalf : m->n) / v->phalf);
        } else {
            printf("%s", weak ? "it would not fall below 50 % by P = 10^12"
                              : "it would not fall below 50 % before a rank has less than one "
                                "row");
        }
    }
    if (v->phalf > 0) {
        printf(": %s %s (compute %.3g s, repeated %.3g s, communication %.3g s)", v->why,
               weak ? "grew most" : "dominates", v->h.compute, v->h.serial, v->h.comm);
    }
    printf(".");
    if (v->slower > 0) {
        printf(" Time stops falling at P = %d.", v->slower);
    }
    printf("\n");
}

/* One line of the summary table: efficiency at PMAX, where it drops below 50 %, why. */
static void summary_cell(const stop_t *v, int weak)
{
    printf(" %.1f %% | ", 100 * v->eff_last);
    if (v->phalf > 0) {
        printf("%s%.0f | %s |", v->within ? "" : "beyond: ", v->phalf, v->why);
    } else {
        printf("%s | - |", weak ? "none by P = 10^12" : "none while N/P >= 1");
    }
}

static void print_md(const params_t *m, const phase_t *ph, const char *csv)
{
    proj_t r[32];
    int np;
    char b1[32], b2[32];
    printf("# Scaling model: N = %.4g, D = %g, K = %g, P = 1 .. %d\n\n", m->n, m->d, m->k, m->pmax);
    printf("Computed by `adk-scaling-model` (experiments/scaling/model.c) from `%s`.\n\n", csv);
    printf("Parameters (a typical EDR/HDR InfiniBand cluster; change with the options):\n\n");
    printf("- between nodes: latency alpha = %.3g us, link bandwidth %.3g GB/s "
           "(EDR 100 Gb/s = 12.5 GB/s, HDR 200 Gb/s = 25 GB/s), one link per node;\n",
           m->alpha_net * 1e6, m->bw_net / 1e9);
    printf("- within a node: latency %.3g us, copy bandwidth %.3g GB/s per rank "
           "(all ranks of a node copying at once); %d ranks per node;\n",
           m->alpha_node * 1e6, m->bw_node / 1e9, m->per_node);
    printf("- local reduction gamma = %.3g ns per byte; memory %.3g GB per rank;\n", m->gamma * 1e9,
           m->mem_rank / 1e9);
    printf("- collectives in two levels (within the node, then between node leaders), each by "
           "the formulas of Thakur, Rabenseifner & Gropp (IJHPCA 19(1), 2005): allreduce = the "
           "cheaper of recursive doubling lg p (alpha + n beta + n gamma) and Rabenseifner "
           "2 lg p alpha + 2 (p-1)/p n beta + (p-1)/p n gamma; allgather by recursive "
           "doubling lg p alpha + (p-1)/p n beta; no overlap of communication and compute.\n\n");
    printf("Compute: the 1-rank seconds measured at the CSV's size, scaled by each phase's work "
           "(k-means N K D, thresholds N, F1 sweep N D, t-SNE iteration N log2 N, kNN N^2 D) "
           "and divided by P, except t-SNE's share that every rank repeats (the Barnes-Hut tree "
           "over the whole gathered embedding): s = %.3f of its 1-rank time, %s. I/O is "
           "counted as compute (a parallel file system assumed to scale). Communication per "
           "unit: k-means one allreduce of the adk_repro accumulator, 8 (4 (K D + 1) + K + 5) = "
           "%s, and two 8-byte status agreements (the accumulator's and the pass's); "
           "thresholds %.0f rounds of allreduces of K x 256 x 24-byte histograms (adk_select; "
           "an upper bound: every target open in every round); F1 sweep two allreduces "
           "(16 B, %s) and their agreements; t-SNE iteration an allreduce of the N x 3 "
           "Barnes-Hut repulsion sums (every rank computes some groups' forces for all rows), "
           "an allgather of the N x 2 embedding and %d small allreduces; kNN a ring of P - 1 "
           "block passes.\n\n",
           tsne_serial(&ph[PH_TSNE]),
           ph[PH_TSNE].repeated >= 0
               ? "as given (--tsne-repeated)"
               : "estimated from the 1- and 2-rank runs as 2 w2 / t1 - 1 (w2: the slowest rank's "
                 "I/O + compute seconds at 2 ranks), clamped to [0, 1]; a loaded machine "
                 "inflates it, and --tsne-repeated sets it",
           fmt_bytes(racc_bytes(m->k * m->d + 1, m->k + 2), b1, 32), select_rounds(m->n, m->k),
           fmt_bytes(racc_bytes(0, 2002), b2, 32), TSNE_SMALL);

    printf("## Measured input (1 and 2 ranks) and the model at the measured size\n\n");
    printf("| phase | n | d | k | 1 rank s | 2 ranks s | measured eff. | model 2 ranks s | "
           "model eff. | bytes/rank measured | bytes/rank model |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < PH_TSNE_KNN; i++) {
        const phase_t *f = &ph[i];
        params_t mm = *m;
        mm.n = f->n;
        mm.d = f->d;
        mm.k = f->k;
        double s = serial_of(ph, i);
        proj_t r2 = project(&mm, f, i, s, 2, f->n);
        printf("| %s | %.0f | %.0f | %.0f | %.4g | ", phase_names[i], f->n, f->d, f->k, f->t1);
        if (f->have2) {
            printf("%.4g%s | %.1f %% | ", f->t2, f->over2 ? " (oversubscribed)" : "",
                   100 * f->t1 / (2 * f->t2));
        } else {
            printf("- | - | ");
        }
        printf("%.4g | %.1f %% | %s | %s |\n", r2.t, 100 * f->t1 / (2 * r2.t),
               f->have2 ? fmt_bytes(f->bytes2, b1, 32) : "-", fmt_bytes(r2.bytes, b2, 32));
    }
    printf("\nSeconds are per unit: k-means and t-SNE per iteration, the others per run. "
           "Measured bytes of a whole run also hold the program's other small collectives "
           "(reading, checks), which the model leaves out; the thresholds' model is an upper "
           "bound (every target open in every round).\n");

    printf("\n## Where each phase stops scaling\n\n");
    printf("Strong: N = %.4g; weak: %.4g rows per rank. \"Below 50 %%\" is the first P = 2^j "
           "with efficiency under 50 %% (\"beyond\": past P = %d, extrapolated by the same "
           "model); \"why\" names the largest part of the time there (strong) or the part that "
           "grew most since P = 1 (weak).\n\n",
           m->n, m->npr, m->pmax);
    printf("| phase | strong: efficiency at P = %d | strong: below 50 %% at P | why | weak: "
           "efficiency at P = %d | weak: below 50 %% at P | why |\n",
           m->pmax, m->pmax);
    printf("|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < NPH; i++) {
        if (!ph[i].have1) {
            continue;
        }
        printf("| %s |", phase_names[i]);
        for (int w = 0; w < 2; w++) {
            series(m, ph, i, w, r, &np);
            stop_t v = stops(m, ph, i, r, np, w);
            summary_cell(&v, w);
        }
        printf("\n");
    }

    for (int w = 0; w < 2; w++) {
        if (w) {
            printf("\n## Weak scaling: %.4g rows per rank (N = %.4g at P = %d)\n\n", m->npr,
                   m->npr * m->pmax, m->pmax);
        } else {
            printf("\n## Strong scaling: N = %.4g\n\n", m->n);
        }
        for (int i = 0; i < NPH; i++) {
            if (!ph[i].have1) {
                continue;
            }
            series(m, ph, i, w, r, &np);
            printf("### %s\n\n", phase_what[i]);
            printf("| P | N | seconds | compute | repeated | communication | bytes/rank | "
                   "efficiency |\n|---|---|---|---|---|---|---|---|\n");
            for (int j = 0, p = 1; j < np; j++, p *= 2) {
                printf("| %d | %.4g | %.4g | %.4g | %.4g | %.4g | %s | %.1f %% |\n", p,
                       w ? m->npr * p : m->n, r[j].t, r[j].compute, r[j].serial, r[j].comm,
                       fmt_bytes(r[j].bytes, b1, 32), 100 * r[j].eff);
            }
            printf("\n");
            stop_t v = stops(m, ph, i, r, np, w);
            verdict(m, &v, np, w);
            printf("\n");
        }
    }

    /* t-SNE's limits: the gathered embedding and the tree on every rank, the all-pairs kNN. */
    double lo = 16.0 + 8.0 + 24.0, hi = lo + m->cells * TSNE_CELL_BYTES;
    double own = m->d * 8 + 2.0 * TSNE_KNN * 16; /* a row, its P entries (both directions) */
    printf("## Where t-SNE breaks\n\n");
    printf("Every rank holds the whole N x 2 embedding (16 B per row), its leaf lists "
           "(8 B per row) and the N x 3 repulsion sums it reduces (24 B per row), %.0f B per row "
           "of all N, plus the Barnes-Hut cells (%.0f B each, "
           "%.3g per row assumed: %.0f B per row); its own rows cost about %.0f B each "
           "(D doubles and %d neighbours in both directions, 16 B per entry).\n\n",
           lo, TSNE_CELL_BYTES, m->cells, hi, own, TSNE_KNN);
    printf("- With %.3g GB per rank the replicated part alone fits up to N = %.3g (at most %.3g "
           "with no tree at all), whatever P: at N = %.4g it needs %.3g GB per rank, so the "
           "strong-scaling t-SNE rows above are arithmetic, not a run that fits.\n",
           m->mem_rank / 1e9, m->mem_rank / hi, m->mem_rank / lo, m->n, m->n * hi / 1e9);
    double nfit = m->mem_rank / (hi + own / m->pmax);
    printf("- With N/P rows of its own as well, at P = %d the largest N is %.3g (N/P = %.3g).\n",
           m->pmax, nfit, nfit / m->pmax);
    {
        double pl = m->mem_rank / (hi * m->npr + own);
        printf("- Weak scaling at %.4g rows per rank passes the memory limit above P = %.0f "
               "(N = %.3g).\n",
               m->npr, floor(pl), floor(pl) * m->npr);
    }
    {
        double ag = allgather(m, m->pmax, 16 * m->n), ar = allreduce(m, m->pmax, 24 * m->n);
        printf("- Communication alone, at N = %.4g and P = %d: the repulsion sum %.3g s and the "
               "gather %.3g s per iteration, %.3g s for %d iterations, whatever P (every rank "
               "ends with all N rows' values).\n",
               m->n, m->pmax, ar, ag, (ar + ag) * m->tsne_iters, m->tsne_iters);
    }
    if (ph[PH_TSNE_KNN].have1) {
        params_t mm = *m;
        proj_t k = project(&mm, &ph[PH_TSNE_KNN], PH_TSNE_KNN, 0, m->pmax, m->n);
        printf("- The exact kNN (all pairs, O(N^2 D / P)): %.3g s at N = %.4g and P = %d "
               "(%.3g days).\n",
               k.t, m->n, m->pmax, k.t / 86400);
    }
    printf("\n");
}

/* ---- options ------------------------------------------------------------------------------ */

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: adk-scaling-model [options] STRONG.csv\n"
            "Projected seconds and parallel efficiency per phase for P = 1, 2, 4, ..., PMAX\n"
            "(strong and weak scaling) from the 1- and 2-rank measurements of run.sh.\n\n"
            "  --n N              rows, strong scaling (1e9)\n"
            "  --d D              features (32)\n"
            "  --k K              clusters (64)\n"
            "  --rows-per-rank R  weak scaling (N / PMAX)\n"
            "  --pmax P           largest rank count, a power of two (1024)\n"
            "  --alpha S          latency between nodes, seconds (1.5e-6)\n"
            "  --bandwidth B      link bandwidth between nodes, bytes/s (12.5e9)\n"
            "  --alpha-node S     latency within a node (0.3e-6)\n"
            "  --bandwidth-node B copy bandwidth per rank within a node (6e9)\n"
            "  --gamma S          reduction seconds per byte (1.25e-10)\n"
            "  --ranks-per-node R (32)\n"
            "  --mem-per-rank B   bytes (8e9)\n"
            "  --tree-cells C     Barnes-Hut cells per point (1)\n"
            "  --tsne-iters I     iterations of a whole t-SNE run (1000)\n"
            "  --tsne-repeated S  share of a t-SNE iteration every rank repeats, 0..1\n"
            "                     (estimated from the 1- and 2-rank runs)\n"
            "  --csv              one CSV line per phase and P instead of the Markdown report\n");
}

int main(int argc, char **argv)
{
    params_t m = {1.5e-6, 12.5e9, 0.3e-6, 6e9, 1.25e-10, 32,   8e9, 1.0,
                  1e9,    32,     64,     0,   1024,     1000, 0};
    const char *csv = NULL;
    struct {
        const char *name;
        double *v;
    } opts[] = {{"--n", &m.n},
                {"--d", &m.d},
                {"--k", &m.k},
                {"--rows-per-rank", &m.npr},
                {"--alpha", &m.alpha_net},
                {"--bandwidth", &m.bw_net},
                {"--alpha-node", &m.alpha_node},
                {"--bandwidth-node", &m.bw_node},
                {"--gamma", &m.gamma},
                {"--mem-per-rank", &m.mem_rank},
                {"--tree-cells", &m.cells}};
    double pmax = m.pmax, per_node = m.per_node, iters = m.tsne_iters, repeated = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double *dst = NULL;
        for (size_t j = 0; j < sizeof(opts) / sizeof(opts[0]); j++) {
            if (strcmp(a, opts[j].name) == 0) {
                dst = opts[j].v;
            }
        }
        dst = strcmp(a, "--pmax") == 0             ? &pmax
              : strcmp(a, "--ranks-per-node") == 0 ? &per_node
              : strcmp(a, "--tsne-iters") == 0     ? &iters
              : strcmp(a, "--tsne-repeated") == 0  ? &repeated
                                                   : dst;
        if (strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--csv") == 0) {
            m.csv = 1;
        } else if (dst) {
            if (i + 1 >= argc || !num(argv[i + 1], dst) || !(*dst >= 0)) {
                fprintf(stderr, "adk-scaling-model: %s needs a non-negative number\n", a);
                return 1;
            }
            i++;
        } else if (a[0] == '-' || csv) {
            usage(stderr);
            return 1;
        } else {
            csv = a;
        }
    }
    if (!csv || pmax < 1 || pmax > (1 << 20) || (int)pmax != pmax || per_node < 1 || iters < 1 ||
        repeated > 1 || !(m.n >= 1) || !(m.d >= 1) || !(m.k >= 1) || !(m.bw_net > 0) ||
        !(m.bw_node > 0)) {
        fprintf(stderr, "adk-scaling-model: need STRONG.csv, --pmax 1..2^20, --n, --d, --k, "
                        "--ranks-per-node, --tsne-iters >= 1, --tsne-repeated <= 1 and "
                        "bandwidths > 0\n");
        return 1;
    }
    m.pmax = (int)pmax;
    m.per_node = (int)per_node;
    m.tsne_iters = (int)iters;
    if (m.npr <= 0) {
        m.npr = m.n / m.pmax;
    }
    phase_t *ph = adk_calloc(NPH, sizeof(phase_t));
    if (!ph) {
        fprintf(stderr, "adk-scaling-model: out of memory\n");
        return 1;
    }
    for (int i = 0; i < NPH; i++) {
        ph[i].name = phase_names[i];
        ph[i].what = phase_what[i];
        ph[i].repeated = i == PH_TSNE && repeated >= 0 ? repeated : -1;
    }
    int rc = read_csv(csv, ph);
    if (rc == 0) {
        if (m.csv) {
            print_csv(&m, ph);
        } else {
            print_md(&m, ph, csv);
        }
    }
    free(ph);
    return rc ? 2 : 0;
}
