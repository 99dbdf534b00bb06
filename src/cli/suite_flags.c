#include "cli/suite_flags.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/numfmt.h"
#include "core/version.h"

/* alrs suite's own flags, each once: its name, value, the path it fills, the
 * words when it is missing and its help; and the two of alrs compare's that
 * the suite words its own way (--baselines: the tuned track) or refuses
 * (--controller). Parsing, the required-flag messages and --help are read
 * from here; compare's --help lines of these are left out of the suite's.
 * Every other flag is compare's (cli/compare_flags.c) or a child-run flag. */
typedef struct {
    const char *name, *value;
    size_t offset;         /* the path in suite_flags (NO_PATH: compare reads it) */
    const char *required;  /* why it is needed, when it is missing (NULL: optional) */
    const char *refused;   /* why the suite does not take it (NULL: it does) */
    const char *help;      /* as args_print_help takes it, "{}": SUITE_DEFAULT_TUNED */
} suite_flag_def;

#define NO_PATH ((size_t)-1)
enum { TASKS, METHODS, BASELINES, CONTROLLER, N_SUITE_FLAGS };

static const suite_flag_def SUITE_FLAGS[N_SUITE_FLAGS] = {
    [TASKS] = {"tasks", "FILE", offsetof(suite_flags, tasks_path), "a task suite: docs/TASKS.md",
               NULL,
               "the task suite: one task a line, NAME key=value ...\n"
               "(docs/TASKS.md; suites/heldout.txt)"},
    [METHODS] = {"methods", "FILE", offsetof(suite_flags, methods_path),
                 "the self-tuning track: docs/TASKS.md", NULL,
                 "the self-tuning track: one method a line, NAME\n"
                 "optimizer=X schedule=SPEC lr=X, or NAME controller=PATH\n"
                 "[lr=X] (suites/self-tuning.txt)"},
    [BASELINES] = {"baselines", "LIST", NO_PATH, NULL, NULL,
                   "the tuned track: schedules tuned per task on their grids\n"
                   "over the tuning seeds (default {});\n"
                   "none: the self-tuning track alone"},
    [CONTROLLER] = {"controller", "PATH", NO_PATH, NULL,
                    "a suite's controllers are methods (NAME controller=PATH in --methods)",
                    NULL},
};

void suite_flags_print_help(FILE *out) {
    const char *worded_here[N_SUITE_FLAGS + 1] = {NULL};
    for (int k = 0; k < N_SUITE_FLAGS; k++) {
        const suite_flag_def *d = &SUITE_FLAGS[k];
        worded_here[k] = d->name;
        if (!d->help) continue;
        char head[64];
        snprintf(head, sizeof head, "  --%s %s", d->name, d->value);
        args_print_help(out, head, d->help, SUITE_DEFAULT_TUNED);
    }
    fputs("Tuning, seeds and runs as alrs compare:\n", out);
    compare_flags_print_help(out, worded_here); /* but those the suite words its own way */
    fputs("Every task starts from these child-run flags; its own keys override them:\n", out);
    run_flags_print_help(out, RUN_FLAG_POLICY);
}

/* The command line, with the suite's default tuned track unless --baselines is given. */
static int parse_command_line(int argc, char **argv, suite_flags *f) {
    if (args_parse(&f->cmdline, argc, argv) != 0) return -1;
    args a = f->cmdline;
    const char *baselines = SUITE_FLAGS[BASELINES].name;
    int given = 0, none = 0;
    for (int k = 0; k < a.n; k++) {
        if (!strcmp(a.name[k], baselines) && a.value[k] && !strcmp(a.value[k], "none")) {
            a.value[k] = SUITE_DEFAULT_TUNED; /* compare's "none" means its controller alone */
            none = 1;
        }
        given |= !strcmp(a.name[k], baselines);
        for (int i = 0; i < N_SUITE_FLAGS; i++)
            if (SUITE_FLAGS[i].refused && !strcmp(a.name[k], SUITE_FLAGS[i].name))
                return alrs_fail("--%s: %s", a.name[k], SUITE_FLAGS[i].refused);
    }
    if (!given) {
        if (a.n == ARGS_MAX) return alrs_fail("too many flags");
        a.name[a.n] = baselines, a.value[a.n++] = SUITE_DEFAULT_TUNED;
    }
    if (compare_flags_parse(&a, &f->cmp) != 0) return -1;
    for (int k = 0; k < N_SUITE_FLAGS; k++)
        if (SUITE_FLAGS[k].offset != NO_PATH &&
            args_string(&a, SUITE_FLAGS[k].name,
                        (const char **)(void *)((char *)f + SUITE_FLAGS[k].offset)) != 0)
            return -1;
    if (none) f->cmp.n_schedules = 0, f->cmp.baselines_text = "none"; /* self-tuning alone */
    if (args_switch(&a, "check") < 0 || args_check_unused(&a) != 0) return -1;
    for (int k = 0; k < N_SUITE_FLAGS; k++) {
        const suite_flag_def *d = &SUITE_FLAGS[k];
        if (d->required && !*(const char *const *)(const void *)((const char *)f + d->offset))
            return alrs_fail("--%s %s is required (%s)", d->name, d->value, d->required);
    }
    return 0;
}

int suite_is_tuned(const suite_flags *f, const char *name) {
    for (int k = 0; k < f->cmp.n_schedules; k++)
        if (!strcmp(f->cmp.schedules[k], name)) return 1;
    return 0;
}

/* Every method on every task, resolved now: a misfit stops the suite before it writes. */
static int resolve_points(suite_flags *f) {
    f->points = alrs_calloc((size_t)(f->n_tasks * f->n_methods), sizeof *f->points);
    for (int m = 0; m < f->n_methods; m++) {
        if (suite_is_tuned(f, f->methods[m].name))
            return alrs_fail("%s:%d: method %s: the tuned track (--baselines) has a schedule of "
                             "that name; rename the method", f->methods_path,
                             f->methods[m].line, f->methods[m].name);
        for (int t = 0; t < f->n_tasks; t++)
            if (suite_method_point(&f->methods[m], &f->tasks[t], f->methods_path,
                                   &f->points[t * f->n_methods + m]) != 0)
                return -1;
    }
    return 0;
}

int suite_flags_parse(int argc, char **argv, suite_flags *f) {
    memset(f, 0, sizeof *f);
    if (parse_command_line(argc, argv, f) != 0) return -1;
    int rc = suite_file_read(&f->task_file, f->tasks_path, "task");
    if (rc == 0) rc = suite_file_read(&f->method_file, f->methods_path, "method");
    if (rc != 0) return rc;
    f->n_tasks = f->task_file.n, f->n_methods = f->method_file.n;
    f->tasks = alrs_calloc((size_t)f->n_tasks, sizeof *f->tasks);
    f->methods = alrs_calloc((size_t)f->n_methods, sizeof *f->methods);
    if (suite_tasks_resolve(&f->task_file, &f->cmdline, f->tasks) != 0) return -1;
    if ((rc = suite_methods_resolve(&f->method_file, f->methods)) != 0) return rc;
    return resolve_points(f);
}

void suite_flags_free(suite_flags *f) {
    suite_file_free(&f->task_file);
    suite_file_free(&f->method_file);
    free(f->tasks), free(f->methods), free(f->points);
    memset(f, 0, sizeof *f);
}

/* A path as a shell word: quoted unless it is plain. */
static void shell_word(FILE *out, const char *s) {
    if (s[0] && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-+,=:")
                    == strlen(s)) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (; *s; s++)
        if (*s == '\'') fputs("'\\''", out);
        else fputc(*s, out);
    fputc('\'', out);
}

/* compare's configuration (every tuned-track setting, seeds, threads) with
 * the suite's command, then each task and method resolved. */
char *suite_flags_config_text(const suite_flags *f) {
    char *shared = compare_flags_config_text(&f->cmp);
    const char *cmd = strstr(shared, "\ncommand=alrs compare");
    const char *rest = cmd ? cmd + strlen("\ncommand=alrs compare") : "";
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    if (!out) alrs_panic("out of memory");
    fprintf(out, "# alrs suite configuration: every task and method resolved; rerunning the "
                 "command continues it in DIR.\n# written by alrs %s\ncommand=alrs suite --tasks ",
            alrs_version_text());
    shell_word(out, f->tasks_path);
    fputs(" --methods ", out);
    shell_word(out, f->methods_path);
    fputs(rest, out); /* compare's flags and keys */
    fprintf(out, "tasks_file=%s\nmethods_file=%s\n", f->tasks_path, f->methods_path);
    char buf[SCHEDULE_SPEC_MAX + 512];
    for (int i = 0; i < f->n_tasks; i++) {
        suite_task_describe(&f->tasks[i], buf, sizeof buf);
        fprintf(out, "task.%s=%s\n", f->tasks[i].name, buf);
    }
    for (int m = 0; m < f->n_methods; m++) {
        const suite_method *me = &f->methods[m];
        char lr[NUM_TEXT];
        fprintf(out, "method.%s=optimizer=%s %s%s lr=%s crc32=%08lx\n", me->name,
                me->optimizer ? me->optimizer : "(task's)",
                me->controller ? "controller=" : "schedule=",
                me->controller ? me->controller : me->schedule, num_format(lr, me->lr),
                me->controller_crc);
    }
    fclose(out);
    free(shared);
    return text;
}
