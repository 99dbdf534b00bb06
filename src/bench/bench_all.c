#define _GNU_SOURCE
#include "bench/bench_all.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/error.h"

extern char **environ;

const char bench_all_header[] =
    "kind,model,backend,batch,threads,envs,threads_per_env,episode_steps,steps_per_s,"
    "images_per_s,gflops_per_s,peak_fraction,episodes_per_hour,child_steps_per_s,"
    "peak_rss_mib";

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

/* Runs `exe ARGS...` (argv[0] its name), returns the last line of its stdout
 * that does not start with '#' (the CSV row it measured) in row, and its
 * peak memory. */
static int run_child(const char *exe, char *const argv[], char *row, size_t row_size,
                     long *peak_kib) {
    int pipefd[2];
    FILE *err = tmpfile();
    if (!err || pipe(pipefd) != 0) return alrs_fail("bench all: cannot make a pipe or temporary file");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fileno(err), 2);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
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

int bench_all_train_row(const char *exe, const char *model, const char *backend,
                        const char *threads, char *out, size_t size) {
    int resnet = !strcmp(model, "resnet18");
    char *argv[] = {"alrs", "bench", "train", "--model", (char *)model, "--backend",
                    (char *)backend, "--threads", (char *)threads, "--batch",
                    resnet ? "32" : "128", "--steps", resnet ? "3" : "100", "--repeats",
                    "3", NULL};
    char row[1024], v[7][64];
    long peak;
    if (run_child(exe, argv, row, sizeof row, &peak) != 0) return -1;
    /* model,backend,batch,threads,steps_per_s,images_per_s,gflops_per_s,peak_fraction */
    for (int k = 0; k < 7; k++) field(row, k + 1, v[k], sizeof v[k]);
    snprintf(out, size, "train,%s,%s,%s,%s,,,,%s,%s,%s,%s,,,%.1f", model, v[0], v[1], v[2], v[3],
             v[4], v[5], v[6], peak / 1024.0);
    return 0;
}

int bench_all_rollout_row(const char *exe, const char *model, const char *layout,
                          const char *data_dir, const char *val_split, char *out, size_t size) {
    int resnet = !strcmp(model, "resnet18");
    char *argv[24];
    int n = 0;
    const char *base[] = {"alrs", "bench", "rollout", "--model", model, "--layouts", layout,
                          "--batches", "1"};
    for (size_t k = 0; k < sizeof base / sizeof base[0]; k++) argv[n++] = (char *)base[k];
    if (resnet) { /* 20 steps of batch 32, 200 images every 10: minutes, not hours */
        const char *small[] = {"--steps", "20", "--batch", "32", "--val-size", "200",
                               "--eval-batch", "100"};
        for (size_t k = 0; k < sizeof small / sizeof small[0]; k++) argv[n++] = (char *)small[k];
    }
    if (data_dir) argv[n++] = "--data-dir", argv[n++] = (char *)data_dir;
    if (val_split) argv[n++] = "--val-split", argv[n++] = (char *)val_split;
    argv[n] = NULL;
    char row[1024], v[6][64];
    long peak;
    if (run_child(exe, argv, row, sizeof row, &peak) != 0) return -1;
    /* model,envs,threads_per_env,ranks,episodes_per_hour,child_steps_per_s,ppo_update_share */
    for (int k = 0; k < 6; k++) field(row, k + 1, v[k], sizeof v[k]);
    snprintf(out, size, "rollout,%s,dnnl,%s,,%s,%s,%s,,,,,%s,%s,%.1f", model,
             resnet ? "32" : "128", v[0], v[1], resnet ? "20" : "200", v[3], v[4], peak / 1024.0);
    return 0;
}
