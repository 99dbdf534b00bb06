#include "report/compare_report.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"

/* The figures of the records of one schedule, for stats. */
static int collect(const run_record *evals, int n, const char *schedule, size_t offset,
                   double *out) {
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(evals[i].schedule, schedule))
            out[m++] = *(const double *)((const char *)&evals[i] + offset);
    return m;
}

static void summarize_one(const run_record *evals, int n, const char *schedule,
                          compare_summary *s) {
    memset(s, 0, sizeof *s);
    snprintf(s->schedule, sizeof s->schedule, "%s", schedule);
    double *x = alrs_malloc(sizeof(double) * (size_t)(n + 1));
    int m = collect(evals, n, schedule, offsetof(run_record, test_loss), x);
    s->runs = m;
    s->test_loss = stats_summarize(x, m);
    collect(evals, n, schedule, offsetof(run_record, test_acc), x);
    s->test_acc = stats_summarize(x, m);
    collect(evals, n, schedule, offsetof(run_record, final_test_loss), x);
    s->final_test_loss = stats_summarize(x, m);
    collect(evals, n, schedule, offsetof(run_record, final_test_acc), x);
    s->final_test_acc = stats_summarize(x, m);
    free(x);
    s->lr = NAN;
    for (int i = 0; i < n; i++) {
        if (strcmp(evals[i].schedule, schedule)) continue;
        s->diverged += evals[i].diverged;
        snprintf(s->spec, sizeof s->spec, "%s", evals[i].spec);
        snprintf(s->optimizer, sizeof s->optimizer, "%s", evals[i].optimizer);
        s->lr = evals[i].lr;
    }
}

static welch_result against_controller(const run_record *evals, int n, const char *schedule,
                                       size_t offset) {
    welch_result none = {NAN, NAN, NAN};
    if (!strcmp(schedule, "controller")) return none;
    double *x = alrs_malloc(sizeof(double) * (size_t)(n + 1));
    double *c = alrs_malloc(sizeof(double) * (size_t)(n + 1));
    int nx = collect(evals, n, schedule, offset, x);
    int nc = collect(evals, n, "controller", offset, c);
    welch_result w = nc ? stats_welch(x, nx, c, nc) : none;
    free(x);
    free(c);
    return w;
}

static double field(const run_record *r, size_t offset) {
    return *(const double *)((const char *)r + offset);
}

/* The figure at `offset` of schedule's records (x) and of the reference's
 * record with the same seed (y), for the seeds both have. */
static int collect_pairs(const run_record *evals, int n, const char *schedule,
                         const char *reference, size_t offset, double *x, double *y) {
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(evals[i].schedule, schedule)) continue;
        for (int j = 0; j < n; j++)
            if (!strcmp(evals[j].schedule, reference) && evals[j].seed == evals[i].seed) {
                x[m] = field(&evals[i], offset);
                y[m++] = field(&evals[j], offset);
                break;
            }
    }
    return m;
}

/* The paired tests of schedule against reference; p_holm is filled later,
 * over the whole table. */
static paired_comparison against_reference(const run_record *evals, int n, const char *schedule,
                                           const char *reference, size_t offset) {
    paired_comparison c;
    double *x = alrs_malloc(sizeof(double) * (size_t)(n + 1));
    double *y = alrs_malloc(sizeof(double) * (size_t)(n + 1));
    int m = strcmp(schedule, reference) ? collect_pairs(evals, n, schedule, reference, offset, x, y)
                                        : 0; /* the reference has no test against itself */
    c.diff = stats_paired_t(x, y, m);
    c.wilcoxon = stats_wilcoxon(x, y, m);
    c.p_holm = NAN;
    free(x);
    free(y);
    return c;
}

/* Holm's correction of the rows' paired p-values, one family per figure:
 * every schedule is tested against the same reference, so the chance of a
 * false "beats" grows with the rows unless corrected. */
static void holm_over_rows(compare_summary *s, int n, size_t member) {
    double *p = alrs_malloc(sizeof(double) * (size_t)(n + 1));
    for (int k = 0; k < n; k++) p[k] = ((paired_comparison *)((char *)&s[k] + member))->diff.p;
    stats_holm(p, n, p);
    for (int k = 0; k < n; k++) ((paired_comparison *)((char *)&s[k] + member))->p_holm = p[k];
    free(p);
}

/* The controller when it is a row, else the first row. */
static int reference_row(const char *const *schedules, int n_schedules) {
    for (int k = 0; k < n_schedules; k++)
        if (!strcmp(schedules[k], "controller")) return k;
    return 0;
}

void compare_summarize(const run_record *evals, int n, const char *const *schedules,
                       int n_schedules, compare_summary *out) {
    if (n_schedules <= 0) return;
    const char *reference = schedules[reference_row(schedules, n_schedules)];
    for (int k = 0; k < n_schedules; k++) {
        summarize_one(evals, n, schedules[k], &out[k]);
        out[k].p_loss = against_controller(evals, n, schedules[k], offsetof(run_record, test_loss));
        out[k].p_acc = against_controller(evals, n, schedules[k], offsetof(run_record, test_acc));
        out[k].is_reference = !strcmp(schedules[k], reference);
        out[k].paired_loss = against_reference(evals, n, schedules[k], reference,
                                               offsetof(run_record, test_loss));
        out[k].paired_acc = against_reference(evals, n, schedules[k], reference,
                                              offsetof(run_record, test_acc));
    }
    holm_over_rows(out, n_schedules, offsetof(compare_summary, paired_loss));
    holm_over_rows(out, n_schedules, offsetof(compare_summary, paired_acc));
}

int compare_write_runs(const char *path, const run_record *evals, int n) {
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "schedule,spec,optimizer,lr,seed,best_val_loss,best_step,test_loss,test_acc,"
                 "final_test_loss,final_test_acc,diverged,steps,wall_s\n");
    for (int i = 0; i < n; i++) {
        const run_record *r = &evals[i];
        fprintf(a.f, "%s,\"%s\",%s,%.9g,%ld,%.6f,%ld,%.6f,%.6f,%.6f,%.6f,%d,%ld,%.3f\n",
                r->schedule, r->spec, r->optimizer, r->lr, r->seed, r->best_val_loss, r->best_step,
                r->test_loss, r->test_acc, r->final_test_loss, r->final_test_acc, r->diverged,
                r->steps_done, r->wall_s);
    }
    return atomic_commit(&a);
}

static void print_stats(FILE *f, const sample_stats *s) {
    fprintf(f, ",%.6f,%.6f,%.6f,%.6f", s->mean, s->std, s->ci_lo, s->ci_hi);
}

static void print_paired(FILE *f, const paired_comparison *c) {
    fprintf(f, ",%.6f,%.6f,%.6f,%.6g,%.6g,%.6g", c->diff.mean, c->diff.ci_lo, c->diff.ci_hi,
            c->diff.p, c->wilcoxon.p, c->p_holm);
}

int compare_write_summary(const char *path, const compare_summary *s, int n) {
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "schedule,spec,optimizer,lr,runs,diverged,"
                 "test_loss_mean,test_loss_std,test_loss_ci95_lo,test_loss_ci95_hi,"
                 "test_loss_p_vs_controller,"
                 "test_acc_mean,test_acc_std,test_acc_ci95_lo,test_acc_ci95_hi,"
                 "test_acc_p_vs_controller,final_test_loss_mean,final_test_acc_mean,"
                 "diff_mean,diff_ci_low,diff_ci_high,p_paired,p_wilcoxon,p_holm,"
                 "acc_diff_mean,acc_diff_ci_low,acc_diff_ci_high,acc_p_paired,acc_p_wilcoxon,"
                 "acc_p_holm\n");
    for (int k = 0; k < n; k++) {
        fprintf(a.f, "%s,\"%s\",%s,%.9g,%d,%d", s[k].schedule, s[k].spec, s[k].optimizer, s[k].lr,
                s[k].runs,
                s[k].diverged);
        print_stats(a.f, &s[k].test_loss);
        fprintf(a.f, ",%.6g", s[k].p_loss.p);
        print_stats(a.f, &s[k].test_acc);
        fprintf(a.f, ",%.6g,%.6f,%.6f", s[k].p_acc.p, s[k].final_test_loss.mean,
                s[k].final_test_acc.mean);
        print_paired(a.f, &s[k].paired_loss);
        print_paired(a.f, &s[k].paired_acc);
        fprintf(a.f, "\n");
    }
    return atomic_commit(&a);
}

int compare_write_tuning(const char *path, const run_record *tunes, const double *point_mean,
                         const int *selected, int n) {
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "schedule,spec,optimizer,lr,seed,best_val_loss,best_step,diverged,"
                 "point_mean_val_loss,selected,wall_s\n");
    for (int i = 0; i < n; i++) {
        const run_record *r = &tunes[i];
        fprintf(a.f, "%s,\"%s\",%s,%.9g,%ld,%.6f,%ld,%d,%.6f,%d,%.3f\n", r->schedule, r->spec,
                r->optimizer, r->lr,
                r->seed, r->best_val_loss, r->best_step, r->diverged, point_mean[i], selected[i],
                r->wall_s);
    }
    return atomic_commit(&a);
}

static void print_p(FILE *out, double p) {
    if (isnan(p)) fprintf(out, "  %8s", "-");
    else if (p < 1e-4) fprintf(out, "  %8.1e", p);
    else fprintf(out, "  %8.4f", p);
}

/* "+0.0161 [+0.0117, +0.0204]", or "-" for the reference row. */
static void print_difference(FILE *out, const paired_result *d) {
    if (isnan(d->mean)) fprintf(out, "  %-26s", "-");
    else fprintf(out, "  %+.4f [%+.4f, %+.4f]", d->mean, d->ci_lo, d->ci_hi);
}

void compare_print_table(FILE *out, const compare_summary *s, int n, const char *dataset) {
    /* widths as displayed: "0.3125 ± 0.0100" is 15 characters but 16 bytes */
    fprintf(out, "%-14s %-34s %9s %5s  %-18s%-16s  %-26s  %8s  %8s\n", "schedule", "spec", "lr",
            "runs", "test loss", "test accuracy", "loss - ref [95 % CI]", "p(loss)", "p(acc)");
    const char *reference = "-";
    for (int k = 0; k < n; k++) {
        char spec[35];
        snprintf(spec, sizeof spec, "%s", !strncmp(s[k].spec, "controller:", 11) ? "controller"
                                                                                : s[k].spec);
        fprintf(out, "%-14s %-34s %9.3g %5d  %.4f ± %.4f   %.4f ± %.4f ", s[k].schedule, spec,
                s[k].lr, s[k].runs, s[k].test_loss.mean, s[k].test_loss.std, s[k].test_acc.mean,
                s[k].test_acc.std);
        print_difference(out, &s[k].paired_loss.diff);
        print_p(out, s[k].paired_loss.p_holm);
        print_p(out, s[k].paired_acc.p_holm);
        fprintf(out, "%s\n", s[k].diverged ? "  (some diverged)" : "");
        if (s[k].is_reference) reference = s[k].schedule;
    }
    fprintf(out, "Test figures at the best-validation point; mean ± sample std over seeds. Against "
                 "%s (ref) seed by seed: loss - ref, the mean paired difference of test loss with "
                 "its 95 %% t interval; p: paired t-test, Holm-adjusted over the rows (p_holm, "
                 "acc_p_holm of compare-summary.csv, which also has Welch's and Wilcoxon's p).\n",
            reference);
    if (!strcmp(dataset, "fashion-mnist"))
        fprintf(out, "Paper, Table 1 (Fashion-MNIST): step-decay baseline test loss 0.2497, "
                     "accuracy 0.9102; learned schedule 0.2351, 0.9201.\n");
}
