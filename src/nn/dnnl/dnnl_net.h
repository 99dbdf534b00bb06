/* The oneDNN backend (dnnl_net.c, dnnl_build.c: the whole spec compiled into
 * oneDNN primitives on blocked layouts) as nn_net_create and the auto
 * backend see it: its constructor. No oneDNN type appears here. */
#ifndef ALRS_NN_DNNL_DNNL_NET_H
#define ALRS_NN_DNNL_DNNL_NET_H

#include "nn/net.h"

/* The oneDNN net (nn_net_create calls it for "dnnl"); NULL with a message
 * on failure. */
nn_net *nn_net_create_dnnl(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state);

#endif
