/* `alrs learn`, `alrs train --schedule controller:PATH` and `alrs bench
 * rollout` end to end, on a small synthetic IDX set and a small MLP child:
 *   1. the files a learn run writes (controller.bin, config.txt, episodes.csv,
 *      updates.csv, traces/), and that config.txt's command repeats the run;
 *   2. --resume: a run stopped early and resumed equals one run straight
 *      through (also when killed between its CSVs and its checkpoint);
 *   3. determinism: the same command, or another --concurrency, gives the
 *      same controller byte for byte;
 *   4. a learned controller drives alrs train: rates move by the controller's
 *      factors only;
 *   5. bad inputs: one "alrs: " line, non-zero exit, no directory left, and a
 *      user's directory left untouched;
 *   6. alrs bench rollout prints its CSV;
 *   7. --tasks: episodes draw tasks (the task column), the initial rate comes
 *      from a log-uniform range, the run is the same at another --concurrency
 *      and when resumed, and a task that validates off the controller's
 *      interval, or a changed task file on --resume, is refused;
 *   8. over prodigy the rate bounds and initial rate default around 1. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define expect_fail(line, ...) test_expect_fail(__FILE__, line, __VA_ARGS__)

#ifndef ALRS_BIN
#error "ALRS_BIN must name the built alrs program"
#endif

enum { PATH_LEN = 1024, ERR_LEN = TEST_ERR_LEN };

static char base[PATH_LEN / 2];
static char idx[PATH_LEN - 64]; /* 600 train + 120 test 28x28 images, raw IDX */

/* The child every learn run here trains: 4 agent steps of 5 child steps. */
#define CHILD "--model mlp --hidden 32,16 --val-split 100 --steps 20 --action-every 5 " \
              "--batch 32 --val-size 50"
/* The same child under alrs train, a controller acting every 5 steps. */
#define TRAIN_CHILD "--model mlp --hidden 32,16 --val-split 100 --steps 20 --eval-every 5 " \
                    "--batch 32 --val-size 50 --threads 1 --lr 0.001"

/* ---- files ----------------------------------------------------------------- */



static int byte_at(const char *path, long offset) {
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, offset, SEEK_SET) != 0) exit(2);
    int c = fgetc(f);
    fclose(f);
    return c;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Sorted names in a directory, joined by newlines (caller frees). */
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *list_dir(const char *dir) {
    DIR *d = opendir(dir);
    char *names[512];
    int n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && n < 512)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
        closedir(d);
    }
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    char *s = calloc((size_t)n * 260 + 1, 1);
    for (int k = 0; k < n; k++) {
        strcat(s, names[k]);
        strcat(s, "\n");
        free(names[k]);
    }
    return s;
}

static void copy_dir(const char *from, const char *to) {
    char cmd[3 * PATH_LEN];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", to, from, to);
    if (test_run(cmd, NULL, 0) != 0) exit(2);
}

/* Lines of err that start with "alrs: " (errors and warnings). */
static int alrs_lines(const char *err) {
    int n = 0;
    for (const char *p = err; *p;) {
        if (!strncmp(p, "alrs: ", 6)) n++;
        const char *nl = strchr(p, '\n');
        if (!nl) break;
        p = nl + 1;
    }
    return n;
}

/* ---- running alrs ---------------------------------------------------------- */

/* alrs learn CHILD --data-dir IDX EXTRA --out DIR; complains on failure. */
static int learn(const char *out, const char *extra) {
    char err[ERR_LEN];
    int rc = test_alrs(err, NULL, "learn " CHILD " --data-dir '%s' %s --out '%s'", idx, extra, out);
    if (rc != 0) fprintf(stderr, "  alrs learn %s --out %s: exit %d: %s", extra, out, rc, err);
    return rc;
}

/* ---- CSV ---------------------------------------------------------------------- */

static const char *const timing_cols[] = {"wall_s", "collect_s", "update_s", NULL};

/* CSV files a and b equal but for their timing columns. */
static int same_csv(const char *a, const char *b) {
    return test_same_csv(a, b, timing_cols);
}

static int is_factor(double ratio, double delta) {
    double up = 1 + delta;
    return fabs(ratio - 1) < 1e-6 || fabs(ratio - up) < 1e-6 || fabs(ratio - 1 / up) < 1e-6;
}

/* ---- 1. a learn run's files ------------------------------------------------------ */

static csv episodes, updates, trace;

static void check_trace_file(const char *path, const csv *eps) {
    CHECK(csv_read(&trace, path) == 0);
    /* what the agent saw (the paper's seven features), did and got */
    CHECK(trace.n_cols == 14 && csv_col(&trace, "agent_step") == 0 &&
          csv_col(&trace, "child_step") == 1 && csv_col(&trace, "action") == 2 &&
          csv_col(&trace, "lr") == 3 && csv_col(&trace, "train_loss") == 4 &&
          csv_col(&trace, "val_loss") == 5 && csv_col(&trace, "reward") == 6 &&
          csv_col(&trace, "log_val_loss") == 8 && csv_col(&trace, "log_lr") == 13);
    CHECK(trace.n_rows == 4);
    /* episode-N.csv belongs to row N of episodes.csv, an env 0 episode */
    const char *name = strrchr(path, '/') + 1;
    long number = strtol(name + strlen("episode-"), NULL, 10);
    int row = -1;
    for (int r = 0; r < eps->n_rows; r++)
        if (csv_num(eps, r, "episode") == (double)number) row = r;
    CHECK(row >= 0 && csv_num(eps, row, "env") == 0);
    int ok = trace.n_rows == 4;
    double prev = row >= 0 ? csv_num(eps, row, "initial_lr") : NAN;
    for (int r = 0; r < trace.n_rows; r++) {
        double lr = csv_num(&trace, r, "lr");
        ok &= csv_num(&trace, r, "agent_step") == r + 1 && csv_num(&trace, r, "child_step") == 5 * (r + 1);
        ok &= lr > 0 && is_factor(lr / prev, 0.05);
        ok &= isfinite(csv_num(&trace, r, "val_loss")) && csv_num(&trace, r, "val_loss") > 0;
        /* val-loss reward; the rate feature is the rate before this step */
        ok &= fabs(csv_num(&trace, r, "reward") + csv_num(&trace, r, "val_loss")) < 1e-5;
        ok &= fabs(exp(csv_num(&trace, r, "log_lr")) - prev) < 1e-6 * prev;
        double a = csv_num(&trace, r, "action");
        ok &= a == 0 || a == 1 || a == 2;
        prev = lr;
    }
    CHECK(ok);
    if (row >= 0 && trace.n_rows == 4)
        CHECK(fabs(csv_num(&trace, 3, "val_loss") - csv_num(eps, row, "final_val_loss")) < 2e-6);
}

static void check_learn_dir(const char *out, int n_episodes, int n_updates, int envs) {
    CHECK(test_exists(test_path(out, "controller.bin")));
    CHECK(file_size(test_path(out, "controller.bin")) > 32);
    CHECK(test_exists(test_path(out, "config.txt")));
    CHECK(test_count_entries(out, ".tmp") == 0);
    CHECK(test_count_entries(test_path(out, "traces"), ".tmp") == 0);

    char *config = test_read_text(test_path(out, "config.txt"));
    CHECK(config && (strstr(config, "\ncommand=alrs learn ") || !strncmp(config, "command=alrs learn ", 19)));
    free(config);

    CHECK(csv_read(&episodes, test_path(out, "episodes.csv")) == 0);
    char *text = test_read_text(test_path(out, "episodes.csv"));
    CHECK(text && !strncmp(text, "episode,env,initial_lr,return,final_val_loss,best_val_loss,"
                                 "diverged,wall_s", 63));
    free(text);
    CHECK(episodes.n_rows == n_episodes);
    int ok = episodes.n_rows == n_episodes;
    for (int r = 0; r < episodes.n_rows; r++) {
        double lr = csv_num(&episodes, r, "initial_lr");
        ok &= csv_num(&episodes, r, "episode") == r && csv_num(&episodes, r, "env") == r % envs;
        ok &= fabs(lr - 1e-2) < 1e-12 || fabs(lr - 1e-3) < 1e-12 || fabs(lr - 1e-4) < 1e-12;
        ok &= csv_num(&episodes, r, "diverged") == 0;
        ok &= csv_num(&episodes, r, "final_val_loss") > 0 &&
              csv_num(&episodes, r, "best_val_loss") <= csv_num(&episodes, r, "final_val_loss");
        ok &= isfinite(csv_num(&episodes, r, "return")) && csv_num(&episodes, r, "wall_s") >= 0;
        if (csv_col(&episodes, "update") >= 0) ok &= csv_num(&episodes, r, "update") == r / envs;
        if (csv_col(&episodes, "agent_steps") >= 0) ok &= csv_num(&episodes, r, "agent_steps") == 4;
        if (csv_col(&episodes, "complete") >= 0) ok &= csv_num(&episodes, r, "complete") == 1;
    }
    CHECK(ok);

    CHECK(csv_read(&updates, test_path(out, "updates.csv")) == 0);
    static const char *cols[] = {"policy_loss", "value_loss", "entropy", "approx_kl", "clip_frac",
                                 "explained_var"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        if (csv_col(&updates, cols[k]) >= 0) test_passed++;
        else {
            test_failed++;
            fprintf(stderr, "FAIL %s:%d: %s/updates.csv lacks column %s\n", __FILE__, __LINE__, out,
                    cols[k]);
        }
    }
    CHECK(updates.n_rows == n_updates);
    ok = updates.n_rows == n_updates;
    for (int r = 0; r < updates.n_rows; r++) {
        if (csv_col(&updates, "update") >= 0) ok &= csv_num(&updates, r, "update") == r;
        ok &= csv_num(&updates, r, "entropy") > 0 && csv_num(&updates, r, "entropy") <= log(3.0) + 1e-6;
        ok &= csv_num(&updates, r, "approx_kl") >= 0;
        ok &= csv_num(&updates, r, "clip_frac") >= 0 && csv_num(&updates, r, "clip_frac") <= 1;
        ok &= csv_num(&updates, r, "value_loss") >= 0 && isfinite(csv_num(&updates, r, "policy_loss"));
    }
    CHECK(ok);

    /* traces of env 0's episodes (--trace-every 1: one per update) */
    int n_traces = test_count_entries(test_path(out, "traces"), "episode-");
    CHECK(n_traces == n_updates);
    DIR *d = opendir(test_path(out, "traces"));
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "episode-", 8)) {
            char path[2 * PATH_LEN + 300];
            snprintf(path, sizeof path, "%s/traces/%s", out, e->d_name);
            check_trace_file(path, &episodes);
        }
    if (d) closedir(d);
}

/* The command config.txt records, with --out DIR replaced by `out`. */
static int config_command(const char *dir, const char *out, char *cmd, size_t size) {
    char *config = test_read_text(test_path(dir, "config.txt"));
    char *line = config ? strstr(config, "command=alrs ") : NULL;
    if (!line) {
        free(config);
        return -1;
    }
    line += strlen("command=alrs ");
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    char *dirflag = strstr(line, "--out DIR");
    if (!dirflag) {
        free(config);
        return -1;
    }
    *dirflag = '\0';
    snprintf(cmd, size, "%s--out '%s'", line, out);
    free(config);
    return 0;
}

static void test_learn_files(void) {
    const char *a = test_dir(base, "learn-a");
    char err[ERR_LEN];
    int rc = test_alrs(err, NULL, "learn " CHILD " --data-dir '%s' --episodes 4 --envs 2 --out '%s'",
                  idx, a);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "  alrs learn said: %s", err);
    CHECK(alrs_lines(err) == 0);
    check_learn_dir(a, 4, 2, 2);

    /* --episodes rounds up to whole batches of --envs */
    const char *r = test_dir(base, "learn-round");
    CHECK(learn(r, "--episodes 3 --envs 2 --trace-every 0") == 0);
    CHECK(csv_read(&episodes, test_path(r, "episodes.csv")) == 0 && episodes.n_rows == 4);
    CHECK(csv_read(&updates, test_path(r, "updates.csv")) == 0 && updates.n_rows == 2);
    CHECK(test_count_entries(test_path(r, "traces"), "episode-") == 0); /* --trace-every 0: none */
    char *config = test_read_text(test_path(r, "config.txt"));
    CHECK(config && strstr(config, "--episodes 4 ") && strstr(config, "updates=2\n") &&
          strstr(config, "agent_steps_per_episode=4\n"));
    free(config);

    /* --steps not a multiple of --action-every: a shorter last agent step, and
     * the trace's child_step is the child's real step count (never past --steps) */
    const char *odd = test_dir(base, "learn-steps22");
    CHECK(test_alrs(err, NULL, "learn --model mlp --hidden 32,16 --val-split 100 --steps 22 "
                          "--action-every 5 --batch 32 --val-size 50 --data-dir '%s' --episodes 2 "
                          "--envs 2 --out '%s'", idx, odd) == 0);
    CHECK(csv_read(&trace, test_path(odd, "traces/episode-000000.csv")) == 0);
    CHECK(trace.n_rows == 5);
    int steps_ok = trace.n_rows == 5;
    for (int k = 0; k < trace.n_rows; k++)
        steps_ok &= csv_num(&trace, k, "child_step") == (k + 1 < 5 ? 5.0 * (k + 1) : 22.0);
    if (!steps_ok && trace.n_rows == 5)
        fprintf(stderr, "  --steps 22 --action-every 5: the trace's last child_step is %s, not 22\n",
                trace.cell[4][1]);
    CHECK(steps_ok);

    /* config.txt's command repeats the run: the same controller byte for byte */
    char cmd[4 * PATH_LEN];
    const char *again = test_dir(base, "learn-a-from-config");
    CHECK(config_command(a, again, cmd, sizeof cmd) == 0);
    config = test_read_text(test_path(a, "config.txt"));
    int names_hidden = config && strstr(config, "--hidden 32,16") != NULL;
    if (!names_hidden)
        fprintf(stderr, "  %s/config.txt: the command lacks --hidden 32,16:\n%s", a,
                config ? config : "(none)\n");
    CHECK(names_hidden);
    free(config);
    rc = test_alrs(err, NULL, "%s", cmd);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "  alrs %s: %s", cmd, err);
    int repeats = test_same_file(test_path(a, "controller.bin"), test_path(again, "controller.bin"));
    if (!repeats) fprintf(stderr, "  the command in config.txt does not repeat the run: alrs %s\n", cmd);
    CHECK(repeats);
}

/* ---- 2. resume ------------------------------------------------------------------ */

static int same_traces(const char *a, const char *b) {
    char *la = list_dir(test_path(a, "traces")), *lb = list_dir(test_path(b, "traces"));
    int same = !strcmp(la, lb) && la[0];
    for (char *name = strtok(la, "\n"); same && name; name = strtok(NULL, "\n")) {
        char pa[2 * PATH_LEN + 300], pb[2 * PATH_LEN + 300];
        snprintf(pa, sizeof pa, "%s/traces/%s", a, name);
        snprintf(pb, sizeof pb, "%s/traces/%s", b, name);
        same &= test_same_file(pa, pb);
    }
    free(la);
    free(lb);
    return same;
}

static void test_resume(void) {
    const char *a = test_dir(base, "learn-a"); /* --episodes 4 --envs 2, straight through */
    const char *b = test_dir(base, "resume-b");
    const char *half = test_dir(base, "resume-half.bin");
    CHECK(learn(b, "--episodes 2 --envs 2") == 0);
    CHECK(csv_read(&updates, test_path(b, "updates.csv")) == 0 && updates.n_rows == 1);
    test_copy_file(test_path(b, "controller.bin"), half);
    CHECK(!test_same_file(test_path(a, "controller.bin"), test_path(b, "controller.bin")));
    CHECK(learn(b, "--episodes 4 --envs 2 --resume") == 0);
    CHECK(test_same_file(test_path(a, "controller.bin"), test_path(b, "controller.bin")));
    CHECK(same_csv(test_path(a, "episodes.csv"), test_path(b, "episodes.csv")));
    CHECK(same_csv(test_path(a, "updates.csv"), test_path(b, "updates.csv")));
    CHECK(same_traces(a, b));
    CHECK(test_count_entries(b, ".tmp") == 0);
    /* the run directory describes the run it now holds: 4 episodes */
    int same_config = test_same_file(test_path(a, "config.txt"), test_path(b, "config.txt"));
    if (!same_config) {
        char *ca = test_read_text(test_path(a, "config.txt")), *cb = test_read_text(test_path(b, "config.txt"));
        fprintf(stderr, "  config.txt after --episodes 2, then --episodes 4 --resume:\n%s"
                        "  of the same run straight through:\n%s", cb ? cb : "", ca ? ca : "");
        free(ca);
        free(cb);
    }
    CHECK(same_config);

    /* resuming a finished run: nothing to do, nothing changed */
    const char *done = test_dir(base, "resume-done");
    copy_dir(a, done);
    char err[ERR_LEN];
    int rc = test_alrs(err, NULL, "learn " CHILD " --data-dir '%s' --episodes 4 --envs 2 --resume --out '%s'",
                  idx, done);
    CHECK(rc == 0);
    CHECK(test_same_file(test_path(a, "controller.bin"), test_path(done, "controller.bin")));
    CHECK(test_same_file(test_path(a, "episodes.csv"), test_path(done, "episodes.csv")));
    CHECK(test_same_file(test_path(a, "updates.csv"), test_path(done, "updates.csv")));

    /* a directory from before --lr-hidden-scale (its config.txt has no
     * lr_hidden_scale line) resumes as one without the scale, and only so */
    const char *older = test_dir(base, "resume-older");
    copy_dir(a, older);
    char *text = test_read_text(test_path(older, "config.txt"));
    char *line = text ? strstr(text, "lr_hidden_scale=1\n") : NULL;
    CHECK(line != NULL);
    if (line) memmove(line, line + strlen("lr_hidden_scale=1\n"), strlen(line + strlen("lr_hidden_scale=1\n")) + 1);
    if (text) test_write_text(test_path(older, "config.txt"), text);
    free(text);
    CHECK(test_alrs(err, NULL, "learn " CHILD " --data-dir '%s' --episodes 4 --envs 2 --resume --out '%s'",
                    idx, older) == 0);
    rc = test_alrs(err, NULL, "learn " CHILD " --data-dir '%s' --episodes 4 --envs 2 "
                   "--lr-hidden-scale 2 --resume --out '%s'", idx, older);
    if (rc == 0 || !strstr(err, "lr_hidden_scale=1, this one has lr_hidden_scale=2"))
        fprintf(stderr, "  --lr-hidden-scale 2 on an older directory: rc %d: %s\n", rc, err);
    CHECK(rc != 0 && strstr(err, "lr_hidden_scale=1, this one has lr_hidden_scale=2"));

    /* killed after writing update 1's CSV rows but before its checkpoint: the
     * CSVs hold two updates, controller.bin one. Resuming drops the rows of
     * update 1 and redoes it. */
    const char *killed = test_dir(base, "resume-killed");
    copy_dir(a, killed);
    test_copy_file(half, test_path(killed, "controller.bin"));
    CHECK(learn(killed, "--episodes 4 --envs 2 --resume") == 0);
    CHECK(test_same_file(test_path(a, "controller.bin"), test_path(killed, "controller.bin")));
    CHECK(same_csv(test_path(a, "episodes.csv"), test_path(killed, "episodes.csv")));
    CHECK(same_csv(test_path(a, "updates.csv"), test_path(killed, "updates.csv")));
}

/* Children that diverge (SGD at rate 1) end episodes early, and the batch cuts
 * the episodes that restarted: their discounted returns in the reward scaler
 * carry over into the next batch. A resumed run must carry them over too (the
 * checkpoint holds them), or it scales the next batch's rewards differently. */
#define DIVERGING "--model mlp --hidden 32,16 --val-split 100 --steps 40 --action-every 5 " \
                  "--batch 32 --val-size 50 --optimizer sgd --lr 1 --envs 3"

static void test_resume_cut_episodes(void) {
    const char *straight = test_dir(base, "resume-cut-straight"), *resumed = test_dir(base, "resume-cut");
    char err[ERR_LEN];
    CHECK(test_alrs(err, NULL, "learn " DIVERGING " --data-dir '%s' --episodes 6 --out '%s'", idx,
                    straight) == 0);
    CHECK(test_alrs(err, NULL, "learn " DIVERGING " --data-dir '%s' --episodes 3 --out '%s'", idx,
                    resumed) == 0);
    CHECK(test_alrs(err, NULL, "learn " DIVERGING " --data-dir '%s' --episodes 6 --resume --out '%s'",
                    idx, resumed) == 0);
    /* the run does test cut episodes */
    CHECK(csv_read(&episodes, test_path(straight, "episodes.csv")) == 0);
    int cut = 0;
    for (int r = 0; r < episodes.n_rows; r++) cut += csv_num(&episodes, r, "complete") == 0;
    CHECK(cut > 0);
    int same = test_same_file(test_path(straight, "controller.bin"), test_path(resumed, "controller.bin"));
    if (!same)
        fprintf(stderr, "  learn " DIVERGING ": resumed after 1 update, the controller differs from "
                        "the run straight through\n");
    CHECK(same);
    CHECK(same_csv(test_path(straight, "episodes.csv"), test_path(resumed, "episodes.csv")));
}

/* ---- 3. determinism --------------------------------------------------------------- */

static void test_determinism(void) {
    const char *a = test_dir(base, "learn-a");
    const char *a2 = test_dir(base, "det-a2"), *c1 = test_dir(base, "det-conc1"), *s2 = test_dir(base, "det-seed2");
    CHECK(learn(a2, "--episodes 4 --envs 2") == 0);
    CHECK(test_same_file(test_path(a, "controller.bin"), test_path(a2, "controller.bin")));
    CHECK(same_csv(test_path(a, "episodes.csv"), test_path(a2, "episodes.csv")));
    CHECK(same_csv(test_path(a, "updates.csv"), test_path(a2, "updates.csv")));
    CHECK(same_traces(a, a2));
    /* one environment at a time instead of both at once: the same run */
    CHECK(learn(c1, "--episodes 4 --envs 2 --concurrency 1") == 0);
    CHECK(test_same_file(test_path(a, "controller.bin"), test_path(c1, "controller.bin")));
    CHECK(same_csv(test_path(a, "episodes.csv"), test_path(c1, "episodes.csv")));
    /* another seed is another run (so the comparisons above can tell) */
    CHECK(learn(s2, "--episodes 4 --envs 2 --seed 2") == 0);
    CHECK(test_exists(test_path(s2, "controller.bin")) &&
          !test_same_file(test_path(a, "controller.bin"), test_path(s2, "controller.bin")));
}

/* ---- 4. alrs train with a learned controller ------------------------------------------ */

static csv train_trace, summary;

/* Checks a controller-driven train run: rows at every `every` steps and the
 * last, rates moving from --lr 0.001 by allowed factors only. continuous: any
 * factor in [1/(1+delta), 1+delta]. */
static void check_controller_run(const char *out, const char *ctrl, int every, int continuous) {
    CHECK(test_exists(test_path(out, "config.txt")) && test_exists(test_path(out, "summary.csv")) &&
          test_exists(test_path(out, "metadata.txt")));
    CHECK(test_count_entries(out, ".tmp") == 0);
    CHECK(csv_read(&train_trace, test_path(out, "trace.csv")) == 0);
    int rows = (20 + every - 1) / every;
    CHECK(train_trace.n_rows == rows);
    int grid = train_trace.n_rows == rows, factors = 1, finite = 1;
    double prev = 0.001;
    for (int r = 0; r < train_trace.n_rows; r++) {
        double step = csv_num(&train_trace, r, "step"), lr = csv_num(&train_trace, r, "lr");
        grid &= step == (r + 1 < rows ? (double)every * (r + 1) : 20.0);
        double ratio = lr / prev;
        int allowed = continuous ? ratio >= 1 / 1.05 - 1e-6 && ratio <= 1.05 + 1e-6
                                 : is_factor(ratio, 0.05);
        if (!allowed && factors)
            fprintf(stderr, "  %s row %d: lr %.9g after %.9g (ratio %.9g)\n", out, r + 1, lr, prev,
                    ratio);
        factors &= allowed;
        finite &= isfinite(csv_num(&train_trace, r, "val_loss")) &&
                  isfinite(csv_num(&train_trace, r, "train_loss"));
        prev = lr;
    }
    CHECK(grid);
    CHECK(factors);
    CHECK(finite);
    CHECK(csv_read(&summary, test_path(out, "summary.csv")) == 0 && summary.n_rows == 1);
    int k = csv_col(&summary, "schedule");
    char want[PATH_LEN + 16];
    snprintf(want, sizeof want, "controller:%s", ctrl);
    CHECK(k >= 0 && !strcmp(summary.cell[0][k], want));
    CHECK(csv_num(&summary, 0, "steps") == 20 && csv_num(&summary, 0, "diverged") == 0);
    CHECK(csv_num(&summary, 0, "test_acc") >= 0 && csv_num(&summary, 0, "test_acc") <= 1);
}

static void test_train_with_controller(void) {
    const char *ctrl = test_path(test_dir(base, "learn-a"), "controller.bin");
    char ctrl_copy[2 * PATH_LEN];
    snprintf(ctrl_copy, sizeof ctrl_copy, "%s", ctrl);
    const char *t1 = test_dir(base, "train-ctrl"), *t2 = test_dir(base, "train-ctrl-2"), *t3 = test_dir(base, "train-ctrl-3");
    char err[ERR_LEN];
    int rc = test_alrs(err, NULL, "train " TRAIN_CHILD " --data-dir '%s' --schedule controller:%s --out '%s'",
                  idx, ctrl_copy, t1);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "  alrs train --schedule controller: %s", err);
    check_controller_run(t1, ctrl_copy, 5, 0);
    /* the controller acts on its policy's mode: a second run is the same */
    CHECK(test_alrs(err, NULL, "train " TRAIN_CHILD " --data-dir '%s' --schedule controller:%s --out '%s'",
               idx, ctrl_copy, t2) == 0);
    CHECK(same_csv(test_path(t1, "trace.csv"), test_path(t2, "trace.csv")));
    /* acting every 3 steps: a shorter last chunk, rows at 3, 6, ..., 18, 20 */
    CHECK(test_alrs(err, NULL,
               "train --model mlp --hidden 32,16 --val-split 100 --steps 20 --eval-every 3 "
               "--batch 32 --val-size 50 --threads 1 --lr 0.001 --data-dir '%s' "
               "--schedule controller:%s --out '%s'",
               idx, ctrl_copy, t3) == 0);
    check_controller_run(t3, ctrl_copy, 3, 0);

    /* a continuous controller: factors anywhere in [1/1.05, 1.05] */
    const char *lc = test_dir(base, "learn-continuous"), *tc = test_dir(base, "train-continuous");
    CHECK(learn(lc, "--episodes 2 --envs 2 --action continuous") == 0);
    char cpath[2 * PATH_LEN];
    snprintf(cpath, sizeof cpath, "%s", test_path(lc, "controller.bin"));
    rc = test_alrs(err, NULL, "train " TRAIN_CHILD " --data-dir '%s' --schedule controller:%s --out '%s'",
              idx, cpath, tc);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "  alrs train (continuous controller): %s", err);
    check_controller_run(tc, cpath, 5, 1);
}

/* ---- 5. bad inputs -------------------------------------------------------------------- */


#define EXPECT_FAIL(out, k1, k2, ...) expect_fail(__LINE__, out, k1, k2, __VA_ARGS__)

/* Every file of a directory, names and bytes, as one string to compare. */
static char *snapshot(const char *dir) {
    char *names = list_dir(dir);
    size_t cap = strlen(names) + 1;
    char *s = malloc(cap);
    strcpy(s, names);
    char *copy = strdup(names);
    for (char *name = strtok(copy, "\n"); name; name = strtok(NULL, "\n")) {
        long n = 0;
        char *bytes = test_read_file(test_path(dir, name), &n);
        if (!bytes) continue;
        s = realloc(s, cap + (size_t)n + 2);
        memcpy(s + cap - 1, bytes, (size_t)n);
        cap += (size_t)n + 1;
        s[cap - 2] = '|';
        s[cap - 1] = '\0';
        free(bytes);
    }
    free(copy);
    free(names);
    return s;
}

static void test_bad_inputs(void) {
    const char *never = test_dir(base, "never");
    const char *good = test_path(test_dir(base, "learn-a"), "controller.bin");
    char good_ctrl[2 * PATH_LEN];
    snprintf(good_ctrl, sizeof good_ctrl, "%s", good);
    char ctrl[2 * PATH_LEN];
    const char *train = "train " TRAIN_CHILD;
    long size = file_size(good_ctrl);
    CHECK(size > 100);

    /* controller files for alrs train --schedule controller:PATH */
    snprintf(ctrl, sizeof ctrl, "%s", test_dir(base, "no-such.bin"));
    EXPECT_FAIL(never, "no-such.bin", NULL, "%s --data-dir '%s' --schedule controller:%s --out '%s'",
                train, idx, ctrl, never);

    snprintf(ctrl, sizeof ctrl, "%s", test_dir(base, "truncated.bin"));
    test_copy_file(good_ctrl, ctrl);
    CHECK(truncate(ctrl, size - 9) == 0);
    EXPECT_FAIL(never, "truncated.bin", "truncated",
                "%s --data-dir '%s' --schedule controller:%s --out '%s'", train, idx, ctrl, never);

    snprintf(ctrl, sizeof ctrl, "%s", test_dir(base, "header-only.bin"));
    test_copy_file(good_ctrl, ctrl);
    CHECK(truncate(ctrl, 20) == 0);
    EXPECT_FAIL(never, "header-only.bin", "truncated",
                "%s --data-dir '%s' --schedule controller:%s --out '%s'", train, idx, ctrl, never);

    snprintf(ctrl, sizeof ctrl, "%s", test_dir(base, "flipped.bin"));
    test_copy_file(good_ctrl, ctrl);
    long at_byte = 32 + (size - 32) / 2;
    test_poke_byte(ctrl, at_byte, (unsigned char)(byte_at(ctrl, at_byte) ^ 0x10));
    EXPECT_FAIL(never, "flipped.bin", "checksum",
                "%s --data-dir '%s' --schedule controller:%s --out '%s'", train, idx, ctrl, never);

    snprintf(ctrl, sizeof ctrl, "%s", test_dir(base, "not-a-checkpoint.bin"));
    test_copy_file(test_path(idx, "train-labels-idx1-ubyte"), ctrl);
    EXPECT_FAIL(never, "not-a-checkpoint.bin", "magic",
                "%s --data-dir '%s' --schedule controller:%s --out '%s'", train, idx, ctrl, never);

    snprintf(ctrl, sizeof ctrl, "%s", test_dir(base, "empty.bin"));
    test_write_text(ctrl, "");
    EXPECT_FAIL(never, "empty.bin", NULL, "%s --data-dir '%s' --schedule controller:%s --out '%s'",
                train, idx, ctrl, never);
    EXPECT_FAIL(never, "--schedule", NULL, "%s --data-dir '%s' --schedule controller: --out '%s'",
                train, idx, never);

    /* learn flags */
    const char *lf = "learn " CHILD;
    EXPECT_FAIL(never, "--action", "sideways", "%s --data-dir '%s' --action sideways --out '%s'", lf,
                idx, never);
    EXPECT_FAIL(never, "--envs", "0", "%s --data-dir '%s' --envs 0 --out '%s'", lf, idx, never);
    EXPECT_FAIL(never, "reward", "bogus", "%s --data-dir '%s' --reward bogus --out '%s'", lf, idx,
                never);
    EXPECT_FAIL(never, "--threads-per-env", "0", "%s --data-dir '%s' --threads-per-env 0 --out '%s'",
                lf, idx, never);
    EXPECT_FAIL(never, "--concurrency", "-1", "%s --data-dir '%s' --concurrency -1 --out '%s'", lf,
                idx, never);
    EXPECT_FAIL(never, "--episodes", "0", "%s --data-dir '%s' --episodes 0 --out '%s'", lf, idx,
                never);
    EXPECT_FAIL(never, "--action-every", "0",
                "learn --model mlp --data-dir '%s' --action-every 0 --out '%s'", idx, never);
    EXPECT_FAIL(never, "--delta", "0", "%s --data-dir '%s' --delta 0 --out '%s'", lf, idx, never);
    EXPECT_FAIL(never, "--ppo-epochs", "0", "%s --data-dir '%s' --ppo-epochs 0 --out '%s'", lf, idx,
                never);
    EXPECT_FAIL(never, "--bogus", NULL, "%s --data-dir '%s' --bogus 1 --out '%s'", lf, idx, never);
    EXPECT_FAIL(never, "--model", "vgg", "learn --model vgg --data-dir '%s' --out '%s'", idx, never);
    EXPECT_FAIL(NULL, "--out", NULL, "%s --data-dir '%s'", lf, idx);
    snprintf(ctrl, sizeof ctrl, "%s", test_dir(base, "no-data"));
    EXPECT_FAIL(never, "no-data", NULL, "%s --data-dir '%s' --out '%s'", lf, ctrl, never);

    /* --resume without a controller: a directory that does not exist is not
     * made; an existing one is left as it was */
    EXPECT_FAIL(never, "controller.bin", NULL, "%s --data-dir '%s' --resume --out '%s'", lf, idx,
                never);
    const char *mine = test_dir(base, "mine");
    mkdir(mine, 0777);
    test_write_text(test_path(mine, "notes.txt"), "precious\n");
    EXPECT_FAIL(NULL, "controller.bin", NULL, "%s --data-dir '%s' --resume --out '%s'", lf, idx, mine);
    char *text = test_read_text(test_path(mine, "notes.txt"));
    CHECK(text && !strcmp(text, "precious\n"));
    free(text);
    CHECK(test_count_entries(mine, "") == 1);

    /* --out at a non-empty directory without --resume: refused, untouched */
    EXPECT_FAIL(NULL, "not empty", NULL, "%s --data-dir '%s' --out '%s'", lf, idx, mine);
    text = test_read_text(test_path(mine, "notes.txt"));
    CHECK(text && !strcmp(text, "precious\n"));
    free(text);
    CHECK(test_count_entries(mine, "") == 1);

    /* ... and a finished run directory likewise */
    const char *run = test_dir(base, "learn-copy");
    copy_dir(test_dir(base, "learn-a"), run);
    char *before = snapshot(run);
    EXPECT_FAIL(NULL, "not empty", NULL, "%s --data-dir '%s' --episodes 4 --out '%s'", lf, idx, run);
    char *after = snapshot(run);
    CHECK(!strcmp(before, after));
    free(after);

    /* --resume with a corrupted checkpoint: refused, the run left as it was */
    long csize = file_size(test_path(run, "controller.bin"));
    test_poke_byte(test_path(run, "controller.bin"), csize - 3,
              (unsigned char)(byte_at(test_path(run, "controller.bin"), csize - 3) ^ 0x01));
    free(before);
    before = snapshot(run);
    EXPECT_FAIL(NULL, "controller.bin", "checksum",
                "%s --data-dir '%s' --episodes 6 --envs 2 --resume --out '%s'", lf, idx, run);
    after = snapshot(run);
    CHECK(!strcmp(before, after));
    free(before);
    free(after);

    /* --resume of a continuous controller as a discrete one */
    const char *cont = test_dir(base, "learn-continuous-copy");
    copy_dir(test_dir(base, "learn-continuous"), cont);
    before = snapshot(cont);
    EXPECT_FAIL(NULL, "controller.bin", NULL,
                "%s --data-dir '%s' --episodes 4 --envs 2 --action discrete --resume --out '%s'", lf,
                idx, cont);
    after = snapshot(cont);
    CHECK(!strcmp(before, after));
    free(before);
    free(after);

    /* bench rollout_buffer */
    EXPECT_FAIL(NULL, "--layouts", NULL,
                "bench rollout " CHILD " --data-dir '%s' --batches 1 --layouts 2x", idx);
    EXPECT_FAIL(NULL, "--layouts", NULL,
                "bench rollout " CHILD " --data-dir '%s' --batches 1 --layouts 0x1", idx);
}

/* ---- 6. bench rollout ------------------------------------------------------------------ */

static csv bench;

static void test_bench_rollout(void) {
    char err[ERR_LEN], out[PATH_LEN];
    snprintf(out, sizeof out, "%s", test_dir(base, "bench.csv"));
    int rc = test_alrs(err, out, "bench rollout " CHILD " --data-dir '%s' --batches 1 --layouts 1x1,2x1",
                  idx);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "  alrs bench rollout: %s", err);
    CHECK(alrs_lines(err) == 0);
    char *text = test_read_text(out);
    CHECK(text && strstr(text, "\nmodel,envs,threads_per_env,ranks,episodes_per_hour,"
                               "child_steps_per_s,ppo_update_share\n"));
    free(text);
    CHECK(csv_read(&bench, out) == 0);
    CHECK(bench.n_cols == 7 && bench.n_rows == 2);
    int ok = bench.n_rows == 2;
    for (int r = 0; r < bench.n_rows; r++) {
        double share = csv_num(&bench, r, "ppo_update_share");
        ok &= !strcmp(bench.cell[r][0], "mlp") && csv_num(&bench, r, "envs") == r + 1 &&
              csv_num(&bench, r, "threads_per_env") == 1 && csv_num(&bench, r, "ranks") == 1;
        ok &= csv_num(&bench, r, "episodes_per_hour") > 0 && csv_num(&bench, r, "child_steps_per_s") > 0;
        ok &= share >= 0 && share < 1;
    }
    CHECK(ok);
    if (!ok) {
        text = test_read_text(out);
        fprintf(stderr, "  bench rollout printed:\n%s", text ? text : "");
        free(text);
    }

    /* A layout must not see fewer cores because another ran before it in the
     * same process: if 1x2 alone fits the machine (no warning), then after
     * 1x1 it must fit too. One agent step per episode keeps this short. */
    const char *tiny = "bench rollout --model mlp --hidden 32,16 --val-split 100 --steps 5 "
                       "--action-every 5 --batch 32 --val-size 50 --batches 1";
    rc = test_alrs(err, NULL, "%s --data-dir '%s' --layouts 1x2", tiny, idx);
    CHECK(rc == 0);
    if (rc == 0 && strstr(err, "warning") == NULL) {
        rc = test_alrs(err, NULL, "%s --data-dir '%s' --layouts 1x1,1x2", tiny, idx);
        CHECK(rc == 0);
        int quiet = strstr(err, "warning") == NULL;
        if (!quiet)
            fprintf(stderr, "  alrs %s --layouts 1x1,1x2: the 1x2 layout alone fits, after 1x1 "
                            "it says:\n%s", tiny, err);
        CHECK(quiet);
    }
}

/* More threads per environment than the machine has cores: one warning (teams.h:
 * "a warning is printed once"), and the run goes on. */
static void test_oversubscribed(void) {
    char err[ERR_LEN], info[PATH_LEN];
    snprintf(info, sizeof info, "%s/info.txt", base);
    CHECK(test_alrs(err, info, "info") == 0);
    char *text = test_read_text(info);
    char *line = text ? strstr(text, "\ncores: ") : NULL;
    long cores = line ? strtol(line + 8, NULL, 10) : 0;
    /* whether MPI is built in, and the ranks of this (one-process) job */
#ifdef ALRS_WITH_MPI
    CHECK(text && strstr(text, "\nmpi: built in (") != NULL);
#else
    CHECK(text && strstr(text, "\nmpi: not built in\n") != NULL);
#endif
    CHECK(text && strstr(text, "\nmpi_ranks: 1\n") != NULL);
    free(text);
    CHECK(cores >= 1);
    if (cores < 1 || cores > 64) return;
    const char *out = test_dir(base, "learn-oversubscribed");
    int rc = test_alrs(err, NULL,
                  "learn --model mlp --hidden 32,16 --val-split 100 --steps 5 --action-every 5 "
                  "--batch 32 --val-size 50 --data-dir '%s' --episodes 1 --envs 1 "
                  "--threads-per-env %ld --out '%s'", idx, cores + 1, out);
    CHECK(rc == 0);
    CHECK(test_exists(test_path(out, "controller.bin")));
    int once = alrs_lines(err) == 1 && strstr(err, "alrs: warning: ") && strstr(err, "unbound");
    if (!once)
        fprintf(stderr, "  learn --envs 1 --threads-per-env %ld on %ld cores said:\n%s", cores + 1,
                cores, err);
    CHECK(once);
}


/* ---- 7. learning across tasks ------------------------------------------------------ */

/* Two tasks on the synthetic set: another width, length, batch and data
 * variant; the second names eval-every, the first takes --action-every. */
static const char TASKS[] =
    "# two small tasks\n"
    "small-a model=mlp hidden=32,16 steps=20 batch=32 val-size=50\n"
    "small-b model=mlp hidden=16 label-noise=0.2 train-size=200 steps=10 batch=16 val-size=50 "
    "eval-every=5  # shorter\n";
#define TASK_FLAGS "--val-split 100 --action-every 5 --initial-lrs 1e-3:1e-1 --envs 2 --seed 3 " \
                   "--features relative,gap --factors 0.5,0.8,1,1.25,2 --reward log-delta --gamma 1"

static void test_tasks(void) {
    char tasks[PATH_LEN], err[ERR_LEN];
    snprintf(tasks, sizeof tasks, "%s", test_dir(base, "tasks.txt"));
    test_write_text(tasks, TASKS);
    const char *a = test_dir(base, "tasks-a"), *c1 = test_dir(base, "tasks-conc1");
    int rc = test_alrs(err, NULL, "learn " TASK_FLAGS " --data-dir '%s' --tasks '%s' --episodes 4 "
                                  "--out '%s'", idx, tasks, a);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "  alrs learn --tasks said: %s", err);
    CHECK(csv_read(&episodes, test_path(a, "episodes.csv")) == 0);
    /* a batch runs the longer task's 4 agent steps: small-b's 2-step episodes
     * end and begin again, so a batch holds more episodes than environments */
    CHECK(episodes.n_rows > 4 && csv_col(&episodes, "task") == 11);
    int seen_a = 0, seen_b = 0, ok = 1;
    for (int r = 0; r < episodes.n_rows; r++) {
        const char *task = episodes.cell[r][11];
        double lr = csv_num(&episodes, r, "initial_lr"), steps = csv_num(&episodes, r, "agent_steps");
        int is_a = !strcmp(task, "small-a"), is_b = !strcmp(task, "small-b");
        seen_a |= is_a, seen_b |= is_b;
        ok &= (is_a || is_b) && lr >= 1e-3 && lr <= 1e-1;
        if (csv_num(&episodes, r, "complete") == 1) ok &= steps == (is_a ? 4 : 2);
    }
    CHECK(ok && seen_a && seen_b);
    /* drawn, not a list: the rates differ from episode to episode */
    CHECK(episodes.n_rows > 2 &&
          csv_num(&episodes, 0, "initial_lr") != csv_num(&episodes, 1, "initial_lr"));
    /* its default rate is the range's centre on a log scale, and train
     * without --lr starts there */
    char info[PATH_LEN];
    snprintf(info, sizeof info, "%s", test_dir(base, "tasks-info.txt"));
    CHECK(test_alrs(err, info, "info --controller '%s'", test_path(a, "controller.bin")) == 0);
    char *said = test_read_text(info);
    CHECK(said && strstr(said, "default_lr: 0.01\n"));
    free(said);
    const char *dflt = test_dir(base, "tasks-default-lr");
    rc = test_alrs(err, NULL, "train --model mlp --hidden 16 --steps 10 --batch 16 --val-size 50 "
                              "--eval-every 5 --val-split 100 --data-dir '%s' --schedule "
                              "'controller:%s' --out '%s'", idx, test_path(a, "controller.bin"), dflt);
    if (rc != 0) fprintf(stderr, "  train with the controller's default rate said: %s", err);
    char *dconfig = test_read_text(test_path(dflt, "config.txt"));
    CHECK(rc == 0 && dconfig && strstr(dconfig, "\nlr=0.01\n"));
    if (dconfig && !strstr(dconfig, "\nlr=0.01\n")) fprintf(stderr, "%s", dconfig);
    free(dconfig);
    char *config = test_read_text(test_path(a, "config.txt"));
    CHECK(config && strstr(config, "--tasks ") && strstr(config, "\ntask.small-b=model=mlp hidden=16 ") &&
          strstr(config, "label-noise=0.2 train-size=200 steps=10 batch=16 ") &&
          strstr(config, "\ninitial_lrs=0.001:0.1\n") && strstr(config, "agent_steps_per_episode=4\n"));
    free(config);

    /* which task an episode trains on comes from its seed, not its thread */
    CHECK(test_alrs(err, NULL, "learn " TASK_FLAGS " --data-dir '%s' --tasks '%s' --episodes 4 "
                               "--concurrency 1 --out '%s'", idx, tasks, c1) == 0);
    CHECK(test_same_file(test_path(a, "controller.bin"), test_path(c1, "controller.bin")));
    CHECK(same_csv(test_path(a, "episodes.csv"), test_path(c1, "episodes.csv")));

    /* stopped after one update and resumed: the run straight through */
    const char *half = test_dir(base, "tasks-half");
    CHECK(test_alrs(err, NULL, "learn " TASK_FLAGS " --data-dir '%s' --tasks '%s' --episodes 2 "
                               "--out '%s'", idx, tasks, half) == 0);
    CHECK(test_alrs(err, NULL, "learn " TASK_FLAGS " --data-dir '%s' --tasks '%s' --episodes 4 "
                               "--resume --out '%s'", idx, tasks, half) == 0);
    CHECK(test_same_file(test_path(a, "controller.bin"), test_path(half, "controller.bin")));
    CHECK(same_csv(test_path(a, "episodes.csv"), test_path(half, "episodes.csv")));

    /* a task off the controller's interval: FILE:LINE, exit 2, nothing written */
    const char *never = test_dir(base, "tasks-never");
    char bad[PATH_LEN];
    snprintf(bad, sizeof bad, "%s", test_dir(base, "tasks-bad.txt"));
    test_write_text(bad, "small-a model=mlp hidden=16 steps=20 batch=32 val-size=50\n"
                         "small-c model=mlp hidden=16 steps=20 batch=32 val-size=50 eval-every=10\n");
    EXPECT_FAIL(never, "tasks-bad.txt:2: task small-c", "eval-every=10",
                "learn " TASK_FLAGS " --data-dir '%s' --tasks '%s' --out '%s'", idx, bad, never);
    CHECK(test_alrs(err, NULL, "learn " TASK_FLAGS " --data-dir '%s' --tasks '%s' --out '%s'", idx,
                    bad, never) == 2);
    /* a range upside down */
    EXPECT_FAIL(never, "--initial-lrs 1e-1:1e-3", NULL,
                "learn --val-split 100 --data-dir '%s' --tasks '%s' --initial-lrs 1e-1:1e-3 "
                "--out '%s'", idx, tasks, never);

    /* --resume with a changed task file: refused, the run untouched */
    char *before = snapshot(a);
    test_write_text(tasks, "small-a model=mlp hidden=32,16 steps=20 batch=32 val-size=50\n"
                           "small-b model=mlp hidden=16 steps=10 batch=16 val-size=50\n");
    EXPECT_FAIL(NULL, "task.small-b", "--resume",
                "learn " TASK_FLAGS " --data-dir '%s' --tasks '%s' --episodes 6 --resume --out '%s'",
                idx, tasks, a);
    char *after = snapshot(a);
    CHECK(!strcmp(before, after));
    free(before), free(after);
}

/* Over Prodigy the rate multiplies d: the bounds and the initial rate default
 * around 1, and --lr-bounds still sets them. */
static void test_d_scaled(void) {
    const char *p = test_dir(base, "prodigy"), *q = test_dir(base, "prodigy-bounds");
    CHECK(learn(p, "--optimizer prodigy --episodes 2 --trace-every 0") == 0);
    char *config = test_read_text(test_path(p, "config.txt"));
    CHECK(config && strstr(config, "\nlr_bounds=0.001,10\n") && strstr(config, "\ninitial_lrs=1\n"));
    free(config);
    CHECK(csv_read(&episodes, test_path(p, "episodes.csv")) == 0 && episodes.n_rows == 2 &&
          csv_num(&episodes, 0, "initial_lr") == 1 && csv_num(&episodes, 1, "diverged") == 0);
    CHECK(learn(q, "--optimizer prodigy --lr-bounds 0.01,100 --initial-lrs 0.1:10 --episodes 2 "
                   "--trace-every 0") == 0);
    config = test_read_text(test_path(q, "config.txt"));
    CHECK(config && strstr(config, "\nlr_bounds=0.01,100\n") && strstr(config, "\ninitial_lrs=0.1:10\n"));
    free(config);

    /* train runs the controller over the optimizer it learned over, from its
     * default rate (1 here), unless the flags say otherwise */
    const char *own = test_dir(base, "prodigy-train"), *told = test_dir(base, "prodigy-train-adam");
    char err[ERR_LEN];
    const char *train = "train --model mlp --hidden 32,16 --val-split 100 --steps 20 --eval-every 5 "
                        "--batch 32 --val-size 50 --threads 1 --data-dir '%s' "
                        "--schedule 'controller:%s' %s --out '%s'";
    CHECK(test_alrs(err, NULL, train, idx, test_path(p, "controller.bin"), "", own) == 0);
    config = test_read_text(test_path(own, "config.txt"));
    CHECK(config && strstr(config, "\noptimizer=prodigy\n") && strstr(config, "\nlr=1\n"));
    free(config);
    CHECK(test_alrs(err, NULL, train, idx, test_path(p, "controller.bin"),
                    "--optimizer adam --lr 0.01", told) == 0);
    config = test_read_text(test_path(told, "config.txt"));
    CHECK(config && strstr(config, "\noptimizer=adam\n") && strstr(config, "\nlr=0.01\n"));
    free(config);
}

int main(void) {
    snprintf(base, sizeof base, "%s", test_tmpdir("learn-cli"));
    snprintf(idx, sizeof idx, "%s/idx", base);
    mkdir(idx, 0777);
    test_write_idx_set(idx, "", 600, 28, 28, 0, 1);

    char err[ERR_LEN], help[PATH_LEN];
    snprintf(help, sizeof help, "%s/help.txt", base);
    CHECK(test_alrs(err, help, "learn --help") == 0);
    char *text = test_read_text(help);
    CHECK(text && strstr(text, "--resume") && strstr(text, "--envs") && strstr(text, "--out"));
    CHECK(text && strstr(text, "\n  --check "));
    free(text);
    /* bench rollout shares learn's flags but not those of alrs learn alone
     * (its --layouts give the environments), which it refuses by name */
    CHECK(test_alrs(err, help, "bench rollout --help") == 0);
    text = test_read_text(help);
    CHECK(text && strstr(text, "--features") && strstr(text, "--ppo-epochs") &&
          strstr(text, "Episodes and rewards:") && !strstr(text, "--check") &&
          !strstr(text, "--envs") && !strstr(text, "--tasks") && !strstr(text, "--episodes") &&
          !strstr(text, "--resume") && !strstr(text, "--trace-every") &&
          !strstr(text, "--lr-hidden-scale") && !strstr(text, "Output:"));
    free(text);
    CHECK(test_alrs(err, NULL, "bench rollout --check") == 2);
    CHECK(strstr(err, "--check: unknown flag for this command") != NULL);
    CHECK(test_alrs(err, NULL, "bench rollout --envs 2") == 2);
    CHECK(strstr(err, "--envs: unknown flag for this command") != NULL);

    test_learn_files();
    test_resume();
    test_resume_cut_episodes();
    test_determinism();
    test_train_with_controller();
    test_bad_inputs();
    test_bench_rollout();
    test_oversubscribed();
    test_tasks();
    test_d_scaled();

    test_remove_tmpdirs();
    return test_finish();
}
