/* One child training run from start to finish under a schedule or a learned
 * controller, with its validation trace and its test figures: what alrs
 * train runs once and alrs compare runs for every (schedule, seed).
 *
 * A trainer keeps its networks between runs (a child for schedules, a
 * learning-rate environment for controllers, each built on first use and
 * reset for every later run), so a rollout team can run many jobs without
 * reallocating. A run seeded S starts from the same weights and batch order
 * whatever drives its rate: schedules use child_run_reset(S), controllers
 * lr_env_start(S).
 *
 * Protocol: `steps` training steps; a validation every `eval_every` steps and
 * after the last. A controller acts at each validation (its action_every is
 * eval_every), in the environment its checkpoint describes (features,
 * actions, residual base), choosing its actions as `act` says (the policy's
 * mode unless set otherwise; sampling draws from a stream of the run's seed,
 * so a run still depends only on its schedule, rate and seed). A training loss that is NaN,
 * infinite or above CHILD_DIVERGENCE_LOSS ends the run as diverged (the next validation is not
 * run); test figures then come from the best validation point, if any.
 *
 * A schedule run uses the optimizer t->child.optimizer names when it starts:
 * a caller may change it between runs (alrs compare's rows that bring their
 * own optimizer), and the child is then built again for it. */
#ifndef ALRS_RUN_TRAINER_H
#define ALRS_RUN_TRAINER_H

#include <stdint.h>

#include "env/lr_env.h"
#include "core/fileio.h"
#include "rl/controller.h"
#include "child/child.h"
#include "run/train_outcome.h"
#include "sched/schedule.h"

/* Called after every trace row (for a progress line). */
typedef void (*trainer_progress_fn)(void *ctx, const trace_point *p, long total_steps);

typedef struct {
    child_config child;
    long steps, eval_every;
    const dataset *data;
    child_run run;         /* for schedules */
    lr_env env;            /* for controllers */
    controller ctrl;
    controller_act act;    /* how the controller acts: mode (default) */
    /* alrs train: the run is saved to checkpoint_path every checkpoint_every
     * steps (0: never) and when a signal stops it (check_interrupt); with
     * resume set it starts from there (run/train_checkpoint.h). NULL: none */
    const char *checkpoint_path;
    long checkpoint_every;
    int resume;
    child_test_progress_fn test_progress; /* reports the final test evaluation; NULL: none */
    void *test_progress_ctx;
    char ctrl_path[ALRS_PATH_MAX];  /* the loaded controller's checkpoint ("" if none) */
    char run_optimizer[64];         /* the optimizer `run` was built with */
    int have_run, have_env, have_ctrl;
    child_run *last;       /* the child of the last run */
} trainer;

/* Records the protocol; builds nothing yet. -1 with a message for steps or
 * eval_every below 1. */
int trainer_init(trainer *t, const child_config *cc, long steps, long eval_every,
                 const dataset *data);
void trainer_free(trainer *t);
/* Hands the trainer a controller already read from `path` (it frees it), so
 * that a caller that checked the file runs the bytes it checked instead of
 * reading the file again. */
void trainer_adopt_controller(trainer *t, const char *path, controller *c);

/* Runs schedule s from learning rate lr (the schedule was parsed with it as
 * base) on seed `seed`, into out (whose trace it fills; free with
 * train_outcome_free). If check_interrupt, the run stops early when SIGINT or
 * SIGTERM arrives (out->interrupted), after the step in progress, and is
 * saved when t->checkpoint_path is set. -1 with a message when a network or a
 * controller cannot be built or loaded, or a checkpoint not written or read. */
int trainer_run(trainer *t, schedule *s, double lr, uint64_t seed, int check_interrupt,
                trainer_progress_fn progress, void *ctx, train_outcome *out);

/* The child network of the last run (for metadata). */
const child_run *trainer_child(const trainer *t);

#endif
