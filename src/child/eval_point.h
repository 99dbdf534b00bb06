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
 * optimizers both do nothing. */
#ifndef ALRS_CHILD_EVAL_POINT_H
#define ALRS_CHILD_EVAL_POINT_H

#include "child/child.h"

#define EVAL_POINT_BN_BATCHES 8

void eval_point_enter(child_run *r);
void eval_point_leave(child_run *r);

#endif
