/* SGEMM's reference in plain C: a triple loop with double accumulation, slow
 * and obviously right, that every variant is tested against (and the
 * fallback of the driver when it cannot get a packing buffer). */
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
