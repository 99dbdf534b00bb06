/* Forward convolution fused with a 2×2 max-pool for rows of 17 to 32 output
 * positions (LeNet conv1: 1→6 on 28², 5×5, pad 2; the 3×32² variant): each
 * register tile is one pooled row, i.e. output rows 2·oy and 2·oy+1 of up to
 * 6 filters, two vectors a row (lanes past ow idle: 4 of 32 for LeNet
 * conv1), and the pool runs on the tile's registers before anything is
 * stored. The taps read the image, padded once into rows of 32 floats,
 * with plain loads: no shifted planes (their expansion and the separate pool
 * over the stored output took 20 % and 17 % of the shifted-plane path's
 * time here), and an odd last output row, which the pool drops, is not
 * computed.
 *
 * Each accumulator sums its taps in ascending (ci, y, x) order from zero,
 * then the bias and the ReLU, and the pool compares in the max-pool
 * kernels' order (strictly greater wins): bit for bit conv_fwd then
 * maxpool_fwd. */
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "kernels/conv_internal.h"

#define TARGET __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#define ROW 32 /* floats a padded image row */
#define KB 6   /* filters a tile */

int conv_pool_rows_suits(const conv_shape *sh) {
    return sh->stride == 1 && sh->ow > 16 && sh->ow <= ROW && sh->w + 2 * sh->pad <= ROW &&
           sh->oh >= 2 && sh->pad < sh->r && sh->pad < sh->s;
}

/* Per thread: the padded image, c planes of h + 2·pad rows of 32, plus a
 * row of slack (the idle lanes of the last row's second vector read past
 * it). */
static size_t image_floats(const conv_shape *sh) {
    return (size_t)sh->c * (sh->h + 2 * sh->pad) * ROW + ROW;
}
size_t conv_pool_rows_scratch_floats(const conv_shape *sh) {
    return image_floats(sh) * (size_t)omp_get_max_threads();
}

/* The pool of one filter's tile (a: row 2·oy, b: row 2·oy+1, two vectors
 * each) into pooled row oy, as the max-pool kernel's row. */
static inline TARGET void pool_tile(const conv_shape *sh, int oy, const __m512 a[2],
                                    const __m512 b[2], float *pooled, int32_t *argmax) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i idx = _mm512_add_epi32(even, _mm512_set1_epi32(2 * oy * sh->ow));
    const __m512i step[3] = {_mm512_set1_epi32(1), _mm512_set1_epi32(sh->ow),
                             _mm512_set1_epi32(sh->ow + 1)};
    __m512 best = _mm512_permutex2var_ps(a[0], even, a[1]);
    __m512 next[3] = {_mm512_permutex2var_ps(a[0], odd, a[1]),
                      _mm512_permutex2var_ps(b[0], even, b[1]),
                      _mm512_permutex2var_ps(b[0], odd, b[1])};
    __m512i bi = idx;
    for (int j = 0; j < 3; j++) {
        __mmask16 gt = _mm512_cmp_ps_mask(next[j], best, _CMP_GT_OQ);
        best = _mm512_mask_mov_ps(best, gt, next[j]);
        bi = _mm512_mask_add_epi32(bi, gt, idx, step[j]);
    }
    __mmask16 m = (__mmask16)((1u << (sh->ow / 2)) - 1);
    _mm512_mask_storeu_ps(pooled, m, best);
    _mm512_mask_storeu_epi32(argmax, m, bi);
}

/* Pooled row oy of kb filters (w: the first's weights; pooled, argmax: its
 * plane, pp floats apart from the next filter's). */
INLINE TARGET void rows_tile(int kb, const conv_shape *sh, const float *pimg, const float *w,
                             const float *bias, int relu, int oy, size_t pp, int pow,
                             float *pooled, int32_t *argmax) {
    int hp = sh->h + 2 * sh->pad, crs = sh->c * sh->r * sh->s;
    __m512 acc[KB][4];
    for (int j = 0; j < kb; j++)
        for (int v = 0; v < 4; v++) acc[j][v] = _mm512_setzero_ps();
    for (int ci = 0, t = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++) {
            const float *r0 = pimg + ((size_t)ci * hp + 2 * oy + y) * ROW;
            for (int x = 0; x < sh->s; x++, t++) {
                __m512 in[4] = {_mm512_loadu_ps(r0 + x), _mm512_loadu_ps(r0 + x + 16),
                                _mm512_loadu_ps(r0 + ROW + x), _mm512_loadu_ps(r0 + ROW + x + 16)};
                for (int j = 0; j < kb; j++) {
                    __m512 wv = _mm512_set1_ps(w[j * crs + t]);
                    for (int v = 0; v < 4; v++) acc[j][v] = _mm512_fmadd_ps(wv, in[v], acc[j][v]);
                }
            }
        }
    for (int j = 0; j < kb; j++) {
        __m512 b = _mm512_set1_ps(bias ? bias[j] : 0.0f), o[4];
        for (int v = 0; v < 4; v++) {
            o[v] = _mm512_add_ps(acc[j][v], b);
            if (relu) o[v] = _mm512_max_ps(o[v], _mm512_setzero_ps());
        }
        size_t at = j * pp + (size_t)oy * pow;
        pool_tile(sh, oy, o, o + 2, pooled + at, argmax + at);
    }
}

/* All pooled rows of one image, filter blocks of up to 6. */
static TARGET void rows_image(const conv_shape *sh, const pool_shape *ps, const float *pimg,
                              const float *weights, const float *bias, int relu, float *pooled,
                              int32_t *argmax) {
    size_t pp = (size_t)ps->oh * ps->ow, crs = (size_t)sh->c * sh->r * sh->s;
    for (int k = 0; k < sh->k; k += KB) {
        int kb = sh->k - k < KB ? sh->k - k : KB;
        const float *w = weights + k * crs, *b = bias ? bias + k : NULL;
        float *pk = pooled + k * pp;
        int32_t *ak = argmax + k * pp;
        for (int oy = 0; oy < ps->oh; oy++) switch (kb) {
            case 6: rows_tile(6, sh, pimg, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            case 5: rows_tile(5, sh, pimg, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            case 4: rows_tile(4, sh, pimg, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            case 3: rows_tile(3, sh, pimg, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            case 2: rows_tile(2, sh, pimg, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            default: rows_tile(1, sh, pimg, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            }
    }
}

TARGET void conv_pool_rows_avx512(const conv_shape *sh, const pool_shape *ps, const float *src,
                                  const float *weights, const float *bias, int relu,
                                  float *pooled, int32_t *argmax, float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)ps->c * ps->oh * ps->ow;
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *pimg = scratch + image_floats(sh) * omp_get_thread_num();
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            conv_pad_image(sh, src + i * in_img, ROW, image_floats(sh), pimg);
            rows_image(sh, ps, pimg, weights, bias, relu, pooled + i * out_img,
                       argmax + i * out_img);
        }
    }
}
