/* Prodigy (Mishchenko & Defazio 2023; konstmish/prodigy, prodigy.py) with its
 * defaults: beta1 0.9, beta2 0.999, beta3 sqrt(beta2), eps 1e-8, d0 1e-6,
 * d_coef 1, no bias correction, no safeguard warm-up, unbounded growth, no
 * weight decay. The step is d × lr (lr the schedule's rate: --lr 1 gives the
 * authors' setting).
 *
 * Step with gradient g at p, dlr = d lr:
 *   num = beta3 num + (d/d0) dlr <g, p0 - p>
 *   m = b1 m + d (1-b1) g;  v = b2 v + d² (1-b2) g²;  s = beta3 s + (d/d0) dlr g
 *   d_hat = d_coef num / |s|_1;  d = max(d, d_hat) while d = d0;
 *   d_max = max(d_max, d_hat);  d = min(d_max, d growth)
 *   p -= dlr m / (sqrt(v) + d eps)     (with the new d in the eps term)
 * Two passes: the first updates m, v, s and sums <g, p0-p> and |s|_1 in
 * double; the update of p needs the new d, which needs both sums. */
#include <math.h>
#include <string.h>

#include "optim/optim_ref.h"
#include "optim/optimizer.h"

/* The new d from the sums (num already updated): as the reference. */
static void update_d(double *d, double *d_max, double num, double l1, double d0, double d_coef,
                     double growth) {
    double d_hat = d_coef * num / l1;
    if (*d == d0) *d = fmax(*d, d_hat);
    *d_max = fmax(*d_max, d_hat);
    *d = fmin(*d_max, *d * growth);
}

void prodigy_step(optimizer *o, float *restrict p, const float *restrict g, double lr) {
    if (o->t == 0) memcpy(o->p0, p, sizeof(float) * o->n);
    o->t++;
    if (!(lr > 0)) return; /* the reference: nothing moves at rate 0 */
    const double d = o->d, dlr = d * lr;
    const float b1 = (float)o->beta1, b2 = (float)o->beta2, b3 = (float)o->beta3;
    const float cm = (float)(d * (1 - o->beta1)), cv = (float)(d * d * (1 - o->beta2));
    const float cs = (float)(d / o->d0 * dlr);
    float *restrict m = o->m, *restrict v = o->v, *restrict s = o->s;
    const float *restrict p0 = o->p0;
    double dot = 0, l1 = 0;
#pragma omp simd reduction(+ : dot, l1)
    for (size_t i = 0; i < o->n; i++) {
        float gi = g[i];
        dot += (double)gi * (double)(p0[i] - p[i]);
        m[i] = b1 * m[i] + cm * gi;
        v[i] = b2 * v[i] + cv * gi * gi;
        s[i] = b3 * s[i] + cs * gi;
        l1 += fabs((double)s[i]);
    }
    double num = o->beta3 * o->d_num + d / o->d0 * dlr * dot;
    if (l1 == 0) return; /* no gradient yet: the reference returns here */
    o->d_num = num;
    update_d(&o->d, &o->d_max, num, l1, o->d0, o->d_coef, o->growth_rate);
    const float step = (float)dlr, deps = (float)(o->d * o->eps);
    for (size_t i = 0; i < o->n; i++) p[i] -= step * m[i] / (sqrtf(v[i]) + deps);
}

void prodigy_ref_step(optim_ref *r, const double *g, double lr) {
    const double b1 = 0.9, b2 = 0.999, b3 = sqrt(0.999), eps = 1e-8, d0 = 1e-6;
    r->k++;
    if (!(lr > 0)) return;
    double d = r->d, dlr = d * lr, num = b3 * r->d_num, l1 = 0;
    for (size_t i = 0; i < r->n; i++) {
        num += d / d0 * dlr * g[i] * (r->p0[i] - r->p[i]);
        r->m[i] = b1 * r->m[i] + d * (1 - b1) * g[i];
        r->v[i] = b2 * r->v[i] + d * d * (1 - b2) * g[i] * g[i];
        r->s[i] = b3 * r->s[i] + d / d0 * dlr * g[i];
        l1 += fabs(r->s[i]);
    }
    if (l1 == 0) return;
    r->d_num = num;
    update_d(&r->d, &r->d_max, num, l1, d0, 1.0, INFINITY);
    for (size_t i = 0; i < r->n; i++) r->p[i] -= dlr * r->m[i] / (sqrt(r->v[i]) + r->d * eps);
}
