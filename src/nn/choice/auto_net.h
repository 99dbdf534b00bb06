/* The auto backend (auto_net.c): the native net with a per-layer choice
 * between its handwritten kernels and the layer's oneDNN primitives, by
 * measurement, or the whole oneDNN net when that is faster still. It is the
 * one place where the two backends meet: it builds each convolution's and
 * fully connected layer's oneDNN version (nn/dnnl/dnnl_standin.h) and
 * attaches it to the native net as a backend-neutral stand-in
 * (nn/layer_standin.h), so that neither backend includes the other. */
#ifndef ALRS_NN_CHOICE_AUTO_NET_H
#define ALRS_NN_CHOICE_AUTO_NET_H

#include "nn/net.h"

/* Per layer, the faster of native and dnnl by measurement (nn_net_create
 * calls it for "auto"); ALRS_AUTO_LAYERS forces a choice (auto_net.c). */
nn_net *nn_net_create_auto(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state);
/* With `choice` set (nn_net_auto_choice's form, or ALRS_AUTO_LAYERS's), that
 * choice without measuring. */
nn_net *nn_net_create_auto_as(const nn_spec *spec, nn_net_config cfg, float *params,
                              float *grads, float *state, const char *choice);
/* Puts a line before an auto net's description (where its choice came from). */
void nn_net_auto_note(nn_net *net, const char *line);

#define AUTO_WHY_SIZE 128

/* Gives every convolution and fully connected layer of a native net of
 * n_layers layers (nn/native/native_net.h) its oneDNN version at the
 * training batch as its stand-in, all on one oneDNN engine and stream.
 * has[i] is 1 for a layer that got one (0 for the others); a switchable
 * layer that did not gets the reason in why[i] (a short phrase: oneDNN has
 * no optimized kernel for a pass on plain layouts). For the auto backend,
 * and alrs bench layers's dnnl rows. */
void auto_net_attach_dnnl(nn_net *native, int n_layers, int *has, char (*why)[AUTO_WHY_SIZE]);

#endif
