/* A convolution or fully connected layer's oneDNN version (dnnl_layer.h) as
 * a stand-in for the native net (nn/layer_standin.h), for the auto backend's
 * per-layer mix (nn/choice/auto_net.c): the oneDNN side builds it and owns
 * everything oneDNN in it, so that the native backend creates no oneDNN
 * object and includes no oneDNN header. No oneDNN type appears here.
 *
 * The stand-ins of one net share a oneDNN engine and stream, held by a kit:
 * each stand-in keeps its kit alive, which goes when its creator has
 * released it and the last of its stand-ins is freed. */
#ifndef ALRS_NN_DNNL_DNNL_STANDIN_H
#define ALRS_NN_DNNL_DNNL_STANDIN_H

#include "nn/layer_standin.h"
#include "nn/spec.h"

typedef struct dnnl_standin_kit dnnl_standin_kit;

/* A CPU engine and a stream; NULL with `why` (a short phrase) on failure. */
dnnl_standin_kit *dnnl_standin_kit_create(char *why, int why_size);
/* The creator's hold on the kit, given up (its stand-ins keep it). */
void dnnl_standin_kit_release(dnnl_standin_kit *kit);

/* Layer i of `s` on oneDNN primitives at `batch` images, on the kit's engine
 * and stream, into *out (dnnl_layer_create's arguments and failures: -1 with
 * `why` when oneDNN has no optimized kernel for one of the passes on plain
 * layouts). Its name is "dnnl"; its description "oneDNN fwd/bwd-weights/
 * bwd-data", the implementations. */
int dnnl_standin_create(dnnl_standin_kit *kit, const nn_spec *s, int i, int batch,
                        int backward_data, float *params, float *grads, nn_layer_standin *out,
                        char *why, int why_size);

#endif
