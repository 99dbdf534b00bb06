/* alrs tune: measures the backend choice of --backend plan (the default) for
 * a network, batch and thread count on this machine and records it in the
 * plan file, replacing an earlier entry of the same key. Runs measure a
 * missing entry by themselves; tune is for measuring again (after a kernel
 * change, or on a quiet machine) and for filling the file before a batch of
 * jobs. The measuring is bench/bench_tune.c's; here the flags and the line
 * printed. */
#include <omp.h>
#include <stdio.h>

#include "bench/bench_tune.h"
#include "cli/commands.h"
#include "settings/args.h"
#include "settings/run_flags.h"

static const char tune_help[] =
    "usage: alrs tune [--model M] [--dataset D] [--batch N] [--threads N] [--plan FILE]\n"
    "Measures which implementation trains the network fastest on this machine (per conv\n"
    "and fc layer native or oneDNN, or the whole oneDNN net: --backend auto's choice) and\n"
    "records it in the plan file that --backend plan (the default of every run) reads,\n"
    "replacing an entry of the same machine, network, batch, threads and alrs version.\n"
    "Runs measure a missing entry themselves; tune measures again (on a quiet machine,\n"
    "after an upgrade) or fills the file before a batch of jobs. Prints the entry.\n";
/* Its own flags, after the child-run flags' lines (settings/run_flags.c) it lists. */
static const char tune_help_own[] =
    "  --dataset D                   the image shape: fashion-mnist, mnist (1x28x28) or\n"
    "                                cifar10 (3x32x32); default cifar10 for resnet18\n";

int cmd_tune(int argc, char **argv) {
    if (args_wants_help(argc, argv)) {
        fputs(tune_help, stdout);
        run_flags_print_short_help(stdout, RUN_HELP_TUNE);
        fputs(tune_help_own, stdout);
        return 0;
    }
    args a;
    run_flags f;
    const char *dataset = NULL;
    if (args_parse(&a, argc, argv) != 0 || args_string(&a, "dataset", &dataset) != 0 ||
        run_flags_parse(&a, &f, RUN_FLAG_THREADS | RUN_FLAG_SEED) != 0 ||
        args_check_unused(&a) != 0)
        return cli_usage_error();
    int channels, side;
    if (run_flags_synthetic_shape(&f, dataset, &channels, &side) != 0) return cli_usage_error();
    omp_set_num_threads(f.threads ? (int)f.threads : omp_get_num_procs());
    bench_tune_entry e;
    if (bench_tune(&f, channels, side, &e) != 0) return cli_report_error();
    printf("%s: %s choice=%s\n", e.path, e.key, e.choice);
    return 0;
}
