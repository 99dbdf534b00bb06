/* Convolution kernels: the reference against finite differences, every ISA
 * the CPU has against the reference on odd shapes, and the reference against
 * oneDNN (plain layouts) on a LeNet and a ResNet shape. */
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/kernels.h"
#include "kernels/sgemm.h"
#include "testutil.h"

static uint32_t rng = 12345u;
static float frand(void) {
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}
static float *randv(size_t n) {
    float *v = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) v[i] = frand();
    return v;
}

static conv_shape make_shape(int n, int c, int h, int w, int k, int r, int stride, int pad) {
    conv_shape s = {n, c, h, w, k, r, r, stride, pad, 0, 0};
    s.oh = (h + 2 * pad - r) / stride + 1;
    s.ow = (w + 2 * pad - r) / stride + 1;
    return s;
}
static size_t src_len(const conv_shape *s) { return (size_t)s->n * s->c * s->h * s->w; }
static size_t dst_len(const conv_shape *s) { return (size_t)s->n * s->k * s->oh * s->ow; }
static size_t w_len(const conv_shape *s) { return (size_t)s->k * s->c * s->r * s->s; }

/* max |a-b| / (1 + max |b|): accumulation-order differences stay far below 1e-5. */
static double rel_err(const float *a, const float *b, size_t n) {
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > e || d != d) e = d != d ? 1e30 : d;
        if (fabs(b[i]) > m) m = fabs(b[i]);
    }
    return e / (1 + m);
}

/* sum(dst · g): the scalar whose gradients the backward passes compute. */
static double loss(const conv_shape *s, const float *x, const float *w, const float *b,
                   const float *g, float *dst) {
    kernel_table t;
    kernels_fill(&t, ISA_SCALAR);
    t.conv_fwd(s, x, w, b, 0, dst, NULL);
    double l = 0;
    for (size_t i = 0; i < dst_len(s); i++) l += (double)dst[i] * g[i];
    return l;
}

/* Central difference of loss along v[i]. */
static double numgrad(const conv_shape *s, float *x, float *w, float *b, const float *g,
                      float *dst, float *v, size_t i) {
    const float h = 1e-2f;
    float old = v[i];
    v[i] = old + h;
    double lp = loss(s, x, w, b, g, dst);
    v[i] = old - h;
    double lm = loss(s, x, w, b, g, dst);
    v[i] = old;
    return (lp - lm) / (2 * h);
}

static void test_reference_fd(void) {
    conv_shape s = make_shape(2, 2, 5, 4, 3, 3, 2, 1);
    float *x = randv(src_len(&s)), *w = randv(w_len(&s)), *b = randv(s.k), *g = randv(dst_len(&s));
    float *dst = malloc(sizeof(float) * dst_len(&s)), *dw = malloc(sizeof(float) * w_len(&s));
    float *dx = malloc(sizeof(float) * src_len(&s)), db[3];
    kernel_table t;
    kernels_fill(&t, ISA_SCALAR);
    t.conv_bwd_w(&s, x, g, dw, db, NULL);
    t.conv_bwd_d(&s, g, w, dx, NULL);
    for (size_t i = 0; i < w_len(&s); i++) CHECK_NEAR(dw[i], numgrad(&s, x, w, b, g, dst, w, i), 1e-3);
    for (size_t i = 0; i < src_len(&s); i++) CHECK_NEAR(dx[i], numgrad(&s, x, w, b, g, dst, x, i), 1e-3);
    for (int i = 0; i < s.k; i++) CHECK_NEAR(db[i], numgrad(&s, x, w, b, g, dst, b, i), 1e-3);
    free(x), free(w), free(b), free(g), free(dst), free(dw), free(dx);
}

/* One shape: fwd (bias/relu variants), bwd-w (with/without bias), bwd-d of
 * table t against the scalar reference. */
static int compare_shape(const kernel_table *t, const conv_shape *s) {
    kernel_table ref;
    kernels_fill(&ref, ISA_SCALAR);
    float *x = randv(src_len(s)), *w = randv(w_len(s)), *b = randv(s->k), *g = randv(dst_len(s));
    float *d0 = malloc(sizeof(float) * dst_len(s)), *d1 = malloc(sizeof(float) * dst_len(s));
    float *w0 = malloc(sizeof(float) * w_len(s)), *w1 = malloc(sizeof(float) * w_len(s));
    float *x0 = malloc(sizeof(float) * src_len(s)), *x1 = malloc(sizeof(float) * src_len(s));
    float *b0 = malloc(sizeof(float) * s->k), *b1 = malloc(sizeof(float) * s->k);
    float *scratch = malloc(sizeof(float) * (t->conv_scratch_floats(s) + 1));
    int bad = 0;
    for (int v = 0; v < 3; v++) {
        const float *bias = v ? b : NULL;
        int relu = v == 2;
        ref.conv_fwd(s, x, w, bias, relu, d0, NULL);
        memset(d1, 0xff, sizeof(float) * dst_len(s)); /* NaN: every output must be written */
        t->conv_fwd(s, x, w, bias, relu, d1, scratch);
        bad += rel_err(d1, d0, dst_len(s)) > 1e-5;
    }
    for (int v = 0; v < 2; v++) {
        ref.conv_bwd_w(s, x, g, w0, v ? b0 : NULL, NULL);
        memset(w1, 0xff, sizeof(float) * w_len(s));
        memset(b1, 0xff, sizeof(float) * s->k);
        t->conv_bwd_w(s, x, g, w1, v ? b1 : NULL, scratch);
        bad += rel_err(w1, w0, w_len(s)) > 1e-5;
        if (v) bad += rel_err(b1, b0, s->k) > 1e-5;
    }
    ref.conv_bwd_d(s, g, w, x0, NULL);
    memset(x1, 0xff, sizeof(float) * src_len(s));
    t->conv_bwd_d(s, g, w, x1, scratch);
    bad += rel_err(x1, x0, src_len(s)) > 1e-5;
    free(x), free(w), free(b), free(g), free(d0), free(d1), free(w0), free(w1);
    free(x0), free(x1), free(b0), free(b1), free(scratch);
    return bad;
}

static void test_isa(alrs_isa isa) {
    static const int sizes[] = {1, 3, 7, 17}, ks[] = {1, 3, 5};
    kernel_table t;
    kernels_fill(&t, isa);
    int cases = 0;
    for (int ki = 0; ki < 3; ki++)
        for (int stride = 1; stride <= 2; stride++)
            for (int pad = 0; pad <= 2; pad++)
                for (int rep = 0; rep < 4; rep++) {
                    int n = sizes[(rep + ki) % 4], c = sizes[(rep * 3 + pad) % 4];
                    int h = sizes[(rep + stride + 2) % 4], w = sizes[(rep * 7 + ki + pad) % 4];
                    int k = sizes[(rep * 5 + stride) % 4];
                    if (rep == 3) h = w = 17; /* a plane big enough for the direct path */
                    conv_shape s = make_shape(n, c, h, w, k, ks[ki], stride, pad);
                    if (s.oh <= 0 || s.ow <= 0 || pad >= ks[ki] + 1) continue;
                    int bad = compare_shape(&t, &s);
                    if (bad)
                        fprintf(stderr, "%s: n%d c%d %dx%d k%d r%d st%d p%d: %d mismatches\n",
                                cpu_isa_name(isa), n, c, h, w, k, ks[ki], stride, pad, bad);
                    CHECK(bad == 0);
                    cases++;
                }
    /* The network shapes themselves (small batches). */
    conv_shape nets[] = {
        make_shape(3, 1, 28, 28, 6, 5, 1, 2),   make_shape(3, 6, 14, 14, 16, 5, 1, 0),
        make_shape(3, 16, 5, 5, 120, 5, 1, 0),  make_shape(2, 3, 32, 32, 6, 5, 1, 0),
        make_shape(2, 3, 32, 32, 64, 3, 1, 1),  make_shape(2, 64, 8, 8, 64, 3, 1, 1),
        make_shape(2, 64, 8, 8, 128, 3, 2, 1),  make_shape(2, 64, 8, 8, 128, 1, 2, 0),
        make_shape(2, 7, 17, 17, 64, 3, 1, 1),  make_shape(5, 2, 9, 30, 7, 3, 1, 0),
    };
    for (size_t i = 0; i < sizeof nets / sizeof *nets; i++) {
        int bad = compare_shape(&t, &nets[i]);
        if (bad) fprintf(stderr, "%s: network shape %zu: %d mismatches\n", cpu_isa_name(isa), i, bad);
        CHECK(bad == 0);
        cases++;
    }
    printf("%s: %d shapes compared with the reference\n", cpu_isa_name(isa), cases);
}

/* Every shape at every batch size on 1 and 2 threads against the scalar
 * reference; a mismatch names the shape, batch and thread count. Returns
 * the number of cases run. */
static int compare_shapes(const kernel_table *t, const conv_shape *shapes, size_t count,
                          const int *batches, int n_batches, const char *label) {
    int saved = omp_get_max_threads(), cases = 0;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        for (size_t i = 0; i < count; i++)
            for (int b = 0; b < n_batches; b++) {
                conv_shape s = shapes[i];
                s.n = batches[b];
                int bad = compare_shape(t, &s);
                if (bad)
                    fprintf(stderr, "%s direct shape %zu n%d, %d threads: %d mismatches\n", label,
                            i, s.n, threads, bad);
                CHECK(bad == 0);
                cases++;
            }
    }
    omp_set_num_threads(saved);
    return cases;
}

/* The direct kernels' paths of one ISA (AVX-512, or AVX2: its backward-weights
 * with 16 filters and over shifted planes, and 16-filter backward-data) at batch sizes that leave
 * a group of images whole or part, on 1 and 2 threads: backward-data's GEMM path (planes of
 * at most 512 positions) and padded-plane path, backward-weights' path for
 * 16 filters (filter widths up to 5) and its shifted-plane path,
 * backward-data with 16 filters (odd channel counts, gradient rows of 5-12,
 * padding 0-4); widths over 16 lanes, filter widths 1-7, and LeNet conv2
 * itself. */
static void test_direct_paths(alrs_isa isa) {
    if (cpu_best_isa() < isa) return;
    kernel_table t;
    kernels_fill(&t, isa);
    conv_shape shapes[] = {
        make_shape(1, 6, 14, 14, 16, 5, 1, 0), make_shape(1, 3, 9, 11, 7, 3, 1, 1),
        make_shape(1, 2, 7, 7, 5, 5, 1, 2),    make_shape(1, 5, 12, 20, 3, 5, 1, 0),
        make_shape(1, 2, 6, 40, 3, 5, 1, 2),   make_shape(1, 2, 11, 11, 3, 7, 1, 3),
        make_shape(1, 3, 5, 9, 4, 1, 1, 0),    make_shape(1, 1, 19, 33, 4, 3, 1, 1),
        make_shape(1, 3, 9, 11, 16, 3, 1, 1),  make_shape(1, 2, 7, 7, 16, 5, 1, 2),
        make_shape(1, 5, 6, 17, 16, 1, 1, 0),  make_shape(1, 8, 10, 10, 16, 2, 1, 1),
        make_shape(1, 1, 20, 23, 16, 4, 1, 3), make_shape(1, 2, 11, 11, 16, 7, 1, 3),
        /* backward-data with 16 filters: a lone last channel, gradient rows
         * of 5 and 12 positions, padding up to 4, one output row */
        make_shape(1, 5, 5, 5, 16, 3, 1, 1),   make_shape(1, 1, 14, 14, 16, 3, 1, 0),
        make_shape(1, 3, 6, 8, 16, 5, 1, 4),   make_shape(1, 2, 1, 9, 16, 3, 1, 1),
        make_shape(1, 7, 9, 12, 16, 5, 1, 2),
    };
    static const int batches[] = {1, 2, 3, 5};
    size_t count = sizeof shapes / sizeof *shapes;
    /* the kernels are tested at all: LeNet conv2 and the 16-filter shapes
     * take backward-data with 16 filters, and (AVX2) every shape up to 8
     * channels backward-weights over shifted planes */
    int (*d16_suits)(const conv_shape *) =
        isa == ISA_AVX512 ? conv_bwd_d16_suits : conv_bwd_d16_avx2_suits;
    CHECK(d16_suits(&shapes[0]));
    for (size_t i = count - 5; i < count; i++) CHECK(d16_suits(&shapes[i]));
    for (size_t i = 0; isa == ISA_AVX2 && i < count; i++)
        CHECK(conv_bwd_w_direct_avx2_fits(&shapes[i]));
    int cases = compare_shapes(&t, shapes, count, batches, 4, cpu_isa_name(isa));
    printf("%s direct kernels' paths: %d cases\n", cpu_isa_name(isa), cases);
}

/* AVX2's direct forward (conv_direct_avx2.c) on shapes it takes: 1-8
 * channels, odd widths up to 127 (16 chunks of a row), padding 0-3, filter
 * blocks of 6 and 4 whole and part (k = 1-16), 1-3 vectors a tile and a
 * part-used last vector, 1×1 to 7×7 filters; batches 1-5 (the first image's
 * planes read through masked loads, the others' plainly), 1 and 2 threads. */
static void test_direct_avx2(void) {
    if (cpu_best_isa() < ISA_AVX2) return;
    kernel_table t;
    kernels_fill(&t, ISA_AVX2);
    conv_shape shapes[] = {
        make_shape(1, 1, 28, 28, 6, 5, 1, 2),  make_shape(1, 6, 14, 14, 16, 5, 1, 0),
        make_shape(1, 3, 32, 32, 6, 5, 1, 0),  make_shape(1, 2, 7, 7, 5, 5, 1, 2),
        make_shape(1, 3, 9, 11, 7, 3, 1, 1),   make_shape(1, 8, 10, 10, 16, 2, 1, 1),
        make_shape(1, 5, 12, 20, 3, 5, 1, 0),  make_shape(1, 1, 19, 33, 4, 3, 1, 1),
        make_shape(1, 2, 6, 40, 8, 5, 1, 2),   make_shape(1, 4, 9, 13, 10, 3, 1, 1),
        make_shape(1, 1, 5, 127, 2, 3, 1, 1),  make_shape(1, 7, 11, 11, 12, 7, 1, 3),
        make_shape(1, 3, 5, 9, 1, 1, 1, 0),    make_shape(1, 2, 4, 5, 9, 3, 1, 1),
        make_shape(1, 1, 3, 3, 13, 3, 1, 2),
    };
    static const int batches[] = {1, 2, 3, 4, 5};
    size_t count = sizeof shapes / sizeof *shapes;
    for (size_t i = 0; i < count; i++)
        for (int b = 0; b < 5; b++) {
            conv_shape s = shapes[i];
            s.n = batches[b];
            CHECK(conv_direct_fits(&s)); /* the kernel is reached */
        }
    int cases = compare_shapes(&t, shapes, count, batches, 5, "avx2 forward");
    printf("avx2 direct forward: %d cases\n", cases);
}

/* On an AVX2 table, LeNet-5's conv1 and conv2 take the direct forward. Its
 * outputs are im2col + sgemm's bit for bit (both sum the taps in order
 * with FMAs), so the check is what each leaves in the scratch: the direct
 * kernel's shifted planes (one thread), not im2col's columns. */
static void test_lenet_avx2_direct(void) {
    if (cpu_best_isa() < ISA_AVX2) return;
    kernel_table t;
    kernels_fill(&t, ISA_AVX2);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    conv_shape lenet[] = {make_shape(4, 1, 28, 28, 6, 5, 1, 2), make_shape(4, 6, 14, 14, 16, 5, 1, 0)};
    for (int i = 0; i < 2; i++) {
        conv_shape *s = &lenet[i];
        size_t ns = t.conv_scratch_floats(s), planes = conv_direct_avx2_scratch_floats(s);
        float *x = randv(src_len(s)), *w = randv(w_len(s)), *b = randv(s->k);
        float *d0 = malloc(sizeof(float) * dst_len(s)), *d1 = malloc(sizeof(float) * dst_len(s));
        float *s0 = malloc(sizeof(float) * (ns + 1)), *s1 = malloc(sizeof(float) * (ns + 1));
        CHECK(conv_direct_fits(s) && planes > 0 && planes <= ns);
        memset(s0, 0xff, sizeof(float) * ns);
        memset(s1, 0xff, sizeof(float) * ns);
        t.conv_fwd(s, x, w, b, 1, d0, s0);
        conv_fwd_direct_avx2(s, x, w, b, 1, d1, s1);
        CHECK(memcmp(d0, d1, sizeof(float) * dst_len(s)) == 0);
        CHECK(memcmp(s0, s1, sizeof(float) * planes) == 0);
        conv_fwd_gemm(sgemm_avx2, s, x, w, b, 1, d1, s1); /* the check tells the paths apart */
        CHECK(memcmp(s0, s1, sizeof(float) * planes) != 0);
        free(x), free(w), free(b), free(d0), free(d1), free(s0), free(s1);
    }
    omp_set_num_threads(saved);
}

/* A 2×2 stride-2 max-pool of a convolution's output. */
static pool_shape pool_of(const conv_shape *s) {
    pool_shape p = {s->n, s->k, s->oh, s->ow, 2, 2, s->oh / 2, s->ow / 2};
    return p;
}

/* The unfused sequence on table u: pooled = maxpool(conv(x)), then, from
 * the pooled gradient gp masked by relu_bwd's rule with the pooled output
 * (mask: 1) or not, the weight and bias gradients. */
static void unfused(const kernel_table *u, const conv_shape *s, const pool_shape *ps,
                    const float *x, const float *w, const float *b, int relu, int mask,
                    const float *gp, float *pooled, int32_t *am, float *dw, float *db,
                    float *scratch) {
    size_t no = (size_t)ps->n * ps->c * ps->oh * ps->ow;
    float *d = malloc(sizeof(float) * dst_len(s)), *g = malloc(sizeof(float) * no);
    u->conv_fwd(s, x, w, b, relu, d, scratch);
    u->maxpool_fwd(ps, d, pooled, am);
    memcpy(g, gp, sizeof(float) * no);
    if (mask) u->relu_bwd(no, pooled, g);
    u->maxpool_bwd(ps, g, am, NULL, d);
    u->conv_bwd_w(s, x, d, dw, db, scratch);
    free(d), free(g);
}

/* 1 if the fused backward-weights of table t sums in the unfused kernels'
 * order: everywhere but AVX-512's on the pool's grid (LeNet conv1), whose
 * sums run over the pooled positions split by the argmax's place. */
static int bwd_w_as_unfused(const kernel_table *t, const conv_shape *s) {
    kernel_table avx512;
    if (cpu_best_isa() < ISA_AVX512) return 1;
    kernels_fill(&avx512, ISA_AVX512);
    return t->conv_pool_bwd_w != avx512.conv_pool_bwd_w || !conv_pool_bwd_w_on_grid(s);
}

/* The fused kernels of table t against the same table's unfused kernels
 * and the reference's (within rounding): pooled outputs, argmax, weight
 * and bias gradients, with and without ReLU and mask. Against the unfused
 * kernels bit for bit where the sums run in the same order (the forward
 * always, backward-weights as bwd_w_as_unfused says), else within rounding. */
static int compare_fused(const kernel_table *t, const conv_shape *s) {
    kernel_table ref;
    kernels_fill(&ref, ISA_SCALAR);
    pool_shape ps = pool_of(s);
    size_t no = (size_t)ps.n * ps.c * ps.oh * ps.ow, nw = w_len(s);
    float *x = randv(src_len(s)), *w = randv(nw), *b = randv(s->k), *gp = randv(no);
    float *p0 = malloc(sizeof(float) * no), *p1 = malloc(sizeof(float) * no);
    float *p2 = malloc(sizeof(float) * no), *w0 = malloc(sizeof(float) * nw);
    float *w1 = malloc(sizeof(float) * nw), *w2 = malloc(sizeof(float) * nw);
    float b0[64], b1[64], b2[64];
    int32_t *a0 = malloc(4 * no + 4), *a1 = malloc(4 * no + 4), *a2 = malloc(4 * no + 4);
    float *scratch = malloc(sizeof(float) * (t->conv_scratch_floats(s) + 1));
    int bad = 0;
    for (int v = 0; v < 2; v++) {
        int relu = v, mask = v;
        unfused(&ref, s, &ps, x, w, b, relu, mask, gp, p0, a0, w0, b0, NULL);
        unfused(t, s, &ps, x, w, b, relu, mask, gp, p1, a1, w1, b1, scratch);
        memset(p2, 0xff, sizeof(float) * no); /* NaN: every output must be written */
        memset(a2, 0xff, 4 * no);
        t->conv_pool_fwd(s, &ps, x, w, b, relu, p2, a2, scratch);
        bad += memcmp(p1, p2, sizeof(float) * no) != 0 || memcmp(a1, a2, 4 * no) != 0;
        bad += rel_err(p2, p0, no) > 1e-5;
        memset(w2, 0xff, sizeof(float) * nw);
        memset(b2, 0xff, sizeof b2);
        t->conv_pool_bwd_w(s, &ps, x, gp, a2, mask ? p2 : NULL, w2, b2, scratch);
        if (bwd_w_as_unfused(t, s))
            bad += memcmp(w1, w2, sizeof(float) * nw) != 0 || memcmp(b1, b2, 4 * s->k) != 0;
        else
            bad += rel_err(w2, w1, nw) > 1e-5 || rel_err(b2, b1, s->k) > 1e-5;
        bad += rel_err(w2, w0, nw) > 1e-5 || rel_err(b2, b0, s->k) > 1e-5;
    }
    free(x), free(w), free(b), free(gp), free(p0), free(p1), free(p2), free(w0), free(w1);
    free(w2), free(a0), free(a1), free(a2), free(scratch);
    return bad;
}

/* The convolutions fused with a max-pool, where the table has them: LeNet
 * conv1 and conv2, odd outputs (the pool drops a row or column), backward-
 * weights' group of images whole and part and its 16-filter path, widths
 * over 32 lanes, the forward with 16 filters in the lanes (rows of 5 to 12
 * positions, a last tile overlapping the one before, filter widths 3 and
 * 5, padding) and a width it leaves to the planes, the one with a pooled
 * row a tile (rows of 17-32 positions, odd rows and columns, filter blocks
 * whole and part, 1-3 channels), backward-weights on the pool's grid
 * (LeNet conv1 and 3×32² → 6, odd outputs, 1×1 to 5×5 filters, pooled rows
 * of 5-15 positions); batches 1-5 on 1 and 2 threads. */
static void test_fused_pool(alrs_isa isa) {
    kernel_table t;
    kernels_fill(&t, isa);
    if (!t.conv_pool_fits) return;
    conv_shape shapes[] = {
        make_shape(1, 1, 28, 28, 6, 5, 1, 2),  make_shape(1, 6, 14, 14, 16, 5, 1, 0),
        make_shape(1, 3, 9, 11, 7, 3, 1, 1),   make_shape(1, 1, 19, 33, 4, 3, 1, 1),
        make_shape(1, 2, 7, 7, 16, 5, 1, 2),   make_shape(1, 5, 12, 20, 3, 5, 1, 0),
        make_shape(1, 3, 9, 11, 16, 3, 1, 1),  make_shape(1, 2, 12, 8, 16, 3, 1, 0),
        make_shape(1, 4, 4, 14, 16, 3, 1, 0),  make_shape(1, 2, 9, 15, 16, 3, 1, 0),
        make_shape(1, 1, 9, 9, 16, 5, 1, 0),   make_shape(1, 3, 32, 32, 6, 5, 1, 0),
        make_shape(1, 2, 19, 21, 5, 3, 1, 1),  make_shape(1, 1, 9, 25, 7, 3, 1, 0),
        make_shape(1, 2, 6, 30, 13, 1, 1, 0),
    };
    if (isa == ISA_AVX512) /* backward-weights on the pool's grid is tested at all */
        CHECK(conv_pool_bwd_w_on_grid(&shapes[0]) && conv_pool_bwd_w_on_grid(&shapes[11]));
    int saved = omp_get_max_threads(), cases = 0;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
            for (int n = 1; n <= 5; n++) {
                conv_shape s = shapes[i];
                s.n = n;
                pool_shape ps = pool_of(&s);
                CHECK(t.conv_pool_fits(&s, &ps));
                int bad = compare_fused(&t, &s);
                if (bad)
                    fprintf(stderr, "%s: fused shape %zu n%d, %d threads: %d mismatches\n",
                            cpu_isa_name(isa), i, n, threads, bad);
                CHECK(bad == 0);
                cases++;
            }
    }
    omp_set_num_threads(saved);
    printf("%s: conv + max-pool fused: %d cases\n", cpu_isa_name(isa), cases);
}

/* oneDNN convolution with plain layouts on the same data. */
typedef struct {
    dnnl_engine_t eng;
    dnnl_stream_t st;
} dnnl_ctx;

static dnnl_memory_desc_t md4(int a, int b, int c, int d, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    dnnl_dims_t dims = {a, b, c, d};
    dnnl_memory_desc_init_by_tag(&md, 4, dims, dnnl_f32, tag);
    return md;
}

static void run_prim(dnnl_ctx *cx, dnnl_primitive_desc_t pd, int nargs, const int *kinds,
                     const dnnl_memory_desc_t *mds, void **ptrs) {
    dnnl_primitive_t p;
    dnnl_exec_arg_t args[5];
    dnnl_memory_t mem[5];
    CHECK(dnnl_primitive_create(&p, pd) == dnnl_success);
    for (int i = 0; i < nargs; i++) {
        dnnl_memory_create(&mem[i], &mds[i], cx->eng, ptrs[i]);
        args[i].arg = kinds[i];
        args[i].memory = mem[i];
    }
    CHECK(dnnl_primitive_execute(p, cx->st, nargs, args) == dnnl_success);
    dnnl_stream_wait(cx->st);
    for (int i = 0; i < nargs; i++) dnnl_memory_destroy(mem[i]);
    dnnl_primitive_destroy(p);
}

static void test_vs_dnnl(dnnl_ctx *cx, const conv_shape *s) {
    const kernel_table *t = kernels();
    float *x = randv(src_len(s)), *w = randv(w_len(s)), *b = randv(s->k), *g = randv(dst_len(s));
    float *d0 = malloc(sizeof(float) * dst_len(s)), *d1 = malloc(sizeof(float) * dst_len(s));
    float *w0 = malloc(sizeof(float) * w_len(s)), *w1 = malloc(sizeof(float) * w_len(s));
    float *x0 = malloc(sizeof(float) * src_len(s)), *x1 = malloc(sizeof(float) * src_len(s));
    float *b0 = malloc(sizeof(float) * s->k), *b1 = malloc(sizeof(float) * s->k);
    float *scratch = malloc(sizeof(float) * (t->conv_scratch_floats(s) + 1));
    dnnl_memory_desc_t xm = md4(s->n, s->c, s->h, s->w, dnnl_nchw);
    dnnl_memory_desc_t wm = md4(s->k, s->c, s->r, s->s, dnnl_oihw);
    dnnl_memory_desc_t ym = md4(s->n, s->k, s->oh, s->ow, dnnl_nchw), bm;
    dnnl_dims_t bd = {s->k};
    dnnl_memory_desc_init_by_tag(&bm, 1, bd, dnnl_f32, dnnl_x);
    dnnl_dims_t strides = {s->stride, s->stride}, pl = {s->pad, s->pad};
    dnnl_dims_t pr = {(s->oh - 1) * s->stride + s->r - s->h - s->pad,
                      (s->ow - 1) * s->stride + s->s - s->w - s->pad};
    dnnl_convolution_desc_t fd, bdd, bwd;
    dnnl_primitive_desc_t fpd, dpd, wpd;
    dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &xm,
                                       &wm, &bm, &ym, strides, pl, pr);
    CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, cx->eng, NULL) == dnnl_success);
    dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct, &xm, &wm, &ym, strides, pl, pr);
    CHECK(dnnl_primitive_desc_create(&dpd, &bdd, NULL, cx->eng, fpd) == dnnl_success);
    dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &xm, &wm, &bm, &ym,
                                                strides, pl, pr);
    CHECK(dnnl_primitive_desc_create(&wpd, &bwd, NULL, cx->eng, fpd) == dnnl_success);

    int fk[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
    dnnl_memory_desc_t fm[] = {xm, wm, bm, ym};
    void *fp[] = {x, w, b, d0};
    run_prim(cx, fpd, 4, fk, fm, fp);
    t->conv_fwd(s, x, w, b, 0, d1, scratch);
    CHECK(rel_err(d1, d0, dst_len(s)) < 1e-5);

    int dk[] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
    dnnl_memory_desc_t dm[] = {ym, wm, xm};
    void *dp[] = {g, w, x0};
    run_prim(cx, dpd, 3, dk, dm, dp);
    t->conv_bwd_d(s, g, w, x1, scratch);
    CHECK(rel_err(x1, x0, src_len(s)) < 1e-5);

    int wk[] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_BIAS};
    dnnl_memory_desc_t wmd[] = {xm, ym, wm, bm};
    void *wp[] = {x, g, w0, b0};
    run_prim(cx, wpd, 4, wk, wmd, wp);
    t->conv_bwd_w(s, x, g, w1, b1, scratch);
    CHECK(rel_err(w1, w0, w_len(s)) < 1e-5);
    CHECK(rel_err(b1, b0, s->k) < 1e-5);
    dnnl_primitive_desc_destroy(fpd), dnnl_primitive_desc_destroy(dpd), dnnl_primitive_desc_destroy(wpd);
    free(x), free(w), free(b), free(g), free(d0), free(d1), free(w0), free(w1);
    free(x0), free(x1), free(b0), free(b1), free(scratch);
}

int main(void) {
    test_reference_fd();
    for (alrs_isa isa = ISA_SCALAR; isa <= cpu_best_isa(); isa++) test_isa(isa);
    test_direct_paths(ISA_AVX2);
    test_direct_paths(ISA_AVX512);
    test_direct_avx2();
    test_lenet_avx2_direct();
    for (alrs_isa isa = ISA_SCALAR; isa <= cpu_best_isa(); isa++) test_fused_pool(isa);
    dnnl_ctx cx;
    dnnl_engine_create(&cx.eng, dnnl_cpu, 0);
    dnnl_stream_create(&cx.st, cx.eng, dnnl_stream_default_flags);
    conv_shape lenet = make_shape(8, 1, 28, 28, 6, 5, 1, 2);
    conv_shape resnet = make_shape(4, 64, 16, 16, 128, 3, 2, 1);
    test_vs_dnnl(&cx, &lenet);
    test_vs_dnnl(&cx, &resnet);
    dnnl_stream_destroy(cx.st);
    dnnl_engine_destroy(cx.eng);
    return test_finish();
}
