/* The auto backend: builds the network on both backends, times a few
 * training steps and a few inference chunks of each on the caller's thread
 * team, and keeps the faster. Its description says what it measured and
 * picked (the run's metadata.txt records it).
 *
 * The choice is per network, not yet per layer: mixing backends inside one
 * network needs layout bridges between oneDNN's blocked tensors and the
 * native kernels' plain ones at every switch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timer.h"
#include "nn/net_impl.h"

/* A trial runs at least 3 and at most 40 steps, stopping after 0.4 s. */
#define AUTO_MIN_STEPS 3
#define AUTO_MAX_STEPS 40
#define AUTO_TRIAL_S 0.4

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Seconds per training step, the median of a trial, on random inputs. The
 * batchnorm state is saved and restored around the trial. */
static double time_train(nn_net *net, const nn_spec *s, int batch, float *params, float *state) {
    size_t image = (size_t)s->in_c * s->in_h * s->in_w;
    float *images = alrs_alloc_aligned(sizeof(float) * image * (size_t)batch);
    uint8_t *labels = alrs_calloc((size_t)batch, 1);
    float *saved_state = alrs_malloc(sizeof(float) * (s->n_state + 1));
    memcpy(saved_state, state, sizeof(float) * (s->n_state + 1));
    rng_stream r = rng_make(0xa070, 0);
    for (size_t i = 0; i < image * (size_t)batch; i++) images[i] = rng_uniform(&r);
    for (int i = 0; i < batch; i++) labels[i] = (uint8_t)rng_below(&r, (uint32_t)s->classes);
    nn_net_train_step(net, images, labels); /* warm-up */
    double times[AUTO_MAX_STEPS], start = alrs_now();
    int n = 0;
    while (n < AUTO_MAX_STEPS && (n < AUTO_MIN_STEPS || alrs_now() - start < AUTO_TRIAL_S)) {
        double t0 = alrs_now();
        nn_net_train_step(net, images, labels);
        times[n++] = alrs_now() - t0;
    }
    qsort(times, (size_t)n, sizeof times[0], cmp_double);
    double best = times[n / 2];
    memcpy(state, saved_state, sizeof(float) * (s->n_state + 1));
    (void)params; /* training steps do not change parameters (no optimizer step) */
    free(saved_state);
    free(labels);
    alrs_free_aligned(images);
    return best;
}

typedef struct {
    nn_net base;
    nn_net *chosen;
    char report[512];
} auto_net;

static double auto_train_step(nn_net *net, const float *images, const uint8_t *labels) {
    return nn_net_train_step(((auto_net *)net)->chosen, images, labels);
}

static void auto_evaluate(nn_net *net, const float *images, const uint8_t *labels, int n,
                          double *mean_loss, double *accuracy, float *probs) {
    nn_net_evaluate(((auto_net *)net)->chosen, images, labels, n, mean_loss, accuracy, probs);
}

static void auto_free(nn_net *net) {
    auto_net *a = (auto_net *)net;
    nn_net_free(a->chosen);
    free(a);
}

static void auto_describe(const nn_net *net, char *buf, int size) {
    const auto_net *a = (const auto_net *)net;
    int used = snprintf(buf, (size_t)size, "%s", a->report);
    if (used < size) nn_net_describe_impl(a->chosen, buf + used, size - used);
}

static const nn_net_ops auto_ops = {auto_train_step, auto_evaluate, auto_free, auto_describe};

nn_net *nn_net_create_auto(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state) {
    nn_net *dnnl = nn_net_create_dnnl(spec, cfg, params, grads, state);
    if (!dnnl) return NULL;
    nn_net *native = nn_net_create_native(spec, cfg, params, grads, state);
    if (!native) {
        nn_net_free(dnnl);
        return NULL;
    }
    double t_dnnl = time_train(dnnl, spec, cfg.train_batch, params, state);
    double t_native = time_train(native, spec, cfg.train_batch, params, state);
    auto_net *a = alrs_calloc(1, sizeof *a);
    a->base.ops = &auto_ops;
    int pick_native = t_native < t_dnnl;
    a->chosen = pick_native ? native : dnnl;
    nn_net_free(pick_native ? dnnl : native);
    snprintf(a->report, sizeof a->report,
             "auto: training step %.3f ms on dnnl, %.3f ms on native: picked %s\n", 1e3 * t_dnnl,
             1e3 * t_native, pick_native ? "native" : "dnnl");
    return &a->base;
}
