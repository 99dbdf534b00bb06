/* The elementwise kernels for AVX2 + FMA: kernels/elementwise_simd.c over
 * vectors of 8 floats (kernels/vec_avx2.h). */
#include "kernels/vec_avx2.h"

#include "kernels/elementwise_simd.c"

void elementwise_register_avx2(kernel_table *t) { register_simd_kernels(t); }
