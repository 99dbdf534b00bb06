#include "nn/spec.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

void nn_begin(nn_spec *s, const char *model, int in_c, int in_h, int in_w, int classes) {
    memset(s, 0, sizeof *s);
    snprintf(s->model, sizeof s->model, "%s", model);
    s->in_c = in_c;
    s->in_h = in_h;
    s->in_w = in_w;
    s->classes = classes;
}

void nn_tensor_shape(const nn_spec *s, int idx, int *c, int *h, int *w) {
    if (idx < 0) {
        *c = s->in_c, *h = s->in_h, *w = s->in_w;
    } else {
        *c = s->layers[idx].c, *h = s->layers[idx].h, *w = s->layers[idx].w;
    }
}

size_t nn_tensor_floats(const nn_spec *s, int idx) {
    int c, h, w;
    nn_tensor_shape(s, idx, &c, &h, &w);
    return (size_t)c * h * w;
}

static nn_layer *new_layer(nn_spec *s, nn_op op, int src) {
    if (s->n_layers == NN_MAX_LAYERS) alrs_panic("network has more than %d layers", NN_MAX_LAYERS);
    if (src < -1 || src >= s->n_layers) alrs_panic("layer source %d out of range", src);
    nn_layer *l = &s->layers[s->n_layers];
    memset(l, 0, sizeof *l);
    l->op = op;
    l->src = src;
    l->src2 = -1;
    return l;
}

static void add_weights(nn_spec *s, nn_layer *l, size_t w_len, size_t b_len) {
    l->w_off = s->n_params;
    l->w_len = w_len;
    s->n_params += w_len;
    l->b_off = s->n_params;
    l->b_len = b_len;
    s->n_params += b_len;
}

int nn_conv(nn_spec *s, int src, int out_c, int kernel, int stride, int pad, int has_bias, int relu) {
    int c, h, w;
    nn_tensor_shape(s, src, &c, &h, &w);
    int oh = (h + 2 * pad - kernel) / stride + 1, ow = (w + 2 * pad - kernel) / stride + 1;
    if (h + 2 * pad < kernel || w + 2 * pad < kernel || oh < 1 || ow < 1)
        return alrs_fail("%s: a %dx%d convolution does not fit a %dx%d input (layer %d)", s->model,
                         kernel, kernel, h, w, s->n_layers);
    nn_layer *l = new_layer(s, NN_CONV, src);
    l->out_c = out_c, l->kernel = kernel, l->stride = stride, l->pad = pad;
    l->has_bias = has_bias, l->relu = relu;
    l->c = out_c, l->h = oh, l->w = ow;
    add_weights(s, l, (size_t)out_c * c * kernel * kernel, has_bias ? (size_t)out_c : 0);
    return s->n_layers++;
}

int nn_fc(nn_spec *s, int src, int out, int relu) {
    int c, h, w;
    nn_tensor_shape(s, src, &c, &h, &w);
    nn_layer *l = new_layer(s, NN_FC, src);
    l->out_c = out, l->has_bias = 1, l->relu = relu;
    l->c = out, l->h = 1, l->w = 1;
    add_weights(s, l, (size_t)out * c * h * w, (size_t)out);
    return s->n_layers++;
}

int nn_maxpool(nn_spec *s, int src, int kernel, int stride) {
    int c, h, w;
    nn_tensor_shape(s, src, &c, &h, &w);
    if (h < kernel || w < kernel)
        return alrs_fail("%s: a %dx%d pooling does not fit a %dx%d input (layer %d)", s->model,
                         kernel, kernel, h, w, s->n_layers);
    nn_layer *l = new_layer(s, NN_MAXPOOL, src);
    l->kernel = kernel, l->stride = stride;
    l->c = c, l->h = (h - kernel) / stride + 1, l->w = (w - kernel) / stride + 1;
    return s->n_layers++;
}

int nn_avgpool_global(nn_spec *s, int src) {
    int c, h, w;
    nn_tensor_shape(s, src, &c, &h, &w);
    nn_layer *l = new_layer(s, NN_AVGPOOL_GLOBAL, src);
    l->kernel = h; /* square inputs only: the models here have them */
    l->c = c, l->h = 1, l->w = 1;
    (void)w;
    return s->n_layers++;
}

int nn_batchnorm(nn_spec *s, int src, int relu) {
    int c, h, w;
    nn_tensor_shape(s, src, &c, &h, &w);
    nn_layer *l = new_layer(s, NN_BATCHNORM, src);
    l->relu = relu;
    l->c = c, l->h = h, l->w = w;
    add_weights(s, l, (size_t)c, (size_t)c);
    l->stat_off = s->n_state;
    s->n_state += 2 * (size_t)c;
    return s->n_layers++;
}

int nn_add(nn_spec *s, int src, int src2, int relu) {
    int c, h, w, c2, h2, w2;
    nn_tensor_shape(s, src, &c, &h, &w);
    nn_tensor_shape(s, src2, &c2, &h2, &w2);
    if (c != c2 || h != h2 || w != w2) alrs_panic("residual add of different shapes");
    nn_layer *l = new_layer(s, NN_ADD, src);
    l->src2 = src2;
    l->relu = relu;
    l->c = c, l->h = h, l->w = w;
    return s->n_layers++;
}

static size_t fan_in(const nn_spec *s, const nn_layer *l) {
    int c, h, w;
    nn_tensor_shape(s, l->src, &c, &h, &w);
    if (l->op == NN_FC) return (size_t)c * h * w;
    return (size_t)c * l->kernel * l->kernel;
}

void nn_init_params(const nn_spec *s, float *params, float *state, rng_stream *rng) {
    for (int i = 0; i < s->n_layers; i++) {
        const nn_layer *l = &s->layers[i];
        if (l->op == NN_CONV || l->op == NN_FC) {
            /* kaiming_uniform(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
            float bound = 1.0f / sqrtf((float)fan_in(s, l));
            for (size_t k = 0; k < l->w_len + l->b_len; k++)
                params[l->w_off + k] = bound * (2.0f * rng_uniform(rng) - 1.0f);
        } else if (l->op == NN_BATCHNORM) {
            for (size_t k = 0; k < l->w_len; k++) params[l->w_off + k] = 1.0f;
            for (size_t k = 0; k < l->b_len; k++) params[l->b_off + k] = 0.0f;
            for (int k = 0; k < l->c; k++) {
                state[l->stat_off + k] = 0.0f;
                state[l->stat_off + l->c + k] = 1.0f;
            }
        }
    }
}

static double layer_macs(const nn_spec *s, const nn_layer *l) {
    if (l->op == NN_CONV || l->op == NN_FC) return (double)l->w_len * l->h * l->w;
    return 0.0;
}

double nn_layer_flops(const nn_spec *s, int i) { return 2.0 * layer_macs(s, &s->layers[i]); }

double nn_flops_forward(const nn_spec *s) {
    double macs = 0;
    for (int i = 0; i < s->n_layers; i++) macs += layer_macs(s, &s->layers[i]);
    return 2.0 * macs;
}

double nn_flops_train(const nn_spec *s) {
    double macs = 0;
    for (int i = 0; i < s->n_layers; i++) {
        double m = layer_macs(s, &s->layers[i]);
        /* forward + backward-weights, and backward-data unless it reads the images */
        macs += s->layers[i].src < 0 ? 2.0 * m : 3.0 * m;
    }
    return 2.0 * macs;
}

const char *nn_op_name(nn_op op) {
    switch (op) {
    case NN_CONV: return "conv";
    case NN_FC: return "fc";
    case NN_MAXPOOL: return "maxpool";
    case NN_AVGPOOL_GLOBAL: return "avgpool";
    case NN_BATCHNORM: return "batchnorm";
    case NN_ADD: return "add";
    }
    return "?";
}

void nn_describe(const nn_spec *s, char *buf, size_t size) {
    size_t used = 0;
    used += (size_t)snprintf(buf, size, "%s: input %dx%dx%d, %zu parameters\n", s->model, s->in_c,
                             s->in_h, s->in_w, s->n_params);
    for (int i = 0; i < s->n_layers && used < size; i++) {
        const nn_layer *l = &s->layers[i];
        used += (size_t)snprintf(buf + used, size - used, "  %2d %-9s <- %2d%s -> %dx%dx%d%s\n", i,
                                 nn_op_name(l->op), l->src, l->op == NN_ADD ? " + other" : "", l->c,
                                 l->h, l->w, l->relu ? " relu" : "");
    }
}

double nn_memory_estimate(const nn_spec *s, int train_batch, int eval_batch) {
    double floats = 6.0 * (double)s->n_params + 2.0 * (double)s->n_state;
    double unrolled = 0;
    for (int i = 0; i < s->n_layers; i++) {
        const nn_layer *l = &s->layers[i];
        double per_image = (double)nn_tensor_floats(s, i);
        floats += per_image * (2.0 * train_batch + eval_batch);
        if (l->op == NN_CONV) { /* im2col: C_in·K² per output position */
            int c, h, w;
            nn_tensor_shape(s, l->src, &c, &h, &w);
            double cols = (double)c * l->kernel * l->kernel * l->h * l->w;
            double batch = train_batch > eval_batch ? train_batch : eval_batch;
            if (cols * batch > unrolled) unrolled = cols * batch;
        }
    }
    floats += (double)nn_tensor_floats(s, -1) * (train_batch + eval_batch);
    return (floats + unrolled) * sizeof(float);
}
