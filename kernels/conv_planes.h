/* Geometry of the shifted planes the direct convolution kernels work on,
 * for any vector width w (16 for AVX-512, 8 for AVX2): ISA-neutral integer
 * bookkeeping, kept once so that the ports cannot drift apart. */
#ifndef ALRS_KERNELS_CONV_PLANES_H
#define ALRS_KERNELS_CONV_PLANES_H

#include <stddef.h>

#include "kernels/kernels.h"

#define CONV_PLANES_MAX_CRS 512

typedef struct {
    int ow, p, pv, crs; /* row width, positions oh·ow, vectors ⌈p/w⌉, taps */
    size_t pl;          /* floats per shifted plane */
    int off[CONV_PLANES_MAX_CRS]; /* plane offset of each tap */
} conv_planes;

/* x rounded up to a multiple of w (a power of two). */
static inline size_t conv_planes_round(size_t x, int w) {
    return (x + (size_t)w - 1) & ~((size_t)w - 1);
}

static inline void conv_planes_init(const conv_shape *sh, int w, conv_planes *g) {
    int rows = sh->h + 2 * sh->pad; /* = oh + r - 1 at stride 1 */
    g->ow = sh->ow;
    g->p = sh->oh * sh->ow;
    g->pv = (g->p + w - 1) / w;
    g->crs = sh->c * sh->r * sh->s;
    /* The last vector of tap (·, r-1, ·) reads up to rows·ow + w - 1. */
    g->pl = conv_planes_round((size_t)rows * sh->ow + w, w);
    for (int ci = 0, t = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++)
            for (int x = 0; x < sh->s; x++)
                g->off[t++] = (int)(((size_t)ci * sh->s + x) * g->pl) + y * sh->ow;
}

/* Stride 1, at most max_c channels, and at least half the lanes useful. */
static inline int conv_planes_fits(const conv_shape *sh, int max_c, int w) {
    int p = sh->oh * sh->ow;
    return sh->stride == 1 && sh->c <= max_c && sh->c * sh->r * sh->s <= CONV_PLANES_MAX_CRS &&
           sh->k <= 64 && sh->ow <= 128 && sh->oh > 0 && sh->ow > 0 &&
           2 * p >= (p + w - 1) / w * w && sh->pad < sh->r && sh->pad < sh->s;
}

/* Floats of one image's shifted planes (c·s of them). */
static inline size_t conv_planes_floats(const conv_shape *sh, const conv_planes *g) {
    return g->pl * (size_t)sh->c * sh->s;
}

/* Images a backward-weights group expands at once: as many as keep a
 * tile's run within vecs vectors, 1 to max. */
static inline int conv_planes_group(const conv_planes *g, int vecs, int max) {
    int n = vecs / g->pv;
    return n < 1 ? 1 : n > max ? max : n;
}

#endif
