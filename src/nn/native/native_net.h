/* The native backend (native_net.c: the handwritten kernels of kernels/ on
 * plain NCHW tensors), and what the auto backend (nn/choice/auto_net.c)
 * needs of it: per convolution and fully connected layer, a place for a
 * second implementation of its training passes on the same plain buffers (a
 * stand-in, nn/layer_standin.h: the chooser attaches the layer's oneDNN
 * version there, so that this backend never creates oneDNN objects itself),
 * a way to time one layer's training work either way, and a switch between
 * the two.
 *
 * The choice covers a layer's training passes (forward, backward-weights,
 * backward-data); evaluation (inference chunks of any size) always runs the
 * native kernels. */
#ifndef ALRS_NN_NATIVE_NATIVE_NET_H
#define ALRS_NN_NATIVE_NATIVE_NET_H

#include "nn/layer_standin.h"
#include "nn/net.h"

/* The native net (nn_net_create calls it for "native"); NULL with a message
 * on failure. */
nn_net *nn_net_create_native(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                             float *state);

/* 1 if layer i can run either way (a convolution or a fully connected layer). */
int native_net_layer_switchable(const nn_net *net, int i);

/* Gives switchable layer i a stand-in: `make` builds it on this net's
 * parameter and gradient buffers at its training batch (with backward-data
 * unless the layer reads the images); the net owns it from then on and
 * frees it with itself. 0 (also when the layer has one already), or -1 with
 * `why` (the maker's, or: not a convolution or fully connected layer). */
int native_net_attach_standin(nn_net *net, int i, nn_layer_standin_maker make, void *ctx,
                              char *why, int why_size);

/* Runs layer i's training passes through its stand-in (1) or the native
 * kernels (0). The stand-in only after native_net_attach_standin. */
void native_net_use_standin(nn_net *net, int i, int use_standin);

/* Seconds for one pass of layer i's training work (forward, backward-weights
 * and, unless it reads the images, backward-data) either way, on the
 * activations and gradients the last training step left (so run one first);
 * `images` are that step's images. Leaves the net ready for the next step. */
double native_net_time_layer(nn_net *net, int i, int use_standin, const float *images);

/* One pass of one layer, for alrs bench layers. */
typedef enum {
    NN_PASS_FORWARD,     /* the training forward pass at the training batch */
    NN_PASS_BWD_WEIGHTS, /* weight and bias gradients (conv, fc) */
    NN_PASS_BWD_DATA,    /* the source's gradient (every layer but one reading the images) */
    NN_PASS_INFER,       /* the inference forward pass at the evaluation batch (native) */
} nn_pass;

/* Seconds for one run of a pass of layer i, either way (the stand-in for the
 * training passes of a conv or fc layer that has one only), on the buffers
 * the last training step (NN_PASS_INFER: the last evaluation, of at least
 * the evaluation batch) left; `images` are that step's or evaluation's
 * images. Negative when the layer has no such pass, or a max-pool's pass
 * runs inside the convolution before it (fused: that layer's time has it).
 * A training pass leaves the gradients of this step unusable: run a whole
 * step before the next update. */
double native_net_time_pass(nn_net *net, int i, nn_pass pass, int use_standin,
                            const float *images);
/* 1 if that pass of layer i, a convolution, runs the max-pool after it too
 * (on the native kernels; bwd_weights: the pool's backward). */
int native_net_pass_has_pool(const nn_net *net, int i, nn_pass pass);

/* What the auto backend measured for layer i (milliseconds, natively and on
 * the stand-in; negative: not measured) and a note ("forced", the reason the
 * layer has no stand-in), for nn_net_describe_impl. */
void native_net_note(nn_net *net, int i, double ms_native, double ms_standin, const char *note);

#endif
