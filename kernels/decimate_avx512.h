/* An image as rows of its even and its odd columns, for the AVX-512 kernels
 * of a convolution fused with the 2×2 max-pool of its output (the forward
 * pass, conv_pool_rows_avx512.c; conv1's backward-weights on the pool's
 * grid, conv_pool_bww_avx512.c): with the columns split by parity, a tap's
 * inputs for the even or the odd outputs of a row are one plain load.
 * Data movement only, so every caller's numbers stay exact. */
#ifndef ALRS_KERNELS_DECIMATE_AVX512_H
#define ALRS_KERNELS_DECIMATE_AVX512_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/conv_internal.h"

#define DECIMATED_ROW 32 /* floats a decimated row: 16 lanes and the taps' offsets past them */

/* Which raw column each lane of a parity's row reads (2j + par - pad) and
 * the lanes where that is inside the image. */
typedef struct {
    int32_t col[2][16];
    __mmask16 inside[2];
} parity_cols;

static inline void parity_cols_init(const conv_shape *sh, parity_cols *pc) {
    for (int par = 0; par < 2; par++) {
        pc->inside[par] = 0;
        for (int j = 0; j < 16; j++) {
            int col = 2 * j + par - sh->pad, in = col >= 0 && col < sh->w;
            pc->col[par][j] = in ? col : 0;
            if (in) pc->inside[par] |= (__mmask16)(1u << j);
        }
    }
}

/* One image decimated: c × 2 parities × (h + 2·pad) rows. */
static inline size_t decimated_floats(const conv_shape *sh) {
    return (size_t)sh->c * 2 * (sh->h + 2 * sh->pad) * DECIMATED_ROW;
}

/* d[ci][par][pad + iy][j] = img[ci][iy][2j + par - pad]; the padding rows
 * and lanes 16-31 stay zero from a memset of d before the first image. */
static inline __attribute__((target("avx512f"))) void
decimate_image(const conv_shape *sh, const parity_cols *pc, const float *img, float *d) {
    int hp = sh->h + 2 * sh->pad;
    __mmask16 lo = sh->w >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << sh->w) - 1);
    __mmask16 hi = sh->w > 16 ? (__mmask16)((1u << (sh->w - 16)) - 1) : 0;
    for (int ci = 0; ci < sh->c; ci++)
        for (int iy = 0; iy < sh->h; iy++) {
            const float *row = img + ((size_t)ci * sh->h + iy) * sh->w;
            __m512 a = _mm512_maskz_loadu_ps(lo, row), b = _mm512_maskz_loadu_ps(hi, row + 16);
            for (int par = 0; par < 2; par++) {
                __m512i idx = _mm512_loadu_si512(pc->col[par]);
                _mm512_storeu_ps(d + (((size_t)ci * 2 + par) * hp + sh->pad + iy) * DECIMATED_ROW,
                                 _mm512_maskz_permutex2var_ps(pc->inside[par], a, idx, b));
            }
        }
}

#endif
