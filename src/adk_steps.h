/*
 * adk_steps: a list of program command lines run one after another in one MPI job (adkit run).
 * Starting an MPI job costs about 0.15 s here (launcher, MPI_Init, HDF5) and far more on a
 * cluster, so a study of hundreds of small steps pays more for starts than for work; a steps
 * file pays once.
 *
 * Syntax: one command per line, words as a POSIX shell splits them, without any expansion:
 * blanks separate words; '...' is literal; "..." is literal except that \ escapes " \ $ ` and a
 * newline; \ outside quotes escapes the next character, and \ before a newline continues the
 * line; # at the start of a word starts a comment; blank lines are ignored. $, `, ;, |, &, < and
 * > outside single quotes are refused rather than taken literally, so that a line written for a
 * shell never does something else here. The first word names the program (adkit-kmeans or
 * kmeans).
 */
#ifndef ADK_STEPS_H
#define ADK_STEPS_H

#include "adk_ctx.h"

typedef struct {
    int line;    /* the line of the steps text where the command starts (1-based) */
    int argc;    /* words, program name included */
    char **argv; /* argv[0] is the program name as written; argv[argc] is NULL */
} adk_step_t;

typedef struct {
    int n;
    adk_step_t *step;
    char *words; /* storage of every word */
} adk_steps_t;

/**
 * Split @p text (a steps file's contents) into commands.
 * @param name  what to call the text in messages (the file name)
 * @return ADK_OK; ADK_EINVAL with a message naming the line (unterminated quote, refused
 *         character, no command at all); ADK_ENOMEM. Local (deterministic: the same text gives
 *         the same verdict on every rank).
 */
int adk_steps_parse(adk_ctx_t *ctx, const char *name, const char *text, adk_steps_t **out);

/** Free (NULL: nothing). Local. */
void adk_steps_free(adk_steps_t *s);

/**
 * Read a steps file on rank 0 (at most 64 MiB) and hand its text to every rank.
 * @return ADK_OK; ADK_EIO (unreadable, too large, contains a NUL byte); ADK_ENOMEM; ADK_EMPI;
 *         agreed. Collective.
 */
int adk_steps_read(adk_ctx_t *ctx, const char *path, char **text);

#endif
