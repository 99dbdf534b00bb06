/* Command-line flags: "--name value" pairs (or "--name=value") and bare
 * switches ("--resume"). A flag given twice takes its last value, as most
 * CLIs do, so that a script's "$COMMON --steps 2000" overrides $COMMON. Each
 * getter checks the value and, on a bad one, records a message naming the
 * flag, e.g. "--steps: expected a positive integer, got 'abc'". Unknown flags
 * are reported by args_check_unused(). */
#ifndef ALRS_SETTINGS_ARGS_H
#define ALRS_SETTINGS_ARGS_H

#include <stdio.h>

#define ARGS_MAX 64

#define ARGS_KNOWN_MAX 160
typedef struct {
    int n;
    const char *name[ARGS_MAX];  /* without the leading "--" */
    const char *value[ARGS_MAX]; /* NULL for a bare switch */
    int used[ARGS_MAX];
    /* every flag name a getter asked for, given or not: the command's flags,
     * from which args_check_unused suggests the one a typo meant */
    int n_known;
    const char *known[ARGS_KNOWN_MAX];
} args;

/* Splits argv (after the subcommand) into flags; -1 on a stray positional word. */
int args_parse(args *a, int argc, char **argv);
/* 1 when --help or -h is anywhere among the arguments: the command prints its
 * help and exits 0, whatever else is there. */
int args_wants_help(int argc, char **argv);
/* Each returns 0 and fills *out (left unchanged when the flag is absent), or -1. */
int args_string(args *a, const char *name, const char **out);
int args_int(args *a, const char *name, long min, long max, long *out);
int args_double(args *a, const char *name, double min, double max, double *out);
/* A comma-separated list of 1..max_n numbers, each within [min, max], into
 * out; *n_out gets the count (unchanged when the flag is absent). */
int args_doubles(args *a, const char *name, double min, double max, double *out, int max_n,
                 int *n_out);
/* 1 if the bare switch is present, 0 if absent, -1 if given a value. */
int args_switch(args *a, const char *name);
/* 1 if --name is on the command line (with a value or not), else 0; it
 * neither reads nor marks it (its getter does). */
int args_given(const args *a, const char *name);
/* One flag's lines of --help: `head` ("  --name VALUE", or several such),
 * padded to column 32 (one space after a longer one), then `help`, whose
 * lines ('\n' between them) start at that column; a '\n' first puts it all
 * below the head. "{}" in help stands for `def`. */
void args_print_help(FILE *out, const char *head, const char *help, const char *def);
/* -1 naming the first flag no getter asked for, with "did you mean --X?"
 * when a flag the getters asked for is a small edit away. */
int args_check_unused(const args *a);

#endif
