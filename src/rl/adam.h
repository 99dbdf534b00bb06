/* Adam for the controller, in double over its one flat parameter buffer
 * (the child network's optim/optimizer.c is float and tuned for millions of
 * parameters; the controller has a few thousand and keeps double throughout).
 * eps 1e-5, as the PPO implementations (baselines, CleanRL) use. */
#ifndef ALRS_RL_ADAM_H
#define ALRS_RL_ADAM_H

#include <stddef.h>

typedef struct {
    size_t n;
    double beta1, beta2, eps; /* 0.9, 0.999, 1e-5 */
    long t;                   /* steps taken (bias correction) */
    double *m, *v;            /* [n] moments */
} rl_adam;

void rl_adam_init(rl_adam *a, size_t n);
void rl_adam_free(rl_adam *a);
/* p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps), as torch.optim.Adam. */
void rl_adam_step(rl_adam *a, double *params, const double *grads, double lr);

#endif
