/* `alrs info [--peak]`: the machine a run would use, and optionally its
 * measured FMA peak, the ceiling every throughput figure is compared with.
 * `alrs info --controller PATH|NAME`: what a controller observes, what its
 * actions do and what it learned on. `alrs info --baseline NAME`: a compare
 * row's grid, so that scripts take a row's spec and optimizer from alrs
 * rather than restate them. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "settings/args.h"
#include "cli/commands.h"
#include "cli/controller_names.h"
#include "core/error.h"
#include "core/fileio.h"
#include "env/features.h"
#include "rl/controller_file.h"
#include "sched/baselines.h"
#include "kernels/cpu.h"
#include "kernels/peak.h"
#include "report/machine.h"
#include "dist/dist.h"

static void info_usage(FILE *out) {
    fputs("usage: alrs info [--peak] | alrs info --controller PATH|NAME |\n"
          "       alrs info --baseline NAME [--steps T]\n"
          "Shows the CPU, instruction sets (best and used; ALRS_ISA=scalar|avx2|avx512\n"
          "forces one), topology, caches, oneDNN version, OpenMP threads, host and compiler,\n"
          "and whether MPI is built in (mpi: built in (LIBRARY) | not built in) with the\n"
          "ranks of this job (mpi_ranks: R; under mpirun rank 0 prints, for its node).\n"
          "  --peak   also measure the FP32 FMA peak on 1 thread and on all cores (about 2 s)\n"
          "  --controller PATH|NAME   instead, a controller: what it observes, what its actions\n"
          "           do, what it learned on (an installed one by NAME, as controller:NAME)\n"
          "  --baseline NAME   instead, the whole grid alrs compare tunes row NAME over for\n"
          "           runs of --steps T steps (default 1000), as CSV: point,spec,lr,optimizer\n"
          "           (the spec quoted; optimizer empty: the run's own)\n",
          out);
}

static void print_peak(const machine_info *m) {
    const char *isa = cpu_isa_name(cpu_best_isa());
    printf("fma_peak_1_thread: %.1f GFLOP/s (%s)\n", fma_peak_gflops(1), isa);
    if (m->cores > 1)
        printf("fma_peak_%d_threads: %.1f GFLOP/s (%s)\n", m->cores, fma_peak_gflops(m->cores), isa);
}

/* Key: value lines, as the machine's. */
static void print_controller(const controller *c, const char *path) {
    const lr_env_interface *i = &c->iface;
    const controller_origin *o = &c->origin;
    char features[128];
    lr_env_features_format(i->features, features, sizeof features);
    printf("controller: %s\nformat_version: %d\nupdates: %ld\n", path, c->file_version,
           c->updates);
    printf("features: %s (%d values)\nactions: %s", features, c->pol.cfg.obs_size,
           lr_action_kind_name(i->action.kind));
    for (int k = 0; k < i->action.n_factors && i->action.kind == LR_ACTION_DISCRETE; k++)
        printf("%s%g", k ? "," : " ", i->action.factors[k]);
    printf("\nbase: %s\nlr_bounds: %g %g\naction_every: %d\nsteps: %ld\n",
           i->action.base[0] ? i->action.base : "none (plain mode)", i->lr_min, i->lr_max,
           i->action_every, i->steps);
    if (!o->model[0]) {
        printf("learned_on: not recorded (format %d; alrs learn records it from format 3)\n",
               c->file_version);
        return;
    }
    printf("model: %s\noptimizer: %s\ndataset: %s\nclasses: %d\nval_size: %ld\nrates:",
           o->model, o->optimizer, o->dataset, o->classes, o->val_size);
    for (int k = 0; k < o->n_rates; k++) printf("%s%g", k ? "," : " ", o->rates[k]);
    printf("\ntasks: %s\n", o->tasks[0] ? o->tasks : "not given");
    if (o->default_lr > 0) printf("default_lr: %g\n", o->default_lr);
    else printf("default_lr: not given\n");
}

static int info_baseline(const char *name, long steps) {
    if (!strcmp(name, "controller") || !strcmp(name, "controller-default"))
        return alrs_fail("--baseline %s: a controller's rows depend on its file (alrs info "
                         "--controller PATH)", name);
    if (!baseline_known(name))
        return alrs_fail("--baseline %s: not a row of alrs compare (alrs compare --help lists "
                         "them)", name);
    grid_point *g = calloc(BASELINE_MAX_POINTS, sizeof *g);
    if (!g) return alrs_fail("out of memory");
    int n = baseline_grid(name, steps, BASELINE_MAX_POINTS, NULL, NULL, 0, g);
    if (n > 0) {
        printf("point,spec,lr,optimizer\n");
        /* a spec holds commas: quoted */
        for (int i = 0; i < n; i++)
            printf("%d,\"%s\",%g,%s\n", i, g[i].spec, g[i].lr, g[i].optimizer);
    }
    free(g);
    return n > 0 ? 0 : -1;
}

static int info_controller(const char *spec) {
    char path[ALRS_PATH_MAX];
    if (snprintf(path, sizeof path, "%s", spec) >= (int)sizeof path)
        return alrs_fail("--controller: a path of %zu bytes is too long", strlen(spec));
    controller c;
    if (controller_resolve_name(path, sizeof path) != 0 || controller_file_load(&c, path) != 0)
        return -1;
    print_controller(&c, path);
    controller_free(&c);
    return 0;
}

int cmd_info(int argc, char **argv) {
    if (dist_rank() != 0) return 0; /* under mpirun: rank 0 speaks for the job */
    args a;
    if (args_wants_help(argc, argv)) {
        info_usage(stdout);
        return 0;
    }
    if (args_parse(&a, argc, argv) != 0) return cli_usage_error();
    int peak = args_switch(&a, "peak");
    const char *ctl = NULL, *baseline = NULL;
    long steps = 1000;
    if (peak < 0 || args_string(&a, "controller", &ctl) != 0 ||
        args_string(&a, "baseline", &baseline) != 0 ||
        args_int(&a, "steps", 1, 100000000, &steps) != 0 || args_check_unused(&a) != 0)
        return cli_usage_error();
    if ((ctl != NULL) + (baseline != NULL) + (peak != 0) > 1) {
        alrs_fail("--controller, --baseline and --peak: one of them");
        return cli_usage_error();
    }
    if (args_given(&a, "steps") && !baseline) {
        alrs_fail("--steps: only with --baseline");
        return cli_usage_error();
    }
    if (ctl) return info_controller(ctl) == 0 ? 0 : cli_report_error();
    if (baseline) return info_baseline(baseline, steps) == 0 ? 0 : cli_usage_error();
    machine_info m;
    if (machine_info_get(&m) != 0) return cli_report_error();
    machine_info_print(&m, stdout);
    if (dist_built_with_mpi()) printf("mpi: built in (%s)\n", dist_library());
    else printf("mpi: not built in\n");
    printf("mpi_ranks: %d\n", dist_size());
    if (peak) print_peak(&m);
    return 0;
}
