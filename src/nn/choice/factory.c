/* nn_net_create (nn/net.h): the one place that turns a backend's name into a
 * net, and so the only file besides the auto backend that knows every
 * backend. */
#include <string.h>

#include "core/error.h"
#include "nn/choice/auto_net.h"
#include "nn/choice/backend_choice.h"
#include "nn/dnnl/dnnl_net.h"
#include "nn/native/native_net.h"

nn_net *nn_net_create(const nn_spec *spec, const char *backend, nn_net_config cfg, float *params,
                      float *grads, float *state) {
    if (!strcmp(backend, "dnnl")) return nn_net_create_dnnl(spec, cfg, params, grads, state);
    if (!strcmp(backend, "native")) return nn_net_create_native(spec, cfg, params, grads, state);
    if (!strcmp(backend, "auto")) return nn_net_create_auto(spec, cfg, params, grads, state);
    if (!strcmp(backend, "plan")) return nn_net_create_plan(spec, cfg, params, grads, state);
    alrs_fail("--backend %s: unknown backend (expected plan, native, dnnl or auto)", backend);
    return NULL;
}
