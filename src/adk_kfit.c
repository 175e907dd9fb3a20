/*
 * adk_kfit: a k-means fit's shared state (fit_t, adk_kfit.h) and the rows fetched by global
 * index for initialisation and relocation. Internal to adk_kmeans (not installed).
 */
#include "adk_kfit.h"

/* ------------------------------------------------------------------------------------------ */
/* Fetching rows                                                                              */

/* Centred rows of the given global indices, on every rank. */
int adk_kfit_fetch_rows(fit_t *f, const int64_t *g, size_t m, double *out)
{
    int st = adk_rowsrc_fetch(f->src, g, m, out);
    for (size_t i = 0; st == ADK_OK && i < m * f->d; i++) {
        out[i] -= f->mean[i % f->d]; /* what the owner computed before, the same bits */
    }
    return st;
}
