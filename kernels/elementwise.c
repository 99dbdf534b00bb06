/* The elementwise kernel family: registration per ISA, and the rule for when
 * a kernel uses the threads of the calling OpenMP team. */
#include <omp.h>

#include "kernels/elementwise_impl.h"

int elt_parallel(size_t work) { return work >= ELT_PARALLEL_MIN && omp_get_max_threads() > 1; }

void elt_thread_span(size_t n, size_t *lo, size_t *hi) {
    size_t lines = (n + 15) / 16, t = (size_t)omp_get_thread_num();
    size_t teams = (size_t)omp_get_num_threads();
    size_t a = lines * t / teams * 16, b = lines * (t + 1) / teams * 16;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
}

static void register_ref(kernel_table *t) {
    t->avgpool_fwd = ref_avgpool_fwd;
    t->avgpool_bwd = ref_avgpool_bwd;
    t->bn_fwd_train = ref_bn_fwd_train;
    t->bn_fwd_infer = ref_bn_fwd_infer;
    t->bn_bwd = ref_bn_bwd;
    t->bias_relu = ref_bias_relu;
    t->relu_bwd = ref_relu_bwd;
    t->bias_bwd = ref_bias_bwd;
    t->add = ref_add;
    t->softmax_xent = ref_softmax_xent;
    t->adam = ref_adam;
    t->mean_var = ref_mean_var;
}

/* Global average pooling is a few hundred floats per image: it stays plain. */
static void register_avx2(kernel_table *t) {
    t->bn_fwd_train = avx2_bn_fwd_train;
    t->bn_fwd_infer = avx2_bn_fwd_infer;
    t->bn_bwd = avx2_bn_bwd;
    t->bias_relu = avx2_bias_relu;
    t->relu_bwd = avx2_relu_bwd;
    t->bias_bwd = avx2_bias_bwd;
    t->add = avx2_add;
    t->softmax_xent = avx2_softmax_xent;
    t->adam = avx2_adam;
    t->mean_var = avx2_mean_var;
}

static void register_avx512(kernel_table *t) {
    t->bn_fwd_train = avx512_bn_fwd_train;
    t->bn_fwd_infer = avx512_bn_fwd_infer;
    t->bn_bwd = avx512_bn_bwd;
    t->bias_relu = avx512_bias_relu;
    t->relu_bwd = avx512_relu_bwd;
    t->bias_bwd = avx512_bias_bwd;
    t->add = avx512_add;
    t->softmax_xent = avx512_softmax_xent;
    t->adam = avx512_adam;
    t->mean_var = avx512_mean_var;
}

void elementwise_register(kernel_table *t, alrs_isa isa) {
    register_ref(t);
    if (isa == ISA_AVX2) register_avx2(t);
    if (isa == ISA_AVX512) register_avx512(t);
}
