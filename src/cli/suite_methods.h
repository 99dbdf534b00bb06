/* The methods of the self-tuning track (a methods file, docs/TASKS.md): one
 * setting each, run unchanged on every task of the suite, never tuned.
 *
 *   adam-cosine    optimizer=adam schedule=cosine lr=1e-3
 *   prodigy-cosine optimizer=prodigy schedule=cosine lr=1
 *   controller     controller=PATH [lr=X] [optimizer=X]
 *
 * A schedule's spec is resolved for each task's length (cosine's tmax, the
 * warm-ups' W), so one line means the same shape on a 300- and a 3000-step
 * task. A controller must fit every task: it acts at each validation, so a
 * task must validate every K steps where K is the interval it learned with,
 * and the rate must lie within its bounds. */
#ifndef ALRS_CLI_SUITE_METHODS_H
#define ALRS_CLI_SUITE_METHODS_H

#include "settings/suite_file.h"
#include "settings/suite_tasks.h"
#include "env/lr_env.h"
#include "sched/baselines.h"

typedef struct {
    const char *name;
    int line;
    const char *optimizer;  /* NULL: the task's (--optimizer, adam) */
    const char *schedule;   /* the spec as written, or NULL for a controller */
    const char *controller; /* checkpoint path, or NULL */
    double lr;
    lr_env_interface iface; /* the controller's */
    unsigned long controller_crc;
    long controller_bytes;
} suite_method;

extern const char *const suite_method_keys[];
/* The rate of a controller line without lr= whose file has no default rate
 * (the --lr default). */
#define SUITE_CONTROLLER_DEFAULT_LR 1e-3

/* Checks and reads every line of `f` (read with noun "method"): keys, rate,
 * optimizer name, schedule spec; a controller's checkpoint is loaded and
 * fingerprinted. With "FILE:LINE: method NAME: ...": -2 when a checkpoint
 * cannot be read (at run time), -1 for a bad line. */
int suite_methods_resolve(const suite_file *f, suite_method *out);
/* The run of method m on task t: its resolved spec and rate. -1 with
 * "FILE:LINE: method NAME does not fit task T: ..." when a controller does
 * not fit the task or the spec does not resolve for its length. */
int suite_method_point(const suite_method *m, const suite_task *t, const char *methods_path,
                       grid_point *out);

#endif
