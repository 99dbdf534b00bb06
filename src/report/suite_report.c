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

/* A row's place in the sorted lists the cells are read from: every cell
 * (task, method) is one stretch of rows, so that the report takes
 * O(rows log rows) however many tasks, methods and seeds there are. */
typedef struct {
    int task;
    const char *method;
    long seed;
    int row;
} row_key;

/* The rows sorted twice: by_cell by task, method and row (a cell's rows in
 * row order), by_seed by task, method, seed and row (a seed's rows of a cell). */
typedef struct {
    row_key *by_cell, *by_seed;
    int n;
} row_index;

/* Negative, zero or positive as k comes before, within or after the stretch
 * of (task, method[, *seed]). */
static int key_vs(const row_key *k, int task, const char *method, const long *seed) {
    if (k->task != task) return k->task < task ? -1 : 1;
    int c = strcmp(k->method, method);
    if (c || !seed) return c;
    return k->seed < *seed ? -1 : k->seed > *seed;
}

static int by_cell_order(const void *pa, const void *pb) {
    const row_key *a = pa, *b = pb;
    int c = key_vs(a, b->task, b->method, NULL);
    return c ? c : (a->row > b->row) - (a->row < b->row);
}

static int by_seed_order(const void *pa, const void *pb) {
    const row_key *a = pa, *b = pb;
    int c = key_vs(a, b->task, b->method, &b->seed);
    return c ? c : (a->row > b->row) - (a->row < b->row);
}

static void index_rows(const suite_report *r, row_index *ix) {
    ix->n = r->n_rows;
    ix->by_cell = alrs_calloc((size_t)r->n_rows + 1, sizeof *ix->by_cell);
    ix->by_seed = alrs_calloc((size_t)r->n_rows + 1, sizeof *ix->by_seed);
    for (int i = 0; i < r->n_rows; i++) {
        const suite_row *w = &r->rows[i];
        row_key k = {w->task, w->rec.schedule, w->rec.seed, i};
        ix->by_cell[i] = ix->by_seed[i] = k;
    }
    qsort(ix->by_cell, (size_t)ix->n, sizeof *ix->by_cell, by_cell_order);
    qsort(ix->by_seed, (size_t)ix->n, sizeof *ix->by_seed, by_seed_order);
}

static void index_free(row_index *ix) {
    free(ix->by_cell);
    free(ix->by_seed);
}

/* The stretch [*lo, *hi) of the sorted keys that is (task, method[, *seed]). */
static void stretch(const row_key *keys, int n, int task, const char *method, const long *seed,
                    int *lo, int *hi) {
    int a = 0, b = n;
    while (a < b) { /* the first key not before the stretch */
        int mid = a + (b - a) / 2;
        if (key_vs(&keys[mid], task, method, seed) < 0) a = mid + 1;
        else b = mid;
    }
    *lo = a;
    b = n;
    while (a < b) { /* the first key after it */
        int mid = a + (b - a) / 2;
        if (key_vs(&keys[mid], task, method, seed) <= 0) a = mid + 1;
        else b = mid;
    }
    *hi = a;
}

/* The paired figures of method m against the reference on task t: the runs
 * of both on the same seed, finite in both. The method's rows [lo, hi) of
 * by_cell. */
static void pair_with_reference(const suite_report *r, const row_index *ix, int t,
                                const char *method, int lo, int hi, cell *c) {
    c->diff_mean = c->p_paired = NAN;
    const char *ref = r->method_names[0];
    if (!strcmp(method, ref)) return;
    int pairs = 0;
    for (int i = lo; i < hi; i++) {
        int blo, bhi;
        stretch(ix->by_seed, ix->n, t, ref, &ix->by_cell[i].seed, &blo, &bhi);
        pairs += bhi - blo;
    }
    double *x = alrs_calloc((size_t)pairs + 1, sizeof *x);
    double *y = alrs_calloc((size_t)pairs + 1, sizeof *y);
    int n = 0;
    for (int i = lo; i < hi; i++) {
        const suite_row *a = &r->rows[ix->by_cell[i].row];
        int blo, bhi;
        stretch(ix->by_seed, ix->n, t, ref, &a->rec.seed, &blo, &bhi);
        for (int j = blo; j < bhi; j++)
            x[n] = a->rec.test_loss, y[n++] = r->rows[ix->by_seed[j].row].rec.test_loss;
    }
    paired_result p = stats_paired_t(x, y, n);
    c->diff_mean = p.mean, c->p_paired = p.p;
    free(x);
    free(y);
}

static cell summarize_cell(const suite_report *r, const row_index *ix, int t,
                           const char *method) {
    cell c;
    memset(&c, 0, sizeof c);
    int lo, hi;
    stretch(ix->by_cell, ix->n, t, method, NULL, &lo, &hi);
    c.runs = hi - lo;
    double *loss = alrs_calloc((size_t)c.runs + 1, sizeof *loss);
    double *acc = alrs_calloc((size_t)c.runs + 1, sizeof *acc);
    for (int i = lo; i < hi; i++) {
        const suite_row *w = &r->rows[ix->by_cell[i].row];
        loss[i - lo] = w->rec.test_loss, acc[i - lo] = w->rec.test_acc;
        c.diverged += w->rec.diverged, c.tuned = w->tuned;
    }
    c.loss = stats_summarize(loss, c.runs);
    c.acc = stats_summarize(acc, c.runs);
    free(loss);
    free(acc);
    pair_with_reference(r, ix, t, method, lo, hi, &c);
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
static void summarize_task(const suite_report *r, const row_index *ix, int t, cell *cells) {
    double *p = alrs_calloc((size_t)r->n_methods, sizeof *p);
    for (int m = 0; m < r->n_methods; m++) {
        cells[m] = summarize_cell(r, ix, t, r->method_names[m]);
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
    row_index ix;
    index_rows(r, &ix);
    for (int t = 0; t < r->n_tasks; t++) summarize_task(r, &ix, t, &cells[t * r->n_methods]);
    index_free(&ix);
    int rc = write_runs(r) == 0 && write_summary(r, cells) == 0 ? 0 : -1;
    if (rc == 0) print_table(r, cells, out);
    free(cells);
    return rc;
}
