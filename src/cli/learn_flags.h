/* The flags of alrs learn (and alrs bench rollout): the child-run flags, the
 * environment's, the rollout engine's and PPO's. */
#ifndef ALRS_CLI_LEARN_FLAGS_H
#define ALRS_CLI_LEARN_FLAGS_H

#include "cli/run_flags.h"
#include "env/lr_env.h"
#include "rl/ppo.h"

typedef struct {
    run_flags run;
    lr_env_config env;
    ppo_config ppo;
    long episodes, updates, envs, threads_per_env, concurrency, action_every, trace_every;
    long seed_group;
    int resume;
} learn_flags;

extern const char learn_flags_help[];
/* -1 with a message naming the flag on a bad value. --out is read, not
 * required (alrs learn requires it; bench rollout and the library's
 * environment have no run directory). */
int learn_flags_parse(args *a, learn_flags *f);
/* DIR/config.txt: every value resolved and the command that repeats the run. */
int learn_flags_write_config(const learn_flags *f);
/* For --resume: -1 with a message naming the first setting in which DIR's
 * config.txt differs from these flags (only the number of episodes may). */
int learn_flags_check_resume(const learn_flags *f);

#endif
