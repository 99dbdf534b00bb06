#include "cli/learn_flags.h"

#include <stdio.h>
#include <string.h>

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

int learn_flags_write_config(const learn_flags *f) {
    char path[4200];
    snprintf(path, sizeof path, "%s/config.txt", f->run.out);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    const run_flags *r = &f->run;
    fprintf(a.f,
            "# alrs learn configuration: every value resolved; the command repeats the run.\n"
            "command=alrs learn --model %s --dataset %s --data-dir '%s' --val-split %ld "
            "--split-seed %ld --steps %ld --batch %ld --eval-batch %ld --val-size %ld "
            "--optimizer %s --seed %ld --action %s --delta %.17g --episodes %ld --envs %ld "
            "--threads-per-env %ld --action-every %ld --reward %s --lr-noise %.17g "
            "--ppo-epochs %d --ppo-minibatches %d --ppo-lr %.17g --ent-coef %.17g",
            r->model, r->dataset, r->data_dir, r->val_split, r->split_seed, r->steps, r->batch,
            r->eval_batch, r->val_size, r->optimizer, r->seed,
            f->env.action == ACTION_DISCRETE ? "discrete" : "continuous", f->env.delta,
            f->updates * f->envs, f->envs, f->threads_per_env, f->action_every,
            lr_reward_name(f->env.reward), f->env.lr_noise, f->ppo.epochs, f->ppo.minibatches,
            f->ppo.lr, f->ppo.ent_coef);
    if (r->lr_given) fprintf(a.f, " --lr %.17g", r->lr);
    fprintf(a.f, " --backend %s", r->backend);
    run_flags_print_hidden(r, a.f);
    fprintf(a.f, " --out DIR\nupdates=%ld\nagent_steps_per_episode=%ld\ngamma=%g\nlambda=%g\n"
                 "clip=%g\nmax_grad_norm=%g\nlr_min=%g\nlr_max=%g\ndiverge_loss=%g\n"
                 "penalty_loss=%g\n",
            f->updates, (r->steps + f->action_every - 1) / f->action_every, f->ppo.gamma,
            f->ppo.lambda, f->ppo.clip, f->ppo.max_grad_norm, f->env.lr_min, f->env.lr_max,
            f->env.diverge_loss, f->env.penalty_loss);
    return atomic_commit(&a);
}
