/* A convolution or fully connected layer on oneDNN primitives over plain
 * buffers (see nn/dnnl/dnnl_layer.h). */
#include "nn/dnnl/dnnl_layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

enum { P_FWD, P_BWD_W, P_BWD_D, P_COUNT };

struct dnnl_layer {
    dnnl_primitive_desc_t pd[P_COUNT];
    dnnl_primitive_t prim[P_COUNT];
    /* src, dst, weights, bias; their gradients: memories whose handles are
     * set per call (weights and gradients once, they do not move) */
    dnnl_memory_t src, dst, w, b, diff_src, diff_dst, gw, gb;
    int has_bias;
    char impl[192];
};

static dnnl_memory_desc_t md_tag(int ndims, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    dnnl_memory_desc_t md;
    if (dnnl_memory_desc_init_by_tag(&md, ndims, dims, dnnl_f32, tag) != dnnl_success)
        alrs_panic("oneDNN: bad memory descriptor");
    return md;
}

static const char *impl_of(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    if (pd) dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    return impl ? impl : "?";
}

/* A primitive descriptor with an optimized (non-reference) kernel, or NULL. */
static dnnl_primitive_desc_t fast_pd(dnnl_engine_t engine, const void *op_desc,
                                     const_dnnl_primitive_attr_t attr,
                                     const_dnnl_primitive_desc_t hint) {
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, op_desc, attr, engine, hint) != dnnl_success) return NULL;
    if (!strncmp(impl_of(pd), "ref", 3)) {
        dnnl_primitive_desc_destroy(pd);
        return NULL;
    }
    return pd;
}

static dnnl_memory_t new_memory(dnnl_engine_t engine, const dnnl_memory_desc_t *md, void *handle) {
    dnnl_memory_t m;
    if (dnnl_memory_create(&m, md, engine, handle ? handle : DNNL_MEMORY_NONE) != dnnl_success)
        alrs_panic("oneDNN: cannot create a memory object");
    return m;
}

void dnnl_layer_free(dnnl_layer *L) {
    if (!L) return;
    for (int p = 0; p < P_COUNT; p++) {
        if (L->prim[p]) dnnl_primitive_destroy(L->prim[p]);
        if (L->pd[p]) dnnl_primitive_desc_destroy(L->pd[p]);
    }
    dnnl_memory_t *mems[] = {&L->src,      &L->dst,      &L->w,  &L->b,
                             &L->diff_src, &L->diff_dst, &L->gw, &L->gb};
    for (size_t k = 0; k < sizeof mems / sizeof mems[0]; k++)
        if (*mems[k]) dnnl_memory_destroy(*mems[k]);
    free(L);
}

dnnl_layer *dnnl_layer_create(dnnl_engine_t engine, const nn_spec *s, int i, int batch,
                              int backward_data, float *params, float *grads, char *why,
                              int why_size) {
    const nn_layer *l = &s->layers[i];
    int c, h, w;
    nn_tensor_shape(s, l->src, &c, &h, &w);
    dnnl_memory_desc_t src_md, dst_md, w_md, b_md;
    dnnl_dims_t bd = {l->out_c};
    b_md = md_tag(1, bd, dnnl_x);
    if (l->op == NN_FC) {
        dnnl_dims_t sd = {batch, (dnnl_dim_t)c * h * w}, dd = {batch, l->out_c};
        dnnl_dims_t wd = {l->out_c, (dnnl_dim_t)c * h * w};
        src_md = md_tag(2, sd, dnnl_nc), dst_md = md_tag(2, dd, dnnl_nc);
        w_md = md_tag(2, wd, dnnl_oi);
    } else if (l->op == NN_CONV) {
        dnnl_dims_t sd = {batch, c, h, w}, dd = {batch, l->out_c, l->h, l->w};
        dnnl_dims_t wd = {l->out_c, c, l->kernel, l->kernel};
        src_md = md_tag(4, sd, dnnl_nchw), dst_md = md_tag(4, dd, dnnl_nchw);
        w_md = md_tag(4, wd, dnnl_oihw);
    } else {
        snprintf(why, (size_t)why_size, "not a convolution or fully connected layer");
        return NULL;
    }
    dnnl_layer *L = alrs_calloc(1, sizeof *L);
    L->has_bias = l->b_len > 0;
    const dnnl_memory_desc_t *bias = L->has_bias ? &b_md : NULL;

    dnnl_primitive_attr_t attr = dnnl_attr_relu(l->relu);
    const char *failed = NULL;
    if (l->op == NN_CONV) {
        dnnl_dims_t strides = {l->stride, l->stride}, pad = {l->pad, l->pad};
        dnnl_convolution_desc_t fd, wd, dd;
        dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                           &src_md, &w_md, bias, &dst_md, strides, pad, pad);
        if (!(L->pd[P_FWD] = fast_pd(engine, &fd, attr, NULL))) failed = "forward";
        if (!failed) {
            dnnl_convolution_backward_weights_desc_init(&wd, dnnl_convolution_direct, &src_md,
                                                        &w_md, bias, &dst_md, strides, pad, pad);
            if (!(L->pd[P_BWD_W] = fast_pd(engine, &wd, NULL, L->pd[P_FWD])))
                failed = "backward-weights";
        }
        if (!failed && backward_data) {
            dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &src_md, &w_md,
                                                     &dst_md, strides, pad, pad);
            if (!(L->pd[P_BWD_D] = fast_pd(engine, &dd, NULL, L->pd[P_FWD])))
                failed = "backward-data";
        }
    } else {
        dnnl_inner_product_desc_t fd, wd, dd;
        dnnl_inner_product_forward_desc_init(&fd, dnnl_forward_training, &src_md, &w_md, &b_md,
                                             &dst_md);
        if (!(L->pd[P_FWD] = fast_pd(engine, &fd, attr, NULL))) failed = "forward";
        if (!failed) {
            dnnl_inner_product_backward_weights_desc_init(&wd, &src_md, &w_md, &b_md, &dst_md);
            if (!(L->pd[P_BWD_W] = fast_pd(engine, &wd, NULL, L->pd[P_FWD])))
                failed = "backward-weights";
        }
        if (!failed && backward_data) {
            dnnl_inner_product_backward_data_desc_init(&dd, &src_md, &w_md, &dst_md);
            if (!(L->pd[P_BWD_D] = fast_pd(engine, &dd, NULL, L->pd[P_FWD])))
                failed = "backward-data";
        }
    }
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (failed) {
        snprintf(why, (size_t)why_size, "no optimized oneDNN %s kernel on plain layouts", failed);
        dnnl_layer_free(L);
        return NULL;
    }
    for (int p = 0; p < P_COUNT; p++)
        if (L->pd[p] && dnnl_primitive_create(&L->prim[p], L->pd[p]) != dnnl_success) {
            snprintf(why, (size_t)why_size, "cannot create a oneDNN primitive");
            dnnl_layer_free(L);
            return NULL;
        }
    L->src = new_memory(engine, &src_md, NULL);
    L->dst = new_memory(engine, &dst_md, NULL);
    L->diff_dst = new_memory(engine, &dst_md, NULL);
    L->diff_src = new_memory(engine, &src_md, NULL);
    L->w = new_memory(engine, &w_md, params + l->w_off);
    L->gw = new_memory(engine, &w_md, grads + l->w_off);
    if (L->has_bias) {
        L->b = new_memory(engine, &b_md, params + l->b_off);
        L->gb = new_memory(engine, &b_md, grads + l->b_off);
    }
    snprintf(L->impl, sizeof L->impl, "%s/%s/%s", impl_of(L->pd[P_FWD]), impl_of(L->pd[P_BWD_W]),
             L->pd[P_BWD_D] ? impl_of(L->pd[P_BWD_D]) : "-");
    return L;
}

static void run(dnnl_layer *L, int p, dnnl_stream_t stream, int nargs,
                const dnnl_exec_arg_t *args) {
    dnnl_status_t st = dnnl_primitive_execute(L->prim[p], stream, nargs, args);
    if (st != dnnl_success)
        alrs_panic("oneDNN: a layer primitive failed to execute (status %d)", (int)st);
    dnnl_stream_wait(stream);
}

void dnnl_layer_forward(dnnl_layer *L, dnnl_stream_t stream, const float *src, float *dst) {
    dnnl_memory_set_data_handle(L->src, (void *)src);
    dnnl_memory_set_data_handle(L->dst, dst);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, L->src}, {DNNL_ARG_WEIGHTS, L->w},
                               {DNNL_ARG_DST, L->dst}, {DNNL_ARG_BIAS, L->b}};
    run(L, P_FWD, stream, L->has_bias ? 4 : 3, args);
}

void dnnl_layer_backward_weights(dnnl_layer *L, dnnl_stream_t stream, const float *src,
                                 const float *diff_dst) {
    dnnl_memory_set_data_handle(L->src, (void *)src);
    dnnl_memory_set_data_handle(L->diff_dst, (void *)diff_dst);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, L->src}, {DNNL_ARG_DIFF_DST, L->diff_dst},
                               {DNNL_ARG_DIFF_WEIGHTS, L->gw}, {DNNL_ARG_DIFF_BIAS, L->gb}};
    run(L, P_BWD_W, stream, L->has_bias ? 4 : 3, args);
}

void dnnl_layer_backward_data(dnnl_layer *L, dnnl_stream_t stream, const float *diff_dst,
                              float *diff_src) {
    if (!L->prim[P_BWD_D]) alrs_panic("dnnl_layer: no backward-data primitive");
    dnnl_memory_set_data_handle(L->diff_dst, (void *)diff_dst);
    dnnl_memory_set_data_handle(L->diff_src, diff_src);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, L->diff_dst}, {DNNL_ARG_WEIGHTS, L->w},
                               {DNNL_ARG_DIFF_SRC, L->diff_src}};
    run(L, P_BWD_D, stream, 3, args);
}

const char *dnnl_layer_impl(const dnnl_layer *L) {
    return L->impl;
}

dnnl_primitive_attr_t dnnl_attr_relu(int relu) {
    if (!relu) return NULL;
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t ops;
    dnnl_primitive_attr_create(&attr);
    dnnl_post_ops_create(&ops);
    dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    dnnl_primitive_attr_set_post_ops(attr, ops);
    dnnl_post_ops_destroy(ops);
    return attr;
}
