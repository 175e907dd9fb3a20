/*
 * fuzz_spec: libFuzzer harness of the input-spec parser (adk_h5_split_spec). The input bytes,
 * up to the first NUL, are the spec. A successful split must name a file, and a dataset path
 * (starting with '/') exactly when the spec is not CSV; a failure must return nothing.
 * Build and run: tests/fuzz/run.sh (make fuzz).
 */
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fz_init(argc, argv);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact-size copy, so that reading past the terminator is an ASan report */
    char *spec = malloc(size + 1);
    if (!spec) {
        return 0;
    }
    memcpy(spec, data, size);
    spec[size] = '\0';
    char *file = (char *)1, *dset = (char *)1;
    int is_csv = -1;
    int st = adk_h5_split_spec(fz_ctx, spec, &file, &dset, &is_csv);
    if (st == ADK_OK) {
        FZ_ASSERT(file && file[0], "no file name for '%s'", spec);
        FZ_ASSERT(is_csv == 0 || is_csv == 1, "is_csv = %d", is_csv);
        FZ_ASSERT(is_csv ? dset == NULL : (dset && dset[0] == '/'), "dataset of '%s'", spec);
        FZ_ASSERT(strlen(file) <= strlen(spec), "file name longer than the spec");
        FZ_ASSERT(strncmp(file, spec, strlen(file)) == 0, "file name is not a prefix of the spec");
    } else {
        FZ_ASSERT(st == ADK_EINVAL, "status %d", st);
        FZ_ASSERT(file == NULL && dset == NULL, "names returned with an error");
    }
    fz_check_status(st, "adk_h5_split_spec");
    free(file);
    free(dset);
    free(spec);
    return 0;
}
