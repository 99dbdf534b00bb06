/* An in-register transpose of an 8×8 block of floats for the AVX2 kernels
 * (the backward convolutions' transposed gradients, SGEMM's packing of a
 * transposed B): r[i][j] becomes
 * r[j][i]. Data movement only: every caller's numbers stay exact. */
#ifndef ALRS_KERNELS_TRANSPOSE8_AVX2_H
#define ALRS_KERNELS_TRANSPOSE8_AVX2_H

#include <immintrin.h>

static inline __attribute__((always_inline, target("avx2"))) void transpose8_avx2(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4g + q], 128-bit half h: column 4h + q of rows 4g..4g+3 */
    for (int g = 0; g < 2; g++) {
        u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int q = 0; q < 4; q++) {
        r[q] = _mm256_permute2f128_ps(u[q], u[4 + q], 0x20);
        r[4 + q] = _mm256_permute2f128_ps(u[q], u[4 + q], 0x31);
    }
}

#endif
