#include "rl/adam.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void rl_adam_init(rl_adam *a, size_t n) {
    memset(a, 0, sizeof *a);
    a->n = n;
    a->beta1 = 0.9, a->beta2 = 0.999, a->eps = 1e-5;
    a->m = alrs_calloc(n, sizeof(double));
    a->v = alrs_calloc(n, sizeof(double));
}

void rl_adam_free(rl_adam *a) {
    free(a->m);
    free(a->v);
    memset(a, 0, sizeof *a);
}

void rl_adam_step(rl_adam *a, double *p, const double *g, double lr) {
    a->t++;
    const double b1 = a->beta1, b2 = a->beta2;
    const double step = lr / (1.0 - pow(b1, (double)a->t));
    const double inv_bc2 = 1.0 / sqrt(1.0 - pow(b2, (double)a->t));
    for (size_t i = 0; i < a->n; i++) {
        a->m[i] = b1 * a->m[i] + (1.0 - b1) * g[i];
        a->v[i] = b2 * a->v[i] + (1.0 - b2) * g[i] * g[i];
        p[i] -= step * a->m[i] / (sqrt(a->v[i]) * inv_bc2 + a->eps);
    }
}
