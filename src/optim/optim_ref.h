/* Scalar double-precision references of the parameter-free optimizers: the
 * published algorithms written out plainly, element by element, in double,
 * with the authors' defaults (as optimizer_init sets them). Tests run the
 * fused float passes (optim/schedulefree.c, prodigy.c, dadapt.c) beside
 * them; each reference sits in the file of its fused pass. */
#ifndef ALRS_OPTIM_OPTIM_REF_H
#define ALRS_OPTIM_OPTIM_REF_H

#include <stddef.h>

typedef struct {
    size_t n;
    long k;                 /* steps taken */
    double *p;              /* the parameters (schedule-free: y) */
    double *m, *v, *s, *p0; /* moments, s, Prodigy's starting point */
    double *z, *x;          /* schedule-free */
    double d, d_max, d_num; /* Prodigy's d_numerator, D-Adapt's numerator_weighted */
    double lr_max, weight_sum;
} optim_ref;

/* Starts at p (n floats); d = d0 = 1e-6. */
void optim_ref_init(optim_ref *r, const float *p, size_t n);
void optim_ref_free(optim_ref *r);

/* One step with gradient g (taken at r->p) and scheduled rate lr. */
void schedulefree_ref_step(optim_ref *r, const double *g, double lr);
void prodigy_ref_step(optim_ref *r, const double *g, double lr);
void dadapt_ref_step(optim_ref *r, const double *g, double lr);

#endif
