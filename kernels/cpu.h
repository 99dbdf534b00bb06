/* CPU feature detection: which SIMD instruction set the kernels may use.
 *
 * The binary is built without -march flags so that it runs on any x86-64;
 * the kernels pick their code path at run time from what cpuid reports and
 * what the operating system saves on a context switch (xgetbv). */
#ifndef ALRS_KERNELS_CPU_H
#define ALRS_KERNELS_CPU_H

/* Ordered from least to most capable. */
typedef enum {
    ISA_SCALAR,  /* plain C, any CPU */
    ISA_AVX2,    /* AVX2 + FMA (256-bit) */
    ISA_AVX512,  /* AVX-512F (512-bit) */
} alrs_isa;

/* The best instruction set this CPU and OS support (detected once). */
alrs_isa cpu_best_isa(void);

/* The instruction set to use: the best one, unless the environment variable
 * ALRS_ISA=scalar|avx2|avx512 asks for another. Asking for one the CPU lacks,
 * or for an unknown name, falls back to the best with a warning on stderr
 * (printed once per process). The variable is read on every call, so tests
 * can change it with setenv. */
alrs_isa cpu_isa(void);

/* "scalar", "avx2" or "avx512". */
const char *cpu_isa_name(alrs_isa isa);

/* The CPU's brand string (e.g. "AMD EPYC 9R14 96-Core Processor"), trimmed;
 * "unknown" where cpuid does not give one. Always NUL-terminated when size > 0. */
void cpu_model_name(char *buf, int size);

/* The CPU's family, model and stepping from cpuid leaf 1, as "f25-m17-s1"
 * ("unknown" off x86): two CPUs with the same brand string ("AMD EPYC" in
 * many clouds) but another microarchitecture differ here. */
void cpu_signature(char *buf, int size);

/* The microarchitecture, where it changes what the kernels should do:
 * "zen4" (AMD family 25, AVX-512 executed in 256-bit halves), "zen5" (family
 * 26, full-width 512-bit FMAs), else "other". ALRS_UARCH=zen4|zen5|other
 * overrides it (tests run each parameter set on any machine). */
const char *cpu_uarch(void);
/* "split" (256-bit halves), "full" or "-" (no AVX-512 or not known). */
const char *cpu_avx512_width(void);

/* The L1 data cache per core in KB from cpuid (AMD leaf 0x80000005, Intel
 * leaf 4); 32 where it does not say. The AVX-512 sgemm sizes its depth
 * block KC from it. */
int cpu_l1d_kb(void);

#endif
