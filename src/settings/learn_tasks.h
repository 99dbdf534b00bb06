/* alrs learn --tasks FILE: the controller learns across a task suite
 * (docs/TASKS.md). The file is read and resolved as alrs suite reads it
 * (settings/suite_file.h, settings/suite_tasks.h), on top of the learn command's own
 * child-run flags; each distinct data set (data set, directory, split, label
 * noise, training size) is loaded once and shared read-only by every
 * environment; env/lr_env.h draws a task per episode. */
#ifndef ALRS_SETTINGS_LEARN_TASKS_H
#define ALRS_SETTINGS_LEARN_TASKS_H

#include "settings/config_text.h"
#include "settings/suite_tasks.h"
#include "env/lr_env.h"

typedef struct {
    const char *path;      /* NULL: no --tasks */
    suite_file file;
    suite_task *tasks;     /* [n] */
    int n;
    dataset *sets;         /* [n_sets] the distinct data sets, once loaded */
    int n_sets;
    int *set_of;           /* [n] the data set of each task */
    lr_env_task *env_tasks; /* [n] what the environments draw from, once loaded */
    char every_text[24];   /* --action-every as the tasks' default eval-every */
} learn_tasks;

/* Reads and resolves `path` on top of the command line `cmdline`. Every task
 * must validate at the controller's interval: a task without eval-every
 * takes action_every, one with another value is refused. -1 with "FILE:LINE:
 * task NAME: ..." for a line that cannot run, -2 when the file cannot be read. */
int learn_tasks_read(learn_tasks *t, const char *path, const args *cmdline, long action_every);
/* Loads each distinct data set once and builds env_tasks; a task whose batch
 * or validation size its data cannot give is refused with FILE:LINE. -1 with
 * a message (a file that does not load is named with the task's line). */
int learn_tasks_load(learn_tasks *t);
void learn_tasks_free(learn_tasks *t);
/* The longest task's agent steps at action_every. */
long learn_tasks_max_agent_steps(const learn_tasks *t, long action_every);
/* --tasks FILE and every task resolved (task.NAME=...) into config.txt, so
 * that a changed task file refuses --resume. */
void learn_tasks_settings(config_text *c, const learn_tasks *t);
/* The name of task k (episodes.csv), "" for -1 (no tasks). */
const char *learn_tasks_name(const learn_tasks *t, int k);

#endif
