/* `alrs info [--peak]`: the machine a run would use, and optionally its
 * measured FMA peak, the ceiling every throughput figure is compared with. */
#include <stdio.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "kernels/cpu.h"
#include "kernels/peak.h"
#include "report/machine.h"
#include "dist/dist.h"

static void info_usage(FILE *out) {
    fputs("usage: alrs info [--peak]\n"
          "Shows the CPU, instruction sets (best and used; ALRS_ISA=scalar|avx2|avx512\n"
          "forces one), topology, caches, oneDNN version, OpenMP threads, host and compiler,\n"
          "and whether MPI is built in (mpi: built in (LIBRARY) | not built in) with the\n"
          "ranks of this job (mpi_ranks: R; under mpirun rank 0 prints, for its node).\n"
          "  --peak   also measure the FP32 FMA peak on 1 thread and on all cores (about 2 s)\n",
          out);
}

static void print_peak(const machine_info *m) {
    const char *isa = cpu_isa_name(cpu_best_isa());
    printf("fma_peak_1_thread: %.1f GFLOP/s (%s)\n", fma_peak_gflops(1), isa);
    if (m->cores > 1)
        printf("fma_peak_%d_threads: %.1f GFLOP/s (%s)\n", m->cores, fma_peak_gflops(m->cores), isa);
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
    if (peak < 0 || args_check_unused(&a) != 0) return cli_usage_error();
    machine_info m;
    if (machine_info_get(&m) != 0) return cli_report_error();
    machine_info_print(&m, stdout);
    if (dist_built_with_mpi()) printf("mpi: built in (%s)\n", dist_library());
    else printf("mpi: not built in\n");
    printf("mpi_ranks: %d\n", dist_size());
    if (peak) print_peak(&m);
    return 0;
}
