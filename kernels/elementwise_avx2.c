/* AVX2 + FMA versions of the elementwise kernels: 8 floats a vector. Loops
 * run a one-vector step over whole vectors; the tail goes through the same
 * step on zero-padded copies in a small stack buffer (AVX2 masked stores are
 * slow on AMD, and this keeps one code path). Reductions load the tail with
 * vmaskmovps. Sums take float partial sums over ELT_BLOCK elements and add
 * them in double; mean_var accumulates in double throughout. */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "kernels/elementwise_impl.h"

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256i tail_mask(size_t left) {
    int l = left >= 8 ? 8 : (int)left;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(l), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
AVX2 static inline __m256 relu_if(__m256 y, int relu) {
    return relu ? _mm256_max_ps(y, _mm256_setzero_ps()) : y;
}
AVX2 static inline __m256d widen_sum(__m256 x) {
    return _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)),
                         _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
}
AVX2 static inline double hsum_pd(__m256d x) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(x), _mm256_extractf128_pd(x, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}
AVX2 static inline float hsum_ps(__m256 x) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
AVX2 static inline float hmax_ps(__m256 x) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
static size_t plane(int i, int ch, int c, int hw) { return ((size_t)i * c + ch) * (size_t)hw; }
static void copy_in(float buf[8], const float *x, size_t left) {
    memset(buf, 0, 8 * sizeof(float));
    if (x) memcpy(buf, x, left * sizeof(float));
}

/* ---- Adam ---- */

typedef struct {
    __m256 b1, c1, b2, c2, step, inv_bc2, eps, wd;
} adam_consts;

AVX2 static inline void adam8(float *p, const float *g, float *m, float *v, const adam_consts *a) {
    __m256 pi = _mm256_loadu_ps(p), gi = _mm256_fmadd_ps(a->wd, pi, _mm256_loadu_ps(g));
    __m256 mi = _mm256_fmadd_ps(a->b1, _mm256_loadu_ps(m), _mm256_mul_ps(a->c1, gi));
    __m256 vi = _mm256_fmadd_ps(a->b2, _mm256_loadu_ps(v),
                                _mm256_mul_ps(_mm256_mul_ps(a->c2, gi), gi));
    __m256 den = _mm256_fmadd_ps(_mm256_sqrt_ps(vi), a->inv_bc2, a->eps);
    pi = _mm256_sub_ps(pi, _mm256_div_ps(_mm256_mul_ps(a->step, mi), den));
    _mm256_storeu_ps(m, mi);
    _mm256_storeu_ps(v, vi);
    _mm256_storeu_ps(p, pi);
}

AVX2 static void adam_span(size_t n, float *p, const float *g, float *m, float *v, float b1,
                           float b2, float step, float inv_bc2, float eps, float wd) {
    const adam_consts a = {_mm256_set1_ps(b1),   _mm256_set1_ps(1.0f - b1),
                           _mm256_set1_ps(b2),   _mm256_set1_ps(1.0f - b2),
                           _mm256_set1_ps(step), _mm256_set1_ps(inv_bc2),
                           _mm256_set1_ps(eps),  _mm256_set1_ps(wd)};
    size_t i = 0;
    for (; i + 8 <= n; i += 8) adam8(p + i, g + i, m + i, v + i, &a);
    if (i < n) {
        size_t left = n - i;
        float bp[8], bg[8], bm[8], bv[8];
        copy_in(bp, p + i, left), copy_in(bg, g + i, left);
        copy_in(bm, m + i, left), copy_in(bv, v + i, left);
        adam8(bp, bg, bm, bv, &a);
        memcpy(p + i, bp, left * sizeof(float));
        memcpy(m + i, bm, left * sizeof(float));
        memcpy(v + i, bv, left * sizeof(float));
    }
}

void avx2_adam(size_t n, float *p, const float *g, float *m, float *v, float b1, float b2,
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

AVX2 static inline void relu_bwd8(const float *dst, float *diff) {
    __m256 pos = _mm256_cmp_ps(_mm256_loadu_ps(dst), _mm256_setzero_ps(), _CMP_GT_OQ);
    _mm256_storeu_ps(diff, _mm256_and_ps(pos, _mm256_loadu_ps(diff)));
}

AVX2 static void relu_bwd_span(size_t n, const float *dst, float *diff) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) relu_bwd8(dst + i, diff + i);
    for (; i < n; i++)
        if (!(dst[i] > 0.0f)) diff[i] = 0.0f;
}

void avx2_relu_bwd(size_t n, const float *dst, float *diff) {
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

AVX2 static inline void add8(const float *a, const float *b, float *dst, int relu) {
    _mm256_storeu_ps(dst, relu_if(_mm256_add_ps(_mm256_loadu_ps(a), _mm256_loadu_ps(b)), relu));
}

AVX2 static void add_span(size_t n, const float *a, const float *b, float *dst, int relu) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) add8(a + i, b + i, dst + i, relu);
    for (; i < n; i++) {
        float y = a[i] + b[i];
        dst[i] = relu && !(y > 0.0f) ? 0.0f : y;
    }
}

void avx2_add(size_t n, const float *a, const float *b, float *dst, int relu) {
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

AVX2 static void plane_bias_relu(size_t n, float *x, float b, int relu) {
    const __m256 bb = _mm256_set1_ps(b);
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        _mm256_storeu_ps(x + j, relu_if(_mm256_add_ps(_mm256_loadu_ps(x + j), bb), relu));
    for (; j < n; j++) {
        float y = x[j] + b;
        x[j] = relu && !(y > 0.0f) ? 0.0f : y;
    }
}

void avx2_bias_relu(int rows, int cols, int inner, float *x, const float *bias, int relu) {
    const long planes = (long)rows * cols;
    if (inner == 1) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)planes))
        for (int r = 0; r < rows; r++)
            add_span((size_t)cols, x + (size_t)r * cols, bias, x + (size_t)r * cols, relu);
        return;
    }
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)planes * inner))
    for (long q = 0; q < planes; q++)
        plane_bias_relu((size_t)inner, x + (size_t)q * inner, bias[q % cols], relu);
}

/* Σ(x - k) and Σ(x - k)² over n floats, added into s[0] and s[1]. */
AVX2 static void shifted_sums(const float *x, size_t n, float k, double s[2]) {
    const __m256 kk = _mm256_set1_ps(k);
    __m256d d1 = _mm256_setzero_pd(), d2 = _mm256_setzero_pd();
    for (size_t i = 0; i < n;) {
        size_t end = n - i > ELT_BLOCK ? i + ELT_BLOCK : n;
        __m256 a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps();
        for (; i < end; i += 8) {
            __m256i t = tail_mask(end - i);
            __m256 d = _mm256_and_ps(_mm256_castsi256_ps(t),
                                     _mm256_sub_ps(_mm256_maskload_ps(x + i, t), kk));
            a1 = _mm256_add_ps(a1, d);
            a2 = _mm256_fmadd_ps(d, d, a2);
        }
        i = end;
        d1 = _mm256_add_pd(d1, widen_sum(a1));
        d2 = _mm256_add_pd(d2, widen_sum(a2));
    }
    s[0] += hsum_pd(d1);
    s[1] += hsum_pd(d2);
}

/* Column sums of a rows×cols matrix, in double, 8 columns at a time. */
AVX2 static void column_sums(int rows, int cols, int c0, const float *x, float *out) {
    const __m256i k = tail_mask((size_t)(cols - c0));
    __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
    for (int r = 0; r < rows; r++) {
        __m256 v = _mm256_maskload_ps(x + (size_t)r * cols + c0, k);
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    float sum[8];
    _mm_storeu_ps(sum, _mm256_cvtpd_ps(lo));
    _mm_storeu_ps(sum + 4, _mm256_cvtpd_ps(hi));
    int left = cols - c0 < 8 ? cols - c0 : 8;
    memcpy(out + c0, sum, (size_t)left * sizeof(float));
}

void avx2_bias_bwd(int rows, int cols, int inner, const float *diff, float *diff_bias) {
    if (!diff_bias) return;
    const size_t work = (size_t)rows * cols * inner;
    if (inner == 1) {
#pragma omp parallel for schedule(static) if (elt_parallel(work))
        for (int c0 = 0; c0 < cols; c0 += 8) column_sums(rows, cols, c0, diff, diff_bias);
        return;
    }
#pragma omp parallel for schedule(static) if (elt_parallel(work))
    for (int col = 0; col < cols; col++) {
        double s[2] = {0.0, 0.0};
        for (int r = 0; r < rows; r++)
            shifted_sums(diff + ((size_t)r * cols + col) * inner, (size_t)inner, 0.0f, s);
        diff_bias[col] = (float)s[0];
    }
}

/* ---- batchnorm ---- */

AVX2 static void normalize_plane(size_t n, const float *x, float mean, float scale, float beta,
                                 int relu, float *dst) {
    const __m256 mm = _mm256_set1_ps(mean), ss = _mm256_set1_ps(scale), bb = _mm256_set1_ps(beta);
    size_t j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 y = _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), mm), ss, bb);
        _mm256_storeu_ps(dst + j, relu_if(y, relu));
    }
    for (; j < n; j++) {
        float y = (x[j] - mean) * scale + beta;
        dst[j] = relu && !(y > 0.0f) ? 0.0f : y;
    }
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
    for (int i = 0; i < n; i++) shifted_sums(src + plane(i, ch, c, hw), (size_t)hw, 0.0f, s);
    const float mu = (float)(s[0] / count);
    for (int i = 0; i < n; i++) shifted_sums(src + plane(i, ch, c, hw), (size_t)hw, mu, t);
    const double shift = t[0] / count, sigma2 = t[1] / count - shift * shift;
    *mean = (float)(mu + shift);
    *var = (float)(sigma2 > 0.0 ? sigma2 : 0.0);
}

void avx2_bn_fwd_train(int n, int c, int hw, const float *src, const float *gamma,
                       const float *beta, float eps, int relu, float *dst, float *mean,
                       float *var) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++) {
        channel_stats(n, c, hw, src, ch, &mean[ch], &var[ch]);
        float scale = (float)(gamma[ch] / sqrt((double)var[ch] + eps));
        normalize_channel(n, c, hw, src, ch, mean[ch], scale, beta[ch], relu, dst);
    }
}

void avx2_bn_fwd_infer(int n, int c, int hw, const float *src, const float *gamma,
                       const float *beta, const float *mean, const float *var, float eps,
                       int relu, float *dst) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++) {
        float scale = (float)(gamma[ch] / sqrt((double)var[ch] + eps));
        normalize_channel(n, c, hw, src, ch, mean[ch], scale, beta[ch], relu, dst);
    }
}

/* diff_dst under mask k (all ones or a tail), zeroed where dst ≤ 0 with relu. */
AVX2 static inline __m256 masked_dy(const float *dst, const float *diff_dst, int relu,
                                    __m256i k) {
    __m256 dy = _mm256_maskload_ps(diff_dst, k);
    if (!relu) return dy;
    __m256 pos = _mm256_cmp_ps(_mm256_maskload_ps(dst, k), _mm256_setzero_ps(), _CMP_GT_OQ);
    return _mm256_and_ps(pos, dy);
}

/* Σdy and Σdy·(x - mean) over one plane, added into s[0] and s[1]. */
AVX2 static void bwd_sums(size_t n, const float *x, const float *dst, const float *diff_dst,
                          float mean, int relu, double s[2]) {
    const __m256 mm = _mm256_set1_ps(mean);
    __m256d d1 = _mm256_setzero_pd(), d2 = _mm256_setzero_pd();
    for (size_t i = 0; i < n;) {
        size_t end = n - i > ELT_BLOCK ? i + ELT_BLOCK : n;
        __m256 a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps();
        for (; i < end; i += 8) {
            __m256i t = tail_mask(end - i);
            __m256 dy = masked_dy(relu ? dst + i : NULL, diff_dst + i, relu, t);
            a1 = _mm256_add_ps(a1, dy);
            a2 = _mm256_fmadd_ps(dy, _mm256_sub_ps(_mm256_maskload_ps(x + i, t), mm), a2);
        }
        i = end;
        d1 = _mm256_add_pd(d1, widen_sum(a1));
        d2 = _mm256_add_pd(d2, widen_sum(a2));
    }
    s[0] += hsum_pd(d1);
    s[1] += hsum_pd(d2);
}

/* diff_src = scale·(dy - mean_dy - (x - mean)·c), c = mean(dy·xhat)/sqrt(var + eps). */
typedef struct {
    __m256 mean, scale, mean_dy, c;
} bwd_consts;

AVX2 static inline void bwd8(const float *x, const float *dst, const float *diff_dst,
                             const bwd_consts *b, int relu, float *diff_src) {
    const __m256i all = _mm256_set1_epi32(-1);
    __m256 t = _mm256_sub_ps(masked_dy(dst, diff_dst, relu, all), b->mean_dy);
    t = _mm256_fnmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(x), b->mean), b->c, t);
    _mm256_storeu_ps(diff_src, _mm256_mul_ps(b->scale, t));
}

AVX2 static void bwd_plane(size_t n, const float *x, const float *dst, const float *diff_dst,
                           const float k4[4], int relu, float *diff_src) {
    const bwd_consts b = {_mm256_set1_ps(k4[0]), _mm256_set1_ps(k4[1]), _mm256_set1_ps(k4[2]),
                          _mm256_set1_ps(k4[3])};
    size_t j = 0;
    for (; j + 8 <= n; j += 8)
        bwd8(x + j, relu ? dst + j : NULL, diff_dst + j, &b, relu, diff_src + j);
    if (j < n) {
        size_t left = n - j;
        float bx[8], bd[8], bdd[8], out[8];
        copy_in(bx, x + j, left), copy_in(bd, relu ? dst + j : NULL, left);
        copy_in(bdd, diff_dst + j, left);
        bwd8(bx, bd, bdd, &b, relu, out);
        memcpy(diff_src + j, out, left * sizeof(float));
    }
}

static void bwd_channel(int n, int c, int hw, const float *src, const float *dst,
                        const float *diff_dst, const float *gamma, const float *mean,
                        const float *var, float eps, int relu, int ch, float *diff_src,
                        float *diff_gamma, float *diff_beta) {
    const double count = (double)n * hw, inv_std = 1.0 / sqrt((double)var[ch] + eps);
    double s[2] = {0.0, 0.0};
    for (int i = 0; i < n; i++) {
        size_t at = plane(i, ch, c, hw);
        bwd_sums((size_t)hw, src + at, relu ? dst + at : NULL, diff_dst + at, mean[ch], relu, s);
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

void avx2_bn_bwd(int n, int c, int hw, const float *src, const float *dst, const float *diff_dst,
                 const float *gamma, const float *mean, const float *var, float eps, int relu,
                 float *diff_src, float *diff_gamma, float *diff_beta) {
#pragma omp parallel for schedule(static) if (elt_parallel((size_t)n * c * hw))
    for (int ch = 0; ch < c; ch++)
        bwd_channel(n, c, hw, src, dst, diff_dst, gamma, mean, var, eps, relu, ch, diff_src,
                    diff_gamma, diff_beta);
}

/* ---- softmax cross-entropy ---- */

/* e^x for x ≤ 0: Cephes' expf polynomial (about 1 ulp); 0 below -87.3, where
 * 2^t would leave the normal range. */
AVX2 static __m256 exp_nonpositive(__m256 x) {
    const __m256 lowest = _mm256_set1_ps(-87.33654f);
    __m256 keep = _mm256_cmp_ps(x, lowest, _CMP_GE_OQ);
    x = _mm256_max_ps(x, lowest);
    __m256 t = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(t, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(t, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    __m256 y = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(t), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(keep, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

/* One row of at most 16 classes in two masked vectors (classes 0-7, 8-15). */
AVX2 static double row_xent(const float *z, int label, int classes, float scale, float *grad,
                            float *probs, int *argmax) {
    const __m256i k0 = tail_mask((size_t)classes), k1 = tail_mask((size_t)(classes > 8 ? classes - 8 : 0));
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    const __m256 x0 = _mm256_blendv_ps(ninf, _mm256_maskload_ps(z, k0), _mm256_castsi256_ps(k0));
    const __m256 x1 = _mm256_blendv_ps(ninf, _mm256_maskload_ps(z + 8, k1), _mm256_castsi256_ps(k1));
    const float zmax = hmax_ps(_mm256_max_ps(x0, x1));
    const __m256 mx = _mm256_set1_ps(zmax);
    unsigned first = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(x0, mx, _CMP_EQ_OQ)) |
                     (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(x1, mx, _CMP_EQ_OQ)) << 8;
    *argmax = first ? __builtin_ctz(first) : 0;
    const __m256 e0 = _mm256_and_ps(_mm256_castsi256_ps(k0), exp_nonpositive(_mm256_sub_ps(x0, mx)));
    const __m256 e1 = _mm256_and_ps(_mm256_castsi256_ps(k1), exp_nonpositive(_mm256_sub_ps(x1, mx)));
    const float sum = hsum_ps(_mm256_add_ps(e0, e1));
    const __m256 s = _mm256_set1_ps(sum);
    const __m256 p0 = _mm256_div_ps(e0, s), p1 = _mm256_div_ps(e1, s);
    if (probs) {
        _mm256_maskstore_ps(probs, k0, p0);
        _mm256_maskstore_ps(probs + 8, k1, p1);
    }
    if (grad) {
        const __m256 one = _mm256_set1_ps(1.0f), sc = _mm256_set1_ps(scale);
        const __m256i lab = _mm256_set1_epi32(label);
        __m256 h0 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(lab, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
        __m256 h1 = _mm256_castsi256_ps(_mm256_cmpeq_epi32(lab, _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15)));
        _mm256_maskstore_ps(grad, k0, _mm256_div_ps(_mm256_sub_ps(p0, _mm256_and_ps(h0, one)), sc));
        _mm256_maskstore_ps(grad + 8, k1, _mm256_div_ps(_mm256_sub_ps(p1, _mm256_and_ps(h1, one)), sc));
    }
    return log((double)sum) - (double)(z[label] - zmax);
}

double avx2_softmax_xent(const float *logits, const uint8_t *labels, int n, int classes,
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
AVX2 static double sum_pd(const float *x, size_t n, double shift, int squares) {
    const __m256d s = _mm256_set1_pd(shift);
    __m256d acc = _mm256_setzero_pd();
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i)), s);
        acc = squares ? _mm256_fmadd_pd(d, d, acc) : _mm256_add_pd(acc, d);
    }
    double total = hsum_pd(acc);
    for (; i < n; i++) total += squares ? (x[i] - shift) * (x[i] - shift) : x[i] - shift;
    return total;
}

void avx2_mean_var(const float *x, size_t n, double *mean, double *var) {
    double mu = n ? sum_pd(x, n, 0.0, 0) / (double)n : 0.0;
    *mean = mu;
    *var = n ? sum_pd(x, n, mu, 1) / (double)n : 0.0;
}
