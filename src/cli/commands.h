/* The alrs subcommands. Each takes the arguments after its name, prints its
 * own errors as one line on stderr, and returns the process exit code. */
#ifndef ALRS_CLI_COMMANDS_H
#define ALRS_CLI_COMMANDS_H

int cmd_train(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_learn(int argc, char **argv);
int cmd_compare(int argc, char **argv);
/* alrs bench rollout (cli/cmd_bench_rollout.c). */
int bench_rollout(int argc, char **argv);
/* alrs bench all (cli/cmd_bench_all.c). */
int bench_all(int argc, char **argv);

/* Prints "alrs: <message>" for the last recorded error; returns 1 (or 2 for usage errors). */
int cli_report_error(void);

#endif
