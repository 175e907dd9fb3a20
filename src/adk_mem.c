/*
 * adk_mem: allocation with optional injected failure (see adk_mem.h).
 *
 * The counter is process-wide state: a test hook that must see every allocation of the process,
 * whichever object makes it. It is set once, from the environment, before the first allocation is
 * counted, and adkit programs allocate from one thread.
 */
#include "adk_mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    int init;     /* the environment has been read */
    long long at; /* the allocation number that fails first; 0: none */
    long long n;  /* allocations so far */
} mem_fail;

static long long env_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) {
            return strtoll(v, NULL, 10);
        }
    }
    return 0;
}

static void report_count(void)
{
    fprintf(stderr, "adk_mem: %lld allocations\n", mem_fail.n);
}

/* Whether this allocation is to fail. */
static int fail_now(void)
{
    if (!mem_fail.init) {
        mem_fail.init = 1;
        const char *spec = getenv("ADK_FAIL_ALLOC");
        char *colon = NULL;
        long long rank = spec ? strtoll(spec, &colon, 10) : -1;
        if (spec && colon && *colon == ':' && rank == env_rank()) {
            mem_fail.at = strtoll(colon + 1, NULL, 10);
            if (mem_fail.at == 0) {
                atexit(report_count); /* N = 0: count only, so a test knows how far to sweep */
                mem_fail.at = -1;
            }
        }
    }
    ++mem_fail.n;
    return mem_fail.at > 0 && mem_fail.n == mem_fail.at;
}

void *adk_malloc(size_t n)
{
    return fail_now() ? NULL : malloc(n);
}

void *adk_calloc(size_t n, size_t size)
{
    return fail_now() ? NULL : calloc(n, size);
}

void *adk_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : realloc(p, n);
}

char *adk_strdup(const char *s)
{
    return fail_now() ? NULL : strdup(s);
}

char *adk_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : strndup(s, n);
}
