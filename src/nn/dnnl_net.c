/* The oneDNN backend: compiles an nn_spec into primitives, created once and
 * executed every step.
 *
 * Two plans are built from the same spec: a training plan (forward_training,
 * then backward-data and backward-weights in reverse order) at the training
 * batch size, and an inference plan (forward_inference, batchnorm on running
 * statistics) at the evaluation batch size. oneDNN chooses activation and
 * weight layouts (format "any"); the master weights stay plain (OIHW, O×I) in
 * the flat parameter buffer and are reordered into each primitive's layout
 * before it runs (inner products take the plain weights as they are when
 * oneDNN has a fast kernel for them); weight gradients are reordered back.
 * The first layer has no backward-data pass: nobody needs the gradient of
 * the images. Batchnorm and the ReLUs follow nn/plan_rules.h, as the native
 * backend does.
 *
 * A tensor read by two layers (a residual block's input) receives two
 * gradient contributions: the first written in backward order lands in the
 * tensor's gradient buffer, later ones in a scratch buffer that a binary add
 * then folds in. */
#include <math.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "kernels/kernels.h"
#include "nn/dnnl_layer.h"
#include "nn/net_impl.h"
#include "nn/plan_rules.h"

#define MAX_ARGS 12

struct dnnl_net;
typedef void (*host_fn)(struct dnnl_net *net, int layer);

/* One step of a plan: a primitive with its arguments, or a host function. */
typedef struct {
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[MAX_ARGS];
    host_fn fn;
    int layer;
} plan_op;

typedef struct {
    plan_op *ops;
    int n, cap;
} plan;

/* Per layer, per plan: the layer's output and everything its primitives need. */
typedef struct {
    dnnl_memory_desc_t md; /* activation layout chosen by oneDNN */
    dnnl_memory_t dst, diff, diff_scratch;
    dnnl_memory_t workspace, mean, var;
    dnnl_memory_t w_user, b_user, gw_user, gb_user; /* views into the flat buffers */
    dnnl_memory_t w_fwd, w_bwd, gw_prim;            /* in the primitives' layouts */
    dnnl_memory_t src_reordered;                    /* first layer: images in its layout */
    dnnl_primitive_desc_t fwd_pd;
    dnnl_format_tag_t src_tag; /* convolution: the source layout its primitives were chosen for */
    int contributions; /* gradient contributions planned so far (backward order) */
} layer_state;

typedef struct {
    int batch, training;
    dnnl_memory_t input; /* plain NCHW images, handle set per call */
    layer_state *ls;
    plan forward, backward;
} net_plan;

typedef struct dnnl_net {
    nn_net base; /* first: the nn_net interface */
    const nn_spec *spec;
    nn_spec spec_copy;
    nn_net_config cfg;
    float *params, *grads, *state;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    net_plan train, eval;
    float *eval_images; /* padding for a last partial chunk */
    float *logit_grad;
    /* everything created, freed together */
    dnnl_memory_t *mems;
    int n_mems, cap_mems;
    dnnl_primitive_t *prims;
    int n_prims, cap_prims;
    dnnl_primitive_desc_t *pds;
    int n_pds, cap_pds;
    char impl[8192];
} dnnl_net;

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

static dnnl_memory_t new_memory(dnnl_net *net, const dnnl_memory_desc_t *md, void *handle) {
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

static dnnl_primitive_desc_t make_pd(dnnl_net *net, const void *op_desc,
                                     const_dnnl_primitive_attr_t attr,
                                     const_dnnl_primitive_desc_t hint, const char *what, int layer) {
    dnnl_primitive_desc_t pd;
    if (dnnl_failed(dnnl_primitive_desc_create(&pd, op_desc, attr, net->engine, hint), what, layer))
        return NULL;
    keep_pd(net, pd);
    return pd;
}

static const dnnl_memory_desc_t *pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* ---- plans -------------------------------------------------------------- */

static plan_op *plan_push(plan *p) {
    GROW(p->ops, p->n, p->cap);
    plan_op *op = &p->ops[p->n++];
    memset(op, 0, sizeof *op);
    op->layer = -1;
    return op;
}

static void plan_prim(dnnl_net *net, plan *p, dnnl_primitive_desc_t pd, int nargs,
                      const dnnl_exec_arg_t *args) {
    plan_op *op = plan_push(p);
    op->prim = new_primitive(net, pd);
    op->nargs = nargs;
    memcpy(op->args, args, sizeof *args * (size_t)nargs);
}

static void plan_host(plan *p, host_fn fn, int layer) {
    plan_op *op = plan_push(p);
    op->fn = fn;
    op->layer = layer;
}

static void plan_run(dnnl_net *net, const plan *p) {
    for (int i = 0; i < p->n; i++) {
        const plan_op *op = &p->ops[i];
        if (op->fn) {
            dnnl_stream_wait(net->stream);
            op->fn(net, op->layer);
            continue;
        }
        dnnl_status_t st = dnnl_primitive_execute(op->prim, net->stream, op->nargs, op->args);
        if (st != dnnl_success) {
            alrs_panic("oneDNN: a primitive failed to execute (plan step %d, %s)", i,
                       dnnl_status2str(st));
        }
    }
    dnnl_stream_wait(net->stream);
}

/* A reorder from `from` to `to`, added to the plan. */
static int plan_reorder(dnnl_net *net, plan *p, dnnl_memory_t from, dnnl_memory_t to, int layer) {
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
    plan_prim(net, p, pd, 2, args);
    return 0;
}

/* `user` if the primitive wants the plain layout, else a new memory in the
 * wanted layout (and a reorder into it added to `p` when `reorder_in`). */
static dnnl_memory_t in_layout(dnnl_net *net, plan *p, dnnl_memory_t user,
                               const dnnl_memory_desc_t *want, int reorder_in, int layer, int *err) {
    const dnnl_memory_desc_t *have;
    dnnl_memory_get_memory_desc(user, &have);
    if (dnnl_memory_desc_equal(have, want)) return user;
    dnnl_memory_t m = new_memory(net, want, NULL);
    if (reorder_in && plan_reorder(net, p, user, m, layer) != 0) *err = 1;
    return m;
}

/* ---- memory descriptors --------------------------------------------------- */

static dnnl_memory_desc_t md_tag(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    if (dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag) != dnnl_success)
        alrs_panic("oneDNN: bad memory descriptor");
    return md;
}

static const dnnl_memory_desc_t *tensor_md(const net_plan *np, int idx) {
    static _Thread_local dnnl_memory_desc_t dummy;
    if (idx >= 0) return &np->ls[idx].md;
    const dnnl_memory_desc_t *md;
    dnnl_memory_get_memory_desc(np->input, &md);
    dummy = *md;
    return &dummy;
}

static dnnl_memory_t tensor_mem(const net_plan *np, int idx) {
    return idx < 0 ? np->input : np->ls[idx].dst;
}

/* 1 if tensor idx (a layer's output, not the images) is stored as plain nhwc. */
static int producer_is_nhwc(const net_plan *np, int idx) {
    if (idx < 0) return 0;
    const dnnl_memory_desc_t *have = &np->ls[idx].md;
    if (have->ndims != 4) return 0;
    dnnl_memory_desc_t nhwc;
    if (dnnl_memory_desc_init_by_tag(&nhwc, 4, have->dims, dnnl_f32, dnnl_nhwc) != dnnl_success)
        return 0;
    return dnnl_memory_desc_equal(have, &nhwc);
}

/* 1 if only fully connected layers read the images: the images are then
 * given to oneDNN as a plain N×(C·H·W) matrix (the same bytes as NCHW), so
 * that the first layer is a plain GEMM whose weights need no reordering. */
static int images_as_matrix(const nn_spec *s) {
    int readers = 0;
    for (int i = 0; i < s->n_layers; i++) {
        const nn_layer *l = &s->layers[i];
        if (l->src2 < 0 && l->op == NN_ADD) return 0;
        if (l->src < 0) {
            if (l->op != NN_FC) return 0;
            readers++;
        }
    }
    return readers > 0;
}

static dnnl_memory_desc_t weights_md(const nn_spec *s, const nn_layer *l, dnnl_format_tag_t tag) {
    int c, h, w;
    nn_tensor_shape(s, l->src, &c, &h, &w);
    if (l->op == NN_FC && ((l->src >= 0 && s->layers[l->src].op == NN_FC) ||
                           (l->src < 0 && images_as_matrix(s)))) {
        dnnl_dims_t d = {l->out_c, c * h * w}; /* a 2-D source (N×C) takes 2-D weights */
        return md_tag(2, d, tag == dnnl_format_tag_any ? tag : dnnl_oi);
    }
    if (l->op == NN_FC) {
        dnnl_dims_t d = {l->out_c, c, h, w};
        return md_tag(4, d, tag == dnnl_format_tag_any ? tag : dnnl_oihw);
    }
    dnnl_dims_t d = {l->out_c, c, l->kernel, l->kernel};
    return md_tag(4, d, tag == dnnl_format_tag_any ? tag : dnnl_oihw);
}

static dnnl_memory_desc_t vector_md(int n) {
    dnnl_dims_t d = {n};
    return md_tag(1, d, dnnl_x);
}

static dnnl_memory_desc_t any_md(int n, int c, int h, int w, int fc) {
    if (fc) {
        dnnl_dims_t d = {n, c};
        return md_tag(2, d, dnnl_format_tag_any);
    }
    dnnl_dims_t d = {n, c, h, w};
    return md_tag(4, d, dnnl_format_tag_any);
}


static int is_reference_impl(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    return !impl || !strncmp(impl, "ref", 3);
}

/* A primitive descriptor when oneDNN has an optimized (non-reference)
 * kernel for `op_desc`, else NULL (quietly: the caller has a fallback). */
static dnnl_primitive_desc_t fast_pd_or_null(dnnl_net *net, const void *op_desc,
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

/* 1 if oneDNN has optimized (non-reference) forward, backward-weights and,
 * unless the layer reads the images, backward-data kernels for this
 * convolution with these source and destination layouts. */
static int conv_layouts_fast(dnnl_net *net, const nn_layer *l, int batch, int training,
                             dnnl_format_tag_t src_tag, dnnl_format_tag_t dst_tag) {
    int c, h, w;
    nn_tensor_shape(net->spec, l->src, &c, &h, &w);
    dnnl_dims_t sd = {batch, c, h, w}, dd = {batch, l->out_c, l->h, l->w};
    dnnl_memory_desc_t src = md_tag(4, sd, src_tag), dst = md_tag(4, dd, dst_tag);
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_format_tag_any), bmd = vector_md(l->out_c);
    dnnl_dims_t strides = {l->stride, l->stride}, pad = {l->pad, l->pad};
    const dnnl_memory_desc_t *bias = l->has_bias ? &bmd : NULL;
    dnnl_convolution_desc_t fd, wd, dd_;
    dnnl_primitive_desc_t fpd = NULL, wpd = NULL, dpd = NULL;
    dnnl_convolution_forward_desc_init(&fd, training ? dnnl_forward_training : dnnl_forward_inference,
                                       dnnl_convolution_direct, &src, &wmd, bias, &dst, strides, pad,
                                       pad);
    dnnl_primitive_attr_t attr = dnnl_attr_relu(l->relu);
    int fast = dnnl_primitive_desc_create(&fpd, &fd, attr, net->engine, NULL) == dnnl_success &&
               !is_reference_impl(fpd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (fast && training) {
        dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &src, &wmd, bias,
                                                    &dst, strides, pad, pad);
        fast = dnnl_primitive_desc_create(&wpd, &wd, NULL, net->engine, fpd) == dnnl_success &&
               !is_reference_impl(wpd);
    }
    if (fast && training && l->src >= 0) {
        dnnl_convolution_backward_data_desc_init(&dd_, dnnl_convolution_direct, &src, &wmd, &dst,
                                                 strides, pad, pad);
        fast = dnnl_primitive_desc_create(&dpd, &dd_, NULL, net->engine, fpd) == dnnl_success &&
               !is_reference_impl(dpd);
    }
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (wpd) dnnl_primitive_desc_destroy(wpd);
    if (dpd) dnnl_primitive_desc_destroy(dpd);
    return fast;
}

/* The output layout of a convolution: channel-blocked (nChw16c) suits most
 * layers; layers with few input channels often have optimized backward
 * kernels only for nhwc or plain layouts. Reorders bridge any mismatch with
 * the neighbouring layers. */
static void conv_layouts(dnnl_net *net, const nn_layer *l, int batch, int training,
                         int src_is_nhwc, dnnl_format_tag_t *src_tag, dnnl_format_tag_t *dst_tag) {
    static const dnnl_format_tag_t pairs[][2] = {{dnnl_format_tag_any, dnnl_nChw16c},
                                                 {dnnl_nhwc, dnnl_nhwc},
                                                 {dnnl_nchw, dnnl_nchw}};
    /* a producer already in nhwc: staying in nhwc saves a reorder each way
     * (and the nhwc kernels are as fast as the blocked ones for such layers) */
    static const int order_default[] = {0, 1, 2}, order_nhwc[] = {1, 0, 2};
    const int *order = src_is_nhwc ? order_nhwc : order_default;
    for (size_t o = 0; o < sizeof pairs / sizeof pairs[0]; o++)
        if (conv_layouts_fast(net, l, batch, training, pairs[order[o]][0], pairs[order[o]][1])) {
            size_t k = (size_t)order[o];
            *src_tag = pairs[k][0], *dst_tag = pairs[k][1];
            return;
        }
    *src_tag = *dst_tag = dnnl_format_tag_any;
}

/* ---- forward construction, one function per layer kind -------------------- */

static void bind_user_weights(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_oihw);
    ls->w_user = new_memory(net, &wmd, net->params + l->w_off);
    ls->gw_user = new_memory(net, &wmd, net->grads + l->w_off);
    if (l->b_len) {
        dnnl_memory_desc_t bmd = vector_md((int)l->b_len);
        ls->b_user = new_memory(net, &bmd, net->params + l->b_off);
        ls->gb_user = new_memory(net, &bmd, net->grads + l->b_off);
    }
}

/* The source memory for a weighted layer: the producing tensor, or a copy of
 * it in the layout the primitive chose when that differs (the images for the
 * first layer; a convolution may prefer another layout than its producer). */
static dnnl_memory_t weighted_src(dnnl_net *net, net_plan *np, int i, int *err) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    dnnl_memory_t producer = tensor_mem(np, l->src);
    ls->src_reordered = in_layout(net, &np->forward, producer, pd_md(ls->fwd_pd, dnnl_query_src_md),
                                  1, i, err);
    return ls->src_reordered;
}

static int build_weighted_fwd(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    int c, h, w, err = 0;
    nn_tensor_shape(net->spec, l->src, &c, &h, &w);
    /* a convolution picks its layouts; an inner product reads its producer's */
    dnnl_format_tag_t src_tag = dnnl_format_tag_any, dst_tag = dnnl_format_tag_any;
    if (l->op == NN_CONV)
        conv_layouts(net, l, np->batch, np->training, producer_is_nhwc(np, l->src), &src_tag,
                     &dst_tag);
    ls->src_tag = src_tag;
    dnnl_dims_t sdims = {np->batch, c, h, w};
    int fc_plain_src = l->op == NN_FC && (l->src >= 0 || images_as_matrix(net->spec));
    dnnl_memory_desc_t src_md = fc_plain_src ? *tensor_md(np, l->src)
                                                              : md_tag(4, sdims, src_tag);
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_format_tag_any);
    dnnl_memory_desc_t bmd = vector_md(l->out_c);
    int last = i == net->spec->n_layers - 1;
    dnnl_memory_desc_t dmd;
    if (l->op == NN_FC) {
        dnnl_dims_t d = {np->batch, l->out_c};
        dmd = md_tag(2, d, last ? dnnl_nc : dnnl_format_tag_any);
    } else {
        dnnl_dims_t d = {np->batch, l->out_c, l->h, l->w};
        dmd = md_tag(4, d, dst_tag);
    }
    dnnl_prop_kind_t prop = np->training ? dnnl_forward_training : dnnl_forward_inference;
    dnnl_primitive_attr_t attr = dnnl_attr_relu(l->relu);
    if (l->op == NN_CONV) {
        dnnl_convolution_desc_t d;
        dnnl_dims_t strides = {l->stride, l->stride}, pad = {l->pad, l->pad};
        dnnl_convolution_forward_desc_init(&d, prop, dnnl_convolution_direct, &src_md, &wmd,
                                           l->has_bias ? &bmd : NULL, &dmd, strides, pad, pad);
        ls->fwd_pd = make_pd(net, &d, attr, NULL, "convolution forward", i);
    } else {
        /* Plain weights first: the GEMM kernels read the master copy as it
         * is, which saves a weight reorder per step each way (the blocked
         * brgemm kernels are no faster at these sizes). */
        dnnl_inner_product_desc_t d;
        dnnl_memory_desc_t wplain = weights_md(net->spec, l, dnnl_oihw);
        dnnl_inner_product_forward_desc_init(&d, prop, &src_md, &wplain, &bmd, &dmd);
        ls->fwd_pd = fast_pd_or_null(net, &d, attr, NULL);
        if (!ls->fwd_pd) {
            dnnl_inner_product_forward_desc_init(&d, prop, &src_md, &wmd, &bmd, &dmd);
            ls->fwd_pd = make_pd(net, &d, attr, NULL, "inner product forward", i);
        }
    }
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!ls->fwd_pd) return -1;
    ls->md = *pd_md(ls->fwd_pd, dnnl_query_dst_md);
    ls->dst = new_memory(net, &ls->md, NULL);
    bind_user_weights(net, np, i);
    ls->w_fwd = in_layout(net, &np->forward, ls->w_user, pd_md(ls->fwd_pd, dnnl_query_weights_md),
                          1, i, &err);
    dnnl_memory_t src = weighted_src(net, np, i, &err);
    if (err) return -1;
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, ls->w_fwd},
                               {DNNL_ARG_DST, ls->dst}, {DNNL_ARG_BIAS, ls->b_user}};
    plan_prim(net, &np->forward, ls->fwd_pd, l->has_bias ? 4 : 3, args);
    return 0;
}

static int build_pool_fwd(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    dnnl_memory_desc_t src_md = *tensor_md(np, l->src);
    dnnl_memory_desc_t dmd = any_md(np->batch, l->c, l->h, l->w, 0);
    int global = l->op == NN_AVGPOOL_GLOBAL;
    dnnl_dims_t strides = {global ? 1 : l->stride, global ? 1 : l->stride};
    dnnl_dims_t kernel = {l->kernel, l->kernel}, pad = {0, 0};
    dnnl_pooling_desc_t d;
    dnnl_pooling_forward_desc_init(&d, np->training ? dnnl_forward_training : dnnl_forward_inference,
                                   global ? dnnl_pooling_avg_exclude_padding : dnnl_pooling_max,
                                   &src_md, &dmd, strides, kernel, pad, pad);
    if (!(ls->fwd_pd = make_pd(net, &d, NULL, NULL, "pooling forward", i))) return -1;
    ls->md = *pd_md(ls->fwd_pd, dnnl_query_dst_md);
    ls->dst = new_memory(net, &ls->md, NULL);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, tensor_mem(np, l->src)}, {DNNL_ARG_DST, ls->dst}};
    int nargs = 2;
    const dnnl_memory_desc_t *ws = pd_md(ls->fwd_pd, dnnl_query_workspace_md);
    if (np->training && ws && ws->ndims > 0) {
        ls->workspace = new_memory(net, ws, NULL);
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, ls->workspace};
    }
    plan_prim(net, &np->forward, ls->fwd_pd, nargs, args);
    return 0;
}

static void update_running_stats(dnnl_net *net, int i);

static unsigned bn_flags(const nn_layer *l, int training) {
    unsigned flags = dnnl_use_scale | dnnl_use_shift;
    if (l->relu) flags |= dnnl_fuse_norm_relu;
    if (!training) flags |= dnnl_use_global_stats;
    return flags;
}

static int build_bn_fwd(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    ls->md = *tensor_md(np, l->src);
    dnnl_batch_normalization_desc_t d;
    dnnl_batch_normalization_forward_desc_init(
        &d, np->training ? dnnl_forward_training : dnnl_forward_inference, &ls->md, NN_BN_EPSILON,
        bn_flags(l, np->training));
    if (!(ls->fwd_pd = make_pd(net, &d, NULL, NULL, "batchnorm forward", i))) return -1;
    ls->dst = new_memory(net, &ls->md, NULL);
    dnnl_memory_desc_t cmd = vector_md(l->c);
    ls->w_user = new_memory(net, &cmd, net->params + l->w_off);
    ls->b_user = new_memory(net, &cmd, net->params + l->b_off);
    ls->gw_user = new_memory(net, &cmd, net->grads + l->w_off);
    ls->gb_user = new_memory(net, &cmd, net->grads + l->b_off);
    if (np->training) {
        ls->mean = new_memory(net, &cmd, NULL);
        ls->var = new_memory(net, &cmd, NULL);
    } else {
        ls->mean = new_memory(net, &cmd, net->state + l->stat_off);
        ls->var = new_memory(net, &cmd, net->state + l->stat_off + l->c);
    }
    dnnl_exec_arg_t args[7] = {{DNNL_ARG_SRC, tensor_mem(np, l->src)}, {DNNL_ARG_DST, ls->dst},
                               {DNNL_ARG_SCALE, ls->w_user},          {DNNL_ARG_SHIFT, ls->b_user},
                               {DNNL_ARG_MEAN, ls->mean},             {DNNL_ARG_VARIANCE, ls->var}};
    int nargs = 6;
    if (np->training && l->relu) {
        ls->workspace = new_memory(net, pd_md(ls->fwd_pd, dnnl_query_workspace_md), NULL);
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, ls->workspace};
    }
    plan_prim(net, &np->forward, ls->fwd_pd, nargs, args);
    if (np->training) plan_host(&np->forward, update_running_stats, i);
    return 0;
}

static int build_add_fwd(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    ls->md = *tensor_md(np, l->src);
    dnnl_memory_desc_t src2_md = *tensor_md(np, l->src2);
    dnnl_binary_desc_t d;
    dnnl_binary_desc_init(&d, dnnl_binary_add, &ls->md, &src2_md, &ls->md);
    dnnl_primitive_attr_t attr = dnnl_attr_relu(l->relu);
    ls->fwd_pd = make_pd(net, &d, attr, NULL, "residual add", i);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!ls->fwd_pd) return -1;
    ls->dst = new_memory(net, &ls->md, NULL);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, tensor_mem(np, l->src)},
                               {DNNL_ARG_SRC_1, tensor_mem(np, l->src2)},
                               {DNNL_ARG_DST, ls->dst}};
    plan_prim(net, &np->forward, ls->fwd_pd, 3, args);
    return 0;
}

/* A host step after each training-mode batchnorm forward (nn/plan_rules.h). */
static void update_running_stats(dnnl_net *net, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &net->train.ls[i];
    float *mean, *var;
    dnnl_memory_get_data_handle(ls->mean, (void **)&mean);
    dnnl_memory_get_data_handle(ls->var, (void **)&var);
    nn_bn_update_running_stats(l, net->train.batch, mean, var, net->state);
}

/* ---- backward construction ---------------------------------------------- */

/* Where layer i's gradient contribution to tensor t goes: the tensor's own
 * gradient buffer for the first contribution, else its scratch buffer. */
static dnnl_memory_t diff_target(net_plan *np, int t, int *accumulate) {
    layer_state *ts = &np->ls[t];
    *accumulate = ts->contributions++ > 0;
    return *accumulate ? ts->diff_scratch : ts->diff;
}

/* After a contribution went to the scratch buffer: diff[t] += scratch[t]. */
static int finish_contribution(dnnl_net *net, net_plan *np, int t, int accumulate) {
    if (!accumulate) return 0;
    layer_state *ts = &np->ls[t];
    dnnl_binary_desc_t d;
    dnnl_binary_desc_init(&d, dnnl_binary_add, &ts->md, &ts->md, &ts->md);
    dnnl_primitive_desc_t pd = make_pd(net, &d, NULL, NULL, "gradient accumulation", t);
    if (!pd) return -1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, ts->diff}, {DNNL_ARG_SRC_1, ts->diff_scratch},
                               {DNNL_ARG_DST, ts->diff}};
    plan_prim(net, &np->backward, pd, 3, args);
    return 0;
}

/* ReLU fused into a forward primitive: its backward runs in place on the
 * output gradient, using the (post-ReLU) output: layer i's own, or a
 * max-pool's for a ReLU applied after the pool (nn/plan_rules.h). */
static int build_relu_bwd(dnnl_net *net, net_plan *np, int i) {
    layer_state *ls = &np->ls[i];
    dnnl_eltwise_desc_t d;
    dnnl_eltwise_backward_desc_init(&d, dnnl_eltwise_relu_use_dst_for_bwd, &ls->md, &ls->md, 0, 0);
    dnnl_eltwise_desc_t fd;
    dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd,
                                   &ls->md, 0, 0);
    dnnl_primitive_desc_t hint = make_pd(net, &fd, NULL, NULL, "relu forward hint", i);
    if (!hint) return -1;
    dnnl_primitive_desc_t pd = make_pd(net, &d, NULL, hint, "relu backward", i);
    if (!pd) return -1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_DST, ls->dst}, {DNNL_ARG_DIFF_DST, ls->diff},
                               {DNNL_ARG_DIFF_SRC, ls->diff}};
    plan_prim(net, &np->backward, pd, 3, args);
    return 0;
}

static int mem_has_md(dnnl_memory_t m, const dnnl_memory_desc_t *md) {
    const dnnl_memory_desc_t *have;
    dnnl_memory_get_memory_desc(m, &have);
    return dnnl_memory_desc_equal(have, md);
}

/* Backward-data of a convolution with few input channels (at most 8, not a
 * multiple of 16): oneDNN's AVX-512 kernels vectorize over input channels
 * and pad them to 16, its 8-blocked (AVX2) kernels waste less (LeNet's
 * conv2, 6 input channels: 1.13 against 1.40 ms at batch 128). NULL when
 * that does not apply or only a reference kernel exists; the caller then
 * takes the layouts the forward pass chose. Reorders bridge the layouts. */
static dnnl_primitive_desc_t conv_bwd_data_8c(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    int c, h, w;
    nn_tensor_shape(net->spec, l->src, &c, &h, &w);
    if (c > 8 || c % 16 == 0) return NULL;
    dnnl_dims_t sd = {np->batch, c, h, w}, dd = {np->batch, l->out_c, l->h, l->w};
    dnnl_memory_desc_t src = md_tag(4, sd, dnnl_nChw8c), dst = md_tag(4, dd, dnnl_nChw8c);
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_format_tag_any);
    dnnl_dims_t strides = {l->stride, l->stride}, pad = {l->pad, l->pad};
    dnnl_convolution_desc_t d;
    if (dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &src, &wmd, &dst,
                                                 strides, pad, pad) != dnnl_success)
        return NULL;
    return fast_pd_or_null(net, &d, NULL, np->ls[i].fwd_pd);
}

/* Backward primitives choose their own source layouts ("any"): the layer's
 * forward source is reused when the layouts agree, else reordered. */
static int build_weighted_bwd(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    int err = 0, c, h, w;
    nn_tensor_shape(net->spec, l->src, &c, &h, &w);
    dnnl_dims_t sdims = {np->batch, c, h, w};
    dnnl_memory_desc_t src_any = l->op == NN_FC ? *pd_md(ls->fwd_pd, dnnl_query_src_md)
                                                : md_tag(4, sdims, ls->src_tag);
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_format_tag_any);
    dnnl_memory_desc_t wplain = weights_md(net->spec, l, dnnl_oihw); /* inner product: tried first */
    dnnl_memory_desc_t bmd = vector_md(l->out_c);
    dnnl_dims_t strides = {l->stride, l->stride}, pad = {l->pad, l->pad};

    /* backward-weights */
    dnnl_primitive_desc_t wpd;
    if (l->op == NN_CONV) {
        dnnl_convolution_desc_t d;
        dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &src_any, &wmd,
                                                    l->has_bias ? &bmd : NULL, &ls->md, strides,
                                                    pad, pad);
        wpd = make_pd(net, &d, NULL, ls->fwd_pd, "convolution backward-weights", i);
    } else {
        dnnl_inner_product_desc_t d;
        dnnl_inner_product_backward_weights_desc_init(&d, &src_any, &wplain, &bmd, &ls->md);
        wpd = fast_pd_or_null(net, &d, NULL, ls->fwd_pd);
        if (!wpd) {
            dnnl_inner_product_backward_weights_desc_init(&d, &src_any, &wmd, &bmd, &ls->md);
            wpd = make_pd(net, &d, NULL, ls->fwd_pd, "inner product backward-weights", i);
        }
    }
    if (!wpd) return -1;
    const dnnl_memory_desc_t *want_src = pd_md(wpd, dnnl_query_src_md);
    dnnl_memory_t src = ls->src_reordered;
    if (!mem_has_md(src, want_src))
        src = in_layout(net, &np->backward, tensor_mem(np, l->src), want_src, 1, i, &err);
    ls->gw_prim = in_layout(net, NULL, ls->gw_user, pd_md(wpd, dnnl_query_diff_weights_md), 0, i, &err);
    dnnl_exec_arg_t wargs[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ls->diff},
                                {DNNL_ARG_DIFF_WEIGHTS, ls->gw_prim},
                                {DNNL_ARG_DIFF_BIAS, ls->gb_user}};
    plan_prim(net, &np->backward, wpd, l->has_bias ? 4 : 3, wargs);
    if (ls->gw_prim != ls->gw_user && plan_reorder(net, &np->backward, ls->gw_prim, ls->gw_user, i))
        return -1;
    if (err) return -1;
    if (l->src < 0) return 0; /* no gradient for the images */

    /* backward-data */
    int acc;
    dnnl_memory_t target = diff_target(np, l->src, &acc);
    dnnl_primitive_desc_t dpd;
    dnnl_memory_t diff_dst = ls->diff;
    if (l->op == NN_CONV) {
        dpd = conv_bwd_data_8c(net, np, i);
        if (dpd) {
            /* its output gradient in the 8-blocked layout too */
            const dnnl_memory_desc_t *want = pd_md(dpd, dnnl_query_diff_dst_md);
            diff_dst = in_layout(net, &np->backward, ls->diff, want, 1, i, &err);
            if (err) return -1;
        } else {
            dnnl_convolution_desc_t d;
            dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &src_any, &wmd,
                                                     &ls->md, strides, pad, pad);
            dpd = make_pd(net, &d, NULL, ls->fwd_pd, "convolution backward-data", i);
        }
    } else {
        dnnl_inner_product_desc_t d;
        dnnl_inner_product_backward_data_desc_init(&d, &src_any, &wplain, &ls->md);
        dpd = fast_pd_or_null(net, &d, NULL, ls->fwd_pd);
        if (!dpd) {
            dnnl_inner_product_backward_data_desc_init(&d, &src_any, &wmd, &ls->md);
            dpd = make_pd(net, &d, NULL, ls->fwd_pd, "inner product backward-data", i);
        }
    }
    if (!dpd) return -1;
    ls->w_bwd = in_layout(net, &np->backward, ls->w_user, pd_md(dpd, dnnl_query_weights_md), 1, i,
                          &err);
    if (err) return -1;
    /* the gradient comes out in the layout this primitive chose; reorder it
     * into the producer's layout when they differ */
    const dnnl_memory_desc_t *want_diff = pd_md(dpd, dnnl_query_diff_src_md);
    dnnl_memory_t diff_src = mem_has_md(target, want_diff) ? target : new_memory(net, want_diff, NULL);
    dnnl_exec_arg_t dargs[3] = {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, ls->w_bwd},
                                {DNNL_ARG_DIFF_SRC, diff_src}};
    plan_prim(net, &np->backward, dpd, 3, dargs);
    if (diff_src != target && plan_reorder(net, &np->backward, diff_src, target, i) != 0) return -1;
    return finish_contribution(net, np, l->src, acc);
}

static int build_pool_bwd(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    int global = l->op == NN_AVGPOOL_GLOBAL;
    dnnl_dims_t strides = {global ? 1 : l->stride, global ? 1 : l->stride};
    dnnl_dims_t kernel = {l->kernel, l->kernel}, pad = {0, 0};
    int acc;
    dnnl_memory_t target = diff_target(np, l->src, &acc);
    dnnl_pooling_desc_t d;
    dnnl_pooling_backward_desc_init(&d, global ? dnnl_pooling_avg_exclude_padding : dnnl_pooling_max,
                                    tensor_md(np, l->src), &ls->md, strides, kernel, pad, pad);
    dnnl_primitive_desc_t pd = make_pd(net, &d, NULL, ls->fwd_pd, "pooling backward", i);
    if (!pd) return -1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, ls->diff}, {DNNL_ARG_DIFF_SRC, target},
                               {DNNL_ARG_WORKSPACE, ls->workspace}};
    plan_prim(net, &np->backward, pd, ls->workspace ? 3 : 2, args);
    return finish_contribution(net, np, l->src, acc);
}

static int build_bn_bwd(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &np->ls[i];
    int acc;
    dnnl_memory_t target = diff_target(np, l->src, &acc);
    dnnl_batch_normalization_desc_t d;
    dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &ls->md, &ls->md, NN_BN_EPSILON,
                                                bn_flags(l, 1));
    dnnl_primitive_desc_t pd = make_pd(net, &d, NULL, ls->fwd_pd, "batchnorm backward", i);
    if (!pd) return -1;
    dnnl_exec_arg_t args[10] = {
        {DNNL_ARG_SRC, tensor_mem(np, l->src)}, {DNNL_ARG_MEAN, ls->mean},
        {DNNL_ARG_VARIANCE, ls->var},           {DNNL_ARG_DIFF_DST, ls->diff},
        {DNNL_ARG_SCALE, ls->w_user},           {DNNL_ARG_SHIFT, ls->b_user},
        {DNNL_ARG_DIFF_SRC, target},            {DNNL_ARG_DIFF_SCALE, ls->gw_user},
        {DNNL_ARG_DIFF_SHIFT, ls->gb_user},     {DNNL_ARG_WORKSPACE, ls->workspace}};
    plan_prim(net, &np->backward, pd, ls->workspace ? 10 : 9, args);
    return finish_contribution(net, np, l->src, acc);
}

/* The add passes its output gradient to both inputs unchanged. */
static int build_add_bwd(dnnl_net *net, net_plan *np, int i) {
    const nn_layer *l = &net->spec->layers[i];
    int inputs[2] = {l->src, l->src2};
    for (int k = 0; k < 2; k++) {
        int acc;
        dnnl_memory_t target = diff_target(np, inputs[k], &acc);
        if (plan_reorder(net, &np->backward, np->ls[i].diff, target, i) != 0) return -1;
        if (finish_contribution(net, np, inputs[k], acc) != 0) return -1;
    }
    return 0;
}

/* ---- plan assembly -------------------------------------------------------- */

static int build_plan(dnnl_net *net, net_plan *np, int batch, int training) {
    const nn_spec *s = net->spec;
    np->batch = batch;
    np->training = training;
    np->ls = alrs_calloc((size_t)s->n_layers, sizeof *np->ls);
    dnnl_dims_t in_dims = {batch, s->in_c, s->in_h, s->in_w};
    dnnl_dims_t in_flat = {batch, (dnnl_dim_t)s->in_c * s->in_h * s->in_w};
    dnnl_memory_desc_t in_md = images_as_matrix(s) ? md_tag(2, in_flat, dnnl_nc)
                                                   : md_tag(4, in_dims, dnnl_nchw);
    np->input = new_memory(net, &in_md, net->eval_images); /* handle replaced per call */
    for (int i = 0; i < s->n_layers; i++) {
        const nn_layer *l = &s->layers[i];
        int rc = 0;
        switch (l->op) {
        case NN_CONV:
        case NN_FC: rc = build_weighted_fwd(net, np, i); break;
        case NN_MAXPOOL:
        case NN_AVGPOOL_GLOBAL: rc = build_pool_fwd(net, np, i); break;
        case NN_BATCHNORM: rc = build_bn_fwd(net, np, i); break;
        case NN_ADD: rc = build_add_fwd(net, np, i); break;
        }
        if (rc != 0) return -1;
    }
    if (!training) return 0;
    for (int i = 0; i < s->n_layers; i++) {
        layer_state *ls = &np->ls[i];
        ls->diff = new_memory(net, &ls->md, NULL);
        if (nn_tensor_reads(s, i) > 1) ls->diff_scratch = new_memory(net, &ls->md, NULL);
    }
    for (int i = s->n_layers - 1; i >= 0; i--) {
        const nn_layer *l = &s->layers[i];
        int rc = 0;
        if (nn_relu_bwd_at_output(s, i) || nn_relu_bwd_at_pool(s, i))
            rc = build_relu_bwd(net, np, i);
        if (rc == 0) {
            switch (l->op) {
            case NN_CONV:
            case NN_FC: rc = build_weighted_bwd(net, np, i); break;
            case NN_MAXPOOL:
            case NN_AVGPOOL_GLOBAL: rc = build_pool_bwd(net, np, i); break;
            case NN_BATCHNORM: rc = build_bn_bwd(net, np, i); break;
            case NN_ADD: rc = build_add_bwd(net, np, i); break;
            }
        }
        if (rc != 0) return -1;
    }
    return 0;
}

static void dnnl_free(nn_net *opaque);
static double dnnl_train_step(nn_net *opaque, const float *images, const uint8_t *labels);
static void dnnl_evaluate(nn_net *opaque, const float *images, const uint8_t *labels, int n,
                          double *mean_loss, double *accuracy, float *probs);
static void dnnl_describe(const nn_net *opaque, char *buf, int size);
static const nn_net_ops dnnl_ops = {dnnl_train_step, dnnl_evaluate, dnnl_free, dnnl_describe};

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
    net->logit_grad = NULL;
    if (dnnl_engine_create(&net->engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&net->stream, net->engine, dnnl_stream_default_flags) != dnnl_success) {
        alrs_fail("oneDNN: cannot create a CPU engine and stream");
        dnnl_free(&net->base);
        return NULL;
    }
    if (build_plan(net, &net->train, cfg.train_batch, 1) != 0 ||
        build_plan(net, &net->eval, cfg.eval_batch, 0) != 0) {
        dnnl_free(&net->base);
        return NULL;
    }
    return &net->base;
}

static void free_plan(net_plan *np) {
    free(np->ls);
    free(np->forward.ops);
    free(np->backward.ops);
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
    free_plan(&net->train);
    free_plan(&net->eval);
    if (net->stream) dnnl_stream_destroy(net->stream);
    if (net->engine) dnnl_engine_destroy(net->engine);
    alrs_free_aligned(net->eval_images);
    free(net);
}

/* ---- execution ------------------------------------------------------------ */

static float *logits_of(const net_plan *np, int n_layers, int diff) {
    void *p;
    const layer_state *ls = &np->ls[n_layers - 1];
    dnnl_memory_get_data_handle(diff ? ls->diff : ls->dst, &p);
    return p;
}

static double dnnl_train_step(nn_net *opaque, const float *images, const uint8_t *labels) {
    dnnl_net *net = (dnnl_net *)opaque;
    net_plan *np = &net->train;
    int n = np->batch, layers = net->spec->n_layers;
    dnnl_memory_set_data_handle(np->input, (void *)images);
    plan_run(net, &np->forward);
    double loss = kernels()->softmax_xent(logits_of(np, layers, 0), labels, n, net->spec->classes, (float)n,
                               logits_of(np, layers, 1), NULL, NULL);
    plan_run(net, &np->backward);
    return loss / n;
}

static void dnnl_evaluate(nn_net *opaque, const float *images, const uint8_t *labels, int n,
                     double *mean_loss, double *accuracy, float *probs) {
    dnnl_net *net = (dnnl_net *)opaque;
    net_plan *np = &net->eval;
    const nn_spec *s = net->spec;
    size_t image = nn_tensor_floats(s, -1);
    double loss = 0;
    long hits = 0;
    for (int start = 0; start < n; start += np->batch) {
        int count = n - start < np->batch ? n - start : np->batch;
        const float *chunk = images + (size_t)start * image;
        if (count < np->batch) {
            /* a short last chunk runs padded: inference treats images independently */
            memcpy(net->eval_images, chunk, sizeof(float) * image * (size_t)count);
            chunk = net->eval_images;
        }
        dnnl_memory_set_data_handle(np->input, (void *)chunk);
        plan_run(net, &np->forward);
        int correct;
        loss += kernels()->softmax_xent(logits_of(np, s->n_layers, 0), labels + start, count, s->classes, 1.0f,
                             NULL, probs ? probs + (size_t)start * s->classes : NULL, &correct);
        hits += correct;
    }
    *mean_loss = n > 0 ? loss / n : 0.0;
    *accuracy = n > 0 ? (double)hits / n : 0.0;
}

static void dnnl_describe(const nn_net *opaque, char *buf, int size) {
    const dnnl_net *net = (const dnnl_net *)opaque;
    snprintf(buf, (size_t)size, "%s", net->impl);
}
