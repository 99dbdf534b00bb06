/* The reports of alrs compare: compare.csv (one row per evaluation run),
 * compare-summary.csv (per schedule: mean, std and 95 % interval of the test
 * figures, Welch's p-value against the controller, and the paired
 * comparison with the reference row seed by seed: mean difference with its
 * interval, paired t and Wilcoxon p-values, the paired p after Holm's
 * correction over the table's rows), tuning.csv (every tuning
 * run and which point won), traces.csv (the evaluation runs' validation
 * traces, for plots) and the paper-style table on the terminal. */
#ifndef ALRS_REPORT_COMPARE_REPORT_H
#define ALRS_REPORT_COMPARE_REPORT_H

#include <stdio.h>

#include "report/run_record.h"
#include "report/stats.h"

/* One schedule against the reference row on the seeds both ran: every
 * schedule of a comparison uses the same seeds, hence the same initial
 * weights and batches, so the seed-by-seed differences remove the spread
 * that the seeds cause in both. NaN throughout for the reference itself. */
typedef struct {
    paired_result diff;       /* schedule - reference: mean, 95 % interval, paired t */
    wilcoxon_result wilcoxon; /* signed-rank test of the same differences */
    double p_holm;            /* diff.p after Holm's correction over the table's rows */
} paired_comparison;

typedef struct {
    char schedule[32];
    char spec[SCHEDULE_SPEC_MAX];
    char optimizer[64]; /* the optimizer its runs used */
    double lr;
    int runs, diverged;
    sample_stats test_loss, test_acc, final_test_loss, final_test_acc;
    welch_result p_loss, p_acc; /* against the controller; NaN when absent or itself */
    int is_reference;           /* the row the paired comparisons are against */
    paired_comparison paired_loss, paired_acc; /* test loss, test accuracy */
} compare_summary;

/* Summaries of the evaluation records of each schedule, in `schedules`
 * order (a schedule without records gets runs = 0). The Welch tests compare
 * with the records of "controller" when present. The paired comparisons are
 * against "controller" when it is among the schedules, else against the
 * first schedule; they use the seeds present in both. */
void compare_summarize(const run_record *evals, int n, const char *const *schedules,
                       int n_schedules, compare_summary *out);

/* Each writer replaces the file atomically; -1 with a message. */
int compare_write_runs(const char *path, const run_record *evals, int n);
int compare_write_summary(const char *path, const compare_summary *s, int n);
/* point_mean[i]: the mean best validation loss of run i's grid point over
 * the tuning seeds (what selection compares); selected[i]: 1 for the runs of
 * the winning point of its schedule. */
int compare_write_tuning(const char *path, const run_record *tunes, const double *point_mean,
                         const int *selected, int n);

/* The table: schedule, spec, test loss and accuracy as mean ± std, the
 * paired difference of test loss against the reference row, the Holm-adjusted
 * paired p-values of loss and accuracy; then the paper's Table 1 figures when the data set is
 * Fashion-MNIST. */
void compare_print_table(FILE *out, const compare_summary *s, int n, const char *dataset);

#endif
