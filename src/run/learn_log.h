/* What alrs learn writes besides config.txt: episodes.csv (a row per
 * episode), updates.csv (a row per PPO update), traces/episode-N.csv (what
 * the agent saw, did and got, step by step) and controller.bin. The CSVs are
 * kept in memory and rewritten atomically after each update with the
 * checkpoint (they are small), so a killed run's files always agree; on
 * --resume the rows of the updates the checkpoint holds are read back. */
#ifndef ALRS_RUN_LEARN_LOG_H
#define ALRS_RUN_LEARN_LOG_H

#include <stdio.h>

#include "settings/learn_flags.h"
#include "rl/controller.h"
#include "run/rollout_engine.h"

typedef struct {
    const learn_flags *f;
    char *episodes, *updates;
    size_t episodes_len, updates_len;
    FILE *episodes_f, *updates_f;
    long episode_count, update;
    double update_return_sum, update_final_sum;
    int update_episodes, update_finals;
    int update_complete;   /* episodes that ended in this update (not cut by its end) */
    double start;
} learn_log;

/* Starts the logs: fresh headers, or (done > 0) the rows of updates before
 * `done` from DIR's CSVs. */
int learn_log_open(learn_log *log, const learn_flags *f, long done);
void learn_log_close(learn_log *log);
/* An episode_fn (run/rollout_engine.h): a row of episodes.csv, and env 0's trace
 * every --trace-every updates. */
void learn_log_episode(void *ctx, int env, const lr_env_episode *ep, int complete);
/* The update's row of updates.csv and a progress line on stderr. */
void learn_log_update(learn_log *log, const ppo_stats *st, double collect_s, double update_s);
/* The CSVs and controller.bin, each replaced atomically. */
int learn_log_save(learn_log *log, const controller *c);

#endif
