/* `alrs compare` end to end on a small synthetic IDX set and a small MLP:
 *   1. the files and their consistency: one tuning row per grid point with
 *      the lowest validation loss selected per schedule, one evaluation row
 *      per schedule x seed running exactly the selected point, the summary,
 *      the traces, the printed table;
 *   2. determinism: another --concurrency gives the same CSVs (timings aside);
 *   3. restarts: records removed (a kill after some runs), a real SIGKILL at
 *      an arbitrary moment, and SIGTERM (message, then the same command
 *      finishes) all end with the CSVs of an uninterrupted comparison;
 *   4. a changed command on the same --out is refused, naming the setting;
 *   5. transfer: a controller learned on the MLP drives LeNet-5, and on CIFAR-10;
 *   6. bad inputs: one "alrs: " line, non-zero exit, no directory left;
 *   7. --help from compare's flag table: each flag once, with its default,
 *      and alrs suite's share of it without the flags it words itself. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

enum { PATH_LEN = 1024, ERR_LEN = TEST_ERR_LEN };

static char base[PATH_LEN / 2];
static char idx[PATH_LEN], cifar[PATH_LEN], ctrl[PATH_LEN];

#define NET "--model mlp --hidden 32,16 --val-split 100 --steps 20 --batch 32 --val-size 50"
#define CHILD "--model mlp --hidden 32,16 --val-split 100 --steps 20 --eval-every 5 " \
              "--batch 32 --val-size 50"
/* Three schedules, three tuning points each on two tuning seeds (999, 998),
 * three evaluation seeds: 18 + 9 runs. */
#define PLAN "--controller '%s' --baselines paper-grid,cosine --seeds 3 --tune-budget 3 " \
             "--tune-seeds 2"


static int compare(const char *out, const char *extra, char *err) {
    int rc = test_alrs(err, test_dir(base, "stdout.txt"),
                       "compare " CHILD " --data-dir '%s' " PLAN " %s --out '%s'", idx, ctrl,
                       extra, out);
    if (rc != 0) fprintf(stderr, "  alrs compare %s --out %s: exit %d: %s", extra, out, rc, err);
    return rc;
}

static const char *const timing_cols[] = {"wall_s", NULL};

/* The three CSVs of two comparisons equal but for timings. */
static int same_results(const char *a, const char *b) {
    const char *files[] = {"compare.csv", "tuning.csv", "compare-summary.csv"};
    int same = 1;
    for (int k = 0; k < 3 && same; k++)
        same = test_same_csv(test_path(a, files[k]), test_path(b, files[k]), timing_cols);
    return same;
}

/* The paired comparison with the controller, seed by seed, for test loss
 * and accuracy: empty (nan) for the controller's own row; on the others the
 * mean difference is the difference of the means (every seed pairs), inside
 * its interval, and Holm's p is no smaller than the paired p.*/
static void test_paired_columns(const csv *sum) {
    static const char *const prefixes[] = {"", "acc_"}, *const figures[] = {"test_loss", "test_acc"};
    for (int f = 0; f < 2; f++) {
        char col[6][32], mean[32];
        static const char *const names[] = {"diff_mean", "diff_ci_low", "diff_ci_high",
                                            "p_paired", "p_wilcoxon", "p_holm"};
        for (int c = 0; c < 6; c++) {
            snprintf(col[c], sizeof col[c], "%s%s", prefixes[f], names[c]);
            CHECK(csv_col(sum, col[c]) >= 0);
            CHECK(csv_str(sum, 0, col[c])[0] == 'n');
        }
        snprintf(mean, sizeof mean, "%s_mean", figures[f]);
        for (int r = 1; r < 3; r++) {
            double d = csv_num(sum, r, col[0]);
            CHECK_NEAR(d, csv_num(sum, r, mean) - csv_num(sum, 0, mean), 2e-6);
            CHECK(csv_num(sum, r, col[1]) <= d && d <= csv_num(sum, r, col[2]));
            /* NaN only where there is no difference at all (the tiny
             * networks may tie on accuracy over all three seeds) */
            int tied = csv_num(sum, r, col[1]) == csv_num(sum, r, col[2]);
            for (int c = 3; c < 6; c++) {
                double p = csv_num(sum, r, col[c]);
                CHECK((tied && isnan(p)) || (p >= 0 && p <= 1));
            }
            CHECK(tied || csv_num(sum, r, col[5]) >= csv_num(sum, r, col[3]));
        }
    }
}

static void test_files(const char *out) {
    static csv tune, runs, sum;
    CHECK(csv_read(&tune, test_path(out, "tuning.csv")) == 0);
    CHECK(csv_read(&runs, test_path(out, "compare.csv")) == 0);
    CHECK(csv_read(&sum, test_path(out, "compare-summary.csv")) == 0);
    CHECK(tune.n_rows == 18 && runs.n_rows == 9 && sum.n_rows == 3);
    /* rows without an optimizer of their own name the run's --optimizer */
    for (int r = 0; r < tune.n_rows; r++) CHECK(!strcmp(csv_str(&tune, r, "optimizer"), "adam"));
    for (int r = 0; r < runs.n_rows; r++) CHECK(!strcmp(csv_str(&runs, r, "optimizer"), "adam"));
    for (int r = 0; r < sum.n_rows; r++) CHECK(!strcmp(csv_str(&sum, r, "optimizer"), "adam"));
    const char *names[] = {"controller", "paper-grid", "cosine"};
    for (int k = 0; k < 3; k++) {
        int selected = -1, n = 0, n_selected = 0;
        for (int r = 0; r < tune.n_rows; r++) {
            if (strcmp(csv_str(&tune, r, "schedule"), names[k])) continue;
            /* a point's runs come in seed order 999, 998, and the point's mean is theirs */
            CHECK(csv_num(&tune, r, "seed") == (n % 2 ? 998 : 999));
            if (n % 2)
                CHECK_NEAR(csv_num(&tune, r, "point_mean_val_loss"),
                           (csv_num(&tune, r, "best_val_loss") +
                            csv_num(&tune, r - 1, "best_val_loss")) / 2, 2e-6);
            n++;
            if (csv_num(&tune, r, "selected") == 1) {
                n_selected++;
                if (selected < 0) selected = r;
            }
        }
        /* both runs of one point are marked */
        CHECK(n == 6 && n_selected == 2 && selected >= 0);
        if (selected < 0) continue;
        for (int r = 0; r < tune.n_rows; r++) /* the winner has the lowest mean */
            if (!strcmp(csv_str(&tune, r, "schedule"), names[k]))
                CHECK(csv_num(&tune, selected, "point_mean_val_loss") <=
                      csv_num(&tune, r, "point_mean_val_loss"));
        int seeds = 0;
        for (int r = 0; r < runs.n_rows; r++) {
            if (strcmp(csv_str(&runs, r, "schedule"), names[k])) continue;
            CHECK(!strcmp(csv_str(&runs, r, "spec"), csv_str(&tune, selected, "spec")));
            CHECK(csv_num(&runs, r, "lr") == csv_num(&tune, selected, "lr"));
            CHECK(csv_num(&runs, r, "seed") == 1000 + seeds);
            CHECK(csv_num(&runs, r, "test_acc") > 0.1 && csv_num(&runs, r, "test_acc") <= 1);
            seeds++;
        }
        CHECK(seeds == 3);
        CHECK(!strcmp(csv_str(&sum, k, "schedule"), names[k]));
        CHECK(csv_num(&sum, k, "runs") == 3);
        CHECK(csv_num(&sum, k, "test_loss_ci95_lo") <= csv_num(&sum, k, "test_loss_mean"));
    }
    CHECK(csv_str(&sum, 0, "test_loss_p_vs_controller")[0] == 'n'); /* nan for itself */
    double p = csv_num(&sum, 1, "test_loss_p_vs_controller");
    CHECK(p >= 0 && p <= 1);
    test_paired_columns(&sum);
    char *traces = test_read_text(test_path(out, "traces.csv"));
    /* 9 runs x 4 validations, and the header */
    CHECK(traces && test_count_lines(traces) == 37);
    CHECK(traces && strstr(traces, "\ncosine,1002,20,"));
    free(traces);
    char *table = test_read_text(test_dir(base, "stdout.txt"));
    CHECK(table && strstr(table, "p(loss)") && strstr(table, "paper-grid"));
    CHECK(table && strstr(table, "Holm-adjusted") && strstr(table, "loss - ref [95 % CI]"));
    free(table);
    CHECK(test_count_entries(test_path(out, "runs"), ".txt") == 27);
    CHECK(test_count_entries(test_path(out, "runs"), ".tmp") == 0);
}

/* Runs a shell line that starts the comparison, waits until `records` runs
 * are on disk, then sends `sig`; returns the comparison's exit status. */
static int interrupt_after(const char *out, int records, const char *sig, char *err) {
    char cmd[8 * PATH_LEN];
    snprintf(cmd, sizeof cmd,
             "%s compare " CHILD " --data-dir '%s' " PLAN " --concurrency 1 --out '%s' "
             ">/dev/null 2>'%s/signal-err.txt' & p=$!; i=0; "
             "while [ \"$(ls '%s/runs' 2>/dev/null | grep -c 'txt$')\" -lt %d ] && [ $i -lt 3000 ]; "
             "do sleep 0.01; i=$((i+1)); done; kill -%s $p; wait $p",
             ALRS_BIN, idx, ctrl, out, base, out, records, sig);
    int rc = test_run(cmd, NULL, 0);
    char *text = test_read_text(test_dir(base, "signal-err.txt"));
    snprintf(err, ERR_LEN, "%s", text ? text : "");
    free(text);
    return rc;
}

static void test_restarts(const char *full) {
    char err[ERR_LEN], cmd[3 * PATH_LEN];
    /* as if killed after 5 tuning runs: later records removed */
    const char *cut = test_dir(base, "cut");
    snprintf(cmd, sizeof cmd,
             "cp -r '%s' '%s' && cd '%s/runs' && rm -f eval-* tune-cosine-* tune-paper-grid-02-* "
             "compare.csv && rm -f ../compare.csv ../compare-summary.csv ../traces.csv",
             full, cut, cut);
    CHECK(test_run(cmd, NULL, 0) == 0);
    CHECK(compare(cut, "", err) == 0);
    CHECK(strstr(err, "tune: 10 of 18 runs already recorded") != NULL);
    CHECK(strstr(err, "tune 11/18") != NULL && strstr(err, "tune 10/18") == NULL);
    CHECK(same_results(full, cut));

    /* SIGKILL at an arbitrary point after three records */
    const char *killed = test_dir(base, "killed");
    int rc = interrupt_after(killed, 3, "KILL", err);
    CHECK(rc != 0);
    CHECK(compare(killed, "", err) == 0);
    CHECK(strstr(err, "already recorded") != NULL);
    CHECK(same_results(full, killed));

    /* SIGTERM: finishes the write in progress, says what is kept, exits non-zero */
    const char *stopped = test_dir(base, "stopped");
    rc = interrupt_after(stopped, 2, "TERM", err);
    CHECK(rc != 0);
    if (!strstr(err, "alrs: interrupted by SIGTERM") || !strstr(err, "run the same command again")) {
        fprintf(stderr, "  SIGTERM: exit %d, stderr:\n%s", rc, err);
        CHECK(0);
    }
    CHECK(test_count_entries(test_path(stopped, "runs"), ".tmp") == 0);
    CHECK(compare(stopped, "", err) == 0);
    CHECK(same_results(full, stopped));
}

static void test_changed_command(const char *full) {
    char err[ERR_LEN];
    int rc = test_alrs(err, NULL, "compare " CHILD " --data-dir '%s' " PLAN " --tune-seed 7 --out '%s'",
                       idx, ctrl, full);
    CHECK(rc != 0 && strstr(err, "tune_seed=999") && strstr(err, "tune_seed=7"));
    CHECK(test_count_lines(err) == 1);
}

static void test_transfer(void) {
    char err[ERR_LEN];
    /* learned on the MLP, driving LeNet-5 on the same images */
    int rc = test_alrs(err, NULL,
                       "compare --model lenet5 --val-split 100 --steps 20 --eval-every 5 --batch 32 "
                       "--val-size 50 --data-dir '%s' --controller '%s' --baselines cosine --seeds 2 "
                       "--tune-budget 1 --tune-seeds 1 --out '%s'", idx, ctrl, test_dir(base, "to-lenet5"));
    CHECK(rc == 0);
    /* and on another data set: 3-channel 32x32 CIFAR-10 batches */
    rc = test_alrs(err, NULL,
                   "compare --model mlp --hidden 32,16 --dataset cifar10 --val-split 100 --steps 20 "
                   "--eval-every 5 --batch 32 --val-size 50 --data-dir '%s' --controller '%s' "
                   "--baselines constant --seeds 2 --tune-budget 1 --tune-seeds 1 --out '%s'",
                   cifar, ctrl, test_dir(base, "to-cifar"));
    CHECK(rc == 0);
    static csv c;
    CHECK(csv_read(&c, test_path(test_dir(base, "to-cifar"), "compare.csv")) == 0 && c.n_rows == 4);
}

/* A one-seed comparison of a 16-wide MLP for 10 steps with `controller`,
 * the plan in `plan`, into `out`: alrs's exit status. */
static int small_compare(const char *controller, const char *plan, const char *out) {
    char err[ERR_LEN];
    return test_alrs(err, NULL,
                     "compare --model mlp --hidden 16 --val-split 100 --steps 10 --eval-every 5 "
                     "--batch 32 --val-size 50 --data-dir '%s' --controller '%s' --seeds 1 "
                     "--tune-seeds 1 %s --out '%s'", idx, controller, plan, out);
}

/* --rates: the controller and cosine tuned on the given rates, and the
 * setting kept in config.txt and its command. */
static void test_rates(void) {
    const char *out = test_dir(base, "rates");
    CHECK(small_compare(ctrl, "--baselines cosine,onecycle --rates 2e-2,7e-3 --tune-budget 64",
                        out) == 0);
    static csv t;
    CHECK(csv_read(&t, test_path(out, "tuning.csv")) == 0);
    int controller = 0, cosine = 0, onecycle = 0;
    for (int r = 0; r < t.n_rows; r++) {
        const char *sched = csv_str(&t, r, "schedule");
        double lr = csv_num(&t, r, "lr");
        int given = lr == 2e-2 || lr == 7e-3;
        if (!strcmp(sched, "controller")) controller += given ? 1 : 100;
        if (!strcmp(sched, "cosine")) cosine += given ? 1 : 100;
        if (!strcmp(sched, "onecycle")) onecycle++; /* its own grid of 8 */
    }
    CHECK(controller == 2 && cosine == 2 && onecycle == 8);
    char *config = test_read_text(test_path(out, "config.txt"));
    CHECK(config && strstr(config, "rates=2e-2,7e-3") && strstr(config, "--rates 2e-2,7e-3"));
    free(config);
}

/* A controller of two episodes learned with `extra` flags into base/NAME;
 * its file's path in `path` (PATH_LEN). */
static int learn_tiny(const char *name, const char *extra, char *path) {
    char err[ERR_LEN];
    const char *learned = test_dir(base, name);
    snprintf(path, PATH_LEN, "%s/controller.bin", learned);
    return test_alrs(err, NULL, "learn " NET " --action-every 5 --data-dir '%s' --episodes 2 "
                     "--envs 2 %s --out '%s'", idx, extra, learned);
}

/* A controller learned over SGD: its rows (tuned, and controller-default at
 * the rate its file records) run SGD while cosine runs --optimizer's Adam,
 * --optimizer given or not (config.txt's command spells it out). */
static void test_controller_rows(void) {
    char sgd[PATH_LEN];
    CHECK(learn_tiny("learned-sgd", "--optimizer sgd --initial-lrs 1e-3:1e-1", sgd) == 0);
    const char *out = test_dir(base, "rows-sgd");
    CHECK(small_compare(sgd, "--baselines controller-default,cosine --rates 1e-2 --optimizer adam",
                        out) == 0);
    static csv c;
    CHECK(csv_read(&c, test_path(out, "compare.csv")) == 0 && c.n_rows == 3);
    int rows = 0;
    for (int r = 0; r < c.n_rows; r++) {
        const char *sched = csv_str(&c, r, "schedule");
        int cosine = !strcmp(sched, "cosine");
        rows += !strcmp(csv_str(&c, r, "optimizer"), cosine ? "adam" : "sgd");
        /* the geometric centre of 1e-3:1e-1 */
        if (!strcmp(sched, "controller-default")) rows += csv_num(&c, r, "lr") == 1e-2;
    }
    CHECK(rows == 4);
}

/* A controller whose bounds leave out some of its tuning rates: compare says
 * how many start at the nearest bound. */
static void test_grid_outside_bounds(void) {
    char err[ERR_LEN], path[PATH_LEN];
    CHECK(learn_tiny("learned-narrow", "--action absolute --lr-bounds 1e-3,1e-2", path) == 0);
    const char *out = test_dir(base, "never-narrow");
    CHECK(test_alrs(err, NULL,
                    "compare --model mlp --hidden 16 --val-split 100 --steps 10 --eval-every 5 "
                    "--data-dir '%s' --controller '%s' --rates 1e-1,1e-2,1e-4 --check --out '%s'",
                    idx, path, out) == 0);
    CHECK(strstr(err, "note: 2 of the controller's 3 tuning rates lie outside its bounds "
                      "[0.001, 0.01]") != NULL);
}

/* A refused command: exit non-zero, one "alrs: " line holding `needle`, and
 * the --out directory never made. */
static void expect_fail(int line, const char *needle, const char *extra) {
    char err[ERR_LEN];
    const char *out = test_dir(base, "never");
    int rc = test_alrs(err, NULL, "compare " CHILD " --data-dir '%s' %s --out '%s'", idx, extra, out);
    int ok = rc != 0 && !strncmp(err, "alrs: ", 6) && test_count_lines(err) == 1 &&
             strstr(err, needle) && !test_exists(out);
    if (!ok) fprintf(stderr, "FAIL line %d: exit %d, wanted '%s' in: %s", line, rc, needle, err);
    CHECK(ok);
}

static void test_bad_inputs(void) {
    char bad[PATH_LEN], extra[3 * PATH_LEN];
    snprintf(bad, sizeof bad, "%s", test_dir(base, "corrupt.bin"));
    test_copy_file(ctrl, bad);
    test_poke_byte(bad, 100, 0x5a);
    snprintf(extra, sizeof extra, "--controller '%s'", bad);
    expect_fail(__LINE__, "corrupt.bin", extra);
    expect_fail(__LINE__, "no-such.bin", "--controller /nonexistent/no-such.bin");
    expect_fail(__LINE__, "unknown schedule 'step'", "--baselines cosine,step");
    expect_fail(__LINE__, "'cosine' given twice", "--baselines cosine,cosine");
    expect_fail(__LINE__, "--rates 1e-2,: ends with a comma", "--rates 1e-2,");
    expect_fail(__LINE__, "--rates -1e-2", "--rates -1e-2");
    expect_fail(__LINE__, "from --controller", "--baselines controller");
    expect_fail(__LINE__, "controller-default needs --controller",
                "--baselines controller-default");
    expect_fail(__LINE__, "--lr", "--baselines cosine --lr 0.1");
    expect_fail(__LINE__, "--seed-base", "--baselines cosine --seed 5");
    expect_fail(__LINE__, "--threads-per-run", "--baselines cosine --threads 2");
    expect_fail(__LINE__, "--tune-seed 1001", "--baselines cosine --tune-seed 1001");
    /* 1002, 1001, 1000 would reach the first evaluation seed */
    expect_fail(__LINE__, "tuning seeds 1000..1002 overlap", "--baselines cosine --tune-seed 1002");
    expect_fail(__LINE__, "below 0", "--baselines cosine --tune-seed 1");
    expect_fail(__LINE__, "--policy", "--baselines cosine --policy best");
    expect_fail(__LINE__, "mean:K", "--baselines cosine --policy mean:0");
    expect_fail(__LINE__, "--tune-budget", "--baselines cosine --tune-budget 0");
    expect_fail(__LINE__, "--seeds", "--baselines cosine --seeds 0");
    /* a directory of something else is not taken over */
    const char *mine = test_dir(base, "mine");
    mkdir(mine, 0777);
    test_write_text(test_path(mine, "notes.txt"), "keep me\n");
    char err[ERR_LEN];
    int rc = test_alrs(err, NULL, "compare " CHILD " --data-dir '%s' --baselines cosine --out '%s'",
                       idx, mine);
    CHECK(rc != 0 && strstr(err, "not empty") && test_count_entries(mine, "") == 1);
}

/* The number of lines of `text` that start with `start`. */
static int lines_starting(const char *text, const char *start) {
    int n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        n += !strncmp(p, start, strlen(start));
    return n;
}

static void test_help(void) {
    char err[ERR_LEN];
    const char *out = test_path(base, "help.txt");
    CHECK(test_alrs(err, out, "compare --help") == 0);
    char *help = test_read_text(out);
    const char *flags[] = {"  --controller PATH ", "  --baselines LIST ", "  --rates LIST ",
                           "  --seeds N ", "  --seed-base S ", "  --tune-seed S ",
                           "  --tune-seeds N ", "  --tune-budget K ", "  --threads-per-run T ",
                           "  --concurrency N ", "  --out DIR ", "  --shard I/N ", "  --check "};
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
        CHECK(lines_starting(help, flags[k]) == 1);
    CHECK(strstr(help, "  --seeds N                     evaluation seeds per schedule "
                       "(default 5)\n"));
    CHECK(strstr(help, "(default paper-grid,cosine,warmup-cosine,onecycle)\n"));
    CHECK(strstr(help, "(default 999)\n") && strstr(help, "(default 12)\n"));
    free(help);
    CHECK(test_alrs(err, out, "suite --help") == 0);
    help = test_read_text(out);
    CHECK(lines_starting(help, "  --controller PATH ") == 0);
    CHECK(lines_starting(help, "  --baselines LIST ") == 1); /* the suite's own wording */
    CHECK(lines_starting(help, "  --tune-budget K ") == 1);
    free(help);
}

int main(void) {
    snprintf(base, sizeof base, "%s", test_tmpdir("compare-cli"));
    snprintf(idx, sizeof idx, "%s/idx", base);
    snprintf(cifar, sizeof cifar, "%s/cifar", base);
    mkdir(idx, 0777);
    mkdir(cifar, 0777);
    test_write_idx_set(idx, "", 600, 28, 28, 0, 1);
    test_write_cifar_set(cifar, 120, 2);

    char err[ERR_LEN];
    const char *learned = test_dir(base, "learned");
    CHECK(test_alrs(err, NULL, "learn " NET " --action-every 5 --data-dir '%s' --episodes 4 --envs 2 "
                    "--out '%s'", idx, learned) == 0);
    snprintf(ctrl, sizeof ctrl, "%s/controller.bin", learned);

    const char *full = test_dir(base, "full");
    CHECK(compare(full, "", err) == 0);
    test_files(full);
    const char *serial = test_dir(base, "serial");
    CHECK(compare(serial, "--concurrency 1", err) == 0);
    CHECK(same_results(full, serial));
    test_restarts(full);
    test_changed_command(full);
    test_transfer();
    test_rates();
    test_controller_rows();
    test_grid_outside_bounds();
    test_bad_inputs();
    test_help();

    test_remove_tmpdirs();
    return test_finish();
}
