/* alrs train: one child run with a schedule, written to a run directory. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/config_text.h"
#include "cli/run_flags.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "data/dataset.h"
#include "nn/net.h"
#include "report/machine.h"
#include "rl/checkpoint.h"
#include "child/child.h"
#include "run/trainer.h"
#include "sched/schedule.h"

static const char train_help[] =
    "usage: alrs train --out DIR [flags]\n"
    "Trains one child network and writes DIR/config.txt, trace.csv, summary.csv and\n"
    "metadata.txt. Test figures are taken at the best-validation point and at the end.\n"
    "  --schedule SPEC               learning-rate schedule (default constant), e.g.\n"
    "                                step:every=300,gamma=0.1  cosine  onecycle:max=0.01\n"
    "                                controller:PATH runs a learned controller (alrs learn's\n"
    "                                controller.bin), acting every --eval-every steps\n"
    "  --out DIR                     run directory (must not exist or be empty)\n";

static int write_config(const char *dir, const run_flags *f, const schedule *s,
                        const child_run *r) {
    char path[ALRS_FILE_PATH_MAX], spec[SCHEDULE_SPEC_MAX], policy[32];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    schedule_format(s, spec, sizeof spec);
    config_text t;
    config_text_begin(&t, "alrs train");
    run_flags_settings(&t, f);
    config_text_num(&t, "lr", "lr", f->lr);
    config_text_add(&t, "schedule", "schedule", spec);
    if (s->kind == SCHED_CONTROLLER) {
        controller_act_format(&f->act, policy, sizeof policy);
        config_text_add(&t, "policy", "policy", policy);
    }
    config_text_int(&t, "eval_every", "eval-every", f->eval_every);
    /* the threads the run had, so that the command repeats it bit for bit */
    config_text_int(&t, "threads", "threads", f->threads ? f->threads : omp_get_max_threads());
    config_text_int(&t, "seed", "seed", f->seed);
    config_text_int(&t, "parameters", NULL, (long)r->spec.n_params);
    char *text = config_text_finish(&t, "alrs train configuration: every value resolved; the "
                                        "command repeats the run.");
    atomic_file a;
    int rc = atomic_open(&a, path);
    if (rc == 0) {
        fputs(text, a.f);
        rc = atomic_commit(&a);
    }
    free(text);
    return rc;
}

static int write_metadata(const char *dir, const char *backend, const child_run *r) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/metadata.txt", dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    machine_info m;
    if (machine_info_get(&m) == 0) machine_info_write_kv(&m, a.f);
    static char buf[16384];
    nn_describe(&r->spec, buf, sizeof buf);
    fprintf(a.f, "backend=%s\nflops_per_image_train=%.0f\nflops_per_image_forward=%.0f\n",
            backend, nn_flops_train(&r->spec), nn_flops_forward(&r->spec));
    fprintf(a.f, "# network\n%s# implementations, in plan order\n", buf);
    nn_net_describe_impl(r->net, buf, sizeof buf);
    fputs(buf, a.f);
    return atomic_commit(&a);
}

static int write_summary(const char *dir, const run_flags *f, const schedule *s,
                         const train_outcome *t) {
    char path[ALRS_FILE_PATH_MAX], spec[512];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    schedule_format(s, spec, sizeof spec);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "model,dataset,schedule,seed,steps,batch,lr,best_val_loss,best_step,test_loss,"
                 "test_acc,final_val_loss,final_val_acc,final_test_loss,final_test_acc,diverged,"
                 "wall_s,train_images_per_s,rss_mib_first_eval,rss_mib_end\n");
    fprintf(a.f, "%s,%s,\"%s\",%ld,%ld,%ld,%.9g,%.6f,%ld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%d,%.3f,%.1f,%.1f,%.1f\n",
            f->model, f->dataset, spec, f->seed, t->steps_done, f->batch, f->lr, t->best_val_loss,
            t->best_step, t->test_loss, t->test_acc, t->final_val_loss,
            t->final_val_acc, t->final_test_loss, t->final_test_acc, t->diverged, t->wall_s,
            t->wall_s > 0 ? (double)t->steps_done * f->batch / t->wall_s : 0.0,
            t->rss_first_kib / 1024.0, t->rss_end_kib / 1024.0);
    return atomic_commit(&a);
}

static int write_trace(const char *dir, const train_outcome *t) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/trace.csv", dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "step,lr,train_loss,val_loss,val_acc,wall_s\n");
    for (int i = 0; i < t->n_trace; i++) {
        const trace_point *p = &t->trace[i];
        fprintf(a.f, "%ld,%.9g,%.6f,%.6f,%.6f,%.3f\n", p->step, p->lr, p->train_loss, p->val_loss,
                p->val_acc, p->wall_s);
    }
    return atomic_commit(&a);
}

static void show_progress(void *ctx, const trace_point *p, long total) {
    char text[160];
    snprintf(text, sizeof text, "lr %.3g  train %.4f  val %.4f  acc %.4f", p->lr, p->train_loss,
             p->val_loss, p->val_acc);
    progress_update(ctx, p->step, total, text, p->step == total);
}

static int run_training(const run_flags *f, schedule *s) {
    dataset data;
    if (dataset_load(&data, f->dataset, f->data_dir, (int)f->val_split,
                     (uint64_t)f->split_seed) != 0)
        return -1;
    run_flags rf = *f;
    if (!rf.data_dir[0]) rf.data_dir = dataset_default_dir(f->dataset);
    if (!rf.val_size) rf.val_size = data.val.n;
    child_config cc = run_flags_child(&rf);
    trainer tr;
    train_outcome t;
    memset(&t, 0, sizeof t);
    int rc = -1, dir_made = 0;
    output_dir out;
    progress p;
    progress_init(&p, stderr, 30.0);
    if (trainer_init(&tr, &cc, f->steps, f->eval_every, &data) != 0) goto done;
    tr.act = f->act;
    /* made before the (long) run so that an unusable --out fails at once; a
     * run that fails removes it again */
    if (make_output_dir(&out, f->out) != 0) goto done;
    dir_made = 1;
    if (trainer_run(&tr, s, f->lr, (uint64_t)f->seed, 0, show_progress, &p, &t) != 0) goto done;
    progress_finish(&p);
    const child_run *r = trainer_child(&tr);
    if (write_config(f->out, &rf, s, r) != 0 || write_trace(f->out, &t) != 0 ||
        write_metadata(f->out, f->backend, r) != 0 || write_summary(f->out, &rf, s, &t) != 0)
        goto done;
    printf("%s %s: best val loss %.4f at step %ld; test loss %.4f, accuracy %.4f (at best); "
           "final test accuracy %.4f%s; %.1f s\n",
           f->model, f->dataset, t.best_val_loss, t.best_step, t.test_loss, t.test_acc,
           t.final_test_acc, t.diverged ? " (diverged)" : "", t.wall_s);
    rc = 0;
done:
    if (rc != 0 && dir_made) remove_output_dir(&out);
    train_outcome_free(&t);
    trainer_free(&tr);
    dataset_free(&data);
    return rc;
}

int cmd_train(int argc, char **argv) {
    args a;
    run_flags f;
    schedule s;
    if (args_wants_help(argc, argv)) {
        fputs(train_help, stdout);
        run_flags_print_help(stdout, RUN_FLAGS_ALL);
        return 0;
    }
    if (args_parse(&a, argc, argv) != 0 || run_flags_parse(&a, &f, RUN_FLAGS_ALL) != 0 ||
        args_string(&a, "schedule", &f.schedule) != 0 || args_string(&a, "out", &f.out) != 0 ||
        args_check_unused(&a) != 0)
        return cli_usage_error();
    if (!f.out) {
        alrs_fail("--out DIR is required (the run directory to write)");
        return cli_usage_error();
    }
    if (schedule_parse(&s, f.schedule, f.lr, f.steps) != 0) return cli_usage_error();
    if (s.kind == SCHED_CONTROLLER) { /* read before any work: a bad file fails at once */
        controller c;
        if (checkpoint_load(&c, s.controller_path) != 0) return cli_report_error();
        run_flags_warn_interval(&c, s.controller_path, f.eval_every);
        controller_free(&c);
    }
    omp_set_num_threads(f.threads ? (int)f.threads : omp_get_num_procs());
    int rc = run_training(&f, &s);
    schedule_free(&s);
    return rc != 0 ? cli_report_error() : 0;
}
