/* schedule_parse (src/sched/schedule_parse.c) on arbitrary spec strings, under a
 * few run shapes (the defaults depend on --lr and --steps). An accepted spec
 * must format back to a spec that parses to the same text (a run's config.txt
 * repeats the run through it), and give a rate that is not NaN at the steps
 * that matter. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sched/schedule.h"

static const struct {
    double lr;
    long steps;
} RUNS[] = {{0.1, 1000}, {1.0, 1}, {1e-3, 7}, {0.5, LONG_MAX}};

static void check_rates(const schedule *s) {
    long t = s->total_steps;
    long steps[] = {-1, 0, 1, t / 2, t - 1, t, t < LONG_MAX ? t + 1 : t, LONG_MAX};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        FUZZ_ASSERT(!isnan(schedule_lr(s, steps[i])));
}

static void parse_one(const char *spec, double lr, long steps) {
    schedule s;
    if (schedule_parse(&s, spec, lr, steps) != 0) {
        FUZZ_ASSERT(alrs_error()[0] != '\0' && strchr(alrs_error(), '\n') == NULL);
        return;
    }
    check_rates(&s);
    static char text[8192], again[8192];
    schedule_format(&s, text, sizeof text);
    schedule t;
    FUZZ_ASSERT(schedule_parse(&t, text, lr, steps) == 0);
    schedule_format(&t, again, sizeof again);
    FUZZ_ASSERT(strcmp(text, again) == 0);
    schedule_free(&s);
    schedule_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *spec = malloc(size + 1); /* exact size: ASan sees a read past the NUL */
    memcpy(spec, data, size);
    spec[size] = '\0';
    for (size_t i = 0; i < sizeof RUNS / sizeof RUNS[0]; i++)
        parse_one(spec, RUNS[i].lr, RUNS[i].steps);
    free(spec);
    return 0;
}
