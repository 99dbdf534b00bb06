/* The backend-neutral face of nn/net.h: dispatch through a net's
 * operations (nn/net_impl.h). Creation by name is nn/choice/factory.c's, the
 * one place that knows every backend. */
#include "nn/net_impl.h"

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
