/* The rollout engine across MPI ranks (run/rollout_engine.h explains the scheme):
 * what the ranks exchange each agent step, the finished episodes' records,
 * and where each rank's environments run. Without MPI (one rank) the
 * exchanges are no-ops. Internal to run/rollout_engine*.c. */
#ifndef ALRS_RUN_ROLLOUT_ENGINE_RANKS_H
#define ALRS_RUN_ROLLOUT_ENGINE_RANKS_H

#include "run/rollout_engine.h"

/* Doubles per environment in a step outcome: the next observation, the raw
 * reward, terminated, truncated. */
size_t rollout_row_len(const rollout_engine *r);
/* Every rank's observations obs_raw [E][obs_size] to every rank. */
void rollout_share_observations(rollout_engine *r);
/* Every rank's step outcomes (next_raw, reward_raw, terminated, truncated)
 * to every rank; done follows from them. */
void rollout_share_outcomes(rollout_engine *r);
/* The episodes that ended this step (complete) or were cut by the end of the
 * batch (!complete), to on_episode in environment order; under MPI every rank
 * sends its records and rank 0 calls on_episode for all of them. */
void rollout_deliver_episodes(rollout_engine *r, int complete, episode_fn on_episode, void *ctx);
/* Every rank's placement to every rank (rollout_engine_placement prints them). */
void rollout_exchange_placements(rollout_engine *r);

#endif
