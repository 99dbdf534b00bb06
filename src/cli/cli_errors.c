/* How every alrs command ends on an error: one line on stderr, and the exit
 * status that says whether the command line or the run failed. */
#include <stdio.h>

#include "cli/commands.h"
#include "core/error.h"

int cli_report_error(void) {
    fprintf(stderr, "alrs: %s\n", alrs_error());
    return 1;
}

int cli_usage_error(void) {
    fprintf(stderr, "alrs: %s\n", alrs_error());
    return 2;
}
