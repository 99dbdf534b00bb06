/* What a backend implements behind nn/net.h: a struct whose first member is
 * an nn_net pointing at the backend's operations, and a constructor that
 * nn_net_create calls by name. Internal to nn/: everything else creates a
 * net through nn_net_create. */
#ifndef ALRS_NN_NET_IMPL_H
#define ALRS_NN_NET_IMPL_H

#include "nn/net.h"

typedef struct {
    double (*train_step)(nn_net *net, const float *images, const uint8_t *labels);
    /* adds the n images' summed loss and correct count to *loss_sum, *hits */
    void (*evaluate)(nn_net *net, const float *images, const uint8_t *labels, int n,
                     double *loss_sum, long *hits, float *probs);
    void (*free)(nn_net *net);
    void (*describe)(const nn_net *net, char *buf, int size);
    const char *(*auto_choice)(const nn_net *net); /* NULL: not an auto net */
} nn_net_ops;

struct nn_net {
    const nn_net_ops *ops;
};

/* The backends' constructors; NULL with a message on failure.
 * The dnnl backend (nn/dnnl_net.c). */
nn_net *nn_net_create_dnnl(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state);
/* The native backend on the handwritten kernels (nn/native_net.c). */
nn_net *nn_net_create_native(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                             float *state);
/* Per layer, the faster of native and dnnl by measurement (nn/auto_net.c);
 * with `choice` set (nn_net_auto_choice's form, or ALRS_AUTO_LAYERS's), that
 * choice without measuring. */
nn_net *nn_net_create_auto_as(const nn_spec *spec, nn_net_config cfg, float *params,
                              float *grads, float *state, const char *choice);
/* Puts a line before an auto net's description (where its choice came from). */
void nn_net_auto_note(nn_net *net, const char *line);
/* A net as the plan file says, measuring and recording it when the file has
 * no entry yet (nn/backend_choice.c). */
nn_net *nn_net_create_plan(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state);
/* Per layer, the faster of native and dnnl by measurement (nn/auto_net.c). */
nn_net *nn_net_create_auto(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state);

/* Checks what every backend needs of a spec and configuration: positive batch
 * sizes, a final fully connected layer without ReLU, every layer's output
 * used. -1 with a message otherwise. */
int nn_net_check(const nn_spec *spec, nn_net_config cfg);

#endif
