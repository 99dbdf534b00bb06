/* The handwritten kernels of the native backend, called through one dispatch
 * table that is filled once from cpuid (kernels/cpu.h; ALRS_ISA=scalar|avx2|
 * avx512 forces a path). Each kernel family has a plain-C reference beside its
 * AVX2 and AVX-512 versions, and registers the version for an ISA in its own
 * *_register() function (kernels/dispatch.c calls them all).
 *
 * Layouts are plain: activations NCHW, convolution weights OIHW, matrices
 * row-major. Kernels may use OpenMP threads of the calling team. */
#ifndef ALRS_KERNELS_KERNELS_H
#define ALRS_KERNELS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/cpu.h"

/* C[m×n] = alpha·op(A)·op(B) + beta·C, row-major. op(A) is m×k: A itself
 * (lda ≥ k) or, with transa, the transpose of a k×m A (lda ≥ m). Likewise
 * op(B) is k×n: B (ldb ≥ n) or, with transb, the transpose of n×k B. */
typedef void (*sgemm_fn)(int transa, int transb, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);

/* A 2-D convolution: n images of c×h×w, k filters of c×r×s, square stride and
 * padding, output k×oh×ow. */
typedef struct {
    int n, c, h, w, k, r, s, stride, pad, oh, ow;
} conv_shape;

/* dst = conv(src, weights) + bias (bias may be NULL), then ReLU if relu. */
typedef void (*conv_fwd_fn)(const conv_shape *sh, const float *src, const float *weights,
                            const float *bias, int relu, float *dst, float *scratch);
/* diff_weights = dL/dW, diff_bias = dL/db (may be NULL); both overwritten. */
typedef void (*conv_bwd_w_fn)(const conv_shape *sh, const float *src, const float *diff_dst,
                              float *diff_weights, float *diff_bias, float *scratch);
/* diff_src = dL/dsrc, overwritten. */
typedef void (*conv_bwd_d_fn)(const conv_shape *sh, const float *diff_dst, const float *weights,
                              float *diff_src, float *scratch);

/* Max pooling without padding: window k×k, stride; argmax keeps, per output,
 * the index of the chosen input within its image plane. */
typedef struct {
    int n, c, h, w, k, stride, oh, ow;
} pool_shape;
typedef void (*maxpool_fwd_fn)(const pool_shape *sh, const float *src, float *dst, int32_t *argmax);
/* The backward pass masks diff_dst by relu_bwd's rule (kept where mask > 0,
 * else +0) when mask is not NULL (the pool's output, a ReLU before the pool),
 * leaving diff_dst as it is: one pass over it, on the threads that route the
 * gradient, instead of a separate relu_bwd. */
typedef void (*maxpool_bwd_fn)(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                               const float *mask, float *diff_src);

/* A convolution whose output only a max-pool reads, fused with it; where an
 * ISA has them (else NULL) conv_pool_fits says which pairs of shapes they
 * take (the pool's n, c, h, w those of the convolution's output). Forward:
 * pooled and argmax = maxpool_fwd(conv_fwd(...)), the convolution's output
 * never stored. Backward-weights: conv_bwd_w with diff_dst =
 * maxpool_bwd(pooled_diff masked by relu_bwd's rule with mask, the pool's
 * output; NULL: unmasked), that diff_dst never stored. The forward gives
 * bit for bit what the same table's unfused kernels give, and so does the
 * backward-weights except where it sums on the pool's grid (AVX-512, few
 * filters: LeNet conv1; conv_internal.h's conv_pool_bwd_w_on_grid), the
 * same within rounding there; conv_scratch_floats covers them. */
typedef int (*conv_pool_fits_fn)(const conv_shape *sh, const pool_shape *ps);
typedef void (*conv_pool_fwd_fn)(const conv_shape *sh, const pool_shape *ps, const float *src,
                                 const float *weights, const float *bias, int relu,
                                 float *pooled, int32_t *argmax, float *scratch);
typedef void (*conv_pool_bwd_w_fn)(const conv_shape *sh, const pool_shape *ps, const float *src,
                                   const float *pooled_diff, const int32_t *argmax,
                                   const float *mask, float *diff_weights, float *diff_bias,
                                   float *scratch);

/* Batchnorm over n×c×hw (statistics per channel over n and hw). Training
 * writes the batch mean and biased variance; the backward pass takes them,
 * and with relu the post-ReLU dst to mask diff_dst. */
typedef void (*bn_fwd_train_fn)(int n, int c, int hw, const float *src, const float *gamma,
                                const float *beta, float eps, int relu, float *dst, float *mean,
                                float *var);
typedef void (*bn_fwd_infer_fn)(int n, int c, int hw, const float *src, const float *gamma,
                                const float *beta, const float *mean, const float *var, float eps,
                                int relu, float *dst);
typedef void (*bn_bwd_fn)(int n, int c, int hw, const float *src, const float *dst,
                          const float *diff_dst, const float *gamma, const float *mean,
                          const float *var, float eps, int relu, float *diff_src,
                          float *diff_gamma, float *diff_beta);

/* x[rows][cols][inner] += bias[cols], then ReLU if relu (in place). */
typedef void (*bias_relu_fn)(int rows, int cols, int inner, float *x, const float *bias, int relu);
/* diff[i] = dst[i] > 0 ? diff[i] : 0 */
typedef void (*relu_bwd_fn)(size_t n, const float *dst, float *diff);
/* diff_bias[col] = sum over rows and inner of diff[rows][cols][inner] */
typedef void (*bias_bwd_fn)(int rows, int cols, int inner, const float *diff, float *diff_bias);
/* Global average pooling over hw per (image, channel), and its backward. */
typedef void (*avgpool_fwd_fn)(int n, int c, int hw, const float *src, float *dst);
typedef void (*avgpool_bwd_fn)(int n, int c, int hw, const float *diff_dst, float *diff_src);
/* dst[i] = a[i] + b[i] */
typedef void (*add_fn)(size_t n, const float *a, const float *b, float *dst, int relu);
/* Softmax cross-entropy over n rows of `classes` logits: returns the summed
 * loss; grad (may be NULL) = (p - onehot)/scale; probs (may be NULL) = p. */
typedef double (*softmax_xent_fn)(const float *logits, const uint8_t *labels, int n, int classes,
                                  float scale, float *grad, float *probs, int *correct);
/* One fused Adam update over n parameters (see src/optim/optimizer.c). */
typedef void (*adam_fn)(size_t n, float *p, const float *g, float *m, float *v, float b1,
                        float b2, float step, float inv_bc2, float eps, float wd);
/* Mean and (biased) variance of n floats, accumulated in double. */
typedef void (*mean_var_fn)(const float *x, size_t n, double *mean, double *var);

typedef struct {
    alrs_isa isa;
    sgemm_fn sgemm;
    conv_fwd_fn conv_fwd;
    conv_bwd_w_fn conv_bwd_w;
    conv_bwd_d_fn conv_bwd_d;
    size_t (*conv_scratch_floats)(const conv_shape *sh); /* scratch the three conv kernels need */
    maxpool_fwd_fn maxpool_fwd;
    maxpool_bwd_fn maxpool_bwd;
    conv_pool_fits_fn conv_pool_fits; /* NULL: no fused kernels */
    conv_pool_fwd_fn conv_pool_fwd;
    conv_pool_bwd_w_fn conv_pool_bwd_w;
    avgpool_fwd_fn avgpool_fwd;
    avgpool_bwd_fn avgpool_bwd;
    bn_fwd_train_fn bn_fwd_train;
    bn_fwd_infer_fn bn_fwd_infer;
    bn_bwd_fn bn_bwd;
    bias_relu_fn bias_relu;
    relu_bwd_fn relu_bwd;
    bias_bwd_fn bias_bwd;
    add_fn add;
    softmax_xent_fn softmax_xent;
    adam_fn adam;
    mean_var_fn mean_var;
} kernel_table;

/* The table for cpu_isa(), filled on first use (thread-safe). */
const kernel_table *kernels(void);
/* A table for a given ISA (tests compare each against the scalar one). The
 * ISA must be supported by the CPU. */
void kernels_fill(kernel_table *t, alrs_isa isa);

/* Each family fills its entries for `isa` (falling back to a lesser ISA where
 * it has no dedicated version). */
void sgemm_register(kernel_table *t, alrs_isa isa);
void conv_register(kernel_table *t, alrs_isa isa);
void pool_register(kernel_table *t, alrs_isa isa);
void elementwise_register(kernel_table *t, alrs_isa isa);

#endif
