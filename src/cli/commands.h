/* The alrs subcommands. Each takes the arguments after its name, prints its
 * own errors as one line on stderr, and returns the process exit code. */
#ifndef ALRS_CLI_COMMANDS_H
#define ALRS_CLI_COMMANDS_H

int cmd_train(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_suite(int argc, char **argv);
int cmd_tune(int argc, char **argv);
/* alrs bench rollout (cli/cmd_bench_rollout.c). */
int cmd_bench_rollout(int argc, char **argv);
/* alrs bench layers (cli/cmd_bench_layers.c). */
int cmd_bench_layers(int argc, char **argv);
/* alrs bench all (cli/cmd_bench_all.c). */
int cmd_bench_all(int argc, char **argv);

/* Prints "alrs: <message>" for the last recorded error and returns the exit
 * status: 1 for a failure at run time (a data file, a checkpoint, a disk),
 * cli_usage_error 2 for a command line that cannot run (a flag, a value, a
 * spec). */
int cli_report_error(void);
int cli_usage_error(void);

#endif
