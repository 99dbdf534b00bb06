/* Max pooling without padding, plain-C reference. Planes n·c of h×w give
 * oh×ow outputs; argmax is the index y·w + x of the chosen input in its plane
 * (the first maximum in row-major window order wins ties). */
#include <string.h>

#include "kernels/pool_internal.h"

static void pool_plane(const pool_shape *sh, const float *in, float *out, int32_t *am) {
    for (int oy = 0; oy < sh->oh; oy++)
        for (int ox = 0; ox < sh->ow; ox++) {
            int y0 = oy * sh->stride, x0 = ox * sh->stride, best_i = y0 * sh->w + x0;
            float best = in[best_i];
            for (int y = y0; y < y0 + sh->k; y++)
                for (int x = x0; x < x0 + sh->k; x++)
                    if (in[y * sh->w + x] > best) {
                        best = in[y * sh->w + x];
                        best_i = y * sh->w + x;
                    }
            out[oy * sh->ow + ox] = best;
            am[oy * sh->ow + ox] = best_i;
        }
}

void maxpool_fwd_ref(const pool_shape *sh, const float *src, float *dst, int32_t *argmax) {
    size_t in_plane = (size_t)sh->h * sh->w, out_plane = (size_t)sh->oh * sh->ow;
    for (size_t p = 0; p < (size_t)sh->n * sh->c; p++)
        pool_plane(sh, src + p * in_plane, dst + p * out_plane, argmax + p * out_plane);
}

void maxpool_bwd_ref(const pool_shape *sh, const float *diff_dst, const int32_t *argmax,
                     const float *mask, float *diff_src) {
    size_t in_plane = (size_t)sh->h * sh->w, out_plane = (size_t)sh->oh * sh->ow;
    memset(diff_src, 0, sizeof(float) * in_plane * sh->n * sh->c);
    for (size_t p = 0; p < (size_t)sh->n * sh->c; p++)
        for (size_t o = 0; o < out_plane; o++) {
            size_t at = p * out_plane + o;
            float d = mask && !(mask[at] > 0.0f) ? 0.0f : diff_dst[at];
            diff_src[p * in_plane + argmax[at]] += d;
        }
}
