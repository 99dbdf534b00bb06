/* The ISA-neutral part of the 2×2 stride-2 max-pool kernels: which shapes
 * they take, the threaded loop over planes (the ISA's kernel per plane),
 * and the gradient-free border. Kept once so that the ports cannot drift. */
#ifndef ALRS_KERNELS_POOL_PLANES_H
#define ALRS_KERNELS_POOL_PLANES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/pool_internal.h"

typedef void (*maxpool_fwd_plane_fn)(const pool_shape *sh, const float *in, float *out,
                                     int32_t *argmax);
typedef void (*maxpool_bwd_plane_fn)(const pool_shape *sh, const float *diff_dst,
                                     const int32_t *argmax, const float *mask, float *diff_src);

static inline int maxpool_is_2x2(const pool_shape *sh) { return sh->k == 2 && sh->stride == 2; }

/* Every plane with plane(), or the reference for other windows. */
static inline void maxpool_fwd_planes(const pool_shape *sh, const float *src, float *dst,
                                      int32_t *argmax, maxpool_fwd_plane_fn plane) {
    if (!maxpool_is_2x2(sh)) {
        maxpool_fwd_ref(sh, src, dst, argmax);
        return;
    }
    size_t in_plane = (size_t)sh->h * sh->w, out_plane = (size_t)sh->oh * sh->ow;
    long planes = (long)sh->n * sh->c;
#pragma omp parallel for schedule(static) if (planes * out_plane > 16384)
    for (long p = 0; p < planes; p++)
        plane(sh, src + p * in_plane, dst + p * out_plane, argmax + p * out_plane);
}

static inline void maxpool_bwd_planes(const pool_shape *sh, const float *diff_dst,
                                      const int32_t *argmax, const float *mask, float *diff_src,
                                      maxpool_bwd_plane_fn plane) {
    if (!maxpool_is_2x2(sh)) {
        maxpool_bwd_ref(sh, diff_dst, argmax, mask, diff_src);
        return;
    }
    size_t in_plane = (size_t)sh->h * sh->w, out_plane = (size_t)sh->oh * sh->ow;
    long planes = (long)sh->n * sh->c;
#pragma omp parallel for schedule(static) if (planes * out_plane > 16384)
    for (long p = 0; p < planes; p++)
        plane(sh, diff_dst + p * out_plane, argmax + p * out_plane,
              mask ? mask + p * out_plane : NULL, diff_src + p * in_plane);
}

/* The odd last column and row (floor semantics) never receive a gradient. */
static inline void maxpool_zero_uncovered(const pool_shape *sh, float *in) {
    if (sh->w > 2 * sh->ow)
        for (int y = 0; y < 2 * sh->oh; y++)
            memset(in + (size_t)y * sh->w + 2 * sh->ow, 0, sizeof(float) * (sh->w - 2 * sh->ow));
    for (int y = 2 * sh->oh; y < sh->h; y++) memset(in + (size_t)y * sh->w, 0, sizeof(float) * sh->w);
}

#endif
