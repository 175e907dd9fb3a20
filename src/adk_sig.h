/*
 * adk_sig: what a program does when it is stopped from outside. SIGTERM (what batch systems send
 * at the time limit, and what mpiexec forwards when a rank dies), SIGINT and SIGHUP remove the
 * temporary files of the outputs being written, then end the process with the signal's default
 * action, so a stopped run leaves no OUT.tmp-PID behind.
 *
 * Checkpoint mode (adk_sig_checkpoint, for programs given --checkpoint): SIGTERM and SIGUSR1 then
 * only set a flag, and the program writes a checkpoint at its next iteration boundary and exits
 * with ADK_EXIT_STOPPED; SIGINT and SIGHUP still remove and end.
 *
 * This is the library's one piece of mutable static state: a signal handler can reach nothing
 * else. The table is written before a slot is marked used and read only by the handler.
 */
#ifndef ADK_SIG_H
#define ADK_SIG_H

/**
 * Install the handlers (programs call this once, from adk_cli_begin). Rank 0 of the job then says
 * "PROG: stopped by signal N" on stderr when stopped. Local.
 */
void adk_sig_install(const char *prog);

/**
 * The run is over (its status is known and being reported): a signal from now on, such as the
 * SIGTERM mpiexec sends after another rank exited non-zero, ends the process without a message.
 * Local.
 */
void adk_sig_finishing(void);

/**
 * Remove @p path if the process is stopped by a signal, until adk_sig_untrack. At most 16 paths
 * are tracked at once (further ones are not). Local.
 */
void adk_sig_track(const char *path);

/** Stop tracking @p path. Local. */
void adk_sig_untrack(const char *path);

/**
 * Switch checkpoint mode on (@p on = 1) or off (0). On: SIGTERM and SIGUSR1 (a signal the process
 * ignores stays ignored) set the flag adk_sig_stop_requested reads, and nothing else, so the run
 * goes on to a point where it can save its state. Off: both signals get back
 * what they did before (SIGTERM: remove the temporary outputs and end; SIGUSR1: its default,
 * which ends the process). Either switch clears the flag. The handlers restart interrupted system
 * calls. Local.
 */
void adk_sig_checkpoint(int on);

/** The signal (SIGTERM or SIGUSR1) that asked for a checkpoint since checkpoint mode was switched
 * on, else 0. Local. */
int adk_sig_stop_requested(void);

#endif
