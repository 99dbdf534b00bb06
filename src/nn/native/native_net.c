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
#include <omp.h>
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

/* Training runs the layers that treat each image alone in blocks of images
 * (forward_train, backward_run), each block through all of them, so that a
 * layer reads from L2 what the layer before it wrote: a layer's source,
 * output and max-pool indices for one block take at most this many bytes.
 * LeNet-5: at most 37 images (28 KB each at max-pool 1; 36 at batch 1000,
 * 32 at 128), of which conv1's output, what must wait in L2 for the pool,
 * is 0.7 MB: within Zen 4's 1 MB L2 as well as this Xeon's 2 MB.
 * Measured here (alrs bench layers, 1 thread, medians of 7, alternated with
 * the unblocked build, machine shared with two niced runs): batch 1000
 * 32.6-33.9 ms -> 29.7-32.5 (38 -> 40-42 % of peak; max-pool forward 4.1 ->
 * 2.0 ms of CPU time in a profile; budgets of 0.5, 1 and 2 MB alike within
 * noise); batch 128 3.60-3.64 -> 3.55-3.57 (45 -> 46 %): there conv1's
 * 2.4 MB of output mostly stays in this L3; batch 32 is one block.
 * Since conv1 runs fused with its pool (below), its output is never stored
 * and the sizing here overcounts; larger blocks measured the same (1
 * thread, shared machine, alrs bench train, ALRS_NATIVE_BLOCK: batch 128
 * 389/390 steps/s by this size, 388/383 in blocks of 64, 390/393 of 128;
 * batch 1000 48.3/46.7, 48.2/47.8 of 72, 47.5/47.4 of 100). */
#define NATIVE_BLOCK_BYTES (1024 * 1024)

typedef struct {
    float *dst, *diff;
    int32_t *argmax;       /* max-pool */
    float *mean, *var;     /* batchnorm batch statistics */
    int contributions, contributions_before; /* backward: counted, at the run's start */
    int relu_bwd_at_output, relu_bwd_at_pool; /* nn/layer_rules.h, looked up at creation */
    int pool_fusable;      /* a convolution the kernels may fuse with the pool after it */
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
    int block;           /* training block size forced by ALRS_NATIVE_BLOCK (0: by size) */
    int no_fusion;       /* ALRS_NATIVE_FUSE=0: no convolution fused with its pool */
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

/* ---- a convolution fused with its max-pool ---------------------------- */

/* 1 if convolution i and the max-pool i+1, the only reader of its output,
 * may run as one kernel (kernels.h's conv_pool_*): nothing else needs the
 * convolution's output, not even its ReLU's backward (which the pool
 * applies, nn/layer_rules.h), and the kernels take the shapes. Looked up at
 * creation. */
static int pool_fusable(const native_net *net, int i) {
    const nn_spec *s = &net->spec;
    if (net->no_fusion || !net->k->conv_pool_fits || i + 1 >= s->n_layers) return 0;
    const nn_layer *l = &s->layers[i], *p = &s->layers[i + 1];
    if (l->op != NN_CONV || p->op != NN_MAXPOOL || p->src != i || nn_tensor_reads(s, i) != 1 ||
        nn_relu_bwd_at_output(s, i))
        return 0;
    conv_shape sh = conv_shape_of(s, l, 1);
    pool_shape ps = pool_shape_of(s, p, 1);
    return net->k->conv_pool_fits(&sh, &ps);
}

/* 1 if layer i, a convolution, runs its forward pass with the pool's
 * (writing only the pool's output and argmax): not when training runs it on
 * its stand-in (evaluation never does). The pool's own pass then does
 * nothing. Saves writing and reading the convolution's output (LeNet-5's
 * conv1: 4× the pool's). */
static int fwd_fused(const native_net *net, int i, int training) {
    return i >= 0 && net->ls[i].pool_fusable && !(training && net->ls[i].use_standin);
}

/* 1 if layer i, a convolution, also takes its backward-weights from the
 * pool's output gradient, routing it back image by image inside the kernel:
 * only when nothing needs the convolution's own output gradient, i.e. it
 * reads the images (no backward-data). The pool's backward then does
 * nothing. */
static int bwd_fused(const native_net *net, int i) {
    return fwd_fused(net, i, 1) && net->spec.layers[i].src < 0;
}

/* ---- forward ----------------------------------------------------------- */

/* Where image `first` starts in tensor t (-1: the images). */
static size_t offset(const native_net *net, int t, int first) {
    return (size_t)first * nn_tensor_floats(&net->spec, t);
}

static const float *input_of(const native_net *net, int src, const float *images, int first) {
    return (src < 0 ? images : net->ls[src].dst) + offset(net, src, first);
}

/* Layer i's forward pass over images first .. first+n-1 (a layer that
 * reduces over images, batchnorm in training, or one running through its
 * stand-in: the whole training batch only). */
static void forward_layer(native_net *net, int i, const float *images, int first, int n,
                          int training) {
    const nn_spec *s = &net->spec;
    const nn_layer *l = &s->layers[i];
    native_layer *ls = &net->ls[i];
    const kernel_table *k = net->k;
    const float *src = input_of(net, l->src, images, first);
    const float *w = net->params + l->w_off, *b = l->b_len ? net->params + l->b_off : NULL;
    float *dst = ls->dst + offset(net, i, first);
    if (training && ls->use_standin && (l->op == NN_CONV || l->op == NN_FC)) {
        ls->standin.forward(ls->standin.impl, src, dst); /* n is the training batch */
        return;
    }
    switch (l->op) {
    case NN_CONV: {
        conv_shape sh = conv_shape_of(s, l, n);
        if (fwd_fused(net, i, training)) {
            pool_shape ps = pool_shape_of(s, &s->layers[i + 1], n);
            native_layer *pool = &net->ls[i + 1];
            size_t at = offset(net, i + 1, first);
            k->conv_pool_fwd(&sh, &ps, src, w, b, l->relu, pool->dst + at, pool->argmax + at,
                             net->scratch);
        } else {
            k->conv_fwd(&sh, src, w, b, l->relu, dst, net->scratch);
        }
        break;
    }
    case NN_FC: {
        /* dst[n×out] = src[n×in] · W^T, W being out×in */
        int in = (int)nn_tensor_floats(s, l->src);
        k->sgemm(0, 1, n, l->out_c, in, 1.0f, src, in, w, in, 0.0f, dst, l->out_c);
        k->bias_relu(n, l->out_c, 1, dst, b, l->relu);
        break;
    }
    case NN_MAXPOOL: {
        if (fwd_fused(net, l->src, training)) break; /* the convolution did it */
        pool_shape sh = pool_shape_of(s, l, n);
        k->maxpool_fwd(&sh, src, dst, ls->argmax + offset(net, i, first));
        break;
    }
    case NN_AVGPOOL_GLOBAL: {
        int c, h, ww;
        nn_tensor_shape(s, l->src, &c, &h, &ww);
        k->avgpool_fwd(n, c, h * ww, src, dst);
        break;
    }
    case NN_BATCHNORM:
        if (training) {
            k->bn_fwd_train(n, l->c, l->h * l->w, src, w, b, NN_BN_EPSILON, l->relu, dst,
                            ls->mean, ls->var);
            nn_bn_update_running_stats(l, n, ls->mean, ls->var, net->state);
        } else {
            const float *mean = net->state + l->stat_off;
            k->bn_fwd_infer(n, l->c, l->h * l->w, src, w, b, mean, mean + l->c, NN_BN_EPSILON,
                            l->relu, dst);
        }
        break;
    case NN_ADD:
        k->add((size_t)n * nn_tensor_floats(s, i), src, input_of(net, l->src2, images, first), dst,
               l->relu);
        break;
    }
}

/* Inference over n images, the whole net at once (evaluation chunks them). */
static void forward_infer(native_net *net, const float *images, int n) {
    for (int i = 0; i < net->spec.n_layers; i++) forward_layer(net, i, images, 0, n, 0);
}

/* ---- blocks of images (training) --------------------------------------- */

/* Floats one image takes in layer i's passes: its source, its output and a
 * max-pool's indices. */
static size_t image_floats(const native_net *net, int i) {
    const nn_layer *l = &net->spec.layers[i];
    size_t out = nn_tensor_floats(&net->spec, i);
    return nn_tensor_floats(&net->spec, l->src) + out * (l->op == NN_MAXPOOL ? 2 : 1);
}

/* 1 if layer i's training passes, but for backward-weights, may treat each
 * image alone: not batchnorm (batch statistics), not a layer on its
 * stand-in (built for the whole training batch). */
static int per_image(const native_net *net, int i) {
    return net->spec.layers[i].op != NN_BATCHNORM && !net->ls[i].use_standin;
}

/* 1 if the kernels' OpenMP regions would get more than one thread here. */
static int kernels_parallel(void) {
    return omp_get_max_threads() > 1 && omp_get_active_level() < omp_get_max_active_levels();
}

/* Images per training block: the widest per-image layer's floats for one
 * block fit NATIVE_BLOCK_BYTES; blocks as even as the batch allows. The
 * whole batch where the kernels run on several threads: each kernel call
 * forks and joins them, and blocks multiply the calls (at 2 threads on this
 * shared 2-core machine, blocks of 72 took LeNet-5's step at batch 1000 from
 * 115 to 161 ms of CPU, the threads waiting at barriers). */
static int block_images(const native_net *net) {
    int n = net->cfg.train_batch;
    if (net->block > 0) return net->block < n ? net->block : n;
    if (kernels_parallel()) return n;
    size_t widest = 1;
    for (int i = 0; i < net->spec.n_layers; i++)
        if (per_image(net, i) && image_floats(net, i) > widest) widest = image_floats(net, i);
    size_t most = NATIVE_BLOCK_BYTES / (sizeof(float) * widest);
    if (most >= (size_t)n) return n;
    if (most < 1) most = 1;
    int blocks = (int)(((size_t)n + most - 1) / most);
    return (n + blocks - 1) / blocks;
}

/* 1 if layer i runs in blocks of `block` images. A layer whose weights
 * outweigh its activations in a block (LeNet-5's conv3 and fc1) stays whole:
 * the GEMM packs the weights again for every call, and what it would keep in
 * cache is small (in blocks of 18 at batch 1000, packing took 0.7 ms of a
 * 34 ms step). A forced block size (tests) blocks every per-image layer. */
static int blockable(const native_net *net, int i, int block) {
    if (!per_image(net, i)) return 0;
    return net->block > 0 || net->spec.layers[i].w_len <= (size_t)block * image_floats(net, i);
}

/* 1 if a run of `layers` blockable layers goes block by block: it takes two
 * for one to leave in cache what the next reads, and a batch of more than
 * one block. Always when the block size is forced. */
static int worth_blocks(const native_net *net, int layers, int block) {
    return net->block > 0 || (layers >= 2 && block < net->cfg.train_batch);
}

/* The end (exclusive) of the run of blockable layers from lo; lo itself
 * when there is none worth running block by block. */
static int run_end(const native_net *net, int lo, int block) {
    int hi = lo;
    while (hi < net->spec.n_layers && blockable(net, hi, block)) hi++;
    return worth_blocks(net, hi - lo, block) ? hi : lo;
}

/* The start of the run of blockable layers that ends at hi (exclusive);
 * hi itself when there is none worth running block by block. */
static int run_start(const native_net *net, int hi, int block) {
    int lo = hi;
    while (lo > 0 && blockable(net, lo - 1, block)) lo--;
    return worth_blocks(net, hi - lo, block) ? lo : hi;
}

/* The training forward pass: runs of blockable layers block by block, the
 * others over the whole batch. */
static void forward_train(native_net *net, const float *images) {
    int n = net->cfg.train_batch, layers = net->spec.n_layers, block = block_images(net);
    for (int lo = 0, hi; lo < layers; lo = hi) {
        hi = run_end(net, lo, block);
        if (hi == lo) {
            forward_layer(net, lo, images, 0, n, 1);
            hi = lo + 1;
            continue;
        }
        for (int first = 0; first < n; first += block) {
            int count = n - first < block ? n - first : block;
            for (int i = lo; i < hi; i++) forward_layer(net, i, images, first, count, 1);
        }
    }
}

/* ---- backward ---------------------------------------------------------- */

/* Where a gradient contribution to tensor t for images first.. goes (NULL:
 * nowhere, the images). */
static float *diff_target(native_net *net, int t, int first, int *accumulate) {
    if (t < 0) return NULL;
    native_layer *ts = &net->ls[t];
    *accumulate = ts->contributions++ > 0;
    return (*accumulate ? net->diff_scratch : ts->diff) + offset(net, t, first);
}

static void finish_contribution(native_net *net, int t, int accumulate, int first, int n) {
    if (!accumulate) return;
    size_t count = (size_t)n * nn_tensor_floats(&net->spec, t), at = offset(net, t, first);
    net->k->add(count, net->ls[t].diff + at, net->diff_scratch + at, net->ls[t].diff + at, 0);
}

/* Weight and bias gradients of a convolution or fully connected layer, from
 * its (ReLU-masked) output gradient, over the whole training batch: they sum
 * over images, in the order the kernel (or stand-in) fixes for the batch. */
static void weighted_bwd_weights(native_net *net, int i, const float *images, int n,
                                 int use_standin) {
    const nn_spec *s = &net->spec;
    const nn_layer *l = &s->layers[i];
    native_layer *ls = &net->ls[i];
    const float *src = input_of(net, l->src, images, 0);
    float *gw = net->grads + l->w_off, *gb = l->b_len ? net->grads + l->b_off : NULL;
    if (use_standin) {
        ls->standin.backward_weights(ls->standin.impl, src, ls->diff);
    } else if (bwd_fused(net, i)) {
        conv_shape sh = conv_shape_of(s, l, n);
        pool_shape ps = pool_shape_of(s, &s->layers[i + 1], n);
        const native_layer *pool = &net->ls[i + 1];
        net->k->conv_pool_bwd_w(&sh, &ps, src, pool->diff, pool->argmax,
                                pool->relu_bwd_at_pool ? pool->dst : NULL, gw, gb, net->scratch);
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

/* The gradient of a convolution's or fully connected layer's source for
 * images first.., into target (already at image first). */
static void weighted_bwd_data(native_net *net, int i, int first, int n, float *target,
                              int use_standin) {
    const nn_spec *s = &net->spec;
    const nn_layer *l = &s->layers[i];
    native_layer *ls = &net->ls[i];
    const float *w = net->params + l->w_off, *diff = ls->diff + offset(net, i, first);
    if (use_standin) {
        ls->standin.backward_data(ls->standin.impl, ls->diff, target); /* the whole batch */
    } else if (l->op == NN_CONV) {
        conv_shape sh = conv_shape_of(s, l, n);
        net->k->conv_bwd_d(&sh, diff, w, target, net->scratch);
    } else {
        int in = (int)nn_tensor_floats(s, l->src);
        /* dsrc[n×in] = diff[n×out] · W[out×in] */
        net->k->sgemm(0, 0, n, in, l->out_c, 1.0f, diff, l->out_c, w, in, 0.0f, target, in);
    }
}

/* with_weights: backward-weights too (only over the whole batch). */
static void backward_weighted(native_net *net, int i, const float *images, int first, int n,
                              int with_weights) {
    const nn_layer *l = &net->spec.layers[i];
    int use_standin = net->ls[i].use_standin, acc = 0;
    if (with_weights) weighted_bwd_weights(net, i, images, n, use_standin);
    float *target = diff_target(net, l->src, first, &acc);
    if (!target) return;
    weighted_bwd_data(net, i, first, n, target, use_standin);
    finish_contribution(net, l->src, acc, first, n);
}

/* Layer i's backward pass over images first .. first+n-1; a convolution's
 * or fully connected layer's backward-weights only when with_weights (the
 * whole batch, first 0). */
static void backward_layer(native_net *net, int i, const float *images, int first, int n,
                           int with_weights) {
    const nn_spec *s = &net->spec;
    const nn_layer *l = &s->layers[i];
    native_layer *ls = &net->ls[i];
    const kernel_table *k = net->k;
    size_t count = (size_t)n * nn_tensor_floats(s, i), at = offset(net, i, first);
    float *dst = ls->dst + at, *diff = ls->diff + at;
    if (ls->relu_bwd_at_output) k->relu_bwd(count, dst, diff);
    int acc = 0;
    float *target;
    switch (l->op) {
    case NN_CONV:
    case NN_FC: backward_weighted(net, i, images, first, n, with_weights); return;
    case NN_MAXPOOL: {
        if (bwd_fused(net, l->src)) return; /* the convolution's backward-weights does it */
        pool_shape sh = pool_shape_of(s, l, n);
        if (!(target = diff_target(net, l->src, first, &acc))) return;
        /* the ReLU before the pool, on the 4× smaller pooled gradient, inside
         * the pool's kernel: as a relu_bwd of its own, under the elementwise
         * kernels' threshold (LeNet-5's 51200 floats at batch 128), it ran on
         * one thread (bench layers, 2 threads: this pass 0.079 -> 0.037 ms) */
        k->maxpool_bwd(&sh, diff, ls->argmax + at, ls->relu_bwd_at_pool ? dst : NULL, target);
        break;
    }
    case NN_AVGPOOL_GLOBAL: {
        int c, h, w;
        nn_tensor_shape(s, l->src, &c, &h, &w);
        if (!(target = diff_target(net, l->src, first, &acc))) return;
        k->avgpool_bwd(n, c, h * w, diff, target);
        break;
    }
    case NN_BATCHNORM: { /* whole batch only */
        if (!(target = diff_target(net, l->src, first, &acc))) return;
        k->bn_bwd(n, l->c, l->h * l->w, input_of(net, l->src, images, first), dst, diff,
                  net->params + l->w_off, ls->mean, ls->var, NN_BN_EPSILON, l->relu, target,
                  net->grads + l->w_off, net->grads + l->b_off);
        break;
    }
    case NN_ADD: {
        int inputs[2] = {l->src, l->src2};
        for (int j = 0; j < 2; j++) {
            if (!(target = diff_target(net, inputs[j], first, &acc))) continue;
            memcpy(target, diff, sizeof(float) * count);
            finish_contribution(net, inputs[j], acc, first, n);
        }
        return;
    }
    }
    finish_contribution(net, l->src, acc, first, n);
}

/* Blockable layers lo .. hi-1 backward, block by block, then their
 * backward-weights over the whole batch (each writes only its own layer's
 * gradients from its finished output gradient, so running them after the
 * others changes no number). Each block starts from the same contribution
 * counts, so its first contribution to a tensor writes and later ones add,
 * as over the whole batch. */
static void backward_run(native_net *net, int lo, int hi, int block, const float *images) {
    int n = net->cfg.train_batch, layers = net->spec.n_layers;
    for (int j = 0; j < layers; j++) net->ls[j].contributions_before = net->ls[j].contributions;
    for (int first = 0; first < n; first += block) {
        int count = n - first < block ? n - first : block;
        for (int j = 0; j < layers; j++) net->ls[j].contributions = net->ls[j].contributions_before;
        for (int i = hi - 1; i >= lo; i--) backward_layer(net, i, images, first, count, 0);
    }
    for (int i = hi - 1; i >= lo; i--)
        if (native_net_layer_switchable(&net->base, i)) weighted_bwd_weights(net, i, images, n, 0);
}

static void backward(native_net *net, const float *images) {
    int n = net->cfg.train_batch, block = block_images(net);
    for (int i = 0; i < net->spec.n_layers; i++) net->ls[i].contributions = 0;
    for (int hi = net->spec.n_layers, lo; hi > 0; hi = lo) {
        lo = run_start(net, hi, block);
        if (lo == hi) {
            lo = hi - 1;
            backward_layer(net, lo, images, 0, n, 1);
        } else {
            backward_run(net, lo, hi, block, images);
        }
    }
}

/* ---- the nn_net interface ---------------------------------------------- */

static double native_train_step(nn_net *base, const float *images, const uint8_t *labels) {
    native_net *net = (native_net *)base;
    int n = net->cfg.train_batch, last = net->spec.n_layers - 1;
    forward_train(net, images);
    double loss = net->k->softmax_xent(net->ls[last].dst, labels, n, net->spec.classes, (float)n,
                                       net->ls[last].diff, NULL, NULL);
    backward(net, images);
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
        forward_infer(net, images + (size_t)start * image, count);
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
        ls->pool_fusable = pool_fusable(net, i);
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
    /* for tests (blocks of 1 or 3 images match the whole batch bit for bit)
     * and measurements */
    const char *block = getenv("ALRS_NATIVE_BLOCK");
    net->block = block ? atoi(block) : 0;
    /* for tests: ALRS_NATIVE_FUSE=0 runs the max-pools on their own, which
     * must give the same numbers */
    const char *fuse = getenv("ALRS_NATIVE_FUSE");
    net->no_fusion = fuse && !strcmp(fuse, "0");
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
    forward_layer(net, i, images, 0, n, 1);
    weighted_bwd_weights(net, i, images, n, use_standin);
    /* the scratch buffer stands in for the source's gradient: free between steps */
    if (l->src >= 0) weighted_bwd_data(net, i, 0, n, net->diff_scratch, use_standin);
    double t = alrs_now() - t0;
    net->ls[i].use_standin = saved;
    return t;
}

/* The backward pass of any layer, its own gradient contributions counted
 * afresh (the source's gradient is written, not added to). */
static void bwd_data_alone(native_net *net, int i, const float *images) {
    for (int j = 0; j < net->spec.n_layers; j++) net->ls[j].contributions = 0;
    backward_layer(net, i, images, 0, net->cfg.train_batch, 1);
}

/* 1 if max-pool i's pass runs inside the convolution before it (its row in
 * alrs bench layers is the convolution's). */
static int pass_fused_away(const native_net *net, int i, nn_pass pass) {
    const nn_layer *l = &net->spec.layers[i];
    if (l->op != NN_MAXPOOL) return 0;
    if (pass == NN_PASS_BWD_DATA) return bwd_fused(net, l->src);
    if (pass == NN_PASS_BWD_WEIGHTS) return 0;
    return fwd_fused(net, l->src, pass != NN_PASS_INFER);
}

int native_net_pass_has_pool(const nn_net *base, int i, nn_pass pass) {
    const native_net *net = (const native_net *)base;
    if (i + 1 >= net->spec.n_layers || net->spec.layers[i + 1].src != i) return 0;
    /* the pool's backward runs in the convolution's backward-weights */
    return pass_fused_away(net, i + 1, pass == NN_PASS_BWD_WEIGHTS ? NN_PASS_BWD_DATA : pass);
}

double native_net_time_pass(nn_net *base, int i, nn_pass pass, int use_standin,
                            const float *images) {
    native_net *net = (native_net *)base;
    const nn_layer *l = &net->spec.layers[i];
    int n = net->cfg.train_batch, weighted = native_net_layer_switchable(base, i);
    if (use_standin && (!net->ls[i].standin.impl || pass == NN_PASS_INFER)) return -1;
    if ((pass == NN_PASS_BWD_WEIGHTS && !weighted) || (pass == NN_PASS_BWD_DATA && l->src < 0))
        return -1;
    if (pass_fused_away(net, i, pass)) return -1;
    int saved = net->ls[i].use_standin;
    net->ls[i].use_standin = use_standin;
    double t0 = alrs_now();
    switch (pass) {
    case NN_PASS_FORWARD: forward_layer(net, i, images, 0, n, 1); break;
    case NN_PASS_BWD_WEIGHTS: weighted_bwd_weights(net, i, images, n, use_standin); break;
    case NN_PASS_BWD_DATA:
        if (weighted) weighted_bwd_data(net, i, 0, n, net->diff_scratch, use_standin);
        else bwd_data_alone(net, i, images);
        break;
    case NN_PASS_INFER: forward_layer(net, i, images, 0, net->cfg.eval_batch, 0); break;
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
