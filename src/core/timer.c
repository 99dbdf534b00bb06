#define _POSIX_C_SOURCE 200809L
#include "core/timer.h"

#include <time.h>
#include <unistd.h>

double alrs_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(progress *p, FILE *out, double log_every_s) {
    p->out = out;
    p->is_tty = out && isatty(fileno(out));
    p->start = alrs_now();
    p->last_print = -1e30;
    p->log_every_s = log_every_s;
}

void progress_update(progress *p, long done, long total, const char *text, int force) {
    if (!p->out) return;
    double now = alrs_now();
    double interval = p->is_tty ? 0.1 : p->log_every_s;
    if (!force && now - p->last_print < interval) return;
    p->last_print = now;
    double elapsed = now - p->start;
    double eta = done > 0 ? elapsed * (double)(total - done) / (double)done : 0.0;
    if (p->is_tty)
        fprintf(p->out, "\r\033[K%ld/%ld  %s  %.1fs elapsed, ~%.0fs left", done, total, text,
                elapsed, eta);
    else
        fprintf(p->out, "progress %ld/%ld  %s  %.1fs elapsed, ~%.0fs left\n", done, total, text,
                elapsed, eta);
    fflush(p->out);
}

void progress_finish(progress *p) {
    if (p->out && p->is_tty) fputc('\n', p->out);
}
