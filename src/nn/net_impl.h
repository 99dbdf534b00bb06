/* What a backend implements behind nn/net.h: a struct whose first member is
 * an nn_net pointing at the backend's operations (nn/net.c dispatches
 * through them), and a constructor that nn_net_create calls by name
 * (nn/choice/factory.c), declared in the backend's own header:
 * nn/native/native_net.h, nn/dnnl/dnnl_net.h, nn/choice/auto_net.h and
 * nn/choice/backend_choice.h. Internal to nn/: everything else creates a
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

/* Checks what every backend needs of a spec and configuration: positive batch
 * sizes, a final fully connected layer without ReLU, every layer's output
 * used. -1 with a message otherwise. */
int nn_net_check(const nn_spec *spec, nn_net_config cfg);

#endif
