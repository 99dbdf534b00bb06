/* The trainer (src/run/trainer.c), on which alrs train and every run of
 * alrs compare stand:
 *   1. a run's figures depend only on (schedule, rate, seed): the same run
 *      repeated, and run on a trainer that ran something else before (as a
 *      run-queue team does), gives the same trace and test figures bit for bit;
 *   2. a schedule run and a controller run seeded alike start from the same
 *      network (the same fresh validation loss at the controller's reset);
 *   3. numerical faults: a rate that blows the child up is caught at the step
 *      it happens, the run ends cleanly as diverged with the trace cut there,
 *      NaN where nothing was measured, and test figures only from a
 *      validation before it;
 *   4. the interrupt request stops a run early when asked to watch for it;
 *   5. an untrained residual controller IS its base schedule: the same rate at
 *      every step, the same trace bit for bit (warm-up + cosine, step decay
 *      and reduce-on-plateau bases, discrete, continuous and absolute
 *      actions), however it picks its actions;
 *   6. policy modes: sampling depends only on the run's seed, mean:1 is
 *      sample, and mode differs from a sample where the policy is unsure;
 *   7. a run-queue job that brings its own optimizer (alrs compare's
 *      schedulefree row) trains with it: the same run bit for bit as a
 *      trainer built for that optimizer, and the jobs after it with the
 *      queue's own again;
 *   8. a mid-run change of the task (alrs train --change-at N
 *      --change-label-noise P): a schedule run and a controller run are the
 *      runs without it, row for row, up to step N, and from there train on
 *      the changed labels (the training loss jumps); the changed labels
 *      depend only on the split seed. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "data/dataset.h"
#include "rl/controller_file.h"
#include "run/run_queue.h"
#include "run/trainer.h"
#include "sched/schedule.h"
#include "testutil.h"

static dataset data;

static child_config small_child(const char *optimizer) {
    return test_small_mlp(optimizer, "native", 32, 60);
}

static schedule parsed(const char *spec, double lr, long steps) {
    schedule s;
    memset(&s, 0, sizeof s);
    if (schedule_parse(&s, spec, lr, steps) != 0) fprintf(stderr, "  %s\n", alrs_error());
    return s;
}

static int run(trainer *t, const char *spec, double lr, uint64_t seed, train_outcome *o) {
    schedule s = parsed(spec, lr, t->steps);
    int rc = trainer_run(t, &s, lr, seed, 0, NULL, NULL, o);
    if (rc != 0) fprintf(stderr, "  trainer_run %s: %s\n", spec, alrs_error());
    return rc;
}

static int same_outcome(const train_outcome *a, const train_outcome *b) {
    if (a->n_trace != b->n_trace || a->steps_done != b->steps_done) return 0;
    for (int i = 0; i < a->n_trace; i++) {
        const trace_point *x = &a->trace[i], *y = &b->trace[i];
        if (x->step != y->step || x->lr != y->lr || x->train_loss != y->train_loss ||
            memcmp(&x->val_loss, &y->val_loss, sizeof x->val_loss) || x->val_acc != y->val_acc)
            return 0;
    }
    return a->test_loss == b->test_loss && a->test_acc == b->test_acc &&
           a->final_test_loss == b->final_test_loss && a->best_step == b->best_step;
}

static void test_independence(void) {
    child_config cc = small_child("adam");
    trainer fresh, reused, again;
    CHECK(trainer_init(&fresh, &cc, 40, 10, &data) == 0);
    CHECK(trainer_init(&reused, &cc, 40, 10, &data) == 0);
    CHECK(trainer_init(&again, &cc, 40, 10, &data) == 0);
    train_outcome a, b, c, other;
    CHECK(run(&fresh, "cosine", 3e-3, 1000, &a) == 0);
    /* a team that ran another schedule and seed first */
    CHECK(run(&reused, "step:every=5,gamma=0.5", 1e-2, 7, &other) == 0);
    CHECK(run(&reused, "cosine", 3e-3, 1000, &b) == 0);
    CHECK(run(&again, "cosine", 3e-3, 1000, &c) == 0);
    CHECK(same_outcome(&a, &b));
    CHECK(same_outcome(&a, &c));
    CHECK(!same_outcome(&a, &other));
    CHECK(a.n_trace == 4 && a.trace[3].step == 40 && !a.diverged);
    CHECK(a.best_step > 0 && isfinite(a.test_loss) && a.test_acc > 0);
    /* plateau keeps state inside the schedule: a fresh parse per run keeps runs apart */
    train_outcome_free(&other);
    CHECK(run(&reused, "plateau:patience=0,factor=0.5", 1e-2, 3, &other) == 0);
    train_outcome d;
    CHECK(run(&reused, "cosine", 3e-3, 1000, &d) == 0);
    CHECK(same_outcome(&a, &d));
    train_outcome *all[] = {&a, &b, &c, &d, &other};
    for (int k = 0; k < 5; k++) train_outcome_free(all[k]);
    trainer_free(&fresh);
    trainer_free(&reused);
    trainer_free(&again);
}

static void test_divergence(void) {
    child_config cc = small_child("sgd");
    trainer t;
    CHECK(trainer_init(&t, &cc, 40, 10, &data) == 0);
    train_outcome o;
    /* SGD at rate 1e4: the loss explodes within a couple of steps */
    CHECK(run(&t, "constant", 1e4, 5, &o) == 0);
    CHECK(o.diverged == 1);
    CHECK(o.steps_done >= 1 && o.steps_done < 10); /* before the first validation */
    CHECK(o.n_trace == 1 && o.trace[0].step == o.steps_done);
    double last = o.trace[0].train_loss;
    CHECK(!isfinite(last) || last > CHILD_DIVERGENCE_LOSS);
    CHECK(isnan(o.trace[0].val_loss) && isnan(o.best_val_loss) && o.best_step == -1);
    CHECK(isnan(o.test_loss)); /* no validation: no best point to test */
    train_outcome_free(&o);
    /* diverging after a validation: the test figures come from before it */
    CHECK(run(&t, "step:every=12,gamma=1e5", 1e-2, 5, &o) == 0);
    CHECK(o.diverged == 1 && o.steps_done > 10 && o.steps_done < 40);
    CHECK(o.best_step == 10 && isfinite(o.test_loss) && o.test_acc > 0);
    CHECK(isnan(o.trace[o.n_trace - 1].val_loss));
    train_outcome_free(&o);
    /* and the trainer is fit for the next run */
    CHECK(run(&t, "constant", 1e-2, 5, &o) == 0);
    CHECK(!o.diverged && o.steps_done == 40);
    train_outcome_free(&o);
    trainer_free(&t);
}

/* run_queue's done: keeps a copy of each job's outcome (the queue frees its own). */
static int keep_outcome(void *ctx, int job, const queued_run *run, const train_outcome *o) {
    (void)run;
    train_outcome *kept = &((train_outcome *)ctx)[job];
    *kept = *o;
    kept->trace = malloc(sizeof *o->trace * (size_t)(o->n_trace + 1));
    memcpy(kept->trace, o->trace, sizeof *o->trace * (size_t)o->n_trace);
    kept->cap_trace = o->n_trace;
    return 0;
}

static void test_own_optimizer(void) {
    run_queue_config qc;
    memset(&qc, 0, sizeof qc);
    qc.child = small_child("adam");
    qc.steps = 30, qc.eval_every = 10, qc.concurrency = 1, qc.threads_per_run = 1;
    qc.act.kind = CONTROLLER_ACT_MODE, qc.act.k = 1;
    /* one team runs them in order: adam, sgd (its own), adam again ("": the queue's) */
    queued_run jobs[3] = {{"cosine", 1e-2, 11, NULL}, {"cosine", 1e-2, 11, "sgd"},
                          {"cosine", 1e-2, 11, ""}};
    train_outcome got[3];
    memset(got, 0, sizeof got);
    CHECK(run_queue_execute(&qc, &data, jobs, 3, NULL, NULL, keep_outcome, got) == 0);
    child_config adam = small_child("adam"), sgd = small_child("sgd");
    trainer ta, ts;
    CHECK(trainer_init(&ta, &adam, 30, 10, &data) == 0);
    CHECK(trainer_init(&ts, &sgd, 30, 10, &data) == 0);
    train_outcome want_adam, want_sgd;
    CHECK(run(&ta, "cosine", 1e-2, 11, &want_adam) == 0);
    CHECK(run(&ts, "cosine", 1e-2, 11, &want_sgd) == 0);
    CHECK(same_outcome(&got[0], &want_adam));
    CHECK(same_outcome(&got[1], &want_sgd));
    CHECK(!same_outcome(&got[1], &want_adam));
    CHECK(same_outcome(&got[2], &want_adam));
    /* an optimizer the build does not have is refused, naming it */
    queued_run unknown = {"constant", 1e-2, 11, "no-such-optimizer"};
    CHECK(run_queue_execute(&qc, &data, &unknown, 1, NULL, NULL, keep_outcome, got) == -1);
    CHECK(strstr(alrs_error(), "no-such-optimizer") != NULL);
    for (int k = 0; k < 3; k++) train_outcome_free(&got[k]);
    train_outcome_free(&want_adam);
    train_outcome_free(&want_sgd);
    trainer_free(&ta);
    trainer_free(&ts);
}

/* A fresh controller checkpoint (untrained weights) for an interface. */
static void write_controller_for(const char *path, const lr_env_interface *iface_in) {
    controller c;
    lr_env_interface iface = *iface_in;
    policy_config pc = controller_policy_config(&iface);
    rng_stream r = rng_make(9, 0);
    if (controller_init(&c, &iface, &pc, 1, 0.99, &r) != 0 || controller_file_save(&c, path) != 0) {
        fprintf(stderr, "controller: %s\n", alrs_error());
        exit(2);
    }
    controller_free(&c);
}

/* The default interface: the paper's controller. */
static void write_controller(const char *path) {
    lr_env_config ec = lr_env_config_default(NULL);
    lr_env_interface iface = lr_env_interface_of(&ec);
    write_controller_for(path, &iface);
}

/* Residual controllers, untrained, against their base schedules: the mode of
 * each action kind keeps c at 0. */
static void test_residual_is_base(const char *dir) {
    const char *bases[] = {"warmup-cosine:warmup=7", "step:every=9,gamma=0.5",
                           "plateau:factor=0.5,patience=0"};
    const char *factors[] = {"0.5,0.8,1,1.25,2", "1,1.5"};
    lr_action_kind kinds[] = {LR_ACTION_DISCRETE, LR_ACTION_DISCRETE, LR_ACTION_CONTINUOUS,
                              LR_ACTION_ABSOLUTE};
    child_config cc = small_child("adam");
    trainer t, s;
    CHECK(trainer_init(&t, &cc, 40, 5, &data) == 0);
    CHECK(trainer_init(&s, &cc, 40, 5, &data) == 0);
    for (int b = 0; b < 3; b++)
        for (int k = 0; k < 4; k++) {
            lr_env_config ec = lr_env_config_default(NULL);
            ec.features = LR_FEAT_ALL;
            ec.action.kind = kinds[k];
            if (k < 2 && lr_action_parse_factors(factors[k], &ec.action) != 0) exit(2);
            snprintf(ec.action.base, sizeof ec.action.base, "%s", bases[b]);
            lr_env_interface iface = lr_env_interface_of(&ec);
            char path[700], spec[720];
            snprintf(path, sizeof path, "%s/residual-%d-%d.bin", dir, b, k);
            snprintf(spec, sizeof spec, "controller:%s", path);
            write_controller_for(path, &iface);
            train_outcome o, p;
            CHECK(run(&t, spec, 3e-2, 5, &o) == 0);
            CHECK(run(&s, bases[b], 3e-2, 5, &p) == 0);
            int same = same_outcome(&o, &p);
            if (!same) fprintf(stderr, "  residual %s, action kind %d: not its base\n", bases[b], k);
            CHECK(same);
            train_outcome_free(&o);
            train_outcome_free(&p);
        }
    trainer_free(&t);
    trainer_free(&s);
}

/* --policy: a sampled run depends only on its seed; mean:1 is a sample; the
 * untrained paper controller (nearly uniform) samples other rates than its mode. */
static void test_policy_modes(const char *dir) {
    char path[700], spec[720];
    snprintf(path, sizeof path, "%s/modes.bin", dir);
    snprintf(spec, sizeof spec, "controller:%s", path);
    write_controller(path);
    child_config cc = small_child("adam");
    trainer t;
    CHECK(trainer_init(&t, &cc, 40, 5, &data) == 0);
    train_outcome mode, a, b, c, mean1, mean8;
    CHECK(run(&t, spec, 1e-2, 3, &mode) == 0);
    CHECK(controller_act_parse("sample", &t.act) == 0);
    CHECK(run(&t, spec, 1e-2, 3, &a) == 0);
    CHECK(run(&t, spec, 1e-2, 3, &b) == 0);
    CHECK(run(&t, spec, 1e-2, 4, &c) == 0);
    CHECK(same_outcome(&a, &b));
    CHECK(!same_outcome(&a, &mode));
    CHECK(!same_outcome(&a, &c) || a.trace[7].lr != c.trace[7].lr);
    CHECK(controller_act_parse("mean:1", &t.act) == 0);
    CHECK(run(&t, spec, 1e-2, 3, &mean1) == 0);
    CHECK(same_outcome(&a, &mean1));
    /* mean:8: each rate is the previous one times the geometric mean of 8
     * sampled factors from {1.05, 1/1.05, 1}: 1.05^(j/8) for j in -8..8 */
    CHECK(controller_act_parse("mean:8", &t.act) == 0);
    CHECK(run(&t, spec, 1e-2, 3, &mean8) == 0);
    int on_lattice = 1;
    for (int i = 1; i < mean8.n_trace; i++) {
        double j = 8 * log(mean8.trace[i].lr / mean8.trace[i - 1].lr) / log(1.05);
        on_lattice &= fabs(j - round(j)) < 1e-6 && fabs(j) <= 8;
    }
    CHECK(on_lattice);
    train_outcome *all[] = {&mode, &a, &b, &c, &mean1, &mean8};
    for (int i = 0; i < 6; i++) train_outcome_free(all[i]);
    trainer_free(&t);
}

/* A controller handed over (trainer_adopt_controller) runs as the same one
 * read from its path, and the file is not read again: replaced by another
 * controller afterwards, the run is unchanged. */
static void test_adopted_controller(const char *dir) {
    char path[700], spec[720];
    snprintf(path, sizeof path, "%s/adopt.bin", dir);
    snprintf(spec, sizeof spec, "controller:%s", path);
    write_controller(path);
    train_outcome read, adopted;
    child_config cc = small_child("adam");
    trainer t;
    CHECK(trainer_init(&t, &cc, 40, 5, &data) == 0 && run(&t, spec, 1e-2, 3, &read) == 0);
    trainer_free(&t);
    controller c;
    CHECK(controller_file_load(&c, path) == 0);
    lr_env_config ec = lr_env_config_default(NULL);
    lr_env_interface other = lr_env_interface_of(&ec);
    other.lr_min = 0.5, other.lr_max = 0.6; /* a run under it clamps every rate to 0.5..0.6 */
    write_controller_for(path, &other);
    CHECK(trainer_init(&t, &cc, 40, 5, &data) == 0);
    trainer_adopt_controller(&t, path, &c);
    CHECK(run(&t, spec, 1e-2, 3, &adopted) == 0);
    CHECK(same_outcome(&read, &adopted));
    train_outcome_free(&read);
    train_outcome_free(&adopted);
    trainer_free(&t);
}

static void test_controller_runs(const char *dir) {
    char path[700], spec[720];
    snprintf(path, sizeof path, "%s/ctrl.bin", dir);
    snprintf(spec, sizeof spec, "controller:%s", path);
    write_controller(path);
    child_config cc = small_child("sgd");
    trainer t;
    CHECK(trainer_init(&t, &cc, 40, 10, &data) == 0);
    train_outcome o, p;
    CHECK(run(&t, spec, 1e-2, 11, &o) == 0);
    CHECK(!o.diverged && o.n_trace == 4 && o.steps_done == 40);
    /* every rate is the initial one times the controller's factors */
    CHECK(o.trace[0].lr > 1e-2 / 1.06 && o.trace[0].lr < 1e-2 * 1.06);
    CHECK(run(&t, spec, 1e-2, 11, &p) == 0);
    CHECK(same_outcome(&o, &p));
    /* the same network as a schedule run seeded alike: the schedule run's
     * first step starts from it, so a one-step constant run at rate 0 leaves
     * it as the controller found it */
    train_outcome_free(&p);
    trainer s;
    CHECK(trainer_init(&s, &cc, 1, 1, &data) == 0);
    CHECK(run(&s, "constant", 1e-30, 11, &p) == 0);
    CHECK_NEAR(p.trace[0].val_loss, t.env.ep.initial_val_loss, 1e-6);
    train_outcome_free(&p);
    trainer_free(&s);
    /* (a controller's rate is bounded to [1e-6, 1]; its divergence path is
     * the environment's, tested in test_env) */
    train_outcome_free(&o);
    trainer_free(&t);
}

/* The rows of a and b (same steps) agree exactly up to row `upto` (excluded). */
static int same_rows(const train_outcome *a, const train_outcome *b, int upto) {
    if (a->n_trace < upto || b->n_trace < upto) return 0;
    for (int i = 0; i < upto; i++) {
        const trace_point *x = &a->trace[i], *y = &b->trace[i];
        if (x->step != y->step || x->lr != y->lr || x->train_loss != y->train_loss ||
            x->val_loss != y->val_loss || x->val_acc != y->val_acc)
            return 0;
    }
    return 1;
}

/* Mean training loss of rows [from, to). */
static double mean_train_loss(const train_outcome *o, int from, int to) {
    double sum = 0;
    for (int i = from; i < to; i++) sum += o->trace[i].train_loss;
    return sum / (to - from);
}

static void test_change(const char *dir) {
    int n = data.train.n;
    uint8_t *noisy = dataset_changed_labels(&data, 1.0, 1), *again = dataset_changed_labels(&data, 1.0, 1);
    uint8_t *other = dataset_changed_labels(&data, 1.0, 2), *none = dataset_changed_labels(&data, 0.0, 1);
    int differ = 0;
    for (int i = 0; i < n; i++) differ += noisy[i] != data.train.labels[i];
    /* every label drawn again uniformly over 10 classes: about 9 in 10 differ */
    CHECK(differ > n * 8 / 10 && differ < n);
    CHECK(!memcmp(noisy, again, (size_t)n) && memcmp(noisy, other, (size_t)n) != 0);
    CHECK(!memcmp(none, data.train.labels, (size_t)n));
    free(again), free(other), free(none);

    /* a schedule, validated at every step: rows 0..29 are steps 1..30 */
    child_config plain = small_child("adam"), changed = plain;
    changed.change_step = 30, changed.change_labels = noisy;
    trainer a, b;
    CHECK(trainer_init(&a, &plain, 60, 1, &data) == 0);
    CHECK(trainer_init(&b, &changed, 60, 1, &data) == 0);
    train_outcome o, p;
    CHECK(run(&a, "cosine", 1e-2, 3, &o) == 0);
    CHECK(run(&b, "cosine", 1e-2, 3, &p) == 0);
    CHECK(o.n_trace == 60 && p.n_trace == 60);
    CHECK(same_rows(&o, &p, 30));
    CHECK(p.trace[30].step == 31 && p.trace[30].train_loss != o.trace[30].train_loss);
    double before = mean_train_loss(&p, 20, 30), after = mean_train_loss(&p, 30, 60),
           kept = mean_train_loss(&o, 30, 60);
    printf("  change at step 30: train loss %.4f over steps 21-30, %.4f over 31-60 "
           "(%.4f without the change)\n", before, after, kept);
    CHECK(after > before + 0.5 && after > kept + 0.5);
    train_outcome_free(&o), train_outcome_free(&p);
    /* a change run again on the same trainer (reset), and a plain one after it */
    CHECK(run(&b, "cosine", 1e-2, 3, &o) == 0);
    CHECK(run(&b, "cosine", 1e-2, 3, &p) == 0);
    CHECK(same_outcome(&o, &p));
    train_outcome_free(&o), train_outcome_free(&p);
    trainer_free(&a), trainer_free(&b);

    /* a controller acting every 5 steps: rows 0..5 are steps 5..30 */
    char path[700], spec[720];
    snprintf(path, sizeof path, "%s/change.bin", dir);
    snprintf(spec, sizeof spec, "controller:%s", path);
    write_controller(path);
    CHECK(trainer_init(&a, &plain, 60, 5, &data) == 0);
    CHECK(trainer_init(&b, &changed, 60, 5, &data) == 0);
    CHECK(run(&a, spec, 1e-2, 3, &o) == 0);
    CHECK(run(&b, spec, 1e-2, 3, &p) == 0);
    CHECK(o.n_trace == 12 && p.n_trace == 12 && p.trace[6].step == 35);
    CHECK(same_rows(&o, &p, 6));
    CHECK(p.trace[6].train_loss > o.trace[6].train_loss + 0.5);
    train_outcome_free(&o), train_outcome_free(&p);
    trainer_free(&a), trainer_free(&b);
    free(noisy);
}

int main(void) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s", test_tmpdir("trainer"));
    test_write_idx_set(dir, "", 500, 10, 10, 0, 7);
    if (dataset_load(&data, "fashion-mnist", dir, 100, 1) != 0) {
        fprintf(stderr, "dataset: %s\n", alrs_error());
        return 1;
    }
    test_independence();
    test_divergence();
    test_controller_runs(dir);
    test_adopted_controller(dir);
    test_residual_is_base(dir);
    test_policy_modes(dir);
    test_own_optimizer();
    test_change(dir);
    dataset_free(&data);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    test_run(cmd, NULL, 0);
    return test_finish();
}
