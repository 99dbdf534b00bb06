#include "env/lr_control.h"

#include <math.h>
#include <string.h>

int lr_control_start_fits(const lr_action_config *action, double lr_min, double lr_max,
                          double lr) {
    if (lr >= lr_min && lr <= lr_max) return 1;
    return !lr_action_relative(action) && !lr_action_residual(action);
}

int lr_control_start(lr_control *c, const lr_action_config *action, double lr_min,
                     double lr_max, double initial_lr, long steps) {
    memset(c, 0, sizeof *c);
    c->action = *action;
    c->lr_min = lr_min, c->lr_max = lr_max;
    c->initial_lr = fmin(fmax(initial_lr, lr_min), lr_max);
    if (lr_action_residual(action)) {
        /* the rate only scales the schedule */
        if (schedule_parse(&c->base, action->base, c->initial_lr, steps) != 0) return -1;
        c->x = 0.0;
        c->x_hi = log(action->residual_range);
        c->x_lo = -c->x_hi;
    } else {
        c->x = log(c->initial_lr);
        c->x_lo = log(lr_min);
        c->x_hi = log(lr_max);
    }
    return 0;
}

void lr_control_act(lr_control *c, double effect, double noise) {
    double x = lr_action_apply(&c->action, c->x, effect, c->x_lo, c->x_hi) + noise;
    c->x = fmin(fmax(x, c->x_lo), c->x_hi);
}

double lr_control_rate(const lr_control *c, long step) {
    double lr = lr_action_residual(&c->action) ? schedule_lr(&c->base, step) * exp(c->x)
                                               : exp(c->x);
    return fmin(fmax(lr, c->lr_min), c->lr_max);
}

void lr_control_validated(lr_control *c, double val_loss) {
    if (lr_action_residual(&c->action)) schedule_observe_val_loss(&c->base, val_loss);
}

double lr_control_offset(const lr_control *c) {
    /* plain: 0 exactly until an action moves the rate */
    return lr_action_residual(&c->action) ? c->x : c->x - log(c->initial_lr);
}
