/* Backward-weights of a convolution fused with the 2×2 max-pool of its
 * output, on the pool's grid (LeNet conv1: 1→6 on 28², 5×5, pad 2, pooled
 * 14²). Only the pooled positions carry a gradient, each at one of the four
 * outputs of its window, so the output gradient splits by the argmax's
 * place (a, b) in the window into four planes of the pool's size:
 *     g_ab[k][py][px] = pooled_diff[k][py][px] where argmax is (2py + a, 2px + b), else 0
 *     dw[k][ci][y][x] = sum over (a, b, py, px) of g_ab[k][py][px] ·
 *                       img[ci][2py + a + y - pad][2px + b + x - pad]
 * and the input under a tap, on that grid, is a contiguous run of the
 * padded image's columns of one parity: two "decimated" planes per channel,
 * d[par][row][j] = padded[row][2j + par]. A vector is one pooled row (14 of
 * 16 lanes on LeNet conv1), a register tile 6 filters × 4 taps over the
 * image's 4·poh vectors, as the shifted-plane path's tile.
 *
 * Against the shifted-plane path with the pool's backward pass (routing
 * the gradient into the full 28² planes, three quarters zeros, then 5
 * shifted copies of the image): the routing is a compare and a masked move
 * per (a, b) with no permute, the planes two permutes per image row; the
 * tile does 896 lanes of positions per image instead of 784. The sums run
 * over the positions in another order, so the weight gradients differ from
 * that path's by rounding. */
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/decimate_avx512.h"

#define TARGET __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#define DROW DECIMATED_ROW
#define KB 6     /* filters a tile */
#define TB 4     /* taps a tile */
#define MAX_C 4
#define MAX_CRS 128


/* One input row in two vectors, the pooled row in one, few channels and
 * taps, whole pool windows (2×2 stride 2 is conv_pool_direct_fits's). */
int conv_pool_bww_suits(const conv_shape *sh) {
    return sh->stride == 1 && sh->c <= MAX_C && sh->c * sh->r * sh->s <= MAX_CRS &&
           sh->w <= 32 && sh->w + sh->pad <= 32 && sh->oh >= 2 && sh->ow >= 2 &&
           sh->ow / 2 <= 16 && sh->s / 2 + 16 <= DROW && sh->pad < sh->r && sh->pad < sh->s;
}

/* Per thread: the decimated planes (c × 2 × hp rows), the routed gradient
 * (k × 4 × poh vectors), the vector accumulators (k × crs) and bias sums (k). */
static size_t grad_floats(const conv_shape *sh) { return (size_t)sh->k * 4 * (sh->oh / 2) * 16; }
static size_t acc_floats(const conv_shape *sh) {
    return ((size_t)sh->k * sh->c * sh->r * sh->s + sh->k) * 16;
}
static size_t thread_floats(const conv_shape *sh) {
    return decimated_floats(sh) + grad_floats(sh) + acc_floats(sh);
}
size_t conv_pool_bww_scratch_floats(const conv_shape *sh) {
    return thread_floats(sh) * (size_t)omp_get_max_threads();
}

/* g[k][(2a + b)·poh + py][px] from the pooled gradient, argmax and (a ReLU
 * before the pool) mask of one image; bsum[k] += the masked gradient. */
static TARGET void route(const conv_shape *sh, const float *pd, const int32_t *am,
                         const float *mask, float *g, float *bsum) {
    int poh = sh->oh / 2, pw = sh->ow / 2;
    __mmask16 m = (__mmask16)((1u << pw) - 1);
    const __m512i two = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int k = 0; k < sh->k; k++) {
        __m512 bs = _mm512_loadu_ps(bsum + 16 * k);
        for (int py = 0; py < poh; py++) {
            size_t at = ((size_t)k * poh + py) * pw;
            __m512 v = _mm512_maskz_loadu_ps(m, pd + at);
            if (mask) /* relu_bwd's rule: kept where mask > 0, else +0 */
                v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, mask + at),
                                                           _mm512_setzero_ps(), _CMP_GT_OQ),
                                        v);
            bs = _mm512_add_ps(bs, v);
            __m512i a = _mm512_maskz_loadu_epi32(m, am + at);
            __m512i base = _mm512_add_epi32(two, _mm512_set1_epi32(2 * py * sh->ow));
            for (int ab = 0; ab < 4; ab++) {
                __m512i here = _mm512_add_epi32(base, _mm512_set1_epi32((ab >> 1) * sh->ow + (ab & 1)));
                __mmask16 hit = _mm512_mask_cmpeq_epi32_mask(m, a, here);
                _mm512_storeu_ps(g + (((size_t)k * 4 + ab) * poh + py) * 16,
                                 _mm512_maskz_mov_ps(hit, v));
            }
        }
        _mm512_storeu_ps(bsum + 16 * k, bs);
    }
}

/* acc[j][t0 + u] (16 lanes) += sum over the image's 4·poh vectors of
 * g[j][·] · the input under tap t0 + u, for kb ≤ 6 filters and tb ≤ 4 taps. */
INLINE TARGET void tile(int kb, int tb, const conv_shape *sh, const float *g, const float *d,
                        int t0, float *acc) {
    int poh = sh->oh / 2, hp = sh->h + 2 * sh->pad, rs = sh->r * sh->s;
    int crs = sh->c * rs;
    __m512 s[KB][TB];
    for (int j = 0; j < kb; j++)
        for (int u = 0; u < tb; u++) s[j][u] = _mm512_setzero_ps();
    for (int ab = 0; ab < 4; ab++) {
        int a = ab >> 1, b = ab & 1;
        const float *px[TB];
        for (int u = 0; u < tb; u++) {
            int t = t0 + u, ci = t / rs, y = t % rs / sh->s, x = t % sh->s;
            px[u] = d + (((size_t)ci * 2 + ((b + x) & 1)) * hp + a + y) * DROW + ((b + x) >> 1);
        }
        const float *gab = g + (size_t)ab * poh * 16;
        for (int py = 0; py < poh; py++) {
            __m512 dv[KB];
            for (int j = 0; j < kb; j++)
                dv[j] = _mm512_loadu_ps(gab + ((size_t)j * 4 * poh + py) * 16);
            for (int u = 0; u < tb; u++) {
                __m512 xv = _mm512_loadu_ps(px[u] + (size_t)py * 2 * DROW);
                for (int j = 0; j < kb; j++) s[j][u] = _mm512_fmadd_ps(dv[j], xv, s[j][u]);
            }
        }
    }
    for (int j = 0; j < kb; j++)
        for (int u = 0; u < tb; u++) {
            float *o = acc + ((size_t)j * crs + t0 + u) * 16;
            _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), s[j][u]));
        }
}

#define TILE_TB(kb)                                                                       \
    switch (tb) {                                                                         \
    case 4: tile(kb, 4, sh, gk, d, t, ak); break;                                         \
    case 3: tile(kb, 3, sh, gk, d, t, ak); break;                                         \
    case 2: tile(kb, 2, sh, gk, d, t, ak); break;                                         \
    default: tile(kb, 1, sh, gk, d, t, ak); break;                                        \
    }

/* All filters and taps of one image (g, d: its routed gradient and planes). */
static TARGET void image_tiles(const conv_shape *sh, const float *g, const float *d, float *acc) {
    int crs = sh->c * sh->r * sh->s, poh = sh->oh / 2;
    for (int k = 0; k < sh->k; k += KB) {
        int kb = sh->k - k < KB ? sh->k - k : KB;
        const float *gk = g + (size_t)k * 4 * poh * 16;
        float *ak = acc + (size_t)k * crs * 16;
        for (int t = 0; t < crs; t += TB) {
            int tb = crs - t < TB ? crs - t : TB;
            switch (kb) {
            case 6: TILE_TB(6) break;
            case 5: TILE_TB(5) break;
            case 4: TILE_TB(4) break;
            case 3: TILE_TB(3) break;
            case 2: TILE_TB(2) break;
            default: TILE_TB(1) break;
            }
        }
    }
}

static TARGET float hsum(const float *v16) { return _mm512_reduce_add_ps(_mm512_loadu_ps(v16)); }

TARGET void conv_pool_bww_avx512(const conv_shape *sh, const float *src, const float *pooled_diff,
                                 const int32_t *argmax, const float *mask, float *diff_weights,
                                 float *diff_bias, float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w;
    size_t pooled_img = (size_t)sh->k * (sh->oh / 2) * (sh->ow / 2);
    size_t tf = thread_floats(sh), nw = (size_t)sh->k * sh->c * sh->r * sh->s;
    size_t acc_off = decimated_floats(sh) + grad_floats(sh);
    parity_cols pc;
    parity_cols_init(sh, &pc);
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *d = scratch + tf * omp_get_thread_num(), *g = d + decimated_floats(sh);
        float *acc = d + acc_off, *bsum = acc + nw * 16;
        memset(d, 0, sizeof(float) * tf);
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            size_t at = i * pooled_img;
            decimate_image(sh, &pc, src + i * in_img, d);
            route(sh, pooled_diff + at, argmax + at, mask ? mask + at : NULL, g, bsum);
            image_tiles(sh, g, d, acc);
        }
    }
    /* Threads' partials in a fixed order, then the 16 lanes. */
    for (size_t j = 0; j < nw; j++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++) s += hsum(scratch + tf * t + acc_off + j * 16);
        diff_weights[j] = s;
    }
    for (int k = 0; diff_bias && k < sh->k; k++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++) s += hsum(scratch + tf * t + acc_off + (nw + k) * 16);
        diff_bias[k] = s;
    }
}
