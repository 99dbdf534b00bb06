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

#endif
