/* Tiny multilayer perceptrons for the controller: input -> hidden... -> output,
 * tanh (or ReLU) between layers, linear output.
 *
 * Precision: double. The controller has a few thousand parameters and runs a
 * few hundred forward passes per child step at most, so its cost is nothing
 * next to the child network; double makes the finite-difference gradient
 * checks tight, keeps Adam's small steps (lr 3e-4, eps 1e-5) exact, and keeps
 * the normalised advantages and log-ratios of PPO free of float rounding.
 *
 * An mlp owns no memory for its parameters: it is a set of named views into a
 * flat buffer that the caller owns (the policy puts actor, critic and log-std
 * in one buffer, so that Adam, the gradient-norm clip and the checkpoint each
 * see one array). Layout, layer by layer: W [out][in] row-major (PyTorch's
 * nn.Linear layout), then b [out].
 *
 * Use: mlp_param_count -> (caller allocates params, grads) -> mlp_bind ->
 * mlp_init_orthogonal; per batch: mlp_tape_init (once, for the largest batch)
 * -> mlp_forward -> mlp_backward (accumulates into grads; zero them first). */
#ifndef ALRS_RL_MLP_H
#define ALRS_RL_MLP_H

#include <stddef.h>

#include "core/rng.h"

#define MLP_MAX_HIDDEN 4
#define MLP_MAX_LAYERS (MLP_MAX_HIDDEN + 1)
#define MLP_MAX_WIDTH 4096

typedef enum { MLP_TANH = 0, MLP_RELU = 1 } mlp_activation;

typedef struct {
    int n_in, n_out;
    int n_hidden;                /* 0..MLP_MAX_HIDDEN hidden layers */
    int hidden[MLP_MAX_HIDDEN];  /* their widths */
    mlp_activation act;
} mlp_config;

/* One linear layer, as views into a flat buffer. */
typedef struct {
    int n_in, n_out;
    double *w; /* [n_out][n_in] */
    double *b; /* [n_out] */
} mlp_layer;

typedef struct {
    mlp_config cfg;
    int n_layers;   /* n_hidden + 1 */
    size_t n_params;
    mlp_layer param[MLP_MAX_LAYERS];
    mlp_layer grad[MLP_MAX_LAYERS];
} mlp;

/* What backward needs from forward: every layer's input for a batch. */
typedef struct {
    int max_batch, batch;
    double *act[MLP_MAX_LAYERS]; /* act[l]: input of layer l, [batch][n_in of l] */
    double *delta[2];            /* backward scratch, [max_batch][widest layer] each */
} mlp_tape;

/* The input -> 32 -> 32 -> output tanh network of standard PPO code. */
mlp_config mlp_config_default(int n_in, int n_out);
/* -1 with a message for sizes out of range. */
int mlp_config_check(const mlp_config *c);
/* Number of doubles the network takes in a flat buffer. */
size_t mlp_param_count(const mlp_config *c);
/* Points the views at params[0..n) and grads[0..n) (grads may be NULL when the
 * network is only run forward). -1 for a bad config. */
int mlp_bind(mlp *m, const mlp_config *c, double *params, double *grads);

/* Orthogonal weights (a QR of a Gaussian matrix by Gram-Schmidt, as
 * torch.nn.init.orthogonal_) scaled by hidden_gain for hidden layers and by
 * out_gain for the output layer; biases 0. */
void mlp_init_orthogonal(mlp *m, double hidden_gain, double out_gain, rng_stream *r);
/* One rows x cols matrix: orthonormal columns when rows >= cols (W^T W = I),
 * orthonormal rows otherwise (W W^T = I), times gain. */
void orthogonal_matrix(double *w, int rows, int cols, double gain, rng_stream *r);

int mlp_tape_init(mlp_tape *t, const mlp *m, int max_batch);
void mlp_tape_free(mlp_tape *t);

/* x [batch][n_in] -> y [batch][n_out]; records the layer inputs in the tape.
 * batch <= t->max_batch. */
void mlp_forward(const mlp *m, mlp_tape *t, const double *x, int batch, double *y);
/* dy [batch][n_out] (gradient of the loss by y) -> adds dL/dparams into the
 * grads view, for the batch of the last mlp_forward on this tape. No gradient
 * for the input: the controller's inputs are observations. */
void mlp_backward(const mlp *m, const mlp_tape *t, const double *dy);

#endif
