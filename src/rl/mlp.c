#include "rl/mlp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

mlp_config mlp_config_default(int n_in, int n_out) {
    mlp_config c;
    memset(&c, 0, sizeof c);
    c.n_in = n_in, c.n_out = n_out;
    c.n_hidden = 2;
    c.hidden[0] = c.hidden[1] = 32;
    c.act = MLP_TANH;
    return c;
}

int mlp_config_check(const mlp_config *c) {
    if (c->n_in < 1 || c->n_in > MLP_MAX_WIDTH)
        return alrs_fail("mlp: input size %d out of range 1..%d", c->n_in, MLP_MAX_WIDTH);
    if (c->n_out < 1 || c->n_out > MLP_MAX_WIDTH)
        return alrs_fail("mlp: output size %d out of range 1..%d", c->n_out, MLP_MAX_WIDTH);
    if (c->n_hidden < 0 || c->n_hidden > MLP_MAX_HIDDEN)
        return alrs_fail("mlp: %d hidden layers (at most %d)", c->n_hidden, MLP_MAX_HIDDEN);
    for (int i = 0; i < c->n_hidden; i++)
        if (c->hidden[i] < 1 || c->hidden[i] > MLP_MAX_WIDTH)
            return alrs_fail("mlp: hidden layer %d width %d out of range 1..%d", i + 1,
                             c->hidden[i], MLP_MAX_WIDTH);
    if (c->act != MLP_TANH && c->act != MLP_RELU)
        return alrs_fail("mlp: unknown activation %d", (int)c->act);
    return 0;
}

/* Width of the input of layer l (l = n_hidden + 1 is the output). */
static int width(const mlp_config *c, int l) {
    if (l == 0) return c->n_in;
    return l <= c->n_hidden ? c->hidden[l - 1] : c->n_out;
}

size_t mlp_param_count(const mlp_config *c) {
    size_t n = 0;
    for (int l = 0; l <= c->n_hidden; l++)
        n += (size_t)width(c, l + 1) * width(c, l) + width(c, l + 1);
    return n;
}

static void bind_views(mlp_layer *views, const mlp_config *c, double *buf) {
    for (int l = 0; l <= c->n_hidden; l++) {
        views[l].n_in = width(c, l);
        views[l].n_out = width(c, l + 1);
        views[l].w = buf;
        views[l].b = buf ? buf + (size_t)views[l].n_out * views[l].n_in : NULL;
        if (buf) buf += (size_t)views[l].n_out * views[l].n_in + views[l].n_out;
    }
}

int mlp_bind(mlp *m, const mlp_config *c, double *params, double *grads) {
    if (mlp_config_check(c) != 0) return -1;
    memset(m, 0, sizeof *m);
    m->cfg = *c;
    m->n_layers = c->n_hidden + 1;
    m->n_params = mlp_param_count(c);
    bind_views(m->param, c, params);
    bind_views(m->grad, c, grads);
    return 0;
}

/* Modified Gram-Schmidt, done twice ("twice is enough", Giraud et al.) so the
 * vectors are orthonormal to rounding even when the Gaussian draw is nearly
 * dependent. v: k vectors of length n (k <= n), row-major. Making each r_ii
 * positive is what Gram-Schmidt does anyway: the same sign fix as
 * torch.nn.init.orthogonal_ applies after its QR, hence the same distribution
 * (Haar). */
static void gram_schmidt(double *v, int k, int n) {
    for (int i = 0; i < k; i++) {
        double *vi = v + (size_t)i * n;
        for (int pass = 0; pass < 2; pass++)
            for (int j = 0; j < i; j++) {
                const double *vj = v + (size_t)j * n;
                double dot = 0;
                for (int p = 0; p < n; p++) dot += vi[p] * vj[p];
                for (int p = 0; p < n; p++) vi[p] -= dot * vj[p];
            }
        double norm = 0;
        for (int p = 0; p < n; p++) norm += vi[p] * vi[p];
        norm = sqrt(norm);
        if (norm < 1e-12) alrs_panic("gram_schmidt: degenerate Gaussian draw");
        for (int p = 0; p < n; p++) vi[p] /= norm;
    }
}

void orthogonal_matrix(double *w, int rows, int cols, double gain, rng_stream *r) {
    /* Orthonormalise the shorter side: k vectors of length n. */
    int k = rows < cols ? rows : cols, n = rows < cols ? cols : rows;
    double *v = alrs_malloc(sizeof(double) * (size_t)k * n);
    for (size_t i = 0; i < (size_t)k * n; i++) v[i] = rng_normal(r);
    gram_schmidt(v, k, n);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            /* rows >= cols: vector j is column j; otherwise vector i is row i */
            w[(size_t)i * cols + j] = gain * (rows >= cols ? v[(size_t)j * n + i]
                                                           : v[(size_t)i * n + j]);
    free(v);
}

void mlp_init_orthogonal(mlp *m, double hidden_gain, double out_gain, rng_stream *r) {
    for (int l = 0; l < m->n_layers; l++) {
        mlp_layer *p = &m->param[l];
        double gain = l == m->n_layers - 1 ? out_gain : hidden_gain;
        orthogonal_matrix(p->w, p->n_out, p->n_in, gain, r);
        memset(p->b, 0, sizeof(double) * p->n_out);
    }
}

int mlp_tape_init(mlp_tape *t, const mlp *m, int max_batch) {
    memset(t, 0, sizeof *t);
    if (max_batch < 1) return alrs_fail("mlp: batch size %d must be positive", max_batch);
    t->max_batch = max_batch;
    int widest = 0;
    for (int l = 0; l < m->n_layers; l++) {
        const mlp_layer *p = &m->param[l];
        t->act[l] = alrs_malloc(sizeof(double) * (size_t)max_batch * p->n_in);
        if (p->n_in > widest) widest = p->n_in;
        if (p->n_out > widest) widest = p->n_out;
    }
    for (int i = 0; i < 2; i++) t->delta[i] = alrs_malloc(sizeof(double) * (size_t)max_batch * widest);
    return 0;
}

void mlp_tape_free(mlp_tape *t) {
    for (int l = 0; l < MLP_MAX_LAYERS; l++) free(t->act[l]);
    free(t->delta[0]);
    free(t->delta[1]);
    memset(t, 0, sizeof *t);
}

/* y [B][out] = x [B][in] W^T + b */
static void linear_forward(const mlp_layer *p, const double *x, int batch, double *y) {
    for (int s = 0; s < batch; s++) {
        const double *xs = x + (size_t)s * p->n_in;
        double *ys = y + (size_t)s * p->n_out;
        for (int o = 0; o < p->n_out; o++) {
            const double *wo = p->w + (size_t)o * p->n_in;
            double acc = p->b[o];
            for (int i = 0; i < p->n_in; i++) acc += wo[i] * xs[i];
            ys[o] = acc;
        }
    }
}

static void activate(mlp_activation act, double *y, size_t n) {
    if (act == MLP_TANH)
        for (size_t i = 0; i < n; i++) y[i] = tanh(y[i]);
    else
        for (size_t i = 0; i < n; i++) y[i] = y[i] > 0 ? y[i] : 0;
}

void mlp_forward(const mlp *m, mlp_tape *t, const double *x, int batch, double *y) {
    if (batch > t->max_batch) alrs_panic("mlp_forward: batch %d > tape's %d", batch, t->max_batch);
    t->batch = batch;
    memcpy(t->act[0], x, sizeof(double) * (size_t)batch * m->cfg.n_in);
    for (int l = 0; l < m->n_layers; l++) {
        int last = l == m->n_layers - 1;
        double *out = last ? y : t->act[l + 1];
        linear_forward(&m->param[l], t->act[l], batch, out);
        if (!last) activate(m->cfg.act, out, (size_t)batch * m->param[l].n_out);
    }
}

/* dW += dy^T x, db += sum dy; dx = dy W (when dx is not NULL). */
static void linear_backward(const mlp_layer *p, const mlp_layer *g, const double *x,
                            const double *dy, int batch, double *dx) {
    for (int s = 0; s < batch; s++) {
        const double *xs = x + (size_t)s * p->n_in, *dys = dy + (size_t)s * p->n_out;
        for (int o = 0; o < p->n_out; o++) {
            double *gwo = g->w + (size_t)o * p->n_in;
            for (int i = 0; i < p->n_in; i++) gwo[i] += dys[o] * xs[i];
            g->b[o] += dys[o];
        }
        if (!dx) continue;
        double *dxs = dx + (size_t)s * p->n_in;
        memset(dxs, 0, sizeof(double) * p->n_in);
        for (int o = 0; o < p->n_out; o++) {
            const double *wo = p->w + (size_t)o * p->n_in;
            for (int i = 0; i < p->n_in; i++) dxs[i] += dys[o] * wo[i];
        }
    }
}

/* d (in place) *= act'(pre), written through the activation's output y. */
static void activate_backward(mlp_activation act, const double *y, double *d, size_t n) {
    if (act == MLP_TANH)
        for (size_t i = 0; i < n; i++) d[i] *= 1.0 - y[i] * y[i];
    else
        for (size_t i = 0; i < n; i++) d[i] = y[i] > 0 ? d[i] : 0;
}

void mlp_backward(const mlp *m, const mlp_tape *t, const double *dy) {
    if (!m->grad[0].w) alrs_panic("mlp_backward: network bound without gradients");
    const double *d = dy;
    for (int l = m->n_layers - 1; l >= 0; l--) {
        double *dx = l > 0 ? t->delta[l & 1] : NULL;
        linear_backward(&m->param[l], &m->grad[l], t->act[l], d, t->batch, dx);
        if (dx) activate_backward(m->cfg.act, t->act[l], dx, (size_t)t->batch * m->param[l].n_in);
        d = dx;
    }
}
