/* A compiled network: a spec bound to a backend, a batch size and the flat
 * parameter, gradient and state buffers (which the caller owns; the net keeps
 * pointers to them, so the optimizer updates parameters in place).
 *
 * Training runs forward in training mode, softmax cross-entropy, and the
 * backward pass, and leaves the gradient of the mean loss in `grads`.
 * Evaluation runs in inference mode (batchnorm uses its running statistics,
 * no backward state) in chunks of `eval_batch` images. */
#ifndef ALRS_NN_NET_H
#define ALRS_NN_NET_H

#include <stdint.h>

#include "nn/spec.h"

typedef struct nn_net nn_net;

typedef struct {
    int train_batch; /* images per training step */
    int eval_batch;  /* images per inference chunk */
    const char *plan_path; /* backend "plan": the plan file (NULL: the default,
                              nn/choice/backend_choice.h) */
} nn_net_config;

/* A net on the named backend (nn/choice/factory.c): "dnnl" (oneDNN
 * primitives, nn/dnnl/), "native" (the handwritten kernels of kernels/,
 * nn/native/), "auto" (nn/choice/auto_net.c: each conv and fc layer, its
 * three passes together, on whichever measured faster on this machine; or
 * the whole dnnl net when that is faster still), or "plan" (the
 * choice auto made once for this machine, network, batch and threads, kept
 * in a plan file and reused, so that runs repeat bit for bit:
 * nn/choice/backend_choice.h). NULL with a message on failure. */
nn_net *nn_net_create(const nn_spec *spec, const char *backend, nn_net_config cfg, float *params,
                      float *grads, float *state);
void nn_net_free(nn_net *net);

/* One training step on `train_batch` images (NCHW floats) and labels: returns
 * the mean cross-entropy loss, writes gradients, updates batchnorm running
 * statistics. */
double nn_net_train_step(nn_net *net, const float *images, const uint8_t *labels);

/* Inference over n images: mean loss and accuracy; when `probs` is not NULL it
 * receives the n×classes softmax probabilities. */
void nn_net_evaluate(nn_net *net, const float *images, const uint8_t *labels, int n,
                     double *mean_loss, double *accuracy, float *probs);
/* The same as sums added to *loss_sum and *hits, in inference chunks: a set
 * evaluated in pieces whose sizes are multiples of the inference chunk
 * (cfg.eval_batch), each adding to the same sums, gives the figures of one
 * call, bit for bit (for a progress line between the pieces). */
void nn_net_evaluate_sums(nn_net *net, const float *images, const uint8_t *labels, int n,
                          double *loss_sum, long *hits, float *probs);

/* The backend choice an auto net made ("native", "dnnl-net" or one letter
 * per conv/fc layer, 'n' or 'd'), "" for another backend. */
const char *nn_net_auto_choice(const nn_net *net);

/* The implementation oneDNN chose for each primitive, one per line. */
void nn_net_describe_impl(const nn_net *net, char *buf, int size);

#endif
