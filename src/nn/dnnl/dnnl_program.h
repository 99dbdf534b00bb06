/* Inside the oneDNN backend: the net, its programs and the objects it owns
 * (nn/dnnl/dnnl_net.c), shared with the per-layer primitive builders
 * (nn/dnnl/dnnl_build.c). Nothing outside these two files includes this.
 *
 * A program is two step lists, forward and backward; each runs in order: a
 * primitive with its bound arguments, or a host function. Every memory,
 * primitive and primitive descriptor a builder creates goes through the
 * net's ownership lists and is freed with the net. */
#ifndef ALRS_NN_DNNL_DNNL_PROGRAM_H
#define ALRS_NN_DNNL_DNNL_PROGRAM_H

#include <oneapi/dnnl/dnnl.h>
#include <string.h>

#include "nn/net_impl.h"

#define STEP_MAX_ARGS 12

struct dnnl_net;
typedef void (*host_fn)(struct dnnl_net *net, int layer);

/* One step: a primitive with its arguments, or a host function. */
typedef struct {
    dnnl_primitive_t prim;
    int nargs;
    dnnl_exec_arg_t args[STEP_MAX_ARGS];
    host_fn fn;
    int layer;
} step;

typedef struct {
    step *ops;
    int n, cap;
} steps;

/* Per layer, per program: the layer's output and everything its primitives need. */
typedef struct {
    dnnl_memory_desc_t md; /* activation layout chosen by oneDNN */
    dnnl_memory_t dst, diff, diff_scratch;
    dnnl_memory_t workspace, mean, var;
    dnnl_memory_t w_user, b_user, gw_user, gb_user; /* views into the flat buffers */
    dnnl_memory_t w_fwd, w_bwd, gw_prim;            /* in the primitives' layouts */
    dnnl_memory_t src_reordered;                    /* first layer: images in its layout */
    dnnl_primitive_desc_t fwd_pd;
    dnnl_format_tag_t src_tag; /* convolution: the source layout its primitives were chosen for */
    int contributions;         /* gradient contributions built so far (backward order) */
} layer_state;

typedef struct {
    int batch, training;
    dnnl_memory_t input; /* plain NCHW images, handle set per call */
    layer_state *ls;
    steps forward, backward;
} program;

typedef struct dnnl_net {
    nn_net base; /* first: the nn_net interface */
    const nn_spec *spec;
    nn_spec spec_copy;
    nn_net_config cfg;
    float *params, *grads, *state;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    program train, eval;
    float *eval_images; /* padding for a last partial chunk */
    /* everything created, freed together */
    dnnl_memory_t *mems;
    int n_mems, cap_mems;
    dnnl_primitive_t *prims;
    int n_prims, cap_prims;
    dnnl_primitive_desc_t *pds;
    int n_pds, cap_pds;
    char impl[8192];
} dnnl_net;

/* ---- objects owned by the net (nn/dnnl/dnnl_net.c) ---------------------------- */

/* A memory object on `handle` (NULL: oneDNN allocates it). */
dnnl_memory_t net_memory(dnnl_net *net, const dnnl_memory_desc_t *md, void *handle);
/* A primitive descriptor, its implementation recorded for nn_net_describe_impl;
 * NULL with a message naming `what` and the layer on failure. */
dnnl_primitive_desc_t net_pd(dnnl_net *net, const void *op_desc, const_dnnl_primitive_attr_t attr,
                             const_dnnl_primitive_desc_t hint, const char *what, int layer);
/* The same when oneDNN has an optimized (non-reference) kernel for `op_desc`,
 * else NULL, quietly: the caller has a fallback. */
dnnl_primitive_desc_t net_fast_pd(dnnl_net *net, const void *op_desc,
                                  const_dnnl_primitive_attr_t attr,
                                  const_dnnl_primitive_desc_t hint);

/* ---- steps and programs (nn/dnnl/dnnl_net.c) --------------------------------- */

/* Appends a primitive created from pd, with its arguments. */
void step_prim(dnnl_net *net, steps *p, dnnl_primitive_desc_t pd, int nargs,
               const dnnl_exec_arg_t *args);
/* Appends a host function, run after the primitives before it finish. */
void step_host(steps *p, host_fn fn, int layer);
/* Appends a reorder from `from` to `to`. -1 with a message on failure. */
int step_reorder(dnnl_net *net, steps *p, dnnl_memory_t from, dnnl_memory_t to, int layer);
/* `user` if it already has the layout `want`, else a new memory in that
 * layout (and, when `reorder_in`, a reorder into it appended to `p`; *err
 * set when that fails). */
dnnl_memory_t step_in_layout(dnnl_net *net, steps *p, dnnl_memory_t user,
                             const dnnl_memory_desc_t *want, int reorder_in, int layer, int *err);

/* Tensor idx of a program (-1: the images): its layout and its memory. */
const dnnl_memory_desc_t *prog_tensor_md(const program *pg, int idx);
dnnl_memory_t prog_tensor_mem(const program *pg, int idx);

/* Where the next gradient contribution to tensor t goes: the tensor's own
 * gradient buffer for the first one in backward order, its scratch buffer
 * (*accumulate set) for later ones. */
dnnl_memory_t prog_diff_target(program *pg, int t, int *accumulate);
/* After a contribution to the scratch buffer: appends diff[t] += scratch[t]. */
int prog_finish_contribution(dnnl_net *net, program *pg, int t, int accumulate);

/* ---- per-layer builders (nn/dnnl/dnnl_build.c) -------------------------------- */

/* The images as oneDNN is given them: NCHW, or an N×(C·H·W) matrix when only
 * fully connected layers read them. */
dnnl_memory_desc_t build_images_md(const nn_spec *s, int batch);
/* Layer i's forward primitives (and reorders, host steps) appended to pg's
 * forward steps, its output memory made; in layer order. */
int build_layer_forward(dnnl_net *net, program *pg, int i);
/* Layer i's backward (its ReLU's, its own, gradient accumulation) appended
 * to pg's backward steps; in reverse layer order, after every gradient
 * buffer exists. */
int build_layer_backward(dnnl_net *net, program *pg, int i);

/* ---- oneDNN queries ------------------------------------------------------ */

static inline const dnnl_memory_desc_t *pd_md(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
    return dnnl_primitive_desc_query_md(pd, what, 0);
}

static inline int mem_has_md(dnnl_memory_t m, const dnnl_memory_desc_t *md) {
    const dnnl_memory_desc_t *have;
    dnnl_memory_get_memory_desc(m, &have);
    return dnnl_memory_desc_equal(have, md);
}

/* 1 for oneDNN's reference (slow, plain C) implementations. */
static inline int is_reference_impl(const_dnnl_primitive_desc_t pd) {
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    return !impl || !strncmp(impl, "ref", 3);
}

#endif
