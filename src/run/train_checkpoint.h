/* A run of alrs train, saved while it runs and taken up again later
 * (--checkpoint-every N, SIGINT/SIGTERM, --resume): DIR/checkpoint.bin.
 *
 * File: core/bytes.h's container, magic "ALRSTRAN", version 2 (1 is read:
 * its trace rows have no d); payload:
 *   u32 kind (0 schedule, 1 controller), u64 seed, f64 lr,
 *   progress: u64 step, f64 loss sum and u64 count since the last
 *             validation, f64 seconds so far
 *   outcome:  f64 last validation loss and accuracy, i64 resident KiB at
 *             the first validation, u64 rows, rows x (f64 step, lr,
 *             train_loss, val_loss, val_acc, wall_s, d)
 *   schedule: f64 plateau rate, best; u64 bad epochs, cooldown left
 *   kind 0:   the child run (child_run_save)
 *   kind 1:   the sampling stream (u64 key, counter), the episode (lr_env_save)
 * What a run depends on is all there (weights, batchnorm statistics, the
 * best-validation snapshot, the optimizer's state, the batch order's
 * position, the schedule's and the controller's state, the trace), so a
 * resumed run ends with the figures an uninterrupted one has, bit for bit
 * (with the same threads and backend; alrs train checks its config.txt).
 *
 * It knows nothing of the trainer (run/trainer.h, which calls it): it is
 * given the parts of a run it saves and loads. */
#ifndef ALRS_RUN_TRAIN_CHECKPOINT_H
#define ALRS_RUN_TRAIN_CHECKPOINT_H

#include <stdint.h>

#include "child/child.h"
#include "core/rng.h"
#include "env/lr_env.h"
#include "run/train_outcome.h"
#include "sched/schedule.h"

#define TRAIN_CHECKPOINT_MAGIC "ALRSTRAN"
#define TRAIN_CHECKPOINT_VERSION 2u

/* Where a run stands between steps. */
typedef struct {
    long step;          /* training steps done */
    double loss_sum;    /* training losses since the last validation */
    long loss_count;
    double elapsed_s;   /* seconds of training so far (over every invocation) */
    long saved_at;      /* the step of the last checkpoint (not saved in it) */
} train_progress;

/* Writes the run (after `p.step` of its steps under schedule s, with its
 * outcome so far) to `path` atomically; -1 with a message. `pick` is the
 * controller's sampling stream, and env the run's environment; for a
 * schedule run pick is NULL and `run` the child (the other is not read). */
int train_checkpoint_save(const char *path, const child_run *run, const lr_env *env,
                          const schedule *s, const train_outcome *o, const train_progress *p,
                          uint64_t seed, double lr, const rng_stream *pick);
/* Reads it into a run of `steps` steps just started on the same seed (the
 * child `run` after child_run_reset, or with pick, the environment `env`
 * after lr_env_start), the schedule, the outcome and the progress; -1 with a
 * message naming the file. */
int train_checkpoint_load(const char *path, child_run *run, lr_env *env, long steps,
                          schedule *s, train_outcome *o, train_progress *p, uint64_t seed,
                          double lr, rng_stream *pick);

#endif
