/* SIGINT / SIGTERM as a request to stop at the next safe point.
 *
 * Long commands (learn, compare) install the handler; their loops poll
 * interrupt_requested() between units of work (a child step, a finished
 * run), finish the write in progress, and exit with a message saying what
 * was kept. A second signal kills the process as usual: a user who presses
 * Ctrl-C twice means it. */
#ifndef ALRS_CORE_INTERRUPT_H
#define ALRS_CORE_INTERRUPT_H

/* Installs the handler for SIGINT and SIGTERM. */
void interrupt_install(void);
/* The signal received (SIGINT or SIGTERM), or 0. */
int interrupt_requested(void);
/* "SIGINT", "SIGTERM" or "signal N". */
const char *interrupt_name(int sig);

#endif
