/* The oneDNN backend: compiles an nn_spec into primitives, created once and
 * executed every step.
 *
 * Two programs are built from one spec: a training program (forward_training,
 * then backward-data and backward-weights in reverse order) at the training
 * batch size, and an inference program (forward_inference, batchnorm on running
 * statistics) at the evaluation batch size. oneDNN chooses activation and
 * weight layouts (format "any"); the master weights stay plain (OIHW, O×I) in
 * the flat parameter buffer and are reordered into each primitive's layout
 * before it runs (inner products take the plain weights as they are when
 * oneDNN has a fast kernel for them); weight gradients are reordered back.
 * The first layer has no backward-data pass: nobody needs the gradient of
 * the images. Batchnorm and the ReLUs follow nn/layer_rules.h, as the native
 * backend does.
 *
 * A tensor read by two layers (a residual block's input) receives two
 * gradient contributions: the first written in backward order lands in the
 * tensor's gradient buffer, later ones in a scratch buffer that a binary add
 * then folds in.
 *
 * This file holds the net: what it owns, its programs, reorders and gradient
 * accumulation, program assembly and execution. The primitives of each kind of
 * layer, forward and backward, are built in nn/dnnl/dnnl_build.c. */
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "kernels/kernels.h"
#include "nn/dnnl/dnnl_net.h"
#include "nn/dnnl/dnnl_program.h"
#include "nn/layer_rules.h"

/* ---- ownership lists ---------------------------------------------------- */

#define GROW(arr, n, cap)                                                      \
    do {                                                                       \
        if ((n) == (cap)) {                                                    \
            (cap) = (cap) ? 2 * (cap) : 64;                                    \
            (arr) = realloc((arr), sizeof *(arr) * (size_t)(cap));             \
            if (!(arr)) alrs_panic("out of memory");                           \
        }                                                                      \
    } while (0)

static int dnnl_failed(dnnl_status_t st, const char *what, int layer) {
    if (st == dnnl_success) return 0;
    alrs_fail("oneDNN: %s failed for layer %d (status %d)", what, layer, (int)st);
    return 1;
}

dnnl_memory_t net_memory(dnnl_net *net, const dnnl_memory_desc_t *md, void *handle) {
    dnnl_memory_t m;
    if (dnnl_memory_create(&m, md, net->engine, handle ? handle : DNNL_MEMORY_ALLOCATE) !=
        dnnl_success)
        alrs_panic("oneDNN: cannot create a memory object");
    GROW(net->mems, net->n_mems, net->cap_mems);
    net->mems[net->n_mems++] = m;
    return m;
}

static dnnl_primitive_t new_primitive(dnnl_net *net, dnnl_primitive_desc_t pd) {
    dnnl_primitive_t p;
    if (dnnl_primitive_create(&p, pd) != dnnl_success) alrs_panic("oneDNN: cannot create a primitive");
    GROW(net->prims, net->n_prims, net->cap_prims);
    net->prims[net->n_prims++] = p;
    return p;
}

static void keep_pd(dnnl_net *net, dnnl_primitive_desc_t pd) {
    GROW(net->pds, net->n_pds, net->cap_pds);
    net->pds[net->n_pds++] = pd;
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    size_t used = strlen(net->impl);
    if (impl && used + strlen(impl) + 2 < sizeof net->impl)
        snprintf(net->impl + used, sizeof net->impl - used, "%s\n", impl);
}

dnnl_primitive_desc_t net_pd(dnnl_net *net, const void *op_desc, const_dnnl_primitive_attr_t attr,
                             const_dnnl_primitive_desc_t hint, const char *what, int layer) {
    dnnl_primitive_desc_t pd;
    if (dnnl_failed(dnnl_primitive_desc_create(&pd, op_desc, attr, net->engine, hint), what, layer))
        return NULL;
    keep_pd(net, pd);
    return pd;
}

dnnl_primitive_desc_t net_fast_pd(dnnl_net *net, const void *op_desc,
                                  const_dnnl_primitive_attr_t attr,
                                  const_dnnl_primitive_desc_t hint) {
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, op_desc, attr, net->engine, hint) != dnnl_success)
        return NULL;
    if (is_reference_impl(pd)) {
        dnnl_primitive_desc_destroy(pd);
        return NULL;
    }
    keep_pd(net, pd);
    return pd;
}

/* ---- steps --------------------------------------------------------------- */

static step *step_push(steps *p) {
    GROW(p->ops, p->n, p->cap);
    step *op = &p->ops[p->n++];
    memset(op, 0, sizeof *op);
    op->layer = -1;
    return op;
}

void step_prim(dnnl_net *net, steps *p, dnnl_primitive_desc_t pd, int nargs,
               const dnnl_exec_arg_t *args) {
    step *op = step_push(p);
    op->prim = new_primitive(net, pd);
    op->nargs = nargs;
    memcpy(op->args, args, sizeof *args * (size_t)nargs);
}

void step_host(steps *p, host_fn fn, int layer) {
    step *op = step_push(p);
    op->fn = fn;
    op->layer = layer;
}

static void steps_run(dnnl_net *net, const steps *p) {
    for (int i = 0; i < p->n; i++) {
        const step *op = &p->ops[i];
        if (op->fn) {
            dnnl_stream_wait(net->stream);
            op->fn(net, op->layer);
            continue;
        }
        dnnl_status_t st = dnnl_primitive_execute(op->prim, net->stream, op->nargs, op->args);
        if (st != dnnl_success) {
            alrs_panic("oneDNN: a primitive failed to execute (program step %d, %s)", i,
                       dnnl_status2str(st));
        }
    }
    dnnl_stream_wait(net->stream);
}

int step_reorder(dnnl_net *net, steps *p, dnnl_memory_t from, dnnl_memory_t to, int layer) {
    const dnnl_memory_desc_t *src_md, *dst_md;
    dnnl_memory_get_memory_desc(from, &src_md);
    dnnl_memory_get_memory_desc(to, &dst_md);
    dnnl_primitive_desc_t pd;
    if (dnnl_failed(dnnl_reorder_primitive_desc_create(&pd, src_md, net->engine, dst_md,
                                                       net->engine, NULL),
                    "reorder", layer))
        return -1;
    keep_pd(net, pd);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    step_prim(net, p, pd, 2, args);
    return 0;
}

dnnl_memory_t step_in_layout(dnnl_net *net, steps *p, dnnl_memory_t user,
                             const dnnl_memory_desc_t *want, int reorder_in, int layer, int *err) {
    if (mem_has_md(user, want)) return user;
    dnnl_memory_t m = net_memory(net, want, NULL);
    if (reorder_in && step_reorder(net, p, user, m, layer) != 0) *err = 1;
    return m;
}

const dnnl_memory_desc_t *prog_tensor_md(const program *pg, int idx) {
    static _Thread_local dnnl_memory_desc_t dummy;
    if (idx >= 0) return &pg->ls[idx].md;
    const dnnl_memory_desc_t *md;
    dnnl_memory_get_memory_desc(pg->input, &md);
    dummy = *md;
    return &dummy;
}

dnnl_memory_t prog_tensor_mem(const program *pg, int idx) {
    return idx < 0 ? pg->input : pg->ls[idx].dst;
}

/* ---- gradient contributions ----------------------------------------------- */

dnnl_memory_t prog_diff_target(program *pg, int t, int *accumulate) {
    layer_state *ts = &pg->ls[t];
    *accumulate = ts->contributions++ > 0;
    return *accumulate ? ts->diff_scratch : ts->diff;
}

int prog_finish_contribution(dnnl_net *net, program *pg, int t, int accumulate) {
    if (!accumulate) return 0;
    layer_state *ts = &pg->ls[t];
    dnnl_binary_desc_t d;
    dnnl_binary_desc_init(&d, dnnl_binary_add, &ts->md, &ts->md, &ts->md);
    dnnl_primitive_desc_t pd = net_pd(net, &d, NULL, NULL, "gradient accumulation", t);
    if (!pd) return -1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, ts->diff}, {DNNL_ARG_SRC_1, ts->diff_scratch},
                               {DNNL_ARG_DST, ts->diff}};
    step_prim(net, &pg->backward, pd, 3, args);
    return 0;
}

/* ---- program assembly -------------------------------------------------- */

/* Every layer's output gradient, in the layout of its output, and a scratch
 * buffer for tensors that receive more than one contribution. */
static void make_gradient_buffers(dnnl_net *net, program *pg) {
    for (int i = 0; i < net->spec->n_layers; i++) {
        layer_state *ls = &pg->ls[i];
        ls->diff = net_memory(net, &ls->md, NULL);
        if (nn_tensor_reads(net->spec, i) > 1) ls->diff_scratch = net_memory(net, &ls->md, NULL);
    }
}

static int build_program(dnnl_net *net, program *pg, int batch, int training) {
    const nn_spec *s = net->spec;
    pg->batch = batch;
    pg->training = training;
    pg->ls = alrs_calloc((size_t)s->n_layers, sizeof *pg->ls);
    dnnl_memory_desc_t in_md = build_images_md(s, batch);
    pg->input = net_memory(net, &in_md, net->eval_images); /* handle replaced per call */
    for (int i = 0; i < s->n_layers; i++)
        if (build_layer_forward(net, pg, i) != 0) return -1;
    if (!training) return 0;
    make_gradient_buffers(net, pg);
    for (int i = s->n_layers - 1; i >= 0; i--)
        if (build_layer_backward(net, pg, i) != 0) return -1;
    return 0;
}

/* ---- the nn_net interface ------------------------------------------------- */

static void dnnl_free(nn_net *opaque);
static double dnnl_train_step(nn_net *opaque, const float *images, const uint8_t *labels);
static void dnnl_evaluate(nn_net *opaque, const float *images, const uint8_t *labels, int n,
                          double *loss_sum, long *hits_io, float *probs);
static void dnnl_describe(const nn_net *opaque, char *buf, int size);
static const nn_net_ops dnnl_ops = {dnnl_train_step, dnnl_evaluate, dnnl_free, dnnl_describe,
                                    NULL};

nn_net *nn_net_create_dnnl(const nn_spec *spec, nn_net_config cfg, float *params, float *grads,
                           float *state) {
    if (nn_net_check(spec, cfg) != 0) return NULL;
    dnnl_net *net = alrs_calloc(1, sizeof *net);
    net->base.ops = &dnnl_ops;
    net->spec_copy = *spec;
    net->spec = &net->spec_copy;
    net->cfg = cfg;
    net->params = params, net->grads = grads, net->state = state;
    size_t image = nn_tensor_floats(spec, -1);
    net->eval_images = alrs_alloc_aligned(sizeof(float) * image * (size_t)cfg.eval_batch);
    if (dnnl_engine_create(&net->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&net->stream, net->engine, dnnl_stream_default_flags) != dnnl_success) {
        alrs_fail("oneDNN: cannot create a CPU engine and stream");
        dnnl_free(&net->base);
        return NULL;
    }
    if (build_program(net, &net->train, cfg.train_batch, 1) != 0 ||
        build_program(net, &net->eval, cfg.eval_batch, 0) != 0) {
        dnnl_free(&net->base);
        return NULL;
    }
    return &net->base;
}

static void free_program(program *pg) {
    free(pg->ls);
    free(pg->forward.ops);
    free(pg->backward.ops);
}

static void dnnl_free(nn_net *opaque) {
    dnnl_net *net = (dnnl_net *)opaque;
    if (!net) return;
    for (int i = 0; i < net->n_prims; i++) dnnl_primitive_destroy(net->prims[i]);
    for (int i = 0; i < net->n_mems; i++) dnnl_memory_destroy(net->mems[i]);
    for (int i = 0; i < net->n_pds; i++) dnnl_primitive_desc_destroy(net->pds[i]);
    free(net->prims);
    free(net->mems);
    free(net->pds);
    free_program(&net->train);
    free_program(&net->eval);
    if (net->stream) dnnl_stream_destroy(net->stream);
    if (net->engine) dnnl_engine_destroy(net->engine);
    alrs_free_aligned(net->eval_images);
    free(net);
}

/* ---- execution ------------------------------------------------------------ */

static float *logits_of(const program *pg, int n_layers, int diff) {
    void *p;
    const layer_state *ls = &pg->ls[n_layers - 1];
    dnnl_memory_get_data_handle(diff ? ls->diff : ls->dst, &p);
    return p;
}

static double dnnl_train_step(nn_net *opaque, const float *images, const uint8_t *labels) {
    dnnl_net *net = (dnnl_net *)opaque;
    program *pg = &net->train;
    int n = pg->batch, layers = net->spec->n_layers;
    dnnl_memory_set_data_handle(pg->input, (void *)images);
    steps_run(net, &pg->forward);
    double loss = kernels()->softmax_xent(logits_of(pg, layers, 0), labels, n, net->spec->classes, (float)n,
                               logits_of(pg, layers, 1), NULL, NULL);
    steps_run(net, &pg->backward);
    return loss / n;
}

static void dnnl_evaluate(nn_net *opaque, const float *images, const uint8_t *labels, int n,
                     double *loss_sum, long *hits_io, float *probs) {
    dnnl_net *net = (dnnl_net *)opaque;
    program *pg = &net->eval;
    const nn_spec *s = net->spec;
    size_t image = nn_tensor_floats(s, -1);
    double loss = *loss_sum;
    long hits = *hits_io;
    for (int start = 0; start < n; start += pg->batch) {
        int count = n - start < pg->batch ? n - start : pg->batch;
        const float *chunk = images + (size_t)start * image;
        if (count < pg->batch) {
            /* a short last chunk runs padded: inference treats images independently */
            memcpy(net->eval_images, chunk, sizeof(float) * image * (size_t)count);
            chunk = net->eval_images;
        }
        dnnl_memory_set_data_handle(pg->input, (void *)chunk);
        steps_run(net, &pg->forward);
        int correct;
        loss += kernels()->softmax_xent(logits_of(pg, s->n_layers, 0), labels + start, count, s->classes, 1.0f,
                             NULL, probs ? probs + (size_t)start * s->classes : NULL, &correct);
        hits += correct;
    }
    *loss_sum = loss;
    *hits_io = hits;
}

static void dnnl_describe(const nn_net *opaque, char *buf, int size) {
    const dnnl_net *net = (const dnnl_net *)opaque;
    snprintf(buf, (size_t)size, "%s", net->impl);
}
