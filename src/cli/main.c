/* The alrs program: dispatches to a subcommand. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/float_env.h"
#include "core/interrupt.h"
#include "core/error.h"
#include "core/version.h"
#include "dist/dist.h"

static void usage(FILE *out) {
    fputs("usage: alrs <command> [flags]\n"
          "commands:\n"
          "  train   train one child network with a schedule (or a learned controller)\n"
          "  learn   learn a learning-rate controller with PPO over parallel child runs\n"
          "  compare run learned and hand-made schedules over seeds; tables and CSVs\n"
          "  suite   every method on every task of a suite, tuned and self-tuning tracks\n"
          "  bench   measure throughput: alrs bench train | rollout | all\n"
          "  tune    measure the default backend plan for a network on this machine\n"
          "  info    show the CPU, ISA, topology, oneDNN version and threads\n"
          "Run 'alrs help <command>' (or 'alrs <command> --help') for its flags;\n"
          "'alrs --version' for the version.\n",
          out);
}

static int run_command(const char *cmd, int argc, char **argv);

/* `alrs help CMD` is `alrs CMD --help`; `alrs help` the command list. */
static int help(int argc, char **argv) {
    if (argc < 1) {
        usage(stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "alrs: help: one command at a time (got '%s' and '%s')\n", argv[0],
                argv[1]);
        return 2;
    }
    char flag[] = "--help", *args[] = {flag, NULL};
    return run_command(argv[0], 1, args);
}

/* The command's exit status (2, with a message, when `cmd` is not one). */
static int run_command(const char *cmd, int argc, char **argv) {
    if (!strcmp(cmd, "train")) return cmd_train(argc, argv);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc, argv);
    if (!strcmp(cmd, "learn")) return cmd_learn(argc, argv);
    if (!strcmp(cmd, "compare")) return cmd_compare(argc, argv);
    if (!strcmp(cmd, "suite")) return cmd_suite(argc, argv);
    if (!strcmp(cmd, "info")) return cmd_info(argc, argv);
    if (!strcmp(cmd, "tune")) return cmd_tune(argc, argv);
    fprintf(stderr, "alrs: unknown command '%s' (expected train, learn, compare, suite, bench, tune or info)\n", cmd);
    return 2;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    /* Past a file-size limit (ulimit -f) a write should fail with EFBIG, which
     * the atomic writers report and clean up after, not kill the process and
     * leave a temporary file behind. */
    signal(SIGXFSZ, SIG_IGN);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version")) {
        printf("alrs %s\n", alrs_version_text());
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "help")) return help(argc - 2, argv + 2);
    return run_command(cmd, argc - 2, argv + 2);
}

/* Under mpirun (or srun) every rank runs the command; run/dist.h. */
int main(int argc, char **argv) {
    interrupt_init(); /* before MPI or OpenMP start threads */
    float_env_flush_subnormals(); /* inherited by every thread (core/float_env.h) */
    if (dist_init(&argc, &argv) != 0) {
        fprintf(stderr, "alrs: %s\n", alrs_error());
        return 1;
    }
    int rc = dispatch(argc, argv);
    interrupt_reset();
    dist_finalize();
    return rc;
}
