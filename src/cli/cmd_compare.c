/* alrs compare: learned and hand-made schedules over evaluation seeds. */
#include <stdio.h>

#include "cli/commands.h"
#include "core/error.h"

int cmd_compare(int argc, char **argv) {
    alrs_fail("compare: not built yet");
    return cli_report_error();
}
