/* Direct stride-1 forward convolution with AVX2 + FMA for few input channels
 * (LeNet conv1 and conv2, 3-channel inputs): the shifted planes of
 * conv_avx512.c (read its header comment) 8 positions a vector.
 *
 * Each input channel ci is expanded along the filter's x axis into s planes
 * xs[ci][x][iy][ox] = padded_src[ci][iy][ox + x]; on the output raster
 * p = oy·ow + ox the input under tap t = (ci, y, x) is xs[ci][x][p + y·ow],
 * so dst[K][P] = W[K][CRS] · xs[off[t] + p] reads its B operand straight
 * from the planes. The register tile is KB filters × QV vectors of
 * positions: with 16 ymm registers, 6×2 (12 accumulators, 2 loads, 1
 * broadcast) or, for blocks of at most 4 filters, 4×3. Only the last
 * vector of a plane is partly used (LeNet conv2: 100 of 104 lanes); it is
 * stored through a buffer, since AVX2 masked stores are slow on AMD. Fused
 * with a 2×2 max-pool, each image's output stays in the thread's scratch
 * and only its pool is written (pool_avx2.c's plane function). */
#include <immintrin.h>
#include <omp.h>
#include <stddef.h>
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/conv_planes.h"

#define TARGET __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))
#define KB 6         /* filters a tile */
#define MAX_CHUNKS 16 /* 8-float chunks of a row: conv_direct_fits allows ow ≤ 128 */

static size_t round8(size_t x) { return (x + 7) & ~(size_t)7; }

size_t conv_direct_avx2_scratch_floats(const conv_shape *sh) {
    if (!conv_direct_fits(sh)) return 0;
    conv_planes g;
    conv_planes_init(sh, 8, &g);
    return conv_planes_floats(sh, &g) * (size_t)omp_get_max_threads();
}

/* All ones in the lanes of chunk j (8 floats from ox = j) with lo ≤ ox < hi. */
INLINE TARGET __m256i chunk_mask(int j, int lo, int hi) {
    __m256i ox = _mm256_add_epi32(_mm256_set1_epi32(j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256i ge_lo = _mm256_cmpgt_epi32(ox, _mm256_set1_epi32(lo - 1));
    return _mm256_and_si256(ge_lo, _mm256_cmpgt_epi32(_mm256_set1_epi32(hi), ox));
}

/* One shifted plane's rows: each stored whole, with its zero columns, in
 * 8-float chunks (unmasked: a chunk past the row's end spills into the next
 * row, which is written afterwards). Plain loads and an AND where every
 * read lies inside the tensor, masked loads (cheap, unlike masked stores)
 * else. */
static TARGET void expand_plane(const conv_shape *sh, const conv_planes *g, const float *in, int lo,
                                int hi, int inside, float *out) {
    __m256i m[MAX_CHUNKS];
    for (int j = 0; j < g->ow; j += 8) m[j / 8] = chunk_mask(j, lo, hi);
    for (int iy = 0; iy < sh->h; iy++, out += g->ow, in += sh->w)
        for (int j = 0; j < g->ow; j += 8)
            _mm256_storeu_ps(out + j, inside ? _mm256_and_ps(_mm256_loadu_ps(in + j),
                                                             _mm256_castsi256_ps(m[j / 8]))
                                             : _mm256_maskload_ps(in + j, m[j / 8]));
}

/* Writes the shifted planes of one image. Padding rows at the top stay zero
 * from a memset at the start of the call; the rows below the image, where
 * the last row spilled, are zeroed again. */
static TARGET void expand(const conv_shape *sh, const conv_planes *g, const float *img,
                          const float *lo_ok, const float *hi_ok, float *xs) {
    size_t rows_end = (size_t)(sh->h + sh->pad) * g->ow;
    size_t reach = (size_t)(sh->h - 1) * sh->w + round8(g->ow); /* floats a plane's rows read */
    for (int ci = 0; ci < sh->c; ci++)
        for (int x = 0; x < sh->s; x++) {
            int lo = sh->pad - x > 0 ? sh->pad - x : 0;
            int hi = sh->w + sh->pad - x < sh->ow ? sh->w + sh->pad - x : sh->ow;
            float *plane = xs + ((size_t)ci * sh->s + x) * g->pl;
            const float *in = img + (size_t)ci * sh->h * sh->w + x - sh->pad;
            int inside = in >= lo_ok && in + reach <= hi_ok;
            expand_plane(sh, g, in, lo, hi, inside, plane + (size_t)sh->pad * g->ow);
            memset(plane + rows_end, 0, sizeof(float) * (g->pl - rows_end));
        }
}

/* dst[j][q..q+8·qv) = bias[j] + sum_t w[j][t] · xs[off[t] + q..], then ReLU,
 * for kb ≤ 6 filters; lanes past p are not stored. */
INLINE TARGET void fwd_tile(int kb, int qv, const conv_planes *g, const float *xs, const float *w,
                            const float *bias, int relu, int q, float *dst) {
    __m256 acc[KB][3];
    for (int j = 0; j < kb; j++)
        for (int v = 0; v < qv; v++) acc[j][v] = _mm256_setzero_ps();
    for (int t = 0; t < g->crs; t++) {
        const float *p = xs + g->off[t] + q;
        __m256 x[3];
        for (int v = 0; v < qv; v++) x[v] = _mm256_loadu_ps(p + 8 * v);
        for (int j = 0; j < kb; j++) {
            __m256 wv = _mm256_broadcast_ss(w + j * g->crs + t);
            for (int v = 0; v < qv; v++) acc[j][v] = _mm256_fmadd_ps(wv, x[v], acc[j][v]);
        }
    }
    for (int j = 0; j < kb; j++) {
        __m256 b = _mm256_set1_ps(bias ? bias[j] : 0.0f);
        for (int v = 0; v < qv; v++) {
            __m256 o = _mm256_add_ps(acc[j][v], b);
            if (relu) o = _mm256_max_ps(o, _mm256_setzero_ps());
            float *at = dst + (size_t)j * g->p + q + 8 * v;
            int left = g->p - q - 8 * v;
            if (left >= 8) {
                _mm256_storeu_ps(at, o);
            } else {
                float buf[8];
                _mm256_storeu_ps(buf, o);
                memcpy(at, buf, sizeof(float) * left);
            }
        }
    }
}

#define FWD_QV(kb)                                                                        \
    switch (qv) {                                                                         \
    case 3: fwd_tile(kb, 3, g, xs, w, bias, relu, q, dst); break;                         \
    case 2: fwd_tile(kb, 2, g, xs, w, bias, relu, q, dst); break;                         \
    default: fwd_tile(kb, 1, g, xs, w, bias, relu, q, dst); break;                        \
    }

/* One filter block (kb ≤ 6) over all positions of one image; the vectors
 * are split into balanced chunks of at most 2 (3 for kb ≤ 4: the
 * accumulators, the loads and a broadcast fill the 16 registers). */
static TARGET void fwd_block(int kb, const conv_planes *g, const float *xs, const float *w,
                             const float *bias, int relu, float *dst) {
    int max_qv = kb <= 4 ? 3 : 2;
    int chunks = (g->pv + max_qv - 1) / max_qv;
    for (int c = 0, v0 = 0; c < chunks; c++) {
        int qv = (g->pv - v0) / (chunks - c), q = 8 * v0;
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

/* Filter blocks of 6, or of 4 where that divides k and 6 does not: k = 16
 * runs as 4 × 4 (3-vector tiles, 12 FMAs per 7 loads) instead of 6 + 6 + 4. */
static int block_filters(int k) { return k % 4 == 0 && k % 6 != 0 ? 4 : KB; }

TARGET void conv_fwd_direct_avx2(const conv_shape *sh, const float *src, const float *weights,
                                 const float *bias, int relu, float *dst, float *scratch) {
    conv_planes g;
    conv_planes_init(sh, 8, &g);
    size_t in_img = (size_t)sh->c * sh->h * sh->w, out_img = (size_t)sh->k * g.p;
    size_t tf = conv_planes_floats(sh, &g);
    int nt = omp_get_max_threads() < sh->n ? omp_get_max_threads() : sh->n;
    int bk = block_filters(sh->k);
#pragma omp parallel num_threads(nt)
    {
        float *xs = scratch + tf * omp_get_thread_num();
        memset(xs, 0, sizeof(float) * tf);
#pragma omp for schedule(static)
        for (int i = 0; i < sh->n; i++) {
            float *out = dst + i * out_img;
            expand(sh, &g, src + i * in_img, src, src + sh->n * in_img, xs);
            for (int k = 0; k < sh->k; k += bk) {
                int kb = sh->k - k < bk ? sh->k - k : bk;
                fwd_block(kb, &g, xs, weights + (size_t)k * g.crs, bias ? bias + k : NULL, relu,
                          out + (size_t)k * g.p);
            }
        }
    }
}
