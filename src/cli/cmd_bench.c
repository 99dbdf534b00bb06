/* alrs bench train: training throughput of one child network on synthetic
 * data of a data set's shape, as CSV, with the fraction of the FMA peak
 * measured on this machine at start. The measuring is bench/bench_train.c's;
 * here the flags and the CSV. */
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "bench/bench_train.h"
#include "cli/commands.h"
#include "report/machine.h"
#include "settings/args.h"
#include "settings/run_flags.h"

static const char bench_help[] =
    "usage: alrs bench train [--model M] [--dataset D] [--batch N] [--threads N] [--steps N]\n"
    "                        [--repeats R] [--backend dnnl|native|auto]\n"
    "Times training steps (forward, backward, Adam) on random images of the data set's\n"
    "shape (fashion-mnist 1x28x28, cifar10 3x32x32; default: cifar10 for resnet18,\n"
    "else fashion-mnist) and prints CSV: one row per repeat, then the median.\n"
    "usage: alrs bench layers [flags]    (see alrs bench layers --help): per layer and pass\n"
    "usage: alrs bench rollout [flags]   (see alrs bench rollout --help)\n"
    "usage: alrs bench all [flags]       (see alrs bench all --help): everything, one CSV\n";

static void print_repeat(void *ctx, long repeat, double steps_per_s) {
    (void)ctx;
    printf("# repeat %ld: %.2f steps/s\n", repeat, steps_per_s);
}

/* The measurement (bench/bench_train.c) between the lines that describe it. */
static int bench_train_print(const run_flags *f, long repeats, int channels, int side) {
    bench_train t;
    if (bench_train_open(&t, f, channels, side) != 0) {
        bench_train_close(&t);
        return -1;
    }
    machine_info m;
    if (machine_info_get(&m) == 0) machine_info_csv_comment(&m, stdout);
    printf("# flops_per_image_train=%.0f\n", t.flops_per_image);
    char impl[16384];
    nn_net_describe_impl(t.net, impl, sizeof impl);
    if (strcmp(f->backend, "dnnl") != 0) /* oneDNN's list is long; the others say what they picked */
        for (char *line = strtok(impl, "\n"); line; line = strtok(NULL, "\n")) printf("# %s\n", line);
    bench_train_result r;
    bench_train_time(&t, repeats, print_repeat, NULL, &r);
    printf("# fma_peak_gflops(%ld threads)=%.1f (measured before the steps %.1f, after %.1f)\n",
           f->threads, t.peak.best, t.peak.before, t.peak.after);
    printf("model,backend,batch,threads,steps_per_s,images_per_s,gflops_per_s,peak_fraction\n");
    printf("%s,%s,%ld,%ld,%.2f,%.1f,%.2f,%.4f\n", f->model, f->backend, f->batch, f->threads,
           r.steps_per_s, r.images_per_s, r.gflops_per_s, r.peak_fraction);
    bench_train_close(&t);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    if (argc == 0 || (strcmp(argv[0], "train") && strcmp(argv[0], "rollout") &&
                      strcmp(argv[0], "layers") && strcmp(argv[0], "all") &&
                      args_wants_help(argc, argv))) {
        fputs(bench_help, argc ? stdout : stderr);
        return argc ? 0 : 2;
    }
    if (argc >= 1 && !strcmp(argv[0], "rollout")) return cmd_bench_rollout(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "all")) return cmd_bench_all(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "layers")) return cmd_bench_layers(argc - 1, argv + 1);
    if (argc < 1 || strcmp(argv[0], "train") != 0) {
        fprintf(stderr, "alrs: bench: expected 'train', 'layers', 'rollout' or 'all' (see alrs bench "
                        "--help)\n");
        return 2;
    }
    if (args_wants_help(argc, argv)) {
        fputs(bench_help, stdout);
        run_flags_print_help(stdout, RUN_FLAG_THREADS | RUN_FLAG_SEED);
        printf("  --repeats R                   timed repeats (default 3; the median is reported)\n");
        return 0;
    }
    args a;
    run_flags f;
    long repeats = 3;
    const char *dataset = NULL;
    if (args_parse(&a, argc - 1, argv + 1) != 0 || args_string(&a, "dataset", &dataset) != 0 ||
        run_flags_parse(&a, &f, RUN_FLAG_THREADS | RUN_FLAG_SEED) != 0 ||
        args_int(&a, "repeats", 1, 64, &repeats) != 0 || args_check_unused(&a) != 0)
        return cli_usage_error();
    int channels, side;
    if (run_flags_synthetic_shape(&f, dataset, &channels, &side) != 0) return cli_usage_error();
    if (!dataset && f.steps == 1000) f.steps = !strcmp(f.model, "resnet18") ? 5 : 100;
    if (!f.threads) f.threads = omp_get_num_procs();
    omp_set_num_threads((int)f.threads);
    return bench_train_print(&f, repeats, channels, side) == 0 ? 0 : cli_report_error();
}
