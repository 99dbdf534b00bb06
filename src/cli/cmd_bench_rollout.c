/* alrs bench rollout: episodes per hour of the rollout engine for several
 * layouts of environments × threads per environment, with the share of time
 * the PPO update takes. Under MPI (mpirun -np R alrs bench rollout) a
 * layout's E environments are spread over the R ranks as in alrs learn, and
 * the rates are the whole job's; rank 0 prints. The measuring is
 * bench/bench_rollout.c's; here the flags, the data and the CSV. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_rollout.h"
#include "cli/commands.h"
#include "core/error.h"
#include "dist/dist.h"
#include "report/machine.h"
#include "settings/learn_flags.h"

static const char bench_rollout_help[] =
    "usage: alrs bench rollout [--layouts ExT,ExT,...] [--batches N] [learn flags]\n"
    "Runs N batches of episodes (default 2) for each layout of E environments with T\n"
    "threads each (default 1x1,2x1) and prints CSV:\n"
    "model,envs,threads_per_env,ranks,episodes_per_hour,child_steps_per_s,ppo_update_share\n"
    "Episodes default to 200 child steps with a 2000-image validation every 10 steps;\n"
    "--steps, --batch, --val-size, --model change that.\n"
    "Under MPI (mpirun -np R ...) E counts the environments of all R ranks (at least\n"
    "one per rank; default layouts Rx1,2Rx1), ranks is R and the rates are the whole\n"
    "job's; '#' lines say where each rank's environments ran.\n";

static int parse_layouts(const char *s, int *envs, int *threads, int max, int *n) {
    *n = 0;
    for (const char *p = s; *p;) {
        char *end;
        long e = strtol(p, &end, 10);
        long t = *end == 'x' ? strtol(end + 1, &end, 10) : 0;
        if (e < 1 || t < 1 || (*end && *end != ',') || *n == max)
            return alrs_fail("--layouts %s: expected ExT pairs such as 1x1,2x1", s);
        envs[*n] = (int)e, threads[*n] = (int)t, (*n)++;
        p = *end ? end + 1 : end;
    }
    return 0;
}

int cmd_bench_rollout(int argc, char **argv) {
    int root = dist_rank() == 0, ranks = dist_size();
    if (args_wants_help(argc, argv)) {
        if (root) {
            fputs(bench_rollout_help, stdout);
            learn_flags_print_help(stdout, LEARN_CMD_BENCH_ROLLOUT);
            run_flags_print_help(stdout, RUN_FLAG_SEED);
        }
        return 0;
    }
    args a;
    learn_flags f;
    /* one and two environments per rank */
    char default_layouts[64];
    snprintf(default_layouts, sizeof default_layouts, "%dx1,%dx1", ranks, 2 * ranks);
    const char *layouts = default_layouts;
    long batches = 2;
    int envs[32], threads[32], n;
    int bad = args_parse(&a, argc, argv) != 0 || args_string(&a, "layouts", &layouts) != 0 ||
              args_int(&a, "batches", 1, 1000, &batches) != 0;
    if (!bad) {
        /* shorter episodes than learn's defaults, unless asked for */
        int has_steps = 0, has_val = 0;
        for (int k = 0; k < a.n; k++) {
            has_steps |= !strcmp(a.name[k], "steps");
            has_val |= !strcmp(a.name[k], "val-size");
        }
        bad = learn_flags_refuse_others(&a, LEARN_CMD_BENCH_ROLLOUT) != 0 ||
              learn_flags_parse(&a, &f) != 0 || args_check_unused(&a) != 0 ||
              parse_layouts(layouts, envs, threads, 32, &n) != 0;
        if (!bad && !has_steps) f.run.steps = 200, f.env.steps = 200;
        if (!bad && !has_val) f.run.val_size = 2000;
    }
    /* every rank parses the same flags and agrees on later failures; rank 0
     * alone prints */
    if (bad) return root ? cli_usage_error() : 2;
    dataset data;
    int loaded = dataset_load(&data, f.run.dataset, f.run.data_dir, (int)f.run.val_split,
                              (uint64_t)f.run.split_seed) == 0;
    if (dist_agree(loaded ? 0 : -1) != 0) {
        if (loaded) dataset_free(&data);
        return root ? cli_report_error() : 1;
    }
    if (f.run.val_size > data.val.n) f.run.val_size = data.val.n;
    f.env.child = run_flags_child(&f.run);
    machine_info m;
    if (root) {
        if (machine_info_get(&m) == 0) machine_info_csv_comment(&m, stdout);
        printf("# episodes of %d child steps (batch %ld), validation on %ld images every %d "
               "steps\n", f.env.steps, f.run.batch, f.run.val_size, f.env.action_every);
        if (ranks > 1) printf("# MPI: %d ranks (%s)\n", ranks, dist_library());
        printf("model,envs,threads_per_env,ranks,episodes_per_hour,child_steps_per_s,"
               "ppo_update_share\n");
        fflush(stdout);
    }
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        bench_rollout_result t;
        rc = bench_rollout_layout(&f, &data, envs[k], threads[k], batches, stdout, &t);
        if (rc != 0 || !root) continue;
        printf("%s,%d,%d,%d,%.1f,%.1f,%.5f\n", f.run.model, envs[k], threads[k], ranks,
               t.episodes_per_hour, t.child_steps_per_s, t.update_share);
        fflush(stdout);
    }
    dataset_free(&data);
    if (rc == 0) return 0;
    return root ? cli_report_error() : 1;
}
