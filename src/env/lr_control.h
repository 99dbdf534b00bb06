/* The learning rate a controller sets, from its actions: the state behind
 * env/lr_action.h's rules (the number x the actions move, its bounds, the
 * residual base schedule) and the rate of every training step. The
 * environment (env/lr_env.c) and a controller driving someone else's training
 * (the public library, src/api/) both keep one, so the rate follows the same
 * actions identically in both.
 *
 *   lr_control_start(&c, action, lr_min, lr_max, initial_lr, steps)
 *   per agent step:  lr_control_act(&c, effect)       the action's effect
 *                    lr_control_rate(&c, s) for each training step s of the chunk
 *                    lr_control_validated(&c, val_loss)  (plateau bases listen)
 */
#ifndef ALRS_ENV_LR_CONTROL_H
#define ALRS_ENV_LR_CONTROL_H

#include "env/lr_action.h"
#include "sched/schedule.h"

typedef struct {
    lr_action_config action;
    double lr_min, lr_max;
    double initial_lr;   /* after the bounds */
    schedule base;       /* residual mode: the base schedule, from initial_lr */
    double x;            /* plain: log rate; residual: the offset c */
    double x_lo, x_hi;   /* its bounds */
} lr_control;

/* Whether a run may start at `lr` under a controller acting within
 * [lr_min, lr_max]: inside the bounds always; outside them only when the
 * controller sets the rate itself (absolute actions, no base schedule), whose
 * run starts at the nearest bound instead, for the start lasts only until its
 * first action. A controller that moves the rate relative to its start, or
 * scales a base schedule from it, could not bring a far start back (E170). */
int lr_control_start_fits(const lr_action_config *action, double lr_min, double lr_max,
                          double lr);
/* A run of `steps` training steps from initial_lr (moved into the bounds). -1 with a message when the
 * residual base does not parse (the environment checks it before). */
int lr_control_start(lr_control *c, const lr_action_config *action, double lr_min,
                     double lr_max, double initial_lr, long steps);
/* Moves x by an action's effect (lr_action_apply), then by `noise` (added in
 * log space; 0 for none), within its bounds. */
void lr_control_act(lr_control *c, double effect, double noise);
/* The rate of training step `step` (0-based), within [lr_min, lr_max]. */
double lr_control_rate(const lr_control *c, long step);
/* A validation loss, for bases that react to it (reduce-on-plateau). */
void lr_control_validated(lr_control *c, double val_loss);
/* Where the actions have moved the rate (the offset feature): c, or
 * log(rate) - log(initial rate). */
double lr_control_offset(const lr_control *c);

#endif
