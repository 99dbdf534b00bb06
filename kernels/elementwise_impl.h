/* Private to the elementwise kernel family (kernels/elementwise*.c): the
 * plain-C reference versions, the registration of the SIMD versions, and the
 * rule for when a kernel splits its work over the calling OpenMP team.
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
/* A kernel's loop over elements [lo, hi) of its arrays; args: its arrays
 * and constants. */
typedef void (*elt_span_fn)(size_t lo, size_t hi, const void *args);
/* Runs span over [0, n): whole on the calling thread, or split over the
 * calling team when elt_parallel(n · cost), each thread's share cut at
 * multiples of 16 floats (one cache line) so that no two threads write the
 * same line. cost: work per element in units of one add's (1 for a
 * streaming kernel; more where each element costs a square root or a
 * division, so that a smaller array already pays for the fork). */
void elt_for_spans(size_t n, size_t cost, elt_span_fn span, const void *args);

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

/* The SIMD versions: kernels/elementwise_simd.c compiled for AVX2 + FMA
 * (elementwise_avx2.c) and for AVX-512F (elementwise_avx512.c). Each fills the
 * table's entries that it has a version of. */
void elementwise_register_avx2(kernel_table *t);
void elementwise_register_avx512(kernel_table *t);

#endif
