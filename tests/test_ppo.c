/* PPO pieces against numbers worked out by hand: GAE with a termination and a
 * truncation in the middle of the buffer, the clipped surrogate (ratios
 * inside and outside the clip range, positive and negative advantages), the
 * value loss plain and clipped, the gradient-norm clip, one Adam step; then
 * the update itself: config errors (clip range 10 is refused), diagnostics in
 * range, the KL estimate, and determinism given the shuffle stream; and
 * leave-one-out advantages over seed groups. */
#include "core/error.h"
#include "rl/ppo.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static void test_gae(void) {
    rollout_buffer b;
    CHECK(rollout_buffer_init(&b, 4, 2, 1) == 0);
    /* environment 0: values 1 2 3 4, rewards 1 0 2 1, terminated after step 1;
     * environment 1: values .5 1 1.5 2, rewards 0 1 0 1, truncated after step 1
     * (the real final observation was worth 10), terminated after step 3. */
    double v[4][2] = {{1, 0.5}, {2, 1}, {3, 1.5}, {4, 2}};
    double r[4][2] = {{1, 0}, {0, 1}, {2, 0}, {1, 1}};
    unsigned char term[4][2] = {{0, 0}, {1, 0}, {0, 0}, {0, 1}};
    unsigned char trunc[4][2] = {{0, 0}, {0, 1}, {0, 0}, {0, 0}};
    double fv[4][2] = {{0, 0}, {0, 10}, {0, 0}, {0, 0}};
    double obs[2] = {0, 0}, act[2] = {0, 0}, logp[2] = {0, 0};
    for (int t = 0; t < 4; t++) {
        rollout_buffer_record(&b, t, obs, act, logp, v[t]);
        rollout_buffer_outcome(&b, t, r[t], term[t], trunc[t], fv[t]);
    }
    double last[2] = {5, 100}; /* env 1's is never used: its last step terminated */
    rollout_buffer_gae(&b, last, 0.9, 0.8); /* gamma lambda = 0.72 */
    /* env 0, backwards:
     *  t3: next = last 5      delta = 1 + 0.9*5 - 4 = 1.5            A = 1.5
     *  t2: next = v3 = 4      delta = 2 + 0.9*4 - 3 = 2.6            A = 2.6 + 0.72*1.5 = 3.68
     *  t1: terminated, next 0 delta = 0 + 0 - 2 = -2                 A = -2 (episode cut)
     *  t0: next = v1 = 2      delta = 1 + 0.9*2 - 1 = 1.8            A = 1.8 + 0.72*(-2) = 0.36
     * env 1:
     *  t3: terminated         delta = 1 + 0 - 2 = -1                 A = -1
     *  t2: next = v3 = 2      delta = 0 + 0.9*2 - 1.5 = 0.3          A = 0.3 + 0.72*(-1) = -0.42
     *  t1: truncated, next 10 delta = 1 + 0.9*10 - 1 = 9             A = 9 (episode cut)
     *  t0: next = v1 = 1      delta = 0 + 0.9*1 - 0.5 = 0.4          A = 0.4 + 0.72*9 = 6.88
     * returns = A + V. */
    double want_adv[4][2] = {{0.36, 6.88}, {-2, 9}, {3.68, -0.42}, {1.5, -1}};
    for (int t = 0; t < 4; t++)
        for (int e = 0; e < 2; e++) {
            CHECK_NEAR(b.advantage[t * 2 + e], want_adv[t][e], 1e-12);
            CHECK_NEAR(b.ret[t * 2 + e], want_adv[t][e] + v[t][e], 1e-12);
        }
    /* explained variance: returns {1.36, 7.38, 0, 10, 6.68, 1.08, 5.5, 1} vs values */
    double ret[8], val[8], mr = 0, md = 0, vr = 0, vd = 0;
    for (int i = 0; i < 8; i++) ret[i] = b.ret[i], val[i] = b.value[i], mr += ret[i] / 8, md += (ret[i] - val[i]) / 8;
    for (int i = 0; i < 8; i++) vr += (ret[i] - mr) * (ret[i] - mr), vd += (ret[i] - val[i] - md) * (ret[i] - val[i] - md);
    CHECK_NEAR(rollout_buffer_explained_variance(&b), 1 - vd / vr, 1e-12);
    /* lambda = 1, no ends: A_t = sum of discounted rewards + bootstrap - V_t (Monte Carlo) */
    unsigned char none[2] = {0, 0};
    for (int t = 0; t < 4; t++) rollout_buffer_outcome(&b, t, r[t], none, none, NULL);
    rollout_buffer_gae(&b, last, 0.9, 1.0);
    /* env 0: 1 + 0.9*0 + 0.81*2 + 0.729*1 + 0.6561*5 - 1 = 1 + 1.62 + 0.729 + 3.2805 - 1 = 5.6295 */
    CHECK_NEAR(b.advantage[0], 5.6295, 1e-12);
    /* gamma = 1 (--reward log-delta --gamma 1: the return telescopes to the
     * final loss): A_0 = 1 + 0 + 2 + 1 + 5 - 1 = 8 with lambda 1, and with
     * lambda 0 the one-step delta r_0 + V_1 - V_0 = 1 + 2 - 1 = 2 */
    rollout_buffer_gae(&b, last, 1.0, 1.0);
    CHECK_NEAR(b.advantage[0], 8.0, 1e-12);
    rollout_buffer_gae(&b, last, 1.0, 0.0);
    CHECK_NEAR(b.advantage[0], 2.0, 1e-12);
    rollout_buffer_free(&b);
    CHECK(rollout_buffer_init(&b, 0, 2, 1) == -1);
}

/* Leave-one-out group advantages on 3 steps x 4 environments in pairs, gamma
 * 0.5. Pair {0, 1} trains one child throughout; in pair {2, 3} environment
 * 2's child diverged at step 0 and a new episode began (given the same id as
 * 3's on purpose, at another place in it): after step 0 the pair has no
 * peers and keeps GAE's advantages. */
static void test_group_advantages(void) {
    rollout_buffer b;
    CHECK(rollout_buffer_init(&b, 3, 4, 1) == 0);
    double r[3][4] = {{1, 0, -5, 1}, {2, 1, 1, 1}, {3, 1, 1, 1}};
    double v[3][4] = {{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}};
    unsigned char term[3][4] = {{0, 0, 1, 0}, {0}, {0}};
    unsigned char trunc[3][4] = {{0}, {0}, {0, 0, 0, 1}};
    double fv[3][4] = {{0}, {0}, {0, 0, 0, 4}};
    long id[3][4] = {{7, 7, 8, 8}, {7, 7, 8, 8}, {7, 7, 8, 8}};
    int place[3][4] = {{0, 0, 0, 0}, {1, 1, 0, 1}, {2, 2, 1, 2}};
    double obs[4] = {0}, act[4] = {0}, logp[4] = {0}, last[4] = {10, 20, 0, 0};
    for (int t = 0; t < 3; t++) {
        rollout_buffer_record(&b, t, obs, act, logp, v[t]);
        rollout_buffer_outcome(&b, t, r[t], term[t], trunc[t], fv[t]);
        rollout_buffer_place(&b, t, id[t], place[t]);
    }
    rollout_buffer_gae(&b, last, 0.5, 0.9);
    double gae[12], ret[12];
    memcpy(gae, b.advantage, sizeof gae);
    memcpy(ret, b.ret, sizeof ret);
    /* groups of 1: nobody has peers, nothing changes */
    CHECK(rollout_buffer_group_advantages(&b, 1, last, 0.5) == 0);
    CHECK(memcmp(gae, b.advantage, sizeof gae) == 0);
    CHECK(rollout_buffer_group_advantages(&b, 2, last, 0.5) == 8);
    /* returns to go: env 0  4, 6, 8 (3 + 0.5 x 10); env 1  3.25, 6.5, 11;
     * env 2  -5 (terminated); env 3  2.25, 2.5, 3 (1 + 0.5 x final value 4) */
    double want[3][4] = {{0.75, -0.75, -7.25, 7.25}, {-0.5, 0.5, gae[6], gae[7]},
                         {-3, 3, gae[10], gae[11]}};
    for (int t = 0; t < 3; t++)
        for (int e = 0; e < 4; e++) CHECK_NEAR(b.advantage[t * 4 + e], want[t][e], 1e-12);
    CHECK(memcmp(ret, b.ret, sizeof ret) == 0); /* the critic's target stays GAE's */
    rollout_buffer_free(&b);
}

static void test_clipped_surrogate(void) {
    /* eps = 0.2, old log-probs 0, new log-probs log r:
     *  i  r    A    -A r   -A clip(r)  max (the loss term)  gradient -A r / n or 0
     *  0  1.1  +1   -1.1   -1.1        -1.1  inside          -1.1/6
     *  1  1.5  +2   -3.0   -2.4        -2.4  clipped          0
     *  2  0.5  +1   -0.5   -0.8        -0.5  unclipped       -0.5/6  (r fell, A > 0: pushed back up)
     *  3  0.5  -1   +0.5   +0.8        +0.8  clipped          0
     *  4  1.5  -1   +1.5   +1.2        +1.5  unclipped       +1.5/6  (r rose, A < 0: pushed back down)
     *  5  0.9  -2   +1.8   +1.8        +1.8  inside          +1.8/6
     * loss = (-1.1 - 2.4 - 0.5 + 0.8 + 1.5 + 1.8) / 6 = 0.1 / 6
     * clip fraction: |r - 1| > 0.2 for samples 1..4: 4 of 6 */
    double r[6] = {1.1, 1.5, 0.5, 0.5, 1.5, 0.9}, adv[6] = {1, 2, 1, -1, -1, -2};
    double logp_new[6], logp_old[6] = {0}, dlogp[6], clipped = 0, kl = 0;
    for (int i = 0; i < 6; i++) logp_new[i] = log(r[i]);
    double loss = ppo_policy_loss(logp_new, logp_old, adv, 6, 0.2, dlogp, &clipped, &kl);
    CHECK_NEAR(loss, 0.1 / 6, 1e-12);
    double want[6] = {-1.1 / 6, 0, -0.5 / 6, 0, 1.5 / 6, 1.8 / 6};
    for (int i = 0; i < 6; i++) CHECK_NEAR(dlogp[i], want[i], 1e-12);
    CHECK(clipped == 4);
    /* KL estimate (r - 1) - log r: 0.1 - log 1.1, twice 0.5 - log 1.5, twice -0.5 + log 2,
     * -0.1 - log 0.9  = 0.0046898 + 2*0.0945349 + 2*0.1931472 + 0.0053605 = 0.5854145 */
    CHECK_NEAR(kl, 0.5854145, 1e-6);
    /* the gradient is the derivative of the loss (away from the clip edges) */
    for (int i = 0; i < 6; i++) {
        double keep = logp_new[i], h = 1e-6, scratch[6];
        logp_new[i] = keep + h;
        double lp = ppo_policy_loss(logp_new, logp_old, adv, 6, 0.2, scratch, NULL, NULL);
        logp_new[i] = keep - h;
        double lm = ppo_policy_loss(logp_new, logp_old, adv, 6, 0.2, scratch, NULL, NULL);
        logp_new[i] = keep;
        CHECK_NEAR((lp - lm) / (2 * h), dlogp[i], 1e-8);
    }
}

static void test_value_loss(void) {
    /* plain: V = (1, 3), ret = (2, 2): 0.5 * mean(1, 1) = 0.5; dV = (V - ret)/n = (-0.5, 0.5) */
    double v[2] = {1, 3}, v_old[2] = {1.5, 1.0}, ret[2] = {2, 2}, dv[2];
    CHECK_NEAR(ppo_value_loss(v, v_old, ret, 2, 0, dv), 0.5, 1e-15);
    CHECK_NEAR(dv[0], -0.5, 1e-15);
    CHECK_NEAR(dv[1], 0.5, 1e-15);
    /* clipped with eps 0.2:
     *  i0: step -0.5 -> clipped V = 1.3, (1.3-2)^2 = 0.49 < (1-2)^2 = 1: unclipped wins, dV = -1/2
     *  i1: step +2 -> clipped V = 1.2, (1.2-2)^2 = 0.64 < (3-2)^2 = 1: unclipped wins, dV = +1/2
     * loss = 0.5 * (1 + 1)/2 = 0.5 */
    CHECK_NEAR(ppo_value_loss(v, v_old, ret, 2, 0.2, dv), 0.5, 1e-15);
    CHECK_NEAR(dv[0], -0.5, 1e-15);
    /* V = 2.5 from old 1.0, ret 3: clipped V 1.2, (1.2-3)^2 = 3.24 > 0.25: clipped wins, no gradient */
    double v2 = 2.5, old2 = 1.0, ret2 = 3, dv2;
    CHECK_NEAR(ppo_value_loss(&v2, &old2, &ret2, 1, 0.2, &dv2), 0.5 * 3.24, 1e-12);
    CHECK_NEAR(dv2, 0, 0);
}

static void test_grad_clip_and_adam(void) {
    double g[2] = {3, 4}; /* norm 5 */
    CHECK_NEAR(clip_grad_norm(g, 2, 0.5), 5, 1e-15);
    CHECK_NEAR(g[0], 3 * 0.5 / (5 + 1e-6), 1e-15);
    CHECK_NEAR(g[1], 4 * 0.5 / (5 + 1e-6), 1e-15);
    double h[2] = {0.1, 0.1};
    clip_grad_norm(h, 2, 0.5);
    CHECK(h[0] == 0.1); /* under the limit: untouched */
    /* Adam step 1: m = 0.1 g, v = 0.001 g^2; m_hat = g, v_hat = g^2;
     * p -= lr * g / (|g| + eps) = lr * sign(g) * |g|/(|g| + 1e-5) */
    rl_adam a;
    rl_adam_init(&a, 2);
    double p[2] = {1, 1}, gr[2] = {2, -0.5};
    rl_adam_step(&a, p, gr, 0.1);
    CHECK_NEAR(p[0], 1 - 0.1 * 2 / (2 + 1e-5), 1e-12);
    CHECK_NEAR(p[1], 1 + 0.1 * 0.5 / (0.5 + 1e-5), 1e-12);
    CHECK(a.t == 1);
    rl_adam_free(&a);
}

static void test_config(void) {
    ppo_config c = ppo_config_default();
    CHECK(ppo_config_check(&c) == 0);
    CHECK(c.clip == 0.2 && c.ent_coef == 0.0 && c.max_grad_norm == 0.5 && c.lr == 3e-4);
    c.clip = 10; /* the re-implementation's setting: no clipping at all */
    CHECK(ppo_config_check(&c) == -1);
    CHECK(strstr(alrs_error(), "clip range 10") != NULL);
    c = ppo_config_default();
    c.ent_coef = 1.5;
    CHECK(ppo_config_check(&c) == -1);
    c = ppo_config_default();
    c.epochs = 0;
    CHECK(ppo_config_check(&c) == -1);
}

/* A rollout of random data whose advantages favour action 0 with obs[0] > 0. */
static void fill_rollout(rollout_buffer *b, policy *p, uint64_t seed) {
    rng_stream r = rng_make(seed, 0);
    rng_stream acts[8];
    for (int e = 0; e < 8; e++) acts[e] = rng_make(seed, 10 + e);
    double obs[8 * 3], a[8], lp[8], v[8], rew[8];
    for (int t = 0; t < b->steps; t++) {
        for (int i = 0; i < 8 * 3; i++) obs[i] = rng_normal(&r);
        policy_act(p, obs, 8, acts, a, lp, v);
        for (int e = 0; e < 8; e++) rew[e] = (a[e] == 0) == (obs[3 * e] > 0) ? 1.0 : -1.0;
        rollout_buffer_record(b, t, obs, a, lp, v);
        rollout_buffer_outcome(b, t, rew, NULL, NULL, NULL);
    }
    double last[8] = {0};
    rollout_buffer_gae(b, last, 0.99, 0.95);
}

static void test_update(void) {
    policy_config pc = policy_config_default(3, POLICY_CATEGORICAL, 3);
    policy p, q;
    rng_stream init = rng_make(1, 0), init2 = rng_make(1, 0);
    policy_init(&p, &pc, &init);
    policy_init(&q, &pc, &init2);
    rollout_buffer b;
    rollout_buffer_init(&b, 16, 8, 3);
    fill_rollout(&b, &p, 5);
    rl_adam ap, aq;
    rl_adam_init(&ap, p.n_params);
    rl_adam_init(&aq, q.n_params);
    ppo_config c = ppo_config_default();
    c.lr = 3e-3; /* large enough that clipping happens */
    ppo_stats s, s2;
    rng_stream sh = rng_make(1, 2), sh2 = rng_make(1, 2);
    CHECK(ppo_update(&p, &ap, &c, &b, &sh, &s) == 0);
    CHECK(ppo_update(&q, &aq, &c, &b, &sh2, &s2) == 0);
    printf("  update: policy %.4f value %.4f entropy %.4f kl %.5f clipfrac %.3f ev %.3f gradnorm %.3f\n",
           s.policy_loss, s.value_loss, s.entropy, s.approx_kl, s.clip_frac, s.explained_var,
           s.grad_norm);
    CHECK(s.minibatches == 16);
    CHECK(s.approx_kl >= 0 && s.approx_kl < 0.1);
    CHECK(s.clip_frac >= 0 && s.clip_frac <= 1);
    CHECK(s.entropy > 0 && s.entropy <= log(3) + 1e-12);
    CHECK(s.value_loss > 0);
    CHECK(ap.t == 16);
    /* determinism: the same data and stream give the same parameters, bit for bit */
    CHECK(memcmp(p.params, q.params, sizeof(double) * p.n_params) == 0);
    CHECK(memcmp(&s, &s2, sizeof s) == 0);
    /* the first epoch's first minibatch starts at ratio 1: nothing clipped, KL 0; a
     * single-epoch, single-minibatch update has exactly that */
    c.epochs = 1, c.minibatches = 1;
    CHECK(ppo_update(&p, &ap, &c, &b, &sh, &s) == 0); /* stale data vs moved policy: KL > 0 */
    CHECK(s.approx_kl > 0);
    rollout_buffer b2;
    rollout_buffer_init(&b2, 16, 8, 3);
    fill_rollout(&b2, &p, 6);
    CHECK(ppo_update(&p, &ap, &c, &b2, &sh, &s) == 0);
    CHECK_NEAR(s.approx_kl, 0, 1e-15);
    CHECK_NEAR(s.clip_frac, 0, 0);
    /* target KL: the first minibatch (KL 0) steps, the second has moved past
     * 1.5 x a tiny target, and the update stops there, unstepped */
    ppo_config k = ppo_config_default();
    k.target_kl = 1e-12;
    fill_rollout(&b2, &p, 7);
    long t_before = ap.t;
    CHECK(ppo_update(&p, &ap, &k, &b2, &sh, &s) == 0);
    CHECK(s.stopped_early == 1 && s.minibatches == 1 && ap.t == t_before + 1);
    k.target_kl = 10; /* never reached: the whole 4 x 4 */
    CHECK(ppo_update(&p, &ap, &k, &b2, &sh, &s) == 0);
    CHECK(s.stopped_early == 0 && s.minibatches == 16);
    k.target_kl = -1;
    CHECK(ppo_config_check(&k) == -1 && strstr(alrs_error(), "target KL"));
    /* mismatched shapes are refused */
    rl_adam small;
    rl_adam_init(&small, 3);
    CHECK(ppo_update(&p, &small, &c, &b, &sh, &s) == -1);
    CHECK(strstr(alrs_error(), "optimizer holds 3") != NULL);
    c.clip = 10;
    CHECK(ppo_update(&p, &ap, &c, &b, &sh, &s) == -1);
    rl_adam_free(&small), rl_adam_free(&ap), rl_adam_free(&aq);
    rollout_buffer_free(&b), rollout_buffer_free(&b2);
    policy_free(&p), policy_free(&q);
}

/* The policy gradient points the right way: after a few updates on data that
 * rewards action 0 for obs[0] > 0 and another action otherwise, the policy
 * prefers action 0 there. */
static void test_update_direction(void) {
    policy_config pc = policy_config_default(3, POLICY_CATEGORICAL, 3);
    policy p;
    rng_stream init = rng_make(2, 0), sh = rng_make(2, 1);
    policy_init(&p, &pc, &init);
    rl_adam a;
    rl_adam_init(&a, p.n_params);
    rollout_buffer b;
    rollout_buffer_init(&b, 16, 8, 3);
    ppo_config c = ppo_config_default();
    c.lr = 1e-3;
    ppo_stats s;
    for (int u = 0; u < 20; u++) {
        fill_rollout(&b, &p, 100 + u);
        ppo_update(&p, &a, &c, &b, &sh, &s);
    }
    double obs[6] = {1.5, 0, 0, -1.5, 0, 0}, act[2] = {0, 0}, lp[2];
    policy_evaluate(&p, obs, act, 2, lp, NULL, NULL);
    printf("  after 20 updates: P(a=0 | obs0 = 1.5) = %.3f, P(a=0 | obs0 = -1.5) = %.3f\n",
           exp(lp[0]), exp(lp[1]));
    CHECK(exp(lp[0]) > 0.6);
    CHECK(exp(lp[1]) < 0.2);
    rl_adam_free(&a);
    rollout_buffer_free(&b);
    policy_free(&p);
}

int main(void) {
    test_gae();
    test_group_advantages();
    test_clipped_surrogate();
    test_value_loss();
    test_grad_clip_and_adam();
    test_config();
    test_update();
    test_update_direction();
    return test_finish();
}
