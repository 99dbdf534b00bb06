#include "core/error.h"
#include "nn/net_impl.h"
#include "nn/layer_rules.h"

int nn_net_check(const nn_spec *spec, nn_net_config cfg) {
    if (cfg.train_batch < 1 || cfg.eval_batch < 1)
        return alrs_fail("batch sizes must be positive (train %d, eval %d)", cfg.train_batch,
                         cfg.eval_batch);
    if (spec->n_layers == 0) return alrs_fail("%s: the network has no layers", spec->model);
    const nn_layer *last = &spec->layers[spec->n_layers - 1];
    if (last->op != NN_FC || last->relu)
        return alrs_fail("%s: the network must end in a fully connected layer without ReLU",
                         spec->model);
    for (int i = 0; i + 1 < spec->n_layers; i++)
        if (nn_tensor_reads(spec, i) == 0)
            return alrs_fail("%s: the output of layer %d is never used", spec->model, i);
    return 0;
}
