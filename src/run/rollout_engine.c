/* The rollout engine: building the environments on their teams and running
 * one batch of episodes in lockstep (run/rollout_engine.h). What ranks exchange is
 * in rollout_engine_exchange.c, where they run in rollout_engine_placement.c. */
#include "run/rollout_engine.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timer.h"
#include "dist/dist.h"
#include "run/rollout_engine_ranks.h"

/* Episodes one environment may begin in one batch: one per agent step at
 * most, and agent steps are at most --steps (≤ 1e8 < 2^27). */
#define MAX_RESTARTS (1L << 27)

long rollout_episode_id(long update, int envs, int env, int restart) {
    if (restart >= MAX_RESTARTS) alrs_panic("more than %ld episodes in one batch", MAX_RESTARTS);
    return ((update * envs + env) * MAX_RESTARTS) + restart;
}

/* With tasks, environment i of this rank builds tasks i, i + local, ... once:
 * every task's child is built on a team before the run starts (and a task
 * whose child cannot be built stops it there). */
static int build_tasks(rollout_engine *r, int i, const lr_env_config *cfg) {
    for (int k = i; k < cfg->n_tasks; k += r->local)
        if (lr_env_hold_task(&r->env[i], k) != 0) return -1;
    return 0;
}

/* Each environment is built on the team that will run it: oneDNN sizes a
 * primitive's work split by the thread count when the primitive is created,
 * and one created for more threads than its team has runs oversubscribed. */
static int create_envs(rollout_engine *r, const lr_env_config *cfg, const dataset *data) {
    char first_error[1024] = "";
    int failed = 0;
    omp_set_max_active_levels(r->threads_per_env > 1 ? 2 : 1);
#pragma omp parallel num_threads(r->concurrency) reduction(+ : failed)
    {
        int team = omp_get_thread_num();
        teams_bind(&r->teams, team);
        omp_set_num_threads(r->threads_per_env);
        for (int i = team; i < r->local; i += r->concurrency) {
            if (lr_env_create(&r->env[i], cfg, data) == 0 && build_tasks(r, i, cfg) == 0) continue;
            failed++;
#pragma omp critical(rollout_create_error)
            if (!first_error[0]) snprintf(first_error, sizeof first_error, "%s", alrs_error());
        }
    }
    return failed ? alrs_fail("%s", first_error) : 0;
}

/* This rank's share and teams (the first part of rollout_engine_create). */
static int engine_layout(rollout_engine *r, int envs, int threads_per_env, int concurrency) {
    if (envs < 1) return alrs_fail("--envs %d: must be at least 1", envs);
    if (threads_per_env < 1)
        return alrs_fail("--threads-per-env %d: must be at least 1", threads_per_env);
    r->envs = envs;
    r->threads_per_env = threads_per_env;
    if (envs < r->ranks)
        return alrs_fail("--envs %d: fewer environments than the %d MPI ranks (each rank runs "
                         "one at least)", envs, r->ranks);
    long first, local;
    dist_share(envs, r->rank, r->ranks, &first, &local);
    r->first = (int)first, r->local = (int)local;
    if (teams_init(&r->teams, 1, 1) != 0) return -1; /* counts the cores */
    /* by default as many teams as the cores hold; the rest run in waves */
    int fit = r->teams.n_cores / threads_per_env > 0 ? r->teams.n_cores / threads_per_env : 1;
    r->concurrency = concurrency > 0 ? concurrency : fit;
    if (r->concurrency > r->local) r->concurrency = r->local;
    teams_free(&r->teams);
    return teams_init(&r->teams, r->concurrency, threads_per_env);
}

/* This rank's environments and the lockstep buffers. */
static int engine_build(rollout_engine *r, const lr_env_config *cfg, const dataset *data) {
    r->env = alrs_calloc((size_t)r->local, sizeof *r->env);
    if (create_envs(r, cfg, data) != 0) return -1;
    r->steps = lr_env_max_agent_steps(cfg); /* shorter tasks' episodes end and begin again */
    r->obs_size = r->env[0].obs_size;
    size_t eo = (size_t)r->envs * r->obs_size, en = (size_t)r->envs;
    r->obs_raw = alrs_calloc(eo, sizeof(double));
    r->obs = alrs_calloc(eo, sizeof(double));
    r->next_raw = alrs_calloc(eo, sizeof(double));
    r->next_obs = alrs_calloc(eo, sizeof(double));
    double **vectors[] = {&r->action, &r->logp, &r->value, &r->reward_raw, &r->reward,
                          &r->final_value};
    for (size_t k = 0; k < sizeof vectors / sizeof vectors[0]; k++)
        *vectors[k] = alrs_calloc(en, sizeof(double));
    r->terminated = alrs_calloc(en, 1);
    r->truncated = alrs_calloc(en, 1);
    r->done = alrs_calloc(en, 1);
    r->act_rng = alrs_calloc(en, sizeof(rng_stream));
    r->restarts = alrs_calloc(en, sizeof(int));
    r->episode_id = alrs_calloc(en, sizeof(long));
    r->episode_step = alrs_calloc(en, sizeof(int));
    r->row_bytes = alrs_calloc((size_t)r->ranks, sizeof(size_t));
    r->rows = alrs_calloc(en * rollout_row_len(r), sizeof(double));
    return 0;
}

int rollout_engine_create(rollout_engine *r, const lr_env_config *cfg, const dataset *data,
                          int envs, int threads_per_env, int concurrency) {
    memset(r, 0, sizeof *r);
    r->rank = dist_rank();
    r->ranks = dist_size();
    r->seed_group = 1;
    /* collective: each step fails on every rank if it failed on any */
    if (dist_agree(engine_layout(r, envs, threads_per_env, concurrency)) != 0) {
        rollout_engine_free(r);
        return -1;
    }
    rollout_exchange_placements(r);
    if (dist_agree(engine_build(r, cfg, data)) != 0) {
        rollout_engine_free(r);
        return -1;
    }
    return 0;
}

void rollout_engine_free(rollout_engine *r) {
    if (r->env)
        for (int i = 0; i < r->local; i++) lr_env_free(&r->env[i]);
    free(r->env);
    void *bufs[] = {r->obs_raw,    r->obs,       r->next_raw,   r->next_obs, r->action,
                    r->logp,       r->value,     r->reward_raw, r->reward,   r->final_value,
                    r->terminated, r->truncated, r->done,       r->act_rng,  r->restarts,
                    r->episode_id, r->episode_step, r->row_bytes, r->rows, r->placement};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++) free(bufs[k]);
    teams_free(&r->teams);
    memset(r, 0, sizeof *r);
}

/* Runs fn(r, e, env, arg) for every environment e of this rank flagged in
 * `which` ([E], NULL: all), the environments spread over `concurrency` teams,
 * each team pinned and sized. */
typedef void (*env_task)(rollout_engine *r, int e, lr_env *env, const void *arg);

static void for_each_env(rollout_engine *r, const unsigned char *which, env_task fn,
                         const void *arg) {
#pragma omp parallel num_threads(r->concurrency)
    {
        int team = omp_get_thread_num();
        teams_bind(&r->teams, team);
        omp_set_num_threads(r->threads_per_env);
        for (int i = team; i < r->local; i += r->concurrency) {
            int e = r->first + i;
            if (which && !which[e]) continue;
            fn(r, e, &r->env[i], arg);
        }
    }
}

/* ---- one batch ---- */

/* Starts a new episode in every environment flagged in `which` (NULL: all):
 * the seed bookkeeping for all E on every rank (rank 0 samples every
 * environment's actions), the resets for this rank's, then their first
 * observations to every rank. */
static void reset_task(rollout_engine *r, int e, lr_env *env, const void *seed) {
    if (lr_env_reset(env, *(const uint64_t *)seed, r->episode_id[e],
                     r->obs_raw + (size_t)e * r->obs_size) == 0)
        return;
#pragma omp critical(rollout_reset_error)
    if (!r->failed) { /* a multi-task environment could not build its task's child */
        r->failed = 1;
        snprintf(r->error, sizeof r->error, "environment %d: %s", e, alrs_error());
    }
}

static void begin_episodes(rollout_engine *r, const unsigned char *which, uint64_t seed,
                           long update) {
    for (int e = 0; e < r->envs; e++) {
        if (which && !which[e]) continue;
        /* the members of a seed group train the same child (same weights and
         * batches) and draw their own actions */
        int leader = e - e % r->seed_group;
        long id = rollout_episode_id(update, r->envs, e, r->restarts[e]);
        r->episode_id[e] = rollout_episode_id(update, r->envs, leader, r->restarts[e]);
        r->restarts[e]++;
        r->episode_step[e] = 0;
        r->act_rng[e] = rng_make(seed ^ 0xac7104ULL, (uint64_t)id);
    }
    for_each_env(r, which, reset_task, &seed);
    rollout_share_observations(r);
}

/* 0, or -1 on every rank with the message of the first environment of this
 * rank that failed to begin an episode (collective). */
static int episodes_began(rollout_engine *r) {
    int failed = r->failed;
    if (failed) alrs_fail("%s", r->error);
    return dist_agree(failed ? -1 : 0);
}

static void step_task(rollout_engine *r, int e, lr_env *env, const void *arg) {
    (void)arg;
    int term, trunc;
    lr_env_step(env, r->action[e], r->next_raw + (size_t)e * r->obs_size, &r->reward_raw[e],
                &term, &trunc);
    r->terminated[e] = (unsigned char)term;
    r->truncated[e] = (unsigned char)trunc;
    r->done[e] = (unsigned char)(term || trunc);
}

/* Bootstrap values of the observations that ended truncated episodes. */
static void truncation_values(rollout_engine *r, controller *c) {
    controller_observe(c, r->next_raw, r->envs, 0, r->next_obs);
    policy_value(&c->pol, r->next_obs, r->envs, r->final_value);
}

int rollout_engine_collect(rollout_engine *r, controller *c, const ppo_config *ppo,
                           rollout_buffer *buf, uint64_t seed, long update, episode_fn on_episode,
                           void *ctx) {
    double start = alrs_now();
    int root = r->rank == 0;
    memset(r->restarts, 0, sizeof(int) * (size_t)r->envs);
    r->failed = 0;
    begin_episodes(r, NULL, seed, update);
    if (episodes_began(r) != 0) return -1;
    size_t obs_bytes = sizeof(double) * (size_t)r->envs * r->obs_size;
    for (int t = 0; t < r->steps; t++) {
        if (root) {
            controller_observe(c, r->obs_raw, r->envs, 1, r->obs);
            policy_act(&c->pol, r->obs, r->envs, r->act_rng, r->action, r->logp, r->value);
            rollout_buffer_record(buf, t, r->obs, r->action, r->logp, r->value);
            rollout_buffer_place(buf, t, r->episode_id, r->episode_step);
        }
        dist_bcast(r->action, sizeof(double) * (size_t)r->envs, 0);
        for_each_env(r, NULL, step_task, NULL);
        rollout_share_outcomes(r);
        if (root) {
            truncation_values(r, c);
            reward_scaler_scale(&c->rewards, r->reward_raw, r->done, r->reward);
            rollout_buffer_outcome(buf, t, r->reward, r->terminated, r->truncated, r->final_value);
        }
        memcpy(r->obs_raw, r->next_raw, obs_bytes);
        for (int e = 0; e < r->envs; e++) r->episode_step[e]++;
        int any_done = 0, restart = 0;
        for (int e = 0; e < r->envs; e++) {
            any_done |= r->done[e];
            restart |= r->done[e] && t + 1 < r->steps;
        }
        if (any_done) rollout_deliver_episodes(r, 1, on_episode, ctx);
        /* an environment whose child diverged early begins a new episode */
        if (restart) {
            for (int e = 0; e < r->envs; e++) r->done[e] = r->done[e] && t + 1 < r->steps;
            begin_episodes(r, r->done, seed, update);
            if (episodes_began(r) != 0) return -1;
        }
    }
    rollout_deliver_episodes(r, 0, on_episode, ctx);
    if (root) {
        controller_observe(c, r->obs_raw, r->envs, 0, r->obs);
        policy_value(&c->pol, r->obs, r->envs, r->value);
        rollout_buffer_gae(buf, r->value, ppo->gamma, ppo->lambda);
        if (ppo->advantage == PPO_ADVANTAGE_GROUP)
            rollout_buffer_group_advantages(buf, r->seed_group, r->value, ppo->gamma);
    }
    r->collect_s = alrs_now() - start;
    return 0;
}
