/*
 * fuzz_csv: libFuzzer harness of the CSV reader (adk_csv through adk_io_read). The input bytes
 * become FILE.csv, read once without labels and once with a label column (an index, a negative
 * index or a header name, chosen by the input's length so a given input always takes the same
 * path). A successful read must hold finite values of the announced shape.
 * Build and run: tests/fuzz/run.sh (make fuzz).
 */
#include "fuzz_common.h"

#include <math.h>

#include "adk_io.h"
#include "adk_part.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_init(argc, argv);
    return 0;
}

static void check_rows(const adk_rows_t *r, int labels)
{
    FZ_ASSERT(r != NULL, "ADK_OK without rows");
    FZ_ASSERT(r->n >= 1 && r->d >= 1, "empty result %lld x %zu", (long long)r->n, r->d);
    FZ_ASSERT(r->row0 == 0 && (int64_t)r->nloc == r->n, "1 rank must hold every row");
    FZ_ASSERT(!labels || r->labels != NULL, "labels asked for but none returned");
    for (size_t i = 0; i < r->nloc * r->d; i++) {
        FZ_ASSERT(isfinite(r->x[i]), "non-finite value at %zu", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cols[] = {"0", "-1", "label", "1"};
    const char *file = fz_write("in.csv", data, size);
    for (int pass = 0; pass < 2; pass++) {
        adk_read_opts_t o = {pass ? 1 : ADK_ALIGN_REPRO, NULL, pass ? cols[size % 4] : NULL};
        adk_rows_t *r = NULL;
        int st = adk_io_read(fz_ctx, file, &o, &r);
        if (st == ADK_OK) {
            check_rows(r, pass);
        } else {
            FZ_ASSERT(r == NULL, "rows returned with status %d", st);
            FZ_ASSERT(st == ADK_EDATA || st == ADK_EINVAL || st == ADK_EIO, "status %d: %s", st,
                      adk_ctx_message(fz_ctx));
        }
        fz_check_status(st, "adk_io_read(csv)");
        adk_rows_free(r);
    }
    return 0;
}
