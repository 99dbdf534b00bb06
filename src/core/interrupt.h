/* SIGINT / SIGTERM as a request to stop at the next safe point.
 *
 * interrupt_init(), first thing in main, blocks both signals in every thread
 * the process will start and hands them to one thread of its own that waits
 * for them (sigwait). No signal handler ever runs on a computing thread: some
 * oneDNN JIT kernels use the stack pointer as a general register while they
 * run, and a signal frame pushed there lands in the heap (seen as heap
 * corruption after Ctrl-C during alrs learn).
 *
 * By default a signal then ends the process as it normally would. Long
 * commands (learn, compare) call interrupt_install(): the first signal only
 * sets the request, which their loops poll between units of work (a PPO
 * update, a finished run) to save and exit with a message; a second signal
 * ends the process at once. */
#ifndef ALRS_CORE_INTERRUPT_H
#define ALRS_CORE_INTERRUPT_H

/* Blocks SIGINT and SIGTERM and starts the thread that receives them. Call
 * before any other thread exists. */
void interrupt_init(void);
/* From now on the first signal is a request (see above); `announce`: say so
 * on stderr when it comes (rank 0 of an MPI job only: the others are
 * stopped by mpirun when a rank fails, and must not add lines). */
void interrupt_install(int announce);
/* Back to the default: a signal ends the process, silently. main calls it
 * when the command has returned: under mpirun, a rank that fails makes
 * mpirun SIGTERM the others while they exit, which must add no line. */
void interrupt_reset(void);
/* The signal received (SIGINT or SIGTERM), or 0. */
int interrupt_requested(void);
/* "SIGINT", "SIGTERM" or "signal N". */
const char *interrupt_name(int sig);

#endif
