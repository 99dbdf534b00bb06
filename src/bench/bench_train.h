/* alrs bench train's measurement: training steps per second (forward,
 * backward, Adam) of one network on random images, the median of repeats,
 * and its GFLOP/s as a fraction of the FMA peak. Opened first, so that the
 * command can describe the net before the timings start. */
#ifndef ALRS_BENCH_BENCH_TRAIN_H
#define ALRS_BENCH_BENCH_TRAIN_H

#include "bench/bench_net.h"
#include "bench/bench_stats.h"
#include "optim/optimizer.h"

typedef struct {
    const run_flags *f;
    bench_net data;
    nn_net *net; /* on f->backend */
    optimizer opt;
    double flops_per_image; /* of one training step, per image */
    bench_peak peak;        /* before: measured by bench_train_open */
} bench_train;

/* The median repeat. */
typedef struct {
    double steps_per_s, images_per_s, gflops_per_s, peak_fraction;
} bench_train_result;

/* Called after each timed repeat (1-based) with its rate: the command shows
 * progress while a slow network is timed. */
typedef void (*bench_repeat_fn)(void *ctx, long repeat, double steps_per_s);

/* Builds the net and measures the peak before the timings; -1 with a
 * message. bench_train_close after either outcome. */
int bench_train_open(bench_train *t, const run_flags *f, int channels, int side);
/* Warms up (a tenth of the steps and two, untimed: first touches, oneDNN's
 * caches), then times `repeats` runs of f->steps steps (at most
 * BENCH_MAX_REPEATS), measures the peak again and gives the median. */
void bench_train_time(bench_train *t, long repeats, bench_repeat_fn on_repeat, void *ctx,
                      bench_train_result *r);
void bench_train_close(bench_train *t);

#endif
