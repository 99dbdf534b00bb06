/* alrs bench all: the whole suite's speed on this node in one CSV.
 *
 * For each model: training throughput (steps/s, images/s, GFLOP/s, fraction
 * of the measured FMA peak) at each thread count, and rollout throughput
 * (episodes per hour) for each layout of environments x threads per
 * environment. Each measurement runs as its own `alrs bench train|rollout`
 * process (this program, /proc/self/exe), so that its peak resident memory
 * (wait4's ru_maxrss) is that model's alone and nothing one measurement
 * allocated or warmed up flatters the next. The measuring is
 * bench/bench_all.c's; here the flags, the lists and the CSV. */
#include <stdio.h>
#include <string.h>

#include "bench/bench_all.h"
#include "cli/commands.h"
#include "report/machine.h"
#include "settings/args.h"

static const char bench_all_help[] =
    "usage: alrs bench all [--models LIST] [--threads LIST] [--layouts LIST]\n"
    "Measures, for each model (default mlp,lenet5,resnet18): training throughput with\n"
    "the native and dnnl backends at each thread count (default 1 and all cores), and\n"
    "rollout episodes per hour for each layout ExT (default 1x1,2x1,1x2 on 2 cores);\n"
    "prints one CSV with the machine's description as '#' lines and each measurement's\n"
    "peak resident memory. Episodes: 200 steps of batch 128 with a 2000-image\n"
    "validation every 10 (resnet18: 20 steps of batch 32, 200 images every 10).\n"
    "  --data-dir DIR   Fashion-MNIST files for the rollouts (default: Debian's)\n"
    "  --val-split N    validation images held out of them (default 10000)\n";

/* The measurements run this program again. */
#define SELF "/proc/self/exe"

/* A row at once: the measurements take minutes, a pipe shows each as it ends. */
static void print_row(const char *row) {
    printf("%s\n", row);
    fflush(stdout);
}

/* Splits a comma list in place. */
static int split(char *s, char **out, int max) {
    int n = 0;
    for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ",")) out[n++] = t;
    return n;
}

int cmd_bench_all(int argc, char **argv) {
    if (args_wants_help(argc, argv)) {
        fputs(bench_all_help, stdout);
        return 0;
    }
    args a;
    const char *models = "mlp,lenet5,resnet18", *threads = NULL, *layouts = NULL;
    const char *data_dir = NULL, *val_split = NULL;
    if (args_parse(&a, argc, argv) != 0 || args_string(&a, "models", &models) != 0 ||
        args_string(&a, "threads", &threads) != 0 || args_string(&a, "layouts", &layouts) != 0 ||
        args_string(&a, "data-dir", &data_dir) != 0 ||
        args_string(&a, "val-split", &val_split) != 0 || args_check_unused(&a) != 0)
        return cli_usage_error();
    machine_info m;
    int have = machine_info_get(&m) == 0;
    char default_threads[32], default_layouts[64];
    int cores = have && m.cores > 0 ? m.cores : 1;
    snprintf(default_threads, sizeof default_threads, cores > 1 ? "1,%d" : "1", cores);
    snprintf(default_layouts, sizeof default_layouts, "1x1,%dx1,1x%d", cores, cores);
    char mbuf[256], tbuf[256], lbuf[256], *ms[8], *ts[16], *ls[16];
    snprintf(mbuf, sizeof mbuf, "%s", models);
    snprintf(tbuf, sizeof tbuf, "%s", threads ? threads : default_threads);
    snprintf(lbuf, sizeof lbuf, "%s", layouts ? layouts : default_layouts);
    int nm = split(mbuf, ms, 8), nt = split(tbuf, ts, 16), nl = split(lbuf, ls, 16);
    if (have) machine_info_csv_comment(&m, stdout);
    print_row(bench_all_header);
    static const char *const backends[] = {"native", "dnnl"};
    char row[1024];
    for (int i = 0; i < nm; i++) {
        for (int j = 0; j < nt; j++)
            for (int b = 0; b < 2; b++) {
                if (bench_all_train_row(SELF, ms[i], backends[b], ts[j], row, sizeof row) != 0)
                    return cli_report_error();
                print_row(row);
            }
        for (int j = 0; j < nl; j++) {
            if (bench_all_rollout_row(SELF, ms[i], ls[j], data_dir, val_split, row,
                                      sizeof row) != 0)
                return cli_report_error();
            print_row(row);
        }
    }
    return 0;
}
