#include "bench/bench_net.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"

static float *random_images(const nn_spec *s, long n, rng_stream *rng) {
    size_t count = (size_t)n * nn_tensor_floats(s, -1);
    float *images = alrs_alloc_aligned(sizeof(float) * count);
    for (size_t i = 0; i < count; i++) images[i] = rng_uniform(rng);
    return images;
}

static uint8_t *random_labels(long n, rng_stream *rng) {
    uint8_t *labels = alrs_malloc((size_t)n);
    for (long i = 0; i < n; i++) labels[i] = (uint8_t)rng_below(rng, 10);
    return labels;
}

int bench_net_open(bench_net *b, const run_flags *f, int channels, int side, bench_data data) {
    memset(b, 0, sizeof *b);
    if (nn_build(&b->spec, f->model, channels, side, side, 10, f->hidden, f->n_hidden) != 0)
        return -1;
    b->params = alrs_alloc_aligned(sizeof(float) * b->spec.n_params);
    b->grads = alrs_alloc_aligned(sizeof(float) * b->spec.n_params);
    b->state = alrs_alloc_aligned(sizeof(float) * (b->spec.n_state + 1));
    rng_stream rng = rng_make((uint64_t)f->seed, 0);
    nn_init_params(&b->spec, b->params, b->state, &rng);
    int eval = data == BENCH_DATA_TRAIN_EVAL;
    if (data != BENCH_DATA_NONE) b->images = random_images(&b->spec, f->batch, &rng);
    if (eval) b->eval_images = random_images(&b->spec, f->eval_batch, &rng);
    if (data != BENCH_DATA_NONE) b->labels = random_labels(f->batch, &rng);
    if (eval) b->eval_labels = random_labels(f->eval_batch, &rng);
    b->cfg = (nn_net_config){(int)f->batch, eval ? (int)f->eval_batch : 1, f->plan};
    return 0;
}

nn_net *bench_net_create(bench_net *b, const char *backend) {
    return nn_net_create(&b->spec, backend, b->cfg, b->params, b->grads, b->state);
}

void bench_net_close(bench_net *b) {
    alrs_free_aligned(b->params);
    alrs_free_aligned(b->grads);
    alrs_free_aligned(b->state);
    alrs_free_aligned(b->images);
    alrs_free_aligned(b->eval_images);
    free(b->labels);
    free(b->eval_labels);
}
