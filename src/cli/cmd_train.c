/* alrs train: one child run with a schedule, written to a run directory. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "env/lr_env.h"
#include "rl/checkpoint.h"
#include "rl/controller.h"
#include "data/dataset.h"
#include "nn/net.h"
#include "report/machine.h"
#include "run/child.h"
#include "sched/schedule.h"

/* A loss past this bound counts as divergence, like NaN and Inf. */
#define DIVERGENCE_LOSS 1e3

static const char train_help[] =
    "usage: alrs train --out DIR [flags]\n"
    "Trains one child network and writes DIR/config.txt, trace.csv, summary.csv and\n"
    "metadata.txt. Test figures are taken at the best-validation point and at the end.\n"
    "  --schedule SPEC               learning-rate schedule (default constant), e.g.\n"
    "                                step:every=300,gamma=0.1  cosine  onecycle:max=0.01\n"
    "                                controller:PATH runs a learned controller (alrs learn's\n"
    "                                controller.bin), acting every --eval-every steps\n"
    "  --out DIR                     run directory (must not exist or be empty)\n";

typedef struct {
    double best_test_loss, best_test_acc, final_val_loss, final_val_acc;
    double final_test_loss, final_test_acc, wall_s;
    long steps_done;
    int diverged;
} train_result;

static int write_config(const char *dir, const run_flags *f, const schedule *s,
                        const child_run *r) {
    char path[4200], spec[512];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    schedule_format(s, spec, sizeof spec);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f,
            "# alrs train configuration: every value resolved; the command repeats the run.\n"
            "command=alrs train --model %s --dataset %s --data-dir '%s' --val-split %ld "
            "--split-seed %ld --steps %ld --batch %ld --lr %.17g --optimizer %s --schedule '%s' "
            "--eval-every %ld --val-size %ld --eval-batch %ld --threads %ld --seed %ld --backend %s",
            f->model, f->dataset, f->data_dir, f->val_split, f->split_seed, f->steps, f->batch,
            f->lr, f->optimizer, spec, f->eval_every, f->val_size, f->eval_batch, f->threads,
            f->seed, f->backend);
    run_flags_print_hidden(f, a.f);
    fprintf(a.f, " --out DIR\nmodel=%s\ndataset=%s\ndata_dir=%s\nschedule=%s\nsteps=%ld\n"
                 "batch=%ld\nlr=%.17g\noptimizer=%s\neval_every=%ld\nval_size=%ld\nval_split=%ld\n"
                 "split_seed=%ld\nseed=%ld\nthreads=%ld\nparameters=%zu\n",
            f->model, f->dataset, f->data_dir, spec, f->steps, f->batch, f->lr, f->optimizer,
            f->eval_every, f->val_size, f->val_split, f->split_seed, f->seed, f->threads,
            r->spec.n_params);
    return atomic_commit(&a);
}

static int write_metadata(const char *dir, const child_run *r) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metadata.txt", dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    machine_info m;
    if (machine_info_get(&m) == 0) machine_info_write_kv(&m, a.f);
    static char buf[16384];
    nn_describe(&r->spec, buf, sizeof buf);
    fprintf(a.f, "backend=dnnl\nflops_per_image_train=%.0f\nflops_per_image_forward=%.0f\n",
            nn_flops_train(&r->spec), nn_flops_forward(&r->spec));
    fprintf(a.f, "# network\n%s# oneDNN implementations, in plan order\n", buf);
    nn_net_describe_impl(r->net, buf, sizeof buf);
    fputs(buf, a.f);
    return atomic_commit(&a);
}

static int write_summary(const char *dir, const run_flags *f, const schedule *s,
                         const child_run *r, const train_result *t) {
    char path[4200], spec[512];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    schedule_format(s, spec, sizeof spec);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "model,dataset,schedule,seed,steps,batch,lr,best_val_loss,best_step,test_loss,"
                 "test_acc,final_val_loss,final_val_acc,final_test_loss,final_test_acc,diverged,"
                 "wall_s,train_images_per_s\n");
    fprintf(a.f, "%s,%s,\"%s\",%ld,%ld,%ld,%.9g,%.6f,%ld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%d,%.3f,%.1f\n",
            f->model, f->dataset, spec, f->seed, t->steps_done, f->batch, f->lr, r->best_val_loss,
            r->best_step, t->best_test_loss, t->best_test_acc, t->final_val_loss,
            t->final_val_acc, t->final_test_loss, t->final_test_acc, t->diverged, t->wall_s,
            t->wall_s > 0 ? (double)t->steps_done * f->batch / t->wall_s : 0.0);
    return atomic_commit(&a);
}

/* The training loop: a validation every eval_every steps and after the last. */
static int train_loop(child_run *r, schedule *s, const run_flags *f, FILE *trace,
                      train_result *t) {
    progress p;
    progress_init(&p, stderr, 30.0);
    double start = alrs_now(), loss_sum = 0;
    int loss_count = 0;
    fprintf(trace, "step,lr,train_loss,val_loss,val_acc,wall_s\n");
    for (long step = 0; step < f->steps; step++) {
        double lr = schedule_lr(s, step);
        double loss = child_run_step(r, lr);
        loss_sum += loss, loss_count++;
        t->steps_done = step + 1;
        if (!isfinite(loss) || loss > DIVERGENCE_LOSS) {
            t->diverged = 1;
            fprintf(trace, "%ld,%.9g,%.6f,nan,nan,%.3f\n", step + 1, lr, loss, alrs_now() - start);
            break;
        }
        if ((step + 1) % f->eval_every != 0 && step + 1 != f->steps) continue;
        double vl, va;
        child_run_validate(r, &vl, &va);
        schedule_observe_val_loss(s, vl);
        t->final_val_loss = vl, t->final_val_acc = va;
        fprintf(trace, "%ld,%.9g,%.6f,%.6f,%.6f,%.3f\n", step + 1, lr, loss_sum / loss_count, vl,
                va, alrs_now() - start);
        loss_sum = 0, loss_count = 0;
        char text[160];
        snprintf(text, sizeof text, "lr %.3g  train %.4f  val %.4f  acc %.4f", lr, loss, vl, va);
        progress_update(&p, step + 1, f->steps, text, step + 1 == f->steps);
    }
    progress_finish(&p);
    t->wall_s = alrs_now() - start;
    return 0;
}

/* What trains the child: a schedule (a plain child run) or a learned
 * controller (the learning-rate environment, acting on its policy's mode). */
typedef struct {
    child_run own;
    lr_env env;
    controller ctrl;
    int use_controller, opened;
    child_run *child;
} trainer;

static int trainer_open(trainer *tr, const run_flags *f, const schedule *s, const dataset *data) {
    memset(tr, 0, sizeof *tr);
    child_config cc = run_flags_child(f);
    tr->use_controller = s->kind == SCHED_CONTROLLER;
    if (!tr->use_controller) {
        if (child_run_create(&tr->own, &cc, data) != 0) return -1;
        tr->child = &tr->own;
        tr->opened = 1;
        return 0;
    }
    if (checkpoint_load(&tr->ctrl, s->controller_path) != 0) return -1;
    tr->opened = 1;
    if (tr->ctrl.pol.cfg.obs_size != LR_ENV_OBS) {
        return alrs_fail("%s: the controller expects %d features, the environment gives %d",
                         s->controller_path, tr->ctrl.pol.cfg.obs_size, LR_ENV_OBS);
    }
    lr_env_config ec = lr_env_config_default(&cc);
    ec.steps = (int)f->steps;
    ec.action_every = (int)f->eval_every;
    ec.action = tr->ctrl.pol.cfg.kind;
    ec.delta = tr->ctrl.pol.cfg.delta;
    ec.lr_fixed = f->lr;
    if (lr_env_config_check(&ec) != 0 || lr_env_create(&tr->env, &ec, data) != 0) {
        tr->use_controller = 2; /* controller loaded, environment not built */
        return -1;
    }
    tr->child = &tr->env.child;
    return 0;
}

static void trainer_close(trainer *tr) {
    if (!tr->opened) return;
    if (!tr->use_controller) {
        child_run_free(&tr->own);
        return;
    }
    if (tr->use_controller == 1) lr_env_free(&tr->env);
    controller_free(&tr->ctrl);
}

/* One episode of the environment with the policy's mode as the action; a
 * trace row per agent step (every --eval-every child steps). */
static void controller_loop(trainer *tr, const run_flags *f, FILE *trace, train_result *t) {
    double raw[LR_ENV_OBS], obs[LR_ENV_OBS], action, reward, start = alrs_now();
    int term = 0, trunc = 0;
    fprintf(trace, "step,lr,train_loss,val_loss,val_acc,wall_s\n");
    lr_env_reset(&tr->env, (uint64_t)f->seed, 0, raw);
    const lr_env_episode *ep = lr_env_episode_record(&tr->env);
    while (!term && !trunc) {
        controller_observe(&tr->ctrl, raw, 1, 0, obs);
        policy_mode(&tr->ctrl.pol, obs, 1, &action);
        lr_env_step(&tr->env, action, raw, &reward, &term, &trunc);
        int k = ep->agent_steps - 1;
        fprintf(trace, "%ld,%.9g,%.6f,%.6f,%.6f,%.3f\n", ep->child_steps, ep->lr[k],
                ep->train_loss[k], ep->val_loss[k], ep->val_acc[k], alrs_now() - start);
        t->final_val_loss = ep->val_loss[k], t->final_val_acc = ep->val_acc[k];
    }
    t->steps_done = ep->child_steps;
    t->diverged = ep->diverged;
    t->wall_s = alrs_now() - start;
}

static int run_training(const run_flags *f, schedule *s) {
    dataset data;
    if (dataset_load(&data, f->dataset, f->data_dir, (int)f->val_split,
                     (uint64_t)f->split_seed) != 0)
        return -1;
    run_flags rf = *f;
    if (!rf.data_dir[0]) rf.data_dir = dataset_default_dir(f->dataset);
    if (!rf.val_size) rf.val_size = data.val.n;
    trainer tr;
    int rc = -1, dir_made = 0;
    train_result t;
    memset(&t, 0, sizeof t);
    t.final_val_loss = t.final_val_acc = NAN; /* until a validation runs */
    output_dir out;
    atomic_file trace;
    char path[4200];
    snprintf(path, sizeof path, "%s/trace.csv", f->out);
    if (trainer_open(&tr, &rf, s, &data) != 0) goto done;
    child_run *r = tr.child;
    if (make_output_dir(&out, f->out) != 0) goto done;
    dir_made = 1;
    if (write_config(f->out, &rf, s, r) != 0 || atomic_open(&trace, path) != 0) goto done;
    if (tr.use_controller) controller_loop(&tr, &rf, trace.f, &t);
    else train_loop(r, s, &rf, trace.f, &t);
    if (r->best_step >= 0) child_run_test(r, 1, &t.best_test_loss, &t.best_test_acc);
    else t.best_test_loss = t.best_test_acc = NAN; /* diverged before any validation */
    child_run_test(r, 0, &t.final_test_loss, &t.final_test_acc);
    if (atomic_commit(&trace) != 0) goto done;
    if (write_metadata(f->out, r) != 0 || write_summary(f->out, &rf, s, r, &t) != 0) goto done;
    printf("%s %s: best val loss %.4f at step %ld; test loss %.4f, accuracy %.4f (at best); "
           "final test accuracy %.4f%s; %.1f s\n",
           f->model, f->dataset, r->best_val_loss, r->best_step, t.best_test_loss,
           t.best_test_acc, t.final_test_acc, t.diverged ? " (diverged)" : "", t.wall_s);
    rc = 0;
done:
    if (rc != 0 && dir_made) remove_output_dir(&out);
    trainer_close(&tr);
    dataset_free(&data);
    return rc;
}

int cmd_train(int argc, char **argv) {
    args a;
    run_flags f;
    schedule s;
    if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        printf("%s%s", train_help, run_flags_help);
        return 0;
    }
    if (args_parse(&a, argc, argv) != 0 || run_flags_parse(&a, &f) != 0 ||
        args_string(&a, "schedule", &f.schedule) != 0 || args_string(&a, "out", &f.out) != 0 ||
        args_check_unused(&a) != 0)
        return cli_report_error();
    if (!f.out) {
        alrs_fail("--out DIR is required (the run directory to write)");
        return cli_report_error();
    }
    if (schedule_parse(&s, f.schedule, f.lr, f.steps) != 0) return cli_report_error();
    omp_set_num_threads(f.threads ? (int)f.threads : omp_get_num_procs());
    if (run_training(&f, &s) != 0) return cli_report_error();
    return 0;
}

int cli_report_error(void) {
    fprintf(stderr, "alrs: %s\n", alrs_error());
    return 1;
}
