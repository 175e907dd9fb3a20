/*
 * adk_sig: temporary files removed on SIGTERM, SIGINT and SIGHUP; in checkpoint mode SIGTERM and
 * SIGUSR1 only ask for a checkpoint (see adk_sig.h).
 */
#include "adk_sig.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ADK_SIG_SLOTS 16
#define ADK_SIG_PATH 4096

static char sig_path[ADK_SIG_SLOTS][ADK_SIG_PATH];
static volatile sig_atomic_t sig_used[ADK_SIG_SLOTS];
static char sig_note[160]; /* what rank 0 says when stopped; "" on the other ranks */
/* checkpoint mode: the signal that asked for a checkpoint, and what SIGTERM, SIGUSR1 did before */
static volatile sig_atomic_t sig_stop;
static int sig_ckpt_on;
static struct sigaction sig_ckpt_old[2];
static const int sig_ckpt_sigs[2] = {SIGTERM, SIGUSR1};

/* Only async-signal-safe calls: unlink, write, sigaction, raise. */
static void on_signal(int sig)
{
    int removed = 0;
    for (int i = 0; i < ADK_SIG_SLOTS; i++) {
        if (sig_used[i]) {
            removed += unlink(sig_path[i]) == 0;
        }
    }
    if (sig_note[0]) {
        /* "prog: stopped by signal NN" plus what became of the outputs, built without stdio */
        char line[256];
        size_t n = 0;
        for (const char *p = sig_note; *p && n < 200; p++) {
            line[n++] = *p;
        }
        if (sig >= 10) {
            line[n++] = (char)('0' + sig / 10);
        }
        line[n++] = (char)('0' + sig % 10);
        const char *tail = removed ? "; temporary outputs removed\n" : "; nothing was written\n";
        for (const char *p = tail; *p; p++) {
            line[n++] = *p;
        }
        ssize_t w = write(2, line, n);
        (void)w;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
}

void adk_sig_install(const char *prog)
{
    /* rank 0 of the job (as the launcher numbers it) reports; every rank removes */
    const char *rank = getenv("OMPI_COMM_WORLD_RANK");
    if (!rank) {
        rank = getenv("PMIX_RANK");
    }
    if (!rank || strcmp(rank, "0") == 0) {
        snprintf(sig_note, sizeof(sig_note), "%s: stopped by signal ", prog);
    }
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        /* a signal the user's shell ignores (nohup) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
            sigaction(sigs[i], &sa, NULL);
        }
    }
}

/* Checkpoint mode: only note the request (async-signal-safe: one store). */
static void on_stop(int sig)
{
    sig_stop = sig;
}

void adk_sig_checkpoint(int on)
{
    if ((on != 0) == sig_ckpt_on) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        if (on) {
            struct sigaction sa;
            memset(&sa, 0, sizeof(sa));
            sa.sa_handler = on_stop;
            sigemptyset(&sa.sa_mask);
            sa.sa_flags = SA_RESTART; /* MPI and file I/O go on undisturbed */
            if (sigaction(sig_ckpt_sigs[i], NULL, &sig_ckpt_old[i]) == 0 &&
                sig_ckpt_old[i].sa_handler != SIG_IGN) {
                sigaction(sig_ckpt_sigs[i], &sa, NULL);
            }
        } else {
            sigaction(sig_ckpt_sigs[i], &sig_ckpt_old[i], NULL);
        }
    }
    sig_stop = 0;
    sig_ckpt_on = on != 0;
}

int adk_sig_stop_requested(void)
{
    return (int)sig_stop;
}

void adk_sig_finishing(void)
{
    sig_note[0] = '\0';
}

void adk_sig_track(const char *path)
{
    if (strlen(path) >= ADK_SIG_PATH) {
        return;
    }
    for (int i = 0; i < ADK_SIG_SLOTS; i++) {
        if (!sig_used[i]) {
            snprintf(sig_path[i], ADK_SIG_PATH, "%s", path);
            sig_used[i] = 1;
            return;
        }
    }
}

void adk_sig_untrack(const char *path)
{
    for (int i = 0; i < ADK_SIG_SLOTS; i++) {
        if (sig_used[i] && strcmp(sig_path[i], path) == 0) {
            sig_used[i] = 0;
        }
    }
}
