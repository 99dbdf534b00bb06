/* SGEMM's portable micro-kernel and packing in plain C, in the blocked
 * driver: the scalar ISA's sgemm, which runs on any CPU (the compiler
 * vectorizes it with SSE2 at best). MR×NR = 4×16. */
#include "kernels/sgemm.h"

enum { MR = 4, NR = 16, KC = 256, NC = 512 };

static void ukr_portable(int mr, int nr, int k, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                         const float *b, ptrdiff_t rs_b, float *c, ptrdiff_t ldc, float alpha,
                         float beta) {
    float acc[MR][NR] = {{0}};
    for (int p = 0; p < k; p++) {
        const float *bp = b + p * rs_b;
        for (int i = 0; i < mr; i++) {
            float aip = a[i * rs_a + p * cs_a];
            for (int j = 0; j < nr; j++) acc[i][j] += aip * bp[j];
        }
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++) {
            float *cij = &c[i * ldc + j];
            *cij = beta == 0.0f ? alpha * acc[i][j] : alpha * acc[i][j] + beta * *cij;
        }
}

static void pack_b_portable(int transb, int kc, int nc, const float *b, ptrdiff_t ldb, float *bp) {
    for (int q = 0; q * NR < nc; q++, bp += (size_t)kc * NR)
        for (int p = 0; p < kc; p++)
            for (int j = 0; j < NR; j++) {
                int col = q * NR + j;
                bp[p * NR + j] = col < nc ? (transb ? b[col * ldb + p] : b[p * ldb + col]) : 0.0f;
            }
}

static const sgemm_arch arch_portable = {
    .mr = MR, .nr = NR, .kc = KC, .nc = NC,
    .ukr = ukr_portable, .pack_b = pack_b_portable,
};

void sgemm_portable(int transa, int transb, int m, int n, int k, float alpha, const float *a,
                    int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm_drive(&arch_portable, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
