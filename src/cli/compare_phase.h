/* One phase of alrs compare (tuning or evaluation): its runs, the records
 * already on disk, running the rest through the run queue, and the phase's
 * CSV. Under MPI (mpirun -np R alrs compare) run j belongs to rank j mod R;
 * each rank runs its own through its queue, then the ranks hand their
 * finished runs (records and traces) to rank 0, the only one that reads or
 * writes DIR. A run's figures depend only on the run, so the CSVs equal one
 * process's. */
#ifndef ALRS_CLI_COMPARE_PHASE_H
#define ALRS_CLI_COMPARE_PHASE_H

#include "cli/compare_flags.h"
#include "data/dataset.h"
#include "report/run_record.h"
#include "run/run_queue.h"

typedef struct {
    const compare_flags *f;
    const char *dir;
    const char *phase; /* "tune" or "eval" */
    int n;
    queued_run *jobs;
    const char **schedule; /* per job */
    char (*spec)[SCHEDULE_SPEC_MAX];
    char (*file)[4200];    /* the run's record: DIR/runs/NAME.txt */
    run_record *rec;
    unsigned char *have;   /* finished (on disk, or just run) */
    unsigned char *mine;   /* run here in this invocation, not yet on disk (other ranks) */
    trace_point **trace;   /* kept until handed to rank 0 */
    int *n_trace;
    int finished, recorded_before;
    double start;
} phase_runs;

void phase_alloc(phase_runs *p, const compare_flags *f, const char *dir, const char *phase,
                 int capacity);
void phase_free(phase_runs *p);
/* Adds the run of grid point g on `seed`, recorded as DIR/runs/NAME.txt. */
void phase_add(phase_runs *p, const char *schedule, const grid_point *g, long seed,
               const char *name);
/* Runs what is not recorded yet. 0 when all ran, 1 when a signal stopped it
 * (the finished runs are on disk), -1 with a message (on every rank). */
int phase_run(phase_runs *p, const dataset *data);
/* 1 when every run of the phase is recorded. */
int phase_complete(const phase_runs *p);
/* The finished run of `schedule` with the lowest finite best validation
 * loss (the first of equals); -1 if none. */
int phase_best(const phase_runs *p, const char *schedule);
/* traces.csv from the runs' trace files (rank 0). */
int phase_write_traces(const phase_runs *p);

#endif
