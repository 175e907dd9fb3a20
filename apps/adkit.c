/*
 * adkit: every adkit program in one executable, and `adkit run STEPS`, which runs a file of
 * program command lines one after another in one MPI job (adk_steps.h), so that a study of
 * hundreds of small steps starts MPI once instead of hundreds of times.
 *
 *   adkit PROGRAM [ARGS...]        the same as adkit-PROGRAM ARGS...
 *   mpiexec -n 4 adkit run [--times T.tsv] [--echo] [--check] STEPS
 */
#include "adk_cli.h"
#include "adk_mem.h"
#include "adk_out.h"
#include "adk_steps.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*adk_app_main_t)(int argc, char **argv);

#define ADK_APP(name) int adk_app_##name##_main(int argc, char **argv);
ADK_APP(elbow)
ADK_APP(gauss)
ADK_APP(gen)
ADK_APP(kmeans)
ADK_APP(knn)
ADK_APP(metrics)
ADK_APP(pca)
ADK_APP(score)
ADK_APP(subset)
ADK_APP(threshold)
ADK_APP(tsne)

typedef struct {
    const char *name;
    adk_app_main_t main;
} prog_t;

static const prog_t progs[] = {
    {"elbow", adk_app_elbow_main},   {"gauss", adk_app_gauss_main},
    {"gen", adk_app_gen_main},       {"kmeans", adk_app_kmeans_main},
    {"knn", adk_app_knn_main},       {"metrics", adk_app_metrics_main},
    {"pca", adk_app_pca_main},       {"score", adk_app_score_main},
    {"subset", adk_app_subset_main}, {"threshold", adk_app_threshold_main},
    {"tsne", adk_app_tsne_main},     {NULL, NULL}};

/* The program a command names: "kmeans" or "adkit-kmeans"; NULL if none. */
static const prog_t *find_prog(const char *word)
{
    if (strncmp(word, "adkit-", 6) == 0) {
        word += 6;
    }
    for (const prog_t *p = progs; p->name; p++) {
        if (strcmp(p->name, word) == 0) {
            return p;
        }
    }
    return NULL;
}

typedef struct {
    const char *times;
    int echo, check, force;
    int failed; /* the exit code of the step that failed, 0 if none */
} opts_t;

/* Every command names a program, before anything runs: a typo on the last line costs nothing. */
static int check_steps(adk_ctx_t *ctx, const char *path, const adk_steps_t *s)
{
    for (int i = 0; i < s->n; i++) {
        if (!find_prog(s->step[i].argv[0])) {
            return ADK_ERR(ctx, ADK_EINVAL,
                           "%s:%d: '%s' is not an adkit program (adkit --help lists them)", path,
                           s->step[i].line, s->step[i].argv[0]);
        }
    }
    return ADK_OK;
}

/* Run one step: its program's main with argv[0] = "adkit-NAME"; every rank's exit code. */
static int run_step(adk_ctx_t *ctx, const adk_step_t *s, int *code)
{
    const prog_t *p = find_prog(s->argv[0]);
    char name[32];
    snprintf(name, sizeof(name), "adkit-%s", p->name);
    char **argv = adk_malloc(((size_t)s->argc + 1) * sizeof(char *));
    int st = adk_ctx_agree(ctx, argv ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st != ADK_OK) {
        free(argv);
        return st;
    }
    memcpy(argv, s->argv, ((size_t)s->argc + 1) * sizeof(char *));
    argv[0] = name;
    int rc = p->main(s->argc, argv);
    free(argv);
    /* the programs agree on their status, so the codes agree; the maximum makes sure */
    return adk_ctx_allreduce(ctx, &rc, code, 1, MPI_INT, MPI_MAX);
}

/* Append "line program seconds" to the times table (rank 0). */
static int add_time(adk_ctx_t *ctx, char **tab, size_t *len, const adk_step_t *s, double sec)
{
    if (adk_ctx_rank(ctx) != 0) {
        return ADK_OK;
    }
    const char *prog = find_prog(s->argv[0])->name;
    size_t need = *len + strlen(prog) + 64;
    char *t = adk_realloc(*tab, need);
    if (!t) {
        return ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    }
    *tab = t;
    *len += (size_t)snprintf(t + *len, need - *len, "%d\tadkit-%s\t%.6f\n", s->line, prog, sec);
    return ADK_OK;
}

static int run_all(adk_ctx_t *ctx, const opts_t *o, const char *path, const adk_steps_t *s,
                   int *failed)
{
    char *tab = adk_ctx_rank(ctx) == 0 ? adk_strdup("line\tprogram\tseconds\n") : NULL;
    size_t len = tab ? strlen(tab) : 0;
    int st = adk_ctx_agree(
        ctx, tab || adk_ctx_rank(ctx) != 0 ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    for (int i = 0; st == ADK_OK && i < s->n; i++) {
        const adk_step_t *step = &s->step[i];
        if (o->echo && adk_ctx_rank(ctx) == 0) {
            fprintf(stderr, "adkit run: %s:%d:", path, step->line);
            for (int w = 0; w < step->argc; w++) {
                fprintf(stderr, " %s", step->argv[w]);
            }
            fprintf(stderr, "\n");
        }
        double t0 = MPI_Wtime();
        int code = 0;
        st = run_step(ctx, step, &code);
        if (st == ADK_OK && code != 0) {
            if (adk_ctx_rank(ctx) == 0) { /* the program has said why */
                fprintf(stderr,
                        "adkit run: %s:%d: %s failed (exit %d); the steps after it were "
                        "not run\n",
                        path, step->line, step->argv[0], code);
            }
            free(tab);
            *failed = code;
            return ADK_EXIT;
        }
        if (st == ADK_OK) {
            st = adk_ctx_agree(ctx, add_time(ctx, &tab, &len, step, MPI_Wtime() - t0));
        }
    }
    if (st == ADK_OK && o->times) {
        st = adk_out_text_file(ctx, o->times, o->force ? ADK_OUT_FORCE : 0, tab);
    }
    free(tab);
    return st;
}

/* adkit run. After a failed step (which has reported itself) the status is ADK_EXIT, so nothing
 * more is reported, and o->failed keeps the step's exit code for run_main. */
static int run(adk_ctx_t *ctx, void *opts, int npos, char **pos)
{
    opts_t *o = opts;
    (void)npos;
    char *text = NULL;
    adk_steps_t *s = NULL;
    int st = ADK_OK;
    if (o->times) {
        st = adk_out_check(ctx, o->times, o->force ? ADK_OUT_FORCE : 0);
    }
    if (st == ADK_OK) {
        st = adk_steps_read(ctx, pos[0], &text);
    }
    if (st == ADK_OK) { /* the same text everywhere: the same verdict */
        st = adk_ctx_agree(ctx, adk_steps_parse(ctx, pos[0], text, &s));
    }
    if (st == ADK_OK) {
        st = adk_ctx_agree(ctx, check_steps(ctx, pos[0], s));
    }
    if (st == ADK_OK && o->check && adk_ctx_rank(ctx) == 0) {
        printf("adkit run: %s: %d steps, every one names a program\n", pos[0], s->n);
    }
    if (st == ADK_OK && !o->check) {
        st = run_all(ctx, o, pos[0], s, &o->failed);
    }
    adk_steps_free(s);
    free(text);
    return st;
}

static int run_main(int argc, char **argv)
{
    opts_t o = {NULL, 0, 0, 0, 0};
    const adk_opt_t tab[] = {
        {"times", ADK_OPT_STR, &o.times, "T.tsv", "write each step's line, program and seconds"},
        {"echo", ADK_OPT_FLAG, &o.echo, NULL, "print each command (rank 0, stderr) before it runs"},
        {"check", ADK_OPT_FLAG, &o.check, NULL, "read and check STEPS, run nothing"},
        {"force", ADK_OPT_FLAG, &o.force, NULL, "replace an existing --times file"},
        {NULL, 0, NULL, NULL, NULL}};
    const adk_cli_t cli = {
        "[OPTIONS] STEPS",
        "Run the adkit program command lines of the file STEPS one after another in this one MPI\n"
        "job, stopping at the first that fails (with its exit code). One command per line, words\n"
        "split as a shell would but without any expansion ('...' and \"...\" quote, \\ escapes "
        "and\n"
        "continues lines, # comments); the first word names the program (kmeans or\n"
        "adkit-kmeans). Every command is checked before the first one runs.",
        tab,
        1,
        1,
        "Example (steps.txt):\n"
        "  adkit-kmeans --k 8 --seed 0 --out model.h5 --assign a.h5 train.h5:/data\n"
        "  adkit-threshold --model model.h5 --assign a.h5 --per-cluster-percentile 99\n"
        "  adkit-score --model model.h5 --out s.h5 test.h5:/data\n"
        "then: mpiexec -n 4 adkit run --times times.tsv steps.txt"};
    int st = adk_cli_host_begin(&argc, &argv);
    if (st != ADK_OK) {
        return adk_exit_code(st);
    }
    int rc = adk_cli_main(argc, argv, &cli, &o, run);
    adk_cli_host_end();
    return o.failed ? o.failed : rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: adkit PROGRAM [ARGS...]\n"
            "       adkit run [OPTIONS] STEPS\n\n"
            "Every adkit program in one executable: `adkit kmeans ARGS` is `adkit-kmeans ARGS`;\n"
            "`adkit run STEPS` runs a file of program command lines in one MPI job (adkit run\n"
            "--help). Programs:");
    for (const prog_t *p = progs; p->name; p++) {
        fprintf(f, " %s", p->name);
    }
    fprintf(f, "\n\nOptions:\n  --help     show this help and exit\n"
               "  --version  show the version and exit\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return ADK_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return ADK_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("adkit %s\n", adk_version());
        return ADK_EXIT_OK;
    }
    static char run_name[] = "adkit run";
    if (strcmp(argv[1], "run") == 0) {
        argv[1] = run_name;
        return run_main(argc - 1, argv + 1);
    }
    const prog_t *p = find_prog(argv[1]);
    if (!p) {
        fprintf(stderr, "adkit: '%s' is not an adkit program (adkit --help lists them)\n", argv[1]);
        return ADK_EXIT_USAGE;
    }
    char name[32];
    snprintf(name, sizeof(name), "adkit-%s", p->name);
    argv[1] = name;
    return p->main(argc - 1, argv + 1);
}
