/*
 * adkit-gen: synthetic data sets for tests and benchmarks, written to HDF5 in parallel.
 *
 *   mpiexec -n 4 adkit-gen blobs --n 1000000 --d 8 --centers 5 --seed 7 --out blobs.h5
 *
 * The generator (src/adk_gen.c) makes every row from (seed, global row), so the file is the same
 * for any number of ranks; this program only parses options and maps the status to an exit code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_gen.h"
#include "adk_io.h"

/* Whether option --name was given (before any "--"): --centers-file replaces --centers and --d. */
static int given(int argc, char **argv, const char *name)
{
    size_t len = strlen(name);
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strncmp(argv[i], "--", 2) == 0 && strncmp(argv[i] + 2, name, len) == 0 &&
            (argv[i][2 + len] == '\0' || argv[i][2 + len] == '=')) {
            return 1;
        }
    }
    return 0;
}

ADK_CLI_MAIN(gen)
{
    adk_ctx_t *ctx = NULL;
    int st = adk_cli_begin(&argc, &argv, &ctx);
    if (st != ADK_OK) {
        return adk_cli_end(ctx, st);
    }
    adk_gen_blobs_params_t p;
    adk_gen_blobs_params_default(&p);
    const char *out = NULL, *centers_file = NULL, *std_s = "1.0", *box_s = "-10,10";
    const char *dtype_s = "float64";
    int force = 0;
    const adk_opt_t opts[] = {
        {"n", ADK_OPT_I64, &p.n, "N", "rows"},
        {"d", ADK_OPT_I64, &p.d, "D", "features"},
        {"centers", ADK_OPT_I64, &p.k, "K", "number of centres, drawn uniformly in the box"},
        {"centers-file", ADK_OPT_STR, &centers_file, "FILE.h5:/DSET",
         "K x D centres to use instead (K and D come from it)"},
        {"cluster-std", ADK_OPT_STR, &std_s, "S[,S...]",
         "standard deviation: one value, or one per centre"},
        {"center-box", ADK_OPT_STR, &box_s, "LO,HI", "box the centres are drawn in"},
        {"seed", ADK_OPT_U64, &p.seed, "SEED", "master seed (64-bit)"},
        {"dtype", ADK_OPT_STR, &dtype_s, "TYPE", "on-disk type of /data: float64 or float32"},
        {"slab-rows", ADK_OPT_I64, &p.slab_rows, "R",
         "rows each rank generates and writes per collective round"},
        {"out", ADK_OPT_STR, &out, "FILE.h5", "output file (required)"},
        {"force", ADK_OPT_FLAG, &force, NULL, "replace an existing output file"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "KIND [OPTIONS] --out FILE.h5",
        "Generate a synthetic data set into FILE.h5 (/data, /labels, /centers). KIND 'blobs': "
        "isotropic Gaussian blobs as scikit-learn's make_blobs (N/K rows per centre, the first "
        "N % K centres one more, in shuffled order). The file is bitwise the same for any number "
        "of ranks.",
        opts,
        1,
        1,
        "Example:\n  mpiexec -n 4 adkit-gen blobs --n 1000000 --d 8 --centers 5 --seed 7 --out "
        "blobs.h5"};
    int npos = 0;
    char **pos = NULL;
    double *std = NULL, *box = NULL, *centers = NULL;
    size_t nstd = 0, nbox = 0;
    adk_gen_blobs_t *b = NULL;
    /* argv is the same on every rank: the checks up to adk_out_check agree without messages */
    st = adk_cli_parse(ctx, &cli, argc, argv, &npos, &pos);
    if (st == ADK_OK && strcmp(pos[0], "blobs") != 0) {
        st = ADK_ERR(ctx, ADK_EINVAL, "unknown generator '%s' (available: blobs)", pos[0]);
    }
    if (st == ADK_OK && !out) {
        st = ADK_ERR(ctx, ADK_EINVAL, "--out FILE.h5 is required");
    }
    if (st == ADK_OK) {
        st = adk_out_check(ctx, out, force ? ADK_OUT_FORCE : 0);
    }
    if (st == ADK_OK) {
        st = adk_cli_parse_list(ctx, "cluster-std", std_s, &std, &nstd);
    }
    if (st == ADK_OK) {
        st = adk_cli_parse_list(ctx, "center-box", box_s, &box, &nbox);
    }
    if (st == ADK_OK && nbox != 2) {
        st = ADK_ERR(ctx, ADK_EINVAL, "--center-box: expected LO,HI, got '%s'", box_s);
    }
    if (st == ADK_OK) {
        p.std = std;
        p.nstd = nstd;
        p.box_lo = box[0];
        p.box_hi = box[1];
        if (strcmp(dtype_s, "float64") == 0 || strcmp(dtype_s, "f64") == 0) {
            p.dtype = ADK_F64;
        } else if (strcmp(dtype_s, "float32") == 0 || strcmp(dtype_s, "f32") == 0) {
            p.dtype = ADK_F32;
        } else {
            st = ADK_ERR(ctx, ADK_EINVAL, "--dtype: '%s' is not float64 or float32", dtype_s);
        }
    }
    st = adk_ctx_agree(ctx, st); /* the lists above are allocated: one rank may have failed */
    if (st == ADK_OK && centers_file) {
        if (given(argc, argv, "centers") || given(argc, argv, "d")) {
            st = ADK_ERR(ctx, ADK_EINVAL, "--centers-file gives K and D: drop --centers and --d");
        } else {
            st = adk_ctx_add_input(ctx, centers_file);
        }
        st = adk_ctx_agree(ctx, st);
        if (st == ADK_OK) {
            st = adk_gen_read_centers(ctx, centers_file, &centers, &p.k, &p.d);
            p.centers = centers;
            p.centers_spec = centers_file;
        }
    }
    if (st == ADK_OK) {
        adk_ctx_set_seed(ctx, p.seed);
        st = adk_gen_blobs_alloc(ctx, &p, &b);
    }
    st = adk_ctx_agree(ctx, st);
    double t0 = adk_now();
    if (st == ADK_OK) {
        st = adk_gen_blobs_write(ctx, b, out, force ? ADK_OUT_FORCE : 0);
    }
    double tm[ADK_T_NPHASE] = {0};
    if (st == ADK_OK && adk_ctx_timings(ctx, tm) == ADK_OK) {
        adk_ctx_info(ctx,
                     "%s: wrote %lld x %lld blobs (%lld centres, %s) to %s on %d ranks in %.2f s "
                     "(generate %.2f s, write %.2f s)",
                     adk_ctx_prog(ctx), (long long)b->n, (long long)b->d, (long long)b->k,
                     b->dtype == ADK_F32 ? "float32" : "float64", out, adk_ctx_size(ctx),
                     adk_now() - t0, tm[ADK_T_COMPUTE], tm[ADK_T_IO]);
    }
    adk_gen_blobs_free(b);
    free(centers);
    free(std);
    free(box);
    free(pos);
    return adk_cli_end(ctx, st);
}
