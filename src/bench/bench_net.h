/* The network a speed measurement runs on: the spec of the run flags' model
 * at a data set's image shape, its parameters initialised from --seed as a
 * run's are, and random images and labels of that shape (their values do not
 * change the speed; fixed ones keep repeated measurements comparable).
 * alrs bench train, bench layers and tune build it alike. */
#ifndef ALRS_BENCH_BENCH_NET_H
#define ALRS_BENCH_BENCH_NET_H

#include <stdint.h>

#include "nn/net.h"
#include "settings/run_flags.h"

/* Which random data set comes with it. */
typedef enum {
    BENCH_DATA_NONE,       /* parameters only (tune measures on its own images) */
    BENCH_DATA_TRAIN,      /* a training batch */
    BENCH_DATA_TRAIN_EVAL, /* a training batch and an evaluation batch (--eval-batch) */
} bench_data;

typedef struct {
    nn_spec spec;
    float *params, *grads, *state;
    float *images, *eval_images; /* NULL when not asked for */
    uint8_t *labels, *eval_labels;
    nn_net_config cfg; /* the run flags' batch, evaluation batch (1 without one) and plan */
} bench_net;

/* -1 with a message when the model cannot be built at this shape; the
 * numbers are drawn from stream 0 of --seed in one order (parameters,
 * images, evaluation images, labels, evaluation labels). bench_net_close
 * after either outcome. */
int bench_net_open(bench_net *b, const run_flags *f, int channels, int side, bench_data data);
/* A net of `backend` over b's parameters (NULL with a message). */
nn_net *bench_net_create(bench_net *b, const char *backend);
void bench_net_close(bench_net *b);

#endif
