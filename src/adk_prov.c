/*
 * adk_prov: provenance of a run (see adk_prov.h).
 */
#include "config.h"

#include "adk_prov.h"

#include <string.h>
#include <time.h>

static void add(adk_prov_t *p, const char *name, adk_prov_kind_t kind, const char *s, int64_t i,
                uint64_t u)
{
    adk_prov_item_t it = {name, kind, s, i, u};
    p->item[p->n++] = it;
}

int adk_prov_collect(adk_ctx_t *ctx, adk_prov_t *p)
{
    memset(p, 0, sizeof(*p));
    long long now = 0;
    if (adk_ctx_rank(ctx) == 0) {
        now = (long long)time(NULL);
    }
    int st = adk_ctx_bcast(ctx, &now, 1, MPI_LONG_LONG, 0);
    if (st != ADK_OK) {
        return st;
    }
    time_t tt = (time_t)now;
    struct tm tmv;
    gmtime_r(&tt, &tmv);
    strftime(p->created_utc, sizeof(p->created_utc), "%Y-%m-%dT%H:%M:%SZ", &tmv);
    uint64_t seed = 0;
    int has_seed = adk_ctx_seed(ctx, &seed);
    add(p, "adkit_version", ADK_PROV_STR, PACKAGE_VERSION, 0, 0);
    add(p, "git_commit", ADK_PROV_STR, ADK_GIT_COMMIT, 0, 0);
    add(p, "command_line", ADK_PROV_STR, adk_ctx_cmdline(ctx), 0, 0);
    if (has_seed) {
        add(p, "seed", ADK_PROV_U64, NULL, 0, seed);
    }
    add(p, "mpi_ranks", ADK_PROV_I64, NULL, adk_ctx_size(ctx), 0);
    add(p, "created_utc", ADK_PROV_STR, p->created_utc, 0, 0);
    add(p, "inputs", ADK_PROV_STR, adk_ctx_inputs(ctx), 0, 0);
    return ADK_OK;
}
