/* Private to the max-pooling kernels. */
#ifndef ALRS_KERNELS_POOL_INTERNAL_H
#define ALRS_KERNELS_POOL_INTERNAL_H

#include "kernels/kernels.h"

/* Plain-C reference, any window and stride (pool_ref.c). */
void maxpool_fwd_ref(const pool_shape *sh, const float *src, float *dst, int32_t *argmax);
void maxpool_bwd_ref(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                     float *diff_src);

/* AVX-512 for 2×2 stride 2; other windows fall back to the reference (pool_avx512.c). */
void maxpool_fwd_avx512(const pool_shape *sh, const float *src, float *dst, int32_t *argmax);
void maxpool_bwd_avx512(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                        float *diff_src);

#endif
