/* Private to the elementwise kernel family (kernels/elementwise*.c): the
 * plain-C reference versions, the AVX2 and AVX-512 versions, and the rule for
 * when a kernel splits its work over the calling OpenMP team.
 *
 * Every version of a kernel computes the same thing; the SIMD ones may differ
 * from the reference by rounding (FMA contraction, float partial sums flushed
 * into double every ELT_BLOCK elements, a polynomial exp in softmax_xent): the
 * tests hold them to 1e-5 normwise relative error. Results never depend on the
 * number of threads: threads split elements or channels, never a reduction. */
#ifndef ALRS_KERNELS_ELEMENTWISE_IMPL_H
#define ALRS_KERNELS_ELEMENTWISE_IMPL_H

#include "kernels/kernels.h"

/* Work (elements) below which a kernel stays on one thread. */
#define ELT_PARALLEL_MIN ((size_t)1 << 16)
/* Float partial sums cover at most this many elements per SIMD lane group
 * before they are added into a double accumulator. */
#define ELT_BLOCK 256

/* 1 when `work` elements are worth splitting over the calling team. */
int elt_parallel(size_t work);
/* The calling thread's share [*lo, *hi) of n elements, cut at multiples of 16
 * floats (one cache line) so that no two threads write the same line. */
void elt_thread_span(size_t n, size_t *lo, size_t *hi);

/* The references (also the ISA_SCALAR table), in elementwise_ref.c. */
void ref_avgpool_fwd(int n, int c, int hw, const float *src, float *dst);
void ref_avgpool_bwd(int n, int c, int hw, const float *diff_dst, float *diff_src);
void ref_bn_fwd_train(int n, int c, int hw, const float *src, const float *gamma,
                      const float *beta, float eps, int relu, float *dst, float *mean, float *var);
void ref_bn_fwd_infer(int n, int c, int hw, const float *src, const float *gamma,
                      const float *beta, const float *mean, const float *var, float eps, int relu,
                      float *dst);
void ref_bn_bwd(int n, int c, int hw, const float *src, const float *dst, const float *diff_dst,
                const float *gamma, const float *mean, const float *var, float eps, int relu,
                float *diff_src, float *diff_gamma, float *diff_beta);
void ref_bias_relu(int rows, int cols, int inner, float *x, const float *bias, int relu);
void ref_relu_bwd(size_t n, const float *dst, float *diff);
void ref_bias_bwd(int rows, int cols, int inner, const float *diff, float *diff_bias);
void ref_add(size_t n, const float *a, const float *b, float *dst, int relu);
double ref_softmax_xent(const float *logits, const uint8_t *labels, int n, int classes,
                        float scale, float *grad, float *probs, int *correct);
void ref_adam(size_t n, float *p, const float *g, float *m, float *v, float b1, float b2,
              float step, float inv_bc2, float eps, float wd);
void ref_mean_var(const float *x, size_t n, double *mean, double *var);

/* AVX2 + FMA, in elementwise_avx2.c. */
void avx2_bn_fwd_train(int n, int c, int hw, const float *src, const float *gamma,
                       const float *beta, float eps, int relu, float *dst, float *mean,
                       float *var);
void avx2_bn_fwd_infer(int n, int c, int hw, const float *src, const float *gamma,
                       const float *beta, const float *mean, const float *var, float eps,
                       int relu, float *dst);
void avx2_bn_bwd(int n, int c, int hw, const float *src, const float *dst, const float *diff_dst,
                 const float *gamma, const float *mean, const float *var, float eps, int relu,
                 float *diff_src, float *diff_gamma, float *diff_beta);
void avx2_bias_relu(int rows, int cols, int inner, float *x, const float *bias, int relu);
void avx2_relu_bwd(size_t n, const float *dst, float *diff);
void avx2_bias_bwd(int rows, int cols, int inner, const float *diff, float *diff_bias);
void avx2_add(size_t n, const float *a, const float *b, float *dst, int relu);
double avx2_softmax_xent(const float *logits, const uint8_t *labels, int n, int classes,
                         float scale, float *grad, float *probs, int *correct);
void avx2_adam(size_t n, float *p, const float *g, float *m, float *v, float b1, float b2,
               float step, float inv_bc2, float eps, float wd);
void avx2_mean_var(const float *x, size_t n, double *mean, double *var);

/* AVX-512F, in elementwise_avx512.c. */
void avx512_bn_fwd_train(int n, int c, int hw, const float *src, const float *gamma,
                         const float *beta, float eps, int relu, float *dst, float *mean,
                         float *var);
void avx512_bn_fwd_infer(int n, int c, int hw, const float *src, const float *gamma,
                         const float *beta, const float *mean, const float *var, float eps,
                         int relu, float *dst);
void avx512_bn_bwd(int n, int c, int hw, const float *src, const float *dst,
                   const float *diff_dst, const float *gamma, const float *mean, const float *var,
                   float eps, int relu, float *diff_src, float *diff_gamma, float *diff_beta);
void avx512_bias_relu(int rows, int cols, int inner, float *x, const float *bias, int relu);
void avx512_relu_bwd(size_t n, const float *dst, float *diff);
void avx512_bias_bwd(int rows, int cols, int inner, const float *diff, float *diff_bias);
void avx512_add(size_t n, const float *a, const float *b, float *dst, int relu);
double avx512_softmax_xent(const float *logits, const uint8_t *labels, int n, int classes,
                           float scale, float *grad, float *probs, int *correct);
void avx512_adam(size_t n, float *p, const float *g, float *m, float *v, float b1, float b2,
                 float step, float inv_bc2, float eps, float wd);
void avx512_mean_var(const float *x, size_t n, double *mean, double *var);

#endif
