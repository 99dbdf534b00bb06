/* Learning rates of the parsed schedules, in the closed forms of PyTorch's
 * torch.optim.lr_scheduler classes, and the reduce-on-plateau state machine.
 * Parsing and formatting live in schedule_parse.c. */
#include "sched/schedule.h"

#include <limits.h>
#include <math.h>

static const double PI = 3.14159265358979323846;

/* ReduceLROnPlateau's eps: a reduction smaller than this is ignored. */
static const double PLATEAU_EPS = 1e-8;

/* Half a cosine from a (pct 0) down or up to b (pct 1), as OneCycleLR's
 * _annealing_cos writes it. */
static double cos_anneal(double a, double b, double pct) {
    return b + (a - b) / 2.0 * (cos(PI * pct) + 1.0);
}

/* eta_min + (base - eta_min) (1 + cos(pi t / T)) / 2, in PyTorch's operand order. */
static double cosine_between(double min, double base, double t, double period) {
    return min + (base - min) * (1.0 + cos(PI * t / period)) / 2.0;
}

static double multistep_lr(const schedule *s, long step) {
    int passed = 0; /* bisect_right: milestones at or before this step */
    while (passed < s->n_milestones && s->milestones[passed] <= step) passed++;
    return s->base_lr * pow(s->gamma, passed);
}

/* Held at min after tmax rather than climbing back up as PyTorch's periodic
 * closed form would: a run longer than its cosine should finish at min. */
static double cosine_lr(const schedule *s, long step) {
    long t = step < s->tmax ? step : s->tmax;
    return cosine_between(s->min_lr, s->base_lr, (double)t, (double)s->tmax);
}

/* Position within the current restart cycle. The cycles have lengths
 * t0, t0*tmult, t0*tmult^2, ...; walking them in integers gives the same
 * T_cur and T_i as PyTorch's log formula, without that formula's rounding at
 * cycle boundaries (math.log(1000, 10) is 2.9999999999999996). */
static double restarts_lr(const schedule *s, long step) {
    long t_cur, start = 0, len = s->t0;
    double t_i = (double)s->t0;
    if (s->tmult == 1) {
        t_cur = step % s->t0;
    } else {
        while (step - start >= len) {
            start += len;
            if (len > LONG_MAX / s->tmult) { /* next cycle is longer than any step */
                t_i = (double)len * (double)s->tmult;
                break;
            }
            len *= s->tmult;
            t_i = (double)len;
        }
        t_cur = step - start;
    }
    return cosine_between(s->min_lr, s->base_lr, (double)t_cur, t_i);
}

/* OneCycleLR.get_lr with cos annealing and two phases: initial -> max until
 * step pct*total - 1, then max -> min until total - 1. A phase of zero length
 * (pct*total == 1), where PyTorch would divide by zero, counts as finished.
 * Steps past the end hold the last rate, where PyTorch raises. */
static double onecycle_lr(const schedule *s, long step) {
    double initial = s->max_lr / s->div;
    double min = initial / s->final_div;
    double end[2] = {s->pct * (double)s->total_steps - 1.0, (double)s->total_steps - 1.0};
    double from[2] = {initial, s->max_lr}, to[2] = {s->max_lr, min};
    double t = (double)(step < s->total_steps ? step : s->total_steps - 1);
    double start = 0.0;
    int i = t <= end[0] ? 0 : 1;
    if (i == 1) start = end[0];
    double span = end[i] - start;
    return cos_anneal(from[i], to[i], span > 0 ? (t - start) / span : 1.0);
}

/* The warm-up the warm-up kinds share: base/warmup at step 0 up to base at
 * step warmup-1, as warmup-cosine does it. */
static double warmup_ramp(const schedule *s, long step) {
    return s->base_lr * (double)(step + 1) / (double)s->warmup;
}

/* Linear from base/warmup (step 0) to base (step warmup-1), then cosine from
 * base to min over the remaining steps, held at min after the run's end. */
static double warmup_cosine_lr(const schedule *s, long step) {
    if (step < s->warmup) return warmup_ramp(s, step);
    long t = step < s->total_steps ? step : s->total_steps;
    return cosine_between(s->min_lr, s->base_lr, (double)(t - s->warmup),
                          (double)(s->total_steps - s->warmup));
}

/* From base at `from` down to min at the run's end, in a straight line over
 * `span` steps, held at min after the end. */
static double linear_to_min(const schedule *s, long step, long span) {
    long t = step < s->total_steps ? step : s->total_steps;
    return s->min_lr + (s->base_lr - s->min_lr) * (double)(s->total_steps - t) / (double)span;
}

static double warmup_lr(const schedule *s, long step) {
    return step < s->warmup ? warmup_ramp(s, step) : s->base_lr;
}

static double linear_lr(const schedule *s, long step) {
    if (step < s->warmup) return warmup_ramp(s, step);
    return linear_to_min(s, step, s->total_steps - s->warmup);
}

/* Warm-up, stable at base, then the last `decay` steps down to min. */
static double wsd_lr(const schedule *s, long step) {
    if (step < s->warmup) return warmup_ramp(s, step);
    if (step < s->total_steps - s->decay) return s->base_lr;
    return linear_to_min(s, step, s->decay);
}

/* The first row whose step is above `step` (binary search), or the last. */
static double replay_lr(const schedule *s, long step) {
    long lo = 0, hi = s->n_replay - 1;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (s->replay_step[mid] > step) hi = mid;
        else lo = mid + 1;
    }
    return s->replay_lr[lo];
}

double schedule_lr(const schedule *s, long step) {
    if (step < 0) step = 0;
    switch (s->kind) {
    case SCHED_STEP: return s->base_lr * pow(s->gamma, (double)(step / s->every));
    case SCHED_MULTISTEP: return multistep_lr(s, step);
    case SCHED_EXP: return s->base_lr * pow(s->gamma, (double)step);
    case SCHED_COSINE: return cosine_lr(s, step);
    case SCHED_COSINE_RESTARTS: return restarts_lr(s, step);
    case SCHED_ONECYCLE: return onecycle_lr(s, step);
    case SCHED_WARMUP_COSINE: return warmup_cosine_lr(s, step);
    case SCHED_WARMUP: return warmup_lr(s, step);
    case SCHED_LINEAR: return linear_lr(s, step);
    case SCHED_WSD: return wsd_lr(s, step);
    case SCHED_PLATEAU: return s->plateau_lr;
    case SCHED_REPLAY: return replay_lr(s, step);
    case SCHED_CONSTANT:
    case SCHED_CONTROLLER: break; /* the controller's caller scales base_lr itself */
    }
    return s->base_lr;
}

/* ReduceLROnPlateau.step in mode 'min', threshold_mode 'rel', in its order:
 * judge the loss, let cooldown swallow bad epochs, then reduce when patience
 * runs out. Cooldown restarts after every reduction attempt, even one that
 * min_lr (or eps) turned into no change, as in PyTorch. */
void schedule_observe_val_loss(schedule *s, double val_loss) {
    if (s->kind != SCHED_PLATEAU) return;
    if (val_loss < s->plateau_best * (1.0 - s->threshold)) {
        s->plateau_best = val_loss;
        s->plateau_bad = 0;
    } else {
        s->plateau_bad++;
    }
    if (s->plateau_cooldown_left > 0) {
        s->plateau_cooldown_left--;
        s->plateau_bad = 0;
    }
    if (s->plateau_bad > s->patience) {
        double old_lr = s->plateau_lr;
        double new_lr = fmax(old_lr * s->factor, s->min_lr);
        if (old_lr - new_lr > PLATEAU_EPS) s->plateau_lr = new_lr;
        s->plateau_cooldown_left = s->cooldown;
        s->plateau_bad = 0;
    }
}
