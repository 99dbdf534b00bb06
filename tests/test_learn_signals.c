/* alrs learn under signals, from the outside:
 *   1. SIGKILL at a random moment, then the same command with --resume: the
 *      same controller.bin, byte for byte, and the same CSVs (timings aside)
 *      as an uninterrupted run — repeated at several moments;
 *   2. SIGTERM: the update in progress is finished and saved, alrs says so and
 *      exits non-zero, nothing half-written is left, and --resume finishes
 *      the run with the uninterrupted run's controller. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

enum { PATH_LEN = 1024 };

static char base[PATH_LEN / 2], idx[PATH_LEN];

#define LEARN "learn --model mlp --hidden 32,16 --val-split 100 --steps 40 --action-every 5 " \
              "--batch 32 --val-size 50 --episodes 16 --envs 2 --concurrency 1 --seed 3"


static const char *const timing_cols[] = {"wall_s", "collect_s", "update_s", NULL};

/* Starts the learn run in the background and sends `sig` after `delay_ms`;
 * returns the run's exit status; its stderr goes to BASE/signal-err.txt. */
static int learn_signalled(const char *out, const char *sig, int delay_ms) {
    char cmd[4 * PATH_LEN];
    snprintf(cmd, sizeof cmd,
             "%s " LEARN " --data-dir '%s' --out '%s' 2>'%s/signal-err.txt' & p=$!; "
             "sleep %d.%03d; kill -%s $p 2>/dev/null; wait $p",
             ALRS_BIN, idx, out, base, delay_ms / 1000, delay_ms % 1000, sig);
    return test_run(cmd, NULL, 0);
}

static int resume(const char *out) {
    char err[TEST_ERR_LEN];
    int rc = test_alrs(err, NULL, LEARN " --data-dir '%s' --resume --out '%s'", idx, out);
    if (rc != 0) fprintf(stderr, "  --resume %s: exit %d: %s", out, rc, err);
    return rc;
}

static int same_run(const char *a, const char *b) {
    return test_same_file(test_path(a, "controller.bin"), test_path(b, "controller.bin")) &&
           test_same_csv(test_path(a, "episodes.csv"), test_path(b, "episodes.csv"), timing_cols) &&
           test_same_csv(test_path(a, "updates.csv"), test_path(b, "updates.csv"), timing_cols);
}

int main(void) {
    snprintf(base, sizeof base, "%s", test_tmpdir("learn-signals"));
    snprintf(idx, sizeof idx, "%s/idx", base);
    mkdir(idx, 0777);
    test_write_idx_set(idx, "", 600, 28, 28, 0, 4);

    char err[TEST_ERR_LEN];
    const char *full = test_dir(base, "full");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    CHECK(test_alrs(err, NULL, LEARN " --data-dir '%s' --out '%s'", idx, full) == 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    int run_ms = (int)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);

    /* 1. SIGKILL at moments spread over the run (random, seeded by the pid) */
    srand((unsigned)getpid());
    for (int k = 0; k < 4; k++) {
        char name[32];
        snprintf(name, sizeof name, "killed-%d", k);
        const char *out = test_dir(base, name);
        int delay = run_ms / 10 + rand() % (run_ms * 8 / 10 + 1);
        learn_signalled(out, "KILL", delay);
        if (!test_exists(test_path(out, "controller.bin"))) {
            /* killed before the first update: nothing to resume, start again */
            char cmd[2 * PATH_LEN];
            snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
            test_run(cmd, NULL, 0);
            CHECK(test_alrs(err, NULL, LEARN " --data-dir '%s' --out '%s'", idx, out) == 0);
        } else {
            CHECK(resume(out) == 0);
        }
        int same = same_run(full, out);
        if (!same) fprintf(stderr, "  killed after %d ms of a %d ms run: differs\n", delay, run_ms);
        CHECK(same);
    }

    /* 2. SIGTERM mid-run: saved, said, non-zero; then --resume completes it */
    const char *stopped = test_dir(base, "stopped");
    int rc = learn_signalled(stopped, "TERM", run_ms / 2);
    char *text = test_read_text(test_dir(base, "signal-err.txt"));
    if (rc == 0) {
        fprintf(stderr, "  note: the run finished before SIGTERM arrived\n");
    } else {
        if (!text || !strstr(text, "alrs: interrupted by SIGTERM after update"))
            fprintf(stderr, "  SIGTERM after %d ms: exit %d, stderr:\n%s", run_ms / 2, rc,
                    text ? text : "");
        CHECK(text && strstr(text, "alrs: interrupted by SIGTERM after update"));
        CHECK(text && strstr(text, "--resume to continue"));
        CHECK(test_exists(test_path(stopped, "controller.bin")));
        CHECK(test_count_entries(stopped, ".tmp") == 0);
        CHECK(resume(stopped) == 0);
    }
    free(text);
    CHECK(same_run(full, stopped));

    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    test_run(cmd, NULL, 0);
    return test_finish();
}
