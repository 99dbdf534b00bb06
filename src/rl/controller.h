/* The controller: everything that a checkpoint saves and a deployed schedule
 * needs: the actor-critic, its Adam state, the observation normaliser, the
 * reward scaler and the number of PPO updates done.
 *
 * Training loop of the rollout engine (per update):
 *   for t in 0..T-1:
 *     controller_observe(c, raw_obs, E, 1, obs)          normalise (and learn the stats)
 *     policy_act(&c->pol, obs, E, env_rngs, a, logp, v)
 *     rollout_record(&buf, t, obs, a, logp, v)
 *     each env applies policy_lr_factor(kind, a[e], delta), trains, returns raw reward, done
 *     for truncated envs: final_v = policy_value(normalised final obs)
 *     reward_scaler_scale(&c->rewards, raw_reward, done, reward)
 *     rollout_outcome(&buf, t, reward, terminated, truncated, final_v)
 *   last_v = policy_value(normalised next obs); rollout_gae(&buf, last_v, gamma, lambda)
 *   controller_update(c, &ppo_cfg, &buf, shuffle_rng, &stats)
 * Deployment: controller_observe(c, raw, n, 0, obs) -> policy_mode. */
#ifndef ALRS_RL_CONTROLLER_H
#define ALRS_RL_CONTROLLER_H

#include "rl/adam.h"
#include "rl/normalizer.h"
#include "rl/policy.h"
#include "rl/ppo.h"

typedef struct {
    policy pol;
    rl_adam adam;
    obs_normalizer obs_norm;
    reward_scaler rewards;
    long updates; /* PPO updates done */
} controller;

/* A fresh controller: weights drawn from r, statistics empty. n_envs sizes the
 * reward scaler's per-environment returns; gamma is the PPO discount. */
int controller_init(controller *c, const policy_config *pc, int n_envs, double gamma,
                    rng_stream *r);
/* The same shapes with zero weights (for checkpoint_load to fill in). */
int controller_alloc(controller *c, const policy_config *pc, int n_envs, double gamma);
void controller_free(controller *c);

/* Raw observations [n][obs_size] -> normalised ones (out may equal raw). With
 * learn set (training) the statistics first take in this batch. */
void controller_observe(controller *c, const double *raw, int n, int learn, double *out);
/* ppo_update on the controller's policy and Adam; counts the update. */
int controller_update(controller *c, const ppo_config *cfg, const rollout *b, rng_stream *r,
                      ppo_stats *out);

#endif
