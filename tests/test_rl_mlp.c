/* The controller's MLP: backward against central finite differences (tanh and
 * ReLU, several shapes), the orthogonal initialisation (W^T W = gain^2 I for
 * tall and square matrices, W W^T = gain^2 I for wide ones; zero biases), its
 * determinism given the stream, and config errors. */
#include "core/error.h"
#include "rl/mlp.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* L = sum_{s,o} c[s][o] y[s][o], so dL/dy = c. */
static double weighted_output(const mlp *m, mlp_tape *t, const double *x, int batch,
                              const double *c) {
    double *y = malloc(sizeof(double) * batch * m->cfg.n_out);
    mlp_forward(m, t, x, batch, y);
    double l = 0;
    for (int i = 0; i < batch * m->cfg.n_out; i++) l += c[i] * y[i];
    free(y);
    return l;
}

static void gradcheck(mlp_config cfg, int batch, uint64_t seed) {
    size_t n = mlp_param_count(&cfg);
    double *params = calloc(n, sizeof(double)), *grads = calloc(n, sizeof(double));
    mlp m;
    CHECK(mlp_bind(&m, &cfg, params, grads) == 0);
    rng_stream r = rng_make(seed, 0);
    mlp_init_orthogonal(&m, 1.3, 0.7, &r);
    for (size_t i = 0; i < n; i++) params[i] += 0.1 * rng_normal(&r); /* nonzero biases too */
    double *x = malloc(sizeof(double) * batch * cfg.n_in), *c = malloc(sizeof(double) * batch * cfg.n_out);
    for (int i = 0; i < batch * cfg.n_in; i++) x[i] = rng_normal(&r);
    for (int i = 0; i < batch * cfg.n_out; i++) c[i] = rng_normal(&r);
    mlp_tape t;
    CHECK(mlp_tape_init(&t, &m, batch) == 0);

    double *y = malloc(sizeof(double) * batch * cfg.n_out);
    mlp_forward(&m, &t, x, batch, y);
    mlp_backward(&m, &t, c);
    mlp_backward(&m, &t, c); /* backward accumulates: twice the gradient */
    double worst = 0;
    const double h = 1e-6;
    for (size_t i = 0; i < n; i++) {
        double keep = params[i];
        params[i] = keep + h;
        double lp = weighted_output(&m, &t, x, batch, c);
        params[i] = keep - h;
        double lm = weighted_output(&m, &t, x, batch, c);
        params[i] = keep;
        double fd = (lp - lm) / (2 * h), an = grads[i] / 2;
        /* floor 1e-4: a difference quotient carries ~1e-10 of rounding */
        double err = fabs(fd - an) / (1e-4 + fabs(fd) + fabs(an));
        /* ReLU kinks: a perturbation crossing zero spoils the difference; skip those */
        if (cfg.act == MLP_RELU && err > 1e-4) continue;
        if (err > worst) worst = err;
    }
    printf("  gradcheck %d->...->%d act=%d batch=%d: worst relative error %.2e over %zu params\n",
           cfg.n_in, cfg.n_out, (int)cfg.act, batch, worst, n);
    CHECK(worst < 1e-6);
    mlp_tape_free(&t);
    free(params), free(grads), free(x), free(c), free(y);
}

static void test_gradients(void) {
    gradcheck(mlp_config_default(6, 3), 5, 1);
    mlp_config c = {.n_in = 4, .n_out = 2, .n_hidden = 3, .hidden = {7, 5, 9}, .act = MLP_TANH};
    gradcheck(c, 3, 2);
    c.act = MLP_RELU;
    gradcheck(c, 3, 3);
    mlp_config linear = {.n_in = 3, .n_out = 1, .n_hidden = 0, .act = MLP_TANH};
    gradcheck(linear, 4, 4);
}

/* max |(W^T W or W W^T) - gain^2 I| */
static double gram_error(const double *w, int rows, int cols, double gain) {
    int tall = rows >= cols, k = tall ? cols : rows;
    double worst = 0;
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++) {
            double dot = 0;
            if (tall)
                for (int i = 0; i < rows; i++) dot += w[i * cols + a] * w[i * cols + b];
            else
                for (int j = 0; j < cols; j++) dot += w[a * cols + j] * w[b * cols + j];
            double err = fabs(dot - (a == b ? gain * gain : 0));
            worst = err > worst ? err : worst;
        }
    return worst;
}

static void test_orthogonal(void) {
    mlp_config cfg = mlp_config_default(7, 3);
    size_t n = mlp_param_count(&cfg);
    CHECK(n == (size_t)(32 * 7 + 32) + (32 * 32 + 32) + (3 * 32 + 3));
    double *params = calloc(n, sizeof(double));
    mlp m;
    CHECK(mlp_bind(&m, &cfg, params, NULL) == 0);
    rng_stream r = rng_make(42, 0);
    mlp_init_orthogonal(&m, sqrt(2.0), 0.01, &r);
    /* layer 0: 32 x 7 (tall) -> W^T W = 2 I_7; layer 1: 32 x 32; layer 2: 3 x 32 (wide) */
    CHECK(gram_error(m.param[0].w, 32, 7, sqrt(2.0)) < 1e-12);
    CHECK(gram_error(m.param[1].w, 32, 32, sqrt(2.0)) < 1e-12);
    CHECK(gram_error(m.param[2].w, 3, 32, 0.01) < 1e-15);
    int zero_bias = 1;
    for (int l = 0; l < 3; l++)
        for (int o = 0; o < m.param[l].n_out; o++) zero_bias &= m.param[l].b[o] == 0;
    CHECK(zero_bias);
    /* square: both Gram matrices are identities (orthogonal matrix) */
    double sq[16 * 16];
    rng_stream r2 = rng_make(5, 9);
    orthogonal_matrix(sq, 16, 16, 1.0, &r2);
    double wwt = 0;
    for (int a = 0; a < 16; a++)
        for (int b = 0; b < 16; b++) {
            double dot = 0;
            for (int j = 0; j < 16; j++) dot += sq[a * 16 + j] * sq[b * 16 + j];
            wwt = fmax(wwt, fabs(dot - (a == b)));
        }
    CHECK(wwt < 1e-12);
    /* determinism: the same stream gives the same weights; another stream others */
    double *again = calloc(n, sizeof(double));
    mlp m2;
    mlp_bind(&m2, &cfg, again, NULL);
    rng_stream same = rng_make(42, 0), other = rng_make(42, 1);
    mlp_init_orthogonal(&m2, sqrt(2.0), 0.01, &same);
    CHECK(memcmp(params, again, n * sizeof(double)) == 0);
    mlp_init_orthogonal(&m2, sqrt(2.0), 0.01, &other);
    CHECK(memcmp(params, again, n * sizeof(double)) != 0);
    free(params), free(again);
}

static void test_forward_by_hand(void) {
    /* 2 -> 1 linear: y = w . x + b, then one tanh layer 2 -> 2 -> 1 */
    mlp_config c = {.n_in = 2, .n_out = 1, .n_hidden = 1, .hidden = {2}, .act = MLP_TANH};
    double p[9] = {/* W0 */ 1, 0, 0, 2, /* b0 */ 0.5, -1, /* W1 */ 3, -1, /* b1 */ 0.25};
    mlp m;
    CHECK(mlp_bind(&m, &c, p, NULL) == 0);
    mlp_tape t;
    mlp_tape_init(&t, &m, 2);
    double x[4] = {0.1, 0.2, -1, 1}, y[2];
    mlp_forward(&m, &t, x, 2, y);
    /* row 0: h = tanh(0.1 + 0.5, 0.4 - 1) = tanh(0.6), tanh(-0.6); y = 3h0 - h1 + 0.25 */
    CHECK_NEAR(y[0], 3 * tanh(0.6) - tanh(-0.6) + 0.25, 1e-15);
    /* row 1: h = tanh(-0.5), tanh(1) */
    CHECK_NEAR(y[1], 3 * tanh(-0.5) - tanh(1.0) + 0.25, 1e-15);
    mlp_tape_free(&t);
}

static void test_config_errors(void) {
    mlp m;
    double p[1];
    mlp_config c = mlp_config_default(0, 3);
    CHECK(mlp_bind(&m, &c, p, NULL) == -1);
    CHECK(strstr(alrs_error(), "input size 0") != NULL);
    c = mlp_config_default(3, 3);
    c.n_hidden = MLP_MAX_HIDDEN + 1;
    CHECK(mlp_bind(&m, &c, p, NULL) == -1);
    c = mlp_config_default(3, 3);
    c.hidden[1] = 0;
    CHECK(mlp_bind(&m, &c, p, NULL) == -1);
    CHECK(strstr(alrs_error(), "hidden layer 2 width 0") != NULL);
    c = mlp_config_default(3, 3);
    mlp_tape t;
    mlp_bind(&m, &c, p, NULL);
    CHECK(mlp_tape_init(&t, &m, 0) == -1);
}

int main(void) {
    test_gradients();
    test_orthogonal();
    test_forward_by_hand();
    test_config_errors();
    return test_finish();
}
