/* In-register transposes for the AVX2 kernels: an 8×8 block (the backward
 * convolutions' transposed gradients, SGEMM's packing of a transposed B),
 * and 16 rows of p floats built from it. Data movement only: every
 * caller's numbers stay exact. */
#ifndef ALRS_KERNELS_TRANSPOSE8_AVX2_H
#define ALRS_KERNELS_TRANSPOSE8_AVX2_H

#include <immintrin.h>
#include <stddef.h>

/* r[i][j] becomes r[j][i]. */
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

/* ddt[q][k] = dd[k][q] for 16 rows of p floats (a 16-filter gradient of p
 * positions): 8×8 blocks, the last p % 8 positions one by one. */
static inline __attribute__((always_inline, target("avx2"))) void
transpose16xp_avx2(int p, const float *dd, float *ddt) {
    int full = p & ~7;
    for (int q = 0; q < full; q += 8)
        for (int kb = 0; kb < 16; kb += 8) {
            __m256 r[8];
            for (int k = 0; k < 8; k++) r[k] = _mm256_loadu_ps(dd + (size_t)(kb + k) * p + q);
            transpose8_avx2(r);
            for (int j = 0; j < 8; j++) _mm256_storeu_ps(ddt + (size_t)(q + j) * 16 + kb, r[j]);
        }
    for (int q = full; q < p; q++)
        for (int k = 0; k < 16; k++) ddt[(size_t)q * 16 + k] = dd[(size_t)k * p + q];
}

#endif
