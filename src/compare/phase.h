/* One phase of alrs compare (tuning or evaluation): its runs, the records
 * already on disk, running the rest through the run queue, and the phase's
 * CSV. Under MPI (mpirun -np R alrs compare) run j belongs to rank j mod R;
 * each rank runs its own through its queue, then the ranks hand their
 * finished runs (records and traces) to rank 0, the only one that reads or
 * writes DIR. A run's figures depend only on the run, so the CSVs equal one
 * process's. */
#ifndef ALRS_COMPARE_PHASE_H
#define ALRS_COMPARE_PHASE_H

#include "data/dataset.h"
#include "core/fileio.h"
#include "report/run_record.h"
#include "run/run_queue.h"
#include "sched/baselines.h"

/* How a phase's runs are run: the run queue's settings, and which share of
 * the runs this invocation takes (--shard I/N; 0/1: all). */
typedef struct {
    run_queue_config queue;
    long shard, shards;
    const char *who; /* the command its progress lines name (NULL: compare) */
} phase_config;

/* One run of a phase: what it is, where it is recorded, what it gave. */
typedef struct {
    const char *schedule;  /* its baseline's name */
    int point;             /* its grid point (tuning runs a point on several seeds) */
    char spec[SCHEDULE_SPEC_MAX];
    char optimizer[64];    /* the optimizer it trains with: its row's own, else --optimizer */
    char file[ALRS_FILE_PATH_MAX]; /* its record: DIR/runs/NAME.txt */
    run_record rec;
    unsigned char have;    /* finished (on disk, or just run) */
    unsigned char mine;    /* run here in this invocation, not yet on disk (other ranks) */
    trace_point *trace;    /* kept until handed to rank 0 */
    int n_trace;
} phase_entry;

typedef struct {
    const phase_config *cfg;
    const char *dir;
    const char *phase; /* "tune" or "eval" */
    int n;
    queued_run *jobs;  /* [n]: what the run queue runs (spec and optimizer point into runs[j]) */
    phase_entry *runs; /* [n] */
    int finished, recorded_before;
    double start;
} phase_runs;

void phase_alloc(phase_runs *p, const phase_config *cfg, const char *dir, const char *phase,
                 int capacity);
void phase_free(phase_runs *p);
/* Adds the run of grid point g (number `point` of its schedule's grid) on
 * `seed`, recorded as DIR/runs/NAME.txt. */
void phase_add(phase_runs *p, const char *schedule, const grid_point *g, int point, long seed,
               const char *name);
/* Runs what is not recorded yet. 0 when all ran, 1 when a signal stopped it
 * (the finished runs are on disk), -1 with a message (on every rank). */
int phase_run(phase_runs *p, const dataset *data);
/* 1 when every run of the phase is recorded. */
int phase_complete(const phase_runs *p);
/* The grid point of `schedule` whose runs have the lowest mean best
 * validation loss over their seeds (the first of equals), as the index of
 * its first run; -1 if none. A point counts only when all its runs are
 * finished and every one validated (a run that diverged before its first
 * validation has none). */
int phase_best(const phase_runs *p, const char *schedule);
/* The mean best validation loss of the point of run j over its seeds (NaN
 * when one is missing or not finite). */
double phase_point_mean(const phase_runs *p, int j);
/* traces.csv from the runs' trace files (rank 0). */
int phase_write_traces(const phase_runs *p);

/* What a comparison tunes and evaluates: each schedule's grid (sched/
 * baselines.h) on the tuning seeds tune_seed, tune_seed - 1, ..., then each
 * winner on the evaluation seeds seed_base, seed_base + 1, .... alrs compare
 * sets up its one task so, alrs suite each of its tasks. */
typedef struct {
    const char *const *schedules;
    int n_schedules;
    long steps;             /* the runs' length, which the grids depend on */
    int budget;             /* --tune-budget: grid points a schedule gets */
    baseline_controller controller; /* what the controller rows run (path NULL: none) */
    const double *rates;
    int n_rates;
    long tune_seeds, tune_seed, seeds, seed_base;
} phase_setup;

/* Schedule k's grid points into g (BASELINE_MAX_POINTS of them); their count
 * (sched/baselines.h: controller-default is one point, so its "tuning" only
 * repeats that point on the tuning seeds). */
int phase_setup_points(const phase_setup *ps, int k, grid_point *g);
/* Tuning runs: every point of every schedule on every tuning seed, named
 * tune-SCHEDULE-PP-seedS. */
void phase_add_tuning(phase_runs *p, const phase_setup *ps);
/* Evaluation runs of grid point g on the evaluation seeds, recorded as
 * schedule `name` in files eval-NAME-seedS. */
void phase_add_evaluation(phase_runs *p, const phase_setup *ps, const char *name,
                          const grid_point *g);
/* The evaluation runs of each schedule's tuning winner (phase_best over
 * `tune`). A schedule whose every tuning run diverged before its first
 * validation is left out with a warning (naming `task` when not NULL); with
 * `announce`, each winner is named with its mean best validation loss. Rank 0
 * prints, on stderr, as the phases' command (phase_config's who). */
void phase_add_winners(phase_runs *eval, const phase_runs *tune, const phase_setup *ps,
                       const char *task, int announce);

#endif
