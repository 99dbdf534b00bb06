/* Running statistics for the controller's inputs and rewards, in double.
 *
 * running_stats: per-dimension count, mean and sum of squared deviations (M2),
 * updated a batch at a time and merged with Chan, Golub and LeVeque's parallel
 * formula (Welford's update is its one-sample case), so that statistics
 * gathered by several workers combine exactly into what one worker would have
 * computed. Variance is the population one, M2 / count (as gym's
 * RunningMeanStd), and 1 before any data.
 *
 * obs_normalizer: (x - mean) / sqrt(var + eps), clipped to +-clip (10).
 *   Training: obs_normalizer_update with each batch of raw observations, then
 *   obs_normalizer_apply. Deployment: apply only (the statistics are frozen and
 *   come from the checkpoint; the re-implementation did not save them, so its
 *   deployed policy saw differently scaled inputs).
 *
 * reward_scaler: divides rewards by the standard deviation of the discounted
 *   return (as gym's NormalizeReward / VecNormalize): per environment
 *   R <- gamma R + r, the running variance of R is updated, and the reward
 *   returned is r / sqrt(var(R) + eps), clipped to +-clip; R restarts at 0
 *   after the step that ends an episode. The mean is not subtracted: shifting
 *   rewards would change which behaviour is optimal when episodes end early. */
#ifndef ALRS_RL_NORMALIZER_H
#define ALRS_RL_NORMALIZER_H

typedef struct {
    int dim;
    double count;
    double *mean; /* [dim] */
    double *m2;   /* [dim] */
} running_stats;

int running_stats_init(running_stats *s, int dim);
void running_stats_free(running_stats *s);
void running_stats_reset(running_stats *s);
/* Adds n samples x [n][dim] (one batch: its mean and M2 are computed in two
 * passes, then merged). */
void running_stats_update(running_stats *s, const double *x, int n);
/* into <- into merged with other (same dim; -1 otherwise). */
int running_stats_merge(running_stats *into, const running_stats *other);
/* Population variance of dimension j (1 when count is 0). */
double running_stats_var(const running_stats *s, int j);

typedef struct {
    running_stats stats;
    double clip; /* 10 */
    double eps;  /* 1e-8 */
} obs_normalizer;

int obs_normalizer_init(obs_normalizer *o, int dim);
void obs_normalizer_free(obs_normalizer *o);
void obs_normalizer_update(obs_normalizer *o, const double *x, int n);
/* out [n][dim] = clip((x - mean) / sqrt(var + eps)); out may equal x. */
void obs_normalizer_apply(const obs_normalizer *o, const double *x, int n, double *out);

typedef struct {
    running_stats stats; /* dim 1: the discounted return */
    double gamma;        /* the PPO discount, 0.99 */
    double clip;         /* 10 */
    double eps;          /* 1e-8 */
    int n_envs;
    double *ret;         /* [n_envs] running discounted return of each environment */
} reward_scaler;

int reward_scaler_init(reward_scaler *s, int n_envs, double gamma);
void reward_scaler_free(reward_scaler *s);
/* Resizes to n_envs environments; their return accumulators restart at 0
 * (for a checkpoint resumed with another number of environments). */
int reward_scaler_set_envs(reward_scaler *s, int n_envs);
/* One step of all n_envs environments: reward [n_envs] raw, done [n_envs]
 * (the step ended an episode, terminated or truncated) -> out [n_envs]
 * scaled (out may equal reward). Updates the statistics. */
void reward_scaler_scale(reward_scaler *s, const double *reward, const unsigned char *done,
                         double *out);
/* Scaling without updating (evaluation). */
double reward_scaler_apply(const reward_scaler *s, double reward);

#endif
