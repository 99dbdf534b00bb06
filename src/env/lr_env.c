/* The learning-rate environment (see lr_env.h for the observation, reward and
 * divergence rules, lr_action.h for the actions): one child run, reset for
 * each episode, stepped action_every training steps per agent step. */
#include "env/lr_env.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/timer.h"

/* Streams of the episode seed; 0 and 1 belong to the child run. */
enum { STREAM_INITIAL_LR = 2, STREAM_NOISE = 3, STREAM_TASK = 4, STREAM_HIDDEN_SCALE = 5 };

lr_env_config lr_env_config_default(const child_config *child) {
    lr_env_config c;
    memset(&c, 0, sizeof c);
    if (child) c.child = *child;
    c.steps = 1000;
    c.action_every = 10;
    c.action = lr_action_default();
    c.features = 0;
    c.lr_fixed = 0.0;
    c.n_initial = 3; /* the paper's */
    c.initial_rates[0] = 1e-2, c.initial_rates[1] = 1e-3, c.initial_rates[2] = 1e-4;
    c.lr_min = 1e-6;
    c.lr_max = 1.0;
    c.lr_noise = 0.0;
    c.lr_hidden_scale = 1.0;
    c.reward = LR_REWARD_VAL_LOSS;
    c.diverge_loss = CHILD_DIVERGENCE_LOSS;
    c.penalty_loss = 5.0;
    return c;
}

static int positive_finite(double x) { return x > 0 && isfinite(x); }

/* The base schedule of residual mode parses for a run of these steps; its
 * message names --base rather than --schedule. */
static int check_base(const lr_env_config *c) {
    if (!lr_action_residual(&c->action)) return 0;
    schedule s;
    if (schedule_parse(&s, c->action.base, 1e-3, c->steps) == 0) return 0;
    char msg[1024], prefix[LR_ACTION_BASE_MAX + 16];
    snprintf(prefix, sizeof prefix, "--schedule %s: ", c->action.base);
    snprintf(msg, sizeof msg, "%s", alrs_error());
    const char *what = strncmp(msg, prefix, strlen(prefix)) ? msg : msg + strlen(prefix);
    return alrs_fail("--base %s: %s", c->action.base, what);
}

/* An episode's length against the action interval (and the residual base,
 * which parses for that length). */
static int check_steps(const lr_env_config *c) {
    if (c->steps < 1) return alrs_fail("steps per episode %d: must be positive", c->steps);
    if (c->action_every < 1 || c->action_every > c->steps)
        return alrs_fail("action every %d steps: must be between 1 and the %d steps per episode",
                         c->action_every, c->steps);
    return check_base(c);
}

/* Each task's length (the message names the task). */
static int check_tasks(const lr_env_config *c) {
    if (c->n_tasks < 0 || (c->n_tasks > 0 && !c->tasks))
        return alrs_fail("tasks: %d given without their list", c->n_tasks);
    for (int k = 0; k < c->n_tasks; k++) {
        lr_env_config one = *c;
        one.steps = c->tasks[k].steps;
        if (!c->tasks[k].data) return alrs_fail("task %s: no data set", c->tasks[k].name);
        if (check_steps(&one) != 0)
            return alrs_fail_context("task %s", c->tasks[k].name);
    }
    return 0;
}

static int check_initial(const lr_env_config *c) {
    if (!(c->lr_fixed >= 0) || !isfinite(c->lr_fixed))
        return alrs_fail("fixed initial rate %g: must be positive (or 0 to draw one)", c->lr_fixed);
    if (c->lr_fixed == 0 && (c->n_initial < 1 || c->n_initial > LR_ENV_MAX_INITIAL))
        return alrs_fail("initial rates: %d given (expected 1 to %d)", c->n_initial,
                         LR_ENV_MAX_INITIAL);
    for (int i = 0; c->lr_fixed == 0 && i < c->n_initial; i++)
        if (!positive_finite(c->initial_rates[i]))
            return alrs_fail("initial rate %g: must be a positive number", c->initial_rates[i]);
    if (c->lr_fixed == 0 && c->initial_log_uniform &&
        (c->n_initial != 2 || c->initial_rates[0] > c->initial_rates[1]))
        return alrs_fail("initial rate range: expected LO:HI with LO <= HI");
    return 0;
}

int lr_env_config_check(const lr_env_config *c) {
    if (lr_action_check(&c->action) != 0) return -1;
    if (check_steps(c) != 0 || check_tasks(c) != 0) return -1;
    if (c->features & ~(unsigned)LR_FEAT_ALL)
        return alrs_fail("observation features 0x%x: unknown groups", c->features);
    if (!positive_finite(c->lr_min) || !positive_finite(c->lr_max) || c->lr_max < c->lr_min)
        return alrs_fail("learning-rate bounds [%g, %g]: need 0 < lr_min <= lr_max", c->lr_min,
                         c->lr_max);
    if (check_initial(c) != 0) return -1;
    if (!(c->lr_noise >= 0) || !isfinite(c->lr_noise))
        return alrs_fail("learning-rate noise %g: must be 0 (off) or positive", c->lr_noise);
    if (!(c->lr_hidden_scale >= 1) || !isfinite(c->lr_hidden_scale))
        return alrs_fail("hidden rate scale %g: must be 1 (off) or more", c->lr_hidden_scale);
    if (c->reward != LR_REWARD_VAL_LOSS && c->reward != LR_REWARD_LOG_DELTA &&
        c->reward != LR_REWARD_FINAL)
        return alrs_fail("reward kind %d: unknown", (int)c->reward);
    if (!positive_finite(c->diverge_loss))
        return alrs_fail("divergence bound %g: must be a positive number", c->diverge_loss);
    if (!positive_finite(c->penalty_loss))
        return alrs_fail("penalty loss %g: must be a positive number", c->penalty_loss);
    return 0;
}

lr_env_interface lr_env_interface_of(const lr_env_config *c) {
    lr_env_interface i;
    memset(&i, 0, sizeof i);
    i.features = c->features;
    i.action = c->action;
    i.lr_min = c->lr_min, i.lr_max = c->lr_max;
    i.action_every = c->action_every;
    i.steps = c->n_tasks > 0 ? 0 : c->steps; /* tasks differ in length: unknown */
    return i;
}

void lr_env_config_adopt(lr_env_config *c, const lr_env_interface *i) {
    c->features = i->features;
    c->action = i->action;
    c->lr_min = i->lr_min, c->lr_max = i->lr_max;
}

static int same_actions(const lr_action_config *a, const lr_action_config *b) {
    if (a->kind != b->kind || a->delta != b->delta || a->residual_range != b->residual_range ||
        strcmp(a->base, b->base) != 0 || lr_action_count(a) != lr_action_count(b))
        return 0;
    for (int i = 0; a->kind == LR_ACTION_DISCRETE && i < a->n_factors; i++)
        if (a->factors[i] != b->factors[i]) return 0;
    return 1;
}

int lr_env_interface_equal(const lr_env_interface *a, const lr_env_interface *b) {
    return a->features == b->features && same_actions(&a->action, &b->action) &&
           a->lr_min == b->lr_min && a->lr_max == b->lr_max &&
           a->action_every == b->action_every && a->steps == b->steps;
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

int lr_env_agent_steps(const lr_env_config *c, long steps) {
    return (int)((steps + c->action_every - 1) / c->action_every);
}

int lr_env_max_agent_steps(const lr_env_config *c) {
    int most = c->n_tasks > 0 ? 0 : lr_env_agent_steps(c, c->steps);
    for (int k = 0; k < c->n_tasks; k++) {
        int n = lr_env_agent_steps(c, c->tasks[k].steps);
        most = n > most ? n : most;
    }
    return most;
}

/* The child and the observer for env->cfg's child and steps on `data`. */
static int build_child(lr_env *env, const dataset *data) {
    const lr_env_config *cfg = &env->cfg;
    if (child_run_create(&env->child, &cfg->child, data) != 0) return -1;
    const nn_spec *s = &env->child.spec;
    const nn_layer *out = &s->layers[s->n_layers - 1];
    if (out->op != NN_FC)
        return alrs_fail("model %s: the output layer is not fully connected", s->model);
    size_t np = (size_t)cfg->child.val_size * (size_t)s->classes;
    if (lr_observer_init(&env->observer, cfg->features, np, cfg->lr_min, cfg->lr_max) != 0) return -1;
    env->n_agent = lr_env_agent_steps(cfg, cfg->steps);
    free(env->prev_params);
    env->prev_params = cfg->features & LR_FEAT_UPDATE_RATIO
                           ? alrs_malloc(sizeof(float) * env->child.spec.n_params) : NULL;
    return 0;
}

/* Task k's child in place of the one held: the environment's configuration
 * takes the task's child and steps. */
static int switch_task(lr_env *env, int k) {
    const lr_env_task *task = &env->cfg.tasks[k];
    child_run_free(&env->child);
    lr_observer_free(&env->observer);
    env->cfg.child = task->child;
    env->cfg.steps = task->steps;
    env->task = k;
    if (build_child(env, task->data) == 0) return 0;
    env->task = -2; /* nothing held: the next reset builds again */
    return alrs_fail_context("task %s", task->name);
}

int lr_env_create(lr_env *env, const lr_env_config *cfg, const dataset *data) {
    memset(env, 0, sizeof *env);
    if (lr_env_config_check(cfg) != 0) return -1;
    env->cfg = *cfg;
    env->task = -1;
    int rc = cfg->n_tasks > 0 ? switch_task(env, 0) : build_child(env, data);
    if (rc != 0) {
        lr_env_free(env);
        return -1;
    }
    env->obs_size = env->observer.obs_size;
    env->max_agent = lr_env_max_agent_steps(cfg);
    size_t n = (size_t)env->max_agent;
    double **traces[] = {&env->trace_lr,     &env->trace_val,    &env->trace_acc,
                         &env->trace_train,  &env->trace_action, &env->trace_reward};
    for (size_t k = 0; k < sizeof traces / sizeof traces[0]; k++)
        *traces[k] = alrs_calloc(n, sizeof(double));
    env->trace_obs = alrs_calloc((n + 1) * (size_t)env->obs_size, sizeof(double));
    env->chunk_losses = alrs_calloc((size_t)cfg->action_every, sizeof(double));
    env->ep.done = 1; /* no episode yet: step before reset is a bug */
    return 0;
}

int lr_env_hold_task(lr_env *env, int k) {
    if (k < 0 || k >= env->cfg.n_tasks)
        return alrs_fail("task %d: the environment has %d tasks", k, env->cfg.n_tasks);
    return k == env->task ? 0 : switch_task(env, k);
}

void lr_env_free(lr_env *env) {
    child_run_free(&env->child);
    lr_observer_free(&env->observer);
    double *traces[] = {env->trace_lr,    env->trace_val,    env->trace_acc,   env->trace_train,
                        env->trace_action, env->trace_reward, env->trace_obs};
    for (size_t k = 0; k < sizeof traces / sizeof traces[0]; k++) free(traces[k]);
    free(env->prev_params);
    free(env->chunk_losses);
    memset(env, 0, sizeof *env);
}

const lr_env_episode *lr_env_episode_record(const lr_env *env) { return &env->ep; }

static double safe_log(double x) { return log(fmax(x, LR_ENV_LOG_EPS)); }

/* The observation after a validation that wrote its probabilities into the
 * observer's buffer; recorded as row env->t of the episode's observations. */
static void observe(lr_env *env, double train_loss, double val_loss) {
    const child_run *r = &env->child;
    const nn_layer *out = &r->spec.layers[r->spec.n_layers - 1];
    lr_observer_input in = {train_loss, val_loss, child_run_eval_params(r) + out->w_off,
                            out->w_len, env->lr,
                            lr_control_offset(&env->control), r->step, env->cfg.steps,
                            0.0, 0.0, 0.0};
    unsigned f = env->cfg.features;
    if (env->t > 0 && env->chunk_n > 0) {
        in.grad_norm = env->grad_norm_sum / env->chunk_n;
        in.loss_spread = lr_env_spread(env->chunk_losses, env->chunk_n);
    }
    size_t np = r->spec.n_params;
    if (f & LR_FEAT_UPDATE_RATIO) {
        /* the training iterate (schedule-free: y), whose steps the rate sizes */
        if (env->t > 0) in.update_ratio = lr_env_update_ratio(r->params, env->prev_params, np);
        memcpy(env->prev_params, r->params, sizeof(float) * np);
    }
    lr_observer_observe(&env->observer, &in, env->obs);
    memcpy(env->trace_obs + (size_t)env->t * env->obs_size, env->obs,
           sizeof(double) * env->obs_size);
}

static void record_best(lr_env *env) {
    env->ep.best_val_loss = env->child.best_val_loss;
    env->ep.best_step = env->child.best_step;
    env->ep.child_steps = env->child.step;
    env->ep.agent_steps = env->t;
    env->ep.wall_s = alrs_now() - env->start_s;
}

int lr_env_reset(lr_env *env, uint64_t seed, long episode, double *obs_out) {
    rng_stream es = rng_make(seed, (uint64_t)episode);
    return lr_env_start(env, rng_u64(&es), episode, obs_out);
}

/* The initial rate (fixed, or drawn from stream 2) and the rate control
 * that starts from it. */
static void start_rate(lr_env *env, uint64_t ep_seed) {
    const lr_env_config *c = &env->cfg;
    double lr = c->lr_fixed;
    if (lr == 0) {
        rng_stream r = rng_make(ep_seed, STREAM_INITIAL_LR);
        if (c->initial_log_uniform) {
            double lo = log(c->initial_rates[0]), hi = log(c->initial_rates[1]);
            lr = exp(lo + (hi - lo) * rng_uniform_double(&r));
        } else {
            lr = c->initial_rates[rng_below(&r, (uint64_t)c->n_initial)];
        }
    }
    /* the base was checked by lr_env_config_check */
    if (lr_control_start(&env->control, &c->action, c->lr_min, c->lr_max, lr, c->steps) != 0)
        alrs_panic("residual base %s: %s", c->action.base, alrs_error());
    env->ep.initial_lr = env->control.initial_lr;
    env->lr = lr_control_rate(&env->control, 0);
    env->ep.lr_scale = 1.0;
    if (c->lr_hidden_scale > 1) {
        rng_stream r = rng_make(ep_seed, STREAM_HIDDEN_SCALE);
        double span = log(c->lr_hidden_scale);
        env->ep.lr_scale = exp(span * (2 * rng_uniform_double(&r) - 1));
    }
}

/* A multi-task episode's task (stream 4 of its seed), and the child built
 * for it unless the environment holds it already. */
static int start_task(lr_env *env, uint64_t ep_seed) {
    if (env->cfg.n_tasks == 0) return 0;
    rng_stream r = rng_make(ep_seed, STREAM_TASK);
    int k = (int)rng_below(&r, (uint64_t)env->cfg.n_tasks);
    return k == env->task ? 0 : switch_task(env, k);
}

int lr_env_start(lr_env *env, uint64_t ep_seed, long episode, double *obs_out) {
    env->start_s = alrs_now();
    if (start_task(env, ep_seed) != 0) return -1;
    child_run_reset(&env->child, ep_seed);
    memset(&env->ep, 0, sizeof env->ep);
    start_rate(env, ep_seed);
    env->noise = rng_make(ep_seed, STREAM_NOISE);
    env->t = 0;

    env->ep.seed = ep_seed;
    env->ep.episode = episode;
    env->ep.task = env->task;
    env->ep.obs_size = env->obs_size;
    env->ep.lr = env->trace_lr;
    env->ep.val_loss = env->trace_val;
    env->ep.val_acc = env->trace_acc;
    env->ep.train_loss = env->trace_train;
    env->ep.action = env->trace_action;
    env->ep.reward = env->trace_reward;
    env->ep.obs = env->trace_obs;
    env->ep.final_val_loss = NAN;

    double val_loss, acc;
    lr_observer_start(&env->observer);
    child_run_validate_probs(&env->child, &val_loss, &acc, lr_observer_probs(&env->observer));
    /* no training yet: the fresh network's validation loss stands in for its
     * training loss */
    observe(env, val_loss, val_loss);
    env->prev_val_loss = val_loss;
    env->ep.initial_val_loss = val_loss;
    record_best(env);
    memcpy(obs_out, env->obs, sizeof(double) * env->obs_size);
    return 0;
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

/* Trains up to n steps, each at its rate; the mean loss, or -1 when a loss
 * was NaN, infinite or above the bound (training stops there). */
static double train_chunk(lr_env *env, int n) {
    double sum = 0.0;
    int grads = (env->cfg.features & LR_FEAT_GRAD_NORM) != 0;
    env->chunk_n = 0;
    env->grad_norm_sum = 0.0;
    for (int k = 0; k < n; k++) {
        env->lr = lr_control_rate(&env->control, env->child.step);
        double loss = child_run_step(&env->child, env->lr * env->ep.lr_scale);
        if (!(loss <= env->cfg.diverge_loss)) return -1.0; /* NaN fails this too */
        sum += loss;
        env->chunk_losses[env->chunk_n++] = loss;
        if (grads) env->grad_norm_sum += lr_env_norm(env->child.grads, env->child.spec.n_params);
        /* plateau bases react to validations, never to training losses */
    }
    return sum / n;
}

/* The observation of a diverged step: the previous one with both losses at
 * the bound and the rate features updated (finite; never bootstrapped from). */
static void observe_divergence(lr_env *env) {
    lr_observer_diverged(&env->observer, env->cfg.diverge_loss, env->lr, env->obs);
    memcpy(env->trace_obs + (size_t)env->t * env->obs_size, env->obs,
           sizeof(double) * env->obs_size);
}

void lr_env_step(lr_env *env, double action, double *obs_out, double *reward, int *terminated,
                 int *truncated) {
    lr_env_step_effect(env, action, lr_action_effect(&env->cfg.action, action), obs_out, reward,
                       terminated, truncated);
}

void lr_env_step_effect(lr_env *env, double action, double effect, double *obs_out,
                        double *reward, int *terminated, int *truncated) {
    const lr_env_config *c = &env->cfg;
    if (env->ep.done) alrs_panic("lr_env_step: the episode has ended (or none was started)");
    lr_control_act(&env->control, effect, c->lr_noise > 0 ? c->lr_noise * rng_normal(&env->noise) : 0);

    int t = env->t;
    long start = (long)t * c->action_every;
    int n = c->steps - start < c->action_every ? (int)(c->steps - start) : c->action_every;
    env->trace_action[t] = action;
    double train_loss = train_chunk(env, n), val_loss = NAN, acc;
    env->trace_lr[t] = env->lr;
    int diverged = train_loss < 0;
    if (!diverged) {
        child_run_validate_probs(&env->child, &val_loss, &acc, lr_observer_probs(&env->observer));
        diverged = !(val_loss <= c->diverge_loss);
    }
    env->t = t + 1;
    *terminated = *truncated = 0;
    if (diverged) {
        *reward = divergence_penalty(env, t);
        *terminated = 1;
        env->trace_val[t] = env->trace_acc[t] = NAN;
        env->trace_train[t] = train_loss >= 0 ? train_loss : NAN;
        env->ep.diverged = 1;
        env->ep.done = 1;
        observe_divergence(env);
    } else {
        int last = env->t == env->n_agent;
        *reward = step_reward(env, val_loss, last);
        lr_control_validated(&env->control, val_loss);
        observe(env, train_loss, val_loss);
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
    env->trace_reward[t] = *reward;
    env->ep.total_reward += *reward;
    record_best(env);
    memcpy(obs_out, env->obs, sizeof(double) * env->obs_size);
}

/* ---- an episode saved and restored ---- */

static void put_trace(byte_buf *out, const double *x, size_t n) { bytes_put_f64s(out, x, n); }

/* The references of the scale-free groups travel as an array of doubles. */
_Static_assert(sizeof(lr_observer_ref) % sizeof(double) == 0, "lr_observer_ref holds doubles only");

void lr_env_save(const lr_env *env, byte_buf *out) {
    child_run_save(&env->child, out);
    const lr_control *c = &env->control;
    const schedule *b = &c->base;
    bytes_put_f64(out, c->x);
    bytes_put_f64(out, b->plateau_lr), bytes_put_f64(out, b->plateau_best);
    bytes_put_u64(out, (uint64_t)b->plateau_bad), bytes_put_u64(out, (uint64_t)b->plateau_cooldown_left);
    const lr_observer *o = &env->observer;
    bytes_put_u64(out, (uint64_t)o->t);
    bytes_put_f64(out, o->pred_ema), bytes_put_f64(out, o->change_ema);
    bytes_put_f64s(out, o->log_val, LR_SLOPE_SPAN + 1);
    bytes_put_f32s(out, o->prev, o->n_probs);
    bytes_put_u64(out, (uint64_t)env->t);
    bytes_put_f64(out, env->lr), bytes_put_f64(out, env->prev_val_loss);
    bytes_put_u64(out, env->noise.key), bytes_put_u64(out, env->noise.counter);
    const lr_env_episode *ep = &env->ep;
    bytes_put_f64(out, ep->initial_val_loss), bytes_put_f64(out, ep->total_reward);
    size_t t = (size_t)env->t;
    put_trace(out, env->trace_lr, t), put_trace(out, env->trace_val, t);
    put_trace(out, env->trace_acc, t), put_trace(out, env->trace_train, t);
    put_trace(out, env->trace_action, t), put_trace(out, env->trace_reward, t);
    put_trace(out, env->trace_obs, (t + 1) * (size_t)env->obs_size);
    bytes_put_f64s(out, env->obs, (size_t)env->obs_size);
    /* the newer groups' state follows only when they are observed, so that
     * an episode without them is saved exactly as before they existed */
    if (o->features & LR_FEAT_REFERENCED)
        bytes_put_f64s(out, (const double *)&o->ref, sizeof o->ref / sizeof(double));
    if (o->features & LR_FEAT_UPDATE_RATIO)
        bytes_put_f32s(out, env->prev_params, env->child.spec.n_params);
}

int lr_env_load(lr_env *env, byte_reader *in, const char *path) {
    if (child_run_load(&env->child, in, path) != 0) return -1;
    lr_control *c = &env->control;
    schedule *b = &c->base;
    c->x = bytes_get_f64(in);
    b->plateau_lr = bytes_get_f64(in), b->plateau_best = bytes_get_f64(in);
    b->plateau_bad = (long)bytes_get_u64(in), b->plateau_cooldown_left = (long)bytes_get_u64(in);
    lr_observer *o = &env->observer;
    o->t = (int)bytes_get_u64(in);
    o->pred_ema = bytes_get_f64(in), o->change_ema = bytes_get_f64(in);
    bytes_get_f64s(in, o->log_val, LR_SLOPE_SPAN + 1);
    bytes_get_f32s(in, o->prev, o->n_probs);
    long t = (long)bytes_get_u64(in);
    if (in->overrun || t < 0 || t > env->n_agent)
        return alrs_fail("%s: the checkpoint's episode does not fit this run (%ld agent steps of "
                         "%d)", path, t, env->n_agent);
    env->t = (int)t;
    env->lr = bytes_get_f64(in), env->prev_val_loss = bytes_get_f64(in);
    env->noise.key = bytes_get_u64(in), env->noise.counter = bytes_get_u64(in);
    lr_env_episode *ep = &env->ep;
    ep->initial_val_loss = bytes_get_f64(in), ep->total_reward = bytes_get_f64(in);
    bytes_get_f64s(in, env->trace_lr, (size_t)t), bytes_get_f64s(in, env->trace_val, (size_t)t);
    bytes_get_f64s(in, env->trace_acc, (size_t)t), bytes_get_f64s(in, env->trace_train, (size_t)t);
    bytes_get_f64s(in, env->trace_action, (size_t)t);
    bytes_get_f64s(in, env->trace_reward, (size_t)t);
    bytes_get_f64s(in, env->trace_obs, (size_t)(t + 1) * (size_t)env->obs_size);
    bytes_get_f64s(in, env->obs, (size_t)env->obs_size);
    if (o->features & LR_FEAT_REFERENCED)
        bytes_get_f64s(in, (double *)&o->ref, sizeof o->ref / sizeof(double));
    if (o->features & LR_FEAT_UPDATE_RATIO)
        bytes_get_f32s(in, env->prev_params, env->child.spec.n_params);
    if (in->overrun) return alrs_fail("%s: the checkpoint ends inside the episode", path);
    record_best(env);
    return 0;
}
