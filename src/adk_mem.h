/*
 * adk_mem: the allocation functions every adkit allocation goes through, so a test can make one
 * chosen rank's n-th allocation fail and check that every program ends cleanly wherever that is.
 *
 * ADK_FAIL_ALLOC="RANK:N" (RANK as MPI_COMM_WORLD numbers it, read from the launcher's
 * environment: OMPI_COMM_WORLD_RANK, PMIX_RANK or PMI_RANK; 0 without a launcher) makes the N-th
 * allocation of that rank, counted from the program's start, return NULL (only that one).
 * N = 0 only counts: that rank prints "adk_mem: COUNT allocations" on stderr at exit. Without the
 * variable the functions are malloc, calloc, realloc, strdup and strndup.
 */
#ifndef ADK_MEM_H
#define ADK_MEM_H

#include <stddef.h>

/* As malloc, calloc, realloc, strdup, strndup (NULL on failure, real or injected). Local. */
void *adk_malloc(size_t n);
void *adk_calloc(size_t n, size_t size);
void *adk_realloc(void *p, size_t n);
char *adk_strdup(const char *s);
char *adk_strndup(const char *s, size_t n);

#endif
