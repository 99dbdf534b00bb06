/* A network as a description: a list of layers with their shapes and their
 * places in the flat parameter buffer. Backends compile a spec into something
 * that runs (nn/dnnl/dnnl_net.c); the spec itself does no arithmetic.
 *
 * Layer i produces tensor i; `src` (and `src2` for a residual add) name the
 * producing layers, -1 being the input images. Shapes are per image (c×h×w);
 * a fully connected layer flattens its input in NCHW order, as PyTorch does. */
#ifndef ALRS_NN_SPEC_H
#define ALRS_NN_SPEC_H

#include <stddef.h>

#include "core/rng.h"

#define NN_MAX_LAYERS 96
#define NN_MAX_HIDDEN 8

typedef enum {
    NN_CONV,           /* convolution, optional bias; weights OIHW */
    NN_FC,             /* fully connected; weights O×(C·H·W) */
    NN_MAXPOOL,        /* max pooling, no padding */
    NN_AVGPOOL_GLOBAL, /* average over all of H×W */
    NN_BATCHNORM,      /* per-channel; gamma, beta; running mean/var in the state buffer */
    NN_ADD             /* src + src2 (residual connection) */
} nn_op;

typedef struct {
    nn_op op;
    int src, src2;
    int relu; /* ReLU applied to this layer's output (fused by backends) */
    int out_c, kernel, stride, pad, has_bias;
    int c, h, w;        /* output shape per image */
    size_t w_off, w_len; /* weights (conv, fc) or gamma (batchnorm) */
    size_t b_off, b_len; /* bias or beta; b_len 0 when absent */
    size_t stat_off;     /* batchnorm: running mean at stat_off, running var after it */
} nn_layer;

typedef struct {
    char model[16];
    int in_c, in_h, in_w, classes;
    int n_layers;
    nn_layer layers[NN_MAX_LAYERS];
    size_t n_params; /* floats in the parameter (and gradient) buffer */
    size_t n_state;  /* floats of non-trained state (batchnorm running statistics) */
} nn_spec;

/* Builds "mlp", "lenet5" or "resnet18" for c×h×w inputs and `classes` outputs.
 * `hidden` (n_hidden sizes) applies to mlp only; n_hidden 0 takes 256,128,64.
 * -1 with a message for an unknown model or a shape the model cannot take. */
int nn_build(nn_spec *s, const char *model, int in_c, int in_h, int in_w, int classes,
             const int *hidden, int n_hidden);

/* Layer-by-layer construction (used by nn_build and by tests); each returns
 * the new layer's index or -1 with a message for an impossible shape. */
void nn_begin(nn_spec *s, const char *model, int in_c, int in_h, int in_w, int classes);
int nn_conv(nn_spec *s, int src, int out_c, int kernel, int stride, int pad, int has_bias, int relu);
int nn_fc(nn_spec *s, int src, int out, int relu);
int nn_maxpool(nn_spec *s, int src, int kernel, int stride);
int nn_avgpool_global(nn_spec *s, int src);
int nn_batchnorm(nn_spec *s, int src, int relu);
int nn_add(nn_spec *s, int src, int src2, int relu);

/* The shape of tensor idx per image (-1: the input images), and its floats
 * per image (c·h·w). Every backend sizes its buffers and kernels from these. */
void nn_tensor_shape(const nn_spec *s, int idx, int *c, int *h, int *w);
size_t nn_tensor_floats(const nn_spec *s, int idx);

/* PyTorch's default initialisation: conv and linear weights and biases
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)); batchnorm gamma 1, beta 0, running
 * mean 0, running var 1. */
void nn_init_params(const nn_spec *s, float *params, float *state, rng_stream *rng);

/* Multiply-adds ×2 per image: forward, and a training step (forward, backward
 * data except for the first layer, backward weights). Elementwise work is not counted. */
double nn_flops_forward(const nn_spec *s);
double nn_flops_train(const nn_spec *s);
/* Layer i's flops per image in one pass (forward; backward-weights and
 * backward-data of a conv or fc layer do as many); 0 for the others. */
double nn_layer_flops(const nn_spec *s, int i);

/* "conv", "fc", "maxpool", "avgpool", "batchnorm" or "add". */
const char *nn_op_name(nn_op op);

/* Bytes a child run of this network takes, about (it is checked before
 * anything is allocated, so that a run that cannot fit says so instead of
 * dying on a failed allocation): the parameter buffer six times over
 * (parameters, gradients, the best snapshot, the optimizer's two moments, a
 * blocked copy), every layer's output and gradient at the training batch and
 * its output again at the inference chunk, and the largest convolution's
 * unrolled input. An upper estimate within a few tens of percent. */
double nn_memory_estimate(const nn_spec *s, int train_batch, int eval_batch);

/* One line per layer, for --verbose and the run metadata. */
void nn_describe(const nn_spec *s, char *buf, size_t size);

#endif
