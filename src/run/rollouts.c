#include "run/rollouts.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timer.h"

/* Episodes one environment may begin in one batch: one per agent step at
 * most, and agent steps are at most --steps (≤ 1e8 < 2^27). */
#define MAX_RESTARTS (1L << 27)

long rollout_episode_id(long update, int envs, int env, int restart) {
    if (restart >= MAX_RESTARTS) alrs_panic("more than %ld episodes in one batch", MAX_RESTARTS);
    return ((update * envs + env) * MAX_RESTARTS) + restart;
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
        for (int e = team; e < r->envs; e += r->concurrency) {
            if (lr_env_create(&r->env[e], cfg, data) == 0) continue;
            failed++;
#pragma omp critical(rollout_create_error)
            if (!first_error[0]) snprintf(first_error, sizeof first_error, "%s", alrs_error());
        }
    }
    return failed ? alrs_fail("%s", first_error) : 0;
}

int rollout_engine_create(rollout_engine *r, const lr_env_config *cfg, const dataset *data,
                          int envs, int threads_per_env, int concurrency) {
    memset(r, 0, sizeof *r);
    if (envs < 1) return alrs_fail("--envs %d: must be at least 1", envs);
    if (threads_per_env < 1)
        return alrs_fail("--threads-per-env %d: must be at least 1", threads_per_env);
    r->envs = envs;
    r->threads_per_env = threads_per_env;
    if (teams_init(&r->teams, 1, 1) != 0) return -1; /* counts the cores */
    /* by default as many teams as the cores hold; the rest run in waves */
    int fit = r->teams.n_cores / threads_per_env > 0 ? r->teams.n_cores / threads_per_env : 1;
    r->concurrency = concurrency > 0 ? concurrency : fit;
    if (r->concurrency > envs) r->concurrency = envs;
    teams_free(&r->teams);
    if (teams_init(&r->teams, r->concurrency, threads_per_env) != 0) return -1;
    r->env = alrs_calloc((size_t)envs, sizeof *r->env);
    if (create_envs(r, cfg, data) != 0) {
        rollout_engine_free(r);
        return -1;
    }
    r->steps = r->env[0].n_agent;
    size_t eo = (size_t)envs * LR_ENV_OBS, en = (size_t)envs;
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
    return 0;
}

void rollout_engine_free(rollout_engine *r) {
    if (r->env)
        for (int e = 0; e < r->envs; e++) lr_env_free(&r->env[e]);
    free(r->env);
    void *bufs[] = {r->obs_raw, r->obs,    r->next_raw,   r->next_obs,   r->action,
                    r->logp,    r->value,  r->reward_raw, r->reward,     r->final_value,
                    r->terminated, r->truncated, r->done, r->act_rng, r->restarts};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++) free(bufs[k]);
    teams_free(&r->teams);
    memset(r, 0, sizeof *r);
}

/* Runs fn(r, e) for every environment flagged in `which` (NULL: all), the
 * environments spread over `concurrency` teams, each team pinned and sized. */
typedef void (*env_task)(rollout_engine *r, int e, void *arg);

static void for_each_env(rollout_engine *r, const unsigned char *which, env_task fn, void *arg) {
#pragma omp parallel num_threads(r->concurrency)
    {
        int team = omp_get_thread_num();
        teams_bind(&r->teams, team);
        omp_set_num_threads(r->threads_per_env);
        for (int e = team; e < r->envs; e += r->concurrency) {
            if (which && !which[e]) continue;
            fn(r, e, arg);
        }
    }
}

typedef struct {
    uint64_t seed;
    long update;
} reset_arg;

static void reset_task(rollout_engine *r, int e, void *arg) {
    const reset_arg *a = arg;
    long id = rollout_episode_id(a->update, r->envs, e, r->restarts[e]);
    r->restarts[e]++;
    r->act_rng[e] = rng_make(a->seed ^ 0xac7104ULL, (uint64_t)id);
    lr_env_reset(&r->env[e], a->seed, id, r->obs_raw + (size_t)e * LR_ENV_OBS);
}

static void step_task(rollout_engine *r, int e, void *arg) {
    (void)arg;
    int term, trunc;
    lr_env_step(&r->env[e], r->action[e], r->next_raw + (size_t)e * LR_ENV_OBS, &r->reward_raw[e],
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

void rollout_engine_collect(rollout_engine *r, controller *c, const ppo_config *ppo, rollout *buf,
                            uint64_t seed, long update, episode_fn on_episode, void *ctx) {
    double start = alrs_now();
    reset_arg ra = {seed, update};
    memset(r->restarts, 0, sizeof(int) * (size_t)r->envs);
    for_each_env(r, NULL, reset_task, &ra);
    size_t obs_bytes = sizeof(double) * (size_t)r->envs * LR_ENV_OBS;
    for (int t = 0; t < r->steps; t++) {
        controller_observe(c, r->obs_raw, r->envs, 1, r->obs);
        policy_act(&c->pol, r->obs, r->envs, r->act_rng, r->action, r->logp, r->value);
        rollout_record(buf, t, r->obs, r->action, r->logp, r->value);
        for_each_env(r, NULL, step_task, NULL);
        truncation_values(r, c);
        reward_scaler_scale(&c->rewards, r->reward_raw, r->done, r->reward);
        rollout_outcome(buf, t, r->reward, r->terminated, r->truncated, r->final_value);
        memcpy(r->obs_raw, r->next_raw, obs_bytes);
        int restart = 0;
        for (int e = 0; e < r->envs; e++) {
            if (r->done[e] && on_episode) on_episode(ctx, e, lr_env_episode_record(&r->env[e]), 1);
            restart |= r->done[e] && t + 1 < r->steps;
        }
        /* an environment whose child diverged early begins a new episode */
        if (restart) {
            for (int e = 0; e < r->envs; e++) r->done[e] = r->done[e] && t + 1 < r->steps;
            for_each_env(r, r->done, reset_task, &ra);
        }
    }
    for (int e = 0; e < r->envs; e++)
        if (!lr_env_episode_record(&r->env[e])->done && on_episode)
            on_episode(ctx, e, lr_env_episode_record(&r->env[e]), 0);
    controller_observe(c, r->obs_raw, r->envs, 0, r->obs);
    policy_value(&c->pol, r->obs, r->envs, r->value);
    rollout_gae(buf, r->value, ppo->gamma, ppo->lambda);
    r->collect_s = alrs_now() - start;
}
