/* alrs compare: a learned controller and hand-made schedules, each tuned on
 * the same budget, then run on the same evaluation seeds.
 *
 * Phases: (1) tuning: every schedule's grid (sched/baselines.h) on the
 * tuning seed; the point with the lowest best validation loss wins; (2)
 * evaluation: each winner on seeds seed_base .. seed_base+seeds-1, test
 * figures at the best-validation point and at the end; (3) the reports
 * (report/compare_report.h). All runs of a phase go through the run queue
 * (run/run_queue.h), many at once on pinned teams.
 *
 * Every finished run is written at once to DIR/runs/<name>.txt (and its
 * trace beside it); the CSVs are rebuilt from those. Rerunning the same
 * command finds them and runs only what is missing, so a killed comparison
 * loses at most the runs in flight. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/compare_flags.h"
#include "cli/result_dir.h"
#include "compare/phase.h"
#include "core/error.h"
#include "core/fileio.h"
#include "core/interrupt.h"
#include "core/timer.h"
#include "data/dataset.h"
#include "report/compare_report.h"
#include "report/run_record.h"
#include "dist/dist.h"
#include "run/run_queue.h"

static const char compare_help[] =
    "usage: alrs compare --out DIR [flags]\n"
    "Tunes every schedule on the same budget and tuning seeds, runs each winner on the\n"
    "same evaluation seeds, and writes DIR/compare.csv, compare-summary.csv, tuning.csv,\n"
    "traces.csv, config.txt and runs/ (one record per finished run). Rerun the same\n"
    "command to continue an interrupted comparison. Child-run flags as for alrs train\n"
    "(not --lr, --seed, --threads: see below).\n";


static int write_reports(const phase_runs *eval, const compare_flags *f) {
    compare_summary s[COMPARE_MAX_SCHEDULES];
    run_record *recs = alrs_calloc((size_t)eval->n + 1, sizeof *recs);
    for (int j = 0; j < eval->n; j++) recs[j] = eval->runs[j].rec;
    compare_summarize(recs, eval->n, f->schedules, f->n_schedules, s);
    free(recs);
    char path[ALRS_FILE_PATH_MAX];
    snprintf(path, sizeof path, "%s/compare-summary.csv", eval->dir);
    if (compare_write_summary(path, s, f->n_schedules) != 0 || phase_write_traces(eval) != 0) return -1;
    printf("%s on %s, %ld steps of batch %ld, %ld seeds (%ld..%ld):\n", f->run.model,
           f->run.dataset, f->run.steps, f->run.batch, f->seeds, f->seed_base,
           f->seed_base + f->seeds - 1);
    compare_print_table(stdout, s, f->n_schedules, f->run.dataset);
    return 0;
}

/* A fresh DIR gets config.txt; an existing one must hold the same configuration
 * (the command line and the controller's path may be spelled differently; the
 * values and the checkpoint's bytes may not). */
static int open_dir(const compare_flags *f, output_dir *out, int *fresh, int *made) {
    static const char *const ignore[] = {"command", "controller", NULL};
    char *text = compare_flags_config_text(f);
    int rc = result_dir_open(f->run.out, "runs", text, "comparison", ignore, NULL, out, fresh,
                             made);
    free(text);
    return rc;
}

/* Under MPI every rank runs this; rank 0 alone reads and writes DIR. */
static int compare(compare_flags *f) {
    int root = dist_rank() == 0;
    dataset data;
    int loaded = run_flags_load_data(&f->run, &data) == 0;
    if (dist_agree(loaded ? 0 : -1) != 0) {
        if (loaded) dataset_free(&data);
        return -1;
    }
    if (!f->run.data_dir[0]) f->run.data_dir = dataset_default_dir(f->run.dataset);
    if (!f->run.val_size) f->run.val_size = data.val.n;
    int fresh = 0, made = 0, rc = -1;
    output_dir out;
    phase_runs tune, eval;
    phase_config pc = {{run_flags_child(&f->run), f->run.steps, f->run.eval_every,
                        (int)f->concurrency, (int)f->threads_per_run, f->run.act},
                       f->shard, f->shards, "compare"};
    phase_setup setup = compare_flags_setup(f, f->run.steps);
    phase_alloc(&tune, &pc, f->run.out, "tune",
                f->n_schedules * BASELINE_MAX_POINTS * (int)f->tune_seeds);
    phase_alloc(&eval, &pc, f->run.out, "eval", f->n_schedules * (int)f->seeds);
    if (dist_agree(root ? open_dir(f, &out, &fresh, &made) : 0) != 0) goto done;
    phase_add_tuning(&tune, &setup);
    rc = phase_run(&tune, &data);
    /* a shard stops where its phase still misses other shards' runs */
    int stop = rc == 0 && !phase_complete(&tune);
    if (rc == 0 && !stop) {
        phase_add_winners(&eval, &tune, &setup, NULL, 1);
        rc = phase_run(&eval, &data);
        stop = rc == 0 && !phase_complete(&eval);
    }
    if (stop)
        fprintf(stderr, "compare: shard %ld/%ld done: the %s phase needs the other shards' runs "
                        "(scripts/slurm/merge joins them)\n", f->shard, f->shards,
                phase_complete(&tune) ? "evaluation" : "tuning");
    else if (rc == 0) rc = dist_agree(root ? write_reports(&eval, f) : 0);
    if (rc == 1) {
        int kept = 0;
        for (int j = 0; j < tune.n; j++) kept += tune.runs[j].have;
        for (int j = 0; j < eval.n; j++) kept += eval.runs[j].have;
        alrs_fail("interrupted by %s: %d finished runs are kept in %s/runs; run the same command "
                  "again to continue", interrupt_name(interrupt_requested()), kept, f->run.out);
        rc = -1;
    }
done:
    /* a directory this comparison made is removed only if no run finished in it */
    if (rc != 0 && made && tune.finished + eval.finished == 0) remove_output_dir(&out);
    phase_free(&tune);
    phase_free(&eval);
    dataset_free(&data);
    return rc;
}

int cmd_compare(int argc, char **argv) {
    if (args_wants_help(argc, argv)) {
        fputs(compare_help, stdout);
        compare_flags_print_help(stdout, NULL);
        run_flags_print_help(stdout, RUN_FLAG_EVAL_EVERY | RUN_FLAG_POLICY | RUN_FLAG_DATA);
        return 0;
    }
    args a;
    compare_flags f;
    int check = 0;
    if (args_parse(&a, argc, argv) != 0 || compare_flags_parse(&a, &f) != 0 ||
        (check = args_switch(&a, "check")) < 0 || args_check_unused(&a) != 0)
        return dist_rank() == 0 ? cli_usage_error() : 2;
    if (f.shards > 1 && dist_size() > 1) {
        alrs_fail("--shard: not with MPI (ranks already share the runs)");
        return dist_rank() == 0 ? cli_usage_error() : 2;
    }
    if (f.controller && compare_flags_read_controller(&f) != 0)
        return dist_rank() == 0 ? cli_report_error() : 1;
    if (check) return run_flags_check_data(&f.run, "compare") == 0 ? 0 : cli_report_error();
    interrupt_install(dist_rank() == 0);
    if (compare(&f) == 0) return 0;
    return dist_rank() == 0 ? cli_report_error() : 1;
}
