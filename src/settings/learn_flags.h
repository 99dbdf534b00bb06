/* The flags of alrs learn (and alrs bench rollout): the child-run flags, the
 * environment's, the rollout engine's and PPO's. */
#ifndef ALRS_SETTINGS_LEARN_FLAGS_H
#define ALRS_SETTINGS_LEARN_FLAGS_H

#include "settings/learn_tasks.h"
#include "settings/run_flags.h"
#include "env/lr_env.h"
#include "rl/ppo.h"

typedef struct {
    run_flags run;
    lr_env_config env;
    ppo_config ppo;
    long episodes, updates, envs, threads_per_env, concurrency, action_every, trace_every;
    long seed_group;
    int resume;
    learn_tasks tasks; /* --tasks FILE (tasks.path NULL: the one child of the flags) */
} learn_flags;

/* The --help lines of alrs learn's own flags (the child-run flags' are
 * run_flags_print_help's); the switches the command reads itself (--check)
 * only with command_switches (alrs learn has them, bench rollout not). */
void learn_flags_print_help(FILE *out, int command_switches);
/* -1 with a message naming the flag (or FILE:LINE of --tasks) on a bad
 * value, -2 when the --tasks file cannot be read. --out is read, not
 * required (alrs learn requires it; bench rollout and the library's
 * environment have no run directory). The task file stays read until
 * learn_flags_free. */
int learn_flags_parse(args *a, learn_flags *f);
void learn_flags_free(learn_flags *f);
/* DIR/config.txt: every value resolved and the command that repeats the run. */
int learn_flags_write_config(const learn_flags *f);
/* For --resume: -1 with a message naming the first setting in which DIR's
 * config.txt differs from these flags (only the number of episodes may). */
int learn_flags_check_resume(const learn_flags *f);

#endif
