/* A stand-in for one convolution or fully connected layer of the native net
 * (nn/native/native_net.h): another implementation of the layer's three
 * training passes on the native net's own plain buffers (activations NCHW, a
 * fully connected layer's source an N×(C·H·W) matrix, weights and their
 * gradients where the flat parameter and gradient buffers hold them), bound
 * once at the training batch; the buffers of the activations are given per
 * call.
 *
 * Why it exists: the auto backend mixes implementations per layer (a layer
 * runs through oneDNN inside the native net when it measured faster,
 * nn/choice/auto_net.c). The native backend must not create oneDNN objects
 * nor the oneDNN backend native ones, so the native net only knows this
 * backend-neutral face: the chooser hands the native net a maker that
 * builds the oneDNN version of a layer (nn/dnnl/dnnl_standin.h) as this
 * struct, on the buffers the native net names, and the native net calls it
 * without knowing what is behind it. */
#ifndef ALRS_NN_LAYER_STANDIN_H
#define ALRS_NN_LAYER_STANDIN_H

#include "nn/spec.h"

typedef struct {
    void *impl; /* the implementation's own state, passed to every function */
    const char *name; /* the implementation's short name ("dnnl"), for descriptions */
    /* dst = layer(src) (with the layer's ReLU) at the training batch */
    void (*forward)(void *impl, const float *src, float *dst);
    /* the weight and bias gradients (overwritten) from the source and the
     * output gradient, already masked by the layer's ReLU */
    void (*backward_weights)(void *impl, const float *src, const float *diff_dst);
    /* diff_src (overwritten) from the output gradient; never called for a
     * layer that reads the images (nobody needs their gradient) */
    void (*backward_data)(void *impl, const float *diff_dst, float *diff_src);
    /* what runs the passes, in a few words (oneDNN: its implementations) */
    const char *(*describe)(const void *impl);
    void (*free)(void *impl);
} nn_layer_standin;

/* Builds layer i of `s` at `batch` images into *out, its weights and their
 * gradients at params + w_off (b_off) and grads likewise, with the
 * backward-data pass when asked for; `ctx` is the maker's own. 0, or -1 with
 * `why` (a short phrase) when it cannot. */
typedef int (*nn_layer_standin_maker)(void *ctx, const nn_spec *s, int i, int batch,
                                      int backward_data, float *params, float *grads,
                                      nn_layer_standin *out, char *why, int why_size);

#endif
