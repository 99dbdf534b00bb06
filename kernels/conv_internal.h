/* Private to the convolution kernels: the plain-C reference, the im2col +
 * GEMM path shared by every SIMD ISA, and the direct kernels per ISA. */
#ifndef ALRS_KERNELS_CONV_INTERNAL_H
#define ALRS_KERNELS_CONV_INTERNAL_H

#include "kernels/kernels.h"

/* Plain-C reference: direct loops, one image at a time (conv_ref.c). */
void conv_fwd_ref(const conv_shape *sh, const float *src, const float *weights,
                  const float *bias, int relu, float *dst, float *scratch);
void conv_bwd_w_ref(const conv_shape *sh, const float *src, const float *diff_dst,
                    float *diff_weights, float *diff_bias, float *scratch);
void conv_bwd_d_ref(const conv_shape *sh, const float *diff_dst, const float *weights,
                    float *diff_src, float *scratch);

/* im2col + the given sgemm (the calling ISA's), OpenMP over images (conv_gemm.c). */
void conv_fwd_gemm(sgemm_fn gemm, const conv_shape *sh, const float *src, const float *weights,
                   const float *bias, int relu, float *dst, float *scratch);
void conv_bwd_w_gemm(sgemm_fn gemm, const conv_shape *sh, const float *src,
                     const float *diff_dst, float *diff_weights, float *diff_bias,
                     float *scratch);
void conv_bwd_d_gemm(sgemm_fn gemm, const conv_shape *sh, const float *diff_dst,
                     const float *weights, float *diff_src, float *scratch);
size_t conv_gemm_scratch_floats(const conv_shape *sh);

/* Direct stride-1 convolution over shifted planes for few input channels
 * (LeNet conv1-2, 3-channel inputs): conv_avx512.c. conv_direct_fits says
 * whether a shape suits it forward and backward-weights,
 * conv_bwd_d_direct_fits whether its backward-data suits it (few output
 * channels, square filter). */
/* The image with pad zeros around each channel plane: planes of h + 2 pad rows
 * of `row` floats (at least w + 2 pad), after zeroing the first `floats`
 * floats of out (the planes and any slack a kernel reads past them). */
void conv_pad_image(const conv_shape *sh, const float *img, int row, size_t floats, float *out);

int conv_direct_fits(const conv_shape *sh);
int conv_bwd_d_direct_fits(const conv_shape *sh);
size_t conv_direct_scratch_floats(const conv_shape *sh);
void conv_fwd_direct_avx512(const conv_shape *sh, const float *src, const float *weights,
                            const float *bias, int relu, float *dst, float *scratch);
void conv_bwd_w_direct_avx512(const conv_shape *sh, const float *src, const float *diff_dst,
                              float *diff_weights, float *diff_bias, float *scratch);
void conv_bwd_d_direct_avx512(const conv_shape *sh, const float *diff_dst, const float *weights,
                              float *diff_src, float *scratch);

/* The direct forward with AVX2 where conv_direct_fits (conv_direct_avx2.c);
 * its scratch is 0 for other shapes. */
size_t conv_direct_avx2_scratch_floats(const conv_shape *sh);
void conv_fwd_direct_avx2(const conv_shape *sh, const float *src, const float *weights,
                          const float *bias, int relu, float *dst, float *scratch);

/* The direct kernels fused with a 2×2 max-pool of the output (kernels.h's
 * conv_pool_fwd and conv_pool_bwd_w): conv_avx512.c. */
int conv_pool_direct_fits(const conv_shape *sh, const pool_shape *ps);
void conv_pool_fwd_direct_avx512(const conv_shape *sh, const pool_shape *ps, const float *src,
                                 const float *weights, const float *bias, int relu,
                                 float *pooled, int32_t *argmax, float *scratch);
/* The forward pass fused with the pool for 16 filters, in the lanes
 * (conv_fwd16_avx512.c); conv_pool_fwd_direct_avx512 runs it where
 * conv_fwd16_suits. */
int conv_fwd16_suits(const conv_shape *sh);
size_t conv_fwd16_scratch_floats(const conv_shape *sh);
void conv_pool_fwd16_avx512(const conv_shape *sh, const pool_shape *ps, const float *src,
                            const float *weights, const float *bias, int relu, float *pooled,
                            int32_t *argmax, float *scratch);
/* The same for rows of 17 to 32 output positions, a pooled row a register
 * tile (conv_pool_rows_avx512.c); run where conv_pool_rows_suits and the
 * 16-lane one does not. */
int conv_pool_rows_suits(const conv_shape *sh);
size_t conv_pool_rows_scratch_floats(const conv_shape *sh);
void conv_pool_rows_avx512(const conv_shape *sh, const pool_shape *ps, const float *src,
                           const float *weights, const float *bias, int relu, float *pooled,
                           int32_t *argmax, float *scratch);
/* Backward-data with 16 filters, 8 a vector for each of two channels
 * (conv_bwd_d16_avx512.c): LeNet conv2; run wherever it suits. */
int conv_bwd_d16_suits(const conv_shape *sh);
size_t conv_bwd_d16_scratch_floats(const conv_shape *sh);
void conv_bwd_d16_avx512(const conv_shape *sh, const float *diff_dst, const float *weights,
                         float *diff_src, float *scratch);
/* Backward-weights fused with the pool on the pool's grid, the gradient
 * split by the argmax's place in the window (conv_pool_bww_avx512.c): run
 * by conv_pool_bwd_w_direct_avx512 where it suits and the 16-filter path
 * does not (LeNet conv1), as conv_pool_bwd_w_on_grid says. Its sums run
 * in another order than the unfused kernels': the same within rounding,
 * not bit for bit (the tests ask this predicate which to expect). */
int conv_pool_bwd_w_on_grid(const conv_shape *sh);
int conv_pool_bww_suits(const conv_shape *sh);
size_t conv_pool_bww_scratch_floats(const conv_shape *sh);
void conv_pool_bww_avx512(const conv_shape *sh, const float *src, const float *pooled_diff,
                          const int32_t *argmax, const float *mask, float *diff_weights,
                          float *diff_bias, float *scratch);
void conv_pool_bwd_w_direct_avx512(const conv_shape *sh, const pool_shape *ps, const float *src,
                                   const float *pooled_diff, const int32_t *argmax,
                                   const float *mask, float *diff_weights, float *diff_bias,
                                   float *scratch);

/* AVX2 backward kernels for few input channels (LeNet conv1-2):
 * backward-weights (conv_bwd_w_avx2.c: 16 filters in the lanes, else
 * shifted planes) where conv_bwd_w_direct_avx2_fits, backward-data with 16
 * filters, 8 in the lanes (conv_bwd_d16_avx2.c) where
 * conv_bwd_d16_avx2_suits. */
int conv_bwd_w_direct_avx2_fits(const conv_shape *sh);
size_t conv_bwd_w_direct_avx2_scratch_floats(const conv_shape *sh);
void conv_bwd_w_direct_avx2(const conv_shape *sh, const float *src, const float *diff_dst,
                     float *diff_weights, float *diff_bias, float *scratch);
int conv_bwd_d16_avx2_suits(const conv_shape *sh);
size_t conv_bwd_d16_avx2_scratch_floats(const conv_shape *sh);
void conv_bwd_d16_avx2(const conv_shape *sh, const float *diff_dst, const float *weights,
                       float *diff_src, float *scratch);

#endif
