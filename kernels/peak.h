/* Measured FP32 FMA peak: the ceiling that kernel and oneDNN throughput are
 * compared against (a roofline's flat part). */
#ifndef ALRS_KERNELS_PEAK_H
#define ALRS_KERNELS_PEAK_H

/* GFLOP/s of independent FMA chains on `threads` OpenMP threads (<= 0: the
 * OpenMP default), with the CPU's best instruction set (cpu_best_isa(), not
 * ALRS_ISA: this is the hardware's ceiling). One FMA lane counts 2 flops.
 * After 0.3 s untimed (the clock and the wide units settle), the best of 5
 * runs of 0.15 s each: about 1 s. */
double fma_peak_gflops(int threads);

#endif
