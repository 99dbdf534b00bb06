/* Every layer's backward pass against central finite differences of the
 * training-mode loss, on small networks built layer by layer, and on each
 * full model at a small input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/net.h"
#include "nn/spec.h"
#include "testutil.h"

#ifndef BATCH
#define BATCH 4
#endif

typedef struct {
    const char *backend;
    nn_spec spec;
    float *params, *grads, *state;
    nn_net *net;
    float *images;
    uint8_t labels[BATCH];
} fixture;

static int fixture_open(fixture *f, uint64_t seed) {
    const nn_spec *s = &f->spec;
    f->params = calloc(s->n_params, sizeof(float));
    f->grads = calloc(s->n_params, sizeof(float));
    f->state = calloc(s->n_state + 1, sizeof(float));
    rng_stream rng = rng_make(seed, 1);
    nn_init_params(s, f->params, f->state, &rng);
    size_t image = (size_t)s->in_c * s->in_h * s->in_w;
    f->images = malloc(sizeof(float) * image * BATCH);
    for (size_t i = 0; i < image * BATCH; i++) f->images[i] = rng_uniform(&rng);
    for (int i = 0; i < BATCH; i++) f->labels[i] = (uint8_t)rng_below(&rng, (uint32_t)s->classes);
    nn_net_config cfg = {BATCH, BATCH, NULL};
    f->net = nn_net_create(s, f->backend, cfg, f->params, f->grads, f->state);
    if (!f->net) fprintf(stderr, "net: %s\n", alrs_error());
    return f->net ? 0 : -1;
}

static void fixture_close(fixture *f) {
    nn_net_free(f->net);
    free(f->params), free(f->grads), free(f->state), free(f->images);
}

/* (L(p + h) - L(p - h)) / 2h for parameter i, in training mode. */
static double central_difference(fixture *f, size_t i, float h) {
    float saved = f->params[i];
    f->params[i] = saved + h;
    double up = nn_net_train_step(f->net, f->images, f->labels);
    f->params[i] = saved - h;
    double down = nn_net_train_step(f->net, f->images, f->labels);
    f->params[i] = saved;
    return (up - down) / (2.0 * h);
}

/* Checks up to `samples` entries of params[off, off+len): each numeric
 * derivative must match the analytic one within 1e-3 + 5% (FP32 forward
 * passes limit the precision of a difference quotient). Returns the number
 * of mismatches. */
static int check_slice(fixture *f, size_t off, size_t len, int samples, rng_stream *rng,
                       const char *what) {
    float *analytic = malloc(sizeof(float) * f->spec.n_params);
    nn_net_train_step(f->net, f->images, f->labels);
    memcpy(analytic, f->grads, sizeof(float) * f->spec.n_params);
    const float h = 5e-3f;
    int bad = 0;
    for (int k = 0; k < samples; k++) {
        size_t i = off + (len <= (size_t)samples ? (size_t)k % len : rng_below(rng, (uint32_t)len));
        double numeric = central_difference(f, i, h);
        /* A ReLU or max-pool kink within 2h makes the difference quotient
         * depend on h: such an entry says nothing about the backward pass.
         * Behind batchnorm every input of a channel moves with each weight,
         * so kinks are common there. */
        double finer = central_difference(f, i, h / 2), coarser = central_difference(f, i, 2 * h);
        double slack = 0.02 * fabs(numeric) + 2e-4;
        if (fabs(finer - numeric) > slack || fabs(coarser - numeric) > slack) continue;
        if (fabs(numeric - analytic[i]) > 1e-3 + 0.05 * fabs(numeric)) {
            fprintf(stderr, "  %s [%zu]: analytic %.6g, numeric %.6g\n", what, i - off,
                    analytic[i], numeric);
            bad++;
        }
    }
    free(analytic);
    return bad;
}

/* Checks the weight and bias slices of the first `first` and last `last`
 * layers of f->spec (all layers when first + last covers them). */
static void check_network(const char *name, fixture *f, int samples, int first, int last) {
    if (fixture_open(f, 7) != 0) {
        CHECK(!"network builds");
        return;
    }
    rng_stream rng = rng_make(11, 2);
    for (int i = 0; i < f->spec.n_layers; i++) {
        if (i >= first && i < f->spec.n_layers - last) continue;
        const nn_layer *l = &f->spec.layers[i];
        char what[64];
        if (l->w_len) {
            snprintf(what, sizeof what, "%s/%s layer %d weights", f->backend, name, i);
            CHECK(check_slice(f, l->w_off, l->w_len, samples, &rng, what) == 0);
        }
        if (l->b_len) {
            snprintf(what, sizeof what, "%s/%s layer %d bias", f->backend, name, i);
            CHECK(check_slice(f, l->b_off, l->b_len, samples / 2, &rng, what) == 0);
        }
    }
    fixture_close(f);
}

/* Every check, on one backend. */
static void check_backend(const char *backend) {
    fixture f;
    f.backend = backend;

    /* fc with ReLU, then fc */
    nn_begin(&f.spec, "fc", 1, 5, 5, 3);
    nn_fc(&f.spec, nn_fc(&f.spec, -1, 7, 1), 3, 0);
    check_network("fc", &f, 24, 99, 0);

    /* conv (bias, ReLU, pad, stride) -> conv -> fc: conv backward-data and -weights */
    nn_begin(&f.spec, "conv", 2, 9, 9, 3);
    int x = nn_conv(&f.spec, -1, 5, 3, 2, 1, 1, 1);
    x = nn_conv(&f.spec, x, 4, 3, 1, 0, 1, 0);
    nn_fc(&f.spec, x, 3, 0);
    check_network("conv", &f, 24, 99, 0);

    /* maxpool between convolutions */
    nn_begin(&f.spec, "maxpool", 1, 10, 10, 4);
    x = nn_conv(&f.spec, -1, 3, 3, 1, 1, 1, 1);
    x = nn_maxpool(&f.spec, x, 2, 2);
    x = nn_conv(&f.spec, x, 2, 3, 1, 0, 1, 0);
    nn_fc(&f.spec, x, 4, 0);
    check_network("maxpool", &f, 24, 99, 0);

    /* batchnorm with and without fused ReLU */
    nn_begin(&f.spec, "batchnorm", 2, 6, 6, 3);
    x = nn_conv(&f.spec, -1, 4, 3, 1, 1, 0, 0);
    x = nn_batchnorm(&f.spec, x, 1);
    x = nn_conv(&f.spec, x, 3, 3, 1, 1, 0, 0);
    x = nn_batchnorm(&f.spec, x, 0);
    nn_fc(&f.spec, x, 3, 0);
    check_network("batchnorm", &f, 24, 99, 0);

    /* residual add (a tensor with two consumers) and global average pool */
    nn_begin(&f.spec, "residual", 2, 6, 6, 3);
    int stem = nn_conv(&f.spec, -1, 4, 3, 1, 1, 1, 1);
    int y = nn_conv(&f.spec, stem, 4, 3, 1, 1, 1, 0);
    x = nn_add(&f.spec, y, stem, 1);
    x = nn_avgpool_global(&f.spec, x);
    nn_fc(&f.spec, x, 3, 0);
    check_network("residual", &f, 24, 99, 0);

    /* the full models at small scale */
    nn_build(&f.spec, "lenet5", 1, 28, 28, 10, NULL, 0);
    check_network("lenet5", &f, 24, 99, 0);
    int hidden[2] = {16, 8};
    nn_build(&f.spec, "mlp", 1, 8, 8, 10, hidden, 2);
    check_network("mlp", &f, 24, 99, 0);
    nn_build(&f.spec, "resnet18", 3, 8, 8, 10, NULL, 0);
    check_network("resnet18", &f, 6, 8, 4);

}

int main(void) {
    check_backend("dnnl");
    check_backend("native");
    return test_finish();
}
