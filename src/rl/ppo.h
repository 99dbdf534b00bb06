/* The PPO update (Schulman et al. 2017, clipped surrogate), as the standard
 * implementations do it (baselines ppo2, CleanRL ppo_continuous_action):
 *
 *   for each epoch: shuffle the T*E samples (from the rng_stream passed in),
 *     split them into `minibatches` nearly equal parts; for each minibatch:
 *       normalise its advantages (mean 0, std 1);
 *       ratio = exp(logp_new - logp_old);
 *       L = mean max(-A ratio, -A clip(ratio, 1-eps, 1+eps))      (policy)
 *         + vf_coef * 0.5 * mean (V - ret)^2   [or the clipped form]   (value)
 *         - ent_coef * mean H                                          (entropy)
 *       gradient of L -> global-norm clip (0.5) -> Adam (eps 1e-5).
 *
 * Defaults and why:
 *   clip 0.2. It must lie in (0, 1): ppo_config_check rejects anything else,
 *     because the public re-implementation ran with clip range 10, which is no
 *     clipping at all.
 *   ent_coef 0.0 (CleanRL's continuous default). The controller acts every few
 *     child steps on a dense reward, its stochastic policy already explores,
 *     and a bonus pushes the Gaussian's learned log-std up against a weak
 *     signal; the re-implementation's 0.1 swamped the reward. Set 0.01 for
 *     more exploration in discrete mode.
 *   clip_value 0 (off): Andrychowicz et al. 2021 ("What matters in on-policy
 *     RL") found value clipping does not help and can hurt; available as an
 *     option (it clips V to value_old +- clip).
 *   lr 3e-4, epochs 4, minibatches 4, max_grad_norm 0.5, vf_coef 0.5.
 *   target_kl 0 (off). When set, the update stops (for all its remaining
 *     epochs) at the first minibatch whose approximate KL from the policy that
 *     collected the data exceeds 1.5 target_kl, before that minibatch's step
 *     (Stable-Baselines3's rule): more epochs can then be asked for safely.
 *
 * Order: collect into a rollout -> rollout_buffer_gae (-> with group
 * advantages, rollout_buffer_group_advantages) -> ppo_update. */
#ifndef ALRS_RL_PPO_H
#define ALRS_RL_PPO_H

#include "core/rng.h"
#include "rl/adam.h"
#include "rl/policy.h"
#include "rl/rollout_buffer.h"

/* Where a step's advantage comes from: GAE over the critic's values, or its
 * return against its seed group's (rollout_buffer_group_advantages). */
typedef enum { PPO_ADVANTAGE_GAE = 0, PPO_ADVANTAGE_GROUP = 1 } ppo_advantage;

typedef struct {
    int epochs;           /* 4 */
    int minibatches;      /* 4 */
    double clip;          /* 0.2, in (0, 1) */
    double vf_coef;       /* 0.5 */
    double ent_coef;      /* 0.0 */
    int clip_value;       /* 0 */
    int norm_adv;         /* 1: per minibatch */
    double max_grad_norm; /* 0.5; <= 0 turns the clip off */
    double lr;            /* 3e-4 */
    double target_kl;     /* 0: off */
    double gamma, lambda; /* 0.99, 0.95: for rollout_buffer_gae and the reward scaler */
    ppo_advantage advantage; /* GAE; group needs environments in seed groups */
} ppo_config;

/* Diagnostics of one update; losses, entropy, KL and clip fraction are means
 * over all minibatches of all epochs. */
typedef struct {
    double policy_loss;
    double value_loss;    /* 0.5 mean (V - ret)^2 (or clipped), before vf_coef */
    double entropy;
    double approx_kl;     /* mean (ratio - 1) - log ratio: >= 0, unbiased (Schulman's k3) */
    double clip_frac;     /* fraction of samples with |ratio - 1| > clip */
    double explained_var; /* of the rollout's values: rollout_buffer_explained_variance */
    double grad_norm;     /* mean global gradient norm before clipping */
    int minibatches;      /* gradient steps taken */
    int stopped_early;    /* target_kl ended the update */
} ppo_stats;

ppo_config ppo_config_default(void);
/* -1 with a message naming the field for a value out of range. */
int ppo_config_check(const ppo_config *c);

/* The clipped surrogate on a minibatch of n samples, separated out so that
 * it can be checked by hand: returns mean_i max(-A_i r_i, -A_i clip(r_i)),
 * with r_i = exp(logp_new_i - logp_old_i), writes dL/dlogp_new [n] (zero where
 * the clipped term is the larger, i.e. A > 0 and r > 1+eps or A < 0 and
 * r < 1-eps), and adds the minibatch's sums of |r - 1| > eps indicators and of
 * (r - 1) - log r into *clipped and *kl (either may be NULL). */
double ppo_policy_loss(const double *logp_new, const double *logp_old, const double *adv, int n,
                       double clip, double *dlogp, double *clipped, double *kl);

/* Value loss 0.5 mean (V - ret)^2, or with clip > 0 the clipped form
 * 0.5 mean max((V - ret)^2, (V_old + clamp(V - V_old, -clip, clip) - ret)^2);
 * writes dL/dV [n]. */
double ppo_value_loss(const double *v, const double *v_old, const double *ret, int n, double clip,
                      double *dv);

/* Scales grads so that their global L2 norm is at most max_norm; returns the
 * norm before scaling. */
double clip_grad_norm(double *grads, size_t n, double max_norm);

/* One PPO update of the policy from a rollout whose rollout_buffer_gae has run.
 * Randomness: only the minibatch shuffles, drawn from r. -1 with a message for
 * a bad config or a non-finite loss (the parameters are left as they were at
 * the start of the failing minibatch). */
int ppo_update(policy *p, rl_adam *opt, const ppo_config *c, const rollout_buffer *b, rng_stream *r,
               ppo_stats *out);

#endif
