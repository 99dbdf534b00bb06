#include "core/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t requested, graceful, announced;

static void stop_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

/* Ends the process the way the signal itself would have. */
static void die_by(int sig, const sigset_t *set) {
    signal(sig, SIG_DFL);
    pthread_sigmask(SIG_UNBLOCK, set, NULL); /* in this thread only */
    raise(sig);
    _exit(128 + sig);
}

static void *signal_thread(void *arg) {
    (void)arg;
    sigset_t set;
    stop_signals(&set);
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0) continue;
        if (!graceful || requested) die_by(sig, &set);
        requested = sig;
        static const char note[] = "\nalrs: stopping after the work in progress is saved "
                                   "(signal again to stop at once)\n";
        if (announced) {
            ssize_t ignored = write(2, note, sizeof note - 1);
            (void)ignored;
        }
    }
    return NULL;
}

void interrupt_init(void) {
    sigset_t set;
    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread started later */
    pthread_t t;
    if (pthread_create(&t, NULL, signal_thread, NULL) == 0) pthread_detach(t);
    else pthread_sigmask(SIG_UNBLOCK, &set, NULL); /* no receiver: keep the defaults */
}

void interrupt_install(int announce) {
    announced = announce;
    graceful = 1;
}

void interrupt_reset(void) {
    announced = 0;
    graceful = 0;
}

int interrupt_requested(void) {
    return requested;
}

const char *interrupt_name(int sig) {
    static _Thread_local char buf[32];
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
    snprintf(buf, sizeof buf, "signal %d", sig);
    return buf;
}
