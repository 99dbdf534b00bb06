/* alrs bench layers: per layer and pass (forward, backward-weights,
 * backward-data, and the inference forward that validation runs), the time,
 * GFLOP/s and fraction of the FMA peak of each implementation a layer can
 * run on, and the whole training step and evaluation of each backend, as
 * CSV: where the next bottleneck is. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings/args.h"
#include "cli/commands.h"
#include "settings/run_flags.h"
#include "core/error.h"
#include "core/timer.h"
#include "kernels/peak.h"
#include "nn/choice/auto_net.h"
#include "nn/native/native_net.h"
#include "nn/net.h"
#include "report/machine.h"

static const char layers_help[] =
    "usage: alrs bench layers [--model M] [--dataset D] [--batch N] [--eval-batch N]\n"
    "                         [--threads N] [--repeats R] [--plan FILE]\n"
    "Times every layer's passes on random images of the data set's shape, each way it can\n"
    "run: native (the handwritten kernels) and, for conv and fc layers, dnnl (the layer's\n"
    "oneDNN primitives on the native net's plain buffers, as --backend auto mixes them).\n"
    "Passes: forward, bwd_weights, bwd_data at the training batch; infer, the inference\n"
    "forward pass validation runs, at the evaluation batch. Then whole training steps\n"
    "and whole evaluations of the native net, the oneDNN net (blocked layouts) and the\n"
    "plan (the default backend). CSV: one row each, the median of R repeats, with the\n"
    "share of the native step (or evaluation) each native layer pass takes.\n";
/* Its own flags, after the child-run flags' lines (settings/run_flags.c) it lists. */
static const char layers_help_own[] =
    "  --dataset D                   the image shape: fashion-mnist, mnist (1x28x28) or\n"
    "                                cifar10 (3x32x32); default cifar10 for resnet18\n"
    "  --repeats R                   timed repeats per row (default 7)\n";

/* One line of the table, kept until the end: the peak its fraction is of
 * is measured again after the timings. */
typedef struct {
    char layer[8], op[12], shape[48];
    const char *pass, *backend;
    int batch;
    double s, flops, whole_s; /* whole_s: the native step or evaluation (0: no share) */
} row;

typedef struct {
    const run_flags *f;
    nn_spec spec;
    float *params, *grads, *state, *images, *eval_images;
    uint8_t *labels, *eval_labels;
    int repeats;
    row *rows;
    int n_rows;
} layer_bench;

static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static row *add_row(layer_bench *b, const char *layer, const char *op, const char *shape,
                    const char *pass, const char *backend, int batch) {
    b->rows = realloc(b->rows, sizeof(row) * (size_t)(b->n_rows + 1));
    if (!b->rows) alrs_panic("out of memory");
    row *r = &b->rows[b->n_rows++];
    memset(r, 0, sizeof *r);
    snprintf(r->layer, sizeof r->layer, "%s", layer);
    snprintf(r->op, sizeof r->op, "%s", op);
    snprintf(r->shape, sizeof r->shape, "%s", shape);
    r->pass = pass, r->backend = backend, r->batch = batch;
    return r;
}

static void print_rows(const layer_bench *b, double peak) {
    printf("layer,op,shape,pass,backend,batch,ms,gflops_per_s,peak_fraction,share\n");
    for (int k = 0; k < b->n_rows; k++) {
        const row *r = &b->rows[k];
        double gflops = r->flops > 0 ? r->flops / r->s * 1e-9 : 0;
        printf("%s,%s,%s,%s,%s,%d,%.4f,", r->layer, r->op, r->shape, r->pass, r->backend,
               r->batch, 1e3 * r->s);
        if (r->flops > 0) printf("%.2f,%.4f,", gflops, gflops / peak);
        else printf(",,");
        if (r->whole_s > 0) printf("%.4f\n", r->s / r->whole_s);
        else printf("\n");
    }
}

/* Median seconds of one call: each repeat runs enough calls for ~10 ms. */
static double median_pass(nn_net *net, int i, nn_pass pass, int use_dnnl, const float *images,
                          int repeats) {
    double first = native_net_time_pass(net, i, pass, use_dnnl, images); /* warm-up */
    if (first < 0) return -1;
    int calls = first > 0.01 ? 1 : (int)(0.01 / (first > 1e-7 ? first : 1e-7)) + 1;
    if (calls > 1000) calls = 1000;
    double t[64];
    for (int r = 0; r < repeats; r++) {
        double sum = 0;
        for (int c = 0; c < calls; c++) sum += native_net_time_pass(net, i, pass, use_dnnl, images);
        t[r] = sum / calls;
    }
    qsort(t, (size_t)repeats, sizeof t[0], cmp_double);
    return t[repeats / 2];
}

static const char *const pass_names[] = {"forward", "bwd_weights", "bwd_data", "infer"};

/* Every layer's passes, native and (where it has one) dnnl. */
static void layer_rows(layer_bench *b, nn_net *native, double step_s, double eval_s) {
    const nn_spec *s = &b->spec;
    int batch = (int)b->f->batch, eval_batch = (int)b->f->eval_batch;
    for (int pass = NN_PASS_FORWARD; pass <= NN_PASS_INFER; pass++) {
        double loss = 0;
        long hits = 0;
        /* the buffers a pass reads: a training step's, or an evaluation's */
        if (pass == NN_PASS_INFER)
            nn_net_evaluate_sums(native, b->eval_images, b->eval_labels, eval_batch, &loss, &hits,
                                 NULL);
        else if (pass == NN_PASS_FORWARD)
            nn_net_train_step(native, b->images, b->labels);
        const float *images = pass == NN_PASS_INFER ? b->eval_images : b->images;
        int n = pass == NN_PASS_INFER ? eval_batch : batch;
        for (int i = 0; i < s->n_layers; i++) {
            const nn_layer *l = &s->layers[i];
            char layer[8], shape[48];
            int c, h, w;
            nn_tensor_shape(s, l->src, &c, &h, &w);
            snprintf(layer, sizeof layer, "%d", i);
            snprintf(shape, sizeof shape, "%dx%dx%d->%dx%dx%d", c, h, w, l->c, l->h, l->w);
            for (int use_dnnl = 0; use_dnnl <= 1; use_dnnl++) {
                double t = median_pass(native, i, (nn_pass)pass, use_dnnl, images, b->repeats);
                if (t < 0) continue;
                row *r = add_row(b, layer, nn_op_name(l->op), shape, pass_names[pass],
                                 use_dnnl ? "dnnl" : "native", n);
                r->s = t, r->flops = nn_layer_flops(s, i) * n;
                r->whole_s = use_dnnl ? 0 : pass == NN_PASS_INFER ? eval_s : step_s;
            }
        }
    }
}

/* Median seconds of a whole training step, or of evaluating the evaluation batch. */
static double median_whole(const layer_bench *b, nn_net *net, int evaluate) {
    double t[64];
    for (int r = -1; r < b->repeats; r++) { /* -1: warm-up */
        double t0 = alrs_now(), loss = 0;
        long hits = 0;
        if (evaluate)
            nn_net_evaluate_sums(net, b->eval_images, b->eval_labels, (int)b->f->eval_batch,
                                 &loss, &hits, NULL);
        else
            nn_net_train_step(net, b->images, b->labels);
        if (r >= 0) t[r] = alrs_now() - t0;
    }
    qsort(t, (size_t)b->repeats, sizeof t[0], cmp_double);
    return t[b->repeats / 2];
}

static nn_net *make_net(layer_bench *b, const char *backend) {
    nn_net_config cfg = {(int)b->f->batch, (int)b->f->eval_batch, b->f->plan};
    return nn_net_create(&b->spec, backend, cfg, b->params, b->grads, b->state);
}

/* Whole training steps and evaluations of each backend; the native net's
 * step and evaluation times into step_s and eval_s. */
static int whole_rows(layer_bench *b, nn_net *native, double *step_s, double *eval_s) {
    static const char *const backends[] = {"native", "dnnl", "plan"};
    for (int k = 0; k < 3; k++) {
        nn_net *net = k == 0 ? native : make_net(b, backends[k]);
        if (!net) return -1;
        row *r = add_row(b, "all", "net", "", "train_step", backends[k], (int)b->f->batch);
        r->s = median_whole(b, net, 0), r->flops = nn_flops_train(&b->spec) * (double)b->f->batch;
        if (k == 0) *step_s = r->s;
        r = add_row(b, "all", "net", "", "evaluate", backends[k], (int)b->f->eval_batch);
        r->s = median_whole(b, net, 1);
        r->flops = nn_flops_forward(&b->spec) * (double)b->f->eval_batch;
        if (k == 0) *eval_s = r->s;
        if (k == 2) printf("# the plan's choice: %s\n", nn_net_auto_choice(net));
        if (k > 0) nn_net_free(net);
    }
    return 0;
}

static float *random_images(const nn_spec *s, long n, rng_stream *rng) {
    size_t count = (size_t)n * nn_tensor_floats(s, -1);
    float *images = alrs_alloc_aligned(sizeof(float) * count);
    for (size_t i = 0; i < count; i++) images[i] = rng_uniform(rng);
    return images;
}

static void bench_open(layer_bench *b) {
    const run_flags *f = b->f;
    b->params = alrs_alloc_aligned(sizeof(float) * b->spec.n_params);
    b->grads = alrs_alloc_aligned(sizeof(float) * b->spec.n_params);
    b->state = alrs_alloc_aligned(sizeof(float) * (b->spec.n_state + 1));
    rng_stream rng = rng_make((uint64_t)f->seed, 0);
    nn_init_params(&b->spec, b->params, b->state, &rng);
    b->images = random_images(&b->spec, f->batch, &rng);
    b->eval_images = random_images(&b->spec, f->eval_batch, &rng);
    b->labels = alrs_malloc((size_t)f->batch);
    b->eval_labels = alrs_malloc((size_t)f->eval_batch);
    for (long i = 0; i < f->batch; i++) b->labels[i] = (uint8_t)rng_below(&rng, 10);
    for (long i = 0; i < f->eval_batch; i++) b->eval_labels[i] = (uint8_t)rng_below(&rng, 10);
}

static void bench_close(layer_bench *b) {
    alrs_free_aligned(b->params);
    alrs_free_aligned(b->grads);
    alrs_free_aligned(b->state);
    alrs_free_aligned(b->images);
    alrs_free_aligned(b->eval_images);
    free(b->labels);
    free(b->eval_labels);
    free(b->rows);
}

/* Measures everything, then prints it against the higher of the peaks
 * measured before and after (the second with the core warm). */
static int bench_layers_run(layer_bench *b) {
    const run_flags *f = b->f;
    bench_open(b);
    machine_info m;
    if (machine_info_get(&m) == 0) machine_info_csv_comment(&m, stdout);
    printf("# model %s, batch %ld, eval batch %ld, %ld threads, median of %d repeats\n", f->model,
           f->batch, f->eval_batch, f->threads, b->repeats);
    double peak_before = fma_peak_gflops((int)f->threads);
    nn_net *native = make_net(b, "native");
    if (!native) return -1;
    int L = b->spec.n_layers, *has_dnnl = alrs_calloc((size_t)L, sizeof(int));
    char(*why)[AUTO_WHY_SIZE] = alrs_calloc((size_t)L, sizeof *why);
    auto_net_attach_dnnl(native, L, has_dnnl, why);
    for (int i = 0; i < L; i++)
        if (native_net_layer_switchable(native, i) && !has_dnnl[i])
            printf("# layer %d: no dnnl rows: %s\n", i, why[i]);
    free(has_dnnl);
    free(why);
    double step_s = 0, eval_s = 0;
    int rc = whole_rows(b, native, &step_s, &eval_s);
    if (rc == 0) {
        layer_rows(b, native, step_s, eval_s);
        double peak_after = fma_peak_gflops((int)f->threads);
        double peak = peak_after > peak_before ? peak_after : peak_before;
        printf("# fma_peak_gflops(%ld threads)=%.1f (measured before %.1f, after %.1f)\n",
               f->threads, peak, peak_before, peak_after);
        print_rows(b, peak);
    }
    nn_net_free(native);
    return rc;
}

int bench_layers(int argc, char **argv) {
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
    layer_bench b;
    memset(&b, 0, sizeof b);
    b.f = &f, b.repeats = (int)repeats;
    if (nn_build(&b.spec, f.model, channels, side, side, 10, f.hidden, f.n_hidden) != 0)
        return cli_usage_error();
    int rc = bench_layers_run(&b);
    bench_close(&b);
    return rc == 0 ? 0 : cli_report_error();
}
