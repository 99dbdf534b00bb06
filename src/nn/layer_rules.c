/* The rules every backend's plan follows (see nn/layer_rules.h). */
#include "nn/layer_rules.h"

void nn_bn_update_running_stats(const nn_layer *l, int batch, const float *batch_mean,
                                const float *batch_var, float *state) {
    double count = (double)batch * l->h * l->w;
    float unbias = count > 1 ? (float)(count / (count - 1)) : 1.0f;
    float *run_mean = state + l->stat_off, *run_var = run_mean + l->c;
    for (int k = 0; k < l->c; k++) {
        run_mean[k] = (1 - NN_BN_MOMENTUM) * run_mean[k] + NN_BN_MOMENTUM * batch_mean[k];
        run_var[k] = (1 - NN_BN_MOMENTUM) * run_var[k] + NN_BN_MOMENTUM * batch_var[k] * unbias;
    }
}

int nn_tensor_reads(const nn_spec *s, int t) {
    int reads = 0;
    for (int j = t + 1; j < s->n_layers; j++)
        reads += (s->layers[j].src == t) + (s->layers[j].src2 == t);
    return reads;
}

/* 1 if every reader of tensor t is a max-pool, and there is one at least. */
static int read_only_by_maxpools(const nn_spec *s, int t) {
    int pools = 0;
    for (int j = t + 1; j < s->n_layers; j++) {
        const nn_layer *reader = &s->layers[j];
        if (reader->src2 == t) return 0;
        if (reader->src != t) continue;
        if (reader->op != NN_MAXPOOL) return 0;
        pools++;
    }
    return pools > 0;
}

static int relu_deferred_to_pools(const nn_spec *s, int t) {
    const nn_layer *l = &s->layers[t];
    return l->relu && l->op != NN_BATCHNORM && read_only_by_maxpools(s, t);
}

int nn_relu_bwd_at_output(const nn_spec *s, int i) {
    const nn_layer *l = &s->layers[i];
    return l->relu && l->op != NN_BATCHNORM && !relu_deferred_to_pools(s, i);
}

int nn_relu_bwd_at_pool(const nn_spec *s, int i) {
    const nn_layer *l = &s->layers[i];
    return l->op == NN_MAXPOOL && l->src >= 0 && relu_deferred_to_pools(s, l->src);
}
