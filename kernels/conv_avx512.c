/* Direct stride-1 convolution with AVX-512 for few input channels (LeNet
 * conv1: 1→6 on 28², 5×5; conv2: 6→16 on 14²; 3-channel 32² inputs), forward and backward-weights.
 *
 * Each input channel is copied into a zero-padded plane of width wp = w+2·pad.
 * On the "grid" q = oy·wp + ox (ox < wp, the last wp-ow columns are waste) the
 * input under tap t = (ci, y, x) is plane[ci][q + y·wp + x], a contiguous run,
 * so the convolution is a small GEMM whose B operand is read straight from the
 * plane without im2col:  grid[K][Q] = W[K][CRS] · plane[off[t] + q].
 * Efficiency is ow/wp of the lanes (28/32 for LeNet conv1). */
#include <immintrin.h>
#include <omp.h>
#include <string.h>

#include "kernels/conv_internal.h"

#define TARGET __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#define QB 64          /* grid positions per forward micro-tile: 4 vectors */
#define MAX_CRS 256

/* Geometry of the padded planes and the grid for one shape. */
typedef struct {
    int wp, q, crs;    /* plane width, grid length (multiple of QB), taps */
    size_t cs;         /* floats per padded plane (channel stride) */
    int off[MAX_CRS];  /* plane offset of each tap */
} geom;

static size_t round16(size_t x) { return (x + 15) & ~(size_t)15; }

static void geom_init(const conv_shape *sh, geom *g) {
    g->wp = sh->w + 2 * sh->pad;
    g->q = (sh->oh * g->wp + QB - 1) / QB * QB;
    g->crs = sh->c * sh->r * sh->s;
    /* The last grid tile reads up to q + (r-1)·wp + s-1 past the plane start. */
    g->cs = round16((size_t)g->q + (size_t)sh->r * g->wp + sh->s + 16);
    for (int ci = 0, t = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++)
            for (int x = 0; x < sh->s; x++) g->off[t++] = (int)(ci * g->cs) + y * g->wp + x;
}

/* Stride 1, few channels, and at least half the grid lanes useful. */
int conv_direct_fits(const conv_shape *sh) {
    int wp = sh->w + 2 * sh->pad, q = (sh->oh * wp + QB - 1) / QB * QB;
    return sh->stride == 1 && sh->c <= 8 && sh->c * sh->r * sh->s <= MAX_CRS && wp <= 128 &&
           sh->k <= 64 && 2 * sh->oh * sh->ow >= q;
}

/* Per thread: planes, grid (K×Q), vector accumulators (K×CRS×16), bias sums. */
static size_t thread_floats(const conv_shape *sh, const geom *g) {
    return g->cs * sh->c + (size_t)sh->k * g->q + (size_t)sh->k * g->crs * 16 +
           round16(sh->k) * 16;
}

size_t conv_direct_scratch_floats(const conv_shape *sh) {
    geom g;
    geom_init(sh, &g);
    return thread_floats(sh, &g) * (size_t)omp_get_max_threads();
}

/* planes[ci] = image channel ci, zero-padded to wp columns and beyond. */
static void pad_planes(const conv_shape *sh, const geom *g, const float *img, float *planes) {
    memset(planes, 0, sizeof(float) * g->cs * sh->c);
    for (int ci = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->h; y++)
            memcpy(planes + ci * g->cs + (size_t)(y + sh->pad) * g->wp + sh->pad,
                   img + ((size_t)ci * sh->h + y) * sh->w, sizeof(float) * sh->w);
}

/* grid[j][q..q+63] = sum_t w[j][t] · planes[off[t] + q..], for kb ≤ 6 filters. */
INLINE TARGET void fwd_tile(int kb, const geom *g, const float *planes, const float *w,
                            int q, float *grid) {
    __m512 acc[6][4];
    for (int j = 0; j < kb; j++)
        for (int v = 0; v < 4; v++) acc[j][v] = _mm512_setzero_ps();
    for (int t = 0; t < g->crs; t++) {
        const float *p = planes + g->off[t] + q;
        __m512 x0 = _mm512_loadu_ps(p), x1 = _mm512_loadu_ps(p + 16);
        __m512 x2 = _mm512_loadu_ps(p + 32), x3 = _mm512_loadu_ps(p + 48);
        for (int j = 0; j < kb; j++) {
            __m512 wv = _mm512_set1_ps(w[j * g->crs + t]);
            acc[j][0] = _mm512_fmadd_ps(wv, x0, acc[j][0]);
            acc[j][1] = _mm512_fmadd_ps(wv, x1, acc[j][1]);
            acc[j][2] = _mm512_fmadd_ps(wv, x2, acc[j][2]);
            acc[j][3] = _mm512_fmadd_ps(wv, x3, acc[j][3]);
        }
    }
    for (int j = 0; j < kb; j++)
        for (int v = 0; v < 4; v++) _mm512_storeu_ps(grid + (size_t)j * g->q + q + 16 * v, acc[j][v]);
}

static TARGET void fwd_block(int kb, const geom *g, const float *planes, const float *w,
                             float *grid) {
    for (int q = 0; q < g->q; q += QB) switch (kb) {
        case 6: fwd_tile(6, g, planes, w, q, grid); break;
        case 5: fwd_tile(5, g, planes, w, q, grid); break;
        case 4: fwd_tile(4, g, planes, w, q, grid); break;
        case 3: fwd_tile(3, g, planes, w, q, grid); break;
        case 2: fwd_tile(2, g, planes, w, q, grid); break;
        default: fwd_tile(1, g, planes, w, q, grid); break;
        }
}

/* dst row = grid row (first ow of wp columns) + bias, then ReLU. */
static TARGET void grid_to_dst(const conv_shape *sh, const geom *g, const float *grid,
                               const float *bias, int relu, float *dst) {
    for (int k = 0; k < sh->k; k++) {
        __m512 b = _mm512_set1_ps(bias ? bias[k] : 0.0f), zero = _mm512_setzero_ps();
        for (int oy = 0; oy < sh->oh; oy++) {
            const float *in = grid + (size_t)k * g->q + (size_t)oy * g->wp;
            float *out = dst + ((size_t)k * sh->oh + oy) * sh->ow;
            for (int ox = 0; ox < sh->ow; ox += 16) {
                int left = sh->ow - ox;
                __mmask16 m = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
                __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, in + ox), b);
                if (relu) v = _mm512_max_ps(v, zero);
                _mm512_mask_storeu_ps(out + ox, m, v);
            }
        }
    }
}

TARGET void conv_fwd_direct_avx512(const conv_shape *sh, const float *src, const float *weights,
                                   const float *bias, int relu, float *dst, float *scratch) {
    geom g;
    geom_init(sh, &g);
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)sh->k * sh->oh * sh->ow;
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *planes = scratch + thread_floats(sh, &g) * omp_get_thread_num();
        float *grid = planes + g.cs * sh->c;
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            pad_planes(sh, &g, src + i * in_img, planes);
            for (int k = 0; k < sh->k; k += 6) {
                int kb = sh->k - k < 6 ? sh->k - k : 6;
                fwd_block(kb, &g, planes, weights + (size_t)k * g.crs, grid + (size_t)k * g.q);
            }
            grid_to_dst(sh, &g, grid, bias, relu, dst + i * out_img);
        }
    }
}

/* grid[k][oy·wp + ox] = diff_dst[k][oy][ox], zero in the waste columns and the
 * tail; bsum[k] (16 lanes) += the values. */
static TARGET void dst_to_grid(const conv_shape *sh, const geom *g, const float *dd, float *grid,
                               float *bsum) {
    memset(grid, 0, sizeof(float) * sh->k * g->q);
    for (int k = 0; k < sh->k; k++) {
        __m512 s = _mm512_loadu_ps(bsum + 16 * k);
        for (int oy = 0; oy < sh->oh; oy++) {
            const float *in = dd + ((size_t)k * sh->oh + oy) * sh->ow;
            float *out = grid + (size_t)k * g->q + (size_t)oy * g->wp;
            for (int ox = 0; ox < sh->ow; ox += 16) {
                int left = sh->ow - ox;
                __mmask16 m = left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1);
                __m512 v = _mm512_maskz_loadu_ps(m, in + ox);
                s = _mm512_add_ps(s, v);
                _mm512_mask_storeu_ps(out + ox, m, v);
            }
        }
        _mm512_storeu_ps(bsum + 16 * k, s);
    }
}

/* acc[j][t0+u] (16 lanes each) += sum_q grid[j][q] · planes[off[t0+u] + q],
 * for kb ≤ 6 filters and tb ≤ 4 taps: 24 accumulators in registers; each
 * (unaligned) plane load feeds kb FMAs. */
INLINE TARGET void bww_tile(int kb, int tb, const geom *g, const float *grid, const float *planes,
                            int t0, float *acc) {
    __m512 a[6][4];
    const float *p[4];
    for (int u = 0; u < tb; u++) p[u] = planes + g->off[t0 + u];
    for (int j = 0; j < kb; j++)
        for (int u = 0; u < tb; u++) a[j][u] = _mm512_setzero_ps();
    for (int q = 0; q < g->q; q += 16) {
        __m512 d[6];
        for (int j = 0; j < kb; j++) d[j] = _mm512_loadu_ps(grid + (size_t)j * g->q + q);
        for (int u = 0; u < tb; u++) {
            __m512 x = _mm512_loadu_ps(p[u] + q);
            for (int j = 0; j < kb; j++) a[j][u] = _mm512_fmadd_ps(d[j], x, a[j][u]);
        }
    }
    for (int j = 0; j < kb; j++)
        for (int u = 0; u < tb; u++) {
            float *o = acc + ((size_t)j * g->crs + t0 + u) * 16;
            _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), a[j][u]));
        }
}

#define BWW_TB(kb)                                                                        \
    switch (tb) {                                                                         \
    case 4: bww_tile(kb, 4, g, grid, planes, t, acc); break;                              \
    case 3: bww_tile(kb, 3, g, grid, planes, t, acc); break;                              \
    case 2: bww_tile(kb, 2, g, grid, planes, t, acc); break;                              \
    default: bww_tile(kb, 1, g, grid, planes, t, acc); break;                             \
    }

/* One filter block (kb ≤ 6) over all taps of one image. */
static TARGET void bww_block(int kb, const geom *g, const float *grid, const float *planes,
                             float *acc) {
    for (int t = 0; t < g->crs; t += 4) {
        int tb = g->crs - t < 4 ? g->crs - t : 4;
        switch (kb) {
        case 6: BWW_TB(6) break;
        case 5: BWW_TB(5) break;
        case 4: BWW_TB(4) break;
        case 3: BWW_TB(3) break;
        case 2: BWW_TB(2) break;
        default: BWW_TB(1) break;
        }
    }
}

static TARGET float hsum(const float *v16) { return _mm512_reduce_add_ps(_mm512_loadu_ps(v16)); }

TARGET void conv_bwd_w_direct_avx512(const conv_shape *sh, const float *src, const float *diff_dst,
                                     float *diff_weights, float *diff_bias, float *scratch) {
    geom g;
    geom_init(sh, &g);
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)sh->k * sh->oh * sh->ow;
    size_t tf = thread_floats(sh, &g), nacc = (size_t)sh->k * g.crs * 16;
    size_t acc_off = g.cs * sh->c + (size_t)sh->k * g.q;
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *planes = scratch + tf * omp_get_thread_num();
        float *grid = planes + g.cs * sh->c, *acc = planes + acc_off, *bsum = acc + nacc;
        memset(acc, 0, sizeof(float) * (nacc + (size_t)sh->k * 16));
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            pad_planes(sh, &g, src + i * in_img, planes);
            dst_to_grid(sh, &g, diff_dst + i * out_img, grid, bsum);
            for (int k = 0; k < sh->k; k += 6) {
                int kb = sh->k - k < 6 ? sh->k - k : 6;
                bww_block(kb, &g, grid + (size_t)k * g.q, planes, acc + (size_t)k * g.crs * 16);
            }
        }
    }
    /* Threads' partials in a fixed order, then the 16 lanes. */
    for (size_t j = 0; j < (size_t)sh->k * g.crs; j++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++) s += hsum(scratch + tf * t + acc_off + j * 16);
        diff_weights[j] = s;
    }
    for (int k = 0; diff_bias && k < sh->k; k++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++) s += hsum(scratch + tf * t + acc_off + nacc + 16 * k);
        diff_bias[k] = s;
    }
}
