/* The native backend: the spec executed by the handwritten kernels of
 * kernels/ (through the dispatch table), all tensors in plain NCHW.
 *
 * Activations are kept for max(train batch, eval batch) images so that the
 * same buffers serve training and inference; gradients only for the training
 * batch. As in the oneDNN backend, the first layer has no backward-data pass,
 * a tensor read by two layers gets its first gradient contribution written
 * and later ones added from a scratch buffer, and batchnorm and the ReLUs
 * follow the same rules (nn/layer_rules.h).
 *
 * A convolution or fully connected layer can run its training passes
 * through a stand-in on the same plain buffers instead (nn/layer_standin.h;
 * in practice the layer's oneDNN primitives, which the auto backend builds
 * and attaches): the auto backend measures each layer both ways and picks
 * (nn/native/native_net.h). This file creates no oneDNN object. Evaluation
 * always runs the native kernels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timer.h"
#include "kernels/kernels.h"
#include "nn/layer_rules.h"
#include "nn/layer_standin.h"
#include "nn/native/native_net.h"
#include "nn/net_impl.h"

/* Evaluation runs the whole net over at most this many images at a time,
 * whatever the inference chunk: a LeNet-5 layer's outputs for 1000 images
 * (19 MB) leave the 1 MB L2 between layers, for 128 they stay near it.
 * Measured on Zen 4 (alrs bench layers --eval-batch N): 13.0 ms per 1000
 * images in chunks of 1000, 10.8-11.0 in chunks of 64 to 256. */
#define NATIVE_EVAL_CHUNK 128

typedef struct {
    float *dst, *diff;
    int32_t *argmax;       /* max-pool */
    float *mean, *var;     /* batchnorm batch statistics */
    int contributions;
    int relu_bwd_at_output, relu_bwd_at_pool; /* nn/layer_rules.h, looked up at creation */
    nn_layer_standin standin; /* another implementation, when attached (impl not NULL) */
    int use_standin;       /* training passes through the stand-in */
    double ms_native, ms_standin; /* what the auto backend measured (negative: not) */
    char note[112];
} native_layer;

typedef struct {
    nn_net base;
    nn_spec spec;
    nn_net_config cfg;
    const kernel_table *k;
    float *params, *grads, *state;
    native_layer *ls;
    float *scratch;      /* convolution scratch, shared by all layers */
    float *diff_scratch; /* for second gradient contributions */
    int capacity;        /* images the activation buffers hold */
} native_net;

static conv_shape conv_shape_of(const nn_spec *s, const nn_layer *l, int n) {
    conv_shape sh;
    nn_tensor_shape(s, l->src, &sh.c, &sh.h, &sh.w);
    sh.n = n, sh.k = l->out_c, sh.r = l->kernel, sh.s = l->kernel;
    sh.stride = l->stride, sh.pad = l->pad, sh.oh = l->h, sh.ow = l->w;
    return sh;
}

static pool_shape pool_shape_of(const nn_spec *s, const nn_layer *l, int n) {
    pool_shape sh;
    nn_tensor_shape(s, l->src, &sh.c, &sh.h, &sh.w);
    sh.n = n, sh.k = l->kernel, sh.stride = l->stride, sh.oh = l->h, sh.ow = l->w;
    return sh;
}

/* ---- forward ----------------------------------------------------------- */

static const float *input_of(const native_net *net, int src, const float *images) {
    return src < 0 ? images : net->ls[src].dst;
}

static void forward_layer(native_net *net, int i, const float *images, int n, int training) {
    const nn_spec *s = &net->spec;
    const nn_layer *l = &s->layers[i];
    native_layer *ls = &net->ls[i];
    const kernel_table *k = net->k;
    const float *src = input_of(net, l->src, images);
    const float *w = net->params + l->w_off, *b = l->b_len ? net->params + l->b_off : NULL;
    if (training && ls->use_standin && (l->op == NN_CONV || l->op == NN_FC)) {
        ls->standin.forward(ls->standin.impl, src, ls->dst); /* n is the training batch */
        return;
    }
    switch (l->op) {
    case NN_CONV: {
        conv_shape sh = conv_shape_of(s, l, n);
        k->conv_fwd(&sh, src, w, b, l->relu, ls->dst, net->scratch);
        break;
    }
    case NN_FC: {
        /* dst[n×out] = src[n×in] · W^T, W being out×in */
        int in = (int)nn_tensor_floats(s, l->src);
        k->sgemm(0, 1, n, l->out_c, in, 1.0f, src, in, w, in, 0.0f, ls->dst, l->out_c);
        k->bias_relu(n, l->out_c, 1, ls->dst, b, l->relu);
        break;
    }
    case NN_MAXPOOL: {
        pool_shape sh = pool_shape_of(s, l, n);
        k->maxpool_fwd(&sh, src, ls->dst, ls->argmax);
        break;
    }
    case NN_AVGPOOL_GLOBAL: {
        int c, h, ww;
        nn_tensor_shape(s, l->src, &c, &h, &ww);
        k->avgpool_fwd(n, c, h * ww, src, ls->dst);
        break;
    }
    case NN_BATCHNORM:
        if (training) {
            k->bn_fwd_train(n, l->c, l->h * l->w, src, w, b, NN_BN_EPSILON, l->relu, ls->dst,
                            ls->mean, ls->var);
            nn_bn_update_running_stats(l, n, ls->mean, ls->var, net->state);
        } else {
            const float *mean = net->state + l->stat_off;
            k->bn_fwd_infer(n, l->c, l->h * l->w, src, w, b, mean, mean + l->c, NN_BN_EPSILON,
                            l->relu, ls->dst);
        }
        break;
    case NN_ADD:
        k->add((size_t)n * nn_tensor_floats(s, i), src, input_of(net, l->src2, images), ls->dst,
               l->relu);
        break;
    }
}

static void forward(native_net *net, const float *images, int n, int training) {
    for (int i = 0; i < net->spec.n_layers; i++) forward_layer(net, i, images, n, training);
}

/* ---- backward ---------------------------------------------------------- */

/* Where a gradient contribution to tensor t goes (NULL: nowhere, the images). */
static float *diff_target(native_net *net, int t, int *accumulate) {
    if (t < 0) return NULL;
    native_layer *ts = &net->ls[t];
    *accumulate = ts->contributions++ > 0;
    return *accumulate ? net->diff_scratch : ts->diff;
}

static void finish_contribution(native_net *net, int t, int accumulate, int n) {
    if (!accumulate) return;
    size_t count = (size_t)n * nn_tensor_floats(&net->spec, t);
    net->k->add(count, net->ls[t].diff, net->diff_scratch, net->ls[t].diff, 0);
}

/* Weight and bias gradients of a convolution or fully connected layer, from
 * its (ReLU-masked) output gradient. */
static void weighted_bwd_weights(native_net *net, int i, const float *images, int n,
                                 int use_standin) {
    const nn_spec *s = &net->spec;
    const nn_layer *l = &s->layers[i];
    native_layer *ls = &net->ls[i];
    const float *src = input_of(net, l->src, images);
    float *gw = net->grads + l->w_off, *gb = l->b_len ? net->grads + l->b_off : NULL;
    if (use_standin) {
        ls->standin.backward_weights(ls->standin.impl, src, ls->diff);
    } else if (l->op == NN_CONV) {
        conv_shape sh = conv_shape_of(s, l, n);
        net->k->conv_bwd_w(&sh, src, ls->diff, gw, gb, net->scratch);
    } else {
        int in = (int)nn_tensor_floats(s, l->src);
        /* dW[out×in] = diff^T[out×n] · src[n×in]; db = column sums of diff */
        net->k->sgemm(1, 0, l->out_c, in, n, 1.0f, ls->diff, l->out_c, src, in, 0.0f, gw, in);
        net->k->bias_bwd(n, l->out_c, 1, ls->diff, gb);
    }
}

/* The gradient of a convolution's or fully connected layer's source, into target. */
static void weighted_bwd_data(native_net *net, int i, int n, float *target, int use_standin) {
    const nn_spec *s = &net->spec;
    const nn_layer *l = &s->layers[i];
    native_layer *ls = &net->ls[i];
    const float *w = net->params + l->w_off;
    if (use_standin) {
        ls->standin.backward_data(ls->standin.impl, ls->diff, target);
    } else if (l->op == NN_CONV) {
        conv_shape sh = conv_shape_of(s, l, n);
        net->k->conv_bwd_d(&sh, ls->diff, w, target, net->scratch);
    } else {
        int in = (int)nn_tensor_floats(s, l->src);
        /* dsrc[n×in] = diff[n×out] · W[out×in] */
        net->k->sgemm(0, 0, n, in, l->out_c, 1.0f, ls->diff, l->out_c, w, in, 0.0f, target, in);
    }
}

static void backward_weighted(native_net *net, int i, const float *images, int n) {
    const nn_layer *l = &net->spec.layers[i];
    int use_standin = net->ls[i].use_standin, acc = 0;
    weighted_bwd_weights(net, i, images, n, use_standin);
    float *target = diff_target(net, l->src, &acc);
    if (!target) return;
    weighted_bwd_data(net, i, n, target, use_standin);
    finish_contribution(net, l->src, acc, n);
}

static void backward_layer(native_net *net, int i, const float *images, int n) {
    const nn_spec *s = &net->spec;
    const nn_layer *l = &s->layers[i];
    native_layer *ls = &net->ls[i];
    const kernel_table *k = net->k;
    size_t count = (size_t)n * nn_tensor_floats(s, i);
    if (ls->relu_bwd_at_output) k->relu_bwd(count, ls->dst, ls->diff);
    int acc = 0;
    float *target;
    switch (l->op) {
    case NN_CONV:
    case NN_FC: backward_weighted(net, i, images, n); return;
    case NN_MAXPOOL: {
        pool_shape sh = pool_shape_of(s, l, n);
        if (!(target = diff_target(net, l->src, &acc))) return;
        /* the ReLU before the pool, on the 4× smaller pooled gradient */
        if (ls->relu_bwd_at_pool) k->relu_bwd(count, ls->dst, ls->diff);
        k->maxpool_bwd(&sh, ls->diff, ls->argmax, target);
        break;
    }
    case NN_AVGPOOL_GLOBAL: {
        int c, h, w;
        nn_tensor_shape(s, l->src, &c, &h, &w);
        if (!(target = diff_target(net, l->src, &acc))) return;
        k->avgpool_bwd(n, c, h * w, ls->diff, target);
        break;
    }
    case NN_BATCHNORM: {
        if (!(target = diff_target(net, l->src, &acc))) return;
        k->bn_bwd(n, l->c, l->h * l->w, input_of(net, l->src, images), ls->dst, ls->diff,
                  net->params + l->w_off, ls->mean, ls->var, NN_BN_EPSILON, l->relu, target,
                  net->grads + l->w_off, net->grads + l->b_off);
        break;
    }
    case NN_ADD: {
        int inputs[2] = {l->src, l->src2};
        for (int j = 0; j < 2; j++) {
            if (!(target = diff_target(net, inputs[j], &acc))) continue;
            memcpy(target, ls->diff, sizeof(float) * count);
            finish_contribution(net, inputs[j], acc, n);
        }
        return;
    }
    }
    finish_contribution(net, l->src, acc, n);
}

static void backward(native_net *net, const float *images, int n) {
    for (int i = 0; i < net->spec.n_layers; i++) net->ls[i].contributions = 0;
    for (int i = net->spec.n_layers - 1; i >= 0; i--) backward_layer(net, i, images, n);
}

/* ---- the nn_net interface ---------------------------------------------- */

static double native_train_step(nn_net *base, const float *images, const uint8_t *labels) {
    native_net *net = (native_net *)base;
    int n = net->cfg.train_batch, last = net->spec.n_layers - 1;
    forward(net, images, n, 1);
    double loss = net->k->softmax_xent(net->ls[last].dst, labels, n, net->spec.classes, (float)n,
                                       net->ls[last].diff, NULL, NULL);
    backward(net, images, n);
    return loss / n;
}

static void native_evaluate(nn_net *base, const float *images, const uint8_t *labels, int n,
                            double *loss_sum, long *hits_io, float *probs) {
    native_net *net = (native_net *)base;
    const nn_spec *s = &net->spec;
    size_t image = nn_tensor_floats(s, -1);
    int chunk_max = net->cfg.eval_batch < NATIVE_EVAL_CHUNK ? net->cfg.eval_batch
                                                            : NATIVE_EVAL_CHUNK;
    int last = s->n_layers - 1;
    double loss = *loss_sum;
    long hits = *hits_io;
    for (int start = 0; start < n; start += chunk_max) {
        int count = n - start < chunk_max ? n - start : chunk_max;
        forward(net, images + (size_t)start * image, count, 0);
        int correct;
        loss += net->k->softmax_xent(net->ls[last].dst, labels + start, count, s->classes, 1.0f,
                                     NULL, probs ? probs + (size_t)start * s->classes : NULL,
                                     &correct);
        hits += correct;
    }
    *loss_sum = loss;
    *hits_io = hits;
}

static void native_free(nn_net *base) {
    native_net *net = (native_net *)base;
    for (int i = 0; i < net->spec.n_layers; i++) {
        native_layer *ls = &net->ls[i];
        alrs_free_aligned(ls->dst);
        alrs_free_aligned(ls->diff);
        free(ls->argmax);
        free(ls->mean);
        free(ls->var);
        if (ls->standin.impl) ls->standin.free(ls->standin.impl);
    }
    free(net->ls);
    alrs_free_aligned(net->scratch);
    alrs_free_aligned(net->diff_scratch);
    free(net);
}

static void native_describe(const nn_net *base, char *buf, int size) {
    const native_net *net = (const native_net *)base;
    const nn_spec *s = &net->spec;
    int used = snprintf(buf, (size_t)size, "native kernels, isa %s\n",
                        cpu_isa_name(net->k->isa));
    for (int i = 0; i < s->n_layers && used < size; i++) {
        const nn_layer *l = &s->layers[i];
        const native_layer *ls = &net->ls[i];
        if (l->op != NN_CONV && l->op != NN_FC) continue;
        /* auto never looked */
        if (!ls->standin.impl && ls->ms_native < 0 && !ls->note[0]) continue;
        int c, h, w;
        nn_tensor_shape(s, l->src, &c, &h, &w);
        used += snprintf(buf + used, (size_t)(size - used), "layer %d %s %dx%dx%d->%dx%dx%d: %s",
                         i, nn_op_name(l->op), c, h, w, l->c, l->h, l->w,
                         ls->use_standin ? ls->standin.name : "native");
        if (used < size && ls->ms_native >= 0)
            used += snprintf(buf + used, (size_t)(size - used), " (native %.3f ms", ls->ms_native);
        if (used < size && ls->ms_native >= 0 && ls->ms_standin >= 0 && ls->standin.impl)
            used += snprintf(buf + used, (size_t)(size - used), ", %s %.3f ms", ls->standin.name,
                             ls->ms_standin);
        if (used < size && ls->ms_native >= 0)
            used += snprintf(buf + used, (size_t)(size - used), ")");
        if (used < size && ls->standin.impl)
            used += snprintf(buf + used, (size_t)(size - used), " [%s]",
                             ls->standin.describe(ls->standin.impl));
        if (used < size && ls->note[0])
            used += snprintf(buf + used, (size_t)(size - used), " %s", ls->note);
        if (used < size) used += snprintf(buf + used, (size_t)(size - used), "\n");
    }
}

static const nn_net_ops native_ops = {native_train_step, native_evaluate, native_free,
                                      native_describe, NULL};

static void allocate_layers(native_net *net) {
    const nn_spec *s = &net->spec;
    size_t scratch = 0, biggest = 0;
    int cap = net->capacity, train = net->cfg.train_batch;
    for (int i = 0; i < s->n_layers; i++) {
        const nn_layer *l = &s->layers[i];
        native_layer *ls = &net->ls[i];
        size_t per_image = nn_tensor_floats(s, i);
        ls->dst = alrs_alloc_aligned(sizeof(float) * per_image * (size_t)cap);
        ls->diff = alrs_alloc_aligned(sizeof(float) * per_image * (size_t)train);
        if (l->op == NN_MAXPOOL) ls->argmax = alrs_calloc(per_image * (size_t)cap, sizeof(int32_t));
        if (l->op == NN_BATCHNORM) {
            ls->mean = alrs_calloc((size_t)l->c, sizeof(float));
            ls->var = alrs_calloc((size_t)l->c, sizeof(float));
        }
        if (l->op == NN_CONV) {
            conv_shape sh = conv_shape_of(s, l, cap);
            size_t need = net->k->conv_scratch_floats(&sh);
            if (need > scratch) scratch = need;
        }
        if (per_image > biggest) biggest = per_image;
        ls->relu_bwd_at_output = nn_relu_bwd_at_output(s, i);
        ls->relu_bwd_at_pool = nn_relu_bwd_at_pool(s, i);
    }
    net->scratch = alrs_alloc_aligned(sizeof(float) * (scratch ? scratch : 1));
    net->diff_scratch = alrs_alloc_aligned(sizeof(float) * biggest * (size_t)train);
}

nn_net *nn_net_create_native(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                             float *state) {
    if (nn_net_check(spec, cfg) != 0) return NULL;
    native_net *net = alrs_calloc(1, sizeof *net);
    net->base.ops = &native_ops;
    net->spec = *spec;
    net->cfg = cfg;
    net->k = kernels();
    net->params = params, net->grads = grads, net->state = state;
    net->capacity = cfg.train_batch > cfg.eval_batch ? cfg.train_batch : cfg.eval_batch;
    net->ls = alrs_calloc((size_t)spec->n_layers, sizeof *net->ls);
    for (int i = 0; i < spec->n_layers; i++) net->ls[i].ms_native = net->ls[i].ms_standin = -1;
    allocate_layers(net);
    return &net->base;
}

/* ---- per-layer choice (nn/native/native_net.h) -------------------------- */

int native_net_layer_switchable(const nn_net *base, int i) {
    const native_net *net = (const native_net *)base;
    nn_op op = net->spec.layers[i].op;
    return op == NN_CONV || op == NN_FC;
}

int native_net_attach_standin(nn_net *base, int i, nn_layer_standin_maker make, void *ctx,
                              char *why, int why_size) {
    native_net *net = (native_net *)base;
    native_layer *ls = &net->ls[i];
    if (ls->standin.impl) return 0;
    if (!native_net_layer_switchable(base, i)) {
        snprintf(why, (size_t)why_size, "not a convolution or fully connected layer");
        return -1;
    }
    const nn_layer *l = &net->spec.layers[i];
    nn_layer_standin standin = {0};
    if (make(ctx, &net->spec, i, net->cfg.train_batch, l->src >= 0, net->params, net->grads,
             &standin, why, why_size) != 0)
        return -1;
    ls->standin = standin;
    return 0;
}

void native_net_use_standin(nn_net *base, int i, int use_standin) {
    native_net *net = (native_net *)base;
    if (use_standin && !net->ls[i].standin.impl)
        alrs_panic("native net: layer %d has no stand-in", i);
    net->ls[i].use_standin = use_standin != 0;
}

double native_net_time_layer(nn_net *base, int i, int use_standin, const float *images) {
    native_net *net = (native_net *)base;
    const nn_layer *l = &net->spec.layers[i];
    int n = net->cfg.train_batch, saved = net->ls[i].use_standin;
    if (use_standin && !net->ls[i].standin.impl)
        alrs_panic("native net: layer %d has no stand-in", i);
    net->ls[i].use_standin = use_standin;
    double t0 = alrs_now();
    forward_layer(net, i, images, n, 1);
    weighted_bwd_weights(net, i, images, n, use_standin);
    /* the scratch buffer stands in for the source's gradient: free between steps */
    if (l->src >= 0) weighted_bwd_data(net, i, n, net->diff_scratch, use_standin);
    double t = alrs_now() - t0;
    net->ls[i].use_standin = saved;
    return t;
}

/* The backward pass of any layer, its own gradient contributions counted
 * afresh (the source's gradient is written, not added to). */
static void bwd_data_alone(native_net *net, int i, const float *images) {
    for (int j = 0; j < net->spec.n_layers; j++) net->ls[j].contributions = 0;
    backward_layer(net, i, images, net->cfg.train_batch);
}

double native_net_time_pass(nn_net *base, int i, nn_pass pass, int use_standin,
                            const float *images) {
    native_net *net = (native_net *)base;
    const nn_layer *l = &net->spec.layers[i];
    int n = net->cfg.train_batch, weighted = native_net_layer_switchable(base, i);
    if (use_standin && (!net->ls[i].standin.impl || pass == NN_PASS_INFER)) return -1;
    if ((pass == NN_PASS_BWD_WEIGHTS && !weighted) || (pass == NN_PASS_BWD_DATA && l->src < 0))
        return -1;
    int saved = net->ls[i].use_standin;
    net->ls[i].use_standin = use_standin;
    double t0 = alrs_now();
    switch (pass) {
    case NN_PASS_FORWARD: forward_layer(net, i, images, n, 1); break;
    case NN_PASS_BWD_WEIGHTS: weighted_bwd_weights(net, i, images, n, use_standin); break;
    case NN_PASS_BWD_DATA:
        if (weighted) weighted_bwd_data(net, i, n, net->diff_scratch, use_standin);
        else bwd_data_alone(net, i, images);
        break;
    case NN_PASS_INFER: forward_layer(net, i, images, net->cfg.eval_batch, 0); break;
    }
    double t = alrs_now() - t0;
    net->ls[i].use_standin = saved;
    return t;
}

void native_net_note(nn_net *base, int i, double ms_native, double ms_standin, const char *note) {
    native_layer *ls = &((native_net *)base)->ls[i];
    ls->ms_native = ms_native, ls->ms_standin = ms_standin;
    snprintf(ls->note, sizeof ls->note, "%s", note ? note : "");
}
