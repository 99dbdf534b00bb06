/* A layer's oneDNN version behind the backend-neutral stand-in (see
 * nn/dnnl/dnnl_standin.h). */
#include "nn/dnnl/dnnl_standin.h"

#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "nn/dnnl/dnnl_layer.h"

struct dnnl_standin_kit {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    int holds; /* the creator's and one per stand-in */
};

typedef struct {
    dnnl_layer *layer;
    dnnl_standin_kit *kit;
    char describe[208];
} dnnl_standin;

static void kit_drop(dnnl_standin_kit *kit) {
    if (--kit->holds > 0) return;
    if (kit->stream) dnnl_stream_destroy(kit->stream);
    if (kit->engine) dnnl_engine_destroy(kit->engine);
    free(kit);
}

dnnl_standin_kit *dnnl_standin_kit_create(char *why, int why_size) {
    dnnl_standin_kit *kit = alrs_calloc(1, sizeof *kit);
    kit->holds = 1;
    if (dnnl_engine_create(&kit->engine, dnnl_cpu, 0) != dnnl_success) {
        kit->engine = NULL;
        snprintf(why, (size_t)why_size, "cannot create a oneDNN engine");
        kit_drop(kit);
        return NULL;
    }
    if (dnnl_stream_create(&kit->stream, kit->engine, dnnl_stream_default_flags) != dnnl_success) {
        kit->stream = NULL;
        snprintf(why, (size_t)why_size, "cannot create a oneDNN stream");
        kit_drop(kit);
        return NULL;
    }
    return kit;
}

void dnnl_standin_kit_release(dnnl_standin_kit *kit) {
    if (kit) kit_drop(kit);
}

static void standin_forward(void *impl, const float *src, float *dst) {
    dnnl_standin *d = impl;
    dnnl_layer_forward(d->layer, d->kit->stream, src, dst);
}

static void standin_backward_weights(void *impl, const float *src, const float *diff_dst) {
    dnnl_standin *d = impl;
    dnnl_layer_backward_weights(d->layer, d->kit->stream, src, diff_dst);
}

static void standin_backward_data(void *impl, const float *diff_dst, float *diff_src) {
    dnnl_standin *d = impl;
    dnnl_layer_backward_data(d->layer, d->kit->stream, diff_dst, diff_src);
}

static const char *standin_describe(const void *impl) {
    return ((const dnnl_standin *)impl)->describe;
}

static void standin_free(void *impl) {
    dnnl_standin *d = impl;
    dnnl_layer_free(d->layer);
    kit_drop(d->kit);
    free(d);
}

int dnnl_standin_create(dnnl_standin_kit *kit, const nn_spec *s, int i, int batch,
                        int backward_data, float *params, float *grads, nn_layer_standin *out,
                        char *why, int why_size) {
    dnnl_layer *layer =
        dnnl_layer_create(kit->engine, s, i, batch, backward_data, params, grads, why, why_size);
    if (!layer) return -1;
    dnnl_standin *d = alrs_calloc(1, sizeof *d);
    d->layer = layer;
    d->kit = kit;
    kit->holds++;
    snprintf(d->describe, sizeof d->describe, "oneDNN %s", dnnl_layer_impl(layer));
    *out = (nn_layer_standin){.impl = d,
                              .name = "dnnl",
                              .forward = standin_forward,
                              .backward_weights = standin_backward_weights,
                              .backward_data = standin_backward_data,
                              .describe = standin_describe,
                              .free = standin_free};
    return 0;
}
