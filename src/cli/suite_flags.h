/* The flags of alrs suite, its task and methods files, and the configuration
 * they resolve to. The tuned track's settings are alrs compare's own flags
 * (--baselines, --rates, --seeds, --tune-*, --threads-per-run, --concurrency,
 * --shard, --out), parsed by compare_flags so that they mean the same in
 * both commands; the tasks and methods come from their files. */
#ifndef ALRS_CLI_SUITE_FLAGS_H
#define ALRS_CLI_SUITE_FLAGS_H

#include "cli/compare_flags.h"
#include "settings/suite_file.h"
#include "cli/suite_methods.h"
#include "settings/suite_tasks.h"

/* The tuned track when --baselines is not given: the schedules a practitioner
 * would sweep today, and schedule-free AdamW over its rate. */
#define SUITE_DEFAULT_TUNED "cosine,warmup-cosine,linear,wsd,onecycle,schedulefree"

typedef struct {
    args cmdline;          /* the command line: tasks start from its child-run flags */
    compare_flags cmp;     /* tuned track, seeds, concurrency, --out (no --controller) */
    const char *tasks_path, *methods_path;
    suite_file task_file, method_file;
    suite_task *tasks;     /* [n_tasks] */
    suite_method *methods; /* [n_methods] */
    int n_tasks, n_methods;
    grid_point *points;    /* [n_tasks][n_methods]: each method's run on each task */
} suite_flags;

/* Parses the flags and reads both files; every method is checked against
 * every task. With a message naming the flag, or FILE:LINE: -1 for a command
 * line (or a line of its files) that cannot run, -2 for a file that cannot
 * be read. */
int suite_flags_parse(int argc, char **argv, suite_flags *f);
void suite_flags_free(suite_flags *f);
/* Prints the help: the suite's flags, then compare's that it shares. */
void suite_flags_print_help(FILE *out);
/* config.txt's text: the settings, every task and method resolved, each
 * controller's fingerprint; free it. */
char *suite_flags_config_text(const suite_flags *f);
/* 1 when `name` is a schedule of the tuned track. */
int suite_is_tuned(const suite_flags *f, const char *name);

#endif
