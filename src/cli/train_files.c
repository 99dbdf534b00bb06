#define _POSIX_C_SOURCE 200809L
#include "cli/train_files.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "settings/config_text.h"
#include "settings/run_change.h"
#include "core/config.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/numfmt.h"
#include "nn/net.h"
#include "report/machine.h"

char *train_config_text(const run_flags *f, const schedule *s) {
    char spec[SCHEDULE_SPEC_MAX];
    schedule_format(s, spec, sizeof spec);
    config_text t;
    config_text_begin(&t, "alrs train");
    run_flags_settings(&t, f);
    run_change_settings(&t, &f->change);
    run_flags_setting(&t, f, RUN_FLAG_LR);
    config_text_add(&t, "schedule", "schedule", spec);
    if (s->kind == SCHED_CONTROLLER) run_flags_setting(&t, f, RUN_FLAG_POLICY);
    run_flags_setting(&t, f, RUN_FLAG_EVAL_EVERY);
    /* the threads the run had, so that the command repeats it bit for bit */
    run_flags with_threads = *f;
    if (!with_threads.threads) with_threads.threads = omp_get_max_threads();
    run_flags_setting(&t, &with_threads, RUN_FLAG_THREADS);
    run_flags_setting(&t, f, RUN_FLAG_SEED);
    return config_text_finish(&t, "alrs train configuration: every value resolved; the command "
                                  "repeats the run.");
}

int train_write_config(const char *dir, const char *text) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fputs(text, a.f);
    return atomic_commit(&a);
}

int train_check_config(const char *dir, const char *text) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    config_file have, want;
    if (config_read(&have, path) != 0) return -1;
    int rc = config_parse(&want, text, strlen(text), "this run");
    static const char *const ignore[] = {"command", NULL};
    const char *key = rc == 0 ? config_first_difference(&have, &want, ignore, run_flags_added_keys()) : NULL;
    if (key) {
        const char *v = config_get(&have, key);
        rc = alrs_fail("--resume: %s holds a run with %s=%s, this one has %s=%s (resume with the "
                       "command that started it)", path, key, v ? v : "(none)", key,
                       config_get(&want, key));
    }
    config_free(&have);
    config_free(&want);
    return rc;
}

/* d is empty for an optimizer without one (NaN in the trace point). */
static void put_row(FILE *f, const trace_point *p) {
    fprintf(f, "%ld,%.9g,%.6f,%.6f,%.6f,%.3f,", p->step, p->lr, p->train_loss, p->val_loss,
            p->val_acc, p->wall_s);
    if (!isnan(p->d)) fprintf(f, "%.9g", p->d);
    fputc('\n', f);
}

FILE *train_trace_open(const char *dir, const train_outcome *o) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/trace.csv", dir);
    atomic_file a; /* the rows so far, whole, then appended to */
    if (atomic_open(&a, path) != 0) return NULL;
    fprintf(a.f, "step,lr,train_loss,val_loss,val_acc,wall_s,d\n");
    for (int i = 0; i < o->n_trace; i++) put_row(a.f, &o->trace[i]);
    if (atomic_commit(&a) != 0) return NULL;
    FILE *f = fopen(path, "a");
    if (!f) alrs_fail("%s: cannot append: %s", path, strerror(errno));
    return f;
}

int train_trace_append(FILE *f, const trace_point *p, const char *dir) {
    char line[256];
    FILE *m = fmemopen(line, sizeof line, "w");
    put_row(m, p);
    long n = ftell(m);
    fclose(m);
    /* one write of the whole line: a run killed meanwhile leaves no half row */
    errno = 0;
    if (fwrite(line, 1, (size_t)n, f) != (size_t)n || fflush(f) != 0)
        return alrs_fail("%s/trace.csv: write failed: %s", dir, strerror(errno ? errno : EIO));
    return 0;
}

/* The rate a run's summary reports: the schedule's own peak when its spec
 * sets one (onecycle:max=...), else --lr. */
static double rate_used(const run_flags *f, const schedule *s) {
    return s->kind == SCHED_ONECYCLE ? s->max_lr : f->lr;
}

int train_write_summary(const char *dir, const run_flags *f, const schedule *s,
                        const train_outcome *t) {
    char path[ALRS_FILE_PATH_MAX], spec[SCHEDULE_SPEC_MAX], lr[NUM_TEXT];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    schedule_format(s, spec, sizeof spec);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    fprintf(a.f, "model,dataset,schedule,seed,steps,batch,lr,best_val_loss,best_step,test_loss,"
                 "test_acc,final_val_loss,final_val_acc,final_test_loss,final_test_acc,diverged,"
                 "wall_s,train_images_per_s,rss_mib_first_eval,rss_mib_end\n");
    fprintf(a.f, "%s,%s,\"%s\",%ld,%ld,%ld,%s,%.6f,%ld,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%d,%.3f,%.1f,"
                 "%.1f,%.1f\n",
            f->model, f->dataset, spec, f->seed, t->steps_done, f->batch,
            num_format(lr, rate_used(f, s)), t->best_val_loss, t->best_step, t->test_loss,
            t->test_acc, t->final_val_loss, t->final_val_acc, t->final_test_loss,
            t->final_test_acc, t->diverged, t->wall_s,
            t->wall_s > 0 ? (double)t->steps_done * f->batch / t->wall_s : 0.0,
            t->rss_first_kib / 1024.0, t->rss_end_kib / 1024.0);
    return atomic_commit(&a);
}

int train_write_metadata(const char *dir, const char *backend, const child_run *r) {
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/metadata.txt", dir);
    atomic_file a;
    if (atomic_open(&a, path) != 0) return -1;
    machine_info m;
    if (machine_info_get(&m) == 0) machine_info_write_kv(&m, a.f);
    static char buf[16384];
    nn_describe(&r->spec, buf, sizeof buf);
    fprintf(a.f, "backend=%s\nparameters=%zu\nflops_per_image_train=%.0f\n"
                 "flops_per_image_forward=%.0f\n",
            backend, r->spec.n_params, nn_flops_train(&r->spec), nn_flops_forward(&r->spec));
    fprintf(a.f, "# network\n%s# implementations, in plan order\n", buf);
    nn_net_describe_impl(r->net, buf, sizeof buf);
    fputs(buf, a.f);
    return atomic_commit(&a);
}
