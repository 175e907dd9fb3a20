/*
 * adkit-subset: the rows of an input chosen by label and by a seeded train / validation / test
 * split, in their order, as a new HDF5 file (the same rows at any rank count; src/adk_subset.h).
 *
 *   mpiexec -n 4 adkit-subset --labels d.h5:/labels --keep-labels 2,3,4,5,6,7,8,9 --out n.h5 d.h5
 *   mpiexec -n 4 adkit-subset --labels d.h5:/labels --split train --split-seed 0 \
 *           --anomaly-labels 0,1 --out train.h5 d.h5
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_cli.h"
#include "adk_io.h"
#include "adk_mem.h"
#include "adk_out.h"
#include "adk_score.h"
#include "adk_subset.h"

typedef struct {
    const char *labels, *label_col, *keep, *split, *fractions, *anomaly, *out;
    uint64_t seed;
    int force;
} opts_t;

/* The options' lists and words into a rule; the lists are malloc'd into *keep and *anom. */
static int make_rule(adk_ctx_t *ctx, const opts_t *o, adk_subset_rule_t *r, int64_t **keep,
                     int64_t **anom)
{
    *r = (adk_subset_rule_t){NULL, 0, ADK_PART_ALL, o->seed, 0.6, 0.2, NULL, 0};
    if (!o->out) {
        return ADK_ERR(ctx, ADK_EINVAL, "--out OUT.h5 is required");
    }
    if (o->labels && o->label_col) {
        return ADK_ERR(ctx, ADK_EINVAL, "give --labels or --label-col, not both");
    }
    if (o->split) {
        const char *w[] = {"train", "val", "test"};
        for (int i = 0; i < 3; i++) {
            r->part = strcmp(o->split, w[i]) == 0 ? (adk_part_name_t)(i + 1) : r->part;
        }
        if (r->part == ADK_PART_ALL) {
            return ADK_ERR(ctx, ADK_EINVAL, "--split: '%s' is not train, val or test", o->split);
        }
    } else if (o->fractions || o->anomaly) {
        return ADK_ERR(ctx, ADK_EINVAL, "--split-fractions and --anomaly-labels need --split");
    }
    if (o->fractions) {
        char *end = NULL;
        r->f_train = strtod(o->fractions, &end);
        if (*end != ',' || (r->f_val = strtod(end + 1, &end), *end != '\0')) {
            return ADK_ERR(ctx, ADK_EINVAL, "--split-fractions: '%s' is not TRAIN,VAL",
                           o->fractions);
        }
    }
    if (o->keep) {
        ADK_CHECK(adk_score_parse_labels(ctx, "keep-labels", o->keep, keep, &r->nkeep));
        r->keep = *keep;
    }
    if (o->anomaly) {
        ADK_CHECK(adk_score_parse_labels(ctx, "anomaly-labels", o->anomaly, anom, &r->nanomaly));
        r->anomaly = *anom;
    }
    return ADK_OK;
}

static int write_subset(adk_ctx_t *ctx, const opts_t *o, const adk_rows_t *y, const int64_t *orig)
{
    adk_out_group_t *g = NULL;
    adk_out_t *out = NULL;
    ADK_CHECK(adk_out_group_create(ctx, o->force ? ADK_OUT_FORCE : 0, &g));
    int st = adk_out_h5_create(g, o->out, &out);
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/data", ADK_F64, y->x, y->n, y->row0, y->nloc, y->d);
    }
    if (st == ADK_OK && y->labels) {
        st = adk_out_rows(out, "/labels", ADK_I64, y->labels, y->n, y->row0, y->nloc, 0);
    }
    if (st == ADK_OK) {
        st = adk_out_rows(out, "/rows", ADK_I64, orig, y->n, y->row0, y->nloc, 0);
    }
    st = st == ADK_OK && o->split ? adk_out_attr_str(out, "/", "split", o->split) : st;
    st = st == ADK_OK && o->split ? adk_out_attr_u64(out, "/", "split_seed", o->seed) : st;
    st = st == ADK_OK && o->keep ? adk_out_attr_str(out, "/", "keep_labels", o->keep) : st;
    st = st == ADK_OK && o->anomaly ? adk_out_attr_str(out, "/", "anomaly_labels", o->anomaly) : st;
    return adk_out_group_commit(g, st);
}

static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    const opts_t *o = opts;
    const char *input = pos[0]; /* the table allows exactly one */
    (void)npos;
    adk_subset_rule_t rule;
    int64_t *keep = NULL, *anom = NULL;
    /* the same text on every rank, but the lists are allocated: agree */
    int st = adk_ctx_agree(ctx, make_rule(ctx, o, &rule, &keep, &anom));
    if (st == ADK_OK) {
        st = adk_out_check(ctx, o->out, o->force ? ADK_OUT_FORCE : 0);
    }
    adk_read_opts_t ro = {1, o->labels, o->label_col};
    adk_rows_t *x = NULL, *y = NULL;
    int64_t *orig = NULL;
    if (st == ADK_OK) {
        st = adk_io_read(ctx, input, &ro, &x);
    }
    if (st == ADK_OK) {
        st = adk_subset_rows(ctx, &rule, x, &y, &orig);
    }
    if (st == ADK_OK) {
        st = write_subset(ctx, o, y, orig);
    }
    if (st == ADK_OK && adk_ctx_rank(ctx) == 0 && !adk_ctx_quiet(ctx)) {
        printf("adkit-subset: %lld of %lld rows of %s -> %s\n", (long long)y->n, (long long)x->n,
               input, o->out);
        fflush(stdout);
    }
    adk_rows_free(x);
    adk_rows_free(y);
    free(orig);
    free(keep);
    free(anom);
    return st;
}

ADK_CLI_MAIN(subset)
{
    opts_t o = {0};
    const adk_opt_t tab[] = {
        {"labels", ADK_OPT_STR, &o.labels, "F.h5:/labels", "labels of the rows (one per row)"},
        {"label-col", ADK_OPT_STR, &o.label_col, "COL", "CSV input: column holding the labels"},
        {"keep-labels", ADK_OPT_STR, &o.keep, "V[,V...]", "keep only rows with these labels"},
        {"split", ADK_OPT_STR, &o.split, "train|val|test", "keep one part of the seeded split"},
        {"split-seed", ADK_OPT_U64, &o.seed, "S", "seed of the split (default 0)"},
        {"split-fractions", ADK_OPT_STR, &o.fractions, "TRAIN,VAL",
         "fractions of the normal rows for training and validation (default 0.6,0.2)"},
        {"anomaly-labels", ADK_OPT_STR, &o.anomaly, "V[,V...]",
         "labels of anomalies: half to validation, half to test, none to training"},
        {"out", ADK_OPT_STR, &o.out, "OUT.h5",
         "write /data, /labels and /rows (input row numbers)"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace an existing output file"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "[OPTIONS] --out OUT.h5 INPUT",
        "Copy the rows of INPUT chosen by label (--keep-labels) and by a seeded split into\n"
        "training, validation and test parts (--split): a uniform u per input row from the seed;\n"
        "rows with an anomaly label go to val when u < 0.5, else test; other rows to train when\n"
        "u < TRAIN, val when u < TRAIN + VAL, else test. Row order is kept; the same rows for\n"
        "any number of MPI ranks. INPUT is FILE.h5:/dataset or FILE.csv.",
        tab,
        1,
        1,
        "Example:\n  mpiexec -n 4 adkit-subset --labels d.h5:/labels --keep-labels 2,3,4,5,6,7,8,9 "
        "--out normal.h5 d.h5:/data"};
    return adk_cli_main(argc, argv, &cli, &o, run);
}
