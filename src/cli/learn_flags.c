#include "cli/learn_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/error.h"
#include "core/fileio.h"

const char learn_flags_help[] =
    "  --action discrete|continuous  x(1+delta), /(1+delta) or keep; or a Gaussian squashed\n"
    "                                into [1/(1+delta), 1+delta] (default discrete)\n"
    "  --delta X                     (default 0.05)\n"
    "  --episodes N                  child runs in all (default 8); rounded up to whole\n"
    "                                batches of --envs\n"
    "  --envs E                      environments per PPO update, run at once (default 2);\n"
    "                                under MPI, of all ranks together (at least one each)\n"
    "  --threads-per-env T           OpenMP threads of each environment's team (default 1)\n"
    "  --concurrency N               environments running at once (default: as many\n"
    "                                teams as the cores hold; the rest wait their turn);\n"
    "                                under MPI, per rank, within the rank's cores\n"
    "  --action-every K              child steps per agent step (default 10)\n"
    "  --reward val-loss|log-delta|final   (default val-loss: -validation loss each step)\n"
    "  --lr X                        fixes the initial rate (default: drawn per episode\n"
    "                                from {1e-2, 1e-3, 1e-4})\n"
    "  --lr-noise S                  relative noise on the rate (default 0)\n"
    "  --ppo-epochs N --ppo-minibatches N --ppo-lr X --ent-coef X   (4, 4, 3e-4, 0)\n"
    "  --trace-every N               write the trace of env 0's episode every N updates (1)\n"
    "  --resume                      continue the run in --out from its controller.bin\n";

static int parse_env(args *a, learn_flags *f) {
    const char *action = "discrete", *reward = "val-loss";
    double delta = 0.05, noise = 0.0;
    if (args_string(a, "action", &action) || args_string(a, "reward", &reward) ||
        args_double(a, "delta", 1e-6, 10, &delta) || args_double(a, "lr-noise", 0, 10, &noise))
        return -1;
    if (!strcmp(action, "discrete")) f->env.action = ACTION_DISCRETE;
    else if (!strcmp(action, "continuous")) f->env.action = ACTION_CONTINUOUS;
    else return alrs_fail("--action %s: expected discrete or continuous", action);
    if (lr_reward_parse(reward, &f->env.reward) != 0) return -1;
    f->env.delta = delta;
    f->env.lr_noise = noise;
    f->env.steps = (int)f->run.steps;
    f->env.action_every = (int)f->action_every;
    f->env.lr_fixed = f->run.lr_given ? f->run.lr : 0.0;
    return 0;
}

static int parse_ppo(args *a, learn_flags *f) {
    long epochs = f->ppo.epochs, minibatches = f->ppo.minibatches;
    if (args_int(a, "ppo-epochs", 1, 1000, &epochs) ||
        args_int(a, "ppo-minibatches", 1, 100000, &minibatches) ||
        args_double(a, "ppo-lr", 1e-9, 1, &f->ppo.lr) ||
        args_double(a, "ent-coef", 0, 10, &f->ppo.ent_coef))
        return -1;
    f->ppo.epochs = (int)epochs;
    f->ppo.minibatches = (int)minibatches;
    return ppo_config_check(&f->ppo);
}

int learn_flags_parse(args *a, learn_flags *f) {
    memset(f, 0, sizeof *f);
    if (run_flags_parse(a, &f->run) != 0) return -1;
    f->env = lr_env_config_default(NULL);
    f->ppo = ppo_config_default();
    f->episodes = 8, f->envs = 2, f->threads_per_env = 1, f->action_every = 10;
    f->trace_every = 1;
    int resume = args_switch(a, "resume");
    if (resume < 0 || args_string(a, "out", &f->run.out) ||
        args_int(a, "episodes", 1, 100000000, &f->episodes) ||
        args_int(a, "envs", 1, 4096, &f->envs) ||
        args_int(a, "threads-per-env", 1, 4096, &f->threads_per_env) ||
        args_int(a, "concurrency", 0, 4096, &f->concurrency) ||
        args_int(a, "action-every", 1, 100000000, &f->action_every) ||
        args_int(a, "trace-every", 0, 100000000, &f->trace_every) || parse_env(a, f) ||
        parse_ppo(a, f))
        return -1;
    f->resume = resume;
    if (!f->run.out) return alrs_fail("--out DIR is required (the run directory to write)");
    f->updates = (f->episodes + f->envs - 1) / f->envs;
    return 0;
}

/* config.txt's text: the command that repeats the run, then every setting as
 * key=value (what --resume compares). */
static char *config_text(const learn_flags *f) {
    char *text;
    size_t len;
    FILE *m = open_memstream(&text, &len);
    const run_flags *r = &f->run;
    const char *action = f->env.action == ACTION_DISCRETE ? "discrete" : "continuous";
    fprintf(m,
            "# alrs learn configuration: every value resolved; the command repeats the run.\n"
            "command=alrs learn --model %s --dataset %s --data-dir '%s' --val-split %ld "
            "--split-seed %ld --steps %ld --batch %ld --eval-batch %ld --val-size %ld "
            "--optimizer %s --seed %ld --action %s --delta %.17g --episodes %ld --envs %ld "
            "--threads-per-env %ld --action-every %ld --reward %s --lr-noise %.17g "
            "--ppo-epochs %d --ppo-minibatches %d --ppo-lr %.17g --ent-coef %.17g",
            r->model, r->dataset, r->data_dir, r->val_split, r->split_seed, r->steps, r->batch,
            r->eval_batch, r->val_size, r->optimizer, r->seed, action, f->env.delta,
            f->updates * f->envs, f->envs, f->threads_per_env, f->action_every,
            lr_reward_name(f->env.reward), f->env.lr_noise, f->ppo.epochs, f->ppo.minibatches,
            f->ppo.lr, f->ppo.ent_coef);
    if (r->lr_given) fprintf(m, " --lr %.17g", r->lr);
    fprintf(m, " --backend %s", r->backend);
    run_flags_print_hidden(r, m);
    fprintf(m, " --out DIR\nmodel=%s\nhidden=", r->model);
    for (int k = 0; k < r->n_hidden; k++) fprintf(m, "%s%d", k ? "," : "", r->hidden[k]);
    fprintf(m, "\ndataset=%s\ndata_dir=%s\nval_split=%ld\nsplit_seed=%ld\nsteps=%ld\n"
               "batch=%ld\neval_batch=%ld\nval_size=%ld\noptimizer=%s\nbackend=%s\nseed=%ld\n"
               "action=%s\ndelta=%.17g\nenvs=%ld\nthreads_per_env=%ld\naction_every=%ld\n"
               "reward=%s\ninitial_lr=%.17g\nlr_noise=%.17g\nppo_epochs=%d\n"
               "ppo_minibatches=%d\nppo_lr=%.17g\nent_coef=%.17g\n",
            r->dataset, r->data_dir, r->val_split, r->split_seed, r->steps, r->batch,
            r->eval_batch, r->val_size, r->optimizer, r->backend, r->seed, action, f->env.delta,
            f->envs, f->threads_per_env, f->action_every, lr_reward_name(f->env.reward),
            f->env.lr_fixed, f->env.lr_noise, f->ppo.epochs, f->ppo.minibatches, f->ppo.lr,
            f->ppo.ent_coef);
    fprintf(m, "updates=%ld\nagent_steps_per_episode=%ld\ngamma=%g\nlambda=%g\n"
               "clip=%g\nmax_grad_norm=%g\nlr_min=%g\nlr_max=%g\ndiverge_loss=%g\n"
               "penalty_loss=%g\n",
            f->updates, (r->steps + f->action_every - 1) / f->action_every, f->ppo.gamma,
            f->ppo.lambda, f->ppo.clip, f->ppo.max_grad_norm, f->env.lr_min, f->env.lr_max,
            f->env.diverge_loss, f->env.penalty_loss);
    fclose(m);
    return text;
}

int learn_flags_write_config(const learn_flags *f) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.txt", f->run.out);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    char *text = config_text(f);
    fputs(text, a.f);
    free(text);
    return atomic_commit(&a);
}

int learn_flags_check_resume(const learn_flags *f) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.txt", f->run.out);
    config_file have, want;
    if (config_read(&have, path) != 0) return -1;
    char *text = config_text(f);
    int rc = config_parse(&want, text, strlen(text), "this run");
    free(text);
    /* more episodes (updates) is what --resume is for; the command line and
     * the derived constants follow from the rest */
    static const char *const ignore[] = {"command", "updates", NULL};
    const char *key = rc == 0 ? config_first_difference(&have, &want, ignore) : NULL;
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
