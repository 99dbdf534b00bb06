/* Max pooling: registration per ISA. AVX2 uses the reference until it has
 * its own version (pooling is memory-bound; AVX-512 is the machine here). */
#include "kernels/pool_internal.h"

void pool_register(kernel_table *t, alrs_isa isa) {
    t->maxpool_fwd = maxpool_fwd_ref;
    t->maxpool_bwd = maxpool_bwd_ref;
    if (isa >= ISA_AVX512) {
        t->maxpool_fwd = maxpool_fwd_avx512;
        t->maxpool_bwd = maxpool_bwd_avx512;
    }
}
