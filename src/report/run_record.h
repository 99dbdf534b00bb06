/* One finished run of a comparison, as alrs compare keeps it on disk: a
 * key=value file per run (DIR/runs/<name>.txt, written atomically when the
 * run ends), read back by a restarted comparison to skip the runs already
 * done. Numbers are written with 17 significant digits so that a restarted
 * comparison reports exactly what an uninterrupted one would. */
#ifndef ALRS_REPORT_RUN_RECORD_H
#define ALRS_REPORT_RUN_RECORD_H

#include "run/trainer.h"
#include "sched/schedule.h"

typedef struct {
    char phase[8];     /* "tune" or "eval" */
    char schedule[32]; /* baseline name (sched/baselines.h) */
    char spec[SCHEDULE_SPEC_MAX]; /* the schedule spec as run */
    char optimizer[64]; /* the optimizer that ran (a row's own, or the run's --optimizer);
                           "" in a record written before records named it */
    double lr;
    long seed;
    long steps_done;
    int diverged;
    double best_val_loss;
    long best_step;
    double test_loss, test_acc, final_val_loss, final_val_acc, final_test_loss, final_test_acc;
    double wall_s;
} run_record;

/* The record of a finished run. */
void run_record_fill(run_record *r, const char *phase, const char *schedule, const char *spec,
                     const char *optimizer, double lr, long seed, const train_outcome *o);
/* Writes the record atomically. -1 with a message on a write error. */
int run_record_write(const run_record *r, const char *path);
/* Reads a record; -1 with a message naming the path and the key at fault. */
int run_record_read(run_record *r, const char *path);

#endif
