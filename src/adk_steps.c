/*
 * adk_steps: steps files (see adk_steps.h).
 */
#include "adk_steps.h"
#include "adk_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ADK_STEPS_MAX_BYTES (64L << 20)

/* The parser's state: words are copied into one buffer, each ended by a NUL. */
typedef struct {
    adk_ctx_t *ctx;
    const char *name;
    char *buf;      /* the words */
    size_t used;    /* bytes of buf in use */
    size_t *start;  /* offset of each word in buf */
    size_t nword;   /* words so far */
    int in_word;    /* a word is open (possibly empty, as after '') */
    int *cmd_line;  /* per command: its line */
    size_t *cmd_w0; /* per command: its first word */
    size_t ncmd;
    int open_cmd; /* the current line has words */
} parser_t;

static void word_begin(parser_t *p, int line)
{
    if (p->in_word) {
        return;
    }
    p->in_word = 1;
    p->start[p->nword] = p->used;
    if (!p->open_cmd) {
        p->open_cmd = 1;
        p->cmd_line[p->ncmd] = line;
        p->cmd_w0[p->ncmd] = p->nword;
    }
}

static void word_end(parser_t *p)
{
    if (p->in_word) {
        p->buf[p->used++] = '\0';
        p->nword++;
        p->in_word = 0;
    }
}

static void cmd_end(parser_t *p)
{
    word_end(p);
    if (p->open_cmd) {
        p->ncmd++;
        p->open_cmd = 0;
    }
}

static int refused(parser_t *p, int line, char c)
{
    return ADK_ERR(p->ctx, ADK_EINVAL,
                   "%s:%d: '%c' outside single quotes: steps are not shell commands (no "
                   "variables, pipes or redirections); quote it as '%c' if it is meant literally",
                   p->name, line, c, c);
}

/* The characters of a double-quoted string after its opening quote; *i ends past the closing
 * quote. */
static int double_quoted(parser_t *p, const char *t, size_t *i, int *line)
{
    int open_line = *line;
    for (;;) {
        char c = t[*i];
        if (c == '\0') {
            return ADK_ERR(p->ctx, ADK_EINVAL, "%s:%d: unterminated \"", p->name, open_line);
        }
        (*i)++;
        if (c == '"') {
            return ADK_OK;
        }
        if (c == '$' || c == '`') {
            return refused(p, *line, c);
        }
        if (c == '\n') {
            (*line)++;
        }
        if (c == '\\' && t[*i] == '\n') { /* a continuation inside quotes: dropped */
            (*i)++;
            (*line)++;
            continue;
        }
        if (c == '\\' && t[*i] != '\0' && strchr("\"\\$`", t[*i])) {
            c = t[(*i)++];
        }
        p->buf[p->used++] = c;
    }
}

static int split(parser_t *p, const char *t)
{
    int line = 1;
    size_t i = 0;
    while (t[i] != '\0') {
        char c = t[i];
        if (c == ' ' || c == '\t' || c == '\r') {
            word_end(p);
            i++;
        } else if (c == '\n') {
            cmd_end(p);
            line++;
            i++;
        } else if (c == '#' && !p->in_word) {
            while (t[i] != '\0' && t[i] != '\n') {
                i++;
            }
        } else if (c == '\\') {
            if (t[i + 1] == '\n') {
                line++;
            } else if (t[i + 1] == '\0') {
                return ADK_ERR(p->ctx, ADK_EINVAL, "%s:%d: \\ at the end of the text", p->name,
                               line);
            } else {
                word_begin(p, line);
                p->buf[p->used++] = t[i + 1];
            }
            i += 2;
        } else if (c == '\'') {
            word_begin(p, line);
            const char *q = strchr(t + i + 1, '\'');
            if (!q) {
                return ADK_ERR(p->ctx, ADK_EINVAL, "%s:%d: unterminated '", p->name, line);
            }
            for (i++; t + i < q; i++) {
                line += t[i] == '\n';
                p->buf[p->used++] = t[i];
            }
            i++;
        } else if (c == '"') {
            word_begin(p, line);
            i++;
            ADK_CHECK(double_quoted(p, t, &i, &line));
        } else if (strchr("$`;|&<>", c)) {
            return refused(p, line, c);
        } else {
            word_begin(p, line);
            p->buf[p->used++] = c;
            i++;
        }
    }
    cmd_end(p);
    return ADK_OK;
}

/* The commands as argv arrays into p->buf; p->buf passes to the result. */
static int assemble(parser_t *p, adk_steps_t **out)
{
    adk_steps_t *s = adk_calloc(1, sizeof(*s));
    char **argv = adk_calloc(p->nword + p->ncmd + 1, sizeof(char *));
    if (s) {
        s->step = adk_calloc(p->ncmd + 1, sizeof(adk_step_t));
    }
    if (!s || !argv || !s->step) {
        free(argv);
        adk_steps_free(s);
        return ADK_ERR(p->ctx, ADK_ENOMEM, "out of memory");
    }
    s->n = (int)p->ncmd;
    s->words = p->buf;
    p->buf = NULL;
    char **a = argv;
    for (size_t c = 0; c < p->ncmd; c++) {
        size_t w1 = c + 1 < p->ncmd ? p->cmd_w0[c + 1] : p->nword;
        adk_step_t *st = &s->step[c];
        st->line = p->cmd_line[c];
        st->argc = (int)(w1 - p->cmd_w0[c]);
        st->argv = a;
        for (size_t w = p->cmd_w0[c]; w < w1; w++) {
            *a++ = s->words + p->start[w];
        }
        *a++ = NULL;
    }
    if (p->ncmd == 0) {
        free(argv); /* nothing points into it */
    }
    *out = s;
    return ADK_OK;
}

int adk_steps_parse(adk_ctx_t *ctx, const char *name, const char *text, adk_steps_t **out)
{
    *out = NULL;
    size_t len = strlen(text);
    /* a word takes at most its characters plus a NUL; a command at least one character */
    parser_t p = {ctx, name, NULL, 0, NULL, 0, 0, NULL, NULL, 0, 0};
    p.buf = adk_malloc(2 * len + 1);
    p.start = adk_malloc((len + 1) * sizeof(size_t));
    p.cmd_line = adk_malloc((len + 1) * sizeof(int));
    p.cmd_w0 = adk_malloc((len + 1) * sizeof(size_t));
    int st = p.buf && p.start && p.cmd_line && p.cmd_w0 ? ADK_OK
                                                        : ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
    if (st == ADK_OK) {
        st = split(&p, text);
    }
    if (st == ADK_OK && p.ncmd == 0) {
        st = ADK_ERR(ctx, ADK_EINVAL, "%s: no command in it", name);
    }
    if (st == ADK_OK) {
        st = assemble(&p, out);
    }
    free(p.buf);
    free(p.start);
    free(p.cmd_line);
    free(p.cmd_w0);
    return st;
}

void adk_steps_free(adk_steps_t *s)
{
    if (!s) {
        return;
    }
    if (s->step && s->n > 0) {
        free(s->step[0].argv); /* one array holds every command's words */
    }
    free(s->step);
    free(s->words);
    free(s);
}

/* Rank 0: the file's text (NUL-terminated) or an errno-like code with a reason. */
static int slurp(const char *path, char **text, long *len, const char **why)
{
    *text = NULL;
    *why = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        return errno;
    }
    int err = 0;
    if (fseek(f, 0, SEEK_END) != 0 || (*len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        err = errno ? errno : EIO;
    } else if (*len > ADK_STEPS_MAX_BYTES) {
        *why = "larger than 64 MiB";
        err = EFBIG;
    } else if (!(*text = adk_malloc((size_t)*len + 1))) {
        err = ENOMEM;
    } else if (fread(*text, 1, (size_t)*len, f) != (size_t)*len) {
        err = ferror(f) ? EIO : EAGAIN;
        *why = ferror(f) ? NULL : "it changed while being read";
    } else {
        (*text)[*len] = '\0';
        if (strlen(*text) != (size_t)*len) {
            *why = "it contains a NUL byte (not a text file)";
            err = EINVAL;
        }
    }
    fclose(f);
    if (err) {
        free(*text);
        *text = NULL;
    }
    return err;
}

int adk_steps_read(adk_ctx_t *ctx, const char *path, char **text)
{
    *text = NULL;
    long len = 0;
    int err = 0, st = ADK_OK;
    char *t = NULL;
    if (adk_ctx_rank(ctx) == 0) {
        const char *why = NULL;
        err = slurp(path, &t, &len, &why);
        if (err == ENOMEM) {
            st = ADK_ERR(ctx, ADK_ENOMEM, "out of memory");
        } else if (err) {
            st = ADK_ERR(ctx, ADK_EIO, "cannot read steps file '%s': %s", path,
                         why ? why : strerror(err));
        }
    }
    ADK_CHECK(adk_ctx_agree(ctx, st));
    ADK_CHECK(adk_ctx_bcast(ctx, &len, 1, MPI_LONG, 0));
    if (adk_ctx_rank(ctx) != 0) {
        t = adk_malloc((size_t)len + 1);
    }
    st = adk_ctx_agree(ctx, t ? ADK_OK : ADK_ERR(ctx, ADK_ENOMEM, "out of memory"));
    if (st == ADK_OK) { /* at most 64 MiB: one broadcast */
        st = adk_ctx_bcast(ctx, t, (int)len + 1, MPI_CHAR, 0);
    }
    if (st != ADK_OK) {
        free(t);
        return st;
    }
    *text = t;
    return ADK_OK;
}
