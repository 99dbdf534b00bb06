#include "core/fileio.h"
/* Learning-rate schedules in PyTorch's parameter forms, parsed from spec strings.
 *
 *   constant
 *   step:every=N,gamma=G                      (StepLR: step_size, gamma=0.1)
 *   multistep:milestones=A;B;C,gamma=G        (MultiStepLR, gamma=0.1)
 *   exp:gamma=G                               (ExponentialLR, per step)
 *   cosine:tmax=N,min=LR                      (CosineAnnealingLR, T_max, eta_min=0)
 *   cosine-restarts:t0=N,tmult=M,min=LR       (CosineAnnealingWarmRestarts, T_mult=1)
 *   onecycle:max=LR,pct=P,div=D,final_div=F   (OneCycleLR, cos annealing, pct_start=0.3,
 *                                              div_factor=25, final_div_factor=1e4)
 *   warmup-cosine:warmup=N,min=LR             (linear warm-up, then cosine to min)
 *   warmup:warmup=N                           (linear warm-up, then constant)
 *   linear:warmup=N,min=LR                    (linear warm-up, then linear decay to min)
 *   wsd:warmup=N,decay=D,min=LR               (warm-up, stable, decay: linear warm-up,
 *                                              constant, then linear to min over the
 *                                              last D steps)
 *   plateau:factor=F,patience=N,threshold=T,cooldown=N,min=LR
 *                                             (ReduceLROnPlateau, mode min, rel threshold;
 *                                              factor=0.1, patience=10, threshold=1e-4,
 *                                              cooldown=0, min=0)
 *   controller:PATH                           (a learned policy drives the rate)
 *   replay:PATH                               (the rates of a run's trace.csv, replayed:
 *                                              step s takes the lr of the first row whose
 *                                              step is above s, the last row's after it)
 *
 * `base_lr` is the run's --lr (for onecycle, max defaults to it) and
 * `total_steps` its --steps. Steps count from 0. Defaults that PyTorch leaves
 * to the caller are chosen from the run's length T:
 *   step        every = floor(T/3), at least 1 (three decays over the run)
 *   multistep   milestones = floor(T/2);floor(3T/4), raised to 1;2 and kept
 *               increasing for very short runs
 *   exp         gamma = 0.01^(1/T), so the rate falls 100x over the run
 *   cosine      tmax = T
 *   cosine-restarts  t0 = floor(T/4), at least 1
 *   warmup-cosine, warmup, linear, wsd
 *               warmup = floor(T/20) (5%), at least 1; must be < T
 *   wsd         decay = floor(T/5) (20%), at least 1; warmup + decay <= T
 * Choices where PyTorch's formula does not carry over:
 *   cosine      holds min after tmax (PyTorch's closed form is periodic)
 *   cosine-restarts  cycles are walked in integers, not with PyTorch's float
 *               log, which can misplace a restart by one step
 *   onecycle    steps past T-1 hold the last rate (PyTorch raises); a warm-up
 *               phase of zero length (pct*T == 1) counts as finished
 *   warmup-cosine    rate base*(step+1)/warmup during warm-up, then cosine from
 *               base to min over steps warmup..T, held at min after T
 *   warmup, linear, wsd   the same warm-up; then warmup holds base, linear
 *               falls as min + (base - min)(T - step)/(T - warmup), and wsd holds
 *               base until step T - decay, then falls as
 *               min + (base - min)(T - step)/decay; min after T
 *   plateau     schedule_lr returns the current rate whatever the step
 *   controller  schedule_lr returns base_lr; the caller scales it
 * Negative steps count as step 0. */
#ifndef ALRS_SCHED_SCHEDULE_H
#define ALRS_SCHED_SCHEDULE_H

typedef enum {
    SCHED_CONSTANT,
    SCHED_STEP,
    SCHED_MULTISTEP,
    SCHED_EXP,
    SCHED_COSINE,
    SCHED_COSINE_RESTARTS,
    SCHED_ONECYCLE,
    SCHED_WARMUP_COSINE,
    SCHED_WARMUP,  /* linear warm-up, then constant */
    SCHED_LINEAR,  /* linear warm-up, then linear decay */
    SCHED_WSD,     /* warm-up, stable, decay */
    SCHED_PLATEAU,
    SCHED_CONTROLLER, /* controller:PATH, driven by a learned policy (src/rl) */
    SCHED_REPLAY      /* replay:PATH, the rates of a trace file */
} sched_kind;

#define SCHED_MAX_MILESTONES 32
/* Room for any spec string, controller:PATH included. */
#define SCHEDULE_SPEC_MAX 4200

typedef struct {
    sched_kind kind;
    double base_lr;
    long total_steps;
    /* parameters (those the kind uses) */
    long every, tmax, t0, tmult, warmup, decay, patience, cooldown;
    double gamma, min_lr, max_lr, pct, div, final_div, factor, threshold;
    long milestones[SCHED_MAX_MILESTONES];
    int n_milestones;
    char controller_path[ALRS_PATH_MAX]; /* controller:PATH and replay:PATH */
    /* replay: rows of the trace (steps increasing), owned: schedule_free */
    long *replay_step;
    double *replay_lr;
    long n_replay;
    /* reduce-on-plateau state */
    double plateau_lr, plateau_best;
    long plateau_bad, plateau_cooldown_left;
} schedule;

/* Parses `spec`; -1 with a message such as
 * "--schedule step:every=abc: parameter 'every' wants an integer". A replay
 * spec reads its file here (a missing file, no step or lr column, steps not
 * increasing or a rate that is not positive are refused, naming the file). */
int schedule_parse(schedule *s, const char *spec, double base_lr, long total_steps);
/* Frees what a replay schedule read (nothing for the others). */
void schedule_free(schedule *s);
/* The learning rate to use for training step `step` (0-based). */
double schedule_lr(const schedule *s, long step);
/* Feeds a validation loss (only plateau reacts). */
void schedule_observe_val_loss(schedule *s, double val_loss);
/* Writes the spec back with every parameter resolved, e.g. "step:every=1000,gamma=0.1". */
void schedule_format(const schedule *s, char *buf, int size);

#endif
