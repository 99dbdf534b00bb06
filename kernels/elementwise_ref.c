/* Plain-C references for the elementwise kernels: one obvious loop each, sums
 * in double, two-pass variance. They are the ISA_SCALAR table and the yardstick
 * the SIMD versions are tested against (tests/test_elementwise.c). */
#include <math.h>

#include "kernels/elementwise_impl.h"

static float relu_if(float y, int relu) { return relu && !(y > 0.0f) ? 0.0f : y; }

/* The plane of image i, channel ch in an n×c×hw tensor. */
static size_t plane(int i, int ch, int c, int hw) { return ((size_t)i * c + ch) * (size_t)hw; }

/* src: n×c×hw, dst: n×c */
void ref_avgpool_fwd(int n, int c, int hw, const float *src, float *dst) {
    for (size_t p = 0; p < (size_t)n * c; p++) {
        double s = 0.0;
        for (int j = 0; j < hw; j++) s += src[p * hw + j];
        dst[p] = (float)(s / hw);
    }
}

/* diff_dst: n×c, diff_src: n×c×hw */
void ref_avgpool_bwd(int n, int c, int hw, const float *diff_dst, float *diff_src) {
    for (size_t p = 0; p < (size_t)n * c; p++) {
        float g = diff_dst[p] / (float)hw;
        for (int j = 0; j < hw; j++) diff_src[p * hw + j] = g;
    }
}

/* Mean and biased variance of channel ch over n images, two passes in double. */
static void channel_stats(int n, int c, int hw, const float *src, int ch, double *mean,
                          double *var) {
    double s = 0.0, s2 = 0.0, count = (double)n * hw;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < hw; j++) s += src[plane(i, ch, c, hw) + j];
    *mean = s / count;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < hw; j++) {
            double d = src[plane(i, ch, c, hw) + j] - *mean;
            s2 += d * d;
        }
    *var = s2 / count;
}

/* dst = (src - mean)·(gamma/sqrt(var + eps)) + beta for channel ch. */
static void channel_normalize(int n, int c, int hw, const float *src, int ch, float mean,
                              float scale, float beta, int relu, float *dst) {
    for (int i = 0; i < n; i++)
        for (int j = 0; j < hw; j++) {
            size_t at = plane(i, ch, c, hw) + j;
            dst[at] = relu_if((src[at] - mean) * scale + beta, relu);
        }
}

void ref_bn_fwd_train(int n, int c, int hw, const float *src, const float *gamma,
                      const float *beta, float eps, int relu, float *dst, float *mean, float *var) {
    for (int ch = 0; ch < c; ch++) {
        double mu, sigma2;
        channel_stats(n, c, hw, src, ch, &mu, &sigma2);
        mean[ch] = (float)mu;
        var[ch] = (float)sigma2;
        float scale = (float)(gamma[ch] / sqrt((double)var[ch] + eps));
        channel_normalize(n, c, hw, src, ch, mean[ch], scale, beta[ch], relu, dst);
    }
}

void ref_bn_fwd_infer(int n, int c, int hw, const float *src, const float *gamma,
                      const float *beta, const float *mean, const float *var, float eps, int relu,
                      float *dst) {
    for (int ch = 0; ch < c; ch++) {
        float scale = (float)(gamma[ch] / sqrt((double)var[ch] + eps));
        channel_normalize(n, c, hw, src, ch, mean[ch], scale, beta[ch], relu, dst);
    }
}

/* dy = diff_dst, masked by dst > 0 after a fused ReLU;
 * diff_beta = Σdy, diff_gamma = Σdy·xhat with xhat = (x - mean)/sqrt(var + eps);
 * diff_src = gamma/sqrt(var + eps)·(dy - Σdy/M - xhat·Σdy·xhat/M), M = n·hw.
 * diff_src may be diff_dst itself. */
void ref_bn_bwd(int n, int c, int hw, const float *src, const float *dst, const float *diff_dst,
                const float *gamma, const float *mean, const float *var, float eps, int relu,
                float *diff_src, float *diff_gamma, float *diff_beta) {
    const double count = (double)n * hw;
    for (int ch = 0; ch < c; ch++) {
        const double inv_std = 1.0 / sqrt((double)var[ch] + eps);
        double sum_dy = 0.0, sum_dy_xhat = 0.0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                size_t at = plane(i, ch, c, hw) + j;
                float dy = relu && !(dst[at] > 0.0f) ? 0.0f : diff_dst[at];
                sum_dy += dy;
                sum_dy_xhat += dy * ((src[at] - (double)mean[ch]) * inv_std);
            }
        diff_beta[ch] = (float)sum_dy;
        diff_gamma[ch] = (float)sum_dy_xhat;
        const float scale = (float)(gamma[ch] * inv_std), istd = (float)inv_std;
        const float mean_dy = (float)(sum_dy / count), mean_dy_xhat = (float)(sum_dy_xhat / count);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                size_t at = plane(i, ch, c, hw) + j;
                float dy = relu && !(dst[at] > 0.0f) ? 0.0f : diff_dst[at];
                float xhat = (src[at] - mean[ch]) * istd;
                diff_src[at] = scale * (dy - mean_dy - xhat * mean_dy_xhat);
            }
    }
}

/* x: rows×cols×inner, bias: cols */
void ref_bias_relu(int rows, int cols, int inner, float *x, const float *bias, int relu) {
    for (int r = 0; r < rows; r++)
        for (int col = 0; col < cols; col++) {
            float *row = x + ((size_t)r * cols + col) * inner;
            for (int j = 0; j < inner; j++) row[j] = relu_if(row[j] + bias[col], relu);
        }
}

void ref_relu_bwd(size_t n, const float *dst, float *diff) {
    for (size_t i = 0; i < n; i++)
        if (!(dst[i] > 0.0f)) diff[i] = 0.0f;
}

/* diff: rows×cols×inner, diff_bias: cols (NULL: nothing to do). */
void ref_bias_bwd(int rows, int cols, int inner, const float *diff, float *diff_bias) {
    if (!diff_bias) return;
    for (int col = 0; col < cols; col++) {
        double s = 0.0;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < inner; j++) s += diff[((size_t)r * cols + col) * inner + j];
        diff_bias[col] = (float)s;
    }
}

/* dst may be a or b. */
void ref_add(size_t n, const float *a, const float *b, float *dst, int relu) {
    for (size_t i = 0; i < n; i++) dst[i] = relu_if(a[i] + b[i], relu);
}

/* The same arithmetic as src/nn/loss.c: a stable log-sum-exp in double. */
static double row_xent(const float *z, int label, int classes, float scale, float *grad,
                       float *probs, int *argmax) {
    float zmax = z[0];
    int best = 0;
    for (int k = 1; k < classes; k++)
        if (z[k] > zmax) zmax = z[k], best = k;
    double sum = 0.0;
    for (int k = 0; k < classes; k++) sum += exp((double)(z[k] - zmax));
    double log_sum = log(sum);
    for (int k = 0; k < classes; k++) {
        float p = (float)exp((double)(z[k] - zmax) - log_sum);
        if (probs) probs[k] = p;
        if (grad) grad[k] = (p - (k == label ? 1.0f : 0.0f)) / scale;
    }
    *argmax = best;
    return log_sum - (double)(z[label] - zmax);
}

double ref_softmax_xent(const float *logits, const uint8_t *labels, int n, int classes,
                        float scale, float *grad, float *probs, int *correct) {
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

/* torch.optim.Adam, as adam_loop in src/optim/optimizer.c: step = lr/(1-b1^t),
 * inv_bc2 = 1/sqrt(1-b2^t), weight decay added to the gradient. */
void ref_adam(size_t n, float *p, const float *g, float *m, float *v, float b1, float b2,
              float step, float inv_bc2, float eps, float wd) {
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + wd * p[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gi;
        v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
        p[i] -= step * m[i] / (sqrtf(v[i]) * inv_bc2 + eps);
    }
}

void ref_mean_var(const float *x, size_t n, double *mean, double *var) {
    double s = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++) s += x[i];
    double mu = n ? s / (double)n : 0.0;
    for (size_t i = 0; i < n; i++) s2 += (x[i] - mu) * (x[i] - mu);
    *mean = mu;
    *var = n ? s2 / (double)n : 0.0;
}
