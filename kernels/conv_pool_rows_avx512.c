/* Forward convolution fused with a 2×2 max-pool for rows of 17 to 32 output
 * positions (LeNet conv1: 1→6 on 28², 5×5, pad 2; the 3×32² variant): each
 * register tile is one pooled row, i.e. output rows 2·oy and 2·oy+1 of up to
 * 6 filters, each row as its even and its odd columns, one vector each
 * (lanes past ow / 2 idle: 2 of 16 for LeNet conv1), so that the pool is
 * a compare of 4 registers, lane by lane, before anything is stored: no
 * permutes (four a filter and pooled row when a row's vectors held
 * consecutive columns; 4 % of the kernel's time on LeNet conv1, measured
 * with them stubbed out). The taps read the image, padded and decimated
 * once per image into rows of its even and its odd columns, with plain
 * loads: no shifted planes (their expansion and the separate pool over
 * the stored output took 20 % and 17 % of the shifted-plane path's time
 * here), and an odd last output row, which the pool drops, is not
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
#include "kernels/decimate_avx512.h"

#define TARGET __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#define DROW DECIMATED_ROW
#define KB 6    /* filters a tile */

int conv_pool_rows_suits(const conv_shape *sh) {
    return sh->stride == 1 && sh->ow > 16 && sh->ow <= 32 && sh->w + 2 * sh->pad <= 32 &&
           sh->oh >= 2 && sh->pad < sh->r && sh->pad < sh->s;
}

/* Per thread: one decimated image. */
size_t conv_pool_rows_scratch_floats(const conv_shape *sh) {
    return decimated_floats(sh) * (size_t)omp_get_max_threads();
}

/* The pool of one filter's tile (o[2a + b]: the outputs at (2·oy + a,
 * 2j + b)) into pooled row oy, as the max-pool kernel's row. */
static inline TARGET void pool_tile(const conv_shape *sh, int oy, const __m512 o[4],
                                    float *pooled, int32_t *argmax) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i idx = _mm512_add_epi32(even, _mm512_set1_epi32(2 * oy * sh->ow));
    const int step[3] = {1, sh->ow, sh->ow + 1};
    __m512 best = o[0];
    __m512i bi = idx;
    for (int v = 1; v < 4; v++) {
        __mmask16 gt = _mm512_cmp_ps_mask(o[v], best, _CMP_GT_OQ);
        best = _mm512_mask_mov_ps(best, gt, o[v]);
        bi = _mm512_mask_add_epi32(bi, gt, idx, _mm512_set1_epi32(step[v - 1]));
    }
    __mmask16 m = (__mmask16)((1u << (sh->ow / 2)) - 1);
    _mm512_mask_storeu_ps(pooled, m, best);
    _mm512_mask_storeu_epi32(argmax, m, bi);
}

/* Pooled row oy of kb filters (w: the first's weights; pooled, argmax: its
 * plane, pp floats apart from the next filter's). */
INLINE TARGET void rows_tile(int kb, const conv_shape *sh, const float *d, const float *w,
                             const float *bias, int relu, int oy, size_t pp, int pow,
                             float *pooled, int32_t *argmax) {
    int hp = sh->h + 2 * sh->pad, crs = sh->c * sh->r * sh->s;
    __m512 acc[KB][4];
    for (int j = 0; j < kb; j++)
        for (int v = 0; v < 4; v++) acc[j][v] = _mm512_setzero_ps();
    for (int ci = 0, t = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++) {
            /* parity p's row 2·oy + y: the outputs' row a reads it a rows down */
            const float *r0 = d + ((size_t)ci * 2 * hp + 2 * oy + y) * DROW;
            const float *r1 = r0 + (size_t)hp * DROW;
            for (int x = 0; x < sh->s; x++, t++) {
                /* column 2j + b + x: parity (b + x) & 1, lane j + (b + x) / 2 */
                const float *even = x & 1 ? r1 : r0, *odd = x & 1 ? r0 : r1;
                int e = x >> 1, o = (x + 1) >> 1;
                __m512 in[4] = {_mm512_loadu_ps(even + e), _mm512_loadu_ps(odd + o),
                                _mm512_loadu_ps(even + DROW + e), _mm512_loadu_ps(odd + DROW + o)};
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
        pool_tile(sh, oy, o, pooled + at, argmax + at);
    }
}

/* All pooled rows of one image, filter blocks of up to 6. */
static TARGET void rows_image(const conv_shape *sh, const pool_shape *ps, const float *d,
                              const float *weights, const float *bias, int relu, float *pooled,
                              int32_t *argmax) {
    size_t pp = (size_t)ps->oh * ps->ow, crs = (size_t)sh->c * sh->r * sh->s;
    for (int k = 0; k < sh->k; k += KB) {
        int kb = sh->k - k < KB ? sh->k - k : KB;
        const float *w = weights + k * crs, *b = bias ? bias + k : NULL;
        float *pk = pooled + k * pp;
        int32_t *ak = argmax + k * pp;
        for (int oy = 0; oy < ps->oh; oy++) switch (kb) {
            case 6: rows_tile(6, sh, d, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            case 5: rows_tile(5, sh, d, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            case 4: rows_tile(4, sh, d, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            case 3: rows_tile(3, sh, d, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            case 2: rows_tile(2, sh, d, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            default: rows_tile(1, sh, d, w, b, relu, oy, pp, ps->ow, pk, ak); break;
            }
    }
}

TARGET void conv_pool_rows_avx512(const conv_shape *sh, const pool_shape *ps, const float *src,
                                  const float *weights, const float *bias, int relu,
                                  float *pooled, int32_t *argmax, float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)ps->c * ps->oh * ps->ow;
    parity_cols pc;
    parity_cols_init(sh, &pc);
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *d = scratch + decimated_floats(sh) * omp_get_thread_num();
        memset(d, 0, sizeof(float) * decimated_floats(sh));
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            decimate_image(sh, &pc, src + i * in_img, d);
            rows_image(sh, ps, d, weights, bias, relu, pooled + i * out_img,
                       argmax + i * out_img);
        }
    }
}
