/* Convolution as im2col + GEMM, for every shape and any SIMD ISA: the GEMM
 * does the arithmetic, this file only moves data. The caller names the GEMM
 * (conv.c passes its own ISA's sgemm), so a table for one ISA never runs
 * another's GEMM underneath.
 *
 * Per image, with P = oh·ow and CRS = c·r·s:
 *   col[CRS][P]   = im2col(src_i)
 *   fwd:    dst_i[K][P]  = W[K][CRS] · col           (+ bias, ReLU)
 *   bwd-w:  dW[K][CRS]  += dst_i'[K][P] · colᵀ
 *   bwd-d:  col = Wᵀ · diff_dst_i, then col2im into diff_src_i
 * The GEMM's column count is kept near a tile that fits L2 with col (about
 * 512 KiB): large planes are split into bands of output rows, small planes
 * (LeNet conv2/3, ResNet's last stages) are batched, nb images side by side
 * in one col[CRS][nb·P] so that one GEMM sees enough columns.
 * OpenMP threads take whole tiles; each has its own slice of the scratch.
 *
 * A convolution whose single output covers its whole input (LeNet conv3:
 * 16×5×5 → 120×1×1) is a fully connected layer: src is already the batch's
 * im2col (transposed), so each pass is one GEMM over the batch, no copies. */
#include <omp.h>
#include <string.h>

#include "kernels/conv_internal.h"

static size_t round16(size_t x) { return (x + 15) & ~(size_t)15; }

/* How the columns are tiled: `rows` output rows of one image per tile, or
 * (rows == oh) `nb` whole images per tile; cols = columns of one tile. */
typedef struct {
    int rows, nb, cols, tiles;
} plan;

static plan make_plan(const conv_shape *sh) {
    int crs = sh->c * sh->r * sh->s, p = sh->oh * sh->ow, nt = omp_get_max_threads();
    int target = 131072 / crs;
    if (target < 128) target = 128;
    plan pl = {sh->oh, 1, p, sh->n};
    if (p >= target) {
        pl.rows = target / sh->ow > 0 ? target / sh->ow : 1;
        pl.cols = pl.rows * sh->ow;
        pl.tiles = sh->n * ((sh->oh + pl.rows - 1) / pl.rows);
    } else {
        int per_thread = (sh->n + nt - 1) / nt;
        pl.nb = target / p < per_thread ? target / p : per_thread;
        if (pl.nb < 1) pl.nb = 1;
        pl.cols = pl.nb * p;
        pl.tiles = (sh->n + pl.nb - 1) / pl.nb;
    }
    return pl;
}

static size_t col_floats(const conv_shape *sh) {
    plan pl = make_plan(sh);
    return round16((size_t)sh->c * sh->r * sh->s * pl.cols) + round16((size_t)sh->k * pl.cols);
}
static size_t wgrad_floats(const conv_shape *sh) {
    return round16((size_t)sh->k * sh->c * sh->r * sh->s) + round16(sh->k);
}
static size_t thread_floats(const conv_shape *sh) { return col_floats(sh) + wgrad_floats(sh); }

size_t conv_gemm_scratch_floats(const conv_shape *sh) {
    return thread_floats(sh) * (size_t)omp_get_max_threads();
}

/* One row of col for tap x of input row `in` (w wide): col[ox] = in[ox·st - pad + x]. */
static void im2col_row(const conv_shape *sh, const float *in, int x, float *col) {
    int st = sh->stride, off = x - sh->pad;
    if (!in) {
        memset(col, 0, sizeof(float) * sh->ow);
        return;
    }
    if (st == 1) { /* zeros, a contiguous run of the row, zeros */
        int lo = off < 0 ? -off : 0, hi = sh->w - off < sh->ow ? sh->w - off : sh->ow;
        if (lo > sh->ow) lo = sh->ow;
        if (hi < lo) hi = lo;
        memset(col, 0, sizeof(float) * lo);
        memcpy(col + lo, in + lo + off, sizeof(float) * (hi - lo));
        memset(col + hi, 0, sizeof(float) * (sh->ow - hi));
        return;
    }
    for (int ox = 0; ox < sh->ow; ox++) {
        int ix = ox * st + off;
        col[ox] = (ix >= 0 && ix < sh->w) ? in[ix] : 0.0f;
    }
}

/* col[(ci·r + y)·s + x][(oy-oy0)·ow + ox] = img[ci][oy·st - pad + y][ox·st - pad + x]
 * (0 outside), for output rows oy0 ≤ oy < oy1; rows of col are ld apart. */
static void im2col(const conv_shape *sh, const float *img, int oy0, int oy1, float *col,
                   size_t ld) {
    for (int ci = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++)
            for (int x = 0; x < sh->s; x++) {
                float *row = col + (((size_t)ci * sh->r + y) * sh->s + x) * ld;
                for (int oy = oy0; oy < oy1; oy++) {
                    int iy = oy * sh->stride - sh->pad + y;
                    const float *in = (iy >= 0 && iy < sh->h)
                                          ? img + ((size_t)ci * sh->h + iy) * sh->w
                                          : NULL;
                    im2col_row(sh, in, x, row + (size_t)(oy - oy0) * sh->ow);
                }
            }
}

/* The adjoint of im2col: img (zeroed by the caller) += col scattered back. */
static void col2im(const conv_shape *sh, const float *col, int oy0, int oy1, size_t ld,
                   float *img) {
    int st = sh->stride;
    for (int ci = 0; ci < sh->c; ci++)
        for (int y = 0; y < sh->r; y++)
            for (int x = 0; x < sh->s; x++) {
                const float *row = col + (((size_t)ci * sh->r + y) * sh->s + x) * ld;
                for (int oy = oy0; oy < oy1; oy++) {
                    int iy = oy * st - sh->pad + y;
                    if (iy < 0 || iy >= sh->h) continue;
                    float *in = img + ((size_t)ci * sh->h + iy) * sh->w;
                    const float *cr = row + (size_t)(oy - oy0) * sh->ow;
                    for (int ox = 0; ox < sh->ow; ox++) {
                        int ix = ox * st - sh->pad + x;
                        if (ix >= 0 && ix < sh->w) in[ix] += cr[ox];
                    }
                }
            }
}

static int team_size(const plan *pl) {
    int t = omp_get_max_threads();
    return t < pl->tiles ? t : pl->tiles;
}

/* Tile `tile` of plan pl: image i0 (first of nb) or band oy0..oy1 of image i0. */
typedef struct {
    int i0, nb, oy0, oy1;
} tile_pos;

static tile_pos tile_at(const conv_shape *sh, const plan *pl, int tile) {
    tile_pos tp = {tile * pl->nb, pl->nb, 0, sh->oh};
    if (pl->rows < sh->oh) {
        int bands = (sh->oh + pl->rows - 1) / pl->rows;
        tp.i0 = tile / bands;
        tp.nb = 1;
        tp.oy0 = tile % bands * pl->rows;
        tp.oy1 = tp.oy0 + pl->rows < sh->oh ? tp.oy0 + pl->rows : sh->oh;
    } else if (tp.i0 + tp.nb > sh->n) {
        tp.nb = sh->n - tp.i0;
    }
    return tp;
}

/* col[CRS][nb·cols] for a tile: image j of the batch in columns j·cols.. */
static void tile_im2col(const conv_shape *sh, const float *src, const tile_pos *tp, float *col) {
    size_t in_img = (size_t)sh->c * sh->h * sh->w, cols = (size_t)(tp->oy1 - tp->oy0) * sh->ow;
    for (int j = 0; j < tp->nb; j++)
        im2col(sh, src + (tp->i0 + j) * in_img, tp->oy0, tp->oy1, col + j * cols, cols * tp->nb);
}

/* Copies between the tile matrix t[K][nb·cols] and the NCHW tensor x (to_x:
 * t → x with bias and ReLU; else x → t). */
static void tile_copy(const conv_shape *sh, const tile_pos *tp, float *t, float *x, int to_x,
                      const float *bias, int relu) {
    size_t p = (size_t)sh->oh * sh->ow, cols = (size_t)(tp->oy1 - tp->oy0) * sh->ow;
    size_t ld = cols * tp->nb;
    for (int j = 0; j < tp->nb; j++)
        for (int k = 0; k < sh->k; k++) {
            float *xr = x + ((size_t)(tp->i0 + j) * sh->k + k) * p + (size_t)tp->oy0 * sh->ow;
            float *tr = t + k * ld + j * cols;
            if (!to_x) {
                memcpy(tr, xr, sizeof(float) * cols);
                continue;
            }
            float b = bias ? bias[k] : 0.0f;
            for (size_t i = 0; i < cols; i++) {
                float v = tr[i] + b;
                xr[i] = relu && v < 0.0f ? 0.0f : v;
            }
        }
}

/* One output per image, from the whole (unpadded) input. */
static int whole_window(const conv_shape *sh) {
    return sh->oh == 1 && sh->ow == 1 && sh->pad == 0 && sh->r == sh->h && sh->s == sh->w;
}

/* dst[n×k] = src[n×crs] · Wᵀ, + bias, ReLU. */
static void dense_fwd(sgemm_fn gemm, const conv_shape *sh, const float *src,
                      const float *weights, const float *bias, int relu, float *dst) {
    int crs = sh->c * sh->r * sh->s;
    gemm(0, 1, sh->n, sh->k, crs, 1.0f, src, crs, weights, crs, 0.0f, dst, sh->k);
    if (!bias && !relu) return;
    for (int i = 0; i < sh->n; i++) {
        float *row = dst + (size_t)i * sh->k;
        for (int k = 0; k < sh->k; k++) {
            float v = row[k] + (bias ? bias[k] : 0.0f);
            row[k] = relu && v < 0.0f ? 0.0f : v;
        }
    }
}

void conv_fwd_gemm(sgemm_fn gemm, const conv_shape *sh, const float *src, const float *weights,
                   const float *bias, int relu, float *dst, float *scratch) {
    int crs = sh->c * sh->r * sh->s;
    if (whole_window(sh)) {
        dense_fwd(gemm, sh, src, weights, bias, relu, dst);
        return;
    }
    plan pl = make_plan(sh);
#pragma omp parallel num_threads(team_size(&pl))
    {
        float *col = scratch + thread_floats(sh) * omp_get_thread_num();
        float *tmp = col + round16((size_t)crs * pl.cols);
#pragma omp for schedule(static)
        for (int ti = 0; ti < pl.tiles; ti++) {
            tile_pos tp = tile_at(sh, &pl, ti);
            int n = tp.nb * (tp.oy1 - tp.oy0) * sh->ow;
            tile_im2col(sh, src, &tp, col);
            gemm(0, 0, sh->k, n, crs, 1.0f, weights, crs, col, n, 0.0f, tmp, n);
            tile_copy(sh, &tp, tmp, dst, 1, bias, relu);
        }
    }
}

/* diff_bias[k] += sum of row k of g[K][P]. */
static void add_row_sums(int k, int p, const float *g, float *db) {
    for (int j = 0; j < k; j++) {
        float s = 0.0f;
        for (int i = 0; i < p; i++) s += g[(size_t)j * p + i];
        db[j] += s;
    }
}

void conv_bwd_w_gemm(sgemm_fn gemm, const conv_shape *sh, const float *src,
                     const float *diff_dst, float *diff_weights, float *diff_bias,
                     float *scratch) {
    int crs = sh->c * sh->r * sh->s;
    if (whole_window(sh)) { /* dW[k×crs] = diffᵀ · src; db = column sums of diff[n×k] */
        gemm(1, 0, sh->k, crs, sh->n, 1.0f, diff_dst, sh->k, src, crs, 0.0f, diff_weights, crs);
        if (!diff_bias) return;
        for (int k = 0; k < sh->k; k++) diff_bias[k] = 0.0f;
        for (int i = 0; i < sh->n; i++)
            for (int k = 0; k < sh->k; k++) diff_bias[k] += diff_dst[(size_t)i * sh->k + k];
        return;
    }
    plan pl = make_plan(sh);
    int nt = team_size(&pl);
    size_t nw = (size_t)sh->k * crs, wb_off = round16(nw);
#pragma omp parallel num_threads(nt)
    {
        float *col = scratch + thread_floats(sh) * omp_get_thread_num();
        float *tmp = col + round16((size_t)crs * pl.cols);
        float *dw = col + col_floats(sh), *db = dw + wb_off;
        memset(dw, 0, sizeof(float) * wgrad_floats(sh));
#pragma omp for schedule(static)
        for (int ti = 0; ti < pl.tiles; ti++) {
            tile_pos tp = tile_at(sh, &pl, ti);
            int n = tp.nb * (tp.oy1 - tp.oy0) * sh->ow;
            tile_im2col(sh, src, &tp, col);
            tile_copy(sh, &tp, tmp, (float *)diff_dst, 0, NULL, 0);
            gemm(0, 1, sh->k, crs, n, 1.0f, tmp, n, col, n, 1.0f, dw, crs);
            if (diff_bias) add_row_sums(sh->k, n, tmp, db);
        }
    }
    /* Sum the per-thread partials in a fixed order: deterministic for fixed nt. */
    size_t tf = thread_floats(sh), cf = col_floats(sh);
    for (size_t j = 0; j < nw; j++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++) s += scratch[tf * t + cf + j];
        diff_weights[j] = s;
    }
    for (int j = 0; diff_bias && j < sh->k; j++) {
        float s = 0.0f;
        for (int t = 0; t < nt; t++) s += scratch[tf * t + cf + wb_off + j];
        diff_bias[j] = s;
    }
}

void conv_bwd_d_gemm(sgemm_fn gemm, const conv_shape *sh, const float *diff_dst,
                     const float *weights, float *diff_src, float *scratch) {
    int crs = sh->c * sh->r * sh->s;
    if (whole_window(sh)) { /* dsrc[n×crs] = diff[n×k] · W */
        gemm(0, 0, sh->n, crs, sh->k, 1.0f, diff_dst, sh->k, weights, crs, 0.0f, diff_src, crs);
        return;
    }
    size_t in_img = (size_t)sh->c * sh->h * sh->w;
    plan pl = make_plan(sh);
    /* Bands of one image overlap in the input: one thread takes them all. */
    int per_unit = pl.rows < sh->oh ? pl.tiles / sh->n : 1, units = pl.tiles / per_unit;
    int nt = omp_get_max_threads() < units ? omp_get_max_threads() : units;
#pragma omp parallel num_threads(nt)
    {
        float *col = scratch + thread_floats(sh) * omp_get_thread_num();
        float *tmp = col + round16((size_t)crs * pl.cols);
#pragma omp for schedule(static)
        for (int u = 0; u < units; u++)
            for (int ti = u * per_unit; ti < (u + 1) * per_unit; ti++) {
                tile_pos tp = tile_at(sh, &pl, ti);
                size_t cols = (size_t)(tp.oy1 - tp.oy0) * sh->ow;
                int n = tp.nb * (int)cols;
                tile_copy(sh, &tp, tmp, (float *)diff_dst, 0, NULL, 0);
                gemm(1, 0, crs, n, sh->k, 1.0f, weights, crs, tmp, n, 0.0f, col, n);
                for (int j = 0; j < tp.nb; j++) {
                    float *img = diff_src + (tp.i0 + j) * in_img;
                    if (tp.oy0 == 0) memset(img, 0, sizeof(float) * in_img);
                    col2im(sh, col + j * cols, tp.oy0, tp.oy1, (size_t)n, img);
                }
            }
    }
}
