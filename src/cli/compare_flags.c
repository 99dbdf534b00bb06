#include "cli/compare_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "rl/checkpoint.h"

const char compare_flags_help[] =
    "  --controller PATH             a controller (alrs learn's controller.bin); optional\n"
    "  --baselines LIST              comma-separated, from paper-grid, constant, exponential,\n"
    "                                cosine, warmup-cosine, onecycle, plateau\n"
    "                                (default paper-grid,cosine,warmup-cosine,onecycle)\n"
    "  --seeds N                     evaluation seeds per schedule (default 5)\n"
    "  --seed-base S                 the evaluation seeds are S, S+1, ... (default 1000)\n"
    "  --tune-seed S                 the seed of every tuning run (default 999); must not be\n"
    "                                an evaluation seed\n"
    "  --tune-budget K               tuning runs per schedule: its grid, thinned to K\n"
    "                                points when larger (default 12)\n"
    "  --threads-per-run T           OpenMP threads of each run's team (default 1)\n"
    "  --concurrency N               runs at once (default: as many teams as the cores hold)\n"
    "  --out DIR                     results; rerunning the same command continues it\n"
    "  --shard I/N                   run only runs j with j mod N = I of each phase, and stop\n"
    "                                when a phase is incomplete (Slurm job arrays: see\n"
    "                                scripts/slurm/compare)\n";

/* Checks the checkpoint loads, and fingerprints it: a restarted comparison
 * must run the same controller, not merely one at the same path. */
static int fingerprint_controller(compare_flags *f) {
    controller c;
    if (checkpoint_load(&c, f->controller) != 0) return -1;
    controller_free(&c);
    FILE *in = fopen(f->controller, "rb");
    if (!in) return alrs_fail("--controller %s: cannot open the checkpoint", f->controller);
    unsigned char buf[65536];
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t got;
    f->controller_bytes = 0;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
        crc = crc32(crc, buf, (uInt)got);
        f->controller_bytes += (long)got;
    }
    fclose(in);
    f->controller_crc = crc;
    return 0;
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
    if (!baseline_known(slot)) return baseline_grid(slot, 1, 1, NULL, NULL);
    for (int k = 0; k < f->n_schedules; k++)
        if (!strcmp(f->schedules[k], slot))
            return alrs_fail("--baselines %s: '%s' given twice", f->baselines_text, slot);
    f->schedules[f->n_schedules++] = slot;
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
    if (run_flags_parse(a, &f->run) != 0) return -1;
    f->baselines_text = "paper-grid,cosine,warmup-cosine,onecycle";
    f->seeds = 5, f->seed_base = 1000, f->tune_seed = 999, f->tune_budget = 12;
    f->threads_per_run = 1;
    f->shard = 0, f->shards = 1;
    const char *shard = NULL;
    if (args_string(a, "controller", &f->controller) || args_string(a, "shard", &shard) ||
        args_string(a, "baselines", &f->baselines_text) ||
        args_int(a, "seeds", 1, 100000, &f->seeds) ||
        args_int(a, "seed-base", 0, 0x7fffffffffffL, &f->seed_base) ||
        args_int(a, "tune-seed", 0, 0x7fffffffffffffffL, &f->tune_seed) ||
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
    if (f->tune_seed >= f->seed_base && f->tune_seed < f->seed_base + f->seeds)
        return alrs_fail("--tune-seed %ld: is one of the evaluation seeds %ld..%ld; tuning must "
                         "not see them", f->tune_seed, f->seed_base, f->seed_base + f->seeds - 1);
    if (shard && parse_shard(shard, f) != 0) return -1;
    if (parse_schedules(f) != 0) return -1;
    if (f->controller && fingerprint_controller(f) != 0) return -1;
    return 0;
}

int compare_flags_config_text(const compare_flags *f, char *buf, int size) {
    const run_flags *r = &f->run;
    int n = snprintf(buf, (size_t)size,
                     "# alrs compare configuration: every value resolved; rerunning the command "
                     "continues the comparison in DIR.\n"
                     "command=alrs compare --model %s --dataset %s --data-dir '%s' --val-split %ld "
                     "--split-seed %ld --steps %ld --batch %ld --eval-every %ld --val-size %ld "
                     "--eval-batch %ld --optimizer %s --backend %s --baselines %s --seeds %ld "
                     "--seed-base %ld --tune-seed %ld --tune-budget %ld --threads-per-run %ld",
                     r->model, r->dataset, r->data_dir, r->val_split, r->split_seed, r->steps,
                     r->batch, r->eval_every, r->val_size, r->eval_batch, r->optimizer,
                     r->backend, f->baselines_text, f->seeds, f->seed_base, f->tune_seed,
                     f->tune_budget, f->threads_per_run);
    if (f->controller) n += snprintf(buf + n, (size_t)(size - n), " --controller '%s'", f->controller);
    if (r->n_hidden) {
        n += snprintf(buf + n, (size_t)(size - n), " --hidden ");
        for (int k = 0; k < r->n_hidden; k++)
            n += snprintf(buf + n, (size_t)(size - n), "%s%d", k ? "," : "", r->hidden[k]);
    }
    n += snprintf(buf + n, (size_t)(size - n),
                  " --out DIR\nmodel=%s\ndataset=%s\ndata_dir=%s\nval_split=%ld\nsplit_seed=%ld\n"
                  "steps=%ld\nbatch=%ld\neval_every=%ld\nval_size=%ld\neval_batch=%ld\n"
                  "optimizer=%s\nbackend=%s\nbaselines=%s\nseeds=%ld\nseed_base=%ld\n"
                  "tune_seed=%ld\ntune_budget=%ld\nthreads_per_run=%ld\ncontroller=%s\n"
                  "controller_bytes=%ld\ncontroller_crc32=%08lx\n",
                  r->model, r->dataset, r->data_dir, r->val_split, r->split_seed, r->steps,
                  r->batch, r->eval_every, r->val_size, r->eval_batch, r->optimizer, r->backend,
                  f->baselines_text, f->seeds, f->seed_base, f->tune_seed, f->tune_budget,
                  f->threads_per_run, f->controller ? f->controller : "",
                  f->controller_bytes, f->controller_crc);
    return n;
}
