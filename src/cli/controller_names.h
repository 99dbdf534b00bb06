/* Installed controllers by name: `--schedule controller:NAME` and `alrs info
 * --controller NAME`, where NAME has no slash and no dot and is not an
 * existing file, open DIR/NAME.bin from the first controller directory that
 * holds it. */
#ifndef ALRS_CLI_CONTROLLER_NAMES_H
#define ALRS_CLI_CONTROLLER_NAMES_H

#include <stddef.h>

/* Replaces `path` (room for `size` bytes) by the installed controller it
 * names; leaves a path (a slash or a dot in it, or an existing file) as it
 * is. 0, or -1
 * with a message naming the directories looked in. The directories, in
 * order: each of $ALRS_CONTROLLERS (colon-separated), then
 * <the alrs program's directory>/../share/alrs/controllers (a moved
 * prefix), then the install's datadir/alrs/controllers. */
int controller_resolve_name(char *path, size_t size);

#endif
