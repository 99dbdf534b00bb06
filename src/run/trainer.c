#include "run/trainer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/interrupt.h"
#include "core/memory.h"
#include "core/timer.h"
#include "rl/controller_file.h"
#include "run/train_checkpoint.h"

int trainer_init(trainer *t, const child_config *cc, long steps, long eval_every,
                 const dataset *data) {
    memset(t, 0, sizeof *t);
    if (steps < 1) return alrs_fail("--steps %ld: must be at least 1", steps);
    if (eval_every < 1) return alrs_fail("--eval-every %ld: must be at least 1", eval_every);
    t->child = *cc;
    t->steps = steps;
    t->eval_every = eval_every;
    t->data = data;
    t->act.kind = CONTROLLER_ACT_MODE;
    t->act.k = 1;
    return 0;
}

void trainer_free(trainer *t) {
    if (t->have_run) child_run_free(&t->run);
    if (t->have_env) lr_env_free(&t->env);
    if (t->have_ctrl) controller_free(&t->ctrl);
    memset(t, 0, sizeof *t);
}

const child_run *trainer_child(const trainer *t) {
    return t->last;
}

static void outcome_start(train_outcome *o) {
    memset(o, 0, sizeof *o);
    o->best_val_loss = o->final_val_loss = o->final_val_acc = NAN;
    o->test_loss = o->test_acc = NAN;
    o->best_step = -1;
}

/* Test figures at the best validation point and at the end. */
static void outcome_finish(const trainer *t, train_outcome *o, child_run *r, double start) {
    o->rss_end_kib = memory_rss_kib(); /* of the training loop, before the test pass */
    r->test_progress = t->test_progress, r->test_progress_ctx = t->test_progress_ctx;
    o->best_val_loss = r->best_step >= 0 ? r->best_val_loss : NAN;
    o->best_step = r->best_step;
    if (r->best_step >= 0) child_run_test(r, 1, &o->test_loss, &o->test_acc);
    if (r->best_step >= 0 && r->best_step == r->step) {
        /* the best point is the end: the same weights, one test pass */
        o->final_test_loss = o->test_loss, o->final_test_acc = o->test_acc;
    } else {
        child_run_test(r, 0, &o->final_test_loss, &o->final_test_acc);
    }
    o->wall_s = alrs_now() - start;
}

/* Saves the run at this step when asked to (every checkpoint_every steps, or
 * now); pick is NULL for a schedule run. */
static int maybe_save(trainer *t, const schedule *s, const train_outcome *o, train_progress *p,
                      uint64_t seed, double lr, const rng_stream *pick, int now) {
    if (!t->checkpoint_path) return 0;
    long every = t->checkpoint_every;
    /* a controller run moves a validation interval at a time: save once the
     * step has passed the next multiple */
    int due = every > 0 && p->step / every > p->saved_at / every;
    if (!now && !due) return 0;
    p->saved_at = p->step;
    return train_checkpoint_save(t->checkpoint_path, &t->run, &t->env, s, o, p, seed, lr,
                                 pick);
}

/* Starts the run from the checkpoint when asked to: p and o as they were. */
static int maybe_resume(trainer *t, schedule *s, train_outcome *o, train_progress *p,
                        uint64_t seed, double lr, rng_stream *pick) {
    memset(p, 0, sizeof *p);
    if (!t->resume) return 0;
    int rc = train_checkpoint_load(t->checkpoint_path, &t->run, &t->env, t->steps, s, o, p,
                                    seed, lr, pick);
    p->saved_at = p->step;
    return rc;
}

/* A child built for another optimizer than the one asked for now is
 * dropped, so that the run builds one for it. */
static void drop_other_optimizer(trainer *t) {
    if (t->have_run && strcmp(t->run_optimizer, t->child.optimizer) != 0) {
        child_run_free(&t->run);
        t->have_run = 0;
        if (t->last == &t->run) t->last = NULL;
    }
}

static int schedule_run(trainer *t, schedule *s, double lr, uint64_t seed, int check_interrupt,
                        trainer_progress_fn progress, void *ctx, train_outcome *o) {
    drop_other_optimizer(t);
    if (!t->have_run) {
        child_config cc = t->child;
        cc.seed = seed;
        if (child_run_create(&t->run, &cc, t->data) != 0) return -1;
        t->have_run = 1;
        snprintf(t->run_optimizer, sizeof t->run_optimizer, "%s", t->child.optimizer);
    } else {
        child_run_reset(&t->run, seed);
    }
    child_run *r = t->last = &t->run;
    train_progress pr;
    if (maybe_resume(t, s, o, &pr, seed, lr, NULL) != 0) return -1;
    double start = alrs_now() - pr.elapsed_s;
    for (long step = pr.step; step < t->steps; step++) {
        pr.step = step, pr.elapsed_s = alrs_now() - start;
        if (maybe_save(t, s, o, &pr, seed, lr, NULL, 0) != 0) return -1;
        if (check_interrupt && interrupt_requested()) {
            o->interrupted = 1;
            o->steps_done = step;
            return maybe_save(t, s, o, &pr, seed, lr, NULL, 1);
        }
        double rate = schedule_lr(s, step);
        double loss = child_run_step(r, rate);
        pr.loss_sum += loss, pr.loss_count++;
        o->steps_done = step + 1;
        trace_point p = {step + 1, rate, pr.loss_sum / pr.loss_count, NAN, NAN, 0, optimizer_d(&r->opt)};
        if (!isfinite(loss) || loss > CHILD_DIVERGENCE_LOSS) {
            o->diverged = 1;
            p.train_loss = loss;
            p.wall_s = alrs_now() - start;
            trainer_add_point(o, &p);
            if (progress) progress(ctx, &p, t->steps);
            break;
        }
        if ((step + 1) % t->eval_every != 0 && step + 1 != t->steps) continue;
        child_run_validate(r, &p.val_loss, &p.val_acc);
        schedule_observe_val_loss(s, p.val_loss);
        o->final_val_loss = p.val_loss, o->final_val_acc = p.val_acc;
        p.wall_s = alrs_now() - start;
        trainer_add_point(o, &p);
        pr.loss_sum = 0, pr.loss_count = 0;
        if (progress) progress(ctx, &p, t->steps);
    }
    outcome_finish(t, o, r, start);
    return 0;
}

void trainer_adopt_controller(trainer *t, const char *path, controller *c) {
    if (t->have_ctrl) controller_free(&t->ctrl);
    if (t->have_env) lr_env_free(&t->env);
    t->have_env = 0;
    t->ctrl = *c;
    t->have_ctrl = 1;
    snprintf(t->ctrl_path, sizeof t->ctrl_path, "%s", path);
}

/* Loads the controller (once per path) and builds the environment for it. */
static int controller_ready(trainer *t, const char *path) {
    if (!t->have_ctrl || strcmp(t->ctrl_path, path) != 0) {
        if (t->have_ctrl) controller_free(&t->ctrl);
        t->have_ctrl = 0;
        if (controller_file_load(&t->ctrl, path) != 0) return -1;
        t->have_ctrl = 1;
        snprintf(t->ctrl_path, sizeof t->ctrl_path, "%s", path);
        if (t->have_env) lr_env_free(&t->env);
        t->have_env = 0;
    }
    /* an environment built for another optimizer is rebuilt, as a child is */
    if (t->have_env && strcmp(t->env.cfg.child.optimizer, t->child.optimizer) != 0) {
        lr_env_free(&t->env);
        t->have_env = 0;
    }
    if (t->have_env) return 0;
    lr_env_config ec = lr_env_config_default(&t->child);
    ec.steps = (int)t->steps;
    /* a run shorter than its validation interval still validates at its end */
    ec.action_every = (int)(t->eval_every < t->steps ? t->eval_every : t->steps);
    lr_env_config_adopt(&ec, &t->ctrl.iface);
    ec.lr_fixed = 1e-3; /* replaced by each run's rate */
    if (lr_env_config_check(&ec) != 0 || lr_env_create(&t->env, &ec, t->data) != 0) return -1;
    t->have_env = 1;
    return 0;
}

/* One episode of the environment with the controller deciding each action;
 * a trace row per agent step. */
static int controller_run(trainer *t, schedule *s, double lr, uint64_t seed, int check_interrupt,
                          trainer_progress_fn progress, void *ctx, train_outcome *o) {
    if (controller_ready(t, s->controller_path) != 0) return -1;
    lr_env *env = &t->env;
    env->cfg.lr_fixed = lr;
    double raw[LR_ENV_MAX_OBS], action, reward;
    int term = 0, trunc = 0;
    rng_stream pick = rng_make(seed, CONTROLLER_POLICY_STREAM);
    lr_env_start(env, seed, 0, raw);
    t->last = &env->child;
    train_progress pr;
    if (maybe_resume(t, s, o, &pr, seed, lr, &pick) != 0) return -1;
    if (t->resume) memcpy(raw, env->obs, sizeof(double) * env->obs_size);
    double start = alrs_now() - pr.elapsed_s;
    const lr_env_episode *ep = lr_env_episode_record(env);
    while (!term && !trunc && ep->agent_steps < env->n_agent) {
        pr.step = env->child.step, pr.elapsed_s = alrs_now() - start;
        if (check_interrupt && interrupt_requested()) {
            o->interrupted = 1;
            o->steps_done = pr.step;
            return maybe_save(t, s, o, &pr, seed, lr, &pick, 1);
        }
        double effect = controller_decide(&t->ctrl, raw, &t->act, &pick, &action);
        lr_env_step_effect(env, action, effect, raw, &reward, &term, &trunc);
        int k = ep->agent_steps - 1;
        trace_point p = {ep->child_steps, ep->lr[k], ep->train_loss[k], ep->val_loss[k],
                         ep->val_acc[k], alrs_now() - start, optimizer_d(&env->child.opt)};
        trainer_add_point(o, &p);
        if (!ep->diverged) o->final_val_loss = p.val_loss, o->final_val_acc = p.val_acc;
        if (progress) progress(ctx, &p, t->steps);
        pr.step = env->child.step, pr.elapsed_s = alrs_now() - start;
        if (!term && !trunc && maybe_save(t, s, o, &pr, seed, lr, &pick, 0) != 0) return -1;
    }
    o->steps_done = ep->child_steps;
    o->diverged = ep->diverged;
    outcome_finish(t, o, &env->child, start);
    return 0;
}

int trainer_run(trainer *t, schedule *s, double lr, uint64_t seed, int check_interrupt,
                trainer_progress_fn progress, void *ctx, train_outcome *out) {
    outcome_start(out);
    if (s->kind == SCHED_CONTROLLER)
        return controller_run(t, s, lr, seed, check_interrupt, progress, ctx, out);
    return schedule_run(t, s, lr, seed, check_interrupt, progress, ctx, out);
}
