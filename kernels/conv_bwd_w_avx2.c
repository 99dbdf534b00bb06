/* Backward-weights of a stride-1 convolution with few input channels on AVX2
 * (LeNet conv1: 1→6 on 28², 5×5, pad 2; conv2: 6→16 on 14²): the AVX-512
 * shifted-planes kernel (conv_avx512.c) with 8 lanes and 16 registers.
 *
 * Each input channel ci is expanded along the filter's x axis into s
 * shifted planes, xs[ci][x][iy][ox] = padded_src[ci][iy][ox + x] (rows of
 * ow floats), so that on the output raster p = oy·ow + ox the input under
 * tap t = (ci, y, x) is the contiguous run xs[off[t] + p] and
 *     dW[k][t] = sum_p diff_dst[k][p] · xs[off[t] + p]
 * is a small GEMM read straight from the planes, positions in the lanes
 * (LeNet conv1: 98 whole vectors; conv2: 100 positions in 13, 96 % used).
 * A register tile is 6 filters × 2 taps (12 accumulators, 2 plane vectors,
 * 1 gradient vector: 15 of 16 ymm); it runs over a group of images before
 * adding to the per-thread accumulators in memory (8 lanes per (k, t)),
 * which are summed over threads in a fixed order and then over lanes.
 *
 * With 16 filters (LeNet conv2) the filters fill two vectors' lanes
 * instead, as in AVX-512's conv_bwd_w_16: the image is read in place (no
 * planes), the gradient transposed, and per position one input value is
 * broadcast to two FMAs (bw16_* below): 2.2 -> 1.75 ms on LeNet conv2,
 * batch 128, 1 thread (Zen 1). With 6 filters (conv1) that layout would
 * leave a quarter of the lanes idle: conv1 keeps the planes. */
#include <immintrin.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/conv_partials.h"
#include "kernels/conv_planes.h"
#include "kernels/transpose8_avx2.h"

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))
#define KB 6 /* tile: up to 6 filters... */
#define TB 2 /* ...times up to 2 taps */
#define MAX_OW 128
#define GROUP 8 /* images a group at most... */
#define VECS 64 /* ...as many as keep a tile's run within this many vectors */

static size_t round8(size_t x) { return (x + 7) & ~(size_t)7; }

int conv_bwd_w_direct_avx2_fits(const conv_shape *sh) { return conv_planes_fits(sh, 8, 8); }

/* Per thread: a group's planes, the accumulators (k·crs·8), bias sums
 * (k·8), then the group's gradients (k rows of pv·8 an image). */
static size_t diff_floats(const conv_shape *sh, const conv_planes *g) {
    return (size_t)sh->k * g->pv * 8;
}
static size_t diff_off(const conv_shape *sh, const conv_planes *g) {
    return conv_planes_floats(sh, g) * conv_planes_group(g, VECS, GROUP) +
           (size_t)sh->k * g->crs * 8 + (size_t)sh->k * 8;
}
static size_t thread_floats(const conv_shape *sh, const conv_planes *g) {
    return diff_off(sh, g) + diff_floats(sh, g) * conv_planes_group(g, VECS, GROUP);
}

static int bw16_suits(const conv_shape *sh);
static size_t bw16_thread_floats(const conv_shape *sh);

size_t conv_bwd_w_direct_avx2_scratch_floats(const conv_shape *sh) {
    conv_planes g;
    conv_planes_init(sh, 8, &g);
    size_t per_thread = bw16_suits(sh) ? bw16_thread_floats(sh) : thread_floats(sh, &g);
    return per_thread * (size_t)omp_get_max_threads();
}

/* All-ones in lanes l with lo ≤ j + l < hi. */
static TARGET __m256i lanes_between(int j, int lo, int hi) {
    __m256i l = _mm256_add_epi32(_mm256_set1_epi32(j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(lo), l),
                               _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), l));
}

/* The shifted planes of one image, rows stored whole with their zero
 * columns in 8-float chunks: a chunk past the row's end spills (zeros) into
 * the next row, written afterwards, and past the last row into the bottom
 * padding, zeroed afterwards; the top padding rows stay zero from the
 * memset at the start of the call. (A memcpy per row, 420 per LeNet conv2
 * image, took a sixth of the kernel's time.) Plain loads where every
 * chunk's read lies inside src (lo_ok, hi_ok), masked ones else. */
static TARGET void expand(const conv_shape *sh, const conv_planes *g, const float *img,
                          const float *lo_ok, const float *hi_ok, float *xs) {
    size_t rows_end = (size_t)(sh->h + sh->pad) * g->ow;
    for (int ci = 0; ci < sh->c; ci++)
        for (int x = 0; x < sh->s; x++) {
            int lo = sh->pad - x > 0 ? sh->pad - x : 0;
            int hi = sh->w + sh->pad - x < sh->ow ? sh->w + sh->pad - x : sh->ow;
            float *plane = xs + ((size_t)ci * sh->s + x) * g->pl;
            float *out = plane + (size_t)sh->pad * g->ow;
            const float *in = img + (size_t)ci * sh->h * sh->w + x - sh->pad;
            int inside = in >= lo_ok && in + (size_t)(sh->h - 1) * sh->w + round8(g->ow) <= hi_ok;
            __m256i m[MAX_OW / 8];
            for (int j = 0; j < g->ow; j += 8) m[j / 8] = lanes_between(j, lo, hi);
            for (int iy = 0; iy < sh->h; iy++, out += g->ow, in += sh->w)
                for (int j = 0; j < g->ow; j += 8) {
                    __m256 v = inside ? _mm256_and_ps(_mm256_loadu_ps(in + j),
                                                      _mm256_castsi256_ps(m[j / 8]))
                                      : _mm256_maskload_ps(in + j, m[j / 8]);
                    _mm256_storeu_ps(out + j, v);
                }
            /* the bottom rows and slack: at least 8 floats, all in the plane */
            for (size_t j = rows_end; j + 8 <= g->pl; j += 8)
                _mm256_storeu_ps(plane + j, _mm256_setzero_ps());
            _mm256_storeu_ps(plane + g->pl - 8, _mm256_setzero_ps());
        }
}

/* acc[j][t0+u] (8 lanes each) += sum over the group's images and their
 * pv vectors of dd[i][j·ld + q] · xs_i[off[t0+u] + q], kb ≤ 6 filters,
 * tb ≤ 2 taps; dd's rows are zero past p (the planes there: finite). */
INLINE TARGET void tile(int kb, int tb, const conv_planes *g, int images, const float *const *dd,
                        const float *xs, size_t xs_stride, int t0, float *acc) {
    __m256 a[KB][TB];
    size_t ld = (size_t)g->pv * 8;
    for (int j = 0; j < kb; j++)
        for (int u = 0; u < tb; u++) a[j][u] = _mm256_setzero_ps();
    for (int i = 0; i < images; i++) {
        const float *px[TB], *di = dd[i];
        for (int u = 0; u < tb; u++) px[u] = xs + xs_stride * i + g->off[t0 + u];
        for (size_t q = 0; q < ld; q += 8) {
            __m256 x[TB];
            for (int u = 0; u < tb; u++) x[u] = _mm256_loadu_ps(px[u] + q);
            for (int j = 0; j < kb; j++) {
                __m256 d = _mm256_loadu_ps(di + j * ld + q);
                /* one load per filter: GCC would fold it into both FMAs,
                 * 14 loads per 12 FMAs, and Zen 1 loads one ymm a cycle */
                __asm__("" : "+x"(d));
                for (int u = 0; u < tb; u++) a[j][u] = _mm256_fmadd_ps(d, x[u], a[j][u]);
            }
        }
    }
    for (int j = 0; j < kb; j++)
        for (int u = 0; u < tb; u++) {
            float *o = acc + ((size_t)j * g->crs + t0 + u) * 8;
            _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), a[j][u]));
        }
}

#define TILE_TB(kb)                                                                       \
    if (tb == 2) tile(kb, 2, g, images, dd, xs, xs_stride, t, acc);                       \
    else tile(kb, 1, g, images, dd, xs, xs_stride, t, acc);

/* One filter block (kb ≤ 6) over all taps of a group of images (dd[i]: the
 * block's first filter's gradient in image i). */
static TARGET void block(int kb, const conv_planes *g, int images, const float *const *dd,
                         const float *xs, size_t xs_stride, float *acc) {
    for (int t = 0; t < g->crs; t += TB) {
        int tb = g->crs - t < TB ? g->crs - t : TB;
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

/* One image's diff_dst (k rows of p) into dbuf, rows of pv·8 whose tail
 * stays zero from the memset at the start (no masked load in the tile);
 * bsum[j] (8 lanes) += row j, when bsum. */
static TARGET void copy_diff(int k, const conv_planes *g, const float *dd, float *dbuf,
                             float *bsum) {
    int p = g->p, full = p & ~7;
    size_t ld = (size_t)g->pv * 8;
    __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(p - full),
                                      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int j = 0; j < k; j++) {
        const float *d = dd + (size_t)j * p;
        float *o = dbuf + j * ld;
        __m256 s = _mm256_setzero_ps();
        for (int q = 0; q < full; q += 8) {
            __m256 v = _mm256_loadu_ps(d + q);
            _mm256_storeu_ps(o + q, v);
            s = _mm256_add_ps(s, v);
        }
        if (full < p) {
            __m256 v = _mm256_maskload_ps(d + full, tail);
            _mm256_storeu_ps(o + full, v);
            s = _mm256_add_ps(s, v);
        }
        if (bsum) _mm256_storeu_ps(bsum + 8 * j, _mm256_add_ps(_mm256_loadu_ps(bsum + 8 * j), s));
    }
}

/* One group of images: their planes and gradients, then every filter
 * block (balanced, 16 filters: 6, 5, 5; a block of 4 would load 6 vectors
 * per 8 FMAs). */
static TARGET void group_run(const conv_shape *sh, const conv_planes *g, const float *src,
                             const float *diff_dst, int first, int images, float *xs,
                             float *dbuf, float *acc, float *bsum) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)sh->k * g->p;
    size_t plane_set = conv_planes_floats(sh, g), dimg = diff_floats(sh, g);
    for (int i = 0; i < images; i++) {
        expand(sh, g, src + (size_t)(first + i) * in_img, src, src + (size_t)sh->n * in_img,
               xs + plane_set * i);
        copy_diff(sh->k, g, diff_dst + (size_t)(first + i) * out_img, dbuf + dimg * i, bsum);
    }
    int blocks = (sh->k + KB - 1) / KB;
    for (int b = 0, k = 0; b < blocks; b++) {
        int kb = (sh->k - k) / (blocks - b);
        const float *dd[GROUP];
        for (int i = 0; i < images; i++) dd[i] = dbuf + dimg * i + (size_t)k * g->pv * 8;
        block(kb, g, images, dd, xs, plane_set, acc + (size_t)k * g->crs * 8);
        k += kb;
    }
}

/* Backward-weights for 16 filters, in the lanes of two vectors:
 *     dwt[ci,y,x][k] += sum over positions of img[ci][oy + y][ox + x] · ddt[oy·ow + ox][k]
 * with img the (padded) image and ddt the transposed gradient. A tile is
 * one filter row (ci, y): s ≤ 5 taps × 2 vectors = 10 accumulators, 2
 * gradient vectors and a broadcast, over all positions of an image. */
#define BW16_MAX_S 5

static int bw16_suits(const conv_shape *sh) { return sh->k == 16 && sh->s <= BW16_MAX_S; }

/* Per thread: the padded image (when pad > 0), ddt (p·16), dwt (crs·16),
 * bias sums (16). */
static size_t bw16_img_floats(const conv_shape *sh) {
    return sh->pad ? round8((size_t)sh->c * (sh->h + 2 * sh->pad) * (sh->w + 2 * sh->pad)) : 0;
}
static size_t bw16_thread_floats(const conv_shape *sh) {
    return bw16_img_floats(sh) + (size_t)sh->oh * sh->ow * 16 +
           (size_t)sh->c * sh->r * sh->s * 16 + 16;
}

/* ddt[q][k] = dd[k][q] for one image's p positions; bsum[k] += the
 * image's sum of dd[k][·], by positions. */
static TARGET void bw16_transpose(int p, const float *dd, float *ddt, float *bsum) {
    transpose16xp_avx2(p, dd, ddt);
    __m256 b0 = _mm256_loadu_ps(bsum), b1 = _mm256_loadu_ps(bsum + 8);
    for (int q = 0; q < p; q++) {
        b0 = _mm256_add_ps(b0, _mm256_loadu_ps(ddt + (size_t)q * 16));
        b1 = _mm256_add_ps(b1, _mm256_loadu_ps(ddt + (size_t)q * 16 + 8));
    }
    _mm256_storeu_ps(bsum, b0);
    _mm256_storeu_ps(bsum + 8, b1);
}

/* dwt[x][·] += sum over positions of img[oy·wp + ox + x] · ddt[oy·ow + ox][·]
 * for s ≤ 5 taps x of one filter row (img: its first input row). */
INLINE TARGET void bw16_tile(int s, const conv_shape *sh, int wp, const float *img,
                             const float *ddt, float *dwt) {
    __m256 a0[BW16_MAX_S], a1[BW16_MAX_S];
    for (int x = 0; x < s; x++) a0[x] = a1[x] = _mm256_setzero_ps();
    for (int oy = 0; oy < sh->oh; oy++) {
        const float *rp = img + (size_t)oy * wp, *d = ddt + (size_t)oy * sh->ow * 16;
        for (int ox = 0; ox < sh->ow; ox++, d += 16) {
            __m256 d0 = _mm256_loadu_ps(d), d1 = _mm256_loadu_ps(d + 8);
            for (int x = 0; x < s; x++) {
                __m256 b = _mm256_broadcast_ss(rp + x);
                a0[x] = _mm256_fmadd_ps(b, d0, a0[x]);
                a1[x] = _mm256_fmadd_ps(b, d1, a1[x]);
            }
            /* hide that rp[x] is the next position's rp[x - 1] (as in the
             * AVX-512 kernel: GCC would keep broadcasts across positions) */
            rp++;
            __asm__("" : "+r"(rp));
        }
    }
    for (int x = 0; x < s; x++) {
        float *o = dwt + 16 * x;
        _mm256_storeu_ps(o, _mm256_add_ps(_mm256_loadu_ps(o), a0[x]));
        _mm256_storeu_ps(o + 8, _mm256_add_ps(_mm256_loadu_ps(o + 8), a1[x]));
    }
}

/* Every filter row of one image (pimg: padded, hp rows of wp floats a channel). */
static TARGET void bw16_image(const conv_shape *sh, const float *pimg, int hp, int wp,
                              const float *ddt, float *dwt) {
    for (int ci = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++) {
            const float *img = pimg + ((size_t)ci * hp + y) * wp;
            float *o = dwt + 16 * (((size_t)ci * sh->r + y) * sh->s);
            switch (sh->s) {
            case 5: bw16_tile(5, sh, wp, img, ddt, o); break;
            case 4: bw16_tile(4, sh, wp, img, ddt, o); break;
            case 3: bw16_tile(3, sh, wp, img, ddt, o); break;
            case 2: bw16_tile(2, sh, wp, img, ddt, o); break;
            default: bw16_tile(1, sh, wp, img, ddt, o); break;
            }
        }
}

static void bw16(const conv_shape *sh, const float *src, const float *diff_dst,
                 float *diff_weights, float *diff_bias, float *scratch) {
    int p = sh->oh * sh->ow, hp = sh->h + 2 * sh->pad, wp = sh->w + 2 * sh->pad;
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)16 * p;
    size_t crs = (size_t)sh->c * sh->r * sh->s, tf = bw16_thread_floats(sh);
    size_t ddt_off = bw16_img_floats(sh), dwt_off = ddt_off + (size_t)p * 16;
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
#pragma omp parallel num_threads(nt)
    {
        float *base = scratch + tf * omp_get_thread_num();
        float *ddt = base + ddt_off, *dwt = base + dwt_off;
        memset(dwt, 0, sizeof(float) * (crs * 16 + 16));
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            const float *img = src + i * in_img;
            if (sh->pad) {
                conv_pad_image(sh, img, wp, (size_t)sh->c * hp * wp, base);
                img = base;
            }
            bw16_transpose(p, diff_dst + i * out_img, ddt, dwt + crs * 16);
            bw16_image(sh, img, hp, wp, ddt, dwt);
        }
    }
    conv_sum_partials16(scratch, tf, nt, dwt_off, crs, diff_weights, diff_bias);
}

/* The 8 lanes at v, summed as a tree (fixed order). */
static TARGET float hsum8(const float *v) {
    __m256 x = _mm256_loadu_ps(v);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

void conv_bwd_w_direct_avx2(const conv_shape *sh, const float *src, const float *diff_dst,
                     float *diff_weights, float *diff_bias, float *scratch) {
    if (bw16_suits(sh)) {
        bw16(sh, src, diff_dst, diff_weights, diff_bias, scratch);
        return;
    }
    conv_planes g;
    conv_planes_init(sh, 8, &g);
    size_t tf = thread_floats(sh, &g), nacc = (size_t)sh->k * g.crs * 8;
    int group = conv_planes_group(&g, VECS, GROUP);
    size_t acc_off = conv_planes_floats(sh, &g) * group;
    int groups = (sh->n + group - 1) / group;
    int nt = omp_get_max_threads() < groups ? omp_get_max_threads() : groups;
#pragma omp parallel num_threads(nt)
    {
        float *xs = scratch + tf * omp_get_thread_num();
        memset(xs, 0, sizeof(float) * tf);
#pragma omp for schedule(static)
        for (int grp = 0; grp < groups; grp++) {
            int first = grp * group, images = sh->n - first < group ? sh->n - first : group;
            group_run(sh, &g, src, diff_dst, first, images, xs, xs + diff_off(sh, &g),
                      xs + acc_off, diff_bias ? xs + acc_off + nacc : NULL);
        }
    }
    /* Threads' partials in a fixed order, then the 8 lanes. */
    for (size_t j = 0; j < (size_t)sh->k * g.crs; j++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++) s += hsum8(scratch + tf * t + acc_off + j * 8);
        diff_weights[j] = s;
    }
    for (int k = 0; diff_bias && k < sh->k; k++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++) s += hsum8(scratch + tf * t + acc_off + nacc + 8 * k);
        diff_bias[k] = s;
    }
}
