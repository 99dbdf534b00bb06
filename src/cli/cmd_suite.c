/* alrs suite: every method on every task of a suite, in two tracks as
 * AlgoPerf runs them (docs/TASKS.md):
 *   tuned        each schedule of --baselines tuned per task on its grid over
 *                the tuning seeds, as alrs compare tunes, then run on the
 *                evaluation seeds; each task's best tuned mean is the
 *                reference every regret is measured against;
 *   self-tuning  each method of --methods with one setting for every task,
 *                run on the same evaluation seeds, never tuned.
 *
 * Each task is a small comparison of its own in DIR/tasks/NAME (runs/,
 * tuning.csv, compare.csv, traces.csv), run through compare's phases
 * (compare/phase.h) on pinned teams, one task after another; the reports
 * (report/suite_report.h) are rebuilt from every task's records. A killed
 * suite loses only the runs in flight: rerunning the command continues it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/result_dir.h"
#include "cli/suite_flags.h"
#include "compare/phase.h"
#include "core/config.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/interrupt.h"
#include "core/timer.h"
#include "data/dataset.h"
#include "dist/dist.h"
#include "report/suite_report.h"

static const char suite_help[] =
    "usage: alrs suite --tasks FILE --methods FILE --out DIR [flags]\n"
    "Runs every method on every task in two tracks: tuned (each --baselines schedule\n"
    "tuned per task on its grid over the tuning seeds) and self-tuning (each --methods\n"
    "line, one setting for all tasks). Writes DIR/suite.csv, suite-summary.csv (mean,\n"
    "std, regret against the task's best tuned mean, paired Holm p against the first\n"
    "method), config.txt and tasks/NAME/ (each task's runs and CSVs). Rerun the same\n"
    "command to continue; scripts/plot suite draws the performance profile.\n";

/* The data set the tasks train on, read once for all the tasks that share
 * it (the same data set, directory, validation split and split seed; the
 * suites in suites/ have one): each task's variant of the training split
 * (label noise, training size) is made on it and undone after the task. */
typedef struct {
    const run_flags *base; /* the flags it was read by; NULL: none held */
    dataset d;
    uint8_t *labels;       /* the training labels as read */
    int train_n;           /* and their count */
} suite_data;

static int same_text(const char *a, const char *b) { return !strcmp(a ? a : "", b ? b : ""); }

static int same_base(const run_flags *a, const run_flags *b) {
    return same_text(a->dataset, b->dataset) && same_text(a->data_dir, b->data_dir) &&
           a->val_split == b->val_split && a->split_seed == b->split_seed;
}

static void data_free(suite_data *sd) {
    if (sd->base) dataset_free(&sd->d);
    free(sd->labels);
    memset(sd, 0, sizeof *sd);
}

/* Undoes the variant data_take made. */
static void data_give_back(suite_data *sd) {
    sd->d.train.n = sd->train_n;
    memcpy(sd->d.train.labels, sd->labels, (size_t)sd->train_n);
}

/* The data of the task with flags rf, as run_flags_load_data gives it (and
 * with its messages), in sd->d until data_give_back; a data set already held
 * is read again only for another base. -1 with a message. */
static int data_take(suite_data *sd, const run_flags *rf) {
    if (data_variant_check(&rf->variant) != 0) return -1;
    if (!sd->base || !same_base(sd->base, rf)) {
        data_free(sd);
        if (dataset_load(&sd->d, rf->dataset, rf->data_dir, (int)rf->val_split,
                         (uint64_t)rf->split_seed) != 0)
            return -1;
        sd->base = rf;
        sd->train_n = sd->d.train.n;
        sd->labels = alrs_malloc((size_t)sd->train_n + 1);
        memcpy(sd->labels, sd->d.train.labels, (size_t)sd->train_n);
    }
    if (dataset_vary(&sd->d, &rf->variant, (uint64_t)rf->split_seed, NULL) == 0) return 0;
    data_give_back(sd);
    return -1;
}

/* One task's comparison: its data, directory and phases. */
typedef struct {
    const suite_task *task;
    suite_data *sd;
    const dataset *data; /* &sd->d while the task holds it, else NULL */
    char dir[ALRS_FILE_PATH_MAX];
    phase_config pc;
    phase_runs tune, eval;
} task_run;

/* The whole suite as it goes: the flags, every task's evaluation records,
 * and what the progress line needs. */
typedef struct {
    suite_flags *f;
    suite_data *sd;
    suite_row *rows;
    int n_rows, cap_rows;
    long runs_total, runs_done_before, runs_done_now;
    double start;
} suite_state;

/* The task's tuning and evaluation: compare's, on runs of the task's length
 * (no controller schedule: a suite's controllers are methods). */
static phase_setup task_setup(const suite_flags *f, const suite_task *t) {
    phase_setup ps = compare_flags_setup(&f->cmp, t->run.steps);
    ps.controller.path = NULL;
    return ps;
}

/* The tuned winners, then every method, on the evaluation seeds. */
static void eval_jobs(task_run *r, const phase_setup *ps, const suite_flags *f, int task_index) {
    phase_add_winners(&r->eval, &r->tune, ps, r->task->name, 0);
    for (int m = 0; m < f->n_methods; m++)
        phase_add_evaluation(&r->eval, ps, f->methods[m].name,
                             &f->points[task_index * f->n_methods + m]);
}

/* Runs a task's evaluation count, for the progress line. */
static long task_runs(const suite_flags *f, const suite_task *t) {
    grid_point *g = alrs_calloc(BASELINE_MAX_POINTS, sizeof *g);
    long n = 0;
    phase_setup ps = task_setup(f, t);
    for (int k = 0; k < f->cmp.n_schedules; k++)
        n += phase_setup_points(&ps, k, g) * f->cmp.tune_seeds;
    free(g);
    return n + (f->cmp.n_schedules + f->n_methods) * f->cmp.seeds;
}

static void progress_line(const suite_state *s, int t) {
    if (dist_rank() != 0) return;
    double elapsed = alrs_now() - s->start;
    long left = s->runs_total - s->runs_done_before - s->runs_done_now;
    fprintf(stderr, "suite: task %d/%d %s (%s, %ld steps of batch %ld)", t + 1, s->f->n_tasks,
            s->f->tasks[t].name, s->f->tasks[t].run.model, s->f->tasks[t].run.steps,
            s->f->tasks[t].run.batch);
    if (s->runs_done_now > 0)
        fprintf(stderr, "; %ld of %ld runs left, about %.0f s", left, s->runs_total,
                left * elapsed / s->runs_done_now);
    fputc('\n', stderr);
}

/* The task's data (label noise and training size are the task's) and the
 * run queue's settings; rank 0 makes its directory. */
static int task_open(task_run *r, const suite_flags *f, const suite_task *t, suite_data *sd) {
    memset(r, 0, sizeof *r);
    r->task = t;
    r->sd = sd;
    const run_flags *rf = &t->run;
    int ok = data_take(sd, rf) == 0;
    if (ok) r->data = &sd->d;
    if (dist_agree(ok ? 0 : -1) != 0)
        return ok ? -1 : alrs_fail_context("%s:%d: task %s", f->tasks_path, t->line, t->name);
    r->pc.queue.child = run_flags_child(rf);
    if (!r->pc.queue.child.val_size) r->pc.queue.child.val_size = r->data->val.n;
    r->pc.queue.steps = rf->steps, r->pc.queue.eval_every = rf->eval_every;
    r->pc.queue.concurrency = (int)f->cmp.concurrency;
    r->pc.queue.threads_per_run = (int)f->cmp.threads_per_run;
    r->pc.queue.act = f->cmp.run.act;
    r->pc.shard = f->cmp.shard, r->pc.shards = f->cmp.shards;
    r->pc.who = "suite";
    snprintf(r->dir, sizeof r->dir, "%s/tasks/%s", f->cmp.run.out, t->name);
    int rc = 0;
    if (dist_rank() == 0) {
        char runs[ALRS_FILE_PATH_MAX + 8];
        snprintf(runs, sizeof runs, "%s/runs", r->dir);
        rc = make_subdir(r->dir) != 0 || make_subdir(runs) != 0 ? -1 : 0;
    }
    if (dist_agree(rc) != 0) return -1;
    int capacity = f->cmp.n_schedules * BASELINE_MAX_POINTS * (int)f->cmp.tune_seeds;
    phase_alloc(&r->tune, &r->pc, r->dir, "tune", capacity);
    phase_alloc(&r->eval, &r->pc, r->dir, "eval",
                (f->cmp.n_schedules + f->n_methods) * (int)f->cmp.seeds);
    return 0;
}

static void task_close(task_run *r) {
    phase_free(&r->tune);
    phase_free(&r->eval);
    if (r->data) data_give_back(r->sd);
}

static void keep_rows(suite_state *s, const task_run *r, int t) {
    for (int j = 0; j < r->eval.n; j++) {
        if (s->n_rows == s->cap_rows) {
            s->cap_rows = s->cap_rows ? 2 * s->cap_rows : 256;
            s->rows = realloc(s->rows, sizeof *s->rows * (size_t)s->cap_rows);
            if (!s->rows) alrs_panic("out of memory");
        }
        suite_row *row = &s->rows[s->n_rows++];
        row->task = t;
        row->tuned = suite_is_tuned(s->f, r->eval.runs[j].schedule);
        row->rec = r->eval.runs[j].rec;
    }
}

/* One task: tuning, then evaluation. 0 done, 1 interrupted, 2 a shard's
 * phase waits for other shards, -1 failed. */
static int run_task(suite_state *s, int t) {
    task_run r;
    progress_line(s, t);
    int rc = task_open(&r, s->f, &s->f->tasks[t], s->sd);
    phase_setup ps = task_setup(s->f, &s->f->tasks[t]);
    if (rc == 0) {
        phase_add_tuning(&r.tune, &ps);
        rc = phase_run(&r.tune, r.data);
    }
    if (rc == 0 && !phase_complete(&r.tune)) rc = 2;
    if (rc == 0) {
        eval_jobs(&r, &ps, s->f, t);
        rc = phase_run(&r.eval, r.data);
        if (rc == 0 && !phase_complete(&r.eval)) rc = 2;
    }
    if (rc == 0) rc = dist_agree(dist_rank() == 0 ? phase_write_traces(&r.eval) : 0);
    if (rc == 0) keep_rows(s, &r, t);
    s->runs_done_before += r.tune.recorded_before + r.eval.recorded_before;
    s->runs_done_now += r.tune.finished + r.eval.finished;
    task_close(&r);
    return rc;
}

/* A fresh DIR gets config.txt; an existing one must hold the same suite (the
 * command line and the files' paths may be spelled differently; the tasks and
 * methods they resolve to may not), or the same with methods added: each
 * method is its own runs, so a new one runs alone beside the others. */
static int open_dir(const suite_flags *f, output_dir *out, int *fresh, int *made) {
    static const char *const ignore[] = {"command", "tasks_file", "methods_file", "controller",
                                         NULL};
    char *text = suite_flags_config_text(f);
    int rc = result_dir_open(f->cmp.run.out, "tasks", text, "suite", ignore, "method.", out,
                             fresh, made);
    free(text);
    return rc;
}

static int write_reports(const suite_state *s) {
    if (dist_rank() != 0) return 0;
    suite_report rep = {s->f->cmp.run.out, s->rows, s->n_rows, s->f->n_tasks, NULL, NULL, 0};
    const char **task_names = alrs_calloc((size_t)s->f->n_tasks, sizeof *task_names);
    const char **method_names = alrs_calloc((size_t)(s->f->cmp.n_schedules + s->f->n_methods),
                                            sizeof *method_names);
    for (int t = 0; t < s->f->n_tasks; t++) task_names[t] = s->f->tasks[t].name;
    int n = 0;
    for (int m = 0; m < s->f->n_methods; m++) method_names[n++] = s->f->methods[m].name;
    for (int k = 0; k < s->f->cmp.n_schedules; k++) method_names[n++] = s->f->cmp.schedules[k];
    rep.task_names = task_names, rep.method_names = method_names, rep.n_methods = n;
    int rc = suite_report_write(&rep, stdout);
    free(task_names);
    free(method_names);
    return rc;
}

/* Every task's data loads, so that a bad file stops the suite before it
 * writes anything. One data set is held at a time: the last one read stays
 * in sd for the tasks to run on. */
static int check_data(const suite_flags *f, suite_data *sd) {
    for (int t = 0; t < f->n_tasks; t++) {
        if (data_take(sd, &f->tasks[t].run) != 0)
            return alrs_fail_context("%s:%d: task %s", f->tasks_path, f->tasks[t].line,
                                     f->tasks[t].name);
        data_give_back(sd);
    }
    return 0;
}

static int run_suite(suite_flags *f, suite_data *sd) {
    suite_state s = {f, sd, NULL, 0, 0, 0, 0, 0, alrs_now()};
    for (int t = 0; t < f->n_tasks; t++) s.runs_total += task_runs(f, &f->tasks[t]);
    int fresh = 0, made = 0, rc = 0, waiting = 0;
    output_dir out;
    if (dist_agree(dist_rank() == 0 ? open_dir(f, &out, &fresh, &made) : 0) != 0) return -1;
    for (int t = 0; t < f->n_tasks && rc >= 0 && rc != 1; t++) {
        rc = run_task(&s, t);
        if (rc == 2) waiting++, rc = 0;
    }
    if (rc == 0 && waiting)
        fprintf(stderr, "suite: shard %ld/%ld done: %d tasks need the other shards' runs "
                        "(rerun without --shard once they are in)\n", f->cmp.shard,
                f->cmp.shards, waiting);
    else if (rc == 0) rc = dist_agree(write_reports(&s));
    if (rc == 1) {
        alrs_fail("interrupted by %s: %ld finished runs are kept in %s/tasks; run the same "
                  "command again to continue", interrupt_name(interrupt_requested()),
                  s.runs_done_before + s.runs_done_now, f->cmp.run.out);
        rc = -1;
    }
    /* a directory this suite made is removed only if no run finished in it */
    if (rc != 0 && made && s.runs_done_now == 0) remove_output_dir(&out);
    free(s.rows);
    return rc;
}

int cmd_suite(int argc, char **argv) {
    if (args_wants_help(argc, argv)) {
        fputs(suite_help, stdout);
        suite_flags_print_help(stdout);
        return 0;
    }
    suite_flags f;
    suite_data sd = {0};
    int rc = suite_flags_parse(argc, argv, &f);
    if (rc == -2) {
        rc = dist_rank() == 0 ? cli_report_error() : 1;
    } else if (rc != 0) {
        rc = dist_rank() == 0 ? cli_usage_error() : 2;
    } else if (f.cmp.shards > 1 && dist_size() > 1) {
        alrs_fail("--shard: not with MPI (ranks already share the runs)");
        rc = dist_rank() == 0 ? cli_usage_error() : 2;
    } else if (check_data(&f, &sd) != 0) {
        rc = dist_rank() == 0 ? cli_report_error() : 1;
    } else if (args_switch(&f.cmdline, "check") == 1) {
        printf("alrs suite: %d tasks, %d methods, %d tuned schedules: the flags and files are "
               "good (--check: nothing run, nothing written)\n", f.n_tasks, f.n_methods,
               f.cmp.n_schedules);
        rc = 0;
    } else {
        interrupt_install(dist_rank() == 0);
        rc = run_suite(&f, &sd) == 0 ? 0 : dist_rank() == 0 ? cli_report_error() : 1;
    }
    data_free(&sd);
    suite_flags_free(&f);
    return rc;
}
