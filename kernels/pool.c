/* Max pooling: registration per ISA (2×2 stride 2 vectorized, other
 * windows the reference's). */
#include "kernels/pool_internal.h"

void pool_register(kernel_table *t, alrs_isa isa) {
    t->maxpool_fwd = maxpool_fwd_ref;
    t->maxpool_bwd = maxpool_bwd_ref;
    if (isa >= ISA_AVX2) {
        t->maxpool_fwd = maxpool_fwd_avx2;
        t->maxpool_bwd = maxpool_bwd_avx2;
    }
    if (isa >= ISA_AVX512) {
        t->maxpool_fwd = maxpool_fwd_avx512;
        t->maxpool_bwd = maxpool_bwd_avx512;
    }
}
