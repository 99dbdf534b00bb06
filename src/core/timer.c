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
    p->base_time = 0, p->base_done = -1, p->base_total = -1;
}

/* Seconds left at the rate measured since the baseline; -1 when unknown. */
static double seconds_left(progress *p, double now, long done, long total) {
    if (total != p->base_total || done < p->base_done) {
        p->base_time = now, p->base_done = done, p->base_total = total;
        return done >= total ? 0 : -1;
    }
    if (done >= total) return 0;
    if (done == p->base_done) return -1;
    return (now - p->base_time) * (double)(total - done) / (double)(done - p->base_done);
}

void progress_update(progress *p, long done, long total, const char *text, int force) {
    if (!p->out) return;
    double now = alrs_now();
    double eta = seconds_left(p, now, done, total); /* every update moves the baseline's rate */
    double interval = p->is_tty ? 0.1 : p->log_every_s;
    if (!force && now - p->last_print < interval) return;
    p->last_print = now;
    double elapsed = now - p->start;
    char left[32];
    if (eta < 0) snprintf(left, sizeof left, "~?s left");
    else snprintf(left, sizeof left, "~%.0fs left", eta);
    if (p->is_tty)
        fprintf(p->out, "\r\033[K%ld/%ld  %s  %.1fs elapsed, %s", done, total, text, elapsed,
                left);
    else
        fprintf(p->out, "progress %ld/%ld  %s  %.1fs elapsed, %s\n", done, total, text, elapsed,
                left);
    fflush(p->out);
}

void progress_finish(progress *p) {
    if (p->out && p->is_tty) fputc('\n', p->out);
}
