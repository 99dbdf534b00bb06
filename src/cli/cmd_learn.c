/* alrs learn: trains a controller with PPO over batches of child runs. The
 * flags, --help and --check are here; the learning loop is run/learn.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "settings/learn_flags.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/fileio.h"
#include "core/timer.h"
#include "dist/dist.h"
#include "run/learn.h"

static const char learn_help[] =
    "usage: alrs learn --out DIR [flags]\n"
    "Learns a learning-rate controller with PPO: each update runs --envs child runs\n"
    "(episodes) at once on pinned thread teams, then one PPO update. Writes DIR/\n"
    "controller.bin (after every update), episodes.csv, updates.csv, config.txt and\n"
    "traces/episode-N.csv for chosen episodes.\n"
    "Under MPI (mpirun -np R alrs learn ...) --envs counts the environments of all\n"
    "R ranks, each rank runs its contiguous share on teams within its own cores,\n"
    "and rank 0 alone holds the controller and writes DIR: the same seed and --envs\n"
    "give the same files as one process. --concurrency then counts per rank.\n";

/* --check: a batch job checks its command before it is submitted; -1 for a
 * bad command line, -2 for data that does not load. */
static int check_only(learn_flags *f) {
    f->env.child = run_flags_child(&f->run);
    f->env.child.val_size = 1; /* the real size needs the data; any valid one will do */
    if (lr_env_config_check(&f->env) != 0) return -1;
    if (!f->tasks.path) return run_flags_check_data(&f->run, "learn") == 0 ? 0 : -2;
    if (learn_tasks_load(&f->tasks) != 0) return -2;
    f->env.tasks = f->tasks.env_tasks, f->env.n_tasks = f->tasks.n;
    if (lr_env_config_check(&f->env) != 0) return -1;
    printf("alrs learn: %d tasks on %d data sets: the flags and files are good (--check: nothing "
           "run, nothing written)\n", f->tasks.n, f->tasks.n_sets);
    return 0;
}

int cmd_learn(int argc, char **argv) {
    if (args_wants_help(argc, argv)) {
        if (dist_rank() == 0) {
            fputs(learn_help, stdout);
            learn_flags_print_help(stdout, LEARN_CMD_LEARN);
            run_flags_print_help(stdout, RUN_FLAG_SEED | RUN_FLAG_DATA);
        }
        return 0;
    }
    args a;
    learn_flags f;
    memset(&f, 0, sizeof f);
    int check = 0;
    /* every rank parses the same flags and agrees on every later failure:
     * rank 0 alone prints the message */
    int rc = args_parse(&a, argc, argv);
    if (rc == 0) rc = learn_flags_parse(&a, &f);
    if (rc == 0 && ((check = args_switch(&a, "check")) < 0 || args_check_unused(&a) != 0)) rc = -1;
    if (rc == 0 && !f.run.out) rc = alrs_fail("--out DIR is required (the run directory to write)");
    /* the environment's settings (a --base that does not parse, ...) are
     * command-line errors too; the child's sizes need the data (run/learn.c) */
    if (rc == 0) rc = lr_env_config_check(&f.env);
    if (rc == 0 && check) rc = check_only(&f);
    else if (rc == 0) {
        omp_set_max_active_levels(2);
        interrupt_install(dist_rank() == 0);
        rc = learn_run(&f) == 0 ? 0 : -2; /* a failure at run time */
    }
    learn_flags_free(&f);
    if (rc == 0) return 0;
    if (rc == -2) return dist_rank() == 0 ? cli_report_error() : 1;
    return dist_rank() == 0 ? cli_usage_error() : 2;
}
