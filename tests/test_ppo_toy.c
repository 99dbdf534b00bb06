/* PPO must learn a toy version of the real job inside the test: keep a
 * "log learning rate" near a moving target by moving it with the
 * learning-rate actions (env/lr_action.h).
 *
 * Environment (one episode = 40 steps, then truncated and reset):
 *   state  x = log(rate) - log(target), starts uniform in [-1, 1];
 *          the target drifts by d = +-0.05 per step (sign drawn per episode)
 *   obs    (x, d / 0.05), padded with zeros to the paper's seven features
 *          (a controller reads the environment's observation)
 *   step   x <- x + lr_action_effect(action) - d, with delta = e^0.15 - 1
 *          so a full step moves x by 0.15
 *   reward -|x|
 * A random policy random-walks away from the target (return about -40); a
 * good one closes the gap and then tracks (about -4).
 *
 * The loop is the one the rollout engine will run (controller.h): normalise
 * raw observations, act, step, scale rewards, record, GAE with a bootstrap at
 * truncation and at the end of each rollout, update. 8 environments x 32
 * steps per update, 60 updates, both action kinds; the learned deterministic
 * policy (mode) and the stochastic training returns must beat a random policy
 * by a clear margin. Everything is drawn from streams of one seed, so a
 * second run reproduces the first bit for bit. */
#include "core/error.h"
#include "rl/controller_file.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

enum { E = 8, T = 32, UPDATES = 60, EPISODE = 40, OBS = LR_ENV_PAPER_OBS };
#define DRIFT 0.05
#define STEP_LOG 0.15

typedef struct {
    double x, drift;
    int t;
    double ret; /* raw return of the episode so far */
    rng_stream rng;
} track_env;

static void env_reset(track_env *v) {
    v->x = 2 * rng_uniform_double(&v->rng) - 1;
    v->drift = rng_below(&v->rng, 2) ? DRIFT : -DRIFT;
    v->t = 0;
    v->ret = 0;
}

static void env_observe(const track_env *v, double *obs) {
    memset(obs, 0, sizeof(double) * OBS);
    obs[0] = v->x;
    obs[1] = v->drift / DRIFT;
}

/* The discrete (x e^0.15, / e^0.15, keep) or continuous actions of the task. */
static lr_env_interface toy_interface(lr_action_kind kind) {
    lr_env_interface i;
    memset(&i, 0, sizeof i);
    i.action = lr_action_default();
    i.action.kind = kind;
    i.action.delta = expm1(STEP_LOG);
    i.action.factors[0] = exp(STEP_LOG), i.action.factors[1] = exp(-STEP_LOG);
    i.lr_min = 1e-6, i.lr_max = 1, i.action_every = 1;
    return i;
}

/* Returns the reward; sets *ended when the time limit is reached. */
static double env_step(track_env *v, lr_action_kind kind, double action, int *ended) {
    lr_env_interface i = toy_interface(kind);
    v->x += lr_action_effect(&i.action, action) - v->drift;
    v->t++;
    double r = -fabs(v->x);
    v->ret += r;
    *ended = v->t == EPISODE;
    return r;
}

typedef struct {
    /* per update: mean raw reward per step x 40, the return of an average
     * episode (episodes straddle updates, so per-step is what each update sees) */
    double curve[UPDATES];
    double final_params_sum;
} train_result;

static void observe_all(controller *c, track_env *env, int learn, double *obs) {
    double raw[E * OBS];
    for (int e = 0; e < E; e++) env_observe(&env[e], raw + e * OBS);
    controller_observe(c, raw, E, learn, obs);
}

/* Trains a fresh controller; fills the learning curve. */
static void train(controller *c, lr_action_kind kind, uint64_t seed, train_result *res) {
    lr_env_interface iface = toy_interface(kind);
    policy_config pc = controller_policy_config(&iface);
    ppo_config cfg = ppo_config_default();
    cfg.lr = 1e-3; /* a small task with a small budget */
    rng_stream init = rng_make(seed, 0), shuffle = rng_make(seed, 1);
    if (controller_init(c, &iface, &pc, E, cfg.gamma, &init) != 0) alrs_panic("%s", alrs_error());
    track_env env[E];
    rng_stream act_rng[E];
    for (int e = 0; e < E; e++) {
        env[e].rng = rng_make(seed, 100 + e);
        act_rng[e] = rng_make(seed, 200 + e);
        env_reset(&env[e]);
    }
    rollout_buffer b;
    rollout_buffer_init(&b, T, E, OBS);
    double obs[E * OBS], a[E], lp[E], v[E], rew[E], scaled[E], final_v[E], last_v[E];
    unsigned char trunc[E];
    for (int u = 0; u < UPDATES; u++) {
        double sum = 0;
        for (int t = 0; t < T; t++) {
            observe_all(c, env, 1, obs);
            policy_act(&c->pol, obs, E, act_rng, a, lp, v);
            rollout_buffer_record(&b, t, obs, a, lp, v);
            for (int e = 0; e < E; e++) {
                int ended;
                rew[e] = env_step(&env[e], kind, a[e], &ended);
                sum += rew[e];
                trunc[e] = (unsigned char)ended;
                final_v[e] = 0;
                if (!ended) continue;
                /* bootstrap from the real final observation, then reset */
                double raw[OBS], fo[OBS];
                env_observe(&env[e], raw);
                controller_observe(c, raw, 1, 0, fo);
                policy_value(&c->pol, fo, 1, &final_v[e]);
                env_reset(&env[e]);
            }
            reward_scaler_scale(&c->rewards, rew, trunc, scaled);
            rollout_buffer_outcome(&b, t, scaled, NULL, trunc, final_v);
        }
        observe_all(c, env, 0, obs);
        policy_value(&c->pol, obs, E, last_v);
        rollout_buffer_gae(&b, last_v, cfg.gamma, cfg.lambda);
        ppo_stats s;
        if (controller_update(c, &cfg, &b, &shuffle, &s) != 0) alrs_panic("%s", alrs_error());
        res->curve[u] = sum / (T * E) * EPISODE;
        if (u % 10 == 9 || u == 0)
            printf("    update %3d: return %7.2f  policy %+.4f value %.4f entropy %+.3f kl %.4f "
                   "clipfrac %.3f ev %+.3f\n",
                   u + 1, res->curve[u], s.policy_loss, s.value_loss, s.entropy, s.approx_kl,
                   s.clip_frac, s.explained_var);
    }
    res->final_params_sum = 0;
    for (size_t i = 0; i < c->pol.n_params; i++) res->final_params_sum += c->pol.params[i];
    rollout_buffer_free(&b);
}

/* Mean return over 64 fresh episodes (fixed env seeds): the controller's
 * deterministic policy, or (c NULL) uniformly random discrete actions /
 * N(0, 0.5^2) continuous ones (the untrained policy's spread). */
static double evaluate(controller *c, lr_action_kind kind) {
    double total = 0;
    rng_stream pick = rng_make(77, 0);
    for (int round = 0; round < 8; round++) {
        track_env env[E];
        for (int e = 0; e < E; e++) {
            env[e].rng = rng_make(1234, (uint64_t)(round * E + e));
            env_reset(&env[e]);
        }
        for (int t = 0; t < EPISODE; t++) {
            double obs[E * OBS], a[E];
            if (c) {
                observe_all(c, env, 0, obs);
                policy_mode(&c->pol, obs, E, a);
            } else {
                for (int e = 0; e < E; e++)
                    a[e] = kind == LR_ACTION_DISCRETE ? rng_below(&pick, 3) : 0.5 * rng_normal(&pick);
            }
            for (int e = 0; e < E; e++) {
                int ended;
                env_step(&env[e], kind, a[e], &ended);
            }
        }
        for (int e = 0; e < E; e++) total += env[e].ret;
    }
    return total / (8 * E);
}

static void run_kind(lr_action_kind kind) {
    const char *name = kind == LR_ACTION_DISCRETE ? "discrete" : "continuous";
    printf("  %s:\n", name);
    controller c;
    train_result res;
    train(&c, kind, 2024, &res);
    double random = evaluate(NULL, kind), learned = evaluate(&c, kind);
    double late = 0;
    for (int u = UPDATES - 10; u < UPDATES; u++) late += res.curve[u] / 10;
    printf("    curve (mean return per 10 updates):");
    for (int k = 0; k < UPDATES / 10; k++) {
        double m = 0;
        for (int u = 10 * k; u < 10 * k + 10; u++) m += res.curve[u] / 10;
        printf(" %.2f", m);
    }
    printf("\n    random policy %.2f, trained (stochastic, last 10 updates) %.2f, trained (mode) %.2f\n",
           random, late, learned);
    /* the best possible return is about -3: demand most of the gap closed */
    CHECK(random < -20);
    CHECK(learned > 0.25 * random);
    CHECK(late > 0.4 * random);
    CHECK(res.curve[UPDATES - 1] > res.curve[0]);

    /* deterministic given the seed: a second run ends on the same parameters */
    controller c2;
    train_result res2;
    printf("    (repeat run)\n");
    train(&c2, kind, 2024, &res2);
    CHECK(memcmp(c.pol.params, c2.pol.params, sizeof(double) * c.pol.n_params) == 0);
    CHECK(memcmp(res.curve, res2.curve, sizeof res.curve) == 0);

    /* the checkpoint carries the normaliser: a reloaded controller scores the same */
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.ckpt", test_tmpdir("ppo-toy"), name);
    controller r;
    CHECK(controller_file_save(&c, path) == 0);
    CHECK(controller_file_load(&r, path) == 0);
    CHECK(evaluate(&r, kind) == learned);
    controller_free(&r);
    controller_free(&c);
    controller_free(&c2);
}

int main(void) {
    run_kind(LR_ACTION_DISCRETE);
    run_kind(LR_ACTION_CONTINUOUS);
    return test_finish();
}
