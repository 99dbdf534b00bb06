/* The 16-filter backward-weights kernels (AVX-512 and AVX2) keep one set of
 * partial sums per thread; this adds them up in thread order, so that the
 * result does not depend on which thread ran which images. ISA-neutral. */
#ifndef ALRS_KERNELS_CONV_PARTIALS_H
#define ALRS_KERNELS_CONV_PARTIALS_H

#include <stddef.h>

/* Thread th's partials start at scratch + tf·th + off: crs×16 weights
 * (tap-major), then 16 bias sums. diff_weights is 16×crs (filter-major). */
static inline void conv_sum_partials16(const float *scratch, size_t tf, int nt, size_t off,
                                       size_t crs, float *diff_weights, float *diff_bias) {
    for (size_t t = 0; t < crs; t++)
        for (int k = 0; k < 16; k++) {
            float s = 0.0f;
            for (int th = 0; th < nt; th++) s += scratch[tf * th + off + t * 16 + k];
            diff_weights[k * crs + t] = s;
        }
    for (int k = 0; diff_bias && k < 16; k++) {
        float s = 0.0f;
        for (int th = 0; th < nt; th++) s += scratch[tf * th + off + crs * 16 + k];
        diff_bias[k] = s;
    }
}

#endif
