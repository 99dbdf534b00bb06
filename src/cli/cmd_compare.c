/* alrs compare: a learned controller and hand-made schedules, each tuned on
 * the same budget, then run on the same evaluation seeds.
 *
 * Phases: (1) tuning: every schedule's grid (sched/baselines.h) on the
 * tuning seed; the point with the lowest best validation loss wins; (2)
 * evaluation: each winner on seeds seed_base .. seed_base+seeds-1, test
 * figures at the best-validation point and at the end; (3) the reports
 * (report/compare_report.h). All runs of a phase go through the run queue
 * (run/run_queue.h), many at once on pinned teams.
 *
 * Every finished run is written at once to DIR/runs/<name>.txt (and its
 * trace beside it); the CSVs are rebuilt from those. Rerunning the same
 * command finds them and runs only what is missing, so a killed comparison
 * loses at most the runs in flight. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/compare_flags.h"
#include "core/config.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/interrupt.h"
#include "core/timer.h"
#include "data/dataset.h"
#include "report/compare_report.h"
#include "report/run_record.h"
#include "run/run_queue.h"

static const char compare_help[] =
    "usage: alrs compare --out DIR [flags]\n"
    "Tunes every schedule on the same budget (one tuning seed), runs each winner on the\n"
    "same evaluation seeds, and writes DIR/compare.csv, compare-summary.csv, tuning.csv,\n"
    "traces.csv, config.txt and runs/ (one record per finished run). Rerun the same\n"
    "command to continue an interrupted comparison. Child-run flags as for alrs train\n"
    "(not --lr, --seed, --threads: see below).\n";

/* One phase's runs and what is known of them. */
typedef struct {
    const compare_flags *f;
    const char *dir;
    const char *phase; /* "tune" or "eval" */
    int n;
    queued_run *jobs;
    const char **schedule; /* per job */
    char (*spec)[SCHEDULE_SPEC_MAX];
    char (*file)[4200];    /* the run's record */
    run_record *rec;
    unsigned char *have;
    int finished, recorded_before;
    double start;
} phase_runs;

static void phase_alloc(phase_runs *p, const compare_flags *f, const char *dir, const char *phase,
                        int capacity) {
    memset(p, 0, sizeof *p);
    p->f = f, p->dir = dir, p->phase = phase;
    size_t c = (size_t)(capacity > 0 ? capacity : 1);
    p->jobs = alrs_calloc(c, sizeof *p->jobs);
    p->schedule = alrs_calloc(c, sizeof *p->schedule);
    p->spec = alrs_calloc(c, sizeof *p->spec);
    p->file = alrs_calloc(c, sizeof *p->file);
    p->rec = alrs_calloc(c, sizeof *p->rec);
    p->have = alrs_calloc(c, 1);
}

static void phase_free(phase_runs *p) {
    free(p->jobs), free(p->schedule), free(p->spec), free(p->file), free(p->rec), free(p->have);
    memset(p, 0, sizeof *p);
}

static void phase_add(phase_runs *p, const char *schedule, const grid_point *g, long seed,
                      const char *name) {
    int j = p->n++;
    p->schedule[j] = schedule;
    memcpy(p->spec[j], g->spec, sizeof p->spec[j]); /* same size, NUL-terminated */
    p->jobs[j].spec = p->spec[j];
    p->jobs[j].lr = g->lr;
    p->jobs[j].seed = (uint64_t)seed;
    snprintf(p->file[j], sizeof p->file[j], "%s/runs/%s.txt", p->dir, name);
}

/* Reads the records a previous invocation left; each must be the run this
 * comparison wants (same schedule, spec, rate and seed). */
static int phase_load(phase_runs *p) {
    for (int j = 0; j < p->n; j++) {
        if (!path_exists(p->file[j])) continue;
        run_record *r = &p->rec[j];
        if (run_record_read(r, p->file[j]) != 0) return -1;
        if (strcmp(r->phase, p->phase) || strcmp(r->schedule, p->schedule[j]) ||
            strcmp(r->spec, p->jobs[j].spec) || r->lr != p->jobs[j].lr ||
            r->seed != (long)p->jobs[j].seed)
            return alrs_fail("%s: records %s '%s' at lr %g, seed %ld, but this comparison wants "
                             "'%s' at lr %g, seed %ld there (use another --out)",
                             p->file[j], r->schedule, r->spec, r->lr, r->seed, p->jobs[j].spec,
                             p->jobs[j].lr, (long)p->jobs[j].seed);
        p->have[j] = 1;
        p->recorded_before++;
    }
    return 0;
}

/* The finished tuning records with, per schedule, the winner marked. */
static int phase_selected(const phase_runs *p, int j) {
    int best = -1;
    for (int i = 0; i < p->n; i++) {
        if (!p->have[i] || strcmp(p->schedule[i], p->schedule[j])) continue;
        double v = p->rec[i].best_val_loss;
        if (isfinite(v) && (best < 0 || v < p->rec[best].best_val_loss)) best = i;
    }
    return best;
}

/* Rebuilds the phase's CSV from the finished records, in job order. */
static int phase_write_csv(const phase_runs *p) {
    run_record *rows = alrs_calloc((size_t)p->n + 1, sizeof *rows);
    int *selected = alrs_calloc((size_t)p->n + 1, sizeof *selected);
    int m = 0;
    for (int j = 0; j < p->n; j++) {
        if (!p->have[j]) continue;
        selected[m] = phase_selected(p, j) == j;
        rows[m++] = p->rec[j];
    }
    char path[4200];
    int rc;
    if (!strcmp(p->phase, "tune")) {
        snprintf(path, sizeof path, "%s/tuning.csv", p->dir);
        rc = compare_write_tuning(path, rows, selected, m);
    } else {
        snprintf(path, sizeof path, "%s/compare.csv", p->dir);
        rc = compare_write_runs(path, rows, m);
    }
    free(rows);
    free(selected);
    return rc;
}

static int write_trace(const char *record_path, const train_outcome *o) {
    char path[4300];
    snprintf(path, sizeof path, "%.*s.trace.csv", (int)strlen(record_path) - 4, record_path);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "step,lr,train_loss,val_loss,val_acc,wall_s\n");
    for (int i = 0; i < o->n_trace; i++) {
        const trace_point *t = &o->trace[i];
        fprintf(a.f, "%ld,%.9g,%.6f,%.6f,%.6f,%.3f\n", t->step, t->lr, t->train_loss, t->val_loss,
                t->val_acc, t->wall_s);
    }
    return atomic_commit(&a);
}

/* run_queue's done: the record (and trace) on disk first, then the CSV. */
static int on_run_done(void *ctx, int j, const queued_run *run, const train_outcome *o) {
    phase_runs *p = ctx;
    run_record *r = &p->rec[j];
    run_record_fill(r, p->phase, p->schedule[j], run->spec, run->lr, (long)run->seed, o);
    if (!strcmp(p->phase, "eval") && write_trace(p->file[j], o) != 0) return -1;
    if (run_record_write(r, p->file[j]) != 0) return -1;
    p->have[j] = 1;
    p->finished++;
    if (phase_write_csv(p) != 0) return -1;
    int left = p->n - p->recorded_before - p->finished;
    double per_run = (alrs_now() - p->start) / p->finished;
    fprintf(stderr, "compare: %s %d/%d  %-13s lr %-7.3g seed %-5ld best val %.4f%s  (%.1f s; "
                    "about %.0f s left)\n",
            p->phase, p->recorded_before + p->finished, p->n, r->schedule, r->lr, r->seed,
            r->best_val_loss, r->diverged ? " diverged" : "", o->wall_s, left * per_run);
    return 0;
}

static int run_phase(phase_runs *p, const dataset *data) {
    if (phase_load(p) != 0) return -1;
    if (p->recorded_before)
        fprintf(stderr, "compare: %s: %d of %d runs already recorded in %s/runs\n", p->phase,
                p->recorded_before, p->n, p->dir);
    if (p->recorded_before && phase_write_csv(p) != 0) return -1;
    run_queue_config qc = {run_flags_child(&p->f->run), p->f->run.steps, p->f->run.eval_every,
                           (int)p->f->concurrency, (int)p->f->threads_per_run};
    p->start = alrs_now();
    return run_queue_execute(&qc, data, p->jobs, p->n, p->have, NULL, on_run_done, p);
}

static void tuning_jobs(phase_runs *p, const compare_flags *f) {
    for (int k = 0; k < f->n_schedules; k++) {
        grid_point g[BASELINE_MAX_POINTS];
        int n = baseline_grid(f->schedules[k], f->run.steps, (int)f->tune_budget, f->controller, g);
        for (int i = 0; i < n; i++) {
            char name[96];
            snprintf(name, sizeof name, "tune-%s-%02d", f->schedules[k], i);
            phase_add(p, f->schedules[k], &g[i], f->tune_seed, name);
        }
    }
}

/* Each schedule's winning grid point on the evaluation seeds. */
static void eval_jobs(phase_runs *p, const phase_runs *tune, const compare_flags *f) {
    for (int k = 0; k < f->n_schedules; k++) {
        int best = -1;
        for (int j = 0; j < tune->n && best < 0; j++)
            if (!strcmp(tune->schedule[j], f->schedules[k])) best = phase_selected(tune, j);
        if (best < 0) {
            fprintf(stderr, "compare: warning: every tuning run of %s diverged before its first "
                            "validation; it is left out\n", f->schedules[k]);
            continue;
        }
        grid_point g;
        snprintf(g.spec, sizeof g.spec, "%s", tune->spec[best]);
        g.lr = tune->jobs[best].lr;
        fprintf(stderr, "compare: %s tuned: %s at lr %g (best val loss %.4f)\n", f->schedules[k],
                g.spec, g.lr, tune->rec[best].best_val_loss);
        for (long s = 0; s < f->seeds; s++) {
            char name[96];
            snprintf(name, sizeof name, "eval-%s-seed%ld", f->schedules[k], f->seed_base + s);
            phase_add(p, f->schedules[k], &g, f->seed_base + s, name);
        }
    }
}

/* traces.csv: the evaluation runs' traces, one file, schedule and seed first. */
static int write_traces(const phase_runs *p) {
    char path[4200];
    snprintf(path, sizeof path, "%s/traces.csv", p->dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "schedule,seed,step,lr,train_loss,val_loss,val_acc,wall_s\n");
    for (int j = 0; j < p->n; j++) {
        char trace[4300], line[512];
        snprintf(trace, sizeof trace, "%.*s.trace.csv", (int)strlen(p->file[j]) - 4, p->file[j]);
        FILE *in = fopen(trace, "r");
        if (!in) {
            atomic_abort(&a);
            return alrs_fail("%s: missing (a run's trace; remove its .txt record to rerun it)",
                             trace);
        }
        for (int row = 0; fgets(line, sizeof line, in); row++)
            if (row > 0) fprintf(a.f, "%s,%ld,%s", p->schedule[j], (long)p->jobs[j].seed, line);
        fclose(in);
    }
    return atomic_commit(&a);
}

static int write_reports(const phase_runs *eval, const compare_flags *f) {
    compare_summary s[COMPARE_MAX_SCHEDULES];
    compare_summarize(eval->rec, eval->n, f->schedules, f->n_schedules, s);
    char path[4200];
    snprintf(path, sizeof path, "%s/compare-summary.csv", eval->dir);
    if (compare_write_summary(path, s, f->n_schedules) != 0 || write_traces(eval) != 0) return -1;
    printf("%s on %s, %ld steps of batch %ld, %ld seeds (%ld..%ld):\n", f->run.model,
           f->run.dataset, f->run.steps, f->run.batch, f->seeds, f->seed_base,
           f->seed_base + f->seeds - 1);
    compare_print_table(stdout, s, f->n_schedules, f->run.dataset);
    return 0;
}

/* A fresh DIR gets config.txt; an existing one must hold the same configuration. */
static int open_dir(const compare_flags *f, output_dir *out, int *fresh, int *made) {
    static char text[16384];
    compare_flags_config_text(f, text, sizeof text);
    char path[4200];
    snprintf(path, sizeof path, "%s/config.txt", f->run.out);
    *fresh = !path_exists(path);
    if (!*fresh) {
        config_file have, want;
        if (config_read(&have, path) != 0) return -1;
        int rc = config_parse(&want, text, strlen(text), "this comparison");
        /* the command line and the controller's path may be spelled
         * differently; the values and the checkpoint's bytes may not */
        static const char *const ignore[] = {"command", "controller", NULL};
        const char *key = rc == 0 ? config_first_difference(&have, &want, ignore) : NULL;
        if (key) {
            const char *v = config_get(&have, key);
            rc = alrs_fail("--out %s: holds a comparison with %s=%s, this one has %s=%s "
                           "(use another --out, or the same flags to continue it)",
                           f->run.out, key, v ? v : "(none)", key, config_get(&want, key));
        }
        config_free(&have);
        config_free(&want);
        return rc;
    }
    if (make_output_dir(out, f->run.out) != 0) return -1;
    *made = 1;
    snprintf(path, sizeof path, "%s/runs", f->run.out);
    if (make_subdir(path) != 0) return -1;
    snprintf(path, sizeof path, "%s/config.txt", f->run.out);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fputs(text, a.f);
    return atomic_commit(&a);
}

static int compare(compare_flags *f) {
    dataset data;
    if (dataset_load(&data, f->run.dataset, f->run.data_dir, (int)f->run.val_split,
                     (uint64_t)f->run.split_seed) != 0)
        return -1;
    if (!f->run.data_dir[0]) f->run.data_dir = dataset_default_dir(f->run.dataset);
    if (!f->run.val_size) f->run.val_size = data.val.n;
    int fresh = 0, made = 0, rc = -1;
    output_dir out;
    phase_runs tune, eval;
    phase_alloc(&tune, f, f->run.out, "tune", f->n_schedules * BASELINE_MAX_POINTS);
    phase_alloc(&eval, f, f->run.out, "eval", f->n_schedules * (int)f->seeds);
    if (open_dir(f, &out, &fresh, &made) != 0) goto done;
    tuning_jobs(&tune, f);
    rc = run_phase(&tune, &data);
    if (rc == 0) {
        eval_jobs(&eval, &tune, f);
        rc = run_phase(&eval, &data);
    }
    if (rc == 0) rc = write_reports(&eval, f);
    if (rc == 1) {
        alrs_fail("interrupted by %s: %d finished runs are kept in %s/runs; run the same command "
                  "again to continue", interrupt_name(interrupt_requested()),
                  tune.recorded_before + tune.finished + eval.recorded_before + eval.finished,
                  f->run.out);
        rc = -1;
    }
done:
    /* a directory this comparison made is removed only if no run finished in it */
    if (rc != 0 && made && tune.finished + eval.finished == 0)
        remove_output_dir(&out);
    phase_free(&tune);
    phase_free(&eval);
    dataset_free(&data);
    return rc;
}

int cmd_compare(int argc, char **argv) {
    if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("%s%s%s", compare_help, compare_flags_help, run_flags_help);
        return 0;
    }
    args a;
    compare_flags f;
    if (args_parse(&a, argc, argv) != 0 || compare_flags_parse(&a, &f) != 0 ||
        args_check_unused(&a) != 0)
        return cli_report_error();
    interrupt_install();
    if (compare(&f) != 0) return cli_report_error();
    return 0;
}
