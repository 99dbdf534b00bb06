/* The calling thread's handling of subnormal floats.
 *
 * Adam's moments of a weight whose gradient stays 0 (a weight on a pixel that
 * is 0 in every image: Fashion-MNIST's borders) decay by beta each step and
 * pass through the subnormal range (below 1.2e-38) after ~800 steps, where
 * every multiply and divide on them takes a microcode assist of ~100 cycles:
 * a batch-32 MLP run trained 1.6x slower after its first thousand steps.
 * Flushing them to zero (FTZ: results; DAZ: inputs) removes the assists and
 * changes nothing that training can see: such a moment moves its weight by
 * less than 1e-30 of the rate. TensorFlow sets the same by default.
 *
 * The mode is per thread and a new thread inherits its creator's, so alrs
 * sets it first thing (main) and every OpenMP thread it creates later has
 * it. The library (libalrs) leaves it to its host: it is a process-wide
 * choice there, since OpenMP workers keep the mode of the thread that created
 * them (from Python, torch.set_flush_denormal(True) before the first
 * environment sets it for the threads created after). */
#ifndef ALRS_CORE_FLOAT_ENV_H
#define ALRS_CORE_FLOAT_ENV_H

/* Sets flush-to-zero and denormals-are-zero on this thread; returns the
 * previous mode for float_env_restore. */
unsigned float_env_flush_subnormals(void);
void float_env_restore(unsigned previous);
/* 1 when this thread flushes subnormal results to zero. */
int float_env_flushing(void);

#endif
