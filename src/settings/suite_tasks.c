#include "settings/suite_tasks.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/numfmt.h"

const char *const suite_task_keys[] = {"model", "hidden", "dataset", "data-dir", "label-noise",
                                       "train-size", "steps", "batch", "val-size", "eval-every",
                                       NULL};

/* The suite's flags with the task's keys as flags over them: a key replaces
 * the command line's value, as a flag given twice does (settings/args.h). */
static int task_args(const suite_file *f, const suite_line *l, const args *base, args *out) {
    *out = *base;
    memset(out->used, 0, sizeof out->used);
    for (int k = 0; k < l->n_keys; k++) {
        int i = 0;
        while (i < out->n && strcmp(out->name[i], l->key[k])) i++;
        if (i < out->n) {
            out->value[i] = l->value[k];
            continue;
        }
        if (out->n == ARGS_MAX)
            return alrs_fail("%s:%d: task %s: too many flags with the command line's", f->path,
                             l->line, l->name);
        out->name[out->n] = l->key[k];
        out->value[out->n++] = l->value[k];
    }
    return 0;
}

static int resolve_one(const suite_file *f, const suite_line *l, const args *base,
                       suite_task *t) {
    memset(t, 0, sizeof *t);
    t->name = l->name, t->line = l->line;
    if (suite_line_check_keys(f, l, "task", suite_task_keys) != 0) return -1;
    args a;
    if (task_args(f, l, base, &a) != 0) return -1;
    if (run_flags_parse(&a, &t->run, RUN_FLAG_EVAL_EVERY | RUN_FLAG_POLICY | RUN_FLAG_DATA) != 0)
        return alrs_fail_context("%s:%d: task %s", f->path, l->line, l->name);
    if (t->run.eval_every > t->run.steps)
        return alrs_fail("%s:%d: task %s: eval-every %ld is more than its %ld steps", f->path,
                         l->line, l->name, t->run.eval_every, t->run.steps);
    return 0;
}

int suite_tasks_resolve(const suite_file *f, const args *base, suite_task *out) {
    for (int i = 0; i < f->n; i++)
        if (resolve_one(f, &f->lines[i], base, &out[i]) != 0) return -1;
    return 0;
}

void suite_task_describe(const suite_task *t, char *buf, int size) {
    const run_flags *r = &t->run;
    char hidden[128] = "";
    int used = 0;
    for (int k = 0; k < r->n_hidden; k++)
        used += snprintf(hidden + used, sizeof hidden - (size_t)used, "%s%d", k ? "," : "",
                         r->hidden[k]);
    char noise[NUM_TEXT];
    snprintf(buf, (size_t)size,
             "model=%s hidden=%s dataset=%s data-dir=%s label-noise=%s train-size=%ld steps=%ld "
             "batch=%ld val-size=%ld eval-every=%ld",
             r->model, hidden, r->dataset, r->data_dir,
             num_format(noise, r->variant.label_noise), r->variant.train_size, r->steps,
             r->batch, r->val_size, r->eval_every);
}
