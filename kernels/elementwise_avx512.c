/* AVX-512F versions of the elementwise kernels: 16 floats a vector, a masked
 * vector for the tail. Loops call a one-vector step with the constant full
 * mask (which compiles to plain loads and stores) and once with the tail mask.
 * Sums take float partial sums over ELT_BLOCK elements and add them in double;
 * mean_var accumulates in double throughout. */
#include <immintrin.h>
#include <math.h>

#include "kernels/elementwise_impl.h"

#define AVX512 __attribute__((target("avx512f")))
#define FULL ((__mmask16)0xFFFF)

AVX512 static inline __mmask16 tail_mask(size_t left) {
    return left >= 16 ? FULL : (__mmask16)((1u << left) - 1u);
}
AVX512 static inline __m512 load(const float *p, __mmask16 k) { return _mm512_maskz_loadu_ps(k, p); }
AVX512 static inline void store(float *p, __m512 x, __mmask16 k) { _mm512_mask_storeu_ps(p, k, x); }
AVX512 static inline __m512 relu_if(__m512 y, int relu) {
    return relu ? _mm512_max_ps(y, _mm512_setzero_ps()) : y;
}
/* The 16 floats of x widened and added pairwise into 8 doubles. */
AVX512 static inline __m512d widen_sum(__m512 x) {
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
    return _mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)), _mm512_cvtps_pd(hi));
}
static size_t plane(int i, int ch, int c, int hw) { return ((size_t)i * c + ch) * (size_t)hw; }
/* The plane of channel ch in image i + 1, or NULL after the last image. */
static const float *next_plane(const float *x, int n, int c, int hw, int i, int ch) {
    return i + 1 < n ? x + plane(i + 1, ch, c, hw) : NULL;
}

/* ---- Adam ---- */

typedef struct {
    __m512 b1, c1, b2, c2, step, inv_bc2, eps, wd;
} adam_consts;

AVX512 static inline void adam16(float *p, const float *g, float *m, float *v,
                                 const adam_consts *a, __mmask16 k) {
    __m512 pi = load(p, k), gi = _mm512_fmadd_ps(a->wd, pi, load(g, k));
    __m512 mi = _mm512_fmadd_ps(a->b1, load(m, k), _mm512_mul_ps(a->c1, gi));
    __m512 vi = _mm512_fmadd_ps(a->b2, load(v, k), _mm512_mul_ps(_mm512_mul_ps(a->c2, gi), gi));
    __m512 den = _mm512_fmadd_ps(_mm512_sqrt_ps(vi), a->inv_bc2, a->eps);
    pi = _mm512_sub_ps(pi, _mm512_div_ps(_mm512_mul_ps(a->step, mi), den));
    store(m, mi, k);
    store(v, vi, k);
    store(p, pi, k);
}

AVX512 static void adam_span(size_t n, float *p, const float *g, float *m, float *v, float b1,
                             float b2, float step, float inv_bc2, float eps, float wd) {
    const adam_consts a = {_mm512_set1_ps(b1),   _mm512_set1_ps(1.0f - b1),
                           _mm512_set1_ps(b2),   _mm512_set1_ps(1.0f - b2),
                           _mm512_set1_ps(step), _mm512_set1_ps(inv_bc2),
                           _mm512_set1_ps(eps),  _mm512_set1_ps(wd)};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) adam16(p + i, g + i, m + i, v + i, &a, FULL);
    if (i < n) adam16(p + i, g + i, m + i, v + i, &a, tail_mask(n - i));
}

void avx512_adam(size_t n, float *p, const float *g, float *m, float *v, float b1, float b2,
                 float step, float inv_bc2, float eps, float wd) {
    if (!elt_parallel(n)) {
        adam_span(n, p, g, m, v, b1, b2, step, inv_bc2, eps, wd);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        elt_thread_span(n, &lo, &hi);
        adam_span(hi - lo, p + lo, g + lo, m + lo, v + lo, b1, b2, step, inv_bc2, eps, wd);
    }
}

/* ---- ReLU backward, add ---- */

AVX512 static inline void relu_bwd16(const float *dst, float *diff, __mmask16 k) {
    __mmask16 pos = _mm512_cmp_ps_mask(load(dst, k), _mm512_setzero_ps(), _CMP_GT_OQ);
    store(diff, _mm512_maskz_mov_ps(pos, load(diff, k)), k);
}

AVX512 static void relu_bwd_span(size_t n, const float *dst, float *diff) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) relu_bwd16(dst + i, diff + i, FULL);
    if (i < n) relu_bwd16(dst + i, diff + i, tail_mask(n - i));
}

void avx512_relu_bwd(size_t n, const float *dst, float *diff) {
    if (!elt_parallel(n)) {
        relu_bwd_span(n, dst, diff);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        elt_thread_span(n, &lo, &hi);
        relu_bwd_span(hi - lo, dst + lo, diff + lo);
    }
}

AVX512 static inline void add16(const float *a, const float *b, float *dst, int relu,
                                __mmask16 k) {
    store(dst, relu_if(_mm512_add_ps(load(a, k), load(b, k)), relu), k);
}

AVX512 static void add_span(size_t n, const float *a, const float *b, float *dst, int relu) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) add16(a + i, b + i, dst + i, relu, FULL);
    if (i < n) add16(a + i, b + i, dst + i, relu, tail_mask(n - i));
}

void avx512_add(size_t n, const float *a, const float *b, float *dst, int relu) {
    if (!elt_parallel(n)) {
        add_span(n, a, b, dst, relu);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        elt_thread_span(n, &lo, &hi);
        add_span(hi - lo, a + lo, b + lo, dst + lo, relu);
    }
}

/* ---- bias + ReLU, bias backward ---- */

/* x[j] += b over one plane. */
AVX512 static void plane_bias_relu(size_t n, float *x, float b, int relu) {
    const __m512 bb = _mm512_set1_ps(b);
    size_t j = 0;
    for (; j + 16 <= n; j += 16) store(x + j, relu_if(_mm512_add_ps(load(x + j, FULL), bb), relu), FULL);
    if (j < n) {
        __mmask16 k = tail_mask(n - j);
        store(x + j, relu_if(_mm512_add_ps(load(x + j, k), bb), relu), k);
    }
}

/* x[j] += bias[j] over one row (inner = 1: a fully connected layer). */
AVX512 static void row_bias_relu(size_t n, float *x, const float *bias, int relu) {
    size_t j = 0;
    for (; j + 16 <= n; j += 16) add16(x + j, bias + j, x + j, relu, FULL);
    if (j < n) add16(x + j, bias + j, x + j, relu, tail_mask(n - j));
}

void avx512_bias_relu(int rows, int cols, int inner, float *x, const float *bias, int relu) {
    const long planes = (long)rows * cols;
    if (inner == 1) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)planes))
        for (int r = 0; r < rows; r++) row_bias_relu((size_t)cols, x + (size_t)r * cols, bias, relu);
        return;
    }
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)planes * inner))
    for (long q = 0; q < planes; q++)
        plane_bias_relu((size_t)inner, x + (size_t)q * inner, bias[q % cols], relu);
}

/* Touches the plane that comes next (NULL: none), one line per 16 floats done
 * here: batchnorm walks a channel as n planes 4 KB apart in NCHW, and the
 * hardware prefetcher stops at each page. */
AVX512 static inline void prefetch_line(const float *next, size_t i) {
    if (next) _mm_prefetch((const char *)(next + i), _MM_HINT_T0);
}

/* Σ(x - k) and Σ(x - k)² over n floats, added into s[0] and s[1]. */
AVX512 static void shifted_sums(const float *x, size_t n, float k, double s[2], const float *next) {
    const __m512 kk = _mm512_set1_ps(k);
    __m512d d1 = _mm512_setzero_pd(), d2 = _mm512_setzero_pd();
    for (size_t i = 0; i < n;) {
        size_t end = n - i > ELT_BLOCK ? i + ELT_BLOCK : n;
        __m512 a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps();
        for (; i < end; i += 16) {
            __mmask16 t = tail_mask(end - i);
            prefetch_line(next, i);
            __m512 d = _mm512_maskz_sub_ps(t, load(x + i, t), kk);
            a1 = _mm512_add_ps(a1, d);
            a2 = _mm512_fmadd_ps(d, d, a2);
        }
        i = end;
        d1 = _mm512_add_pd(d1, widen_sum(a1));
        d2 = _mm512_add_pd(d2, widen_sum(a2));
    }
    s[0] += _mm512_reduce_add_pd(d1);
    s[1] += _mm512_reduce_add_pd(d2);
}

/* Column sums of a rows×cols matrix, in double, 16 columns at a time. */
AVX512 static void column_sums(int rows, int cols, int c0, const float *x, float *out) {
    const __mmask16 k = tail_mask((size_t)(cols - c0));
    __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
    for (int r = 0; r < rows; r++) {
        __m512 v = load(x + (size_t)r * cols + c0, k);
        lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
        hi = _mm512_add_pd(hi, _mm512_cvtps_pd(
                                   _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    }
    __m512 sum = _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castpd256_pd512(_mm256_castps_pd(_mm512_cvtpd_ps(lo))),
        _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
    store(out + c0, sum, k);
}

void avx512_bias_bwd(int rows, int cols, int inner, const float *diff, float *diff_bias) {
    if (!diff_bias) return;
    const size_t work = (size_t)rows * cols * inner;
    if (inner == 1) {
#pragma omp parallel for schedule(static) if (elt_parallel(work))
        for (int c0 = 0; c0 < cols; c0 += 16) column_sums(rows, cols, c0, diff, diff_bias);
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

/* dst = (x - mean)·scale + beta, then ReLU, over one plane. */
AVX512 static inline void normalize16(const float *x, __m512 mean, __m512 scale, __m512 beta,
                                      int relu, float *dst, __mmask16 k) {
    store(dst, relu_if(_mm512_fmadd_ps(_mm512_sub_ps(load(x, k), mean), scale, beta), relu), k);
}

AVX512 static void normalize_plane(size_t n, const float *x, float mean, float scale, float beta,
                                   int relu, float *dst) {
    const __m512 mm = _mm512_set1_ps(mean), ss = _mm512_set1_ps(scale), bb = _mm512_set1_ps(beta);
    size_t j = 0;
    for (; j + 16 <= n; j += 16) normalize16(x + j, mm, ss, bb, relu, dst + j, FULL);
    if (j < n) normalize16(x + j, mm, ss, bb, relu, dst + j, tail_mask(n - j));
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
    for (int i = 0; i < n; i++)
        shifted_sums(src + plane(i, ch, c, hw), (size_t)hw, 0.0f, s, next_plane(src, n, c, hw, i, ch));
    const float mu = (float)(s[0] / count);
    for (int i = 0; i < n; i++) shifted_sums(src + plane(i, ch, c, hw), (size_t)hw, mu, t, NULL);
    const double shift = t[0] / count, sigma2 = t[1] / count - shift * shift;
    *mean = (float)(mu + shift);
    *var = (float)(sigma2 > 0.0 ? sigma2 : 0.0);
}

void avx512_bn_fwd_train(int n, int c, int hw, const float *src, const float *gamma,
                         const float *beta, float eps, int relu, float *dst, float *mean,
                         float *var) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++) {
        channel_stats(n, c, hw, src, ch, &mean[ch], &var[ch]);
        float scale = (float)(gamma[ch] / sqrt((double)var[ch] + eps));
        normalize_channel(n, c, hw, src, ch, mean[ch], scale, beta[ch], relu, dst);
    }
}

void avx512_bn_fwd_infer(int n, int c, int hw, const float *src, const float *gamma,
                         const float *beta, const float *mean, const float *var, float eps,
                         int relu, float *dst) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++) {
        float scale = (float)(gamma[ch] / sqrt((double)var[ch] + eps));
        normalize_channel(n, c, hw, src, ch, mean[ch], scale, beta[ch], relu, dst);
    }
}

/* diff_dst, masked by dst > 0 when the forward pass had a ReLU. */
AVX512 static inline __m512 masked_dy(const float *dst, const float *diff_dst, int relu,
                                      __mmask16 k) {
    if (relu) k = _mm512_mask_cmp_ps_mask(k, load(dst, k), _mm512_setzero_ps(), _CMP_GT_OQ);
    return load(diff_dst, k);
}

/* Σdy and Σdy·(x - mean) over one plane, added into s[0] and s[1]; the next
 * plane is `ahead` floats on (0: none), and gets prefetched. */
AVX512 static void bwd_sums(size_t n, const float *x, const float *dst, const float *diff_dst,
                            float mean, int relu, size_t ahead, double s[2]) {
    const __m512 mm = _mm512_set1_ps(mean);
    __m512d d1 = _mm512_setzero_pd(), d2 = _mm512_setzero_pd();
    for (size_t i = 0; i < n;) {
        size_t end = n - i > ELT_BLOCK ? i + ELT_BLOCK : n;
        __m512 a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps();
        for (; i < end; i += 16) {
            __mmask16 t = tail_mask(end - i);
            if (ahead) {
                prefetch_line(x + ahead, i);
                prefetch_line(diff_dst + ahead, i);
                if (relu) prefetch_line(dst + ahead, i);
            }
            __m512 dy = masked_dy(dst + i, diff_dst + i, relu, t);
            a1 = _mm512_add_ps(a1, dy);
            a2 = _mm512_fmadd_ps(dy, _mm512_maskz_sub_ps(t, load(x + i, t), mm), a2);
        }
        i = end;
        d1 = _mm512_add_pd(d1, widen_sum(a1));
        d2 = _mm512_add_pd(d2, widen_sum(a2));
    }
    s[0] += _mm512_reduce_add_pd(d1);
    s[1] += _mm512_reduce_add_pd(d2);
}

/* diff_src = scale·(dy - mean_dy - (x - mean)·c), c = mean(dy·xhat)/sqrt(var + eps). */
typedef struct {
    __m512 mean, scale, mean_dy, c;
} bwd_consts;

AVX512 static inline void bwd16(const float *x, const float *dst, const float *diff_dst,
                                const bwd_consts *b, int relu, float *diff_src, __mmask16 k) {
    __m512 t = _mm512_sub_ps(masked_dy(dst, diff_dst, relu, k), b->mean_dy);
    t = _mm512_fnmadd_ps(_mm512_sub_ps(load(x, k), b->mean), b->c, t);
    store(diff_src, _mm512_mul_ps(b->scale, t), k);
}

AVX512 static void bwd_plane(size_t n, const float *x, const float *dst, const float *diff_dst,
                             const float k4[4], int relu, float *diff_src) {
    const bwd_consts b = {_mm512_set1_ps(k4[0]), _mm512_set1_ps(k4[1]), _mm512_set1_ps(k4[2]),
                          _mm512_set1_ps(k4[3])};
    size_t j = 0;
    for (; j + 16 <= n; j += 16) bwd16(x + j, dst + j, diff_dst + j, &b, relu, diff_src + j, FULL);
    if (j < n) bwd16(x + j, dst + j, diff_dst + j, &b, relu, diff_src + j, tail_mask(n - j));
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

void avx512_bn_bwd(int n, int c, int hw, const float *src, const float *dst,
                   const float *diff_dst, const float *gamma, const float *mean, const float *var,
                   float eps, int relu, float *diff_src, float *diff_gamma, float *diff_beta) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++)
        bwd_channel(n, c, hw, src, dst, diff_dst, gamma, mean, var, eps, relu, ch, diff_src,
                    diff_gamma, diff_beta);
}

/* ---- softmax cross-entropy ---- */

/* e^x for x ≤ 0: Cephes' expf polynomial (about 1 ulp), scaled by 2^t with
 * scalef, which underflows gracefully to subnormals and 0. */
AVX512 static __m512 exp_nonpositive(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
    __m512 t = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(t, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(t, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    __m512 y = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(y, t);
}

/* One row of at most 16 classes in one masked vector. */
AVX512 static double row_xent(const float *z, int label, int classes, float scale, float *grad,
                              float *probs, int *argmax) {
    const __mmask16 k = tail_mask((size_t)classes);
    const __m512 x = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), k, z);
    const float zmax = _mm512_reduce_max_ps(x);
    const __m512 mx = _mm512_set1_ps(zmax);
    unsigned first = _mm512_cmp_ps_mask(x, mx, _CMP_EQ_OQ);
    *argmax = first ? __builtin_ctz(first) : 0;
    const __m512 e = _mm512_maskz_mov_ps(k, exp_nonpositive(_mm512_sub_ps(x, mx)));
    const float sum = _mm512_reduce_add_ps(e);
    const __m512 p = _mm512_div_ps(e, _mm512_set1_ps(sum));
    if (probs) store(probs, p, k);
    if (grad) {
        __m512 q = _mm512_mask_sub_ps(p, (__mmask16)(1u << label), p, _mm512_set1_ps(1.0f));
        store(grad, _mm512_div_ps(q, _mm512_set1_ps(scale)), k);
    }
    return log((double)sum) - (double)(z[label] - zmax);
}

double avx512_softmax_xent(const float *logits, const uint8_t *labels, int n, int classes,
                           float scale, float *grad, float *probs, int *correct) {
    if (classes > 16) return ref_softmax_xent(logits, labels, n, classes, scale, grad, probs, correct);
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

/* Σ(x - shift), or Σ(x - shift)² with squares, over n floats in double. */
AVX512 static double sum_pd(const float *x, size_t n, double shift, int squares) {
    const __m512d s = _mm512_set1_pd(shift);
    __m512d acc = _mm512_setzero_pd();
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 k = (__mmask8)(n - i >= 8 ? 0xFF : (1u << (n - i)) - 1u);
        __m256 v = _mm512_castps512_ps256(_mm512_maskz_loadu_ps(k, x + i));
        __m512d d = _mm512_maskz_sub_pd(k, _mm512_cvtps_pd(v), s);
        acc = squares ? _mm512_fmadd_pd(d, d, acc) : _mm512_add_pd(acc, d);
    }
    return _mm512_reduce_add_pd(acc);
}

void avx512_mean_var(const float *x, size_t n, double *mean, double *var) {
    double mu = n ? sum_pd(x, n, 0.0, 0) / (double)n : 0.0;
    *mean = mu;
    *var = n ? sum_pd(x, n, mu, 1) / (double)n : 0.0;
}
