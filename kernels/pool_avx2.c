/* Max pooling 2×2 stride 2 with AVX2: 8 outputs per step from two input
 * rows of 16 floats. Comparisons follow the reference's order (row 0 even,
 * odd, row 1 even, odd; strictly greater wins) so outputs and argmax match
 * it exactly. The even and odd columns are split with an in-lane shuffle
 * only, which leaves the outputs in the order 0 1 4 5 2 3 6 7; the argmax
 * indices are built in that order too, and both are put right with one
 * cross-lane permute at the end. A row's partial last vector overlaps the
 * one before. Forward rows of fewer than 8 outputs (LeNet's second pool:
 * 5) load through masks and store whole vectors that spill onto floats
 * written afterwards, through a buffer only at the plane's end (AVX2
 * masked stores are slow on AMD); backward they take the reference's
 * scalar scatter. */
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "kernels/pool_planes.h"

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))
#define UNSCRAMBLE 0xD8 /* 64-bit units 0 2 1 3: the shuffles' order back, or into it */

/* All ones in the first `left` lanes. */
INLINE TARGET __m256i first(int left) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The two input floats of `left` (1-7) outputs from p, zeros after. */
INLINE TARGET void load_pairs(const float *p, int left, __m256 *a0, __m256 *a1) {
    *a0 = _mm256_maskload_ps(p, first(2 * left));
    *a1 = _mm256_maskload_ps(p + 8, first(2 * left - 8));
}

/* best and its index bi replaced where v is strictly greater (v at index bi + delta). */
INLINE TARGET void take_greater(__m256 v, __m256i idx, __m256i delta, __m256 *best, __m256i *bi) {
    __m256 gt = _mm256_cmp_ps(v, *best, _CMP_GT_OQ);
    *best = _mm256_blendv_ps(*best, v, gt);
    *bi = _mm256_blendv_epi8(*bi, _mm256_add_epi32(idx, delta), _mm256_castps_si256(gt));
}

/* 8 outputs (in the shuffled order) from the rows' 16 floats a and b;
 * idx holds each one's window corner. */
INLINE TARGET void pool8(__m256 a0, __m256 a1, __m256 b0, __m256 b1, __m256i idx, __m256i wv,
                         __m256 *best, __m256i *bi) {
    const __m256i one = _mm256_set1_epi32(1);
    *best = _mm256_shuffle_ps(a0, a1, 0x88);
    *bi = idx;
    take_greater(_mm256_shuffle_ps(a0, a1, 0xDD), idx, one, best, bi);
    take_greater(_mm256_shuffle_ps(b0, b1, 0x88), idx, wv, best, bi);
    take_greater(_mm256_shuffle_ps(b0, b1, 0xDD), idx, _mm256_add_epi32(wv, one), best, bi);
    *best = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(*best), UNSCRAMBLE));
    *bi = _mm256_permute4x64_epi64(*bi, UNSCRAMBLE);
}

/* Window corners 2·ox.. of row oy in the shuffled order. */
INLINE TARGET __m256i corners(const pool_shape *sh, int oy, int ox) {
    return _mm256_add_epi32(_mm256_setr_epi32(0, 2, 8, 10, 4, 6, 12, 14),
                            _mm256_set1_epi32(2 * oy * sh->w + 2 * ox));
}

/* 8 outputs from ox (ox + 8 ≤ ow). */
INLINE TARGET void fwd8(const pool_shape *sh, const float *r0, const float *r1, int oy, int ox,
                        float *out, int32_t *am) {
    __m256 best;
    __m256i bi;
    pool8(_mm256_loadu_ps(r0 + 2 * ox), _mm256_loadu_ps(r0 + 2 * ox + 8),
          _mm256_loadu_ps(r1 + 2 * ox), _mm256_loadu_ps(r1 + 2 * ox + 8), corners(sh, oy, ox),
          _mm256_set1_epi32(sh->w), &best, &bi);
    _mm256_storeu_ps(out + ox, best);
    _mm256_storeu_si256((__m256i *)(am + ox), bi);
}

/* A row of fewer than 8 outputs: stored whole, spilling into the next row
 * (written afterwards) where that stays inside the plane, else through a
 * buffer. */
static TARGET void fwd_short_row(const pool_shape *sh, const float *r0, const float *r1, int oy,
                                 float *out, int32_t *am) {
    __m256 a0, a1, b0, b1, best;
    __m256i bi;
    load_pairs(r0, sh->ow, &a0, &a1);
    load_pairs(r1, sh->ow, &b0, &b1);
    pool8(a0, a1, b0, b1, corners(sh, oy, 0), _mm256_set1_epi32(sh->w), &best, &bi);
    if ((oy + 1) * sh->ow + 8 <= sh->oh * sh->ow) {
        _mm256_storeu_ps(out, best);
        _mm256_storeu_si256((__m256i *)am, bi);
        return;
    }
    float bbuf[8];
    int32_t ibuf[8];
    _mm256_storeu_ps(bbuf, best);
    _mm256_storeu_si256((__m256i *)ibuf, bi);
    memcpy(out, bbuf, sizeof(float) * sh->ow);
    memcpy(am, ibuf, sizeof(int32_t) * sh->ow);
}

/* One output row oy of a plane; a row's last partial vector overlaps the
 * one before (the same outputs written twice). */
static TARGET void fwd_row(const pool_shape *sh, const float *in, int oy, float *out,
                           int32_t *am) {
    const float *r0 = in + (size_t)2 * oy * sh->w, *r1 = r0 + sh->w;
    if (sh->ow < 8) {
        fwd_short_row(sh, r0, r1, oy, out, am);
        return;
    }
    int ox = 0;
    for (; ox + 8 <= sh->ow; ox += 8) fwd8(sh, r0, r1, oy, ox, out, am);
    if (ox < sh->ow) fwd8(sh, r0, r1, oy, sh->ow - 8, out, am);
}

static TARGET void fwd_plane(const pool_shape *sh, const float *in, float *out, int32_t *argmax) {
    for (int oy = 0; oy < sh->oh; oy++)
        fwd_row(sh, in, oy, out + (size_t)oy * sh->ow, argmax + (size_t)oy * sh->ow);
}

void maxpool_fwd_avx2(const pool_shape *sh, const float *src, float *dst, int32_t *argmax) {
    maxpool_fwd_planes(sh, src, dst, argmax, fwd_plane);
}

/* Input rows 2·oy and 2·oy+1 from 8 outputs of row oy starting at ox:
 * each input gets its output's gradient where argmax points at it, else 0;
 * with mask, the gradient is kept only where mask > 0 (relu_bwd's rule). */
INLINE TARGET void bwd8(const pool_shape *sh, const float *dd, const int32_t *am,
                        const float *mask, int oy, int ox, float *r0, float *r1) {
    __m256 d = _mm256_loadu_ps(dd);
    __m256i a = _mm256_loadu_si256((const __m256i *)am);
    if (mask)
        d = _mm256_and_ps(_mm256_cmp_ps(_mm256_loadu_ps(mask), _mm256_setzero_ps(), _CMP_GT_OQ), d);
    __m256i base = _mm256_add_epi32(_mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14),
                                    _mm256_set1_epi32(2 * oy * sh->w + 2 * ox));
    __m256i one = _mm256_set1_epi32(1), b1 = _mm256_add_epi32(base, _mm256_set1_epi32(sh->w));
    __m256 e0 = _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, base)), d);
    __m256 o0 = _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, _mm256_add_epi32(base, one))), d);
    __m256 e1 = _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b1)), d);
    __m256 o1 = _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(a, _mm256_add_epi32(b1, one))), d);
    /* interleave: unpack gives pairs 0 1 | 4 5 and 2 3 | 6 7 */
    __m256 l0 = _mm256_unpacklo_ps(e0, o0), h0 = _mm256_unpackhi_ps(e0, o0);
    __m256 l1 = _mm256_unpacklo_ps(e1, o1), h1 = _mm256_unpackhi_ps(e1, o1);
    _mm256_storeu_ps(r0 + 2 * ox, _mm256_permute2f128_ps(l0, h0, 0x20));
    _mm256_storeu_ps(r0 + 2 * ox + 8, _mm256_permute2f128_ps(l0, h0, 0x31));
    _mm256_storeu_ps(r1 + 2 * ox, _mm256_permute2f128_ps(l1, h1, 0x20));
    _mm256_storeu_ps(r1 + 2 * ox + 8, _mm256_permute2f128_ps(l1, h1, 0x31));
}

/* One output row (ow ≥ 8); its last partial vector overlaps the one before. */
INLINE TARGET void bwd_row(const pool_shape *sh, const float *dd, const int32_t *am,
                           const float *mask, int oy, float *in) {
    float *r0 = in + (size_t)2 * oy * sh->w, *r1 = r0 + sh->w;
    for (int ox = 0; ox < sh->ow; ox += 8) {
        int at = ox + 8 <= sh->ow ? ox : sh->ow - 8;
        bwd8(sh, dd + at, am + at, mask ? mask + at : NULL, oy, at, r0, r1);
    }
}

/* Rows of fewer than 8 outputs (LeNet's second pool: 5): zeros, then each
 * gradient added at its argmax, as the reference does (vectors of 8 would
 * be mostly masked). */
static void bwd_plane_short(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                            const float *mask, float *diff_src) {
    memset(diff_src, 0, sizeof(float) * sh->h * sh->w);
    for (int o = 0; o < sh->oh * sh->ow; o++)
        diff_src[argmax[o]] += mask && !(mask[o] > 0.0f) ? 0.0f : diff_dst[o];
}

static TARGET void bwd_plane(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                             const float *mask, float *diff_src) {
    if (sh->ow < 8) {
        bwd_plane_short(sh, diff_dst, argmax, mask, diff_src);
        return;
    }
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

void maxpool_bwd_avx2(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                      const float *mask, float *diff_src) {
    maxpool_bwd_planes(sh, diff_dst, argmax, mask, diff_src, bwd_plane);
}
