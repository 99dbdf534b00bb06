/* The schedules alrs compare measures a controller against, each with the
 * grid it is tuned over, and the selection rule.
 *
 * Every baseline gets the same tuning budget K: its grid, in the order
 * below, is run whole when it has at most K points and otherwise thinned to
 * K points spread evenly over it (point floor((i + 1/2) n / K) for i < K), on
 * tuning seeds that no evaluation uses. The point with the lowest mean best
 * validation loss over the tuning seeds wins (ties: the earlier point; a
 * point with a run that never validated does not count).
 *
 * Grids, for Adam (rates r7 = 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4;
 * T = the run's steps):
 *   controller     r7: its initial rate, or its base schedule's rate in
 *                  residual mode (the same grid as cosine and warm-up + cosine)
 *   controller-default  one point: the controller untuned, at its file's
 *                  default rate
 *   paper-grid     step decay, initial rate {1e-1, 1e-2, 1e-3, 1e-4} x
 *                  interval {10, 20, 50, 100} steps x factor {0.99, 0.9, 0.88}
 *                  (the paper's grid; 48 points)
 *   constant       r7
 *   exponential    rate {1e-2, 3e-3, 1e-3} x total decay over T {10x, 100x}
 *   cosine         r7, annealed to 0 over T
 *   warmup-cosine  r7, linear warm-up over 5 % of T, then cosine to 0
 *   warmup         r7, linear warm-up over 5 % of T, then constant
 *   linear         r7, linear warm-up over 5 % of T, then linear to 0
 *   wsd            r7, linear warm-up over 5 % of T, constant, then linear
 *                  to 0 over the last 20 % of T
 *   onecycle       peak {3e-2, 1e-2, 3e-3, 1e-3} x warm-up fraction {0.3, 0.1}
 *   plateau        rate {1e-2, 3e-3, 1e-3} x factor {0.5, 0.1} x patience
 *                  {2, 5} validations
 *   schedulefree   r7 with the row's own optimizer, schedule-free AdamW
 *                  (adamw-schedulefree), under a linear warm-up over 5 % of T
 *                  (warmup), as schedule-free methods are run: the averaging
 *                  replaces the decay, not the warm-up
 * A list of rates given instead of r7 (alrs compare --rates) replaces r7 in
 * every grid above that uses it (controller, constant, cosine, warm-up +
 * cosine, warmup, linear, wsd, schedulefree): a finer grid, the same for
 * each of them.
 *
 * A row may bring its own optimizer (schedulefree; the controller's rows
 * that of the controller file): its points name it, and its runs use it in
 * place of the run's --optimizer. */
#ifndef ALRS_SCHED_BASELINES_H
#define ALRS_SCHED_BASELINES_H

#include "sched/schedule.h"

#define BASELINE_MAX_POINTS 64
#define BASELINE_MAX_RATES 32

typedef struct {
    char spec[SCHEDULE_SPEC_MAX]; /* a schedule spec (sched/schedule.h) */
    double lr;      /* the run's --lr (initial, base or peak rate) */
    char optimizer[64]; /* the row's own optimizer; "": the run's --optimizer */
} grid_point;

/* The controller the two controller rows run (baseline_grid). */
typedef struct {
    const char *path;      /* its file */
    double default_lr;     /* the default rate its file records (0: none) */
    const char *optimizer; /* the optimizer it learned on (NULL, "": the run's) */
} baseline_controller;

/* The names above, "controller" and "controller-default" first. */
extern const char *const baseline_names[];
extern const int n_baseline_names;

/* 1 if name is one of baseline_names. */
int baseline_known(const char *name);
/* The grid of `name` for runs of `steps` steps, thinned to at most `budget`
 * points; the controller rows' spec is "controller:" followed by ctl's path
 * (ctl NULL: an empty path, for a look at the grid's shape); `rates`
 * (n_rates of them; 0: r7) the rates of the grids built on r7. Returns the
 * number of points, or -1 with a message for an unknown name or a budget
 * below 1. */
int baseline_grid(const char *name, long steps, int budget, const baseline_controller *ctl,
                  const double *rates, int n_rates, grid_point *out);
/* Which `k` of `n` grid points a budget keeps: writes their indices,
 * increasing, to keep; returns k = min(n, budget). */
int baseline_thin(int n, int budget, int *keep);
/* The index of the lowest finite validation loss (the first of equals);
 * -1 if none is finite. */
int baseline_select(const double *val_loss, int n);

#endif
