/* The flags of alrs compare and the configuration file they resolve to. */
#ifndef ALRS_CLI_COMPARE_FLAGS_H
#define ALRS_CLI_COMPARE_FLAGS_H

#include <stdio.h>

#include "compare/phase.h"
#include "settings/run_flags.h"
#include "sched/baselines.h"

#define COMPARE_MAX_SCHEDULES 16

typedef struct {
    run_flags run;
    const char *controller; /* checkpoint path, or NULL */
    const char *baselines_text;
    const char *rates_text;                  /* --rates ("": r7) */
    double rates[BASELINE_MAX_RATES];
    int n_rates;                             /* 0: r7 */
    const char *schedules[COMPARE_MAX_SCHEDULES]; /* "controller" first when given */
    char names[COMPARE_MAX_SCHEDULES][32];
    int n_schedules;
    long seeds, seed_base, tune_seed, tune_seeds, tune_budget, threads_per_run, concurrency;
    const char *shard_text; /* --shard as given, or NULL */
    long shard, shards; /* --shard I/N: this invocation runs runs j with j mod N == I
                           (0/1: all); not part of the configuration */
    unsigned long controller_crc; /* crc32 of the checkpoint file */
    long controller_bytes;
    char controller_optimizer[64]; /* the optimizer it learned on ("": --optimizer's) */
    double controller_default_lr;  /* its recorded default rate (0: none) */
} compare_flags;

/* --help's lines of compare's own flags, but those named in `skip` (a NULL-
 * terminated list of flag names without "--"; NULL: none). */
void compare_flags_print_help(FILE *out, const char *const *skip);
/* -1 with a message naming the flag on a bad value. */
int compare_flags_parse(args *a, compare_flags *f);
/* Reads --controller's checkpoint (-1 with a message if it cannot be) and
 * fingerprints it: a restarted comparison must run the same controller, not
 * merely one at the same path. Keeps the optimizer it learned on (its rows
 * run with it; --optimizer is the other rows') and its default rate, which
 * the row controller-default needs (-1 with a message when it has none). */
int compare_flags_read_controller(compare_flags *f);
/* The tuning and evaluation these flags ask for, of runs of `steps` steps
 * (alrs suite: a task's). */
phase_setup compare_flags_setup(const compare_flags *f, long steps);
/* The resolved configuration as config.txt's text (key=value lines and the
 * command that repeats the comparison); free it. */
char *compare_flags_config_text(const compare_flags *f);

#endif
