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
 * from a thread (with seed groups, the child's streams from the group's first
 * environment), so the same seed gives the same trajectories however many
 * environments run at once (for a fixed threads_per_env).
 *
 * Across MPI ranks (run/dist.h): the E environments are shared out in
 * contiguous blocks (dist_share); a rank builds and steps only its own, on
 * teams within the cores it was given (teams_init reads the process's
 * binding, so under mpirun --bind-to core each rank pins inside its own
 * cores; ranks on one host whose cores overlap leave their threads unbound,
 * with a warning, rather than all pin onto the same first cores). Every agent
 * step the ranks exchange their environments' raw observations, rewards and
 * done flags (allgather), so every rank holds the lockstep state of all E.
 * Rank 0 alone holds the controller: it normalises, samples the E actions and
 * broadcasts them, scales the rewards, fills the buffer, computes GAE, and
 * receives every finished episode's record for the callback, in environment
 * order. Everything order-dependent thus happens on one rank in the order one
 * process would do it, and a run on R ranks is the same, bit for bit, as one
 * process running all E environments. Per agent step: one broadcast of E
 * actions, one allgather of E x 10 doubles, and when episodes end, their
 * records and the new episodes' first observations. */
#ifndef ALRS_RUN_ROLLOUT_ENGINE_H
#define ALRS_RUN_ROLLOUT_ENGINE_H

#include <stdint.h>
#include <stdio.h>

#include "env/lr_env.h"
#include "rl/controller.h"
#include "rl/rollout_buffer.h"
#include "run/teams.h"

/* Called on the engine's thread, in environment order, for every episode
 * that ended (complete: done set) or was cut by the end of the batch; under
 * MPI on rank 0 only, for the episodes of all ranks (the record is a copy:
 * valid during the call). */
typedef void (*episode_fn)(void *ctx, int env, const lr_env_episode *ep, int complete);

/* Where one rank's environments run (rollout_engine_placement). */
typedef struct {
    int first, local, cores, concurrency, threads;
    int oversubscribed; /* its threads are left unbound */
    int shared;         /* its cores overlap another rank's on the same host */
    char host[128], pus[256];
} rank_placement;

typedef struct {
    int envs;                /* E, across all ranks */
    int rank, ranks;         /* dist_rank(), dist_size() at creation */
    int first, local;        /* this rank's environments: first .. first+local-1 */
    int concurrency, threads_per_env; /* this rank's teams */
    int steps; /* agent steps per batch: those of one episode (the longest task's) */
    int obs_size; /* values per observation (lr_env_obs_size of the features) */
    int seed_group; /* environments e, e+1, .. in groups of this size (from a
                       multiple of it) train the same child: one seed, the same
                       weights and batches, each its own actions (1: all
                       differ; set after rollout_engine_create) */
    lr_env *env; /* [local]: env[i] is environment first + i */
    team_layout teams;
    /* the lockstep state of all E environments, [E] or [E][obs_size] */
    double *obs_raw, *obs, *next_raw, *next_obs;
    double *action, *logp, *value, *reward_raw, *reward, *final_value;
    unsigned char *terminated, *truncated, *done;
    rng_stream *act_rng;
    int *restarts;
    long *episode_id;
    int *episode_step; /* [E] agent steps since the environment's episode began */
    /* exchanges between ranks */
    size_t *row_bytes;       /* [ranks] scratch for dist_allgatherv counts */
    double *rows;            /* [E][obs_size + 3] step outcomes */
    rank_placement *placement; /* [ranks], the same on every rank */
    double collect_s; /* seconds spent in the last collect (on rank 0: the whole job's) */
    int failed;       /* an environment of this rank could not begin an episode */
    char error[1024]; /* the first such environment's message */
} rollout_engine;

/* Builds the environments (children allocated once): all E in one process, or
 * this rank's share under MPI. Collective: every rank calls it, and it fails
 * on every rank (with the failing rank's message) if it fails on any. Each
 * rank needs one environment at least (E >= ranks). concurrency: how many of
 * the rank's environments run at once (0: as many teams of threads_per_env
 * as the rank's cores hold); the others wait for a team (waves). -1 with a
 * message on a bad configuration. */
int rollout_engine_create(rollout_engine *r, const lr_env_config *cfg, const dataset *data,
                          int envs, int threads_per_env, int concurrency);
void rollout_engine_free(rollout_engine *r);

/* One batch: a fresh episode in every environment, run for `steps` agent
 * steps under the controller (sampling actions), into buf (steps × envs),
 * with GAE computed. `update` numbers the batch (it selects the seeds).
 * With tasks, `steps` is the longest task's agent steps: an environment
 * whose episode ends sooner begins the next one, as after a divergence.
 * Collective under MPI: c, ppo, buf and on_episode are used on rank 0 only
 * (the other ranks may pass NULL); seed and update must agree. -1 on every
 * rank with a message when an environment could not build the child of the
 * task its episode drew (the batch is then lost, the controller unchanged). */
int rollout_engine_collect(rollout_engine *r, controller *c, const ppo_config *ppo,
                           rollout_buffer *buf, uint64_t seed, long update, episode_fn on_episode,
                           void *ctx);

/* Where the environments run: one line per rank (the first 16, then a
 * count), "PREFIXrank R on HOST: environments A-B on N cores (PUs LIST), C
 * teams x T threads, bound|unbound (why)". Rank 0 writes to out, the others
 * nothing (not collective: the engine exchanged placements when created). */
void rollout_engine_placement(const rollout_engine *r, FILE *out, const char *prefix);

/* The seed index of an episode: batch `update`, environment `env`, its
 * `restart`-th episode in that batch. */
long rollout_episode_id(long update, int envs, int env, int restart);

#endif
