/* The elementwise kernels (kernels/elementwise*.c): every SIMD version this
 * CPU runs against the plain-C reference on odd sizes, with and without ReLU;
 * the references against hand-worked values, finite differences, and the
 * optimizer and loss code whose semantics they copy.
 *
 * Tolerances: SIMD vs reference 1e-5 normwise relative error (max |ref - got|
 * over max |ref|) for anything with a sum, exp or FMA in it; exact where the
 * kernel is one add or one compare per element. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "optim/optimizer.h"
#include "testutil.h"

#define TOL 1e-5

/* 20011: above the 16384 at which Adam splits over threads (ADAM_COST), under
 * the 65536 of the streaming kernels */
static const size_t flat_sizes[] = {1, 7, 17, 63, 129, 20011, 1000003};
#define N_FLAT (sizeof flat_sizes / sizeof flat_sizes[0])

static kernel_table table_for(alrs_isa isa) {
    kernel_table t;
    memset(&t, 0, sizeof t);
    t.isa = isa;
    elementwise_register(&t, isa);
    return t;
}

static unsigned rng_state = 12345u;
static float uniform(float lo, float hi) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)(rng_state >> 8) / 16777216.0f;
}
static float *random_floats(size_t n, float lo, float hi) {
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = uniform(lo, hi);
    return x;
}
static float *copy_of(const float *x, size_t n) {
    float *y = malloc(n * sizeof *y);
    memcpy(y, x, n * sizeof *y);
    return y;
}

/* max |ref - got| / max |ref| (the absolute error when ref is all zeros). */
static double rel_err(const float *ref, const float *got, size_t n) {
    double err = 0.0, scale = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)ref[i] - got[i]);
        if (d > err || isnan(d)) err = isnan(d) ? INFINITY : d;
        if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
    }
    return scale > 0.0 ? err / scale : err;
}

/* ---- SIMD against the reference ---- */

static void check_adam(const kernel_table *ref, const kernel_table *k) {
    for (size_t s = 0; s < N_FLAT; s++) {
        size_t n = flat_sizes[s];
        float *p = random_floats(n, -1, 1), *g = random_floats(n, -2, 2);
        float *m = random_floats(n, -0.1f, 0.1f), *v = random_floats(n, 0, 0.01f);
        float *p2 = copy_of(p, n), *m2 = copy_of(m, n), *v2 = copy_of(v, n);
        for (int wd = 0; wd < 2; wd++) {
            /* t = 3, lr = 0.01: step = lr/(1 - 0.9^3), inv_bc2 = 1/sqrt(1 - 0.999^3) */
            float step = 0.01f / 0.271f, inv_bc2 = 1.0f / sqrtf(0.002997001f);
            ref->adam(n, p, g, m, v, 0.9f, 0.999f, step, inv_bc2, 1e-8f, wd ? 1e-2f : 0.0f);
            k->adam(n, p2, g, m2, v2, 0.9f, 0.999f, step, inv_bc2, 1e-8f, wd ? 1e-2f : 0.0f);
            CHECK(rel_err(p, p2, n) <= TOL);
            CHECK(rel_err(m, m2, n) <= TOL);
            CHECK(rel_err(v, v2, n) <= TOL);
        }
        free(p), free(g), free(m), free(v), free(p2), free(m2), free(v2);
    }
}

static void check_flat(const kernel_table *ref, const kernel_table *k) {
    for (size_t s = 0; s < N_FLAT; s++) {
        size_t n = flat_sizes[s];
        float *a = random_floats(n, -1, 1), *b = random_floats(n, -1, 1);
        float *d1 = malloc(n * sizeof *d1), *d2 = malloc(n * sizeof *d2);
        for (int relu = 0; relu < 2; relu++) {
            ref->add(n, a, b, d1, relu);
            k->add(n, a, b, d2, relu);
            CHECK(rel_err(d1, d2, n) == 0.0);
            float *inplace = copy_of(a, n);
            k->add(n, inplace, b, inplace, relu);
            CHECK(rel_err(d1, inplace, n) == 0.0);
            free(inplace);
        }
        memcpy(d1, b, n * sizeof *d1);
        memcpy(d2, b, n * sizeof *d2);
        ref->relu_bwd(n, a, d1);
        k->relu_bwd(n, a, d2);
        CHECK(rel_err(d1, d2, n) == 0.0);

        double mean1, var1, mean2, var2;
        for (size_t i = 0; i < n; i++) a[i] = 1000.0f + a[i]; /* an offset the variance must survive */
        ref->mean_var(a, n, &mean1, &var1);
        k->mean_var(a, n, &mean2, &var2);
        CHECK_NEAR(mean2, mean1, 1e-12 * fabs(mean1));
        CHECK_NEAR(var2, var1, 1e-9 * var1 + 1e-12);
        free(a), free(b), free(d1), free(d2);
    }
}

typedef struct {
    int rows, cols, inner;
} bias_case;

static void check_bias(const kernel_table *ref, const kernel_table *k) {
    static const bias_case cases[] = {{1, 1, 1},   {7, 17, 1},  {129, 63, 1}, {3, 5, 63},
                                      {2, 3, 129}, {9, 7, 17},  {4, 3, 7},    {3, 7, 4099}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const bias_case *bc = &cases[c];
        size_t n = (size_t)bc->rows * bc->cols * bc->inner;
        float *x = random_floats(n, -1, 1), *bias = random_floats((size_t)bc->cols, -0.5f, 0.5f);
        for (int relu = 0; relu < 2; relu++) {
            float *x1 = copy_of(x, n), *x2 = copy_of(x, n);
            ref->bias_relu(bc->rows, bc->cols, bc->inner, x1, bias, relu);
            k->bias_relu(bc->rows, bc->cols, bc->inner, x2, bias, relu);
            CHECK(rel_err(x1, x2, n) == 0.0);
            free(x1), free(x2);
        }
        float *db1 = malloc(bc->cols * sizeof *db1), *db2 = malloc(bc->cols * sizeof *db2);
        ref->bias_bwd(bc->rows, bc->cols, bc->inner, x, db1);
        k->bias_bwd(bc->rows, bc->cols, bc->inner, x, db2);
        CHECK(rel_err(db1, db2, (size_t)bc->cols) <= TOL);
        k->bias_bwd(bc->rows, bc->cols, bc->inner, x, NULL); /* no bias: nothing to do */
        free(x), free(bias), free(db1), free(db2);
    }
}

typedef struct {
    int n, c, hw;
} bn_case;

static const bn_case bn_cases[] = {{1, 1, 1}, {3, 5, 7}, {7, 3, 17}, {5, 2, 63},
                                   {3, 3, 129}, {1, 1, 1000003}, {3, 7, 4099}};

/* Data with a per-channel offset (mean 3, spread ±1): the statistics must not
 * lose it to cancellation. */
static float *bn_input(const bn_case *b) {
    size_t count = (size_t)b->n * b->c * b->hw;
    float *x = random_floats(count, -1, 1);
    for (size_t i = 0; i < count; i++) x[i] += 3.0f + (float)((i / b->hw) % b->c);
    return x;
}

static void check_bn_case(const kernel_table *ref, const kernel_table *k, const bn_case *b,
                          int relu) {
    const size_t count = (size_t)b->n * b->c * b->hw, c = (size_t)b->c;
    float *x = bn_input(b), *gamma = random_floats(c, 0.5f, 1.5f), *beta = random_floats(c, -1, 1);
    float *dd = random_floats(count, -1, 1);
    float *y1 = malloc(count * 4), *y2 = malloc(count * 4), *ds1 = malloc(count * 4),
          *ds2 = malloc(count * 4);
    float *mean1 = malloc(c * 4), *var1 = malloc(c * 4), *mean2 = malloc(c * 4),
          *var2 = malloc(c * 4), *dg1 = malloc(c * 4), *db1 = malloc(c * 4), *dg2 = malloc(c * 4),
          *db2 = malloc(c * 4);
    ref->bn_fwd_train(b->n, b->c, b->hw, x, gamma, beta, 1e-5f, relu, y1, mean1, var1);
    k->bn_fwd_train(b->n, b->c, b->hw, x, gamma, beta, 1e-5f, relu, y2, mean2, var2);
    CHECK(rel_err(y1, y2, count) <= TOL);
    CHECK(rel_err(mean1, mean2, c) <= TOL);
    CHECK(rel_err(var1, var2, c) <= TOL);

    ref->bn_fwd_infer(b->n, b->c, b->hw, x, gamma, beta, mean1, var1, 1e-5f, relu, y2);
    CHECK(rel_err(y1, y2, count) <= TOL); /* inference with the batch statistics = training */
    k->bn_fwd_infer(b->n, b->c, b->hw, x, gamma, beta, mean1, var1, 1e-5f, relu, y2);
    CHECK(rel_err(y1, y2, count) <= TOL);

    ref->bn_bwd(b->n, b->c, b->hw, x, y1, dd, gamma, mean1, var1, 1e-5f, relu, ds1, dg1, db1);
    k->bn_bwd(b->n, b->c, b->hw, x, y1, dd, gamma, mean1, var1, 1e-5f, relu, ds2, dg2, db2);
    CHECK(rel_err(ds1, ds2, count) <= TOL);
    CHECK(rel_err(dg1, dg2, c) <= TOL);
    CHECK(rel_err(db1, db2, c) <= TOL);
    /* in place: diff_src = diff_dst */
    k->bn_bwd(b->n, b->c, b->hw, x, y1, dd, gamma, mean1, var1, 1e-5f, relu, dd, dg2, db2);
    CHECK(rel_err(ds1, dd, count) <= TOL);
    free(x), free(gamma), free(beta), free(dd), free(y1), free(y2), free(ds1), free(ds2);
    free(mean1), free(var1), free(mean2), free(var2), free(dg1), free(db1), free(dg2), free(db2);
}

static void check_bn(const kernel_table *ref, const kernel_table *k) {
    for (size_t i = 0; i < sizeof bn_cases / sizeof bn_cases[0]; i++)
        for (int relu = 0; relu < 2; relu++) check_bn_case(ref, k, &bn_cases[i], relu);
}

static void check_avgpool(const kernel_table *ref, const kernel_table *k) {
    for (size_t i = 0; i < sizeof bn_cases / sizeof bn_cases[0]; i++) {
        const bn_case *b = &bn_cases[i];
        size_t planes = (size_t)b->n * b->c, count = planes * b->hw;
        float *x = random_floats(count, -1, 1), *p1 = malloc(planes * 4), *p2 = malloc(planes * 4);
        float *g1 = malloc(count * 4), *g2 = malloc(count * 4);
        ref->avgpool_fwd(b->n, b->c, b->hw, x, p1);
        k->avgpool_fwd(b->n, b->c, b->hw, x, p2);
        CHECK(rel_err(p1, p2, planes) <= TOL);
        ref->avgpool_bwd(b->n, b->c, b->hw, p1, g1);
        k->avgpool_bwd(b->n, b->c, b->hw, p1, g2);
        CHECK(rel_err(g1, g2, count) <= TOL);
        free(x), free(p1), free(p2), free(g1), free(g2);
    }
}

static void check_softmax(const kernel_table *ref, const kernel_table *k) {
    static const int rows[] = {1, 7, 17, 63, 129}, classes[] = {10, 1, 3, 16, 17};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        for (size_t c = 0; c < sizeof classes / sizeof classes[0]; c++) {
            int n = rows[r], cl = classes[c];
            size_t count = (size_t)n * cl;
            float *z = random_floats(count, -5, 5);
            z[0] = -120.0f; /* an exp that underflows */
            if (cl > 2 && n > 1) z[cl] = z[cl + 2] = 9.0f; /* a tie for the argmax in row 1 */
            uint8_t *labels = malloc((size_t)n);
            for (int i = 0; i < n; i++) labels[i] = (uint8_t)(i * 7 % cl);
            float *g1 = malloc(count * 4), *g2 = malloc(count * 4), *p1 = malloc(count * 4),
                  *p2 = malloc(count * 4);
            int c1 = -1, c2 = -2;
            double l1 = ref->softmax_xent(z, labels, n, cl, (float)n, g1, p1, &c1);
            double l2 = k->softmax_xent(z, labels, n, cl, (float)n, g2, p2, &c2);
            CHECK_NEAR(l2, l1, TOL * fabs(l1) + 1e-6);
            CHECK(c1 == c2);
            CHECK(rel_err(g1, g2, count) <= TOL);
            CHECK(rel_err(p1, p2, count) <= TOL);
            l2 = k->softmax_xent(z, labels, n, cl, 1.0f, NULL, NULL, NULL);
            CHECK_NEAR(l2, l1, TOL * fabs(l1) + 1e-6);
            free(z), free(labels), free(g1), free(g2), free(p1), free(p2);
        }
}

/* ---- the references against values worked out by other means ---- */

/* One p = 1 with g = 1, -1, 2 over three steps, lr 0.1, betas (0.9, 0.999), eps 1e-8:
 *   t=1: m = 0.1,   v = 0.001;    m̂ = 0.1/0.1 = 1,          v̂ = 0.001/0.001 = 1
 *        p = 1 - 0.1·1/(1 + 1e-8) = 0.9
 *   t=2: m = 0.09 - 0.1 = -0.01;  v = 0.000999 + 0.001 = 0.001999
 *        m̂ = -0.01/0.19 = -0.0526316, v̂ = 0.001999/0.001999 = 1
 *        p = 0.9 + 0.1·0.0526316 = 0.9052632
 *   t=3: m = -0.009 + 0.2 = 0.191; v = 0.001997001 + 0.004 = 0.005997001
 *        m̂ = 0.191/0.271 = 0.7047970, v̂ = 0.005997001/0.002997001 = 2.0010007, √v̂ = 1.4145673
 *        p = 0.9052632 - 0.1·0.7047970/1.4145673 = 0.8554389
 * And weight decay 0.5 on the first step with g = 1: g' = 1.5, m = 0.15, v = 0.00225.
 * The kernel takes float betas (as adam_loop does): 1 - 0.999f is 0.00099998713, 1.3e-5
 * below 0.001, so v is held to 3e-5 relative. */
static void check_adam_by_hand(const kernel_table *ref) {
    static const float grads[3] = {1.0f, -1.0f, 2.0f};
    static const double want_p[3] = {0.9, 0.9052631588, 0.8554389448};
    static const double want_m[3] = {0.1, -0.01, 0.191}, want_v[3] = {0.001, 0.001999, 0.005997001};
    float p = 1.0f, m = 0.0f, v = 0.0f;
    for (int t = 1; t <= 3; t++) {
        float step = (float)(0.1 / (1.0 - pow(0.9, t)));
        float inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(0.999, t)));
        ref->adam(1, &p, &grads[t - 1], &m, &v, 0.9f, 0.999f, step, inv_bc2, 1e-8f, 0.0f);
        CHECK_NEAR(p, want_p[t - 1], 1e-6);
        CHECK_NEAR(m, want_m[t - 1], 1e-7);
        CHECK_NEAR(v, want_v[t - 1], 3e-5 * want_v[t - 1]);
    }
    p = 1.0f, m = 0.0f, v = 0.0f;
    float g = 1.0f;
    ref->adam(1, &p, &g, &m, &v, 0.9f, 0.999f, 1.0f /* 0.1/(1 - 0.9) */, 1.0f / sqrtf(0.001f), 1e-8f, 0.5f);
    CHECK_NEAR(m, 0.15, 1e-7);
    CHECK_NEAR(v, 0.00225, 3e-5 * 0.00225);
    CHECK_NEAR(p, 0.9, 1e-6);
}

/* The kernel and src/optim's Adam agree over three steps (both torch.optim.Adam). */
static void check_adam_vs_optimizer(const kernel_table *ref) {
    const size_t n = 1001;
    float *p = random_floats(n, -1, 1), *p2 = copy_of(p, n);
    float *m = calloc(n, 4), *v = calloc(n, 4);
    optimizer o;
    CHECK(optimizer_init(&o, "adam", n) == 0);
    o.weight_decay = 1e-3;
    for (int t = 1; t <= 3; t++) {
        float *g = random_floats(n, -1, 1);
        optimizer_step(&o, p2, g, 0.01);
        float step = (float)(0.01 / (1.0 - pow(0.9, t)));
        float inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(0.999, t)));
        ref->adam(n, p, g, m, v, 0.9f, 0.999f, step, inv_bc2, 1e-8f, 1e-3f);
        free(g);
    }
    CHECK(rel_err(p2, p, n) <= 1e-6);
    CHECK(rel_err(o.m, m, n) <= 1e-6);
    CHECK(rel_err(o.v, v, n) <= 1e-6);
    optimizer_free(&o);
    free(p), free(p2), free(m), free(v);
}

static void check_softmax_by_hand(const kernel_table *ref) {
    /* z = (0, ln 3), label 1: p = (1/4, 3/4), loss = -ln(3/4), grad = p - (0, 1) */
    const float z[2] = {0.0f, (float)log(3.0)};
    const uint8_t label = 1;
    float grad[2], probs[2];
    int correct = -1;
    double loss = ref->softmax_xent(z, &label, 1, 2, 1.0f, grad, probs, &correct);
    CHECK_NEAR(loss, 0.2876820725, 1e-7);
    CHECK_NEAR(probs[0], 0.25, 1e-7);
    CHECK_NEAR(probs[1], 0.75, 1e-7);
    CHECK_NEAR(grad[0], 0.25, 1e-7);
    CHECK_NEAR(grad[1], -0.25, 1e-7);
    CHECK(correct == 1);
}

/* grad = d(loss/scale)/dz by central differences with h = 2^-7. */
static void check_softmax_fd(const kernel_table *ref) {
    const int n = 3, cl = 10;
    const float h = 1.0f / 128.0f;
    float *z = random_floats((size_t)n * cl, -3, 3), grad[30];
    const uint8_t labels[3] = {2, 9, 0};
    ref->softmax_xent(z, labels, n, cl, (float)n, grad, NULL, NULL);
    for (int i = 0; i < n * cl; i++) {
        float keep = z[i];
        z[i] = keep + h;
        double up = ref->softmax_xent(z, labels, n, cl, (float)n, NULL, NULL, NULL);
        z[i] = keep - h;
        double down = ref->softmax_xent(z, labels, n, cl, (float)n, NULL, NULL, NULL);
        z[i] = keep;
        CHECK_NEAR(grad[i], (up - down) / (2.0 * h) / n, 1e-4);
    }
    free(z);
}

static void check_bn_by_hand(const kernel_table *ref) {
    /* x = 1,2,3,4: mean 2.5, var 1.25; gamma 2, beta 1, eps 0: y = 2(x - 2.5)/√1.25 + 1 */
    const float x[4] = {1, 2, 3, 4}, gamma = 2.0f, beta = 1.0f;
    const double want[4] = {-1.6832815730, 0.1055728090, 1.8944271910, 3.6832815730};
    float y[4], mean, var;
    for (int relu = 0; relu < 2; relu++) {
        ref->bn_fwd_train(1, 1, 4, x, &gamma, &beta, 0.0f, relu, y, &mean, &var);
        CHECK_NEAR(mean, 2.5, 1e-7);
        CHECK_NEAR(var, 1.25, 1e-7);
        for (int i = 0; i < 4; i++) CHECK_NEAR(y[i], relu && want[i] < 0 ? 0.0 : want[i], 1e-6);
    }
}

/* L = Σ w·bn(x; gamma, beta): the weights w are diff_dst. */
static double bn_loss(const kernel_table *ref, int n, int c, int hw, const float *x,
                      const float *gamma, const float *beta, const float *w) {
    float y[64], mean[8], var[8];
    ref->bn_fwd_train(n, c, hw, x, gamma, beta, 1e-5f, 0, y, mean, var);
    double l = 0.0;
    for (int i = 0; i < n * c * hw; i++) l += (double)w[i] * y[i];
    return l;
}

static double central_difference(const kernel_table *ref, int n, int c, int hw, float *x,
                                 float *gamma, float *beta, const float *w, float *param) {
    const float h = 1.0f / 256.0f, keep = *param;
    *param = keep + h;
    double up = bn_loss(ref, n, c, hw, x, gamma, beta, w);
    *param = keep - h;
    double down = bn_loss(ref, n, c, hw, x, gamma, beta, w);
    *param = keep;
    return (up - down) / (2.0 * h);
}

static void check_bn_fd(const kernel_table *ref) {
    enum { N = 2, C = 2, HW = 3, COUNT = N * C * HW };
    float *x = random_floats(COUNT, -2, 2), *w = random_floats(COUNT, -1, 1);
    float gamma[C] = {1.3f, 0.7f}, beta[C] = {0.2f, -0.4f};
    float y[COUNT], mean[C], var[C], dx[COUNT], dg[C], db[C];
    ref->bn_fwd_train(N, C, HW, x, gamma, beta, 1e-5f, 0, y, mean, var);
    ref->bn_bwd(N, C, HW, x, y, w, gamma, mean, var, 1e-5f, 0, dx, dg, db);
    for (int i = 0; i < COUNT; i++)
        CHECK_NEAR(dx[i], central_difference(ref, N, C, HW, x, gamma, beta, w, &x[i]), 2e-3);
    for (int i = 0; i < C; i++) {
        CHECK_NEAR(dg[i], central_difference(ref, N, C, HW, x, gamma, beta, w, &gamma[i]), 2e-3);
        CHECK_NEAR(db[i], central_difference(ref, N, C, HW, x, gamma, beta, w, &beta[i]), 2e-3);
    }
    /* With a fused ReLU the backward pass is the plain one on diff_dst masked by dst > 0. */
    float masked[COUNT], dx2[COUNT], dg2[C], db2[C];
    ref->bn_fwd_train(N, C, HW, x, gamma, beta, 1e-5f, 1, y, mean, var);
    for (int i = 0; i < COUNT; i++) masked[i] = y[i] > 0 ? w[i] : 0.0f;
    ref->bn_bwd(N, C, HW, x, y, w, gamma, mean, var, 1e-5f, 1, dx, dg, db);
    ref->bn_bwd(N, C, HW, x, NULL, masked, gamma, mean, var, 1e-5f, 0, dx2, dg2, db2);
    CHECK(rel_err(dx2, dx, COUNT) == 0.0);
    CHECK(rel_err(dg2, dg, C) == 0.0 && rel_err(db2, db, C) == 0.0);
    free(x), free(w);
}

static void check_small_by_hand(const kernel_table *ref) {
    const float x[8] = {1, 2, 3, 6, -1, -1, 0, 6};
    float pooled[2], back[8], db[2];
    ref->avgpool_fwd(1, 2, 4, x, pooled);
    CHECK(pooled[0] == 3.0f && pooled[1] == 1.0f);
    const float g[2] = {8.0f, -4.0f};
    ref->avgpool_bwd(1, 2, 4, g, back);
    CHECK(back[0] == 2.0f && back[3] == 2.0f && back[4] == -1.0f && back[7] == -1.0f);
    /* rows 2 × cols 2 × inner 2: column 0 holds 1,2,-1,-1; column 1 holds 3,6,0,6 */
    ref->bias_bwd(2, 2, 2, x, db);
    CHECK(db[0] == 1.0f && db[1] == 15.0f);
    double mean, var;
    ref->mean_var(x, 8, &mean, &var); /* mean 16/8 = 2; Σ(x-2)² = 1+0+1+16+9+9+4+16 = 56 */
    CHECK_NEAR(mean, 2.0, 1e-15);
    CHECK_NEAR(var, 7.0, 1e-15);
}

int main(void) {
    const kernel_table ref = table_for(ISA_SCALAR);
    check_adam_by_hand(&ref);
    check_adam_vs_optimizer(&ref);
    check_softmax_by_hand(&ref);
    check_softmax_fd(&ref);
    check_bn_by_hand(&ref);
    check_bn_fd(&ref);
    check_small_by_hand(&ref);
    for (alrs_isa isa = ISA_AVX2; isa <= cpu_best_isa(); isa++) {
        const kernel_table k = table_for(isa);
        int before = test_failed;
        check_adam(&ref, &k);
        check_flat(&ref, &k);
        check_bias(&ref, &k);
        check_bn(&ref, &k);
        check_avgpool(&ref, &k);
        check_softmax(&ref, &k);
        printf("%s: %s\n", cpu_isa_name(isa), test_failed == before ? "ok" : "FAILED");
    }
    return test_finish();
}
