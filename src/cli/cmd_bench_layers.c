/* alrs bench layers: per layer and pass (forward, backward-weights,
 * backward-data, and the inference forward that validation runs), the time,
 * GFLOP/s and fraction of the FMA peak of each implementation a layer can
 * run on, and the whole training step and evaluation of each backend, as
 * CSV: where the next bottleneck is. The measuring is bench/bench_layers.c's;
 * here the flags and the CSV. */
#include <omp.h>
#include <stdio.h>

#include "bench/bench_layers.h"
#include "cli/commands.h"
#include "report/machine.h"
#include "settings/args.h"
#include "settings/run_flags.h"

static const char layers_help[] =
    "usage: alrs bench layers [--model M] [--dataset D] [--batch N] [--eval-batch N]\n"
    "                         [--threads N] [--repeats R] [--plan FILE]\n"
    "Times every layer's passes on random images of the data set's shape, each way it can\n"
    "run: native (the handwritten kernels) and, for conv and fc layers, dnnl (the layer's\n"
    "oneDNN primitives on the native net's plain buffers, as --backend auto mixes them).\n"
    "Passes: forward, bwd_weights, bwd_data at the training batch; infer, the inference\n"
    "forward pass validation runs, at the evaluation batch. Then whole training steps\n"
    "and whole evaluations of the native net, the oneDNN net (blocked layouts) and the\n"
    "plan (the default backend), and what a run does before its first step: loading the\n"
    "data set's files (when they are there) and building each backend's net (the plan's\n"
    "entry read, or measured the first time), once each. CSV: one row each, the others the\n"
    "median of R repeats, with the share of the native step (or evaluation) each native\n"
    "layer pass takes.\n";
/* Its own flags, after the child-run flags' lines (settings/run_flags.c) it lists. */
static const char layers_help_own[] =
    "  --dataset D                   the image shape: fashion-mnist, mnist (1x28x28) or\n"
    "                                cifar10 (3x32x32); default cifar10 for resnet18\n"
    "  --repeats R                   timed repeats per row (default 7)\n";

static void print_rows(const bench_layers *b) {
    printf("layer,op,shape,pass,backend,batch,ms,gflops_per_s,peak_fraction,share\n");
    for (int k = 0; k < b->n_rows; k++) {
        const bench_layer_row *r = &b->rows[k];
        printf("%s,%s,%s,%s,%s,%d,%.4f,", r->layer, r->op, r->shape, r->pass, r->backend,
               r->batch, 1e3 * r->s);
        if (r->gflops_per_s >= 0) printf("%.2f,%.4f,", r->gflops_per_s, r->peak_fraction);
        else printf(",,");
        if (r->share >= 0) printf("%.4f\n", r->share);
        else printf("\n");
    }
}

/* The measurement (bench/bench_layers.c), then what it found: the layers
 * without dnnl rows, the plan's choice, the peak, the rows. */
static int bench_layers_print(bench_layers *b) {
    const run_flags *f = b->f;
    machine_info m;
    if (machine_info_get(&m) == 0) machine_info_csv_comment(&m, stdout);
    printf("# model %s, batch %ld, eval batch %ld, %ld threads, median of %d repeats\n", f->model,
           f->batch, f->eval_batch, f->threads, b->repeats);
    int rc = bench_layers_run(b);
    for (int i = 0; b->attached && i < b->n_layers; i++)
        if (b->no_dnnl[i]) printf("# layer %d: no dnnl rows: %s\n", i, b->why[i]);
    if (rc != 0) return rc;
    printf("# the plan's choice: %s\n", b->plan_choice);
    printf("# fma_peak_gflops(%ld threads)=%.1f (measured before %.1f, after %.1f)\n", f->threads,
           b->peak.best, b->peak.before, b->peak.after);
    print_rows(b);
    return 0;
}

int cmd_bench_layers(int argc, char **argv) {
    if (args_wants_help(argc, argv)) {
        fputs(layers_help, stdout);
        run_flags_print_short_help(stdout, RUN_HELP_LAYERS);
        fputs(layers_help_own, stdout);
        return 0;
    }
    args a;
    run_flags f;
    long repeats = 7;
    const char *dataset = NULL;
    if (args_parse(&a, argc, argv) != 0 || args_string(&a, "dataset", &dataset) != 0 ||
        run_flags_parse(&a, &f, RUN_FLAG_THREADS | RUN_FLAG_SEED) != 0 ||
        args_int(&a, "repeats", 1, 64, &repeats) != 0 || args_check_unused(&a) != 0)
        return cli_usage_error();
    int channels, side;
    if (run_flags_synthetic_shape(&f, dataset, &channels, &side) != 0) return cli_usage_error();
    if (!f.threads) f.threads = omp_get_num_procs();
    omp_set_num_threads((int)f.threads);
    bench_layers b;
    if (bench_layers_open(&b, &f, channels, side, (int)repeats) != 0) {
        bench_layers_close(&b);
        return cli_usage_error();
    }
    int rc = bench_layers_print(&b);
    bench_layers_close(&b);
    return rc == 0 ? 0 : cli_report_error();
}
