/* Convolution, plain-C reference: the definition every optimized version is
 * tested against. src n×c×h×w, weights k×c×r×s, dst n×k×oh×ow (NCHW/OIHW). */
#include <string.h>

#include "kernels/conv_internal.h"

/* Input row/column for output position o and tap t; may fall in the padding. */
static int in_pos(const conv_shape *sh, int o, int t) { return o * sh->stride - sh->pad + t; }

/* One output value of filter k at (oy, ox) for image `img` (c×h×w). */
static float conv_point(const conv_shape *sh, const float *img, const float *wk, int oy, int ox) {
    float acc = 0.0f;
    for (int ci = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++) {
            int iy = in_pos(sh, oy, y);
            if (iy < 0 || iy >= sh->h) continue;
            for (int x = 0; x < sh->s; x++) {
                int ix = in_pos(sh, ox, x);
                if (ix < 0 || ix >= sh->w) continue;
                acc += img[((size_t)ci * sh->h + iy) * sh->w + ix] *
                       wk[((size_t)ci * sh->r + y) * sh->s + x];
            }
        }
    return acc;
}

void conv_fwd_ref(const conv_shape *sh, const float *src, const float *weights,
                  const float *bias, int relu, float *dst, float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, wk = (size_t)sh->c * sh->r * sh->s;
    size_t plane = (size_t)sh->oh * sh->ow;
    for (int i = 0; i < sh->n; i++)
        for (int k = 0; k < sh->k; k++) {
            float *out = dst + ((size_t)i * sh->k + k) * plane;
            for (int oy = 0; oy < sh->oh; oy++)
                for (int ox = 0; ox < sh->ow; ox++) {
                    float v = conv_point(sh, src + i * in_img, weights + k * wk, oy, ox);
                    if (bias) v += bias[k];
                    if (relu && v < 0.0f) v = 0.0f;
                    out[oy * sh->ow + ox] = v;
                }
        }
}

/* Adds g·(input patch at (oy, ox)) into dwk, the c×r×s gradient of one filter. */
static void add_patch(const conv_shape *sh, const float *img, float g, int oy, int ox,
                      float *dwk) {
    for (int ci = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++) {
            int iy = in_pos(sh, oy, y);
            if (iy < 0 || iy >= sh->h) continue;
            for (int x = 0; x < sh->s; x++) {
                int ix = in_pos(sh, ox, x);
                if (ix < 0 || ix >= sh->w) continue;
                dwk[((size_t)ci * sh->r + y) * sh->s + x] +=
                    g * img[((size_t)ci * sh->h + iy) * sh->w + ix];
            }
        }
}

void conv_bwd_w_ref(const conv_shape *sh, const float *src, const float *diff_dst,
                    float *diff_weights, float *diff_bias, float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, wk = (size_t)sh->c * sh->r * sh->s;
    size_t plane = (size_t)sh->oh * sh->ow;
    memset(diff_weights, 0, sizeof(float) * wk * sh->k);
    if (diff_bias) memset(diff_bias, 0, sizeof(float) * sh->k);
    for (int i = 0; i < sh->n; i++)
        for (int k = 0; k < sh->k; k++) {
            const float *g = diff_dst + ((size_t)i * sh->k + k) * plane;
            for (int oy = 0; oy < sh->oh; oy++)
                for (int ox = 0; ox < sh->ow; ox++) {
                    float gv = g[oy * sh->ow + ox];
                    if (diff_bias) diff_bias[k] += gv;
                    add_patch(sh, src + i * in_img, gv, oy, ox, diff_weights + k * wk);
                }
        }
}

/* Scatters g·(filter k) into the input gradient img (c×h×w) at (oy, ox). */
static void scatter_filter(const conv_shape *sh, const float *wk, float g, int oy, int ox,
                           float *img) {
    for (int ci = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++) {
            int iy = in_pos(sh, oy, y);
            if (iy < 0 || iy >= sh->h) continue;
            for (int x = 0; x < sh->s; x++) {
                int ix = in_pos(sh, ox, x);
                if (ix < 0 || ix >= sh->w) continue;
                img[((size_t)ci * sh->h + iy) * sh->w + ix] +=
                    g * wk[((size_t)ci * sh->r + y) * sh->s + x];
            }
        }
}

void conv_bwd_d_ref(const conv_shape *sh, const float *diff_dst, const float *weights,
                    float *diff_src, float *scratch) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, wk = (size_t)sh->c * sh->r * sh->s;
    size_t plane = (size_t)sh->oh * sh->ow;
    memset(diff_src, 0, sizeof(float) * in_img * sh->n);
    for (int i = 0; i < sh->n; i++)
        for (int k = 0; k < sh->k; k++) {
            const float *g = diff_dst + ((size_t)i * sh->k + k) * plane;
            for (int oy = 0; oy < sh->oh; oy++)
                for (int ox = 0; ox < sh->ow; ox++)
                    scatter_filter(sh, weights + k * wk, g[oy * sh->ow + ox], oy, ox,
                                   diff_src + i * in_img);
        }
}
