/* `alrs suite` end to end on a small synthetic IDX set: two MLP tasks, a
 * tuned track of two schedules and a self-tuning track of three methods (a
 * learned controller first):
 *   1. the files: one suite.csv row per task x method x seed with its track,
 *      suite-summary.csv's means equal to suite.csv's, the regret zero for
 *      each task's best tuned schedule, the reference row without p values,
 *      Holm's p at least the paired p; each task's own comparison files;
 *   2. determinism: --concurrency 1 gives the same CSVs (timings aside);
 *   3. restarts: the same command runs nothing again; records removed (a
 *      kill) are run again and give the same CSVs;
 *   4. a changed methods file on the same --out is refused, naming it; one
 *      with a method added runs only the new method's runs, reports it and
 *      keeps it in config.txt;
 *   5. --baselines none runs the self-tuning track alone. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

enum { PATH_LEN = 1024, ERR_LEN = TEST_ERR_LEN };

static char base[PATH_LEN / 2], idx[PATH_LEN], tasks[PATH_LEN], methods[PATH_LEN];

/* 2 tasks x (2 schedules x 2 points x 2 tuning seeds = 8 tuning runs, then
 * (2 tuned + 3 methods) x 3 seeds = 15 evaluation runs). */
#define PLAN "--baselines cosine,warmup-cosine --tune-budget 2 --tune-seeds 2 --seeds 3 " \
             "--val-split 100"

static int suite(const char *out, const char *extra, char *err) {
    int rc = test_alrs(err, test_dir(base, "stdout.txt"),
                       "suite --tasks '%s' --methods '%s' --data-dir '%s' " PLAN " %s --out '%s'",
                       tasks, methods, idx, extra, out);
    if (rc != 0) fprintf(stderr, "  alrs suite %s --out %s: exit %d: %s", extra, out, rc, err);
    return rc;
}

static const char *const timing_cols[] = {"wall_s", NULL};

static int same_results(const char *a, const char *b) {
    return test_same_csv(test_path(a, "suite.csv"), test_path(b, "suite.csv"), timing_cols) &&
           test_same_csv(test_path(a, "suite-summary.csv"), test_path(b, "suite-summary.csv"),
                         timing_cols);
}

/* The mean test loss of task/method over suite.csv's rows. */
static double mean_of(const csv *runs, const char *task, const char *method, int *n) {
    double sum = 0;
    *n = 0;
    for (int r = 0; r < runs->n_rows; r++)
        if (!strcmp(csv_str(runs, r, "task"), task) && !strcmp(csv_str(runs, r, "method"), method))
            sum += csv_num(runs, r, "test_loss"), (*n)++;
    return *n ? sum / *n : NAN;
}

static void test_summary(const csv *runs, const csv *sum) {
    CHECK(sum->n_rows == 10);
    const char *task_names[] = {"small", "wide"};
    for (int t = 0; t < 2; t++) {
        double best_tuned_regret = INFINITY;
        for (int r = 0; r < sum->n_rows; r++) {
            if (strcmp(csv_str(sum, r, "task"), task_names[t])) continue;
            int n;
            double mean = mean_of(runs, task_names[t], csv_str(sum, r, "method"), &n);
            CHECK(n == 3 && csv_num(sum, r, "runs") == 3);
            CHECK_NEAR(csv_num(sum, r, "test_loss_mean"), mean, 2e-6);
            int tuned = !strcmp(csv_str(sum, r, "track"), "tuned");
            if (tuned && csv_num(sum, r, "regret") < best_tuned_regret)
                best_tuned_regret = csv_num(sum, r, "regret");
            CHECK(csv_num(sum, r, "regret") >= -1);
            double p = csv_num(sum, r, "p_paired"), holm = csv_num(sum, r, "p_holm");
            if (!strcmp(csv_str(sum, r, "method"), "ctrl")) {
                CHECK(isnan(p) && isnan(holm)); /* the reference itself */
            } else {
                CHECK(p >= 0 && p <= 1 && holm >= p && holm <= 1);
            }
        }
        CHECK_NEAR(best_tuned_regret, 0, 1e-9);
    }
}

static void test_files(const char *out) {
    static csv runs, sum, tune;
    CHECK(csv_read(&runs, test_path(out, "suite.csv")) == 0);
    CHECK(csv_read(&sum, test_path(out, "suite-summary.csv")) == 0);
    CHECK(runs.n_rows == 30);
    int tuned = 0;
    for (int r = 0; r < runs.n_rows; r++) {
        const char *m = csv_str(&runs, r, "method");
        int is_tuned = !strcmp(m, "cosine") || !strcmp(m, "warmup-cosine");
        CHECK(!strcmp(csv_str(&runs, r, "track"), is_tuned ? "tuned" : "self-tuning"));
        tuned += is_tuned;
        long seed = (long)csv_num(&runs, r, "seed");
        CHECK(seed >= 1000 && seed <= 1002);
        CHECK(csv_num(&runs, r, "test_acc") > 0 && csv_num(&runs, r, "test_acc") <= 1);
    }
    CHECK(tuned == 12);
    test_summary(&runs, &sum);
    char task_dir[PATH_LEN];
    snprintf(task_dir, sizeof task_dir, "%s/tasks/wide", out);
    CHECK(csv_read(&tune, test_path(task_dir, "tuning.csv")) == 0 && tune.n_rows == 8);
    CHECK(test_exists(test_path(task_dir, "compare.csv")));
    CHECK(test_exists(test_path(task_dir, "traces.csv")));
    CHECK(test_count_entries(test_path(task_dir, "runs"), ".txt") == 23);
    char *table = test_read_text(test_dir(base, "stdout.txt"));
    CHECK(table && strstr(table, "mean regret") && strstr(table, "adam-cosine"));
    free(table);
}

static void test_restarts(const char *full) {
    char err[ERR_LEN], cmd[3 * PATH_LEN];
    CHECK(suite(full, "", err) == 0); /* all recorded: runs nothing */
    char *log = test_read_text(test_dir(base, "stdout.txt"));
    CHECK(log && strstr(log, "mean regret"));
    free(log);
    const char *cut = test_dir(base, "cut");
    snprintf(cmd, sizeof cmd,
             "cp -r '%s' '%s' && rm -f '%s'/tasks/wide/runs/eval-* '%s'/tasks/small/runs/tune-cosine-01-* "
             "'%s'/suite.csv '%s'/suite-summary.csv", full, cut, cut, cut, cut, cut);
    CHECK(test_run(cmd, NULL, 0) == 0);
    CHECK(suite(cut, "", err) == 0);
    CHECK(same_results(full, cut));
}

static void test_changed(const char *full) {
    char err[ERR_LEN];
    const char *other = test_dir(base, "methods-other.txt");
    test_write_text(other, "ctrl controller=ctrl.bin lr=1e-3\n"
                           "adam-constant optimizer=adam schedule=constant lr=3e-3\n"
                           "adam-cosine optimizer=adam schedule=cosine lr=1e-3\n");
    char saved[PATH_LEN];
    snprintf(saved, sizeof saved, "%s", methods);
    snprintf(methods, sizeof methods, "%s", other);
    CHECK(suite(full, "", err) == 1);
    CHECK(strstr(err, "holds a suite with method.adam-constant=") != NULL);
    snprintf(methods, sizeof methods, "%s", saved);
}

/* A method added to a finished suite: 2 tasks x 3 seeds new runs, nothing
 * else run again, its rows in suite.csv, its line in config.txt. */
static void test_added_method(const char *full) {
    char err[ERR_LEN], cmd[3 * PATH_LEN], task_runs[PATH_LEN];
    const char *grown = test_dir(base, "grown");
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", full, grown);
    CHECK(test_run(cmd, NULL, 0) == 0);
    const char *more = test_dir(base, "methods-more.txt");
    test_write_text(more, "ctrl controller=ctrl.bin lr=1e-3\n"
                          "adam-constant optimizer=adam schedule=constant lr=1e-3\n"
                          "adam-cosine optimizer=adam schedule=cosine lr=1e-3\n"
                          "sgd-constant optimizer=sgd schedule=constant lr=1e-2\n");
    char saved[PATH_LEN];
    snprintf(saved, sizeof saved, "%s", methods);
    snprintf(methods, sizeof methods, "%s", more);
    snprintf(task_runs, sizeof task_runs, "%s/tasks/small/runs", grown);
    int before = test_count_entries(task_runs, "eval-");
    CHECK(suite(grown, "", err) == 0);
    /* a record and a trace for each of its 3 seeds on this task */
    CHECK(test_count_entries(task_runs, "eval-") == before + 6);
    CHECK(test_count_entries(task_runs, "eval-sgd-constant") == 6);
    static csv runs;
    CHECK(csv_read(&runs, test_path(grown, "suite.csv")) == 0);
    int rows = 0;
    for (int r = 0; r < runs.n_rows; r++) rows += !strcmp(csv_str(&runs, r, "method"), "sgd-constant");
    CHECK(rows == 6);
    char *config = test_read_text(test_path(grown, "config.txt"));
    CHECK(config && strstr(config, "method.sgd-constant=optimizer=sgd"));
    free(config);
    CHECK(suite(grown, "", err) == 0); /* and it continues as any suite */
    CHECK(test_count_entries(task_runs, "eval-") == before + 6);
    snprintf(methods, sizeof methods, "%s", saved);
}

/* --baselines none: the self-tuning track alone, nothing tuned. */
static void test_self_tuning_only(void) {
    char err[ERR_LEN];
    const char *out = test_dir(base, "self");
    int rc = test_alrs(err, NULL, "suite --tasks '%s' --methods '%s' --data-dir '%s' "
                       "--baselines none --seeds 2 --val-split 100 --out '%s'",
                       tasks, methods, idx, out);
    CHECK(rc == 0);
    static csv runs;
    CHECK(csv_read(&runs, test_path(out, "suite.csv")) == 0 && runs.n_rows == 12);
    for (int r = 0; r < runs.n_rows; r++)
        CHECK(!strcmp(csv_str(&runs, r, "track"), "self-tuning"));
    char task_dir[PATH_LEN];
    snprintf(task_dir, sizeof task_dir, "%s/tasks/small/runs", out);
    CHECK(test_count_entries(task_dir, "tune-") == 0);
}

int main(void) {
    snprintf(base, sizeof base, "%s", test_tmpdir("suite-cli"));
    snprintf(idx, sizeof idx, "%s/idx", base);
    mkdir(idx, 0777);
    test_write_idx_set(idx, "", 600, 28, 28, 0, 1);
    char err[ERR_LEN];
    const char *learned = test_dir(base, "learned");
    CHECK(test_alrs(err, NULL, "learn --model mlp --hidden 16 --val-split 100 --steps 20 "
                    "--batch 32 --val-size 50 --action-every 5 --data-dir '%s' --episodes 2 "
                    "--envs 2 --out '%s'", idx, learned) == 0);
    char cmd[3 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "cp '%s/controller.bin' '%s/ctrl.bin'", learned, base);
    CHECK(test_run(cmd, NULL, 0) == 0);
    snprintf(tasks, sizeof tasks, "%s", test_dir(base, "tasks.txt"));
    test_write_text(tasks, "# two tasks\n"
                           "small model=mlp hidden=16 steps=20 batch=16 val-size=50 eval-every=5\n"
                           "wide  model=mlp hidden=32,16 steps=30 batch=32 val-size=50 "
                           "eval-every=5  # a comment\n");
    snprintf(methods, sizeof methods, "%s", test_dir(base, "methods.txt"));
    /* the controller's path relative to the working directory, as a user writes it */
    test_write_text(methods, "ctrl controller=ctrl.bin lr=1e-3\n"
                             "adam-constant optimizer=adam schedule=constant lr=1e-3\n"
                             "adam-cosine optimizer=adam schedule=cosine lr=1e-3\n");
    CHECK(chdir(base) == 0);
    const char *full = test_dir(base, "full");
    CHECK(suite(full, "", err) == 0);
    test_files(full);
    const char *serial = test_dir(base, "serial");
    CHECK(suite(serial, "--concurrency 1", err) == 0);
    CHECK(same_results(full, serial));
    test_restarts(full);
    test_changed(full);
    test_added_method(full);
    test_self_tuning_only();
    return test_finish();
}
