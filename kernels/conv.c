/* Convolution: per-ISA choice of algorithm and registration.
 *
 *   scalar  plain-C direct loops (conv_ref.c)
 *   avx2    im2col + sgemm (conv_gemm.c)
 *   avx512  stride-1 convolutions with ≤ 8 input channels (LeNet conv1-2, RGB
 *           inputs) run the direct kernel (conv_avx512.c) forward and
 *           backward-weights: their GEMM has K·CRS too small to feed sgemm
 *           well, and im2col would move 25× the input. Everything else and
 *           backward-data go through im2col + sgemm. */
#include "kernels/conv_internal.h"

static size_t conv_scratch_ref(const conv_shape *sh) { return 0; }

static size_t conv_scratch_avx512(const conv_shape *sh) {
    size_t a = conv_gemm_scratch_floats(sh);
    if (conv_direct_fits(sh)) {
        size_t b = conv_direct_scratch_floats(sh);
        if (b > a) a = b;
    }
    return a;
}

static void conv_fwd_avx512(const conv_shape *sh, const float *src, const float *weights,
                            const float *bias, int relu, float *dst, float *scratch) {
    if (conv_direct_fits(sh))
        conv_fwd_direct_avx512(sh, src, weights, bias, relu, dst, scratch);
    else
        conv_fwd_gemm(sh, src, weights, bias, relu, dst, scratch);
}

static void conv_bwd_w_avx512(const conv_shape *sh, const float *src, const float *diff_dst,
                              float *diff_weights, float *diff_bias, float *scratch) {
    if (conv_direct_fits(sh))
        conv_bwd_w_direct_avx512(sh, src, diff_dst, diff_weights, diff_bias, scratch);
    else
        conv_bwd_w_gemm(sh, src, diff_dst, diff_weights, diff_bias, scratch);
}

void conv_register(kernel_table *t, alrs_isa isa) {
    t->conv_fwd = conv_fwd_ref;
    t->conv_bwd_w = conv_bwd_w_ref;
    t->conv_bwd_d = conv_bwd_d_ref;
    t->conv_scratch_floats = conv_scratch_ref;
    if (isa >= ISA_AVX2) {
        t->conv_fwd = conv_fwd_gemm;
        t->conv_bwd_w = conv_bwd_w_gemm;
        t->conv_bwd_d = conv_bwd_d_gemm;
        t->conv_scratch_floats = conv_gemm_scratch_floats;
    }
    if (isa >= ISA_AVX512) {
        t->conv_fwd = conv_fwd_avx512;
        t->conv_bwd_w = conv_bwd_w_avx512;
        t->conv_scratch_floats = conv_scratch_avx512;
    }
}
