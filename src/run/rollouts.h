/* The rollout engine: E learning-rate environments stepped in lockstep, each
 * on its own pinned thread team, under one controller.
 *
 * Per agent step the engine's thread normalises the E observations and asks
 * the policy for E actions in one batched call; then every environment trains
 * its child for action_every steps in parallel (a team of threads_per_env
 * OpenMP threads each). An environment whose child diverged starts a new
 * episode at once; the buffer is cut after the agent steps of one episode.
 *
 * Determinism: an episode's randomness (weights, batches, initial rate,
 * action sampling) comes from streams of (seed, update, env, restart), never
 * from a thread, so the same seed gives the same trajectories however many
 * environments run at once (for a fixed threads_per_env). */
#ifndef ALRS_RUN_ROLLOUTS_H
#define ALRS_RUN_ROLLOUTS_H

#include <stdint.h>

#include "env/lr_env.h"
#include "rl/controller.h"
#include "rl/rollout.h"
#include "run/teams.h"

/* Called on the engine's thread, in environment order, for every episode
 * that ended (complete: done set) or was cut by the end of the batch. */
typedef void (*episode_fn)(void *ctx, int env, const lr_env_episode *ep, int complete);

typedef struct {
    int envs, concurrency, threads_per_env;
    int steps; /* agent steps per batch: those of one episode */
    lr_env *env;
    team_layout teams;
    double *obs_raw, *obs, *next_raw, *next_obs;
    double *action, *logp, *value, *reward_raw, *reward, *final_value;
    unsigned char *terminated, *truncated, *done;
    rng_stream *act_rng;
    int *restarts;
    double collect_s; /* seconds spent in the last collect */
} rollout_engine;

/* Builds E environments (children allocated once). concurrency: how many run
 * at once (0: as many teams of threads_per_env as the cores hold); the others
 * wait for a team (waves). -1 with a message on a bad configuration. */
int rollout_engine_create(rollout_engine *r, const lr_env_config *cfg, const dataset *data,
                          int envs, int threads_per_env, int concurrency);
void rollout_engine_free(rollout_engine *r);

/* One batch: a fresh episode in every environment, run for `steps` agent
 * steps under the controller (sampling actions), into buf (steps × envs),
 * with GAE computed. `update` numbers the batch (it selects the seeds). */
void rollout_engine_collect(rollout_engine *r, controller *c, const ppo_config *ppo, rollout *buf,
                            uint64_t seed, long update, episode_fn on_episode, void *ctx);

/* The seed index of an episode: batch `update`, environment `env`, its
 * `restart`-th episode in that batch. */
long rollout_episode_id(long update, int envs, int env, int restart);

#endif
