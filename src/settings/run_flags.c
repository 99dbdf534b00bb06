#include "settings/run_flags.h"

#include <omp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings/config_text.h"
#include "settings/run_change.h"
#include "core/error.h"
#include "core/numfmt.h"
#include "data/dataset.h"
#include "optim/optimizer.h"

/* The child-run flags and the run-level ones, each once: its name, the value
 * --help shows, type, field, bounds, default, the commands that take it, its
 * config.txt key and help. Parsing, the defaults, every command's --help and
 * config.txt's settings are all read from here; adding a flag is one entry.
 * The table's order is --help's and the order flags are read in (of two bad
 * values, the first is the one reported). */
typedef enum { RF_STRING, RF_INT, RF_DOUBLE, RF_HIDDEN, RF_POLICY } rf_type;
/* How a key goes into config.txt: key and flag always (an empty value has
 * no flag), the key always and the flag only when set (non-zero), both only
 * when set, or as run_change_settings writes it (the key always, the flag
 * when --change-at is set). A key whose flag is written only when set
 * (RF_FLAG_IF_SET, RF_CHANGE) came after the first directories: one that
 * lacks it means 0 (run_flags_added_keys). */
typedef enum { RF_ALWAYS, RF_FLAG_IF_SET, RF_IF_SET, RF_CHANGE } rf_when;

typedef struct {
    const char *name;  /* --name */
    const char *value; /* what --help shows after the name */
    rf_type type;
    size_t offset;     /* the field in run_flags (RF_STRING, RF_INT, RF_DOUBLE) */
    long min, max;     /* RF_INT's bounds */
    double dmin, dmax; /* RF_DOUBLE's bounds */
    const char *def;   /* the default, read as a value given would be (NULL: 0, none) */
    unsigned group;    /* 0: a child flag, every command's; else the RUN_FLAG_ that brings it */
    unsigned shown;    /* the short helps (RUN_HELP_TUNE, ...) that list it */
    const char *key;   /* config.txt key (NULL: none) */
    /* its place among run_flags_settings' keys (0: a run-level key the command
     * writes with run_flags_setting): config.txt's order predates the table
     * and stays, as old directories are compared with it on --resume */
    int at;
    rf_when when;
    const char *help;  /* lines separated by '\n' ("\n" first: below the name);
                          "{}" stands for the default */
} run_flag_def;

#define F(m) offsetof(run_flags, m)
#define LONG_TOP 0x7fffffffffffffffL

static const run_flag_def FLAGS[] = {
    {"model", "mlp|lenet5|resnet18", RF_STRING, F(model), 0, 0, 0, 0, "lenet5", 0,
     RUN_HELP_TUNE | RUN_HELP_LAYERS, "model", 1, RF_ALWAYS, "child network (default {})"},
    {"hidden", "A,B,C", RF_HIDDEN, 0, 0, 0, 0, 0, NULL, 0, RUN_HELP_TUNE | RUN_HELP_LAYERS,
     "hidden", 2, RF_ALWAYS, "mlp hidden sizes (default 256,128,64)"},
    {"dataset", "fashion-mnist|mnist|cifar10", RF_STRING, F(dataset), 0, 0, 0, 0,
     "fashion-mnist", 0, 0, "dataset", 3, RF_ALWAYS, "(default {})"},
    {"data-dir", "DIR", RF_STRING, F(data_dir), 0, 0, 0, 0, "", 0, 0, "data_dir", 4, RF_ALWAYS,
     "data files (default for fashion-mnist:\n/usr/share/datasets/fashion-mnist)"},
    {"val-split", "N", RF_INT, F(val_split), 1, 10000000, 0, 0, "10000", 0, 0, "val_split", 5,
     RF_ALWAYS, "training images held out for validation\n(default {})"},
    {"split-seed", "N", RF_INT, F(split_seed), 0, LONG_TOP, 0, 0, "0", 0, 0, "split_seed", 6,
     RF_ALWAYS, "seed of that split (default {})"},
    {"steps", "N", RF_INT, F(steps), 1, 100000000, 0, 0, "1000", 0, 0, "steps", 9, RF_ALWAYS,
     "training steps (default {})"},
    {"batch", "N", RF_INT, F(batch), 1, 1000000, 0, 0, "128", 0,
     RUN_HELP_TUNE | RUN_HELP_LAYERS, "batch", 10, RF_ALWAYS, "images per step (default {})"},
    {"optimizer", "NAME", RF_STRING, F(optimizer), 0, 0, 0, 0, "adam", 0, 0, "optimizer", 14,
     RF_ALWAYS,
     "{} (default), sgd (momentum 0.9), or parameter-free:\n"
     "adamw-schedulefree (evaluated at its average x),\n"
     "prodigy, dadapt-adam (step d x --lr: use --lr 1)"},
    {"backend", "plan|native|dnnl|auto", RF_STRING, F(backend), 0, 0, 0, 0, "plan", 0, 0,
     "backend", 15, RF_ALWAYS,
     "\n{} (default): what auto chose for this machine,\n"
     "network, batch and threads, measured once and kept in the\n"
     "plan file, so runs repeat bit for bit; native: the\n"
     "handwritten kernels; dnnl: oneDNN primitives; auto: per\n"
     "layer the faster of the two, measured at every start"},
    {"plan", "FILE", RF_STRING, F(plan), 0, 0, 0, 0, NULL, 0, RUN_HELP_TUNE | RUN_HELP_LAYERS,
     NULL, 0, RF_ALWAYS, "the plan file (default $ALRS_PLAN, else\n~/.cache/alrs/plans.txt)"},
    {"val-size", "N", RF_INT, F(val_size), 1, 10000000, 0, 0, NULL, 0, 0, "val_size", 12,
     RF_ALWAYS, "validation images per evaluation (default: all)"},
    {"eval-batch", "N", RF_INT, F(eval_batch), 1, 1000000, 0, 0, NULL, 0, RUN_HELP_LAYERS,
     "eval_batch", 11, RF_ALWAYS, "images per inference chunk (default 1000, resnet18 100)"},
    {"test-size", "N", RF_INT, F(test_size), 1, 10000000, 0, 0, NULL, 0, 0, "test_size", 13,
     RF_IF_SET, "test images evaluated at the end (default: all)"},
    {"lr", "X", RF_DOUBLE, F(lr), 0, 0, 1e-12, 1e3, "1e-3", RUN_FLAG_LR, 0, "lr", 0, RF_ALWAYS,
     "initial (base) learning rate (default {})"},
    {"eval-every", "N", RF_INT, F(eval_every), 1, 100000000, 0, 0, "10", RUN_FLAG_EVAL_EVERY, 0,
     "eval_every", 0, RF_ALWAYS, "validate every N steps (default {})"},
    {"threads", "N", RF_INT, F(threads), 1, 4096, 0, 0, NULL, RUN_FLAG_THREADS,
     RUN_HELP_TUNE | RUN_HELP_LAYERS, "threads", 0, RF_ALWAYS,
     "OpenMP threads (default: all cores)"},
    {"seed", "N", RF_INT, F(seed), 0, LONG_TOP, 0, 0, "1", RUN_FLAG_SEED, 0, "seed", 0,
     RF_ALWAYS, "weights and batch order (default {})"},
    {"train-size", "N", RF_INT, F(variant.train_size), 1, 10000000, 0, 0, NULL, RUN_FLAG_DATA, 0,
     "train_size", 7, RF_FLAG_IF_SET,
     "keep only the first N training images (after the\nvalidation split; default: all)"},
    {"label-noise", "F", RF_DOUBLE, F(variant.label_noise), 0, 0, 0, 1, "0", RUN_FLAG_DATA, 0,
     "label_noise", 8, RF_FLAG_IF_SET,
     "replace a fraction F (0 to 1) of the training labels\n"
     "with uniform random labels, drawn from --split-seed\n"
     "(default {}; validation and test stay clean)"},
    /* config.txt's change_at and change_label_noise: written by run_change_settings */
    {"change-at", "N", RF_INT, F(change.at), 1, 100000000, 0, 0, NULL, RUN_FLAG_CHANGE, 0,
     "change_at", 0, RF_CHANGE,
     "the task changes after N training steps (below --steps;\n"
     "default: never), the same for every schedule"},
    {"change-label-noise", "P", RF_DOUBLE, F(change.label_noise), 0, 0, 0, 1, NULL,
     RUN_FLAG_CHANGE, 0, "change_label_noise", 0, RF_CHANGE,
     "what changes: from then on a fraction P (0 to 1) of the\n"
     "training labels is replaced by uniform random labels,\n"
     "drawn from --split-seed (validation and test stay clean)"},
    {"policy", "mode|sample|mean:K", RF_POLICY, 0, 0, 0, 0, 0, "mode", RUN_FLAG_POLICY, 0,
     "policy", 0, RF_ALWAYS,
     "how a controller schedule picks its actions: its\n"
     "policy's most likely action, one sampled action, or the\n"
     "mean effect of K sampled ones (default {})"},
};
#define N_FLAGS (int)(sizeof FLAGS / sizeof FLAGS[0])

const char *const *run_flags_added_keys(void) {
    static char text[N_FLAGS][48];
    static const char *keys[N_FLAGS + 1];
    int n = 0;
    for (int k = 0; k < N_FLAGS; k++)
        if (FLAGS[k].key && (FLAGS[k].when == RF_FLAG_IF_SET || FLAGS[k].when == RF_CHANGE)) {
            snprintf(text[n], sizeof text[n], "%s=0", FLAGS[k].key);
            keys[n] = text[n], n++;
        }
    keys[n] = NULL;
    return keys;
}

static void print_flag_help(FILE *out, const run_flag_def *d) {
    char head[64];
    snprintf(head, sizeof head, "  --%s %s", d->name, d->value);
    args_print_help(out, head, d->help, d->def);
}

void run_flags_print_help(FILE *out, unsigned flags) {
    for (int k = 0; k < N_FLAGS; k++)
        if (!FLAGS[k].group || (flags & FLAGS[k].group)) print_flag_help(out, &FLAGS[k]);
    fputs("  --help                        this text (anywhere on the line)\n"
          "A flag given twice takes its last value.\n", out);
}

void run_flags_print_short_help(FILE *out, unsigned shown) {
    for (int k = 0; k < N_FLAGS; k++)
        if (FLAGS[k].shown & shown) print_flag_help(out, &FLAGS[k]);
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

/* The table's entry of a run-level flag (one RUN_FLAG_ with one entry). */
static const run_flag_def *run_level(unsigned flag) {
    int k = 0;
    while (FLAGS[k].group != flag) k++;
    return &FLAGS[k];
}

/* Every flag's default, whether the command takes it or not. */
static void set_defaults(run_flags *f) {
    for (int k = 0; k < N_FLAGS; k++) {
        const run_flag_def *d = &FLAGS[k];
        void *field = (char *)f + d->offset;
        if (!d->def) continue;
        if (d->type == RF_STRING) *(const char **)field = d->def;
        else if (d->type == RF_INT) *(long *)field = strtol(d->def, NULL, 10);
        else if (d->type == RF_DOUBLE) *(double *)field = strtod(d->def, NULL);
    }
}

/* One flag of the table, if given; the value of --hidden into *hidden. */
static int parse_flag(args *a, const run_flag_def *d, run_flags *f, const char **hidden) {
    void *field = (char *)f + d->offset;
    switch (d->type) {
    case RF_STRING: return args_string(a, d->name, (const char **)field);
    case RF_INT: return args_int(a, d->name, d->min, d->max, (long *)field);
    case RF_DOUBLE: return args_double(a, d->name, d->dmin, d->dmax, (double *)field);
    case RF_HIDDEN: return args_string(a, d->name, hidden);
    case RF_POLICY: {
        const char *policy = d->def;
        return args_string(a, d->name, &policy) || controller_act_parse(policy, &f->act) != 0
                   ? -1 : 0;
    }
    }
    return 0;
}

int run_flags_parse(args *a, run_flags *f, unsigned flags) {
    memset(f, 0, sizeof *f);
    set_defaults(f);
    const char *hidden = NULL;
    /* the run-level flags a command does not take stay unread: args_check_unused
     * then names them */
    for (int k = 0; k < N_FLAGS; k++)
        if ((!FLAGS[k].group || (flags & FLAGS[k].group)) &&
            parse_flag(a, &FLAGS[k], f, &hidden) != 0)
            return -1;
    f->lr_given = args_given(a, run_level(RUN_FLAG_LR)->name);
    f->optimizer_given = args_given(a, "optimizer");
    if (flags & RUN_FLAG_CHANGE && run_change_check(a, f->steps, &f->change) != 0) return -1;
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

/* One table entry's key and flag into config.txt, as `when` says. */
static void put_setting(config_text *t, const run_flag_def *d, const run_flags *f) {
    const void *field = (const char *)f + d->offset;
    char text[NN_MAX_HIDDEN * 12] = "";
    int set = 1;
    if (d->type == RF_STRING) snprintf(text, sizeof text, "%s", *(const char *const *)field);
    else if (d->type == RF_INT) {
        set = *(const long *)field != 0;
        snprintf(text, sizeof text, "%ld", *(const long *)field);
    } else if (d->type == RF_DOUBLE) {
        set = *(const double *)field > 0;
        num_format(text, *(const double *)field);
    } else if (d->type == RF_HIDDEN) {
        int used = 0;
        for (int k = 0; k < f->n_hidden; k++)
            used += snprintf(text + used, sizeof text - (size_t)used, "%s%d", k ? "," : "",
                             f->hidden[k]);
    } else if (d->type == RF_POLICY) {
        controller_act_format(&f->act, text, sizeof text);
    }
    if (d->when == RF_IF_SET && !set) return;
    config_text_add(t, d->key, d->when == RF_FLAG_IF_SET && !set ? NULL : d->name, text);
}

void run_flags_settings(config_text *t, const run_flags *f) {
    /* always as keys, train_size and label_noise, so that a rerun or --resume
     * with another variant (or none) is told apart; on the command line only
     * when set (0: all) */
    for (int at = 1;; at++) {
        int k = 0;
        while (k < N_FLAGS && FLAGS[k].at != at) k++;
        if (k == N_FLAGS) return;
        put_setting(t, &FLAGS[k], f);
    }
}

void run_flags_setting(config_text *t, const run_flags *f, unsigned flag) {
    for (int k = 0; k < N_FLAGS; k++)
        if (FLAGS[k].group == flag && FLAGS[k].key && !FLAGS[k].at && FLAGS[k].when != RF_CHANGE)
            put_setting(t, &FLAGS[k], f);
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
