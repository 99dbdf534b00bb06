/* Direct stride-1 convolution with AVX-512 for few input channels (LeNet
 * conv1: 1→6 on 28², 5×5; conv2: 6→16 on 14²; 3-channel 32² inputs), forward,
 * backward-weights and backward-data.
 *
 * Each input channel ci is expanded along the filter's x axis into s
 * "shifted planes": xs[ci][x][iy][ox] = padded_src[ci][iy][ox + x], rows of
 * ow floats (5× the input, but no wasted column). On the compact output
 * raster p = oy·ow + ox, the input under tap t = (ci, y, x) is then
 * xs[ci][x][p + y·ow], a contiguous run, so the convolution is a small GEMM
 * whose B operand is read straight from the planes without im2col:
 *     dst[K][P] = W[K][CRS] · xs[off[t] + p]
 * with 16 output positions per vector and only the last vector of a plane
 * partly used (LeNet conv2: 100 of 112 lanes; conv1: all 784).
 *
 * Backward-weights with 16 filters reads the image in place with the filters
 * in the lanes instead (conv_bwd_w_16_avx512); fused with a max-pool and
 * fewer filters (LeNet conv1) it runs on the pool's grid
 * (conv_pool_bww_avx512.c). Backward-data runs a GEMM and
 * a col2im for small planes (conv_bwd_d_gemm_avx512) and reuses the forward
 * tile with the taps split differently for larger ones
 * (conv_bwd_d_planes_avx512). */
#include <immintrin.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/conv_partials.h"
#include "kernels/conv_planes.h"
#include "kernels/pool_internal.h"

#define TARGET __attribute__((target("avx512f")))
#define INLINE static inline __attribute__((always_inline))
#define QV 4           /* forward micro-tile: up to 4 vectors of positions... */
#define KB 6           /* ...times up to 6 filters */
#define MAX_CRS CONV_PLANES_MAX_CRS

static size_t round16(size_t x) { return (x + 15) & ~(size_t)15; }

INLINE TARGET __mmask16 lanes(int left) {
    return left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
}

int conv_direct_fits(const conv_shape *sh) { return conv_planes_fits(sh, 8, 16); }

/* Backward-weights expands a group of images at a time and runs each
 * register tile over all of them before it adds to the accumulators in
 * memory: for LeNet conv2 (100 positions, 7 vectors) a tile of one image
 * did 168 FMAs per 24 loads, adds and stores of its accumulators, and ran at
 * 55 % of peak. A plane with many vectors needs no group: LeNet conv1 (49
 * vectors, 18 KB of planes per image) ran 0.53 ms with groups of 8 (146 KB
 * of planes, swept from L2 by each tile) and 0.35 ms with 1 (batch 128,
 * 1 thread). So a group holds up to BWW_GROUP images, as many as keep a
 * tile's run within BWW_VECS vectors (LeNet conv2: 8; conv1: 1). */
#define BWW_GROUP 8
#define BWW_VECS 56

/* Per thread: shifted planes (a group's for backward-weights), then
 * (backward-weights) vector accumulators (K×CRS×16) and bias sums, then
 * (fused with a max-pool) the group's output gradients. Forward fused with
 * a pool takes the planes and one image's output (fits in the same). */
static size_t image_out_floats(const conv_shape *sh, const conv_planes *g) {
    return round16((size_t)sh->k * g->p);
}
static size_t bww_dd_off(const conv_shape *sh, const conv_planes *g) {
    return conv_planes_floats(sh, g) * conv_planes_group(g, BWW_VECS, BWW_GROUP) +
           (size_t)sh->k * g->crs * 16 + round16(sh->k) * 16;
}
static size_t thread_floats(const conv_shape *sh, const conv_planes *g) {
    return bww_dd_off(sh, g) + image_out_floats(sh, g) * conv_planes_group(g, BWW_VECS, BWW_GROUP);
}
static size_t fwd_thread_floats(const conv_shape *sh, const conv_planes *g, int pooled) {
    return conv_planes_floats(sh, g) + (pooled ? image_out_floats(sh, g) : 0);
}

static size_t bwd_d_scratch_floats(const conv_shape *sh);
static int bw16_suits(const conv_shape *sh);
static size_t bw16_thread_floats(const conv_shape *sh);

size_t conv_direct_scratch_floats(const conv_shape *sh) {
    conv_planes g;
    size_t need = 0;
    if (conv_planes_fits(sh, 8, 16)) {
        conv_planes_init(sh, 16, &g);
        need = thread_floats(sh, &g) * (size_t)omp_get_max_threads();
        size_t b = bw16_thread_floats(sh) * (size_t)omp_get_max_threads();
        if (bw16_suits(sh) && b > need) need = b;
        if (conv_fwd16_suits(sh) && conv_fwd16_scratch_floats(sh) > need)
            need = conv_fwd16_scratch_floats(sh);
        if (conv_pool_rows_suits(sh) && conv_pool_rows_scratch_floats(sh) > need)
            need = conv_pool_rows_scratch_floats(sh);
        if (conv_pool_bww_suits(sh) && conv_pool_bww_scratch_floats(sh) > need)
            need = conv_pool_bww_scratch_floats(sh);
    }
    if (conv_bwd_d_direct_fits(sh)) {
        size_t b = bwd_d_scratch_floats(sh);
        if (b > need) need = b;
    }
    return need;
}


/* Writes the shifted planes of one image. Padding rows at the top stay zero
 * from a memset at the start of the call; each row is stored whole, with its
 * zero columns, in 16-float chunks (unmasked: a chunk past the row's end
 * spills into the next row, which is written afterwards), and the rows below
 * the image, where the last row spilled, are zeroed again. */
static TARGET void expand(const conv_shape *sh, const conv_planes *g, const float *img,
                          const float *lo_ok, const float *hi_ok, float *xs) {
    size_t rows_end = (size_t)(sh->h + sh->pad) * g->ow;
    size_t tail = g->pl - rows_end; /* bottom padding rows and slack */
    for (int ci = 0; ci < sh->c; ci++)
        for (int x = 0; x < sh->s; x++) {
            int lo = sh->pad - x > 0 ? sh->pad - x : 0;
            int hi = sh->w + sh->pad - x < sh->ow ? sh->w + sh->pad - x : sh->ow;
            float *plane = xs + ((size_t)ci * sh->s + x) * g->pl;
            const float *in = img + (size_t)ci * sh->h * sh->w + x - sh->pad;
            __mmask16 m[8]; /* per chunk j: the lanes with lo ≤ ox < hi */
            __m512i mv[8];  /* the same as all-ones lanes */
            for (int j = 0; j < g->ow; j += 16) {
                int a = lo > j ? lo - j : 0, b = hi - j < 16 ? hi - j : 16;
                m[j / 16] = b > a ? (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1)) : 0;
                mv[j / 16] = _mm512_maskz_mov_epi32(m[j / 16], _mm512_set1_epi32(-1));
            }
            float *out = plane + (size_t)sh->pad * g->ow;
            /* Plain loads where all rows' 16-float reads lie inside the
             * tensor (masked loads are slow on Zen 4), masked ones else. */
            int inside = in >= lo_ok && in + (size_t)(sh->h - 1) * sh->w + g->ow + 16 <= hi_ok;
            if (inside && g->ow <= 16) {
                for (int iy = 0; iy < sh->h; iy++, out += g->ow, in += sh->w)
                    _mm512_storeu_ps(out, _mm512_castsi512_ps(_mm512_and_si512(
                                              _mm512_loadu_si512(in), mv[0])));
            } else {
                for (int iy = 0; iy < sh->h; iy++, out += g->ow, in += sh->w)
                    for (int j = 0; j < g->ow; j += 16)
                        _mm512_storeu_ps(out + j,
                                         inside ? _mm512_castsi512_ps(_mm512_and_si512(
                                                      _mm512_loadu_si512(in + j), mv[j / 16]))
                                                : _mm512_maskz_loadu_ps(m[j / 16], in + j));
            }
            for (size_t j = 0; j < tail; j += 16)
                _mm512_mask_storeu_ps(plane + rows_end + j, lanes((int)(tail - j)),
                                      _mm512_setzero_ps());
        }
}

/* dst[j][q..q+16·qv) = bias[j] + sum_t w[j][t] · xs[off[t] + q..], then ReLU,
 * for kb ≤ 6 filters; lanes past p are not stored. */
INLINE TARGET void fwd_tile(int kb, int qv, const conv_planes *g, const float *xs, const float *w,
                            const float *bias, int relu, int q, float *dst) {
    __m512 acc[KB][QV];
    for (int j = 0; j < kb; j++)
        for (int v = 0; v < qv; v++) acc[j][v] = _mm512_setzero_ps();
    for (int t = 0; t < g->crs; t++) {
        const float *p = xs + g->off[t] + q;
        __m512 x[QV];
        for (int v = 0; v < qv; v++) x[v] = _mm512_loadu_ps(p + 16 * v);
        for (int j = 0; j < kb; j++) {
            __m512 wv = _mm512_set1_ps(w[j * g->crs + t]);
            for (int v = 0; v < qv; v++) acc[j][v] = _mm512_fmadd_ps(wv, x[v], acc[j][v]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    for (int j = 0; j < kb; j++) {
        __m512 b = _mm512_set1_ps(bias ? bias[j] : 0.0f);
        for (int v = 0; v < qv; v++) {
            __m512 o = _mm512_add_ps(acc[j][v], b);
            if (relu) o = _mm512_max_ps(o, zero);
            _mm512_mask_storeu_ps(dst + (size_t)j * g->p + q + 16 * v, lanes(g->p - q - 16 * v), o);
        }
    }
}

#define FWD_QV(kb)                                                                        \
    switch (qv) {                                                                         \
    case 4: fwd_tile(kb, 4, g, xs, w, bias, relu, q, dst); break;                         \
    case 3: fwd_tile(kb, 3, g, xs, w, bias, relu, q, dst); break;                         \
    case 2: fwd_tile(kb, 2, g, xs, w, bias, relu, q, dst); break;                         \
    default: fwd_tile(kb, 1, g, xs, w, bias, relu, q, dst); break;                        \
    }

/* One filter block (kb ≤ 6) over all positions of one image; the vectors
 * are split into balanced chunks of at most QV. */
static TARGET void fwd_block(int kb, const conv_planes *g, const float *xs, const float *w,
                             const float *bias, int relu, float *dst) {
    int chunks = (g->pv + QV - 1) / QV;
    for (int c = 0, v0 = 0; c < chunks; c++) {
        int qv = (g->pv - v0) / (chunks - c), q = 16 * v0;
        v0 += qv;
        switch (kb) {
        case 6: FWD_QV(6) break;
        case 5: FWD_QV(5) break;
        case 4: FWD_QV(4) break;
        case 3: FWD_QV(3) break;
        case 2: FWD_QV(2) break;
        default: FWD_QV(1) break;
        }
    }
}

/* Each output plane of one image (k of them, p floats apart) pooled. */
static void pool_image(const pool_shape *ps, const float *out, float *pooled, int32_t *argmax) {
    size_t in_plane = (size_t)ps->h * ps->w, out_plane = (size_t)ps->oh * ps->ow;
    for (int j = 0; j < ps->c; j++)
        maxpool_fwd_plane_avx512(ps, out + j * in_plane, pooled + j * out_plane,
                                 argmax + j * out_plane);
}

/* The forward pass; with ps, each image's output goes to the thread's
 * scratch (in L1: LeNet conv1's is 18 KB beside 18 KB of planes) and only
 * its max-pool reaches dst (pooled) and argmax. */
static TARGET void fwd_direct(const conv_shape *sh, const pool_shape *ps, const float *src,
                              const float *weights, const float *bias, int relu, float *dst,
                              int32_t *argmax, float *scratch) {
    conv_planes g;
    conv_planes_init(sh, 16, &g);
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)sh->k * g.p;
    size_t dst_img = ps ? (size_t)ps->c * ps->oh * ps->ow : out_img;
    size_t tf = fwd_thread_floats(sh, &g, ps != NULL);
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *xs = scratch + tf * omp_get_thread_num(), *own = xs + conv_planes_floats(sh, &g);
        memset(xs, 0, sizeof(float) * conv_planes_floats(sh, &g));
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            float *out = ps ? own : dst + i * out_img;
            expand(sh, &g, src + i * in_img, src, src + sh->n * in_img, xs);
            for (int k = 0; k < sh->k; k += KB) {
                int kb = sh->k - k < KB ? sh->k - k : KB;
                fwd_block(kb, &g, xs, weights + (size_t)k * g.crs, bias ? bias + k : NULL, relu,
                          out + (size_t)k * g.p);
            }
            if (ps) pool_image(ps, out, dst + i * dst_img, argmax + i * dst_img);
        }
    }
}

TARGET void conv_fwd_direct_avx512(const conv_shape *sh, const float *src, const float *weights,
                                   const float *bias, int relu, float *dst, float *scratch) {
    fwd_direct(sh, NULL, src, weights, bias, relu, dst, NULL, scratch);
}

int conv_pool_direct_fits(const conv_shape *sh, const pool_shape *ps) {
    return conv_direct_fits(sh) && maxpool_plane_avx512_fits(ps) && ps->n == sh->n &&
           ps->c == sh->k && ps->h == sh->oh && ps->w == sh->ow;
}

TARGET void conv_pool_fwd_direct_avx512(const conv_shape *sh, const pool_shape *ps,
                                        const float *src, const float *weights, const float *bias,
                                        int relu, float *pooled, int32_t *argmax,
                                        float *scratch) {
    if (conv_fwd16_suits(sh))
        conv_pool_fwd16_avx512(sh, ps, src, weights, bias, relu, pooled, argmax, scratch);
    else if (conv_pool_rows_suits(sh))
        conv_pool_rows_avx512(sh, ps, src, weights, bias, relu, pooled, argmax, scratch);
    else
        fwd_direct(sh, ps, src, weights, bias, relu, pooled, argmax, scratch);
}

/* Where backward-weights reads an image's output gradient: diff_dst itself,
 * or, fused with a max-pool, the pool's gradient routed back (and masked by
 * the ReLU's rule) into a buffer of the thread's: the full-size gradient,
 * three quarters zeros, never goes through memory beyond L1. */
typedef struct {
    const float *dense;                /* diff_dst, or NULL: from the pool */
    const pool_shape *ps;
    const float *pooled, *mask;        /* the pool's output gradient and output (mask) */
    const int32_t *argmax;
    size_t out_img;                    /* floats of one image's diff_dst */
} diff_in;

static TARGET const float *image_diff(const diff_in *d, int i, float *buf) {
    if (d->dense) return d->dense + (size_t)i * d->out_img;
    size_t plane = (size_t)d->ps->h * d->ps->w, pp = (size_t)d->ps->oh * d->ps->ow;
    for (int j = 0; j < d->ps->c; j++) {
        size_t at = ((size_t)i * d->ps->c + j) * pp;
        maxpool_bwd_plane_avx512(d->ps, d->pooled + at, d->argmax + at,
                                 d->mask ? d->mask + at : NULL, buf + j * plane);
    }
    return buf;
}

/* acc[j][t0+u] (16 lanes each) += sum over the group's images and p of
 * dd[j][p] · xs[off[t0+u] + p], for kb ≤ 6 filters and tb ≤ 4 taps: 24
 * accumulators in registers. Whole vectors load plainly; the last, partial
 * one masks dd (the planes past p hold finite values). */
INLINE TARGET void bww_tile(int kb, int tb, const conv_planes *g, int images,
                            const float *const *dd, const float *xs, size_t xs_stride, int t0,
                            float *acc) {
    __m512 a[6][4];
    int full = g->p & ~15;
    __mmask16 tail = lanes(g->p - full);
    for (int j = 0; j < kb; j++)
        for (int u = 0; u < tb; u++) a[j][u] = _mm512_setzero_ps();
    for (int i = 0; i < images; i++) {
        const float *px[4], *di = dd[i];
        for (int u = 0; u < tb; u++) px[u] = xs + xs_stride * i + g->off[t0 + u];
        for (int q = 0; q <= full; q += 16) {
            if (q == full && !tail) break;
            __m512 d[6];
            for (int j = 0; j < kb; j++)
                d[j] = q < full ? _mm512_loadu_ps(di + (size_t)j * g->p + q)
                                : _mm512_maskz_loadu_ps(tail, di + (size_t)j * g->p + q);
            for (int u = 0; u < tb; u++) {
                __m512 x = _mm512_loadu_ps(px[u] + q);
                for (int j = 0; j < kb; j++) a[j][u] = _mm512_fmadd_ps(d[j], x, a[j][u]);
            }
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
    case 4: bww_tile(kb, 4, g, images, dd, xs, xs_stride, t, acc); break;                 \
    case 3: bww_tile(kb, 3, g, images, dd, xs, xs_stride, t, acc); break;                 \
    case 2: bww_tile(kb, 2, g, images, dd, xs, xs_stride, t, acc); break;                 \
    default: bww_tile(kb, 1, g, images, dd, xs, xs_stride, t, acc); break;                \
    }

/* One filter block (kb ≤ 6) over all taps of a group of images (dd[i]: the
 * block's first filter's gradient in image i). */
static TARGET void bww_block(int kb, const conv_planes *g, int images, const float *const *dd,
                             const float *xs, size_t xs_stride, float *acc) {
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

/* bsum[k] (16 lanes) += diff_dst[k][·] of one image. */
static TARGET void bias_sums(int k, int p, const float *dd, float *bsum) {
    for (int j = 0; j < k; j++) {
        __m512 s = _mm512_loadu_ps(bsum + 16 * j);
        for (int q = 0; q < p; q += 16)
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(lanes(p - q), dd + (size_t)j * p + q));
        _mm512_storeu_ps(bsum + 16 * j, s);
    }
}

static TARGET float hsum(const float *v16) { return _mm512_reduce_add_ps(_mm512_loadu_ps(v16)); }

static TARGET void conv_bwd_w_planes_avx512(const conv_shape *sh, const float *src,
                                            const diff_in *din, float *diff_weights,
                                            float *diff_bias, float *scratch) {
    conv_planes g;
    conv_planes_init(sh, 16, &g);
    size_t in_img = (size_t)sh->c * sh->h * sh->w, own = image_out_floats(sh, &g);
    size_t tf = thread_floats(sh, &g), nacc = (size_t)sh->k * g.crs * 16;
    int group = conv_planes_group(&g, BWW_VECS, BWW_GROUP);
    size_t plane_set = conv_planes_floats(sh, &g), acc_off = plane_set * group;
    int groups = (sh->n + group - 1) / group;
    int nt = omp_get_max_threads() < groups ? omp_get_max_threads() : groups;
#pragma omp parallel num_threads(nt)
    {
        float *xs = scratch + tf * omp_get_thread_num();
        float *acc = xs + acc_off, *bsum = acc + nacc, *dbuf = xs + bww_dd_off(sh, &g);
        memset(xs, 0, sizeof(float) * tf);
#pragma omp for schedule(static)
        for (int grp = 0; grp < groups; grp++) {
            int first = grp * group;
            int images = sh->n - first < group ? sh->n - first : group;
            const float *di[BWW_GROUP];
            for (int i = 0; i < images; i++) {
                const float *img = src + (size_t)(first + i) * in_img;
                expand(sh, &g, img, src, src + sh->n * in_img, xs + plane_set * i);
                di[i] = image_diff(din, first + i, dbuf + own * i);
                if (diff_bias) bias_sums(sh->k, g.p, di[i], bsum);
            }
            for (int k = 0; k < sh->k; k += KB) {
                int kb = sh->k - k < KB ? sh->k - k : KB;
                const float *dd[BWW_GROUP];
                for (int i = 0; i < images; i++) dd[i] = di[i] + (size_t)k * g.p;
                bww_block(kb, &g, images, dd, xs, plane_set, acc + (size_t)k * g.crs * 16);
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

/* Backward-weights for 16 filters, which fill the lanes:
 *     dwt[ci,y,x][k] += sum over positions (oy, ox) of
 *                       img[ci][oy + y][ox + x] · ddt[oy·ow + ox][k]
 * with img the (padded) input image and ddt = diff_dst transposed, so each
 * FMA broadcasts one input value and no lane idles (the planes path fills
 * 100 of 112 lanes on LeNet conv2). A tile holds the taps of up to 5 filter
 * rows y of one channel in registers (5×5 for LeNet conv2) over all
 * positions of an image, reading the image in place: no shifted planes
 * (their expansion took ~0.15 of the 0.77 ms that the planes path spent on
 * LeNet conv2 at batch 128, 1 thread). Per position: one ddt load and 25
 * broadcast-FMAs. LeNet conv2, batch 128, 1 thread, kernel microbenchmark:
 * 0.77 -> 0.41 ms (85 % of peak). The transpose is a gather per position
 * (100 per image), the bias sums one add each. */
#define BW16_RY 5
#define BW16_MAX_S 5

static int bw16_suits(const conv_shape *sh) { return sh->k == 16 && sh->s <= BW16_MAX_S; }

/* Per thread: the padded image (when pad > 0), ddt (p·16), dwt (c·r·s·16),
 * bias sums (16) and (fused with a max-pool) one image's output gradient. */
static size_t bw16_img_floats(const conv_shape *sh) {
    return sh->pad ? (size_t)sh->c * (sh->h + 2 * sh->pad) * (sh->w + 2 * sh->pad) : 0;
}
static size_t bw16_thread_floats(const conv_shape *sh) {
    return round16(bw16_img_floats(sh)) + (size_t)sh->oh * sh->ow * 16 +
           (size_t)sh->c * sh->r * sh->s * 16 + 16 + round16((size_t)sh->oh * sh->ow * 16);
}

/* ddt[q][k] = dd[k][q] for one image's p positions; bsum += each ddt[q]. */
static TARGET void bw16_transpose(int p, const float *dd, float *ddt, float *bsum) {
    const __m512i idx = _mm512_mullo_epi32(
        _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(p));
    __m512 b = _mm512_loadu_ps(bsum);
    for (int q = 0; q < p; q++) {
        __m512 v = _mm512_i32gather_ps(idx, dd + q, 4);
        _mm512_storeu_ps(ddt + 16 * q, v);
        b = _mm512_add_ps(b, v);
    }
    _mm512_storeu_ps(bsum, b);
}

/* dwt[u·s + x][·] += sum over positions of img[(oy + u)·wp + ox + x] ·
 * ddt[oy·ow + ox][·], for ry ≤ 5 filter rows u and s ≤ 5 taps x (img: the
 * first row's channel plane at row y0, wp floats a row). */
INLINE TARGET void bw16_tile(int ry, int s, const conv_shape *sh, int wp, const float *img,
                             const float *ddt, float *dwt) {
    __m512 a[BW16_RY][BW16_MAX_S];
    for (int u = 0; u < ry; u++)
        for (int x = 0; x < s; x++) a[u][x] = _mm512_setzero_ps();
    for (int oy = 0; oy < sh->oh; oy++) {
        const float *rp[BW16_RY], *d = ddt + (size_t)oy * sh->ow * 16;
        for (int u = 0; u < ry; u++) rp[u] = img + (size_t)(oy + u) * wp;
        for (int ox = 0; ox < sh->ow; ox++, d += 16) {
            __m512 dv = _mm512_loadu_ps(d);
            for (int u = 0; u < ry; u++) {
                for (int x = 0; x < s; x++)
                    a[u][x] = _mm512_fmadd_ps(_mm512_set1_ps(rp[u][x]), dv, a[u][x]);
                /* Hide that rp[u][x] is the next position's rp[u][x - 1]:
                 * GCC would keep the broadcasts in registers across
                 * positions, spill them, and run 20 % slower. */
                rp[u]++;
                __asm__("" : "+r"(rp[u]));
            }
        }
    }
    for (int u = 0; u < ry; u++)
        for (int x = 0; x < s; x++) {
            float *o = dwt + 16 * (u * s + x);
            _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), a[u][x]));
        }
}

#define BW16_RYS(s)                                                                       \
    switch (ry) {                                                                         \
    case 5: bw16_tile(5, s, sh, wp, img, ddt, dwt); break;                                \
    case 4: bw16_tile(4, s, sh, wp, img, ddt, dwt); break;                                \
    case 3: bw16_tile(3, s, sh, wp, img, ddt, dwt); break;                                \
    case 2: bw16_tile(2, s, sh, wp, img, ddt, dwt); break;                                \
    default: bw16_tile(1, s, sh, wp, img, ddt, dwt); break;                               \
    }

/* All taps of one image (img: padded, wp floats a row, hp rows). */
static TARGET void bw16_image(const conv_shape *sh, const float *pimg, int hp, int wp,
                              const float *ddt, float *dwt_all) {
    for (int ci = 0; ci < sh->c; ci++)
        for (int y0 = 0; y0 < sh->r; y0 += BW16_RY) {
            int ry = sh->r - y0 < BW16_RY ? sh->r - y0 : BW16_RY;
            const float *img = pimg + ((size_t)ci * hp + y0) * wp;
            float *dwt = dwt_all + 16 * (((size_t)ci * sh->r + y0) * sh->s);
            switch (sh->s) {
            case 5: BW16_RYS(5) break;
            case 4: BW16_RYS(4) break;
            case 3: BW16_RYS(3) break;
            case 2: BW16_RYS(2) break;
            default: BW16_RYS(1) break;
            }
        }
}

static TARGET void conv_bwd_w_16_avx512(const conv_shape *sh, const float *src,
                                        const diff_in *din, float *diff_weights,
                                        float *diff_bias, float *scratch) {
    int p = sh->oh * sh->ow, hp = sh->h + 2 * sh->pad, wp = sh->w + 2 * sh->pad;
    size_t in_img = (size_t)sh->c * sh->h * sh->w;
    size_t crs = (size_t)sh->c * sh->r * sh->s, tf = bw16_thread_floats(sh);
    size_t ddt_off = round16(bw16_img_floats(sh)), dwt_off = ddt_off + (size_t)p * 16;
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *base = scratch + tf * omp_get_thread_num();
        float *ddt = base + ddt_off, *dwt = base + dwt_off, *bsum = dwt + crs * 16;
        float *dbuf = bsum + 16;
        memset(dwt, 0, sizeof(float) * (crs * 16 + 16));
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            const float *img = src + i * in_img;
            if (sh->pad) {
                conv_pad_image(sh, img, wp, (size_t)sh->c * hp * wp, base);
                img = base;
            }
            bw16_transpose(p, image_diff(din, i, dbuf), ddt, bsum);
            bw16_image(sh, img, hp, wp, ddt, dwt);
        }
    }
    conv_sum_partials16(scratch, tf, nt, dwt_off, crs, diff_weights, diff_bias);
}

static void bwd_w_direct(const conv_shape *sh, const float *src, const diff_in *din,
                         float *diff_weights, float *diff_bias, float *scratch) {
    if (bw16_suits(sh))
        conv_bwd_w_16_avx512(sh, src, din, diff_weights, diff_bias, scratch);
    else
        conv_bwd_w_planes_avx512(sh, src, din, diff_weights, diff_bias, scratch);
}

TARGET void conv_bwd_w_direct_avx512(const conv_shape *sh, const float *src, const float *diff_dst,
                                     float *diff_weights, float *diff_bias, float *scratch) {
    diff_in din = {diff_dst, NULL, NULL, NULL, NULL, (size_t)sh->k * sh->oh * sh->ow};
    bwd_w_direct(sh, src, &din, diff_weights, diff_bias, scratch);
}

int conv_pool_bwd_w_on_grid(const conv_shape *sh) {
    return !bw16_suits(sh) && conv_pool_bww_suits(sh);
}

TARGET void conv_pool_bwd_w_direct_avx512(const conv_shape *sh, const pool_shape *ps,
                                          const float *src, const float *pooled_diff,
                                          const int32_t *argmax, const float *mask,
                                          float *diff_weights, float *diff_bias, float *scratch) {
    if (conv_pool_bwd_w_on_grid(sh)) {
        conv_pool_bww_avx512(sh, src, pooled_diff, argmax, mask, diff_weights, diff_bias,
                             scratch);
        return;
    }
    diff_in din = {NULL, ps, pooled_diff, mask, argmax, (size_t)sh->k * sh->oh * sh->ow};
    bwd_w_direct(sh, src, &din, diff_weights, diff_bias, scratch);
}

/* Backward-data, split along the filter's x axis so that no tap of the
 * GEMM falls on padding columns:
 *     z[ci][x][iy][ox] = sum_{k,y} w[k][ci][y][x] · diff_dst[k][iy + pad - y][ox]
 *     diff_src[ci][iy][ix] = sum_x z[ci][x][iy][ix + pad - x]
 * The first is the forward tile over the planes of diff_dst padded with
 * r-1-pad zero rows above and below (taps (k, y), filters (ci, x), rows of
 * ow), the second a few shifted vector adds per row. */
static void bwd_d_geom(const conv_shape *sh, conv_planes *g) {
    int rows = sh->h + sh->r - 1;
    g->ow = sh->ow;
    g->p = sh->h * sh->ow;
    g->pv = (g->p + 15) / 16;
    g->crs = sh->k * sh->r;
    g->pl = round16((size_t)rows * sh->ow + 16);
    for (int k = 0, t = 0; k < sh->k; k++)
        for (int y = 0; y < sh->r; y++)
            g->off[t++] = (int)((size_t)k * g->pl) + (sh->r - 1 - y) * sh->ow;
}

int conv_bwd_d_direct_fits(const conv_shape *sh) {
    int p = sh->h * sh->ow;
    return sh->stride == 1 && sh->pad < sh->r && sh->pad < sh->s && sh->k * sh->r <= MAX_CRS &&
           sh->c * sh->s <= 256 && sh->ow <= 128 && sh->w <= 128 && sh->oh > 0 && sh->ow > 0 &&
           2 * p >= (p + 15) / 16 * 16 && sh->c * sh->r * sh->s <= 2048;
}

/* Per thread: padded diff planes (k of them), then z (c·s rows of p, + slack). */
static size_t bwd_d_thread_floats(const conv_shape *sh, const conv_planes *g) {
    return g->pl * (size_t)sh->k + round16((size_t)sh->c * sh->s * g->p + 16);
}

static int bwd_d_gemm_suits(const conv_shape *sh);
static size_t bd_thread_floats(const conv_shape *sh);

static size_t bwd_d_scratch_floats(const conv_shape *sh) {
    if (bwd_d_gemm_suits(sh)) return bd_thread_floats(sh) * (size_t)omp_get_max_threads();
    conv_planes g;
    bwd_d_geom(sh, &g);
    return round16((size_t)sh->k * sh->c * sh->r * sh->s) +
           bwd_d_thread_floats(sh, &g) * (size_t)omp_get_max_threads();
}

/* diff_src[ci][iy][·] of one image = sum over x of the shifted z rows. */
static TARGET void z_to_src(const conv_shape *sh, const conv_planes *g, const float *z,
                            float *src) {
    for (int ci = 0; ci < sh->c; ci++)
        for (int iy = 0; iy < sh->h; iy++) {
            float *out = src + ((size_t)ci * sh->h + iy) * sh->w;
            for (int j = 0; j < sh->w; j += 16) {
                __m512 acc = _mm512_setzero_ps();
                for (int x = 0; x < sh->s; x++) {
                    /* lanes ix = j + l with 0 ≤ ix + pad - x < ow */
                    int a = x - sh->pad - j, b = x - sh->pad + sh->ow - j;
                    if (a < 0) a = 0;
                    if (b > 16) b = 16;
                    if (b <= a) continue;
                    __mmask16 m = (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1));
                    const float *zr = z + ((size_t)ci * sh->s + x) * g->p + (size_t)iy * g->ow;
                    acc = _mm512_add_ps(acc, _mm512_maskz_loadu_ps(m, zr + j + sh->pad - x));
                }
                _mm512_mask_storeu_ps(out + j, lanes(sh->w - j), acc);
            }
        }
}

/* Backward-data for small planes as a GEMM over a pair of images, then a
 * col2im:
 *     cols[ci,y,x][q] = sum_k w[k][ci][y][x] · dg[k][q]
 *     diff_src[i][ci][oy + y - pad][ox + x - pad] += cols[ci,y,x][i·p + oy·ow + ox]
 * where dg[k][i·p + ·] puts diff_dst[i][k] of BDG images side by side.
 * The GEMM does the nominal c·r·s·k·p MACs per image (LeNet conv2: two
 * images' 200 positions in 13 vectors, 4 % idle lanes); the padded-plane
 * path (conv_bwd_d_planes_avx512) does 80 taps × 30 filters × 9 vectors,
 * 1.44× that. LeNet conv2 at batch 128, 1 thread: 0.77 → 0.61 ms, of which
 * the GEMM takes ~0.40 (87 % of peak) and the col2im ~0.18: s masked row
 * loads per output row and tap row y, mostly split across cache lines.
 * Four images per group (25 vectors, no idle lane) ran at 0.69 ms: their
 * cols (40 KB) and dg (26 KB) no longer fit in L1 together. */
#define BDG 2    /* images per group */
#define BD_RB 5  /* GEMM tile: up to 5 taps (x of one (ci, y))... */
#define BD_VB 5  /* ...times up to 5 vectors of positions: 25 accumulators */
#define BD_MAX_S 8
#define BD_MAX_W 128

/* The GEMM path for planes where a group's positions span at most 64
 * vectors; larger planes (LeNet conv1, 32² inputs) keep the padded-plane
 * path, which this was not measured against there. */
static int bwd_d_gemm_suits(const conv_shape *sh) {
    return (size_t)BDG * sh->oh * sh->ow <= 1024 && sh->s <= BD_MAX_S && sh->w <= BD_MAX_W;
}

/* Floats per row of dg and cols: the group's positions, whole vectors. */
static size_t bd_ld(const conv_shape *sh) { return round16((size_t)BDG * sh->oh * sh->ow); }

/* Per thread: dg (k rows), cols (r·s rows), then buf (padded image rows). */
static size_t bd_thread_floats(const conv_shape *sh) {
    return bd_ld(sh) * ((size_t)sh->k + (size_t)sh->r * sh->s) +
           (size_t)(sh->h + 2 * sh->pad) * round16(sh->w);
}

/* cols[u][q..q+16·vb) = sum_kk w[kk·wstride + u] · dg[kk][q..], for rb ≤ 5
 * taps and vb ≤ 5 vectors: per kk, vb loads and rb broadcasts feed rb·vb FMAs. */
INLINE TARGET void bd_tile(int rb, int vb, int k, size_t wstride, const float *w,
                           const float *dg, size_t ld, int q, float *cols) {
    __m512 acc[BD_RB][BD_VB];
    for (int u = 0; u < rb; u++)
        for (int v = 0; v < vb; v++) acc[u][v] = _mm512_setzero_ps();
    for (int kk = 0; kk < k; kk++) {
        const float *d = dg + kk * ld + q, *wk = w + kk * wstride;
        __m512 dv[BD_VB];
        for (int v = 0; v < vb; v++) dv[v] = _mm512_loadu_ps(d + 16 * v);
        for (int u = 0; u < rb; u++) {
            __m512 wv = _mm512_set1_ps(wk[u]);
            for (int v = 0; v < vb; v++) acc[u][v] = _mm512_fmadd_ps(wv, dv[v], acc[u][v]);
        }
    }
    for (int u = 0; u < rb; u++)
        for (int v = 0; v < vb; v++) _mm512_storeu_ps(cols + u * ld + q + 16 * v, acc[u][v]);
}

#define BD_VBS(rb)                                                                        \
    switch (vb) {                                                                         \
    case 5: bd_tile(rb, 5, k, wstride, w, dg, ld, q, cols); break;                        \
    case 4: bd_tile(rb, 4, k, wstride, w, dg, ld, q, cols); break;                        \
    case 3: bd_tile(rb, 3, k, wstride, w, dg, ld, q, cols); break;                        \
    case 2: bd_tile(rb, 2, k, wstride, w, dg, ld, q, cols); break;                        \
    default: bd_tile(rb, 1, k, wstride, w, dg, ld, q, cols); break;                       \
    }

/* rb taps (weights w[kk·wstride + u]) over qv vectors, split into balanced
 * chunks of at most BD_VB. */
static TARGET void bd_rows(int rb, int qv, int k, size_t wstride, const float *w,
                           const float *dg, size_t ld, float *cols) {
    int chunks = (qv + BD_VB - 1) / BD_VB;
    for (int c = 0, v0 = 0; c < chunks; c++) {
        int vb = (qv - v0) / (chunks - c), q = 16 * v0;
        v0 += vb;
        switch (rb) {
        case 5: BD_VBS(5) break;
        case 4: BD_VBS(4) break;
        case 3: BD_VBS(3) break;
        case 2: BD_VBS(2) break;
        default: BD_VBS(1) break;
        }
    }
}

/* m[j/16][x]: the lanes ix = j + l of a diff_src row that tap x reaches,
 * those with 0 ≤ ix + pad - x < ow and ix < w. */
static TARGET void bd_masks(const conv_shape *sh, __mmask16 m[BD_MAX_W / 16][BD_MAX_S]) {
    for (int x = 0; x < sh->s; x++)
        for (int j = 0; j < sh->w; j += 16) {
            int a = x - sh->pad - j, b = x - sh->pad + sh->ow - j;
            if (a < 0) a = 0;
            if (b > 16) b = 16;
            if (b > sh->w - j) b = sh->w - j;
            m[j / 16][x] = b > a ? (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1)) : 0;
        }
}

/* sum over x < s of the cols rows (y, x) of one output position row,
 * shifted right by x (row: that of x = 0 at the first lane); masked-off
 * lanes load nothing. Added in two chains, x < s/2 and the rest. */
INLINE TARGET __m512 bd_xsum(int s, const float *row, size_t ld, const __mmask16 *m) {
    __m512 a[BD_MAX_S] = {0}; /* (only a[0..s) are used) */
#pragma GCC unroll 8
    for (int x = 0; x < s; x++) a[x] = _mm512_maskz_loadu_ps(m[x], row + x * ld - x);
#pragma GCC unroll 8
    for (int x = 1; x < s / 2; x++) a[0] = _mm512_add_ps(a[0], a[x]); /* two halves */
#pragma GCC unroll 8
    for (int x = s / 2 + 1; x < s; x++) a[s / 2] = _mm512_add_ps(a[s / 2], a[x]);
    return s > 1 ? _mm512_add_ps(a[0], a[s / 2]) : a[0];
}

/* diff_src[i][ci] for the group's g images (dsrc: the first image) from the
 * r·s cols rows of channel ci. Each cols row y adds to rows oy + y of buf,
 * the padded image rows (h + 2·pad of them, 16-float aligned chunks), which
 * then go to diff_src. All loops run a fixed count, and each buf chunk's
 * load meets a store of exactly the same 64 bytes (store forwarding works).
 * Two slower tries: adding each tap row y straight into diff_src, whose
 * rows lie 56 bytes apart, made each masked load wait for the store of the
 * row before (25 % slower than the padded planes); summing each output
 * row over the (y, x) that reach it ran loops of 1-5 trips that the branch
 * predictor missed (~1.5 µs of 4.6 per LeNet conv2 image). */
INLINE TARGET void bd_col2im_s(int s, const conv_shape *sh, int g, int ci, const float *cols,
                               size_t ld, __mmask16 m[BD_MAX_W / 16][BD_MAX_S], float *buf,
                               float *dsrc) {
    int p = sh->oh * sh->ow, bw = (int)round16(sh->w), rows = sh->h + 2 * sh->pad;
    for (int i = 0; i < g; i++) {
        for (int j = 0; j < rows * bw; j += 16) _mm512_storeu_ps(buf + j, _mm512_setzero_ps());
        for (int j = 0; j < sh->w; j += 16) {
            __mmask16 mk[BD_MAX_S];
            for (int x = 0; x < s; x++) mk[x] = m[j / 16][x];
            for (int y = 0; y < sh->r; y++) {
                const float *row = cols + (size_t)y * s * ld + (size_t)i * p + sh->pad + j;
                float *b = buf + (size_t)y * bw + j;
                for (int oy = 0; oy < sh->oh; oy++, row += sh->ow, b += bw)
                    _mm512_storeu_ps(b, _mm512_add_ps(_mm512_loadu_ps(b), bd_xsum(s, row, ld, mk)));
            }
        }
        for (int iy = 0; iy < sh->h; iy++) {
            float *out = dsrc + (((size_t)i * sh->c + ci) * sh->h + iy) * sh->w;
            for (int j = 0; j < sh->w; j += 16)
                _mm512_mask_storeu_ps(out + j, lanes(sh->w - j),
                                      _mm512_loadu_ps(buf + (size_t)(iy + sh->pad) * bw + j));
        }
    }
}

static TARGET void bd_col2im(const conv_shape *sh, int g, int ci, const float *cols, size_t ld,
                             __mmask16 m[BD_MAX_W / 16][BD_MAX_S], float *buf, float *dsrc) {
    switch (sh->s) {
    case 5: bd_col2im_s(5, sh, g, ci, cols, ld, m, buf, dsrc); break;
    case 3: bd_col2im_s(3, sh, g, ci, cols, ld, m, buf, dsrc); break;
    default: bd_col2im_s(sh->s, sh, g, ci, cols, ld, m, buf, dsrc); break;
    }
}

/* diff_src of g ≤ BDG images (dd, dsrc: the first image's). */
static TARGET void bd_group(const conv_shape *sh, int g, const float *dd, const float *weights,
                            float *dg, float *cols, __mmask16 m[BD_MAX_W / 16][BD_MAX_S],
                            float *buf, float *dsrc) {
    int p = sh->oh * sh->ow, qv = (g * p + 15) / 16;
    size_t ld = bd_ld(sh), crs = (size_t)sh->c * sh->r * sh->s;
    for (int kk = 0; kk < sh->k; kk++)
        for (int i = 0; i < g; i++)
            memcpy(dg + kk * ld + (size_t)i * p, dd + ((size_t)i * sh->k + kk) * p,
                   sizeof(float) * p);
    for (int ci = 0; ci < sh->c; ci++) {
        for (int y = 0; y < sh->r; y++) {
            const float *w = weights + ((size_t)ci * sh->r + y) * sh->s;
            float *c = cols + (size_t)y * sh->s * ld;
            for (int x = 0; x < sh->s; x += BD_RB) {
                int rb = sh->s - x < BD_RB ? sh->s - x : BD_RB;
                bd_rows(rb, qv, sh->k, crs, w + x, dg, ld, c + x * ld);
            }
        }
        bd_col2im(sh, g, ci, cols, ld, m, buf, dsrc);
    }
}

static TARGET void conv_bwd_d_gemm_avx512(const conv_shape *sh, const float *diff_dst,
                                          const float *weights, float *diff_src,
                                          float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)sh->k * sh->oh * sh->ow;
    size_t tf = bd_thread_floats(sh);
    __mmask16 m[BD_MAX_W / 16][BD_MAX_S];
    bd_masks(sh, m);
    int groups = (sh->n + BDG - 1) / BDG;
    int nt = omp_get_max_threads() < groups ? omp_get_max_threads() : groups;
#pragma omp parallel num_threads(nt)
    {
        float *dg = scratch + tf * omp_get_thread_num(), *cols = dg + bd_ld(sh) * sh->k;
        float *buf = cols + bd_ld(sh) * sh->r * sh->s;
        memset(dg, 0, sizeof(float) * tf); /* the slack past a group's positions stays finite */
#pragma omp for schedule(static)
        for (int grp = 0; grp < groups; grp++) {
            int first = grp * BDG, g = sh->n - first < BDG ? sh->n - first : BDG;
            bd_group(sh, g, diff_dst + first * out_img, weights, dg, cols, m, buf,
                     diff_src + first * in_img);
        }
    }
}

static TARGET void conv_bwd_d_planes_avx512(const conv_shape *sh, const float *diff_dst,
                                            const float *weights, float *diff_src,
                                            float *scratch) {
    conv_planes g;
    bwd_d_geom(sh, &g);
    int rs = sh->r * sh->s, top = sh->r - 1 - sh->pad, filters = sh->c * sh->s;
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_plane = (size_t)sh->oh * sh->ow;
    /* wz[ci·s + x][k·r + y] = w[k][ci][y][x] */
    float *wz = scratch;
    for (int k = 0; k < sh->k; k++)
        for (int ci = 0; ci < sh->c; ci++)
            for (int y = 0; y < sh->r; y++)
                for (int x = 0; x < sh->s; x++)
                    wz[((size_t)ci * sh->s + x) * g.crs + k * sh->r + y] =
                        weights[((size_t)k * sh->c + ci) * rs + y * sh->s + x];
    float *base = scratch + round16((size_t)sh->k * sh->c * rs);
    size_t tf = bwd_d_thread_floats(sh, &g);
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *planes = base + tf * omp_get_thread_num(), *z = planes + g.pl * sh->k;
        memset(planes, 0, sizeof(float) * g.pl * sh->k); /* the padding rows stay zero */
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            const float *dd = diff_dst + (size_t)i * sh->k * out_plane;
            for (int k = 0; k < sh->k; k++)
                memcpy(planes + (size_t)k * g.pl + (size_t)top * g.ow, dd + k * out_plane,
                       sizeof(float) * out_plane);
            for (int f = 0; f < filters; f += KB) {
                int kb = filters - f < KB ? filters - f : KB;
                fwd_block(kb, &g, planes, wz + (size_t)f * g.crs, NULL, 0, z + (size_t)f * g.p);
            }
            z_to_src(sh, &g, z, diff_src + i * in_img);
        }
    }
}

TARGET void conv_bwd_d_direct_avx512(const conv_shape *sh, const float *diff_dst,
                                     const float *weights, float *diff_src, float *scratch) {
    if (bwd_d_gemm_suits(sh))
        conv_bwd_d_gemm_avx512(sh, diff_dst, weights, diff_src, scratch);
    else
        conv_bwd_d_planes_avx512(sh, diff_dst, weights, diff_src, scratch);
}
