/* The actor-critic: log-prob and
 * entropy against closed forms, their gradients (and the value's) against
 * finite differences, sampling statistics, determinism of sampling given the
 * streams, the mode, and the initialisation (flat layout, gains, log-std). */
#include "core/error.h"
#include "rl/policy.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586

/* The two distributions these tests use: three logits, or one Gaussian. */
#define ACTION_DISCRETE POLICY_CATEGORICAL
#define ACTION_CONTINUOUS POLICY_GAUSSIAN

static policy make_policy(policy_dist kind, int obs, uint64_t seed) {
    policy_config c = policy_config_default(obs, kind, 3);
    policy p;
    rng_stream r = rng_make(seed, 0);
    if (policy_init(&p, &c, &r) != 0) fprintf(stderr, "policy_init: %s\n", alrs_error());
    return p;
}

static void test_init(void) {
    policy p = make_policy(ACTION_CONTINUOUS, 5, 1);
    /* actor 5->32->32->1 and critic 5->32->32->1, then log_std */
    size_t net = (32 * 5 + 32) + (32 * 32 + 32) + (1 * 32 + 1);
    CHECK(p.n_params == 2 * net + 1);
    CHECK(p.critic.param[0].w == p.params + net);
    CHECK(p.log_std == p.params + 2 * net);
    CHECK_NEAR(*p.log_std, log(0.5), 1e-15);
    /* output gains: actor 0.01 (one row: norm 0.01), critic 1 */
    double na = 0, nc = 0;
    for (int j = 0; j < 32; j++) {
        na += p.actor.param[2].w[j] * p.actor.param[2].w[j];
        nc += p.critic.param[2].w[j] * p.critic.param[2].w[j];
    }
    CHECK_NEAR(sqrt(na), 0.01, 1e-14);
    CHECK_NEAR(sqrt(nc), 1.0, 1e-12);
    policy_free(&p);
    policy d = make_policy(ACTION_DISCRETE, 5, 1);
    CHECK(d.n_params == 2 * net + 2 * 32 + 2); /* 3 logits: two more rows of 32 and biases; no log_std */
    CHECK(d.log_std == NULL);
    policy_free(&d);
    policy_config bad = policy_config_default(4, ACTION_DISCRETE, 1);
    policy q;
    rng_stream r = rng_make(1, 1);
    CHECK(policy_init(&q, &bad, &r) == -1);
    CHECK(strstr(alrs_error(), "discrete actions") != NULL);
    bad = policy_config_default(4, ACTION_DISCRETE, POLICY_MAX_ACTIONS + 1);
    CHECK(policy_init(&q, &bad, &r) == -1);
    bad = policy_config_default(0, ACTION_DISCRETE, 3);
    CHECK(policy_init(&q, &bad, &r) == -1);
}

/* Closed forms of log-prob and entropy. */
static void test_logp_entropy(void) {
    policy p = make_policy(ACTION_DISCRETE, 3, 2);
    for (size_t i = 0; i < p.n_params; i++) p.params[i] *= 30; /* sharper logits */
    double obs[2 * 3] = {0.5, -1, 2, 0.1, 0.2, -0.3};
    double act[2] = {0, 2}, logp[2], ent[2], val[2], logits[6];
    policy_evaluate(&p, obs, act, 2, logp, ent, val);
    memcpy(logits, p.out, sizeof logits);
    for (int i = 0; i < 2; i++) {
        const double *z = logits + 3 * i;
        double s = exp(z[0]) + exp(z[1]) + exp(z[2]), h = 0;
        for (int k = 0; k < 3; k++) h -= exp(z[k]) / s * log(exp(z[k]) / s);
        CHECK_NEAR(logp[i], z[(int)act[i]] - log(s), 1e-12);
        CHECK_NEAR(ent[i], h, 1e-12);
    }
    double v2[2];
    policy_value(&p, obs, 2, v2);
    CHECK_NEAR(v2[0], val[0], 0);
    CHECK_NEAR(v2[1], val[1], 0);
    policy_free(&p);

    policy c = make_policy(ACTION_CONTINUOUS, 3, 3);
    *c.log_std = log(0.3);
    double u[2] = {0.7, -0.2}, mean[2];
    policy_mode(&c, obs, 2, mean);
    policy_evaluate(&c, obs, u, 2, logp, ent, NULL);
    for (int i = 0; i < 2; i++) {
        double e = (u[i] - mean[i]) / 0.3;
        CHECK_NEAR(logp[i], -0.5 * e * e - log(0.3) - 0.5 * log(TWO_PI), 1e-12);
        CHECK_NEAR(ent[i], 0.5 + 0.5 * log(TWO_PI) + log(0.3), 1e-12);
    }
    policy_free(&c);
}

/* L = sum_i a_i logp_i + b_i H_i + c_i V_i for random a, b, c. */
static double objective(policy *p, const double *obs, const double *act, int n, const double *a,
                        const double *b, const double *c) {
    double logp[8], ent[8], val[8], l = 0;
    policy_evaluate(p, obs, act, n, logp, ent, val);
    for (int i = 0; i < n; i++) l += a[i] * logp[i] + b[i] * ent[i] + c[i] * val[i];
    return l;
}

static void gradcheck(policy_dist kind, int n_actions) {
    enum { N = 6, D = 4 };
    policy_config pc = policy_config_default(D, kind, n_actions);
    policy p;
    rng_stream init = rng_make(7, 0);
    CHECK(policy_init(&p, &pc, &init) == 0);
    rng_stream r = rng_make(7, 1);
    for (size_t i = 0; i < p.n_params; i++) p.params[i] += 0.3 * rng_normal(&r);
    double obs[N * D], act[N], a[N], b[N], c[N];
    for (int i = 0; i < N * D; i++) obs[i] = rng_normal(&r);
    for (int i = 0; i < N; i++) {
        act[i] = kind == ACTION_DISCRETE ? (double)rng_below(&r, (uint64_t)n_actions) : rng_normal(&r);
        a[i] = rng_normal(&r), b[i] = rng_normal(&r), c[i] = rng_normal(&r);
    }
    objective(&p, obs, act, N, a, b, c);
    policy_zero_grad(&p);
    policy_backward(&p, a, b, c);
    double *g = malloc(sizeof(double) * p.n_params);
    memcpy(g, p.grads, sizeof(double) * p.n_params);
    double worst = 0;
    const double h = 1e-5; /* the objective is O(10): rounding ~1e-16 * 10 / h */
    for (size_t i = 0; i < p.n_params; i++) {
        double keep = p.params[i];
        p.params[i] = keep + h;
        double lp = objective(&p, obs, act, N, a, b, c);
        p.params[i] = keep - h;
        double lm = objective(&p, obs, act, N, a, b, c);
        p.params[i] = keep;
        double fd = (lp - lm) / (2 * h);
        /* floor 1e-3: the difference quotient of an O(30) objective carries ~3e-10 */
        double err = fabs(fd - g[i]) / (1e-3 + fabs(fd) + fabs(g[i]));
        worst = err > worst ? err : worst;
    }
    printf("  policy gradcheck (%s, %d outputs): worst relative error %.2e over %zu params\n",
           kind == ACTION_DISCRETE ? "discrete" : "continuous", n_actions, worst, p.n_params);
    CHECK(worst < 1e-6);
    free(g);
    policy_free(&p);
}

static void test_sampling(void) {
    enum { N = 20000 };
    /* discrete: one observation repeated; frequencies match the softmax */
    policy p = make_policy(ACTION_DISCRETE, 2, 11);
    for (size_t i = 0; i < p.n_params; i++) p.params[i] *= 60;
    double *obs = malloc(sizeof(double) * N * 2), *act = malloc(sizeof(double) * N),
           *logp = malloc(sizeof(double) * N), *val = malloc(sizeof(double) * N);
    rng_stream *rs = malloc(sizeof(rng_stream) * N);
    for (int i = 0; i < N; i++) obs[2 * i] = 0.4, obs[2 * i + 1] = -0.7, rs[i] = rng_make(99, i);
    policy_act(&p, obs, N, rs, act, logp, val);
    int count[3] = {0};
    for (int i = 0; i < N; i++) count[(int)act[i]]++;
    double a0 = 0, a1 = 1, a2 = 2, lp[3];
    policy_evaluate(&p, obs, &a0, 1, &lp[0], NULL, NULL);
    policy_evaluate(&p, obs, &a1, 1, &lp[1], NULL, NULL);
    policy_evaluate(&p, obs, &a2, 1, &lp[2], NULL, NULL);
    printf("  discrete: probabilities %.3f %.3f %.3f, frequencies %.3f %.3f %.3f\n", exp(lp[0]),
           exp(lp[1]), exp(lp[2]), count[0] / (double)N, count[1] / (double)N, count[2] / (double)N);
    for (int k = 0; k < 3; k++) CHECK_NEAR(count[k] / (double)N, exp(lp[k]), 0.015);
    CHECK(exp(lp[0]) + exp(lp[1]) + exp(lp[2]) > 1 - 1e-12);
    /* the log-prob recorded when acting is the one evaluate gives */
    CHECK_NEAR(logp[5], lp[(int)act[5]], 1e-14);
    /* mode = argmax */
    double mode;
    policy_mode(&p, obs, 1, &mode);
    int best = lp[0] >= lp[1] && lp[0] >= lp[2] ? 0 : lp[1] >= lp[2] ? 1 : 2;
    CHECK(mode == best);
    /* same streams, same actions */
    double *again = malloc(sizeof(double) * N);
    for (int i = 0; i < N; i++) rs[i] = rng_make(99, i);
    policy_act(&p, obs, N, rs, again, logp, NULL);
    CHECK(memcmp(act, again, sizeof(double) * N) == 0);
    /* a row's draw depends only on its own stream: acting on row 7 alone gives the same */
    rng_stream one = rng_make(99, 7);
    double single, single_logp;
    policy_act(&p, obs, 1, &one, &single, &single_logp, NULL);
    CHECK(single == act[7]);
    policy_free(&p);

    /* continuous: mean and std of the samples */
    policy c = make_policy(ACTION_CONTINUOUS, 2, 12);
    *c.log_std = log(0.5);
    for (int i = 0; i < N; i++) rs[i] = rng_make(98, i);
    policy_act(&c, obs, N, rs, act, logp, NULL);
    double mu, s1 = 0, s2 = 0;
    policy_mode(&c, obs, 1, &mu);
    for (int i = 0; i < N; i++) s1 += act[i], s2 += act[i] * act[i];
    double m = s1 / N, sd = sqrt(s2 / N - m * m);
    printf("  continuous: mean %.4f (policy %.4f), std %.4f (policy 0.5)\n", m, mu, sd);
    CHECK_NEAR(m, mu, 0.02);
    CHECK_NEAR(sd, 0.5, 0.01);
    policy_free(&c);
    free(obs), free(act), free(logp), free(val), free(rs), free(again);
}

/* policy_prefer: the preferred action is the mode for any observation, the
 * Gaussian's mean is exactly 0, and the hidden layers start learning once
 * the output weights move (their gradient is not stuck at zero for long). */
static void test_prefer(void) {
    policy_config pc = policy_config_default(4, ACTION_DISCRETE, 5);
    policy p;
    rng_stream r = rng_make(21, 0);
    CHECK(policy_init(&p, &pc, &r) == 0);
    policy_prefer(&p, 2, 1.0);
    int mode_ok = 1;
    double obs[4 * 50], mode[50];
    for (int i = 0; i < 4 * 50; i++) obs[i] = 5 * rng_normal(&r);
    policy_mode(&p, obs, 50, mode);
    for (int i = 0; i < 50; i++) mode_ok &= mode[i] == 2;
    CHECK(mode_ok);
    double a = 2, logp;
    policy_evaluate(&p, obs, &a, 1, &logp, NULL, NULL);
    CHECK_NEAR(exp(logp), exp(1.0) / (exp(1.0) + 4), 1e-12); /* 0.40 */
    /* the output layer gets a gradient at once */
    double dlogp = 1;
    policy_zero_grad(&p);
    policy_evaluate(&p, obs, &a, 1, &logp, NULL, NULL);
    policy_backward(&p, &dlogp, NULL, NULL);
    const mlp_layer *out = &p.actor.grad[p.actor.n_layers - 1];
    double g = 0;
    for (int i = 0; i < out->n_in * out->n_out; i++) g += fabs(out->w[i]);
    CHECK(g > 0);
    policy_free(&p);

    pc = policy_config_default(4, ACTION_CONTINUOUS, 1);
    CHECK(policy_init(&p, &pc, &r) == 0);
    policy_prefer(&p, -1, 1.0);
    policy_mode(&p, obs, 50, mode);
    int zero = 1;
    for (int i = 0; i < 50; i++) zero &= mode[i] == 0.0;
    CHECK(zero);
    policy_free(&p);
}

int main(void) {
    test_init();
    test_logp_entropy();
    gradcheck(ACTION_DISCRETE, 3);
    gradcheck(ACTION_DISCRETE, 5);
    gradcheck(ACTION_CONTINUOUS, 1);
    test_prefer();
    test_sampling();
    return test_finish();
}
