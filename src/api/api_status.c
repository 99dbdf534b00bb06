/* The public library's version, status names and last-error message (the
 * library records messages with alrs_fail, core/error.h: thread-local). */
#include <stdarg.h>
#include <stdio.h>

#include "api/api_internal.h"
#include "core/version.h"

ALRS_API const char *alrs_version(void) { return alrs_version_text(); }

ALRS_API const char *alrs_last_error(void) { return alrs_error(); }

ALRS_API const char *alrs_status_name(alrs_status s) {
    switch (s) {
    case ALRS_OK: return "ok";
    case ALRS_E_ARGUMENT: return "bad argument";
    case ALRS_E_FILE: return "file";
    case ALRS_E_ORDER: return "call out of order";
    case ALRS_E_VALUE: return "bad value";
    case ALRS_E_FAILED: return "failed";
    }
    return "unknown status";
}

alrs_status api_fail(alrs_status status, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    alrs_fail("%s", msg);
    return status;
}
