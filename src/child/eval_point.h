/* Where a child is evaluated when its optimizer trains one point and
 * evaluates another (schedule-free AdamW: gradients at y, validation, test
 * and the controller's observations at the average x).
 *
 * eval_point_enter puts x in the parameter buffer (y goes to the optimizer's
 * x buffer, an exchange) and, for a network with batchnorm, recomputes the
 * running statistics at x, as the schedule-free authors prescribe: training-
 * mode passes (the net's training step; its gradient is not used) over
 * EVAL_POINT_BN_BATCHES fixed batches (the first
 * images of the training split, in order, so that nothing depends on the
 * batch order), each batch's statistics recovered from the nets' running
 * update (momentum NN_BN_MOMENTUM) and averaged with equal weights (PyTorch's
 * momentum None, as torch.optim.swa_utils.update_bn). eval_point_leave puts
 * y and the training run's statistics back, bit for bit. The passes write
 * the gradient buffer, which the next training step overwrites. For other
 * optimizers both do nothing.
 *
 * It knows nothing of a child run (child/child.h holds an eval_point and
 * passes what it works on, an eval_point_run). */
#ifndef ALRS_CHILD_EVAL_POINT_H
#define ALRS_CHILD_EVAL_POINT_H

#include <stddef.h>

#include "data/dataset.h"
#include "nn/net.h"
#include "optim/optimizer.h"

#define EVAL_POINT_BN_BATCHES 8

/* The training run's batchnorm statistics while the net is evaluated at x,
 * and scratch to recompute them: n_state + 1 values each, allocated only for
 * an optimizer with an evaluation point (schedule-free); NULL otherwise. */
typedef struct {
    float *train_state, *bn_prev;
    double *bn_sum;
} eval_point;

/* What enter and leave move: a run's parameters and batchnorm statistics
 * (n_state, and the one more float nn_spec gives them), the optimizer that
 * holds the other point, the net whose training steps recompute the
 * statistics (bound to params and state), and the training split and batch
 * size of those passes. */
typedef struct {
    optimizer *opt;
    float *params, *state;
    size_t n_state;
    nn_net *net;
    const data_split *train;
    int batch;
} eval_point_run;

/* Allocates e's buffers for optimizer kind `opt` and n_state statistics
 * (zeroed otherwise); eval_point_free releases them. */
void eval_point_init(eval_point *e, const optimizer *opt, size_t n_state);
void eval_point_free(eval_point *e);

void eval_point_enter(eval_point *e, const eval_point_run *r);
void eval_point_leave(eval_point *e, const eval_point_run *r);

#endif
