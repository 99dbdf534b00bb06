/* The rollout buffer: T steps x E environments of experience in flat arrays,
 * and generalised advantage estimation (GAE, Schulman et al. 2016) over it.
 *
 * Index of step t of environment e: i = t * E + e (time-major, so one step of
 * all environments is contiguous and can be written with one memcpy).
 *
 * Per step, the caller records what the policy saw and did, then what
 * happened:
 *   rollout_buffer_record   obs (normalised, as the policy saw it), action,
 *                           logp, value
 *   rollout_buffer_outcome  reward (scaled), terminated, truncated, and for a
 *                           truncated step the critic's value of the real
 *                           final observation (the environment has already
 *                           reset, so the next stored obs is the new
 *                           episode's first).
 * terminated: the episode ended for good; its next state is worth 0.
 * truncated:  the episode was cut (a time limit); the next state was worth
 *             final_value, so GAE bootstraps from it instead of from 0.
 *
 * Order per update:  collect T steps (rollout_buffer_record,
 *   rollout_buffer_outcome) -> rollout_buffer_gae(last_value = V(obs after
 *   step T-1)) -> ppo_update -> reuse the buffer (no clearing needed: every
 *   cell is overwritten). */
#ifndef ALRS_RL_ROLLOUT_BUFFER_H
#define ALRS_RL_ROLLOUT_BUFFER_H

#include <stddef.h>

typedef struct {
    int steps, envs, obs_size; /* T, E, D */
    double *obs;               /* [T][E][D] */
    double *action;            /* [T][E] */
    double *logp;              /* [T][E] log-prob of the action when taken */
    double *value;             /* [T][E] V(obs) when taken */
    double *reward;            /* [T][E] */
    unsigned char *terminated; /* [T][E] */
    unsigned char *truncated;  /* [T][E] */
    double *final_value;       /* [T][E] V(final obs), read only where truncated */
    double *advantage;         /* [T][E] written by rollout_buffer_gae */
    double *ret;               /* [T][E] advantage + value: the critic's target */
    long *episode;             /* [T][E] which child the step belongs to (rollout_buffer_place) */
    int *episode_step;         /* [T][E] the step's place within its episode (0: the first) */
    double *to_go;             /* [T][E] scratch of rollout_buffer_group_advantages */
} rollout_buffer;

/* -1 with a message for non-positive sizes. */
int rollout_buffer_init(rollout_buffer *b, int steps, int envs, int obs_size);
void rollout_buffer_free(rollout_buffer *b);
/* Step t, all E environments: obs [E][D], action/logp/value [E]. */
void rollout_buffer_record(rollout_buffer *b, int t, const double *obs, const double *action,
                           const double *logp, const double *value);
/* Step t's outcome: reward [E], terminated/truncated [E] (NULL: none),
 * final_value [E] (NULL allowed when nothing is truncated). */
void rollout_buffer_outcome(rollout_buffer *b, int t, const double *reward,
                            const unsigned char *terminated, const unsigned char *truncated,
                            const double *final_value);

/* Step t, all E environments: the episode each step belongs to (an id that
 * two environments share when they train the same child: same task, seed,
 * weights and batches) and its place within that episode. Only
 * rollout_buffer_group_advantages reads them. */
void rollout_buffer_place(rollout_buffer *b, int t, const long *episode, const int *episode_step);

/* Advantages and returns for all T x E steps. last_value [E]: the critic's
 * value of each environment's observation after the last step.
 *   next_v_t = 0 if terminated_t; final_value_t if truncated_t;
 *              value_{t+1} otherwise (last_value after the last step)
 *   delta_t  = r_t + gamma next_v_t - value_t
 *   A_t      = delta_t + gamma lambda A_{t+1}, the sum cut where an episode
 *              ended (terminated or truncated) and after the last step. */
void rollout_buffer_gae(rollout_buffer *b, const double *last_value, double gamma, double lambda);

/* Leave-one-out group advantages (RLOO, Kool et al. 2019), after
 * rollout_buffer_gae, for environments in groups of `group` (e, e+1, ..
 * from a multiple of group) that train the same child with their own
 * actions. A step's peers are the other members of its group at the same
 * place of the same episode (rollout_buffer_place). Where it has peers,
 *   A_t = G_t - mean over peers of their G_t,
 * G_t the return to go (gamma, bootstrapped like GAE where an episode was cut:
 * final_value where truncated, last_value after the last step). The peers saw
 * the same weights and batches, so their mean takes out what the child, task
 * and rate scale make of the return, and what is left is the actions'
 * doing: a baseline the critic cannot give across tasks whose returns differ
 * far more than actions move them. Unbiased up to the running reward and
 * observation normalisers all environments share: a peer's return does not
 * depend on this environment's actions. At later steps the difference also
 * holds what the members' earlier actions did (more variance, no bias). A
 * step without peers (its child diverged and a new episode began) keeps its
 * GAE advantage, on another scale: rare where children seldom diverge (0.3 %
 * of the episodes of issue 19's runs), and then better matched on (episode,
 * place) across steps or left out of the policy loss. ret (the critic's
 * target) stays GAE's. Returns the number of steps that had peers. */
long rollout_buffer_group_advantages(rollout_buffer *b, int group, const double *last_value,
                                     double gamma);

/* 1 - Var(ret - value) / Var(ret) over the buffer (how much of the return the
 * critic explained when the data was collected); NaN if Var(ret) is 0. */
double rollout_buffer_explained_variance(const rollout_buffer *b);

#endif
