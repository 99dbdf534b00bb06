/* D-Adapt Adam (Defazio & Mishchenko 2023; facebookresearch/dadaptation,
 * dadapt_adam.py) with its defaults: beta1 0.9, beta2 0.999, eps 1e-8,
 * d0 1e-6, unbounded growth, no bias correction, no weight decay. The step
 * is d × lr (lr the schedule's rate).
 *
 * Step with gradient g, dlr = d lr, sb2 = sqrt(b2), when lr > 0 (at rate 0
 * nothing moves):
 *   acc = dlr <g, s / (sqrt(v) + eps)>           (v and s before this step)
 *   m = b1 m + dlr (1-b1) g;  v = b2 v + (1-b2) g²;  s = sb2 s + dlr (1-sb2) g
 *   num = sb2 num + (1-sb2) acc;  d_hat = num / ((1-sb2) |s|_1)
 *   d = max(d, min(d_hat, d growth));  p -= m / (sqrt(v) + eps)
 * The update of p does not use the new d, so one pass does it all, the two
 * sums in double. (The reference returns
 * before moving p when |s|_1 = 0; then every gradient so far was 0 and so is
 * m: p does not move either way.) */
#include <math.h>

#include "optim/optim_ref.h"
#include "optim/optimizer.h"

static void update_d(double *d, double *num, double acc, double l1, double sb2, double growth) {
    if (l1 == 0) return;
    *num = sb2 * *num + (1 - sb2) * acc;
    double d_hat = *num / ((1 - sb2) * l1);
    *d = fmax(*d, fmin(d_hat, *d * growth));
}

void dadapt_step(optimizer *o, float *restrict p, const float *restrict g, double lr) {
    o->t++;
    if (!(lr > 0)) return; /* the reference: no sums, |s|_1 = 0, it returns before p */
    const double dlr = o->d * lr, sb2 = o->beta3;
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, sb2f = (float)sb2, eps = (float)o->eps;
    const float cm = (float)(dlr * (1 - o->beta1)), cs = (float)(dlr * (1 - sb2));
    float *restrict m = o->m, *restrict v = o->v, *restrict s = o->s;
    double dot = 0, l1 = 0;
#pragma omp simd reduction(+ : dot, l1)
    for (size_t i = 0; i < o->n; i++) {
        float gi = g[i];
        dot += (double)gi * (double)(s[i] / (sqrtf(v[i]) + eps));
        float mi = b1 * m[i] + cm * gi, vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        float si = sb2f * s[i] + cs * gi;
        l1 += fabs((double)si);
        m[i] = mi, v[i] = vi, s[i] = si;
        p[i] -= mi / (sqrtf(vi) + eps);
    }
    update_d(&o->d, &o->d_num, dlr * dot, l1, sb2, o->growth_rate);
}

void dadapt_ref_step(optim_ref *r, const double *g, double lr) {
    const double b1 = 0.9, b2 = 0.999, sb2 = sqrt(0.999), eps = 1e-8;
    r->k++;
    double dlr = r->d * lr, acc = 0, l1 = 0;
    if (!(lr > 0)) return;
    for (size_t i = 0; i < r->n; i++) {
        acc += dlr * g[i] * r->s[i] / (sqrt(r->v[i]) + eps);
        r->m[i] = b1 * r->m[i] + dlr * (1 - b1) * g[i];
        r->v[i] = b2 * r->v[i] + (1 - b2) * g[i] * g[i];
        r->s[i] = sb2 * r->s[i] + dlr * (1 - sb2) * g[i];
        l1 += fabs(r->s[i]);
    }
    if (l1 == 0) return;
    update_d(&r->d, &r->d_num, acc, l1, sb2, INFINITY);
    for (size_t i = 0; i < r->n; i++) r->p[i] -= r->m[i] / (sqrt(r->v[i]) + eps);
}
