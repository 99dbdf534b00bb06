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

/* The commands that read these flags. alrs bench rollout times batches of
 * one child for each --layouts layout: the flags of episodes, environments,
 * tasks, hidden rate scales and the run directory are alrs learn's alone
 * (the table in learn_flags.c marks them). */
typedef enum { LEARN_CMD_LEARN = 1, LEARN_CMD_BENCH_ROLLOUT = 2 } learn_command;

/* The --help lines of the flags `cmd` takes (the child-run flags' are
 * run_flags_print_help's); the switches alrs learn reads itself (--check)
 * are its own. */
void learn_flags_print_help(FILE *out, learn_command cmd);
/* -1 with a message naming the first flag of the table that `cmd` does not
 * take, given in a (before learn_flags_parse, which would read it). */
int learn_flags_refuse_others(const args *a, learn_command cmd);
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
