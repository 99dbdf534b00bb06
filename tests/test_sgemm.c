/* SGEMM: every variant the CPU can run (the portable blocked C, and the
 * kernel table's entry for each ISA up to the best) against the reference,
 * over odd shapes, all four transpose combinations, alpha ≠ 1, beta 0 (with
 * NaN in C, which must not leak), 1 and 0.5, padded leading dimensions,
 * zero sizes, sizes past the cache blocks, the model's layer shapes, and one
 * and several OpenMP threads; the swapped small-batch forward form bit for
 * bit against the direct loops. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/cpu.h"
#include "kernels/kernels.h"
#include "kernels/sgemm.h"
#include "testutil.h"

typedef struct {
    const char *name;
    sgemm_fn fn;
} variant;

static variant variants[4];
static int n_variants;

static uint32_t rng_state = 12345u;
static float frand(void) { /* uniform in [-1, 1) */
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) * (1.0 / 8388608.0)) - 1.0f;
}

static float *alloc_fill(size_t count) {
    float *x = malloc((count ? count : 1) * sizeof(float));
    for (size_t i = 0; i < count; i++) x[i] = frand();
    return x;
}

/* One case on every variant: C = alpha·op(A)·op(B) + beta·C with leading
 * dimensions `pad` beyond the minimum; C's padding columns must stay put. */
static void check_case(int ta, int tb, int m, int n, int k, float alpha, float beta, int pad) {
    const int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
    const size_t a_len = (size_t)(ta ? k : m) * lda, b_len = (size_t)(tb ? n : k) * ldb;
    const size_t c_len = (size_t)m * ldc;
    float *a = alloc_fill(a_len), *b = alloc_fill(b_len), *c0 = alloc_fill(c_len);
    float *want = malloc((c_len ? c_len : 1) * sizeof(float));
    float *got = malloc((c_len ? c_len : 1) * sizeof(float));
    const float sentinel = 1234.5f;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++)
            if (beta == 0.0f) c0[(size_t)i * ldc + j] = NAN;
        for (int j = n; j < ldc; j++) c0[(size_t)i * ldc + j] = sentinel;
    }
    if (c_len) memcpy(want, c0, c_len * sizeof(float));
    sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc);
    /* each product term is at most |alpha|·1·1; float rounding grows with k */
    const double tol = 2e-6 * k * fabs(alpha) + 1e-6;
    for (int v = 0; v < n_variants; v++) {
        if (c_len) memcpy(got, c0, c_len * sizeof(float));
        variants[v].fn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc);
        double worst = 0.0;
        int bad = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ldc; j++) {
                float g = got[(size_t)i * ldc + j], w = want[(size_t)i * ldc + j];
                double err = isfinite(g) ? fabs((double)g - w) : INFINITY;
                if (j >= n) err = g == sentinel ? 0.0 : INFINITY;
                if (!(err <= tol)) bad++;
                if (err > worst || err != err) worst = err;
            }
        CHECK(bad == 0);
        if (bad)
            fprintf(stderr, "  %s ta=%d tb=%d m=%d n=%d k=%d alpha=%g beta=%g pad=%d threads=%d: "
                            "%d bad, worst error %g (tol %g)\n",
                    variants[v].name, ta, tb, m, n, k, alpha, beta, pad, omp_get_max_threads(),
                    bad, worst, tol);
    }
    free(a), free(b), free(c0), free(want), free(got);
}

/* m, n, k over odd sizes (every combination), all transposes and betas. */
static void test_odd_sizes(void) {
    static const int sizes[] = {1, 7, 17, 63, 129};
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    int count = 0;
    for (int im = 0; im < 5; im++)
        for (int in = 0; in < 5; in++)
            for (int ik = 0; ik < 5; ik++)
                for (int t = 0; t < 4; t++) {
                    const float beta = betas[count % 3];
                    const float alpha = count % 2 ? -0.75f : 1.5f;
                    check_case(t >> 1, t & 1, sizes[im], sizes[in], sizes[ik], alpha, beta,
                               count % 4 ? 3 : 0);
                    count++;
                }
}

/* Every beta on a few shapes, each transpose combination. */
static void test_betas(void) {
    static const float betas[] = {0.0f, 1.0f, 0.5f};
    for (int t = 0; t < 4; t++)
        for (int ib = 0; ib < 3; ib++) {
            check_case(t >> 1, t & 1, 17, 63, 7, 0.5f, betas[ib], 5);
            check_case(t >> 1, t & 1, 9, 33, 40, -2.0f, betas[ib], 1);
            check_case(t >> 1, t & 1, 24, 48, 16, 1.0f, betas[ib], 0);
        }
}

/* Zero sizes: nothing to do for m or n 0; k 0 (or alpha 0) leaves beta·C,
 * and beta 0 then clears even NaN. */
static void test_zero_sizes(void) {
    for (int t = 0; t < 4; t++) {
        check_case(t >> 1, t & 1, 0, 7, 5, 1.5f, 0.5f, 2);
        check_case(t >> 1, t & 1, 7, 0, 5, 1.5f, 0.5f, 2);
        check_case(t >> 1, t & 1, 7, 5, 0, 1.5f, 0.5f, 2);
        check_case(t >> 1, t & 1, 7, 5, 0, 1.5f, 0.0f, 2);
        check_case(t >> 1, t & 1, 0, 0, 0, 1.5f, 0.0f, 0);
    }
    for (int v = 0; v < n_variants; v++) { /* alpha 0, beta 0: zeros, A and B unread */
        float c[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
        float a[4] = {NAN, NAN, NAN, NAN}, b[4] = {NAN, NAN, NAN, NAN};
        variants[v].fn(0, 0, 2, 3, 1, 0.0f, a, 1, b, 3, 0.0f, c, 3);
        int zeros = 1;
        for (int i = 0; i < 6; i++) zeros &= c[i] == 0.0f;
        CHECK(zeros);
    }
}

/* Past the cache blocks: k beyond KC (later passes accumulate), n beyond NC
 * (several packed blocks), m not a multiple of any MR. */
static void test_large(void) {
    for (int t = 0; t < 4; t++) {
        check_case(t >> 1, t & 1, 37, 45, 800, 1.25f, 0.5f, 3);
        check_case(t >> 1, t & 1, 19, 1100, 70, -1.0f, 0.0f, 1);
        check_case(t >> 1, t & 1, 203, 77, 389, 0.5f, 1.0f, 0);
    }
}

/* The MLP's layers (784-256-128-64-10 and 784-256-128-10, batch 128): the
 * forward A·W^T, the weight gradient dY^T·X and the data gradient dY·W. */
static void test_model_shapes(void) {
    static const int layers[][2] = {{784, 256}, {256, 128}, {128, 64}, {64, 10}, {128, 10}};
    const int batch = 128;
    for (int l = 0; l < 5; l++) {
        const int in = layers[l][0], out = layers[l][1];
        check_case(0, 1, batch, out, in, 1.0f, 0.0f, 0);
        check_case(1, 0, out, in, batch, 1.0f, 0.0f, 0);
        check_case(0, 0, batch, in, out, 1.0f, 0.0f, 0);
    }
    check_case(0, 0, 128, 256, 784, 1.0f, 0.0f, 0); /* the benchmark's NN forms */
    check_case(0, 0, 128, 10, 128, 1.0f, 0.0f, 0);
    check_case(0, 0, 128, 64, 128, 1.0f, 1.0f, 0);
    /* LeNet conv3's passes (120 = 7·16 + 8: a whole 8-wide last vector, which
     * AVX2 loads and stores unmasked), and 24 columns with beta and padding */
    check_case(0, 1, 128, 120, 400, 1.0f, 0.0f, 0);
    check_case(1, 0, 120, 400, 128, 1.0f, 1.0f, 0);
    check_case(0, 0, 128, 400, 120, 1.0f, 0.0f, 0);
    check_case(0, 0, 7, 24, 17, 0.5f, 1.0f, 3);
}

/* A beta-0 product with a transposed B and at most 32 rows runs as its
 * transpose (kernels/sgemm.c); it must give C bit for bit as the direct loops
 * do. Those loops compute each row of C the same whatever rows follow, so the
 * first m rows of a 40-row product (run directly) are the expected bits. */
static void check_swapped_bits(int m, int n, int k, float alpha, int pad) {
    const int rows = 40, lda = k + pad, ldb = k + 2 * pad, ldc = n + pad;
    float *a = alloc_fill((size_t)rows * lda), *b = alloc_fill((size_t)n * ldb);
    float *want = alloc_fill((size_t)rows * ldc), *got = alloc_fill((size_t)m * ldc);
    for (int v = 0; v < n_variants; v++) {
        variants[v].fn(0, 1, rows, n, k, alpha, a, lda, b, ldb, 0.0f, want, ldc);
        for (size_t i = 0; i < (size_t)m * ldc; i++) got[i] = NAN;
        variants[v].fn(0, 1, m, n, k, alpha, a, lda, b, ldb, 0.0f, got, ldc);
        int bad = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                bad += memcmp(&got[(size_t)i * ldc + j], &want[(size_t)i * ldc + j], sizeof(float)) != 0;
        CHECK(bad == 0);
        if (bad)
            fprintf(stderr, "  %s swapped m=%d n=%d k=%d threads=%d: %d elements differ from the direct loops\n",
                    variants[v].name, m, n, k, omp_get_max_threads(), bad);
    }
    free(a), free(b), free(want), free(got);
}

static void test_swapped_bits(void) {
    static const int ms[] = {1, 7, 17, 32}, ns[] = {33, 77, 256}, ks[] = {1, 63, 784, 1300};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int p = 0; p < 4; p++) check_swapped_bits(ms[i], ns[j], ks[p], p ? 1.0f : -0.75f, p & 1);
}

int main(void) {
    variants[n_variants++] = (variant){"portable", sgemm_portable};
    const alrs_isa best = cpu_best_isa();
    static kernel_table tables[3];
    for (alrs_isa isa = ISA_SCALAR; isa <= best; isa++) {
        memset(&tables[isa], 0, sizeof tables[isa]);
        sgemm_register(&tables[isa], isa);
        CHECK(tables[isa].sgemm != NULL);
        if (tables[isa].sgemm) variants[n_variants++] = (variant){cpu_isa_name(isa), tables[isa].sgemm};
    }
    printf("variants:");
    for (int v = 0; v < n_variants; v++) printf(" %s", variants[v].name);
    printf("\n");

    omp_set_num_threads(1);
    test_odd_sizes();
    test_betas();
    test_zero_sizes();
    test_large();
    test_model_shapes();
    test_swapped_bits();
    /* the parallel path: a team packs B together and splits the tiles */
    for (int threads = 2; threads <= 3; threads++) {
        omp_set_num_threads(threads);
        test_large();
        test_model_shapes();
        test_swapped_bits();
    }
    /* each microarchitecture's cache blocks (KC 384 on Zen 4, 576 on Zen 5:
     * k = 800 crosses both), whichever this machine is */
    omp_set_num_threads(1);
    static const char *const uarchs[] = {"zen4", "zen5", "other"};
    for (int u = 0; u < 3; u++) {
        setenv("ALRS_UARCH", uarchs[u], 1);
        CHECK(!strcmp(cpu_uarch(), uarchs[u]));
        test_large();
    }
    unsetenv("ALRS_UARCH");
    return test_finish();
}
