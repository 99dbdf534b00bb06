#include "settings/run_flags.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings/config_text.h"
#include "settings/run_change.h"
#include "core/error.h"
#include "data/dataset.h"
#include "optim/optimizer.h"

const char run_flags_help[] =
    "  --model mlp|lenet5|resnet18   child network (default lenet5)\n"
    "  --hidden A,B,C                mlp hidden sizes (default 256,128,64)\n"
    "  --dataset fashion-mnist|mnist|cifar10 (default fashion-mnist)\n"
    "  --data-dir DIR                data files (default for fashion-mnist:\n"
    "                                /usr/share/datasets/fashion-mnist)\n"
    "  --val-split N                 training images held out for validation\n"
    "                                (default 10000)\n"
    "  --split-seed N                seed of that split (default 0)\n"
    "  --steps N                     training steps (default 1000)\n"
    "  --batch N                     images per step (default 128)\n"
    "  --optimizer NAME              adam (default), sgd (momentum 0.9), or parameter-free:\n"
    "                                adamw-schedulefree (evaluated at its average x),\n"
    "                                prodigy, dadapt-adam (step d x --lr: use --lr 1)\n"
    "  --backend plan|native|dnnl|auto\n"
    "                                plan (default): what auto chose for this machine,\n"
    "                                network, batch and threads, measured once and kept in the\n"
    "                                plan file, so runs repeat bit for bit; native: the\n"
    "                                handwritten kernels; dnnl: oneDNN primitives; auto: per\n"
    "                                layer the faster of the two, measured at every start\n"
    "  --plan FILE                   the plan file (default $ALRS_PLAN, else\n"
    "                                ~/.cache/alrs/plans.txt)\n"
    "  --val-size N                  validation images per evaluation (default: all)\n"
    "  --eval-batch N                images per inference chunk (default 1000, resnet18 100)\n"
    "  --test-size N                 test images evaluated at the end (default: all)\n";

const char *const run_flags_added_keys[] = {"train_size=0", "label_noise=0", "change_at=0",
                                            "change_label_noise=0", NULL};

/* The run-level flags, one help entry each, in this order. */
static const struct {
    unsigned flag;
    const char *help;
} RUN_HELP[] = {
    {RUN_FLAG_LR, "  --lr X                        initial (base) learning rate (default 1e-3)\n"},
    {RUN_FLAG_EVAL_EVERY, "  --eval-every N                validate every N steps (default 10)\n"},
    {RUN_FLAG_THREADS, "  --threads N                   OpenMP threads (default: all cores)\n"},
    {RUN_FLAG_SEED, "  --seed N                      weights and batch order (default 1)\n"},
    {RUN_FLAG_DATA,
     "  --train-size N                keep only the first N training images (after the\n"
     "                                validation split; default: all)\n"
     "  --label-noise F               replace a fraction F (0 to 1) of the training labels\n"
     "                                with uniform random labels, drawn from --split-seed\n"
     "                                (default 0; validation and test stay clean)\n"},
    {RUN_FLAG_CHANGE,
     "  --change-at N                 the task changes after N training steps (below --steps;\n"
     "                                default: never), the same for every schedule\n"
     "  --change-label-noise P        what changes: from then on a fraction P (0 to 1) of the\n"
     "                                training labels is replaced by uniform random labels,\n"
     "                                drawn from --split-seed (validation and test stay clean)\n"},
    {RUN_FLAG_POLICY,
     "  --policy mode|sample|mean:K   how a controller schedule picks its actions: its\n"
     "                                policy's most likely action, one sampled action, or the\n"
     "                                mean effect of K sampled ones (default mode)\n"},
};

void run_flags_print_help(FILE *out, unsigned flags) {
    fputs(run_flags_help, out);
    for (size_t k = 0; k < sizeof RUN_HELP / sizeof RUN_HELP[0]; k++)
        if (flags & RUN_HELP[k].flag) fputs(RUN_HELP[k].help, out);
    fputs("  --help                        this text (anywhere on the line)\n"
          "A flag given twice takes its last value.\n", out);
}

static int parse_hidden(const char *s, run_flags *f) {
    f->n_hidden = 0;
    const char *p = s;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 65536 || (*end && *end != ','))
            return alrs_fail("--hidden %s: expected comma-separated sizes from 1 to 65536", s);
        if (f->n_hidden == NN_MAX_HIDDEN)
            return alrs_fail("--hidden %s: at most %d hidden layers", s, NN_MAX_HIDDEN);
        f->hidden[f->n_hidden++] = (int)v;
        p = *end ? end + 1 : end;
    }
    if (f->n_hidden == 0) return alrs_fail("--hidden: needs at least one size");
    return 0;
}

int run_flags_parse(args *a, run_flags *f, unsigned flags) {
    memset(f, 0, sizeof *f);
    f->model = "lenet5", f->dataset = "fashion-mnist", f->data_dir = "";
    f->optimizer = "adam", f->schedule = "constant", f->out = NULL, f->backend = "plan";
    f->steps = 1000, f->batch = 128, f->eval_every = 10, f->val_size = 0; /* 0: all */
    f->val_split = 10000, f->eval_batch = 0, f->threads = 0, f->seed = 1, f->split_seed = 0;
    f->lr = 1e-3;
    const char *hidden = NULL, *policy = "mode";
    /* the run-level flags a command does not take stay unread: args_check_unused
     * then names them */
    if ((flags & RUN_FLAG_POLICY &&
         (args_string(a, "policy", &policy) || controller_act_parse(policy, &f->act) != 0)) ||
        (flags & RUN_FLAG_EVAL_EVERY && args_int(a, "eval-every", 1, 100000000, &f->eval_every)) ||
        (flags & RUN_FLAG_THREADS && args_int(a, "threads", 1, 4096, &f->threads)) ||
        (flags & RUN_FLAG_SEED && args_int(a, "seed", 0, 0x7fffffffffffffffL, &f->seed)) ||
        (flags & RUN_FLAG_LR && args_double(a, "lr", 1e-12, 1e3, &f->lr)) ||
        (flags & RUN_FLAG_DATA &&
         (args_double(a, "label-noise", 0, 1, &f->variant.label_noise) ||
          args_int(a, "train-size", 1, 10000000, &f->variant.train_size))) ||
        args_string(a, "model", &f->model) || args_string(a, "dataset", &f->dataset) ||
        args_string(a, "data-dir", &f->data_dir) || args_string(a, "optimizer", &f->optimizer) ||
        args_string(a, "backend", &f->backend) || args_string(a, "plan", &f->plan) ||
        args_string(a, "hidden", &hidden) || args_int(a, "steps", 1, 100000000, &f->steps) ||
        args_int(a, "batch", 1, 1000000, &f->batch) ||
        args_int(a, "val-size", 1, 10000000, &f->val_size) ||
        args_int(a, "val-split", 1, 10000000, &f->val_split) ||
        args_int(a, "eval-batch", 1, 1000000, &f->eval_batch) ||
        args_int(a, "test-size", 1, 10000000, &f->test_size) ||
        args_int(a, "split-seed", 0, 0x7fffffffffffffffL, &f->split_seed) ||
        (flags & RUN_FLAG_CHANGE && run_change_parse(a, f->steps, &f->change)))
        return -1;
    for (int k = 0; k < a->n; k++) f->lr_given |= !strcmp(a->name[k], "lr");
    if (hidden && strcmp(f->model, "mlp") != 0)
        return alrs_fail("--hidden applies to --model mlp only (got --model %s)", f->model);
    if (hidden && parse_hidden(hidden, f) != 0) return -1;
    if (strcmp(f->model, "mlp") && strcmp(f->model, "lenet5") && strcmp(f->model, "resnet18"))
        return alrs_fail("--model %s: unknown model (expected mlp, lenet5 or resnet18)", f->model);
    if (!f->eval_batch) f->eval_batch = child_default_eval_batch(f->model);
    if (strcmp(f->backend, "plan") && strcmp(f->backend, "dnnl") && strcmp(f->backend, "native") &&
        strcmp(f->backend, "auto"))
        return alrs_fail("--backend %s: unknown backend (expected plan, native, dnnl or auto)",
                         f->backend);
    return 0;
}

int run_flags_check_choices(const run_flags *f) {
    if (strcmp(f->dataset, "fashion-mnist") && strcmp(f->dataset, "mnist") &&
        strcmp(f->dataset, "cifar10"))
        return alrs_fail("--dataset %s: unknown data set (expected fashion-mnist, mnist or "
                         "cifar10)", f->dataset);
    if (!f->data_dir[0] && !dataset_default_dir(f->dataset)[0])
        return alrs_fail("--dataset %s needs --data-dir DIR (only fashion-mnist has a default "
                         "directory)", f->dataset);
    return optimizer_check_name(f->optimizer); /* it names the flag and the choices */
}

child_config run_flags_child(const run_flags *f) {
    child_config c;
    memset(&c, 0, sizeof c);
    c.model = f->model;
    c.optimizer = f->optimizer;
    c.backend = f->backend;
    c.plan_path = f->plan;
    memcpy(c.hidden, f->hidden, sizeof c.hidden);
    c.n_hidden = f->n_hidden;
    c.batch = (int)f->batch;
    c.eval_batch = (int)f->eval_batch;
    c.val_size = (int)f->val_size;
    c.test_size = (int)f->test_size;
    c.seed = (uint64_t)f->seed;
    return c;
}

void run_flags_print_hidden(const run_flags *f, FILE *out) {
    if (!f->n_hidden) return;
    fprintf(out, " --hidden ");
    for (int k = 0; k < f->n_hidden; k++) fprintf(out, "%s%d", k ? "," : "", f->hidden[k]);
}

void run_flags_settings(config_text *t, const run_flags *f) {
    char hidden[NN_MAX_HIDDEN * 12] = "";
    int used = 0;
    for (int k = 0; k < f->n_hidden; k++)
        used += snprintf(hidden + used, sizeof hidden - (size_t)used, "%s%d", k ? "," : "",
                         f->hidden[k]);
    config_text_add(t, "model", "model", f->model);
    config_text_add(t, "hidden", "hidden", hidden);
    config_text_add(t, "dataset", "dataset", f->dataset);
    config_text_add(t, "data_dir", "data-dir", f->data_dir);
    config_text_int(t, "val_split", "val-split", f->val_split);
    config_text_int(t, "split_seed", "split-seed", f->split_seed);
    /* always as keys, so that a rerun or --resume with another variant (or
     * none) is told apart; on the command line only when set (0: all) */
    config_text_int(t, "train_size", f->variant.train_size ? "train-size" : NULL,
                    f->variant.train_size);
    config_text_num(t, "label_noise", f->variant.label_noise > 0 ? "label-noise" : NULL,
                    f->variant.label_noise);
    config_text_int(t, "steps", "steps", f->steps);
    config_text_int(t, "batch", "batch", f->batch);
    config_text_int(t, "eval_batch", "eval-batch", f->eval_batch);
    config_text_int(t, "val_size", "val-size", f->val_size);
    if (f->test_size) config_text_int(t, "test_size", "test-size", f->test_size);
    config_text_add(t, "optimizer", "optimizer", f->optimizer);
    config_text_add(t, "backend", "backend", f->backend);
}

void run_flags_warn_interval(const controller *c, const char *path, long eval_every) {
    if (c->iface.action_every == eval_every) return;
    fprintf(stderr, "alrs: warning: %s learned to act every %d child steps; here it acts every "
                    "%ld (--eval-every)\n", path, c->iface.action_every, eval_every);
}

void run_flags_warn_threads(const run_flags *f) {
    int cores = omp_get_num_procs();
    if (f->threads > cores)
        fprintf(stderr, "alrs: warning: --threads %ld is more than the %d cores this process may "
                        "use; the threads will take turns (many times slower)\n",
                f->threads, cores);
}

int run_flags_load_data(const run_flags *f, dataset *d) {
    if (data_variant_check(&f->variant) != 0 ||
        dataset_load(d, f->dataset, f->data_dir, (int)f->val_split, (uint64_t)f->split_seed) != 0)
        return -1;
    if (dataset_vary(d, &f->variant, (uint64_t)f->split_seed, NULL) == 0) return 0;
    dataset_free(d);
    return -1;
}

int run_flags_check_data(const run_flags *f, const char *command) {
    dataset data;
    if (run_flags_load_data(f, &data) != 0) return -1;
    dataset_free(&data);
    printf("alrs %s: the flags and files are good (--check: nothing run, nothing written)\n",
           command);
    return 0;
}

int run_flags_synthetic_shape(run_flags *f, const char *dataset, int *channels, int *side) {
    f->dataset = dataset ? dataset : !strcmp(f->model, "resnet18") ? "cifar10" : "fashion-mnist";
    int cifar = !strcmp(f->dataset, "cifar10");
    if (!cifar && strcmp(f->dataset, "fashion-mnist") && strcmp(f->dataset, "mnist"))
        return alrs_fail("--dataset %s: unknown data set (expected fashion-mnist, mnist or "
                         "cifar10)", f->dataset);
    *channels = cifar ? 3 : 1, *side = cifar ? 32 : 28;
    return 0;
}
