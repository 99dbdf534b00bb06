#include "settings/learn_tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* A task that names no eval-every validates at the controller's interval
 * (learn_tasks_read makes it the default); one that names another is
 * refused: the controller acts at each validation, so an agent step must
 * mean the same number of child steps on every task. */
static int check_interval(const learn_tasks *t, int k, long action_every) {
    const suite_task *task = &t->tasks[k];
    if (task->run.eval_every == action_every) return 0; /* and no more than its steps (resolved) */
    return alrs_fail("%s:%d: task %s: eval-every=%ld, but the controller acts every "
                     "--action-every %ld steps (every task validates at that interval: "
                     "eval-every=%ld or none)", t->path, task->line, task->name,
                     task->run.eval_every, action_every, action_every);
}

int learn_tasks_read(learn_tasks *t, const char *path, const args *cmdline, long action_every) {
    memset(t, 0, sizeof *t);
    t->path = path;
    int rc = suite_file_read(&t->file, path, "task");
    if (rc != 0) return rc;
    t->n = t->file.n;
    t->tasks = alrs_calloc((size_t)t->n, sizeof *t->tasks);
    /* the tasks' default eval-every is the controller's interval (alrs learn
     * has no --eval-every of its own) */
    args base = *cmdline;
    snprintf(t->every_text, sizeof t->every_text, "%ld", action_every);
    if (base.n == ARGS_MAX) return alrs_fail("--tasks %s: too many flags besides", path);
    base.name[base.n] = "eval-every", base.value[base.n++] = t->every_text;
    if (suite_tasks_resolve(&t->file, &base, t->tasks) != 0) return -1;
    for (int k = 0; k < t->n; k++)
        if (check_interval(t, k, action_every) != 0) return -1;
    return 0;
}

static int same_str(const char *a, const char *b) {
    return !strcmp(a ? a : "", b ? b : "");
}

/* Two tasks train on the same data when everything that shapes it agrees. */
static int same_data(const run_flags *a, const run_flags *b) {
    return same_str(a->dataset, b->dataset) && same_str(a->data_dir, b->data_dir) &&
           a->val_split == b->val_split && a->split_seed == b->split_seed &&
           a->variant.label_noise == b->variant.label_noise &&
           a->variant.train_size == b->variant.train_size;
}

/* The data set of task k: one loaded for an earlier task, or loaded now. */
static int find_or_load(learn_tasks *t, int k) {
    for (int j = 0; j < k; j++)
        if (same_data(&t->tasks[j].run, &t->tasks[k].run)) {
            t->set_of[k] = t->set_of[j];
            return 0;
        }
    if (run_flags_load_data(&t->tasks[k].run, &t->sets[t->n_sets]) != 0)
        return alrs_fail_context("%s:%d: task %s", t->path, t->tasks[k].line, t->tasks[k].name);
    t->set_of[k] = t->n_sets++;
    return 0;
}

/* Task k's child on its loaded data: the validation size defaults to the
 * whole split, and the batch and validation size must fit the data. */
static int make_env_task(learn_tasks *t, int k) {
    const suite_task *task = &t->tasks[k];
    const dataset *d = &t->sets[t->set_of[k]];
    lr_env_task *e = &t->env_tasks[k];
    e->name = task->name;
    e->child = run_flags_child(&task->run);
    if (!e->child.val_size) e->child.val_size = d->val.n;
    e->steps = (int)task->run.steps;
    e->data = d;
    if (e->child.batch > d->train.n)
        return alrs_fail("%s:%d: task %s: batch=%d is more than its %d training images",
                         t->path, task->line, task->name, e->child.batch, d->train.n);
    if (e->child.val_size > d->val.n)
        return alrs_fail("%s:%d: task %s: val-size=%d is more than its %d validation images",
                         t->path, task->line, task->name, e->child.val_size, d->val.n);
    return 0;
}

int learn_tasks_load(learn_tasks *t) {
    t->sets = alrs_calloc((size_t)t->n, sizeof *t->sets);
    t->set_of = alrs_calloc((size_t)t->n, sizeof *t->set_of);
    t->env_tasks = alrs_calloc((size_t)t->n, sizeof *t->env_tasks);
    for (int k = 0; k < t->n; k++)
        if (find_or_load(t, k) != 0 || make_env_task(t, k) != 0) return -1;
    return 0;
}

void learn_tasks_free(learn_tasks *t) {
    for (int k = 0; t->sets && k < t->n_sets; k++) dataset_free(&t->sets[k]);
    free(t->sets), free(t->set_of), free(t->env_tasks), free(t->tasks);
    suite_file_free(&t->file);
    memset(t, 0, sizeof *t);
}

long learn_tasks_max_agent_steps(const learn_tasks *t, long action_every) {
    long most = 0;
    for (int k = 0; k < t->n; k++) {
        long n = (t->tasks[k].run.steps + action_every - 1) / action_every;
        most = n > most ? n : most;
    }
    return most;
}

void learn_tasks_settings(config_text *c, const learn_tasks *t) {
    config_text_add(c, "tasks_file", "tasks", t->path);
    for (int k = 0; k < t->n; k++) {
        char key[SUITE_NAME_MAX + 8], line[1024];
        snprintf(key, sizeof key, "task.%s", t->tasks[k].name);
        suite_task_describe(&t->tasks[k], line, sizeof line);
        config_text_add(c, key, NULL, line);
    }
}

const char *learn_tasks_name(const learn_tasks *t, int k) {
    return k >= 0 && k < t->n ? t->tasks[k].name : "";
}
