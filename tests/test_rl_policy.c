/* The actor-critic: the learning-rate factor of each action, log-prob and
 * entropy against closed forms, their gradients (and the value's) against
 * finite differences, sampling statistics, determinism of sampling given the
 * streams, the mode, and the initialisation (flat layout, gains, log-std). */
#include "core/error.h"
#include "rl/policy.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586

static void test_lr_factor(void) {
    double d = 0.05;
    CHECK_NEAR(policy_lr_factor(ACTION_DISCRETE, ACTION_UP, d), 1.05, 1e-15);
    CHECK_NEAR(policy_lr_factor(ACTION_DISCRETE, ACTION_DOWN, d), 1 / 1.05, 1e-15);
    CHECK_NEAR(policy_lr_factor(ACTION_DISCRETE, ACTION_KEEP, d), 1.0, 0);
    CHECK_NEAR(policy_lr_factor(ACTION_CONTINUOUS, 0.0, d), 1.0, 1e-15);
    /* u = 1: exp(tanh(1) log 1.05) = 1.05^0.76159 */
    CHECK_NEAR(policy_lr_factor(ACTION_CONTINUOUS, 1.0, d), pow(1.05, tanh(1.0)), 1e-15);
    CHECK_NEAR(policy_lr_factor(ACTION_CONTINUOUS, -1.0, d), pow(1.05, -tanh(1.0)), 1e-15);
    CHECK_NEAR(policy_lr_factor(ACTION_CONTINUOUS, 50.0, d), 1.05, 1e-12); /* limits are the range */
    CHECK_NEAR(policy_lr_factor(ACTION_CONTINUOUS, -50.0, d), 1 / 1.05, 1e-12);
    /* no saturation for moderate u: strictly increasing, strictly inside the range */
    int increasing = 1, inside = 1;
    double prev = 0;
    for (double u = -2; u <= 2.0001; u += 0.05) {
        double f = policy_lr_factor(ACTION_CONTINUOUS, u, d);
        increasing &= f > prev;
        inside &= f > 1 / 1.05 && f < 1.05;
        prev = f;
    }
    CHECK(increasing);
    CHECK(inside);
    /* symmetric in log: f(u) f(-u) = 1 */
    CHECK_NEAR(policy_lr_factor(ACTION_CONTINUOUS, 0.3, d) * policy_lr_factor(ACTION_CONTINUOUS, -0.3, d),
               1.0, 1e-15);
}

static policy make_policy(action_kind kind, int obs, uint64_t seed) {
    policy_config c = policy_config_default(obs, kind);
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
    policy_config bad = policy_config_default(4, ACTION_DISCRETE);
    bad.delta = 0;
    policy q;
    rng_stream r = rng_make(1, 1);
    CHECK(policy_init(&q, &bad, &r) == -1);
    CHECK(strstr(alrs_error(), "delta") != NULL);
    bad = policy_config_default(0, ACTION_DISCRETE);
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

static void gradcheck(action_kind kind) {
    enum { N = 6, D = 4 };
    policy p = make_policy(kind, D, 7);
    rng_stream r = rng_make(7, 1);
    for (size_t i = 0; i < p.n_params; i++) p.params[i] += 0.3 * rng_normal(&r);
    double obs[N * D], act[N], a[N], b[N], c[N];
    for (int i = 0; i < N * D; i++) obs[i] = rng_normal(&r);
    for (int i = 0; i < N; i++) {
        act[i] = kind == ACTION_DISCRETE ? (double)rng_below(&r, 3) : rng_normal(&r);
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
    printf("  policy gradcheck (%s): worst relative error %.2e over %zu params\n",
           kind == ACTION_DISCRETE ? "discrete" : "continuous", worst, p.n_params);
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

int main(void) {
    test_lr_factor();
    test_init();
    test_logp_entropy();
    gradcheck(ACTION_DISCRETE);
    gradcheck(ACTION_CONTINUOUS);
    test_sampling();
    return test_finish();
}
