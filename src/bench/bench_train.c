#include "bench/bench_train.h"

#include <string.h>

#include "core/timer.h"

int bench_train_open(bench_train *t, const run_flags *f, int channels, int side) {
    memset(t, 0, sizeof *t);
    t->f = f;
    if (bench_net_open(&t->data, f, channels, side, BENCH_DATA_TRAIN) != 0 ||
        optimizer_init(&t->opt, "adam", t->data.spec.n_params) != 0)
        return -1;
    t->net = bench_net_create(&t->data, f->backend);
    if (!t->net) return -1;
    t->flops_per_image = nn_flops_train(&t->data.spec);
    bench_peak_before(&t->peak, (int)f->threads);
    return 0;
}

static double time_steps(bench_train *t, long steps) {
    double start = alrs_now();
    for (long s = 0; s < steps; s++) {
        nn_net_train_step(t->net, t->data.images, t->data.labels);
        optimizer_step(&t->opt, t->data.params, t->data.grads, 1e-4);
    }
    return alrs_now() - start;
}

void bench_train_time(bench_train *t, long repeats, bench_repeat_fn on_repeat, void *ctx,
                      bench_train_result *r) {
    const run_flags *f = t->f;
    double rates[BENCH_MAX_REPEATS];
    if (repeats > BENCH_MAX_REPEATS) repeats = BENCH_MAX_REPEATS;
    time_steps(t, f->steps / 10 + 2); /* warm-up */
    for (long k = 0; k < repeats; k++) {
        rates[k] = (double)f->steps / time_steps(t, f->steps);
        if (on_repeat) on_repeat(ctx, k + 1, rates[k]);
    }
    double median = bench_median(rates, (int)repeats);
    bench_peak_after(&t->peak, (int)f->threads);
    r->steps_per_s = median;
    r->images_per_s = median * (double)f->batch;
    r->gflops_per_s = median * t->flops_per_image * (double)f->batch * 1e-9;
    r->peak_fraction = r->gflops_per_s / t->peak.best;
}

void bench_train_close(bench_train *t) {
    nn_net_free(t->net);
    optimizer_free(&t->opt);
    bench_net_close(&t->data);
}
