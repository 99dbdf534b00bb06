#include "optim/optimizer.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "kernels/kernels.h"

int optimizer_init(optimizer *o, const char *name, size_t n) {
    memset(o, 0, sizeof *o);
    if (!strcmp(name, "adam")) o->kind = OPT_ADAM;
    else if (!strcmp(name, "sgd")) o->kind = OPT_SGD;
    else return alrs_fail("--optimizer %s: unknown optimizer (expected adam or sgd)", name);
    o->n = n;
    o->beta1 = 0.9, o->beta2 = 0.999, o->eps = 1e-8, o->momentum = 0.9;
    o->m = alrs_alloc_aligned(sizeof(float) * n);
    o->v = alrs_alloc_aligned(sizeof(float) * n);
    return 0;
}

void optimizer_free(optimizer *o) {
    alrs_free_aligned(o->m);
    alrs_free_aligned(o->v);
    o->m = o->v = NULL;
}

void optimizer_reset(optimizer *o) {
    memset(o->m, 0, sizeof(float) * o->n);
    memset(o->v, 0, sizeof(float) * o->n);
    o->t = 0;
}

/* torch.optim.Adam: p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps), one fused
 * pass of the kernel table's adam (kernels/elementwise*.c). */
static void adam_step(optimizer *o, float *p, const float *g, double lr) {
    o->t++;
    const float step = (float)(lr / (1.0 - pow(o->beta1, (double)o->t)));
    const float inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(o->beta2, (double)o->t)));
    kernels()->adam(o->n, p, g, o->m, o->v, (float)o->beta1, (float)o->beta2, step, inv_bc2,
              (float)o->eps, (float)o->weight_decay);
}

/* torch.optim.SGD with momentum (dampening 0, not Nesterov). */
static void sgd_step(optimizer *o, float *restrict p, const float *restrict g, double lr) {
    o->t++;
    const float mu = (float)o->momentum, rate = (float)lr, wd = (float)o->weight_decay;
    const int first = o->t == 1;
    float *restrict buf = o->m;
    for (size_t i = 0; i < o->n; i++) {
        float gi = g[i] + wd * p[i];
        buf[i] = first ? gi : mu * buf[i] + gi;
        p[i] -= rate * buf[i];
    }
}

void optimizer_step(optimizer *o, float *params, const float *grads, double lr) {
    if (o->kind == OPT_ADAM) adam_step(o, params, grads, lr);
    else sgd_step(o, params, grads, lr);
}
