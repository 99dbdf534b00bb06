/* The SGEMM driver: BLIS's loops around a register-blocked micro-kernel.
 *
 *   for pc in k step KC                     depth of one pass (A micro-panel in L1)
 *     for jc in n step NC                   pack op(B)[pc:+KC, jc:+NC] into NR-wide panels (L2)
 *       for ir in m step MR                 one micro-panel of A, reused across the jr loop
 *         for jr in NC step NR              micro-kernel: C[ir:+MR, jc+jr:+NR] += A·B
 *
 * A is never packed: the micro-kernel reads its MR rows in place (MR
 * sequential streams) or, transposed, MR consecutive floats per k step. On
 * Zen 4 that measured faster than packing on every shape of the workload,
 * 1024³ included (L2 feeds L1 fast enough; packing costs a pass over A).
 * B is packed into NR-wide panels when transposed or wider than one NC
 * block; otherwise ("sup", small/unpacked) its rows are read in place: a
 * KC×n slice of a row-major B is one contiguous stretch that stays in L2,
 * and the kernel masks the last vector of each row instead of padding.
 *
 * A product with a transposed B, few rows and beta 0 (a fully connected
 * layer's forward pass at a small batch: C[batch×out] = X·W^T) runs as its
 * transpose, C^T = B·A^T: packing op(B) would cost a pass over all of W for
 * only m uses of each element, while B's rows can be read in place and it is
 * A (m×k, small) that gets packed; C^T goes to a scratch buffer and is copied
 * back transposed. Each element of C is then the same sum of the same
 * products in the same order (a·b = b·a exactly), so results are bit for bit
 * those of the direct loops. Measured on this Xeon (AVX-512, 1 thread, the
 * MLP's 32×784 by 256×784 forward): 185 -> 122 us; at 64 rows it no longer
 * wins (its 64 = 48 + 16 columns leave a thin tile) and at 128 it loses.
 *
 * With more than one OpenMP thread available and enough work, the team
 * packs B together and splits the (ir, jr) tiles into contiguous ranges;
 * one thread (the usual case: many environments, one thread each) opens
 * no parallel region. */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/sgemm.h"

typedef struct {
    const sgemm_arch *arch;
    int transa, transb, m, n, k;
    float alpha, beta;
    const float *a, *b;
    int lda, ldb, ldc;
    float *c;
    int pack_b;
    float *bp; /* packed KC×NC block of B, shared by the team */
} gemm_job;

/* The packed-B block is reused from call to call: allocating ~0.5 MB each
 * time would cost page faults on every call. One per calling thread, grown as
 * needed and kept for the thread's life. */
static _Thread_local float *bpack_buf;
static _Thread_local size_t bpack_cap;

/* The transposed product C^T of a swapped call (see above), likewise kept. */
static _Thread_local float *ct_buf;
static _Thread_local size_t ct_cap;

/* Rows of C up to which a beta-0 product with a transposed B runs swapped. */
#define SWAP_M_MAX 32

/* *buf with room for `floats`, grown (contents lost) when short; NULL when
 * out of memory. */
static float *reserve(float **buf, size_t *cap, size_t floats) {
    if (floats > *cap) {
        free(*buf);
        size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
        *buf = aligned_alloc(64, bytes);
        *cap = *buf ? floats : 0;
    }
    return *buf;
}

static float *bpack_reserve(size_t floats) { return reserve(&bpack_buf, &bpack_cap, floats); }

static void scale_c(int m, int n, float beta, float *c, int ldc) {
    for (int i = 0; i < m; i++) {
        float *row = c + (size_t)i * ldc;
        if (beta == 0.0f) memset(row, 0, (size_t)n * sizeof(float));
        else
            for (int j = 0; j < n; j++) row[j] *= beta;
    }
}

/* [lo, hi) of count items for thread tid of nth, in contiguous chunks. */
static void split(int count, int tid, int nth, int *lo, int *hi) {
    *lo = (int)((int64_t)count * tid / nth);
    *hi = (int)((int64_t)count * (tid + 1) / nth);
}

static void team_barrier(int nth) {
    if (nth > 1) {
#pragma omp barrier
    }
}

/* The loops below the pc/jc level for tiles [t0, t1) of the block. */
static void run_tiles(const gemm_job *g, int pc, int kc, int jc, int nc, float beta, int tid,
                      int nth) {
    const sgemm_arch *ar = g->arch;
    const int MR = ar->mr, NR = ar->nr;
    const int npanels = (nc + NR - 1) / NR, mpanels = (g->m + MR - 1) / MR;
    int t0, t1;
    split(mpanels * npanels, tid, nth, &t0, &t1);
    for (int t = t0; t < t1; t++) {
        const int ir = t / npanels, q = t % npanels;
        const int i0 = ir * MR, j0 = q * NR;
        const int mr = g->m - i0 < MR ? g->m - i0 : MR;
        const int nr = nc - j0 < NR ? nc - j0 : NR;
        const float *a;
        ptrdiff_t rs_a, cs_a;
        if (!g->transa) {
            a = g->a + (size_t)i0 * g->lda + pc, rs_a = g->lda, cs_a = 1;
        } else {
            a = g->a + (size_t)pc * g->lda + i0, rs_a = 1, cs_a = g->lda;
        }
        const float *b;
        ptrdiff_t rs_b;
        if (g->pack_b) b = g->bp + (size_t)q * kc * NR, rs_b = NR;
        else b = g->b + (size_t)pc * g->ldb + jc + j0, rs_b = g->ldb;
        ar->ukr(mr, nr, kc, a, rs_a, cs_a, b, rs_b, g->c + (size_t)i0 * g->ldc + jc + j0, g->ldc,
                g->alpha, beta);
    }
}

/* Splits total into the fewest blocks of at most `block`, equal in size up
 * to a multiple of `align` (784 = 264 + 264 + 256, not 384 + 384 + 16: a
 * thin last pass would pay the C update for little work). */
static int block_size(int total, int block, int align) {
    int count = (total + block - 1) / block;
    int size = (total + count - 1) / count;
    size = (size + align - 1) / align * align;
    return size < block ? size : block;
}

static void run_blocks(const gemm_job *g, int tid, int nth) {
    const sgemm_arch *ar = g->arch;
    const int NR = ar->nr;
    const int KC = block_size(g->k, ar->kc, 8), NC = block_size(g->n, ar->nc, NR);
    for (int pc = 0; pc < g->k; pc += KC) {
        const int kc = g->k - pc < KC ? g->k - pc : KC;
        const float beta = pc == 0 ? g->beta : 1.0f; /* later passes accumulate */
        for (int jc = 0; jc < g->n; jc += NC) {
            const int nc = g->n - jc < NC ? g->n - jc : NC;
            if (g->pack_b) {
                const int npanels = (nc + NR - 1) / NR;
                int q0, q1;
                split(npanels, tid, nth, &q0, &q1);
                for (int q = q0; q < q1; q++) {
                    const int j = jc + q * NR;
                    const float *src = g->transb ? g->b + (size_t)j * g->ldb + pc
                                                 : g->b + (size_t)pc * g->ldb + j;
                    ar->pack_b(g->transb, kc, nc - q * NR < NR ? nc - q * NR : NR, src, g->ldb,
                               g->bp + (size_t)q * kc * NR);
                }
                team_barrier(nth);
            }
            run_tiles(g, pc, kc, jc, nc, beta, tid, nth);
            if (g->pack_b) team_barrier(nth); /* before the next block overwrites bp */
        }
    }
}

/* 1 when C = alpha·A·B^T is better computed as its transpose (see above). */
static int worth_swapping(int transa, int transb, int m, int n, float beta) {
    return !transa && transb && beta == 0.0f && m <= SWAP_M_MAX && n > m;
}

/* c[i·ldc + j] = ct[j·m + i] for the m×n of C, in 16×16 blocks so that both
 * sides move a few cache lines at a time. */
static void copy_transposed(int m, int n, const float *ct, float *c, int ldc) {
    for (int j0 = 0; j0 < n; j0 += 16) {
        const int j1 = n - j0 < 16 ? n : j0 + 16;
        for (int i = 0; i < m; i++) {
            float *row = c + (size_t)i * ldc;
            for (int j = j0; j < j1; j++) row[j] = ct[(size_t)j * m + i];
        }
    }
}

/* C = alpha·A·B^T (beta 0) as C^T = alpha·B·A^T: B's rows in place, A packed. */
static void drive_swapped(const sgemm_arch *arch, int m, int n, int k, float alpha,
                          const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    float *ct = reserve(&ct_buf, &ct_cap, (size_t)m * n);
    if (!ct) { /* out of memory: the reference needs no buffer */
        sgemm_ref(0, 1, m, n, k, alpha, a, lda, b, ldb, 0.0f, c, ldc);
        return;
    }
    sgemm_drive(arch, 0, 1, n, m, k, alpha, b, ldb, a, lda, 0.0f, ct, m);
    copy_transposed(m, n, ct, c, ldc);
}

void sgemm_drive(const sgemm_arch *arch, int transa, int transb, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                 float *c, int ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    if (worth_swapping(transa, transb, m, n, beta)) {
        drive_swapped(arch, m, n, k, alpha, a, lda, b, ldb, c, ldc);
        return;
    }
    gemm_job g = {
        .arch = arch, .transa = transa, .transb = transb, .m = m, .n = n, .k = k,
        .alpha = alpha, .beta = beta, .a = a, .b = b, .lda = lda, .ldb = ldb, .ldc = ldc, .c = c,
    };
    /* B's rows are read in place when one block spans them (n ≤ NC): a KC×n
     * block of B is then one contiguous stretch that stays in L2. */
    g.pack_b = transb || n > arch->nc;
    if (g.pack_b) {
        int kc = k < arch->kc ? k : arch->kc;
        int nc = n < arch->nc ? n : arch->nc;
        size_t floats = (size_t)kc * ((nc + arch->nr - 1) / arch->nr * arch->nr);
        g.bp = bpack_reserve(floats);
        if (!g.bp) { /* out of memory: the reference needs no buffer */
            sgemm_ref(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
    }
    int threads = omp_get_max_threads();
    if (threads > 1 && (double)m * n * k >= 96.0 * 96 * 96 &&
        omp_get_active_level() < omp_get_max_active_levels()) {
#pragma omp parallel num_threads(threads)
        run_blocks(&g, omp_get_thread_num(), omp_get_num_threads());
    } else {
        run_blocks(&g, 0, 1);
    }
}

void sgemm_register(kernel_table *t, alrs_isa isa) {
    switch (isa) {
    case ISA_AVX512: t->sgemm = sgemm_avx512; break;
    case ISA_AVX2: t->sgemm = sgemm_avx2; break;
    default: t->sgemm = sgemm_portable; break;
    }
}
