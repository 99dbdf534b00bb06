/* An in-register transpose of a 16×16 block of floats for the AVX-512
 * kernels (the GEMM's packing, the fused convolution's pooled output):
 * r[i][j] becomes r[j][i]. Two 4×4 stages within the 128-bit lanes, two
 * across them; data movement only, so every caller's numbers stay exact. */
#ifndef ALRS_KERNELS_TRANSPOSE16_AVX512_H
#define ALRS_KERNELS_TRANSPOSE16_AVX512_H

#include <immintrin.h>

static inline __attribute__((always_inline, target("avx512f"))) void
transpose16_avx512(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* r[4g + q], 128-bit lane L: column 4L + q of rows 4g..4g+3 */
    for (int g = 0; g < 4; g++) {
        r[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int q = 0; q < 4; q++) {
        __m512 lo02 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x88);  /* lanes 0, 2 of groups 0, 1 */
        __m512 lo13 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xDD);  /* lanes 1, 3 */
        __m512 hi02 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x88);
        __m512 hi13 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xDD);
        t[q] = _mm512_shuffle_f32x4(lo02, hi02, 0x88);
        t[8 + q] = _mm512_shuffle_f32x4(lo02, hi02, 0xDD);
        t[4 + q] = _mm512_shuffle_f32x4(lo13, hi13, 0x88);
        t[12 + q] = _mm512_shuffle_f32x4(lo13, hi13, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

#endif
