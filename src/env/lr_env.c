/* The learning-rate environment (see lr_env.h for the observation, reward and
 * divergence rules): one child run, reset for each episode, stepped
 * action_every training steps per agent step. */
#include "env/lr_env.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timer.h"

/* The paper's initial rates, one drawn per episode when lr_fixed is 0. */
static const double INITIAL_RATES[] = {1e-2, 1e-3, 1e-4};
#define N_INITIAL_RATES 3
/* Streams of the episode seed; 0 and 1 belong to the child run. */
enum { STREAM_INITIAL_LR = 2, STREAM_NOISE = 3 };

lr_env_config lr_env_config_default(const child_config *child) {
    lr_env_config c;
    memset(&c, 0, sizeof c);
    if (child) c.child = *child;
    c.steps = 1000;
    c.action_every = 10;
    c.action = ACTION_DISCRETE;
    c.delta = 0.05;
    c.lr_fixed = 0.0;
    c.lr_min = 1e-6;
    c.lr_max = 1.0;
    c.lr_noise = 0.0;
    c.reward = LR_REWARD_VAL_LOSS;
    c.diverge_loss = 1e3;
    c.penalty_loss = 5.0;
    return c;
}

static int positive_finite(double x) { return x > 0 && isfinite(x); }

int lr_env_config_check(const lr_env_config *c) {
    if (c->steps < 1) return alrs_fail("steps per episode %d: must be positive", c->steps);
    if (c->action_every < 1 || c->action_every > c->steps)
        return alrs_fail("action every %d steps: must be between 1 and the %d steps per episode",
                         c->action_every, c->steps);
    if (c->action != ACTION_DISCRETE && c->action != ACTION_CONTINUOUS)
        return alrs_fail("action kind %d: unknown (expected discrete or continuous)", (int)c->action);
    if (!positive_finite(c->delta)) return alrs_fail("delta %g: must be positive", c->delta);
    if (!positive_finite(c->lr_min) || !positive_finite(c->lr_max) || c->lr_max < c->lr_min)
        return alrs_fail("learning-rate bounds [%g, %g]: need 0 < lr_min <= lr_max", c->lr_min,
                         c->lr_max);
    if (!(c->lr_fixed >= 0) || !isfinite(c->lr_fixed))
        return alrs_fail("fixed initial rate %g: must be positive (or 0 to draw one)", c->lr_fixed);
    if (!(c->lr_noise >= 0) || !isfinite(c->lr_noise))
        return alrs_fail("learning-rate noise %g: must be 0 (off) or positive", c->lr_noise);
    if (c->reward != LR_REWARD_VAL_LOSS && c->reward != LR_REWARD_LOG_DELTA &&
        c->reward != LR_REWARD_FINAL)
        return alrs_fail("reward kind %d: unknown", (int)c->reward);
    if (!positive_finite(c->diverge_loss))
        return alrs_fail("divergence bound %g: must be a positive number", c->diverge_loss);
    if (!positive_finite(c->penalty_loss))
        return alrs_fail("penalty loss %g: must be a positive number", c->penalty_loss);
    return 0;
}

int lr_reward_parse(const char *name, lr_reward_kind *out) {
    for (int k = LR_REWARD_VAL_LOSS; k <= LR_REWARD_FINAL; k++)
        if (!strcmp(name, lr_reward_name((lr_reward_kind)k))) {
            *out = (lr_reward_kind)k;
            return 0;
        }
    return alrs_fail("--reward %s: unknown (expected val-loss, log-delta or final)", name);
}

const char *lr_reward_name(lr_reward_kind k) {
    switch (k) {
    case LR_REWARD_VAL_LOSS: return "val-loss";
    case LR_REWARD_LOG_DELTA: return "log-delta";
    case LR_REWARD_FINAL: return "final";
    }
    return "?";
}

int lr_env_create(lr_env *env, const lr_env_config *cfg, const dataset *data) {
    memset(env, 0, sizeof *env);
    if (lr_env_config_check(cfg) != 0) return -1;
    env->cfg = *cfg;
    if (child_run_create(&env->child, &cfg->child, data) != 0) return -1;
    const nn_spec *s = &env->child.spec;
    const nn_layer *out = &s->layers[s->n_layers - 1];
    if (out->op != NN_FC) {
        lr_env_free(env);
        return alrs_fail("model %s: the output layer is not fully connected", s->model);
    }
    env->classes = s->classes;
    env->n_agent = (cfg->steps + cfg->action_every - 1) / cfg->action_every;
    size_t np = (size_t)cfg->child.val_size * (size_t)env->classes;
    env->probs = alrs_malloc(sizeof(float) * np);
    env->prev_probs = alrs_malloc(sizeof(float) * np);
    env->trace_lr = alrs_calloc((size_t)env->n_agent, sizeof(double));
    env->trace_val = alrs_calloc((size_t)env->n_agent, sizeof(double));
    env->trace_acc = alrs_calloc((size_t)env->n_agent, sizeof(double));
    env->trace_train = alrs_calloc((size_t)env->n_agent, sizeof(double));
    env->ep.done = 1; /* no episode yet: step before reset is a bug */
    return 0;
}

void lr_env_free(lr_env *env) {
    child_run_free(&env->child);
    free(env->probs);
    free(env->prev_probs);
    free(env->trace_lr);
    free(env->trace_val);
    free(env->trace_acc);
    free(env->trace_train);
    memset(env, 0, sizeof *env);
}

const lr_env_episode *lr_env_episode_record(const lr_env *env) { return &env->ep; }

static double safe_log(double x) { return log(fmax(x, LR_ENV_LOG_EPS)); }

static double clip_lr(const lr_env_config *c, double lr) {
    return fmin(fmax(lr, c->lr_min), c->lr_max);
}

/* Mean and log-variance of the output layer's weights (its bias left out). */
static void output_weight_stats(const child_run *r, double *mean, double *log_var) {
    const nn_layer *l = &r->spec.layers[r->spec.n_layers - 1];
    double var = lr_env_variance(r->params + l->w_off, l->w_len, mean);
    *log_var = log(var + LR_ENV_LOG_EPS);
}

/* The observation after a validation that left the probabilities in
 * env->probs (and the previous agent step's in env->prev_probs, unless
 * `first`); then the current ones become the previous ones. */
static void observe(lr_env *env, double train_loss, double val_loss, int first) {
    size_t n = (size_t)env->cfg.child.val_size * (size_t)env->classes;
    const double d = LR_ENV_EMA_DECAY;
    double pred = log(lr_env_variance(env->probs, n, NULL) + LR_ENV_LOG_EPS);
    env->pred_ema = first ? pred : d * env->pred_ema + (1 - d) * pred;
    double *o = env->obs;
    if (first) {
        o[LR_OBS_PRED_CHANGE] = log(LR_ENV_LOG_EPS);
    } else {
        double change =
            log(lr_env_change_variance(env->probs, env->prev_probs, n) + LR_ENV_LOG_EPS);
        /* the first real change seeds the EMA (t has already been counted) */
        env->change_ema = env->t == 1 ? change : d * env->change_ema + (1 - d) * change;
        o[LR_OBS_PRED_CHANGE] = env->change_ema;
    }
    o[LR_OBS_TRAIN_LOSS] = safe_log(train_loss);
    o[LR_OBS_VAL_LOSS] = safe_log(val_loss);
    o[LR_OBS_PRED_VAR] = env->pred_ema;
    output_weight_stats(&env->child, &o[LR_OBS_W_MEAN], &o[LR_OBS_W_LOGVAR]);
    o[LR_OBS_LOG_LR] = log(env->lr);
    float *t = env->prev_probs;
    env->prev_probs = env->probs;
    env->probs = t;
}

static void record_best(lr_env *env) {
    env->ep.best_val_loss = env->child.best_val_loss;
    env->ep.best_step = env->child.best_step;
    env->ep.child_steps = env->child.step;
    env->ep.agent_steps = env->t;
    env->ep.wall_s = alrs_now() - env->start_s;
}

void lr_env_reset(lr_env *env, uint64_t seed, long episode, double *obs_out) {
    rng_stream es = rng_make(seed, (uint64_t)episode);
    lr_env_start(env, rng_u64(&es), episode, obs_out);
}

void lr_env_start(lr_env *env, uint64_t ep_seed, long episode, double *obs_out) {
    const lr_env_config *c = &env->cfg;
    env->start_s = alrs_now();
    child_run_reset(&env->child, ep_seed);
    double lr = c->lr_fixed;
    if (lr == 0) {
        rng_stream r = rng_make(ep_seed, STREAM_INITIAL_LR);
        lr = INITIAL_RATES[rng_below(&r, N_INITIAL_RATES)];
    }
    env->lr = clip_lr(c, lr);
    env->noise = rng_make(ep_seed, STREAM_NOISE);
    env->t = 0;

    memset(&env->ep, 0, sizeof env->ep);
    env->ep.seed = ep_seed;
    env->ep.episode = episode;
    env->ep.initial_lr = env->lr;
    env->ep.lr = env->trace_lr;
    env->ep.val_loss = env->trace_val;
    env->ep.val_acc = env->trace_acc;
    env->ep.train_loss = env->trace_train;
    env->ep.final_val_loss = NAN;

    double val_loss, acc;
    child_run_validate_probs(&env->child, &val_loss, &acc, env->probs);
    /* no training yet: the fresh network's validation loss stands in for its
     * training loss */
    observe(env, val_loss, val_loss, 1);
    env->prev_val_loss = val_loss;
    env->ep.initial_val_loss = val_loss;
    record_best(env);
    memcpy(obs_out, env->obs, sizeof env->obs);
}

/* The reward for a diverged step t (0-based): what the remaining agent steps
 * would earn at validation loss penalty_loss (see lr_env.h). */
static double divergence_penalty(const lr_env *env, int t) {
    const lr_env_config *c = &env->cfg;
    switch (c->reward) {
    case LR_REWARD_VAL_LOSS: return -c->penalty_loss * (double)(env->n_agent - t);
    case LR_REWARD_LOG_DELTA: return safe_log(env->prev_val_loss) - log(c->penalty_loss);
    case LR_REWARD_FINAL: return -c->penalty_loss;
    }
    return -c->penalty_loss;
}

static double step_reward(const lr_env *env, double val_loss, int last) {
    switch (env->cfg.reward) {
    case LR_REWARD_VAL_LOSS: return -val_loss;
    case LR_REWARD_LOG_DELTA: return safe_log(env->prev_val_loss) - safe_log(val_loss);
    case LR_REWARD_FINAL: return last ? -val_loss : 0.0;
    }
    return -val_loss;
}

/* Trains up to n steps at the current rate; the mean loss, or -1 when a loss
 * was NaN, infinite or above the bound (training stops there). */
static double train_chunk(lr_env *env, int n) {
    double sum = 0.0;
    for (int k = 0; k < n; k++) {
        double loss = child_run_step(&env->child, env->lr);
        if (!(loss <= env->cfg.diverge_loss)) return -1.0; /* NaN fails this too */
        sum += loss;
    }
    return sum / n;
}

void lr_env_step(lr_env *env, double action, double *obs_out, double *reward, int *terminated,
                 int *truncated) {
    const lr_env_config *c = &env->cfg;
    if (env->ep.done) alrs_panic("lr_env_step: the episode has ended (or none was started)");
    double f = policy_lr_factor(c->action, action, c->delta);
    if (!(f > 0) || !isfinite(f)) f = 1.0; /* a non-finite action keeps the rate */
    double lr = env->lr * f;
    if (c->lr_noise > 0) lr *= exp(c->lr_noise * rng_normal(&env->noise));
    env->lr = clip_lr(c, lr);

    int t = env->t;
    long start = (long)t * c->action_every;
    int n = c->steps - start < c->action_every ? (int)(c->steps - start) : c->action_every;
    env->trace_lr[t] = env->lr;
    double train_loss = train_chunk(env, n), val_loss = NAN, acc;
    int diverged = train_loss < 0;
    if (!diverged) {
        child_run_validate_probs(&env->child, &val_loss, &acc, env->probs);
        diverged = !(val_loss <= c->diverge_loss);
    }
    env->t = t + 1;
    *terminated = *truncated = 0;
    if (diverged) {
        *reward = divergence_penalty(env, t);
        *terminated = 1;
        env->trace_val[t] = env->trace_acc[t] = NAN;
        env->trace_train[t] = diverged && train_loss >= 0 ? train_loss : NAN;
        env->ep.diverged = 1;
        env->ep.done = 1;
        env->obs[LR_OBS_TRAIN_LOSS] = log(c->diverge_loss);
        env->obs[LR_OBS_VAL_LOSS] = log(c->diverge_loss);
        env->obs[LR_OBS_LOG_LR] = log(env->lr);
    } else {
        int last = env->t == env->n_agent;
        *reward = step_reward(env, val_loss, last);
        observe(env, train_loss, val_loss, 0);
        env->prev_val_loss = val_loss;
        env->trace_val[t] = val_loss;
        env->trace_acc[t] = acc;
        env->trace_train[t] = train_loss;
        if (last) {
            *truncated = 1;
            env->ep.done = 1;
            env->ep.final_val_loss = val_loss;
        }
    }
    env->ep.total_reward += *reward;
    record_best(env);
    memcpy(obs_out, env->obs, sizeof env->obs);
}
