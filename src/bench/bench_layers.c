#include "bench/bench_layers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timer.h"
#include "data/dataset.h"
#include "nn/native/native_net.h"

int bench_layers_open(bench_layers *b, const run_flags *f, int channels, int side, int repeats) {
    memset(b, 0, sizeof *b);
    b->f = f, b->repeats = repeats;
    return bench_net_open(&b->data, f, channels, side, BENCH_DATA_TRAIN_EVAL);
}

static bench_layer_row *add_row(bench_layers *b, const char *layer, const char *op,
                                const char *shape, const char *pass, const char *backend,
                                int batch) {
    b->rows = realloc(b->rows, sizeof(bench_layer_row) * (size_t)(b->n_rows + 1));
    if (!b->rows) alrs_panic("out of memory");
    bench_layer_row *r = &b->rows[b->n_rows++];
    memset(r, 0, sizeof *r);
    snprintf(r->layer, sizeof r->layer, "%s", layer);
    snprintf(r->op, sizeof r->op, "%s", op);
    snprintf(r->shape, sizeof r->shape, "%s", shape);
    r->pass = pass, r->backend = backend, r->batch = batch;
    return r;
}

/* Median seconds of one call: each repeat runs enough calls for ~10 ms
 * (one call of a small layer is below the clock's resolution). */
static double median_pass(nn_net *net, int i, nn_pass pass, int use_dnnl, const float *images,
                          int repeats) {
    double first = native_net_time_pass(net, i, pass, use_dnnl, images); /* warm-up */
    if (first < 0) return -1;
    int calls = first > 0.01 ? 1 : (int)(0.01 / (first > 1e-7 ? first : 1e-7)) + 1;
    if (calls > 1000) calls = 1000;
    double t[BENCH_MAX_REPEATS];
    for (int r = 0; r < repeats; r++) {
        double sum = 0;
        for (int c = 0; c < calls; c++) sum += native_net_time_pass(net, i, pass, use_dnnl, images);
        t[r] = sum / calls;
    }
    return bench_median(t, repeats);
}

static const char *const pass_names[] = {"forward", "bwd_weights", "bwd_data", "infer"};

/* Every layer's passes, native and (where it has one) dnnl. */
static void layer_rows(bench_layers *b, nn_net *native, double step_s, double eval_s) {
    const bench_net *d = &b->data;
    const nn_spec *s = &d->spec;
    int batch = (int)b->f->batch, eval_batch = (int)b->f->eval_batch;
    for (int pass = NN_PASS_FORWARD; pass <= NN_PASS_INFER; pass++) {
        double loss = 0;
        long hits = 0;
        /* the buffers a pass reads: a training step's, or an evaluation's */
        if (pass == NN_PASS_INFER)
            nn_net_evaluate_sums(native, d->eval_images, d->eval_labels, eval_batch, &loss, &hits,
                                 NULL);
        else if (pass == NN_PASS_FORWARD)
            nn_net_train_step(native, d->images, d->labels);
        const float *images = pass == NN_PASS_INFER ? d->eval_images : d->images;
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
                /* a convolution fused with its pool says so: the pool has no row */
                const char *op = !use_dnnl && native_net_pass_has_pool(native, i, (nn_pass)pass)
                                     ? "conv+maxpool"
                                     : nn_op_name(l->op);
                bench_layer_row *r = add_row(b, layer, op, shape, pass_names[pass],
                                             use_dnnl ? "dnnl" : "native", n);
                r->s = t, r->flops = nn_layer_flops(s, i) * n;
                r->whole_s = use_dnnl ? 0 : pass == NN_PASS_INFER ? eval_s : step_s;
            }
        }
    }
}

/* Median seconds of a whole training step, or of evaluating the evaluation batch. */
static double median_whole(const bench_layers *b, nn_net *net, int evaluate) {
    const bench_net *d = &b->data;
    double t[BENCH_MAX_REPEATS];
    for (int r = -1; r < b->repeats; r++) { /* -1: warm-up */
        double t0 = alrs_now(), loss = 0;
        long hits = 0;
        if (evaluate)
            nn_net_evaluate_sums(net, d->eval_images, d->eval_labels, (int)b->f->eval_batch,
                                 &loss, &hits, NULL);
        else
            nn_net_train_step(net, d->images, d->labels);
        if (r >= 0) t[r] = alrs_now() - t0;
    }
    return bench_median(t, b->repeats);
}

/* What a run does before its first step, as a row of its own: building a
 * backend's net (for the plan, reading its entry, or measuring it the first
 * time a machine runs this shape). */
static void create_row(bench_layers *b, const char *backend, double seconds) {
    add_row(b, "all", "net", "", "create", backend, (int)b->f->batch)->s = seconds;
}

/* Reading and decoding the data set's files and splitting them, as a run
 * starts; no row when the files are not there (bench layers itself runs on
 * random images), a note on stderr instead. */
static void data_row(bench_layers *b) {
    const run_flags *f = b->f;
    dataset d;
    double t0 = alrs_now();
    if (dataset_load(&d, f->dataset, f->data_dir, (int)f->val_split, 0) != 0) {
        fprintf(stderr, "bench layers: no data-load row: %s\n", alrs_error());
        return;
    }
    bench_layer_row *r = add_row(b, "all", "data", f->dataset, "load", "-", 0);
    r->s = alrs_now() - t0;
    dataset_free(&d);
}

/* Whole training steps and evaluations of each backend; the native net's
 * step and evaluation times into step_s and eval_s. */
static int whole_rows(bench_layers *b, nn_net *native, double *step_s, double *eval_s) {
    static const char *const backends[] = {"native", "dnnl", "plan"};
    const nn_spec *s = &b->data.spec;
    for (int k = 0; k < 3; k++) {
        double t0 = alrs_now();
        nn_net *net = k == 0 ? native : bench_net_create(&b->data, backends[k]);
        if (!net) return -1;
        if (k > 0) create_row(b, backends[k], alrs_now() - t0);
        bench_layer_row *r =
            add_row(b, "all", "net", "", "train_step", backends[k], (int)b->f->batch);
        r->s = median_whole(b, net, 0), r->flops = nn_flops_train(s) * (double)b->f->batch;
        if (k == 0) *step_s = r->s;
        r = add_row(b, "all", "net", "", "evaluate", backends[k], (int)b->f->eval_batch);
        r->s = median_whole(b, net, 1);
        r->flops = nn_flops_forward(s) * (double)b->f->eval_batch;
        if (k == 0) *eval_s = r->s;
        if (k == 2)
            snprintf(b->plan_choice, sizeof b->plan_choice, "%s", nn_net_auto_choice(net));
        if (k > 0) nn_net_free(net);
    }
    return 0;
}

/* The figures of each row against the peak, once both peaks are known. */
static void rate_rows(bench_layers *b) {
    for (int k = 0; k < b->n_rows; k++) {
        bench_layer_row *r = &b->rows[k];
        r->gflops_per_s = r->peak_fraction = r->share = -1;
        if (r->flops > 0) {
            r->gflops_per_s = r->flops / r->s * 1e-9;
            r->peak_fraction = r->gflops_per_s / b->peak.best;
        }
        if (r->whole_s > 0) r->share = r->s / r->whole_s;
    }
}

int bench_layers_run(bench_layers *b) {
    int threads = (int)b->f->threads;
    bench_peak_before(&b->peak, threads);
    data_row(b);
    double t0 = alrs_now();
    nn_net *native = bench_net_create(&b->data, "native");
    if (!native) return -1;
    create_row(b, "native", alrs_now() - t0);
    int L = b->data.spec.n_layers, *has_dnnl = alrs_calloc((size_t)L, sizeof(int));
    b->why = alrs_calloc((size_t)L, sizeof *b->why);
    b->no_dnnl = alrs_calloc((size_t)L, sizeof(int));
    auto_net_attach_dnnl(native, L, has_dnnl, b->why);
    for (int i = 0; i < L; i++)
        b->no_dnnl[i] = native_net_layer_switchable(native, i) && !has_dnnl[i];
    b->n_layers = L, b->attached = 1;
    free(has_dnnl);
    double step_s = 0, eval_s = 0;
    int rc = whole_rows(b, native, &step_s, &eval_s);
    if (rc == 0) {
        layer_rows(b, native, step_s, eval_s);
        bench_peak_after(&b->peak, threads);
        rate_rows(b);
    }
    nn_net_free(native);
    return rc;
}

void bench_layers_close(bench_layers *b) {
    bench_net_close(&b->data);
    free(b->rows);
    free(b->no_dnnl);
    free(b->why);
}
