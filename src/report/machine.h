/* What machine a run ran on: CPU, instruction set, topology, library and
 * compiler versions. Printed by `alrs info`, written at the top of CSV files
 * and into each run's metadata, so that every number can be traced to the
 * hardware that produced it. */
#ifndef ALRS_REPORT_MACHINE_H
#define ALRS_REPORT_MACHINE_H

#include <stdio.h>

typedef struct {
    char cpu_model[128];
    char cpu_signature[32]; /* family, model, stepping: "f25-m17-s1" */
    const char *uarch;      /* cpu_uarch(): zen4, zen5, other */
    const char *avx512_width; /* split (256-bit halves), full, - */
    const char *isa_best;  /* cpu_isa_name(cpu_best_isa()) */
    const char *isa_used;  /* cpu_isa_name(cpu_isa()): after ALRS_ISA */
    int packages, numa_nodes, cores, pus;  /* as hwloc sees them (the allowed cpuset) */
    long l1d_kb, l2_kb, l3_kb;             /* one cache of each level; 0 if unknown */
    char dnnl_version[32];                 /* "2.6.3" */
    int omp_max_threads;
    const char *subnormals;  /* "flushed" when every OpenMP thread flushes them to zero
                                (core/float_env.h), else "kept" */
    char hostname[64];
    char compiler[64];
} machine_info;

/* Fills *m. -1 if hwloc cannot read the topology (the other fields are still
 * filled and the counts are 0). */
int machine_info_get(machine_info *m);

/* "key: value" lines for people. */
void machine_info_print(const machine_info *m, FILE *out);
/* The same facts as "# key: value" lines, for the top of a CSV file. */
void machine_info_csv_comment(const machine_info *m, FILE *out);
/* The same facts as "key=value" lines for a run's metadata file; -1 on a write error. */
int machine_info_write_kv(const machine_info *m, FILE *out);

#endif
