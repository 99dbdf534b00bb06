/* What an action does to the learning rate.
 *
 * The environment keeps one number x that the actions move:
 *   plain mode     x = log of the rate, held for the agent step's child steps;
 *   residual mode  (a base schedule, `base`): x = c, an offset in log space,
 *                  and the rate of child step s is  base(s) * exp(c).  With
 *                  c = 0 the run IS its base schedule, step by step.
 * In both modes the rate is finally clipped to the environment's
 * [lr_min, lr_max], and in residual mode c stays within [-log R, log R]
 * (R = residual_range), so a controller corrects its base without leaving it.
 *
 * An action's effect (lr_action_effect):
 *   discrete    a in 0..n_factors-1:       x += log(factors[a])
 *   continuous  u in R (a Gaussian sample): x += tanh(u) log(1 + delta), a
 *               factor in [1/(1+delta), 1+delta] that never saturates for
 *               moderate u (the re-implementation clipped an unsquashed
 *               Gaussian to a narrow box, so nearly every action sat on one end)
 *   absolute    u in R: x = lo + (hi - lo) (1 + tanh u) / 2, the whole range
 *               in one action (DACBench's SGD environment picks the log rate
 *               itself): [lo, hi] = [-log R, log R] in residual mode, else
 *               [log lr_min, log lr_max].
 * The first two are relative (lr_action_relative): their effects add up, so
 * the mean of k sampled effects is itself a valid effect (--policy mean:K).
 *
 * The default is the paper's re-implementation: discrete x1.05, /1.05, keep. */
#ifndef ALRS_ENV_LR_ACTION_H
#define ALRS_ENV_LR_ACTION_H

typedef enum {
    LR_ACTION_DISCRETE = 0,
    LR_ACTION_CONTINUOUS = 1,
    LR_ACTION_ABSOLUTE = 2
} lr_action_kind;

#define LR_ACTION_MAX_FACTORS 15
/* Room for a base schedule spec (sched/schedule.h); controllers are not bases. */
#define LR_ACTION_BASE_MAX 256

typedef struct {
    lr_action_kind kind;
    int n_factors;                          /* discrete: factors, in action order */
    double factors[LR_ACTION_MAX_FACTORS];
    double delta;                           /* continuous: 0.05 */
    char base[LR_ACTION_BASE_MAX];          /* residual mode's base spec; "" = plain */
    double residual_range;                  /* R: exp(c) within [1/R, R]; 4 */
} lr_action_config;

/* Discrete {1.05, 1/1.05, 1} (up, down, keep), delta 0.05, plain, R 4. */
lr_action_config lr_action_default(void);
/* -1 with a message naming the value at fault. */
int lr_action_check(const lr_action_config *a);

/* "discrete", "continuous", "absolute" <-> the kinds; -1 with a message. */
int lr_action_kind_parse(const char *name, lr_action_kind *out);
const char *lr_action_kind_name(lr_action_kind k);
/* "0.5,0.8,1,1.25,2" -> factors (2 to LR_ACTION_MAX_FACTORS positive,
 * finite, distinct numbers); -1 with a message naming --factors. */
int lr_action_parse_factors(const char *text, lr_action_config *a);
/* The factors as "a,b,c" with shortest round-trip numbers. */
void lr_action_format_factors(const lr_action_config *a, char *buf, int size);

/* Outputs of the policy: the number of discrete actions, or 1 (one Gaussian). */
int lr_action_count(const lr_action_config *a);
/* The discrete action that keeps the rate (factor 1), or -1 if none or not discrete. */
int lr_action_keep(const lr_action_config *a);
int lr_action_residual(const lr_action_config *a);
int lr_action_relative(const lr_action_config *a);

/* The effect of one action (see above): for relative kinds the change of x;
 * for absolute the position tanh(u) in [-1, 1] within [lo, hi]. NaN for a
 * NaN action or one that is not a valid discrete index: the caller then keeps
 * the rate (infinite Gaussian actions are the ends of their range). */
double lr_action_effect(const lr_action_config *a, double action);
/* x after an effect: relative x + effect, absolute the position mapped onto
 * [lo, hi]; then clipped to [lo, hi]. A NaN effect leaves x as it is. */
double lr_action_apply(const lr_action_config *a, double x, double effect, double lo, double hi);

#endif
