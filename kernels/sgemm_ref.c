/* SGEMM in plain C: the reference every variant is tested against, and the
 * portable micro-kernel and packing that the blocked driver runs on any CPU
 * (the scalar ISA; the compiler vectorizes it with SSE2 at best). */
#include "kernels/sgemm.h"

/* A[i][p] of op(A), B[p][j] of op(B). */
static float elem_a(int transa, const float *a, int lda, int i, int p) {
    return transa ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
}
static float elem_b(int transb, const float *b, int ldb, int p, int j) {
    return transb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
}

void sgemm_ref(int transa, int transb, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0.0;
            for (int p = 0; p < k; p++)
                sum += (double)elem_a(transa, a, lda, i, p) * elem_b(transb, b, ldb, p, j);
            float *cij = &c[(size_t)i * ldc + j];
            /* beta 0 overwrites: C may hold NaN or garbage */
            *cij = beta == 0.0f ? (float)(alpha * sum) : (float)(alpha * sum + beta * *cij);
        }
}

/* ---- portable micro-kernel: MR×NR = 4×16 --------------------------------- */

enum { REF_MR = 4, REF_NR = 16 };

static void ukr_ref(int mr, int nr, int k, const float *a, ptrdiff_t rs_a, ptrdiff_t cs_a,
                    const float *b, ptrdiff_t rs_b, float *c, ptrdiff_t ldc, float alpha,
                    float beta) {
    float acc[REF_MR][REF_NR] = {{0}};
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

static void pack_b_ref(int transb, int kc, int nc, const float *b, ptrdiff_t ldb, float *bp) {
    for (int q = 0; q * REF_NR < nc; q++, bp += (size_t)kc * REF_NR)
        for (int p = 0; p < kc; p++)
            for (int j = 0; j < REF_NR; j++) {
                int col = q * REF_NR + j;
                bp[p * REF_NR + j] =
                    col < nc ? (transb ? b[col * ldb + p] : b[p * ldb + col]) : 0.0f;
            }
}

static const sgemm_arch arch_portable = {
    .mr = REF_MR, .nr = REF_NR, .kc = 256, .nc = 512,
    .ukr = ukr_ref, .pack_b = pack_b_ref,
};

void sgemm_portable(int transa, int transb, int m, int n, int k, float alpha, const float *a,
                    int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm_drive(&arch_portable, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
