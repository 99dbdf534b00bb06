/* The elementwise kernel family: registration per ISA, and the rule for when
 * and how a kernel uses the threads of the calling OpenMP team. */
#include <omp.h>

#include "kernels/elementwise_impl.h"

int elt_parallel(size_t work) { return work >= ELT_PARALLEL_MIN && omp_get_max_threads() > 1; }

/* The calling thread's share [*lo, *hi) of n elements, whole lines of 16 floats. */
static void thread_span(size_t n, size_t *lo, size_t *hi) {
    size_t lines = (n + 15) / 16, t = (size_t)omp_get_thread_num();
    size_t teams = (size_t)omp_get_num_threads();
    size_t a = lines * t / teams * 16, b = lines * (t + 1) / teams * 16;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
}

void elt_for_spans(size_t n, size_t cost, elt_span_fn span, const void *args) {
    if (!elt_parallel(n * cost)) {
        span(0, n, args);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        thread_span(n, &lo, &hi);
        span(lo, hi, args);
    }
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

void elementwise_register(kernel_table *t, alrs_isa isa) {
    register_ref(t);
    if (isa == ISA_AVX2) elementwise_register_avx2(t);
    if (isa == ISA_AVX512) elementwise_register_avx512(t);
}
