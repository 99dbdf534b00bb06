/* The rules both backends follow (nn/layer_rules.h): where each fused ReLU's
 * backward runs, how many gradient contributions a tensor receives, and
 * PyTorch's running-statistics update. A ReLU read by two max-pools has its
 * backward after both pools on either backend, and the two agree on the
 * gradients (test_gradcheck checks the single-pool case against finite
 * differences). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "nn/net.h"
#include "nn/layer_rules.h"
#include "testutil.h"

/* LeNet-5: each convolution's ReLU runs after its pool; conv3's and fc1's,
 * read by a convolution and a fully connected layer, on their own outputs. */
static void lenet5_relus(void) {
    nn_spec s;
    CHECK(nn_build(&s, "lenet5", 1, 28, 28, 10, NULL, 0) == 0);
    /* conv pool conv pool conv fc fc */
    static const int at_output[] = {0, 0, 0, 0, 1, 1, 0}, at_pool[] = {0, 1, 0, 1, 0, 0, 0};
    CHECK(s.n_layers == 7);
    for (int i = 0; i < s.n_layers; i++) {
        CHECK(nn_relu_bwd_at_output(&s, i) == at_output[i]);
        CHECK(nn_relu_bwd_at_pool(&s, i) == at_pool[i]);
        CHECK(nn_tensor_reads(&s, i) == (i + 1 < s.n_layers));
    }
}

/* A ReLU convolution read by two max-pools (overlapping windows and not),
 * joined by an add. */
static void build_two_pools(nn_spec *s) {
    nn_begin(s, "two-pools", 2, 9, 9, 4);
    int c = nn_conv(s, -1, 5, 3, 1, 1, 1, 1);
    int a = nn_maxpool(s, c, 2, 2);
    int b = nn_maxpool(s, c, 3, 2);
    nn_fc(s, nn_add(s, a, b, 0), 4, 0);
}

/* The same, but the second reader a convolution: its gradient would escape
 * a mask applied after the pool, so the ReLU stays on the conv's output. */
static void build_pool_and_conv(nn_spec *s) {
    nn_begin(s, "pool-and-conv", 2, 9, 9, 4);
    int c = nn_conv(s, -1, 5, 3, 1, 1, 1, 1);
    int a = nn_maxpool(s, c, 2, 2);
    int b = nn_conv(s, c, 5, 2, 2, 0, 1, 0);
    nn_fc(s, nn_add(s, a, b, 1), 4, 0);
}

static void shared_readers(void) {
    nn_spec s;
    build_two_pools(&s);
    CHECK(nn_tensor_reads(&s, 0) == 2);
    CHECK(!nn_relu_bwd_at_output(&s, 0));
    CHECK(nn_relu_bwd_at_pool(&s, 1) && nn_relu_bwd_at_pool(&s, 2));
    build_pool_and_conv(&s);
    CHECK(nn_relu_bwd_at_output(&s, 0));
    CHECK(!nn_relu_bwd_at_pool(&s, 1));
    CHECK(nn_relu_bwd_at_output(&s, 3)); /* the add's own ReLU */
    /* a batchnorm's ReLU is part of its own backward, even before a pool */
    nn_begin(&s, "bn-pool", 2, 8, 8, 3);
    int x = nn_batchnorm(&s, nn_conv(&s, -1, 4, 3, 1, 1, 0, 0), 1);
    nn_fc(&s, nn_maxpool(&s, x, 2, 2), 3, 0);
    CHECK(!nn_relu_bwd_at_output(&s, 1) && !nn_relu_bwd_at_pool(&s, 2));
    /* an add of a tensor with itself: two contributions */
    nn_begin(&s, "double", 1, 4, 4, 2);
    x = nn_conv(&s, -1, 2, 3, 1, 1, 1, 1);
    nn_fc(&s, nn_add(&s, x, x, 0), 2, 0);
    CHECK(nn_tensor_reads(&s, 0) == 2);
}

/* Running mean 0.9·old + 0.1·batch; running variance the same with the
 * unbiased batch variance (n/(n-1), n = batch·h·w values per channel). */
static void running_stats(void) {
    nn_spec s;
    nn_begin(&s, "bn", 2, 2, 2, 2);
    nn_batchnorm(&s, nn_conv(&s, -1, 2, 1, 1, 0, 0, 0), 0);
    const nn_layer *l = &s.layers[1];
    float state[4] = {1.0f, -1.0f, 2.0f, 4.0f}; /* mean 1, -1; var 2, 4 */
    const float mean[2] = {3.0f, 5.0f}, var[2] = {0.5f, 1.0f};
    nn_bn_update_running_stats(l, 2, mean, var, state); /* 8 values per channel */
    CHECK_NEAR(state[0], 0.9 * 1 + 0.1 * 3, 1e-6);
    CHECK_NEAR(state[1], 0.9 * -1 + 0.1 * 5, 1e-6);
    CHECK_NEAR(state[2], 0.9 * 2 + 0.1 * 0.5 * 8 / 7, 1e-6);
    CHECK_NEAR(state[3], 0.9 * 4 + 0.1 * 1.0 * 8 / 7, 1e-6);
}

/* One training step of the two-pool network on each backend from the same
 * weights: the loss and every gradient agree as in test_backends. */
static void two_pools_agree(void) {
    nn_spec s;
    build_two_pools(&s);
    int batch = 16;
    float *init = malloc(sizeof(float) * s.n_params), *state = calloc(s.n_state + 1, sizeof(float));
    rng_stream r = rng_make(5, 0);
    nn_init_params(&s, init, state, &r);
    size_t image = nn_tensor_floats(&s, -1);
    float *images = malloc(sizeof(float) * image * (size_t)batch);
    uint8_t labels[16];
    for (size_t i = 0; i < image * (size_t)batch; i++) images[i] = rng_uniform(&r) - 0.3f;
    for (int i = 0; i < batch; i++) labels[i] = (uint8_t)rng_below(&r, 4);
    const char *backends[2] = {"dnnl", "native"};
    float *params[2], *grads[2];
    double loss[2] = {0, 0};
    for (int b = 0; b < 2; b++) {
        params[b] = malloc(sizeof(float) * s.n_params);
        grads[b] = calloc(s.n_params, sizeof(float));
        memcpy(params[b], init, sizeof(float) * s.n_params);
        nn_net_config cfg = {batch, batch, NULL};
        nn_net *net = nn_net_create(&s, backends[b], cfg, params[b], grads[b], state);
        if (!net) fprintf(stderr, "%s: %s\n", backends[b], alrs_error());
        CHECK(net != NULL);
        if (net) loss[b] = nn_net_train_step(net, images, labels);
        nn_net_free(net);
    }
    CHECK_NEAR(loss[0], loss[1], 1e-5 * fabs(loss[1]) + 1e-5);
    double gmax = 0;
    for (size_t i = 0; i < s.n_params; i++) gmax = fmax(gmax, fabs(grads[1][i]));
    size_t bad = 0;
    for (size_t i = 0; i < s.n_params; i++)
        bad += fabs(grads[0][i] - grads[1][i]) > 1e-4 * gmax + 1e-3 * fabs(grads[1][i]);
    CHECK(gmax > 0 && bad == 0);
    for (int b = 0; b < 2; b++) free(params[b]), free(grads[b]);
    free(init), free(state), free(images);
}

int main(void) {
    lenet5_relus();
    shared_readers();
    running_stats();
    two_pools_agree();
    return test_finish();
}
