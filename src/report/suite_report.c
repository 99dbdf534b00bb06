#include "report/suite_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fileio.h"
#include "report/stats.h"


/* One task and method's figures. */
typedef struct {
    int runs, diverged, tuned;
    sample_stats loss, acc;
    double regret, diff_mean, p_paired, p_holm;
} cell;

static const char *track_name(int tuned) { return tuned ? "tuned" : "self-tuning"; }

static int write_runs(const suite_report *r) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/suite.csv", r->dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "task,method,track,seed,test_loss,test_acc,best_step,wall_s\n");
    for (int i = 0; i < r->n_rows; i++) {
        const suite_row *w = &r->rows[i];
        fprintf(a.f, "%s,%s,%s,%ld,%.6f,%.6f,%ld,%.3f\n", r->task_names[w->task],
                w->rec.schedule, track_name(w->tuned), w->rec.seed, w->rec.test_loss,
                w->rec.test_acc, w->rec.best_step, w->rec.wall_s);
    }
    return atomic_commit(&a);
}

/* The test losses (or accuracies) of method `method` on task t, in row order. */
static int values_of(const suite_report *r, int t, const char *method, int acc, double *x) {
    int m = 0;
    for (int i = 0; i < r->n_rows; i++) {
        const suite_row *w = &r->rows[i];
        if (w->task == t && !strcmp(w->rec.schedule, method))
            x[m++] = acc ? w->rec.test_acc : w->rec.test_loss;
    }
    return m;
}

/* The paired figures of method m against the reference on task t: the runs
 * of both on the same seed, finite in both. */
static void pair_with_reference(const suite_report *r, int t, const char *method, cell *c) {
    c->diff_mean = c->p_paired = NAN;
    const char *ref = r->method_names[0];
    if (!strcmp(method, ref)) return;
    double *x = alrs_calloc((size_t)r->n_rows + 1, sizeof *x);
    double *y = alrs_calloc((size_t)r->n_rows + 1, sizeof *y);
    int n = 0;
    for (int i = 0; i < r->n_rows; i++) {
        const suite_row *a = &r->rows[i];
        if (a->task != t || strcmp(a->rec.schedule, method)) continue;
        for (int j = 0; j < r->n_rows; j++) {
            const suite_row *b = &r->rows[j];
            if (b->task != t || strcmp(b->rec.schedule, ref) || b->rec.seed != a->rec.seed)
                continue;
            x[n] = a->rec.test_loss, y[n++] = b->rec.test_loss;
        }
    }
    paired_result p = stats_paired_t(x, y, n);
    c->diff_mean = p.mean, c->p_paired = p.p;
    free(x);
    free(y);
}

static cell summarize_cell(const suite_report *r, int t, const char *method) {
    cell c;
    memset(&c, 0, sizeof c);
    double *x = alrs_calloc((size_t)r->n_rows + 1, sizeof *x);
    c.runs = values_of(r, t, method, 0, x);
    c.loss = stats_summarize(x, c.runs);
    values_of(r, t, method, 1, x);
    c.acc = stats_summarize(x, c.runs);
    free(x);
    for (int i = 0; i < r->n_rows; i++)
        if (r->rows[i].task == t && !strcmp(r->rows[i].rec.schedule, method))
            c.diverged += r->rows[i].rec.diverged, c.tuned = r->rows[i].tuned;
    pair_with_reference(r, t, method, &c);
    return c;
}

/* The task's reference loss: its best tuned mean, or the best of any method
 * when nothing was tuned. */
static double reference_loss(const cell *cells, int n) {
    double best_tuned = INFINITY, best_any = INFINITY;
    for (int m = 0; m < n; m++) {
        if (!cells[m].runs || !isfinite(cells[m].loss.mean)) continue;
        if (cells[m].tuned && cells[m].loss.mean < best_tuned) best_tuned = cells[m].loss.mean;
        if (cells[m].loss.mean < best_any) best_any = cells[m].loss.mean;
    }
    return isfinite(best_tuned) ? best_tuned : best_any;
}

/* Every cell of task t: figures, regret, and Holm over the task's rows. */
static void summarize_task(const suite_report *r, int t, cell *cells) {
    double *p = alrs_calloc((size_t)r->n_methods, sizeof *p);
    for (int m = 0; m < r->n_methods; m++) {
        cells[m] = summarize_cell(r, t, r->method_names[m]);
        p[m] = cells[m].p_paired;
    }
    stats_holm(p, r->n_methods, p);
    double ref = reference_loss(cells, r->n_methods);
    for (int m = 0; m < r->n_methods; m++) {
        cells[m].p_holm = p[m];
        cells[m].regret = (cells[m].loss.mean - ref) / ref;
    }
    free(p);
}

static int write_summary(const suite_report *r, const cell *cells) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/suite-summary.csv", r->dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "task,method,track,runs,diverged,test_loss_mean,test_loss_std,test_acc_mean,"
                 "regret,diff_mean,p_paired,p_holm\n");
    for (int t = 0; t < r->n_tasks; t++)
        for (int m = 0; m < r->n_methods; m++) {
            const cell *c = &cells[t * r->n_methods + m];
            if (!c->runs) continue;
            fprintf(a.f, "%s,%s,%s,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.6g,%.6g\n",
                    r->task_names[t], r->method_names[m], track_name(c->tuned), c->runs,
                    c->diverged, c->loss.mean, c->loss.std, c->acc.mean, c->regret,
                    c->diff_mean, c->p_paired, c->p_holm);
        }
    return atomic_commit(&a);
}

/* Per method over the tasks: mean and worst regret, tasks within 5 % of the
 * reference, and the tasks where it beats or loses to the first method
 * (p_holm < 0.05). */
static void print_table(const suite_report *r, const cell *cells, FILE *out) {
    fprintf(out, "%-24s %-11s %5s  %11s  %11s  %9s  %9s\n", "method", "track", "tasks",
            "mean regret", "worst", "within 5%", "vs first");
    for (int m = 0; m < r->n_methods; m++) {
        double sum = 0, worst = -INFINITY;
        int n = 0, within = 0, better = 0, worse = 0, tuned = 0;
        for (int t = 0; t < r->n_tasks; t++) {
            const cell *c = &cells[t * r->n_methods + m];
            if (!c->runs) continue;
            tuned = c->tuned;
            n++, sum += c->regret, within += c->regret <= 0.05;
            if (c->regret > worst) worst = c->regret;
            if (c->p_holm < 0.05) better += c->diff_mean < 0, worse += c->diff_mean > 0;
        }
        if (!n) continue;
        char vs[32] = "-";
        if (m) snprintf(vs, sizeof vs, "+%d -%d", better, worse);
        fprintf(out, "%-24s %-11s %5d  %10.1f%%  %10.1f%%  %4d/%-4d  %9s\n", r->method_names[m],
                track_name(tuned), n, 100 * sum / n, 100 * worst, within, n, vs);
    }
    int any_tuned = 0;
    for (int k = 0; k < r->n_tasks * r->n_methods; k++) any_tuned |= cells[k].runs && cells[k].tuned;
    fprintf(out, "Regret: (mean test loss - the task's best %s mean) / that mean. vs first: "
                 "tasks where the method's loss is lower (+) or higher (-) than %s's, paired by "
                 "seed, Holm-corrected p < 0.05.\n",
            any_tuned ? "tuned" : "(no schedule tuned: any method's)", r->method_names[0]);
}

int suite_report_write(const suite_report *r, FILE *out) {
    cell *cells = alrs_calloc((size_t)(r->n_tasks * r->n_methods) + 1, sizeof *cells);
    for (int t = 0; t < r->n_tasks; t++) summarize_task(r, t, &cells[t * r->n_methods]);
    int rc = write_runs(r) == 0 && write_summary(r, cells) == 0 ? 0 : -1;
    if (rc == 0) print_table(r, cells, out);
    free(cells);
    return rc;
}
