#include "optim/optimizer.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "kernels/kernels.h"

static float *zeros(size_t n) {
    float *p = alrs_alloc_aligned(sizeof(float) * (n ? n : 1));
    memset(p, 0, sizeof(float) * n);
    return p;
}

static const struct optimizer_entry {
    const char *name;
    optimizer_kind kind;
} names[] = {{"adam", OPT_ADAM}, {"sgd", OPT_SGD}, {"adamw-schedulefree", OPT_SCHEDULEFREE},
             {"prodigy", OPT_PRODIGY}, {"dadapt-adam", OPT_DADAPT}};

/* The table's entry for `name`, or NULL. */
static const struct optimizer_entry *entry_of(const char *name) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(name, names[i].name)) return &names[i];
    return NULL;
}

static int kind_of(const char *name, optimizer_kind *kind) {
    const struct optimizer_entry *e = entry_of(name);
    return e ? (*kind = e->kind, 0) : -1;
}

const char *optimizer_name(const char *name) {
    const struct optimizer_entry *e = entry_of(name);
    return e ? e->name : NULL;
}

int optimizer_check_name(const char *name) {
    optimizer_kind kind;
    if (kind_of(name, &kind) != 0)
        return alrs_fail("--optimizer %s: unknown optimizer (expected " OPTIMIZER_NAMES ")", name);
    return 0;
}

int optimizer_init(optimizer *o, const char *name, size_t n) {
    memset(o, 0, sizeof *o);
    if (optimizer_check_name(name) != 0) return -1;
    kind_of(name, &o->kind);
    o->n = n;
    o->beta1 = 0.9, o->beta2 = 0.999, o->eps = 1e-8, o->momentum = 0.9;
    /* Prodigy and D-Adapt: d0 1e-6, d_coef 1, unbounded growth, Prodigy's
     * beta3 sqrt(beta2) (D-Adapt Adam uses sqrt(beta2) for s as well) */
    o->d0 = 1e-6, o->d_coef = 1.0, o->growth_rate = INFINITY, o->beta3 = sqrt(o->beta2);
    o->m = zeros(n);
    o->v = zeros(n);
    if (o->kind == OPT_SCHEDULEFREE) o->z = zeros(n), o->x = zeros(n);
    if (o->kind == OPT_PRODIGY || o->kind == OPT_DADAPT) o->s = zeros(n);
    if (o->kind == OPT_PRODIGY) o->p0 = zeros(n);
    optimizer_reset(o);
    return 0;
}

int optimizer_extra_buffers(const char *name) {
    optimizer_kind kind;
    if (kind_of(name, &kind) != 0) return 0;
    return kind == OPT_SCHEDULEFREE || kind == OPT_PRODIGY ? 2 : kind == OPT_DADAPT ? 1 : 0;
}

void optimizer_free(optimizer *o) {
    float **bufs[] = {&o->m, &o->v, &o->z, &o->x, &o->s, &o->p0};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        alrs_free_aligned(*bufs[i]);
        *bufs[i] = NULL;
    }
}

void optimizer_reset(optimizer *o) {
    float *bufs[] = {o->m, o->v, o->z, o->x, o->s, o->p0};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        if (bufs[i]) memset(bufs[i], 0, sizeof(float) * o->n);
    o->t = 0;
    o->lr_max = 0, o->weight_sum = 0; /* the reference's lr_max starts at -1: any rate ≥ 0 wins */
    o->d = o->d_max = o->d0, o->d_num = 0;
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
    switch (o->kind) {
    case OPT_ADAM: adam_step(o, params, grads, lr); break;
    case OPT_SGD: sgd_step(o, params, grads, lr); break;
    case OPT_SCHEDULEFREE: schedulefree_step(o, params, grads, lr); break;
    case OPT_PRODIGY: prodigy_step(o, params, grads, lr); break;
    case OPT_DADAPT: dadapt_step(o, params, grads, lr); break;
    }
}

/* Before the first step x is y (and not yet filled in). */
int optimizer_has_eval_point(const optimizer *o) { return o->kind == OPT_SCHEDULEFREE && o->t > 0; }

void optimizer_swap_eval(optimizer *o, float *params) {
    if (!optimizer_has_eval_point(o)) return;
    for (size_t i = 0; i < o->n; i++) {
        float t = params[i];
        params[i] = o->x[i];
        o->x[i] = t;
    }
}

const float *optimizer_eval_params(const optimizer *o, const float *params) {
    return optimizer_has_eval_point(o) ? o->x : params;
}

double optimizer_d(const optimizer *o) {
    return o->kind == OPT_PRODIGY || o->kind == OPT_DADAPT ? o->d : NAN;
}

void optimizer_save(const optimizer *o, byte_buf *out) {
    bytes_put_u64(out, (uint64_t)o->t);
    bytes_put_f32s(out, o->m, o->n);
    bytes_put_f32s(out, o->v, o->n);
    if (o->kind == OPT_SCHEDULEFREE) {
        bytes_put_f32s(out, o->z, o->n), bytes_put_f32s(out, o->x, o->n);
        bytes_put_f64(out, o->lr_max), bytes_put_f64(out, o->weight_sum);
    }
    if (o->s) bytes_put_f32s(out, o->s, o->n);
    if (o->p0) bytes_put_f32s(out, o->p0, o->n);
    if (o->kind == OPT_PRODIGY || o->kind == OPT_DADAPT) {
        bytes_put_f64(out, o->d), bytes_put_f64(out, o->d_max), bytes_put_f64(out, o->d_num);
    }
}

void optimizer_load(optimizer *o, byte_reader *in) {
    o->t = (long)bytes_get_u64(in);
    bytes_get_f32s(in, o->m, o->n);
    bytes_get_f32s(in, o->v, o->n);
    if (o->kind == OPT_SCHEDULEFREE) {
        bytes_get_f32s(in, o->z, o->n), bytes_get_f32s(in, o->x, o->n);
        o->lr_max = bytes_get_f64(in), o->weight_sum = bytes_get_f64(in);
    }
    if (o->s) bytes_get_f32s(in, o->s, o->n);
    if (o->p0) bytes_get_f32s(in, o->p0, o->n);
    if (o->kind == OPT_PRODIGY || o->kind == OPT_DADAPT) {
        o->d = bytes_get_f64(in), o->d_max = bytes_get_f64(in), o->d_num = bytes_get_f64(in);
    }
}
