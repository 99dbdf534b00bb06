/* SGEMM micro-kernel and B packing for AVX2 + FMA.
 *
 * Register block MR×NR = 6×16: 12 ymm accumulators (6 rows × 2 vectors of 8
 * columns), 2 for the B row and 1 for the broadcast A element: 15 of the 16
 * ymm registers. Blocks as for AVX-512: a 6×384 micro-panel of A (9 KB) in
 * L1, a packed 384×512 block of B (768 KB) in L2 (on parts with a smaller L2
 * it streams sequentially from L3). */
#include <immintrin.h>

#include "kernels/sgemm.h"
#include "kernels/transpose8_avx2.h"

#define AVX2 __attribute__((target("avx2,fma")))

enum { MR = 6, NR = 16, KC = 384, NC = 512 };

/* Lanes [0, count) of a maskload/maskstore mask. */
static inline __attribute__((always_inline)) AVX2 __m256i lane_mask(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Vector v of a row of V vectors: the last one masked to its lanes unless
 * the tile is FULL. A masked load is what the kernel can least afford: on
 * Zen 1 it halved the tile's FMA rate (38 -> 22 GFLOP/s in L1), so a tile
 * whose last vector is whole never uses one. */
static inline __attribute__((always_inline)) AVX2 __m256 load_vec(const int FULL, const int last,
                                                                  const float *p, __m256i mask) {
    return FULL || !last ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
}

static inline __attribute__((always_inline)) AVX2 void
store_vec(const int FULL, const int last, float *p, __m256i mask, __m256 v) {
    if (FULL || !last) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, mask, v);
}

/* One tile with compile-time shape (see sgemm_avx512.c): M rows, V vectors
 * of 8 (the last one masked to nlast lanes unless FULL), A by rows or by
 * columns. */
static inline __attribute__((always_inline)) AVX2 void
tile(const int M, const int V, const int ROWA, const int FULL, int k, const float *a,
     ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b, int nlast, float *c,
     ptrdiff_t ldc, float alpha, float beta) {
    const __m256i mlast = lane_mask(nlast);
    __m256 acc0[MR], acc1[MR];
#pragma GCC unroll 8
    for (int i = 0; i < M; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int p = 0; p < k; p++) {
        const __m256 b0 = load_vec(FULL, V == 1, b, mlast);
        const __m256 b1 = V == 2 ? load_vec(FULL, 1, b + 8, mlast) : _mm256_setzero_ps();
#pragma GCC unroll 8
        for (int i = 0; i < M; i++) {
            __m256 ai = _mm256_broadcast_ss(ROWA ? &a[i * rs_a] : &a[i]);
            acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
            if (V == 2) acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
        }
        a += ROWA ? 1 : cs_a;
        b += rs_b;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < M; i++) {
        float *ci = c + i * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < V; v++) {
            const int last = v == V - 1;
            __m256 r = _mm256_mul_ps(va, v == 0 ? acc0[i] : acc1[i]);
            if (beta != 0.0f)
                r = _mm256_fmadd_ps(vb, load_vec(FULL, last, ci + 8 * v, mlast), r);
            store_vec(FULL, last, ci + 8 * v, mlast, r);
        }
    }
}

typedef void (*tile_fn)(int k, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                        ptrdiff_t rs_b, int nlast, float *c, ptrdiff_t ldc, float alpha,
                        float beta);

#define TILE(M, V, R, F)                                                                      \
    static AVX2 void tile_##M##_##V##_##R##_##F(int k, const float *a, ptrdiff_t rs_a,       \
                                                ptrdiff_t cs_a, const float *b,               \
                                                ptrdiff_t rs_b, int nlast, float *c,          \
                                                ptrdiff_t ldc, float alpha, float beta) {     \
        tile(M, V, R, F, k, a, rs_a, cs_a, b, rs_b, nlast, c, ldc, alpha, beta);              \
    }
#define TILES(M)                                                                              \
    TILE(M, 1, 0, 0) TILE(M, 2, 0, 0) TILE(M, 1, 1, 0) TILE(M, 2, 1, 0)                       \
    TILE(M, 1, 0, 1) TILE(M, 2, 0, 1) TILE(M, 1, 1, 1) TILE(M, 2, 1, 1)
TILES(1) TILES(2) TILES(3) TILES(4) TILES(5) TILES(6)
#undef TILES
#undef TILE

/* [rows - 1][vectors - 1][A by rows][last vector whole] */
static const tile_fn tiles[MR][2][2][2] = {
#define VEC(M, V) {{tile_##M##_##V##_0_0, tile_##M##_##V##_0_1}, {tile_##M##_##V##_1_0, tile_##M##_##V##_1_1}}
#define ROW(M) {VEC(M, 1), VEC(M, 2)}
    ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6),
#undef ROW
#undef VEC
};

static AVX2 void ukr_avx2(int mr, int nr, int k, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                          const float *b, ptrdiff_t rs_b, float *c, ptrdiff_t ldc, float alpha,
                          float beta) {
    const int v = nr > 8 ? 2 : 1, nlast = nr - 8 * (v - 1);
    tiles[mr - 1][v - 1][cs_a == 1][nlast == 8](k, a, rs_a, cs_a, b, rs_b, nlast, c, ldc, alpha,
                                                beta);
}

static AVX2 void pack_b_avx2(int transb, int kc, int nc, const float *b, ptrdiff_t ldb,
                             float *bp) {
    if (!transb) {
        const __m256i m0 = lane_mask(nc), m1 = lane_mask(nc - 8);
        for (int p = 0; p < kc; p++) {
            _mm256_store_ps(bp + p * NR, _mm256_maskload_ps(b + p * ldb, m0));
            _mm256_store_ps(bp + p * NR + 8, _mm256_maskload_ps(b + p * ldb + 8, m1));
        }
        return;
    }
    for (int h = 0; h < 2; h++) {
        const int rows = nc - 8 * h < 8 ? nc - 8 * h : 8;
        for (int p0 = 0; p0 < kc; p0 += 8) {
            const __m256i pm = lane_mask(kc - p0);
            __m256 r[8];
            for (int j = 0; j < 8; j++)
                r[j] = j < rows ? _mm256_maskload_ps(b + (8 * h + j) * ldb + p0, pm)
                                : _mm256_setzero_ps();
            transpose8_avx2(r);
            const int depth = kc - p0 < 8 ? kc - p0 : 8;
            for (int p = 0; p < depth; p++) _mm256_store_ps(bp + (p0 + p) * NR + 8 * h, r[p]);
        }
    }
}

static const sgemm_arch arch_avx2 = {
    .mr = MR, .nr = NR, .kc = KC, .nc = NC,
    .ukr = ukr_avx2, .pack_b = pack_b_avx2,
};

void sgemm_avx2(int transa, int transb, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm_drive(&arch_avx2, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
