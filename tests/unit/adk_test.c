/*
 * adk_test: CUnit-to-TAP runner for the unit tests, safe to run at any rank count.
 */
#include "adk_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/TestRun.h>

#include "adk_cli.h"

static adk_ctx_t *test_ctx;
static char path_buf[4096];
static char skip_why[200]; /* set by adk_test_skip during the current test */

void adk_test_skip(const char *why)
{
    snprintf(skip_why, sizeof(skip_why), "%s", why);
}

adk_ctx_t *adk_test_ctx(void)
{
    return test_ctx;
}

const char *adk_test_path(const char *name)
{
    const char *dir = getenv("ADK_TEST_TMP");
    snprintf(path_buf, sizeof(path_buf), "%s/%s", dir && *dir ? dir : ".", name);
    return path_buf;
}

int adk_test_main(int argc, char **argv, const char *suite, const adk_test_t *tests)
{
    adk_ctx_t *ctx = NULL;
    if (adk_cli_begin(&argc, &argv, &ctx) != ADK_OK) {
        return adk_cli_end(ctx, ADK_EMPI);
    }
    test_ctx = ctx;
    int rank = adk_ctx_rank(ctx);
    if (CU_initialize_registry() != CUE_SUCCESS) {
        return adk_cli_end(ctx, ADK_ENOMEM);
    }
    CU_set_error_action(CUEA_IGNORE);
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    int n = 0;
    for (const adk_test_t *t = tests; t->name; t++, n++) {
        CU_add_test(s, t->name, t->fn);
    }
    if (rank == 0) {
        printf("1..%d\n", n);
    }
    int i = 0, failed = 0;
    for (const adk_test_t *t = tests; t->name; t++, i++) {
        CU_pTest pt = CU_get_test_by_name(t->name, s);
        skip_why[0] = '\0';
        CU_run_test(s, pt); /* resets CUnit's failure count and list: they are this test's */
        int mine = (int)CU_get_number_of_failures(), all = 0;
        MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (mine > 0) { /* each rank shows its own failed assertions */
            for (CU_pFailureRecord f = CU_get_failure_list(); f; f = f->pNext) {
                if (f->pTest == pt) {
                    fprintf(stdout, "# rank %d: %s:%u: %s\n", rank, f->strFileName, f->uiLineNumber,
                            f->strCondition);
                }
            }
            fflush(stdout);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) {
            printf("%s %d - %s: %s%s%s\n", all ? "not ok" : "ok", i + 1, suite, t->name,
                   skip_why[0] && !all ? " # SKIP " : "", all ? "" : skip_why);
            fflush(stdout);
        }
        failed += all > 0;
    }
    CU_cleanup_registry();
    adk_cli_end(ctx, ADK_OK);
    return 0; /* TAP lines carry the verdict */
}

cJSON *adk_test_load_json(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = len >= 0 ? malloc((size_t)len + 1) : NULL;
    cJSON *j = NULL;
    if (buf) {
        size_t got = fread(buf, 1, (size_t)len, f);
        buf[got] = '\0';
        j = cJSON_Parse(buf);
        free(buf);
    }
    fclose(f);
    return j;
}

double adk_test_hash01(int64_t i, int64_t j)
{
    uint64_t z =
        (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15) + (uint64_t)j * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

int adk_test_same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

int adk_test_message_has(const char *needle)
{
    adk_ctx_t *ctx = adk_test_ctx();
    int mine = strstr(adk_ctx_message(ctx), needle) != NULL, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (!any && adk_ctx_rank(ctx) == 0) {
        printf("# expected '%s' in '%s'\n", needle, adk_ctx_message(ctx));
    }
    return any;
}

void adk_test_fresh_dir(const char *name, char *dir, size_t len)
{
    snprintf(dir, len, "%s", adk_test_path(name));
    if (adk_ctx_rank(adk_test_ctx()) == 0) {
        mkdir(dir, 0755);
        DIR *dp = opendir(dir);
        struct dirent *e;
        while (dp && (e = readdir(dp)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                char p[2048];
                snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
                unlink(p);
            }
        }
        if (dp) {
            closedir(dp);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
}
