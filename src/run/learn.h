/* alrs learn's learning loop (run/learn.c): learns a controller with PPO
 * over batches of child runs, writing the run directory f->run.out
 * (controller.bin after every update, episodes.csv, updates.csv, config.txt,
 * traces/). Under MPI every rank calls it; rank 0 holds the controller and
 * writes the files. */
#ifndef ALRS_RUN_LEARN_H
#define ALRS_RUN_LEARN_H

#include "settings/learn_flags.h"

/* Runs the updates the flags ask for (the remaining ones with --resume). 0
 * when done, 1 when a signal stopped it after a saved update, -1 on failure
 * (the message recorded). Data sets loaded for --tasks stay in f->tasks for
 * the caller to free (learn_flags_free). */
int learn_run(learn_flags *f);

#endif
