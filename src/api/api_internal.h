/* Shared by the public library's sources (src/api/): recording a failure as
 * a status with its message. */
#ifndef ALRS_API_INTERNAL_H
#define ALRS_API_INTERNAL_H

#include "alrs/alrs.h"
#include "core/error.h"
#include "env/features.h"

/* Records the message (printf-style) and returns the status. */
alrs_status api_fail(alrs_status status, const char *fmt, ...) ALRS_PRINTF(2, 3);

/* Run statistics (api_run_stats.c): which ones a controller's feature groups
 * need (ALRS_RUN_*), whether `run` holds them for `steps` steps, and the
 * observer's inputs made from them. */
unsigned api_run_stats_needed(unsigned features);
alrs_status api_run_stats_check(unsigned need, long steps, const alrs_run_stats *run);
void api_run_stats_fill(const alrs_run_stats *run, lr_observer_input *in);

#endif
