/* The two backends against each other on the same weights: the loss, every
 * gradient and inference outputs agree within a stated tolerance, for each
 * model; and 100 training steps of LeNet-5 on the same data follow the same
 * loss curve. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/net.h"
#include "optim/optimizer.h"
#include "testutil.h"

/* Gradients: |a - b| <= 1e-4·max|g| + 1e-3·|b|: the backends sum in different
 * orders (blocked layouts, other GEMM blockings), in FP32. */
#define GRAD_ABS 1e-4
#define GRAD_REL 1e-3
#define LOSS_TOL 1e-5

typedef struct {
    float *params, *grads, *state;
    nn_net *net;
} side;

static int side_open(side *s, const nn_spec *spec, const char *backend, const float *params,
                     const float *state, int batch) {
    s->params = malloc(sizeof(float) * spec->n_params);
    s->grads = calloc(spec->n_params, sizeof(float));
    s->state = malloc(sizeof(float) * (spec->n_state + 1));
    memcpy(s->params, params, sizeof(float) * spec->n_params);
    memcpy(s->state, state, sizeof(float) * (spec->n_state + 1));
    nn_net_config cfg = {batch, batch};
    s->net = nn_net_create(spec, backend, cfg, s->params, s->grads, s->state);
    if (!s->net) fprintf(stderr, "%s: %s\n", backend, alrs_error());
    return s->net ? 0 : -1;
}

static void side_close(side *s) {
    nn_net_free(s->net);
    free(s->params), free(s->grads), free(s->state);
}

static void compare_model(const char *model, int c, int hw, int batch) {
    nn_spec spec;
    CHECK(nn_build(&spec, model, c, hw, hw, 10, NULL, 0) == 0);
    float *params = malloc(sizeof(float) * spec.n_params);
    float *state = malloc(sizeof(float) * (spec.n_state + 1));
    rng_stream r = rng_make(3, 0);
    nn_init_params(&spec, params, state, &r);
    size_t image = (size_t)c * hw * hw;
    float *images = malloc(sizeof(float) * image * (size_t)batch);
    uint8_t *labels = malloc((size_t)batch);
    for (size_t i = 0; i < image * (size_t)batch; i++) images[i] = rng_uniform(&r);
    for (int i = 0; i < batch; i++) labels[i] = (uint8_t)rng_below(&r, 10);
    side a, b;
    if (side_open(&a, &spec, "dnnl", params, state, batch) != 0 ||
        side_open(&b, &spec, "native", params, state, batch) != 0) {
        CHECK(!"both backends build");
        return;
    }
    double la = nn_net_train_step(a.net, images, labels);
    double lb = nn_net_train_step(b.net, images, labels);
    CHECK_NEAR(la, lb, LOSS_TOL * fabs(la) + LOSS_TOL);
    double gmax = 0;
    for (size_t i = 0; i < spec.n_params; i++) gmax = fmax(gmax, fabs(a.grads[i]));
    size_t bad = 0;
    for (size_t i = 0; i < spec.n_params; i++)
        bad += fabs(a.grads[i] - b.grads[i]) > GRAD_ABS * gmax + GRAD_REL * fabs(b.grads[i]);
    if (bad) fprintf(stderr, "%s: %zu of %zu gradients differ\n", model, bad, spec.n_params);
    CHECK(bad == 0);
    /* batchnorm running statistics move the same way */
    for (size_t i = 0; i < spec.n_state; i++) CHECK_NEAR(a.state[i], b.state[i], 1e-4);
    double vla, vaa, vlb, vab;
    nn_net_evaluate(a.net, images, labels, batch, &vla, &vaa, NULL);
    nn_net_evaluate(b.net, images, labels, batch, &vlb, &vab, NULL);
    CHECK_NEAR(vla, vlb, LOSS_TOL * fabs(vla) + LOSS_TOL);
    side_close(&a), side_close(&b);
    free(params), free(state), free(images), free(labels);
}

/* 100 Adam steps from the same weights on the same batches: the loss curves
 * stay within 1e-3 of each other (rounding differences grow slowly). */
static void compare_curves(void) {
    const int batch = 64, steps = 100;
    nn_spec spec;
    CHECK(nn_build(&spec, "lenet5", 1, 28, 28, 10, NULL, 0) == 0);
    float *params = malloc(sizeof(float) * spec.n_params), *state = malloc(sizeof(float));
    rng_stream r = rng_make(5, 0);
    nn_init_params(&spec, params, state, &r);
    side s[2];
    const char *names[2] = {"dnnl", "native"};
    optimizer opt[2];
    for (int k = 0; k < 2; k++) {
        CHECK(side_open(&s[k], &spec, names[k], params, state, batch) == 0);
        optimizer_init(&opt[k], "adam", spec.n_params);
    }
    size_t image = 28 * 28;
    float *images = malloc(sizeof(float) * image * batch);
    uint8_t *labels = malloc(batch);
    double worst = 0;
    for (int step = 0; step < steps; step++) {
        rng_stream d = rng_make(9, (uint64_t)step);
        /* a learnable pattern: the label sets which rows are bright */
        for (int i = 0; i < batch; i++) {
            labels[i] = (uint8_t)rng_below(&d, 10);
            for (size_t p = 0; p < image; p++)
                images[i * image + p] = 0.3f * rng_uniform(&d) + ((p / 28) / 3 == labels[i] ? 0.7f : 0.f);
        }
        double loss[2];
        for (int k = 0; k < 2; k++) {
            loss[k] = nn_net_train_step(s[k].net, images, labels);
            optimizer_step(&opt[k], s[k].params, s[k].grads, 1e-3);
        }
        worst = fmax(worst, fabs(loss[0] - loss[1]));
    }
    printf("lenet5, 100 steps: largest loss difference between backends %.3g\n", worst);
    CHECK(worst < 1e-3);
    for (int k = 0; k < 2; k++) {
        side_close(&s[k]);
        optimizer_free(&opt[k]);
    }
    free(params), free(state), free(images), free(labels);
}

int main(void) {
    compare_model("mlp", 1, 28, 32);
    compare_model("lenet5", 1, 28, 32);
    compare_model("lenet5", 3, 32, 16);
    compare_model("resnet18", 3, 16, 8);
    compare_curves();
    return test_finish();
}
