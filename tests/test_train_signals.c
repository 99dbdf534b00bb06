/* alrs train under signals and time limits, from the outside (a batch job's
 * life):
 *   1. SIGKILL at random moments of a LeNet-5 run saved every few steps, then
 *      the same command with --resume: the same summary.csv and trace.csv as
 *      an uninterrupted run (wall-clock and memory columns aside) — at
 *      several moments, and again after a second kill of the resumed run;
 *   2. SIGTERM: the step in progress finishes, the run is saved, alrs says so
 *      and exits non-zero, nothing half-written is left; --resume finishes it;
 *   3. the same for a learned controller's run (its episode state is saved),
 *      and (one kill each) for the parameter-free optimizers, whose state
 *      (schedule-free's z, x and weight sum, d and its sums) is saved;
 *   4. config.txt's command, run as written, repeats the run;
 *   5. refusals: --resume of a finished run, of another run's directory, of a
 *      directory without a checkpoint. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

enum { PATH_LEN = 1024 };

static char base[PATH_LEN / 2], idx[PATH_LEN], ctrl[PATH_LEN];

#define TRAIN "train --model lenet5 --val-split 100 --steps 120 --eval-every 10 --batch 32 " \
              "--val-size 50 --test-size 100 --threads 1 --backend native --seed 3"

/* Columns that differ between equal runs: time and memory. */
static const char *const varying[] = {"wall_s", "train_images_per_s", "rss_mib_first_eval",
                                      "rss_mib_end", NULL};

static int same_run(const char *a, const char *b) {
    return test_same_csv(test_path(a, "summary.csv"), test_path(b, "summary.csv"), varying) &&
           test_same_csv(test_path(a, "trace.csv"), test_path(b, "trace.csv"), varying);
}

/* Starts `alrs TRAIN EXTRA --out OUT`, sends `sig` after delay_ms, waits. */
static int train_signalled(const char *extra, const char *out, const char *sig, int delay_ms) {
    char cmd[4 * PATH_LEN];
    snprintf(cmd, sizeof cmd,
             "%s " TRAIN " %s --data-dir '%s' --out '%s' >/dev/null 2>'%s/signal-err.txt' & "
             "p=$!; sleep %d.%03d; kill -%s $p 2>/dev/null; wait $p",
             ALRS_BIN, extra, idx, out, base, delay_ms / 1000, delay_ms % 1000, sig);
    return test_run(cmd, NULL, 0);
}

static int resume(const char *extra, const char *out) {
    char err[TEST_ERR_LEN];
    int rc = test_alrs(err, NULL, TRAIN " %s --data-dir '%s' --resume --out '%s'", extra, idx, out);
    if (rc != 0) fprintf(stderr, "  --resume %s: exit %d: %s", out, rc, err);
    return rc;
}

/* A run killed before its first checkpoint has nothing to resume: start it again. */
static int resume_or_restart(const char *extra, const char *out) {
    if (test_exists(test_path(out, "checkpoint.bin"))) return resume(extra, out);
    char err[TEST_ERR_LEN], cmd[2 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    test_run(cmd, NULL, 0);
    return test_alrs(err, NULL, TRAIN " %s --data-dir '%s' --out '%s'", extra, idx, out);
}

static int elapsed_ms(const struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (int)((b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000);
}

/* 1 and 2 for a schedule or a controller (extra: the --schedule flag), with
 * `kills` random kills. */
static void kills_and_terms(const char *name, const char *extra, int kills) {
    char err[TEST_ERR_LEN], dir[64];
    snprintf(dir, sizeof dir, "%s-full", name);
    const char *full = test_dir(base, dir);
    struct timespec a;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK(test_alrs(err, NULL, TRAIN " %s --data-dir '%s' --out '%s'", extra, idx, full) == 0);
    int run_ms = elapsed_ms(&a);
    CHECK(!test_exists(test_path(full, "checkpoint.bin"))); /* a finished run drops it */

    srand((unsigned)getpid());
    for (int k = 0; k < kills; k++) {
        snprintf(dir, sizeof dir, "%s-killed-%d", name, k);
        const char *out = test_dir(base, dir);
        char every[2 * PATH_LEN];
        snprintf(every, sizeof every, "%s --checkpoint-every 7", extra);
        int delay = run_ms / 10 + rand() % (run_ms * 7 / 10 + 1);
        train_signalled(every, out, "KILL", delay);
        if (k == 2 && test_exists(test_path(out, "checkpoint.bin"))) /* killed twice */
            train_signalled(every, out, "KILL", delay / 2 + 1), resume(every, out);
        CHECK(resume_or_restart(every, out) == 0 || resume_or_restart(every, out) == 0);
        int same = same_run(full, out);
        if (!same) fprintf(stderr, "  %s killed after %d ms of %d: differs\n", name, delay, run_ms);
        CHECK(same);
        CHECK(test_count_entries(out, ".tmp") == 0 && !test_exists(test_path(out, "checkpoint.bin")));
    }

    snprintf(dir, sizeof dir, "%s-stopped", name);
    const char *stopped = test_dir(base, dir);
    int rc = train_signalled(extra, stopped, "TERM", run_ms / 2);
    char *text = test_read_text(test_path(base, "signal-err.txt"));
    if (rc == 0) {
        fprintf(stderr, "  note: the %s run finished before SIGTERM arrived\n", name);
    } else {
        int said = text && strstr(text, "alrs: interrupted by SIGTERM at step") &&
                   strstr(text, "--resume to continue");
        if (!said) fprintf(stderr, "  SIGTERM: exit %d, stderr:\n%s", rc, text ? text : "");
        CHECK(said && rc == 1);
        CHECK(test_exists(test_path(stopped, "checkpoint.bin")) &&
              test_exists(test_path(stopped, "config.txt")) &&
              !test_exists(test_path(stopped, "summary.csv")));
        CHECK(test_count_entries(stopped, ".tmp") == 0);
        CHECK(resume(extra, stopped) == 0);
    }
    free(text);
    CHECK(same_run(full, stopped));
}

/* config.txt's command line, with DIR replaced, runs and gives the same run. */
static void test_config_command(void) {
    const char *full = test_dir(base, "schedule-full"), *again = test_dir(base, "again");
    char *config = test_read_text(test_path(full, "config.txt"));
    CHECK(config != NULL);
    if (!config) return;
    char *line = strstr(config, "\ncommand=alrs ");
    CHECK(line != NULL);
    if (!line) return;
    line += strlen("\ncommand=alrs ");
    *strchr(line, '\n') = '\0';
    char *dir = strstr(line, " --out DIR");
    CHECK(dir != NULL);
    if (dir) *dir = '\0';
    char err[TEST_ERR_LEN];
    int rc = test_alrs(err, NULL, "%s --out '%s'", line, again);
    if (rc != 0) fprintf(stderr, "  config.txt's command: exit %d: %s", rc, err);
    CHECK(rc == 0 && same_run(full, again));
    free(config);
}

static void test_refusals(void) {
    char err[TEST_ERR_LEN];
    const char *full = test_dir(base, "schedule-full");
    int rc = test_alrs(err, NULL, TRAIN " --schedule cosine --lr 1e-2 --data-dir '%s' --resume --out '%s'",
                       idx, full);
    CHECK(rc == 1 && strstr(err, "has finished"));
    rc = test_alrs(err, NULL, TRAIN " --schedule cosine --lr 3e-3 --data-dir '%s' --resume --out '%s'",
                   idx, full);
    CHECK(rc == 1 && strstr(err, "holds a run with lr=0.01, this one has lr=0.003"));
    const char *empty = test_dir(base, "no-checkpoint");
    char cmd[2 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/config.txt' '%s/'", empty, full, empty);
    CHECK(test_run(cmd, NULL, 0) == 0);
    rc = test_alrs(err, NULL, TRAIN " --schedule cosine --lr 1e-2 --data-dir '%s' --resume --out '%s'",
                   idx, empty);
    CHECK(rc == 1 && strstr(err, "has no checkpoint.bin"));
    CHECK(test_count_entries(empty, "") == 1); /* left as it was */
}

int main(void) {
    snprintf(base, sizeof base, "%s", test_tmpdir("train-signals"));
    snprintf(idx, sizeof idx, "%s/idx", base);
    mkdir(idx, 0777);
    test_write_idx_set(idx, "", 600, 28, 28, 0, 4);
    char err[TEST_ERR_LEN];
    const char *learned = test_dir(base, "learned");
    CHECK(test_alrs(err, NULL, "learn --model mlp --hidden 16 --val-split 100 --steps 20 "
                    "--action-every 5 --batch 16 --val-size 50 --episodes 4 --envs 2 "
                    "--features all --factors 0.5,1,2 --base cosine --data-dir '%s' --out '%s'",
                    idx, learned) == 0);
    snprintf(ctrl, sizeof ctrl, "--lr 1e-2 --schedule 'controller:%s/controller.bin' --policy sample",
             learned);

    kills_and_terms("schedule", "--schedule cosine --lr 1e-2", 3);
    kills_and_terms("controller", ctrl, 3);
    kills_and_terms("schedulefree", "--schedule constant --lr 1e-2 --optimizer adamw-schedulefree", 1);
    kills_and_terms("prodigy", "--schedule cosine --lr 1 --optimizer prodigy", 1);
    kills_and_terms("dadapt", "--schedule cosine --lr 1 --optimizer dadapt-adam", 1);
    test_config_command();
    test_refusals();

    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    test_run(cmd, NULL, 0);
    return test_finish();
}
