/* alrs bench rollout's measurement: batches of episodes through the rollout
 * engine for one layout of E environments with T threads each, timed apart
 * from the PPO updates between them. Collective under MPI: every rank runs
 * its share of the environments, rank 0 holds the controller, counts the
 * episodes of all ranks and times the whole job's batches. */
#ifndef ALRS_BENCH_BENCH_ROLLOUT_H
#define ALRS_BENCH_BENCH_ROLLOUT_H

#include <stdio.h>

#include "data/dataset.h"
#include "settings/learn_flags.h"

typedef struct {
    double collect_s, update_s;
    long episodes, child_steps;
    /* from the four above (rank 0): the rates the command reports */
    double episodes_per_hour, child_steps_per_s, update_share;
} bench_rollout_result;

/* Runs `batches` batches of the layout envs x threads on `data` (f's
 * environment, PPO and seed). Under MPI, where each rank's environments ran
 * goes to `placement` (rank 0 writes; NULL: nowhere) while the engine
 * exists. -1 with a message, on every rank alike. */
int bench_rollout_layout(const learn_flags *f, const dataset *data, int envs, int threads,
                         long batches, FILE *placement, bench_rollout_result *t);

#endif
