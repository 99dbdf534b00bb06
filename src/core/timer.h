/* Wall-clock time and a progress line for long work. */
#ifndef ALRS_CORE_TIMER_H
#define ALRS_CORE_TIMER_H

#include <stdio.h>

/* Seconds on a monotonic clock. */
double alrs_now(void);

/* A progress reporter: on a terminal it redraws one line (at most 10 times a
 * second); in a batch log it prints a plain line every `log_every_s` seconds. */
typedef struct {
    FILE *out;
    int is_tty;
    double start, last_print, log_every_s;
    /* the first update of this total: the time left is measured from it, so
     * that a cold start (plans measured, caches filled, the first step's
     * allocations) does not stand for every step that follows */
    double base_time;
    long base_done, base_total;
} progress;

void progress_init(progress *p, FILE *out, double log_every_s);
/* Prints `done`/`total` and the text if it is time to; `force` prints anyway.
 * The time left is the rate since the first update of this total times what
 * is left ("~?s left" until a second update measures it). */
void progress_update(progress *p, long done, long total, const char *text, int force);
/* Ends the line on a terminal. */
void progress_finish(progress *p);

#endif
