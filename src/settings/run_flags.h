/* The flags shared by every command that trains child networks (train,
 * bench train, and later learn and compare), with their defaults. */
#ifndef ALRS_SETTINGS_RUN_FLAGS_H
#define ALRS_SETTINGS_RUN_FLAGS_H

#include <stdio.h>

#include "settings/args.h"
#include "rl/controller.h"
#include "child/child.h"
#include "data/dataset.h"

typedef struct {
    const char *model, *dataset, *data_dir, *optimizer, *schedule, *out, *backend, *plan;
    long steps, batch, eval_every, val_size, val_split, eval_batch, threads, test_size;
    long seed, split_seed;
    double lr;
    data_variant variant; /* --label-noise, --train-size (RUN_FLAG_DATA) */
    data_change change;   /* --change-at, --change-label-noise (RUN_FLAG_CHANGE) */
    int lr_given;        /* --lr was on the command line */
    int optimizer_given; /* --optimizer was */
    int hidden[NN_MAX_HIDDEN], n_hidden;
    controller_act act; /* --policy: how a controller schedule acts (mode) */
} run_flags;

/* The keys config.txt gained after directories were first written, with the
 * value a directory written before means ("train_size=0": the whole split),
 * so that such a directory continues (config_first_difference's `absent`);
 * NULL-terminated, read from the flag table. */
const char *const *run_flags_added_keys(void);

/* The run-level flags a command may take besides the child's. */
enum {
    RUN_FLAG_LR = 1,
    RUN_FLAG_EVAL_EVERY = 2,
    RUN_FLAG_THREADS = 4,
    RUN_FLAG_SEED = 8,
    RUN_FLAG_POLICY = 16,
    RUN_FLAG_DATA = 32, /* the training split's variant: --label-noise, --train-size */
    RUN_FLAG_CHANGE = 64 /* a mid-run change: --change-at, --change-label-noise (alrs train) */
};
#define RUN_FLAGS_ALL 127

/* Fills defaults, then reads the child's flags and the run-level ones in
 * `flags`; -1 with a message naming the flag on a bad value. */
int run_flags_parse(args *a, run_flags *f, unsigned flags);
/* The child configuration these flags describe. */
/* A command-line error (-1 with the message) for a data set or optimizer
 * alrs does not know, or a data set without a default directory given no
 * --data-dir: checked with the flags, so it exits 2 before anything is read. */
int run_flags_check_choices(const run_flags *f);
child_config run_flags_child(const run_flags *f);
/* " --hidden A,B,C" when the flags set hidden sizes (for a command line). */
void run_flags_print_hidden(const run_flags *f, FILE *out);
/* The child-run settings (model, hidden sizes, data, split, its variant,
 * steps, batch, evaluation chunk and size, optimizer, backend) into a
 * config.txt; each
 * command adds its own (schedule, ...) and the run-level flags it takes
 * (run_flags_setting), where it writes them. */
struct config_text;
void run_flags_settings(struct config_text *t, const run_flags *f);
/* The config.txt key (and flag) of the run-level flag `flag` (one RUN_FLAG_:
 * lr, eval_every, threads, seed or policy), where the command writes it. */
void run_flags_setting(struct config_text *t, const run_flags *f, unsigned flag);
/* A controller learned to act every K child steps; a run that makes it act
 * every `eval_every` steps (K differs) gets a warning line on stderr. */
void run_flags_warn_interval(const controller *c, const char *path, long eval_every);
/* Loads the data set the flags name and applies their variant of the
 * training split; -1 with a message naming the file or flag at fault. */
int run_flags_load_data(const run_flags *f, dataset *d);
/* --check: the data files load (nothing is written); then "alrs COMMAND:
 * the flags and files are good" on stdout. -1 with the data's message. */
int run_flags_check_data(const run_flags *f, const char *command);
/* More threads than the cores this process may use: a warning line (they
 * would only take turns, many times slower). */
void run_flags_warn_threads(const run_flags *f);
/* The help of the child's flags and the run-level flags in `flags`, then
 * --help's, each flag once. */
void run_flags_print_help(FILE *out, unsigned flags);
/* The short helps of commands that take the child's flags for a network's
 * shape alone (alrs tune, alrs bench layers): the flags each lists. */
enum { RUN_HELP_TUNE = 1, RUN_HELP_LAYERS = 2 };
/* The help lines of the flags in the short help `shown` (RUN_HELP_...). */
void run_flags_print_short_help(FILE *out, unsigned shown);

/* The data set whose image shape the synthetic data of bench and tune take:
 * `dataset` as given (NULL: cifar10 for resnet18, else fashion-mnist), into
 * f->dataset, and its channels and side. -1 with a message for another. */
int run_flags_synthetic_shape(run_flags *f, const char *dataset, int *channels, int *side);

#endif
