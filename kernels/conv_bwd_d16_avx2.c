/* Backward-data of a convolution with 16 filters on AVX2, the filters in the
 * lanes (LeNet conv2: 16 filters of 6×5×5 over 14², gradient 10²):
 *     diff_src[ci][iy][ix] = sum over (y, x, k) of w[k][ci][y][x] ·
 *                            diff_dst[k][iy + pad - y][ix + pad - x]
 * the AVX-512 kernel's idea (conv_bwd_d16_avx512.c) with 8 lanes: a vector
 * holds 8 filters' terms of one channel, the two blocks of 8 (kh = 0, 1)
 * adding into the same accumulators. A tile is one row iy of one channel
 * and half of its padded columns ix + pad = ox + x (at most 8 accumulators:
 * the s weight vectors of a filter row y and block kh stay in registers
 * beside them, 14 of 16 ymm for 5×5), and the transposed gradient row oy =
 * iy + pad - y streams through, each loaded vector feeding the FMAs of the
 * columns of the half it reaches. Only taps that meet the gradient are
 * computed (the nominal MACs, every lane used) and nothing is scattered:
 * no col2im. Each half's accumulators are summed over their lanes by a
 * horizontal-add tree into one vector of column sums.
 *
 * The sums run in a fixed order (per lane over (y, kh, ox, x), then the
 * lanes as a tree): deterministic, but not the GEMM path's order. */
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/transpose8_avx2.h"

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))
#define COLS 16 /* padded columns a row: ow + s - 1 = w + 2·pad, two halves of ≤ 8 */
#define MIN_OW 5
#define MAX_OW 12

static size_t round8(size_t x) { return (x + 7) & ~(size_t)7; }

int conv_bwd_d16_avx2_suits(const conv_shape *sh) {
    return sh->k == 16 && sh->stride == 1 && (sh->s == 3 || sh->s == 5) && sh->pad < sh->s &&
           sh->pad < sh->r && sh->ow >= MIN_OW && sh->ow <= MAX_OW && sh->oh > 0 &&
           sh->ow + sh->s - 1 <= COLS;
}

/* Scratch: the reordered weights, then per thread one image's transposed
 * gradient. */
static size_t weights_floats(const conv_shape *sh) {
    return (size_t)sh->c * sh->r * sh->s * 16;
}
static size_t thread_floats(const conv_shape *sh) {
    return round8((size_t)sh->oh * sh->ow * 16);
}
size_t conv_bwd_d16_avx2_scratch_floats(const conv_shape *sh) {
    return weights_floats(sh) + thread_floats(sh) * (size_t)omp_get_max_threads();
}

/* wt[ci][y][x][k] = w[k][ci][y][x]: a filter block's 8 weights of a tap
 * side by side. */
static void order_weights(const conv_shape *sh, const float *w, float *wt) {
    size_t crs = (size_t)sh->c * sh->r * sh->s;
    for (size_t t = 0; t < crs; t++)
        for (int k = 0; k < 16; k++) wt[t * 16 + k] = w[k * crs + t];
}

/* lane j: the sum of a[j]'s 8 lanes (j < 8), as a fixed tree. */
INLINE TARGET __m256 sum_lanes8(const __m256 a[8]) {
    __m256 h01 = _mm256_hadd_ps(a[0], a[1]), h23 = _mm256_hadd_ps(a[2], a[3]);
    __m256 h45 = _mm256_hadd_ps(a[4], a[5]), h67 = _mm256_hadd_ps(a[6], a[7]);
    /* 128-bit half h: lanes 0-3 the partial sums of a[0..3] (a[4..7]) */
    __m256 lo = _mm256_hadd_ps(h01, h23), hi = _mm256_hadd_ps(h45, h67);
    return _mm256_add_ps(_mm256_permute2f128_ps(lo, hi, 0x20),
                         _mm256_permute2f128_ps(lo, hi, 0x31));
}

/* Padded columns J0 ≤ j < J0 + CW (CW ≤ 8) of row iy of one channel into
 * sums[J0..J0+8) (lanes past CW: zero). wt: the channel's weights; ddt: the
 * image's transposed gradient, OW positions a row. */
INLINE TARGET void half_row(int S, int OW, int J0, int CW, const conv_shape *sh, int iy,
                            const float *ddt, const float *wt, float *sums) {
    __m256 acc[8];
    for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
    int iyp = iy + sh->pad;
    int y_lo = iyp - (sh->oh - 1) > 0 ? iyp - (sh->oh - 1) : 0;
    int y_hi = iyp < sh->r - 1 ? iyp : sh->r - 1;
    int ox_lo = J0 - S + 1 > 0 ? J0 - S + 1 : 0, ox_hi = J0 + CW - 1 < OW - 1 ? J0 + CW - 1 : OW - 1;
    /* one (y, kh) at a time: 8 accumulators, s weights, 1 gradient vector
     * (unrolled, GCC ran out of registers and juggled them) */
#pragma GCC unroll 1
    for (int y = y_lo; y <= y_hi; y++)
#pragma GCC unroll 1
        for (int kh = 0; kh < 2; kh++) {
            __m256 wv[5];
            for (int x = 0; x < S; x++) wv[x] = _mm256_loadu_ps(wt + (size_t)(y * S + x) * 16 + 8 * kh);
            const float *d = ddt + (size_t)(iyp - y) * OW * 16 + 8 * kh;
#pragma GCC unroll 16
            for (int ox = ox_lo; ox <= ox_hi; ox++) {
                __m256 dv = _mm256_loadu_ps(d + ox * 16);
                /* x downwards: an accumulator's next FMA (ox + 1, x - 1) is then
                 * S + 1 FMAs later, not S - 1, past the FMA's latency (5 cycles
                 * on Zen 1); each accumulator still adds its terms by rising ox */
#pragma GCC unroll 5
                for (int x = S - 1; x >= 0; x--)
                    if (ox + x >= J0 && ox + x < J0 + CW)
                        acc[ox + x - J0] = _mm256_fmadd_ps(dv, wv[x], acc[ox + x - J0]);
            }
        }
    _mm256_storeu_ps(sums + J0, sum_lanes8(acc));
}

/* Every row of every channel of one image (dsrc: its diff_src). */
INLINE TARGET void image_t(int S, int OW, const conv_shape *sh, const float *ddt, const float *wt,
                           float *dsrc) {
    int ncol = OW + S - 1, ca = ncol / 2;
    size_t wch = (size_t)sh->r * S * 16;
    for (int ci = 0; ci < sh->c; ci++)
        for (int iy = 0; iy < sh->h; iy++) {
            float sums[COLS + 8];
            half_row(S, OW, 0, ca, sh, iy, ddt, wt + ci * wch, sums);
            half_row(S, OW, ca, ncol - ca, sh, iy, ddt, wt + ci * wch, sums);
            /* padded column pad + ix is ix (the row is whole: w = ncol - 2 pad) */
            memcpy(dsrc + ((size_t)ci * sh->h + iy) * sh->w, sums + sh->pad,
                   sizeof(float) * sh->w);
        }
}

#define BD16_OW(S)                                                                        \
    switch (sh->ow) {                                                                     \
    case 5: image_t(S, 5, sh, ddt, wt, dsrc); break;                                      \
    case 6: image_t(S, 6, sh, ddt, wt, dsrc); break;                                      \
    case 7: image_t(S, 7, sh, ddt, wt, dsrc); break;                                      \
    case 8: image_t(S, 8, sh, ddt, wt, dsrc); break;                                      \
    case 9: image_t(S, 9, sh, ddt, wt, dsrc); break;                                      \
    case 10: image_t(S, 10, sh, ddt, wt, dsrc); break;                                    \
    case 11: image_t(S, 11, sh, ddt, wt, dsrc); break;                                    \
    default: image_t(S, 12, sh, ddt, wt, dsrc); break;                                    \
    }

static TARGET void image(const conv_shape *sh, const float *dd, const float *wt, float *ddt,
                         float *dsrc) {
    transpose16xp_avx2(sh->oh * sh->ow, dd, ddt);
    if (sh->s == 5) BD16_OW(5)
    else BD16_OW(3)
}

void conv_bwd_d16_avx2(const conv_shape *sh, const float *diff_dst, const float *weights,
                       float *diff_src, float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)16 * sh->oh * sh->ow;
    size_t tf = thread_floats(sh);
    float *wt = scratch, *base = scratch + weights_floats(sh);
    order_weights(sh, weights, wt);
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *ddt = base + tf * omp_get_thread_num();
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++)
            image(sh, diff_dst + i * out_img, wt, ddt, diff_src + i * in_img);
    }
}
