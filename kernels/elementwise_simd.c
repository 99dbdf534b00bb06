/* The SIMD elementwise kernels, written once against the vector names of
 * kernels/vec_avx2.h or kernels/vec_avx512.h and compiled once per ISA:
 * elementwise_avx2.c and elementwise_avx512.c each include one of those
 * headers, then this file, and export its register_simd_kernels(). (The build
 * leaves this file out of the sources: alone it would not compile.)
 *
 * Loops run a one-vector step over whole vectors, then the same step once on
 * the first lanes of a last, partial vector. Sums take float partial sums over
 * ELT_BLOCK elements and add them in double; mean_var accumulates in double
 * throughout. Each vector lane does the same operations in the same order as
 * the two separate sources this one replaced, so results are unchanged on
 * both ISAs; where those sources differed (the exp's range, mean_var's tail,
 * prefetching) the vector header keeps each ISA's choice. */
#ifndef VEC_TARGET
#error "include kernels/vec_avx2.h or kernels/vec_avx512.h before this file"
#endif

#include <math.h>

#include "kernels/elementwise_impl.h"

static inline VEC_TARGET vec relu_if(vec y, int relu) { return relu ? vec_max(y, vec_zero()) : y; }
/* The lanes of x widened and added pairwise: low half + high half. */
static inline VEC_TARGET vecd widen_sum(vec x) { return vecd_add(vec_low_pd(x), vec_high_pd(x)); }
/* The plane of image i, channel ch in an n×c×hw tensor. */
static size_t plane(int i, int ch, int c, int hw) { return ((size_t)i * c + ch) * (size_t)hw; }
/* The plane of channel ch in image i + 1, or NULL after the last image. */
static const float *next_plane(const float *x, int n, int c, int hw, int i, int ch) {
    return i + 1 < n ? x + plane(i + 1, ch, c, hw) : NULL;
}

/* ---- Adam ---- */

typedef struct {
    vec b1, c1, b2, c2, step, inv_bc2, eps, wd;
} adam_consts;

/* The first count parameters from p on (count ≥ VEC_WIDTH: one whole vector). */
static inline VEC_TARGET void adam_vec(float *p, const float *g, float *m, float *v,
                                       const adam_consts *a, size_t count) {
    vec pi = vec_load_first(p, count), gi = vec_fmadd(a->wd, pi, vec_load_first(g, count));
    vec mi = vec_fmadd(a->b1, vec_load_first(m, count), vec_mul(a->c1, gi));
    vec vi = vec_fmadd(a->b2, vec_load_first(v, count), vec_mul(vec_mul(a->c2, gi), gi));
    vec den = vec_fmadd(vec_sqrt(vi), a->inv_bc2, a->eps);
    pi = vec_sub(pi, vec_div(vec_mul(a->step, mi), den));
    vec_store_first(m, mi, count);
    vec_store_first(v, vi, count);
    vec_store_first(p, pi, count);
}

static VEC_TARGET void adam_floats(size_t n, float *p, const float *g, float *m, float *v,
                                   float b1, float b2, float step, float inv_bc2, float eps,
                                   float wd) {
    const adam_consts a = {
        vec_set1(b1),   vec_set1(1.0f - b1), vec_set1(b2),      vec_set1(1.0f - b2),
        vec_set1(step), vec_set1(inv_bc2),   vec_set1(eps),     vec_set1(wd),
    };
    size_t i = 0;
    for (; i + VEC_WIDTH <= n; i += VEC_WIDTH) adam_vec(p + i, g + i, m + i, v + i, &a, VEC_WIDTH);
    if (i < n) adam_vec(p + i, g + i, m + i, v + i, &a, n - i);
}

typedef struct {
    float *p;
    const float *g;
    float *m, *v;
    float b1, b2, step, inv_bc2, eps, wd;
} adam_args;

/* Parameters [lo, hi) of one call: the share elt_for_spans gives a thread. */
static void adam_span(size_t lo, size_t hi, const void *args) {
    const adam_args *s = args;
    adam_floats(hi - lo, s->p + lo, s->g + lo, s->m + lo, s->v + lo, s->b1, s->b2, s->step,
                s->inv_bc2, s->eps, s->wd);
}

/* Adam's work per parameter, in adds (elt_for_spans): it streams 7 arrays,
 * not 3, and takes a square root and a division per vector. At 1, LeNet-5's
 * 61706 parameters (under ELT_PARALLEL_MIN) ran on one thread while the
 * other waited: 2 % of a two-thread step's samples at batch 128, ~46 us. */
#define ADAM_COST 4

static void simd_adam(size_t n, float *p, const float *g, float *m, float *v, float b1, float b2,
                      float step, float inv_bc2, float eps, float wd) {
    const adam_args args = {p, g, m, v, b1, b2, step, inv_bc2, eps, wd};
    elt_for_spans(n, ADAM_COST, adam_span, &args);
}

/* ---- ReLU backward, add ---- */

/* diff = dst > 0 ? diff : 0 over the first count floats. */
static inline VEC_TARGET void relu_bwd_vec(const float *dst, float *diff, size_t count) {
    vec kept = vec_keep_positive(vec_load_first(dst, count), vec_load_first(diff, count));
    vec_store_first(diff, kept, count);
}

static VEC_TARGET void relu_bwd_floats(size_t n, const float *dst, float *diff) {
    size_t i = 0;
    for (; i + VEC_WIDTH <= n; i += VEC_WIDTH) relu_bwd_vec(dst + i, diff + i, VEC_WIDTH);
    if (i < n) relu_bwd_vec(dst + i, diff + i, n - i);
}

typedef struct {
    const float *dst;
    float *diff;
} relu_bwd_args;

static void relu_bwd_span(size_t lo, size_t hi, const void *args) {
    const relu_bwd_args *s = args;
    relu_bwd_floats(hi - lo, s->dst + lo, s->diff + lo);
}

static void simd_relu_bwd(size_t n, const float *dst, float *diff) {
    const relu_bwd_args args = {dst, diff};
    elt_for_spans(n, 1, relu_bwd_span, &args);
}

static inline VEC_TARGET void add_vec(const float *a, const float *b, float *dst, int relu,
                                      size_t count) {
    vec y = vec_add(vec_load_first(a, count), vec_load_first(b, count));
    vec_store_first(dst, relu_if(y, relu), count);
}

/* dst[i] = a[i] + b[i] (ReLU'd with relu) over n floats; dst may be a or b. */
static VEC_TARGET void add_floats(size_t n, const float *a, const float *b, float *dst, int relu) {
    size_t i = 0;
    for (; i + VEC_WIDTH <= n; i += VEC_WIDTH) add_vec(a + i, b + i, dst + i, relu, VEC_WIDTH);
    if (i < n) add_vec(a + i, b + i, dst + i, relu, n - i);
}

typedef struct {
    const float *a, *b;
    float *dst;
    int relu;
} add_args;

static void add_span(size_t lo, size_t hi, const void *args) {
    const add_args *s = args;
    add_floats(hi - lo, s->a + lo, s->b + lo, s->dst + lo, s->relu);
}

static void simd_add(size_t n, const float *a, const float *b, float *dst, int relu) {
    const add_args args = {a, b, dst, relu};
    elt_for_spans(n, 1, add_span, &args);
}

/* ---- bias + ReLU, bias backward ---- */

static inline VEC_TARGET void bias_relu_vec(float *x, vec b, int relu, size_t count) {
    vec_store_first(x, relu_if(vec_add(vec_load_first(x, count), b), relu), count);
}

/* x[j] += b over one plane, then ReLU. */
static VEC_TARGET void plane_bias_relu(size_t n, float *x, float b, int relu) {
    const vec bb = vec_set1(b);
    size_t j = 0;
    for (; j + VEC_WIDTH <= n; j += VEC_WIDTH) bias_relu_vec(x + j, bb, relu, VEC_WIDTH);
    if (j < n) bias_relu_vec(x + j, bb, relu, n - j);
}

static void simd_bias_relu(int rows, int cols, int inner, float *x, const float *bias, int relu) {
    const long planes = (long)rows * cols;
    if (inner == 1) { /* a fully connected layer: x[r][j] += bias[j] */
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)planes))
        for (int r = 0; r < rows; r++)
            add_floats((size_t)cols, x + (size_t)r * cols, bias, x + (size_t)r * cols, relu);
        return;
    }
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)planes * inner))
    for (long q = 0; q < planes; q++)
        plane_bias_relu((size_t)inner, x + (size_t)q * inner, bias[q % cols], relu);
}

/* Touches the plane that comes next (NULL: none), one line per 16 floats done
 * here, where the vector header asks for it (VEC_PREFETCH_NEXT_PLANE). */
static inline VEC_TARGET void prefetch_line(const float *next, size_t i) {
    if (VEC_PREFETCH_NEXT_PLANE && next) _mm_prefetch((const char *)(next + i), _MM_HINT_T0);
}

/* Σ(x - k) and Σ(x - k)² over n floats, added into s[0] and s[1]. */
static VEC_TARGET void shifted_sums(const float *x, size_t n, float k, double s[2],
                                    const float *next) {
    const vec kk = vec_set1(k);
    vecd d1 = vecd_zero(), d2 = vecd_zero();
    for (size_t i = 0; i < n;) {
        size_t end = n - i > ELT_BLOCK ? i + ELT_BLOCK : n;
        vec a1 = vec_zero(), a2 = vec_zero();
        for (; i < end; i += VEC_WIDTH) {
            size_t count = end - i;
            prefetch_line(next, i);
            vec d = vec_keep_first(vec_sub(vec_load_first(x + i, count), kk), count);
            a1 = vec_add(a1, d);
            a2 = vec_fmadd(d, d, a2);
        }
        i = end;
        d1 = vecd_add(d1, widen_sum(a1));
        d2 = vecd_add(d2, widen_sum(a2));
    }
    s[0] += vecd_hsum(d1);
    s[1] += vecd_hsum(d2);
}

/* Sums of columns c0.. (one vector of them) of a rows×cols matrix, in double. */
static VEC_TARGET void column_sums(int rows, int cols, int c0, const float *x, float *out) {
    const size_t count = (size_t)(cols - c0);
    vecd lo = vecd_zero(), hi = vecd_zero();
    for (int r = 0; r < rows; r++) {
        vec v = vec_load_first(x + (size_t)r * cols + c0, count);
        lo = vecd_add(lo, vec_low_pd(v));
        hi = vecd_add(hi, vec_high_pd(v));
    }
    vec_store_first(out + c0, vec_from_pd(lo, hi), count);
}

static void simd_bias_bwd(int rows, int cols, int inner, const float *diff, float *diff_bias) {
    if (!diff_bias) return;
    const size_t work = (size_t)rows * cols * inner;
    if (inner == 1) {
#pragma omp parallel for schedule(static) if (elt_parallel(work))
        for (int c0 = 0; c0 < cols; c0 += VEC_WIDTH) column_sums(rows, cols, c0, diff, diff_bias);
        return;
    }
#pragma omp parallel for schedule(static) if (elt_parallel(work))
    for (int col = 0; col < cols; col++) {
        double s[2] = {0.0, 0.0};
        for (int r = 0; r < rows; r++)
            shifted_sums(diff + ((size_t)r * cols + col) * inner, (size_t)inner, 0.0f, s, NULL);
        diff_bias[col] = (float)s[0];
    }
}

/* ---- batchnorm ---- */

/* dst = (x - mean)·scale + beta, then ReLU. */
static inline VEC_TARGET void normalize_vec(const float *x, vec mean, vec scale, vec beta,
                                            int relu, float *dst, size_t count) {
    vec y = vec_fmadd(vec_sub(vec_load_first(x, count), mean), scale, beta);
    vec_store_first(dst, relu_if(y, relu), count);
}

static VEC_TARGET void normalize_plane(size_t n, const float *x, float mean, float scale,
                                       float beta, int relu, float *dst) {
    const vec mm = vec_set1(mean), ss = vec_set1(scale), bb = vec_set1(beta);
    size_t j = 0;
    for (; j + VEC_WIDTH <= n; j += VEC_WIDTH)
        normalize_vec(x + j, mm, ss, bb, relu, dst + j, VEC_WIDTH);
    if (j < n) normalize_vec(x + j, mm, ss, bb, relu, dst + j, n - j);
}

static void normalize_channel(int n, int c, int hw, const float *src, int ch, float mean,
                              float scale, float beta, int relu, float *dst) {
    for (int i = 0; i < n; i++)
        normalize_plane((size_t)hw, src + plane(i, ch, c, hw), mean, scale, beta, relu,
                        dst + plane(i, ch, c, hw));
}

/* Mean, then the deviations from the float mean: var = Σ(x-µ)²/M - (Σ(x-µ)/M)². */
static void channel_stats(int n, int c, int hw, const float *src, int ch, float *mean,
                          float *var) {
    const double count = (double)n * hw;
    double s[2] = {0.0, 0.0}, t[2] = {0.0, 0.0};
    for (int i = 0; i < n; i++) {
        const float *next = next_plane(src, n, c, hw, i, ch);
        shifted_sums(src + plane(i, ch, c, hw), (size_t)hw, 0.0f, s, next);
    }
    const float mu = (float)(s[0] / count);
    for (int i = 0; i < n; i++) shifted_sums(src + plane(i, ch, c, hw), (size_t)hw, mu, t, NULL);
    const double shift = t[0] / count, sigma2 = t[1] / count - shift * shift;
    *mean = (float)(mu + shift);
    *var = (float)(sigma2 > 0.0 ? sigma2 : 0.0);
}

static void simd_bn_fwd_train(int n, int c, int hw, const float *src, const float *gamma,
                              const float *beta, float eps, int relu, float *dst, float *mean,
                              float *var) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++) {
        channel_stats(n, c, hw, src, ch, &mean[ch], &var[ch]);
        float scale = (float)(gamma[ch] / sqrt((double)var[ch] + eps));
        normalize_channel(n, c, hw, src, ch, mean[ch], scale, beta[ch], relu, dst);
    }
}

static void simd_bn_fwd_infer(int n, int c, int hw, const float *src, const float *gamma,
                              const float *beta, const float *mean, const float *var, float eps,
                              int relu, float *dst) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++) {
        float scale = (float)(gamma[ch] / sqrt((double)var[ch] + eps));
        normalize_channel(n, c, hw, src, ch, mean[ch], scale, beta[ch], relu, dst);
    }
}

/* The first count floats of diff_dst, zeroed where dst ≤ 0 when the forward
 * pass had a ReLU (dst is not read without one). */
static inline VEC_TARGET vec masked_dy(const float *dst, const float *diff_dst, int relu,
                                       size_t count) {
    vec dy = vec_load_first(diff_dst, count);
    return relu ? vec_keep_positive(vec_load_first(dst, count), dy) : dy;
}

/* Σdy and Σdy·(x - mean) over one plane, added into s[0] and s[1]; the next
 * plane is `ahead` floats on (0: none), and gets prefetched. */
static VEC_TARGET void bwd_sums(size_t n, const float *x, const float *dst, const float *diff_dst,
                                float mean, int relu, size_t ahead, double s[2]) {
    const vec mm = vec_set1(mean);
    vecd d1 = vecd_zero(), d2 = vecd_zero();
    for (size_t i = 0; i < n;) {
        size_t end = n - i > ELT_BLOCK ? i + ELT_BLOCK : n;
        vec a1 = vec_zero(), a2 = vec_zero();
        for (; i < end; i += VEC_WIDTH) {
            size_t count = end - i;
            if (ahead) {
                prefetch_line(x + ahead, i);
                prefetch_line(diff_dst + ahead, i);
                if (relu) prefetch_line(dst + ahead, i);
            }
            vec dy = masked_dy(relu ? dst + i : NULL, diff_dst + i, relu, count);
            vec dx = vec_keep_first(vec_sub(vec_load_first(x + i, count), mm), count);
            a1 = vec_add(a1, dy);
            a2 = vec_fmadd(dy, dx, a2);
        }
        i = end;
        d1 = vecd_add(d1, widen_sum(a1));
        d2 = vecd_add(d2, widen_sum(a2));
    }
    s[0] += vecd_hsum(d1);
    s[1] += vecd_hsum(d2);
}

/* diff_src = scale·(dy - mean_dy - (x - mean)·c), c = mean(dy·xhat)/sqrt(var + eps). */
typedef struct {
    vec mean, scale, mean_dy, c;
} bwd_consts;

static inline VEC_TARGET void bwd_vec(const float *x, const float *dst, const float *diff_dst,
                                      const bwd_consts *b, int relu, float *diff_src,
                                      size_t count) {
    vec t = vec_sub(masked_dy(dst, diff_dst, relu, count), b->mean_dy);
    t = vec_fnmadd(vec_sub(vec_load_first(x, count), b->mean), b->c, t);
    vec_store_first(diff_src, vec_mul(b->scale, t), count);
}

static VEC_TARGET void bwd_plane(size_t n, const float *x, const float *dst,
                                 const float *diff_dst, const float k4[4], int relu,
                                 float *diff_src) {
    const bwd_consts b = {vec_set1(k4[0]), vec_set1(k4[1]), vec_set1(k4[2]), vec_set1(k4[3])};
    size_t j = 0;
    for (; j + VEC_WIDTH <= n; j += VEC_WIDTH)
        bwd_vec(x + j, relu ? dst + j : NULL, diff_dst + j, &b, relu, diff_src + j, VEC_WIDTH);
    if (j < n) bwd_vec(x + j, relu ? dst + j : NULL, diff_dst + j, &b, relu, diff_src + j, n - j);
}

static void bwd_channel(int n, int c, int hw, const float *src, const float *dst,
                        const float *diff_dst, const float *gamma, const float *mean,
                        const float *var, float eps, int relu, int ch, float *diff_src,
                        float *diff_gamma, float *diff_beta) {
    const double count = (double)n * hw, inv_std = 1.0 / sqrt((double)var[ch] + eps);
    double s[2] = {0.0, 0.0};
    for (int i = 0; i < n; i++) {
        size_t at = plane(i, ch, c, hw);
        size_t ahead = i + 1 < n ? (size_t)c * hw : 0;
        bwd_sums((size_t)hw, src + at, relu ? dst + at : NULL, diff_dst + at, mean[ch], relu,
                 ahead, s);
    }
    diff_beta[ch] = (float)s[0];
    diff_gamma[ch] = (float)(s[1] * inv_std);
    const float k4[4] = {mean[ch], (float)(gamma[ch] * inv_std), (float)(s[0] / count),
                         (float)(s[1] * inv_std / count * inv_std)};
    for (int i = 0; i < n; i++) {
        size_t at = plane(i, ch, c, hw);
        bwd_plane((size_t)hw, src + at, relu ? dst + at : NULL, diff_dst + at, k4, relu,
                  diff_src + at);
    }
}

static void simd_bn_bwd(int n, int c, int hw, const float *src, const float *dst,
                        const float *diff_dst, const float *gamma, const float *mean,
                        const float *var, float eps, int relu, float *diff_src, float *diff_gamma,
                        float *diff_beta) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++)
        bwd_channel(n, c, hw, src, dst, diff_dst, gamma, mean, var, eps, relu, ch, diff_src,
                    diff_gamma, diff_beta);
}

/* ---- softmax cross-entropy ---- */

/* e^x for x ≤ 0: Cephes' expf polynomial (about 1 ulp) times 2^t; below the
 * header's VEC_EXP_LOWEST the ISAs differ (AVX2 flushes to 0, AVX-512
 * underflows through the subnormals). */
static VEC_TARGET vec exp_nonpositive(vec x) {
    const vec xc = vec_max(x, vec_set1(VEC_EXP_LOWEST));
    vec t = vec_round_nearest(vec_mul(xc, vec_set1(1.44269504088896341f)));
    vec r = vec_fnmadd(t, vec_set1(0.693359375f), xc);
    r = vec_fnmadd(t, vec_set1(-2.12194440e-4f), r);
    vec p = vec_set1(1.9875691500e-4f);
    p = vec_fmadd(p, r, vec_set1(1.3981999507e-3f));
    p = vec_fmadd(p, r, vec_set1(8.3334519073e-3f));
    p = vec_fmadd(p, r, vec_set1(4.1665795894e-2f));
    p = vec_fmadd(p, r, vec_set1(1.6666665459e-1f));
    p = vec_fmadd(p, r, vec_set1(5.0000001201e-1f));
    vec y = vec_fmadd(p, vec_mul(r, r), vec_add(r, vec_set1(1.0f)));
    return vec_exp_scale(y, t, x);
}

/* One row holds at most 16 classes: this many vectors. */
enum { ROW_VECS = 16 / VEC_WIDTH };

/* Classes of vector v of a row: how many of its lanes are in use. */
static size_t classes_in(int classes, int v) {
    return classes > v * VEC_WIDTH ? (size_t)(classes - v * VEC_WIDTH) : 0;
}

/* One row of at most 16 classes, in ROW_VECS vectors (absent classes: -inf). */
static VEC_TARGET double row_xent(const float *z, int label, int classes, float scale, float *grad,
                                  float *probs, int *argmax) {
    vec x[ROW_VECS], e[ROW_VECS];
    for (int v = 0; v < ROW_VECS; v++)
        x[v] = vec_load_first_or(z + v * VEC_WIDTH, classes_in(classes, v), vec_set1(-INFINITY));
    vec top = x[0];
    for (int v = 1; v < ROW_VECS; v++) top = vec_max(top, x[v]);
    const float zmax = vec_hmax(top);
    const vec mx = vec_set1(zmax);
    unsigned first = 0;
    for (int v = 0; v < ROW_VECS; v++) first |= vec_equal_bits(x[v], mx) << (v * VEC_WIDTH);
    *argmax = first ? __builtin_ctz(first) : 0;
    for (int v = 0; v < ROW_VECS; v++)
        e[v] = vec_keep_first(exp_nonpositive(vec_sub(x[v], mx)), classes_in(classes, v));
    vec total = e[0];
    for (int v = 1; v < ROW_VECS; v++) total = vec_add(total, e[v]);
    const float sum = vec_hsum(total);
    const vec s = vec_set1(sum), sc = vec_set1(scale);
    for (int v = 0; v < ROW_VECS && classes_in(classes, v); v++) {
        const vec p = vec_div(e[v], s);
        const size_t count = classes_in(classes, v);
        if (probs) vec_store_first(probs + v * VEC_WIDTH, p, count);
        if (grad) {
            const vec q = vec_sub_one_at(p, label - v * VEC_WIDTH); /* p - onehot */
            vec_store_first(grad + v * VEC_WIDTH, vec_div(q, sc), count);
        }
    }
    return log((double)sum) - (double)(z[label] - zmax);
}

static double simd_softmax_xent(const float *logits, const uint8_t *labels, int n, int classes,
                                float scale, float *grad, float *probs, int *correct) {
    if (classes > 16)
        return ref_softmax_xent(logits, labels, n, classes, scale, grad, probs, correct);
    double total = 0.0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        int argmax;
        size_t off = (size_t)i * classes;
        total += row_xent(logits + off, labels[i], classes, scale, grad ? grad + off : 0,
                          probs ? probs + off : 0, &argmax);
        hits += argmax == labels[i];
    }
    if (correct) *correct = hits;
    return total;
}

/* ---- mean and variance, in double ---- */

/* acc + d, or acc + d² with squares. */
static inline VEC_TARGET vecd add_deviation(vecd acc, vecd d, int squares) {
    return squares ? vecd_fmadd(d, d, acc) : vecd_add(acc, d);
}

/* Σ(x - shift), or Σ(x - shift)² with squares, over n floats in double. The
 * last n mod VECD_WIDTH floats join the vector lanes or, after the horizontal
 * sum, the total one by one, as the header says (VEC_MEAN_VAR_TAIL_IN_LANES). */
static VEC_TARGET double sum_pd(const float *x, size_t n, double shift, int squares) {
    const vecd s = vecd_set1(shift);
    vecd acc = vecd_zero();
    size_t i = 0;
    for (; i + VECD_WIDTH <= n; i += VECD_WIDTH)
        acc = add_deviation(acc, vecd_sub(vecd_load_floats(x + i), s), squares);
    if (VEC_MEAN_VAR_TAIL_IN_LANES) {
        if (i < n) {
            vecd d = vecd_sub(vecd_load_floats_first(x + i, n - i), s);
            acc = add_deviation(acc, vecd_keep_first(d, n - i), squares);
        }
        return vecd_hsum(acc);
    }
    double total = vecd_hsum(acc);
    for (; i < n; i++) total += squares ? (x[i] - shift) * (x[i] - shift) : x[i] - shift;
    return total;
}

static void simd_mean_var(const float *x, size_t n, double *mean, double *var) {
    double mu = n ? sum_pd(x, n, 0.0, 0) / (double)n : 0.0;
    *mean = mu;
    *var = n ? sum_pd(x, n, mu, 1) / (double)n : 0.0;
}

/* Fills the table's elementwise entries with this ISA's kernels. Global
 * average pooling is a few hundred floats per image: it keeps the reference. */
static void register_simd_kernels(kernel_table *t) {
    t->bn_fwd_train = simd_bn_fwd_train;
    t->bn_fwd_infer = simd_bn_fwd_infer;
    t->bn_bwd = simd_bn_bwd;
    t->bias_relu = simd_bias_relu;
    t->relu_bwd = simd_relu_bwd;
    t->bias_bwd = simd_bias_bwd;
    t->add = simd_add;
    t->softmax_xent = simd_softmax_xent;
    t->adam = simd_adam;
    t->mean_var = simd_mean_var;
}
