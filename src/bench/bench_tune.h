/* alrs tune's measurement: the backend choice of --backend plan (auto's
 * timing: per conv/fc layer native or oneDNN, or the whole oneDNN net) for
 * the run flags' network, batch and thread count on this machine, recorded
 * in the plan file (nn/choice/backend_choice.h, which times and writes it)
 * in place of an earlier entry of the same key. */
#ifndef ALRS_BENCH_BENCH_TUNE_H
#define ALRS_BENCH_BENCH_TUNE_H

#include "core/fileio.h"
#include "settings/run_flags.h"

typedef struct {
    char path[ALRS_PATH_MAX]; /* the plan file written */
    char key[512];            /* the entry's key */
    char choice[512];         /* what was measured fastest (nn_net_auto_choice) */
} bench_tune_entry;

/* Measures and records one entry; -1 with a message. */
int bench_tune(const run_flags *f, int channels, int side, bench_tune_entry *e);

#endif
