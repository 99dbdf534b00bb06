/* A change of the task in the middle of a run, the same for every schedule
 * (hand-made or a controller), so that runs on one seed pair: alrs train
 * --change-at N --change-label-noise P. The first N steps train on the
 * training labels as they are; every later step on a copy of them with
 * round(P * n) replaced by uniform random labels (data/dataset.h,
 * dataset_changed_labels). Validation and test are untouched. */
#ifndef ALRS_SETTINGS_RUN_CHANGE_H
#define ALRS_SETTINGS_RUN_CHANGE_H

#include <stdint.h>

#include "child/child.h"
#include "data/dataset.h"
#include "settings/args.h"

struct config_text;

/* The two flags together (the run-flag table reads them into *c): -1 with a
 * message naming the flag when one comes without the other or N is not below
 * --steps. */
int run_change_check(const args *a, long steps, const data_change *c);
/* change_at and change_label_noise as config.txt keys (0 and 0: none), on the
 * command line only when set. */
void run_change_settings(struct config_text *t, const data_change *c);
/* Sets the child's change from the flags and the loaded data (its variant
 * applied, split_seed the run's --split-seed): returns the changed labels,
 * which the caller frees after the run (NULL: no change). */
uint8_t *run_change_child(const data_change *c, const dataset *d, uint64_t split_seed,
                          child_config *cc);

#endif
