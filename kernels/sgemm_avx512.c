/* SGEMM micro-kernel and B packing for AVX-512F.
 *
 * Register block MR×NR = 8×48: 24 zmm accumulators (8 rows × 3 vectors of
 * 16 columns), 3 for the B row, 1 for the broadcast A element: 28 of the 32
 * registers. Zen 4 runs one 512-bit FMA per cycle with a 4-cycle latency, so
 * 24 independent chains keep it busy, and each k step loads 3 vectors and
 * broadcasts 8 scalars for 24 FMAs, well within its two loads per cycle. An
 * 8×32 block (16 accumulators, 10 loads per 16 FMAs) measured 3–6 % slower
 * on every shape, the same shape as oneDNN's AVX-512 sgemm kernel (48×8 in
 * its column-major terms). 8 rows divide the batch sizes (64, 128, 1024);
 * for n ≤ 16 the same kernel runs one vector wide (the 10-wide classifier:
 * 10 of 16 lanes busy, no packing of A, a 16-wide B panel).
 *
 * Cache blocks (Zen 4: 32 KB L1d, 1 MB L2 per core): KC = 384 keeps an
 * 8×384 micro-panel of A (12 KB) in L1 while B panels stream past it;
 * NC = 480 (ten 48-wide panels) makes the packed 384×480 B block 720 KB, in
 * L2. Measured at 1024³ the throughput is flat (±2 %) over KC 192–512 and
 * NC 256–1024: L2 feeds this kernel fast enough that the blocks matter
 * little. */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu.h"
#include "kernels/sgemm.h"
#include "kernels/transpose16_avx512.h"

#define AVX512 __attribute__((target("avx512f")))

enum { MR = 8, NV = 3, NR = 16 * NV, NC = 480 };

/* One tile with compile-time shape: M rows (≤ MR), V vectors of 16 columns
 * (≤ NR/16; the last one masked by mlast), A read by rows (ROWA:
 * a[i·rs_a + p]) or by columns (a[i + p·cs_a]). Inlined into one function
 * per shape, where the accumulator array becomes registers. */
static inline __attribute__((always_inline)) AVX512 void
tile(const int M, const int V, const int ROWA, int k, const float *a, ptrdiff_t rs_a,
     ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b, __mmask16 mlast, float *c, ptrdiff_t ldc,
     float alpha, float beta) {
    __m512 acc[NV][MR];
#pragma GCC unroll 3
    for (int v = 0; v < V; v++)
#pragma GCC unroll 8
        for (int i = 0; i < M; i++) acc[v][i] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int p = 0; p < k; p++) {
        __m512 bv[NV];
#pragma GCC unroll 3
        for (int v = 0; v < V; v++)
            bv[v] = v < V - 1 ? _mm512_loadu_ps(b + 16 * v) : _mm512_maskz_loadu_ps(mlast, b + 16 * v);
#pragma GCC unroll 8
        for (int i = 0; i < M; i++) {
            const __m512 ai = _mm512_set1_ps(ROWA ? a[i * rs_a] : a[i]);
#pragma GCC unroll 3
            for (int v = 0; v < V; v++) acc[v][i] = _mm512_fmadd_ps(ai, bv[v], acc[v][i]);
        }
        a += ROWA ? 1 : cs_a;
        b += rs_b;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < M; i++) {
        float *ci = c + i * ldc;
#pragma GCC unroll 3
        for (int v = 0; v < V; v++) {
            const __mmask16 mask = v == V - 1 ? mlast : (__mmask16)0xFFFF;
            __m512 r = _mm512_mul_ps(va, acc[v][i]);
            if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mask, ci + 16 * v), r);
            _mm512_mask_storeu_ps(ci + 16 * v, mask, r);
        }
    }
}

typedef void (*tile_fn)(int k, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a, const float *b,
                        ptrdiff_t rs_b, __mmask16 mlast, float *c, ptrdiff_t ldc, float alpha,
                        float beta);

/* tile_<rows>_<vectors>_<row|col>: one instance of tile() per shape. */
#define TILE(M, V, R)                                                                         \
    static AVX512 void tile_##M##_##V##_##R(int k, const float *a, ptrdiff_t rs_a,           \
                                            ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b,   \
                                            __mmask16 mlast, float *c, ptrdiff_t ldc,         \
                                            float alpha, float beta) {                        \
        tile(M, V, R, k, a, rs_a, cs_a, b, rs_b, mlast, c, ldc, alpha, beta);                 \
    }
#define TILES(M) TILE(M, 1, 0) TILE(M, 2, 0) TILE(M, 3, 0) TILE(M, 1, 1) TILE(M, 2, 1) TILE(M, 3, 1)
TILES(1) TILES(2) TILES(3) TILES(4) TILES(5) TILES(6) TILES(7) TILES(8)
#undef TILES
#undef TILE

/* [rows - 1][vectors - 1][A by rows] */
static const tile_fn tiles[MR][NV][2] = {
#define ROW(M)                                                                                \
    {{tile_##M##_1_0, tile_##M##_1_1}, {tile_##M##_2_0, tile_##M##_2_1}, {tile_##M##_3_0, tile_##M##_3_1}}
    ROW(1), ROW(2), ROW(3), ROW(4), ROW(5), ROW(6), ROW(7), ROW(8),
#undef ROW
};

static AVX512 void ukr_avx512(int mr, int nr, int k, const float *a, ptrdiff_t rs_a,
                              ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b, float *c,
                              ptrdiff_t ldc, float alpha, float beta) {
    const int v = (nr + 15) / 16;
    const __mmask16 mlast = (__mmask16)((1u << (nr - 16 * (v - 1))) - 1);
    tiles[mr - 1][v - 1][cs_a == 1](k, a, rs_a, cs_a, b, rs_b, mlast, c, ldc, alpha, beta);
}

static __mmask16 first_lanes(int count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

static AVX512 void pack_b_avx512(int transb, int kc, int nc, const float *b, ptrdiff_t ldb,
                                 float *bp) {
    /* vectors past the last column are never read (the kernel masks the
     * last one it reads), so they are left unwritten */
    const int nv = (nc + 15) / 16;
    if (!transb) {
        __mmask16 m[NV];
        for (int v = 0; v < nv; v++) m[v] = first_lanes(nc - 16 * v);
        for (int p = 0; p < kc; p++)
            for (int v = 0; v < nv; v++)
                _mm512_store_ps(bp + p * NR + 16 * v, _mm512_maskz_loadu_ps(m[v], b + p * ldb + 16 * v));
        return;
    }
    /* op(B)[p][j] = b[j·ldb + p]: rows of b become columns of the panel,
     * 16×16 blocks at a time */
    for (int v = 0; v < nv; v++) {
        const int rows = nc - 16 * v < 16 ? nc - 16 * v : 16;
        for (int p0 = 0; p0 < kc; p0 += 16) {
            const __mmask16 pm = first_lanes(kc - p0);
            __m512 r[16];
            for (int j = 0; j < 16; j++)
                r[j] = j < rows ? _mm512_maskz_loadu_ps(pm, b + (16 * v + j) * ldb + p0)
                                : _mm512_setzero_ps();
            transpose16_avx512(r);
            const int depth = kc - p0 < 16 ? kc - p0 : 16;
            for (int p = 0; p < depth; p++) _mm512_store_ps(bp + (p0 + p) * NR + 16 * v, r[p]);
        }
    }
}

/* KC per microarchitecture, from its L1d (BLIS keeps such blocks per
 * configuration): an 8×KC micro-panel of A in 3/8 of L1 leaves the rest to
 * the B vectors and C tiles streaming past. Zen 4 (32 KB): 384, as measured
 * above; Zen 5 (48 KB): 576, by the same rule (not measured: no Zen 5 was
 * at hand). ALRS_UARCH picks another's, for the tests. */
static int kc_for_uarch(void) {
    const char *u = cpu_uarch();
    int l1_kb = !strcmp(u, "zen5") ? 48 : !strcmp(u, "zen4") ? 32 : cpu_l1d_kb();
    int kc = l1_kb * 1024 * 3 / 8 / (MR * (int)sizeof(float)) / 16 * 16;
    return kc < 128 ? 128 : kc > 1024 ? 1024 : kc;
}

void sgemm_avx512(int transa, int transb, int m, int n, int k, float alpha, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    /* read once: cpuid traps to the hypervisor in a VM (microseconds) */
    static _Atomic int kc;
    if (!kc || getenv("ALRS_UARCH")) kc = kc_for_uarch();
    const sgemm_arch arch = {
        .mr = MR, .nr = NR, .kc = kc, .nc = NC, .ukr = ukr_avx512, .pack_b = pack_b_avx512,
    };
    sgemm_drive(&arch, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
