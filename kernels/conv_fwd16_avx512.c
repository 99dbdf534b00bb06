/* Forward convolution with 16 filters in the vector lanes, fused with a 2×2
 * max-pool of its output (LeNet conv2: 6→16 on 14², 5×5, output 10²):
 *     out[oy][ox][·] = sum over (ci, y, x) of img[ci][oy + y][ox + x] · wt[ci,y,x][·]
 * with wt the weights transposed (16 filters a vector). A tile holds rt
 * output rows of ow positions (rt·ow ≤ 24 accumulators); for each (ci, y)
 * it loads the s weight vectors of x = 0..s-1 once and runs along each input
 * row, broadcasting each input value once into the s FMAs of the positions
 * it reaches (ox = ix - x). No lane idles (the shifted-plane path fills 100
 * of 112 lanes on LeNet conv2) and nothing is expanded (the planes' expansion
 * took 14 % of that path's time there).
 *
 * Each accumulator receives its taps in ascending (ci, y, x) order from
 * zero, then the bias and the ReLU, as the shifted-plane tile does: the
 * outputs, and so the pool's, are those of conv_fwd bit for bit. The pool
 * compares in the max-pool kernels' order (strictly greater wins) on the
 * transposed output, and the pooled vectors go back to NCHW through 16×16
 * transposes in registers. */
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/transpose16_avx512.h"

#define TARGET __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#define F16_ACC 24   /* accumulators a tile may hold */
#define F16_MIN_OW 5 /* narrower rows: the shifted-plane path */
#define F16_MAX_OW 12
#define F16_MAX_RT 4

static size_t round16(size_t x) { return (x + 15) & ~(size_t)15; }

/* Output rows per tile for rows of ow positions. */
static int f16_rows(int ow) {
    int rt = F16_ACC / ow;
    return rt > F16_MAX_RT ? F16_MAX_RT : rt;
}

int conv_fwd16_suits(const conv_shape *sh) {
    return sh->k == 16 && sh->stride == 1 && (sh->s == 3 || sh->s == 5) && sh->ow >= F16_MIN_OW &&
           sh->ow <= F16_MAX_OW && sh->oh >= f16_rows(sh->ow);
}

/* Scratch: the transposed weights, then per thread the padded image (when
 * pad > 0) and one image's transposed output (p·16). */
static size_t img_floats(const conv_shape *sh) {
    return sh->pad ? round16((size_t)sh->c * (sh->h + 2 * sh->pad) * (sh->w + 2 * sh->pad)) : 0;
}
static size_t thread_floats(const conv_shape *sh) {
    return img_floats(sh) + (size_t)sh->oh * sh->ow * 16;
}
size_t conv_fwd16_scratch_floats(const conv_shape *sh) {
    return round16((size_t)sh->c * sh->r * sh->s * 16) +
           thread_floats(sh) * (size_t)omp_get_max_threads();
}

/* out[(oy0 + u)·ow + ox][·] for u < RT rows; img: channel 0's plane at row
 * oy0, hp rows and wp floats a row per channel. */
INLINE TARGET void f16_tile(int S, int OW, int RT, const conv_shape *sh, const float *img, int hp,
                            int wp, const float *wt, __m512 bias, int relu, float *out) {
    __m512 acc[F16_MAX_RT][F16_MAX_OW];
    for (int u = 0; u < RT; u++)
        for (int ox = 0; ox < OW; ox++) acc[u][ox] = _mm512_setzero_ps();
    for (int ci = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++) {
            const float *w = wt + (size_t)(ci * sh->r + y) * S * 16;
            __m512 wv[5];
            for (int x = 0; x < S; x++) wv[x] = _mm512_loadu_ps(w + 16 * x);
            for (int u = 0; u < RT; u++) {
                const float *row = img + ((size_t)ci * hp + u + y) * wp;
                for (int ix = 0; ix < OW + S - 1; ix++) {
                    __m512 b = _mm512_set1_ps(row[ix]);
                    for (int x = 0; x < S; x++) /* ascending x for each ox = ix - x */
                        if (ix - x >= 0 && ix - x < OW)
                            acc[u][ix - x] = _mm512_fmadd_ps(b, wv[x], acc[u][ix - x]);
                }
            }
        }
    for (int u = 0; u < RT; u++)
        for (int ox = 0; ox < OW; ox++) {
            __m512 o = _mm512_add_ps(acc[u][ox], bias);
            if (relu) o = _mm512_max_ps(o, _mm512_setzero_ps());
            _mm512_storeu_ps(out + (size_t)(u * OW + ox) * 16, o);
        }
}

/* All rows of one image: tiles of RT rows, the last one moved up to end at
 * oh (its overlapping rows computed again, to the same values). */
INLINE TARGET void f16_image_t(int S, int OW, const conv_shape *sh, const float *img, int hp,
                               int wp, const float *wt, __m512 bias, int relu, float *out) {
    const int RT = F16_ACC / OW > F16_MAX_RT ? F16_MAX_RT : F16_ACC / OW;
    for (int oy = 0; oy < sh->oh; oy += RT) {
        int y0 = oy + RT <= sh->oh ? oy : sh->oh - RT;
        f16_tile(S, OW, RT, sh, img + (size_t)y0 * wp, hp, wp, wt, bias, relu,
                 out + (size_t)y0 * OW * 16);
    }
}

#define F16_OW(S)                                                                        \
    switch (sh->ow) {                                                                    \
    case 5: f16_image_t(S, 5, sh, img, hp, wp, wt, bias, relu, out); break;              \
    case 6: f16_image_t(S, 6, sh, img, hp, wp, wt, bias, relu, out); break;              \
    case 7: f16_image_t(S, 7, sh, img, hp, wp, wt, bias, relu, out); break;              \
    case 8: f16_image_t(S, 8, sh, img, hp, wp, wt, bias, relu, out); break;              \
    case 9: f16_image_t(S, 9, sh, img, hp, wp, wt, bias, relu, out); break;              \
    case 10: f16_image_t(S, 10, sh, img, hp, wp, wt, bias, relu, out); break;            \
    case 11: f16_image_t(S, 11, sh, img, hp, wp, wt, bias, relu, out); break;            \
    default: f16_image_t(S, 12, sh, img, hp, wp, wt, bias, relu, out); break;            \
    }

/* bias16: the 16 filters' biases, or NULL (a pointer, not a vector: the
 * caller runs inside an OpenMP region, whose outlined body has no AVX-512 to
 * pass one in). */
static TARGET void f16_image(const conv_shape *sh, const float *img, int hp, int wp,
                             const float *wt, const float *bias16, int relu, float *out) {
    __m512 bias = bias16 ? _mm512_loadu_ps(bias16) : _mm512_setzero_ps();
    if (sh->s == 5) F16_OW(5)
    else F16_OW(3)
}

/* Pooled position o of the transposed output: the four inputs in the
 * max-pool kernels' order (strictly greater wins), value and index. */
static TARGET void pool_at(const conv_shape *sh, const pool_shape *ps, const float *out, int o,
                           __m512 *best, __m512i *bi) {
    int oy = o / ps->ow, ox = o % ps->ow, a = 2 * oy * sh->ow + 2 * ox;
    int at[4] = {a, a + 1, a + sh->ow, a + sh->ow + 1};
    *best = _mm512_loadu_ps(out + (size_t)a * 16);
    *bi = _mm512_set1_epi32(a);
    for (int j = 1; j < 4; j++) {
        __m512 v = _mm512_loadu_ps(out + (size_t)at[j] * 16);
        __mmask16 gt = _mm512_cmp_ps_mask(v, *best, _CMP_GT_OQ);
        *best = _mm512_mask_mov_ps(*best, gt, v);
        *bi = _mm512_mask_mov_epi32(*bi, gt, _mm512_set1_epi32(at[j]));
    }
}

/* The pool of one image's transposed output, 16 pooled positions at a
 * time, transposed back to the channel planes (pp floats apart) in
 * registers: a scatter per position took 12 % of LeNet conv2's time. */
static TARGET void f16_pool(const conv_shape *sh, const pool_shape *ps, const float *out,
                            float *pooled, int32_t *argmax) {
    int pp = ps->oh * ps->ow;
    for (int o0 = 0; o0 < pp; o0 += 16) {
        __m512 v[16], idx[16];
        for (int u = 0; u < 16; u++) {
            __m512i bi = _mm512_setzero_si512();
            v[u] = _mm512_setzero_ps();
            if (o0 + u < pp) pool_at(sh, ps, out, o0 + u, &v[u], &bi);
            idx[u] = _mm512_castsi512_ps(bi);
        }
        transpose16_avx512(v);
        transpose16_avx512(idx);
        __mmask16 m = pp - o0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (pp - o0)) - 1);
        for (int k = 0; k < 16; k++) {
            _mm512_mask_storeu_ps(pooled + (size_t)k * pp + o0, m, v[k]);
            _mm512_mask_storeu_epi32(argmax + (size_t)k * pp + o0, m, _mm512_castps_si512(idx[k]));
        }
    }
}

TARGET void conv_pool_fwd16_avx512(const conv_shape *sh, const pool_shape *ps, const float *src,
                                   const float *weights, const float *bias, int relu,
                                   float *pooled, int32_t *argmax, float *scratch) {
    int hp = sh->h + 2 * sh->pad, wp = sh->w + 2 * sh->pad;
    size_t crs = (size_t)sh->c * sh->r * sh->s, in_img = (size_t)sh->c * sh->h * sh->w;
    size_t pooled_img = (size_t)16 * ps->oh * ps->ow, tf = thread_floats(sh);
    float *wt = scratch, *base = scratch + round16(crs * 16);
    for (int k = 0; k < 16; k++)
        for (size_t t = 0; t < crs; t++) wt[t * 16 + k] = weights[k * crs + t];
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *pimg = base + tf * omp_get_thread_num(), *out = pimg + img_floats(sh);
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            const float *img = src + i * in_img;
            if (sh->pad) {
                conv_pad_image(sh, img, wp, (size_t)sh->c * hp * wp, pimg);
                img = pimg;
            }
            f16_image(sh, img, hp, wp, wt, bias, relu, out);
            f16_pool(sh, ps, out, pooled + i * pooled_img, argmax + i * pooled_img);
        }
    }
}
