/* Optimizers over the flat parameter buffer: one fused loop each, so that the
 * whole update is a single streaming pass over params, grads and moments. */
#ifndef ALRS_OPTIM_OPTIMIZER_H
#define ALRS_OPTIM_OPTIMIZER_H

#include <stddef.h>

typedef enum { OPT_ADAM, OPT_SGD } optimizer_kind;

typedef struct {
    optimizer_kind kind;
    size_t n;
    double beta1, beta2, eps, momentum, weight_decay;
    long t;          /* steps taken (Adam's bias correction) */
    float *m, *v;    /* Adam's moments, or SGD's momentum buffer in m */
} optimizer;

/* PyTorch's defaults: Adam betas (0.9, 0.999), eps 1e-8; SGD momentum 0.9.
 * -1 for an unknown name ("--optimizer X: unknown optimizer (expected adam or sgd)"). */
int optimizer_init(optimizer *o, const char *name, size_t n);
void optimizer_free(optimizer *o);
/* One update with learning rate lr (bias-corrected Adam, as torch.optim.Adam). */
void optimizer_step(optimizer *o, float *params, const float *grads, double lr);
/* Forgets the moments (a new child run). */
void optimizer_reset(optimizer *o);

#endif
