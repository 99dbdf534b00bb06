/* The `alrs` program end to end: real runs on small synthetic data sets in the
 * real file formats (IDX raw and gzipped, CIFAR-10 binary), the files a run
 * writes, determinism, schedules in the trace, and every kind of bad input,
 * which must fail with one "alrs: " line naming the culprit and leave no run
 * directory behind. */
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

/* Directories made once: test_tmpdir returns static storage, so keep copies. */
static char base[PATH_LEN / 2];    /* everything this test writes lives under here */
static char idx_raw[PATH_LEN - 64]; /* 600 train + 120 test 28x28 images, raw IDX */
static char idx_gz[PATH_LEN - 64];  /* the same, gzipped */

/* The training flags every small IDX run shares. */
#define SMALL_FLAGS "--val-split 100 --batch 32 --threads 1 --eval-every 5"

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- CSV ---------------------------------------------------------------- */

static char *csv_text_without_wall(const csv *c) {
    static const char *const wall[] = {"wall_s", NULL};
    return csv_text_without(c, wall);
}

/* ---- 1. end to end ------------------------------------------------------- */

static csv trace, summary; /* big: kept out of the stack */

/* Checks a finished run directory; `steps`/`every` say which trace rows to expect. */
static void check_run_dir(const char *out, const char *model, long steps, long every) {
    CHECK(test_exists(test_path(out, "config.txt")));
    CHECK(test_exists(test_path(out, "trace.csv")));
    CHECK(test_exists(test_path(out, "summary.csv")));
    CHECK(test_exists(test_path(out, "metadata.txt")));
    CHECK(test_count_entries(out, ".tmp.") == 0);
    CHECK(test_count_entries(out, "") == 4);

    char *config = test_read_text(test_path(out, "config.txt"));
    char want[128];
    snprintf(want, sizeof want, "model=%s\n", model);
    CHECK(config && strstr(config, want) && strstr(config, "command=alrs train "));
    free(config);
    char *meta = test_read_text(test_path(out, "metadata.txt"));
    /* the default backend, and the plan entry it used */
    CHECK(meta && strstr(meta, "backend=plan") && strstr(meta, "dnnl_version") &&
          strstr(meta, "plan: ") && strstr(meta, "|threads=1|"));
    free(meta);

    CHECK(csv_read(&summary, test_path(out, "summary.csv")) == 0);
    static const char *required[] = {"model",         "dataset",     "schedule",  "seed",
                                     "steps",         "batch",       "best_val_loss",
                                     "test_loss",     "test_acc",    "wall_s",
                                     "train_images_per_s"};
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++) {
        if (csv_col(&summary, required[k]) >= 0) test_passed++;
        else {
            test_failed++;
            fprintf(stderr, "FAIL %s:%d: summary.csv of %s lacks column %s\n", __FILE__, __LINE__,
                    out, required[k]);
        }
    }
    CHECK(csv_col(&summary, "model") == 0 && csv_col(&summary, "dataset") == 1 &&
          csv_col(&summary, "schedule") == 2 && csv_col(&summary, "seed") == 3 &&
          csv_col(&summary, "steps") == 4 && csv_col(&summary, "batch") == 5);
    CHECK(summary.n_rows == 1);
    CHECK(!strcmp(csv_str(&summary, 0, "model"), model));
    CHECK(csv_num(&summary, 0, "steps") == (double)steps);
    CHECK(csv_num(&summary, 0, "batch") == 32);
    double acc = csv_num(&summary, 0, "test_acc");
    CHECK(acc >= 0 && acc <= 1);
    CHECK(csv_num(&summary, 0, "test_loss") > 0);
    CHECK(csv_num(&summary, 0, "best_val_loss") > 0);
    CHECK(csv_num(&summary, 0, "train_images_per_s") > 0);

    CHECK(csv_read(&trace, test_path(out, "trace.csv")) == 0);
    CHECK(csv_col(&trace, "step") >= 0 && csv_col(&trace, "lr") >= 0 &&
          csv_col(&trace, "train_loss") >= 0 && csv_col(&trace, "val_loss") >= 0 &&
          csv_col(&trace, "val_acc") >= 0 && csv_col(&trace, "wall_s") >= 0);
    /* A validation every `every` steps and one after the last step. */
    long rows = (steps + every - 1) / every;
    CHECK(trace.n_rows == rows);
    int increasing = 1, on_grid = 1;
    for (int r = 0; r < trace.n_rows; r++) {
        double s = csv_num(&trace, r, "step");
        if (r > 0) increasing &= s > csv_num(&trace, r - 1, "step");
        on_grid &= r + 1 < trace.n_rows ? s == (double)(every * (r + 1)) : s == (double)steps;
    }
    CHECK(increasing);
    CHECK(on_grid);
    /* The synthetic patterns are learnable: validation loss falls. */
    double first = csv_num(&trace, 0, "val_loss"), last = csv_num(&trace, trace.n_rows - 1, "val_loss");
    if (last < first) test_passed++;
    else {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: %s: val_loss did not fall (%g -> %g)\n", __FILE__, __LINE__,
                out, first, last);
    }
}

static void test_end_to_end(void) {
    static const char *models[] = {"lenet5", "mlp"};
    char err[ERR_LEN];
    for (int m = 0; m < 2; m++)
        for (int gz = 0; gz < 2; gz++) {
            char out[PATH_LEN];
            snprintf(out, sizeof out, "%s/run-%s-%s", base, models[m], gz ? "gz" : "raw");
            /* 32 steps with a validation every 5: the last one comes after step 32. */
            int rc = test_alrs(err, NULL,
                          "train --model %s --data-dir '%s' " SMALL_FLAGS " --steps 32 --out '%s'",
                          models[m], gz ? idx_gz : idx_raw, out);
            CHECK(rc == 0);
            if (rc != 0) fprintf(stderr, "  alrs train --model %s said: %s", models[m], err);
            CHECK(strstr(err, "alrs: ") == NULL);
            check_run_dir(out, models[m], 32, 5);
        }

    /* An --out whose parents do not exist yet, and an existing empty directory. */
    char out[PATH_LEN];
    snprintf(out, sizeof out, "%s/deep/er/run", base);
    CHECK(test_alrs(err, NULL, "train --model mlp --hidden 32 --data-dir '%s' " SMALL_FLAGS
                          " --steps 5 --out '%s'", idx_raw, out) == 0);
    CHECK(test_exists(test_path(out, "summary.csv")));
    snprintf(out, sizeof out, "%s/empty-out", base);
    mkdir(out, 0777);
    CHECK(test_alrs(err, NULL, "train --model mlp --data-dir '%s' " SMALL_FLAGS " --steps 5 --out '%s'",
               idx_raw, out) == 0);
    CHECK(test_exists(test_path(out, "summary.csv")));

    /* A trailing slash names the same directory. */
    snprintf(out, sizeof out, "%s/slash/", base);
    int rc = test_alrs(err, NULL, "train --model mlp --data-dir '%s' " SMALL_FLAGS " --steps 5 --out '%s'",
                  idx_raw, out);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "  alrs train --out %s said: %s", out, err);
    else CHECK(test_exists(test_path(out, "summary.csv")));

    /* --eval-every past the end: one validation, after the last step. */
    snprintf(out, sizeof out, "%s/one-eval", base);
    CHECK(test_alrs(err, NULL, "train --model mlp --data-dir '%s' --val-split 100 --batch 32 "
                          "--threads 1 --eval-every 100 --steps 7 --out '%s'",
               idx_raw, out) == 0);
    CHECK(csv_read(&trace, test_path(out, "trace.csv")) == 0);
    CHECK(trace.n_rows == 1 && csv_num(&trace, 0, "step") == 7);
}

/* A run that blows up still finishes (a diverging schedule is a result), says
 * so in summary.csv, and stops the trace at the step that diverged. */
static void test_divergence(void) {
    char out[PATH_LEN], err[ERR_LEN];
    snprintf(out, sizeof out, "%s/diverge", base);
    CHECK(test_alrs(err, NULL, "train --model mlp --data-dir '%s' " SMALL_FLAGS
                          " --steps 20 --optimizer sgd --lr 1000 --out '%s'",
               idx_raw, out) == 0);
    CHECK(test_count_entries(out, ".tmp.") == 0);
    CHECK(csv_read(&summary, test_path(out, "summary.csv")) == 0);
    CHECK(csv_num(&summary, 0, "diverged") == 1);
    CHECK(csv_num(&summary, 0, "steps") < 20);
    CHECK(csv_read(&trace, test_path(out, "trace.csv")) == 0);
    CHECK(trace.n_rows >= 1);
    CHECK(csv_num(&trace, trace.n_rows - 1, "step") == csv_num(&summary, 0, "steps"));
    CHECK(isnan(csv_num(&trace, trace.n_rows - 1, "val_loss")));
    /* It diverged before the first validation (step 5): no validation loss was
     * ever measured, so none may be reported as 0. */
    if (trace.n_rows == 1) {
        double fvl = csv_num(&summary, 0, "final_val_loss");
        if (fvl != 0) test_passed++;
        else {
            test_failed++;
            fprintf(stderr, "FAIL %s:%d: diverged before any validation, yet summary.csv says "
                            "final_val_loss=%s final_val_acc=%s\n",
                    __FILE__, __LINE__, csv_str(&summary, 0, "final_val_loss"),
                    csv_str(&summary, 0, "final_val_acc"));
        }
    }
}

/* ---- 2. resnet18 on CIFAR-10 -------------------------------------------- */

static void test_resnet18(void) {
    char cifar[PATH_LEN], out[PATH_LEN], err[ERR_LEN];
    snprintf(cifar, sizeof cifar, "%s/cifar", base);
    mkdir(cifar, 0777);
    test_write_cifar_set(cifar, 100, 5); /* 500 training images, 100 test */
    snprintf(out, sizeof out, "%s/run-resnet18", base);
    int rc = test_alrs(err, NULL,
                  "train --model resnet18 --dataset cifar10 --data-dir '%s' --val-split 200 "
                  "--val-size 50 --steps 20 --batch 32 --threads 1 --eval-every 5 --out '%s'",
                  cifar, out);
    CHECK(rc == 0);
    if (rc != 0) fprintf(stderr, "  alrs train --model resnet18 said: %s", err);
    CHECK(csv_read(&trace, test_path(out, "trace.csv")) == 0);
    CHECK(trace.n_rows == 4);
    double first = csv_num(&trace, 0, "train_loss");
    double last = csv_num(&trace, trace.n_rows - 1, "train_loss");
    if (last < first) test_passed++;
    else {
        test_failed++;
        fprintf(stderr, "FAIL %s:%d: resnet18 train_loss did not fall (%g -> %g)\n", __FILE__,
                __LINE__, first, last);
    }
    CHECK(csv_read(&summary, test_path(out, "summary.csv")) == 0);
    CHECK(!strcmp(csv_str(&summary, 0, "model"), "resnet18"));
    CHECK(!strcmp(csv_str(&summary, 0, "dataset"), "cifar10"));
    CHECK(test_count_entries(out, ".tmp.") == 0);
}

/* ---- 3. determinism ------------------------------------------------------ */

static char *trace_without_wall(const char *out) {
    if (csv_read(&trace, test_path(out, "trace.csv")) != 0) return NULL;
    return csv_text_without_wall(&trace);
}

static void test_determinism(void) {
    char a[PATH_LEN], b[PATH_LEN], c[PATH_LEN], err[ERR_LEN];
    snprintf(a, sizeof a, "%s/det-a", base);
    snprintf(b, sizeof b, "%s/det-b", base);
    snprintf(c, sizeof c, "%s/det-c", base);
    const char *flags = "train --model lenet5 --data-dir '%s' " SMALL_FLAGS
                        " --steps 20 --seed %d --out '%s'";
    CHECK(test_alrs(err, NULL, flags, idx_raw, 3, a) == 0);
    CHECK(test_alrs(err, NULL, flags, idx_raw, 3, b) == 0);
    CHECK(test_alrs(err, NULL, flags, idx_raw, 4, c) == 0);
    char *ta = trace_without_wall(a), *tb = trace_without_wall(b), *tc = trace_without_wall(c);
    CHECK(ta && tb && tc);
    if (ta && tb) {
        if (!strcmp(ta, tb)) test_passed++;
        else {
            test_failed++;
            fprintf(stderr, "FAIL %s:%d: two identical runs differ:\n%s---\n%s", __FILE__, __LINE__,
                    ta, tb);
        }
    }
    /* Another seed is another run (so the comparison above can tell). */
    CHECK(ta && tc && strcmp(ta, tc) != 0);
    free(ta);
    free(tb);
    free(tc);
    char *ca = test_read_text(test_path(a, "config.txt")), *cb = test_read_text(test_path(b, "config.txt"));
    char *pa = ca ? strstr(ca, "command=") : NULL, *pb = cb ? strstr(cb, "command=") : NULL;
    /* The configs differ only in nothing: --out is written as DIR. */
    CHECK(pa && pb && !strcmp(pa, pb));
    free(ca);
    free(cb);
}

/* ---- 4. schedules in the trace ------------------------------------------- */

static void test_schedules(void) {
    char out[PATH_LEN], err[ERR_LEN];
    snprintf(out, sizeof out, "%s/sched-step", base);
    CHECK(test_alrs(err, NULL,
               "train --model mlp --data-dir '%s' --val-split 100 --batch 32 --threads 1 "
               "--eval-every 1 --steps 12 --lr 0.01 --schedule step:every=5,gamma=0.5 --out '%s'",
               idx_raw, out) == 0);
    CHECK(csv_read(&trace, test_path(out, "trace.csv")) == 0);
    CHECK(trace.n_rows == 12);
    /* Row k (1-based) reports the rate of step k-1 (0-based): 0.01 * 0.5^floor((k-1)/5). */
    int ok = trace.n_rows == 12;
    for (int r = 0; r < trace.n_rows; r++) {
        double want = 0.01 * pow(0.5, (double)(r / 5)), got = csv_num(&trace, r, "lr");
        if (fabs(got - want) > 1e-9 * want) {
            ok = 0;
            fprintf(stderr, "  step schedule row %d: lr %.9g, want %.9g\n", r + 1, got, want);
        }
    }
    CHECK(ok);
    CHECK(csv_read(&summary, test_path(out, "summary.csv")) == 0);
    CHECK(!strcmp(csv_str(&summary, 0, "schedule"), "step:every=5,gamma=0.5"));
    char *config = test_read_text(test_path(out, "config.txt"));
    CHECK(config && strstr(config, "schedule=step:every=5,gamma=0.5\n"));
    free(config);

    /* cosine over the run: lr(s) = lr/2 * (1 + cos(pi s / T)). */
    snprintf(out, sizeof out, "%s/sched-cosine", base);
    CHECK(test_alrs(err, NULL,
               "train --model mlp --data-dir '%s' --val-split 100 --batch 32 --threads 1 "
               "--eval-every 2 --steps 10 --lr 0.004 --schedule cosine --out '%s'",
               idx_raw, out) == 0);
    CHECK(csv_read(&trace, test_path(out, "trace.csv")) == 0);
    ok = trace.n_rows == 5;
    for (int r = 0; r < trace.n_rows; r++) {
        double s = csv_num(&trace, r, "step") - 1;
        double want = 0.002 * (1 + cos(3.14159265358979323846 * s / 10)), got = csv_num(&trace, r, "lr");
        if (fabs(got - want) > 1e-8 * 0.004) {
            ok = 0;
            fprintf(stderr, "  cosine schedule row %d: lr %.9g, want %.9g\n", r + 1, got, want);
        }
    }
    CHECK(ok);
}

/* A variant of the training split (--train-size, --label-noise) is in every
 * training command's help, in config.txt and in its command, and repeats
 * exactly; a wsd schedule's rates reach the trace step by step. */
static void test_data_variants(void) {
    char out[PATH_LEN], again[PATH_LEN], clean[PATH_LEN], err[ERR_LEN], help[PATH_LEN];
    snprintf(help, sizeof help, "%s/variant-help.txt", base);
    const char *commands[] = {"train", "learn", "compare"};
    for (int k = 0; k < 3; k++) {
        CHECK(test_alrs(err, help, "%s --help", commands[k]) == 0);
        char *text = test_read_text(help);
        CHECK(text && strstr(text, "--train-size N") && strstr(text, "--label-noise F"));
        free(text);
    }
    const char *flags = "train --model mlp --hidden 16 --data-dir '%s' --val-split 100 --batch 32 "
                        "--threads 1 --eval-every 1 --steps 10 --lr 0.01 "
                        "--schedule wsd:warmup=2,decay=4 %s --out '%s'";
    const char *variant = "--train-size 200 --label-noise 0.3";
    snprintf(out, sizeof out, "%s/variant", base);
    snprintf(again, sizeof again, "%s/variant-again", base);
    snprintf(clean, sizeof clean, "%s/variant-clean", base);
    CHECK(test_alrs(err, NULL, flags, idx_raw, variant, out) == 0);
    CHECK(test_alrs(err, NULL, flags, idx_raw, variant, again) == 0);
    CHECK(test_alrs(err, NULL, flags, idx_raw, "--train-size 200", clean) == 0);
    char *config = test_read_text(test_path(out, "config.txt"));
    CHECK(config && strstr(config, "\ntrain_size=200\n") && strstr(config, "\nlabel_noise=0.3\n"));
    CHECK(config && strstr(config, " --train-size 200 --label-noise 0.3 "));
    free(config);
    config = test_read_text(test_path(clean, "config.txt"));
    CHECK(config && strstr(config, "\nlabel_noise=0\n") && !strstr(config, "--label-noise"));
    free(config);
    char *a = trace_without_wall(out), *b = trace_without_wall(again), *c = trace_without_wall(clean);
    CHECK(a && b && c && !strcmp(a, b)); /* the same split seed: the same noisy labels */
    CHECK(a && c && strcmp(a, c));       /* noise changes the training losses */
    free(a), free(b), free(c);
    /* wsd, 10 steps, warm-up 2, decay 4: 0.01 * 1/2 at k = 0, 0.01 for k = 1..6 (the decay
     * starts at 0.01 * 4/4 at k = 6), then 0.01 * (10 - k)/4 for k = 7..9 */
    const double want[10] = {0.005, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.0075, 0.005, 0.0025};
    CHECK(csv_read(&trace, test_path(out, "trace.csv")) == 0 && trace.n_rows == 10);
    for (int r = 0; r < trace.n_rows && r < 10; r++)
        CHECK_NEAR(csv_num(&trace, r, "lr"), want[r], 1e-12);
}

/* A mid-run change (--change-at N --change-label-noise P): in alrs train's help
 * only; in config.txt (keys always, flags when set); the run is the plain one
 * row for row up to step N and trains on other labels after it; it repeats. */
static void test_mid_run_change(void) {
    static csv changed; /* big: kept out of the stack */
    char plain[PATH_LEN], out[PATH_LEN], again[PATH_LEN], err[ERR_LEN], help[PATH_LEN];
    snprintf(help, sizeof help, "%s/change-help.txt", base);
    const char *commands[] = {"train", "learn", "compare"};
    for (int k = 0; k < 3; k++) {
        CHECK(test_alrs(err, help, "%s --help", commands[k]) == 0);
        char *text = test_read_text(help);
        int listed = text && strstr(text, "--change-at N") &&
                     strstr(text, "--change-label-noise P");
        CHECK(k == 0 ? listed : text && !strstr(text, "--change-at"));
        free(text);
    }
    const char *flags = "train --model mlp --hidden 16 --data-dir '%s' --val-split 100 --batch 32 "
                        "--threads 1 --eval-every 1 --steps 20 --lr 0.01 %s --out '%s'";
    const char *change = "--change-at 10 --change-label-noise 1";
    snprintf(plain, sizeof plain, "%s/change-plain", base);
    snprintf(out, sizeof out, "%s/change", base);
    snprintf(again, sizeof again, "%s/change-again", base);
    CHECK(test_alrs(err, NULL, flags, idx_raw, "", plain) == 0);
    CHECK(test_alrs(err, NULL, flags, idx_raw, change, out) == 0);
    CHECK(test_alrs(err, NULL, flags, idx_raw, change, again) == 0);
    char *config = test_read_text(test_path(out, "config.txt"));
    CHECK(config && strstr(config, "\nchange_at=10\n") &&
          strstr(config, "\nchange_label_noise=1\n"));
    CHECK(config && strstr(config, " --change-at 10 --change-label-noise 1 "));
    free(config);
    config = test_read_text(test_path(plain, "config.txt"));
    CHECK(config && strstr(config, "\nchange_at=0\n") && !strstr(config, "--change-at"));
    free(config);
    char *a = trace_without_wall(out), *b = trace_without_wall(again);
    CHECK(a && b && !strcmp(a, b));
    free(a), free(b);
    CHECK(csv_read(&trace, test_path(plain, "trace.csv")) == 0 && trace.n_rows == 20);
    CHECK(csv_read(&changed, test_path(out, "trace.csv")) == 0 && changed.n_rows == 20);
    const char *cols[] = {"step", "lr", "train_loss", "val_loss", "val_acc"};
    int same = 1;
    for (int r = 0; r < 10 && r < trace.n_rows && r < changed.n_rows; r++)
        for (int k = 0; k < 5; k++)
            same &= !strcmp(csv_str(&trace, r, cols[k]), csv_str(&changed, r, cols[k]));
    CHECK(same);
    CHECK(csv_num(&changed, 10, "step") == 11 &&
          csv_num(&changed, 10, "train_loss") != csv_num(&trace, 10, "train_loss"));
}

/* ---- 5. bad inputs -------------------------------------------------------- */

/* A fresh copy of the raw IDX set to break. */
static void bad_data_dir(char *dir, const char *name) {
    snprintf(dir, PATH_LEN, "%s/bad-%s", base, name);
    mkdir(dir, 0777);
    static const char *files[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                  "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    for (int k = 0; k < 4; k++) test_copy_file(test_path(idx_raw, files[k]), test_path(dir, files[k]));
}


#define EXPECT_FAIL(out, k1, k2, ...) expect_fail(__LINE__, out, k1, k2, __VA_ARGS__)

static void test_bad_inputs(void) {
    char out[PATH_LEN], dir[PATH_LEN], other[PATH_LEN];
    snprintf(out, sizeof out, "%s/never", base);
    const char *train = "train --model mlp " SMALL_FLAGS " --steps 5";

    /* Data files. */
    snprintf(dir, sizeof dir, "%s/no-such-dir", base);
    EXPECT_FAIL(out, dir, "not found", "%s --data-dir '%s' --out '%s'", train, dir, out);

    bad_data_dir(dir, "no-labels");
    unlink(test_path(dir, "train-labels-idx1-ubyte"));
    EXPECT_FAIL(out, "train-labels-idx1-ubyte", "not found", "%s --data-dir '%s' --out '%s'",
                train, dir, out);

    bad_data_dir(dir, "no-test");
    unlink(test_path(dir, "t10k-images-idx3-ubyte"));
    EXPECT_FAIL(out, "t10k-images-idx3-ubyte", "not found", "%s --data-dir '%s' --out '%s'", train,
                dir, out);

    bad_data_dir(dir, "truncated");
    CHECK(truncate(test_path(dir, "train-images-idx3-ubyte"), 16 + 300 * 784 + 5) == 0);
    EXPECT_FAIL(out, "train-images-idx3-ubyte", "truncated", "%s --data-dir '%s' --out '%s'",
                train, dir, out);

    bad_data_dir(dir, "short-header");
    CHECK(truncate(test_path(dir, "train-labels-idx1-ubyte"), 6) == 0);
    EXPECT_FAIL(out, "train-labels-idx1-ubyte", NULL, "%s --data-dir '%s' --out '%s'", train, dir,
                out);

    bad_data_dir(dir, "magic");
    test_poke_byte(test_path(dir, "train-images-idx3-ubyte"), 3, 0x01); /* 0x803 -> 0x801 */
    EXPECT_FAIL(out, "train-images-idx3-ubyte", "magic", "%s --data-dir '%s' --out '%s'", train,
                dir, out);

    /* 600 images but 500 labels (a whole, well-formed labels file). */
    bad_data_dir(dir, "count");
    snprintf(other, sizeof other, "%s/bad-count-500", base);
    mkdir(other, 0777);
    test_write_idx_set(other, "", 500, 28, 28, 0, 1);
    test_copy_file(test_path(other, "train-labels-idx1-ubyte"), test_path(dir, "train-labels-idx1-ubyte"));
    EXPECT_FAIL(out, "train-labels-idx1-ubyte", "500", "%s --data-dir '%s' --out '%s'", train, dir,
                out);

    bad_data_dir(dir, "label");
    test_poke_byte(test_path(dir, "train-labels-idx1-ubyte"), 8 + 37, 10);
    EXPECT_FAIL(out, "train-labels-idx1-ubyte", "label 10", "%s --data-dir '%s' --out '%s'", train,
                dir, out);

    bad_data_dir(dir, "test-label");
    test_poke_byte(test_path(dir, "t10k-labels-idx1-ubyte"), 8 + 3, 255);
    EXPECT_FAIL(out, "t10k-labels-idx1-ubyte", "255", "%s --data-dir '%s' --out '%s'", train, dir,
                out);

    /* A gzipped file cut short. */
    snprintf(dir, sizeof dir, "%s/bad-gz", base);
    mkdir(dir, 0777);
    test_write_idx_set(dir, "", 600, 28, 28, 1, 1);
    CHECK(truncate(test_path(dir, "train-images-idx3-ubyte.gz"), 2000) == 0);
    EXPECT_FAIL(out, "train-images-idx3-ubyte.gz", NULL, "%s --data-dir '%s' --out '%s'", train,
                dir, out);

    /* A CIFAR-10 batch that is not a whole number of records. */
    snprintf(dir, sizeof dir, "%s/bad-cifar", base);
    mkdir(dir, 0777);
    test_write_cifar_set(dir, 20, 9);
    CHECK(truncate(test_path(dir, "data_batch_3.bin"), 3073 * 7 + 100) == 0);
    EXPECT_FAIL(out, "data_batch_3.bin", NULL,
                "train --model resnet18 --dataset cifar10 --data-dir '%s' --val-split 10 "
                "--steps 1 --batch 4 --threads 1 --out '%s'",
                dir, out);

    /* Flags. */
    EXPECT_FAIL(out, "--model", "vgg", "train --model vgg --data-dir '%s' --out '%s'", idx_raw, out);
    EXPECT_FAIL(out, "--dataset", "imagenet", "train --dataset imagenet --data-dir '%s' --out '%s'",
                idx_raw, out);
    EXPECT_FAIL(out, "--optimizer", "rmsprop",
                "%s --optimizer rmsprop --data-dir '%s' --out '%s'", train, idx_raw, out);
    EXPECT_FAIL(out, "--schedule", "warp", "%s --schedule warp --data-dir '%s' --out '%s'", train,
                idx_raw, out);
    EXPECT_FAIL(out, "--schedule", "every", "%s --schedule step:every=abc --data-dir '%s' --out '%s'",
                train, idx_raw, out);
    EXPECT_FAIL(out, "--schedule", "tmax", "%s --schedule cosine:tmax= --data-dir '%s' --out '%s'",
                train, idx_raw, out);
    EXPECT_FAIL(out, "--schedule", "gamma",
                "%s --schedule step:every=5,gamma=0.5x --data-dir '%s' --out '%s'", train, idx_raw,
                out);
    EXPECT_FAIL(out, "--bogus", NULL, "%s --bogus 1 --data-dir '%s' --out '%s'", train, idx_raw, out);
    EXPECT_FAIL(out, "--steps", "abc", "train --steps abc --data-dir '%s' --out '%s'", idx_raw, out);
    EXPECT_FAIL(out, "--steps", "0", "train --steps 0 --data-dir '%s' --out '%s'", idx_raw, out);
    EXPECT_FAIL(out, "--lr", "-1", "%s --lr -1 --data-dir '%s' --out '%s'", train, idx_raw, out);
    EXPECT_FAIL(out, "--lr", "nan", "%s --lr nan --data-dir '%s' --out '%s'", train, idx_raw, out);
    EXPECT_FAIL(out, "--batch", "501",
                "train --model mlp --val-split 100 --batch 501 --threads 1 --steps 5 "
                "--data-dir '%s' --out '%s'",
                idx_raw, out);
    EXPECT_FAIL(out, "--val-size", "101", "%s --val-size 101 --data-dir '%s' --out '%s'", train,
                idx_raw, out);
    EXPECT_FAIL(out, "--val-split", "700",
                "train --model mlp --val-split 700 --batch 32 --threads 1 --steps 5 "
                "--data-dir '%s' --out '%s'",
                idx_raw, out);
    EXPECT_FAIL(out, "--val-split", "600",
                "train --model mlp --val-split 600 --batch 32 --threads 1 --steps 5 "
                "--data-dir '%s' --out '%s'",
                idx_raw, out);
    EXPECT_FAIL(out, "--hidden", "lenet5", "train --model lenet5 --hidden 64 --data-dir '%s' --out '%s'",
                idx_raw, out);
    EXPECT_FAIL(out, "--hidden", "x", "train --model mlp --hidden 64,x --data-dir '%s' --out '%s'",
                idx_raw, out);
    EXPECT_FAIL(out, "--data-dir", NULL, "%s --data-dir --out '%s'", train, out);
    EXPECT_FAIL(out, "--data-dir", "mnist", "%s --dataset mnist --out '%s'", train, out);
    EXPECT_FAIL(NULL, "--out", NULL, "%s --data-dir '%s'", train, idx_raw);
    EXPECT_FAIL(out, "stray", NULL, "%s stray --data-dir '%s' --out '%s'", train, idx_raw, out);

    /* --out at an existing non-empty directory: refused, and left as it was. */
    char keep[PATH_LEN];
    snprintf(keep, sizeof keep, "%s/keep", base);
    mkdir(keep, 0777);
    test_write_text(test_path(keep, "notes.txt"), "precious\n");
    EXPECT_FAIL(NULL, keep, "not empty", "%s --data-dir '%s' --out '%s'", train, idx_raw, keep);
    char *text = test_read_text(test_path(keep, "notes.txt"));
    CHECK(text && !strcmp(text, "precious\n"));
    free(text);
    CHECK(test_count_entries(keep, "") == 1);

    /* --out at an existing file: refused, and the file left as it was. */
    char file[PATH_LEN];
    snprintf(file, sizeof file, "%s/a-file", base);
    test_write_text(file, "mine\n");
    EXPECT_FAIL(NULL, file, "not a directory", "%s --data-dir '%s' --out '%s'", train, idx_raw, file);
    text = test_read_text(file);
    CHECK(text && !strcmp(text, "mine\n"));
    free(text);
    CHECK(!is_dir(file));

    /* Commands. */
    EXPECT_FAIL(NULL, "frobnicate", NULL, "frobnicate --out '%s'", out);
    CHECK(!test_exists(out));
    EXPECT_FAIL(NULL, "--backend", "foo", "bench train --backend foo --steps 1 --repeats 1");
    EXPECT_FAIL(NULL, "--bogus", NULL, "bench train --bogus 2");
    EXPECT_FAIL(NULL, "--peak", NULL, "info --peak=3");
    EXPECT_FAIL(NULL, "--bogus", NULL, "info --bogus");
}

/* ---- 6. info --------------------------------------------------------------- */

static void test_info(void) {
    char err[ERR_LEN], out_file[PATH_LEN];
    snprintf(out_file, sizeof out_file, "%s/info.txt", base);
    CHECK(test_alrs(err, out_file, "info") == 0);
    CHECK(err[0] == '\0');
    char *text = test_read_text(out_file);
    CHECK(text && strstr(text, "cores") && strstr(text, "dnnl_version"));
    /* every training thread flushes subnormals (core/float_env.h) */
    CHECK(text && strstr(text, "subnormals: flushed\n"));
    free(text);
    CHECK(test_alrs(err, NULL, "info --peak=3") != 0);
    /* --baseline: compare's grid of a row, its spec quoted (a spec holds commas) and the
     * optimizer a row brings; --steps sizes the warm-up (5 % of 500) */
    CHECK(test_alrs(err, out_file, "info --baseline schedulefree --steps 500") == 0);
    text = test_read_text(out_file);
    CHECK(text && !strncmp(text, "point,spec,lr,optimizer\n", 24) &&
          strstr(text, "\n0,\"warmup:warmup=25\",0.1,adamw-schedulefree\n") &&
          strstr(text, "\n6,\"warmup:warmup=25\",0.0001,adamw-schedulefree\n"));
    free(text);
    CHECK(test_alrs(err, out_file, "info --baseline cosine --steps 500") == 0);
    text = test_read_text(out_file);
    CHECK(text && strstr(text, "\n2,\"cosine:tmax=500,min=0\",0.01,\n"));
    free(text);
    CHECK(test_alrs(err, NULL, "info --baseline cosine --peak") != 0 && strstr(err, "one of them"));
    /* --help goes to stdout and succeeds. */
    CHECK(test_alrs(err, out_file, "train --help") == 0);
    text = test_read_text(out_file);
    CHECK(text && strstr(text, "--schedule") && strstr(text, "--out"));
    free(text);
}

/* ---- 7. conventions shared by every command -------------------------------- */

/* The flag names at the start of help lines ("  --name"), each counted. */
static int help_lists_each_flag_once(const char *text, const char *command) {
    char seen[64][40];
    int n = 0, once = 1;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, "  --", 4)) continue;
        char name[40];
        int len = (int)strcspn(p + 2, " \n");
        snprintf(name, sizeof name, "%.*s", len < 39 ? len : 39, p + 2);
        for (int k = 0; k < n; k++)
            if (!strcmp(seen[k], name)) {
                fprintf(stderr, "  alrs %s --help lists %s twice\n", command, name);
                once = 0;
            }
        if (n < 64) snprintf(seen[n++], sizeof seen[0], "%s", name);
    }
    return once && n >= 2;
}

static void test_conventions(void) {
    char err[ERR_LEN], out_file[PATH_LEN], out[PATH_LEN];
    snprintf(out_file, sizeof out_file, "%s/help.txt", base);
    /* --help anywhere on the line, even after other (or bad) flags: usage on stdout, exit 0 */
    const char *commands[] = {"train", "learn", "compare", "bench train", "bench rollout",
                              "bench all"};
    for (int k = 0; k < 6; k++) {
        CHECK(test_alrs(err, out_file, "%s --model mlp --steps nonsense --help", commands[k]) == 0);
        char *text = test_read_text(out_file);
        CHECK(text && strstr(text, "usage: alrs") && help_lists_each_flag_once(text, commands[k]));
        free(text);
        /* a usage error exits 2, in every command */
        CHECK(test_alrs(err, NULL, "%s --no-such-flag 1 --out '%s/never'", commands[k], base) == 2);
        CHECK(!strncmp(err, "alrs: --no-such-flag", 20));
    }
    CHECK(test_alrs(err, out_file, "info --help") == 0);
    CHECK(test_alrs(err, NULL, "info --no-such-flag") == 2);
    CHECK(test_alrs(err, out_file, "--version") == 0);
    char *text = test_read_text(out_file);
    CHECK(text && !strncmp(text, "alrs 1.2.1 (git ", 16));
    free(text);
    /* a run-time failure (a data directory without data) exits 1 */
    snprintf(out, sizeof out, "%s/never", base);
    CHECK(test_alrs(err, NULL, "train --model mlp --data-dir '%s' --out '%s'", base, out) == 1);
    /* the last of a repeated flag wins */
    snprintf(out, sizeof out, "%s/last-wins", base);
    CHECK(test_alrs(err, NULL, "train --model mlp --data-dir '%s' " SMALL_FLAGS
                    " --steps 2 --steps 10 --out '%s'", idx_raw, out) == 0);
    static csv t;
    CHECK(csv_read(&t, test_path(out, "trace.csv")) == 0 && t.n_rows == 2 &&
          csv_num(&t, 1, "step") == 10);
}

/* Lines of `err` that hold `needle`. */
static int count_lines_with(const char *err, const char *needle) {
    int n = 0;
    for (const char *p = strstr(err, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* The test set is evaluated once when the best validation is the last (the
 * same weights), twice otherwise; each pass ends with one forced progress
 * line. `alrs help CMD` is `alrs CMD --help`; a mistyped flag gets a
 * suggestion; --dataset cifar10 without --data-dir is a usage error (2). */
static void test_cli_conveniences(void) {
    char err[TEST_ERR_LEN], out[PATH_LEN], help[PATH_LEN], direct[PATH_LEN], said[PATH_LEN];
    snprintf(said, sizeof said, "%s/said.txt", base);
    /* 5 steps validated once: the best is the last */
    snprintf(out, sizeof out, "%s/once", base);
    CHECK(test_alrs(err, said, "train --model mlp --hidden 16 --data-dir '%s' " SMALL_FLAGS
                               " --steps 5 --lr 1e-3 --out '%s'", idx_raw, out) == 0);
    char *summary = test_read_text(said);
    CHECK(summary && strstr(summary, "at step 5;"));
    free(summary);
    CHECK(count_lines_with(err, "test set: 120 of 120 images") == 1);
    /* a rate of 3 after step 5 ruins the net: the best is at step 5, the end is tested too */
    snprintf(out, sizeof out, "%s/twice", base);
    test_alrs(err, said, "train --model mlp --hidden 16 --data-dir '%s' " SMALL_FLAGS
                         " --steps 10 --lr 1e-3 --schedule step:every=5,gamma=3000 --out '%s'",
              idx_raw, out);
    summary = test_read_text(said);
    CHECK(summary && strstr(summary, "at step 5;"));
    free(summary);
    CHECK(count_lines_with(err, "test set: 120 of 120 images") == 2);
    snprintf(help, sizeof help, "%s/help.txt", base);
    snprintf(direct, sizeof direct, "%s/direct.txt", base);
    CHECK(test_alrs(err, help, "help train") == 0 && test_alrs(err, direct, "train --help") == 0);
    char *a = test_read_text(help), *b = test_read_text(direct);
    CHECK(a && b && !strcmp(a, b) && strstr(a, "usage: alrs train"));
    free(a);
    free(b);
    CHECK(test_alrs(err, NULL, "help nosuch") == 2 && strstr(err, "unknown command 'nosuch'"));
    CHECK(test_alrs(err, NULL, "train --stpes 3 --out '%s/x'", base) == 2 &&
          strstr(err, "alrs: --stpes: unknown flag for this command (did you mean --steps?)"));
    CHECK(test_alrs(err, NULL, "learn --dataset cifar10 --out '%s/x'", base) == 2 &&
          strstr(err, "--dataset cifar10 needs --data-dir DIR"));
}

int main(void) {
    snprintf(base, sizeof base, "%s", test_tmpdir("cli"));
    snprintf(idx_raw, sizeof idx_raw, "%s/idx-raw", base);
    snprintf(idx_gz, sizeof idx_gz, "%s/idx-gz", base);
    mkdir(idx_raw, 0777);
    mkdir(idx_gz, 0777);
    test_write_idx_set(idx_raw, "", 600, 28, 28, 0, 1);
    test_write_idx_set(idx_gz, "", 600, 28, 28, 1, 1);

    test_info();
    test_cli_conveniences();
    test_conventions();
    test_end_to_end();
    test_divergence();
    test_schedules();
    test_data_variants();
    test_mid_run_change();
    test_determinism();
    test_bad_inputs();
    test_resnet18();

    /* The directories made above: test_tmpdir names them alrs-test-NAME-PID. */
    char cmd[1200];
    const char *tmp = getenv("TMPDIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'/alrs-test-*-%ld", tmp ? tmp : "/tmp", (long)getpid());
    test_run(cmd, NULL, 0);
    return test_finish();
}
