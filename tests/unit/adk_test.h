/*
 * adk_test: CUnit runner that speaks TAP and understands MPI.
 * Every rank runs the same tests in the same order; after each test the failure counts are summed
 * over the ranks, so an assertion failing on any rank fails the test, and rank 0 prints one TAP
 * line.
 */
#ifndef ADK_TEST_H
#define ADK_TEST_H

#include <stdint.h>

#include <CUnit/CUnit.h>
#include <cjson/cJSON.h>

#include "adk_ctx.h"

typedef struct {
    const char *name;
    CU_TestFunc fn;
} adk_test_t;

/** Run the tests (NULL-terminated) as one suite; returns the process exit status. */
int adk_test_main(int argc, char **argv, const char *suite, const adk_test_t *tests);

/** Mark the running test as skipped (TAP "# SKIP why" when it has no failure), e.g. where this
 * CPU lacks what it tests; return from the test after it. Rank 0's call decides the TAP line. */
void adk_test_skip(const char *why);

/** The context tests use (on MPI_COMM_WORLD). */
adk_ctx_t *adk_test_ctx(void);

/** A path for a scratch file in the test working directory, unique per call name. */
const char *adk_test_path(const char *name);

/** A fresh, empty directory adk_test_path(@p name) (the same path on every rank; rank 0 empties
 * it) into @p dir. Collective (a barrier). */
void adk_test_fresh_dir(const char *name, char *dir, size_t len);

/** Parse the JSON file @p dir/@p name (a reference fixture); NULL if it cannot be read or parsed.
 */
cJSON *adk_test_load_json(const char *dir, const char *name);

/** A value in [0, 1) from a global row and column (splitmix64 of both): test data that is the
 * same whatever the partition. */
double adk_test_hash01(int64_t i, int64_t j);

/** Whether @p a and @p b are the same double bit for bit (-0.0 and NaN payloads included). */
int adk_test_same_bits(double a, double b);

/**
 * Whether the message stored on some rank contains @p needle (the lowest failing rank's is the
 * one reported); when none does, rank 0 prints its own as a TAP comment. Collective.
 */
int adk_test_message_has(const char *needle);

/* Relative closeness with a stated tolerance. */
#define ADK_ASSERT_REL(a, b, tol)                                                                  \
    CU_ASSERT(fabs((double)(a) - (double)(b)) <=                                                   \
              (tol) * (fabs((double)(b)) > 1e-300 ? fabs((double)(b)) : 1.0))

#endif
