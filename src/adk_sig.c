/*
 * adk_sig: temporary files removed on SIGTERM, SIGINT and SIGHUP (see adk_sig.h).
 */
#include "adk_sig.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define ADK_SIG_SLOTS 16
#define ADK_SIG_PATH 4096

static char sig_path[ADK_SIG_SLOTS][ADK_SIG_PATH];
static volatile sig_atomic_t sig_used[ADK_SIG_SLOTS];

/* Only async-signal-safe calls: unlink, sigaction, raise. */
static void on_signal(int sig)
{
    for (int i = 0; i < ADK_SIG_SLOTS; i++) {
        if (sig_used[i]) {
            unlink(sig_path[i]);
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    raise(sig);
}

void adk_sig_install(void)
{
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
