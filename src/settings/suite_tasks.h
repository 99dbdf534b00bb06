/* The tasks of a suite file (docs/TASKS.md): each line names a child run by
 * the keys of the child-run flags, and resolves to the run_flags that alrs
 * train would build from the same flags. A task starts from the suite
 * command's own child-run flags (--data-dir, --backend, --val-split ... given
 * to alrs suite apply to every task) and its keys override them. */
#ifndef ALRS_SETTINGS_SUITE_TASKS_H
#define ALRS_SETTINGS_SUITE_TASKS_H

#include "settings/args.h"
#include "settings/run_flags.h"
#include "settings/suite_file.h"

typedef struct {
    const char *name;
    int line;
    run_flags run; /* strings point into the suite file and the command line */
} suite_task;

/* The keys a task line may hold, NULL-terminated. */
extern const char *const suite_task_keys[];

/* Resolves every line of `f` (read with noun "task") on top of `base`, the
 * suite command's flags; out[] has room for f->n. -1 with "FILE:LINE: task
 * NAME: ..." for an unknown key or a bad value. */
int suite_tasks_resolve(const suite_file *f, const args *base, suite_task *out);
/* The task as its line of key=value pairs, every key resolved (for
 * config.txt: a changed task is a changed suite). */
void suite_task_describe(const suite_task *t, char *buf, int size);

#endif
