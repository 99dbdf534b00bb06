/* One convolution or fully connected layer of a spec run by oneDNN primitives
 * directly on plain buffers: activations NCHW (a fully connected layer sees
 * its source as an N×(C·H·W) matrix, the same bytes), weights OIHW or O×I as
 * in the flat parameter buffer, gradients likewise. The native backend
 * (nn/native/native_net.c) runs a layer through one of these, behind a
 * backend-neutral stand-in (nn/dnnl/dnnl_standin.h), when the auto backend
 * measured it faster than the handwritten kernels; no reorders, no layout
 * bridges: the primitives read and write the native net's own buffers.
 *
 * Three training-mode primitives at a fixed batch: forward (ReLU fused as a
 * post-op when the layer has one), backward-weights (with the bias), and,
 * when asked for, backward-data. Buffers are bound per call (the source of
 * the first layer is the caller's images). */
#ifndef ALRS_NN_DNNL_DNNL_LAYER_H
#define ALRS_NN_DNNL_DNNL_LAYER_H

#include <oneapi/dnnl/dnnl.h>

#include "nn/spec.h"

typedef struct dnnl_layer dnnl_layer;

/* Layer i of `s` at `batch` images, on `engine`. Weights and their gradients
 * live at params + w_off (and b_off), grads likewise. NULL when oneDNN has
 * no optimized (non-reference) kernel for one of the passes on plain layouts,
 * or on any failure; `why` then says which (a short phrase). */
dnnl_layer *dnnl_layer_create(dnnl_engine_t engine, const nn_spec *s, int i, int batch,
                              int backward_data, float *params, float *grads, char *why,
                              int why_size);
void dnnl_layer_free(dnnl_layer *L);

/* dst = layer(src) (with the layer's ReLU), batch images. */
void dnnl_layer_forward(dnnl_layer *L, dnnl_stream_t stream, const float *src, float *dst);
/* The weight and bias gradients (overwritten) from the source and the
 * gradient of the (post-ReLU) output, already masked by the ReLU. */
void dnnl_layer_backward_weights(dnnl_layer *L, dnnl_stream_t stream, const float *src,
                                 const float *diff_dst);
/* diff_src (overwritten) from the output gradient. Only for a layer created
 * with backward_data. */
void dnnl_layer_backward_data(dnnl_layer *L, dnnl_stream_t stream, const float *diff_dst,
                              float *diff_src);

/* The oneDNN implementations: "fwd/bwd-weights/bwd-data" (bwd-data "-" when absent). */
const char *dnnl_layer_impl(const dnnl_layer *L);

/* A primitive attribute with a fused ReLU post-op, or NULL when relu is 0
 * (shared with the dnnl backend; destroy with dnnl_primitive_attr_destroy). */
dnnl_primitive_attr_t dnnl_attr_relu(int relu);

#endif
