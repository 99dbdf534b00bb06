/* Shared by the public library's sources (src/api/): recording a failure as
 * a status with its message. */
#ifndef ALRS_API_INTERNAL_H
#define ALRS_API_INTERNAL_H

#include "alrs/alrs.h"
#include "core/error.h"

/* Records the message (printf-style) and returns the status. */
alrs_status api_fail(alrs_status status, const char *fmt, ...) ALRS_PRINTF(2, 3);

#endif
