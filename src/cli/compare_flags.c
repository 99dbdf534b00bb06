#include "cli/compare_flags.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings/config_text.h"
#include "core/bytes.h"
#include "core/error.h"
#include "optim/optimizer.h"
#include "rl/controller_file.h"

/* alrs compare's own flags, each once: its name, value, field, bounds,
 * default, config.txt key and help. Parsing, the defaults, --help (and alrs
 * suite's share of it) and config.txt are all read from here; adding a flag is
 * one entry. The child-run flags are settings/run_flags.c's. */
typedef enum { FLAG_STRING, FLAG_INT, FLAG_SWITCH } flag_type;

typedef struct {
    const char *name;       /* --name */
    const char *value;      /* what --help shows after the name ("" for a switch) */
    flag_type type;
    size_t offset;          /* the field in compare_flags; NO_FIELD: read elsewhere */
    long min, max;          /* FLAG_INT's bounds */
    long def;               /* FLAG_INT's default */
    const char *def_text;   /* FLAG_STRING's default (NULL: none) */
    const char *def_help;   /* the default as --help words it, when the value alone does not say
                               it (NULL: "(default VALUE)" where there is one) */
    const char *config;     /* config.txt key (NULL: not part of the configuration) */
    int config_last;        /* written after the child-run flags' policy */
    const char *help;       /* lines separated by '\n'; the default is appended */
} flag_def;

#define NO_FIELD ((size_t)-1)
#define FIELD(m) offsetof(compare_flags, m)
#define DEFAULT_BASELINES "paper-grid,cosine,warmup-cosine,onecycle"

static const flag_def FLAGS[] = {
    {"controller", "PATH", FLAG_STRING, FIELD(controller), 0, 0, 0, NULL, NULL, "controller", 1,
     "a controller (alrs learn's controller.bin); optional"},
    {"baselines", "LIST", FLAG_STRING, FIELD(baselines_text), 0, 0, 0, DEFAULT_BASELINES, NULL,
     "baselines", 0,
     "comma-separated, from paper-grid, constant, exponential,\n"
     "cosine, warmup-cosine, warmup, linear, wsd, onecycle,\n"
     "plateau, schedulefree (its own optimizer:\n"
     "adamw-schedulefree), controller-default (--controller\n"
     "untuned at the default rate its file records); none: the\n"
     "controller alone. The controller's rows run with the\n"
     "optimizer it learned on (files before alrs 1.1 record\n"
     "none: --optimizer)"},
    {"rates", "LIST", FLAG_STRING, FIELD(rates_text), 0, 0, 0, "", NULL, "rates", 0,
     "the rate grid of the controller, constant, cosine,\n"
     "warm-up + cosine, warmup, linear, wsd and schedulefree,\n"
     "comma-separated, instead of r7 (1e-1, 3e-2, ..., 1e-4):\n"
     "a finer grid, the same for all of them"},
    {"seeds", "N", FLAG_INT, FIELD(seeds), 1, 100000, 5, NULL, NULL, "seeds", 0,
     "evaluation seeds per schedule"},
    {"seed-base", "S", FLAG_INT, FIELD(seed_base), 0, 0x7fffffffffffL, 1000, NULL, NULL,
     "seed_base", 0, "the evaluation seeds are S, S+1, ..."},
    {"tune-seed", "S", FLAG_INT, FIELD(tune_seed), 0, 0x7fffffffffffffffL, 999, NULL, NULL,
     "tune_seed", 0,
     "the first tuning seed; the others count down from it;\n"
     "none may be an evaluation seed"},
    {"tune-seeds", "N", FLAG_INT, FIELD(tune_seeds), 1, 100, 3, NULL, NULL, "tune_seeds", 0,
     "tuning seeds: every grid point runs on each, and the\n"
     "point with the lowest mean validation loss wins"},
    {"tune-budget", "K", FLAG_INT, FIELD(tune_budget), 1, BASELINE_MAX_POINTS, 12, NULL, NULL,
     "tune_budget", 0,
     "tuning runs per schedule: its grid, thinned to K\n"
     "points when larger"},
    {"threads-per-run", "T", FLAG_INT, FIELD(threads_per_run), 1, 4096, 1, NULL, NULL,
     "threads_per_run", 0, "OpenMP threads of each run's team"},
    {"concurrency", "N", FLAG_INT, FIELD(concurrency), 0, 4096, 0,
     NULL, "default: as many teams as the cores hold", NULL, 0, "runs at once"},
    {"out", "DIR", FLAG_STRING, FIELD(run.out), 0, 0, 0, NULL, NULL, NULL, 0,
     "results; rerunning the same command continues it"},
    {"shard", "I/N", FLAG_STRING, FIELD(shard_text), 0, 0, 0, NULL, NULL, NULL, 0,
     "run only runs j with j mod N = I of each phase, and stop\n"
     "when a phase is incomplete (Slurm job arrays: see\n"
     "scripts/slurm/compare)"},
    {"check", "", FLAG_SWITCH, NO_FIELD, 0, 0, 0, NULL, NULL, NULL, 0,
     "check the flags, the controller and the data files, run\n"
     "nothing, write nothing"},
};
#define N_FLAGS (int)(sizeof FLAGS / sizeof FLAGS[0])

enum { HELP_COLUMN = 32, HELP_WIDTH = 88 };

static void print_flag_help(FILE *out, const flag_def *d) {
    char head[64], def[128] = "";
    snprintf(head, sizeof head, "  --%s%s%s", d->name, d->value[0] ? " " : "", d->value);
    if (d->def_help) snprintf(def, sizeof def, "(%s)", d->def_help);
    else if (d->type == FLAG_INT) snprintf(def, sizeof def, "(default %ld)", d->def);
    else if (d->type == FLAG_STRING && d->def_text && d->def_text[0])
        snprintf(def, sizeof def, "(default %s)", d->def_text);
    fprintf(out, "%-*s", HELP_COLUMN, head);
    const char *p = d->help;
    while (1) {
        const char *end = strchr(p, '\n');
        int len = end ? (int)(end - p) : (int)strlen(p);
        fwrite(p, 1, (size_t)len, out);
        if (!end) {
            if (def[0] && HELP_COLUMN + len + 1 + (int)strlen(def) <= HELP_WIDTH)
                fprintf(out, " %s\n", def);
            else if (def[0]) fprintf(out, "\n%*s%s\n", HELP_COLUMN, "", def);
            else fputc('\n', out);
            return;
        }
        fprintf(out, "\n%*s", HELP_COLUMN, "");
        p = end + 1;
    }
}

static int listed(const char *name, const char *const *names) {
    for (; names && *names; names++)
        if (!strcmp(name, *names)) return 1;
    return 0;
}

void compare_flags_print_help(FILE *out, const char *const *skip) {
    for (int k = 0; k < N_FLAGS; k++)
        if (!listed(FLAGS[k].name, skip)) print_flag_help(out, &FLAGS[k]);
}

/* The defaults, then every flag given (a switch is read by the command). */
static int parse_table(args *a, compare_flags *f) {
    for (int k = 0; k < N_FLAGS; k++) {
        const flag_def *d = &FLAGS[k];
        if (d->offset == NO_FIELD) continue;
        char *field = (char *)f + d->offset;
        if (d->type == FLAG_INT) {
            *(long *)(void *)field = d->def;
            if (args_int(a, d->name, d->min, d->max, (long *)(void *)field) != 0) return -1;
        } else if (d->type == FLAG_STRING) {
            if (d->def_text) *(const char **)(void *)field = d->def_text;
            if (args_string(a, d->name, (const char **)(void *)field) != 0) return -1;
        }
    }
    return 0;
}

/* config.txt's entries of the table: the early ones, or those after policy. */
static void config_table(config_text *t, const compare_flags *f, int last) {
    for (int k = 0; k < N_FLAGS; k++) {
        const flag_def *d = &FLAGS[k];
        if (!d->config || d->config_last != last) continue;
        const char *field = (const char *)f + d->offset;
        if (d->type == FLAG_INT)
            config_text_int(t, d->config, d->name, *(const long *)(const void *)field);
        else {
            const char *v = *(const char *const *)(const void *)field;
            config_text_add(t, d->config, d->name, v ? v : "");
        }
    }
}

/* The controller's tuning grid may hold rates outside its bounds (r7 spans
 * 1e-4..1e-1): those runs start at the nearest bound, so their rows repeat the
 * bound's; say so once, rather than let tuning.csv suggest a rate it ran. */
static void note_grid_outside_bounds(const compare_flags *f, const controller *c) {
    grid_point g[BASELINE_MAX_POINTS];
    int n = baseline_grid("controller", f->run.steps, (int)f->tune_budget, NULL, f->rates,
                          f->n_rates, g), outside = 0;
    for (int k = 0; k < n; k++) outside += g[k].lr < c->iface.lr_min || g[k].lr > c->iface.lr_max;
    if (outside > 0)
        fprintf(stderr, "alrs: note: %d of the controller's %d tuning rates lie outside its bounds "
                        "[%g, %g] (%s): those runs start at the nearest bound\n",
                outside, n, c->iface.lr_min, c->iface.lr_max, f->controller);
}

int compare_flags_read_controller(compare_flags *f) {
    controller c;
    if (controller_file_load_fingerprint(&c, f->controller, &f->controller_crc,
                                         &f->controller_bytes) != 0)
        return -1;
    run_flags_warn_interval(&c, f->controller, f->run.eval_every);
    note_grid_outside_bounds(f, &c);
    /* always its own, so that config.txt's command (which spells --optimizer
     * out) repeats the same runs */
    snprintf(f->controller_optimizer, sizeof f->controller_optimizer, "%s", c.origin.optimizer);
    f->controller_default_lr = c.origin.default_lr;
    controller_free(&c);
    for (int k = 0; k < f->n_schedules; k++)
        if (!strcmp(f->schedules[k], "controller-default") && !(f->controller_default_lr > 0))
            return alrs_fail("--baselines %s: %s records no default rate (a controller file of "
                             "alrs learn before 1.1): tune it with the row controller",
                             f->baselines_text, f->controller);
    return 0;
}

/* A row that brings its own optimizer (schedulefree) needs it in this build:
 * refused here, before a run, rather than after the other rows' tuning. */
static int check_row_optimizer(const compare_flags *f, const char *name) {
    grid_point g;
    if (baseline_grid(name, 1000, 1, NULL, NULL, 0, &g) != 1 || !g.optimizer[0]) return 0;
    optimizer o;
    if (optimizer_init(&o, g.optimizer, 1) == 0) {
        optimizer_free(&o);
        return 0;
    }
    return alrs_fail("--baselines %s: %s trains with optimizer %s, which this build does not "
                     "have", f->baselines_text, name, g.optimizer);
}

static int add_schedule(compare_flags *f, const char *name, size_t len) {
    if (len == 0 || len >= sizeof f->names[0])
        return alrs_fail("--baselines %s: empty or over-long name", f->baselines_text);
    if (f->n_schedules == COMPARE_MAX_SCHEDULES)
        return alrs_fail("--baselines %s: too many schedules", f->baselines_text);
    char *slot = f->names[f->n_schedules];
    memcpy(slot, name, len);
    slot[len] = '\0';
    if (!strcmp(slot, "controller"))
        return alrs_fail("--baselines %s: the controller comes from --controller, not the list",
                         f->baselines_text);
    if (!strcmp(slot, "controller-default") && !f->controller)
        return alrs_fail("--baselines %s: controller-default needs --controller",
                         f->baselines_text);
    if (!baseline_known(slot)) return baseline_grid(slot, 1, 1, NULL, NULL, 0, NULL);
    for (int k = 0; k < f->n_schedules; k++)
        if (!strcmp(f->schedules[k], slot))
            return alrs_fail("--baselines %s: '%s' given twice", f->baselines_text, slot);
    if (check_row_optimizer(f, slot) != 0) return -1;
    f->schedules[f->n_schedules++] = slot;
    return 0;
}

/* --rates: positive finite numbers, comma-separated, each once. */
static int parse_rates(compare_flags *f) {
    const char *p = f->rates_text;
    f->n_rates = 0;
    while (*p) {
        char *end;
        double r = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !(r > 0 && r < 1e3))
            return alrs_fail("--rates %s: expected positive rates below 1000, comma-separated "
                             "(e.g. 3e-2,2e-2,1.4e-2,1e-2)", f->rates_text);
        if (f->n_rates == BASELINE_MAX_RATES)
            return alrs_fail("--rates %s: more than %d rates", f->rates_text, BASELINE_MAX_RATES);
        for (int i = 0; i < f->n_rates; i++)
            if (f->rates[i] == r) return alrs_fail("--rates %s: %g given twice", f->rates_text, r);
        f->rates[f->n_rates++] = r;
        p = *end ? end + 1 : end;
        if (*end && !*p) return alrs_fail("--rates %s: ends with a comma", f->rates_text);
    }
    return 0;
}

static int parse_shard(const char *text, compare_flags *f) {
    char *end;
    long i = strtol(text, &end, 10), n = *end == '/' ? strtol(end + 1, &end, 10) : 0;
    if (*end || n < 1 || i < 0 || i >= n)
        return alrs_fail("--shard %s: expected I/N with 0 <= I < N, e.g. 3/16", text);
    f->shard = i, f->shards = n;
    return 0;
}

static int parse_schedules(compare_flags *f) {
    f->n_schedules = 0;
    if (f->controller) {
        snprintf(f->names[0], sizeof f->names[0], "controller");
        f->schedules[f->n_schedules++] = f->names[0];
    }
    const char *p = f->baselines_text;
    if (!strcmp(p, "none")) { /* the controller alone (its figures to set beside others') */
        if (!f->controller) return alrs_fail("--baselines none: needs --controller");
        return 0;
    }
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (add_schedule(f, p, len) != 0) return -1;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

int compare_flags_parse(args *a, compare_flags *f) {
    memset(f, 0, sizeof *f);
    if (run_flags_parse(a, &f->run, RUN_FLAG_EVAL_EVERY | RUN_FLAG_POLICY | RUN_FLAG_DATA) != 0 ||
        run_flags_check_choices(&f->run) != 0)
        return -1;
    f->shard = 0, f->shards = 1;
    if (parse_table(a, f) != 0) return -1;
    if (!f->run.out) return alrs_fail("--out DIR is required (the directory of the results)");
    for (int k = 0; k < a->n; k++) {
        if (!strcmp(a->name[k], "lr"))
            return alrs_fail("--lr: alrs compare tunes every schedule's rate over its grid "
                             "(see --tune-budget); alrs train runs one rate");
        if (!strcmp(a->name[k], "threads"))
            return alrs_fail("--threads: alrs compare gives each run --threads-per-run threads "
                             "and runs --concurrency of them at once");
        if (!strcmp(a->name[k], "seed"))
            return alrs_fail("--seed: alrs compare runs seeds --seed-base .. --seed-base + "
                             "--seeds - 1");
    }
    long lowest = f->tune_seed - f->tune_seeds + 1;
    if (lowest < 0)
        return alrs_fail("--tune-seed %ld: the %ld tuning seeds count down from it and would go "
                         "below 0", f->tune_seed, f->tune_seeds);
    if (f->tune_seed >= f->seed_base && lowest < f->seed_base + f->seeds)
        return alrs_fail("--tune-seed %ld: tuning seeds %ld..%ld overlap the evaluation seeds "
                         "%ld..%ld; tuning must not see them", f->tune_seed, lowest, f->tune_seed,
                         f->seed_base, f->seed_base + f->seeds - 1);
    if (f->shard_text && parse_shard(f->shard_text, f) != 0) return -1;
    if (parse_rates(f) != 0) return -1;
    return parse_schedules(f);
}

char *compare_flags_config_text(const compare_flags *f) {
    const run_flags *r = &f->run;
    config_text t;
    char buf[64];
    config_text_begin(&t, "alrs compare");
    run_flags_settings(&t, r);
    config_text_int(&t, "eval_every", "eval-every", r->eval_every);
    config_table(&t, f, 0);
    controller_act_format(&r->act, buf, sizeof buf);
    config_text_add(&t, "policy", "policy", buf);
    config_table(&t, f, 1);
    config_text_int(&t, "controller_bytes", NULL, f->controller_bytes);
    snprintf(buf, sizeof buf, "%08lx", f->controller_crc);
    config_text_add(&t, "controller_crc32", NULL, buf);
    if (f->controller_optimizer[0]) /* absent before controllers recorded theirs */
        config_text_add(&t, "controller_optimizer", NULL, f->controller_optimizer);
    return config_text_finish(&t, "alrs compare configuration: every value resolved; rerunning "
                                  "the command continues the comparison in DIR.");
}

phase_setup compare_flags_setup(const compare_flags *f, long steps) {
    /* older controller files name no optimizer: the run's */
    const char *own = f->controller_optimizer[0] ? f->controller_optimizer : NULL;
    baseline_controller ctl = {f->controller, f->controller_default_lr, own};
    phase_setup ps = {f->schedules, f->n_schedules, steps, (int)f->tune_budget, ctl,
                     f->rates, f->n_rates, f->tune_seeds, f->tune_seed, f->seeds, f->seed_base};
    return ps;
}
