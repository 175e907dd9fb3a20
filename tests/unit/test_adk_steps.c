/*
 * Unit tests for adk_steps: words split as /bin/sh splits them (the reference: each line is run
 * through `sh` with `set --`), commands and their line numbers, comments and continuations, the
 * refused shell syntax with the line named, and reading a steps file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adk_steps.h"
#include "adk_test.h"

/* The words /bin/sh makes of @p text (no expansions in it), separated by \036 in @p out. */
static int sh_words(const char *text, char *out, size_t cap)
{
    char name[32]; /* one script per rank: every rank runs this test */
    snprintf(name, sizeof(name), "words%d.sh", adk_ctx_rank(adk_test_ctx()));
    const char *script = adk_test_path(name);
    FILE *f = fopen(script, "w");
    if (!f) {
        return -1;
    }
    fprintf(f, "set -- %s\nfor w in \"$@\"; do printf '%%s\\036' \"$w\"; done\n", text);
    fclose(f);
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "sh '%s'", script);
    FILE *p = popen(cmd, "r");
    if (!p) {
        return -1;
    }
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    return pclose(p) == 0 ? 0 : -1;
}

/* One command's words joined by \036, as sh_words gives them. */
static void join(const adk_step_t *s, char *out, size_t cap)
{
    out[0] = '\0';
    for (int w = 0; w < s->argc; w++) {
        strncat(out, s->argv[w], cap - strlen(out) - 2);
        strcat(out, "\036");
    }
}

static void test_words_like_sh(void)
{
    static const char *const lines[] = {
        "kmeans --k 8 --out m.h5 in.h5:/data",
        "  tsne\t--perplexity   30.5  x.h5  ",
        "a 'b c' \"d e\" f\\ g",
        "'' \"\" x",
        "'it''s' \"say \\\"hi\\\"\" 'back\\slash' \"bs\\\\\" \"keep\\n\"",
        "a'b c'\"d\"e",
        "x \\# '#' a#b # a comment",
        "kmeans --k 3 \\\n  --out m.h5 \\\n  in.h5",
        "\"two\nlines\" 'also\ntwo'",
        "\\\\ \\' \\\" \\a",
        "\"cont\\\ninued\" sp\\\nlit",
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        char want[4096], got[4096];
        CU_ASSERT_FATAL(sh_words(lines[i], want, sizeof(want)) == 0);
        adk_steps_t *s = NULL;
        CU_ASSERT_EQUAL_FATAL(adk_steps_parse(adk_test_ctx(), "t", lines[i], &s), ADK_OK);
        CU_ASSERT_EQUAL(s->n, 1);
        join(&s->step[0], got, sizeof(got));
        CU_ASSERT_STRING_EQUAL(got, want);
        CU_ASSERT_PTR_NULL(s->step[0].argv[s->step[0].argc]);
        adk_steps_free(s);
    }
}

static void test_commands_and_lines(void)
{
    const char *text = "# a study\n"
                       "\n"
                       "kmeans --k 3 \\\n"
                       "   --out m.h5 in.h5\n"
                       "   # indented comment\n"
                       "threshold --model m.h5 'a\n"
                       "b'\n"
                       "adkit-score x\r\n"
                       "last";
    adk_steps_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_steps_parse(adk_test_ctx(), "t", text, &s), ADK_OK);
    CU_ASSERT_EQUAL_FATAL(s->n, 4);
    int want_line[4] = {3, 6, 8, 9}, want_argc[4] = {6, 4, 2, 1};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(s->step[i].line, want_line[i]);
        CU_ASSERT_EQUAL(s->step[i].argc, want_argc[i]);
    }
    CU_ASSERT_STRING_EQUAL(s->step[1].argv[3], "a\nb");
    CU_ASSERT_STRING_EQUAL(s->step[2].argv[1], "x"); /* the \r is a blank */
    CU_ASSERT_STRING_EQUAL(s->step[3].argv[0], "last");
    adk_steps_free(s);
    adk_steps_free(NULL);
}

static void test_refused(void)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"kmeans 'open\n\nx", "t:1: unterminated '"},
        {"a\nkmeans \"open", "t:2: unterminated \""},
        {"kmeans --out $HOME/m.h5", "t:1: '$' outside single quotes"},
        {"a\n\nkmeans x; rm y", "t:3: ';' outside"},
        {"kmeans x | tee", "'|' outside"},
        {"kmeans x > log", "'>' outside"},
        {"kmeans x < in", "'<' outside"},
        {"kmeans x &", "'&' outside"},
        {"kmeans \"`date`\"", "'`' outside"},
        {"kmeans \"$x\"", "'$' outside"},
        {"kmeans x\\", "t:1: \\ at the end"},
        {"", "t: no command"},
        {"# only\n  \n# comments\n", "t: no command"},
    };
    adk_ctx_t *ctx = adk_test_ctx();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        adk_steps_t *s = NULL;
        CU_ASSERT_EQUAL(adk_steps_parse(ctx, "t", cases[i].text, &s), ADK_EINVAL);
        CU_ASSERT_PTR_NULL(s);
        CU_ASSERT(adk_test_message_has(cases[i].msg));
        adk_ctx_clear(ctx);
    }
    /* single quotes make them literal */
    adk_steps_t *s = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_steps_parse(ctx, "t", "kmeans '$x;|&<>`'", &s), ADK_OK);
    CU_ASSERT_STRING_EQUAL(s->step[0].argv[1], "$x;|&<>`");
    adk_steps_free(s);
}

static void test_read(void)
{
    adk_ctx_t *ctx = adk_test_ctx();
    const char *path = adk_test_path("steps.txt");
    const char *text = "kmeans --k 2 a.h5\nscore b.h5\n";
    if (adk_ctx_rank(ctx) == 0) {
        FILE *f = fopen(path, "w");
        CU_ASSERT_FATAL(f != NULL);
        fputs(text, f);
        fclose(f);
    }
    MPI_Barrier(adk_ctx_comm(ctx));
    char *got = NULL;
    CU_ASSERT_EQUAL_FATAL(adk_steps_read(ctx, path, &got), ADK_OK);
    CU_ASSERT_STRING_EQUAL(got, text);
    free(got);

    CU_ASSERT_EQUAL(adk_steps_read(ctx, adk_test_path("missing.txt"), &got), ADK_EIO);
    CU_ASSERT_PTR_NULL(got);
    CU_ASSERT(adk_test_message_has("cannot read steps file"));
    adk_ctx_clear(ctx);

    const char *bin = adk_test_path("binary.txt");
    if (adk_ctx_rank(ctx) == 0) {
        FILE *f = fopen(bin, "wb");
        CU_ASSERT_FATAL(f != NULL);
        fwrite("ab\0cd", 1, 5, f);
        fclose(f);
    }
    MPI_Barrier(adk_ctx_comm(ctx));
    CU_ASSERT_EQUAL(adk_steps_read(ctx, bin, &got), ADK_EIO);
    CU_ASSERT(adk_test_message_has("NUL byte"));
    adk_ctx_clear(ctx);
}

int main(int argc, char **argv)
{
    static const adk_test_t tests[] = {
        {"words split as /bin/sh splits them", test_words_like_sh},
        {"commands, their lines, comments, continuations", test_commands_and_lines},
        {"shell syntax and open quotes refused, line named", test_refused},
        {"steps file read on rank 0, handed to all", test_read},
        {NULL, NULL}};
    return adk_test_main(argc, argv, "adk_steps", tests);
}
