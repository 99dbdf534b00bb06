/* One child training run: a network, its optimizer and its data stream,
 * advanced one step at a time so that a schedule — or a controller — can
 * choose each step's learning rate.
 *
 * Validation runs in inference mode on a fixed subset (the first val_size
 * images of the validation split). Whenever the validation loss improves, the
 * parameters are copied aside, so that the test set can be evaluated at the
 * best-validation point at the end, as the paper reports. */
#ifndef ALRS_CHILD_CHILD_H
#define ALRS_CHILD_CHILD_H

#include <stdint.h>

#include "child/eval_point.h"
#include "core/bytes.h"
#include "data/dataset.h"
#include "nn/net.h"
#include "nn/spec.h"
#include "optim/optimizer.h"

/* A training or validation loss above this (or NaN, or infinite) means the
 * child diverged: schedule runs (run/trainer.c) and episodes (env/lr_env.c)
 * end there. ln 10 (a uniform guess) is 2.3; no healthy run comes near. */
#define CHILD_DIVERGENCE_LOSS 1e3

typedef struct {
    const char *model;     /* mlp, lenet5, resnet18 */
    const char *optimizer; /* adam, sgd, adamw-schedulefree, prodigy, dadapt-adam */
    const char *backend;   /* plan, dnnl, native, auto (nn/net.h) */
    const char *plan_path; /* backend plan: its file (NULL: the default,
                              nn/choice/backend_choice.h) */
    int hidden[NN_MAX_HIDDEN], n_hidden;
    int batch, eval_batch, val_size;
    int test_size; /* test images evaluated (the first N of the test split); 0: all */
    uint64_t seed; /* initial weights and batch order */
    /* a change of the task mid-run (alrs train --change-at): every step after
     * the first change_step takes its batch's labels from change_labels (one
     * per training image, the caller's, read only); NULL: no change. The
     * batch order and the images stay those of the run without it. */
    long change_step;
    uint8_t *change_labels;
} child_config;

/* Called as the test evaluation goes (images done of n): a progress line. */
typedef void (*child_test_progress_fn)(void *ctx, long done, long n);

typedef struct {
    child_config cfg;
    const dataset *data;
    nn_spec spec;
    float *params, *grads, *state;
    float *best_params, *best_state;
    optimizer opt;
    /* schedule-free: the training run's batchnorm statistics while the net
     * is evaluated at x, and scratch to recompute them (child/eval_point.h) */
    eval_point eval;
    nn_net *net;
    batcher batches;
    float *batch_images;
    uint8_t *batch_labels;
    data_split changed; /* the training split with cfg.change_labels */
    long step;
    double best_val_loss;
    long best_step;
    child_test_progress_fn test_progress; /* NULL: none */
    void *test_progress_ctx;
} child_run;

/* Builds the network for the data set's image shape. -1 with a message for an
 * unknown model or optimizer, an impossible batch or validation size. */
int child_run_create(child_run *r, const child_config *cfg, const dataset *data);
void child_run_free(child_run *r);

/* One training step at learning rate lr; returns the batch's mean loss. From
 * step cfg.change_step on (the steps done so far), with cfg.change_labels set,
 * the batch has those labels. */
double child_run_step(child_run *r, double lr);
/* Validation loss and accuracy; remembers the parameters if the loss is the
 * best so far. Validation, test and the best snapshot use the optimizer's
 * evaluation point (schedule-free: the average x, child/eval_point.h). */
void child_run_validate(child_run *r, double *loss, double *acc);
/* As child_run_validate, and (unless probs is NULL) writes the softmax
 * probabilities of the validation subset into probs [val_size][classes]: row
 * i is validation image i, so two calls give the predictions of the same
 * images in the same order. */
void child_run_validate_probs(child_run *r, double *loss, double *acc, float *probs);
/* Starts a new run on the same network, data and buffers (nothing is
 * reallocated but the batcher's order array): weights and batchnorm running
 * statistics drawn again from stream 0 of `seed`, the batch order from stream
 * 1, the optimizer's moments and step count zeroed, the step count at 0 and
 * the best-validation snapshot cleared; cfg.seed becomes `seed`. The run then
 * behaves exactly as one made by child_run_create with that seed. */
void child_run_reset(child_run *r, uint64_t seed);
/* Test loss and accuracy of the current parameters, or of the best-validation
 * ones when `at_best` (falls back to current if no validation ran), over the
 * first test_size test images (all when 0), reporting progress to
 * test_progress when set. */
void child_run_test(child_run *r, int at_best, double *loss, double *acc);

/* The parameters to observe (a controller's features): the evaluation
 * point (schedule-free: x), else the live parameters. */
const float *child_run_eval_params(const child_run *r);

/* A run's state, to go on later exactly where it was: the step, parameters,
 * batchnorm statistics, the best-validation snapshot and the optimizer's
 * state (optimizer_save) (the batch order follows from the seed and the step). Load
 * expects a run made with the same configuration and seed (child_run_reset);
 * -1 with a message naming `path` when the sizes do not match. */
void child_run_save(const child_run *r, byte_buf *out);
int child_run_load(child_run *r, byte_reader *in, const char *path);

/* Default inference chunk for a model: large for small networks, smaller for
 * ResNet-18, whose activations are large. */
int child_default_eval_batch(const char *model);

#endif
