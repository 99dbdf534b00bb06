/* Private to the max-pooling kernels. */
#ifndef ALRS_KERNELS_POOL_INTERNAL_H
#define ALRS_KERNELS_POOL_INTERNAL_H

#include "kernels/kernels.h"

/* Plain-C reference, any window and stride (pool_ref.c). */
void maxpool_fwd_ref(const pool_shape *sh, const float *src, float *dst, int32_t *argmax);
void maxpool_bwd_ref(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                     const float *mask, float *diff_src);

/* AVX2 for 2×2 stride 2; other windows fall back to the reference (pool_avx2.c). */
void maxpool_fwd_avx2(const pool_shape *sh, const float *src, float *dst, int32_t *argmax);
void maxpool_bwd_avx2(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                      const float *mask, float *diff_src);

/* AVX-512 for 2×2 stride 2; other windows fall back to the reference (pool_avx512.c). */
void maxpool_fwd_avx512(const pool_shape *sh, const float *src, float *dst, int32_t *argmax);
void maxpool_bwd_avx512(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                        const float *mask, float *diff_src);

/* One plane (2×2 stride 2 only), no threads: what the batch versions run per
 * plane. The backward one masks diff_dst by relu_bwd's rule (kept where
 * mask > 0, else 0) when mask is not NULL: a ReLU before the pool. */
void maxpool_fwd_plane_avx512(const pool_shape *sh, const float *in, float *out, int32_t *argmax);
void maxpool_bwd_plane_avx512(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                              const float *mask, float *diff_src);
int maxpool_plane_avx512_fits(const pool_shape *sh);

#endif
