/* The learning-rate environment: features against an independent
 * recomputation, determinism per (seed, episode), initial rates, bounds,
 * divergence, rewards; and child_run_reset against a fresh child run. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "env/lr_env.h"
#include "nn/net.h"
#include "child/child.h"
#include "testutil.h"

enum { VAL_SIZE = 60, MAX_T = 64 };
/* The default discrete actions: x(1+delta), /(1+delta), keep. */
enum { ACTION_UP = 0, ACTION_DOWN = 1, ACTION_KEEP = 2 };
/* The paper's seven features: the default observation. */
#define LR_ENV_OBS LR_ENV_PAPER_OBS

/* Discrete factors 1+d, 1/(1+d), 1 (and the continuous range d). */
static void set_delta(lr_env_config *c, double d) {
    c->action.delta = d;
    c->action.factors[0] = 1 + d;
    c->action.factors[1] = 1 / (1 + d);
}

static dataset data;

static child_config small_child(const char *optimizer) {
    return test_small_mlp(optimizer, NULL, 50, VAL_SIZE);
}

static lr_env_config small_env(const char *optimizer) {
    return test_small_env(optimizer, NULL, 50, VAL_SIZE);
}

/* ---- independent recomputation ------------------------------------------ */

static double naive_var(const double *x, int n) {
    double m = 0, s = 0;
    for (int i = 0; i < n; i++) m += x[i];
    m /= n;
    for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return s / n;
}

/* Probabilities of the first VAL_SIZE validation images, straight from the net. */
static double val_probs(lr_env *e, double *p) {
    int n = VAL_SIZE * data.classes;
    float *f = malloc(sizeof(float) * (size_t)n);
    double loss, acc;
    nn_net_evaluate(e->child.net, data.val.images, data.val.labels, VAL_SIZE, &loss, &acc, f);
    for (int i = 0; i < n; i++) p[i] = f[i];
    free(f);
    return loss;
}

static void weight_stats(const child_run *r, double *mean, double *log_var) {
    const nn_layer *l = &r->spec.layers[r->spec.n_layers - 1];
    int n = (int)l->w_len;
    double *w = malloc(sizeof(double) * (size_t)n);
    double m = 0;
    for (int i = 0; i < n; i++) m += (w[i] = r->params[l->w_off + i]);
    *mean = m / n;
    *log_var = log(naive_var(w, n) + 1e-10);
    free(w);
}

static void test_child_reset(void) {
    child_config c5 = small_child("adam"), c9 = small_child("adam");
    c5.seed = 5;
    c9.seed = 9;
    child_run a, b;
    CHECK(child_run_create(&a, &c5, &data) == 0);
    CHECK(child_run_create(&b, &c9, &data) == 0);
    double l, acc;
    for (int k = 0; k < 7; k++) child_run_step(&a, 1e-2);
    child_run_validate(&a, &l, &acc);
    child_run_reset(&a, 9);
    CHECK(a.step == 0 && a.best_step == -1 && isinf(a.best_val_loss) && a.cfg.seed == 9);
    CHECK(a.opt.t == 0);
    CHECK(!memcmp(a.params, b.params, sizeof(float) * a.spec.n_params));
    int same = 1;
    for (int k = 0; k < 15; k++) same &= child_run_step(&a, 1e-3) == child_run_step(&b, 1e-3);
    CHECK(same);
    CHECK(!memcmp(a.params, b.params, sizeof(float) * a.spec.n_params));
    /* the probabilities variant: same loss as child_run_validate, one row per image */
    float *p = malloc(sizeof(float) * VAL_SIZE * (size_t)data.classes);
    double l2, acc2;
    child_run_validate(&b, &l, &acc);
    child_run_validate_probs(&a, &l2, &acc2, p);
    CHECK(l == l2 && acc == acc2 && a.best_step == 15);
    double rowsum = 0;
    for (int c = 0; c < data.classes; c++) rowsum += p[(VAL_SIZE - 1) * data.classes + c];
    CHECK_NEAR(rowsum, 1.0, 1e-5);
    free(p);
    child_run_free(&a);
    child_run_free(&b);
}

/* Runs an episode with the env and checks every observation and reward
 * against a recomputation: the probabilities from nn_net_evaluate, the
 * variances and EMAs by hand, the training losses from a shadow child run
 * built with the episode's seed and fed the same rates. */
static void test_features(void) {
    lr_env_config cfg = small_env("adam");
    lr_env e;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    CHECK(e.n_agent == 8);
    double obs[LR_ENV_OBS];
    lr_env_reset(&e, 42, 0, obs);
    const lr_env_episode *ep = lr_env_episode_record(&e);
    double lr0 = ep->initial_lr;
    CHECK(lr0 == 1e-2 || lr0 == 1e-3 || lr0 == 1e-4);

    int n = VAL_SIZE * data.classes;
    double *p = malloc(sizeof(double) * n), *prev = malloc(sizeof(double) * n);
    double *diff = malloc(sizeof(double) * n);
    double loss = val_probs(&e, p);
    double pred_ema = log(naive_var(p, n) + 1e-10), change_ema = 0, wm, wv;
    weight_stats(&e.child, &wm, &wv);
    CHECK_NEAR(obs[LR_OBS_TRAIN_LOSS], log(loss), 1e-12);
    CHECK_NEAR(obs[LR_OBS_VAL_LOSS], log(loss), 1e-12);
    CHECK_NEAR(obs[LR_OBS_PRED_VAR], pred_ema, 1e-9);
    CHECK(obs[LR_OBS_PRED_CHANGE] == log(1e-10));
    CHECK_NEAR(obs[LR_OBS_W_MEAN], wm, 1e-12);
    CHECK_NEAR(obs[LR_OBS_W_LOGVAR], wv, 1e-9);
    CHECK(obs[LR_OBS_LOG_LR] == log(lr0));
    CHECK(ep->initial_val_loss == loss && ep->best_step == 0 && ep->agent_steps == 0);

    child_config sc = cfg.child;
    sc.seed = ep->seed; /* the documented seeding: the child uses the episode seed */
    child_run shadow;
    CHECK(child_run_create(&shadow, &sc, &data) == 0);
    CHECK(!memcmp(shadow.params, e.child.params, sizeof(float) * shadow.spec.n_params));

    const double actions[8] = {ACTION_UP, ACTION_UP, ACTION_KEEP, ACTION_DOWN,
                               ACTION_UP, 7 /* out of range: keep */, ACTION_DOWN, ACTION_DOWN};
    double lr = lr0;
    int ok_train = 1, ok_change = 1, ok_pred = 1, ok_w = 1, ok_lr = 1, ok_rew = 1, ok_flags = 1;
    for (int t = 0; t < 8; t++) {
        double factor = actions[t] == ACTION_UP ? 1.05 : actions[t] == ACTION_DOWN ? 1 / 1.05 : 1;
        lr *= factor;
        double r;
        int term, trunc;
        lr_env_step(&e, actions[t], obs, &r, &term, &trunc);
        ok_flags &= term == 0 && trunc == (t == 7);
        double sum = 0;
        for (int k = 0; k < 5; k++) sum += child_run_step(&shadow, lr);
        ok_train &= fabs(obs[LR_OBS_TRAIN_LOSS] - log(sum / 5)) < 1e-12;
        ok_lr &= fabs(obs[LR_OBS_LOG_LR] - log(lr)) < 1e-12 && fabs(ep->lr[t] - lr) < 1e-15;
        memcpy(prev, p, sizeof(double) * n);
        loss = val_probs(&e, p);
        ok_rew &= r == -loss && ep->val_loss[t] == loss && obs[LR_OBS_VAL_LOSS] == log(loss);
        pred_ema = 0.8 * pred_ema + 0.2 * log(naive_var(p, n) + 1e-10);
        ok_pred &= fabs(obs[LR_OBS_PRED_VAR] - pred_ema) < 1e-9;
        for (int i = 0; i < n; i++) diff[i] = p[i] - prev[i];
        double change = log(naive_var(diff, n) + 1e-10);
        change_ema = t == 0 ? change : 0.8 * change_ema + 0.2 * change;
        ok_change &= fabs(obs[LR_OBS_PRED_CHANGE] - change_ema) < 1e-7;
        weight_stats(&e.child, &wm, &wv);
        ok_w &= fabs(obs[LR_OBS_W_MEAN] - wm) < 1e-12 && fabs(obs[LR_OBS_W_LOGVAR] - wv) < 1e-9;
        if (fabs(obs[LR_OBS_PRED_CHANGE] - change_ema) >= 1e-7)
            fprintf(stderr, "  t %d change %.12g expected %.12g\n", t, obs[LR_OBS_PRED_CHANGE],
                    change_ema);
    }
    CHECK(ok_train);
    CHECK(ok_lr);
    CHECK(ok_rew);
    CHECK(ok_pred);
    CHECK(ok_change);
    CHECK(ok_w);
    CHECK(ok_flags);
    CHECK(!memcmp(shadow.params, e.child.params, sizeof(float) * shadow.spec.n_params));
    CHECK(ep->done && !ep->diverged && ep->agent_steps == 8 && ep->child_steps == 40);
    CHECK(ep->final_val_loss == loss);
    CHECK(ep->best_val_loss <= ep->initial_val_loss && ep->best_val_loss == e.child.best_val_loss);
    CHECK(ep->best_val_loss < ep->initial_val_loss); /* it learned something */
    CHECK(ep->wall_s >= 0);
    child_run_free(&shadow);
    free(p);
    free(prev);
    free(diff);
    lr_env_free(&e);
}

/* One whole episode with a fixed action pattern: observations and rewards. */
static void run_episode(lr_env *e, uint64_t seed, long episode, double *obs, double *rew) {
    lr_env_reset(e, seed, episode, obs);
    for (int t = 0; t < e->n_agent; t++) {
        int term, trunc;
        lr_env_step(e, (double)(t % 3), obs + (size_t)(t + 1) * LR_ENV_OBS, &rew[t], &term, &trunc);
    }
}

static void test_determinism(void) {
    lr_env_config cfg = small_env("adam");
    cfg.lr_noise = 0.1;
    lr_env a, b;
    CHECK(lr_env_create(&a, &cfg, &data) == 0);
    CHECK(lr_env_create(&b, &cfg, &data) == 0);
    size_t no = (size_t)(a.n_agent + 1) * LR_ENV_OBS;
    double o1[MAX_T * LR_ENV_OBS], o2[MAX_T * LR_ENV_OBS], o3[MAX_T * LR_ENV_OBS];
    double r1[MAX_T], r2[MAX_T], r3[MAX_T], lr1[MAX_T];
    run_episode(&a, 7, 2, o1, r1);
    memcpy(lr1, a.ep.lr, sizeof(double) * a.n_agent);
    /* noise is on and relative: the rate wanders around the pure product */
    double pure = a.ep.initial_lr;
    int noisy = 0, bounded = 1;
    for (int t = 0; t < a.n_agent; t++) {
        pure *= exp(lr_action_effect(&cfg.action, t % 3));
        noisy |= lr1[t] != pure;
        bounded &= lr1[t] > 0;
    }
    CHECK(noisy && bounded);
    run_episode(&a, 7, 3, o2, r2);
    CHECK(memcmp(o1, o2, sizeof(double) * no) != 0);
    run_episode(&b, 7, 2, o3, r3); /* another env: another thread's view */
    CHECK(!memcmp(o1, o3, sizeof(double) * no));
    CHECK(!memcmp(r1, r3, sizeof(double) * a.n_agent));
    run_episode(&a, 7, 2, o2, r2); /* the same env after a different episode */
    CHECK(!memcmp(o1, o2, sizeof(double) * no));
    CHECK(!memcmp(r1, r2, sizeof(double) * a.n_agent));
    CHECK(!memcmp(lr1, a.ep.lr, sizeof(double) * a.n_agent));
    run_episode(&a, 8, 2, o2, r2); /* another seed */
    CHECK(memcmp(o1, o2, sizeof(double) * no) != 0);
    lr_env_free(&a);
    lr_env_free(&b);
}

/* lr_fixed 0 draws from the three rates; a fixed rate draws nothing, and
 * leaves the episode otherwise identical (separate streams). */
static void test_initial_rate(void) {
    lr_env_config cfg = small_env("adam");
    cfg.steps = 10;
    lr_env e;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    double obs[MAX_T * LR_ENV_OBS], rew[MAX_T];
    int seen[3] = {0, 0, 0};
    long with_1e3 = -1;
    for (long k = 0; k < 30; k++) {
        lr_env_reset(&e, 3, k, obs);
        double lr = e.ep.initial_lr;
        seen[0] += lr == 1e-2, seen[1] += lr == 1e-3, seen[2] += lr == 1e-4;
        if (lr == 1e-3 && with_1e3 < 0) with_1e3 = k;
    }
    CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0 && seen[0] + seen[1] + seen[2] == 30);
    CHECK(with_1e3 >= 0);
    double drawn_obs[MAX_T * LR_ENV_OBS], drawn_rew[MAX_T];
    run_episode(&e, 3, with_1e3, drawn_obs, drawn_rew);
    lr_env_free(&e);

    cfg.lr_fixed = 1e-3;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    int fixed = 1;
    for (long k = 0; k < 10; k++) {
        lr_env_reset(&e, 3, k, obs);
        fixed &= e.ep.initial_lr == 1e-3;
    }
    CHECK(fixed);
    run_episode(&e, 3, with_1e3, obs, rew);
    size_t no = (size_t)(e.n_agent + 1) * LR_ENV_OBS;
    CHECK(!memcmp(obs, drawn_obs, sizeof(double) * no));
    CHECK(!memcmp(rew, drawn_rew, sizeof(double) * e.n_agent));
    lr_env_free(&e);
}

/* A hidden scale: each episode's child trains at the controller's rate times
 * s from [1/R, R] (stream 5), which the rate the environment reports and
 * observes leaves out; the same episode without it at a starting rate of
 * rate x s trains the same child. Off (1), every scale is 1. */
static void test_hidden_scale(void) {
    lr_env_config cfg = small_env("sgd");
    cfg.steps = 10;
    cfg.lr_fixed = 1e-2;
    cfg.lr_hidden_scale = 4;
    lr_env e;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    double obs[MAX_T * LR_ENV_OBS], rew[MAX_T], val[MAX_T];
    int below = 0, above = 0, inside = 1;
    for (long k = 0; k < 20; k++) {
        lr_env_reset(&e, 5, k, obs);
        double s = e.ep.lr_scale;
        inside &= s >= 0.25 && s <= 4;
        below += s < 1, above += s > 1;
    }
    CHECK(inside && below > 0 && above > 0);
    lr_env_reset(&e, 5, 3, obs);
    double s = e.ep.lr_scale;
    int keep = 2, n = e.n_agent; /* factor 1: the rate stays where it started */
    for (int t = 0; t < n; t++) {
        int term, trunc;
        lr_env_step(&e, keep, obs, &rew[t], &term, &trunc);
        val[t] = e.ep.val_loss[t];
    }
    CHECK(fabs(e.ep.lr[n - 1] / 1e-2 - 1) < 1e-12); /* the controller's rate, not the child's */
    lr_env_free(&e);

    cfg.lr_hidden_scale = 1;
    cfg.lr_fixed = 1e-2 * s;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    lr_env_reset(&e, 5, 3, obs);
    CHECK(e.ep.lr_scale == 1);
    int same = 1;
    for (int t = 0; t < n; t++) {
        int term, trunc;
        double r;
        lr_env_step(&e, keep, obs, &r, &term, &trunc);
        same &= fabs(e.ep.val_loss[t] - val[t]) <= 1e-6 * fabs(val[t]);
    }
    CHECK(same);
    lr_env_free(&e);
    cfg.lr_hidden_scale = 0.5;
    CHECK(lr_env_config_check(&cfg) != 0 && strstr(alrs_error(), "hidden rate scale"));
}

static void test_bounds(void) {
    lr_env_config cfg = small_env("adam");
    set_delta(&cfg, 1.0); /* x2 per step */
    cfg.lr_fixed = 1e-2;
    cfg.lr_max = 1e-3; /* the initial rate is clipped too */
    cfg.lr_min = 2e-4;
    cfg.action.kind = LR_ACTION_CONTINUOUS;
    lr_env e;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    double obs[LR_ENV_OBS], r;
    int term, trunc;
    lr_env_reset(&e, 1, 0, obs);
    CHECK(e.ep.initial_lr == 1e-3 && obs[LR_OBS_LOG_LR] == log(1e-3));
    lr_env_step(&e, 1e6, obs, &r, &term, &trunc); /* a huge action: factor 2, clipped */
    CHECK(e.ep.lr[0] == 1e-3 && obs[LR_OBS_LOG_LR] == log(1e-3));
    lr_env_step(&e, -1e6, obs, &r, &term, &trunc); /* halves */
    CHECK_NEAR(e.ep.lr[1], 5e-4, 1e-18);
    lr_env_step(&e, -INFINITY, obs, &r, &term, &trunc);
    CHECK_NEAR(e.ep.lr[2], 2.5e-4, 1e-18);
    lr_env_step(&e, -1e6, obs, &r, &term, &trunc); /* 1.25e-4 -> lr_min */
    CHECK(e.ep.lr[3] == 2e-4 && obs[LR_OBS_LOG_LR] == log(2e-4));
    lr_env_step(&e, NAN, obs, &r, &term, &trunc); /* a NaN action keeps the rate */
    CHECK(e.ep.lr[4] == 2e-4);
    lr_env_step(&e, 0.0, obs, &r, &term, &trunc); /* tanh(0) = 0: factor 1 */
    CHECK(e.ep.lr[5] == 2e-4 && !term && !trunc);
    lr_env_free(&e);

    /* noise never escapes the bounds either */
    cfg = small_env("adam");
    cfg.lr_noise = 3.0;
    cfg.lr_fixed = 1e-3;
    cfg.lr_min = 1e-4;
    cfg.lr_max = 1e-2;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    double o[MAX_T * LR_ENV_OBS], rw[MAX_T];
    run_episode(&e, 1, 0, o, rw);
    int in = 1, at_bound = 0;
    for (int t = 0; t < e.n_agent; t++) {
        in &= e.ep.lr[t] >= 1e-4 && e.ep.lr[t] <= 1e-2;
        at_bound += e.ep.lr[t] == 1e-4 || e.ep.lr[t] == 1e-2;
    }
    CHECK(in && at_bound > 0);
    lr_env_free(&e);
}

/* LR_FEAT_POSITION: the rate observed as its place within the bounds (what an
 * absolute action names), the same from any start; no extra value. */
static void test_position_feature(void) {
    lr_env_config cfg = small_env("adam");
    cfg.action.kind = LR_ACTION_ABSOLUTE;
    cfg.lr_min = 1e-3, cfg.lr_max = 1e-1;
    cfg.features = LR_FEAT_RELATIVE | LR_FEAT_POSITION;
    CHECK(lr_env_obs_size(cfg.features) == lr_env_obs_size(LR_FEAT_RELATIVE));
    CHECK(!strcmp(lr_env_feature_name(cfg.features, LR_OBS_LOG_LR), "lr_position"));
    double starts[2] = {1e-2, 1e-1}, expect[2] = {0.0, 1.0};
    for (int k = 0; k < 2; k++) {
        cfg.lr_fixed = starts[k];
        lr_env e;
        CHECK(lr_env_create(&e, &cfg, &data) == 0);
        double obs[LR_ENV_MAX_OBS], r;
        int term, trunc;
        lr_env_reset(&e, 1, 0, obs);
        CHECK_NEAR(obs[LR_OBS_LOG_LR], expect[k], 1e-12);
        lr_env_step(&e, -1e6, obs, &r, &term, &trunc); /* to the lower bound */
        CHECK_NEAR(e.ep.lr[0], 1e-3, 1e-15);
        CHECK(obs[LR_OBS_LOG_LR] == -1.0);
        lr_env_step(&e, 0.0, obs, &r, &term, &trunc); /* the middle, 1e-2 */
        CHECK_NEAR(e.ep.lr[1], 1e-2, 1e-15);
        CHECK_NEAR(obs[LR_OBS_LOG_LR], 0.0, 1e-12);
        lr_env_free(&e);
    }
    unsigned bits;
    CHECK(lr_env_features_parse("relative,position", &bits) == 0 && bits == cfg.features);
}

/* An uneven last chunk, and the other reward kinds. */
static void test_rewards(void) {
    lr_env_config cfg = small_env("adam");
    cfg.steps = 23;
    cfg.reward = LR_REWARD_LOG_DELTA;
    lr_env e;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    CHECK(e.n_agent == 5);
    double obs[MAX_T * LR_ENV_OBS], rew[MAX_T];
    run_episode(&e, 4, 0, obs, rew);
    double sum = 0;
    for (int t = 0; t < 5; t++) sum += rew[t];
    CHECK(e.ep.child_steps == 23 && e.ep.agent_steps == 5 && e.ep.done);
    CHECK_NEAR(sum, log(e.ep.initial_val_loss) - log(e.ep.final_val_loss), 1e-12);
    CHECK_NEAR(e.ep.total_reward, sum, 1e-12);
    CHECK(sum > 0); /* the loss fell */
    lr_env_free(&e);

    cfg.reward = LR_REWARD_FINAL;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    run_episode(&e, 4, 0, obs, rew);
    CHECK(rew[0] == 0 && rew[3] == 0 && rew[4] == -e.ep.final_val_loss);
    lr_env_free(&e);
}

/* SGD whose rate goes x10 per agent step from 0.5: diverges within a few
 * agent steps. */
static lr_env_config diverging(lr_reward_kind kind) {
    lr_env_config cfg = small_env("sgd");
    set_delta(&cfg, 9.0);
    cfg.lr_fixed = 0.5;
    cfg.lr_max = 1e6;
    cfg.reward = kind;
    return cfg;
}

static void test_divergence(void) {
    lr_env_config cfg = diverging(LR_REWARD_VAL_LOSS);
    lr_env e;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    double obs[LR_ENV_OBS], r = 0, sum = 0;
    int term = 0, trunc = 0, t = 0;
    lr_env_reset(&e, 5, 0, obs);
    while (!term && !trunc) {
        lr_env_step(&e, ACTION_UP, obs, &r, &term, &trunc);
        if (!term) sum += r;
        t++;
    }
    CHECK(term == 1 && trunc == 0 && t < e.n_agent);
    CHECK(r == -5.0 * (e.n_agent - (t - 1))); /* the documented penalty */
    CHECK_NEAR(e.ep.total_reward, sum + r, 1e-9);
    CHECK(e.ep.diverged && e.ep.done && isnan(e.ep.final_val_loss) && isnan(e.ep.val_loss[t - 1]));
    CHECK(e.ep.agent_steps == t && e.ep.child_steps <= (long)t * 5);
    CHECK(isfinite(e.ep.best_val_loss));
    int finite = 1;
    for (int k = 0; k < LR_ENV_OBS; k++) finite &= isfinite(obs[k]) != 0;
    CHECK(finite);
    CHECK(obs[LR_OBS_TRAIN_LOSS] == log(1e3));
    double diverged_at = e.ep.lr[t - 1];

    /* reset: a healthy network again, the same as a fresh env's */
    double o1[LR_ENV_OBS], o2[LR_ENV_OBS];
    lr_env_reset(&e, 5, 1, o1);
    lr_env f;
    CHECK(lr_env_create(&f, &cfg, &data) == 0);
    lr_env_reset(&f, 5, 1, o2);
    CHECK(!memcmp(o1, o2, sizeof o1));
    CHECK(!e.ep.diverged && !e.ep.done && e.child.step == 0);
    CHECK(o1[LR_OBS_VAL_LOSS] > log(1.0) && o1[LR_OBS_VAL_LOSS] < log(4.0));
    lr_env_free(&f);
    /* and it trains: rates kept at 0.5/10 all the way */
    term = trunc = 0;
    int steps = 0, healthy = 1;
    lr_env_step(&e, ACTION_DOWN, obs, &r, &term, &trunc);
    while (!term && !trunc) {
        healthy &= isfinite(r) && r < 0;
        lr_env_step(&e, ACTION_KEEP, obs, &r, &term, &trunc);
        steps++;
    }
    CHECK(healthy && trunc && !term && !e.ep.diverged && e.ep.child_steps == 40);
    CHECK(e.ep.final_val_loss < e.ep.initial_val_loss);
    CHECK(diverged_at >= 50.0);
    lr_env_free(&e);

    /* an absurd fixed rate diverges at the first agent step */
    cfg = small_env("sgd");
    cfg.lr_fixed = 1e3;
    cfg.lr_max = 1e4;
    cfg.reward = LR_REWARD_LOG_DELTA;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    lr_env_reset(&e, 6, 0, obs);
    lr_env_step(&e, ACTION_KEEP, obs, &r, &term, &trunc);
    CHECK(term == 1 && trunc == 0 && e.ep.diverged && e.ep.agent_steps == 1);
    CHECK_NEAR(r, log(e.ep.initial_val_loss) - log(5.0), 1e-12);
    lr_env_free(&e);

    /* a finite training loss above the bound counts too: a fresh 10-class
     * network's first loss (about ln 10) is above 2 */
    cfg = small_env("adam");
    cfg.diverge_loss = 2.0;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    lr_env_reset(&e, 6, 0, obs);
    CHECK(e.ep.initial_val_loss > 2.0 && isfinite(e.ep.initial_val_loss));
    lr_env_step(&e, ACTION_KEEP, obs, &r, &term, &trunc);
    CHECK(term == 1 && e.ep.diverged && e.child.step == 1 && e.ep.child_steps == 1);
    CHECK(r == -5.0 * e.n_agent && obs[LR_OBS_VAL_LOSS] == log(2.0));
    lr_env_free(&e);

    cfg = small_env("sgd");
    cfg.lr_fixed = 1e3;
    cfg.lr_max = 1e4;
    cfg.reward = LR_REWARD_FINAL;
    cfg.penalty_loss = 8.0;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    lr_env_reset(&e, 6, 0, obs);
    lr_env_step(&e, ACTION_KEEP, obs, &r, &term, &trunc);
    CHECK(term == 1 && r == -8.0 && e.ep.diverged);
    lr_env_free(&e);
}

/* The optional groups: progress (s/T, log(1 + T - s)), offset (log of the
 * rate over the initial one; c in residual mode) and slope (log val loss now
 * minus LR_SLOPE_SPAN agent steps ago), after the paper's seven, which stay
 * what they were without the groups. Wide factors and absolute actions. */
static void test_extra_features(void) {
    lr_env_config plain = small_env("adam"), cfg = plain;
    plain.lr_fixed = cfg.lr_fixed = 1e-3;
    cfg.features = LR_FEAT_ALL_NAMED;
    CHECK(lr_action_parse_factors("0.5,0.8,1,1.25,2", &cfg.action) == 0);
    CHECK(lr_action_parse_factors("0.5,0.8,1,1.25,2", &plain.action) == 0);
    lr_env e, p;
    CHECK(lr_env_create(&e, &cfg, &data) == 0 && lr_env_create(&p, &plain, &data) == 0);
    CHECK(e.obs_size == 11 && p.obs_size == 7);
    double obs[LR_ENV_MAX_OBS], pobs[LR_ENV_MAX_OBS], r, logval[MAX_T];
    int term, trunc;
    lr_env_reset(&e, 9, 1, obs);
    lr_env_reset(&p, 9, 1, pobs);
    CHECK(!memcmp(obs, pobs, sizeof(double) * 7));
    CHECK(obs[7] == 0 && obs[8] == log1p(40.0) && obs[9] == 0 && obs[10] == 0);
    logval[0] = obs[LR_OBS_VAL_LOSS];
    const int actions[8] = {4, 4, 3, 0, 2, 1, 4, 0};
    double lr = 1e-3;
    int ok = 1;
    for (int t = 0; t < 8; t++) {
        lr *= (double[]){0.5, 0.8, 1, 1.25, 2}[actions[t]];
        lr_env_step(&e, actions[t], obs, &r, &term, &trunc);
        lr_env_step(&p, actions[t], pobs, &r, &term, &trunc);
        logval[t + 1] = obs[LR_OBS_VAL_LOSS];
        int back = t + 1 < LR_SLOPE_SPAN ? t + 1 : LR_SLOPE_SPAN;
        ok &= !memcmp(obs, pobs, sizeof(double) * 7);
        ok &= fabs(e.ep.lr[t] - lr) < 1e-15 && obs[7] == (t + 1) * 5 / 40.0;
        ok &= obs[8] == log1p(40.0 - (t + 1) * 5) && fabs(obs[9] - log(lr / 1e-3)) < 1e-12;
        ok &= obs[10] == logval[t + 1] - logval[t + 1 - back];
    }
    CHECK(ok);
    /* the episode's record holds every observation, row t before step t */
    CHECK(e.ep.obs_size == 11 && e.ep.obs[11 * 8 + 7] == 1.0 && e.ep.action[2] == 3);
    lr_env_free(&e);
    lr_env_free(&p);

    /* absolute actions put the rate anywhere in [lr_min, lr_max] at once */
    cfg = small_env("adam");
    cfg.action.kind = LR_ACTION_ABSOLUTE;
    cfg.lr_min = 1e-5, cfg.lr_max = 1e-1;
    cfg.lr_fixed = 1e-3;
    CHECK(lr_env_create(&e, &cfg, &data) == 0);
    lr_env_reset(&e, 9, 1, obs);
    lr_env_step(&e, 0.0, obs, &r, &term, &trunc); /* the middle, in log: 1e-3 */
    CHECK_NEAR(e.ep.lr[0], 1e-3, 1e-15);
    lr_env_step(&e, 1e9, obs, &r, &term, &trunc);
    CHECK_NEAR(e.ep.lr[1], 1e-1, 1e-15);
    lr_env_step(&e, atanh(-0.5), obs, &r, &term, &trunc); /* a quarter of the way: 1e-4 */
    CHECK_NEAR(e.ep.lr[2], 1e-4, 1e-15);
    lr_env_free(&e);
}

static void test_config(void) {
    child_config cc = small_child("adam");
    lr_env_config d = lr_env_config_default(&cc), c;
    CHECK(d.steps == 1000 && d.action_every == 10 && d.action.delta == 0.05 && d.lr_fixed == 0);
    CHECK(d.lr_min == 1e-6 && d.lr_max == 1.0 && d.lr_noise == 0 && d.diverge_loss == 1e3);
    CHECK(d.reward == LR_REWARD_VAL_LOSS && d.action.kind == LR_ACTION_DISCRETE && d.penalty_loss == 5.0);
    CHECK(d.features == 0 && d.action.n_factors == 3 && d.action.base[0] == 0);
    CHECK(lr_env_config_check(&d) == 0);
    c = d, c.action_every = 0;
    CHECK(lr_env_config_check(&c) == -1 && strstr(alrs_error(), "action every"));
    c = d, c.action_every = 1001;
    CHECK(lr_env_config_check(&c) == -1);
    c = d, c.lr_min = 2.0;
    CHECK(lr_env_config_check(&c) == -1 && strstr(alrs_error(), "bounds"));
    c = d, c.lr_noise = -0.1;
    CHECK(lr_env_config_check(&c) == -1);
    c = d, c.lr_fixed = NAN;
    CHECK(lr_env_config_check(&c) == -1);
    c = d, c.reward = (lr_reward_kind)7;
    CHECK(lr_env_config_check(&c) == -1);
    c = d, c.diverge_loss = INFINITY;
    CHECK(lr_env_config_check(&c) == -1);
    lr_env e;
    c = d, c.child.val_size = 100000;
    CHECK(lr_env_create(&e, &c, &data) == -1 && strstr(alrs_error(), "val-size"));
    lr_reward_kind k;
    for (int i = 0; i < 3; i++)
        CHECK(lr_reward_parse(lr_reward_name((lr_reward_kind)i), &k) == 0 && (int)k == i);
    CHECK(lr_reward_parse("accuracy", &k) == -1 && strstr(alrs_error(), "accuracy"));
}

/* ---- the scale-free and newer groups (issue 19) ------------------------------- */

/* Euclidean norm of n floats, plainly. */
static double naive_norm(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    return sqrt(s);
}

/* relative, update-ratio, grad-norm, loss-spread and gap against a shadow
 * child stepped at the same rates and a paper-only environment on the same
 * seed: every value recomputed from the child's own buffers. */
static void test_scale_free_features(void) {
    lr_env_config plain = small_env("adam"), cfg = plain;
    plain.lr_fixed = cfg.lr_fixed = 3e-3;
    cfg.features = LR_FEAT_RELATIVE | LR_FEAT_UPDATE_RATIO | LR_FEAT_GRAD_NORM |
                   LR_FEAT_LOSS_SPREAD | LR_FEAT_GAP;
    enum { FRACTION = 7, UPDATE = 8, GRAD = 9, TREND = 10, SPREAD = 11, GAP = 12 };
    lr_env e, p;
    CHECK(lr_env_create(&e, &cfg, &data) == 0 && lr_env_create(&p, &plain, &data) == 0);
    CHECK(e.obs_size == 13 && lr_env_obs_size(cfg.features) == 13);
    CHECK(!strcmp(lr_env_feature_name(cfg.features, 1), "rel_log_val_loss") &&
          !strcmp(lr_env_feature_name(cfg.features, GAP), "log_val_train_gap"));
    double obs[LR_ENV_MAX_OBS], pobs[LR_ENV_MAX_OBS], p0[LR_ENV_MAX_OBS], r;
    int term, trunc;
    lr_env_reset(&e, 11, 2, obs);
    lr_env_reset(&p, 11, 2, pobs);
    memcpy(p0, pobs, sizeof p0);
    double std0 = sqrt(exp(p0[LR_OBS_W_LOGVAR]) - 1e-10 + 1e-10);
    CHECK(obs[0] == 0 && obs[1] == 0 && obs[LR_OBS_W_LOGVAR] == 0 && obs[LR_OBS_LOG_LR] == 0);
    CHECK(obs[2] == pobs[2] && obs[3] == pobs[3]);
    CHECK_NEAR(obs[LR_OBS_W_MEAN], p0[LR_OBS_W_MEAN] / std0, 1e-6 * fabs(obs[LR_OBS_W_MEAN]) + 1e-12);
    CHECK(obs[FRACTION] == 0 && obs[UPDATE] == log(1e-10) && obs[GRAD] == 0 && obs[TREND] == 0 &&
          obs[SPREAD] == 0 && obs[GAP] == 0);

    child_config sc = cfg.child;
    sc.seed = lr_env_episode_record(&e)->seed;
    child_run shadow;
    CHECK(child_run_create(&shadow, &sc, &data) == 0);
    size_t np = shadow.spec.n_params;
    float *before = malloc(sizeof(float) * np);
    double log_g[MAX_T], lr = 3e-3;
    const int actions[8] = {ACTION_UP, ACTION_UP, ACTION_KEEP, ACTION_DOWN,
                            ACTION_UP, ACTION_KEEP, ACTION_DOWN, ACTION_UP};
    int ok_rel = 1, ok_update = 1, ok_grad = 1, ok_spread = 1, ok_gap = 1;
    for (int t = 0; t < 8; t++) {
        lr *= actions[t] == ACTION_UP ? 1.05 : actions[t] == ACTION_DOWN ? 1 / 1.05 : 1;
        memcpy(before, shadow.params, sizeof(float) * np);
        double losses[5], sum = 0, gsum = 0;
        for (int k = 0; k < 5; k++) {
            sum += losses[k] = child_run_step(&shadow, lr);
            gsum += naive_norm(shadow.grads, np);
        }
        lr_env_step(&e, actions[t], obs, &r, &term, &trunc);
        lr_env_step(&p, actions[t], pobs, &r, &term, &trunc);
        double mean = sum / 5, ss = 0;
        for (int k = 0; k < 5; k++) ss += (losses[k] - mean) * (losses[k] - mean);
        float *moved = malloc(sizeof(float) * np);
        for (size_t i = 0; i < np; i++) moved[i] = shadow.params[i] - before[i];
        double ratio = naive_norm(moved, np) / naive_norm(before, np);
        free(moved);
        log_g[t] = log(gsum / 5);
        int back = t < LR_SLOPE_SPAN ? t : LR_SLOPE_SPAN;
        ok_rel &= fabs(obs[0] - (log(mean) - p0[1])) < 1e-12 &&
                  fabs(obs[1] - (pobs[1] - p0[1])) < 1e-12 && obs[2] == pobs[2] &&
                  obs[3] == pobs[3] && fabs(obs[4] - pobs[4] / std0) < 1e-9 &&
                  fabs(obs[5] - (pobs[5] - p0[5])) < 1e-12 &&
                  fabs(obs[6] - log(lr / 3e-3)) < 1e-12 && obs[FRACTION] == (t + 1) * 5 / 40.0;
        /* float parameters: the difference rounds in the last bits */
        ok_update &= fabs(obs[UPDATE] - log(ratio)) < 1e-5;
        ok_grad &= fabs(obs[GRAD] - (log_g[t] - log_g[0])) < 1e-9 &&
                   fabs(obs[TREND] - (log_g[t] - log_g[t - back])) < 1e-9;
        ok_spread &= fabs(obs[SPREAD] - sqrt(ss / 5) / mean) < 1e-12;
        ok_gap &= fabs(obs[GAP] - (pobs[1] - log(mean))) < 1e-12;
    }
    CHECK(ok_rel);
    CHECK(ok_update);
    CHECK(ok_grad);
    CHECK(ok_spread);
    CHECK(ok_gap);
    CHECK(!memcmp(shadow.params, e.child.params, sizeof(float) * np));
    /* the spread is one of scale: losses x 10 give the same value */
    double xs[4] = {1, 2, 3, 4}, ys[4] = {10, 20, 30, 40};
    CHECK_NEAR(lr_env_spread(xs, 4), lr_env_spread(ys, 4), 1e-15);
    CHECK_NEAR(lr_env_spread(xs, 4), sqrt(1.25) / 2.5, 1e-15);
    free(before);
    child_run_free(&shadow);
    lr_env_free(&e);
    lr_env_free(&p);

    /* --features parses each name; "all" keeps meaning what it meant */
    unsigned bits;
    CHECK(lr_env_features_parse("relative,update-ratio,grad-norm,loss-spread,gap", &bits) == 0 &&
          bits == cfg.features);
    CHECK(lr_env_features_parse("all", &bits) == 0 && bits == LR_FEAT_ALL_NAMED);
    char text[256];
    lr_env_features_format(cfg.features, text, sizeof text);
    CHECK(!strcmp(text, "paper,relative,update-ratio,grad-norm,loss-spread,gap"));
}

/* Multi-task: each episode draws its task from its seed; the environment
 * rebuilds its child for another task and the episode is the one a
 * single-task environment on that task runs; the initial rate is drawn
 * log-uniformly from a range. */
static void test_tasks(void) {
    lr_env_task tasks[2];
    tasks[0].name = "wide", tasks[0].child = small_child("adam"), tasks[0].steps = 40;
    tasks[1].name = "narrow", tasks[1].child = small_child("adam"), tasks[1].steps = 15;
    tasks[1].child.hidden[0] = 8, tasks[1].child.n_hidden = 1, tasks[1].child.batch = 16;
    tasks[0].data = tasks[1].data = &data;
    lr_env_config cfg = small_env("adam");
    cfg.tasks = tasks, cfg.n_tasks = 2;
    cfg.initial_log_uniform = 1, cfg.n_initial = 2;
    cfg.initial_rates[0] = 1e-4, cfg.initial_rates[1] = 1e-1;
    lr_env e;
    CHECK(lr_env_create(&e, &cfg, NULL) == 0);
    CHECK(e.max_agent == 8 && lr_env_max_agent_steps(&cfg) == 8);
    double obs[LR_ENV_MAX_OBS], sobs[LR_ENV_MAX_OBS], r, sr;
    int seen[2] = {0, 0}, ok = 1, term, trunc, sterm, strunc;
    for (long ep = 0; ep < 12; ep++) {
        CHECK(lr_env_reset(&e, 5, ep, obs) == 0);
        int k = lr_env_episode_record(&e)->task;
        double lr0 = lr_env_episode_record(&e)->initial_lr;
        ok &= (k == 0 || k == 1) && lr0 >= 1e-4 && lr0 <= 1e-1;
        if (k < 0 || k > 1) break;
        seen[k]++;
        /* the same episode in an environment made for that task alone */
        lr_env_config one = cfg;
        one.tasks = NULL, one.n_tasks = 0, one.child = tasks[k].child, one.steps = tasks[k].steps;
        lr_env s;
        CHECK(lr_env_create(&s, &one, &data) == 0);
        lr_env_reset(&s, 5, ep, sobs);
        ok &= e.n_agent == s.n_agent && lr_env_episode_record(&s)->initial_lr == lr0;
        ok &= !memcmp(obs, sobs, sizeof(double) * (size_t)e.obs_size);
        for (int t = 0; t < s.n_agent; t++) {
            lr_env_step(&e, ACTION_UP, obs, &r, &term, &trunc);
            lr_env_step(&s, ACTION_UP, sobs, &sr, &sterm, &strunc);
            ok &= r == sr && term == sterm && trunc == strunc &&
                  !memcmp(obs, sobs, sizeof(double) * (size_t)e.obs_size);
        }
        ok &= lr_env_episode_record(&e)->done;
        lr_env_free(&s);
    }
    CHECK(ok);
    CHECK(seen[0] > 0 && seen[1] > 0);
    lr_env_free(&e);

    /* a task too short for the action interval: named */
    tasks[1].steps = 3;
    CHECK(lr_env_config_check(&cfg) != 0 && strstr(alrs_error(), "task narrow"));
}

/* An episode observed by the newer groups, saved midway and loaded into a
 * fresh environment started on the same seed, goes on as the unsaved one:
 * their references and the last parameters travel with it (alrs train
 * --resume of a controller run). */
static void test_save_new_groups(void) {
    lr_env_config cfg = small_env("adam");
    cfg.lr_fixed = 3e-3;
    cfg.features = LR_FEAT_RELATIVE | LR_FEAT_UPDATE_RATIO | LR_FEAT_GRAD_NORM |
                   LR_FEAT_LOSS_SPREAD | LR_FEAT_GAP;
    lr_env a, b;
    CHECK(lr_env_create(&a, &cfg, &data) == 0 && lr_env_create(&b, &cfg, &data) == 0);
    double oa[LR_ENV_MAX_OBS], ob[LR_ENV_MAX_OBS], ra, rb;
    int ta, tb, ua, ub;
    uint64_t seed = 77;
    lr_env_start(&a, seed, 0, oa);
    for (int t = 0; t < 3; t++) lr_env_step(&a, ACTION_UP, oa, &ra, &ta, &ua);
    byte_buf buf = {0};
    lr_env_save(&a, &buf);
    lr_env_start(&b, seed, 0, ob);
    byte_reader in = {buf.data, buf.len, 0, 0};
    CHECK(lr_env_load(&b, &in, "saved") == 0 && bytes_left(&in) == 0);
    int same = 1;
    for (int t = 3; t < 8; t++) {
        lr_env_step(&a, ACTION_DOWN, oa, &ra, &ta, &ua);
        lr_env_step(&b, ACTION_DOWN, ob, &rb, &tb, &ub);
        same &= ra == rb && !memcmp(oa, ob, sizeof(double) * (size_t)a.obs_size);
    }
    CHECK(same);
    bytes_free(&buf);
    lr_env_free(&a);
    lr_env_free(&b);
}

int main(void) {
    omp_set_num_threads(1);
    const char *dir = test_tmpdir("env");
    test_write_idx_set(dir, "", 700, 10, 10, 0, 5);
    if (dataset_load(&data, "fashion-mnist", dir, 100, 1) != 0) {
        fprintf(stderr, "%s\n", alrs_error());
        return 2;
    }
    /* the environment never reads the test split: hide it */
    float *test_images = data.test.images;
    uint8_t *test_labels = data.test.labels;
    data.test.images = NULL;
    data.test.labels = NULL;

    test_config();
    test_child_reset();
    test_features();
    test_determinism();
    test_initial_rate();
    test_hidden_scale();
    test_bounds();
    test_position_feature();
    test_rewards();
    test_divergence();
    test_extra_features();
    test_scale_free_features();
    test_tasks();
    test_save_new_groups();

    data.test.images = test_images;
    data.test.labels = test_labels;
    dataset_free(&data);
    return test_finish();
}
