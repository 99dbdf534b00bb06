/* alrs learn's learning loop: a controller learned with PPO over batches of
 * child runs, beside run/trainer.c (one run under a schedule or controller).
 * cli/cmd_learn.c parses the flags and reports; this file loads the data,
 * builds the rollout engine, starts or resumes the controller and runs the
 * updates. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run/learn.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "rl/controller_file.h"
#include "dist/dist.h"
#include "run/learn_log.h"
#include "run/rollout_engine.h"

/* A fresh controller, or the one in DIR/controller.bin with --resume. */
static int controller_start(controller *c, const learn_flags *f, const ppo_config *ppo) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/controller.bin", f->run.out);
    lr_env_interface iface = lr_env_interface_of(&f->env);
    if (f->resume) {
        if (controller_file_load(c, path) != 0) return -1;
        if (!lr_env_interface_equal(&c->iface, &iface))
            return alrs_fail("%s: the controller was learned with other actions or features",
                             path);
        /* the per-environment returns carry over between batches (an episode
         * cut by the end of a batch has not ended), so they are kept unless
         * the run now has another number of environments */
        if (c->rewards.n_envs == (int)f->envs) return 0;
        return reward_scaler_set_envs(&c->rewards, (int)f->envs);
    }
    policy_config pc = controller_policy_config(&iface);
    rng_stream init = rng_make((uint64_t)f->run.seed, 0xc0);
    return controller_init(c, &iface, &pc, (int)f->envs, ppo->gamma, &init);
}

/* Updates `start` .. f->updates-1; 0 when done, 1 when a signal stopped it
 * after a saved update, -1 on failure. Under MPI every rank runs its share of
 * each batch; rank 0 (the one with c and log; NULL elsewhere) updates the
 * controller and writes the files, and the ranks agree after every update
 * so that a failure there stops them all. */
static int learn_loop(rollout_engine *eng, controller *c, const learn_flags *f, learn_log *log,
                      long start) {
    rollout_buffer buf;
    memset(&buf, 0, sizeof buf);
    int root = c != NULL;
    int rc = root ? rollout_buffer_init(&buf, eng->steps, eng->envs, eng->obs_size) : 0;
    if (dist_agree(rc) != 0) return -1;
    for (long u = start; u < f->updates && rc == 0; u++) {
        if (root) log->update = u;
        rc = rollout_engine_collect(eng, c, &f->ppo, root ? &buf : NULL, (uint64_t)f->run.seed, u,
                                    root ? learn_log_episode : NULL, log);
        if (rc != 0) break; /* every rank failed alike; the last update is saved */
        if (root) {
            double t0 = alrs_now();
            rng_stream shuffle = rng_make((uint64_t)f->run.seed ^ 0x5ff1e, (uint64_t)u);
            ppo_stats st;
            rc = controller_update(c, &f->ppo, &buf, &shuffle, &st);
            double update_s = alrs_now() - t0;
            if (rc == 0) {
                learn_log_update(log, &st, eng->collect_s, update_s);
                rc = learn_log_save(log, c);
            }
        }
        rc = dist_agree(rc);
        /* SIGINT/SIGTERM: the update in progress was finished and saved;
         * rank 0's signal decides for every rank */
        int stop = root ? interrupt_requested() : 0;
        dist_bcast(&stop, sizeof stop, 0);
        if (rc == 0 && stop && u + 1 < f->updates) {
            alrs_fail("interrupted by %s after update %ld of %ld: %s/controller.bin holds it; "
                      "run the same command with --resume to continue",
                      interrupt_name(stop), u + 1, f->updates, f->run.out);
            rc = 1;
        }
    }
    if (root) rollout_buffer_free(&buf);
    return rc;
}

/* Learning across tasks wants a return and an observation that mean the same
 * on every task; a run that has neither is allowed (an ablation row), with a
 * warning that says what is not scale-free. */
static void warn_not_scale_free(const learn_flags *f) {
    const lr_env_config *e = &f->env;
    int reward = e->reward == LR_REWARD_LOG_DELTA && f->ppo.gamma == 1.0;
    int features = (e->features & LR_FEAT_RELATIVE) != 0;
    if (!f->tasks.path || (reward && features)) return;
    fprintf(stderr, "alrs: warning: --tasks: %s%s%s differ in scale from task to task (scale-free: "
                    "--reward log-delta --gamma 1, --features relative)\n",
            reward ? "" : "the returns", reward || features ? "" : " and ",
            features ? "" : "the paper's seven features");
}

/* Rank 0's part of the start: the run directory (unless --resume), the
 * controller (fresh, or read from DIR/controller.bin), config.txt, the logs. */
static int root_start(learn_flags *lf, output_dir *out, int *dir_made, controller *c,
                      learn_log *log) {
    if (!lf->resume) {
        if (make_output_dir(out, lf->run.out) != 0) return -1;
        *dir_made = 1;
        char traces[ALRS_FILE_PATH_MAX];
        snprintf(traces, sizeof traces, "%s/traces", out->path);
        mkdir(traces, 0777);
    }
    if (lf->resume) { /* a killed run's half-written files */
        remove_stale_temporaries(lf->run.out);
        char traces[ALRS_FILE_PATH_MAX];
        snprintf(traces, sizeof traces, "%s/traces", lf->run.out);
        remove_stale_temporaries(traces);
    }
    if (controller_start(c, lf, &lf->ppo) != 0) return -1;
    if (lf->resume && learn_flags_check_resume(lf) != 0) return -1;
    /* rewritten on --resume too: its command is then the one that finishes the run */
    if (learn_flags_write_config(lf) != 0) return -1;
    warn_not_scale_free(lf); /* once the run is sure to start: a refusal stays one line */
    return learn_log_open(log, lf, c->updates);
}

/* The tasks text of a multi-task controller: the file and its task names
 * (cut at the record's size). */
static void origin_tasks(char *out, size_t size, const learn_tasks *t) {
    size_t used = (size_t)snprintf(out, size, "%s:", t->path);
    for (int k = 0; k < t->n && used < size; k++)
        used += (size_t)snprintf(out + used, size - used, " %s", t->tasks[k].name);
}

/* The initial rate a user gets without --lr: the fixed one, or the centre
 * of what the episodes drew from on a log scale (the geometric mean of a
 * list, of LO and HI for a range), where the controller saw rates on both
 * sides, to three significant digits. */
static double default_rate(const lr_env_config *e) {
    if (e->lr_fixed > 0) return e->lr_fixed;
    double sum = 0;
    for (int k = 0; k < e->n_initial; k++) sum += log(e->initial_rates[k]);
    if (e->n_initial == 0) return 0;
    char text[32]; /* three digits: a suggestion, read back as written */
    snprintf(text, sizeof text, "%.3g", exp(sum / e->n_initial));
    return strtod(text, NULL);
}

/* What the controller learns on, into its checkpoint: the flags' model and
 * data set, or (with --tasks) the first task's data set and every task's
 * name. */
static void fill_origin(controller_origin *o, const learn_flags *f, const dataset *d) {
    const run_flags *r = &f->run;
    const learn_tasks *t = &f->tasks;
    size_t used = (size_t)snprintf(o->model, sizeof o->model, "%s", t->path ? "tasks" : r->model);
    for (int k = 0; !t->path && k < r->n_hidden && used < sizeof o->model; k++)
        used += (size_t)snprintf(o->model + used, sizeof o->model - used, "%s%d",
                                 k ? "," : " --hidden ", r->hidden[k]);
    snprintf(o->optimizer, sizeof o->optimizer, "%s", r->optimizer);
    if (t->path) d = &t->sets[0];
    snprintf(o->dataset, sizeof o->dataset, "%s", d->name);
    if (f->env.lr_fixed > 0) {
        o->n_rates = 1;
        o->rates[0] = f->env.lr_fixed;
    } else {
        o->n_rates = f->env.n_initial;
        memcpy(o->rates, f->env.initial_rates, sizeof(double) * (size_t)f->env.n_initial);
    }
    o->val_size = t->path ? t->env_tasks[0].child.val_size : r->val_size;
    o->classes = d->classes;
    if (t->path) origin_tasks(o->tasks, sizeof o->tasks, t);
    o->default_lr = default_rate(&f->env);
}

/* The data and the environment's child: the flags' one data set, or every
 * task's (each distinct one once). *data is what rollout_engine_create gets
 * (unused with tasks). Every rank loads; -1 on every rank if any failed. */
static int load_data(learn_flags *lf, dataset *one, const dataset **data) {
    if (lf->tasks.path) {
        int rc = dist_agree(learn_tasks_load(&lf->tasks));
        if (rc != 0) return -1;
        lf->env.tasks = lf->tasks.env_tasks;
        lf->env.n_tasks = lf->tasks.n;
        lf->env.child = lf->env.tasks[0].child; /* what an environment holds at first */
        lf->env.steps = lf->env.tasks[0].steps;
        *data = NULL;
        return 0;
    }
    int loaded = run_flags_load_data(&lf->run, one) == 0;
    if (dist_agree(loaded ? 0 : -1) != 0) { /* every rank reads the data */
        if (loaded) dataset_free(one);
        return -1;
    }
    if (!lf->run.data_dir[0]) lf->run.data_dir = dataset_default_dir(lf->run.dataset);
    if (!lf->run.val_size) lf->run.val_size = one->val.n;
    lf->env.child = run_flags_child(&lf->run);
    *data = one;
    return 0;
}

int learn_run(learn_flags *f) {
    int root = dist_rank() == 0;
    dataset one;
    memset(&one, 0, sizeof one);
    const dataset *data;
    learn_flags lf = *f;
    if (load_data(&lf, &one, &data) != 0) {
        f->tasks = lf.tasks; /* the caller frees what was loaded */
        return -1;
    }
    int rc = -1, dir_made = 0;
    output_dir out;
    controller c;
    memset(&c, 0, sizeof c);
    learn_log log;
    memset(&log, 0, sizeof log);
    rollout_engine eng;
    /* collective: fails on every rank if it fails on any */
    if (dist_agree(lr_env_config_check(&lf.env)) != 0 ||
        rollout_engine_create(&eng, &lf.env, data, (int)lf.envs, (int)lf.threads_per_env,
                              (int)lf.concurrency) != 0) {
        f->tasks = lf.tasks; /* the caller frees the data sets */
        dataset_free(&one);
        return -1;
    }
    eng.seed_group = (int)lf.seed_group;
    /* only rank 0 touches DIR; with --resume it reads the controller and tells
     * the others where the run stands */
    if (dist_agree(root ? root_start(&lf, &out, &dir_made, &c, &log) : 0) != 0) goto done;
    if (root) fill_origin(&c.origin, &lf, data);
    if (eng.ranks > 1) rollout_engine_placement(&eng, stderr, "");
    long start = root ? c.updates : 0;
    dist_bcast(&start, sizeof start, 0);
    if (root && start >= lf.updates)
        fprintf(stderr, "learn: all %ld updates are already done in %s\n", start, lf.run.out);
    rc = learn_loop(&eng, root ? &c : NULL, &lf, root ? &log : NULL, start);
done:
    if (rc < 0 && dir_made) remove_output_dir(&out); /* an interrupted run keeps its updates */
    learn_log_close(&log);
    controller_free(&c);
    rollout_engine_free(&eng);
    f->tasks = lf.tasks; /* the caller frees the data sets */
    dataset_free(&one);
    return rc;
}

