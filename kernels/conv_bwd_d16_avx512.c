/* Backward-data of a convolution with 16 filters, their gradients in the
 * vector lanes (LeNet conv2: 16 filters of 6×5×5 over 14², gradient 10²):
 *     diff_src[ci][iy][ix] = sum over (y, x, k) of w[k][ci][y][x] ·
 *                            diff_dst[k][iy + pad - y][ix + pad - x]
 * A vector holds 8 filters' terms for each of two input channels: lanes
 * 0-7 channel ci, 8-15 channel ci + 1, each lane one filter of a block of
 * 8 (kh = 0, 1). The gradient of one position, transposed to 16 floats, is
 * loaded as the block's 8 floats twice (a 256-bit broadcast, no shuffle),
 * the weights as [w[8kh + l][ci][y][x], w[8kh + l][ci + 1][y][x]]. A tile
 * is one row iy of the channel pair: up to 16 accumulators, one per padded
 * column ix + pad = ox + x, and for each filter row y that reaches it the
 * 2·s weight vectors stay in registers while the gradient row oy = iy + pad
 * - y streams through, each loaded vector feeding the s FMAs of the columns
 * it reaches. Only taps that meet the gradient are computed (the nominal
 * c·r·s·k·oh·ow MACs, every lane used), nothing is scattered: the GEMM +
 * col2im path did the same MACs at 87 % of peak and then spent a third as
 * long again in its col2im (LeNet conv2, batch 128, 1 thread: 0.40 + 0.18
 * ms). Each row's 16 accumulators are summed over their 8 lanes by three
 * shuffle-and-add stages (half the work of a full 16-lane reduction, which
 * putting all 16 filters of one channel in the lanes would need) and
 * permuted into the two channels' rows.
 *
 * The sums run in a fixed order, per lane over (y, kh, ox, x) and then the
 * lanes as a tree: deterministic, but not the order of the GEMM path, so
 * the numbers differ from it by rounding. */
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/transpose16_avx512.h"

#define TARGET __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#define BD16_COLS 16  /* padded columns a tile: ow + s - 1 = w + 2·pad */
#define BD16_MIN_OW 5 /* the templates' gradient widths */
#define BD16_MAX_OW 12

static size_t round16(size_t x) { return (x + 15) & ~(size_t)15; }

int conv_bwd_d16_suits(const conv_shape *sh) {
    return sh->k == 16 && sh->stride == 1 && (sh->s == 3 || sh->s == 5) && sh->pad < sh->s &&
           sh->pad < sh->r && sh->ow >= BD16_MIN_OW && sh->ow <= BD16_MAX_OW && sh->oh > 0 &&
           sh->ow + sh->s - 1 <= BD16_COLS;
}

/* Scratch: the paired weights, then per thread one image's transposed
 * gradient (whole blocks of 16 positions). */
static size_t pairs(const conv_shape *sh) { return (size_t)(sh->c + 1) / 2; }
static size_t weights_floats(const conv_shape *sh) {
    return pairs(sh) * sh->r * sh->s * 2 * 16;
}
static size_t thread_floats(const conv_shape *sh) {
    return round16((size_t)sh->oh * sh->ow) * 16;
}
size_t conv_bwd_d16_scratch_floats(const conv_shape *sh) {
    return weights_floats(sh) + thread_floats(sh) * (size_t)omp_get_max_threads();
}

/* wt[cp][y][x][kh][l] = w[8kh + l%8][2cp + l/8][y][x] (0 past the last channel). */
static void pair_weights(const conv_shape *sh, const float *w, float *wt) {
    size_t rs = (size_t)sh->r * sh->s, crs = sh->c * rs;
    for (size_t cp = 0; cp < pairs(sh); cp++)
        for (size_t t = 0; t < rs; t++)
            for (int kh = 0; kh < 2; kh++)
                for (int l = 0; l < 16; l++) {
                    size_t ci = 2 * cp + l / 8;
                    size_t k = 8 * (size_t)kh + l % 8;
                    wt[((cp * rs + t) * 2 + kh) * 16 + l] =
                        ci < (size_t)sh->c ? w[k * crs + ci * rs + t] : 0.0f;
                }
}

/* ddt[q][k] = dd[k][q] for one image's p positions, 16 at a time. */
static TARGET void transpose_diff(int p, const float *dd, float *ddt) {
    for (int q = 0; q < p; q += 16) {
        __mmask16 m = p - q >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (p - q)) - 1);
        __m512 r[16];
        for (int k = 0; k < 16; k++) r[k] = _mm512_maskz_loadu_ps(m, dd + (size_t)k * p + q);
        transpose16_avx512(r);
        for (int j = 0; j < 16; j++) _mm512_storeu_ps(ddt + (size_t)(q + j) * 16, r[j]);
    }
}

/* 8 floats twice: one filter block's gradient for both channels' halves. */
INLINE TARGET __m512 load8x2(const float *p) {
    return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_loadu_pd((const double *)p)));
}

/* The permutes that put column pad + l of the reduction's output at lane l:
 * ia for the pair's first channel, ib for its second. */
static void column_index(int pad, int ia[16], int ib[16]) {
    for (int l = 0; l < 16; l++) {
        int j = (l + pad) & 15, e = (j & 7) >> 1, c = 2 * (j & 1);
        ia[l] = (j >> 3) * 16 + 4 * c + e;
        ib[l] = ia[l] + 4;
    }
}

/* acc[j]: lanes 0-7 and 8-15 the two channels' 8 partial sums of padded
 * column j. Returns in *a and *b the channels' sums, lane l column pad + l
 * (ia, ib: column_index's): three stages of pair-wise adds and a permute. */
INLINE TARGET void reduce_pairs(const __m512 acc[16], const int *ia, const int *ib, __m512 *a,
                                __m512 *b) {
    __m512 s1[8], s2[4], s3[2];
    /* s1[m] 128-bit chunk c: 4 partials of channel c % 2, column 2m + c / 2 */
    for (int m = 0; m < 8; m++)
        s1[m] = _mm512_add_ps(_mm512_shuffle_f32x4(acc[2 * m], acc[2 * m + 1], 0x88),
                              _mm512_shuffle_f32x4(acc[2 * m], acc[2 * m + 1], 0xDD));
    /* s2[n] chunk c: 2 partials of s1[2n]'s chunk c, then 2 of s1[2n + 1]'s */
    for (int n = 0; n < 4; n++)
        s2[n] = _mm512_add_ps(_mm512_shuffle_ps(s1[2 * n], s1[2 * n + 1], 0x44),
                              _mm512_shuffle_ps(s1[2 * n], s1[2 * n + 1], 0xEE));
    /* s3[h] lane 4c + e: the sum of s1[4h + e]'s chunk c, i.e. channel c % 2,
     * column 8h + 2e + c / 2 */
    for (int h = 0; h < 2; h++)
        s3[h] = _mm512_add_ps(_mm512_shuffle_ps(s2[2 * h], s2[2 * h + 1], 0x88),
                              _mm512_shuffle_ps(s2[2 * h], s2[2 * h + 1], 0xDD));
    *a = _mm512_permutex2var_ps(s3[0], _mm512_loadu_si512(ia), s3[1]);
    *b = _mm512_permutex2var_ps(s3[0], _mm512_loadu_si512(ib), s3[1]);
}

/* Row iy of channels 2cp and 2cp + 1 (out_a, out_b; out_b NULL for a last
 * channel alone). wt: the pair's weights; ddt: the image's transposed
 * gradient, OW positions a row. */
INLINE TARGET void bd16_row(int S, int OW, const conv_shape *sh, int iy, const float *ddt,
                            const float *wt, const int *ia, const int *ib, float *out_a,
                            float *out_b) {
    __m512 acc[BD16_COLS];
    for (int j = 0; j < BD16_COLS; j++) acc[j] = _mm512_setzero_ps();
    int iyp = iy + sh->pad;
    int y_lo = iyp - (sh->oh - 1) > 0 ? iyp - (sh->oh - 1) : 0;
    int y_hi = iyp < sh->r - 1 ? iyp : sh->r - 1;
    for (int y = y_lo; y <= y_hi; y++)
        for (int kh = 0; kh < 2; kh++) {
            /* one filter block at a time: 16 + 5 + 1 registers (both blocks'
             * weights at once made GCC spill) */
            __m512 wv[5];
            for (int x = 0; x < S; x++)
                wv[x] = _mm512_loadu_ps(wt + ((size_t)(y * S + x) * 2 + kh) * 16);
            const float *d = ddt + (size_t)(iyp - y) * OW * 16 + 8 * kh;
            for (int ox = 0; ox < OW; ox++) {
                __m512 dv = load8x2(d + ox * 16);
                for (int x = 0; x < S; x++)
                    acc[ox + x] = _mm512_fmadd_ps(dv, wv[x], acc[ox + x]);
            }
        }
    __m512 a, b;
    reduce_pairs(acc, ia, ib, &a, &b);
    __mmask16 m = (__mmask16)((1u << sh->w) - 1);
    _mm512_mask_storeu_ps(out_a, m, a);
    if (out_b) _mm512_mask_storeu_ps(out_b, m, b);
}

/* Every row of every channel pair of one image (dsrc: its diff_src). */
INLINE TARGET void bd16_image_t(int S, int OW, const conv_shape *sh, const float *ddt,
                                const float *wt, float *dsrc) {
    size_t plane = (size_t)sh->h * sh->w, wpair = (size_t)sh->r * S * 2 * 16;
    int ia[16], ib[16];
    column_index(sh->pad, ia, ib);
    for (int cp = 0; 2 * cp < sh->c; cp++) {
        float *a = dsrc + 2 * cp * plane, *b = 2 * cp + 1 < sh->c ? a + plane : NULL;
        for (int iy = 0; iy < sh->h; iy++)
            bd16_row(S, OW, sh, iy, ddt, wt + cp * wpair, ia, ib, a + (size_t)iy * sh->w,
                     b ? b + (size_t)iy * sh->w : NULL);
    }
}

#define BD16_OW(S)                                                                       \
    switch (sh->ow) {                                                                    \
    case 5: bd16_image_t(S, 5, sh, ddt, wt, dsrc); break;                                \
    case 6: bd16_image_t(S, 6, sh, ddt, wt, dsrc); break;                                \
    case 7: bd16_image_t(S, 7, sh, ddt, wt, dsrc); break;                                \
    case 8: bd16_image_t(S, 8, sh, ddt, wt, dsrc); break;                                \
    case 9: bd16_image_t(S, 9, sh, ddt, wt, dsrc); break;                                \
    case 10: bd16_image_t(S, 10, sh, ddt, wt, dsrc); break;                              \
    case 11: bd16_image_t(S, 11, sh, ddt, wt, dsrc); break;                              \
    default: bd16_image_t(S, 12, sh, ddt, wt, dsrc); break;                              \
    }

/* Called from inside the OpenMP region: pointers only, no vector arguments. */
static TARGET void bd16_image(const conv_shape *sh, const float *dd, const float *wt, float *ddt,
                              float *dsrc) {
    transpose_diff(sh->oh * sh->ow, dd, ddt);
    if (sh->s == 5) BD16_OW(5)
    else BD16_OW(3)
}

TARGET void conv_bwd_d16_avx512(const conv_shape *sh, const float *diff_dst, const float *weights,
                                float *diff_src, float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)16 * sh->oh * sh->ow;
    size_t tf = thread_floats(sh);
    float *wt = scratch, *base = scratch + weights_floats(sh);
    pair_weights(sh, weights, wt);
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *ddt = base + tf * omp_get_thread_num();
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++)
            bd16_image(sh, diff_dst + i * out_img, wt, ddt, diff_src + i * in_img);
    }
}
