/* alrs bench train: training throughput of one child network on synthetic
 * data of a data set's shape, as CSV, with the fraction of the FMA peak
 * measured on this machine at start. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "settings/run_flags.h"
#include "core/error.h"
#include "core/timer.h"
#include "kernels/peak.h"
#include "nn/net.h"
#include "optim/optimizer.h"
#include "report/machine.h"

static const char bench_help[] =
    "usage: alrs bench train [--model M] [--dataset D] [--batch N] [--threads N] [--steps N]\n"
    "                        [--repeats R] [--backend dnnl|native|auto]\n"
    "Times training steps (forward, backward, Adam) on random images of the data set's\n"
    "shape (fashion-mnist 1x28x28, cifar10 3x32x32; default: cifar10 for resnet18,\n"
    "else fashion-mnist) and prints CSV: one row per repeat, then the median.\n"
    "usage: alrs bench layers [flags]    (see alrs bench layers --help): per layer and pass\n"
    "usage: alrs bench rollout [flags]   (see alrs bench rollout --help)\n"
    "usage: alrs bench all [flags]       (see alrs bench all --help): everything, one CSV\n";

typedef struct {
    nn_spec spec;
    float *params, *grads, *state, *images;
    uint8_t *labels;
    nn_net *net;
    optimizer opt;
} bench_setup;

static int setup_open(bench_setup *b, const run_flags *f, int c, int hw) {
    memset(b, 0, sizeof b[0]);
    if (nn_build(&b->spec, f->model, c, hw, hw, 10, f->hidden, f->n_hidden) != 0) return -1;
    if (optimizer_init(&b->opt, "adam", b->spec.n_params) != 0) return -1;
    b->params = alrs_alloc_aligned(sizeof(float) * b->spec.n_params);
    b->grads = alrs_alloc_aligned(sizeof(float) * b->spec.n_params);
    b->state = alrs_alloc_aligned(sizeof(float) * (b->spec.n_state + 1));
    rng_stream rng = rng_make((uint64_t)f->seed, 0);
    nn_init_params(&b->spec, b->params, b->state, &rng);
    size_t n = (size_t)f->batch * c * hw * hw;
    b->images = alrs_alloc_aligned(sizeof(float) * n);
    b->labels = alrs_malloc((size_t)f->batch);
    for (size_t i = 0; i < n; i++) b->images[i] = rng_uniform(&rng);
    for (long i = 0; i < f->batch; i++) b->labels[i] = (uint8_t)rng_below(&rng, 10);
    nn_net_config cfg = {(int)f->batch, 1, f->plan};
    b->net = nn_net_create(&b->spec, f->backend, cfg, b->params, b->grads, b->state);
    return b->net ? 0 : -1;
}

static void setup_close(bench_setup *b) {
    nn_net_free(b->net);
    optimizer_free(&b->opt);
    alrs_free_aligned(b->params);
    alrs_free_aligned(b->grads);
    alrs_free_aligned(b->state);
    alrs_free_aligned(b->images);
    free(b->labels);
}

static double time_steps(bench_setup *b, long steps) {
    double start = alrs_now();
    for (long s = 0; s < steps; s++) {
        nn_net_train_step(b->net, b->images, b->labels);
        optimizer_step(&b->opt, b->params, b->grads, 1e-4);
    }
    return alrs_now() - start;
}

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void print_row(const run_flags *f, const char *label, double steps_per_s, double flops,
                      double peak) {
    double gflops = steps_per_s * flops * (double)f->batch * 1e-9;
    printf("%s,%s,%ld,%ld,%.2f,%.1f,%.2f,%.4f%s\n", f->model, f->backend, f->batch, f->threads,
           steps_per_s,
           steps_per_s * (double)f->batch, gflops, gflops / peak, label);
}

static int bench_train(const run_flags *f, long repeats, int channels, int side) {
    bench_setup b;
    if (setup_open(&b, f, channels, side) != 0) {
        setup_close(&b);
        return -1;
    }
    double peak_before = fma_peak_gflops((int)f->threads);
    machine_info m;
    if (machine_info_get(&m) == 0) machine_info_csv_comment(&m, stdout);
    printf("# flops_per_image_train=%.0f\n", nn_flops_train(&b.spec));
    char impl[16384];
    nn_net_describe_impl(b.net, impl, sizeof impl);
    if (strcmp(f->backend, "dnnl") != 0) /* oneDNN's list is long; the others say what they picked */
        for (char *line = strtok(impl, "\n"); line; line = strtok(NULL, "\n")) printf("# %s\n", line);
    time_steps(&b, f->steps / 10 + 2); /* warm-up: first touches, primitive caches */
    double rates[64];
    for (long r = 0; r < repeats; r++) {
        rates[r] = (double)f->steps / time_steps(&b, f->steps);
        printf("# repeat %ld: %.2f steps/s\n", r + 1, rates[r]);
    }
    qsort(rates, (size_t)repeats, sizeof rates[0], cmp_double);
    /* the peak measured again with the core warm from the timed steps: the
     * higher of the two is the ceiling */
    double peak_after = fma_peak_gflops((int)f->threads);
    double peak = peak_after > peak_before ? peak_after : peak_before;
    printf("# fma_peak_gflops(%ld threads)=%.1f (measured before the steps %.1f, after %.1f)\n",
           f->threads, peak, peak_before, peak_after);
    printf("model,backend,batch,threads,steps_per_s,images_per_s,gflops_per_s,peak_fraction\n");
    print_row(f, "", rates[repeats / 2], nn_flops_train(&b.spec), peak);
    setup_close(&b);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    if (argc == 0 || (strcmp(argv[0], "train") && strcmp(argv[0], "rollout") &&
                      strcmp(argv[0], "layers") && strcmp(argv[0], "all") &&
                      args_wants_help(argc, argv))) {
        fputs(bench_help, argc ? stdout : stderr);
        return argc ? 0 : 2;
    }
    if (argc >= 1 && !strcmp(argv[0], "rollout")) return bench_rollout(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "all")) return bench_all(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "layers")) return bench_layers(argc - 1, argv + 1);
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
    return bench_train(&f, repeats, channels, side) == 0 ? 0 : cli_report_error();
}
