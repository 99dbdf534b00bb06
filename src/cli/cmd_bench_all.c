/* alrs bench all: the whole suite's speed on this node in one CSV.
 *
 * For each model: training throughput (steps/s, images/s, GFLOP/s, fraction
 * of the measured FMA peak) at each thread count, and rollout throughput
 * (episodes per hour) for each layout of environments x threads per
 * environment. Each measurement runs as its own `alrs bench train|rollout`
 * process (this program, /proc/self/exe), so that its peak resident memory
 * (wait4's ru_maxrss) is that model's alone and nothing one measurement
 * allocated or warmed up flatters the next. */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "settings/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "report/machine.h"

extern char **environ;

static const char bench_all_help[] =
    "usage: alrs bench all [--models LIST] [--threads LIST] [--layouts LIST]\n"
    "Measures, for each model (default mlp,lenet5,resnet18): training throughput with\n"
    "the native and dnnl backends at each thread count (default 1 and all cores), and\n"
    "rollout episodes per hour for each layout ExT (default 1x1,2x1,1x2 on 2 cores);\n"
    "prints one CSV with the machine's description as '#' lines and each measurement's\n"
    "peak resident memory. Episodes: 200 steps of batch 128 with a 2000-image\n"
    "validation every 10 (resnet18: 20 steps of batch 32, 200 images every 10).\n"
    "  --data-dir DIR   Fashion-MNIST files for the rollouts (default: Debian's)\n"
    "  --val-split N    validation images held out of them (default 10000)\n";

/* The child's stderr after it ended: its "alrs: " message (returned, for the
 * one line of our own failure) and anything else passed on to ours. */
static void child_stderr(FILE *err, char *message, size_t size) {
    char line[1024];
    message[0] = '\0';
    rewind(err);
    while (fgets(line, sizeof line, err)) {
        if (!strncmp(line, "alrs: ", 6)) snprintf(message, size, "%s", line + 6);
        else fputs(line, stderr);
    }
    message[strcspn(message, "\n")] = '\0';
    fclose(err);
}

/* Runs `alrs ARGS...`, returns the last line of its stdout that does not
 * start with '#' (the CSV row it measured) in row, and its peak memory. */
static int run_child(char *const argv[], char *row, size_t row_size, long *peak_kib) {
    int pipefd[2];
    FILE *err = tmpfile();
    if (!err || pipe(pipefd) != 0) return alrs_fail("bench all: cannot make a pipe or temporary file");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fileno(err), 2);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (rc != 0) {
        close(pipefd[0]);
        fclose(err);
        return alrs_fail("bench all: cannot start alrs %s", argv[1]);
    }
    FILE *in = fdopen(pipefd[0], "r");
    char line[1024];
    row[0] = '\0';
    while (fgets(line, sizeof line, in))
        if (line[0] != '#' && strchr(line, ',')) snprintf(row, row_size, "%s", line);
    fclose(in);
    int status;
    struct rusage use;
    int waited = wait4(pid, &status, 0, &use) >= 0;
    char message[1024];
    child_stderr(err, message, sizeof message);
    if (!waited || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return alrs_fail("bench all: %s %s --model %s: %s", argv[1], argv[2], argv[4],
                         message[0] ? message : "failed");
    *peak_kib = use.ru_maxrss;
    row[strcspn(row, "\n")] = '\0';
    return 0;
}

/* The field `k` (0-based) of a CSV row, copied into out. */
static void field(const char *row, int k, char *out, size_t size) {
    const char *p = row;
    for (int i = 0; i < k && p; i++) {
        p = strchr(p, ',');
        if (p) p++;
    }
    size_t n = p ? strcspn(p, ",") : 0;
    if (n >= size) n = size - 1;
    memcpy(out, p ? p : "", n);
    out[n] = '\0';
}

static int bench_train_row(const char *model, const char *backend, const char *threads) {
    int resnet = !strcmp(model, "resnet18");
    char *argv[] = {"alrs", "bench", "train", "--model", (char *)model, "--backend",
                    (char *)backend, "--threads", (char *)threads, "--batch",
                    resnet ? "32" : "128", "--steps", resnet ? "3" : "100", "--repeats",
                    "3", NULL};
    char row[1024], v[7][64];
    long peak;
    if (run_child(argv, row, sizeof row, &peak) != 0) return -1;
    /* model,backend,batch,threads,steps_per_s,images_per_s,gflops_per_s,peak_fraction */
    for (int k = 0; k < 7; k++) field(row, k + 1, v[k], sizeof v[k]);
    printf("train,%s,%s,%s,%s,,,,%s,%s,%s,%s,,,%.1f\n", model, v[0], v[1], v[2], v[3], v[4],
           v[5], v[6], peak / 1024.0);
    fflush(stdout);
    return 0;
}

static int bench_rollout_row(const char *model, const char *layout, const char *data_dir,
                             const char *val_split) {
    int resnet = !strcmp(model, "resnet18");
    char *argv[24];
    int n = 0;
    const char *base[] = {"alrs", "bench", "rollout", "--model", model, "--layouts", layout,
                          "--batches", "1"};
    for (size_t k = 0; k < sizeof base / sizeof base[0]; k++) argv[n++] = (char *)base[k];
    if (resnet) {
        const char *small[] = {"--steps", "20", "--batch", "32", "--val-size", "200",
                               "--eval-batch", "100"};
        for (size_t k = 0; k < sizeof small / sizeof small[0]; k++) argv[n++] = (char *)small[k];
    }
    if (data_dir) argv[n++] = "--data-dir", argv[n++] = (char *)data_dir;
    if (val_split) argv[n++] = "--val-split", argv[n++] = (char *)val_split;
    argv[n] = NULL;
    char row[1024], v[6][64];
    long peak;
    if (run_child(argv, row, sizeof row, &peak) != 0) return -1;
    /* model,envs,threads_per_env,ranks,episodes_per_hour,child_steps_per_s,ppo_update_share */
    for (int k = 0; k < 6; k++) field(row, k + 1, v[k], sizeof v[k]);
    printf("rollout,%s,dnnl,%s,,%s,%s,%s,,,,,%s,%s,%.1f\n", model, resnet ? "32" : "128", v[0],
           v[1], resnet ? "20" : "200", v[3], v[4], peak / 1024.0);
    fflush(stdout);
    return 0;
}

/* Splits a comma list in place. */
static int split(char *s, char **out, int max) {
    int n = 0;
    for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ",")) out[n++] = t;
    return n;
}

int bench_all(int argc, char **argv) {
    if (args_wants_help(argc, argv)) {
        fputs(bench_all_help, stdout);
        return 0;
    }
    args a;
    const char *models = "mlp,lenet5,resnet18", *threads = NULL, *layouts = NULL;
    const char *data_dir = NULL, *val_split = NULL;
    if (args_parse(&a, argc, argv) != 0 || args_string(&a, "models", &models) != 0 ||
        args_string(&a, "threads", &threads) != 0 || args_string(&a, "layouts", &layouts) != 0 ||
        args_string(&a, "data-dir", &data_dir) != 0 ||
        args_string(&a, "val-split", &val_split) != 0 || args_check_unused(&a) != 0)
        return cli_usage_error();
    machine_info m;
    int have = machine_info_get(&m) == 0;
    char default_threads[32], default_layouts[64];
    int cores = have && m.cores > 0 ? m.cores : 1;
    snprintf(default_threads, sizeof default_threads, cores > 1 ? "1,%d" : "1", cores);
    snprintf(default_layouts, sizeof default_layouts, "1x1,%dx1,1x%d", cores, cores);
    char mbuf[256], tbuf[256], lbuf[256], *ms[8], *ts[16], *ls[16];
    snprintf(mbuf, sizeof mbuf, "%s", models);
    snprintf(tbuf, sizeof tbuf, "%s", threads ? threads : default_threads);
    snprintf(lbuf, sizeof lbuf, "%s", layouts ? layouts : default_layouts);
    int nm = split(mbuf, ms, 8), nt = split(tbuf, ts, 16), nl = split(lbuf, ls, 16);
    if (have) machine_info_csv_comment(&m, stdout);
    printf("kind,model,backend,batch,threads,envs,threads_per_env,episode_steps,steps_per_s,"
           "images_per_s,gflops_per_s,peak_fraction,episodes_per_hour,child_steps_per_s,"
           "peak_rss_mib\n");
    fflush(stdout);
    static const char *const backends[] = {"native", "dnnl"};
    for (int i = 0; i < nm; i++) {
        for (int j = 0; j < nt; j++)
            for (int b = 0; b < 2; b++)
                if (bench_train_row(ms[i], backends[b], ts[j]) != 0) return cli_report_error();
        for (int j = 0; j < nl; j++)
            if (bench_rollout_row(ms[i], ls[j], data_dir, val_split) != 0) return cli_report_error();
    }
    return 0;
}
