/* The controller: everything that a checkpoint saves and a deployed schedule
 * needs: the interface to the environment it learned in (which features it
 * observes, what its actions do), the actor-critic, its Adam state, the
 * observation normaliser, the reward scaler and the number of PPO updates
 * done.
 *
 * Training loop of the rollout engine (per update):
 *   for t in 0..T-1:
 *     controller_observe(c, raw_obs, E, 1, obs)          normalise (and learn the stats)
 *     policy_act(&c->pol, obs, E, env_rngs, a, logp, v)
 *     rollout_buffer_record(&buf, t, obs, a, logp, v)
 *     each env applies its action (env/lr_action.h), trains, returns raw reward, done
 *     for truncated envs: final_v = policy_value(normalised final obs)
 *     reward_scaler_scale(&c->rewards, raw_reward, done, reward)
 *     rollout_buffer_outcome(&buf, t, reward, terminated, truncated, final_v)
 *   last_v = policy_value(normalised next obs); rollout_buffer_gae(&buf, last_v, gamma, lambda)
 *   controller_update(c, &ppo_cfg, &buf, shuffle_rng, &stats)
 * Deployment: controller_observe(c, raw, n, 0, obs) -> policy_mode (or
 * policy_act, for --policy sample and mean:K). */
#ifndef ALRS_RL_CONTROLLER_H
#define ALRS_RL_CONTROLLER_H

#include "env/lr_env.h"
#include "rl/adam.h"
#include "rl/normalizer.h"
#include "rl/policy.h"
#include "rl/ppo.h"

/* What a controller learned on (checkpoint version 3 on; all empty when read
 * from an older file): `alrs info --controller`, alrs_controller_learned_on
 * and Python's Controller.info show it. alrs learn fills model .. classes;
 * `tasks` and `default_lr` are for `alrs learn --tasks` to set (it writes
 * them here, controller_file_save stores them): "" and 0 mean not given. */
#define CONTROLLER_ORIGIN_TEXT 64
#define CONTROLLER_TASKS_MAX 1024
typedef struct {
    char model[CONTROLLER_ORIGIN_TEXT];     /* "lenet5", "mlp --hidden 32,16" */
    char optimizer[CONTROLLER_ORIGIN_TEXT]; /* --optimizer: "adam", ... */
    char dataset[CONTROLLER_ORIGIN_TEXT];   /* "fashion-mnist", ... */
    int n_rates;                            /* the initial rates its episodes started */
    double rates[LR_ENV_MAX_INITIAL];       /*   from (--lr, or --initial-lrs) */
    long val_size;                          /* validation images per observation */
    int classes;                            /* of the data set */
    char tasks[CONTROLLER_TASKS_MAX];       /* free text: the tasks it learned on */
    double default_lr;                      /* a suggested initial rate for users */
} controller_origin;

typedef struct {
    lr_env_interface iface;
    controller_origin origin; /* what it learned on */
    policy pol;
    rl_adam adam;
    obs_normalizer obs_norm;
    reward_scaler rewards;
    long updates; /* PPO updates done */
    int file_version; /* the checkpoint format it was read from (0: made in memory) */
} controller;

/* The stream a deployed controller samples its actions from (--policy sample,
 * mean:K) is rng_make(run seed, CONTROLLER_POLICY_STREAM): alrs train, alrs
 * compare and the library's sessions draw the same actions for the same seed. */
#define CONTROLLER_POLICY_STREAM 0x9011c7

/* How a deployed controller turns an observation into an action (--policy):
 *   mode     the policy's most likely action (argmax, or the Gaussian's mean);
 *   sample   one action drawn from the policy (from the caller's stream);
 *   mean:K   K actions drawn, and the mean of their effects on the rate (in
 *            log space; env/lr_action.h): a smoothed sample. */
typedef enum { CONTROLLER_ACT_MODE = 0, CONTROLLER_ACT_SAMPLE = 1, CONTROLLER_ACT_MEAN = 2 } controller_act_kind;
#define CONTROLLER_MAX_MEAN 1024
typedef struct {
    controller_act_kind kind;
    int k; /* mean:K; 1 otherwise */
} controller_act;

/* "mode", "sample", "mean:K" (K from 1 to CONTROLLER_MAX_MEAN); -1 with a
 * message naming --policy. */
int controller_act_parse(const char *text, controller_act *out);
/* Back to that text. */
void controller_act_format(const controller_act *a, char *buf, int size);

/* The bias of the "keep" logit of a fresh residual controller (policy_prefer):
 * keep is the mode, and with 5 actions it is sampled 40 % of the time. */
#define CONTROLLER_KEEP_BIAS 1.0

/* The policy's shape for an interface: obs_size from the features, a
 * categorical over the discrete factors or one Gaussian; hidden layers 32, 32. */
policy_config controller_policy_config(const lr_env_interface *iface);

/* A fresh controller: weights drawn from r, statistics empty. n_envs sizes the
 * reward scaler's per-environment returns; gamma is the PPO discount. In
 * residual mode the policy starts with "keep" as its mode for every
 * observation (policy_prefer), so the untrained controller is its base
 * schedule. -1 with a message when pc does not fit the interface. */
int controller_init(controller *c, const lr_env_interface *iface, const policy_config *pc,
                    int n_envs, double gamma, rng_stream *r);
/* The same shapes with zero weights (for controller_file_load to fill in). */
int controller_alloc(controller *c, const lr_env_interface *iface, const policy_config *pc,
                     int n_envs, double gamma);
void controller_free(controller *c);

/* Raw observations [n][obs_size] -> normalised ones (out may equal raw). With
 * learn set (training) the statistics first take in this batch. */
void controller_observe(controller *c, const double *raw, int n, int learn, double *out);
/* One deployed decision for one raw observation [obs_size]: normalises it
 * (frozen statistics), picks an action the way `how` says (drawing from r for
 * sample and mean:K) and returns its effect on the rate; *action gets the
 * action (for mean:K, the first of the K). */
double controller_decide(controller *c, const double *raw, const controller_act *how,
                         rng_stream *r, double *action);

/* ppo_update on the controller's policy and Adam; counts the update. */
int controller_update(controller *c, const ppo_config *cfg, const rollout_buffer *b, rng_stream *r,
                      ppo_stats *out);

#endif
