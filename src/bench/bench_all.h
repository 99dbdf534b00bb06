/* alrs bench all's measurements: each one `alrs bench train` or `alrs bench
 * rollout` run as a process of its own, so that its peak resident memory
 * (wait4's ru_maxrss) is that model's alone and nothing one measurement
 * allocated or warmed up flatters the next; its CSV row becomes one row of
 * the combined table. */
#ifndef ALRS_BENCH_BENCH_ALL_H
#define ALRS_BENCH_BENCH_ALL_H

#include <stddef.h>

/* The combined table's header (no newline); each row below has its columns. */
extern const char bench_all_header[];

/* Training throughput of `model` on `backend` with `threads` threads (a
 * number, as text), measured by `exe bench train` (the alrs program:
 * /proc/self/exe in it): its row, with the peak memory, into row. -1 with a
 * message naming the measurement and the child's own message. */
int bench_all_train_row(const char *exe, const char *model, const char *backend,
                        const char *threads, char *row, size_t size);
/* Rollout episodes per hour of `model` for one layout ExT, measured by `exe
 * bench rollout` on the Fashion-MNIST files of data_dir with val_split
 * images held out (NULL: its defaults). */
int bench_all_rollout_row(const char *exe, const char *model, const char *layout,
                          const char *data_dir, const char *val_split, char *row, size_t size);

#endif
