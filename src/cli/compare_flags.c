#include "cli/compare_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings/config_text.h"
#include "core/bytes.h"
#include "core/error.h"
#include "optim/optimizer.h"
#include "rl/controller_file.h"

const char compare_flags_help[] =
    "  --controller PATH             a controller (alrs learn's controller.bin); optional\n"
    "  --baselines LIST              comma-separated, from paper-grid, constant, exponential,\n"
    "                                cosine, warmup-cosine, warmup, linear, wsd, onecycle,\n"
    "                                plateau, schedulefree (its own optimizer:\n"
    "                                adamw-schedulefree)\n"
    "                                (default paper-grid,cosine,warmup-cosine,onecycle);\n"
    "                                none: the controller alone\n"
    "  --rates LIST                  the rate grid of the controller, constant, cosine,\n"
    "                                warm-up + cosine, warmup, linear, wsd and schedulefree,\n"
    "                                comma-separated, instead of r7 (1e-1, 3e-2, ..., 1e-4):\n"
    "                                a finer grid, the same for all of them\n"
    "  --seeds N                     evaluation seeds per schedule (default 5)\n"
    "  --seed-base S                 the evaluation seeds are S, S+1, ... (default 1000)\n"
    "  --tune-seed S                 the first tuning seed (default 999); the others count\n"
    "                                down from it; none may be an evaluation seed\n"
    "  --tune-seeds N                tuning seeds: every grid point runs on each, and the\n"
    "                                point with the lowest mean validation loss wins\n"
    "                                (default 3)\n"
    "  --tune-budget K               tuning runs per schedule: its grid, thinned to K\n"
    "                                points when larger (default 12)\n"
    "  --threads-per-run T           OpenMP threads of each run's team (default 1)\n"
    "  --concurrency N               runs at once (default: as many teams as the cores hold)\n"
    "  --out DIR                     results; rerunning the same command continues it\n"
    "  --shard I/N                   run only runs j with j mod N = I of each phase, and stop\n"
    "                                when a phase is incomplete (Slurm job arrays: see\n"
    "                                scripts/slurm/compare)\n"
    "  --check                       check the flags, the controller and the data files, run\n"
    "                                nothing, write nothing\n";

int compare_flags_read_controller(compare_flags *f) {
    controller c;
    if (controller_file_load(&c, f->controller) != 0) return -1;
    run_flags_warn_interval(&c, f->controller, f->run.eval_every);
    controller_free(&c);
    if (file_crc32(f->controller, &f->controller_crc, &f->controller_bytes) != 0)
        return alrs_fail_context("--controller");
    return 0;
}

/* A row that brings its own optimizer (schedulefree) needs it in this build:
 * refused here, before a run, rather than after the other rows' tuning. */
static int check_row_optimizer(const compare_flags *f, const char *name) {
    grid_point g;
    if (baseline_grid(name, 1000, 1, "", NULL, 0, &g) != 1 || !g.optimizer[0]) return 0;
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
    f->baselines_text = "paper-grid,cosine,warmup-cosine,onecycle";
    f->rates_text = "";
    f->seeds = 5, f->seed_base = 1000, f->tune_seed = 999, f->tune_seeds = 3, f->tune_budget = 12;
    f->threads_per_run = 1;
    f->shard = 0, f->shards = 1;
    const char *shard = NULL;
    if (args_string(a, "controller", &f->controller) || args_string(a, "shard", &shard) ||
        args_string(a, "baselines", &f->baselines_text) ||
        args_string(a, "rates", &f->rates_text) ||
        args_int(a, "seeds", 1, 100000, &f->seeds) ||
        args_int(a, "seed-base", 0, 0x7fffffffffffL, &f->seed_base) ||
        args_int(a, "tune-seed", 0, 0x7fffffffffffffffL, &f->tune_seed) ||
        args_int(a, "tune-seeds", 1, 100, &f->tune_seeds) ||
        args_int(a, "tune-budget", 1, BASELINE_MAX_POINTS, &f->tune_budget) ||
        args_int(a, "threads-per-run", 1, 4096, &f->threads_per_run) ||
        args_int(a, "concurrency", 0, 4096, &f->concurrency) ||
        args_string(a, "out", &f->run.out))
        return -1;
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
    if (shard && parse_shard(shard, f) != 0) return -1;
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
    config_text_add(&t, "baselines", "baselines", f->baselines_text);
    config_text_add(&t, "rates", "rates", f->rates_text);
    config_text_int(&t, "seeds", "seeds", f->seeds);
    config_text_int(&t, "seed_base", "seed-base", f->seed_base);
    config_text_int(&t, "tune_seed", "tune-seed", f->tune_seed);
    config_text_int(&t, "tune_seeds", "tune-seeds", f->tune_seeds);
    config_text_int(&t, "tune_budget", "tune-budget", f->tune_budget);
    config_text_int(&t, "threads_per_run", "threads-per-run", f->threads_per_run);
    controller_act_format(&r->act, buf, sizeof buf);
    config_text_add(&t, "policy", "policy", buf);
    config_text_add(&t, "controller", "controller", f->controller ? f->controller : "");
    config_text_int(&t, "controller_bytes", NULL, f->controller_bytes);
    snprintf(buf, sizeof buf, "%08lx", f->controller_crc);
    config_text_add(&t, "controller_crc32", NULL, buf);
    return config_text_finish(&t, "alrs compare configuration: every value resolved; rerunning "
                                  "the command continues the comparison in DIR.");
}
