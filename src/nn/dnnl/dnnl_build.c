/* The oneDNN backend's primitives, per kind of layer, forward and backward
 * side by side: convolutions and inner products (with their layout choices),
 * pools, batchnorm, the residual add, and the fused ReLU's backward. Each
 * builder appends its steps to a program (nn/dnnl/dnnl_program.h); the net,
 * its programs and their assembly are in nn/dnnl/dnnl_net.c. */
#include <oneapi/dnnl/dnnl.h>

#include "core/error.h"
#include "nn/dnnl/dnnl_layer.h"
#include "nn/dnnl/dnnl_program.h"
#include "nn/layer_rules.h"

/* ---- memory descriptors --------------------------------------------------- */

static dnnl_memory_desc_t md_tag(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    if (dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag) != dnnl_success)
        alrs_panic("oneDNN: bad memory descriptor");
    return md;
}

static dnnl_memory_desc_t vector_md(int n) {
    dnnl_dims_t d = {n};
    return md_tag(1, d, dnnl_x);
}

/* Layer l's source, batch images, in layout `tag`. */
static dnnl_memory_desc_t src_md_tag(const nn_spec *s, const nn_layer *l, int batch,
                                     dnnl_format_tag_t tag) {
    int c, h, w;
    nn_tensor_shape(s, l->src, &c, &h, &w);
    dnnl_dims_t d = {batch, c, h, w};
    return md_tag(4, d, tag);
}

/* Layer l's output, batch images, in layout `tag`. */
static dnnl_memory_desc_t dst_md_tag(const nn_layer *l, int batch, dnnl_format_tag_t tag) {
    dnnl_dims_t d = {batch, l->c, l->h, l->w};
    return md_tag(4, d, tag);
}

/* 1 if tensor idx (a layer's output, not the images) is stored as plain nhwc. */
static int producer_is_nhwc(const program *pg, int idx) {
    if (idx < 0) return 0;
    const dnnl_memory_desc_t *have = &pg->ls[idx].md;
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

dnnl_memory_desc_t build_images_md(const nn_spec *s, int batch) {
    dnnl_dims_t in_dims = {batch, s->in_c, s->in_h, s->in_w};
    dnnl_dims_t in_flat = {batch, (dnnl_dim_t)nn_tensor_floats(s, -1)};
    return images_as_matrix(s) ? md_tag(2, in_flat, dnnl_nc) : md_tag(4, in_dims, dnnl_nchw);
}

/* 1 if fully connected layer l reads a 2-D (N×C) source: another fully
 * connected layer's output, or the images given as a matrix. */
static int fc_reads_matrix(const nn_spec *s, const nn_layer *l) {
    return l->op == NN_FC && ((l->src >= 0 && s->layers[l->src].op == NN_FC) ||
                              (l->src < 0 && images_as_matrix(s)));
}

static dnnl_memory_desc_t weights_md(const nn_spec *s, const nn_layer *l, dnnl_format_tag_t tag) {
    int c, h, w;
    nn_tensor_shape(s, l->src, &c, &h, &w);
    if (fc_reads_matrix(s, l)) {
        dnnl_dims_t d = {l->out_c, c * h * w}; /* a 2-D source (N×C) takes 2-D weights */
        return md_tag(2, d, tag == dnnl_format_tag_any ? tag : dnnl_oi);
    }
    int kh = l->op == NN_FC ? h : l->kernel, kw = l->op == NN_FC ? w : l->kernel;
    dnnl_dims_t d = {l->out_c, c, kh, kw};
    return md_tag(4, d, tag == dnnl_format_tag_any ? tag : dnnl_oihw);
}

/* ---- convolution layouts -------------------------------------------------- */

/* Creates *pd (NULL on failure; the caller destroys it) and returns 1 if
 * that succeeded with an optimized (non-reference) implementation. */
static int probe_fast(dnnl_primitive_desc_t *pd, const void *op_desc,
                      const_dnnl_primitive_attr_t attr, dnnl_engine_t engine,
                      const_dnnl_primitive_desc_t hint) {
    return dnnl_primitive_desc_create(pd, op_desc, attr, engine, hint) == dnnl_success &&
           !is_reference_impl(*pd);
}

/* 1 if oneDNN has optimized (non-reference) forward, backward-weights and,
 * unless the layer reads the images, backward-data kernels for this
 * convolution with these source and destination layouts. */
static int conv_layouts_fast(dnnl_net *net, const nn_layer *l, int batch, int training,
                             dnnl_format_tag_t src_tag, dnnl_format_tag_t dst_tag) {
    dnnl_memory_desc_t src = src_md_tag(net->spec, l, batch, src_tag);
    dnnl_memory_desc_t dst = dst_md_tag(l, batch, dst_tag);
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_format_tag_any), bmd = vector_md(l->out_c);
    dnnl_dims_t strides = {l->stride, l->stride}, pad = {l->pad, l->pad};
    const dnnl_memory_desc_t *bias = l->has_bias ? &bmd : NULL;
    dnnl_convolution_desc_t fd, wd, dd;
    dnnl_primitive_desc_t fpd = NULL, wpd = NULL, dpd = NULL;
    dnnl_convolution_forward_desc_init(&fd, training ? dnnl_forward_training : dnnl_forward_inference,
                                       dnnl_convolution_direct, &src, &wmd, bias, &dst, strides, pad,
                                       pad);
    dnnl_primitive_attr_t attr = dnnl_attr_relu(l->relu);
    int fast = probe_fast(&fpd, &fd, attr, net->engine, NULL);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (fast && training) {
        dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &src, &wmd, bias,
                                                    &dst, strides, pad, pad);
        fast = probe_fast(&wpd, &wd, NULL, net->engine, fpd);
    }
    if (fast && training && l->src >= 0) {
        dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &src, &wmd, &dst,
                                                 strides, pad, pad);
        fast = probe_fast(&dpd, &dd, NULL, net->engine, fpd);
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

/* ---- convolution and inner product ---------------------------------------- */

static void bind_user_weights(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_oihw);
    ls->w_user = net_memory(net, &wmd, net->params + l->w_off);
    ls->gw_user = net_memory(net, &wmd, net->grads + l->w_off);
    if (l->b_len) {
        dnnl_memory_desc_t bmd = vector_md((int)l->b_len);
        ls->b_user = net_memory(net, &bmd, net->params + l->b_off);
        ls->gb_user = net_memory(net, &bmd, net->grads + l->b_off);
    }
}

/* The source memory for a weighted layer: the producing tensor, or a copy of
 * it in the layout the primitive chose when that differs (the images for the
 * first layer; a convolution may prefer another layout than its producer). */
static dnnl_memory_t weighted_src(dnnl_net *net, program *pg, int i, int *err) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    dnnl_memory_t producer = prog_tensor_mem(pg, l->src);
    ls->src_reordered = step_in_layout(net, &pg->forward, producer,
                                       pd_md(ls->fwd_pd, dnnl_query_src_md), 1, i, err);
    return ls->src_reordered;
}

static dnnl_primitive_desc_t conv_fwd_pd(dnnl_net *net, program *pg, int i,
                                         dnnl_format_tag_t src_tag, dnnl_format_tag_t dst_tag,
                                         const_dnnl_primitive_attr_t attr) {
    const nn_layer *l = &net->spec->layers[i];
    dnnl_memory_desc_t src_md = src_md_tag(net->spec, l, pg->batch, src_tag);
    dnnl_memory_desc_t dmd = dst_md_tag(l, pg->batch, dst_tag);
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_format_tag_any);
    dnnl_memory_desc_t bmd = vector_md(l->out_c);
    dnnl_dims_t strides = {l->stride, l->stride}, pad = {l->pad, l->pad};
    dnnl_convolution_desc_t d;
    dnnl_convolution_forward_desc_init(&d, pg->training ? dnnl_forward_training
                                                         : dnnl_forward_inference,
                                       dnnl_convolution_direct, &src_md, &wmd,
                                       l->has_bias ? &bmd : NULL, &dmd, strides, pad, pad);
    return net_pd(net, &d, attr, NULL, "convolution forward", i);
}

/* Plain weights first: the GEMM kernels read the master copy as it is, which
 * saves a weight reorder per step each way (the blocked brgemm kernels are no
 * faster at these sizes). The source is read in its producer's layout (the
 * images as a matrix when they are given so); the last layer's output is
 * plain, for the loss. */
static dnnl_primitive_desc_t ip_fwd_pd(dnnl_net *net, program *pg, int i,
                                       const_dnnl_primitive_attr_t attr) {
    const nn_spec *s = net->spec;
    const nn_layer *l = &s->layers[i];
    int plain_src = l->src >= 0 || images_as_matrix(s);
    dnnl_memory_desc_t src_md = plain_src ? *prog_tensor_md(pg, l->src)
                                          : src_md_tag(s, l, pg->batch, dnnl_format_tag_any);
    dnnl_memory_desc_t wmd = weights_md(s, l, dnnl_format_tag_any);
    dnnl_memory_desc_t wplain = weights_md(s, l, dnnl_oihw);
    dnnl_memory_desc_t bmd = vector_md(l->out_c);
    dnnl_dims_t dd = {pg->batch, l->out_c};
    dnnl_memory_desc_t dmd = md_tag(2, dd, i == s->n_layers - 1 ? dnnl_nc : dnnl_format_tag_any);
    dnnl_prop_kind_t prop = pg->training ? dnnl_forward_training : dnnl_forward_inference;
    dnnl_inner_product_desc_t d;
    dnnl_inner_product_forward_desc_init(&d, prop, &src_md, &wplain, &bmd, &dmd);
    dnnl_primitive_desc_t pd = net_fast_pd(net, &d, attr, NULL);
    if (pd) return pd;
    dnnl_inner_product_forward_desc_init(&d, prop, &src_md, &wmd, &bmd, &dmd);
    return net_pd(net, &d, attr, NULL, "inner product forward", i);
}

/* A convolution picks its layouts (conv_layouts); an inner product reads its
 * producer's. ReLU is a post-op. */
static dnnl_primitive_desc_t weighted_fwd_pd(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    dnnl_format_tag_t src_tag = dnnl_format_tag_any, dst_tag = dnnl_format_tag_any;
    if (l->op == NN_CONV)
        conv_layouts(net, l, pg->batch, pg->training, producer_is_nhwc(pg, l->src), &src_tag,
                     &dst_tag);
    pg->ls[i].src_tag = src_tag;
    dnnl_primitive_attr_t attr = dnnl_attr_relu(l->relu);
    dnnl_primitive_desc_t pd = l->op == NN_CONV ? conv_fwd_pd(net, pg, i, src_tag, dst_tag, attr)
                                                : ip_fwd_pd(net, pg, i, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return pd;
}

static int build_weighted_fwd(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    int err = 0;
    if (!(ls->fwd_pd = weighted_fwd_pd(net, pg, i))) return -1;
    ls->md = *pd_md(ls->fwd_pd, dnnl_query_dst_md);
    ls->dst = net_memory(net, &ls->md, NULL);
    bind_user_weights(net, pg, i);
    ls->w_fwd = step_in_layout(net, &pg->forward, ls->w_user,
                               pd_md(ls->fwd_pd, dnnl_query_weights_md), 1, i, &err);
    dnnl_memory_t src = weighted_src(net, pg, i, &err);
    if (err) return -1;
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, ls->w_fwd},
                               {DNNL_ARG_DST, ls->dst}, {DNNL_ARG_BIAS, ls->b_user}};
    step_prim(net, &pg->forward, ls->fwd_pd, l->has_bias ? 4 : 3, args);
    return 0;
}

/* What the backward primitives of a weighted layer are described with: the
 * source in the layout the forward chose it for (convolution) or read it in
 * (inner product), weights in any layout or plain (an inner product tries
 * plain first, as forward), the bias, the convolution's geometry. */
typedef struct {
    dnnl_memory_desc_t src, w_any, w_plain, bias;
    dnnl_dims_t strides, pad;
} weighted_descs;

static weighted_descs weighted_bwd_descs(const dnnl_net *net, const program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    const layer_state *ls = &pg->ls[i];
    weighted_descs d;
    d.src = l->op == NN_FC ? *pd_md(ls->fwd_pd, dnnl_query_src_md)
                           : src_md_tag(net->spec, l, pg->batch, ls->src_tag);
    d.w_any = weights_md(net->spec, l, dnnl_format_tag_any);
    d.w_plain = weights_md(net->spec, l, dnnl_oihw);
    d.bias = vector_md(l->out_c);
    d.strides[0] = d.strides[1] = l->stride;
    d.pad[0] = d.pad[1] = l->pad;
    return d;
}

static dnnl_primitive_desc_t weighted_bwd_weights_pd(dnnl_net *net, program *pg, int i,
                                                     const weighted_descs *w) {
    const nn_layer *l = &net->spec->layers[i];
    const layer_state *ls = &pg->ls[i];
    if (l->op == NN_CONV) {
        dnnl_convolution_desc_t d;
        dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &w->src,
                                                    &w->w_any, l->has_bias ? &w->bias : NULL,
                                                    &ls->md, w->strides, w->pad, w->pad);
        return net_pd(net, &d, NULL, ls->fwd_pd, "convolution backward-weights", i);
    }
    dnnl_inner_product_desc_t d;
    dnnl_inner_product_backward_weights_desc_init(&d, &w->src, &w->w_plain, &w->bias, &ls->md);
    dnnl_primitive_desc_t pd = net_fast_pd(net, &d, NULL, ls->fwd_pd);
    if (pd) return pd;
    dnnl_inner_product_backward_weights_desc_init(&d, &w->src, &w->w_any, &w->bias, &ls->md);
    return net_pd(net, &d, NULL, ls->fwd_pd, "inner product backward-weights", i);
}

/* Weight and bias gradients: the forward's source is reused when the layouts
 * agree, else reordered; gradients in another layout than the flat buffer's
 * are reordered back into it. */
static int build_weighted_bwd_weights(dnnl_net *net, program *pg, int i,
                                      const weighted_descs *w) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    int err = 0;
    dnnl_primitive_desc_t wpd = weighted_bwd_weights_pd(net, pg, i, w);
    if (!wpd) return -1;
    const dnnl_memory_desc_t *want_src = pd_md(wpd, dnnl_query_src_md);
    dnnl_memory_t src = ls->src_reordered;
    if (!mem_has_md(src, want_src))
        src = step_in_layout(net, &pg->backward, prog_tensor_mem(pg, l->src), want_src, 1, i, &err);
    ls->gw_prim = step_in_layout(net, NULL, ls->gw_user, pd_md(wpd, dnnl_query_diff_weights_md),
                                 0, i, &err);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ls->diff},
                               {DNNL_ARG_DIFF_WEIGHTS, ls->gw_prim},
                               {DNNL_ARG_DIFF_BIAS, ls->gb_user}};
    step_prim(net, &pg->backward, wpd, l->has_bias ? 4 : 3, args);
    if (ls->gw_prim != ls->gw_user && step_reorder(net, &pg->backward, ls->gw_prim, ls->gw_user, i))
        return -1;
    return err ? -1 : 0;
}

/* Backward-data of a convolution with few input channels (at most 8, not a
 * multiple of 16): oneDNN's AVX-512 kernels vectorize over input channels
 * and pad them to 16, its 8-blocked (AVX2) kernels waste less (LeNet's
 * conv2, 6 input channels: 1.13 against 1.40 ms at batch 128). NULL when
 * that does not apply or only a reference kernel exists; the caller then
 * takes the layouts the forward pass chose. Reorders bridge the layouts. */
static dnnl_primitive_desc_t conv_bwd_data_8c(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    int c, h, w;
    nn_tensor_shape(net->spec, l->src, &c, &h, &w);
    if (c > 8 || c % 16 == 0) return NULL;
    dnnl_memory_desc_t src = src_md_tag(net->spec, l, pg->batch, dnnl_nChw8c);
    dnnl_memory_desc_t dst = dst_md_tag(l, pg->batch, dnnl_nChw8c);
    dnnl_memory_desc_t wmd = weights_md(net->spec, l, dnnl_format_tag_any);
    dnnl_dims_t strides = {l->stride, l->stride}, pad = {l->pad, l->pad};
    dnnl_convolution_desc_t d;
    if (dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &src, &wmd, &dst,
                                                 strides, pad, pad) != dnnl_success)
        return NULL;
    return net_fast_pd(net, &d, NULL, pg->ls[i].fwd_pd);
}

/* The backward-data primitive descriptor, and in *diff_dst the output
 * gradient in the layout it reads (the 8-blocked convolution wants its own,
 * reordered into it). */
static dnnl_primitive_desc_t weighted_bwd_data_pd(dnnl_net *net, program *pg, int i,
                                                  const weighted_descs *w,
                                                  dnnl_memory_t *diff_dst, int *err) {
    const nn_layer *l = &net->spec->layers[i];
    const layer_state *ls = &pg->ls[i];
    *diff_dst = ls->diff;
    if (l->op == NN_CONV) {
        dnnl_primitive_desc_t pd = conv_bwd_data_8c(net, pg, i);
        if (pd) {
            const dnnl_memory_desc_t *want = pd_md(pd, dnnl_query_diff_dst_md);
            *diff_dst = step_in_layout(net, &pg->backward, ls->diff, want, 1, i, err);
            return pd;
        }
        dnnl_convolution_desc_t d;
        dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &w->src, &w->w_any,
                                                 &ls->md, w->strides, w->pad, w->pad);
        return net_pd(net, &d, NULL, ls->fwd_pd, "convolution backward-data", i);
    }
    dnnl_inner_product_desc_t d;
    dnnl_inner_product_backward_data_desc_init(&d, &w->src, &w->w_plain, &ls->md);
    dnnl_primitive_desc_t pd = net_fast_pd(net, &d, NULL, ls->fwd_pd);
    if (pd) return pd;
    dnnl_inner_product_backward_data_desc_init(&d, &w->src, &w->w_any, &ls->md);
    return net_pd(net, &d, NULL, ls->fwd_pd, "inner product backward-data", i);
}

/* The source's gradient: it comes out in the layout the primitive chose and
 * is reordered into the producer's layout when they differ. */
static int build_weighted_bwd_data(dnnl_net *net, program *pg, int i, const weighted_descs *w) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    int acc, err = 0;
    dnnl_memory_t target = prog_diff_target(pg, l->src, &acc), diff_dst;
    dnnl_primitive_desc_t dpd = weighted_bwd_data_pd(net, pg, i, w, &diff_dst, &err);
    if (err || !dpd) return -1;
    ls->w_bwd = step_in_layout(net, &pg->backward, ls->w_user, pd_md(dpd, dnnl_query_weights_md),
                               1, i, &err);
    if (err) return -1;
    const dnnl_memory_desc_t *want_diff = pd_md(dpd, dnnl_query_diff_src_md);
    dnnl_memory_t diff_src =
        mem_has_md(target, want_diff) ? target : net_memory(net, want_diff, NULL);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, ls->w_bwd},
                               {DNNL_ARG_DIFF_SRC, diff_src}};
    step_prim(net, &pg->backward, dpd, 3, args);
    if (diff_src != target && step_reorder(net, &pg->backward, diff_src, target, i) != 0) return -1;
    return prog_finish_contribution(net, pg, l->src, acc);
}

static int build_weighted_bwd(dnnl_net *net, program *pg, int i) {
    weighted_descs w = weighted_bwd_descs(net, pg, i);
    if (build_weighted_bwd_weights(net, pg, i, &w) != 0) return -1;
    if (net->spec->layers[i].src < 0) return 0; /* no gradient for the images */
    return build_weighted_bwd_data(net, pg, i, &w);
}

/* ---- max-pool and global average pool -------------------------------------- */

static int build_pool_fwd(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    dnnl_memory_desc_t src_md = *prog_tensor_md(pg, l->src);
    dnnl_memory_desc_t dmd = dst_md_tag(l, pg->batch, dnnl_format_tag_any);
    int global = l->op == NN_AVGPOOL_GLOBAL;
    dnnl_dims_t strides = {global ? 1 : l->stride, global ? 1 : l->stride};
    dnnl_dims_t kernel = {l->kernel, l->kernel}, pad = {0, 0};
    dnnl_pooling_desc_t d;
    dnnl_pooling_forward_desc_init(&d, pg->training ? dnnl_forward_training : dnnl_forward_inference,
                                   global ? dnnl_pooling_avg_exclude_padding : dnnl_pooling_max,
                                   &src_md, &dmd, strides, kernel, pad, pad);
    if (!(ls->fwd_pd = net_pd(net, &d, NULL, NULL, "pooling forward", i))) return -1;
    ls->md = *pd_md(ls->fwd_pd, dnnl_query_dst_md);
    ls->dst = net_memory(net, &ls->md, NULL);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, prog_tensor_mem(pg, l->src)},
                               {DNNL_ARG_DST, ls->dst}};
    int nargs = 2;
    const dnnl_memory_desc_t *ws = pd_md(ls->fwd_pd, dnnl_query_workspace_md);
    if (pg->training && ws && ws->ndims > 0) {
        ls->workspace = net_memory(net, ws, NULL);
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, ls->workspace};
    }
    step_prim(net, &pg->forward, ls->fwd_pd, nargs, args);
    return 0;
}

static int build_pool_bwd(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    int global = l->op == NN_AVGPOOL_GLOBAL;
    dnnl_dims_t strides = {global ? 1 : l->stride, global ? 1 : l->stride};
    dnnl_dims_t kernel = {l->kernel, l->kernel}, pad = {0, 0};
    int acc;
    dnnl_memory_t target = prog_diff_target(pg, l->src, &acc);
    dnnl_pooling_desc_t d;
    dnnl_pooling_backward_desc_init(&d, global ? dnnl_pooling_avg_exclude_padding : dnnl_pooling_max,
                                    prog_tensor_md(pg, l->src), &ls->md, strides, kernel, pad, pad);
    dnnl_primitive_desc_t pd = net_pd(net, &d, NULL, ls->fwd_pd, "pooling backward", i);
    if (!pd) return -1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, ls->diff}, {DNNL_ARG_DIFF_SRC, target},
                               {DNNL_ARG_WORKSPACE, ls->workspace}};
    step_prim(net, &pg->backward, pd, ls->workspace ? 3 : 2, args);
    return prog_finish_contribution(net, pg, l->src, acc);
}

/* ---- batchnorm --------------------------------------------------------------- */

/* A host step after each training-mode batchnorm forward (nn/layer_rules.h). */
static void update_running_stats(dnnl_net *net, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &net->train.ls[i];
    float *mean, *var;
    dnnl_memory_get_data_handle(ls->mean, (void **)&mean);
    dnnl_memory_get_data_handle(ls->var, (void **)&var);
    nn_bn_update_running_stats(l, net->train.batch, mean, var, net->state);
}

/* A fused ReLU keeps its mask in a workspace (dnnl_fuse_norm_relu). */
static unsigned bn_flags(const nn_layer *l, int training) {
    unsigned flags = dnnl_use_scale | dnnl_use_shift;
    if (l->relu) flags |= dnnl_fuse_norm_relu;
    if (!training) flags |= dnnl_use_global_stats;
    return flags;
}

/* gamma and beta, their gradients, and the statistics: the batch's in
 * training, the running ones (in the state buffer) in inference. */
static void bind_bn_memories(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    dnnl_memory_desc_t cmd = vector_md(l->c);
    ls->w_user = net_memory(net, &cmd, net->params + l->w_off);
    ls->b_user = net_memory(net, &cmd, net->params + l->b_off);
    ls->gw_user = net_memory(net, &cmd, net->grads + l->w_off);
    ls->gb_user = net_memory(net, &cmd, net->grads + l->b_off);
    if (pg->training) {
        ls->mean = net_memory(net, &cmd, NULL);
        ls->var = net_memory(net, &cmd, NULL);
    } else {
        ls->mean = net_memory(net, &cmd, net->state + l->stat_off);
        ls->var = net_memory(net, &cmd, net->state + l->stat_off + l->c);
    }
}

static int build_bn_fwd(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    ls->md = *prog_tensor_md(pg, l->src);
    dnnl_batch_normalization_desc_t d;
    dnnl_batch_normalization_forward_desc_init(
        &d, pg->training ? dnnl_forward_training : dnnl_forward_inference, &ls->md, NN_BN_EPSILON,
        bn_flags(l, pg->training));
    if (!(ls->fwd_pd = net_pd(net, &d, NULL, NULL, "batchnorm forward", i))) return -1;
    ls->dst = net_memory(net, &ls->md, NULL);
    bind_bn_memories(net, pg, i);
    dnnl_exec_arg_t args[7] = {{DNNL_ARG_SRC, prog_tensor_mem(pg, l->src)},
                               {DNNL_ARG_DST, ls->dst},
                               {DNNL_ARG_SCALE, ls->w_user},
                               {DNNL_ARG_SHIFT, ls->b_user},
                               {DNNL_ARG_MEAN, ls->mean},
                               {DNNL_ARG_VARIANCE, ls->var}};
    int nargs = 6;
    if (pg->training && l->relu) {
        ls->workspace = net_memory(net, pd_md(ls->fwd_pd, dnnl_query_workspace_md), NULL);
        args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_WORKSPACE, ls->workspace};
    }
    step_prim(net, &pg->forward, ls->fwd_pd, nargs, args);
    if (pg->training) step_host(&pg->forward, update_running_stats, i);
    return 0;
}

static int build_bn_bwd(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    int acc;
    dnnl_memory_t target = prog_diff_target(pg, l->src, &acc);
    dnnl_batch_normalization_desc_t d;
    dnnl_batch_normalization_backward_desc_init(&d, dnnl_backward, &ls->md, &ls->md, NN_BN_EPSILON,
                                                bn_flags(l, 1));
    dnnl_primitive_desc_t pd = net_pd(net, &d, NULL, ls->fwd_pd, "batchnorm backward", i);
    if (!pd) return -1;
    dnnl_exec_arg_t args[10] = {
        {DNNL_ARG_SRC, prog_tensor_mem(pg, l->src)}, {DNNL_ARG_MEAN, ls->mean},
        {DNNL_ARG_VARIANCE, ls->var},                {DNNL_ARG_DIFF_DST, ls->diff},
        {DNNL_ARG_SCALE, ls->w_user},                {DNNL_ARG_SHIFT, ls->b_user},
        {DNNL_ARG_DIFF_SRC, target},                 {DNNL_ARG_DIFF_SCALE, ls->gw_user},
        {DNNL_ARG_DIFF_SHIFT, ls->gb_user},          {DNNL_ARG_WORKSPACE, ls->workspace}};
    step_prim(net, &pg->backward, pd, ls->workspace ? 10 : 9, args);
    return prog_finish_contribution(net, pg, l->src, acc);
}

/* ---- residual add ------------------------------------------------------------ */

static int build_add_fwd(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    layer_state *ls = &pg->ls[i];
    ls->md = *prog_tensor_md(pg, l->src);
    dnnl_memory_desc_t src2_md = *prog_tensor_md(pg, l->src2);
    dnnl_binary_desc_t d;
    dnnl_binary_desc_init(&d, dnnl_binary_add, &ls->md, &src2_md, &ls->md);
    dnnl_primitive_attr_t attr = dnnl_attr_relu(l->relu);
    ls->fwd_pd = net_pd(net, &d, attr, NULL, "residual add", i);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!ls->fwd_pd) return -1;
    ls->dst = net_memory(net, &ls->md, NULL);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC_0, prog_tensor_mem(pg, l->src)},
                               {DNNL_ARG_SRC_1, prog_tensor_mem(pg, l->src2)},
                               {DNNL_ARG_DST, ls->dst}};
    step_prim(net, &pg->forward, ls->fwd_pd, 3, args);
    return 0;
}

/* The add passes its output gradient to both inputs unchanged. */
static int build_add_bwd(dnnl_net *net, program *pg, int i) {
    const nn_layer *l = &net->spec->layers[i];
    int inputs[2] = {l->src, l->src2};
    for (int k = 0; k < 2; k++) {
        int acc;
        dnnl_memory_t target = prog_diff_target(pg, inputs[k], &acc);
        if (step_reorder(net, &pg->backward, pg->ls[i].diff, target, i) != 0) return -1;
        if (prog_finish_contribution(net, pg, inputs[k], acc) != 0) return -1;
    }
    return 0;
}

/* ---- ReLU ------------------------------------------------------------------ */

/* ReLU fused into a forward primitive: its backward runs in place on the
 * output gradient, using the (post-ReLU) output: layer i's own, or a
 * max-pool's for a ReLU applied after the pool (nn/layer_rules.h). */
static int build_relu_bwd(dnnl_net *net, program *pg, int i) {
    layer_state *ls = &pg->ls[i];
    dnnl_eltwise_desc_t d;
    dnnl_eltwise_backward_desc_init(&d, dnnl_eltwise_relu_use_dst_for_bwd, &ls->md, &ls->md, 0, 0);
    dnnl_eltwise_desc_t fd;
    dnnl_eltwise_forward_desc_init(&fd, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd,
                                   &ls->md, 0, 0);
    dnnl_primitive_desc_t hint = net_pd(net, &fd, NULL, NULL, "relu forward hint", i);
    if (!hint) return -1;
    dnnl_primitive_desc_t pd = net_pd(net, &d, NULL, hint, "relu backward", i);
    if (!pd) return -1;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_DST, ls->dst}, {DNNL_ARG_DIFF_DST, ls->diff},
                               {DNNL_ARG_DIFF_SRC, ls->diff}};
    step_prim(net, &pg->backward, pd, 3, args);
    return 0;
}

/* ---- per layer ---------------------------------------------------------------- */

int build_layer_forward(dnnl_net *net, program *pg, int i) {
    switch (net->spec->layers[i].op) {
    case NN_CONV:
    case NN_FC: return build_weighted_fwd(net, pg, i);
    case NN_MAXPOOL:
    case NN_AVGPOOL_GLOBAL: return build_pool_fwd(net, pg, i);
    case NN_BATCHNORM: return build_bn_fwd(net, pg, i);
    case NN_ADD: return build_add_fwd(net, pg, i);
    }
    return alrs_fail("layer %d: unknown operation", i);
}

int build_layer_backward(dnnl_net *net, program *pg, int i) {
    const nn_spec *s = net->spec;
    if ((nn_relu_bwd_at_output(s, i) || nn_relu_bwd_at_pool(s, i)) &&
        build_relu_bwd(net, pg, i) != 0)
        return -1;
    switch (s->layers[i].op) {
    case NN_CONV:
    case NN_FC: return build_weighted_bwd(net, pg, i);
    case NN_MAXPOOL:
    case NN_AVGPOOL_GLOBAL: return build_pool_bwd(net, pg, i);
    case NN_BATCHNORM: return build_bn_bwd(net, pg, i);
    case NN_ADD: return build_add_bwd(net, pg, i);
    }
    return alrs_fail("layer %d: unknown operation", i);
}
