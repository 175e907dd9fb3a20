/*
 * Unit tests for adk_prov: the items in their documented order with their kinds and values, the
 * seed only once a run has one, mpi_ranks the size of the context (not of the world), the same
 * created_utc on every rank, and inputs as the context recorded them. Each test makes its own
 * context, so the seed and inputs of one cannot leak into another.
 */
#include "config.h"

#include "adk_gitversion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adk_prov.h"
#include "adk_test.h"

static adk_ctx_t *new_ctx(MPI_Comm comm)
{
    static char a0[] = "adkit-prov", a1[] = "--k", a2[] = "5";
    char *argv[] = {a0, a1, a2, NULL};
    adk_ctx_t *ctx = NULL;
    if (adk_ctx_create(comm, 3, argv, &ctx) != ADK_OK) {
        return NULL;
    }
    return ctx;
}

/* Index of item @p name, or -1. */
static int find(const adk_prov_t *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->item[i].name && strcmp(p->item[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* The string of item @p name ("<missing>" if absent) and the integer (-1 if absent). */
static const char *item_s(const adk_prov_t *p, const char *name)
{
    int k = find(p, name);
    return k >= 0 && p->item[k].s ? p->item[k].s : "<missing>";
}

static int64_t item_i(const adk_prov_t *p, const char *name)
{
    int k = find(p, name);
    return k >= 0 ? p->item[k].i : -1;
}

/* "YYYY-MM-DDTHH:MM:SSZ" exactly. */
static int utc_format(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (strlen(s) != sizeof(pat) - 1) {
        return 0;
    }
    for (size_t i = 0; pat[i]; i++) {
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i]) {
            return 0;
        }
    }
    return 1;
}

/* The created_utc this process would write now, for a window check. */
static void utc_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

static void check_items(const adk_prov_t *p, adk_ctx_t *ctx, int with_seed, uint64_t seed)
{
    static const char *order_seed[] = {"adkit_version", "git_commit",  "command_line", "seed",
                                       "mpi_ranks",     "created_utc", "inputs"};
    static const char *order_plain[] = {"adkit_version", "git_commit",  "command_line",
                                        "mpi_ranks",     "created_utc", "inputs"};
    const char **order = with_seed ? order_seed : order_plain;
    size_t n = with_seed ? 7 : 6;
    CU_ASSERT_EQUAL_FATAL(p->n, n);
    CU_ASSERT(p->n <= ADK_PROV_MAX);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(p->item[i].name);
        CU_ASSERT_STRING_EQUAL(p->item[i].name, order[i]);
        if (p->item[i].kind == ADK_PROV_STR) {
            CU_ASSERT_PTR_NOT_NULL(p->item[i].s);
        }
    }
    int k = find(p, "adkit_version");
    CU_ASSERT(k >= 0 && p->item[k].kind == ADK_PROV_STR &&
              strcmp(p->item[k].s, PACKAGE_VERSION) == 0);
    k = find(p, "git_commit");
    CU_ASSERT(k >= 0 && p->item[k].kind == ADK_PROV_STR &&
              strcmp(p->item[k].s, ADK_GIT_DESCRIBE) == 0);
    k = find(p, "command_line");
    CU_ASSERT(k >= 0 && p->item[k].kind == ADK_PROV_STR &&
              strcmp(p->item[k].s, "adkit-prov --k 5") == 0);
    k = find(p, "mpi_ranks");
    CU_ASSERT(k >= 0 && p->item[k].kind == ADK_PROV_I64 && p->item[k].i == adk_ctx_size(ctx));
    k = find(p, "created_utc");
    CU_ASSERT(k >= 0 && p->item[k].kind == ADK_PROV_STR &&
              strcmp(p->item[k].s, p->created_utc) == 0);
    CU_ASSERT(utc_format(p->created_utc));
    k = find(p, "inputs");
    CU_ASSERT(k >= 0 && p->item[k].kind == ADK_PROV_STR &&
              strcmp(p->item[k].s, adk_ctx_inputs(ctx)) == 0);
    k = find(p, "seed");
    if (with_seed) {
        CU_ASSERT(k >= 0 && p->item[k].kind == ADK_PROV_U64 && p->item[k].u == seed);
    } else {
        CU_ASSERT_EQUAL(k, -1);
    }
}

static void test_order_and_seed(void)
{
    adk_ctx_t *ctx = new_ctx(MPI_COMM_WORLD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    adk_prov_t p;
    memset(&p, 0xA5, sizeof(p)); /* collect must not depend on a cleared struct */
    CU_ASSERT_EQUAL(adk_prov_collect(ctx, &p), ADK_OK);
    check_items(&p, ctx, 0, 0);
    CU_ASSERT_STRING_EQUAL(item_s(&p, "inputs"), "");
    /* a seed above 2^63 keeps all its bits */
    const uint64_t seed = 0xFEDCBA9876543211ULL;
    adk_ctx_set_seed(ctx, seed);
    CU_ASSERT_EQUAL(adk_prov_collect(ctx, &p), ADK_OK);
    check_items(&p, ctx, 1, seed);
    /* collecting again does not append */
    CU_ASSERT_EQUAL(adk_prov_collect(ctx, &p), ADK_OK);
    CU_ASSERT_EQUAL(p.n, 7);
    adk_ctx_set_seed(ctx, 0);
    CU_ASSERT_EQUAL(adk_prov_collect(ctx, &p), ADK_OK);
    check_items(&p, ctx, 1, 0); /* seed 0 is a seed */
    adk_ctx_free(ctx);
}

static void test_inputs(void)
{
    adk_ctx_t *ctx = new_ctx(MPI_COMM_WORLD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    const char *specs[] = {"train.h5:/data", "labels.csv", "model.h5:/centroids"};
    adk_prov_t p;
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_EQUAL(adk_ctx_add_input(ctx, specs[k]), ADK_OK);
        CU_ASSERT_EQUAL(adk_prov_collect(ctx, &p), ADK_OK);
        check_items(&p, ctx, 0, 0);
        const char *in = item_s(&p, "inputs");
        /* every input so far, in the order added */
        const char *prev = in;
        for (int j = 0; j <= k; j++) {
            const char *at = strstr(prev, specs[j]);
            CU_ASSERT_PTR_NOT_NULL_FATAL(at);
            prev = at + strlen(specs[j]);
        }
        for (int j = k + 1; j < 3; j++) {
            CU_ASSERT_PTR_NULL(strstr(in, specs[j]));
        }
        if (k == 0) {
            CU_ASSERT_STRING_EQUAL(in, specs[0]);
        }
    }
    adk_ctx_free(ctx);
}

static void test_ranks_and_time(void)
{
    adk_ctx_t *ctx = new_ctx(MPI_COMM_WORLD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
    int size = adk_ctx_size(ctx), rank = adk_ctx_rank(ctx);
    char lo[32], hi[32];
    utc_now(lo, sizeof(lo));
    MPI_Bcast(lo, sizeof(lo), MPI_CHAR, 0, MPI_COMM_WORLD);
    /* stagger the ranks across a second boundary: rank 0's clock must still be the one used */
    if (rank == size - 1 && size > 1) {
        struct timespec ts = {1, 100000000};
        nanosleep(&ts, NULL);
    }
    adk_prov_t p;
    CU_ASSERT_EQUAL(adk_prov_collect(ctx, &p), ADK_OK);
    utc_now(hi, sizeof(hi));
    MPI_Bcast(hi, sizeof(hi), MPI_CHAR, size - 1, MPI_COMM_WORLD);
    check_items(&p, ctx, 0, 0);
    CU_ASSERT_EQUAL(item_i(&p, "mpi_ranks"), size);
    /* identical on every rank */
    char r0[32];
    memcpy(r0, p.created_utc, sizeof(r0));
    MPI_Bcast(r0, sizeof(r0), MPI_CHAR, 0, MPI_COMM_WORLD);
    int differ = strcmp(r0, p.created_utc) != 0, any = 0;
    MPI_Allreduce(&differ, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CU_ASSERT_EQUAL(any, 0);
    /* within the run's window (ISO 8601 in one zone sorts as text) */
    CU_ASSERT(strcmp(lo, p.created_utc) <= 0);
    CU_ASSERT(strcmp(p.created_utc, hi) <= 0);
    adk_ctx_free(ctx);
    /* a context on one rank counts one rank, whatever the world's size */
    adk_ctx_t *self = new_ctx(MPI_COMM_SELF);
    CU_ASSERT_PTR_NOT_NULL_FATAL(self);
    CU_ASSERT_EQUAL(adk_prov_collect(self, &p), ADK_OK);
    check_items(&p, self, 0, 0);
    CU_ASSERT_EQUAL(item_i(&p, "mpi_ranks"), 1);
    adk_ctx_free(self);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"items in order; seed only once set", test_order_and_seed},
        {"inputs as the context recorded them", test_inputs},
        {"mpi_ranks = size; one created_utc on every rank", test_ranks_and_time},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_prov", tests);
}
