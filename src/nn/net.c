/* The backend-neutral face of nn/net.h: creation by name and dispatch. */
#include <string.h>

#include "core/error.h"
#include "nn/net_impl.h"

nn_net *nn_net_create(const nn_spec *spec, const char *backend, nn_net_config cfg, float *params,
                      float *grads, float *state) {
    if (!strcmp(backend, "dnnl")) return nn_net_create_dnnl(spec, cfg, params, grads, state);
    if (!strcmp(backend, "native")) return nn_net_create_native(spec, cfg, params, grads, state);
    if (!strcmp(backend, "auto")) return nn_net_create_auto(spec, cfg, params, grads, state);
    if (!strcmp(backend, "plan")) return nn_net_create_plan(spec, cfg, params, grads, state);
    alrs_fail("--backend %s: unknown backend (expected plan, native, dnnl or auto)", backend);
    return NULL;
}

void nn_net_free(nn_net *net) {
    if (net) net->ops->free(net);
}

double nn_net_train_step(nn_net *net, const float *images, const uint8_t *labels) {
    return net->ops->train_step(net, images, labels);
}

void nn_net_evaluate(nn_net *net, const float *images, const uint8_t *labels, int n,
                     double *mean_loss, double *accuracy, float *probs) {
    double loss = 0;
    long hits = 0;
    net->ops->evaluate(net, images, labels, n, &loss, &hits, probs);
    *mean_loss = n > 0 ? loss / n : 0.0;
    *accuracy = n > 0 ? (double)hits / n : 0.0;
}

void nn_net_evaluate_sums(nn_net *net, const float *images, const uint8_t *labels, int n,
                          double *loss_sum, long *hits, float *probs) {
    net->ops->evaluate(net, images, labels, n, loss_sum, hits, probs);
}

const char *nn_net_auto_choice(const nn_net *net) {
    return net->ops->auto_choice ? net->ops->auto_choice(net) : "";
}

void nn_net_describe_impl(const nn_net *net, char *buf, int size) {
    net->ops->describe(net, buf, size);
}
