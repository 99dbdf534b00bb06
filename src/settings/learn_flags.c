#include "settings/learn_flags.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings/config_text.h"
#include "core/config.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/numfmt.h"

/* alrs learn's own flags, each once, in --help's order: name, value, how
 * it is read, field, bounds, default (where alrs learn sets it; the rest are
 * the environment's and PPO's, lr_env_config_default and ppo_config_default),
 * config.txt key, help, and the commands that take it (alrs bench rollout
 * reads this table too, less the flags marked alrs learn's alone). --help is
 * printed from here; the plain ones (a number into a field) are read from
 * here first, in this order, then the others by parse_env (which takes
 * their names, defaults and keys from here); config.txt's keys follow the
 * table's order, the `late` ones after PPO's (its order predates the table
 * and stays: --resume compares old files).
 * The child-run flags are settings/run_flags.c's. */
typedef enum {
    LF_LONG, LF_INT, LF_DOUBLE, /* plain: a number into the field */
    LF_EPISODES,                /* a long; config.txt's command gives the episodes run */
    LF_FEATURES, LF_ACTION, LF_FACTORS, LF_BASE, LF_LR_BOUNDS, LF_TASKS, LF_LR, LF_INITIAL,
    LF_REWARD, LF_ADVANTAGE, LF_RESUME, LF_SWITCH
} lf_kind;

typedef struct {
    const char *section; /* a --help heading before it (NULL: none) */
    const char *name, *value;
    lf_kind kind;
    size_t offset;       /* the field (LF_LONG, LF_INT, LF_DOUBLE, LF_EPISODES) */
    long min, max;
    double dmin, dmax;
    const char *def;     /* alrs learn's default (NULL: the environment's or PPO's) */
    const char *key;     /* config.txt key (NULL: none) */
    int late;            /* config.txt has it after PPO's */
    const char *help;    /* as args_print_help takes it; NULL: the next flag's
                            help is this one's too, on one line */
    unsigned only;       /* 0: every command of the table takes it; else the
                            learn_command bits of those that do (the rest
                            refuse it and leave it out of --help) */
} learn_flag_def;

#define L(m) offsetof(learn_flags, m)
static const learn_flag_def LEARN_FLAGS[] = {
    {"The controller's task (recorded in controller.bin, used wherever it runs):", "features",
     "LIST", LF_FEATURES, 0, 0, 0, 0, 0, "paper", "features", 0,
     "observation groups after the paper's seven: progress\n"
     "(t/T, log steps left), offset (how far the actions moved\n"
     "the rate), slope (val-loss trend), relative (the seven\n"
     "scale-free: losses over the first, the rate over the\n"
     "start's; and the run's fraction), update-ratio (update\n"
     "over weight norm), grad-norm (and its trend), loss-spread\n"
     "(of the batch losses since the last action), gap (train\n"
     "against validation loss), position (the rate as its place\n"
     "within --lr-bounds, for absolute actions); 'paper'\n"
     "alone: none, 'all': every group (default {})", 0},
    {NULL, "action", "discrete|continuous|absolute", LF_ACTION, 0, 0, 0, 0, 0, "discrete",
     "action", 0,
     "\ndiscrete: one of --factors per action; continuous: a\n"
     "Gaussian squashed to a factor in [1/(1+delta), 1+delta];\n"
     "absolute: the rate (or residual offset) itself, anywhere\n"
     "in its range (default {})", 0},
    {NULL, "factors", "LIST", LF_FACTORS, 0, 0, 0, 0, 0, NULL, "factors", 0,
     "discrete factors (default 1+delta,1/(1+delta),1)", 0},
    {NULL, "delta", "X", LF_DOUBLE, L(env.action.delta), 0, 0, 1e-6, 10, NULL, "delta", 0,
     "(default 0.05)", 0},
    {NULL, "base", "SPEC", LF_BASE, 0, 0, 0, 0, 0, NULL, "base", 0,
     "residual mode: rate = SPEC's rate x exp(c), the actions\n"
     "move c; an untrained controller is its base schedule", 0},
    {NULL, "residual-range", "R", LF_DOUBLE, L(env.action.residual_range), 0, 0, 1.0 + 1e-9, 1e6,
     NULL, "residual_range", 0, "residual: exp(c) stays in [1/R, R] (default 4)", 0},
    {NULL, "lr-bounds", "LO,HI", LF_LR_BOUNDS, 0, 0, 0, 0, 0, NULL, "lr_bounds", 0,
     "the rate always stays within (default 1e-6,1; over\n"
     "prodigy and dadapt-adam, whose step is d x rate: 1e-3,10)", 0},
    {NULL, "action-every", "K", LF_LONG, L(action_every), 1, 100000000, 0, 0, "10", "action_every",
     0, "child steps per agent step (default {})", 0},
    {"Episodes and rewards:", "episodes", "N", LF_EPISODES, L(episodes), 1, 100000000, 0, 0, "8",
     NULL, 1,
     "child runs in all (default {}); rounded up to whole\n"
     "batches of --envs (with --tasks, a batch runs the longest\n"
     "task's agent steps and may hold more episodes)", LEARN_CMD_LEARN},
    {NULL, "envs", "E", LF_LONG, L(envs), 1, 4096, 0, 0, "2", "envs", 1,
     "environments per PPO update, run at once (default {});\n"
     "under MPI, of all ranks together (at least one each)", LEARN_CMD_LEARN},
    {NULL, "seed-group", "K", LF_LONG, L(seed_group), 1, 4096, 0, 0, "1", "seed_group", 1,
     "environments in groups of K train the same child (same\n"
     "seed, weights, batches, initial rate) with their own\n"
     "actions (default {}: all differ)", LEARN_CMD_LEARN},
    {NULL, "threads-per-env", "T", LF_LONG, L(threads_per_env), 1, 4096, 0, 0, "1",
     "threads_per_env", 1, "OpenMP threads of each environment's team (default {})",
     LEARN_CMD_LEARN},
    {NULL, "concurrency", "N", LF_LONG, L(concurrency), 0, 4096, 0, 0, NULL, NULL, 0,
     "environments running at once (default: as many\n"
     "teams as the cores hold; the rest wait their turn);\n"
     "under MPI, per rank, within the rank's cores", LEARN_CMD_LEARN},
    {NULL, "tasks", "FILE", LF_TASKS, 0, 0, 0, 0, 0, NULL, NULL, 0,
     "learn across a task suite (docs/TASKS.md): each episode\n"
     "draws a task; the child-run flags are the tasks' defaults,\n"
     "every task validates every --action-every steps", LEARN_CMD_LEARN},
    /* the child-run flag --lr, as alrs learn takes it */
    {NULL, "lr", "X", LF_LR, 0, 0, 0, 0, 0, NULL, "initial_lr", 0,
     "fixes the initial (or base) rate", 0},
    {NULL, "initial-lrs", "LIST|LO:HI", LF_INITIAL, 0, 0, 0, 0, 0, NULL, "initial_lrs", 0,
     "the rates an episode draws its initial rate from, or a\n"
     "range it draws from log-uniformly (default\n"
     "1e-2,1e-3,1e-4, the paper's; 1 over prodigy, dadapt-adam)", 0},
    {NULL, "lr-noise", "S", LF_DOUBLE, L(env.lr_noise), 0, 0, 0, 10, NULL, "lr_noise", 0,
     "relative noise on the rate (default 0)", 0},
    {NULL, "lr-hidden-scale", "R", LF_DOUBLE, L(env.lr_hidden_scale), 0, 0, 1, 1e3, NULL,
     "lr_hidden_scale", 0,
     "the child trains at the controller's rate x s, s drawn\n"
     "per episode log-uniformly from [1/R, R] and never\n"
     "observed: the controller must read the run to tell a\n"
     "rate too high from one too low (default 1: off)", LEARN_CMD_LEARN},
    {NULL, "reward", "val-loss|log-delta|final", LF_REWARD, 0, 0, 0, 0, 0, "val-loss", "reward", 0,
     "  (default {}: -validation loss each step)", 0},
    {"PPO:", "gamma", "X", LF_DOUBLE, L(ppo.gamma), 0, 0, 0, 1, NULL, "gamma", 0, NULL, 0},
    {NULL, "gae-lambda", "X", LF_DOUBLE, L(ppo.lambda), 0, 0, 0, 1, NULL, "lambda", 0,
     "discount and GAE lambda (default 0.99, 0.95)", 0},
    {NULL, "ppo-epochs", "N", LF_INT, L(ppo.epochs), 1, 1000, 0, 0, NULL, "ppo_epochs", 0, NULL, 0},
    {NULL, "ppo-minibatches", "N", LF_INT, L(ppo.minibatches), 1, 100000, 0, 0, NULL,
     "ppo_minibatches", 0, NULL, 0},
    {NULL, "ppo-lr", "X", LF_DOUBLE, L(ppo.lr), 0, 0, 1e-9, 1, NULL, "ppo_lr", 0, NULL, 0},
    {NULL, "ent-coef", "X", LF_DOUBLE, L(ppo.ent_coef), 0, 0, 0, 10, NULL, "ent_coef", 0, NULL, 0},
    {NULL, "clip", "X", LF_DOUBLE, L(ppo.clip), 0, 0, 1e-6, 1 - 1e-9, NULL, "clip", 0,
     "\n(default 4, 4, 3e-4, 0, 0.2)", 0},
    {NULL, "target-kl", "X", LF_DOUBLE, L(ppo.target_kl), 0, 0, 0, 100, NULL, "target_kl", 0,
     "stop an update's epochs once the policy has moved this\n"
     "far (approximate KL; default 0: off)", 0},
    {NULL, "advantage", "gae|group", LF_ADVANTAGE, 0, 0, 0, 0, 0, "gae", "advantage", 0,
     "gae: from the critic's values; group: each step's return\n"
     "against the other members of its --seed-group at the\n"
     "same step (they train the same child), so task and seed\n"
     "cancel and only the actions differ (default {})", LEARN_CMD_LEARN},
    {"Output:", "trace-every", "N", LF_LONG, L(trace_every), 0, 100000000, 0, 0, "1", NULL, 0,
     "write the trace of env 0's episode every N updates ({})", LEARN_CMD_LEARN},
    {NULL, "resume", "", LF_RESUME, 0, 0, 0, 0, 0, NULL, NULL, 0,
     "continue the run in --out from its controller.bin", LEARN_CMD_LEARN},
    /* read by the command (alrs learn), not here */
    {NULL, "check", "", LF_SWITCH, 0, 0, 0, 0, 0, NULL, NULL, 0,
     "check the flags and data files, run nothing, write nothing", LEARN_CMD_LEARN},
};
#define N_LEARN_FLAGS (int)(sizeof LEARN_FLAGS / sizeof LEARN_FLAGS[0])

static int takes(const learn_flag_def *d, learn_command cmd) {
    return !d->only || (d->only & (unsigned)cmd);
}

void learn_flags_print_help(FILE *out, learn_command cmd) {
    char head[256];
    int used = 0;
    const char *section = NULL; /* a heading whose first flag cmd does not take */
    for (int k = 0; k < N_LEARN_FLAGS; k++) {
        const learn_flag_def *d = &LEARN_FLAGS[k];
        if (d->section) section = d->section;
        if (!takes(d, cmd)) continue;
        if (section) fprintf(out, "%s\n", section);
        section = NULL;
        used += snprintf(head + used, sizeof head - (size_t)used, "%s--%s%s%s",
                         used ? " " : "  ", d->name, d->value[0] ? " " : "", d->value);
        if (!d->help) continue;
        args_print_help(out, head, d->help, d->def);
        used = 0;
    }
}

int learn_flags_refuse_others(const args *a, learn_command cmd) {
    for (int k = 0; k < N_LEARN_FLAGS; k++)
        if (!takes(&LEARN_FLAGS[k], cmd) && args_given(a, LEARN_FLAGS[k].name))
            return alrs_fail("--%s: unknown flag for this command (only alrs learn takes it)",
                             LEARN_FLAGS[k].name);
    return 0;
}

/* The table's entry of a flag read by its own function. */
static const learn_flag_def *entry(lf_kind kind) {
    int k = 0;
    while (LEARN_FLAGS[k].kind != kind) k++;
    return &LEARN_FLAGS[k];
}

/* alrs learn's defaults, then every plain flag given. */
static int parse_plain(args *a, learn_flags *f) {
    for (int k = 0; k < N_LEARN_FLAGS; k++) {
        const learn_flag_def *d = &LEARN_FLAGS[k];
        void *field = (char *)f + d->offset;
        if (d->kind == LF_LONG || d->kind == LF_EPISODES) {
            if (d->def) *(long *)field = strtol(d->def, NULL, 10);
            if (args_int(a, d->name, d->min, d->max, (long *)field) != 0) return -1;
        } else if (d->kind == LF_INT) {
            long v = *(int *)field;
            if (args_int(a, d->name, d->min, d->max, &v) != 0) return -1;
            *(int *)field = (int)v;
        } else if (d->kind == LF_DOUBLE) {
            if (args_double(a, d->name, d->dmin, d->dmax, (double *)field) != 0) return -1;
        }
    }
    return 0;
}

/* --base, --factors and --action together (--delta and --residual-range
 * read already). */
static int parse_action(args *a, lr_action_config *act) {
    const learn_flag_def *kind_flag = entry(LF_ACTION);
    const char *kind = kind_flag->def, *factors = NULL, *base = NULL;
    if (args_string(a, kind_flag->name, &kind) ||
        args_string(a, entry(LF_FACTORS)->name, &factors) ||
        args_string(a, entry(LF_BASE)->name, &base) || lr_action_kind_parse(kind, &act->kind) != 0)
        return -1;
    act->factors[0] = 1.0 + act->delta, act->factors[1] = 1.0 / (1.0 + act->delta);
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
    const char *name = entry(LF_INITIAL)->name, *text = NULL;
    if (args_string(a, name, &text) != 0) return -1;
    if (!text || !strchr(text, ':'))
        return args_doubles(a, name, 1e-12, 1e3, e->initial_rates, LR_ENV_MAX_INITIAL,
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

/* --advantage: gae, or group (which needs the peers of --seed-group). */
static int parse_advantage(args *a, learn_flags *f) {
    const learn_flag_def *d = entry(LF_ADVANTAGE);
    const char *text = d->def;
    if (args_string(a, d->name, &text) != 0) return -1;
    if (!strcmp(text, "gae")) f->ppo.advantage = PPO_ADVANTAGE_GAE;
    else if (!strcmp(text, "group")) f->ppo.advantage = PPO_ADVANTAGE_GROUP;
    else return alrs_fail("--advantage %s: expected gae or group", text);
    if (f->ppo.advantage == PPO_ADVANTAGE_GROUP && f->seed_group < 2)
        return alrs_fail("--advantage group: needs --seed-group 2 or more (the environments "
                         "whose returns each one's is compared with)");
    return 0;
}

/* The environment's flags besides the plain ones. */
static int parse_env(args *a, learn_flags *f) {
    const learn_flag_def *reward_flag = entry(LF_REWARD), *features_flag = entry(LF_FEATURES);
    const char *reward = reward_flag->def, *features = features_flag->def;
    lr_env_config *e = &f->env;
    double bounds[2] = {e->lr_min, e->lr_max};
    int n_bounds = 2;
    if (parse_action(a, &e->action) || args_string(a, reward_flag->name, &reward) ||
        args_string(a, features_flag->name, &features) || parse_initial(a, e) ||
        args_doubles(a, entry(LF_LR_BOUNDS)->name, 1e-12, 1e6, bounds, 2, &n_bounds))
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
        if (f->run.lr_given && !strcmp(a->name[k], entry(LF_INITIAL)->name))
            return alrs_fail("--initial-lrs: not with --lr (which fixes the initial rate)");
    return 0;
}

int learn_flags_parse(args *a, learn_flags *f) {
    memset(f, 0, sizeof *f);
    if (run_flags_parse(a, &f->run, RUN_FLAG_LR | RUN_FLAG_SEED | RUN_FLAG_DATA) != 0 ||
        run_flags_check_choices(&f->run) != 0)
        return -1;
    f->env = lr_env_config_default(NULL);
    f->ppo = ppo_config_default();
    d_scaled_defaults(&f->run, &f->env);
    int resume = args_switch(a, entry(LF_RESUME)->name);
    if (resume < 0 || args_string(a, "out", &f->run.out) || parse_plain(a, f) ||
        parse_env(a, f) || ppo_config_check(&f->ppo) != 0)
        return -1;
    f->resume = resume;
    if (f->envs % f->seed_group != 0)
        return alrs_fail("--seed-group %ld: must divide --envs %ld", f->seed_group, f->envs);
    if (parse_advantage(a, f) != 0) return -1;
    f->updates = (f->episodes + f->envs - 1) / f->envs;
    const char *tasks = NULL;
    if (args_string(a, entry(LF_TASKS)->name, &tasks) != 0) return -1;
    return tasks ? learn_tasks_read(&f->tasks, tasks, a, f->action_every) : 0;
}

void learn_flags_free(learn_flags *f) { learn_tasks_free(&f->tasks); }

/* Initial rates: the set episodes draw from (a fixed --lr is LF_LR's). */
static void initial_setting(config_text *t, const learn_flag_def *d, const lr_env_config *e) {
    char buf[512] = "";
    int used = 0;
    if (e->initial_log_uniform) {
        char lo[NUM_TEXT], hi[NUM_TEXT];
        snprintf(buf, sizeof buf, "%s:%s", num_format(lo, e->initial_rates[0]),
                 num_format(hi, e->initial_rates[1]));
        config_text_add(t, d->key, d->name, buf);
        return;
    }
    for (int i = 0; i < e->n_initial; i++) {
        char num[NUM_TEXT];
        used += snprintf(buf + used, sizeof buf - (size_t)used, "%s%s", i ? "," : "",
                         num_format(num, e->initial_rates[i]));
    }
    config_text_add(t, d->key, d->name, buf);
}

/* One flag's key and flag in config.txt. */
static void put_setting(config_text *t, const learn_flag_def *d, const learn_flags *f) {
    const lr_env_config *e = &f->env;
    const void *field = (const char *)f + d->offset;
    char buf[512], lo[NUM_TEXT], hi[NUM_TEXT];
    switch (d->kind) {
    case LF_LONG: if (d->key) config_text_int(t, d->key, d->name, *(const long *)field); break;
    case LF_INT: if (d->key) config_text_int(t, d->key, d->name, *(const int *)field); break;
    case LF_DOUBLE: if (d->key) config_text_num(t, d->key, d->name, *(const double *)field); break;
    case LF_EPISODES: config_text_int(t, NULL, d->name, f->updates * f->envs); break;
    case LF_FEATURES:
        lr_env_features_format(e->features, buf, sizeof buf);
        config_text_add(t, d->key, d->name, buf);
        break;
    case LF_ACTION: config_text_add(t, d->key, d->name, lr_action_kind_name(e->action.kind)); break;
    case LF_FACTORS:
        if (e->action.kind != LR_ACTION_DISCRETE) break;
        lr_action_format_factors(&e->action, buf, sizeof buf);
        config_text_add(t, d->key, d->name, buf);
        break;
    case LF_BASE: config_text_add(t, d->key, d->name, e->action.base); break;
    case LF_LR_BOUNDS:
        snprintf(buf, sizeof buf, "%s,%s", num_format(lo, e->lr_min), num_format(hi, e->lr_max));
        config_text_add(t, d->key, d->name, buf);
        break;
    case LF_LR: if (f->run.lr_given) config_text_num(t, d->key, d->name, f->run.lr); break;
    case LF_INITIAL: if (!f->run.lr_given) initial_setting(t, d, e); break;
    case LF_REWARD: config_text_add(t, d->key, d->name, lr_reward_name(e->reward)); break;
    case LF_ADVANTAGE:
        config_text_add(t, d->key, d->name, f->ppo.advantage == PPO_ADVANTAGE_GROUP ? "group" : "gae");
        break;
    case LF_TASKS: case LF_RESUME: case LF_SWITCH: break; /* --tasks: learn_tasks_settings */
    }
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
    for (int late = 0; late <= 1; late++)
        for (int k = 0; k < N_LEARN_FLAGS; k++)
            if (LEARN_FLAGS[k].late == late) put_setting(&t, &LEARN_FLAGS[k], f);
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

/* Keys that came after the first learning directories, with the value an
 * older config.txt without them means: the run flags' and learn's own. */
static const char *const *learn_added_keys(void) {
    enum { LEARN_ADDED = 2 }; /* learn's own, below */
    static const char *keys[64];
    const char *const *run = run_flags_added_keys();
    int n = 0;
    while (run[n] && n < 64 - LEARN_ADDED - 1) keys[n] = run[n], n++;
    keys[n++] = "lr_hidden_scale=1";
    keys[n++] = "advantage=gae";
    keys[n] = NULL;
    return keys;
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
    const char *key =
        rc == 0 ? config_first_difference(&have, &want, ignore, learn_added_keys()) : NULL;
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
