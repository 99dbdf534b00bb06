/* The backends against each other on the same weights: the loss, every
 * gradient and inference outputs agree within a stated tolerance, for each
 * model; and 100 training steps of LeNet-5 on the same data follow the same
 * loss curve.
 *
 * The auto backend runs each convolution and fully connected layer either
 * on the native kernels or on oneDNN primitives over the same plain buffers.
 * ALRS_AUTO_LAYERS forces the per-layer choice ("dnnl": every such layer on
 * oneDNN; "alternate": dnnl, native, dnnl, ...; "nd...": one letter per
 * layer), so that mixed nets are compared with the native one whatever this
 * machine's timings would pick; the description must show the forced mix.
 *
 * The native net trains the layers that treat each image alone in blocks of
 * images; ALRS_NATIVE_BLOCK forces the block size, and blocks of 1 or 3
 * images must give the numbers of one block of the whole batch bit for bit,
 * at 1 and 2 threads, also where stand-ins and batchnorm break the runs.
 * Likewise LeNet-5's convolutions fused with their max-pools, against the
 * same net with ALRS_NATIVE_FUSE=0, but for conv1's weight and bias
 * gradients (summed on the pool's grid: within rounding). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/net.h"
#include "nn/spec.h"
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
    nn_net_config cfg = {batch, batch, NULL};
    s->net = nn_net_create(spec, backend, cfg, s->params, s->grads, s->state);
    if (!s->net) fprintf(stderr, "%s: %s\n", backend, alrs_error());
    return s->net ? 0 : -1;
}

static void side_close(side *s) {
    nn_net_free(s->net);
    free(s->params), free(s->grads), free(s->state);
}

/* "auto" with ALRS_AUTO_LAYERS=mode during creation (NULL: measured). */
static int side_open_auto(side *s, const nn_spec *spec, const char *mode, const float *params,
                          const float *state, int batch) {
    if (mode) setenv("ALRS_AUTO_LAYERS", mode, 1);
    else unsetenv("ALRS_AUTO_LAYERS");
    int rc = side_open(s, spec, "auto", params, state, batch);
    unsetenv("ALRS_AUTO_LAYERS");
    return rc;
}

/* Layers the auto description lists as running on oneDNN / natively. */
static void count_choices(nn_net *net, int *dnnl, int *native) {
    static char buf[32768];
    nn_net_describe_impl(net, buf, sizeof buf);
    *dnnl = *native = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "layer ", 6) != 0) continue;
        if (strstr(line, ": dnnl")) ++*dnnl;
        else if (strstr(line, ": native")) ++*native;
    }
}

/* How many convolution and fully connected layers a forced mode puts on oneDNN. */
static int expected_dnnl(const nn_spec *spec, const char *mode) {
    int k = 0, count = 0;
    for (int i = 0; i < spec->n_layers; i++) {
        if (spec->layers[i].op != NN_CONV && spec->layers[i].op != NN_FC) continue;
        if (!strcmp(mode, "dnnl")) count++;
        else if (!strcmp(mode, "alternate")) count += k % 2 == 0;
        else count += k < (int)strlen(mode) && mode[k] == 'd';
        k++;
    }
    return count;
}

static int weighted_layers(const nn_spec *spec) {
    int count = 0;
    for (int i = 0; i < spec->n_layers; i++)
        count += spec->layers[i].op == NN_CONV || spec->layers[i].op == NN_FC;
    return count;
}

/* A model's spec, its parameters from stream 0 of `seed`, and a batch of
 * random images and labels from the same stream. */
typedef struct {
    nn_spec spec;
    float *params, *state, *images;
    uint8_t *labels;
} inputs;

static void inputs_make(inputs *in, const char *model, int c, int hw, int batch, uint64_t seed) {
    CHECK(nn_build(&in->spec, model, c, hw, hw, 10, NULL, 0) == 0);
    in->params = malloc(sizeof(float) * in->spec.n_params);
    in->state = malloc(sizeof(float) * (in->spec.n_state + 1));
    rng_stream r = rng_make(seed, 0);
    nn_init_params(&in->spec, in->params, in->state, &r);
    size_t image = (size_t)c * hw * hw;
    in->images = malloc(sizeof(float) * image * (size_t)batch);
    in->labels = malloc((size_t)batch);
    for (size_t i = 0; i < image * (size_t)batch; i++) in->images[i] = rng_uniform(&r);
    for (int i = 0; i < batch; i++) in->labels[i] = (uint8_t)rng_below(&r, 10);
}

static void inputs_free(inputs *in) {
    free(in->params), free(in->state), free(in->images), free(in->labels);
}

/* Side a is `backend` (for "auto", with ALRS_AUTO_LAYERS=mode), side b native. */
static void compare_with_native(const char *model, int c, int hw, int batch, const char *backend,
                                const char *mode) {
    inputs in;
    inputs_make(&in, model, c, hw, batch, 3);
    nn_spec spec = in.spec;
    float *params = in.params, *state = in.state, *images = in.images;
    uint8_t *labels = in.labels;
    side a, b;
    int opened = !strcmp(backend, "auto") ? side_open_auto(&a, &spec, mode, params, state, batch)
                                          : side_open(&a, &spec, backend, params, state, batch);
    if (opened != 0 || side_open(&b, &spec, "native", params, state, batch) != 0) {
        CHECK(!"both backends build");
        return;
    }
    if (!strcmp(backend, "auto")) {
        int on_dnnl, on_native;
        count_choices(a.net, &on_dnnl, &on_native);
        printf("%s %dx%dx%d batch %d, auto %s: %d layers on oneDNN, %d native\n", model, c, hw, hw,
               batch, mode ? mode : "(measured)", on_dnnl, on_native);
        if (mode) { /* the forced mix is the one that runs */
            CHECK(on_dnnl == expected_dnnl(&spec, mode));
            CHECK(on_dnnl + on_native == weighted_layers(&spec));
        }
    }
    double la = nn_net_train_step(a.net, images, labels);
    double lb = nn_net_train_step(b.net, images, labels);
    CHECK_NEAR(la, lb, LOSS_TOL * fabs(la) + LOSS_TOL);
    double gmax = 0;
    for (size_t i = 0; i < spec.n_params; i++) gmax = fmax(gmax, fabs(a.grads[i]));
    size_t bad = 0;
    for (size_t i = 0; i < spec.n_params; i++)
        bad += fabs(a.grads[i] - b.grads[i]) > GRAD_ABS * gmax + GRAD_REL * fabs(b.grads[i]);
    if (bad)
        fprintf(stderr, "%s (%s %s): %zu of %zu gradients differ\n", model, backend,
                mode ? mode : "", bad, spec.n_params);
    CHECK(bad == 0);
    /* batchnorm running statistics move the same way */
    for (size_t i = 0; i < spec.n_state; i++) CHECK_NEAR(a.state[i], b.state[i], 1e-4);
    double vla, vaa, vlb, vab;
    nn_net_evaluate(a.net, images, labels, batch, &vla, &vaa, NULL);
    nn_net_evaluate(b.net, images, labels, batch, &vlb, &vab, NULL);
    CHECK_NEAR(vla, vlb, LOSS_TOL * fabs(vla) + LOSS_TOL);
    CHECK_NEAR(vaa, vab, 1e-9);
    /* a second step on the same buffers agrees too (nothing stale between steps) */
    la = nn_net_train_step(a.net, images, labels);
    lb = nn_net_train_step(b.net, images, labels);
    CHECK_NEAR(la, lb, LOSS_TOL * fabs(la) + LOSS_TOL);
    side_close(&a), side_close(&b);
    inputs_free(&in);
}

/* 100 Adam steps from the same weights on the same batches: the loss curves
 * of dnnl and of auto with every other layer on oneDNN stay within 1e-3 of
 * the native one (rounding differences grow slowly). */
static void compare_curves(void) {
    const int batch = 64, steps = 100;
    nn_spec spec;
    CHECK(nn_build(&spec, "lenet5", 1, 28, 28, 10, NULL, 0) == 0);
    float *params = malloc(sizeof(float) * spec.n_params), *state = malloc(sizeof(float));
    rng_stream r = rng_make(5, 0);
    nn_init_params(&spec, params, state, &r);
    enum { SIDES = 3 };
    side s[SIDES];
    const char *names[SIDES] = {"native", "dnnl", "auto"};
    optimizer opt[SIDES];
    for (int k = 0; k < SIDES; k++) {
        CHECK((k == 2 ? side_open_auto(&s[k], &spec, "alternate", params, state, batch)
                      : side_open(&s[k], &spec, names[k], params, state, batch)) == 0);
        optimizer_init(&opt[k], "adam", spec.n_params);
    }
    size_t image = 28 * 28;
    float *images = malloc(sizeof(float) * image * batch);
    uint8_t *labels = malloc(batch);
    double worst[SIDES] = {0};
    for (int step = 0; step < steps; step++) {
        rng_stream d = rng_make(9, (uint64_t)step);
        /* a learnable pattern: the label sets which rows are bright */
        for (int i = 0; i < batch; i++) {
            labels[i] = (uint8_t)rng_below(&d, 10);
            for (size_t p = 0; p < image; p++)
                images[i * image + p] = 0.3f * rng_uniform(&d) + ((p / 28) / 3 == labels[i] ? 0.7f : 0.f);
        }
        double loss[SIDES];
        for (int k = 0; k < SIDES; k++) {
            loss[k] = nn_net_train_step(s[k].net, images, labels);
            optimizer_step(&opt[k], s[k].params, s[k].grads, 1e-3);
            worst[k] = fmax(worst[k], fabs(loss[k] - loss[0]));
        }
    }
    for (int k = 1; k < SIDES; k++) {
        printf("lenet5, 100 steps: largest loss difference %s - native %.3g\n", names[k], worst[k]);
        CHECK(worst[k] < 1e-3);
    }
    for (int k = 0; k < SIDES; k++) {
        side_close(&s[k]);
        optimizer_free(&opt[k]);
    }
    free(params), free(state), free(images), free(labels);
}

/* `backend` (native, or auto forced to `mode`) with ALRS_NATIVE_BLOCK=block. */
static int side_open_blocked(side *s, const nn_spec *spec, const char *backend, const char *mode,
                             const char *block, const float *params, const float *state,
                             int batch) {
    setenv("ALRS_NATIVE_BLOCK", block, 1);
    int rc = !strcmp(backend, "auto") ? side_open_auto(s, spec, mode, params, state, batch)
                                      : side_open(s, spec, backend, params, state, batch);
    unsetenv("ALRS_NATIVE_BLOCK");
    return rc;
}

/* 1 if parameter i is one of the first convolution's weights or biases. */
static int in_conv1(const nn_spec *spec, size_t i) {
    const nn_layer *l = &spec->layers[0];
    return (i >= l->w_off && i < l->w_off + l->w_len) ||
           (i >= l->b_off && i < l->b_off + l->b_len);
}

/* The gradients of a and b the same bit for bit, but for conv1's, which
 * may differ within rounding (GRAD_ABS, GRAD_REL). */
static int same_but_conv1_near(const nn_spec *spec, const float *ga, const float *gb) {
    double gmax = 0;
    for (size_t i = 0; i < spec->n_params; i++) gmax = fmax(gmax, fabs(ga[i]));
    int same = 1;
    for (size_t i = 0; i < spec->n_params; i++)
        if (!in_conv1(spec, i)) same &= memcmp(&ga[i], &gb[i], sizeof *ga) == 0;
        else same &= fabs(ga[i] - gb[i]) <= GRAD_ABS * gmax + GRAD_REL * fabs(gb[i]);
    return same;
}

/* Three SGD steps of nets a and b on the same inputs, then an evaluation:
 * 1 if the losses, gradients, weights, batchnorm statistics and
 * probabilities are the same bit for bit. With conv1_near, a's conv1 sums
 * its weight gradients in another order than b's (fused with its pool, on
 * the pool's grid): conv1's gradients within rounding, everything else bit
 * for bit (the forward pass and the other layers' backward passes run the
 * same kernels on the same numbers: conv1 is the last layer backward and
 * computes no input gradient), and b takes a's parameters after each step,
 * so that each step starts from the same numbers and the evaluation gives
 * the same probabilities. */
static int same_steps(side *a, side *b, const inputs *in, int batch, int conv1_near) {
    const nn_spec *spec = &in->spec;
    size_t bytes = sizeof(float) * spec->n_params, nprobs = (size_t)batch * spec->classes;
    int same = 1;
    for (int step = 0; step < 3; step++) {
        double la = nn_net_train_step(a->net, in->images, in->labels);
        double lb = nn_net_train_step(b->net, in->images, in->labels);
        same &= memcmp(&la, &lb, sizeof la) == 0 &&
                (conv1_near ? same_but_conv1_near(spec, a->grads, b->grads)
                            : memcmp(a->grads, b->grads, bytes) == 0);
        for (size_t i = 0; i < spec->n_params; i++) {
            a->params[i] -= 0.05f * a->grads[i];
            b->params[i] -= 0.05f * b->grads[i];
        }
        if (conv1_near) memcpy(b->params, a->params, bytes);
    }
    same &= memcmp(a->params, b->params, bytes) == 0 &&
            memcmp(a->state, b->state, sizeof(float) * spec->n_state) == 0;
    float *pa = malloc(sizeof(float) * nprobs), *pb = malloc(sizeof(float) * nprobs);
    double l, acc;
    nn_net_evaluate(a->net, in->images, in->labels, batch, &l, &acc, pa);
    nn_net_evaluate(b->net, in->images, in->labels, batch, &l, &acc, pb);
    same &= memcmp(pa, pb, sizeof(float) * nprobs) == 0;
    free(pa), free(pb);
    return same;
}

/* Three SGD steps in blocks of `block` images and in one block: the same
 * numbers bit for bit (same_steps). */
static void blocks_match_whole(const char *model, int c, int hw, int batch, const char *backend,
                               const char *mode, const char *block, int threads) {
    inputs in;
    inputs_make(&in, model, c, hw, batch, 5);
    nn_spec spec = in.spec;
    float *params = in.params, *state = in.state;
    int saved_threads = omp_get_max_threads();
    omp_set_num_threads(threads);
    side a, b;
    if (side_open_blocked(&a, &spec, backend, mode, block, params, state, batch) != 0 ||
        side_open_blocked(&b, &spec, backend, mode, "1000000", params, state, batch) != 0) {
        CHECK(!"both nets build");
        omp_set_num_threads(saved_threads);
        return;
    }
    int same = same_steps(&a, &b, &in, batch, 0);
    if (!same)
        fprintf(stderr, "%s batch %d, %s %s, blocks of %s, %d threads: differs from one block\n",
                model, batch, backend, mode ? mode : "", block, threads);
    CHECK(same);
    omp_set_num_threads(saved_threads);
    side_close(&a), side_close(&b);
    inputs_free(&in);
}

/* Blocks of 1 and 3 images at 1 thread, of 3 at 2 (ResNet-18, 11 M
 * parameters, only at 1 thread: 1 s a net there, 3 s at 2 threads here). */
static void blocks(void) {
    static const char *sizes[] = {"1", "3"};
    for (int k = 0; k < 2; k++) {
        blocks_match_whole("mlp", 1, 28, 10, "native", NULL, sizes[k], 1);
        blocks_match_whole("lenet5", 1, 28, 10, "native", NULL, sizes[k], 1);
        blocks_match_whole("lenet5", 3, 32, 7, "native", NULL, sizes[k], 1);
        blocks_match_whole("lenet5", 1, 28, 10, "auto", "alternate", sizes[k], 1);
    }
    blocks_match_whole("resnet18", 3, 8, 5, "native", NULL, "3", 1);
    blocks_match_whole("resnet18", 3, 8, 5, "auto", "alternate", "1", 1);
    blocks_match_whole("mlp", 1, 28, 10, "native", NULL, "3", 2);
    blocks_match_whole("lenet5", 1, 28, 10, "native", NULL, "3", 2);
}

/* LeNet-5 with each convolution fused with its max-pool (forward; conv1's
 * backward-weights too, from the pool's gradient) and with ALRS_NATIVE_FUSE=0
 * (the separate kernels): the same numbers, at the default block size, 1
 * and 2 threads, natively and with conv1 on oneDNN (then not fused in
 * training). Bit for bit (same_steps) with conv1 on oneDNN; natively
 * conv1's fused backward-weights may sum on the pool's grid (AVX-512), in
 * another order, so there its gradients are compared within rounding and
 * all else bit for bit (same_steps with conv1_near). */
static void fused_match_unfused(int c, int hw, int batch, const char *backend, const char *mode,
                                int threads) {
    inputs in;
    inputs_make(&in, "lenet5", c, hw, batch, 7);
    int saved_threads = omp_get_max_threads();
    omp_set_num_threads(threads);
    side a, b;
    int ok = (mode ? side_open_auto(&a, &in.spec, mode, in.params, in.state, batch)
                   : side_open(&a, &in.spec, backend, in.params, in.state, batch)) == 0;
    setenv("ALRS_NATIVE_FUSE", "0", 1);
    ok &= (mode ? side_open_auto(&b, &in.spec, mode, in.params, in.state, batch)
                : side_open(&b, &in.spec, backend, in.params, in.state, batch)) == 0;
    unsetenv("ALRS_NATIVE_FUSE");
    CHECK(ok);
    if (ok) {
        int same = same_steps(&a, &b, &in, batch, !mode);
        if (!same)
            fprintf(stderr, "lenet5 %dx%d batch %d, %s %s, %d threads: fused differs\n", c, hw,
                    batch, backend, mode ? mode : "", threads);
        CHECK(same);
        side_close(&a), side_close(&b);
    }
    omp_set_num_threads(saved_threads);
    inputs_free(&in);
}

static void fusion(void) {
    for (int threads = 1; threads <= 2; threads++) {
        fused_match_unfused(1, 28, 40, "native", NULL, threads); /* two blocks at 1 thread */
        fused_match_unfused(3, 32, 5, "native", NULL, threads);
        fused_match_unfused(1, 28, 9, "auto", "dnnnn", threads);
    }
}

/* A malformed ALRS_AUTO_LAYERS is refused with a message, not ignored. */
static void auto_bad_mode(void) {
    nn_spec spec;
    CHECK(nn_build(&spec, "mlp", 1, 28, 28, 10, NULL, 0) == 0);
    float *params = calloc(spec.n_params, sizeof(float));
    float *grads = calloc(spec.n_params, sizeof(float));
    float state[1] = {0};
    setenv("ALRS_AUTO_LAYERS", "dxq", 1);
    nn_net_config cfg = {8, 8, NULL};
    nn_net *net = nn_net_create(&spec, "auto", cfg, params, grads, state);
    unsetenv("ALRS_AUTO_LAYERS");
    CHECK(net == NULL);
    CHECK(strstr(alrs_error(), "ALRS_AUTO_LAYERS") != NULL);
    nn_net_free(net);
    free(params), free(grads);
}

int main(void) {
    unsetenv("ALRS_AUTO_LAYERS");
    unsetenv("ALRS_NATIVE_BLOCK");
    blocks();
    fusion();
    compare_with_native("mlp", 1, 28, 32, "dnnl", NULL);
    compare_with_native("lenet5", 1, 28, 32, "dnnl", NULL);
    compare_with_native("lenet5", 3, 32, 16, "dnnl", NULL);
    compare_with_native("resnet18", 3, 16, 8, "dnnl", NULL);
    /* auto with forced per-layer mixes: every layer on oneDNN, alternating
     * (both parities), and as measured on this machine */
    static const char *modes[] = {"dnnl", "alternate", "ndndndndndndndndndndnd"};
    for (int m = 0; m < 3; m++) {
        compare_with_native("mlp", 1, 28, 32, "auto", modes[m]);
        compare_with_native("lenet5", 1, 28, 32, "auto", modes[m]);
        compare_with_native("lenet5", 3, 32, 16, "auto", modes[m]);
        compare_with_native("resnet18", 3, 16, 8, "auto", modes[m]);
    }
    compare_with_native("mlp", 1, 28, 32, "auto", NULL);
    compare_with_native("lenet5", 1, 28, 32, "auto", NULL);
    auto_bad_mode();
    compare_curves();
    return test_finish();
}
