/* The reports of alrs suite, rebuilt from every task's evaluation records:
 *
 *   suite.csv          task,method,track,seed,test_loss,test_acc,best_step,wall_s
 *                      one row per evaluation run (track: tuned or self-tuning)
 *   suite-summary.csv  per task and method: runs, diverged, mean and std of
 *                      the test loss, mean test accuracy, the relative regret
 *                      (mean - ref) / ref against the task's best tuned mean
 *                      (the best mean of any method when no schedule is
 *                      tuned), and against the first method (the reference,
 *                      paired by seed): the mean difference (method - first),
 *                      the paired t-test's p and that p after Holm's correction
 *                      over the task's other methods
 *
 * and a table on `out`: per method, its regret over the tasks. The test loss
 * is at the best-validation point, as compare reports it. */
#ifndef ALRS_REPORT_SUITE_REPORT_H
#define ALRS_REPORT_SUITE_REPORT_H

#include <stdio.h>

#include "report/run_record.h"

typedef struct {
    int task;  /* index into the report's tasks */
    int tuned; /* 1: the tuned track, 0: self-tuning */
    run_record rec; /* its schedule field is the method's name */
} suite_row;

typedef struct {
    const char *dir;
    const suite_row *rows;
    int n_rows, n_tasks;
    const char *const *task_names;   /* [n_tasks] */
    const char *const *method_names; /* [n_methods]: the first is the reference */
    int n_methods;
} suite_report;

/* Writes both CSVs into dir (atomically) and prints the table. */
int suite_report_write(const suite_report *r, FILE *out);

#endif
