/* What the auto backend (nn/auto_net.c) needs of the native one: per
 * convolution and fully connected layer, a second implementation through
 * oneDNN primitives on the same plain buffers (nn/dnnl_layer.h), a way to
 * time one layer's training work either way, and a switch between the two.
 *
 * The choice covers a layer's training passes (forward, backward-weights,
 * backward-data); evaluation (inference chunks of any size) always runs the
 * native kernels. */
#ifndef ALRS_NN_NATIVE_NET_H
#define ALRS_NN_NATIVE_NET_H

#include "nn/net.h"

/* 1 if layer i can run either way (a convolution or a fully connected layer). */
int native_net_layer_switchable(const nn_net *net, int i);

/* Builds layer i's oneDNN version at the training batch. 0, or -1 when oneDNN
 * has no optimized kernel for it on plain layouts (`why` says which pass). */
int native_net_prepare_dnnl(nn_net *net, int i, char *why, int why_size);

/* Runs layer i's training passes through oneDNN (1) or the native kernels
 * (0). oneDNN only after native_net_prepare_dnnl succeeded for the layer. */
void native_net_use_dnnl(nn_net *net, int i, int use_dnnl);
int native_net_uses_dnnl(const nn_net *net, int i);

/* Seconds for one pass of layer i's training work (forward, backward-weights
 * and, unless it reads the images, backward-data) either way, on the
 * activations and gradients the last training step left (so run one first);
 * `images` are that step's images. Leaves the net ready for the next step. */
double native_net_time_layer(nn_net *net, int i, int use_dnnl, const float *images);

/* One pass of one layer, for alrs bench layers. */
typedef enum {
    NN_PASS_FORWARD,     /* the training forward pass at the training batch */
    NN_PASS_BWD_WEIGHTS, /* weight and bias gradients (conv, fc) */
    NN_PASS_BWD_DATA,    /* the source's gradient (every layer but one reading the images) */
    NN_PASS_INFER,       /* the inference forward pass at the evaluation batch (native) */
} nn_pass;

/* Seconds for one run of a pass of layer i, either way (oneDNN for the
 * training passes of a prepared conv or fc layer only), on the buffers the
 * last training step (NN_PASS_INFER: the last evaluation, of at least the
 * evaluation batch) left; `images` are that step's or evaluation's images.
 * Negative when the layer has no such pass. A training pass leaves the
 * gradients of this step unusable: run a whole step before the next update. */
double native_net_time_pass(nn_net *net, int i, nn_pass pass, int use_dnnl, const float *images);

/* What the auto backend measured for layer i (milliseconds; negative: not
 * measured) and a note ("forced", the reason oneDNN is unavailable), for
 * nn_net_describe_impl. */
void native_net_note(nn_net *net, int i, double ms_native, double ms_dnnl, const char *note);

#endif
