#include "settings/learn_flags.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings/config_text.h"
#include "core/config.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/numfmt.h"

const char learn_flags_help[] =
    "The controller's task (recorded in controller.bin, used wherever it runs):\n"
    "  --features LIST               observation groups after the paper's seven: progress\n"
    "                                (t/T, log steps left), offset (how far the actions moved\n"
    "                                the rate), slope (val-loss trend); 'paper' alone: none,\n"
    "                                'all': every group (default paper)\n"
    "  --action discrete|continuous|absolute\n"
    "                                discrete: one of --factors per action; continuous: a\n"
    "                                Gaussian squashed to a factor in [1/(1+delta), 1+delta];\n"
    "                                absolute: the rate (or residual offset) itself, anywhere\n"
    "                                in its range (default discrete)\n"
    "  --factors LIST                discrete factors (default 1+delta,1/(1+delta),1)\n"
    "  --delta X                     (default 0.05)\n"
    "  --base SPEC                   residual mode: rate = SPEC's rate x exp(c), the actions\n"
    "                                move c; an untrained controller is its base schedule\n"
    "  --residual-range R            residual: exp(c) stays in [1/R, R] (default 4)\n"
    "  --lr-bounds LO,HI             the rate always stays within (default 1e-6,1; over\n"
    "                                prodigy and dadapt-adam, whose step is d x rate: 1e-3,10)\n"
    "  --action-every K              child steps per agent step (default 10)\n"
    "Episodes and rewards:\n"
    "  --episodes N                  child runs in all (default 8); rounded up to whole\n"
    "                                batches of --envs (with --tasks, a batch runs the longest\n"
    "                                task's agent steps and may hold more episodes)\n"
    "  --envs E                      environments per PPO update, run at once (default 2);\n"
    "                                under MPI, of all ranks together (at least one each)\n"
    "  --seed-group K                environments in groups of K train the same child (same\n"
    "                                seed, weights, batches, initial rate) with their own\n"
    "                                actions (default 1: all differ)\n"
    "  --threads-per-env T           OpenMP threads of each environment's team (default 1)\n"
    "  --concurrency N               environments running at once (default: as many\n"
    "                                teams as the cores hold; the rest wait their turn);\n"
    "                                under MPI, per rank, within the rank's cores\n"
    "  --tasks FILE                  learn across a task suite (docs/TASKS.md): each episode\n"
    "                                draws a task; the child-run flags are the tasks' defaults,\n"
    "                                every task validates every --action-every steps\n"
    "  --lr X                        fixes the initial (or base) rate\n"
    "  --initial-lrs LIST|LO:HI      the rates an episode draws its initial rate from, or a\n"
    "                                range it draws from log-uniformly (default\n"
    "                                1e-2,1e-3,1e-4, the paper's; 1 over prodigy, dadapt-adam)\n"
    "  --lr-noise S                  relative noise on the rate (default 0)\n"
    "  --reward val-loss|log-delta|final   (default val-loss: -validation loss each step)\n"
    "PPO:\n"
    "  --gamma X --gae-lambda X      discount and GAE lambda (default 0.99, 0.95)\n"
    "  --ppo-epochs N --ppo-minibatches N --ppo-lr X --ent-coef X --clip X\n"
    "                                (default 4, 4, 3e-4, 0, 0.2)\n"
    "  --target-kl X                 stop an update's epochs once the policy has moved this\n"
    "                                far (approximate KL; default 0: off)\n"
    "Output:\n"
    "  --trace-every N               write the trace of env 0's episode every N updates (1)\n"
    "  --resume                      continue the run in --out from its controller.bin\n"
    "  --check                       check the flags and data files, run nothing, write nothing\n";

/* --base, --residual-range, --factors, --delta and --action together. */
static int parse_action(args *a, lr_action_config *act) {
    const char *kind = "discrete", *factors = NULL, *base = NULL;
    *act = lr_action_default();
    double delta = act->delta;
    if (args_string(a, "action", &kind) || args_string(a, "factors", &factors) ||
        args_string(a, "base", &base) || args_double(a, "delta", 1e-6, 10, &delta) ||
        args_double(a, "residual-range", 1.0 + 1e-9, 1e6, &act->residual_range) ||
        lr_action_kind_parse(kind, &act->kind) != 0)
        return -1;
    act->delta = delta;
    act->factors[0] = 1.0 + delta, act->factors[1] = 1.0 / (1.0 + delta);
    if (factors && act->kind != LR_ACTION_DISCRETE)
        return alrs_fail("--factors applies to --action discrete (got --action %s)", kind);
    if (factors && lr_action_parse_factors(factors, act) != 0) return -1;
    if (base) {
        if (strlen(base) >= sizeof act->base)
            return alrs_fail("--base: the spec is longer than %zu bytes", sizeof act->base - 1);
        snprintf(act->base, sizeof act->base, "%s", base);
    }
    return lr_action_check(act);
}

/* --initial-lrs: a list (drawn uniformly) or LO:HI (log-uniformly). */
static int parse_initial(args *a, lr_env_config *e) {
    const char *text = NULL;
    if (args_string(a, "initial-lrs", &text) != 0) return -1;
    if (!text || !strchr(text, ':'))
        return args_doubles(a, "initial-lrs", 1e-12, 1e3, e->initial_rates, LR_ENV_MAX_INITIAL,
                            &e->n_initial);
    char *end;
    double lo = strtod(text, &end), hi = *end == ':' ? strtod(end + 1, &end) : NAN;
    if (*end || !(lo >= 1e-12 && lo <= hi && hi <= 1e3))
        return alrs_fail("--initial-lrs %s: expected LO:HI with 1e-12 <= LO <= HI <= 1000 (or a "
                         "list)", text);
    e->initial_rates[0] = lo, e->initial_rates[1] = hi;
    e->n_initial = 2;
    e->initial_log_uniform = 1;
    return 0;
}

/* Over Prodigy and D-Adapt Adam the rate multiplies their estimate d (the
 * step is d x rate, 1 their authors' setting): the defaults centre on 1, with
 * room to move it 1000x down and 10x up, where Adam's (1e-6..1, initial
 * 1e-2, 1e-3, 1e-4) would start 100x to 10000x below it. */
static void d_scaled_defaults(const run_flags *r, lr_env_config *e) {
    if (!r->optimizer || (strcmp(r->optimizer, "prodigy") && strcmp(r->optimizer, "dadapt-adam")))
        return;
    e->lr_min = 1e-3, e->lr_max = 10.0;
    e->n_initial = 1, e->initial_rates[0] = 1.0;
}

static int parse_env(args *a, learn_flags *f) {
    const char *reward = "val-loss", *features = "paper";
    lr_env_config *e = &f->env;
    d_scaled_defaults(&f->run, e);
    double bounds[2] = {e->lr_min, e->lr_max};
    int n_bounds = 2;
    if (parse_action(a, &e->action) || args_string(a, "reward", &reward) ||
        args_string(a, "features", &features) ||
        args_double(a, "lr-noise", 0, 10, &e->lr_noise) || parse_initial(a, e) ||
        args_doubles(a, "lr-bounds", 1e-12, 1e6, bounds, 2, &n_bounds))
        return -1;
    if (n_bounds != 2 || bounds[0] > bounds[1])
        return alrs_fail("--lr-bounds: expected LO,HI with LO <= HI");
    e->lr_min = bounds[0], e->lr_max = bounds[1];
    if (lr_reward_parse(reward, &e->reward) != 0 ||
        lr_env_features_parse(features, &e->features) != 0)
        return -1;
    e->steps = (int)f->run.steps;
    e->action_every = (int)f->action_every;
    e->lr_fixed = f->run.lr_given ? f->run.lr : 0.0;
    for (int k = 0; k < a->n; k++)
        if (f->run.lr_given && !strcmp(a->name[k], "initial-lrs"))
            return alrs_fail("--initial-lrs: not with --lr (which fixes the initial rate)");
    return 0;
}

static int parse_ppo(args *a, learn_flags *f) {
    long epochs = f->ppo.epochs, minibatches = f->ppo.minibatches;
    if (args_int(a, "ppo-epochs", 1, 1000, &epochs) ||
        args_int(a, "ppo-minibatches", 1, 100000, &minibatches) ||
        args_double(a, "ppo-lr", 1e-9, 1, &f->ppo.lr) ||
        args_double(a, "ent-coef", 0, 10, &f->ppo.ent_coef) ||
        args_double(a, "clip", 1e-6, 1 - 1e-9, &f->ppo.clip) ||
        args_double(a, "target-kl", 0, 100, &f->ppo.target_kl) ||
        args_double(a, "gamma", 0, 1, &f->ppo.gamma) ||
        args_double(a, "gae-lambda", 0, 1, &f->ppo.lambda))
        return -1;
    f->ppo.epochs = (int)epochs;
    f->ppo.minibatches = (int)minibatches;
    return ppo_config_check(&f->ppo);
}

int learn_flags_parse(args *a, learn_flags *f) {
    memset(f, 0, sizeof *f);
    if (run_flags_parse(a, &f->run, RUN_FLAG_LR | RUN_FLAG_SEED | RUN_FLAG_DATA) != 0 ||
        run_flags_check_choices(&f->run) != 0)
        return -1;
    f->env = lr_env_config_default(NULL);
    f->ppo = ppo_config_default();
    f->episodes = 8, f->envs = 2, f->threads_per_env = 1, f->action_every = 10;
    f->trace_every = 1, f->seed_group = 1;
    int resume = args_switch(a, "resume");
    if (resume < 0 || args_string(a, "out", &f->run.out) ||
        args_int(a, "episodes", 1, 100000000, &f->episodes) ||
        args_int(a, "envs", 1, 4096, &f->envs) ||
        args_int(a, "seed-group", 1, 4096, &f->seed_group) ||
        args_int(a, "threads-per-env", 1, 4096, &f->threads_per_env) ||
        args_int(a, "concurrency", 0, 4096, &f->concurrency) ||
        args_int(a, "action-every", 1, 100000000, &f->action_every) ||
        args_int(a, "trace-every", 0, 100000000, &f->trace_every) || parse_env(a, f) ||
        parse_ppo(a, f))
        return -1;
    f->resume = resume;
    if (f->envs % f->seed_group != 0)
        return alrs_fail("--seed-group %ld: must divide --envs %ld", f->seed_group, f->envs);
    f->updates = (f->episodes + f->envs - 1) / f->envs;
    const char *tasks = NULL;
    if (args_string(a, "tasks", &tasks) != 0) return -1;
    return tasks ? learn_tasks_read(&f->tasks, tasks, a, f->action_every) : 0;
}

void learn_flags_free(learn_flags *f) { learn_tasks_free(&f->tasks); }

/* The settings of the controller's task (what controller.bin records). */
static void task_settings(config_text *t, const learn_flags *f) {
    const lr_env_config *e = &f->env;
    char buf[512];
    lr_env_features_format(e->features, buf, sizeof buf);
    config_text_add(t, "features", "features", buf);
    config_text_add(t, "action", "action", lr_action_kind_name(e->action.kind));
    if (e->action.kind == LR_ACTION_DISCRETE) {
        lr_action_format_factors(&e->action, buf, sizeof buf);
        config_text_add(t, "factors", "factors", buf);
    }
    config_text_num(t, "delta", "delta", e->action.delta);
    config_text_add(t, "base", "base", e->action.base);
    config_text_num(t, "residual_range", "residual-range", e->action.residual_range);
    char lo[32], hi[32];
    snprintf(buf, sizeof buf, "%s,%s", num_format(lo, e->lr_min), num_format(hi, e->lr_max));
    config_text_add(t, "lr_bounds", "lr-bounds", buf);
    config_text_int(t, "action_every", "action-every", f->action_every);
}

/* Initial rates: a fixed --lr, or the set episodes draw from. */
static void rate_settings(config_text *t, const learn_flags *f) {
    const lr_env_config *e = &f->env;
    if (f->run.lr_given) {
        config_text_num(t, "initial_lr", "lr", f->run.lr);
        return;
    }
    char buf[512] = "";
    int used = 0;
    if (e->initial_log_uniform) {
        char lo[NUM_TEXT], hi[NUM_TEXT];
        snprintf(buf, sizeof buf, "%s:%s", num_format(lo, e->initial_rates[0]),
                 num_format(hi, e->initial_rates[1]));
        config_text_add(t, "initial_lrs", "initial-lrs", buf);
        return;
    }
    for (int i = 0; i < e->n_initial; i++) {
        char num[NUM_TEXT];
        used += snprintf(buf + used, sizeof buf - (size_t)used, "%s%s", i ? "," : "",
                         num_format(num, e->initial_rates[i]));
    }
    config_text_add(t, "initial_lrs", "initial-lrs", buf);
}

static void ppo_settings(config_text *t, const learn_flags *f) {
    const ppo_config *p = &f->ppo;
    config_text_num(t, "gamma", "gamma", p->gamma);
    config_text_num(t, "lambda", "gae-lambda", p->lambda);
    config_text_int(t, "ppo_epochs", "ppo-epochs", p->epochs);
    config_text_int(t, "ppo_minibatches", "ppo-minibatches", p->minibatches);
    config_text_num(t, "ppo_lr", "ppo-lr", p->lr);
    config_text_num(t, "ent_coef", "ent-coef", p->ent_coef);
    config_text_num(t, "clip", "clip", p->clip);
    config_text_num(t, "target_kl", "target-kl", p->target_kl);
}

/* config.txt's text: the command that repeats the run, then every setting as
 * key=value (what --resume compares). */
static char *config_text_of(const learn_flags *f) {
    const run_flags *r = &f->run;
    config_text t;
    config_text_begin(&t, "alrs learn");
    run_flags_settings(&t, r);
    if (f->tasks.path) learn_tasks_settings(&t, &f->tasks);
    run_flags_setting(&t, r, RUN_FLAG_SEED);
    task_settings(&t, f);
    rate_settings(&t, f);
    config_text_num(&t, "lr_noise", "lr-noise", f->env.lr_noise);
    config_text_add(&t, "reward", "reward", lr_reward_name(f->env.reward));
    ppo_settings(&t, f);
    config_text_int(&t, NULL, "episodes", f->updates * f->envs);
    config_text_int(&t, "envs", "envs", f->envs);
    config_text_int(&t, "seed_group", "seed-group", f->seed_group);
    config_text_int(&t, "threads_per_env", "threads-per-env", f->threads_per_env);
    config_text_int(&t, "updates", NULL, f->updates);
    long agent_steps = f->tasks.path ? learn_tasks_max_agent_steps(&f->tasks, f->action_every)
                                     : (r->steps + f->action_every - 1) / f->action_every;
    /* with tasks: the longest task's, the agent steps of a batch */
    config_text_int(&t, "agent_steps_per_episode", NULL, agent_steps);
    config_text_num(&t, "max_grad_norm", NULL, f->ppo.max_grad_norm);
    config_text_num(&t, "diverge_loss", NULL, f->env.diverge_loss);
    config_text_num(&t, "penalty_loss", NULL, f->env.penalty_loss);
    return config_text_finish(&t, "alrs learn configuration: every value resolved; the command "
                                  "repeats the run.");
}

int learn_flags_write_config(const learn_flags *f) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/config.txt", f->run.out);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    char *text = config_text_of(f);
    fputs(text, a.f);
    free(text);
    return atomic_commit(&a);
}

int learn_flags_check_resume(const learn_flags *f) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/config.txt", f->run.out);
    config_file have, want;
    if (config_read(&have, path) != 0) return -1;
    char *text = config_text_of(f);
    int rc = config_parse(&want, text, strlen(text), "this run");
    free(text);
    /* more episodes (updates) is what --resume is for; the command line and
     * the derived constants follow from the rest */
    static const char *const ignore[] = {"command", "updates", NULL};
    const char *key = rc == 0 ? config_first_difference(&have, &want, ignore, run_flags_added_keys) : NULL;
    if (key) {
        const char *v = config_get(&have, key);
        rc = alrs_fail("--resume: %s holds a run with %s=%s, this one has %s=%s (only "
                       "--episodes may change when resuming)",
                       path, key, v ? v : "(none)", key, config_get(&want, key));
    }
    config_free(&have);
    config_free(&want);
    return rc;
}
