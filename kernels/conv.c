/* Convolution: per-ISA choice of algorithm and registration.
 *
 *   scalar  plain-C direct loops (conv_ref.c)
 *   avx2    stride-1 convolutions with ≤ 8 input channels (LeNet conv1-2,
 *           RGB inputs) run direct over shifted planes, the AVX-512
 *           kernels' schemes 8 lanes wide (im2col + sgemm ran LeNet's at
 *           10-20 % of peak): the forward (conv_direct_avx2.c),
 *           backward-weights (conv_bwd_w_avx2.c: 16 filters in the lanes,
 *           else planes) and backward-data with 16 filters
 *           (conv_bwd_d16_avx2.c); everything else im2col + the AVX2 sgemm
 *           (conv_gemm.c)
 *   avx512  stride-1 convolutions with ≤ 8 input channels (LeNet conv1-2, RGB
 *           inputs) run the direct kernel (conv_avx512.c) forward and
 *           backward-weights: their GEMM has K·CRS too small to feed sgemm
 *           well, and im2col would move 25× the input (backward-weights
 *           with 16 filters, LeNet conv2, puts the filters in the lanes
 *           instead). Backward-data runs direct too: with 16 filters
 *           (LeNet conv2: 16→6) 8 of them in the lanes for each of two
 *           channels (conv_bwd_d16_avx512.c), else a small GEMM per pair of
 *           images and a col2im for small planes, the forward tile over
 *           padded planes for larger ones. Everything
 *           else goes through im2col + the AVX-512 sgemm (which runs a
 *           convolution whose one output covers its whole input, LeNet conv3,
 *           as one GEMM). A convolution that only a 2×2 max-pool reads
 *           can run fused with it (conv_pool_*, the native net decides):
 *           the forward with 16 filters in the lanes (conv_fwd16_avx512.c,
 *           LeNet conv2), a pooled row a tile for rows of 17-32 positions
 *           (conv_pool_rows_avx512.c, LeNet conv1), else the shifted planes
 *           pooled image by image; backward-weights from the pool's
 *           gradient, routed back per image inside the kernel (with few
 *           filters, LeNet conv1, on the pool's grid instead:
 *           conv_pool_bww_avx512.c).
 * Each ISA's convolution names its own ISA's sgemm, the one sgemm_register
 * puts in the same table: testing the AVX2 table on an AVX-512 machine tests
 * AVX2 code all the way down. */
#include <string.h>

#include "kernels/conv_internal.h"
#include "kernels/sgemm.h"

static size_t conv_scratch_ref(const conv_shape *sh) { return 0; }

static void conv_fwd_avx2(const conv_shape *sh, const float *src, const float *weights,
                          const float *bias, int relu, float *dst, float *scratch) {
    if (conv_direct_fits(sh))
        conv_fwd_direct_avx2(sh, src, weights, bias, relu, dst, scratch);
    else
        conv_fwd_gemm(sgemm_avx2, sh, src, weights, bias, relu, dst, scratch);
}

/* The largest scratch of the paths a shape may take: the direct kernels
 * where they fit, else the GEMM path. */
static size_t conv_scratch_avx2(const conv_shape *sh) {
    size_t a = conv_gemm_scratch_floats(sh);
    size_t f = conv_direct_fits(sh) ? conv_direct_avx2_scratch_floats(sh) : 0;
    size_t b = conv_bwd_w_direct_avx2_fits(sh) ? conv_bwd_w_direct_avx2_scratch_floats(sh) : 0;
    size_t c = conv_bwd_d16_avx2_suits(sh) ? conv_bwd_d16_avx2_scratch_floats(sh) : 0;
    if (f > a) a = f;
    if (b > a) a = b;
    return c > a ? c : a;
}

static void conv_bwd_w_avx2(const conv_shape *sh, const float *src, const float *diff_dst,
                            float *diff_weights, float *diff_bias, float *scratch) {
    if (conv_bwd_w_direct_avx2_fits(sh))
        conv_bwd_w_direct_avx2(sh, src, diff_dst, diff_weights, diff_bias, scratch);
    else
        conv_bwd_w_gemm(sgemm_avx2, sh, src, diff_dst, diff_weights, diff_bias, scratch);
}

static void conv_bwd_d_avx2(const conv_shape *sh, const float *diff_dst, const float *weights,
                            float *diff_src, float *scratch) {
    if (conv_bwd_d16_avx2_suits(sh))
        conv_bwd_d16_avx2(sh, diff_dst, weights, diff_src, scratch);
    else
        conv_bwd_d_gemm(sgemm_avx2, sh, diff_dst, weights, diff_src, scratch);
}

static size_t conv_scratch_avx512(const conv_shape *sh) {
    size_t a = conv_gemm_scratch_floats(sh);
    size_t b = conv_direct_scratch_floats(sh);
    size_t c = conv_bwd_d16_suits(sh) ? conv_bwd_d16_scratch_floats(sh) : 0;
    if (b > a) a = b;
    return c > a ? c : a;
}

static void conv_fwd_avx512(const conv_shape *sh, const float *src, const float *weights,
                            const float *bias, int relu, float *dst, float *scratch) {
    if (conv_direct_fits(sh))
        conv_fwd_direct_avx512(sh, src, weights, bias, relu, dst, scratch);
    else
        conv_fwd_gemm(sgemm_avx512, sh, src, weights, bias, relu, dst, scratch);
}

static void conv_bwd_w_avx512(const conv_shape *sh, const float *src, const float *diff_dst,
                              float *diff_weights, float *diff_bias, float *scratch) {
    if (conv_direct_fits(sh))
        conv_bwd_w_direct_avx512(sh, src, diff_dst, diff_weights, diff_bias, scratch);
    else
        conv_bwd_w_gemm(sgemm_avx512, sh, src, diff_dst, diff_weights, diff_bias, scratch);
}

static void conv_bwd_d_avx512(const conv_shape *sh, const float *diff_dst, const float *weights,
                              float *diff_src, float *scratch) {
    if (conv_bwd_d16_suits(sh))
        conv_bwd_d16_avx512(sh, diff_dst, weights, diff_src, scratch);
    else if (conv_bwd_d_direct_fits(sh))
        conv_bwd_d_direct_avx512(sh, diff_dst, weights, diff_src, scratch);
    else
        conv_bwd_d_gemm(sgemm_avx512, sh, diff_dst, weights, diff_src, scratch);
}

void conv_pad_image(const conv_shape *sh, const float *img, int row, size_t floats, float *out) {
    int hp = sh->h + 2 * sh->pad;
    memset(out, 0, sizeof(float) * floats);
    for (int ci = 0; ci < sh->c; ci++)
        for (int iy = 0; iy < sh->h; iy++)
            memcpy(out + ((size_t)ci * hp + iy + sh->pad) * row + sh->pad,
                   img + ((size_t)ci * sh->h + iy) * sh->w, sizeof(float) * sh->w);
}

void conv_register(kernel_table *t, alrs_isa isa) {
    t->conv_fwd = conv_fwd_ref;
    t->conv_bwd_w = conv_bwd_w_ref;
    t->conv_bwd_d = conv_bwd_d_ref;
    t->conv_scratch_floats = conv_scratch_ref;
    if (isa >= ISA_AVX2) {
        t->conv_fwd = conv_fwd_avx2;
        t->conv_bwd_w = conv_bwd_w_avx2;
        t->conv_bwd_d = conv_bwd_d_avx2;
        t->conv_scratch_floats = conv_scratch_avx2;
    }
    if (isa >= ISA_AVX512) {
        t->conv_fwd = conv_fwd_avx512;
        t->conv_bwd_w = conv_bwd_w_avx512;
        t->conv_bwd_d = conv_bwd_d_avx512;
        t->conv_scratch_floats = conv_scratch_avx512;
        t->conv_pool_fits = conv_pool_direct_fits;
        t->conv_pool_fwd = conv_pool_fwd_direct_avx512;
        t->conv_pool_bwd_w = conv_pool_bwd_w_direct_avx512;
    }
}
