/* Schedule-free AdamW (Defazio et al. 2024; facebookresearch/schedule_free,
 * adamw_schedulefree.py), with its defaults: beta1 0.9, beta2 0.999, eps 1e-8,
 * r 0, weight-lr power 2, no weight decay, no built-in warm-up (the rate, a
 * warm-up included, comes from --schedule).
 *
 * Step k (from 0), gradient g taken at y, rate lr:
 *   v = b2 v + (1-b2) g²;  u = g / (sqrt(v / (1-b2^(k+1))) + eps) + wd y
 *   lr_max = max(lr_max, lr);  w = lr_max^2 (k+1)^r;  W += w;  c = w / W
 *   z -= lr u;  x = (1-c) x + c z;  y = (1-b1) z + b1 x
 * The reference keeps only y and z and moves y by the algebraically equal
 * lerp(y, z, c) + lr (b1 (1-c) - 1) u; keeping x itself as well means the
 * evaluation point is exact, with no division by b1. z and x start at the
 * initial parameters (taken on the first step); params hold y. */
#include <math.h>
#include <string.h>

#include "optim/optim_ref.h"
#include "optim/optimizer.h"

#define SF_WEIGHT_LR_POWER 2.0
#define SF_R 0.0

/* The averaging weight c of step k (0-based) at rate lr: updates lr_max and
 * the weight sum. */
static double averaging_weight(double *lr_max, double *weight_sum, long k, double lr) {
    if (lr > *lr_max) *lr_max = lr;
    double w = pow((double)(k + 1), SF_R) * pow(*lr_max, SF_WEIGHT_LR_POWER);
    *weight_sum += w;
    return *weight_sum > 0 ? w / *weight_sum : 0.0; /* the reference's ZeroDivisionError: 0 */
}

/* One fused pass over y, g, v, z, x. */
void schedulefree_step(optimizer *o, float *restrict y, const float *restrict g, double lr) {
    if (o->t == 0) {
        memcpy(o->z, y, sizeof(float) * o->n);
        memcpy(o->x, y, sizeof(float) * o->n);
    }
    double bc2 = 1.0 - pow(o->beta2, (double)(o->t + 1));
    double c = averaging_weight(&o->lr_max, &o->weight_sum, o->t, lr);
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, eps = (float)o->eps;
    const float inv_bc2 = (float)(1.0 / bc2), rate = (float)lr, cf = (float)c;
    const float wd = (float)o->weight_decay;
    float *restrict v = o->v, *restrict z = o->z, *restrict x = o->x;
    for (size_t i = 0; i < o->n; i++) {
        float gi = g[i];
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        float u = gi / (sqrtf(vi * inv_bc2) + eps) + wd * y[i];
        float zi = z[i] - rate * u;
        float xi = (1.0f - cf) * x[i] + cf * zi;
        v[i] = vi, z[i] = zi, x[i] = xi;
        y[i] = (1.0f - b1) * zi + b1 * xi;
    }
    o->t++;
}

/* The reference: the same algorithm in double, in the form of the authors'
 * code (y moved by lerp towards z and the combined gradient term, x then
 * derived). */
void schedulefree_ref_step(optim_ref *r, const double *g, double lr) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double bc2 = 1.0 - pow(b2, (double)(r->k + 1));
    double c = averaging_weight(&r->lr_max, &r->weight_sum, r->k, lr);
    for (size_t i = 0; i < r->n; i++) {
        r->v[i] = b2 * r->v[i] + (1 - b2) * g[i] * g[i];
        double u = g[i] / (sqrt(r->v[i] / bc2) + eps);
        r->p[i] = r->p[i] + c * (r->z[i] - r->p[i]) + lr * (b1 * (1 - c) - 1) * u;
        r->z[i] -= lr * u;
        r->x[i] = (r->p[i] - (1 - b1) * r->z[i]) / b1; /* y = (1-b1) z + b1 x */
    }
    r->k++;
}
