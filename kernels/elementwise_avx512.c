/* The elementwise kernels for AVX-512F: kernels/elementwise_simd.c over
 * vectors of 16 floats (kernels/vec_avx512.h). */
#include "kernels/vec_avx512.h"

#include "kernels/elementwise_simd.c"

void elementwise_register_avx512(kernel_table *t) { register_simd_kernels(t); }
