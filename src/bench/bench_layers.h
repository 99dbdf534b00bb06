/* alrs bench layers's measurement: per layer and pass (forward,
 * bwd_weights, bwd_data at the training batch; infer, validation's forward,
 * at the evaluation batch) the median time of each implementation the layer
 * can run on (native, and dnnl where oneDNN has fast kernels on plain
 * layouts), then whole training steps and evaluations of the native net, the
 * oneDNN net and the plan; each row's GFLOP/s as a fraction of the FMA peak
 * and the share of the native step (or evaluation) a native pass takes. All
 * rows are measured before any is reported: the peak they are a fraction of
 * is measured again after the timings. */
#ifndef ALRS_BENCH_BENCH_LAYERS_H
#define ALRS_BENCH_BENCH_LAYERS_H

#include "bench/bench_net.h"
#include "bench/bench_stats.h"
#include "nn/choice/auto_net.h"

typedef struct {
    char layer[8], op[16], shape[48]; /* layer "all", op "net": a whole step or evaluation */
    const char *pass, *backend;
    int batch;
    double s;                         /* median seconds of one call */
    double gflops_per_s, peak_fraction; /* < 0: the row counts no flops */
    double share;                     /* of the native step or evaluation; < 0: none */
    double flops, whole_s;            /* what the three above are computed from */
} bench_layer_row;

typedef struct {
    const run_flags *f;
    int repeats;
    bench_net data;
    bench_peak peak;
    /* layers that could run on oneDNN but have no dnnl rows, and why (valid
     * once `attached`) */
    int attached, n_layers, *no_dnnl;
    char (*why)[AUTO_WHY_SIZE];
    char plan_choice[512]; /* the plan's choice (nn_net_auto_choice), once measured */
    bench_layer_row *rows;
    int n_rows;
} bench_layers;

/* The network at this shape with its training and evaluation batches; -1
 * with a message when the model cannot be built. bench_layers_close after
 * either outcome. */
int bench_layers_open(bench_layers *b, const run_flags *f, int channels, int side, int repeats);
/* Measures every row (-1 with a message when a net cannot be built; the
 * notes of `attached` may hold by then). */
int bench_layers_run(bench_layers *b);
void bench_layers_close(bench_layers *b);

#endif
