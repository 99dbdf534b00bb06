/* alrs train: one child run with a schedule, written to a run directory
 * (cli/train_files.h), saved as it goes when asked to and taken up again with
 * --resume (run/train_checkpoint.h). */
#include <math.h>
#include <stddef.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/controller_names.h"
#include "settings/run_change.h"
#include "settings/run_flags.h"
#include "cli/train_files.h"
#include "core/error.h"
#include "optim/optimizer.h"
#include "core/fileio.h"
#include "core/interrupt.h"
#include "core/timer.h"
#include "data/dataset.h"
#include "env/lr_control.h"
#include "rl/controller_file.h"
#include "run/trainer.h"
#include "sched/schedule.h"

static const char train_help[] =
    "usage: alrs train --out DIR [flags]\n"
    "Trains one child network and writes DIR/config.txt, trace.csv (a row per\n"
    "validation, as the run goes), summary.csv and metadata.txt. Test figures are taken\n"
    "at the best-validation point and at the end. SIGINT or SIGTERM finish the step in\n"
    "progress, save the run to DIR/checkpoint.bin and stop; --resume goes on from there.\n";

typedef struct {
    long checkpoint_every;
    int resume, check;
} train_options;

/* alrs train's own flags, each once: its name, the value --help shows, type,
 * field (in run_flags or train_options), bounds, default, the words when it
 * is missing and its help. --help lists them in this order, before the
 * child-run flags; they are read strings first, then the others, each in
 * this order (of two bad values, the first read is the one reported). */
typedef enum { TF_STRING, TF_INT, TF_SWITCH } tf_type;

typedef struct {
    const char *name, *value;
    tf_type type;
    int in_run;           /* the field is run_flags' (else train_options') */
    size_t offset;
    long min, max;        /* TF_INT's bounds */
    const char *def;      /* TF_STRING's default (NULL: none) */
    const char *required; /* why it is needed, when it is missing (NULL: optional) */
    const char *help;     /* as args_print_help takes it; "{}": the default */
} train_flag_def;

#define RUN(m) 1, offsetof(run_flags, m)
#define OPT(m) 0, offsetof(train_options, m)

static const train_flag_def TRAIN_FLAGS[] = {
    {"schedule", "SPEC", TF_STRING, RUN(schedule), 0, 0, "constant", NULL,
     "learning-rate schedule (default {}), e.g.\n"
     "step:every=300,gamma=0.1  cosine  onecycle:max=0.01\n"
     "controller:PATH runs a learned controller (alrs learn's\n"
     "controller.bin), acting every --eval-every steps, from\n"
     "its default rate unless --lr is given;\n"
     "replay:TRACE.csv replays a trace's rates"},
    {"checkpoint-every", "N", TF_INT, OPT(checkpoint_every), 1, 1000000000, NULL, NULL,
     "also save the run every N steps (default: only when\nstopped by a signal)"},
    {"resume", "", TF_SWITCH, OPT(resume), 0, 0, NULL, NULL,
     "go on with the run in --out from its checkpoint.bin,\n"
     "to the figures an uninterrupted run ends with"},
    {"out", "DIR", TF_STRING, RUN(out), 0, 0, NULL, "the run directory to write",
     "run directory (must not exist or be empty, unless --resume)"},
    {"check", "", TF_SWITCH, OPT(check), 0, 0, NULL, NULL,
     "check the flags and data files, run nothing, write nothing"},
};
#define N_TRAIN_FLAGS (int)(sizeof TRAIN_FLAGS / sizeof TRAIN_FLAGS[0])

static void print_help(FILE *out) {
    fputs(train_help, out);
    for (int k = 0; k < N_TRAIN_FLAGS; k++) {
        const train_flag_def *d = &TRAIN_FLAGS[k];
        char head[64];
        snprintf(head, sizeof head, "  --%s%s%s", d->name, d->value[0] ? " " : "", d->value);
        args_print_help(out, head, d->help, d->def);
    }
    run_flags_print_help(out, RUN_FLAGS_ALL);
}

/* The table's flags into f and o (after run_flags_parse, which clears f). */
static int parse_own(args *a, run_flags *f, train_options *o) {
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < N_TRAIN_FLAGS; k++) {
            const train_flag_def *d = &TRAIN_FLAGS[k];
            if ((d->type == TF_STRING) != !pass) continue;
            void *field = (d->in_run ? (char *)f : (char *)o) + d->offset;
            if (d->type == TF_STRING) {
                if (d->def) *(const char **)field = d->def;
                if (args_string(a, d->name, (const char **)field) != 0) return -1;
            } else if (d->type == TF_INT) {
                if (args_int(a, d->name, d->min, d->max, (long *)field) != 0) return -1;
            } else if ((*(int *)field = args_switch(a, d->name)) < 0) {
                return -1;
            }
        }
    if (args_check_unused(a) != 0) return -1;
    for (int k = 0; k < N_TRAIN_FLAGS; k++) {
        const train_flag_def *d = &TRAIN_FLAGS[k];
        if (d->required && !*(const char **)((d->in_run ? (char *)f : (char *)o) + d->offset))
            return alrs_fail("--%s %s is required (%s)", d->name, d->value, d->required);
    }
    return 0;
}

/* What a run writes as it goes: the progress line and trace.csv's rows. */
typedef struct {
    progress line;
    const char *dir;
    const train_outcome *outcome;
    FILE *trace;
    char failed[1024]; /* the first write failure ("": none) */
} run_output;

/* trace.csv, rewritten with the rows the outcome holds before its last one
 * (a resumed run's rows up to its checkpoint), then appended to. */
static int open_trace(run_output *out) {
    train_outcome before = *out->outcome;
    before.n_trace = before.n_trace > 0 ? before.n_trace - 1 : 0;
    out->trace = train_trace_open(out->dir, &before);
    return out->trace ? 0 : -1;
}

static void on_point(void *ctx, const trace_point *p, long total) {
    run_output *out = ctx;
    if (!out->failed[0] && ((!out->trace && open_trace(out) != 0) || /* resumed: first new row */
                            train_trace_append(out->trace, p, out->dir) != 0))
        snprintf(out->failed, sizeof out->failed, "%s", alrs_error());
    char text[160];
    snprintf(text, sizeof text, "lr %.3g  train %.4f  val %.4f  acc %.4f", p->lr, p->train_loss,
             p->val_loss, p->val_acc);
    progress_update(&out->line, p->step, total, text, p->step == total);
}

static void on_test(void *ctx, long done, long n) {
    char text[64];
    snprintf(text, sizeof text, "test set: %ld of %ld images", done, n);
    progress_update(ctx, done, n, text, done == n);
}

/* DIR for this run: made fresh, or (--resume) one that holds this run's
 * config.txt and a checkpoint, not finished. */
static int open_run_dir(const run_flags *f, const char *config, int resume, output_dir *out,
                        int *made) {
    char path[ALRS_FILE_PATH_MAX];
    if (!resume) {
        if (make_output_dir(out, f->out) != 0 || (*made = 1, train_write_config(f->out, config)))
            return -1;
        return 0;
    }
    if (train_check_config(f->out, config) != 0) return -1;
    remove_stale_temporaries(f->out); /* a killed run's half-written file */
    snprintf(path, sizeof path, "%s/summary.csv", f->out);
    if (path_exists(path))
        return alrs_fail("--resume: %s has finished (its summary.csv is written)", f->out);
    snprintf(path, sizeof path, "%s/checkpoint.bin", f->out);
    if (!path_exists(path))
        return alrs_fail("--resume: %s has no checkpoint.bin (the run was not saved: start it "
                         "again without --resume, in an empty directory)", f->out);
    return 0;
}

/* The end of a run: its files, and the checkpoint no longer needed. */
static int finish_run(const run_flags *f, const schedule *s, const trainer *tr,
                      const train_outcome *t) {
    const child_run *r = trainer_child(tr);
    if (train_write_metadata(f->out, f->backend, r) != 0 ||
        train_write_summary(f->out, f, s, t) != 0)
        return -1;
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/checkpoint.bin", f->out);
    unlink(path);
    printf("%s %s: best val loss %.4f at step %ld; test loss %.4f, accuracy %.4f (at best); "
           "final test accuracy %.4f%s; %.1f s\n",
           f->model, f->dataset, t->best_val_loss, t->best_step, t->test_loss, t->test_acc,
           t->final_test_acc, t->diverged ? " (diverged)" : "", t->wall_s);
    return 0;
}

/* ctrl: the controller check_controller read (NULL: none), freed here. */
static int run_training(run_flags *f, schedule *s, const train_options *opt, controller *ctrl) {
    dataset data;
    if (run_flags_load_data(f, &data) != 0) {
        if (ctrl) controller_free(ctrl);
        return -1;
    }
    if (!f->data_dir[0]) f->data_dir = dataset_default_dir(f->dataset);
    if (!f->val_size) f->val_size = data.val.n;
    child_config cc = run_flags_child(f);
    /* --change-at: the changed labels (NULL: none) */
    uint8_t *changed = run_change_child(&f->change, &data, (uint64_t)f->split_seed, &cc);
    char *config = train_config_text(f, s), checkpoint[ALRS_FILE_PATH_MAX];
    snprintf(checkpoint, sizeof checkpoint, "%s/checkpoint.bin", f->out);
    trainer tr;
    train_outcome t;
    memset(&t, 0, sizeof t);
    run_output out = {.dir = f->out, .outcome = &t, .trace = NULL, .failed = ""};
    progress_init(&out.line, stderr, 30.0);
    int rc = -1, dir_made = 0;
    output_dir dir;
    if (trainer_init(&tr, &cc, f->steps, f->eval_every, &data) != 0) {
        if (ctrl) controller_free(ctrl);
        goto done;
    }
    if (ctrl) trainer_adopt_controller(&tr, s->controller_path, ctrl);
    tr.act = f->act;
    tr.checkpoint_path = checkpoint;
    tr.checkpoint_every = opt->checkpoint_every;
    tr.resume = opt->resume;
    tr.test_progress = on_test, tr.test_progress_ctx = &out.line;
    /* made (or checked) before the long run, so that an unusable --out fails at
     * once; a fresh run that fails removes it again */
    if (open_run_dir(f, config, opt->resume, &dir, &dir_made) != 0) goto done;
    /* a fresh run's trace.csv has its header from the start; a resumed one is
     * rewritten at its first new row, from the checkpoint's */
    if (!opt->resume && open_trace(&out) != 0) goto done;
    if (trainer_run(&tr, s, f->lr, (uint64_t)f->seed, 1, on_point, &out, &t) != 0) goto done;
    if (!out.trace && open_trace(&out) != 0) goto done; /* resumed, and no row since */
    if (out.failed[0]) {
        alrs_fail("%s", out.failed);
        goto done;
    }
    if (t.interrupted) {
        alrs_fail("interrupted by %s at step %ld of %ld: %s holds the run; run the same command "
                  "with --resume to continue", interrupt_name(interrupt_requested()),
                  t.steps_done, f->steps, checkpoint);
        dir_made = 0; /* keep what is saved */
        goto done;
    }
    progress_finish(&out.line);
    rc = finish_run(f, s, &tr, &t);
done:
    if (rc != 0 && dir_made) remove_output_dir(&dir);
    if (out.trace) fclose(out.trace);
    free(config);
    train_outcome_free(&t);
    trainer_free(&tr);
    free(changed);
    dataset_free(&data);
    return rc;
}

/* A controller that sets the rate itself takes a --lr outside its bounds
 * (lr_control_start_fits); the run then starts at the nearest bound, and says so. */
static void note_start_moved(const controller *c, const char *path, double lr) {
    double start = fmin(fmax(lr, c->iface.lr_min), c->iface.lr_max);
    if (start == lr) return;
    fprintf(stderr, "alrs: note: --lr %g is outside the bounds [%g, %g] of %s, which sets the "
                    "rate itself; the run starts at %g\n",
            lr, c->iface.lr_min, c->iface.lr_max, path, start);
}

/* A controller's checkpoint is read before any work, so a bad file fails at
 * once (-1); a --lr outside its bounds is a command-line error (-2) where the
 * library refuses such an initial rate (E170). Without --lr the run starts from the
 * controller's default rate, and without --optimizer it runs the optimizer the
 * controller learned over, where its file says. */
static int check_controller(schedule *s, run_flags *f, controller *out) {
    if (s->kind != SCHED_CONTROLLER) return 0;
    controller c;
    if (controller_file_load(&c, s->controller_path) != 0) return -1;
    if (!f->lr_given && c.origin.default_lr > 0) f->lr = s->base_lr = c.origin.default_lr;
    /* the optimizer it learned over, unless --optimizer says otherwise (the
     * optimizers' own copy of the name: the checkpoint is freed below) */
    const char *learned = optimizer_name(c.origin.optimizer);
    if (!f->optimizer_given && learned) f->optimizer = learned;
    int rc = 0;
    if (!lr_control_start_fits(&c.iface.action, c.iface.lr_min, c.iface.lr_max, f->lr)) {
        alrs_fail("--lr %g is outside the controller's bounds [%g, %g] (%s)", f->lr,
                  c.iface.lr_min, c.iface.lr_max, s->controller_path);
        rc = -2;
    } else {
        note_start_moved(&c, s->controller_path, f->lr);
        run_flags_warn_interval(&c, s->controller_path, f->eval_every);
    }
    if (rc == 0) *out = c; /* the run uses the bytes checked here */
    else controller_free(&c);
    return rc;
}

int cmd_train(int argc, char **argv) {
    args a;
    run_flags f;
    schedule s;
    train_options opt = {0, 0, 0};
    if (args_wants_help(argc, argv)) {
        print_help(stdout);
        return 0;
    }
    if (args_parse(&a, argc, argv) != 0 || run_flags_parse(&a, &f, RUN_FLAGS_ALL) != 0 ||
        run_flags_check_choices(&f) != 0 || parse_own(&a, &f, &opt) != 0)
        return cli_usage_error();
    if (schedule_parse(&s, f.schedule, f.lr, f.steps) != 0) return cli_usage_error();
    controller ctrl;
    int checked = s.kind == SCHED_CONTROLLER &&
                  controller_resolve_name(s.controller_path, sizeof s.controller_path) != 0
                      ? -1 : check_controller(&s, &f, &ctrl);
    if (checked != 0) {
        schedule_free(&s);
        return checked == -2 ? cli_usage_error() : cli_report_error();
    }
    int has_ctrl = s.kind == SCHED_CONTROLLER;
    if (opt.check) {
        if (has_ctrl) controller_free(&ctrl);
        schedule_free(&s);
        return run_flags_check_data(&f, "train") == 0 ? 0 : cli_report_error();
    }
    run_flags_warn_threads(&f);
    omp_set_num_threads(f.threads ? (int)f.threads : omp_get_num_procs());
    interrupt_install(1);
    int rc = run_training(&f, &s, &opt, has_ctrl ? &ctrl : NULL);
    schedule_free(&s);
    return rc != 0 ? cli_report_error() : 0;
}
