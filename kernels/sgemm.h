/* Private interface of the SGEMM family (kernels/sgemm*.c), laid out after
 * BLIS: one driver (sgemm.c) runs the blocking loops and packing around a
 * register-blocked micro-kernel that each instruction set supplies
 * (sgemm_portable.c plain C, sgemm_avx2.c, sgemm_avx512.c); sgemm_ref.c holds
 * the reference they are all tested against.
 *
 * Matrices are row-major. The micro-kernel computes one MR×NR tile of C,
 * with vectors along n and elements of A broadcast:
 *
 *   C[0:mr, 0:nr] = alpha · A[0:mr, 0:k] · B[0:k, 0:nr] + beta · C     (beta 0: C not read)
 *
 * where A[i][p] = a[i·rs_a + p·cs_a] (rs_a = lda, cs_a = 1 reads A's rows in
 * place; rs_a = 1, cs_a = lda a transposed A in place) and
 * B[p][j] = b[p·rs_b + j] (a packed NR-wide panel, rs_b = NR, or B itself,
 * rs_b = ldb). A kernel reads no
 * element of A beyond row mr nor of B beyond column nr, so the edges of a
 * matrix need no padding. */
#ifndef ALRS_KERNELS_SGEMM_H
#define ALRS_KERNELS_SGEMM_H

#include <stddef.h>

#include "kernels/kernels.h"

typedef void (*sgemm_ukr_fn)(int mr, int nr, int k, const float *a, ptrdiff_t rs_a,
                             ptrdiff_t cs_a, const float *b, ptrdiff_t rs_b, float *c,
                             ptrdiff_t ldc, float alpha, float beta);

/* Packs kc×nc of op(B) (b points at its first element; op(B)[p][j] is
 * b[p·ldb + j], or b[j·ldb + p] with transb) into NR-wide panels: panel q
 * holds columns q·NR.. as bp[q·kc·NR + p·NR + j]. Columns past nc are
 * zero up to a whole vector; vectors wholly past nc may be left unwritten
 * (the kernel reads the last vector of a tile masked). */
typedef void (*sgemm_pack_b_fn)(int transb, int kc, int nc, const float *b, ptrdiff_t ldb,
                                float *bp);

/* One instruction set's register block, cache blocks and kernels.
 *   MR×NR  the micro-tile held in registers
 *   KC     depth of a pass: an MR×KC micro-panel of A stays in L1
 *   NC     columns of B packed at once: the KC×NC block stays in L2
 * The driver shrinks KC and NC to split k and n into equal blocks. */
typedef struct {
    int mr, nr, kc, nc;
    sgemm_ukr_fn ukr;
    sgemm_pack_b_fn pack_b;
} sgemm_arch;

/* The five loops: C = alpha·op(A)·op(B) + beta·C with arch's kernels. */
void sgemm_drive(const sgemm_arch *arch, int transa, int transb, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                 float *c, int ldc);

/* The reference: a plain triple loop with double accumulation. Slow and
 * obviously right; the tests compare every variant against it. */
void sgemm_ref(int transa, int transb, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc);

/* The portable variants: plain-C micro-kernel in the blocked driver, and
 * the SIMD ones (only to be called where the CPU has the instructions). */
void sgemm_portable(int transa, int transb, int m, int n, int k, float alpha, const float *a,
                    int lda, const float *b, int ldb, float beta, float *c, int ldc);
void sgemm_avx2(int transa, int transb, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc);
void sgemm_avx512(int transa, int transb, int m, int n, int k, float alpha, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc);

#endif
