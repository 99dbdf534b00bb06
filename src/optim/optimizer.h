/* Optimizers over the flat parameter buffer: one fused loop each, so that the
 * whole update is a single streaming pass over params, grads and moments.
 *
 * adam and sgd as torch.optim; three parameter-free ones after their authors'
 * reference code (defaults as there), each in its own file with a scalar
 * double-precision reference beside it (optim/optim_ref.h):
 *   adamw-schedulefree  optim/schedulefree.c: params hold y, where gradients
 *                       are taken; evaluation uses the average x
 *                       (optimizer_swap_eval)
 *   prodigy             optim/prodigy.c   step d × lr
 *   dadapt-adam         optim/dadapt.c    step d × lr
 * d, the distance estimate of the last two, is optimizer_d. */
#ifndef ALRS_OPTIM_OPTIMIZER_H
#define ALRS_OPTIM_OPTIMIZER_H

#include <stddef.h>

#include "core/bytes.h"

typedef enum { OPT_ADAM, OPT_SGD, OPT_SCHEDULEFREE, OPT_PRODIGY, OPT_DADAPT } optimizer_kind;

#define OPTIMIZER_NAMES "adam, sgd, adamw-schedulefree, prodigy or dadapt-adam"

typedef struct {
    optimizer_kind kind;
    size_t n;
    double beta1, beta2, eps, momentum, weight_decay;
    long t;          /* steps taken (Adam's bias correction, schedule-free's k) */
    float *m, *v;    /* Adam's moments, or SGD's momentum buffer in m (schedule-free: v) */
    /* schedule-free: the base sequence z and the average x (params hold y) */
    float *z, *x;
    double lr_max, weight_sum;
    /* Prodigy and D-Adapt Adam: s, Prodigy's starting point p0; d, Prodigy's
     * d_max and d_numerator or D-Adapt's numerator_weighted in d_num */
    float *s, *p0;
    double d, d0, d_max, d_num, beta3, d_coef, growth_rate;
} optimizer;

/* The authors' defaults: Adam betas (0.9, 0.999), eps 1e-8; SGD momentum 0.9;
 * the parameter-free ones in their files. -1 for an unknown name
 * ("--optimizer X: unknown optimizer (expected adam, sgd, ...)"). */
int optimizer_init(optimizer *o, const char *name, size_t n);
/* 0 when `name` is one of the optimizers, else -1 with optimizer_init's message:
 * a flag or a file line is checked before anything is built. */
int optimizer_check_name(const char *name);
/* The optimizers' own copy of `name` (a string that lives as long as the
 * program: a setting may point to it after the text it came from is freed),
 * or NULL for an unknown name. */
const char *optimizer_name(const char *name);
void optimizer_free(optimizer *o);
/* Buffers of n floats the named optimizer keeps beyond Adam's two moments
 * (schedule-free z and x, Prodigy s and p0, D-Adapt s; 0 for an unknown name),
 * for the memory a run needs. */
int optimizer_extra_buffers(const char *name);
/* One update with learning rate lr (bias-corrected Adam, as torch.optim.Adam;
 * for prodigy and dadapt-adam the step is d × lr). */
void optimizer_step(optimizer *o, float *params, const float *grads, double lr);
/* Forgets the moments (a new child run). */
void optimizer_reset(optimizer *o);

/* 1 when the point to evaluate is not the one gradients are taken at
 * (schedule-free: x, not y). */
int optimizer_has_eval_point(const optimizer *o);
/* Exchanges the contents of params and the evaluation point (x): called
 * twice, everything is as before, bit for bit. Nothing for the others. */
void optimizer_swap_eval(optimizer *o, float *params);
/* The parameters to observe or evaluate: x for schedule-free, else params. */
const float *optimizer_eval_params(const optimizer *o, const float *params);
/* The current d estimate (prodigy, dadapt-adam); NaN for the others. */
double optimizer_d(const optimizer *o);

/* The state (step count, moments and each kind's own buffers and scalars).
 * adam and sgd write what they always did (u64 t, m, v). */
void optimizer_save(const optimizer *o, byte_buf *out);
void optimizer_load(optimizer *o, byte_reader *in);

/* The steps of each kind (optimizer_step dispatches). */
void schedulefree_step(optimizer *o, float *y, const float *g, double lr);
void prodigy_step(optimizer *o, float *p, const float *g, double lr);
void dadapt_step(optimizer *o, float *p, const float *g, double lr);

#endif
