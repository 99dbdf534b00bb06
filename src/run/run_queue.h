/* Many independent child runs at once: the engine alrs compare uses.
 *
 * Jobs (a schedule spec, a rate, a seed) are taken in order by `concurrency`
 * teams of `threads_per_run` OpenMP threads, each team pinned to its own
 * cores (run/teams.h) and owning one trainer, built on the team's thread on
 * its first job (oneDNN sizes its work for the threads of the creating
 * thread) and reused for the next. A job's result depends only on the job,
 * never on the team or the order: a run seeded S is the same alone or among
 * a hundred (for a fixed threads_per_run).
 *
 * Finished jobs are handed to `done` one at a time (under a lock), in the
 * order they finish; the caller records them (alrs compare writes each to
 * disk at once, so a killed comparison loses only the runs in flight). */
#ifndef ALRS_RUN_RUN_QUEUE_H
#define ALRS_RUN_RUN_QUEUE_H

#include <stdint.h>

#include "data/dataset.h"
#include "child/child.h"
#include "run/trainer.h"

typedef struct {
    const char *spec; /* schedule spec; "controller:PATH" for a controller */
    double lr;
    uint64_t seed;
    const char *optimizer; /* the job's own optimizer; NULL or "": child.optimizer */
} queued_run;

typedef struct {
    child_config child;
    long steps, eval_every;
    int concurrency;     /* teams; 0: as many as the cores hold */
    int threads_per_run; /* threads per team */
    controller_act act;  /* how controller runs act (trainer.h) */
} run_queue_config;

/* Returns 0 to go on, -1 (with a message) to stop the queue. */
typedef int (*run_done_fn)(void *ctx, int job, const queued_run *run, const train_outcome *o);
/* Called (under the lock) as a job starts, for progress reports; may be NULL. */
typedef void (*run_start_fn)(void *ctx, int job, const queued_run *run);

/* Runs every job whose skip[job] is 0 (skip may be NULL). Returns 0 when all
 * ran; 1 when SIGINT/SIGTERM stopped it (the runs in flight are dropped, the
 * finished ones were handed to done); -1 with a message when a job could not
 * run (a bad spec, a network or controller that cannot be built) or done
 * failed. */
int run_queue_execute(const run_queue_config *cfg, const dataset *data, const queued_run *jobs,
                      int n_jobs, const unsigned char *skip, run_start_fn start, run_done_fn done,
                      void *ctx);

/* The number of teams run_queue_execute uses for n_jobs jobs. */
int run_queue_teams(const run_queue_config *cfg, int n_jobs);

#endif
