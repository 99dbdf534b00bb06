/* Max pooling 2×2 stride 2 with AVX-512: 16 outputs per step from two input
 * rows of 32 floats, split into even and odd columns with one permute each.
 * Comparisons follow the reference's order (row 0 even, odd, row 1 even, odd;
 * strictly greater wins) so outputs and argmax match it exactly. The
 * one-plane functions serve the convolutions that pool their output image by
 * image (conv_avx512.c). */
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "kernels/pool_planes.h"

#define TARGET __attribute__((target("avx512f")))

static TARGET __mmask16 lanes(int left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

/* Masks for the 2·left input floats of a tile that are inside the row. */
static TARGET void pair_masks(int left, __mmask16 *lo, __mmask16 *hi) {
    int f = 2 * left;
    *lo = lanes(f);
    *hi = f > 16 ? lanes(f - 16) : 0;
}

/* One output row oy of a plane: 16 outputs per step. */
static TARGET void fwd_row(const pool_shape *sh, const float *in, int oy, float *out,
                           int32_t *am) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i two = _mm512_set1_epi32(2);
    const float *r0 = in + (size_t)2 * oy * sh->w, *r1 = r0 + sh->w;
    __m512i idx = _mm512_add_epi32(even, _mm512_set1_epi32(2 * oy * sh->w));
    __m512i wv = _mm512_set1_epi32(sh->w);
    for (int ox = 0; ox < sh->ow; ox += 16) {
        __mmask16 lo, hi, m = lanes(sh->ow - ox);
        pair_masks(sh->ow - ox, &lo, &hi);
        __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ox), a1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ox + 16);
        __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ox), b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ox + 16);
        __m512 best = _mm512_permutex2var_ps(a0, even, a1);
        __m512i bi = idx;
        __m512 v = _mm512_permutex2var_ps(a0, odd, a1);
        __mmask16 gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
        best = _mm512_mask_mov_ps(best, gt, v);
        bi = _mm512_mask_add_epi32(bi, gt, idx, _mm512_set1_epi32(1));
        v = _mm512_permutex2var_ps(b0, even, b1);
        gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
        best = _mm512_mask_mov_ps(best, gt, v);
        bi = _mm512_mask_add_epi32(bi, gt, idx, wv);
        v = _mm512_permutex2var_ps(b0, odd, b1);
        gt = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
        best = _mm512_mask_mov_ps(best, gt, v);
        bi = _mm512_mask_add_epi32(bi, gt, idx, _mm512_add_epi32(wv, _mm512_set1_epi32(1)));
        _mm512_mask_storeu_ps(out + ox, m, best);
        _mm512_mask_storeu_epi32(am + ox, m, bi);
        idx = _mm512_add_epi32(idx, _mm512_slli_epi32(two, 4));
    }
}

int maxpool_plane_avx512_fits(const pool_shape *sh) { return maxpool_is_2x2(sh); }

TARGET void maxpool_fwd_avx512(const pool_shape *sh, const float *src, float *dst,
                               int32_t *argmax) {
    maxpool_fwd_planes(sh, src, dst, argmax, maxpool_fwd_plane_avx512);
}

TARGET void maxpool_fwd_plane_avx512(const pool_shape *sh, const float *in, float *out,
                                     int32_t *argmax) {
    for (int oy = 0; oy < sh->oh; oy++)
        fwd_row(sh, in, oy, out + (size_t)oy * sh->ow, argmax + (size_t)oy * sh->ow);
}

/* Input rows 2·oy and 2·oy+1 from one output row: each input gets its
 * output's gradient where argmax points at it, else 0. */
static inline __attribute__((always_inline)) TARGET void bwd_row(const pool_shape *sh,
                                                                 const float *dd,
                                                                 const int32_t *am,
                                                                 const float *mask, int oy,
                                                                 float *in) {
    const __m512i lo_idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_idx = _mm512_add_epi32(lo_idx, _mm512_set1_epi32(8));
    const __m512i step = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    __m512i base = _mm512_add_epi32(step, _mm512_set1_epi32(2 * oy * sh->w));
    __m512i one = _mm512_set1_epi32(1), wv = _mm512_set1_epi32(sh->w);
    float *r0 = in + (size_t)2 * oy * sh->w, *r1 = r0 + sh->w;
    for (int ox = 0; ox < sh->ow; ox += 16) {
        __mmask16 lo, hi, m = lanes(sh->ow - ox);
        pair_masks(sh->ow - ox, &lo, &hi);
        __m512 d = _mm512_maskz_loadu_ps(m, dd + ox);
        if (mask) /* relu_bwd's rule: kept where mask > 0, else +0 */
            d = _mm512_maskz_mov_ps(
                _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, mask + ox), _mm512_setzero_ps(),
                                   _CMP_GT_OQ),
                d);
        __m512i a = _mm512_maskz_loadu_epi32(m, am + ox);
        __m512 e0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, base), d);
        __m512 o0 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(base, one)), d);
        __m512i b1 = _mm512_add_epi32(base, wv);
        __m512 e1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, b1), d);
        __m512 o1 = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, _mm512_add_epi32(b1, one)), d);
        _mm512_mask_storeu_ps(r0 + 2 * ox, lo, _mm512_permutex2var_ps(e0, lo_idx, o0));
        _mm512_mask_storeu_ps(r0 + 2 * ox + 16, hi, _mm512_permutex2var_ps(e0, hi_idx, o0));
        _mm512_mask_storeu_ps(r1 + 2 * ox, lo, _mm512_permutex2var_ps(e1, lo_idx, o1));
        _mm512_mask_storeu_ps(r1 + 2 * ox + 16, hi, _mm512_permutex2var_ps(e1, hi_idx, o1));
        base = _mm512_add_epi32(base, _mm512_set1_epi32(32));
    }
}

TARGET void maxpool_bwd_avx512(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                               const float *mask, float *diff_src) {
    maxpool_bwd_planes(sh, diff_dst, argmax, mask, diff_src, maxpool_bwd_plane_avx512);
}

TARGET void maxpool_bwd_plane_avx512(const pool_shape *sh, const float *diff_dst,
                                     const int32_t *argmax, const float *mask, float *diff_src) {
    /* two loops, so that the one without a mask has no test for it */
    if (mask)
        for (int oy = 0; oy < sh->oh; oy++) {
            size_t at = (size_t)oy * sh->ow;
            bwd_row(sh, diff_dst + at, argmax + at, mask + at, oy, diff_src);
        }
    else
        for (int oy = 0; oy < sh->oh; oy++) {
            size_t at = (size_t)oy * sh->ow;
            bwd_row(sh, diff_dst + at, argmax + at, NULL, oy, diff_src);
        }
    maxpool_zero_uncovered(sh, diff_src);
}
