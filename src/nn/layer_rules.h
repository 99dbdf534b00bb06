/* What every backend's plan does the same way, whatever runs it: batchnorm's
 * constants and its running statistics (PyTorch's), how many gradient
 * contributions a tensor receives, and where a fused ReLU's backward runs.
 * The dnnl backend (nn/dnnl/dnnl_net.c, nn/dnnl/dnnl_build.c) and the
 * native one (nn/native/native_net.c) both ask here, so that the two cannot
 * drift apart and the test comparing them keeps comparing the same
 * arithmetic. */
#ifndef ALRS_NN_LAYER_RULES_H
#define ALRS_NN_LAYER_RULES_H

#include "nn/spec.h"

/* torch.nn.BatchNorm2d's defaults: epsilon inside the square root of the
 * variance, and the weight of a batch in the running statistics. */
#define NN_BN_EPSILON 1e-5f
#define NN_BN_MOMENTUM 0.1f

/* After a training-mode forward of batchnorm layer l over `batch` images:
 * moves its running mean and variance (in `state` at l->stat_off) towards
 * the batch's. `batch_var` is the biased variance the forward normalised
 * with; the running variance takes the unbiased one, as PyTorch does. */
void nn_bn_update_running_stats(const nn_layer *l, int batch, const float *batch_mean,
                                const float *batch_var, float *state);

/* How many layer inputs read tensor t (a layer's output): each sends one
 * gradient contribution back, so an add of t with itself counts twice. */
int nn_tensor_reads(const nn_spec *s, int t);

/* Where a ReLU fused into a convolution, fully connected layer or residual
 * add has its backward applied (a batchnorm's ReLU is part of its own
 * backward). Normally on the layer's own output gradient; but when max-pools
 * are the only readers of that output, on each pool's output gradient
 * instead, before the pool routes it back: 4× fewer elements for a 2×2 pool,
 * and exact, not an approximation. A pool sends each window's gradient to the
 * window's maximum m of relu(x), and the ReLU zeroes it iff m == 0; the
 * pool's output is m itself, so masking by the pool's output gives the same
 * numbers, one pool or several (each masks only its own contributions, and
 * the mask of a sum is the sum of the masked terms). Any other reader would
 * receive the unmasked gradient, so one that is not a max-pool rules it out.
 *
 * 1 if layer i's ReLU backward runs on its own output gradient. */
int nn_relu_bwd_at_output(const nn_spec *s, int i);
/* 1 if layer i is a max-pool that applies its source's ReLU backward to its
 * own output gradient (using its own output) before routing it back. */
int nn_relu_bwd_at_pool(const nn_spec *s, int i);

#endif
